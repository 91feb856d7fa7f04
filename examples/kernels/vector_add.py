"""Element-wise addition of two vectors: out[i] = x[i] + y[i] (Triton tutorial 01)."""
# mtc-run: add_kernel x_ptr=*fp32:1000 y_ptr=*fp32:1000 out_ptr=*fp32:1000 n_elements=i32:1000 BLOCK_SIZE=256 grid=4
import triton
import triton.language as tl


@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n_elements, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(axis=0)
    block_start = pid * BLOCK_SIZE
    offsets = block_start + tl.arange(0, BLOCK_SIZE)
    # The last program instance may run past the end: mask its tail.
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask)
    y = tl.load(y_ptr + offsets, mask=mask)
    output = x + y
    tl.store(out_ptr + offsets, output, mask=mask)
