// mt/wgmma.cuh — warpgroup tensor-core products (wgmma.mma_async, sm_90a) for the IR's `dot`, used by the
// emitter (lib/backend/cuda/EmitDot.cpp) when EmitOptions::wgmma is set (kernels compiled for sm_90a).
//
// Operands live in shared memory in the swizzled layouts the instruction reads through 64-bit matrix
// descriptors. A tile of R rows of C contiguous 16-bit elements with swizzle width S bytes (128, 64 or 32:
// the largest that divides a row) is cut into column blocks of S/2 elements; block j holds its R rows of S
// bytes back to back at j * R * S, and inside every 1024-byte-aligned stretch the 16-byte chunks of a row
// are permuted by XOR-ing the chunk index with address bits 7.. (swizzled() below; the hardware applies
// the same function to the addresses it computes). Regions start 1024-byte aligned.
//
//   A  M x K, K contiguous ("K-major")                 descriptor per k-step of 16: start at the k offset
//   B  K x N, N contiguous ("N-major", transposed)    or N x K, K contiguous (BKMajor: tl.trans(k) loads)
//   acc  f32 registers in the mma accumulator layout (mma.cuh fragLinear<M, N, warps, 1>): warpgroup g
//        (warps 4g .. 4g+3) computes rows [64g, 64g + 64) with one m64nNk16 instruction per k-step.
//
// Descriptor fields (PTX ISA, "matrix descriptor"): start address >> 4 (bits 0-13), leading-dimension
// byte offset >> 4 (16-29), stride-dimension byte offset >> 4 (32-45), swizzle mode (62-63: 1 = 128 B,
// 2 = 64 B, 3 = 32 B). K-major: SBO = 8 rows (8 * S bytes), LBO unused. N-major: LBO = the distance
// between column blocks (R * S), SBO = 8 rows of K.
//
// Writes to the operand tiles by st.shared are generic-proxy accesses; wgmma reads through the async proxy,
// so each writing thread runs fenceProxyAsync() after its writes and before the barrier that precedes the
// product. Tiles filled by cp.async need no fence once the copies are waited for (as in Triton's and
// CUTLASS's cp.async + wgmma main loops; EmitDotPipeline.cpp kGenericWritesFence). The emitter generates the
// instruction itself per tile width N (the accumulator is an asm operand list of N/2 registers) with a host
// fallback, wgmmaEmulate(), that reads the operands through the same descriptors (the host emulation of the
// unit tests).
#pragma once

#include "mt/memory.cuh"
#include "mt/types.cuh"

namespace mt {

/// The element index of (row, col) = (L / C, L % C) in the swizzled layout of an R x C tile of 16-bit
/// elements with swizzle width S (see the top of this file). SUB > 1: the A tile of warpgroups that run
/// SUB m64 products each, its rows permuted so that product f of warpgroup g reads rows [64 (g SUB + f),
/// + 64), of which the 16 of warp w (of the group) are w's fragment rows f * 16 .. of fragLinear<R, N,
/// warps, 1> (16 SUB rows a warp).
template <int R, int C, int S, int SUB = 1> __device__ __forceinline__ int swizzled(int L) {
  static_assert(S == 128 || S == 64 || S == 32, "swizzle widths are 128, 64 or 32 bytes");
  static_assert((C * 2) % S == 0, "rows must be whole swizzle atoms");
  constexpr int AC = S / 2; // elements of a row in one column block
  int r = L / C;
  const int c = L % C;
  if constexpr (SUB > 1) {
    const int w = r / (16 * SUB), f = (r / 16) % SUB;
    r = (w / 4) * 64 * SUB + f * 64 + (w % 4) * 16 + r % 16;
  }
  int off = (c / AC) * (R * S) + r * S + (c % AC) * 2;
  off ^= ((off >> 7) & (S / 16 - 1)) << 4;
  return off >> 1;
}

namespace wgmma_detail {

__device__ __forceinline__ unsigned sharedAddress(const void *p) {
#if defined(__CUDA_ARCH__)
  return static_cast<unsigned>(__cvta_generic_to_shared(p));
#else
  return static_cast<unsigned>(static_cast<const unsigned char *>(p) - mt_host_smem);
#endif
}

__device__ __forceinline__ const void *sharedPointer(unsigned addr) {
#if defined(__CUDA_ARCH__)
  return __cvta_shared_to_generic(addr);
#else
  return mt_host_smem + addr;
#endif
}

/// This thread's warpgroup, as a value the compiler knows to be warp-uniform (a shuffle from lane 0), so that
/// the descriptors built from it can stay in uniform registers.
__device__ __forceinline__ int warpgroup(int tid) {
#if defined(__CUDA_ARCH__)
  return __shfl_sync(0xffffffffu, tid >> 7, 0);
#else
  return tid >> 7;
#endif
}

template <int S>
__device__ __forceinline__ unsigned long long descriptor(unsigned addr, unsigned lbo, unsigned sbo) {
  constexpr unsigned long long mode = S == 128 ? 1 : S == 64 ? 2 : 3;
  return (unsigned long long)((addr & 0x3FFFF) >> 4) | ((unsigned long long)((lbo & 0x3FFFF) >> 4) << 16) |
         ((unsigned long long)((sbo & 0x3FFFF) >> 4) << 32) | (mode << 62);
}

/// Element (mn, k) (k < 16) of an operand through its descriptor: kMajor rows are M or N with K
/// contiguous; otherwise the rows are K with M or N contiguous.
template <typename T>
__device__ __forceinline__ float element(unsigned long long desc, int mn, int k, bool kMajor) {
  const unsigned start = unsigned(desc & 0x3FFF) << 4, lbo = unsigned((desc >> 16) & 0x3FFF) << 4,
                 sbo = unsigned((desc >> 32) & 0x3FFF) << 4;
  const unsigned mode = unsigned(desc >> 62), S = mode == 1 ? 128 : mode == 2 ? 64 : 32;
  unsigned addr = kMajor ? start + unsigned(mn / 8) * sbo + unsigned(mn % 8) * S + unsigned(k) * 2
                         : start + unsigned(mn / int(S / 2)) * lbo + unsigned(mn % int(S / 2)) * 2 +
                               unsigned(k / 8) * sbo + unsigned(k % 8) * S;
  addr ^= ((addr >> 7) & (S / 16 - 1)) << 4;
  return toF32(*static_cast<const T *>(sharedPointer(addr)));
}

} // namespace wgmma_detail

/// What one m64nNk16 instruction computes, for this thread's accumulators (d in fragment order), with the
/// operands read through their descriptors: the host emulation and GPUs without sm_90a features.
template <typename T, int N, bool BKMajor>
__device__ __forceinline__ void wgmmaEmulate(float (&d)[N / 2], unsigned long long da,
                                             unsigned long long db) {
  const int t = int(threadIdx.x) & 127, warp = t >> 5, lane = t & 31;
  for (int i = 0; i < N / 2; ++i) {
    const int row = warp * 16 + (lane >> 2) + ((i >> 1) & 1) * 8,
              col = (i >> 2) * 8 + (lane & 3) * 2 + (i & 1);
    float s = 0.0f;
    for (int k = 0; k < 16; ++k)
      s += wgmma_detail::element<T>(da, row, k, true) * wgmma_detail::element<T>(db, col, k, BKMajor);
    d[i] += s;
  }
}

/// wgmmaEmulate with A from registers: `a` holds this thread's A fragment (rows g and g + 8 of its warp's 16,
/// k = 2t, 2t + 1, 2t + 8, 2t + 9 as bf16/f16 pairs); the quad's other fragments come by shuffles.
template <typename T, int N, bool BKMajor>
__device__ __forceinline__ void wgmmaEmulateRegA(float (&d)[N / 2], const unsigned (&a)[4],
                                                 unsigned long long db) {
  const int t = int(threadIdx.x) & 127, warp = t >> 5, lane = t & 31;
  float rows[2][16]; // A rows g and g + 8, all 16 k
  for (int q = 0; q < 4; ++q) {
    unsigned r[4];
    for (int j = 0; j < 4; ++j)
      r[j] = __shfl_xor_sync(0xffffffffu, a[j], q); // lane (lane ^ q)'s fragment: its k = 2t', 2t' + 8
    const int tq = (lane & 3) ^ q;
    for (int j = 0; j < 4; ++j)
      for (int h = 0; h < 2; ++h)
        rows[j & 1][2 * tq + (j >> 1) * 8 + h] = toF32(bits<T>((unsigned short)(r[j] >> (16 * h))));
  }
  for (int i = 0; i < N / 2; ++i) {
    const int row = (i >> 1) & 1, col = (i >> 2) * 8 + (lane & 3) * 2 + (i & 1);
    float s = 0.0f;
    for (int k = 0; k < 16; ++k)
      s += rows[row][k] * wgmma_detail::element<T>(db, col, k, BKMajor);
    d[i] += s;
  }
  (void)warp;
}

/// Orders this thread's generic-proxy shared-memory writes (cp.async data that has landed, st.shared)
/// before later async-proxy reads (wgmma) of other threads, once a barrier separates them.
__device__ __forceinline__ void fenceProxyAsync() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
#endif
}

__device__ __forceinline__ void wgmmaFence() {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#endif
}
__device__ __forceinline__ void wgmmaCommit() {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
#endif
}
template <int N> __device__ __forceinline__ void wgmmaWait() {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
#endif
}
/// Pins every accumulator register at this point of the program: the compiler may neither move a read of
/// them above (before the wait that makes them valid) nor a write below (into an MMA still running). Without
/// it, ptxas finds reads between a wgmma and its wait and serializes the wgmmas.
template <int R> __device__ __forceinline__ void fenceOperands(float (&acc)[R]) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
#pragma unroll
  for (int i = 0; i < R; ++i)
    asm volatile("" : "+f"(acc[i])::"memory");
#else
  (void)acc;
#endif
}
/// fenceOperands for A fragments in registers (packed pairs): after the wait for the products that read them,
/// so that their next values are not written into them earlier (ptxas then serializes the products, C7513).
template <int R> __device__ __forceinline__ void fenceOperands(unsigned (&a)[R]) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
#pragma unroll
  for (int i = 0; i < R; ++i)
    asm volatile("" : "+r"(a[i])::"memory");
#else
  (void)a;
#endif
}
/// wgmmaWait<N>, then fenceOperands(acc).
template <int N, int R> __device__ __forceinline__ void wgmmaWait(float (&acc)[R]) {
  wgmmaWait<N>();
  fenceOperands(acc);
}

namespace wgmma_detail {
/// Product f's accumulators: registers [f * N / 2, (f + 1) * N / 2) of the thread's SUB * N / 2.
template <int N, int SUB> __device__ __forceinline__ float (&part(float (&acc)[SUB * N / 2], int f))[N / 2] {
  return *reinterpret_cast<float(*)[N / 2]>(&acc[f * (N / 2)]);
}
} // namespace wgmma_detail

/// acc += a[M,K] @ b[K,N] for the whole program (M / 64 / SUB warpgroups, each running SUB m64 products per
/// k-step: rows 64 SUB g .. of A, permuted as swizzled<..., SUB> writes them), operands swizzled in shared
/// memory (widths SA, SB). MMA(d, descA, descB) is the generated m64nNk16 instruction for this N, dtype and
/// B orientation. `wg` is this thread's warpgroup, wgmma_detail::warpgroup() of the kernel's start (the
/// generated `mt_wg`: a shuffle per call sat in the ncu profile of the matmul loop, its latency right
/// before the products' issue). Returns once at most `Wait` groups of products are in flight (1: this call's
/// may still run, the previous call's have finished; acc must then not be touched until a wgmmaWait<0>(); -1:
/// no wait at all, the caller waits).
template <typename T, int M, int N, int K, int SA, int SB, bool BKMajor,
          void (*MMA)(float (&)[N / 2], unsigned long long, unsigned long long), int Wait = 0, int SUB = 1>
__device__ __forceinline__ void wgmmaAccumulate(const T *a, const T *b, float (&acc)[SUB * N / 2], int wg,
                                                int turn = 0) {
  static_assert(sizeof(T) == 2, "wgmma operands here are f16 or bf16");
  static_assert(M % (64 * SUB) == 0 && N % 8 == 0 && N <= 256 && K % 16 == 0, "m64nNk16 tiles");
  constexpr int ACA = SA / 2, ACB = SB / 2; // elements per swizzle-atom row
  // Shared addresses stay below 2^18, so a k-step's descriptor is the base one plus its offset >> 4 (the
  // start-address field cannot carry into the next).
  const unsigned long long da0 =
      wgmma_detail::descriptor<SA>(wgmma_detail::sharedAddress(a) + unsigned(wg * 64 * SUB * SA), 16, 8 * SA);
  const unsigned long long db0 =
      BKMajor ? wgmma_detail::descriptor<SB>(wgmma_detail::sharedAddress(b), 16, 8 * SB)
              : wgmma_detail::descriptor<SB>(wgmma_detail::sharedAddress(b), unsigned(K * SB), 8 * SB);
  if (turn) // ping-pong (EmitDotPipeline.cpp): wait for this warpgroup's turn at the tensor cores
    namedBarSync(turn, 256);
  fenceOperands(acc);
  wgmmaFence();
#pragma unroll
  for (int k0 = 0; k0 < K; k0 += 16) {
    const unsigned long long da = da0 + unsigned(((k0 / ACA) * M * SA + (k0 % ACA) * 2) >> 4);
    const unsigned long long db = BKMajor ? db0 + unsigned(((k0 / ACB) * N * SB + (k0 % ACB) * 2) >> 4)
                                          : db0 + unsigned((k0 * SB) >> 4);
#pragma unroll
    for (int f = 0; f < SUB; ++f) // product f: 64 rows further
      MMA(wgmma_detail::part<N, SUB>(acc, f), da + unsigned((f * 64 * SA) >> 4), db);
  }
  wgmmaCommit();
  fenceOperands(acc);
  if constexpr (Wait >= 0)
    wgmmaWait<Wait>(acc);
}

/// Two 16-bit values in one 32-bit register, `lo` in the low half (a register-A fragment word of wgmma).
template <typename T> __device__ __forceinline__ unsigned packPair(T lo, T hi) {
  static_assert(sizeof(T) == 2, "16-bit elements");
  return unsigned(bits<unsigned short>(lo)) | (unsigned(bits<unsigned short>(hi)) << 16);
}

/// wgmmaAccumulate with A in registers, packed: word w of `af` holds elements 2w and 2w + 1 of this
/// thread's part of A (packPair), in the layout of wgmmaAccumulateRegA below.
template <typename T, int M, int N, int K, int SB, bool BKMajor,
          void (*MMA)(float (&)[N / 2], const unsigned (&)[4], unsigned long long), int Wait = 0, int SUB = 1>
__device__ __forceinline__ void wgmmaAccumulateRegA(const unsigned (&af)[SUB * K / 4], const T *b,
                                                    float (&acc)[SUB * N / 2], int wg, int turn = 0) {
  static_assert(sizeof(T) == 2, "wgmma operands here are f16 or bf16");
  static_assert(M % (64 * SUB) == 0 && N % 8 == 0 && N <= 256 && K % 16 == 0, "m64nNk16 tiles");
  constexpr int ACB = SB / 2;
  const unsigned long long db0 =
      BKMajor ? wgmma_detail::descriptor<SB>(wgmma_detail::sharedAddress(b), 16, 8 * SB)
              : wgmma_detail::descriptor<SB>(wgmma_detail::sharedAddress(b), unsigned(K * SB), 8 * SB);
  (void)wg;
  if (turn) { // ping-pong: wait for this warpgroup's turn once A is packed (orderAfter pins the wait there)
    orderAfter(af);
    namedBarSync(turn, 256);
  }
  fenceOperands(acc);
  wgmmaFence();
#pragma unroll
  for (int k0 = 0; k0 < K; k0 += 16) {
    const unsigned long long db = BKMajor ? db0 + unsigned(((k0 / ACB) * N * SB + (k0 % ACB) * 2) >> 4)
                                          : db0 + unsigned((k0 * SB) >> 4);
#pragma unroll
    for (int f = 0; f < SUB; ++f) // product f, k-step k0 / 16: words (f K / 16 + k0 / 16) * 4 .. + 3
      MMA(wgmma_detail::part<N, SUB>(acc, f),
          reinterpret_cast<const unsigned(&)[4]>(af[(f * (K / 16) + k0 / 16) * 4]), db);
  }
  wgmmaCommit();
  fenceOperands(acc);
  if constexpr (Wait >= 0)
    wgmmaWait<Wait>(acc);
}

/// wgmmaAccumulate with A in registers: `a` is this thread's part of A (M x K) in the accumulator fragment
/// layout fragLinear<M, K, warps, 1> (what a previous wgmma left, e.g. attention's probabilities cast to
/// 16 bits): product f, k-step j reads its elements f K / 2 + 8j .. + 7, which is the A fragment of
/// m64nNk16. MMA(d, a, descB) is the generated register-A instruction. A is packed in pairs first (before
/// the fence: no register writes between the products).
template <typename T, int M, int N, int K, int SB, bool BKMajor,
          void (*MMA)(float (&)[N / 2], const unsigned (&)[4], unsigned long long), int Wait = 0, int SUB = 1>
__device__ __forceinline__ void wgmmaAccumulateRegA(const T (&a)[SUB * K / 2], const T *b,
                                                    float (&acc)[SUB * N / 2], int wg, int turn = 0) {
  unsigned af[SUB * K / 4];
#pragma unroll
  for (int w = 0; w < SUB * K / 4; ++w)
    af[w] = packPair(a[2 * w], a[2 * w + 1]);
  wgmmaAccumulateRegA<T, M, N, K, SB, BKMajor, MMA, Wait, SUB>(af, b, acc, wg, turn);
}

} // namespace mt
