# Integers as pointers: `.to(tl.pointer_type(...))` of an int64 (an address, as in Triton's grouped GEMM) is a
# `cast` to a pointer type, and `ptr.to(tl.int64)` a cast back; the CUDA is a reinterpret_cast through u64 and
# compiles for sm_90a. Any other integer width is a located error.
# RUN: %mtc %s -k k table=*i64:4 out=*i64:64 | FileCheck %s
# RUN: %mtc %s -k k table=*i64:4 out=*i64:64 --emit=cuda --no-line-directives > %t.cu
# RUN: FileCheck %s --check-prefix=CUDA < %t.cu
# RUN: %if nvcc %{ rm -rf %t.inc && mkdir -p %t.inc && ln -s %S/../../device %t.inc/mt %}
# RUN: %if nvcc %{ %nvcc -arch=sm_90a -cubin -std=c++17 -I%t.inc %t.cu -o %t.cubin %}
# RUN: not %mtc %s -k bad table=*i32:4 2>&1 | FileCheck %s --check-prefix=ERR
import triton
import triton.language as tl


@triton.jit
def k(table, out):
    p = tl.load(table + tl.program_id(0)).to(tl.pointer_type(tl.float32))
    offs = tl.arange(0, 64)
    tl.store(p + offs, tl.load(p + offs) + 1)
    tl.store(out + offs, (p + offs).to(tl.int64))


@triton.jit
def bad(table):
    p = tl.load(table).to(tl.pointer_type(tl.float32))
    tl.store(p, 1.0)

# CHECK: [[A:%[0-9]+]] = load {{.*}} : i64
# CHECK-NEXT: [[P:%[0-9]+]] = cast [[A]] : ptr<f32>
# CHECK: cast {{.*}} : tensor<64xi64>
# CUDA: reinterpret_cast<mt::f32 *>((mt::u64)
# CUDA: (mt::i64)reinterpret_cast<mt::u64>(
# ERR: int_pointers.py:[[@LINE-8]]:9: error: only pointers and 64-bit integers (addresses) can be cast to a pointer type, got i32
