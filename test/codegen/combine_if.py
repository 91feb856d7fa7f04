# A combine_fn with Python control flow (an argmax that keeps the smaller index on ties, as an if / elif /
# else on its scalar arguments) in tl.reduce and tl.associative_scan: the region holds a scalar `if`, which the
# CUDA backend emits as C++ control flow in the combine code (only memory effects are refused there). nvcc
# compiles it for sm_90a; unittests/cuda/HostEmulationTest.cpp runs it against a plain loop.
# RUN: %mtc %s -k k x_ptr=*fp32:64 v_ptr=*fp32:65 i_ptr=*i32:65 N=64 | FileCheck %s
# RUN: %mtc %s -k k x_ptr=*fp32:64 v_ptr=*fp32:65 i_ptr=*i32:65 N=64 --emit=cuda --no-line-directives > %t.cu
# RUN: %if nvcc %{ rm -rf %t.inc && mkdir -p %t.inc && ln -s %S/../../device %t.inc/mt %}
# RUN: %if nvcc %{ %nvcc -arch=sm_90a -cubin -std=c++17 -I%t.inc %t.cu -o %t.cubin %}
import triton
import triton.language as tl


@triton.jit
def pick(a, ia, b, ib):
    if a > b:
        return a, ia
    elif a == b:
        return a, tl.minimum(ia, ib)
    else:
        return b, ib


@triton.jit
def k(x_ptr, v_ptr, i_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    x = tl.load(x_ptr + offs)
    v, i = tl.reduce((x, offs), 0, pick)
    tl.store(v_ptr, v)
    tl.store(i_ptr, i)
    c, ci = tl.associative_scan((x, offs), 0, pick)
    tl.store(v_ptr + 1 + offs, c)
    tl.store(i_ptr + 1 + offs, ci)

# CHECK: reduce
# CHECK: if
# CHECK: scan
# CHECK: if
