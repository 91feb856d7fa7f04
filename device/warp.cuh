// mt/warp.cuh — warp-level exchange for reductions and scans: shuffles of any 1-, 2-, 4- or 8-byte value.
#pragma once

#include "mt/types.cuh"

namespace mt {

/// Moves `v` through `shuffle` (a __shfl_*_sync on 32- or 64-bit words) as raw bits.
template <typename T, typename Shuffle> __device__ __forceinline__ T shuffleBits(T v, Shuffle shuffle) {
  static_assert(sizeof(T) <= 8, "shuffles move at most 8 bytes");
  using W = typename BitsOf<(sizeof(T) == 8 ? 8 : 4)>::type;
  W b = 0;
  memcpy(&b, &v, sizeof(T));
  b = shuffle(b);
  memcpy(&v, &b, sizeof(T));
  return v;
}

/// The value `v` of the lane `lane ^ off` (all 32 lanes of the warp take part).
template <typename T> __device__ __forceinline__ T shflXor(T v, int off) {
  return shuffleBits(v, [off](auto b) { return __shfl_xor_sync(0xffffffffu, b, off); });
}

/// The value `v` of lane `lane - off` (lanes below `off` get their own); all 32 lanes take part.
template <typename T> __device__ __forceinline__ T shflUp(T v, int off) {
  return shuffleBits(v, [off](auto b) { return __shfl_up_sync(0xffffffffu, b, off); });
}

/// The value `v` of lane `lane + off` (lanes from 32 - off get their own); all 32 lanes take part.
template <typename T> __device__ __forceinline__ T shflDown(T v, int off) {
  return shuffleBits(v, [off](auto b) { return __shfl_down_sync(0xffffffffu, b, off); });
}

} // namespace mt
