// dot: a[M,K] @ b[K,N] + acc[M,N] (optionally with a leading batch dim).
//
// f16/bf16/f32 inputs accumulate in float, f64 in double, integers in i32 (wrapping, like the tensor
// cores' i8 → i32 path). With {input_precision = "tf32"} f32 inputs are first rounded to tf32 (10-bit
// mantissa, nearest with ties away, as cvt.rna.tf32.f32). The result has acc's dtype.
#include "backend/cpu/Exec.h"

namespace mt::cpu {

namespace {

template <class A> std::vector<A> toAccum(const Tile &t, bool tf32) {
  std::vector<A> v(t.numel());
  MT_DISPATCH_DTYPE(t.dtype(), T, {
    const T *x = t.data<T>();
    for (size_t i = 0; i < v.size(); ++i)
      v[i] = convertElem<A>(x[i]);
  });
  if constexpr (std::is_same_v<A, float>) {
    if (tf32)
      for (float &f : v) {
        uint32_t u = std::bit_cast<uint32_t>(f);
        if ((u & 0x7f800000u) != 0x7f800000u)
          f = std::bit_cast<float>((u + 0x1000u) & 0xffffe000u);
      }
  }
  return v;
}

template <class A> void matmul(const A *a, const A *b, A *c, size_t batches, size_t M, size_t N, size_t K) {
  for (size_t bt = 0; bt < batches; ++bt) {
    const A *ab = a + bt * M * K, *bb = b + bt * K * N;
    A *cb = c + bt * M * N;
    for (size_t i = 0; i < M; ++i) {
      A *crow = cb + i * N;
      for (size_t k = 0; k < K; ++k) {
        A aik = ab[i * K + k];
        const A *brow = bb + k * N;
        for (size_t j = 0; j < N; ++j)
          crow[j] += aik * brow[j];
      }
    }
  }
}

template <class A>
Tile dotIn(const ir::Operation &op, const Tile &a, const Tile &b, const Tile &acc, size_t batches, size_t M,
           size_t N, size_t K) {
  bool tf32 = a.dtype() == DType::F32 && op.stringAttr("input_precision") == "tf32";
  std::vector<A> av = toAccum<A>(a, tf32), bv = toAccum<A>(b, tf32), cv = toAccum<A>(acc, false);
  if constexpr (std::is_same_v<A, int64_t>) {
    // i32 accumulation, wrapping: do the products in 64 bits and wrap at the end of each step.
    for (size_t bt = 0; bt < batches; ++bt)
      for (size_t i = 0; i < M; ++i)
        for (size_t k = 0; k < K; ++k) {
          int64_t aik = av[bt * M * K + i * K + k];
          for (size_t j = 0; j < N; ++j) {
            int64_t &c = cv[bt * M * N + i * N + j];
            c = int32_t(uint32_t(c) + uint32_t(aik * bv[bt * K * N + k * N + j]));
          }
        }
  } else {
    matmul(av.data(), bv.data(), cv.data(), batches, M, N, K);
  }
  Tile r = Tile::ofType(op.result()->type());
  if (r.numel() != acc.numel())
    fail("dot result must have acc's shape");
  MT_DISPATCH_DTYPE(r.dtype(), T, {
    T *o = r.data<T>();
    for (size_t i = 0; i < cv.size(); ++i)
      o[i] = convertElem<T>(cv[i]);
  });
  return r;
}

} // namespace

Tile evalDot(const ir::Operation &op, const Tile &a, const Tile &b, const Tile &acc) {
  if (a.isPtr() || b.isPtr() || acc.isPtr())
    fail("dot operands must be numbers");
  unsigned rank = a.rank();
  if ((rank != 2 && rank != 3) || b.rank() != rank || acc.rank() != rank)
    fail("dot operands must be 2-D (or 3-D with a batch dim): " + a.shapeStr() + " @ " + b.shapeStr());
  size_t off = rank - 2;
  size_t batches = rank == 3 ? size_t(a.shape()[0]) : 1;
  size_t M = size_t(a.shape()[off]), K = size_t(a.shape()[off + 1]), N = size_t(b.shape()[off + 1]);
  if (size_t(b.shape()[off]) != K || size_t(acc.shape()[off]) != M || size_t(acc.shape()[off + 1]) != N ||
      (rank == 3 && (size_t(b.shape()[0]) != batches || size_t(acc.shape()[0]) != batches)))
    fail("dot shapes do not match: " + a.shapeStr() + " @ " + b.shapeStr() + " + " + acc.shapeStr());
  if (a.dtype() == DType::F64 || b.dtype() == DType::F64)
    return dotIn<double>(op, a, b, acc, batches, M, N, K);
  if (ir::isInteger(a.dtype()) && ir::isInteger(b.dtype()))
    return dotIn<int64_t>(op, a, b, acc, batches, M, N, K);
  return dotIn<float>(op, a, b, acc, batches, M, N, K);
}

} // namespace mt::cpu
