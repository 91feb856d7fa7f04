"""LLM-training ops over mini_triton.kernels.llm: RMSNorm, rotary embeddings (RoPE) and the SwiGLU MLP.

    from mini_triton.ops.llm import RMSNorm, RotaryEmbedding, SwiGLUMLP, rms_norm, apply_rotary, swiglu

    norm = RMSNorm(dim, eps=1e-6)                # y = x / sqrt(mean(x^2) + eps) * weight over the last axis
    rope = RotaryEmbedding(head_dim, max_seq_len, base=10000)
    q, k = rope.apply(q, k)                      # (B, S, H, D), rotate-half convention (LLaMA / GPT-NeoX)
    mlp = SwiGLUMLP(d_model, d_ff)               # w2(silu(x @ W1) * (x @ W3))

Inputs are float16 / bfloat16 / float32 / float64 CPU torch tensors; the kernels run on mini_triton's CPU
interpreter, compute in float32 (float64 when the input is float64, which torch.autograd.gradcheck uses) and
store in the input's dtype. The fused SwiGLU matmul multiplies 16-bit inputs as 16-bit tiles with float32
accumulation (tensor cores on a GPU, autotuned tiles: mini_triton.ops._tc); float32 inputs get an exact float32
dot. Every op is differentiable (torch.autograd.Function with kernel backward passes).
"""

from __future__ import annotations

import math

import torch

import mini_triton as triton
import mini_triton.language as tl
from mini_triton.kernels import llm as _k
from mini_triton.ops import _tc

__all__ = ["RMSNorm", "RotaryEmbedding", "SwiGLUMLP", "RMSNormFunction", "RoPEFunction", "SwiGLUFunction",
           "SwiGLUMatmulFunction", "rms_norm", "apply_rotary", "rope_tables", "swiglu", "swiglu_matmul",
           "rms_norm_ref", "apply_rotary_ref", "swiglu_mlp_ref"]

_FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def _acc(*tensors):
    """Kernel accumulator dtype: float64 if any input is float64, else float32."""
    return tl.float64 if any(t is not None and t.dtype == torch.float64 for t in tensors) else tl.float32


def _acc_torch(*tensors):
    return torch.float64 if _acc(*tensors) == tl.float64 else torch.float32


def _check_cpu_float(name: str, t: torch.Tensor) -> None:
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if t.dtype not in _FLOAT_DTYPES:
        raise TypeError(f"{name} must be float16, bfloat16, float32 or float64, got {t.dtype}")


# ----------------------------------------------------------------------------------------------------------- RMSNorm
_RMS_BWD_PROGRAMS = 8  # CPU: dW partial-sum rows; more programs = more parallelism, more partials to reduce
_SM_COUNT: dict = {}


def _rms_bwd_programs(device) -> int:
    """Programs of the RMSNorm backward pass: 8 on the CPU; 4 per SM on a GPU (each loops over its rows, so a
    handful of programs would leave the GPU idle)."""
    if device.type != "cuda":
        return _RMS_BWD_PROGRAMS
    idx = device.index if device.index is not None else torch.cuda.current_device()
    if idx not in _SM_COUNT:
        _SM_COUNT[idx] = torch.cuda.get_device_properties(idx).multi_processor_count
    return 4 * _SM_COUNT[idx]


def _row_warps(block_n: int) -> int:
    """num_warps for the RMSNorm kernels, which hold a BLOCK_N-wide row per program: one warp per 256 columns,
    1 to 8 (the rule of Triton's layer-norm tutorial). The default 4 warps left a 4096-wide row at 32 values
    per thread: 89 registers per thread forward and 246 backward (sm_90a, ptxas -v), i.e. 8 warps per SM in the
    backward pass; with 8 warps 56 and 128 registers. bench/memory_bound.py's rmsnorm (8 warps) runs at
    Triton's speed."""
    return max(1, min(8, block_n // 256))


def rms_norm_forward(x2d: torch.Tensor, w: torch.Tensor, eps: float):
    """x2d: (M, N) with unit column stride; returns y (M, N) in x's dtype and rstd (M,) in the accumulator dtype."""
    M, N = x2d.shape
    y = torch.empty((M, N), dtype=x2d.dtype, device=x2d.device)
    rstd = torch.empty((M,), dtype=_acc_torch(x2d, w), device=x2d.device)
    if M == 0:
        return y, rstd
    block_n = triton.next_power_of_2(N)
    _k.rmsnorm_fwd_kernel[(M,)](x2d, w, y, rstd, x2d.stride(0), y.stride(0), N, float(eps),
                                BLOCK_N=block_n, ACC=_acc(x2d, w), num_warps=_row_warps(block_n))
    return y, rstd


def rms_norm_backward(dy: torch.Tensor, x2d: torch.Tensor, w: torch.Tensor, rstd: torch.Tensor):
    """Returns dx (M, N) in x's dtype and dW (N,) in w's dtype. dW: per-program partials (P, N), then a second
    kernel sums them in a fixed order (deterministic, no atomics)."""
    M, N = x2d.shape
    acc = _acc(x2d, w)
    dx = torch.empty((M, N), dtype=x2d.dtype, device=x2d.device)
    programs = max(1, min(_rms_bwd_programs(x2d.device), M))
    rows_per_program = triton.cdiv(M, programs) if M else 0
    partial = torch.empty((programs, N), dtype=rstd.dtype, device=x2d.device)
    block_n = triton.next_power_of_2(N)
    if M == 0:
        return dx, torch.zeros_like(w)
    _k.rmsnorm_bwd_kernel[(programs,)](dy, x2d, w, rstd, dx, partial, M, N, dy.stride(0), x2d.stride(0),
                                       dx.stride(0), rows_per_program, BLOCK_N=block_n, ACC=acc,
                                       num_warps=_row_warps(block_n))
    dw = torch.empty((N,), dtype=w.dtype, device=w.device)
    block = min(block_n, 256)
    _k.sum_rows_kernel[(triton.cdiv(N, block),)](partial, dw, programs, N, BLOCK_N=block, ACC=acc)
    return dx, dw


def _rows(x: torch.Tensor) -> torch.Tensor:
    x2d = x.reshape(-1, x.shape[-1])
    return x2d if x2d.stride(-1) == 1 else x2d.contiguous()


class RMSNormFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, eps):
        x2d = _rows(x)
        w = weight.contiguous()
        y, rstd = rms_norm_forward(x2d, w, eps)
        ctx.save_for_backward(x2d, w, rstd)
        ctx.x_shape = x.shape
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, dy):
        x2d, w, rstd = ctx.saved_tensors
        dx, dw = rms_norm_backward(_rows(dy.to(x2d.dtype)), x2d, w, rstd)
        return dx.reshape(ctx.x_shape), dw, None


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """y = x * rsqrt(mean(x^2, -1) + eps) * weight (weight: (x.shape[-1],))."""
    _check_cpu_float("x", x)
    _check_cpu_float("weight", weight)
    if weight.dim() != 1 or weight.shape[0] != x.shape[-1]:
        raise ValueError(f"weight must be ({x.shape[-1]},), got {tuple(weight.shape)}")
    return RMSNormFunction.apply(x, weight, eps)


def rms_norm_ref(x, weight, eps=1e-6):
    """Pure-torch RMSNorm in x's dtype (use float64 inputs for a reference)."""
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


class RMSNorm(torch.nn.Module):
    """Drop-in RMSNorm over the last axis with a learnable weight (initialised to ones)."""

    def __init__(self, dim: int, eps: float = 1e-6, dtype=None):
        super().__init__()
        self.eps = eps
        self.weight = torch.nn.Parameter(torch.ones(dim, dtype=dtype))

    def forward(self, x):
        return rms_norm(x, self.weight, self.eps)

    def extra_repr(self):
        return f"{self.weight.shape[0]}, eps={self.eps}"


# -------------------------------------------------------------------------------------------------------------- RoPE
def rope_tables(head_dim: int, max_seq_len: int, base: float = 10000.0, dtype=torch.float32):
    """cos, sin tables of shape (max_seq_len, head_dim // 2): angle[s, i] = s * base^(-2i / head_dim)."""
    if head_dim % 2:
        raise ValueError(f"head_dim must be even, got {head_dim}")
    inv_freq = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim))
    angles = torch.outer(torch.arange(max_seq_len, dtype=torch.float64), inv_freq)
    return angles.cos().to(dtype), angles.sin().to(dtype)


def _rope_launch(q, k, q_out, k_out, cos, sin, backward: bool):
    B, S, HQ, D = q.shape
    HK = k.shape[2]
    if B * S == 0:
        return
    half = D // 2
    _k.rope_kernel[(B * S,)](q, k, q_out, k_out, cos, sin, S, HQ, HK, half, q.stride(0), q.stride(1), q.stride(2),
                             k.stride(0), k.stride(1), k.stride(2), q_out.stride(0), q_out.stride(1),
                             q_out.stride(2), k_out.stride(0), k_out.stride(1), k_out.stride(2), cos.stride(0),
                             BLOCK_HQ=triton.next_power_of_2(HQ), BLOCK_HK=triton.next_power_of_2(HK),
                             BLOCK_HALF=triton.next_power_of_2(half), BACKWARD=backward, ACC=_acc(q, k, cos))


def _last_contiguous(t):
    return t if t.stride(-1) == 1 else t.contiguous()


class RoPEFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, k, cos, sin, inplace):
        if inplace:
            if q.stride(-1) != 1 or k.stride(-1) != 1:
                raise ValueError("in-place RoPE needs q and k with a contiguous last dimension")
            q_out, k_out = q, k
        else:
            q, k = _last_contiguous(q), _last_contiguous(k)
            q_out, k_out = torch.empty_like(q), torch.empty_like(k)
        _rope_launch(q, k, q_out, k_out, cos, sin, backward=False)
        ctx.save_for_backward(cos, sin)
        if inplace:
            ctx.mark_dirty(q, k)
        return q_out, k_out

    @staticmethod
    def backward(ctx, dq, dk):
        cos, sin = ctx.saved_tensors
        dq, dk = _last_contiguous(dq), _last_contiguous(dk)  # never None: torch materialises unused grads
        dq_in, dk_in = torch.empty_like(dq), torch.empty_like(dk)
        _rope_launch(dq, dk, dq_in, dk_in, cos, sin, backward=True)
        return dq_in, dk_in, None, None, None


def apply_rotary(q: torch.Tensor, k: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, inplace: bool = False):
    """Rotates q (B, S, HQ, D) and k (B, S, HK, D) by position s with cos/sin tables (>= S, D // 2) (rows 0..S-1
    are used). Returns (q_rot, k_rot); with inplace=True they are q and k, modified."""
    _check_cpu_float("q", q)
    _check_cpu_float("k", k)
    if q.dim() != 4 or k.dim() != 4:
        raise ValueError(f"q and k must be (B, S, H, D), got {tuple(q.shape)} and {tuple(k.shape)}")
    B, S, _, D = q.shape
    if k.shape[0] != B or k.shape[1] != S or k.shape[3] != D:
        raise ValueError(f"k {tuple(k.shape)} does not match q {tuple(q.shape)} in B, S or D")
    if D % 2:
        raise ValueError(f"head dim must be even, got {D}")
    if cos.dim() != 2 or cos.shape != sin.shape or cos.shape[1] != D // 2 or cos.shape[0] < S:
        raise ValueError(f"cos/sin must be (>= {S}, {D // 2}) tables, got {tuple(cos.shape)} and "
                         f"{tuple(sin.shape)}")
    cos, sin = cos.contiguous(), sin.contiguous()
    return RoPEFunction.apply(q, k, cos, sin, inplace)


def apply_rotary_ref(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Pure-torch rotate-half RoPE of x (B, S, H, D) with (>= S, D // 2) tables."""
    S, half = x.shape[1], x.shape[-1] // 2
    c = cos[:S, None, :].to(x.dtype)
    s = sin[:S, None, :].to(x.dtype)
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * c - x2 * s, x2 * c + x1 * s], dim=-1)


class RotaryEmbedding(torch.nn.Module):
    """Rotary position embedding with precomputed (max_seq_len, head_dim // 2) cos/sin tables (float32 buffers;
    float64 when the inputs are float64)."""

    def __init__(self, head_dim: int, max_seq_len: int, base: float = 10000.0):
        super().__init__()
        self.head_dim, self.max_seq_len, self.base = head_dim, max_seq_len, base
        cos, sin = rope_tables(head_dim, max_seq_len, base)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)

    def tables(self, dtype):
        if dtype == torch.float64:
            cos, sin = rope_tables(self.head_dim, self.max_seq_len, self.base, torch.float64)
            return cos.to(self.cos.device), sin.to(self.cos.device)
        return self.cos, self.sin

    def apply(self, q: torch.Tensor, k: torch.Tensor, inplace: bool = False):
        if q.shape[1] > self.max_seq_len:
            raise ValueError(f"sequence length {q.shape[1]} exceeds max_seq_len {self.max_seq_len}")
        if q.shape[-1] != self.head_dim:
            raise ValueError(f"head dim {q.shape[-1]} != {self.head_dim}")
        cos, sin = self.tables(q.dtype)
        return apply_rotary(q, k, cos, sin, inplace)

    forward = apply


# ------------------------------------------------------------------------------------------------------------ SwiGLU
_EW_BLOCK = 1024


class SwiGLUFunction(torch.autograd.Function):
    """h = silu(a) * b, elementwise."""

    @staticmethod
    def forward(ctx, a, b):
        a, b = a.contiguous(), b.contiguous()
        h = torch.empty_like(a)
        n = a.numel()
        if n:
            _k.swiglu_fwd_kernel[(triton.cdiv(n, _EW_BLOCK),)](a, b, h, n, BLOCK=_EW_BLOCK, ACC=_acc(a, b))
        ctx.save_for_backward(a, b)
        return h

    @staticmethod
    def backward(ctx, dh):
        a, b = ctx.saved_tensors
        dh = dh.to(a.dtype).contiguous()
        da, db = torch.empty_like(a), torch.empty_like(b)
        n = a.numel()
        if n:
            _k.swiglu_bwd_kernel[(triton.cdiv(n, _EW_BLOCK),)](dh, a, b, da, db, n, BLOCK=_EW_BLOCK,
                                                               ACC=_acc(a, b))
        return da, db


def swiglu(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """silu(a) * b (same shapes and dtypes)."""
    _check_cpu_float("a", a)
    _check_cpu_float("b", b)
    if a.shape != b.shape or a.dtype != b.dtype:
        raise ValueError(f"a and b must have one shape and dtype, got {tuple(a.shape)} {a.dtype} and "
                         f"{tuple(b.shape)} {b.dtype}")
    return SwiGLUFunction.apply(a, b)


def _matmul_blocks(M, N, K):
    bm = min(32, max(16, triton.next_power_of_2(M)))
    bn = min(32, max(16, triton.next_power_of_2(N)))
    bk = min(32, max(16, triton.next_power_of_2(K)))
    return bm, bn, bk


class SwiGLUMatmulFunction(torch.autograd.Function):
    """h = silu(x @ W1) * (x @ W3) with the gate fused into the matmul epilogue (one kernel); x: (M, K),
    W1/W3: (K, N). The backward pass uses the elementwise gate-backward kernel and torch matmuls."""

    @staticmethod
    def forward(ctx, x, w1, w3):
        M, K = x.shape
        N = w1.shape[1]
        a = torch.empty((M, N), dtype=x.dtype, device=x.device)
        b = torch.empty_like(a)
        h = torch.empty_like(a)
        if M and N:
            acc = _acc(x, w1, w3)
            dot = _tc.dot_dtype(acc, x, w1, w3, lang=tl)
            args = (x, w1, w3, a, b, h, M, N, K, x.stride(0), x.stride(1), w1.stride(0), w1.stride(1), w3.stride(0),
                    w3.stride(1), h.stride(0), h.stride(1))
            if _tc.tensor_cores(x, dot, acc):  # 16-bit on a GPU: tensor-core tiles, autotuned per shape
                kernel = _tc.tuned(_k.swiglu_matmul_kernel, _tc.SWIGLU_CONFIGS, ["M", "N", "K"])
                kernel[lambda meta: (triton.cdiv(M, meta["BLOCK_M"]), triton.cdiv(N, meta["BLOCK_N"]))](
                    *args, STORE_AB=True, ACC=acc, DOT=dot)
            else:
                bm, bn, bk = _matmul_blocks(M, N, K)
                _k.swiglu_matmul_kernel[(triton.cdiv(M, bm), triton.cdiv(N, bn))](
                    *args, BLOCK_M=bm, BLOCK_N=bn, BLOCK_K=bk, STORE_AB=True, ACC=acc, DOT=dot)
        ctx.save_for_backward(x, w1, w3, a, b)
        return h

    @staticmethod
    def backward(ctx, dh):
        x, w1, w3, a, b = ctx.saved_tensors
        da, db = SwiGLUFunction.backward(_Saved(a, b), dh)
        dx = da @ w1.t().to(da.dtype) + db @ w3.t().to(db.dtype)
        dw1 = x.t().to(da.dtype) @ da
        dw3 = x.t().to(db.dtype) @ db
        return dx.to(x.dtype), dw1.to(w1.dtype), dw3.to(w3.dtype)


class _Saved:
    """Stands for a ctx with saved_tensors (reuses SwiGLUFunction.backward)."""

    def __init__(self, *tensors):
        self.saved_tensors = tensors


def swiglu_matmul(x: torch.Tensor, w1: torch.Tensor, w3: torch.Tensor) -> torch.Tensor:
    """silu(x @ W1) * (x @ W3) over the last axis of x (any leading shape), fused in one kernel."""
    for name, t in (("x", x), ("w1", w1), ("w3", w3)):
        _check_cpu_float(name, t)
    if w1.shape != w3.shape or w1.dim() != 2 or w1.shape[0] != x.shape[-1]:
        raise ValueError(f"w1/w3 must be ({x.shape[-1]}, d_ff), got {tuple(w1.shape)} and {tuple(w3.shape)}")
    h = SwiGLUMatmulFunction.apply(x.reshape(-1, x.shape[-1]), w1, w3)
    return h.reshape(*x.shape[:-1], w1.shape[1])


def swiglu_mlp_ref(x, w1, w3, w2):
    """Pure torch: (silu(x @ W1) * (x @ W3)) @ W2 (weights (in, out))."""
    return (torch.nn.functional.silu(x @ w1) * (x @ w3)) @ w2


class SwiGLUMLP(torch.nn.Module):
    """LLaMA-style feed-forward: w2(silu(x @ W1) * (x @ W3)); weights stored (in, out). fused=True computes the
    gate in the epilogue of one kernel computing both matmuls; fused=False uses torch.matmul for x @ W1, x @ W3
    and the elementwise gate kernel. The down-projection @ W2 is torch.matmul."""

    def __init__(self, d_model: int, d_ff: int, fused: bool = True, dtype=None):
        super().__init__()
        self.d_model, self.d_ff, self.fused = d_model, d_ff, fused
        self.w1 = torch.nn.Parameter(torch.empty(d_model, d_ff, dtype=dtype))
        self.w3 = torch.nn.Parameter(torch.empty(d_model, d_ff, dtype=dtype))
        self.w2 = torch.nn.Parameter(torch.empty(d_ff, d_model, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self):
        for w in (self.w1, self.w3, self.w2):
            bound = 1.0 / math.sqrt(w.shape[0])
            torch.nn.init.uniform_(w, -bound, bound)

    def forward(self, x):
        if self.fused:
            h = swiglu_matmul(x, self.w1, self.w3)
        else:
            h = swiglu(x @ self.w1, x @ self.w3)
        return h @ self.w2

    def extra_repr(self):
        return f"d_model={self.d_model}, d_ff={self.d_ff}, fused={self.fused}"


# ------------------------------------------------------------------------- the seed's names, from one module
_ELSEWHERE = {"ModelConfig": "select", "auto_select_kernels": "select", "benchmark_rms_norm": "select",
              "benchmark_rotary": "select", "benchmark_mlp": "select", "benchmark_attention": "select",
              "benchmark_newton_schulz": "select", "flash_attention": "attention",
              "CausalSelfAttention": "attention", "newton_schulz": "muon", "Muon": "muon"}


def __getattr__(name):
    """`from mini_triton.ops.llm import ModelConfig, auto_select_kernels, Muon, ...` (seed 003's `from llm import
    ...`): the selection, attention and Muon names, loaded on first use (they import this module)."""
    if name in _ELSEWHERE:
        import importlib
        return getattr(importlib.import_module(f"mini_triton.ops.{_ELSEWHERE[name]}"), name)
    raise AttributeError(f"module 'mini_triton.ops.llm' has no attribute {name!r}")
