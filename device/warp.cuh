// mt/warp.cuh — warp-level exchange for reductions: a butterfly shuffle of any 1-, 2-, 4- or 8-byte value.
#pragma once

#include "mt/types.cuh"

namespace mt {

/// The value `v` of the lane `lane ^ off` (all 32 lanes of the warp take part).
template <typename T> __device__ __forceinline__ T shflXor(T v, int off) {
  static_assert(sizeof(T) <= 8, "shuffles move at most 8 bytes");
  if constexpr (sizeof(T) == 8) {
    unsigned long long b;
    memcpy(&b, &v, 8);
    b = __shfl_xor_sync(0xffffffffu, b, off);
    memcpy(&v, &b, 8);
  } else {
    unsigned b = 0;
    memcpy(&b, &v, sizeof(T));
    b = __shfl_xor_sync(0xffffffffu, b, off);
    memcpy(&v, &b, sizeof(T));
  }
  return v;
}

} // namespace mt
