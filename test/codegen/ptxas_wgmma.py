# ptxas keeps the tutorial matmul's warpgroup MMAs in flight (no C7514 "wgmma.mma_async instructions are
# serialized" report) at both tile widths the autotuner tries on 8 warps, N = 128 (4 stages) and N = 256
# (3 stages): the epilogue converts the f32 accumulators to bf16 two at a time (types.cuh cvtPair); one at
# a time made ptxas serialize every wgmma of the loop at N = 128.
# REQUIRES: nvcc
# RUN: rm -rf %t.inc && mkdir -p %t.inc && ln -s %S/../../device %t.inc/mt
# RUN: %mtc %S/../../examples/kernels/matmul.py -k matmul_kernel a_ptr=*bf16:16777216 b_ptr=*bf16:16777216 c_ptr=*bf16:16777216 M=4096 N=4096 K=4096 stride_am=4096 stride_ak=1 stride_bk=4096 stride_bn=1 stride_cm=4096 stride_cn=1 BLOCK_SIZE_M=128 BLOCK_SIZE_N=128 BLOCK_SIZE_K=64 GROUP_SIZE_M=8 OUTPUT_FP16=False --num-warps 8 --num-stages 4 --wgmma --emit=cuda --no-line-directives > %t.n128.cu
# RUN: FileCheck %s --check-prefix=SRC < %t.n128.cu
# RUN: %nvcc -arch=sm_90a -cubin -std=c++17 -I%t.inc -Xptxas -v %t.n128.cu -o %t.n128.cubin 2>&1 | FileCheck %s --implicit-check-not=C7514
# RUN: %mtc %S/../../examples/kernels/matmul.py -k matmul_kernel a_ptr=*bf16:16777216 b_ptr=*bf16:16777216 c_ptr=*bf16:16777216 M=4096 N=4096 K=4096 stride_am=4096 stride_ak=1 stride_bk=4096 stride_bn=1 stride_cm=4096 stride_cn=1 BLOCK_SIZE_M=128 BLOCK_SIZE_N=256 BLOCK_SIZE_K=64 GROUP_SIZE_M=8 OUTPUT_FP16=False --num-warps 8 --num-stages 3 --wgmma --emit=cuda --no-line-directives > %t.n256.cu
# RUN: %nvcc -arch=sm_90a -cubin -std=c++17 -I%t.inc -Xptxas -v %t.n256.cu -o %t.n256.cubin 2>&1 | FileCheck %s --implicit-check-not=C7514
# The products stay in flight (one more ring slot than stages) and the conversion goes by pairs:
# SRC: mt::wgmmaWait<1>(
# SRC: mt::cvtPair(
# CHECK: Compiling entry function 'matmul_kernel' for 'sm_90a'
# CHECK: Used {{[0-9]+}} registers
