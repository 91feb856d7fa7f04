# RUN: not %mtc %s -k k --emit=ir x_ptr='*fp32' BLOCK=64 2>&1 | FileCheck %s
import triton
import triton.language as tl


@triton.jit
def k(x_ptr, BLOCK: tl.constexpr):
    x = tl.load(x_ptr + tl.arange(0, BLOCK))
    tl.store(x_ptr + tl.arange(0, BLOCK), tl.histogramx(x))
# CHECK: lower_unsupported_builtin.py:[[@LINE-1]]:43: error: 'tl.histogramx' is not supported
