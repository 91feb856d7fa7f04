# tl.extra.cuda.globaltimer() / smid(): `read_sreg` ops (not merged by CSE: each read is its own value), emitted
# as mt::globaltimer() / mt::smid() (mov from %globaltimer / %smid); nvcc compiles them for sm_90a.
# RUN: %mtc %s -k k out=*i64:4 | FileCheck %s
# RUN: %mtc %s -k k out=*i64:4 --emit=cuda --no-line-directives > %t.cu
# RUN: FileCheck %s --check-prefix=CUDA < %t.cu
# RUN: %if nvcc %{ rm -rf %t.inc && mkdir -p %t.inc && ln -s %S/../../device %t.inc/mt %}
# RUN: %if nvcc %{ %nvcc -arch=sm_90a -cubin -std=c++17 -I%t.inc %t.cu -o %t.cubin %}
import triton
import triton.language as tl


@triton.jit
def k(out):
    t0 = tl.extra.cuda.globaltimer()
    t1 = tl.extra.cuda.globaltimer()
    tl.store(out, t0)
    tl.store(out + 1, t1)
    tl.store(out + 2, tl.extra.cuda.smid().to(tl.int64))

# CHECK: [[T0:%[0-9]+]] = read_sreg {reg = "globaltimer"} : i64
# CHECK-NEXT: [[T1:%[0-9]+]] = read_sreg {reg = "globaltimer"} : i64
# CHECK: read_sreg {reg = "smid"} : i32
# CUDA: mt::globaltimer()
# CUDA: mt::globaltimer()
# CUDA: mt::smid()
