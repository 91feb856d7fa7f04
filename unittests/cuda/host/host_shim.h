// Lets generated CUDA kernels compile and run as host C++ (tests only; see HostEmulationTest.cpp):
// one std::thread per CUDA thread, __syncthreads as a std::barrier, shared memory as a global array,
// atomics under a mutex. f16/bf16 are stand-ins good enough to compile; tests run f32/i32 kernels.
#pragma once

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
alignas(16) unsigned char mt_host_smem[1 << 18];

inline void __syncthreads() { mtHostBarrier->arrive_and_wait(); }
[[noreturn]] inline void __trap() { std::abort(); }
inline double __longlong_as_double(long long v) {
  double d;
  std::memcpy(&d, &v, sizeof d);
  return d;
}
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }

// Stand-ins for the 16-bit float types (round toward zero; enough for compiling, not for numerics).
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
  return {static_cast<unsigned short>(u >> 16)};
}
inline __nv_bfloat16 __double2bfloat16(double d) { return __float2bfloat16(float(d)); }
inline float __half2float(__half h) { return __bfloat162float({h.x}); } // stand-in encoding
inline __half __float2half(float f) { return {__float2bfloat16(f).x}; }
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
