// mt/math.cuh — the IR's elementwise ops as small templates over the element types.
//
// One template per op, so the emitter writes `mt::add(a, b)` for every dtype. Rules:
//  - integers wrap (computed in an unsigned type at least as wide: no signed-overflow UB);
//  - f16/bf16 compute in f32 and round the result back once;
//  - max/min on floats follow fmax/fmin: a NaN operand loses;
//  - div on integers truncates, rem takes the sign of the dividend (C semantics, as Ops.def says).
#pragma once

#include "mt/types.cuh"

namespace mt {

#define MT_VIA_F32_BINARY(name)                                                                              \
  if constexpr (isHalf<T>)                                                                                   \
    return cvt<T>(name(toF32(a), toF32(b)));
#define MT_VIA_F32_UNARY(name)                                                                               \
  if constexpr (isHalf<T>)                                                                                   \
    return cvt<T>(name(toF32(a)));

template <typename T> __device__ __forceinline__ T add(T a, T b) {
  MT_VIA_F32_BINARY(add)
  else if constexpr (isInt<T> && !same<T, bool>) return T(Wrap<T>(a) + Wrap<T>(b));
  else return T(a + b);
}
template <typename T> __device__ __forceinline__ T sub(T a, T b) {
  MT_VIA_F32_BINARY(sub)
  else if constexpr (isInt<T> && !same<T, bool>) return T(Wrap<T>(a) - Wrap<T>(b));
  else return T(a - b);
}
template <typename T> __device__ __forceinline__ T mul(T a, T b) {
  MT_VIA_F32_BINARY(mul)
  else if constexpr (isInt<T> && !same<T, bool>) return T(Wrap<T>(a) * Wrap<T>(b));
  else return T(a * b);
}
template <typename T> __device__ __forceinline__ T div(T a, T b) {
  MT_VIA_F32_BINARY(div)
  else return T(a / b);
}
/// Triton's `/` on f32: div.full.f32 (about 2 ulp, full exponent range) on the GPU; f16/bf16 through f32.
template <typename T> __device__ __forceinline__ T divFull(T a, T b) {
  MT_VIA_F32_BINARY(divFull)
  else if constexpr (same<T, f32>) {
#if defined(__CUDA_ARCH__)
    float r;
    asm("div.full.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b));
    return r;
#else
    return a / b;
#endif
  }
  else return T(a / b);
}
template <typename T> __device__ __forceinline__ T rem(T a, T b) {
  MT_VIA_F32_BINARY(rem)
  else if constexpr (same<T, f32>) return ::fmodf(a, b);
  else if constexpr (same<T, f64>) return ::fmod(a, b);
  else return T(a % b);
}
template <typename T> __device__ __forceinline__ T max(T a, T b) {
  MT_VIA_F32_BINARY(max)
  else if constexpr (same<T, f32>) return ::fmaxf(a, b);
  else if constexpr (same<T, f64>) return ::fmax(a, b);
  else return a > b ? a : b;
}
template <typename T> __device__ __forceinline__ T min(T a, T b) {
  MT_VIA_F32_BINARY(min)
  else if constexpr (same<T, f32>) return ::fminf(a, b);
  else if constexpr (same<T, f64>) return ::fmin(a, b);
  else return a < b ? a : b;
}
template <typename T> __device__ __forceinline__ T bitAnd(T a, T b) { return T(a & b); }
template <typename T> __device__ __forceinline__ T bitOr(T a, T b) { return T(a | b); }
template <typename T> __device__ __forceinline__ T bitXor(T a, T b) { return T(a ^ b); }
/// The high half of the unsigned double-width product (Triton's umulhi; 32- and 64-bit integers).
template <typename T> __device__ __forceinline__ T umulhi(T a, T b) {
  if constexpr (sizeof(T) == 4)
    return T(__umulhi((unsigned int)a, (unsigned int)b));
  else
    return T(__umul64hi((unsigned long long)a, (unsigned long long)b));
}
/// tl.gather's index into an extent of n, kept inside it (an index outside is undefined in Triton; the
/// interpreter reports it): a read of shared memory never leaves the source tile.
template <typename T> __device__ __forceinline__ int gatherIndex(T k, int n) {
  if constexpr (isSignedInt<T>)
    return k < 0 ? 0 : k >= T(n) ? n - 1 : int(k);
  else
    return k >= T(n) ? n - 1 : int(k);
}
template <typename T> __device__ __forceinline__ T shl(T a, T b) { return T(Wrap<T>(a) << b); }
/// Arithmetic for signed types, logical for unsigned ones (C++20 semantics of >>).
template <typename T> __device__ __forceinline__ T shr(T a, T b) { return T(a >> b); }
template <typename T> __device__ __forceinline__ T fma(T a, T b, T c) {
  if constexpr (isHalf<T>)
    return cvt<T>(::fmaf(toF32(a), toF32(b), toF32(c)));
  else if constexpr (same<T, f32>)
    return ::fmaf(a, b, c);
  else if constexpr (same<T, f64>)
    return ::fma(a, b, c);
  else
    return add(mul(a, b), c);
}

// ---- Comparisons (return i1); f16/bf16 compare in f32 ----
#define MT_CMP(name, op)                                                                                     \
  template <typename T> __device__ __forceinline__ bool name(T a, T b) {                                     \
    if constexpr (isHalf<T>)                                                                                 \
      return toF32(a) op toF32(b);                                                                           \
    else                                                                                                     \
      return a op b;                                                                                         \
  }
MT_CMP(eq, ==)
MT_CMP(ne, !=)
MT_CMP(lt, <)
MT_CMP(le, <=)
MT_CMP(gt, >)
MT_CMP(ge, >=)
#undef MT_CMP

// ---- Unary ----
template <typename T> __device__ __forceinline__ T neg(T a) {
  MT_VIA_F32_UNARY(neg)
  else if constexpr (isInt<T> && !same<T, bool>) return T(Wrap<T>(0) - Wrap<T>(a));
  else return -a;
}
template <typename T> __device__ __forceinline__ T bitNot(T a) {
  if constexpr (same<T, bool>)
    return !a;
  else
    return T(~a);
}
template <typename T> __device__ __forceinline__ T abs(T a) {
  MT_VIA_F32_UNARY(abs)
  else if constexpr (same<T, f32>) return ::fabsf(a);
  else if constexpr (same<T, f64>) return ::fabs(a);
  else if constexpr (isSignedInt<T>) return a < 0 ? neg(a) : a;
  else return a;
}

// f32 exp, exp2, log and log2 use the hardware's approximate ex2/lg2 on the GPU, as Triton's do (a few ulp,
// more for exp of large |x|); the host build (tests) uses the C library's. exp and exp2 flush results below
// 2^-126 to zero (ex2.approx.ftz, Triton's lowering too): one MUFU.EX2, where the non-ftz form costs a
// compare and two multiplies more per element (attention's softmax runs one per score).
#if defined(__CUDA_ARCH__)
__device__ __forceinline__ float fastExp2(float x) {
  float r;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(x));
  return r;
}
__device__ __forceinline__ float fastExp(float x) { return fastExp2(x * 1.4426950408889634f); }
__device__ __forceinline__ float fastLog(float x) { return __logf(x); }
__device__ __forceinline__ float fastLog2(float x) {
  float r;
  asm("lg2.approx.f32 %0, %1;" : "=f"(r) : "f"(x));
  return r;
}
#else
inline float fastExp(float x) { return ::expf(x); }
inline float fastExp2(float x) { return ::exp2f(x); }
inline float fastLog(float x) { return ::logf(x); }
inline float fastLog2(float x) { return ::log2f(x); }
#endif

/// Transcendental ops: f32 and f64 natively, f16/bf16 through f32. Integer operands are rejected.
#define MT_MATH(name, f32fn, f64fn)                                                                          \
  template <typename T> __device__ __forceinline__ T name(T a) {                                             \
    static_assert(isFloat<T>, "mt::" #name " needs a floating-point operand");                               \
    MT_VIA_F32_UNARY(name)                                                                                   \
    else if constexpr (same<T, f32>) return f32fn(a);                                                        \
    else return ::f64fn(a);                                                                                  \
  }
MT_MATH(exp, fastExp, exp)
MT_MATH(exp2, fastExp2, exp2)
MT_MATH(log, fastLog, log)
MT_MATH(log2, fastLog2, log2)
MT_MATH(sqrt, ::sqrtf, sqrt)
MT_MATH(rsqrt, ::rsqrtf, rsqrt)
MT_MATH(sin, ::sinf, sin)
MT_MATH(cos, ::cosf, cos)
MT_MATH(tanh, ::tanhf, tanh)
MT_MATH(erf, ::erff, erf)
MT_MATH(floor, ::floorf, floor)
MT_MATH(ceil, ::ceilf, ceil)
#undef MT_MATH
#undef MT_VIA_F32_BINARY
#undef MT_VIA_F32_UNARY

} // namespace mt
