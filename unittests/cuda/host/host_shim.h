// Lets generated CUDA kernels compile and run as host C++ (tests only; see HostEmulationTest.cpp):
// one std::thread per CUDA thread, __syncthreads as a std::barrier, shared memory as a global array,
// atomics under a mutex, f16/bf16 as IEEE binary16 / bfloat16 with round-to-nearest-even conversions.
#pragma once

#include <atomic>
#include <barrier>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(n)
#define __align__(n)
#define __shared__
#define mt_smem mt_host_smem

struct MtHostDim {
  unsigned x = 0, y = 0, z = 0;
};
inline thread_local MtHostDim threadIdx, blockIdx;
inline MtHostDim gridDim, blockDim;
inline std::barrier<> *mtHostBarrier = nullptr;
inline std::mutex mtHostAtomicMutex;
alignas(1024) inline unsigned char mt_host_smem[1 << 18]; // 1024: the swizzle atoms of wgmma operands

inline void __syncthreads() { mtHostBarrier->arrive_and_wait(); }
// mbarriers (device/memory.cuh mbarInit/mbarArrive/mbarWait): one 64-bit word in shared memory, bits 0-15
// the arrivals still expected, 16-31 the count, 32-63 the phase; a completed phase starts the next.
inline void mtHostMbarInit(unsigned long long *bar, unsigned count) {
  std::atomic_ref<unsigned long long>(*bar).store((unsigned long long)count |
                                                  ((unsigned long long)count << 16));
}
inline void mtHostMbarArrive(unsigned long long *bar) {
  std::atomic_ref<unsigned long long> w(*bar);
  unsigned long long old = w.load(), next;
  do {
    unsigned long long pending = (old & 0xffff) - 1, count = (old >> 16) & 0xffff, phase = old >> 32;
    next = pending ? (old & ~0xffffull) | pending : count | (count << 16) | ((phase + 1) << 32);
  } while (!w.compare_exchange_weak(old, next));
}
inline void mtHostMbarWait(unsigned long long *bar, unsigned parity) {
  std::atomic_ref<unsigned long long> w(*bar);
  while (((w.load() >> 32) & 1) == parity)
    std::this_thread::yield();
}

/// The high halves of unsigned products (math.cuh's umulhi).
inline unsigned __umulhi(unsigned a, unsigned b) { return unsigned((unsigned long long)a * b >> 32); }
inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
  return (unsigned long long)((unsigned __int128)a * b >> 64);
}

inline float __int_as_float(int v) {
  float f;
  std::memcpy(&f, &v, 4);
  return f;
}
inline int __float_as_int(float f) {
  int v;
  std::memcpy(&v, &f, 4);
  return v;
}

/// The CUDA math library's additions to the C library (device/libm.cuh's mt::lib), for host builds: plain
/// reference forms (the interpreter's ir/MathFns.cpp is the accurate one), the fast_* as the exact functions.
inline double mtHostSolve(double (*f)(double), double y, double lo, double hi) { // f monotone on [lo, hi]
  bool rising = f(hi) > f(lo);
  for (int i = 0; i < 200 && lo < hi; ++i) {
    double mid = lo + (hi - lo) / 2;
    if ((f(mid) < y) == rising)
      lo = mid;
    else
      hi = mid;
  }
  return lo;
}
inline double erfinv(double y) {
  return std::fabs(y) > 1    ? NAN
         : std::fabs(y) == 1 ? std::copysign(INFINITY, y)
                             : mtHostSolve(::erf, y, -6, 6);
}
inline double erfcinv(double y) {
  return y < 0 || y > 2 ? NAN : y == 0 ? INFINITY : y == 2 ? -INFINITY : mtHostSolve(::erfc, y, -6, 27.5);
}
inline double erfcx(double x) { return x > 25 ? 1 / (x * std::sqrt(M_PI)) : std::exp(x * x) * std::erfc(x); }
inline double normcdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }
inline double normcdfinv(double p) { return -std::sqrt(2.0) * erfcinv(2 * p); }
inline double rcbrt(double x) { return 1 / std::cbrt(x); }
inline double sinpi(double x) { return std::sin(M_PI * std::remainder(x, 2.0)); }
inline double cospi(double x) { return std::cos(M_PI * std::remainder(x, 2.0)); }
inline float erfinvf(float y) { return float(erfinv(y)); }
inline float erfcinvf(float y) { return float(erfcinv(y)); }
inline float erfcxf(float x) { return float(erfcx(x)); }
inline float normcdff(float x) { return float(normcdf(x)); }
inline float normcdfinvf(float p) { return float(normcdfinv(p)); }
inline float rcbrtf(float x) { return float(rcbrt(x)); }
inline float sinpif(float x) { return float(sinpi(x)); }
inline float cospif(float x) { return float(cospi(x)); }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline double __drcp_rn(double x) { return 1.0 / x; }
inline float __fadd_rn(float a, float b) { return a + b; }
inline double __dadd_rn(double a, double b) { return a + b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline float __cosf(float x) { return std::cos(x); }
inline float __sinf(float x) { return std::sin(x); }
inline float __tanf(float x) { return std::tan(x); }
inline float __expf(float x) { return std::exp(x); }
inline float __exp10f(float x) { return std::pow(10.0f, x); }
inline float __logf(float x) { return std::log(x); }
inline float __log2f(float x) { return std::log2(x); }
inline float __log10f(float x) { return std::log10(x); }
inline float __powf(float a, float b) { return std::pow(a, b); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __saturatef(float x) { return std::isnan(x) ? 0.0f : std::fmin(std::fmax(x, 0.0f), 1.0f); }
inline unsigned __brev(unsigned v) {
  unsigned r = 0;
  for (int i = 0; i < 32; ++i)
    r |= ((v >> i) & 1u) << (31 - i);
  return r;
}
inline unsigned long long __brevll(unsigned long long v) {
  return (unsigned long long)__brev(unsigned(v)) << 32 | __brev(unsigned(v >> 32));
}
inline int __clz(int v) { return v ? __builtin_clz(unsigned(v)) : 32; }
inline int __clzll(long long v) { return v ? __builtin_clzll((unsigned long long)v) : 64; }
inline int __ffs(int v) { return __builtin_ffs(v); }
inline int __ffsll(long long v) { return __builtin_ffsll(v); }
inline int __popc(unsigned v) { return __builtin_popcount(v); }
inline int __popcll(unsigned long long v) { return __builtin_popcountll(v); }
inline int __mulhi(int a, int b) { return int((long long)a * b >> 32); }
inline long long __mul64hi(long long a, long long b) { return (long long)((__int128)a * b >> 64); }

/// Warp shuffles, for kernels whose every thread reaches each shuffle (as the emitter's reductions do):
/// an exchange through a per-thread slot between two block-wide barriers.
inline unsigned long long mtHostShflSlot[1024];
template <typename T> T __shfl_up_sync(unsigned, T v, int off) {
  static_assert(sizeof(T) <= 8);
  std::memcpy(&mtHostShflSlot[threadIdx.x], &v, sizeof v);
  __syncthreads();
  T r = v;
  if (int(threadIdx.x % 32) >= off)
    std::memcpy(&r, &mtHostShflSlot[threadIdx.x - unsigned(off)], sizeof r);
  __syncthreads();
  return r;
}
template <typename T> T __shfl_xor_sync(unsigned, T v, int off) {
  static_assert(sizeof(T) <= 8);
  std::memcpy(&mtHostShflSlot[threadIdx.x], &v, sizeof v);
  __syncthreads();
  T r;
  std::memcpy(&r, &mtHostShflSlot[threadIdx.x ^ unsigned(off)], sizeof r);
  __syncthreads();
  return r;
}
template <typename T> T __shfl_down_sync(unsigned, T v, int off) {
  static_assert(sizeof(T) <= 8);
  std::memcpy(&mtHostShflSlot[threadIdx.x], &v, sizeof v);
  __syncthreads();
  T r = v;
  if (int(threadIdx.x % 32) + off < 32)
    std::memcpy(&r, &mtHostShflSlot[threadIdx.x + unsigned(off)], sizeof r);
  __syncthreads();
  return r;
}
[[noreturn]] inline void __trap() { std::abort(); }
inline double __longlong_as_double(long long v) {
  double d;
  std::memcpy(&d, &v, sizeof d);
  return d;
}
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }

// Host versions of the 16-bit float types: IEEE binary16 and bfloat16, round to nearest even.
struct __half {
  unsigned short x;
};
struct __nv_bfloat16 {
  unsigned short x;
};
inline float __bfloat162float(__nv_bfloat16 h) {
  unsigned u = unsigned(h.x) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline __nv_bfloat16 __float2bfloat16(float f) {
  unsigned u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) // NaN stays a quiet NaN
    return {static_cast<unsigned short>((u >> 16) | 0x40)};
  u += 0x7fffu + ((u >> 16) & 1u);
  return {static_cast<unsigned short>(u >> 16)};
}
inline __nv_bfloat16 __double2bfloat16(double d) { return __float2bfloat16(float(d)); }
inline float __half2float(__half h) {
  unsigned sign = (h.x >> 15) & 1u, exp = (h.x >> 10) & 0x1fu, man = h.x & 0x3ffu;
  float v = exp == 0    ? std::ldexp(float(man), -24)
            : exp == 31 ? (man ? NAN : INFINITY)
                        : std::ldexp(float(man | 0x400u), int(exp) - 25);
  return sign ? -v : v;
}
inline __half __float2half(float f) {
  unsigned short sign = std::signbit(f) ? 0x8000 : 0;
  float a = std::fabs(f);
  if (std::isnan(f))
    return {static_cast<unsigned short>(sign | 0x7e00)};
  if (a >= 65520.0f) // rounds to infinity
    return {static_cast<unsigned short>(sign | 0x7c00)};
  if (a < std::ldexp(1.0f, -14)) { // subnormal: multiples of 2^-24
    float q = std::nearbyint(std::ldexp(a, 24));
    return {static_cast<unsigned short>(sign | unsigned(q))};
  }
  int e;
  float m = std::frexp(a, &e);                 // a = m * 2^e, m in [0.5, 1)
  float q = std::nearbyint(std::ldexp(m, 11)); // 11 significant bits
  if (q >= 2048.0f) {
    q /= 2;
    ++e;
  }
  unsigned bits = (unsigned(e + 14) << 10) | (unsigned(q) & 0x3ffu);
  return {static_cast<unsigned short>(sign | bits)};
}
inline __half __double2half(double d) { return __float2half(float(d)); }

template <typename T, typename F> T mtHostAtomic(T *p, F f) {
  std::lock_guard<std::mutex> lock(mtHostAtomicMutex);
  T old = *p;
  *p = f(old);
  return old;
}
template <typename T> T atomicAdd(T *p, T v) {
  return mtHostAtomic(p, [&](T o) { return T(o + v); });
}
inline __half atomicAdd(__half *p, __half v) {
  return mtHostAtomic(p, [&](__half o) { return __float2half(__half2float(o) + __half2float(v)); });
}
inline __nv_bfloat16 atomicAdd(__nv_bfloat16 *p, __nv_bfloat16 v) {
  return mtHostAtomic(
      p, [&](__nv_bfloat16 o) { return __float2bfloat16(__bfloat162float(o) + __bfloat162float(v)); });
}
template <typename T> T atomicMax(T *p, T v) {
  return mtHostAtomic(p, [&](T o) { return o > v ? o : v; });
}
template <typename T> T atomicMin(T *p, T v) {
  return mtHostAtomic(p, [&](T o) { return o < v ? o : v; });
}
template <typename T> T atomicExch(T *p, T v) {
  return mtHostAtomic(p, [&](T) { return v; });
}
template <typename T> T atomicAnd(T *p, T v) {
  return mtHostAtomic(p, [&](T o) { return T(o & v); });
}
template <typename T> T atomicOr(T *p, T v) {
  return mtHostAtomic(p, [&](T o) { return T(o | v); });
}
template <typename T> T atomicXor(T *p, T v) {
  return mtHostAtomic(p, [&](T o) { return T(o ^ v); });
}
template <typename T> T atomicCAS(T *p, T cmp, T v) {
  return mtHostAtomic(p, [&](T o) { return o == cmp ? v : o; });
}

/// Runs `kernel()` for every program of the grid, one std::thread per CUDA thread.
template <typename F> void mtHostLaunch(MtHostDim grid, unsigned threads, F kernel) {
  gridDim = grid;
  blockDim = {threads, 1, 1};
  for (unsigned z = 0; z < grid.z; ++z)
    for (unsigned y = 0; y < grid.y; ++y)
      for (unsigned x = 0; x < grid.x; ++x) {
        std::barrier<> barrier(threads);
        mtHostBarrier = &barrier;
        std::vector<std::thread> pool;
        for (unsigned t = 0; t < threads; ++t)
          pool.emplace_back([&, t, x, y, z] {
            threadIdx = {t, 0, 0};
            blockIdx = {x, y, z};
            kernel();
          });
        for (std::thread &th : pool)
          th.join();
      }
}
