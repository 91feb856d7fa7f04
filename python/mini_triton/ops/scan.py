"""Linear-RNN scan: h_t = a_t * h_{t-1} + x_t over the time axis of (B, T, D) tensors, every h_t returned.

    from mini_triton.ops.scan import sequential_rnn_scan, associative_rnn_scan, rnn_scan_ref

    h = sequential_rnn_scan(x, a)            # a `for t` loop per (batch, D-block) program
    h = associative_rnn_scan(x, a, h0)       # tl.associative_scan per time chunk, carry across chunks
    h_ref = rnn_scan_ref(x, a, h0)           # pure torch

`x`, `a`: (B, T, D) float16 / bfloat16 / float32 / float64 torch CPU tensors (or NumPy arrays: then the
result is a NumPy array and there is no autograd); `h0`: optional (B, D) initial state (h_{-1}; 0 when None).
The recurrence runs in float32 (float64 when an input is float64); h is stored in `out_dtype` (default: x's
dtype). Both ops are differentiable in x, a and h0 (torch.autograd); the backward pass is the reverse scan
dh_t = dout_t + a_{t+1} dh_{t+1}, dx = dh, da_t = dh_t h_{t-1}, dh0 = a_0 dh_0, run by the same kind of
kernel as the forward (sequential loop or chunked associative scan).
"""

from __future__ import annotations

import numpy as np
import torch

import mini_triton as triton
import mini_triton.language as tl
from mini_triton.kernels import scan as _k

__all__ = ["sequential_rnn_scan", "associative_rnn_scan", "rnn_scan_ref", "RnnScanFunction", "scan_forward",
           "scan_backward"]

_FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
_MODES = ("sequential", "chunked")


def _as_tensor(v, name: str) -> torch.Tensor:
    if isinstance(v, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(v))
    if isinstance(v, torch.Tensor):
        return v
    raise TypeError(f"{name} must be a torch.Tensor or a numpy.ndarray, got {type(v).__name__}")


def _check(x: torch.Tensor, a: torch.Tensor, h0) -> None:
    if x.dim() != 3:
        raise ValueError(f"x must be (batch, time, dim), got shape {tuple(x.shape)}")
    if a.shape != x.shape:
        raise ValueError(f"a must have x's shape {tuple(x.shape)}, got {tuple(a.shape)}")
    tensors = [("x", x), ("a", a)] + ([("h0", h0)] if h0 is not None else [])
    for name, t in tensors:
        if t.dtype not in _FLOAT_DTYPES:
            raise TypeError(f"{name} must be float16, bfloat16, float32 or float64, got {t.dtype}")
    if h0 is not None and tuple(h0.shape) != (x.shape[0], x.shape[2]):
        raise ValueError(f"h0 must be (batch, dim) = {(x.shape[0], x.shape[2])}, got {tuple(h0.shape)}")


def _acc_dtype(*tensors):
    """The kernels' accumulator dtype: float64 if any input is float64, else float32."""
    return tl.float64 if any(t is not None and t.dtype == torch.float64 for t in tensors) else tl.float32


def _chunks(D: int, chunk_t, chunk_d):
    chunk_t = 16 if chunk_t is None else int(chunk_t)
    chunk_d = min(triton.next_power_of_2(D), 32) if chunk_d is None else int(chunk_d)
    if chunk_t < 1 or chunk_d < 1:
        raise ValueError(f"chunk sizes must be positive, got T chunk {chunk_t} and D chunk {chunk_d}")
    return chunk_t, chunk_d


def scan_forward(x: torch.Tensor, a: torch.Tensor, h0=None, *, mode: str = "chunked", chunk_t=None, chunk_d=None,
                 out_dtype=None) -> torch.Tensor:
    """Launches the forward kernel of `mode` ("sequential" or "chunked") on contiguous tensors; returns h.
    chunk_d is the D-block of both modes (the sequential kernel rounds it up to a power of two)."""
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    x, a = x.contiguous(), a.contiguous()
    h0 = None if h0 is None else h0.contiguous()
    B, T, D = x.shape
    h = torch.empty((B, T, D), dtype=out_dtype or x.dtype, device=x.device)
    if h.numel() == 0:
        return h
    chunk_t, chunk_d = _chunks(D, chunk_t, chunk_d)
    acc = _acc_dtype(x, a, h0)
    h0_arg = h0 if h0 is not None else h  # never read when HAS_H0 is False
    if mode == "sequential":
        block_d = triton.next_power_of_2(chunk_d)
        _k.rnn_scan_fwd_seq_kernel[(B, triton.cdiv(D, block_d))](x, a, h0_arg, h, T, D, HAS_H0=h0 is not None,
                                                                 ACC=acc, BLOCK_D=block_d)
        return h
    _k.rnn_scan_fwd_chunked_kernel[(B, triton.cdiv(D, chunk_d))](
        x, a, h0_arg, h, T, D, HAS_H0=h0 is not None, ACC=acc, CHUNK_T=chunk_t, CHUNK_D=chunk_d,
        BLOCK_T=triton.next_power_of_2(chunk_t), BLOCK_D=triton.next_power_of_2(chunk_d))
    return h


def scan_backward(dout: torch.Tensor, a: torch.Tensor, h: torch.Tensor, h0=None, *, mode: str = "chunked",
                  chunk_t=None, chunk_d=None, x_dtype=None):
    """Gradients (dx, da, dh0) of sum(dout * h) for h = scan(x, a, h0), given the saved forward states h.
    dx has `x_dtype` (default a's dtype), da a's dtype, dh0 h0's dtype (None without h0)."""
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    dout, a, h = dout.contiguous(), a.contiguous(), h.contiguous()
    h0 = None if h0 is None else h0.contiguous()
    B, T, D = a.shape
    dx = torch.empty((B, T, D), dtype=x_dtype or a.dtype, device=a.device)
    da = torch.empty_like(a)
    dh0 = torch.zeros_like(h0) if h0 is not None else None
    if dx.numel() == 0:
        return dx, da, dh0
    chunk_t, chunk_d = _chunks(D, chunk_t, chunk_d)
    acc = _acc_dtype(dout, a, h, h0)
    h0_arg = h0 if h0 is not None else h
    dh0_arg = dh0 if dh0 is not None else da
    if mode == "sequential":
        block_d = triton.next_power_of_2(chunk_d)
        _k.rnn_scan_bwd_seq_kernel[(B, triton.cdiv(D, block_d))](
            dout, a, h, h0_arg, dx, da, dh0_arg, T, D, HAS_H0=h0 is not None, ACC=acc, BLOCK_D=block_d)
        return dx, da, dh0
    _k.rnn_scan_bwd_chunked_kernel[(B, triton.cdiv(D, chunk_d))](
        dout, a, h, h0_arg, dx, da, dh0_arg, T, D, HAS_H0=h0 is not None, ACC=acc, CHUNK_T=chunk_t,
        CHUNK_D=chunk_d, BLOCK_T=triton.next_power_of_2(chunk_t), BLOCK_D=triton.next_power_of_2(chunk_d))
    return dx, da, dh0


class RnnScanFunction(torch.autograd.Function):
    """h = scan(x, a, h0) with gradients for x, a and h0.

    apply(x, a, h0, fwd_mode, bwd_mode, chunk_t, chunk_d, out_dtype); modes are "sequential" or "chunked".
    Saves a, h (in out_dtype) and h0 for the backward pass.
    """

    @staticmethod
    def forward(ctx, x, a, h0, fwd_mode, bwd_mode, chunk_t, chunk_d, out_dtype):
        h = scan_forward(x, a, h0, mode=fwd_mode, chunk_t=chunk_t, chunk_d=chunk_d, out_dtype=out_dtype)
        ctx.save_for_backward(a, h, h0)
        ctx.cfg = (bwd_mode, chunk_t, chunk_d, x.dtype)
        return h

    @staticmethod
    def backward(ctx, dh):
        a, h, h0 = ctx.saved_tensors
        mode, chunk_t, chunk_d, x_dtype = ctx.cfg
        dx, da, dh0 = scan_backward(dh, a, h, h0, mode=mode, chunk_t=chunk_t, chunk_d=chunk_d, x_dtype=x_dtype)
        return dx, da, dh0, None, None, None, None, None


def _run(x, a, h0, fwd_mode, bwd_mode, chunk_t, chunk_d, out_dtype):
    numpy_in = any(isinstance(v, np.ndarray) for v in (x, a, h0))
    x, a = _as_tensor(x, "x"), _as_tensor(a, "a")
    h0 = None if h0 is None else _as_tensor(h0, "h0")
    _check(x, a, h0)
    if numpy_in:
        return scan_forward(x, a, h0, mode=fwd_mode, chunk_t=chunk_t, chunk_d=chunk_d, out_dtype=out_dtype).numpy()
    return RnnScanFunction.apply(x, a, h0, fwd_mode, bwd_mode, chunk_t, chunk_d, out_dtype)


def sequential_rnn_scan(x, a, h0=None, *, block_d=None, out_dtype=None):
    """Every hidden state of h_t = a_t * h_{t-1} + x_t (h_{-1} = h0 or 0), shape (B, T, D).

    One program per (batch, BLOCK_D columns) loops over t. block_d: columns per program (rounded up to a
    power of two; default min(next_power_of_2(D), 32)). out_dtype: dtype of h (default x's dtype)."""
    return _run(x, a, h0, "sequential", "sequential", None, block_d, out_dtype)


def associative_rnn_scan(x, a, h0=None, *, chunk_t=None, chunk_d=None, out_dtype=None):
    """Every hidden state of h_t = a_t * h_{t-1} + x_t (h_{-1} = h0 or 0), shape (B, T, D).

    One program per (batch, chunk_d columns) runs tl.associative_scan over chunks of chunk_t time steps
    (default 16) and carries the last state into the next chunk; the backward pass is the reverse chunked
    scan. Chunk sizes need not be powers of two nor divide T or D."""
    return _run(x, a, h0, "chunked", "chunked", chunk_t, chunk_d, out_dtype)


def rnn_scan_ref(x, a, h0=None):
    """Reference h_t = a_t * h_{t-1} + x_t in plain torch (differentiable), a loop over t.

    Accumulates in float64 when an input is float64, else in float32; returns x's dtype. NumPy inputs give a
    NumPy result."""
    numpy_in = any(isinstance(v, np.ndarray) for v in (x, a, h0))
    x, a = _as_tensor(x, "x"), _as_tensor(a, "a")
    h0 = None if h0 is None else _as_tensor(h0, "h0")
    _check(x, a, h0)
    acc = torch.float64 if _acc_dtype(x, a, h0) == tl.float64 else torch.float32
    h = h0.to(acc) if h0 is not None else torch.zeros((x.shape[0], x.shape[2]), dtype=acc, device=x.device)
    xs, as_ = x.to(acc), a.to(acc)
    out = []
    for t in range(x.shape[1]):
        h = as_[:, t] * h + xs[:, t]
        out.append(h)
    res = (torch.stack(out, dim=1) if out else torch.zeros(x.shape, dtype=acc, device=x.device)).to(x.dtype)
    return res.numpy() if numpy_in else res
