# RUN: not %mtc %s -k k --emit=ir x_ptr='*fp32' BLOCK=48 2>&1 | FileCheck %s
# RUN: %mtc %s -k k --emit=ir x_ptr='*fp32' BLOCK=64 | FileCheck %s --check-prefix=OK
import triton
import triton.language as tl


@triton.jit
def k(x_ptr, BLOCK: tl.constexpr):
    tl.static_assert(BLOCK % 32 == 0, "BLOCK must be a multiple of 32")
# CHECK: lower_static_assert.py:[[@LINE-1]]:5: error: static_assert failed: BLOCK must be a multiple of 32
    tl.store(x_ptr + tl.arange(0, BLOCK), 1.0)
# OK: store
