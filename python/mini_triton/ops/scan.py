"""Linear-RNN scan: h_t = a_t * h_{t-1} + x_t over the time axis of (B, T, D) tensors, every h_t returned.

    from mini_triton.ops.scan import sequential_rnn_scan, associative_rnn_scan, rnn_scan_ref

    h = sequential_rnn_scan(x, a)            # a `for t` loop per (batch, D-block) program
    h = associative_rnn_scan(x, a, h0)       # tl.associative_scan per time chunk, carry across chunks
    h = associative_rnn_scan(x, a, h0, lookback=True)   # the same, every chunk its own program (the
                                                        # default on a GPU from T = LOOKBACK_MIN_T = 2048)
    h_ref = rnn_scan_ref(x, a, h0)           # pure torch

`x`, `a`: (B, T, D) float16 / bfloat16 / float32 / float64 torch tensors, on the CPU (interpreter) or a CUDA
GPU (or NumPy arrays: then the result is a NumPy array and there is no autograd); `h0`: optional (B, D)
initial state (h_{-1}; 0 when None). The recurrence runs in float32 (float64 when an input is float64); h is
stored in `out_dtype` (default: x's dtype). Both ops are differentiable in x, a and h0 (torch.autograd); the
backward pass is the reverse scan dh_t = dout_t + a_{t+1} dh_{t+1}, dx = dh, da_t = dh_t h_{t-1},
dh0 = a_0 dh_0, run by the same kind of kernel as the forward (sequential loop or chunked associative scan).

Inputs are read through their strides (no copy for views); B * T * D may exceed 2^31 (the kernels form batch
and time offsets in int64; Python ints above int32 reach them as int64 scalars). `kernels=` runs another
build of the same kernel source, e.g. mini_triton.kernels.triton_twin(mini_triton.kernels.scan) under real
Triton; `num_warps=` is passed to the launches.
"""

from __future__ import annotations

import numpy as np
import torch

import mini_triton as triton
from mini_triton.kernels import scan as _k

__all__ = ["sequential_rnn_scan", "associative_rnn_scan", "rnn_scan_ref", "rnn_scan_ref_blocked",
           "RnnScanFunction", "scan_forward", "scan_backward", "use_lookback", "LOOKBACK_MIN_T"]

_FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
_MODES = ("sequential", "chunked", "lookback")
_INT32_MAX = 2**31 - 1


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
        if t.device != x.device:
            raise ValueError(f"{name} is on {t.device}, x on {x.device}: all inputs must be on one device")
    if h0 is not None and tuple(h0.shape) != (x.shape[0], x.shape[2]):
        raise ValueError(f"h0 must be (batch, dim) = {(x.shape[0], x.shape[2])}, got {tuple(h0.shape)}")


def _acc_torch_dtype(*tensors) -> torch.dtype:
    """The recurrence's accumulator dtype: float64 if any input is float64, else float32."""
    return torch.float64 if any(t is not None and t.dtype == torch.float64 for t in tensors) else torch.float32


def _acc(kernels, *tensors):
    """The accumulator dtype as the kernel module's language dtype (mini_triton's or Triton's tl)."""
    return kernels.tl.float64 if _acc_torch_dtype(*tensors) == torch.float64 else kernels.tl.float32


def _chunks(D: int, chunk_t, chunk_d, on_gpu=False):
    """Defaults: 32 columns; 16 time steps per chunk on the CPU, 64 on a GPU (more bytes in flight per program)."""
    chunk_t = (64 if on_gpu else 16) if chunk_t is None else int(chunk_t)
    chunk_d = min(triton.next_power_of_2(D), 32) if chunk_d is None else int(chunk_d)
    if chunk_t < 1 or chunk_d < 1:
        raise ValueError(f"chunk sizes must be positive, got T chunk {chunk_t} and D chunk {chunk_d}")
    return chunk_t, chunk_d


def _tile_fits(t: torch.Tensor, rows: int, cols: int) -> bool:
    """Whether the 32-bit offsets inside one tile, rows * |stride_t| + cols * |stride_d| (padding lanes
    included), fit in int32. Batch and time offsets are 64-bit in the kernels and need no check."""
    st, sd = (0, t.stride(1)) if t.dim() == 2 else t.stride()[1:]
    return rows * abs(st) + cols * abs(sd) <= _INT32_MAX


def _input(t, name: str, rows: int, cols: int):
    """t itself when the kernels can read it through its strides, else a contiguous copy."""
    if t is None or _tile_fits(t, rows, cols):
        return t
    t = t.contiguous()
    if not _tile_fits(t, rows, cols):
        raise ValueError(f"{name}: a tile of {rows} time steps x {cols} columns spans more than 2^31 elements "
                         f"(D = {t.shape[-1]}); use a smaller chunk")
    return t


def _geometry(D: int, mode: str, chunk_t, chunk_d, on_gpu=False):
    """(chunk_t, chunk_d, BLOCK_T, BLOCK_D, programs along D, padded D extent) of a launch; BLOCK_T and the
    padded D extent bound the 32-bit offsets inside one tile."""
    chunk_t, chunk_d = _chunks(D, chunk_t, chunk_d, on_gpu)
    if mode == "sequential":  # BLOCK_T = 0: no time offsets inside a tile (each step's is a 64-bit scalar)
        block_d = triton.next_power_of_2(chunk_d)
        n_d = triton.cdiv(D, block_d)
        return 1, block_d, 0, block_d, n_d, n_d * block_d
    block_t, block_d = triton.next_power_of_2(chunk_t), triton.next_power_of_2(chunk_d)
    n_d = triton.cdiv(D, chunk_d)
    return chunk_t, chunk_d, block_t, block_d, n_d, (n_d - 1) * chunk_d + block_d


def _launch_opts(num_warps, mode, block_d, block_t=0):
    """num_warps as given; by default 4, or one warp per 32 columns for the sequential kernels (whose tile is a
    single row of BLOCK_D columns: more warps would idle), or one warp per 1024 elements of a lookback tile (32
    a thread: the H100's fastest lookback configs, bench/scan_bench.py, were 64 x 32 on 2 warps and 32 x 32 on
    one; 4 warps on 64 x 32 took 25 % longer)."""
    if num_warps is None and mode == "sequential":
        num_warps = max(1, min(8, block_d // 32))
    if num_warps is None and mode == "lookback":
        num_warps = max(1, min(8, block_t * block_d // 1024))
    return {} if num_warps is None else {"num_warps": int(num_warps)}


def _lookback_state(B: int, n_d: int, block_d: int, T: int, chunk_t: int, device):
    """The zeroed ticket counter and carry slots of a "lookback" launch (see rnn_scan_fwd_lookback_kernel),
    and its grid: one program per (time chunk, batch, D-block)."""
    state = torch.zeros(1 + B * n_d * 2 * block_d, dtype=torch.int64, device=device)
    return state, (triton.cdiv(T, chunk_t) * B * n_d,)


def scan_forward(x: torch.Tensor, a: torch.Tensor, h0=None, *, mode: str = "chunked", chunk_t=None, chunk_d=None,
                 out_dtype=None, kernels=None, num_warps=None) -> torch.Tensor:
    """Launches the forward kernel of `mode` ("sequential", "chunked" or "lookback"); returns h (contiguous).
    chunk_d is the D-block of both modes (the sequential kernel rounds it up to a power of two); `kernels` is
    the kernel module (default mini_triton.kernels.scan)."""
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    kernels = kernels or _k
    B, T, D = x.shape
    h = torch.empty((B, T, D), dtype=out_dtype or x.dtype, device=x.device)
    if h.numel() == 0:
        return h
    chunk_t, chunk_d, block_t, block_d, n_d, d_pad = _geometry(D, mode, chunk_t, chunk_d, x.is_cuda)
    x, a = _input(x, "x", block_t, d_pad), _input(a, "a", block_t, d_pad)
    h0 = _input(h0, "h0", 0, d_pad)
    _input(h, "h", block_t, d_pad)  # the output is contiguous: only the check
    acc = _acc(kernels, x, a, h0)
    if mode == "lookback" and acc != kernels.tl.float32:
        mode = "chunked"  # float64 carries: the per-column-block kernel (and its launch defaults)
    h0_arg = h0 if h0 is not None else h  # never read when HAS_H0 is False
    s0 = h0.stride() if h0 is not None else (0, 0)
    args = (x, a, h0_arg, h, T, D, *x.stride(), *a.stride(), *s0)
    if mode == "sequential":
        kernels.rnn_scan_fwd_seq_kernel[(B, n_d)](*args, HAS_H0=h0 is not None, ACC=acc, BLOCK_D=block_d,
                                                  **_launch_opts(num_warps, mode, block_d))
        return h
    consts = dict(HAS_H0=h0 is not None, ACC=acc, CHUNK_T=chunk_t, CHUNK_D=chunk_d, BLOCK_T=block_t,
                  BLOCK_D=block_d, **_launch_opts(num_warps, mode, block_d, block_t))
    if mode == "lookback":
        state, grid = _lookback_state(B, n_d, block_d, T, chunk_t, x.device)
        kernels.rnn_scan_fwd_lookback_kernel[grid](*args[:4], state, T, D, n_d, B * n_d, *args[6:], **consts)
        return h
    kernels.rnn_scan_fwd_chunked_kernel[(B, n_d)](*args, **consts)
    return h


def scan_backward(dout: torch.Tensor, a: torch.Tensor, h: torch.Tensor, h0=None, *, mode: str = "chunked",
                  chunk_t=None, chunk_d=None, x_dtype=None, kernels=None, num_warps=None):
    """Gradients (dx, da, dh0) of sum(dout * h) for h = scan(x, a, h0), given the saved forward states h.
    dx has `x_dtype` (default a's dtype), da a's dtype, dh0 h0's dtype (None without h0); all contiguous."""
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    kernels = kernels or _k
    B, T, D = a.shape
    dx = torch.empty((B, T, D), dtype=x_dtype or a.dtype, device=a.device)
    da = torch.empty((B, T, D), dtype=a.dtype, device=a.device)
    dh0 = torch.zeros((B, D), dtype=h0.dtype, device=h0.device) if h0 is not None else None
    if dx.numel() == 0:
        return dx, da, dh0
    chunk_t, chunk_d, block_t, block_d, n_d, d_pad = _geometry(D, mode, chunk_t, chunk_d, a.is_cuda)
    dout, a = _input(dout, "dout", block_t, d_pad), _input(a, "a", block_t, d_pad)
    h0 = _input(h0, "h0", 0, d_pad)
    h = h.contiguous()
    _input(h, "h", block_t, d_pad)
    acc = _acc(kernels, dout, a, h, h0)
    if mode == "lookback" and acc != kernels.tl.float32:
        mode = "chunked"  # float64 carries: the per-column-block kernel (and its launch defaults)
    h0_arg = h0 if h0 is not None else h
    dh0_arg = dh0 if dh0 is not None else da
    s0 = h0.stride() if h0 is not None else (0, 0)
    args = (dout, a, h, h0_arg, dx, da, dh0_arg, T, D, *dout.stride(), *a.stride(), *s0)
    if mode == "sequential":
        kernels.rnn_scan_bwd_seq_kernel[(B, n_d)](*args, HAS_H0=h0 is not None, ACC=acc, BLOCK_D=block_d,
                                                  **_launch_opts(num_warps, mode, block_d))
        return dx, da, dh0
    consts = dict(HAS_H0=h0 is not None, ACC=acc, CHUNK_T=chunk_t, CHUNK_D=chunk_d, BLOCK_T=block_t,
                  BLOCK_D=block_d, **_launch_opts(num_warps, mode, block_d, block_t))
    if mode == "lookback":
        state, grid = _lookback_state(B, n_d, block_d, T, chunk_t, a.device)
        kernels.rnn_scan_bwd_lookback_kernel[grid](*args[:7], state, T, D, n_d, B * n_d, *args[9:], **consts)
        return dx, da, dh0
    kernels.rnn_scan_bwd_chunked_kernel[(B, n_d)](*args, **consts)
    return dx, da, dh0


class RnnScanFunction(torch.autograd.Function):
    """h = scan(x, a, h0) with gradients for x, a and h0.

    apply(x, a, h0, fwd_mode, bwd_mode, chunk_t, chunk_d, out_dtype, kernels, num_warps); modes are
    "sequential" or "chunked"; kernels / num_warps may be None (defaults). Saves a (as given, strided), h (in
    out_dtype) and h0 for the backward pass.
    """

    @staticmethod
    def forward(ctx, x, a, h0, fwd_mode, bwd_mode, chunk_t, chunk_d, out_dtype, kernels, num_warps):
        h = scan_forward(x, a, h0, mode=fwd_mode, chunk_t=chunk_t, chunk_d=chunk_d, out_dtype=out_dtype,
                         kernels=kernels, num_warps=num_warps)
        ctx.save_for_backward(a, h, h0)
        ctx.cfg = (bwd_mode, chunk_t, chunk_d, x.dtype, kernels, num_warps)
        return h

    @staticmethod
    def backward(ctx, dh):
        a, h, h0 = ctx.saved_tensors
        mode, chunk_t, chunk_d, x_dtype, kernels, num_warps = ctx.cfg
        dx, da, dh0 = scan_backward(dh, a, h, h0, mode=mode, chunk_t=chunk_t, chunk_d=chunk_d, x_dtype=x_dtype,
                                    kernels=kernels, num_warps=num_warps)
        return dx, da, dh0, None, None, None, None, None, None, None


def _run(x, a, h0, fwd_mode, bwd_mode, chunk_t, chunk_d, out_dtype, kernels=None, num_warps=None):
    numpy_in = any(isinstance(v, np.ndarray) for v in (x, a, h0))
    x, a = _as_tensor(x, "x"), _as_tensor(a, "a")
    h0 = None if h0 is None else _as_tensor(h0, "h0")
    _check(x, a, h0)
    if numpy_in:
        return scan_forward(x, a, h0, mode=fwd_mode, chunk_t=chunk_t, chunk_d=chunk_d, out_dtype=out_dtype,
                            kernels=kernels, num_warps=num_warps).numpy()
    return RnnScanFunction.apply(x, a, h0, fwd_mode, bwd_mode, chunk_t, chunk_d, out_dtype, kernels, num_warps)


def sequential_rnn_scan(x, a, h0=None, *, block_d=None, out_dtype=None, kernels=None, num_warps=None):
    """Every hidden state of h_t = a_t * h_{t-1} + x_t (h_{-1} = h0 or 0), shape (B, T, D).

    One program per (batch, BLOCK_D columns) loops over t. block_d: columns per program (rounded up to a
    power of two; default min(next_power_of_2(D), 32)); num_warps defaults to one warp per 32 columns.
    out_dtype: dtype of h (default x's dtype)."""
    return _run(x, a, h0, "sequential", "sequential", None, block_d, out_dtype, kernels, num_warps)


# The sequence length from which lookback=None picks the lookback kernels on a GPU. Measured on the H100
# (bench/scan_bench.py, B=4, D=5120, bf16, 2026-12-07): at T=4096 the default lookback launch (64 x 32 on 2
# warps) took 0.242 ms forward / 0.414 backward against the chunked kernels' best config 0.263 / 0.486 (their
# default, 64 x 32 on 4 warps: 0.362 / 0.512), and from T=8192 on 15-50 % less. Both defaults end to end on
# the H200 (bench/results/2026-12-07-h200-scan_default-session8.txt), forward + backward ms, chunked vs
# lookback: T=1024 0.250 vs 0.287, T=2048 0.372 vs 0.261, T=4096 0.730 vs 0.496. Below 2048, the
# per-column-block kernels (fewer programs, no carry hand-off).
LOOKBACK_MIN_T = 2048


def use_lookback(x, lookback=None, chunk_t=None, chunk_d=None) -> bool:
    """lookback as given, or (None) the default: for (B, T, D) CUDA tensors x with T >= LOOKBACK_MIN_T, unless
    the given chunks make tiles of fewer than 1024 elements (a program per tiny chunk; not measured faster)."""
    if lookback is not None:
        return bool(lookback)
    if chunk_t is not None and chunk_d is not None and int(chunk_t) * int(chunk_d) < 1024:
        return False
    return isinstance(x, torch.Tensor) and x.is_cuda and x.dim() == 3 and x.shape[1] >= LOOKBACK_MIN_T


def associative_rnn_scan(x, a, h0=None, *, chunk_t=None, chunk_d=None, out_dtype=None, kernels=None,
                         num_warps=None, lookback=None):
    """Every hidden state of h_t = a_t * h_{t-1} + x_t (h_{-1} = h0 or 0), shape (B, T, D).

    One program per (batch, chunk_d columns) runs tl.associative_scan over chunks of chunk_t time steps
    (default 16 on the CPU, 64 on a GPU) and carries the last state into the next chunk; the backward pass is
    the reverse chunked scan. Chunk sizes need not be powers of two nor divide T or D.

    lookback=True: one program per (chunk, batch, columns) instead, all chunks scanned at once and only the
    carries passed from program to program (through a small zeroed buffer, in launch order); more programs
    in flight for long T. float64 inputs use the per-column-block kernel either way. lookback=None (default):
    lookback on a GPU for T >= LOOKBACK_MIN_T."""
    mode = "lookback" if use_lookback(x, lookback, chunk_t, chunk_d) else "chunked"
    return _run(x, a, h0, mode, mode, chunk_t, chunk_d, out_dtype, kernels, num_warps)


def rnn_scan_ref(x, a, h0=None):
    """Reference h_t = a_t * h_{t-1} + x_t in plain torch (differentiable), a loop over t.

    Accumulates in float64 when an input is float64, else in float32; returns x's dtype. NumPy inputs give a
    NumPy result."""
    numpy_in = any(isinstance(v, np.ndarray) for v in (x, a, h0))
    x, a = _as_tensor(x, "x"), _as_tensor(a, "a")
    h0 = None if h0 is None else _as_tensor(h0, "h0")
    _check(x, a, h0)
    acc = _acc_torch_dtype(x, a, h0)
    h = h0.to(acc) if h0 is not None else torch.zeros((x.shape[0], x.shape[2]), dtype=acc, device=x.device)
    xs, as_ = x.to(acc), a.to(acc)
    out = []
    for t in range(x.shape[1]):
        h = as_[:, t] * h + xs[:, t]
        out.append(h)
    res = (torch.stack(out, dim=1) if out else torch.zeros(x.shape, dtype=acc, device=x.device)).to(x.dtype)
    return res.numpy() if numpy_in else res


def rnn_scan_ref_blocked(x: torch.Tensor, a: torch.Tensor, h0=None, *, block_t=None) -> torch.Tensor:
    """The same reference for long sequences in about 2 sqrt(T) torch steps (differentiable, any device).

    Time is cut into blocks of block_t steps (default ceil(sqrt(T))); the recurrence runs inside all blocks at
    once from a zero state, carrying the running product P of a along, then sequentially across blocks, and
    h = h_local + P * h_in. Only products and sums (no division), so it is as accurate as the loop; it
    accumulates in float64 when an input is float64, else in float32, and returns the accumulator dtype."""
    _check(x, a, h0)
    acc = _acc_torch_dtype(x, a, h0)
    B, T, D = x.shape
    if T == 0:
        return torch.zeros((B, T, D), dtype=acc, device=x.device)
    L = int(block_t or max(1, int(np.ceil(np.sqrt(T)))))
    n = -(-T // L)
    pad = n * L - T
    xs, as_ = x.to(acc), a.to(acc)
    if pad:
        xs = torch.cat([xs, xs.new_zeros((B, pad, D))], dim=1)
        as_ = torch.cat([as_, as_.new_ones((B, pad, D))], dim=1)
    xs, as_ = xs.view(B, n, L, D), as_.view(B, n, L, D)
    hl, p = xs[:, :, 0], as_[:, :, 0]
    hls, ps = [hl], [p]
    for i in range(1, L):  # inside every block at once
        hl = as_[:, :, i] * hl + xs[:, :, i]
        p = as_[:, :, i] * p
        hls.append(hl)
        ps.append(p)
    hl, p = torch.stack(hls, dim=2), torch.stack(ps, dim=2)  # (B, n, L, D)
    h_in = h0.to(acc) if h0 is not None else xs.new_zeros((B, D))
    ins = []
    for c in range(n):  # across blocks
        ins.append(h_in)
        h_in = p[:, c, L - 1] * h_in + hl[:, c, L - 1]
    h = hl + p * torch.stack(ins, dim=1)[:, :, None, :]
    return h.reshape(B, n * L, D)[:, :T]
