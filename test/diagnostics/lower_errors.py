# RUN: not %mtc %s -k shapes --emit=ir p='*fp32:16' 2>&1 | FileCheck %s --check-prefix=SHAPES
# RUN: not %mtc %s -k carried --emit=ir p='*fp32:16' n=i32:4 2>&1 | FileCheck %s --check-prefix=CARRIED
# RUN: not %mtc %s -k arange --emit=ir p='*fp32:16' 2>&1 | FileCheck %s --check-prefix=ARANGE
import triton
import triton.language as tl


@triton.jit
def shapes(p):
    x = tl.arange(0, 4) + tl.arange(0, 8)

# SHAPES: lower_errors.py:10:9: error: incompatible shapes for broadcasting: [4] and [8]
# SHAPES-NEXT: x = tl.arange(0, 4) + tl.arange(0, 8)
# SHAPES-NEXT: ^


@triton.jit
def carried(p, n):
    acc = 0
    for i in range(n):
        acc = tl.load(p + tl.arange(0, 4))

# CARRIED: lower_errors.py:20:5: error: loop-carried variable 'acc' has initial type i32 but is re-assigned to tensor<4xf32> in the loop


@triton.jit
def arange(p):
    tl.store(p + tl.arange(0, 12), 1.0)

# ARANGE: lower_errors.py:28:18: error: arange's range must be a power of 2, got 12
