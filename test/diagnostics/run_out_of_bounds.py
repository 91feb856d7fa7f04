# A missing mask: the last program reads past the end. The interpreter reports the load's location, the
# argument, the offset and the program, and the kernel's store for that program never happens.
# RUN: not %mtc %s -k k --run x_ptr='*fp32:1000' out_ptr='*fp32:1000' n=1000 BLOCK=256 --grid 4 2>&1 | FileCheck %s --strict-whitespace
import triton
import triton.language as tl


@triton.jit
def k(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs)
# CHECK: run_out_of_bounds.py:[[@LINE-1]]:9: error: out-of-bounds load from 'x_ptr': element offset 1000 is outside the buffer of 1000 elements (program (3, 0, 0), lane 232)
# CHECK-NEXT: {{^}}    x = tl.load(x_ptr + offs)
# CHECK-NEXT: {{^}}        ^
    tl.store(out_ptr + offs, x * 2, mask=offs < n)
