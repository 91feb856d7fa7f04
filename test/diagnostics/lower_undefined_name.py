# RUN: not %mtc %s -k k --emit=ir x_ptr='*fp32' BLOCK=64 2>&1 | FileCheck %s --strict-whitespace
import triton
import triton.language as tl


@triton.jit
def k(x_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.store(x_ptr + offs, y)
# CHECK: lower_undefined_name.py:[[@LINE-1]]:28: error: name 'y' is not defined
# CHECK-NEXT: {{^}}    tl.store(x_ptr + offs, y)
# CHECK-NEXT: {{^}}                           ^
