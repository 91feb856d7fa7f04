// mt/memory.cuh — atomics for the IR's `atomic_rmw {kind}` and `atomic_cas`, for every 16-, 32- and
// 64-bit element type. Native atomics where the hardware has them (add on i32/u32/u64/f32/f64/f16/bf16,
// max/min on 32/64-bit integers, and/or/xor/xchg on 32/64-bit words); a compare-and-swap loop on the
// element's bits for everything else (float max/min, 16-bit integers, ...). Each returns the old value.
#pragma once

#include "mt/math.cuh"

namespace mt {

enum class Rmw { Add, Max, Min, Xchg, And, Or, Xor };

/// Applies `*p = f(*p)` atomically by a CAS loop on the element's bits; returns the old value.
template <typename T, typename F> __device__ __forceinline__ T atomicUpdate(T *p, F f) {
  static_assert(sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8,
                "atomics need 16-, 32- or 64-bit elements");
  using B = typename BitsOf<sizeof(T)>::type;
  B *word = reinterpret_cast<B *>(p);
  B old = *word, assumed;
  do {
    assumed = old;
    old = atomicCAS(word, assumed, bits<B>(f(bits<T>(assumed))));
  } while (old != assumed);
  return bits<T>(old);
}

template <typename T> __device__ __forceinline__ T rmwApply(Rmw kind, T cur, T v) {
  switch (kind) {
  case Rmw::Add:
    return add(cur, v);
  case Rmw::Max:
    return max(cur, v);
  case Rmw::Min:
    return min(cur, v);
  case Rmw::Xchg:
    return v;
  case Rmw::And:
    if constexpr (isInt<T>)
      return bitAnd(cur, v);
    else
      return v;
  case Rmw::Or:
    if constexpr (isInt<T>)
      return bitOr(cur, v);
    else
      return v;
  case Rmw::Xor:
    if constexpr (isInt<T>)
      return bitXor(cur, v);
    else
      return v;
  }
  return v;
}

/// The IR's atomic_rmw: `old = *p; *p = old <kind> v; return old`, atomically.
template <Rmw Kind, typename T> __device__ __forceinline__ T atomicRmw(T *p, T v) {
  constexpr bool word32 = same<T, i32> || same<T, u32>;
  constexpr bool word64 = same<T, i64> || same<T, u64>;
  if constexpr (Kind == Rmw::Add && (same<T, i32> || same<T, u32> || same<T, u64> || same<T, f32> ||
                                     same<T, f64> || same<T, f16> || same<T, bf16>))
    return atomicAdd(p, v);
  else if constexpr (Kind == Rmw::Add && same<T, i64>)
    return i64(atomicAdd(reinterpret_cast<u64 *>(p), u64(v)));
  else if constexpr (Kind == Rmw::Max && (word32 || word64))
    return atomicMax(p, v);
  else if constexpr (Kind == Rmw::Min && (word32 || word64))
    return atomicMin(p, v);
  else if constexpr (Kind == Rmw::Xchg && (word32 || same<T, f32> || same<T, u64>))
    return atomicExch(p, v);
  else if constexpr (Kind == Rmw::And && (word32 || same<T, u64>))
    return atomicAnd(p, v);
  else if constexpr (Kind == Rmw::Or && (word32 || same<T, u64>))
    return atomicOr(p, v);
  else if constexpr (Kind == Rmw::Xor && (word32 || same<T, u64>))
    return atomicXor(p, v);
  else if constexpr ((Kind == Rmw::Xchg || Kind == Rmw::And || Kind == Rmw::Or || Kind == Rmw::Xor) &&
                     same<T, i64>) // the same bits as u64: one native atomic, not a compare-and-swap loop
    return i64(atomicRmw<Kind>(reinterpret_cast<u64 *>(p), u64(v)));
  else
    return atomicUpdate(p, [v](T cur) { return rmwApply(Kind, cur, v); });
}

// ---- Vector loads and stores -----------------------------------------------------------------

/// Raw words of 1, 2, 4, 8 and 16 bytes, for moving groups of elements as one memory access.
template <int Bytes> struct Word;
template <> struct Word<1> { using type = unsigned char; };
template <> struct Word<2> { using type = unsigned short; };
template <> struct Word<4> { using type = unsigned int; };
template <> struct Word<8> { using type = unsigned long long; };
struct alignas(16) Word16 {
  unsigned long long lo, hi;
};
template <> struct Word<16> { using type = Word16; };

/// x, unknown to the optimiser (it cannot hoist what depends on it out of a branch or loop).
__device__ __forceinline__ int opaque(int x) {
#if defined(__CUDA_ARCH__)
  asm volatile("" : "+r"(x));
#endif
  return x;
}

/// x, which the caller knows to be >= 0 (a thread's linear tile index), told to the optimiser: signed
/// division and remainder by powers of two then compile to shifts and masks, with no sign fix-ups.
__device__ __forceinline__ int nonNeg(int x) {
#if defined(__CUDA_ARCH__)
  __builtin_assume(x >= 0);
#endif
  return x;
}

/// Whether `p` is aligned to `Align` bytes.
template <int Align> __device__ __forceinline__ bool aligned(const void *p) {
  return (reinterpret_cast<unsigned long long>(p) & (Align - 1)) == 0;
}

/// dst[0..V) = src[0..V) in accesses of up to 16 bytes; `src` is aligned to min(16, V * sizeof(T)).
template <int V, typename T> __device__ __forceinline__ void loadVec(T *dst, const T *src) {
  constexpr int bytes = int(sizeof(T)) * V, chunk = bytes < 16 ? bytes : 16;
  using W = typename Word<chunk>::type;
#pragma unroll
  for (int c = 0; c < bytes / chunk; ++c) {
    W w = reinterpret_cast<const W *>(src)[c];
    memcpy(reinterpret_cast<char *>(dst) + c * chunk, &w, chunk);
  }
}

/// dst[0..V) = src[0..V) in accesses of up to 16 bytes; `dst` is aligned to min(16, V * sizeof(T)).
template <int V, typename T> __device__ __forceinline__ void storeVec(T *dst, const T *src) {
  constexpr int bytes = int(sizeof(T)) * V, chunk = bytes < 16 ? bytes : 16;
  using W = typename Word<chunk>::type;
#pragma unroll
  for (int c = 0; c < bytes / chunk; ++c) {
    W w;
    memcpy(&w, reinterpret_cast<const char *>(src) + c * chunk, chunk);
    reinterpret_cast<W *>(dst)[c] = w;
  }
}

/// dst[0] = a, dst[1] = b in one access; `dst` is aligned to 2 * sizeof(T). Values, not an array: the
/// stores of fragment tiles (accumulators of warpgroup MMAs, which ptxas must see read as registers).
template <typename T> __device__ __forceinline__ void storePair(T *dst, T a, T b) {
  struct alignas(2 * sizeof(T)) Pair {
    T x, y;
  };
  *reinterpret_cast<Pair *>(dst) = Pair{a, b};
}

/// Copies `Bytes` (4, 8 or 16) from global `src` to shared `dst` without going through registers
/// (cp.async, sm_80+; 16 bytes bypass L1), or writes zeros when !pred (src is not read). Completes at
/// cpAsyncWait; cpAsyncCommit closes a group. Elsewhere (the host emulation) a plain copy.
template <int Bytes> __device__ __forceinline__ void cpAsync(void *dst, const void *src, bool pred) {
  static_assert(Bytes == 4 || Bytes == 8 || Bytes == 16, "cp.async copies 4, 8 or 16 bytes");
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  const unsigned d = static_cast<unsigned>(__cvta_generic_to_shared(dst));
  if constexpr (Bytes == 16)
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(d), "l"(src), "r"(pred ? 16 : 0)
                 : "memory");
  else
    asm volatile("cp.async.ca.shared.global [%0], [%1], %2, %3;\n" ::"r"(d), "l"(src), "n"(Bytes),
                 "r"(pred ? Bytes : 0)
                 : "memory");
#else
  using W = typename Word<Bytes>::type;
  W w;
  if (pred)
    w = *reinterpret_cast<const W *>(src);
  else
    memset(&w, 0, Bytes);
  *reinterpret_cast<W *>(dst) = w;
#endif
}
__device__ __forceinline__ void cpAsyncCommit() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.commit_group;\n" ::: "memory");
#endif
}
/// Waits until at most N committed groups of this thread are still in flight.
template <int N> __device__ __forceinline__ void cpAsyncWait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
#endif
}

/// mbarriers in shared memory (one 64-bit word each; sm_90 here: only warpgroup-MMA loops use them,
/// EmitDotPipeline.cpp): init with the number of arrivals a phase expects; arrive (release); mbarInval ends
/// one; cpAsyncArrive arrives once this thread's earlier cp.asyncs have landed (noinc: counted in the init's
/// number); mbarWait returns once the phase of parity `parity` has completed. Host emulation:
/// unittests/cuda/host/host_shim.h.
__device__ __forceinline__ void mbarInit(unsigned long long *bar, unsigned count) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("mbarrier.init.shared.b64 [%0], %1;\n" ::"r"(unsigned(__cvta_generic_to_shared(bar))),
               "r"(count)
               : "memory");
#elif !defined(__CUDA_ARCH__)
  mtHostMbarInit(bar, count);
#endif
}
/// Ends an mbarrier's life, so that its word may hold other data (or a new mbarrier after mbarInit).
__device__ __forceinline__ void mbarInval(unsigned long long *bar) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("mbarrier.inval.shared.b64 [%0];\n" ::"r"(unsigned(__cvta_generic_to_shared(bar))) : "memory");
#elif !defined(__CUDA_ARCH__)
  *bar = 0;
#endif
}
__device__ __forceinline__ void mbarArrive(unsigned long long *bar) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  unsigned long long state;
  asm volatile("mbarrier.arrive.shared.b64 %0, [%1];\n"
               : "=l"(state)
               : "r"(unsigned(__cvta_generic_to_shared(bar)))
               : "memory");
  (void)state;
#elif !defined(__CUDA_ARCH__)
  mtHostMbarArrive(bar);
#endif
}
__device__ __forceinline__ void cpAsyncArrive(unsigned long long *bar) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile(
      "cp.async.mbarrier.arrive.noinc.shared.b64 [%0];\n" ::"r"(unsigned(__cvta_generic_to_shared(bar)))
      : "memory");
#elif !defined(__CUDA_ARCH__)
  mtHostMbarArrive(bar); // the host's copies are done already
#endif
}
__device__ __forceinline__ void mbarWait(unsigned long long *bar, unsigned parity) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("{\n.reg .pred p;\nmt_wait_%=:\n"
               "mbarrier.try_wait.parity.shared::cta.b64 p, [%0], %1;\n"
               "@!p bra mt_wait_%=;\n}\n" ::"r"(unsigned(__cvta_generic_to_shared(bar))),
               "r"(parity)
               : "memory");
#elif defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("{\n.reg .pred p;\nmt_wait_%=:\n"
               "mbarrier.test_wait.parity.shared.b64 p, [%0], %1;\n"
               "@!p bra mt_wait_%=;\n}\n" ::"r"(unsigned(__cvta_generic_to_shared(bar))),
               "r"(parity)
               : "memory");
#elif !defined(__CUDA_ARCH__)
  mtHostMbarWait(bar, parity);
#endif
}

/// Named barriers 1..15 of the block (`__syncthreads` is barrier 0), for warpgroup ping-pong
/// (EmitDotPipeline.cpp): namedBarSync waits until `threads` threads (this warp's included) have reached
/// barrier `id` by either call; namedBarArrive counts this warp and goes on. Scheduling only, no data
/// ordering is relied on: the host emulation, whose warps run in lock-step, skips them.
__device__ __forceinline__ void namedBarSync(int id, int threads) {
#if defined(__CUDA_ARCH__)
  asm volatile("bar.sync %0, %1;\n" ::"r"(id), "r"(threads) : "memory");
#else
  (void)id, (void)threads;
#endif
}
__device__ __forceinline__ void namedBarArrive(int id, int threads) {
#if defined(__CUDA_ARCH__)
  asm volatile("bar.arrive %0, %1;\n" ::"r"(id), "r"(threads) : "memory");
#else
  (void)id, (void)threads;
#endif
}

/// Keeps what follows (a warpgroup's turn wait, EmitDotPipeline.cpp) after every write of `v`: a predicate
/// computed from all of v's elements guards a side effect that never happens (ptxas keeps side-effecting
/// instructions in program order, and may move arithmetic across a barrier but not past its consumers).
/// Without it ptxas hoisted the wait above the last ~180 softmax instructions of attention (SASS, sm_90a).
template <typename T, int N> __device__ __forceinline__ void orderAfter(const T (&v)[N]) {
#if defined(__CUDA_ARCH__)
  static_assert(sizeof(T) == 2 || sizeof(T) == 4, "16- or 32-bit elements");
  unsigned y[4] = {0, 0, 0, 0}; // four independent chains: a short latency before the wait
#pragma unroll
  for (int i = 0; i < N; ++i) {
    if constexpr (sizeof(T) == 2)
      y[(i / 2) % 4] ^= unsigned(bits<unsigned short>(v[i])) << (16 * (i & 1));
    else
      y[i % 4] ^= bits<unsigned>(v[i]);
  }
  const unsigned x = (y[0] ^ y[1]) ^ (y[2] ^ y[3]);
  asm volatile("{\n.reg .pred p;\nsetp.eq.u32 p, %0, 0x7fc17fc1;\n@p nanosleep.u32 1;\n}\n" ::"r"(x)
               : "memory");
#else
  (void)v;
#endif
}

/// The IR's atomic_cas: `old = *p; if (old == cmp) *p = v; return old` (bitwise equality).
template <typename T> __device__ __forceinline__ T atomicCas(T *p, T cmp, T v) {
  static_assert(sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8,
                "atomic_cas needs 16-, 32- or 64-bit elements");
  using B = typename BitsOf<sizeof(T)>::type;
  return bits<T>(atomicCAS(reinterpret_cast<B *>(p), bits<B>(cmp), bits<B>(v)));
}

} // namespace mt
