#include "PassTestUtil.h"

#include "transforms/DCE.h"

using namespace mt::ir;
using mt::transforms::runDCE;
using mt::transforms::testing::PassTest;

TEST_F(PassTest, DCERemovesUnusedPureAndReadOnlyOps) {
  Value *x = param(ty(DType::I32), "x");
  Value *p = param(ptr(DType::I32), "p");
  Value *l = b.load(p);                                  // unused load: removed
  b.binary(OpKind::Mul, b.binary(OpKind::Add, x, l), x); // unused chain: removed
  b.store(p, b.binary(OpKind::Sub, x, b.constI32(7)));   // stores are never removed
  b.create(OpKind::AtomicRmw, {p, x}, {ty(DType::I32)},
           {{"kind", std::string("add")}}); // result unused: kept
  finish();
  EXPECT_TRUE(runDCE(*f));
  std::string s = ir();
  EXPECT_EQ(count(OpKind::Load) + count(OpKind::Add) + count(OpKind::Mul), 0) << s;
  EXPECT_EQ(count(OpKind::Store), 1) << s;
  EXPECT_EQ(count(OpKind::AtomicRmw), 1) << s;
  EXPECT_NE(s.find("%1 = sub %x, %0 : i32\n  store %p, %1\n"), std::string::npos) << s;
  EXPECT_FALSE(runDCE(*f));
}

TEST_F(PassTest, DCERemovesLoopsOnlyWithoutSideEffects) {
  Value *n = param(ty(DType::I32), "n");
  Value *p = param(ptr(DType::I32), "p");
  auto loop = [&](bool withStore) {
    Operation *op = forLoop(n, {n});
    InsertionGuard g(b);
    b.setInsertionPointToEnd(op->body());
    Value *next = b.binary(OpKind::Add, op->body().argument(1), b.load(p));
    if (withStore)
      b.store(p, next);
    b.yield({next});
    return op;
  };
  loop(false); // results unused, body only reads: removed
  loop(true);  // stores: kept
  Operation *ifOp = b.createIf(b.cmp("lt", n, b.constI32(3)), {ty(DType::I32)});
  {
    InsertionGuard g(b);
    b.setInsertionPointToEnd(ifOp->body(0));
    b.yield({n});
    b.setInsertionPointToEnd(ifOp->body(1));
    b.yield({b.binary(OpKind::Mul, n, n)});
  }
  finish();
  EXPECT_TRUE(runDCE(*f));
  std::string s = ir();
  EXPECT_EQ(count(OpKind::For), 1) << s;
  EXPECT_EQ(count(OpKind::Store), 1) << s;
  EXPECT_EQ(count(OpKind::If) + count(OpKind::Mul) + count(OpKind::Cmp), 0) << s;
}

TEST_F(PassTest, DCEDropsLoopCarriedValuesThatOnlyFeedThemselves) {
  Value *n = param(ty(DType::I32), "n");
  Value *x = param(ty(DType::F32), "x");
  Value *p = param(ptr(DType::F32), "p");
  Operation *op = forLoop(n, {x, x, x});
  {
    InsertionGuard g(b);
    Block &body = op->body();
    b.setInsertionPointToEnd(body);
    Value *live = b.binary(OpKind::Add, body.argument(1), x);   // result used after the loop
    Value *dead = b.binary(OpKind::Mul, body.argument(2), x);   // only feeds itself: dropped
    Value *stored = b.binary(OpKind::Sub, body.argument(3), x); // feeds a store: kept
    b.store(p, stored);
    b.yield({live, b.binary(OpKind::Add, dead, dead), stored});
  }
  b.store(p, op->result(0));
  finish();
  EXPECT_TRUE(runDCE(*f));
  std::string s = ir();
  EXPECT_EQ(count(OpKind::For), 1) << s;
  EXPECT_EQ(count(OpKind::Mul), 0) << s;
  EXPECT_NE(
      s.find("%2, %3 = for %0, %n, %1, %x, %x : f32, f32 {\n  ^bb(%4: i32, %5: f32, %6: f32):\n"
             "    %7 = add %5, %x : f32\n    %8 = sub %6, %x : f32\n    store %p, %8\n    yield %7, %8\n  }\n"
             "  store %p, %2\n"),
      std::string::npos)
      << s;
  EXPECT_FALSE(runDCE(*f));
}
