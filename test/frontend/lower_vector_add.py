# Lowering of the Triton tutorial's vector add.
# RUN: %mtc %s -k add_kernel --emit=ir x_ptr='*fp32' y_ptr='*fp32' out_ptr='*fp32' n=i32 BLOCK=256 | FileCheck %s --check-prefix=IR
import triton
import triton.language as tl


@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    pid = tl.program_id(axis=0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    y = tl.load(y_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, x + y, mask=mask)

# IR-LABEL: func @add_kernel(%x_ptr: ptr<f32>, %y_ptr: ptr<f32>, %out_ptr: ptr<f32>, %n: i32)
# IR: %[[PID:.*]] = program_id {axis = 0} : i32
# IR: %[[RANGE:.*]] = make_range {end = 256, start = 0} : tensor<256xi32>
# IR: %[[MASK:.*]] = cmp %{{.*}}, %{{.*}} {pred = "lt"} : tensor<256xi1>
# IR: %[[X:.*]] = load %{{.*}}, %[[MASK]] : tensor<256xf32>
# IR: %[[Y:.*]] = load %{{.*}}, %[[MASK]] : tensor<256xf32>
# IR: %[[SUM:.*]] = add %[[X]], %[[Y]] : tensor<256xf32>
# IR: store %{{.*}}, %[[SUM]], %[[MASK]]
# IR-NEXT: return

