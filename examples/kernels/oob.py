"""Buggy kernels, for the out-of-bounds diagnostics of the interpreter. Do not copy these."""
# The bugs stay hidden at sizes where they do not trigger (n a multiple of BLOCK, small strides):
# mtc-run: copy_forgot_mask src_ptr=*fp32:1024 dst_ptr=*fp32:1024 n=i32:1024 BLOCK=256 grid=4
# mtc-run: scatter_rows_i32_overflow src_ptr=*fp32:10 dst_ptr=*fp32:64 stride=i32:16 n_cols=i32:10 BLOCK=16 grid=4
import triton
import triton.language as tl


@triton.jit
def copy_forgot_mask(src_ptr, dst_ptr, n, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    x = tl.load(src_ptr + offs, mask=offs < n, other=0.0)
    tl.store(dst_ptr + offs, x)  # BUG: no mask, the last program writes past n


@triton.jit
def scatter_rows_i32_overflow(src_ptr, dst_ptr, stride, n_cols, BLOCK: tl.constexpr):
    # Copies one row of src into row `pid` of dst, tagged with pid. BUG: with an int32 stride,
    # pid * stride is computed in int32 and wraps once it passes 2**31 (pid = 4 with stride = 2**30
    # lands on row 0). Triton users write `pid.to(tl.int64) * stride` for such tensors.
    pid = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(src_ptr + cols, mask=mask)
    tl.store(dst_ptr + pid * stride + cols, x + pid, mask=mask)
