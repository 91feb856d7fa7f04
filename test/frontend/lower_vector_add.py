# RUN: %mtc %s -k add_kernel --emit=ir x_ptr='*fp32:1024' y_ptr='*fp32:1024' out_ptr='*fp32:1024' n=i32:1000 BLOCK=256 | FileCheck %s
# RUN: %mtc %s -k add_kernel --emit=ir --print-locations x_ptr='*fp16:1024' y_ptr='*fp32:1024' out_ptr='*fp16:1024' n=i32:1000 BLOCK=256 | FileCheck %s --check-prefix=MIXED
import triton
import triton.language as tl


@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    pid = tl.program_id(axis=0)
    offsets = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n
    x = tl.load(x_ptr + offsets, mask=mask)
    y = tl.load(y_ptr + offsets, mask=mask)
    tl.store(out_ptr + offsets, x + y, mask=mask)

# CHECK-LABEL: func @add_kernel(%x_ptr: ptr<f32>, %y_ptr: ptr<f32>, %out_ptr: ptr<f32>, %n: i32)
# CHECK: %[[PID:.*]] = program_id {axis = 0} : i32
# CHECK: %[[C:.*]] = constant {value = 256} : i32
# CHECK: %[[START:.*]] = mul %[[PID]], %[[C]] : i32
# CHECK: %[[RANGE:.*]] = make_range {end = 256, start = 0} : tensor<256xi32>
# CHECK: %[[SPLAT:.*]] = splat %[[START]] : tensor<256xi32>
# CHECK: %[[OFFS:.*]] = add %[[SPLAT]], %[[RANGE]] : tensor<256xi32>
# CHECK: cmp %[[OFFS]], %{{.*}} {pred = "lt"} : tensor<256xi1>
# CHECK: load %{{.*}}, %{{.*}} : tensor<256xf32>
# CHECK: load %{{.*}}, %{{.*}} : tensor<256xf32>
# CHECK: %[[SUM:.*]] = add %{{.*}}, %{{.*}} : tensor<256xf32>
# CHECK: store %{{.*}}, %[[SUM]], %{{.*}}
# CHECK-NEXT: return

# f16 + f32 promotes to f32; the store casts back to the pointee f16.
# MIXED: load {{.*}} : tensor<256xf16> loc("{{.*}}lower_vector_add.py":12:9)
# MIXED: cast {{.*}} : tensor<256xf32> loc("{{.*}}lower_vector_add.py":14:33)
# MIXED: add {{.*}} : tensor<256xf32> loc("{{.*}}lower_vector_add.py":14:33)
# MIXED: cast {{.*}} : tensor<256xf16> loc("{{.*}}lower_vector_add.py":14:5)
# MIXED: store
