#include "PassTestUtil.h"

#include "transforms/CSE.h"

using namespace mt::ir;
using mt::transforms::runCSE;
using mt::transforms::testing::PassTest;

namespace {

/// reduce %x along axis 0 of a 1-D f32 block, combining with `combine`.
Value *reduce(Builder &b, Value *x, OpKind combine) {
  const Type *elem = x->type()->scalarType();
  Operation *r = b.create(OpKind::Reduce, {x}, {elem}, {{"axis", int64_t(0)}});
  InsertionGuard g(b);
  Block &body = r->body();
  Value *lhs = body.addArgument(elem), *rhs = body.addArgument(elem);
  b.setInsertionPointToEnd(body);
  b.yield({b.binary(combine, lhs, rhs)});
  return r->result(0);
}

} // namespace

TEST_F(PassTest, CSEMergesIdenticalPureOps) {
  Value *x = param(ty(DType::I32), "x"), *y = param(ty(DType::I32), "y");
  Value *p = param(ptr(DType::I32), "p");
  Value *a1 = b.binary(OpKind::Add, x, y);
  Value *a2 = b.binary(OpKind::Add, x, y);                // same as a1
  Value *a3 = b.binary(OpKind::Add, y, x);                // operands in another order: kept
  Value *c1 = b.cmp("lt", x, y), *c2 = b.cmp("le", x, y); // attributes differ: kept
  Value *l1 = b.load(p), *l2 = b.load(p);                 // loads are not Pure: kept
  for (Value *v : {a1, a2, a3, b.select(c1, l1, l2), b.select(c2, l1, l2)})
    b.store(p, v);
  finish();
  EXPECT_TRUE(runCSE(*f));
  std::string s = ir();
  EXPECT_EQ(count(OpKind::Add), 2) << s;
  EXPECT_EQ(count(OpKind::Cmp), 2) << s;
  EXPECT_EQ(count(OpKind::Load), 2) << s;
  EXPECT_NE(s.find("  %0 = add %x, %y : i32\n  %1 = add %y, %x : i32\n"), std::string::npos) << s;
  EXPECT_NE(s.find("  store %p, %0\n  store %p, %0\n  store %p, %1\n"), std::string::npos) << s;
  EXPECT_FALSE(runCSE(*f));
}

TEST_F(PassTest, CSEKeepsSignedZerosApart) {
  Value *p = param(ptr(DType::F32), "p");
  const Type *f32 = ty(DType::F32);
  b.store(p, b.constFloat(f32, 0.0));
  b.store(p, b.constFloat(f32, -0.0));
  b.store(p, b.constFloat(f32, 0.0)); // the only duplicate
  b.store(p, b.constFloat(f32, 1.5));
  finish();
  EXPECT_TRUE(runCSE(*f));
  std::string s = ir();
  EXPECT_NE(s.find("constant {value = -0.0} : f32"), std::string::npos) << s;
  EXPECT_NE(s.find("store %p, %0\n  %1 = constant {value = -0.0} : f32\n  store %p, %1\n  store %p, %0\n"),
            std::string::npos)
      << s;
}

TEST_F(PassTest, CSEIsScopedByRegions) {
  Value *x = param(ty(DType::I32), "x"), *y = param(ty(DType::I32), "y"), *c = param(ty(DType::I1), "c");
  Value *p = param(ptr(DType::I32), "p");
  Value *outer = b.binary(OpKind::Mul, x, y);
  b.store(p, outer);
  Operation *ifOp = b.createIf(c, {});
  {
    InsertionGuard g(b);
    b.setInsertionPointToEnd(ifOp->body(0));
    b.store(p, b.binary(OpKind::Mul, x, y)); // outer value visible inside: merged
    b.store(p, b.binary(OpKind::Sub, x, y)); // defined in `then` only
    b.yield({});
    b.setInsertionPointToEnd(ifOp->body(1));
    b.store(p, b.binary(OpKind::Sub, x, y)); // `then` is not visible from `else`: kept
    b.yield({});
  }
  b.store(p, b.binary(OpKind::Sub, x, y)); // inner values are not visible after the if: kept
  finish();
  EXPECT_TRUE(runCSE(*f));
  std::string s = ir();
  EXPECT_EQ(count(OpKind::Mul), 1) << s;
  EXPECT_EQ(count(OpKind::Sub), 3) << s;
  EXPECT_NE(s.find("if %c {\n    store %p, %0\n"), std::string::npos) << s;
}

TEST_F(PassTest, CSEMergesReducesWithEqualRegions) {
  Value *p = param(ptr(DType::F32), "p");
  Value *x = b.load(b.broadcastTo(p, {16}));
  Value *r1 = reduce(b, x, OpKind::Add);
  Value *r2 = reduce(b, x, OpKind::Add); // same combine: merged
  Value *r3 = reduce(b, x, OpKind::Max); // another combine: kept
  for (Value *v : {r1, r2, r3})
    b.store(p, v);
  finish();
  EXPECT_TRUE(runCSE(*f));
  std::string s = ir();
  EXPECT_EQ(count(OpKind::Reduce), 2) << s;
  EXPECT_NE(s.find("store %p, %2\n  store %p, %2\n  store %p, %6\n"), std::string::npos) << s;
}
