"""Atomic read-modify-write: a histogram (tl.atomic_add) and a global maximum (tl.atomic_max)."""
# mtc-run: histogram_kernel x_ptr=*i32:1000 hist_ptr=*i32:16 n=i32:1000 NUM_BINS=16 BLOCK=128 grid=8
# mtc-run: global_max_kernel x_ptr=*fp32:1000 out_ptr=*fp32:1 n=i32:1000 BLOCK=128 grid=8
import triton
import triton.language as tl


@triton.jit
def histogram_kernel(x_ptr, hist_ptr, n, NUM_BINS: tl.constexpr, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask, other=0)
    bins = x % NUM_BINS
    # Several lanes of one tile may hit the same bin: each one counts.
    tl.atomic_add(hist_ptr + bins, 1, mask=mask)


@triton.jit
def global_max_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs, mask=offs < n, other=-float("inf"))
    tl.atomic_max(out_ptr, tl.max(x, axis=0))
