// mt/mma.cuh — tensor-core tile products for the IR's `dot` (mma.sync, sm_80 and newer). The emitter
// (lib/backend/cuda/EmitDot.cpp) stages the operands in shared memory and calls mmaTile once per dot:
//
//   a  M x K row-major, row stride LDA elements    (f16, bf16, or f32 rounded to tf32)
//   b  K x N row-major, row stride LDB elements
//   c  M x N f32 row-major, row stride LDC: the accumulator in (LoadC) or `init` everywhere (!LoadC);
//      overwritten with c + a @ b.
//
// The warps of the program form a WM x WN grid; warp w < WM*WN owns the block of rows
// [(w / WN) * M/WM, ...) and columns [(w % WN) * N/WN, ...); other warps idle. A warp walks its block in
// chunks of at most 64 x 64 (a grid of 16 x 8 mma tiles, 4 f32 accumulators per thread each), runs the K
// loop for the chunk and stores it back to c. Each thread reads and writes only its own accumulator
// elements of c, so no barrier is needed inside; the caller puts one before (operands staged) and after
// (results read back in another layout).
//
// f16/bf16: mma.m16n8k16, A fragments by ldmatrix.x4, B fragments by ldmatrix(.x4 or .x2).trans from the
// K x N rows. f32: mma.m16n8k8.tf32 with plain shared loads and cvt.rna.tf32.f32. Padding (chosen by the
// emitter) keeps the 8 rows an ldmatrix phase reads in distinct 16-byte bank groups: LDA*2/16 and LDB*2/16
// odd for 16-bit types; LDA = 4 (mod 8), LDB and LDC = 8 (mod 16) words for f32.
//
// Without sm_80 (older GPUs; the host emulation of the unit tests) the same ownership and chunking run as
// f32 FMAs, so the emulation checks the staging, the warp grid and the accumulator mapping.
#pragma once

#include "mt/types.cuh"

namespace mt {

namespace mma_detail {

/// Rows (columns) of a chunk: the largest multiple of `unit` that divides `extent` and is at most 64.
__device__ constexpr int chunkOf(int extent, int unit) {
  for (int c = 64; c >= unit; c -= unit)
    if (c <= extent && extent % c == 0)
      return c;
  return unit;
}

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
#define MT_HAS_MMA_SYNC 1

__device__ __forceinline__ unsigned smemAddr(const void *p) {
  return static_cast<unsigned>(__cvta_generic_to_shared(p));
}

__device__ __forceinline__ void ldmatrixX4(unsigned (&r)[4], const void *p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smemAddr(p))
               : "memory");
}

__device__ __forceinline__ void ldmatrixX2(unsigned &r0, unsigned &r1, const void *p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0, %1}, [%2];\n"
               : "=r"(r0), "=r"(r1)
               : "r"(smemAddr(p))
               : "memory");
}

__device__ __forceinline__ void ldmatrixX4Trans(unsigned &r0, unsigned &r1, unsigned &r2, unsigned &r3,
                                                const void *p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3)
               : "r"(smemAddr(p))
               : "memory");
}

__device__ __forceinline__ void ldmatrixX2Trans(unsigned &r0, unsigned &r1, const void *p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0, %1}, [%2];\n"
               : "=r"(r0), "=r"(r1)
               : "r"(smemAddr(p))
               : "memory");
}

__device__ __forceinline__ unsigned toTf32(float x) {
  unsigned r;
  asm("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(r) : "f"(x));
  return r;
}

/// d = a @ b + d for one 16 x 8 tile: m16n8k16 for f16/bf16, m16n8k8 (a: 4 regs, b: 2 regs) for tf32.
template <typename T>
__device__ __forceinline__ void mmaSync(float (&d)[4], const unsigned (&a)[4], const unsigned (&b)[2]) {
  if constexpr (same<T, bf16>)
    asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
        "{%8, %9}, {%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  else if constexpr (same<T, f16>)
    asm("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
        "{%8, %9}, {%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  else
    asm("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
        "{%8, %9}, {%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}
#endif

} // namespace mma_detail

/// N elements in one aligned vector (up to 16 bytes), for vectorised staging stores and loads
/// (st/ld.shared.v2/.v4) of runs of a thread's tile elements that are contiguous in shared memory.
template <typename T, int N> struct alignas(sizeof(T) * N) Vec {
  static_assert(sizeof(T) * N <= 16 && (N & (N - 1)) == 0, "vectors of at most 16 bytes, N a power of 2");
  T v[N];
};

/// c[M,N] = c + a[M,K] @ b[K,N] on tensor cores for the whole program (see the top of this file).
template <typename T, int M, int N, int K, int WM, int WN, int LDA, int LDB, int LDC, bool LoadC>
__device__ __forceinline__ void mmaTile(const T *a, const T *b, float *c, float init, int tid) {
  static_assert(same<T, f16> || same<T, bf16> || same<T, f32>, "mma operands are f16, bf16 or f32 (tf32)");
  constexpr int KS = same<T, f32> ? 8 : 16; // k of one mma
  static_assert(M % (16 * WM) == 0 && N % (8 * WN) == 0 && K % KS == 0,
                "the warp grid must tile M x N by 16 x 8 and K by the mma's k");
  static_assert(LDA >= K && LDB >= N && LDC >= N, "row strides must cover the rows");
  static_assert(sizeof(T) == 4 || (LDA % 8 == 0 && LDB % 8 == 0), "ldmatrix rows must be 16-byte aligned");
  constexpr int WROWS = M / WM, WCOLS = N / WN;
  constexpr int CM = mma_detail::chunkOf(WROWS, 16), CN = mma_detail::chunkOf(WCOLS, 8);
  constexpr int FM = CM / 16, FN = CN / 8; // mma tiles per chunk
  const int warp = tid >> 5, lane = tid & 31;
  if (warp >= WM * WN)
    return;
  const int g = lane >> 2, t = lane & 3; // the accumulator rows g, g + 8 and columns 2t, 2t + 1 of a tile
  const int wrow = (warp / WN) * WROWS, wcol = (warp % WN) * WCOLS;
#pragma unroll 1
  for (int cm = 0; cm < WROWS; cm += CM) {
#pragma unroll 1
    for (int cn = 0; cn < WCOLS; cn += CN) {
      const int r0 = wrow + cm, c0 = wcol + cn;
      float acc[FM][FN][4];
#pragma unroll
      for (int fm = 0; fm < FM; ++fm)
#pragma unroll
        for (int fn = 0; fn < FN; ++fn) {
          const int row = r0 + fm * 16 + g, col = c0 + fn * 8 + 2 * t;
#pragma unroll
          for (int e = 0; e < 4; ++e)
            acc[fm][fn][e] = LoadC ? c[(row + (e >> 1) * 8) * LDC + col + (e & 1)] : init;
        }
#pragma unroll
      for (int k0 = 0; k0 < K; k0 += KS) {
#if defined(MT_HAS_MMA_SYNC)
        unsigned af[FM][4], bfr[FN][2];
        if constexpr (sizeof(T) == 2) {
#pragma unroll
          for (int fm = 0; fm < FM; ++fm)
            mma_detail::ldmatrixX4(af[fm], a + (r0 + fm * 16 + (lane & 15)) * LDA + k0 + (lane >> 4) * 8);
          if constexpr (FN % 2 == 0) {
#pragma unroll
            for (int fn = 0; fn < FN; fn += 2)
              mma_detail::ldmatrixX4Trans(bfr[fn][0], bfr[fn][1], bfr[fn + 1][0], bfr[fn + 1][1],
                                          b + (k0 + (lane & 15)) * LDB + c0 + fn * 8 + (lane >> 4) * 8);
          } else {
#pragma unroll
            for (int fn = 0; fn < FN; ++fn)
              mma_detail::ldmatrixX2Trans(bfr[fn][0], bfr[fn][1], b + (k0 + (lane & 15)) * LDB + c0 + fn * 8);
          }
        } else {
#pragma unroll
          for (int fm = 0; fm < FM; ++fm) {
            const T *p = a + (r0 + fm * 16 + g) * LDA + k0 + t;
            af[fm][0] = mma_detail::toTf32(p[0]);
            af[fm][1] = mma_detail::toTf32(p[8 * LDA]);
            af[fm][2] = mma_detail::toTf32(p[4]);
            af[fm][3] = mma_detail::toTf32(p[8 * LDA + 4]);
          }
#pragma unroll
          for (int fn = 0; fn < FN; ++fn) {
            const T *p = b + (k0 + t) * LDB + c0 + fn * 8 + g;
            bfr[fn][0] = mma_detail::toTf32(p[0]);
            bfr[fn][1] = mma_detail::toTf32(p[4 * LDB]);
          }
        }
#pragma unroll
        for (int fm = 0; fm < FM; ++fm)
#pragma unroll
          for (int fn = 0; fn < FN; ++fn)
            mma_detail::mmaSync<T>(acc[fm][fn], af[fm], bfr[fn]);
#else
        for (int fm = 0; fm < FM; ++fm)
          for (int fn = 0; fn < FN; ++fn)
            for (int e = 0; e < 4; ++e) {
              const int row = r0 + fm * 16 + g + (e >> 1) * 8, col = c0 + fn * 8 + 2 * t + (e & 1);
              for (int kk = k0; kk < k0 + KS; ++kk)
                acc[fm][fn][e] += toF32(a[row * LDA + kk]) * toF32(b[kk * LDB + col]);
            }
#endif
      }
#pragma unroll
      for (int fm = 0; fm < FM; ++fm)
#pragma unroll
        for (int fn = 0; fn < FN; ++fn) {
          const int row = r0 + fm * 16 + g, col = c0 + fn * 8 + 2 * t;
#pragma unroll
          for (int e = 0; e < 4; ++e)
            c[(row + (e >> 1) * 8) * LDC + col + (e & 1)] = acc[fm][fn][e];
        }
    }
  }
}

/// The accumulator fragment layout (a "frag" layout in the emitter, EmitLayout.cpp): the WM x WN warps
/// (all of the program's warps) split the M x N tile into blocks of M/WM x N/WN; in its block a warp holds
/// FM x FN mma tiles of 16 x 8 (FM = M/WM/16, FN = N/WN/8), 4 f32 accumulators per thread each. Thread
/// element i = (fm * FN + fn) * 4 + e sits at row fm*16 + g + (e >> 1)*8 and column fn*8 + 2t + (e & 1) of
/// the warp's block (g = lane / 4, t = lane % 4). Returns the element's row-major index in the tile.
/// The index of that element in a row-major array with rows of LD elements (LD >= N: padded rows).
template <int M, int N, int WM, int WN, int LD = N> __device__ __forceinline__ int fragIndex(int tid, int i) {
  constexpr int WROWS = M / WM, WCOLS = N / WN, FN = WCOLS / 8;
  const int warp = tid >> 5, lane = tid & 31;
  const int row = (warp / WN) * WROWS + ((i >> 2) / FN) * 16 + (lane >> 2) + ((i >> 1) & 1) * 8;
  const int col = (warp % WN) * WCOLS + ((i >> 2) % FN) * 8 + (lane & 3) * 2 + (i & 1);
  return row * LD + col;
}
template <int M, int N, int WM, int WN> __device__ __forceinline__ int fragLinear(int tid, int i) {
  return fragIndex<M, N, WM, WN, N>(tid, i);
}

/// The row vectors of a fragLinear<M, N, WM, WN> tile (a row reduction's result, the rows broadcast over
/// it): a thread holds the rows its fragments cover, two per 16-row tile (lane / 4 and lane / 4 + 8),
/// replicated over the 4 lanes of its quad and the WN warps of its warp row. The row of element i:
template <int M, int WM, int WN> __device__ __forceinline__ int fragRow(int tid, int i) {
  return ((tid >> 5) / WN) * (M / WM) + (i >> 1) * 16 + (i & 1) * 8 + ((tid & 31) >> 2);
}
/// The element of that row vector holding the row of fragment element i.
template <int N, int WN> __device__ constexpr int fragRowPiece(int i) {
  return ((i >> 2) / (N / WN / 8)) * 2 + ((i >> 1) & 1);
}

/// acc += a[M,K] @ b[K,N] on tensor cores with the accumulator in registers, in the fragment layout of
/// fragLinear (every one of the WM*WN warps takes part). a and b are staged in shared memory as for
/// mmaTile (with BT, b holds B transposed: N rows of K, row stride LDB); no barrier inside (the caller puts
/// one between staging and this call).
template <typename T, int M, int N, int K, int WM, int WN, int LDA, int LDB, bool BT = false>
__device__ __forceinline__ void mmaAccumulate(const T *a, const T *b,
                                              float (&acc)[(M / WM / 16) * (N / WN / 8) * 4], int tid) {
  static_assert(same<T, f16> || same<T, bf16> || same<T, f32>, "mma operands are f16, bf16 or f32 (tf32)");
  constexpr int KS = same<T, f32> ? 8 : 16; // k of one mma
  static_assert(M % (16 * WM) == 0 && N % (8 * WN) == 0 && K % KS == 0,
                "the warp grid must tile M x N by 16 x 8 and K by the mma's k");
  static_assert(LDA >= K && LDB >= (BT ? K : N), "row strides must cover the rows");
  static_assert(sizeof(T) == 4 || (LDA % 8 == 0 && LDB % 8 == 0), "ldmatrix rows must be 16-byte aligned");
  constexpr int WROWS = M / WM, WCOLS = N / WN;
  constexpr int FM = WROWS / 16, FN = WCOLS / 8;
  const int warp = tid >> 5, lane = tid & 31;
  const int g = lane >> 2, t = lane & 3;
  const int r0 = (warp / WN) * WROWS, c0 = (warp % WN) * WCOLS;
#pragma unroll
  for (int k0 = 0; k0 < K; k0 += KS) {
#if defined(MT_HAS_MMA_SYNC)
    unsigned af[FM][4], bfr[FN][2];
    if constexpr (sizeof(T) == 2) {
#pragma unroll
      for (int fm = 0; fm < FM; ++fm)
        mma_detail::ldmatrixX4(af[fm], a + (r0 + fm * 16 + (lane & 15)) * LDA + k0 + (lane >> 4) * 8);
      if constexpr (BT) { // B given as N x K rows: its "col" fragments are plain ldmatrix rows
#pragma unroll
        for (int fn = 0; fn < FN; ++fn)
          mma_detail::ldmatrixX2(bfr[fn][0], bfr[fn][1],
                                 b + (c0 + fn * 8 + (lane & 7)) * LDB + k0 + ((lane >> 3) & 1) * 8);
      } else if constexpr (FN % 2 == 0) {
#pragma unroll
        for (int fn = 0; fn < FN; fn += 2)
          mma_detail::ldmatrixX4Trans(bfr[fn][0], bfr[fn][1], bfr[fn + 1][0], bfr[fn + 1][1],
                                      b + (k0 + (lane & 15)) * LDB + c0 + fn * 8 + (lane >> 4) * 8);
      } else {
#pragma unroll
        for (int fn = 0; fn < FN; ++fn)
          mma_detail::ldmatrixX2Trans(bfr[fn][0], bfr[fn][1], b + (k0 + (lane & 15)) * LDB + c0 + fn * 8);
      }
    } else {
#pragma unroll
      for (int fm = 0; fm < FM; ++fm) {
        const T *p = a + (r0 + fm * 16 + g) * LDA + k0 + t;
        af[fm][0] = mma_detail::toTf32(p[0]);
        af[fm][1] = mma_detail::toTf32(p[8 * LDA]);
        af[fm][2] = mma_detail::toTf32(p[4]);
        af[fm][3] = mma_detail::toTf32(p[8 * LDA + 4]);
      }
#pragma unroll
      for (int fn = 0; fn < FN; ++fn) {
        if constexpr (BT) {
          const T *p = b + (c0 + fn * 8 + g) * LDB + k0 + t;
          bfr[fn][0] = mma_detail::toTf32(p[0]);
          bfr[fn][1] = mma_detail::toTf32(p[4]);
        } else {
          const T *p = b + (k0 + t) * LDB + c0 + fn * 8 + g;
          bfr[fn][0] = mma_detail::toTf32(p[0]);
          bfr[fn][1] = mma_detail::toTf32(p[4 * LDB]);
        }
      }
    }
#pragma unroll
    for (int fm = 0; fm < FM; ++fm)
#pragma unroll
      for (int fn = 0; fn < FN; ++fn)
        mma_detail::mmaSync<T>(*reinterpret_cast<float(*)[4]>(&acc[(fm * FN + fn) * 4]), af[fm], bfr[fn]);
#else
    for (int fm = 0; fm < FM; ++fm)
      for (int fn = 0; fn < FN; ++fn)
        for (int e = 0; e < 4; ++e) {
          const int row = r0 + fm * 16 + g + (e >> 1) * 8, col = c0 + fn * 8 + 2 * t + (e & 1);
          for (int kk = k0; kk < k0 + KS; ++kk)
            acc[(fm * FN + fn) * 4 + e] +=
                toF32(a[row * LDA + kk]) * toF32(BT ? b[col * LDB + kk] : b[kk * LDB + col]);
        }
#endif
  }
}

} // namespace mt
