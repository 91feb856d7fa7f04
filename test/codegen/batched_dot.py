# A batched tl.dot ([B, M, K] x [B, K, N] + [B, M, N]) is one 2-D dot per batch (BuiltinsReduce.cpp
# batchedDot): the operands' batch dim moved last and split in halves down to single matrices, the results
# joined back. Each dot may then use tensor cores: the wgmma code compiles for sm_90a.
# RUN: %mtc %s -k bmm a_ptr=*fp16:65536 b_ptr=*fp16:65536 c_ptr=*fp32:65536 B=4 M=64 N=64 K=64 --emit=ir | FileCheck %s --check-prefix=IR
# RUN: %mtc %s -k bmm a_ptr=*fp16:65536 b_ptr=*fp16:65536 c_ptr=*fp32:65536 B=4 M=64 N=64 K=64 --emit=cuda --wgmma --no-line-directives > %t.cu
# RUN: %if nvcc %{ rm -rf %t.inc && mkdir -p %t.inc && ln -s %S/../../device %t.inc/mt %}
# RUN: %if nvcc %{ %nvcc -arch=sm_90a -cubin -std=c++17 -I%t.inc %t.cu -o %t.cubin %}
# RUN: not %mtc %s -k bmm a_ptr=*fp16:65536 b_ptr=*fp16:65536 c_ptr=*fp32:65536 B=4 M=8 N=64 K=64 --emit=ir 2>&1 | FileCheck %s --check-prefix=ERR
# IR-COUNT-4: = dot {{.*}} : tensor<64x64xf32>
# IR-NOT: = dot
# ERR: batched_dot.py:[[@LINE+11]]:9: error: tl.dot needs M, N and K of at least 16, got M=8
import triton
import triton.language as tl


@triton.jit
def bmm(a_ptr, b_ptr, c_ptr, B: tl.constexpr, M: tl.constexpr, N: tl.constexpr, K: tl.constexpr):
    bb = tl.arange(0, B)[:, None, None]
    a = tl.load(a_ptr + bb * M * K + tl.arange(0, M)[None, :, None] * K + tl.arange(0, K)[None, None, :])
    b = tl.load(b_ptr + bb * K * N + tl.arange(0, K)[None, :, None] * N + tl.arange(0, N)[None, None, :])
    c_offs = bb * M * N + tl.arange(0, M)[None, :, None] * N + tl.arange(0, N)[None, None, :]
    c = tl.dot(a, b, tl.load(c_ptr + c_offs))
    tl.store(c_ptr + c_offs, c)
