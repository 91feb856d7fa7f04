# `/` is Triton's fast division on the GPU; tl.div_rn and tl.fdiv(ieee_rounding=True) are IEEE and say so in
# the IR ({rounding = "rn"}, one op after CSE), and the CUDA backend emits mt::divFull vs mt::div for them.
# RUN: %mtc %s -k k x_ptr='*fp32:16' y_ptr='*fp32:16' o_ptr='*fp32:16' BLOCK=16 | FileCheck %s
# RUN: %mtc %s -k k x_ptr='*fp32:16' y_ptr='*fp32:16' o_ptr='*fp32:16' BLOCK=16 --emit=cuda | FileCheck %s --check-prefix=CUDA
# RUN: %mtc %s -k k x_ptr='*fp32:16' y_ptr='*fp32:16' o_ptr='*fp32:16' BLOCK=16 --emit=cuda --num-warps 1 | FileCheck %s --check-prefix=CUDA
import triton
import triton.language as tl


@triton.jit
def k(x_ptr, y_ptr, o_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs)
    y = tl.load(y_ptr + offs)
    tl.store(o_ptr + offs, x / y + tl.div_rn(x, y) + tl.fdiv(x, y, ieee_rounding=True) + tl.fdiv(x, y))

# CHECK: [[FAST:%[0-9]+]] = div [[X:%[0-9]+]], [[Y:%[0-9]+]] : tensor<16xf32>
# CHECK-NEXT: [[RN:%[0-9]+]] = div [[X]], [[Y]] {rounding = "rn"} : tensor<16xf32>
# CHECK-NEXT: add [[FAST]], [[RN]]
# CHECK-NOT: div
# CUDA-DAG: mt::divFull(
# CUDA-DAG: mt::div(
