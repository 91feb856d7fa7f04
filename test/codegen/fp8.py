# fp8 (Triton's float8e4nv = e4m3fn and float8e5 = e5m2): one-byte elements computed in f32
# (device/types.cuh mt::f8e4m3 / mt::f8e5m2, rounding to nearest even with saturation to the largest finite
# value, as cvt.rn.satfinite); a dot of fp8 operands is an fp16 dot of their exact fp16 values. Compiles for
# sm_90a (wgmma) and sm_80; unittests/cuda/HostEmulationTest.cpp runs both kernels against the interpreter.
# RUN: %mtc %s -k convert x_ptr=*fp32:1024 y_ptr=*f8e4m3:1024 z_ptr=*f8e5m2:1024 w_ptr=*fp32:1024 N=256 --emit=ir | FileCheck %s --check-prefix=IR
# RUN: %mtc %s -k convert x_ptr=*fp32:1024 y_ptr=*f8e4m3:1024 z_ptr=*f8e5m2:1024 w_ptr=*fp32:1024 N=256 --emit=cuda --no-line-directives > %t.cvt.cu
# RUN: %mtc %s -k fp8_dot a_ptr=*f8e4m3:4096 b_ptr=*f8e5m2:4096 c_ptr=*f8e4m3:4096 M=64 N=64 K=64 --emit=ir | FileCheck %s --check-prefix=DOT
# RUN: %mtc %s -k fp8_dot a_ptr=*f8e4m3:4096 b_ptr=*f8e5m2:4096 c_ptr=*f8e4m3:4096 M=64 N=64 K=64 --emit=cuda --wgmma --no-line-directives > %t.dot.cu
# RUN: FileCheck %s --check-prefix=CUDA < %t.cvt.cu
# RUN: %if nvcc %{ rm -rf %t.inc && mkdir -p %t.inc && ln -s %S/../../device %t.inc/mt %}
# RUN: %if nvcc %{ %nvcc -arch=sm_90a -cubin -std=c++17 -I%t.inc %t.cvt.cu -o %t.cvt.cubin %}
# RUN: %if nvcc %{ %nvcc -arch=sm_80 -cubin -std=c++17 -I%t.inc %t.cvt.cu -o %t.cvt80.cubin %}
# RUN: %if nvcc %{ %nvcc -arch=sm_90a -cubin -std=c++17 -I%t.inc %t.dot.cu -o %t.dot.cubin %}
# IR: cast {{.*}} : tensor<256xf8e4m3>
# IR: cast {{.*}} : tensor<256xf8e5m2>
# DOT: cast {{.*}} : tensor<64x64xf16>
# DOT: cast {{.*}} : tensor<64x64xf16>
# DOT: dot {{.*}} : tensor<64x64xf32>
# CUDA: mt::cvt<mt::f8e4m3>(
import triton
import triton.language as tl


@triton.jit
def convert(x_ptr, y_ptr, z_ptr, w_ptr, N: tl.constexpr):
    o = tl.arange(0, N)
    x = tl.load(x_ptr + o)
    tl.store(y_ptr + o, x.to(tl.float8e4nv))
    tl.store(z_ptr + o, x.to(tl.float8e5))
    tl.store(w_ptr + o, (x.to(tl.float8e4nv) * 2 + x.to(tl.float8e5)).to(tl.float32))


@triton.jit
def fp8_dot(a_ptr, b_ptr, c_ptr, M: tl.constexpr, N: tl.constexpr, K: tl.constexpr):
    a = tl.load(a_ptr + tl.arange(0, M)[:, None] * K + tl.arange(0, K)[None, :])
    b = tl.load(b_ptr + tl.arange(0, K)[:, None] * N + tl.arange(0, N)[None, :])
    c = tl.dot(a, b)
    tl.store(c_ptr + tl.arange(0, M)[:, None] * N + tl.arange(0, N)[None, :], c.to(tl.float8e4nv))
