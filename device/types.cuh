// mt/types.cuh — the element types of generated kernels and value conversion between them.
//
// Every IR dtype has an alias here (mt::i32, mt::f16, ...). `mt::cvt<To>(x)` converts with the IR's
// `cast` semantics: float -> int truncates toward zero, anything -> i1 is `x != 0`, and f16/bf16 go
// through f32 (f64 -> f16/bf16 rounds once). `mt::bits<T>` reinterprets (the IR's `bitcast`).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace mt {

using i1 = bool;
using i8 = signed char;
using i16 = short;
using i32 = int;
using i64 = long long;
using u8 = unsigned char;
using u16 = unsigned short;
using u32 = unsigned int;
using u64 = unsigned long long;
using f16 = __half;
using bf16 = __nv_bfloat16;
using f32 = float;
using f64 = double;

/// fp8: Triton's fp8e4nv (e4m3fn: bias 7, no infinities, NaN 0x7f, max 448) and fp8e5 (e5m2: bias 15, max
/// 57344). One byte, computed in f32; f32 -> fp8 rounds to nearest even and saturates finite values and
/// infinities to the largest finite value (PTX cvt.rn.satfinite, Triton's conversion); NaN stays NaN.
struct f8e4m3 {
  unsigned char x;
};
struct f8e5m2 {
  unsigned char x;
};

template <typename A, typename B> struct Same { static constexpr bool value = false; };
template <typename A> struct Same<A, A> { static constexpr bool value = true; };
template <typename A, typename B> constexpr bool same = Same<A, B>::value;

/// f16, bf16 and fp8: stored narrow, computed in f32.
template <typename T> constexpr bool isF8 = same<T, f8e4m3> || same<T, f8e5m2>;
template <typename T> constexpr bool isHalf = same<T, f16> || same<T, bf16> || isF8<T>;
template <typename T> constexpr bool isFloat = isHalf<T> || same<T, f32> || same<T, f64>;
template <typename T> constexpr bool isInt = !isFloat<T>; // includes i1
template <typename T>
constexpr bool isSignedInt = same<T, i8> || same<T, i16> || same<T, i32> || same<T, i64>;

/// The unsigned integer of T's width (T itself for unsigned types and i1): wrapping arithmetic.
template <typename T> struct UnsignedOf { using type = T; };
template <> struct UnsignedOf<i8> { using type = u8; };
template <> struct UnsignedOf<i16> { using type = u16; };
template <> struct UnsignedOf<i32> { using type = u32; };
template <> struct UnsignedOf<i64> { using type = u64; };
template <typename T> using Unsigned = typename UnsignedOf<T>::type;

/// The unsigned type integer arithmetic wraps in: Unsigned<T>, widened to u32 for 8- and 16-bit types
/// (which C++ would otherwise promote to a signed int that can overflow in a multiplication).
template <typename T> struct WrapOf { using type = Unsigned<T>; };
template <> struct WrapOf<i8> { using type = u32; };
template <> struct WrapOf<u8> { using type = u32; };
template <> struct WrapOf<i16> { using type = u32; };
template <> struct WrapOf<u16> { using type = u32; };
template <typename T> using Wrap = typename WrapOf<T>::type;

/// The unsigned integer of N bytes (the word an atomic CAS loop works on).
template <int N> struct BitsOf;
template <> struct BitsOf<2> { using type = unsigned short; };
template <> struct BitsOf<4> { using type = unsigned int; };
template <> struct BitsOf<8> { using type = unsigned long long; };

/// Reinterprets the bits of `x` as `To` (same size).
template <typename To, typename From> __device__ __forceinline__ To bits(From x) {
  static_assert(sizeof(To) == sizeof(From), "bitcast needs types of one width");
  To r;
  memcpy(&r, &x, sizeof(To));
  return r;
}

/// The value of fp8 bits with E exponent bits (bias 2^(E-1) - 1) and M mantissa bits; FN: e4m3fn's encoding
/// (the all-ones pattern is NaN, no infinities).
template <int E, int M, bool FN> __device__ __forceinline__ float fp8Value(unsigned char b) {
  constexpr int bias = (1 << (E - 1)) - 1, expMax = (1 << E) - 1;
  const int e = (b >> M) & expMax, m = b & ((1 << M) - 1);
  const float sign = (b & 0x80) ? -1.0f : 1.0f;
  if (FN ? (e == expMax && m == (1 << M) - 1) : (e == expMax && m != 0))
    return __int_as_float(0x7fc00000);
  if (!FN && e == expMax)
    return sign * __int_as_float(0x7f800000);
  if (e == 0)
    return sign * ldexpf(float(m), 1 - bias - M);
  return sign * ldexpf(float((1 << M) | m), e - bias - M);
}

/// f32 -> fp8 bits: round to nearest even on the format's grid, saturate to the largest finite value.
template <int E, int M, bool FN> __device__ __forceinline__ unsigned char fp8Bits(float f) {
  constexpr int bias = (1 << (E - 1)) - 1;
  constexpr int maxExp = FN ? (1 << E) - 1 - bias : (1 << E) - 2 - bias; // of the largest finite
  constexpr int maxMant = FN ? (1 << M) - 2 : (1 << M) - 1;              // its mantissa field
  const unsigned char sign = (__float_as_int(f) < 0) ? 0x80 : 0;
  if (f != f)
    return (unsigned char)(sign | 0x7f);
  const float a = fabsf(f), maxFinite = ldexpf(float((1 << M) | maxMant), maxExp - M);
  if (a >= maxFinite)
    return (unsigned char)(sign | ((maxExp + bias) << M) | maxMant);
  int e = a == 0.0f ? 1 - bias : ilogbf(a);
  if (e < 1 - bias)
    e = 1 - bias; // subnormal: the grid step of the smallest exponent
  const float q = ldexpf(1.0f, e - M), r = rintf(a / q) * q;
  if (r >= maxFinite)
    return (unsigned char)(sign | ((maxExp + bias) << M) | maxMant);
  if (r == 0.0f)
    return sign;
  int re = ilogbf(r);
  if (re < 1 - bias) // subnormal
    return (unsigned char)(sign | int(r / ldexpf(1.0f, 1 - bias - M)));
  return (unsigned char)(sign | ((re + bias) << M) | (int(r / ldexpf(1.0f, re - M)) - (1 << M)));
}

template <typename T> __device__ __forceinline__ float toF32(T x) {
  if constexpr (same<T, f8e4m3>)
    return fp8Value<4, 3, true>(x.x);
  else if constexpr (same<T, f8e5m2>)
    return fp8Value<5, 2, false>(x.x);
  else if constexpr (same<T, f16>)
    return __half2float(x);
  else if constexpr (same<T, bf16>)
    return __bfloat162float(x);
  else
    return static_cast<float>(x);
}

/// Value conversion with the IR's `cast` semantics.
template <typename To, typename From> __device__ __forceinline__ To cvt(From x) {
  if constexpr (same<To, From>) {
    return x;
  } else if constexpr (same<To, bool>) {
    if constexpr (isHalf<From>)
      return toF32(x) != 0.0f;
    else
      return x != From(0);
  } else if constexpr (isHalf<From>) {
    return cvt<To>(toF32(x));
  } else if constexpr (isF8<To>) {
    float f;
    if constexpr (same<From, f64>) { // rounded to odd in f32: then one correct rounding to fp8
      f = float(x);
      if (f == f && double(f) != x && fabsf(f) < 3.0e38f) {
        if (fabs(double(f)) > fabs(x))
          f = nextafterf(f, 0.0f);
        f = __int_as_float(__float_as_int(f) | 1);
      }
    } else {
      f = static_cast<float>(x);
    }
    if constexpr (same<To, f8e4m3>)
      return f8e4m3{fp8Bits<4, 3, true>(f)};
    else
      return f8e5m2{fp8Bits<5, 2, false>(f)};
  } else if constexpr (same<To, f16>) {
    if constexpr (same<From, f64>)
      return __double2half(x);
    else
      return __float2half(static_cast<float>(x));
  } else if constexpr (same<To, bf16>) {
    if constexpr (same<From, f64>)
      return __double2bfloat16(x);
    else
      return __float2bfloat16(static_cast<float>(x));
  } else {
    return static_cast<To>(x);
  }
}

/// x, y = cvt<To>(a), cvt<To>(b) for To = f16 / bf16: one conversion of the pair (cvt.rn.{b}f16x2.f32), the
/// same rounding as two. Besides the halved instruction count, ptxas keeps warpgroup MMAs in flight across
/// pairs; single conversions of the accumulators after the loop made it serialize the loop's wgmmas (C7514,
/// CUDA 13.0, seen at N = 128).
template <typename To> __device__ __forceinline__ void cvtPair(To &x, To &y, float a, float b) {
#if defined(__CUDA_ARCH__)
  if constexpr (same<To, bf16>) {
    const __nv_bfloat162 t = __floats2bfloat162_rn(a, b);
    x = t.x;
    y = t.y;
  } else {
    const __half2 t = __floats2half2_rn(a, b);
    x = t.x;
    y = t.y;
  }
#else
  x = cvt<To>(a);
  y = cvt<To>(b);
#endif
}

/// IEEE infinity and quiet NaN (constants of the IR; converted to the element type with cvt).
__device__ __forceinline__ double infinity() { return __longlong_as_double(0x7ff0000000000000LL); }
__device__ __forceinline__ double quietNan() { return __longlong_as_double(0x7ff8000000000000LL); }

/// Zero of any element type (the value of masked-off loads without `other`).
template <typename T> __device__ __forceinline__ T zero() {
  if constexpr (isHalf<T>)
    return cvt<T>(0.0f);
  else
    return T(0);
}

} // namespace mt
