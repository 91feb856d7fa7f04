// CPU interpreter: shape ops, integer/bit semantics, select/fma/bitcast, masked loads, print, atomic_cas.
#include "KernelHarness.h"
#include "backend/cpu/Tile.h"

#include <gtest/gtest.h>

using namespace mt::cpu::test;
using mt::LaunchArg;

namespace {

TEST(CpuShapeOps, TransReshapeJoinSplit) {
  Kernel k;
  Value *out = k.ptrArg(DType::I32, "out_ptr");
  Value *t = k.offsets2d(4, 8, k.c32(8)); // t[r, c] = 8 r + c
  Value *tt =
      k.b.create1(OpKind::Trans, {t}, k.tile(DType::I32, {8, 4}), {{"order", std::vector<int64_t>{1, 0}}});
  Value *flat = k.b.create1(OpKind::Reshape, {tt}, k.tile(DType::I32, {32}));
  Value *r32 = k.b.makeRange(0, 32);
  k.b.store(k.ptrs(out, r32), flat);
  // 3-D: [2, 3, 4] with order [2, 0, 1] → [4, 2, 3], result[i, j, l] = in[j, l, i]
  Value *r24 = k.b.makeRange(0, 24);
  Value *cube = k.b.create1(OpKind::Reshape, {r24}, k.tile(DType::I32, {2, 3, 4}));
  Value *perm = k.b.create1(OpKind::Trans, {cube}, k.tile(DType::I32, {4, 2, 3}),
                            {{"order", std::vector<int64_t>{2, 0, 1}}});
  Value *pflat = k.b.create1(OpKind::Reshape, {perm}, k.tile(DType::I32, {24}));
  k.b.store(k.ptrs(k.b.binary(OpKind::AddPtr, out, k.c32(32)), r24), pflat);
  // join(a, b) → [4, 2]; split gives them back (swapped when stored).
  Value *a = k.b.makeRange(0, 4);
  Value *b = k.mul(a, k.b.broadcastTo(k.c32(-10), {4}));
  Value *j = k.b.create1(OpKind::Join, {a, b}, k.tile(DType::I32, {4, 2}));
  Value *jflat = k.b.create1(OpKind::Reshape, {j}, k.tile(DType::I32, {8}));
  k.b.store(k.ptrs(k.b.binary(OpKind::AddPtr, out, k.c32(56)), k.b.makeRange(0, 8)), jflat);
  Operation *sp = k.b.create(OpKind::Split, {j}, {k.tile(DType::I32, {4}), k.tile(DType::I32, {4})});
  k.b.store(k.ptrs(k.b.binary(OpKind::AddPtr, out, k.c32(64)), a), sp->result(1));
  k.b.store(k.ptrs(k.b.binary(OpKind::AddPtr, out, k.c32(68)), a), sp->result(0));
  k.ret();
  std::vector<int32_t> got(72, -1);
  ASSERT_TRUE(k.run({1, 1, 1}, {LaunchArg::buffer(got.data(), got.size())}));
  for (int c = 0; c < 8; ++c)
    for (int r = 0; r < 4; ++r)
      ASSERT_EQ(got[c * 4 + r], 8 * r + c);
  for (int i = 0; i < 4; ++i)
    for (int jj = 0; jj < 2; ++jj)
      for (int l = 0; l < 3; ++l)
        ASSERT_EQ(got[32 + (i * 2 + jj) * 3 + l], jj * 12 + l * 4 + i);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(got[56 + 2 * i], i);
    EXPECT_EQ(got[56 + 2 * i + 1], -10 * i);
    EXPECT_EQ(got[64 + i], -10 * i);
    EXPECT_EQ(got[68 + i], i);
  }
}

TEST(CpuShapeOps, IntegerAndBitSemantics) {
  Kernel k;
  Value *oi = k.ptrArg(DType::I32, "i_ptr");
  Value *ou = k.ptrArg(DType::U32, "u_ptr");
  Value *o8 = k.ptrArg(DType::U8, "u8_ptr");
  Value *ob = k.ptrArg(DType::I1, "b_ptr");
  const Type *u32 = k.s(DType::U32), *u8 = k.s(DType::U8);
  auto st = [&](Value *p, int64_t i, Value *v) { k.b.store(k.b.binary(OpKind::AddPtr, p, k.c32(i)), v); };
  st(oi, 0, k.b.binary(OpKind::Shr, k.c32(-20), k.c32(2))); // arithmetic: -5
  st(oi, 1, k.b.binary(OpKind::Rem, k.c32(-7), k.c32(3)));  // C remainder: -1
  st(oi, 2, k.b.binary(OpKind::Shl, k.c32(1), k.c32(40)));  // shift ≥ width: 0
  st(oi, 3, k.b.unary(OpKind::Not, k.c32(5)));              // -6
  st(oi, 4, k.b.binary(OpKind::Max, k.c32(-3), k.c32(2)));  // 2
  st(oi, 5, k.b.binary(OpKind::Xor, k.c32(12), k.c32(10))); // 6
  st(ou, 0, k.b.binary(OpKind::Shr, k.b.constInt(u32, 0xfffffff0u), k.b.constInt(u32, 4))); // logical
  st(ou, 1, k.b.binary(OpKind::Sub, k.b.constInt(u32, 1), k.b.constInt(u32, 2)));           // wraps
  st(o8, 0, k.b.binary(OpKind::Add, k.b.constInt(u8, 200), k.b.constInt(u8, 100)));         // 44
  st(ob, 0, k.b.unary(OpKind::Not, k.b.constBool(true)));
  st(ob, 1, k.b.cast(k.cst(k.s(DType::F32), 0.5), DType::I1));
  k.ret();
  std::vector<int32_t> gi(6, 99);
  std::vector<uint32_t> gu(2, 99);
  uint8_t g8 = 0;
  uint8_t gb[2] = {7, 7};
  ASSERT_TRUE(k.run({1, 1, 1}, {LaunchArg::buffer(gi.data(), 6), LaunchArg::buffer(gu.data(), 2),
                                LaunchArg::buffer(&g8, 1), LaunchArg::buffer(gb, 2)}));
  EXPECT_EQ(gi, (std::vector<int32_t>{-5, -1, 0, -6, 2, 6}));
  EXPECT_EQ(gu[0], 0x0fffffffu);
  EXPECT_EQ(gu[1], 0xffffffffu);
  EXPECT_EQ(g8, 44);
  EXPECT_EQ(gb[0], 0);
  EXPECT_EQ(gb[1], 1);
}

TEST(CpuShapeOps, SelectFmaBitcastAndMaskedLoadWithOther) {
  const int64_t N = 16;
  Kernel k;
  Value *x = k.ptrArg(DType::F32, "x_ptr");
  Value *out = k.ptrArg(DType::F32, "out_ptr");
  Value *bits = k.ptrArg(DType::I32, "bits_ptr");
  Value *n = k.scalarArg(DType::I32, "n");
  Value *r = k.b.makeRange(0, N);
  Value *mask = k.b.cmp("lt", r, k.b.broadcastTo(n, {N}));
  const Type *vec = k.tile(DType::F32, {N});
  Value *v = k.b.load(k.ptrs(x, r), mask, k.cst(vec, -100.0));
  Value *h = k.b.create1(OpKind::Hint, {v}, vec, {{"multiple_of", std::vector<int64_t>{16}}});
  Value *f = k.b.create1(OpKind::Fma, {h, k.cst(vec, 3.0), k.cst(vec, 0.5)}, vec);
  Value *sel = k.b.select(k.b.cmp("gt", h, k.cst(vec, 0.0)), f, k.b.unary(OpKind::Neg, h));
  k.b.store(k.ptrs(out, r), sel);
  k.b.store(k.ptrs(bits, r), k.b.create1(OpKind::Bitcast, {h}, k.tile(DType::I32, {N})));
  k.ret();
  std::vector<float> xs = randomFloats(10, 51), got(N);
  std::vector<int32_t> gb(N);
  ASSERT_TRUE(k.run({1, 1, 1}, {LaunchArg::buffer(xs.data(), xs.size()), LaunchArg::buffer(got.data(), N),
                                LaunchArg::buffer(gb.data(), N), LaunchArg::integer(10)}));
  for (int i = 0; i < N; ++i) {
    float v = i < 10 ? xs[i] : -100.f;
    EXPECT_EQ(got[i], v > 0 ? std::fma(v, 3.f, 0.5f) : -v) << i;
    EXPECT_EQ(gb[i], std::bit_cast<int32_t>(v)) << i;
  }
}

TEST(CpuShapeOps, DevicePrintOneLinePerElement) {
  Kernel k;
  Value *r = k.b.makeRange(0, 2);
  Value *t = k.b.create1(OpKind::Reshape, {k.b.makeRange(0, 4)}, k.tile(DType::I32, {2, 2}));
  k.b.create(OpKind::Print, {r}, {}, {{"prefix", std::string("r: ")}});
  k.b.create(OpKind::Print, {k.b.cast(t, DType::F32)}, {}, {{"prefix", std::string("t: ")}});
  k.ret();
  testing::internal::CaptureStdout();
  ASSERT_TRUE(k.run({1, 1, 1}, {}));
  std::string text = testing::internal::GetCapturedStdout();
  EXPECT_EQ(text, "pid (0, 0, 0) idx (0) r: 0\n"
                  "pid (0, 0, 0) idx (1) r: 1\n"
                  "pid (0, 0, 0) idx (0, 0) t: 0\n"
                  "pid (0, 0, 0) idx (0, 1) t: 1\n"
                  "pid (0, 0, 0) idx (1, 0) t: 2\n"
                  "pid (0, 0, 0) idx (1, 1) t: 3\n");
}

TEST(CpuShapeOps, AtomicCasHasOneWinner) {
  // Every program tries cas(lock, 0, pid + 1) and records the old value it saw.
  Kernel k;
  Value *lock = k.ptrArg(DType::I32, "lock");
  Value *seen = k.ptrArg(DType::I32, "seen");
  Value *pid = k.b.programId(0);
  Value *old = k.b.create1(OpKind::AtomicCas, {lock, k.c32(0), k.add(pid, k.c32(1))}, k.s(DType::I32));
  k.b.store(k.b.binary(OpKind::AddPtr, seen, pid), old);
  k.ret();
  const int P = 500;
  int32_t l = 0;
  std::vector<int32_t> s(P, -1);
  ASSERT_TRUE(k.run({P, 1, 1}, {LaunchArg::buffer(&l, 1), LaunchArg::buffer(s.data(), P)}));
  int winners = 0;
  for (int p = 0; p < P; ++p) {
    if (s[p] == 0) {
      ++winners;
      EXPECT_EQ(l, p + 1);
    } else {
      EXPECT_EQ(s[p], l);
    }
  }
  EXPECT_EQ(winners, 1);
}

TEST(CpuShapeOps, ReduceOverflowAndRegionCombine) {
  // Sum of i32 that overflows is an error on the fast path too; an argmax-style 2-operand reduce runs
  // the region.
  Kernel k;
  Value *x = k.ptrArg(DType::I32, "x_ptr");
  Value *out = k.ptrArg(DType::I32, "out_ptr");
  Value *r = k.b.makeRange(0, 8);
  Value *v = k.b.load(k.ptrs(x, r));
  const Type *i32 = k.s(DType::I32);
  Operation *am = k.b.create(OpKind::Reduce, {v, r}, {i32, i32}, {{"axis", int64_t(0)}});
  {
    Block &blk = am->body();
    Value *v1 = blk.addArgument(i32), *i1 = blk.addArgument(i32), *v2 = blk.addArgument(i32),
          *i2 = blk.addArgument(i32);
    InsertionGuard g(k.b);
    k.b.setInsertionPointToEnd(blk);
    Value *takeLeft = k.b.cmp("ge", v1, v2);
    k.b.yield({k.b.select(takeLeft, v1, v2), k.b.select(takeLeft, i1, i2)});
  }
  k.b.store(out, am->result(1));
  Operation *sum = k.b.create(OpKind::Reduce, {v}, {i32}, {{"axis", int64_t(0)}});
  k.simpleCombine(sum, OpKind::Add, i32);
  k.b.store(k.b.binary(OpKind::AddPtr, out, k.c32(1)), sum->result(0));
  k.ret();
  std::vector<int32_t> xs = {5, -3, 17, 2, 17, 9, -20, 0}, got(2, -1);
  ASSERT_TRUE(k.run({1, 1, 1}, {LaunchArg::buffer(xs.data(), 8), LaunchArg::buffer(got.data(), 2)}));
  EXPECT_EQ(got[0], 2);
  EXPECT_EQ(got[1], 27);
  xs[3] = 2147483640; // 5 - 3 + 17 + 2147483640 > INT32_MAX
  mt::Status st = k.run({1, 1, 1}, {LaunchArg::buffer(xs.data(), 8), LaunchArg::buffer(got.data(), 2)});
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("integer overflow in i32 add"), std::string::npos) << st.error().message;
}

} // namespace
