"""Newton-Schulz orthogonalisation (Muon's quintic iteration) over mini_triton.kernels.newton_schulz, and a Muon
optimizer.

    from mini_triton.ops.muon import newton_schulz, Muon

    O = newton_schulz(G, steps=5)        # ~ U V^T of G = U S V^T (singular values pushed towards ~[0.7, 1.2])
    opt = Muon(model.parameters(), lr=0.02, momentum=0.95, nesterov=True,
               adamw=lambda params: torch.optim.AdamW(params, lr=3e-4))   # for the non-2-D parameters

Iteration (a, b, c) = (3.4445, -4.7750, 2.0315): X = G / (||G||_F + 1e-7), transposed when rows > cols; 5 times
A = X X^T (gram kernel: upper-triangle tiles, mirrored), B = c A A + b A, X = a X + B X (matmul kernel with an
epilogue); computed in float32 (float64 for float64 input), returned in G's dtype. For a bfloat16 / float16 G the
iterates X, A, B are stored in G's dtype and each matmul multiplies 16-bit tiles accumulating in float32 (tensor
cores on a GPU; the usual Muon precision); the normalisation is computed in float32.
"""

from __future__ import annotations

import torch

import mini_triton as triton
import mini_triton.language as tl
from mini_triton.kernels import newton_schulz as _k
from mini_triton.ops import _tc

__all__ = ["newton_schulz", "newton_schulz_ref", "Muon", "muon_reference_step", "NS_COEFFS"]

NS_COEFFS = (3.4445, -4.7750, 2.0315)


def _acc(t):
    return (tl.float64, torch.float64) if t.dtype == torch.float64 else (tl.float32, torch.float32)


def _block(n):
    return min(32, max(16, triton.next_power_of_2(n)))


def gram(x: torch.Tensor, acc) -> torch.Tensor:
    """x @ x^T in x's dtype (16-bit x: 16-bit dot operands, float32 accumulation)."""
    M, K = x.shape
    a = torch.empty((M, M), dtype=x.dtype, device=x.device)
    dot = _tc.dot_dtype(acc, x, lang=tl)
    args = (x, a, M, K, x.stride(0), x.stride(1), a.stride(0), a.stride(1))
    if _tc.tensor_cores(x, dot, acc):
        kernel = _tc.tuned(_k.gram_kernel, _tc.GRAM_CONFIGS, ["M", "K"], n_arg="M")
        kernel[lambda meta: (triton.cdiv(M, meta["BLOCK_M"]),) * 2](*args, ACC=acc, DOT=dot)
        return a
    bm, bk = _block(M), _block(K)
    t = triton.cdiv(M, bm)
    _k.gram_kernel[(t, t)](*args, BLOCK_M=bm, BLOCK_K=bk, ACC=acc, DOT=dot)
    return a


def matmul_epilogue(p: torch.Tensor, q: torch.Tensor, r: torch.Tensor, alpha: float, beta: float, acc):
    """alpha * (p @ q) + beta * r, in p's dtype (16-bit p, q: 16-bit dot operands, float32 accumulation)."""
    M, K = p.shape
    N = q.shape[1]
    out = torch.empty((M, N), dtype=p.dtype, device=p.device)
    dot = _tc.dot_dtype(acc, p, q, lang=tl)
    args = (p, q, r, out, M, N, K, p.stride(0), p.stride(1), q.stride(0), q.stride(1), r.stride(0), r.stride(1),
            out.stride(0), out.stride(1))
    consts = dict(ALPHA=float(alpha), BETA=float(beta), ACC=acc, DOT=dot)
    if _tc.tensor_cores(p, dot, acc):
        kernel = _tc.tuned(_k.matmul_epilogue_kernel, _tc.MATMUL_CONFIGS, ["M", "N", "K"])
        kernel[lambda meta: (triton.cdiv(M, meta["BLOCK_M"]), triton.cdiv(N, meta["BLOCK_N"]))](*args, **consts)
        return out
    bm, bn, bk = _block(M), _block(N), _block(K)
    _k.matmul_epilogue_kernel[(triton.cdiv(M, bm), triton.cdiv(N, bn))](*args, BLOCK_M=bm, BLOCK_N=bn, BLOCK_K=bk,
                                                                        **consts)
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
    x = x / (x.norm() + eps)
    # 16-bit G: the iterates stay 16-bit (tensor-core dots); otherwise float32 / float64
    x = x.to(g.dtype if g.dtype in (torch.bfloat16, torch.float16) else acc_torch).contiguous()
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
