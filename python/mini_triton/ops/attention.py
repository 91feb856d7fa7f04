"""Flash attention over mini_triton.kernels.attention (forward + FlashAttention-2 backward).

    from mini_triton.ops.attention import flash_attention, CausalSelfAttention

    o = flash_attention(q, k, v, causal=True, sm_scale=None)   # q, k, v: (B, H, S, D), any D
    attn = CausalSelfAttention(d_model, n_heads, rope=None)      # x: (B, S, d_model) -> (B, S, d_model)

Inputs are float16 / bfloat16 / float32 / float64 CPU torch tensors of one dtype; the kernels compute in float32
(float64 when the inputs are float64, which torch.autograd.gradcheck uses) and store O, dQ, dK, dV in the input's
dtype; 16-bit inputs are multiplied as 16-bit tiles (P and dS rounded to the input dtype before their matmuls, as
in FlashAttention) with float32 accumulation, on the tensor cores of a GPU; the per-row log-sum-exp L (natural
log of sum_j exp(sm_scale * q.k_j)) is kept in the accumulator dtype.
"""

from __future__ import annotations

import math

import torch

import mini_triton as triton
import mini_triton.language as tl
from mini_triton.kernels import attention as _k
from mini_triton.ops import _tc

__all__ = ["FlashAttentionFunction", "flash_attention", "flash_attention_forward", "attention_ref",
           "CausalSelfAttention"]

_FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def _acc(t):
    return tl.float64 if t.dtype == torch.float64 else tl.float32


def _acc_torch(t):
    return torch.float64 if t.dtype == torch.float64 else torch.float32


def _blocks(S):
    b = min(32, max(16, triton.next_power_of_2(S)))
    return b, b


# Forward tiles for 16-bit inputs on a GPU (BLOCK_M, BLOCK_N): 128 x 64 on 8 warps was the fastest of the bf16
# benchmark's space at S = 4096, D = 128 (bench/results/2026-11-22-h100-attention_bf16.json).
FWD_CONFIGS = [
    triton.Config(dict(BLOCK_M=128, BLOCK_N=64), num_warps=8, num_stages=3),
    triton.Config(dict(BLOCK_M=128, BLOCK_N=128), num_warps=8, num_stages=3),
    triton.Config(dict(BLOCK_M=64, BLOCK_N=64), num_warps=4, num_stages=3),
]


def _bwd_launch(q, dot, acc):
    """Backward tiles and launch options: 64 x 64 on 4 warps for 16-bit inputs on a GPU, else the CPU tiles."""
    if _tc.tensor_cores(q, dot, acc):
        return 64, 64, dict(num_warps=4, num_stages=3)
    bm, bn = _blocks(q.shape[2])
    return bm, bn, {}


def _block_d(D):
    """The head-dim tile: a power of 2 >= max(16, D) (columns past D are masked)."""
    return max(16, triton.next_power_of_2(D))


def flash_attention_forward(q, k, v, causal: bool, sm_scale: float):
    """q, k, v: contiguous (B, H, S, D). Returns O (B, H, S, D) in q's dtype and L (B, H, S) in the accumulator
    dtype."""
    B, H, S, D = q.shape
    o = torch.empty_like(q)
    lse = torch.empty((B, H, S), dtype=_acc_torch(q), device=q.device)
    if B * H * S == 0:
        return o, lse
    acc = _acc(q)
    dot = _tc.dot_dtype(acc, q, k, v, lang=tl)
    consts = dict(QK_SCALE=float(sm_scale * _k.LOG2E), HEAD_D=D, BLOCK_D=_block_d(D), CAUSAL=bool(causal), ACC=acc,
                  DOT=dot)
    if _tc.tensor_cores(q, dot, acc):  # 16-bit on a GPU: tensor-core tiles, autotuned per (S, D, causal)
        kernel = _tc.tuned(_k.attn_fwd_kernel, FWD_CONFIGS, ["S", "HEAD_D", "CAUSAL"], m_arg="S", n_arg="S")
        kernel[lambda meta: (triton.cdiv(S, meta["BLOCK_M"]), B * H)](q, k, v, o, lse, S, **consts)
        return o, lse
    bm, bn = _blocks(S)
    _k.attn_fwd_kernel[(triton.cdiv(S, bm), B * H)](q, k, v, o, lse, S, BLOCK_M=bm, BLOCK_N=bn, **consts)
    return o, lse


def flash_attention_backward(do, q, k, v, o, lse, causal: bool, sm_scale: float):
    B, H, S, D = q.shape
    dq, dk, dv = torch.empty_like(q), torch.empty_like(k), torch.empty_like(v)
    if B * H * S == 0:
        return dq.zero_(), dk.zero_(), dv.zero_()
    acc = _acc(q)
    dot = _tc.dot_dtype(acc, q, k, v, do, lang=tl)
    bm, bn, launch = _bwd_launch(q, dot, acc)
    delta = torch.empty((B, H, S), dtype=lse.dtype, device=q.device)
    _k.attn_bwd_preprocess_kernel[(triton.cdiv(S, bm), B * H)](o, do, delta, S, BLOCK_M=bm, HEAD_D=D,
                                                               BLOCK_D=_block_d(D), ACC=acc)
    qk_scale = float(sm_scale * _k.LOG2E)
    scales = dict(SM_SCALE=float(sm_scale), QK_SCALE=qk_scale, HEAD_D=D, BLOCK_D=_block_d(D))
    _k.attn_bwd_dkdv_kernel[(triton.cdiv(S, bn), B * H)](q, k, v, do, lse, delta, dk, dv, S, **scales, BLOCK_M=bm,
                                                          BLOCK_N=bn, CAUSAL=bool(causal), ACC=acc, DOT=dot,
                                                          **launch)
    _k.attn_bwd_dq_kernel[(triton.cdiv(S, bm), B * H)](q, k, v, do, lse, delta, dq, S, **scales, BLOCK_M=bm,
                                                        BLOCK_N=bn, CAUSAL=bool(causal), ACC=acc, DOT=dot, **launch)
    return dq, dk, dv


class FlashAttentionFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, k, v, causal, sm_scale):
        q, k, v = q.contiguous(), k.contiguous(), v.contiguous()
        o, lse = flash_attention_forward(q, k, v, causal, sm_scale)
        ctx.save_for_backward(q, k, v, o, lse)
        ctx.causal, ctx.sm_scale = causal, sm_scale
        return o

    @staticmethod
    def backward(ctx, do):
        q, k, v, o, lse = ctx.saved_tensors
        dq, dk, dv = flash_attention_backward(do.to(q.dtype).contiguous(), q, k, v, o, lse, ctx.causal,
                                              ctx.sm_scale)
        return dq, dk, dv, None, None


def flash_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = True,
                    sm_scale: float | None = None) -> torch.Tensor:
    """softmax(sm_scale * q @ k^T [+ causal mask]) @ v over (B, H, S, D) tensors; sm_scale defaults to
    1 / sqrt(D). Any head dim D (tiles are padded to a power of 2 >= 16 and masked)."""
    for name, t in (("q", q), ("k", k), ("v", v)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
        if t.dtype not in _FLOAT_DTYPES:
            raise TypeError(f"{name} must be float16, bfloat16, float32 or float64, got {t.dtype}")
        if t.dim() != 4:
            raise ValueError(f"{name} must be (B, H, S, D), got {tuple(t.shape)}")
    if k.shape != q.shape or v.shape != q.shape:
        raise ValueError(f"q, k, v must have one shape, got {tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}")
    if k.dtype != q.dtype or v.dtype != q.dtype:
        raise ValueError(f"q, k, v must have one dtype, got {q.dtype}, {k.dtype}, {v.dtype}")
    D = q.shape[-1]
    if D < 1:
        raise ValueError(f"head dim must be positive, got {D}")
    if sm_scale is None:
        sm_scale = 1.0 / math.sqrt(D)
    return FlashAttentionFunction.apply(q, k, v, bool(causal), float(sm_scale))


def attention_ref(q, k, v, causal=True, sm_scale=None):
    """Pure-torch attention in q's dtype (use float64 inputs for a reference)."""
    if sm_scale is None:
        sm_scale = 1.0 / math.sqrt(q.shape[-1])
    s = (q @ k.transpose(-1, -2)) * sm_scale
    if causal:
        S = q.shape[-2]
        mask = torch.ones(S, S, dtype=torch.bool, device=q.device).tril()
        s = s.masked_fill(~mask, float("-inf"))
    return torch.softmax(s, dim=-1) @ v


class CausalSelfAttention(torch.nn.Module):
    """Multi-head causal self-attention: qkv = x @ W_qkv, optional RoPE (an ops.llm.RotaryEmbedding applied to
    q and k in (B, S, H, D) layout), flash attention, then @ W_o. Weights stored (in, out)."""

    def __init__(self, d_model: int, n_heads: int, rope=None, dtype=None):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model {d_model} is not a multiple of n_heads {n_heads}")
        self.d_model, self.n_heads, self.head_dim = d_model, n_heads, d_model // n_heads
        if rope is not None and rope.head_dim != self.head_dim:
            raise ValueError(f"rope head_dim {rope.head_dim} != {self.head_dim}")
        self.rope = rope
        self.w_qkv = torch.nn.Parameter(torch.empty(d_model, 3 * d_model, dtype=dtype))
        self.w_o = torch.nn.Parameter(torch.empty(d_model, d_model, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self):
        for w in (self.w_qkv, self.w_o):
            bound = 1.0 / math.sqrt(w.shape[0])
            torch.nn.init.uniform_(w, -bound, bound)

    def _qkv(self, x):
        B, S, _ = x.shape
        qkv = (x @ self.w_qkv).reshape(B, S, 3, self.n_heads, self.head_dim)
        q, k, v = qkv.unbind(2)  # (B, S, H, D)
        if self.rope is not None:
            q, k = self.rope.apply(q, k)
        return q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)

    def forward(self, x):
        B, S, _ = x.shape
        q, k, v = self._qkv(x)
        o = flash_attention(q, k, v, causal=True)
        return o.transpose(1, 2).reshape(B, S, self.d_model) @ self.w_o

    def forward_ref(self, x):
        """The same computation with pure-torch attention (RoPE via ops.llm's reference)."""
        from mini_triton.ops.llm import apply_rotary_ref
        B, S, _ = x.shape
        qkv = (x @ self.w_qkv).reshape(B, S, 3, self.n_heads, self.head_dim)
        q, k, v = qkv.unbind(2)
        if self.rope is not None:
            cos, sin = self.rope.tables(x.dtype)
            q, k = apply_rotary_ref(q, cos, sin), apply_rotary_ref(k, cos, sin)
        o = attention_ref(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), causal=True)
        return o.transpose(1, 2).reshape(B, S, self.d_model) @ self.w_o

    def extra_repr(self):
        return f"d_model={self.d_model}, n_heads={self.n_heads}, rope={self.rope is not None}"
