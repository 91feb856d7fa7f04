# Triton's Philox random numbers: tl.rand lowers to 10 rounds of umulhi / mul / xor on uint32 words
# (BuiltinsRandom.cpp), two umulhi a round. The first round's products of the zero counter words fold away
# (Canonicalize.cpp: umulhi(x, 0) -> 0) and tl.rand reads only the first word, so the words it does not
# need die (the 9th round's first, the 10th's third): 20 - 1 - 2 = 17. The CUDA backend emits mt::umulhi
# (__umulhi), which nvcc compiles for sm_90a.
# RUN: %mtc %s -k dropout x=*fp32:1024 out=*fp32:1024 n=i32:1000 seed=i32:42 --emit=ir-opt | FileCheck %s --check-prefix=IR
# RUN: %mtc %s -k dropout x=*fp32:1024 out=*fp32:1024 n=i32:1000 seed=i32:42 --emit=cuda --no-line-directives > %t.cu
# RUN: FileCheck %s --check-prefix=CUDA < %t.cu
# RUN: %if nvcc %{ rm -rf %t.inc && mkdir -p %t.inc && ln -s %S/../../device %t.inc/mt && %nvcc -arch=sm_90a -cubin -std=c++17 -I%t.inc %t.cu -o %t.cubin %}
# RUN: not %mtc %s -k bad x=*fp32:1024 out=*fp32:1024 --emit=ir 2>&1 | FileCheck %s --check-prefix=ERR
# IR: bitcast {{.*}} : tensor<128xu32>
# IR-COUNT-17: umulhi
# IR-NOT: umulhi
# IR: cast {{.*}} : tensor<128xf32>
# CUDA: mt::umulhi(
# ERR: random.py:[[@LINE+16]]:37: error: tl.rand(): offset must be an integer, got tensor<128xf32>
import triton
import triton.language as tl


@triton.jit
def dropout(x, out, n, seed):
    offs = tl.program_id(0) * 128 + tl.arange(0, 128)
    mask = offs < n
    keep = tl.rand(seed, offs) > 0.25
    tl.store(out + offs, tl.where(keep, tl.load(x + offs, mask=mask) / 0.75, 0.0), mask=mask)


@triton.jit
def bad(x, out):
    offs = tl.arange(0, 128)
    tl.store(out + offs, tl.rand(1, offs.to(tl.float32)))
