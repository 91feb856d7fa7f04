# triton.language.extra.libdevice: each function is one `mathfn` op (BuiltinsLibdevice.cpp), which the CUDA
# backend emits as mt::lib::<fn> (device/libm.cuh) over f32, f64, f16 and 32/64-bit integers; nvcc compiles
# every one of them for sm_90a. Predicates and conversions lower to cmp / cast / bitcast.
# RUN: %mtc %s -k every_f32 x=*fp32:1024 y=*fp32:1024 o=*fp32:1024 --emit=ir | FileCheck %s --check-prefix=IR
# RUN: %mtc %s -k every_f32 x=*fp32:1024 y=*fp32:1024 o=*fp32:1024 --emit=cuda --no-line-directives > %t.f32.cu
# RUN: %mtc %s -k every_f32 x=*fp64:1024 y=*fp64:1024 o=*fp64:1024 --emit=cuda --no-line-directives > %t.f64.cu
# RUN: %mtc %s -k every_f32 x=*fp16:1024 y=*fp16:1024 o=*fp16:1024 --emit=cuda --no-line-directives > %t.f16.cu
# RUN: %mtc %s -k fast x=*fp32:1024 o=*fp32:1024 --emit=cuda --no-line-directives > %t.fast.cu
# RUN: %mtc %s -k ints x=*i32:1024 o=*i32:1024 --emit=cuda --no-line-directives > %t.i32.cu
# RUN: %mtc %s -k ints x=*u64:1024 o=*i32:1024 --emit=cuda --no-line-directives > %t.u64.cu
# RUN: FileCheck %s --check-prefix=CUDA < %t.f32.cu
# RUN: rm -rf %t.inc && mkdir -p %t.inc && ln -s %S/../../device %t.inc/mt
# RUN: %if nvcc %{ %nvcc -arch=sm_90a -cubin -std=c++17 -I%t.inc %t.f32.cu -o %t.f32.cubin %}
# RUN: %if nvcc %{ %nvcc -arch=sm_90a -cubin -std=c++17 -I%t.inc %t.f64.cu -o %t.f64.cubin %}
# RUN: %if nvcc %{ %nvcc -arch=sm_90a -cubin -std=c++17 -I%t.inc %t.f16.cu -o %t.f16.cubin %}
# RUN: %if nvcc %{ %nvcc -arch=sm_90a -cubin -std=c++17 -I%t.inc %t.fast.cu -o %t.fast.cubin %}
# RUN: %if nvcc %{ %nvcc -arch=sm_90a -cubin -std=c++17 -I%t.inc %t.i32.cu -o %t.i32.cubin %}
# RUN: %if nvcc %{ %nvcc -arch=sm_90a -cubin -std=c++17 -I%t.inc %t.u64.cu -o %t.u64.cubin %}
# RUN: not %mtc %s -k bad_int x=*i32:1024 o=*fp32:1024 --emit=ir 2>&1 | FileCheck %s --check-prefix=ERR1
# RUN: not %mtc %s -k bad_fast x=*fp64:1024 o=*fp64:1024 --emit=ir 2>&1 | FileCheck %s --check-prefix=ERR2
# RUN: not %mtc %s -k bad_name x=*fp32:1024 o=*fp32:1024 --emit=ir 2>&1 | FileCheck %s --check-prefix=ERR3
# RUN: not %mtc %s -k bad_rounding x=*fp32:1024 o=*fp32:1024 --emit=ir 2>&1 | FileCheck %s --check-prefix=ERR4
# IR: mathfn{{.*}}fn = "log1p"
# IR: mathfn{{.*}}fn = "erfinv"
# IR: mathfn{{.*}}fn = "atan2"
# CUDA: mt::lib::log1p(
# CUDA: mt::lib::nextafter(
# ERR1: libdevice.py:[[@LINE+59]]:39: error: libdevice.tanh() expects a floating-point tensor, got tensor<128xi32>
# ERR2: libdevice.py:[[@LINE+64]]:44: error: libdevice.fast_expf() expects an fp32 tensor, got tensor<128xf64>
# ERR3: libdevice.py:[[@LINE+69]]:9: error: 'libdevice.byte_perm' is not supported
# ERR4: libdevice.py:[[@LINE+75]]:9: error: libdevice.add_rz() is not supported: directed rounding (rz)
import triton
import triton.language as tl
from triton.language.extra import libdevice


@triton.jit
def every_f32(x, y, o):
    offs = tl.arange(0, 128)
    a = tl.load(x + offs)
    b = tl.load(y + offs)
    r = libdevice.log1p(a) + libdevice.erfinv(a) + libdevice.atan2(a, b)
    for_f = (libdevice.acos(a), libdevice.acosh(a), libdevice.asin(a), libdevice.asinh(a), libdevice.atan(a),
             libdevice.atanh(a), libdevice.cbrt(a), libdevice.ceil(a), libdevice.cos(a), libdevice.cosh(a),
             libdevice.cospi(a), libdevice.erf(a), libdevice.erfc(a), libdevice.erfcinv(a), libdevice.erfcx(a),
             libdevice.exp(a), libdevice.exp10(a), libdevice.exp2(a), libdevice.expm1(a), libdevice.floor(a),
             libdevice.j0(a), libdevice.j1(a), libdevice.lgamma(a), libdevice.log(a), libdevice.log10(a),
             libdevice.log2(a), libdevice.logb(a), libdevice.nearbyint(a), libdevice.normcdf(a),
             libdevice.normcdfinv(a), libdevice.rcbrt(a), libdevice.rcp_rn(a), libdevice.rint(a),
             libdevice.round(a), libdevice.rsqrt(a), libdevice.sin(a), libdevice.sinh(a), libdevice.sinpi(a),
             libdevice.sqrt(a), libdevice.tan(a), libdevice.tanh(a), libdevice.tgamma(a), libdevice.trunc(a),
             libdevice.y0(a), libdevice.y1(a), libdevice.add_rn(a, b), libdevice.copysign(a, b),
             libdevice.fdim(a, b), libdevice.fmod(a, b), libdevice.hypot(a, b), libdevice.mul_rn(a, b),
             libdevice.nextafter(a, b), libdevice.pow(a, b), libdevice.remainder(a, b), libdevice.sub_rn(a, b),
             libdevice.powi(a, 3), libdevice.ldexp(a, offs), libdevice.sqrt_rn(a), libdevice.abs(a),
             libdevice.fma(a, b, a), libdevice.fmax(a, b), libdevice.div_rn(a, b))
    for v in tl.static_range(len(for_f)):
        r += for_f[v]
    r += (libdevice.ilogb(a) + libdevice.isnan(a) + libdevice.isinf(a) + libdevice.signbit(a) +
          libdevice.isfinited(a)).to(r.dtype)
    tl.store(o + offs, r)


@triton.jit
def fast(x, o):
    offs = tl.arange(0, 128)
    a = tl.load(x + offs)
    r = (libdevice.fast_cosf(a) + libdevice.fast_exp10f(a) + libdevice.fast_expf(a) + libdevice.fast_log10f(a) +
         libdevice.fast_log2f(a) + libdevice.fast_logf(a) + libdevice.fast_sinf(a) + libdevice.fast_tanf(a) +
         libdevice.saturatef(a) + libdevice.fast_dividef(a, 3.0) + libdevice.fast_powf(a, a))
    r += libdevice.int_as_float(libdevice.float_as_int(a)) + libdevice.float2int_rn(a).to(tl.float32)
    tl.store(o + offs, r)


@triton.jit
def ints(x, o):
    offs = tl.arange(0, 128)
    a = tl.load(x + offs)
    r = libdevice.clz(a) + libdevice.popc(a) + libdevice.ffs(a)
    r += (libdevice.brev(a) + libdevice.mulhi(a, a)).to(tl.int32)
    tl.store(o + offs, r)


@triton.jit
def bad_int(x, o):
    offs = tl.arange(0, 128)
    tl.store(o + offs, libdevice.tanh(tl.load(x + offs)))


@triton.jit
def bad_fast(x, o):
    offs = tl.arange(0, 128)
    tl.store(o + offs, libdevice.fast_expf(tl.load(x + offs)))


@triton.jit
def bad_name(x, o):
    offs = tl.arange(0, 128)
    r = libdevice.byte_perm(offs, offs, offs)
    tl.store(o + offs, r)


@triton.jit
def bad_rounding(x, o):
    offs = tl.arange(0, 128)
    r = libdevice.add_rz(tl.load(x + offs), 1.0)
    tl.store(o + offs, r)
