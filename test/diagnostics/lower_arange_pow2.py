# RUN: not %mtc %s -k k --emit=ir x_ptr='*fp32' BLOCK=48 2>&1 | FileCheck %s
import triton
import triton.language as tl


@triton.jit
def k(x_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
# CHECK: lower_arange_pow2.py:[[@LINE-1]]:12: error: arange's range must be a power of 2, got 48
    tl.store(x_ptr + offs, 1.0)
