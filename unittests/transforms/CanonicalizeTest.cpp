#include "PassTestUtil.h"

#include "transforms/Canonicalize.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <optional>
#include <random>

using namespace mt::ir;
using mt::transforms::runCanonicalize;
using mt::transforms::testing::PassTest;

namespace {

/// Builds `store %p, op(constant a, constant b)`, canonicalizes, and returns the stored constant's
/// value attribute, or nullopt if the op was not folded.
std::optional<AttrValue> foldOp(TypeContext &tc, OpKind kind, DType d, AttrValue a, AttrValue b,
                                std::string pred = "") {
  Module m(tc);
  Function *f = m.addFunction("t", mt::SourceLoc{});
  Builder bld(tc);
  bld.setInsertionPointToEnd(f->body());
  DType rd = kind == OpKind::Cmp ? DType::I1 : d;
  Value *p = f->body().addArgument(tc.pointer(tc.scalar(rd)));
  Value *x = bld.create1(OpKind::Constant, {}, tc.scalar(d), {{"value", a}});
  Value *r = x;
  if (kind == OpKind::Cast) {
    r = bld.create1(OpKind::Cast, {x},
                    tc.scalar(std::get<int64_t>(b) >= 0 ? DType(std::get<int64_t>(b)) : d));
  } else {
    Value *y = bld.create1(OpKind::Constant, {}, tc.scalar(d), {{"value", b}});
    r = kind == OpKind::Cmp ? bld.cmp(pred, x, y) : bld.binary(kind, x, y);
  }
  p = f->body().argument(0);
  if (kind == OpKind::Cast)
    p = f->body().addArgument(tc.pointer(r->type()));
  bld.store(p, r);
  bld.create(OpKind::Return, {}, {});
  runCanonicalize(*f);
  Operation *def = nullptr;
  f->walk([&](Operation *op) {
    if (op->kind() == OpKind::Store)
      def = op->operand(1)->definingOp();
  });
  if (!def || def->kind() != OpKind::Constant)
    return std::nullopt;
  return *def->attr("value");
}

std::optional<AttrValue> castOp(TypeContext &tc, DType from, AttrValue v, DType to) {
  return foldOp(tc, OpKind::Cast, from, v, AttrValue(int64_t(to)));
}

int64_t asInt(const std::optional<AttrValue> &a) { return a ? std::get<int64_t>(*a) : INT64_MIN + 7; }
double asFloat(const std::optional<AttrValue> &a) { return a ? std::get<double>(*a) : NAN; }

float roundBf16(float x) {
  uint32_t bits = std::bit_cast<uint32_t>(x);
  bits += 0x7FFF + ((bits >> 16) & 1);
  return std::bit_cast<float>(bits & 0xFFFF0000u);
}

} // namespace

TEST(CanonicalizeFold, SignedI32MatchesC) {
  TypeContext tc;
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int32_t> dist(-100000, 100000);
  for (int n = 0; n < 50; ++n) {
    int32_t a = dist(rng) * 997, b = dist(rng) | 1; // b odd: never zero
    auto wrap = [](int64_t v) { return int64_t(int32_t(uint32_t(v))); };
    EXPECT_EQ(asInt(foldOp(tc, OpKind::Add, DType::I32, int64_t(a), int64_t(b))), wrap(int64_t(a) + b));
    EXPECT_EQ(asInt(foldOp(tc, OpKind::Sub, DType::I32, int64_t(a), int64_t(b))), wrap(int64_t(a) - b));
    EXPECT_EQ(asInt(foldOp(tc, OpKind::Mul, DType::I32, int64_t(a), int64_t(b))), wrap(int64_t(a) * b));
    EXPECT_EQ(asInt(foldOp(tc, OpKind::Div, DType::I32, int64_t(a), int64_t(b))), a / b);
    EXPECT_EQ(asInt(foldOp(tc, OpKind::Rem, DType::I32, int64_t(a), int64_t(b))), a % b);
    EXPECT_EQ(asInt(foldOp(tc, OpKind::Xor, DType::I32, int64_t(a), int64_t(b))), a ^ b);
    EXPECT_EQ(asInt(foldOp(tc, OpKind::Max, DType::I32, int64_t(a), int64_t(b))), std::max(a, b));
    EXPECT_EQ(asInt(foldOp(tc, OpKind::Shr, DType::I32, int64_t(a), int64_t(n % 31))), a >> (n % 31));
    EXPECT_EQ(asInt(foldOp(tc, OpKind::Shl, DType::I32, int64_t(a), int64_t(n % 31))),
              wrap(int64_t(uint32_t(a) << (n % 31))));
    EXPECT_EQ(asInt(foldOp(tc, OpKind::Cmp, DType::I32, int64_t(a), int64_t(b), "lt")), a < b ? 1 : 0);
  }
}

TEST(CanonicalizeFold, UnsignedAndNarrowWrap) {
  TypeContext tc;
  std::mt19937 rng(99);
  std::uniform_int_distribution<int> byte(1, 255);
  for (int n = 0; n < 50; ++n) {
    uint8_t a = byte(rng), b = byte(rng);
    EXPECT_EQ(asInt(foldOp(tc, OpKind::Add, DType::U8, int64_t(a), int64_t(b))), uint8_t(a + b));
    EXPECT_EQ(asInt(foldOp(tc, OpKind::Mul, DType::U8, int64_t(a), int64_t(b))), uint8_t(a * b));
    EXPECT_EQ(asInt(foldOp(tc, OpKind::Div, DType::U8, int64_t(a), int64_t(b))), a / b);
    EXPECT_EQ(asInt(foldOp(tc, OpKind::Shr, DType::U8, int64_t(a), int64_t(n % 8))), a >> (n % 8));
    int8_t sa = int8_t(a), sb = int8_t(b);
    EXPECT_EQ(asInt(foldOp(tc, OpKind::Add, DType::I8, int64_t(sa), int64_t(sb))), int8_t(uint8_t(sa + sb)));
    EXPECT_EQ(asInt(foldOp(tc, OpKind::Shr, DType::I8, int64_t(sa), int64_t(n % 8))), sa >> (n % 8));
    EXPECT_EQ(asInt(foldOp(tc, OpKind::Cmp, DType::I8, int64_t(sa), int64_t(sb), "gt")), sa > sb ? 1 : 0);
  }
  // u32: 0xFFFFFFFF is 4294967295, not -1: it compares greater and divides unsigned.
  EXPECT_EQ(asInt(foldOp(tc, OpKind::Cmp, DType::U32, int64_t(4294967295), int64_t(3), "gt")), 1);
  EXPECT_EQ(asInt(foldOp(tc, OpKind::Div, DType::U32, int64_t(4294967295), int64_t(3))), 1431655765);
  EXPECT_EQ(asInt(foldOp(tc, OpKind::Add, DType::U32, int64_t(4294967295), int64_t(5))), 4);
  // u64 beyond INT64_MAX keeps its bit pattern and compares unsigned.
  int64_t big = int64_t(uint64_t(1) << 63) + 11;
  EXPECT_EQ(asInt(foldOp(tc, OpKind::Cmp, DType::U64, big, int64_t(5), "gt")), 1);
  EXPECT_EQ(asInt(foldOp(tc, OpKind::Div, DType::U64, big, int64_t(2))), int64_t((uint64_t(1) << 62) + 5));
}

TEST(CanonicalizeFold, NothingThatTrapsIsFolded) {
  TypeContext tc;
  EXPECT_FALSE(foldOp(tc, OpKind::Div, DType::I32, int64_t(17), int64_t(0)));
  EXPECT_FALSE(foldOp(tc, OpKind::Rem, DType::U16, int64_t(17), int64_t(0)));
  EXPECT_FALSE(foldOp(tc, OpKind::Div, DType::I32, int64_t(INT32_MIN), int64_t(-1)));
  EXPECT_FALSE(foldOp(tc, OpKind::Shl, DType::I32, int64_t(3), int64_t(32)));
  EXPECT_FALSE(foldOp(tc, OpKind::Shr, DType::I8, int64_t(3), int64_t(-1)));
  // Float division by zero is IEEE (inf), not a trap: folded.
  EXPECT_EQ(asFloat(foldOp(tc, OpKind::Div, DType::F32, 3.5, 0.0)), INFINITY);
  // Out-of-range and NaN float -> int casts are undefined: not folded.
  EXPECT_FALSE(castOp(tc, DType::F32, 3.0e9, DType::I32));
  EXPECT_FALSE(castOp(tc, DType::F32, -1.5, DType::U8));
  EXPECT_FALSE(castOp(tc, DType::F32, NAN, DType::I32));
}

TEST(CanonicalizeFold, FloatsInTheirOwnPrecision) {
  TypeContext tc;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-300.0f, 300.0f);
  for (int n = 0; n < 50; ++n) {
    float a = dist(rng), b = dist(rng);
    EXPECT_EQ(asFloat(foldOp(tc, OpKind::Add, DType::F32, double(a), double(b))), double(a + b));
    EXPECT_EQ(asFloat(foldOp(tc, OpKind::Mul, DType::F32, double(a), double(b))), double(a * b));
    EXPECT_EQ(asFloat(foldOp(tc, OpKind::Div, DType::F32, double(a), double(b))), double(a / b));
    EXPECT_EQ(asFloat(foldOp(tc, OpKind::Div, DType::F64, double(a), double(b))), double(a) / double(b));
    _Float16 ha = _Float16(a), hb = _Float16(b);
    _Float16 hs = ha + hb, hm = ha * hb, hd = ha / hb;
    EXPECT_EQ(asFloat(foldOp(tc, OpKind::Add, DType::F16, double(ha), double(hb))), double(hs));
    EXPECT_EQ(asFloat(foldOp(tc, OpKind::Mul, DType::F16, double(ha), double(hb))), double(hm));
    EXPECT_EQ(asFloat(foldOp(tc, OpKind::Div, DType::F16, double(ha), double(hb))), double(hd));
    float ba = roundBf16(a), bb = roundBf16(b);
    EXPECT_EQ(asFloat(foldOp(tc, OpKind::Mul, DType::BF16, double(ba), double(bb))),
              double(roundBf16(ba * bb)));
    EXPECT_EQ(asFloat(foldOp(tc, OpKind::Sub, DType::BF16, double(ba), double(bb))),
              double(roundBf16(ba - bb)));
    EXPECT_EQ(asInt(foldOp(tc, OpKind::Cmp, DType::F32, double(a), double(b), "le")), a <= b ? 1 : 0);
  }
  // f16 overflows to inf at 65520.
  EXPECT_EQ(asFloat(foldOp(tc, OpKind::Mul, DType::F16, 300.0, 300.0)), INFINITY);
  // max/min: a NaN operand loses.
  EXPECT_EQ(asFloat(foldOp(tc, OpKind::Max, DType::F32, NAN, 2.5)), 2.5);
}

TEST(CanonicalizeFold, Casts) {
  TypeContext tc;
  EXPECT_EQ(asInt(castOp(tc, DType::F32, -3.75, DType::I32)), -3); // truncation toward zero
  EXPECT_EQ(asInt(castOp(tc, DType::F64, 200.9, DType::U8)), 200);
  EXPECT_EQ(asInt(castOp(tc, DType::I32, 300, DType::U8)), 44);
  EXPECT_EQ(asInt(castOp(tc, DType::I32, -1, DType::U32)), 4294967295);
  EXPECT_EQ(asInt(castOp(tc, DType::U8, 200, DType::I8)), -56);
  EXPECT_EQ(asInt(castOp(tc, DType::I8, -56, DType::I64)), -56);
  EXPECT_EQ(asFloat(castOp(tc, DType::I32, 16777217, DType::F32)), 16777216.0); // rounded to f32
  EXPECT_EQ(asFloat(castOp(tc, DType::F32, 0.1f, DType::F16)), double(_Float16(0.1f)));
  EXPECT_EQ(asFloat(castOp(tc, DType::U32, 4294967295, DType::F64)), 4294967295.0);
  EXPECT_FALSE(castOp(tc, DType::I32, 5, DType::I1)); // to bool is `!= 0`: left alone
}

TEST_F(PassTest, CanonicalizeIntIdentities) {
  Value *x = param(ty(DType::I32), "x");
  Value *p = param(ptr(DType::I32), "p");
  Value *v = b.binary(OpKind::Add, x, b.constI32(0)); // x + 0
  v = b.binary(OpKind::Mul, b.constI32(1), v);        // 1 * x
  v = b.binary(OpKind::Sub, v, b.constI32(0));        // x - 0
  v = b.binary(OpKind::Div, v, b.constI32(1));        // x / 1
  v = b.binary(OpKind::Or, v, b.constI32(0));         // x | 0
  v = b.binary(OpKind::Xor, v, b.constI32(0));        // x ^ 0
  v = b.binary(OpKind::Shl, v, b.constI32(0));        // x << 0
  v = b.select(b.cmp("lt", x, b.constI32(5)), v, v);  // select(c, x, x)
  v = b.create1(OpKind::Cast, {v}, ty(DType::I32));   // cast to the same type
  b.store(p, v);
  b.store(p, b.binary(OpKind::Mul, x, b.constI32(0))); // x * 0 -> 0 (int)
  b.store(p, b.binary(OpKind::And, x, b.constI32(0))); // x & 0 -> 0
  finish();
  EXPECT_TRUE(runCanonicalize(*f));
  std::string s = ir();
  EXPECT_NE(s.find("  store %p, %x\n"), std::string::npos) << s;
  EXPECT_NE(s.find("  %0 = constant {value = 0} : i32\n  store %p, %0\n"), std::string::npos) << s;
  EXPECT_NE(s.find("  %1 = constant {value = 0} : i32\n  store %p, %1\n"), std::string::npos) << s;
  EXPECT_EQ(count(OpKind::Select) + count(OpKind::Add) + count(OpKind::Mul) + count(OpKind::Cast) +
                count(OpKind::Cmp),
            0)
      << s;
  EXPECT_FALSE(runCanonicalize(*f)); // fixpoint reached
}

TEST_F(PassTest, CanonicalizeFloatIdentitiesOnlyWhereExact) {
  Value *x = param(ty(DType::F32), "x");
  Value *p = param(ptr(DType::F32), "p");
  const Type *f32 = ty(DType::F32);
  b.store(p, b.binary(OpKind::Mul, x, b.constFloat(f32, 0.0)));  // x * 0: nan for inf, -0 for x < 0
  b.store(p, b.binary(OpKind::Add, x, b.constFloat(f32, 0.0)));  // x + 0.0: -0.0 + 0.0 = +0.0
  b.store(p, b.binary(OpKind::Add, x, b.constFloat(f32, -0.0))); // x + -0.0 -> x
  b.store(p, b.binary(OpKind::Mul, x, b.constFloat(f32, 1.0)));  // x * 1 -> x
  b.store(p, b.binary(OpKind::Div, x, b.constFloat(f32, 1.0)));  // x / 1 -> x
  b.store(p, b.binary(OpKind::Sub, x, b.constFloat(f32, 0.0)));  // x - 0.0 -> x
  finish();
  EXPECT_TRUE(runCanonicalize(*f));
  std::string s = ir();
  EXPECT_EQ(count(OpKind::Mul), 1) << s;
  EXPECT_EQ(count(OpKind::Add), 1) << s;
  EXPECT_EQ(count(OpKind::Div) + count(OpKind::Sub), 0) << s;
  EXPECT_NE(s.find("store %p, %x\n  store %p, %x\n  store %p, %x\n  store %p, %x\n"), std::string::npos) << s;
}

TEST_F(PassTest, CanonicalizeSplatsAndShapes) {
  Value *x = param(ty(DType::F32), "x");
  Value *p = param(tc.block(tc.pointer(ty(DType::F32)), {4, 8}), "p");
  Value *c = b.broadcastTo(b.constFloat(ty(DType::F32), 2.5), {4, 8}); // splat(2.5) -> constant
  Value *s = b.create1(OpKind::Splat, {x}, block(DType::F32, {8}));
  Value *e = b.create1(OpKind::ExpandDims, {s}, block(DType::F32, {1, 8}), {{"axis", int64_t(0)}});
  Value *bc = b.create1(OpKind::Broadcast, {e}, block(DType::F32, {4, 8})); // -> splat x : 4x8
  b.store(p, b.binary(OpKind::Add, bc, c));
  finish();
  EXPECT_TRUE(runCanonicalize(*f));
  std::string s2 = ir();
  EXPECT_NE(s2.find("= constant {value = 2.5} : tensor<4x8xf32>"), std::string::npos) << s2;
  EXPECT_NE(s2.find("= splat %x : tensor<4x8xf32>"), std::string::npos) << s2;
  EXPECT_EQ(count(OpKind::ExpandDims) + count(OpKind::Broadcast), 0) << s2;
  EXPECT_EQ(count(OpKind::Splat), 1) << s2;
}

TEST_F(PassTest, CanonicalizeFoldsBlockConstants) {
  Value *p = param(tc.block(tc.pointer(ty(DType::I32)), {16}), "p");
  Value *a = b.broadcastTo(b.constI32(37), {16});
  Value *c = b.broadcastTo(b.constI32(-5), {16});
  b.store(p, b.binary(OpKind::Rem, a, c));
  finish();
  runCanonicalize(*f);
  std::string s = ir();
  EXPECT_NE(s.find("%0 = constant {value = 2} : tensor<16xi32>\n  store %p, %0"), std::string::npos) << s;
}

TEST_F(PassTest, CanonicalizeIfWithConstantCondition) {
  Value *x = param(ty(DType::I32), "x");
  Value *p = param(ptr(DType::I32), "p");
  Operation *ifOp = b.createIf(b.constBool(false), {ty(DType::I32)});
  {
    mt::ir::InsertionGuard g(b);
    b.setInsertionPointToEnd(ifOp->body(0));
    b.store(p, x);
    b.yield({b.binary(OpKind::Add, x, x)});
    b.setInsertionPointToEnd(ifOp->body(1));
    b.store(p, b.constI32(41)); // the taken side's store is kept, inlined
    b.yield({b.binary(OpKind::Mul, x, x)});
  }
  b.store(p, ifOp->result(0));
  finish();
  EXPECT_TRUE(runCanonicalize(*f));
  std::string s = ir();
  EXPECT_EQ(count(OpKind::If), 0) << s;
  EXPECT_EQ(count(OpKind::Add), 0) << s;
  EXPECT_NE(
      s.find("  %0 = constant {value = 41} : i32\n  store %p, %0\n  %1 = mul %x, %x : i32\n  store %p, %1\n"),
      std::string::npos)
      << s;
}

TEST_F(PassTest, CanonicalizeForWithZeroTrips) {
  Value *n = param(ty(DType::I32), "n");
  Value *init = param(ty(DType::F32), "init");
  Value *p = param(ptr(DType::F32), "p");
  auto makeLoop = [&](Value *lb, Value *ub) {
    Operation *loop = b.createFor(lb, ub, b.constI32(1), {init});
    mt::ir::InsertionGuard g(b);
    b.setInsertionPointToEnd(loop->body());
    b.store(p, loop->body().argument(1));
    b.yield({b.binary(OpKind::Add, loop->body().argument(1), init)});
    return loop;
  };
  b.store(p, makeLoop(b.constI32(8), b.constI32(3))->result(0)); // 8 >= 3: zero trips -> init
  b.store(p, makeLoop(b.constI32(0), n)->result(0));             // unknown trips: kept
  b.store(p, makeLoop(b.constI32(2), b.constI32(3))->result(0)); // one trip: kept
  finish();
  EXPECT_TRUE(runCanonicalize(*f));
  std::string s = ir();
  EXPECT_EQ(count(OpKind::For), 2) << s;
  EXPECT_NE(s.find("  store %p, %init\n"), std::string::npos) << s;
}
