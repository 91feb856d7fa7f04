"""Row-wise argmax: out[r] = the index of the largest element of row r (the first one on ties)."""
# mtc-run: argmax_kernel x_ptr=*fp32:3700 out_ptr=*i32:37 stride=i32:100 n_cols=i32:100 BLOCK=128 grid=37
import triton
import triton.language as tl


@triton.jit
def argmax_kernel(x_ptr, out_ptr, stride, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + row * stride + cols, mask=cols < n_cols, other=-float("inf"))
    idx = tl.argmax(x, axis=0)
    tl.store(out_ptr + row, idx)
