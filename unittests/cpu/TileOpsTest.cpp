// CPU interpreter: reduce, scan, dot, casts and float rounding, and a timed tiled matmul.
#include "KernelHarness.h"
#include "backend/cpu/Tile.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <gtest/gtest.h>

using namespace mt::cpu::test;
using mt::Grid;
using mt::LaunchArg;

namespace {

/// Loads an [R, C] f32 tile (row-major) from `p`.
Value *loadTile(Kernel &k, Value *p, int64_t R, int64_t C) {
  return k.b.load(k.ptrs(p, k.offsets2d(R, C, k.c32(C))));
}

TEST(CpuTileOps, ReduceSumAndMaxAlongEachAxis) {
  const int64_t R = 8, C = 16;
  Kernel k;
  Value *x = k.ptrArg(DType::F32, "x_ptr");
  Value *out = k.ptrArg(DType::F32, "out_ptr");
  Value *t = loadTile(k, x, R, C);
  const Type *f32 = k.s(DType::F32);
  int64_t at = 0;
  for (OpKind kind : {OpKind::Add, OpKind::Max})
    for (int64_t axis : {0, 1}) {
      int64_t len = axis == 0 ? C : R;
      Operation *red = k.b.create(OpKind::Reduce, {t}, {k.tile(DType::F32, {len})}, {{"axis", axis}});
      k.simpleCombine(red, kind, f32);
      Value *base = k.b.binary(OpKind::AddPtr, out, k.c32(at));
      k.b.store(k.ptrs(base, k.b.makeRange(0, len)), red->result(0));
      at += len;
    }
  k.ret();
  std::vector<float> xs = randomFloats(R * C, 11), got(at, 0);
  ASSERT_TRUE(
      k.run({1, 1, 1}, {LaunchArg::buffer(xs.data(), xs.size()), LaunchArg::buffer(got.data(), got.size())}));
  size_t o = 0;
  for (bool isMax : {false, true})
    for (int axis : {0, 1}) {
      int64_t len = axis == 0 ? C : R, other = axis == 0 ? R : C;
      for (int64_t i = 0; i < len; ++i) {
        double ref = isMax ? -1e30 : 0.0;
        for (int64_t j = 0; j < other; ++j) {
          double v = axis == 0 ? xs[j * C + i] : xs[i * C + j];
          ref = isMax ? std::max(ref, v) : ref + v;
        }
        EXPECT_NEAR(got[o + i], ref, 1e-5) << (isMax ? "max" : "sum") << " axis " << axis << " i " << i;
      }
      o += len;
    }
}

TEST(CpuTileOps, ScanCumsumReverseAndLinearRecurrence) {
  const int64_t N = 64;
  Kernel k;
  Value *a = k.ptrArg(DType::F32, "a_ptr");
  Value *x = k.ptrArg(DType::F32, "x_ptr");
  Value *out = k.ptrArg(DType::F32, "out_ptr");
  const Type *f32 = k.s(DType::F32);
  const Type *vec = k.tile(DType::F32, {N});
  Value *r = k.b.makeRange(0, N);
  Value *av = k.b.load(k.ptrs(a, r));
  Value *xv = k.b.load(k.ptrs(x, r));
  Operation *cumsum = k.b.create(OpKind::Scan, {xv}, {vec}, {{"axis", int64_t(0)}, {"reverse", int64_t(0)}});
  k.simpleCombine(cumsum, OpKind::Add, f32);
  Operation *rev = k.b.create(OpKind::Scan, {xv}, {vec}, {{"axis", int64_t(0)}, {"reverse", int64_t(1)}});
  k.simpleCombine(rev, OpKind::Add, f32);
  // (a1, b1), (a2, b2) -> (a1 * a2, b1 * a2 + b2): h_t = a_t h_{t-1} + x_t
  Operation *rec =
      k.b.create(OpKind::Scan, {av, xv}, {vec, vec}, {{"axis", int64_t(0)}, {"reverse", int64_t(0)}});
  {
    Block &blk = rec->body();
    Value *a1 = blk.addArgument(f32), *b1 = blk.addArgument(f32), *a2 = blk.addArgument(f32),
          *b2 = blk.addArgument(f32);
    InsertionGuard g(k.b);
    k.b.setInsertionPointToEnd(blk);
    k.b.yield({k.mul(a1, a2), k.add(k.mul(b1, a2), b2)});
  }
  k.b.store(k.ptrs(out, r), cumsum->result(0));
  k.b.store(k.ptrs(k.b.binary(OpKind::AddPtr, out, k.c32(N)), r), rev->result(0));
  k.b.store(k.ptrs(k.b.binary(OpKind::AddPtr, out, k.c32(2 * N)), r), rec->result(1));
  k.ret();
  std::vector<float> as = randomFloats(N, 21, 0.5f, 1.0f), xs = randomFloats(N, 22), got(3 * N, 0);
  ASSERT_TRUE(k.run({1, 1, 1}, {LaunchArg::buffer(as.data(), N), LaunchArg::buffer(xs.data(), N),
                                LaunchArg::buffer(got.data(), got.size())}));
  double run = 0, h = 0;
  for (int64_t i = 0; i < N; ++i) {
    run += xs[i];
    h = as[i] * h + xs[i];
    EXPECT_NEAR(got[i], run, 1e-5) << "cumsum " << i;
    EXPECT_NEAR(got[2 * N + i], h, 1e-5) << "recurrence " << i;
  }
  double back = 0;
  for (int64_t i = N - 1; i >= 0; --i) {
    back += xs[i];
    EXPECT_NEAR(got[N + i], back, 1e-5) << "reverse cumsum " << i;
  }
}

void runDot(DType in) {
  const int64_t M = 32, K = 16, N = 32;
  Kernel k;
  Value *a = k.ptrArg(in, "a_ptr");
  Value *b = k.ptrArg(in, "b_ptr");
  Value *c = k.ptrArg(DType::F32, "c_ptr");
  Value *at = k.b.load(k.ptrs(a, k.offsets2d(M, K, k.c32(K))));
  Value *bt = k.b.load(k.ptrs(b, k.offsets2d(K, N, k.c32(N))));
  Value *acc = k.cst(k.tile(DType::F32, {M, N}), 0.25);
  Value *d = k.b.create1(OpKind::Dot, {at, bt, acc}, acc->type());
  k.b.store(k.ptrs(c, k.offsets2d(M, N, k.c32(N))), d);
  k.ret();
  std::vector<float> af = randomFloats(M * K, 31), bf = randomFloats(K * N, 32), got(M * N, 0);
  std::vector<uint16_t> ah(M * K), bh(K * N);
  if (in == DType::F16) {
    for (size_t i = 0; i < af.size(); ++i)
      af[i] = mt::cpu::halfBitsToFloat(ah[i] = mt::cpu::floatToHalfBits(af[i]));
    for (size_t i = 0; i < bf.size(); ++i)
      bf[i] = mt::cpu::halfBitsToFloat(bh[i] = mt::cpu::floatToHalfBits(bf[i]));
  }
  std::vector<LaunchArg> args;
  if (in == DType::F16)
    args = {LaunchArg::buffer(ah.data(), ah.size()), LaunchArg::buffer(bh.data(), bh.size())};
  else
    args = {LaunchArg::buffer(af.data(), af.size()), LaunchArg::buffer(bf.data(), bf.size())};
  args.push_back(LaunchArg::buffer(got.data(), got.size()));
  ASSERT_TRUE(k.run({1, 1, 1}, args));
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double ref = 0.25;
      for (int64_t kk = 0; kk < K; ++kk)
        ref += double(af[i * K + kk]) * double(bf[kk * N + j]);
      ASSERT_NEAR(got[i * N + j], ref, 1e-5) << i << "," << j;
    }
}

TEST(CpuTileOps, DotF32) { runDot(DType::F32); }
TEST(CpuTileOps, DotF16InputsAccumulateInFloat) { runDot(DType::F16); }

TEST(CpuTileOps, CastsRoundAndSaturate) {
  const int64_t N = 8;
  Kernel k;
  Value *x = k.ptrArg(DType::F32, "x_ptr");
  Value *obf = k.ptrArg(DType::BF16, "bf_ptr");
  Value *oi8 = k.ptrArg(DType::I8, "i8_ptr");
  Value *ou8 = k.ptrArg(DType::U8, "u8_ptr");
  Value *of16 = k.ptrArg(DType::F16, "f16_ptr");
  Value *r = k.b.makeRange(0, N);
  Value *v = k.b.load(k.ptrs(x, r));
  k.b.store(k.ptrs(obf, r), k.b.cast(v, DType::BF16));
  k.b.store(k.ptrs(oi8, r), k.b.cast(v, DType::I8));
  k.b.store(k.ptrs(ou8, r), k.b.cast(v, DType::U8));
  Value *h = k.b.cast(v, DType::F16);
  k.b.store(k.ptrs(of16, r), k.mul(h, h)); // f16 math rounds to f16 after the op
  k.ret();
  float nan = std::nanf("");
  std::vector<float> xs = {1.00390625f, 1.01171875f, 300.f, -300.f, nan, 3.9f, -3.9f, 1.0009765625f};
  std::vector<uint16_t> bf(N), f16(N);
  std::vector<int8_t> i8(N);
  std::vector<uint8_t> u8(N);
  ASSERT_TRUE(k.run({1, 1, 1}, {LaunchArg::buffer(xs.data(), N), LaunchArg::buffer(bf.data(), N),
                                LaunchArg::buffer(i8.data(), N), LaunchArg::buffer(u8.data(), N),
                                LaunchArg::buffer(f16.data(), N)}));
  EXPECT_EQ(mt::cpu::bfloatBitsToFloat(bf[0]), 1.0f);      // tie → even
  EXPECT_EQ(mt::cpu::bfloatBitsToFloat(bf[1]), 1.015625f); // tie → even (up)
  EXPECT_EQ(mt::cpu::bfloatBitsToFloat(bf[2]), 300.f);
  EXPECT_TRUE(std::isnan(mt::cpu::bfloatBitsToFloat(bf[4])));
  std::vector<int8_t> wantI8 = {1, 1, 127, -128, 0, 3, -3, 1};
  std::vector<uint8_t> wantU8 = {1, 1, 255, 0, 0, 3, 0, 1};
  for (int i = 0; i < N; ++i) {
    EXPECT_EQ(i8[i], wantI8[i]) << i;
    EXPECT_EQ(u8[i], wantU8[i]) << i;
  }
  // (1 + 2^-10)^2 = 1 + 2^-9 + 2^-20 → f16 1 + 2^-9 (0x3c02); 300^2 overflows f16 to inf.
  EXPECT_EQ(f16[7], 0x3c02);
  EXPECT_EQ(f16[2], 0x7c00);
}

TEST(CpuTileOps, ConversionsAvoidDoubleRounding) {
  using mt::cpu::convertElem;
  using mt::cpu::Half;
  // Just above the f16 tie at 1 + 2^-11: rounding through f32 would land on the tie and go down.
  double d = 1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40);
  EXPECT_EQ(convertElem<Half>(d).bits, 0x3c01);
  EXPECT_EQ(convertElem<Half>(1.0 + std::ldexp(1.0, -11)).bits, 0x3c00);
  EXPECT_EQ(convertElem<float>(int64_t(16777217)), 16777216.0f);
  EXPECT_EQ(convertElem<int32_t>(3e10), 2147483647);
  EXPECT_EQ(convertElem<uint64_t>(-1.0), 0u);
  EXPECT_EQ(convertElem<int16_t>(int64_t(70000)), int16_t(70000 - 65536));
  EXPECT_EQ(convertElem<mt::cpu::Bool>(0.25f).v, 1);
  EXPECT_EQ(mt::cpu::floatToHalfBits(65520.f), 0x7c00);
  EXPECT_EQ(mt::cpu::floatToHalfBits(65519.f), 0x7bff);
  EXPECT_EQ(mt::cpu::floatToHalfBits(std::ldexp(1.f, -24)), 0x0001);
  EXPECT_EQ(mt::cpu::halfBitsToFloat(0x0001), std::ldexp(1.f, -24));
}

TEST(CpuTileOps, TiledMatmul512IsFast) {
  // c[M, N] = a[M, K] @ b[K, N] with 64x64 tiles, K in steps of 32.
  const int64_t BM = 64, BN = 64, BK = 32, S = 512;
  Kernel k;
  Value *a = k.ptrArg(DType::F32, "a_ptr");
  Value *b = k.ptrArg(DType::F32, "b_ptr");
  Value *c = k.ptrArg(DType::F32, "c_ptr");
  Value *K = k.scalarArg(DType::I32, "K");
  Value *N = k.scalarArg(DType::I32, "N");
  Value *pm = k.mul(k.b.programId(0), k.c32(BM));
  Value *pn = k.mul(k.b.programId(1), k.c32(BN));
  Value *rows = k.add(k.b.broadcastTo(pm, {BM}), k.b.makeRange(0, BM));
  Value *cols = k.add(k.b.broadcastTo(pn, {BN}), k.b.makeRange(0, BN));
  Value *rk = k.b.makeRange(0, BK);
  Value *rowsK = k.mul(k.b.broadcastTo(k.expandDims(rows, 1), {BM, BK}), k.b.broadcastTo(K, {BM, BK}));
  Value *aBase = k.ptrs(a, k.add(rowsK, k.b.broadcastTo(k.expandDims(rk, 0), {BM, BK})));
  Value *kN = k.mul(k.b.broadcastTo(k.expandDims(rk, 1), {BK, BN}), k.b.broadcastTo(N, {BK, BN}));
  Value *bBase = k.ptrs(b, k.add(kN, k.b.broadcastTo(k.expandDims(cols, 0), {BK, BN})));
  Value *acc0 = k.cst(k.tile(DType::F32, {BM, BN}), 0.0);
  Operation *loop = k.b.createFor(k.c32(0), K, k.c32(BK), {acc0});
  {
    InsertionGuard g(k.b);
    k.b.setInsertionPointToEnd(loop->body());
    Value *kk = loop->body().argument(0), *acc = loop->body().argument(1);
    Value *at = k.b.load(k.b.binary(OpKind::AddPtr, aBase, k.b.broadcastTo(kk, {BM, BK})));
    Value *bOff = k.mul(k.b.broadcastTo(kk, {BK, BN}), k.b.broadcastTo(N, {BK, BN}));
    Value *bt = k.b.load(k.b.binary(OpKind::AddPtr, bBase, bOff));
    k.b.yield({k.b.create1(OpKind::Dot, {at, bt, acc}, acc->type())});
  }
  Value *rowsN = k.mul(k.b.broadcastTo(k.expandDims(rows, 1), {BM, BN}), k.b.broadcastTo(N, {BM, BN}));
  k.b.store(k.ptrs(c, k.add(rowsN, k.b.broadcastTo(k.expandDims(cols, 0), {BM, BN}))), loop->result(0));
  k.ret();
  std::vector<float> as = randomFloats(S * S, 41), bs = randomFloats(S * S, 42), cs(S * S, 0);
  auto t0 = std::chrono::steady_clock::now();
  mt::Status st =
      k.run({S / BM, S / BN, 1},
            {LaunchArg::buffer(as.data(), as.size()), LaunchArg::buffer(bs.data(), bs.size()),
             LaunchArg::buffer(cs.data(), cs.size()), LaunchArg::integer(S), LaunchArg::integer(S)});
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(st) << st.error().message;
  std::printf("[ matmul ] 512x512x512 f32, 64x64x32 tiles: %.3f s\n", secs);
  EXPECT_LT(secs, 10.0);
  for (int64_t i = 0; i < S; i += 37)
    for (int64_t j = 0; j < S; j += 29) {
      double ref = 0;
      for (int64_t kk = 0; kk < S; ++kk)
        ref += double(as[i * S + kk]) * double(bs[kk * S + j]);
      ASSERT_NEAR(cs[i * S + j], ref, 1e-3) << i << "," << j;
    }
}

} // namespace
