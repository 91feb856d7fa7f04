// mt/libm.cuh — the `mathfn` op's library functions (lib/ir/MathFns.def), as mt::lib::<name>.
//
// Triton's libdevice names over the CUDA math library: f32 and f64 natively, f16/bf16 through f32 (rounded
// back once); the fast_* functions and saturatef are f32 only (the GPU's approximate MUFU forms); the integer
// functions take 32- or 64-bit integers. The host build (tests) gets the CUDA-only ones from host_shim.h.
#pragma once

#include "mt/types.cuh"

namespace mt::lib {

#define MT_LIBM1(name, f32fn, f64fn)                                                                         \
  template <typename T> __device__ __forceinline__ T name(T a) {                                             \
    static_assert(isFloat<T>, "mt::lib::" #name " needs a floating-point operand");                          \
    if constexpr (isHalf<T>)                                                                                 \
      return cvt<T>(::f32fn(toF32(a)));                                                                      \
    else if constexpr (same<T, f32>)                                                                         \
      return ::f32fn(a);                                                                                     \
    else                                                                                                     \
      return ::f64fn(a);                                                                                     \
  }
#define MT_LIBM2(name, f32fn, f64fn)                                                                         \
  template <typename T> __device__ __forceinline__ T name(T a, T b) {                                        \
    static_assert(isFloat<T>, "mt::lib::" #name " needs floating-point operands");                           \
    if constexpr (isHalf<T>)                                                                                 \
      return cvt<T>(::f32fn(toF32(a), toF32(b)));                                                            \
    else if constexpr (same<T, f32>)                                                                         \
      return ::f32fn(a, b);                                                                                  \
    else                                                                                                     \
      return ::f64fn(a, b);                                                                                  \
  }
MT_LIBM1(acos, acosf, acos)
MT_LIBM1(acosh, acoshf, acosh)
MT_LIBM1(asin, asinf, asin)
MT_LIBM1(asinh, asinhf, asinh)
MT_LIBM1(atan, atanf, atan)
MT_LIBM1(atanh, atanhf, atanh)
MT_LIBM1(cbrt, cbrtf, cbrt)
MT_LIBM1(ceil, ceilf, ceil)
MT_LIBM1(cos, cosf, cos)
MT_LIBM1(cosh, coshf, cosh)
MT_LIBM1(cospi, cospif, cospi)
MT_LIBM1(erf, erff, erf)
MT_LIBM1(erfc, erfcf, erfc)
MT_LIBM1(erfcinv, erfcinvf, erfcinv)
MT_LIBM1(erfcx, erfcxf, erfcx)
MT_LIBM1(erfinv, erfinvf, erfinv)
MT_LIBM1(exp, expf, exp)
MT_LIBM1(exp10, exp10f, exp10)
MT_LIBM1(exp2, exp2f, exp2)
MT_LIBM1(expm1, expm1f, expm1)
MT_LIBM1(floor, floorf, floor)
MT_LIBM1(j0, j0f, j0)
MT_LIBM1(j1, j1f, j1)
MT_LIBM1(lgamma, lgammaf, lgamma)
MT_LIBM1(log, logf, log)
MT_LIBM1(log10, log10f, log10)
MT_LIBM1(log1p, log1pf, log1p)
MT_LIBM1(log2, log2f, log2)
MT_LIBM1(logb, logbf, logb)
MT_LIBM1(nearbyint, nearbyintf, nearbyint)
MT_LIBM1(normcdf, normcdff, normcdf)
MT_LIBM1(normcdfinv, normcdfinvf, normcdfinv)
MT_LIBM1(rcbrt, rcbrtf, rcbrt)
MT_LIBM1(rcp_rn, __frcp_rn, __drcp_rn)
MT_LIBM1(rint, rintf, rint)
MT_LIBM1(round, roundf, round)
MT_LIBM1(rsqrt, rsqrtf, rsqrt)
MT_LIBM1(sin, sinf, sin)
MT_LIBM1(sinh, sinhf, sinh)
MT_LIBM1(sinpi, sinpif, sinpi)
MT_LIBM1(sqrt, sqrtf, sqrt)
MT_LIBM1(tan, tanf, tan)
MT_LIBM1(tanh, tanhf, tanh)
MT_LIBM1(tgamma, tgammaf, tgamma)
MT_LIBM1(trunc, truncf, trunc)
MT_LIBM1(y0, y0f, y0)
MT_LIBM1(y1, y1f, y1)
MT_LIBM2(add_rn, __fadd_rn, __dadd_rn)
MT_LIBM2(atan2, atan2f, atan2)
MT_LIBM2(copysign, copysignf, copysign)
MT_LIBM2(fdim, fdimf, fdim)
MT_LIBM2(fmod, fmodf, fmod)
MT_LIBM2(hypot, hypotf, hypot)
MT_LIBM2(mul_rn, __fmul_rn, __dmul_rn)
MT_LIBM2(nextafter, nextafterf, nextafter)
MT_LIBM2(pow, powf, pow)
MT_LIBM2(remainder, remainderf, remainder)
#undef MT_LIBM1
#undef MT_LIBM2

/// ilogb: the unbiased exponent as an i32 (INT_MIN for 0 and NaN, INT_MAX for infinities, as CUDA's).
template <typename T> __device__ __forceinline__ i32 ilogb(T a) {
  if constexpr (same<T, f64>)
    return ::ilogb(a);
  else if constexpr (same<T, f32>)
    return ::ilogbf(a);
  else
    return ::ilogbf(toF32(a));
}
/// ldexp with the exponent given as a float of the operand's type (the frontend casts libdevice's int).
template <typename T> __device__ __forceinline__ T ldexp(T a, T e) {
  if constexpr (same<T, f64>)
    return ::ldexp(a, (int)::fmax(::fmin(e, 1e5), -1e5));
  else if constexpr (same<T, f32>)
    return ::ldexpf(a, (int)::fmaxf(::fminf(e, 1e5f), -1e5f));
  else
    return cvt<T>(::ldexpf(toF32(a), (int)::fmaxf(::fminf(toF32(e), 1e5f), -1e5f)));
}

// ---- f32 only ----
__device__ __forceinline__ f32 fast_cosf(f32 a) { return __cosf(a); }
__device__ __forceinline__ f32 fast_exp10f(f32 a) { return __exp10f(a); }
__device__ __forceinline__ f32 fast_expf(f32 a) { return __expf(a); }
__device__ __forceinline__ f32 fast_log10f(f32 a) { return __log10f(a); }
__device__ __forceinline__ f32 fast_log2f(f32 a) { return __log2f(a); }
__device__ __forceinline__ f32 fast_logf(f32 a) { return __logf(a); }
__device__ __forceinline__ f32 fast_sinf(f32 a) { return __sinf(a); }
__device__ __forceinline__ f32 fast_tanf(f32 a) { return __tanf(a); }
__device__ __forceinline__ f32 saturatef(f32 a) { return __saturatef(a); }
__device__ __forceinline__ f32 fast_dividef(f32 a, f32 b) { return __fdividef(a, b); }
__device__ __forceinline__ f32 fast_powf(f32 a, f32 b) { return __powf(a, b); }

// ---- Integers (32 and 64 bits) ----
template <typename T> __device__ __forceinline__ T brev(T a) {
  if constexpr (sizeof(T) == 4)
    return T(__brev((unsigned int)a));
  else
    return T(__brevll((unsigned long long)a));
}
template <typename T> __device__ __forceinline__ i32 clz(T a) {
  if constexpr (sizeof(T) == 4)
    return __clz((int)a);
  else
    return __clzll((long long)a);
}
template <typename T> __device__ __forceinline__ i32 ffs(T a) {
  if constexpr (sizeof(T) == 4)
    return __ffs((int)a);
  else
    return __ffsll((long long)a);
}
template <typename T> __device__ __forceinline__ i32 popc(T a) {
  if constexpr (sizeof(T) == 4)
    return __popc((unsigned int)a);
  else
    return __popcll((unsigned long long)a);
}
/// The high half of the double-width product, signed or unsigned as T.
template <typename T> __device__ __forceinline__ T mulhi(T a, T b) {
  if constexpr (sizeof(T) == 4 && isSignedInt<T>)
    return T(__mulhi((int)a, (int)b));
  else if constexpr (sizeof(T) == 4)
    return T(__umulhi((unsigned int)a, (unsigned int)b));
  else if constexpr (isSignedInt<T>)
    return T(__mul64hi((long long)a, (long long)b));
  else
    return T(__umul64hi((unsigned long long)a, (unsigned long long)b));
}

} // namespace mt::lib
