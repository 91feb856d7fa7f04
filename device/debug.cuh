// mt/debug.cuh — device_print and device_assert for generated kernels.
//
// print: one line per element, `pid (x, y, z) idx (i) <prefix><value>`, like Triton's device_print.
// assert: prints `file:line: device assertion failed: <message>` with the program and element, then
// traps (the launch fails with an illegal-instruction error; the context must be recreated).
#pragma once

#include "mt/types.cuh"

namespace mt {

/// tl.extra.cuda.globaltimer() (nanoseconds) and smid() (the SM this block runs on).
__device__ __forceinline__ i64 globaltimer() {
  u64 t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return i64(t);
}
__device__ __forceinline__ i32 smid() {
  u32 s;
  asm volatile("mov.u32 %0, %%smid;" : "=r"(s));
  return i32(s);
}

template <typename T> __device__ __forceinline__ void printValue(const char *prefix, long long idx, T v) {
  unsigned x = blockIdx.x, y = blockIdx.y, z = blockIdx.z;
  if constexpr (isFloat<T>)
    printf("pid (%u, %u, %u) idx (%lld) %s%f\n", x, y, z, idx, prefix, (double)toF32(v));
  else if constexpr (same<T, u64>)
    printf("pid (%u, %u, %u) idx (%lld) %s%llu\n", x, y, z, idx, prefix, v);
  else if constexpr (same<T, i64>)
    printf("pid (%u, %u, %u) idx (%lld) %s%lld\n", x, y, z, idx, prefix, v);
  else if constexpr (same<T, u32> || same<T, u16> || same<T, u8>)
    printf("pid (%u, %u, %u) idx (%lld) %s%u\n", x, y, z, idx, prefix, (unsigned)v);
  else
    printf("pid (%u, %u, %u) idx (%lld) %s%d\n", x, y, z, idx, prefix, (int)v);
}

template <typename T> __device__ __forceinline__ void printValue(const char *prefix, long long idx, T *v) {
  printf("pid (%u, %u, %u) idx (%lld) %s%p\n", blockIdx.x, blockIdx.y, blockIdx.z, idx, prefix, (void *)v);
}

__device__ __forceinline__ void assertFail(const char *where, const char *message, long long idx) {
  printf("%s: device assertion failed: %s (pid (%u, %u, %u) idx (%lld))\n", where, message, blockIdx.x,
         blockIdx.y, blockIdx.z, idx);
  __trap();
}

} // namespace mt
