# RUN: not %mtc %s -k k --emit=ir x_ptr='*fp32' 2>&1 | FileCheck %s
import triton
import triton.language as tl


@triton.jit
def k(x_ptr):
    a = tl.arange(0, 16)
    b = tl.arange(0, 32)
    tl.store(x_ptr + a, a + b)
# CHECK: lower_shape_mismatch.py:[[@LINE-1]]:25: error: incompatible shapes for broadcasting: [16] and [32]
