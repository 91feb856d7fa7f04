"""Newton-Schulz orthogonalisation (Muon's quintic iteration) over mini_triton.kernels.newton_schulz, and a Muon
optimizer.

    from mini_triton.ops.muon import newton_schulz, Muon

    O = newton_schulz(G, steps=5)        # ~ U V^T of G = U S V^T (singular values pushed towards ~[0.7, 1.2])
    opt = Muon(model.parameters(), lr=0.02, momentum=0.95, nesterov=True,
               adamw=lambda params: torch.optim.AdamW(params, lr=3e-4))   # for the non-2-D parameters

Iteration (a, b, c) = (3.4445, -4.7750, 2.0315): X = G / (||G||_F + 1e-7), transposed when rows > cols; 5 times
A = X X^T (gram kernel: upper-triangle tiles, mirrored), B = c A A + b A, X = a X + B X (matmul kernel with an
epilogue); computed in float32 (float64 for float64 input), returned in G's dtype.
"""

from __future__ import annotations

import torch

import mini_triton as triton
import mini_triton.language as tl
from mini_triton.kernels import newton_schulz as _k

__all__ = ["newton_schulz", "newton_schulz_ref", "Muon", "muon_reference_step", "NS_COEFFS"]

NS_COEFFS = (3.4445, -4.7750, 2.0315)


def _acc(t):
    return (tl.float64, torch.float64) if t.dtype == torch.float64 else (tl.float32, torch.float32)


def _block(n):
    return min(32, max(16, triton.next_power_of_2(n)))


def gram(x: torch.Tensor, acc) -> torch.Tensor:
    M, K = x.shape
    a = torch.empty((M, M), dtype=x.dtype, device=x.device)
    bm, bk = _block(M), _block(K)
    t = triton.cdiv(M, bm)
    _k.gram_kernel[(t, t)](x, a, M, K, x.stride(0), x.stride(1), a.stride(0), a.stride(1), BLOCK_M=bm, BLOCK_K=bk,
                           ACC=acc)
    return a


def matmul_epilogue(p: torch.Tensor, q: torch.Tensor, r: torch.Tensor, alpha: float, beta: float, acc):
    """alpha * (p @ q) + beta * r."""
    M, K = p.shape
    N = q.shape[1]
    out = torch.empty((M, N), dtype=p.dtype, device=p.device)
    bm, bn, bk = _block(M), _block(N), _block(K)
    _k.matmul_epilogue_kernel[(triton.cdiv(M, bm), triton.cdiv(N, bn))](
        p, q, r, out, M, N, K, p.stride(0), p.stride(1), q.stride(0), q.stride(1), r.stride(0), r.stride(1),
        out.stride(0), out.stride(1), ALPHA=float(alpha), BETA=float(beta), BLOCK_M=bm, BLOCK_N=bn, BLOCK_K=bk,
        ACC=acc)
    return out


@torch.no_grad()
def newton_schulz(g: torch.Tensor, steps: int = 5, eps: float = 1e-7) -> torch.Tensor:
    """Approximate orthogonalisation of a 2-D matrix g (see the module docstring)."""
    if not isinstance(g, torch.Tensor) or g.dim() != 2:
        raise ValueError(f"newton_schulz needs a 2-D tensor, got {getattr(g, 'shape', type(g).__name__)}")
    if g.numel() == 0:
        return g.clone()
    a, b, c = NS_COEFFS
    acc, acc_torch = _acc(g)
    x = g.to(acc_torch)
    transposed = x.shape[0] > x.shape[1]
    if transposed:
        x = x.t()
    x = (x / (x.norm() + eps)).contiguous()
    for _ in range(steps):
        gm = gram(x, acc)
        bm = matmul_epilogue(gm, gm, gm, c, b, acc)
        x = matmul_epilogue(bm, x, x, 1.0, a, acc)
    if transposed:
        x = x.t()
    return x.to(g.dtype)


def newton_schulz_ref(g: torch.Tensor, steps: int = 5, eps: float = 1e-7) -> torch.Tensor:
    """Pure torch, in g's dtype."""
    a, b, c = NS_COEFFS
    x = g
    transposed = g.shape[0] > g.shape[1]
    if transposed:
        x = x.t()
    x = x / (x.norm() + eps)
    for _ in range(steps):
        A = x @ x.t()
        B = b * A + c * (A @ A)
        x = a * x + B @ x
    return x.t() if transposed else x


def muon_reference_step(param, grad, buf, lr, momentum=0.95, nesterov=True, weight_decay=0.0, ns_steps=5):
    """One Muon update in pure torch (in place on param and buf): buf = momentum * buf + grad; update = grad +
    momentum * buf (Nesterov) or buf; param -= lr * sqrt(max(1, rows / cols)) * NS(update) (after decoupled weight
    decay param *= 1 - lr * weight_decay)."""
    buf.mul_(momentum).add_(grad)
    update = grad + momentum * buf if nesterov else buf
    o = newton_schulz_ref(update, ns_steps)
    scale = max(1.0, param.shape[0] / param.shape[1]) ** 0.5
    if weight_decay:
        param.mul_(1.0 - lr * weight_decay)
    param.add_(o.to(param.dtype), alpha=-lr * scale)


class Muon(torch.optim.Optimizer):
    """MomentUm Orthogonalized by Newton-Schulz, for 2-D parameters. Parameters of other ranks go to `adamw`: an
    optimizer that already holds them, or a callable building one from their list (e.g.
    `lambda ps: torch.optim.AdamW(ps, lr=3e-4)`); without one they raise ValueError. step() and zero_grad() also
    drive that optimizer. `orthogonalize(update, steps)` replaces the Newton-Schulz kernel (e.g.
    mini_triton.ops.library.newton_schulz_torch for a pure-PyTorch Muon)."""

    def __init__(self, params, lr: float = 0.02, momentum: float = 0.95, nesterov: bool = True, ns_steps: int = 5,
                 weight_decay: float = 0.0, adamw=None, orthogonalize=None):
        self.orthogonalize = orthogonalize or newton_schulz
        params = list(params)
        if params and isinstance(params[0], dict):
            raise TypeError("Muon takes a flat iterable of parameters")
        matrices = [p for p in params if p.dim() == 2]
        others = [p for p in params if p.dim() != 2]
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        if others and adamw is None:
            raise ValueError(f"Muon handles 2-D parameters only; got {len(others)} others (shapes "
                             f"{[tuple(p.shape) for p in others[:4]]}): pass adamw=")
        if others and not isinstance(adamw, torch.optim.Optimizer):
            adamw = adamw(others)
        self.adamw = adamw if others or isinstance(adamw, torch.optim.Optimizer) else None
        if not matrices:
            raise ValueError("Muon got no 2-D parameters")
        super().__init__(matrices, dict(lr=lr, momentum=momentum, nesterov=nesterov, ns_steps=ns_steps,
                                        weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, mom, wd = group["lr"], group["momentum"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = torch.zeros_like(g)
                buf = state["momentum_buffer"]
                buf.mul_(mom).add_(g)
                update = g + mom * buf if group["nesterov"] else buf
                o = self.orthogonalize(update, group["ns_steps"])
                scale = max(1.0, p.shape[0] / p.shape[1]) ** 0.5
                if wd:
                    p.mul_(1.0 - lr * wd)
                p.add_(o.to(p.dtype), alpha=-lr * scale)
        if self.adamw is not None:
            self.adamw.step()
        return loss

    def zero_grad(self, set_to_none: bool = True):
        super().zero_grad(set_to_none=set_to_none)
        if self.adamw is not None:
            self.adamw.zero_grad(set_to_none=set_to_none)
