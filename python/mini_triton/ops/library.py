"""The LLM kernels as torch custom ops (`torch.library.custom_op`, namespace `mini_triton`), with a PyTorch
fallback, plus the pure-PyTorch versions of the same ops.

    from mini_triton.ops import library as L
    y = L.rms_norm(x, w, eps)                       # torch.ops.mini_triton.rms_norm_fwd (+ autograd)
    q, k = L.apply_rotary(q, k, cos, sin)           # torch.ops.mini_triton.rope
    h = L.swiglu(a, b); h = L.swiglu_matmul(x, w1, w3)
    o = L.flash_attention(q, k, v, causal=True)     # (B, H, S, D)
    X = L.newton_schulz(G, steps=5)
    y = L.rms_norm_torch(x, w, eps) ...             # the pure-PyTorch versions (no kernel)

Custom ops are opaque to `torch.compile` (each has a fake implementation giving output shapes and an autograd
formula that calls the backward op), so a compiled model calls our kernels instead of tracing into the launcher.
Where the installed torch has no `torch.library.custom_op` (torch < 2.4), the functions call the eager
autograd.Functions of mini_triton.ops.llm / attention / muon instead (`HAS_CUSTOM_OP` says which).

Fallback: every op runs its kernel; if the kernel raises, the op warns (`warnings.warn`, RuntimeWarning, and a
`logging` warning) and computes the same result with PyTorch, so training goes on. Inside `strict()` kernel
errors propagate instead (the benchmarks use it to tell a failed kernel from a slow one).
"""

import contextlib  # no `from __future__ import annotations`: custom_op reads the annotations as types
import logging
import math
import threading
import warnings

import torch
import torch.nn.functional as F

from mini_triton.ops import attention as _attn
from mini_triton.ops import llm as _llm
from mini_triton.ops import muon as _muon

__all__ = ["HAS_CUSTOM_OP", "strict", "rms_norm", "apply_rotary", "swiglu", "swiglu_matmul", "flash_attention",
           "newton_schulz", "rms_norm_torch", "apply_rotary_torch", "swiglu_torch", "swiglu_matmul_torch",
           "attention_torch", "newton_schulz_torch"]

log = logging.getLogger("mini_triton.ops")
HAS_CUSTOM_OP = all(hasattr(torch.library, n) for n in ("custom_op", "register_autograd", "register_fake"))
_state = threading.local()


@contextlib.contextmanager
def strict():
    """Kernel errors raise inside this block instead of falling back to PyTorch."""
    old = getattr(_state, "strict", False)
    _state.strict = True
    try:
        yield
    finally:
        _state.strict = old


def _guard(op: str, kernel_fn, torch_fn):
    """kernel_fn(), or torch_fn() with a warning when the kernel raises (outside strict())."""
    try:
        return kernel_fn()
    except Exception as err:  # any kernel failure: compile error, launch error, unsupported dtype, ...
        if getattr(_state, "strict", False):
            raise
        msg = f"mini_triton: the {op} kernel failed ({type(err).__name__}: {err}); falling back to PyTorch"
        log.warning(msg)
        warnings.warn(msg, RuntimeWarning, stacklevel=3)
        return torch_fn()


def _acc(*ts):
    return torch.float64 if any(t.dtype == torch.float64 for t in ts) else torch.float32


# ------------------------------------------------------------------------------------- PyTorch versions (fallbacks)
def _rms_fwd_torch(x2d, w, eps):
    acc = _acc(x2d, w)
    xa = x2d.to(acc)
    rstd = torch.rsqrt(xa.pow(2).mean(-1) + eps)
    return (xa * rstd[:, None] * w.to(acc)).to(x2d.dtype), rstd


def _rms_bwd_torch(dy, x2d, w, rstd):
    acc = rstd.dtype
    dy, xa, wa, r = dy.to(acc), x2d.to(acc), w.to(acc), rstd.to(acc)[:, None]
    dyw = dy * wa
    c = (dyw * xa).sum(-1, keepdim=True) / x2d.shape[-1]
    dx = r * dyw - xa * (r * r * r) * c
    dw = (dy * xa * r).sum(0)
    return dx.to(x2d.dtype), dw.to(w.dtype)


def _rope_torch(x, cos, sin, backward):
    acc = _acc(x, cos)
    S, half = x.shape[1], x.shape[-1] // 2
    c = cos[:S, None, :].to(acc)
    s = sin[:S, None, :].to(acc)
    if backward:
        s = -s
    xa = x.to(acc)
    x1, x2 = xa[..., :half], xa[..., half:]
    return torch.cat([x1 * c - x2 * s, x2 * c + x1 * s], dim=-1).to(x.dtype)


def _swiglu_bwd_torch(dh, a, b):
    acc = _acc(a, b)
    dh, aa, ba = dh.to(acc), a.to(acc), b.to(acc)
    sig = torch.sigmoid(aa)
    da = dh * ba * sig * (1.0 + aa * (1.0 - sig))
    db = dh * aa * sig
    return da.to(a.dtype), db.to(b.dtype)


def _attn_fwd_torch(q, k, v, causal, sm_scale):
    acc = _acc(q)
    s = (q.to(acc) @ k.to(acc).transpose(-1, -2)) * sm_scale
    if causal:
        S = q.shape[-2]
        s = s.masked_fill(~torch.ones(S, S, dtype=torch.bool, device=q.device).tril(), float("-inf"))
    lse = torch.logsumexp(s, dim=-1)
    o = torch.exp(s - lse[..., None]) @ v.to(acc)
    return o.to(q.dtype), lse


def _attn_bwd_torch(do, q, k, v, o, lse, causal, sm_scale):
    acc = lse.dtype
    qa, ka, va, doa = q.to(acc), k.to(acc), v.to(acc), do.to(acc)
    s = (qa @ ka.transpose(-1, -2)) * sm_scale
    if causal:
        S = q.shape[-2]
        s = s.masked_fill(~torch.ones(S, S, dtype=torch.bool, device=q.device).tril(), float("-inf"))
    p = torch.exp(s - lse[..., None])
    dv = p.transpose(-1, -2) @ doa
    dp = doa @ va.transpose(-1, -2)
    delta = (doa * o.to(acc)).sum(-1, keepdim=True)
    ds = p * (dp - delta)
    dq = (ds @ ka) * sm_scale
    dk = (ds.transpose(-1, -2) @ qa) * sm_scale
    return dq.to(q.dtype), dk.to(k.dtype), dv.to(v.dtype)


def rms_norm_torch(x, weight, eps: float = 1e-6):
    """Pure PyTorch RMSNorm (computes in float32 / float64, returns x's dtype)."""
    acc = _acc(x, weight)
    xa = x.to(acc)
    return (xa * torch.rsqrt(xa.pow(2).mean(-1, keepdim=True) + eps) * weight.to(acc)).to(x.dtype)


def apply_rotary_torch(q, k, cos, sin):
    """Pure PyTorch rotate-half RoPE of q, k (B, S, H, D) with (>= S, D // 2) tables."""
    return _rope_torch(q, cos, sin, False), _rope_torch(k, cos, sin, False)


def swiglu_torch(a, b):
    return F.silu(a) * b


def swiglu_matmul_torch(x, w1, w3):
    return F.silu(x @ w1) * (x @ w3)


def attention_torch(q, k, v, causal: bool = True, sm_scale=None):
    """torch's scaled_dot_product_attention over (B, H, S, D) (flash / memory-efficient backends on a GPU)."""
    return F.scaled_dot_product_attention(q, k, v, is_causal=causal, scale=sm_scale)


def newton_schulz_torch(g, steps: int = 5):
    """Muon's quintic Newton-Schulz in PyTorch (computes in float32 / float64, returns g's dtype)."""
    return _muon.newton_schulz_ref(g.to(_acc(g)), steps).to(g.dtype)


# ---------------------------------------------------------------------------------------------------- kernel calls
def _rows(x):
    x2d = x.reshape(-1, x.shape[-1])
    return x2d if x2d.stride(-1) == 1 else x2d.contiguous()


def _rms_fwd_impl(x, weight, eps):
    x2d, w = _rows(x), weight.contiguous()
    y, rstd = _guard("rms_norm", lambda: _llm.rms_norm_forward(x2d, w, eps), lambda: _rms_fwd_torch(x2d, w, eps))
    return y.reshape(x.shape), rstd.reshape(x.shape[:-1])


def _rms_bwd_impl(dy, x, weight, rstd):
    x2d, w = _rows(x), weight.contiguous()
    dy2d, r = _rows(dy.to(x.dtype)), rstd.reshape(-1)
    dx, dw = _guard("rms_norm backward", lambda: _llm.rms_norm_backward(dy2d, x2d, w, r),
                    lambda: _rms_bwd_torch(dy2d, x2d, w, r))
    return dx.reshape(x.shape), dw


def _rope_impl(q, k, cos, sin, backward):
    q, k = _llm._last_contiguous(q), _llm._last_contiguous(k)
    cos, sin = cos.contiguous(), sin.contiguous()

    def kernel():
        q_out = torch.empty_like(q, memory_format=torch.contiguous_format)
        k_out = torch.empty_like(k, memory_format=torch.contiguous_format)
        _llm._rope_launch(q, k, q_out, k_out, cos, sin, backward=backward)
        return q_out, k_out

    return _guard("rope", kernel, lambda: (_rope_torch(q, cos, sin, backward), _rope_torch(k, cos, sin, backward)))


def _swiglu_fwd_impl(a, b):
    return _guard("swiglu", lambda: _llm.SwiGLUFunction.forward(_Ctx(), a, b), lambda: swiglu_torch(a, b))


def _swiglu_bwd_impl(dh, a, b):
    a, b = a.contiguous(), b.contiguous()
    return _guard("swiglu backward", lambda: _llm.SwiGLUFunction.backward(_llm._Saved(a, b), dh),
                  lambda: _swiglu_bwd_torch(dh, a, b))


def _swiglu_matmul_impl(x, w1, w3):
    def kernel():
        ctx = _Ctx()
        h = _llm.SwiGLUMatmulFunction.forward(ctx, x, w1, w3)
        return h, ctx.saved[3], ctx.saved[4]

    def fallback():
        acc = _acc(x, w1, w3)
        a, b = x.to(acc) @ w1.to(acc), x.to(acc) @ w3.to(acc)
        return (F.silu(a) * b).to(x.dtype), a.to(x.dtype), b.to(x.dtype)

    return _guard("swiglu_matmul", kernel, fallback)


def _attn_fwd_impl(q, k, v, causal, sm_scale):
    q, k, v = q.contiguous(), k.contiguous(), v.contiguous()
    return _guard("flash_attention", lambda: _attn.flash_attention_forward(q, k, v, causal, sm_scale),
                  lambda: _attn_fwd_torch(q, k, v, causal, sm_scale))


def _attn_bwd_impl(do, q, k, v, o, lse, causal, sm_scale):
    do = do.to(q.dtype).contiguous()
    return _guard("flash_attention backward",
                  lambda: _attn.flash_attention_backward(do, q, k, v, o, lse, causal, sm_scale),
                  lambda: _attn_bwd_torch(do, q, k, v, o, lse, causal, sm_scale))


def _ns_impl(g, steps):
    return _guard("newton_schulz", lambda: _muon.newton_schulz(g, steps), lambda: newton_schulz_torch(g, steps))


class _Ctx:
    """A stand-in autograd ctx that records save_for_backward (reuses the autograd.Functions' forward)."""

    def save_for_backward(self, *ts):
        self.saved = ts


# ------------------------------------------------------------------------------------------------- custom ops
if HAS_CUSTOM_OP:
    from torch import Tensor

    @torch.library.custom_op("mini_triton::rms_norm_fwd", mutates_args=())
    def _rms_norm_fwd(x: Tensor, weight: Tensor, eps: float) -> tuple[Tensor, Tensor]:
        return _rms_fwd_impl(x, weight, eps)

    @_rms_norm_fwd.register_fake
    def _(x, weight, eps):
        return (torch.empty_like(x, memory_format=torch.contiguous_format),
                x.new_empty(x.shape[:-1], dtype=_acc(x, weight)))

    @torch.library.custom_op("mini_triton::rms_norm_bwd", mutates_args=())
    def _rms_norm_bwd(dy: Tensor, x: Tensor, weight: Tensor, rstd: Tensor) -> tuple[Tensor, Tensor]:
        return _rms_bwd_impl(dy, x, weight, rstd)

    @_rms_norm_bwd.register_fake
    def _(dy, x, weight, rstd):
        return (torch.empty_like(x, memory_format=torch.contiguous_format),
                torch.empty_like(weight, memory_format=torch.contiguous_format))

    def _rms_setup(ctx, inputs, output):
        x, weight, eps = inputs
        ctx.save_for_backward(x, weight, output[1])

    def _rms_backward(ctx, dy, _drstd):
        x, weight, rstd = ctx.saved_tensors
        dx, dw = torch.ops.mini_triton.rms_norm_bwd(dy, x, weight, rstd)
        return dx, dw, None

    torch.library.register_autograd("mini_triton::rms_norm_fwd", _rms_backward, setup_context=_rms_setup)

    @torch.library.custom_op("mini_triton::rope", mutates_args=())
    def _rope(q: Tensor, k: Tensor, cos: Tensor, sin: Tensor, backward: bool) -> tuple[Tensor, Tensor]:
        return _rope_impl(q, k, cos, sin, backward)

    @_rope.register_fake
    def _(q, k, cos, sin, backward):
        return (torch.empty_like(q, memory_format=torch.contiguous_format),
                torch.empty_like(k, memory_format=torch.contiguous_format))

    def _rope_setup(ctx, inputs, output):
        ctx.save_for_backward(inputs[2], inputs[3])
        ctx.backward = inputs[4]

    def _rope_backward(ctx, dq, dk):
        cos, sin = ctx.saved_tensors
        dq_in, dk_in = torch.ops.mini_triton.rope(dq, dk, cos, sin, not ctx.backward)
        return dq_in, dk_in, None, None, None

    torch.library.register_autograd("mini_triton::rope", _rope_backward, setup_context=_rope_setup)

    @torch.library.custom_op("mini_triton::swiglu_fwd", mutates_args=())
    def _swiglu_fwd(a: Tensor, b: Tensor) -> Tensor:
        return _swiglu_fwd_impl(a, b)

    @_swiglu_fwd.register_fake
    def _(a, b):
        return torch.empty_like(a, memory_format=torch.contiguous_format)

    @torch.library.custom_op("mini_triton::swiglu_bwd", mutates_args=())
    def _swiglu_bwd(dh: Tensor, a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
        return _swiglu_bwd_impl(dh, a, b)

    @_swiglu_bwd.register_fake
    def _(dh, a, b):
        return (torch.empty_like(a, memory_format=torch.contiguous_format),
                torch.empty_like(b, memory_format=torch.contiguous_format))

    def _swiglu_setup(ctx, inputs, output):
        ctx.save_for_backward(*inputs)

    def _swiglu_backward(ctx, dh):
        a, b = ctx.saved_tensors
        return torch.ops.mini_triton.swiglu_bwd(dh, a, b)

    torch.library.register_autograd("mini_triton::swiglu_fwd", _swiglu_backward, setup_context=_swiglu_setup)

    @torch.library.custom_op("mini_triton::swiglu_matmul_fwd", mutates_args=())
    def _swiglu_matmul_fwd(x: Tensor, w1: Tensor, w3: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        return _swiglu_matmul_impl(x, w1, w3)

    @_swiglu_matmul_fwd.register_fake
    def _(x, w1, w3):
        shape = (x.shape[0], w1.shape[1])
        return x.new_empty(shape), x.new_empty(shape), x.new_empty(shape)

    def _swiglu_matmul_setup(ctx, inputs, output):
        x, w1, w3 = inputs
        ctx.save_for_backward(x, w1, w3, output[1], output[2])

    def _swiglu_matmul_backward(ctx, dh, _da, _db):
        x, w1, w3, a, b = ctx.saved_tensors
        da, db = torch.ops.mini_triton.swiglu_bwd(dh.contiguous(), a, b)
        dx = da @ w1.t().to(da.dtype) + db @ w3.t().to(db.dtype)
        dw1 = x.t().to(da.dtype) @ da
        dw3 = x.t().to(db.dtype) @ db
        return dx.to(x.dtype), dw1.to(w1.dtype), dw3.to(w3.dtype)

    torch.library.register_autograd("mini_triton::swiglu_matmul_fwd", _swiglu_matmul_backward,
                                    setup_context=_swiglu_matmul_setup)

    @torch.library.custom_op("mini_triton::flash_attn_fwd", mutates_args=())
    def _flash_attn_fwd(q: Tensor, k: Tensor, v: Tensor, causal: bool, sm_scale: float) -> tuple[Tensor, Tensor]:
        return _attn_fwd_impl(q, k, v, causal, sm_scale)

    @_flash_attn_fwd.register_fake
    def _(q, k, v, causal, sm_scale):
        return (torch.empty_like(q, memory_format=torch.contiguous_format),
                q.new_empty(q.shape[:-1], dtype=_acc(q)))

    @torch.library.custom_op("mini_triton::flash_attn_bwd", mutates_args=())
    def _flash_attn_bwd(do: Tensor, q: Tensor, k: Tensor, v: Tensor, o: Tensor, lse: Tensor, causal: bool,
                        sm_scale: float) -> tuple[Tensor, Tensor, Tensor]:
        return _attn_bwd_impl(do, q, k, v, o, lse, causal, sm_scale)

    @_flash_attn_bwd.register_fake
    def _(do, q, k, v, o, lse, causal, sm_scale):
        return tuple(torch.empty_like(t, memory_format=torch.contiguous_format) for t in (q, k, v))

    def _attn_setup(ctx, inputs, output):
        q, k, v, causal, sm_scale = inputs
        ctx.save_for_backward(q.contiguous(), k.contiguous(), v.contiguous(), output[0], output[1])
        ctx.causal, ctx.sm_scale = causal, sm_scale

    def _attn_backward(ctx, do, _dlse):
        q, k, v, o, lse = ctx.saved_tensors
        dq, dk, dv = torch.ops.mini_triton.flash_attn_bwd(do, q, k, v, o, lse, ctx.causal, ctx.sm_scale)
        return dq, dk, dv, None, None

    torch.library.register_autograd("mini_triton::flash_attn_fwd", _attn_backward, setup_context=_attn_setup)

    @torch.library.custom_op("mini_triton::newton_schulz", mutates_args=())
    def _newton_schulz(g: Tensor, steps: int) -> Tensor:
        return _ns_impl(g, steps)

    @_newton_schulz.register_fake
    def _(g, steps):
        return torch.empty_like(g, memory_format=torch.contiguous_format)


# ------------------------------------------------------------------------------------------------ functional API
def rms_norm(x, weight, eps: float = 1e-6):
    """y = x * rsqrt(mean(x^2, -1) + eps) * weight, through the kernel (custom op where available)."""
    if HAS_CUSTOM_OP:
        return torch.ops.mini_triton.rms_norm_fwd(x, weight, float(eps))[0]
    return _guard("rms_norm", lambda: _llm.rms_norm(x, weight, eps), lambda: rms_norm_torch(x, weight, eps))


def apply_rotary(q, k, cos, sin):
    """Rotate-half RoPE of q (B, S, HQ, D) and k (B, S, HK, D) with (>= S, D // 2) tables; returns (q', k')."""
    if HAS_CUSTOM_OP:
        return torch.ops.mini_triton.rope(q, k, cos, sin, False)
    return _guard("rope", lambda: _llm.apply_rotary(q, k, cos, sin), lambda: apply_rotary_torch(q, k, cos, sin))


def swiglu(a, b):
    """silu(a) * b, elementwise."""
    if HAS_CUSTOM_OP:
        return torch.ops.mini_triton.swiglu_fwd(a, b)
    return _guard("swiglu", lambda: _llm.swiglu(a, b), lambda: swiglu_torch(a, b))


def swiglu_matmul(x, w1, w3):
    """silu(x @ W1) * (x @ W3) over the last axis of x, the gate fused into the matmul kernel's epilogue."""
    if not HAS_CUSTOM_OP:
        return _guard("swiglu_matmul", lambda: _llm.swiglu_matmul(x, w1, w3), lambda: swiglu_matmul_torch(x, w1, w3))
    h = torch.ops.mini_triton.swiglu_matmul_fwd(x.reshape(-1, x.shape[-1]), w1, w3)[0]
    return h.reshape(*x.shape[:-1], w1.shape[1])


def flash_attention(q, k, v, causal: bool = True, sm_scale=None):
    """softmax(sm_scale q k^T [causal]) v over (B, H, S, D); sm_scale defaults to 1 / sqrt(D)."""
    if sm_scale is None:
        sm_scale = 1.0 / math.sqrt(q.shape[-1])
    if HAS_CUSTOM_OP:
        return torch.ops.mini_triton.flash_attn_fwd(q, k, v, bool(causal), float(sm_scale))[0]
    return _guard("flash_attention", lambda: _attn.flash_attention(q, k, v, causal, sm_scale),
                  lambda: attention_torch(q, k, v, causal, sm_scale))


def newton_schulz(g, steps: int = 5):
    """Muon's Newton-Schulz orthogonalisation of a 2-D g through the gram / matmul-epilogue kernels."""
    with torch.no_grad():
        if HAS_CUSTOM_OP:
            return torch.ops.mini_triton.newton_schulz(g, int(steps))
        return _ns_impl(g, steps)
