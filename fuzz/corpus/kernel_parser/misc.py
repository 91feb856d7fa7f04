import triton
import triton.language as tl
from triton import jit as J, cdiv

BLOCK: tl.constexpr = 1024
EPS = 1e-5

@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n_elements, BLOCK_SIZE: tl.constexpr = 4, ):
    """Adds two vectors."""
    pid = tl.program_id(axis=0)  # comment
    block_start = pid * BLOCK_SIZE
    offsets = block_start + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask, other=0.0)
    y = tl.load(y_ptr + offsets,
                mask=mask)
    a = b = -2**2
    a, b = b, a
    (c, d) = f()
    a //= 3; b **= 2
    if a < b <= c and not d:
        pass
    elif a is not None:
        x = x[:, None] + y[None, :] + z[1:2:3] + w[i, j] + v[::2]
    else:
        return a, b
    for i in range(0, 10, 2):
        continue
    while x in y or z not in w:
        break
    assert x, "msg" 'cat'
    output = x + y if a else 0x1F + 0b11 + 0o7 + 1_000 + .5 + 1. + 1_0.0 + 1e-3
    tl.store(out_ptr + offsets, output, mask=mask)
    return
