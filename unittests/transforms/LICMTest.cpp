#include "PassTestUtil.h"

#include "transforms/LICM.h"

using namespace mt::ir;
using mt::transforms::runLICM;
using mt::transforms::testing::PassTest;

TEST_F(PassTest, LICMHoistsInvariantPureOpsOnly) {
  Value *n = param(ty(DType::I32), "n"), *k = param(ty(DType::I32), "k");
  Value *p = param(ptr(DType::I32), "p");
  Operation *loop = forLoop(n);
  {
    InsertionGuard g(b);
    b.setInsertionPointToEnd(loop->body());
    Value *iv = loop->body().argument(0);
    Value *inv = b.binary(OpKind::Mul, n, k);            // invariant: hoisted
    Value *inv2 = b.binary(OpKind::Add, inv, k);         // invariant once `inv` is out: hoisted
    Value *var = b.binary(OpKind::Add, iv, inv2);        // uses the iv: stays
    Value *ld = b.load(p);                               // loads never move
    Value *q = b.binary(OpKind::Div, k, n);              // int division by a variable: may trap, stays
    Value *q7 = b.binary(OpKind::Div, k, b.constI32(7)); // by a nonzero constant: hoisted
    b.store(p, b.binary(OpKind::Add, var, b.binary(OpKind::Add, ld, b.binary(OpKind::Add, q, q7))));
    b.yield({});
  }
  finish();
  EXPECT_TRUE(runLICM(*f));
  std::string s = ir();
  EXPECT_NE(s.find("  %2 = mul %n, %k : i32\n  %3 = add %2, %k : i32\n  %4 = constant {value = 7} : i32\n"
                   "  %5 = div %k, %4 : i32\n  for %0, %n, %1 {\n  ^bb(%6: i32):\n    %7 = add %6, %3 : i32\n"
                   "    %8 = load %p : i32\n    %9 = div %k, %n : i32\n"),
            std::string::npos)
      << s;
  EXPECT_FALSE(runLICM(*f));
}

TEST_F(PassTest, LICMClimbsNestedLoopsButNotIfs) {
  Value *n = param(ty(DType::I32), "n"), *c = param(ty(DType::I1), "c");
  Value *p = param(ptr(DType::I32), "p");
  Operation *outer = forLoop(n);
  {
    InsertionGuard g(b);
    b.setInsertionPointToEnd(outer->body());
    Value *i = outer->body().argument(0);
    Operation *inner = forLoop(n);
    {
      InsertionGuard g2(b);
      b.setInsertionPointToEnd(inner->body());
      Value *both = b.binary(OpKind::Mul, n, n);      // invariant in both loops: leaves both
      Value *outerOnly = b.binary(OpKind::Add, i, n); // depends on the outer iv: one level
      Operation *ifOp = b.createIf(c, {});
      {
        InsertionGuard g3(b);
        b.setInsertionPointToEnd(ifOp->body(0));
        b.store(p, b.binary(OpKind::Sub, n, n)); // conditional: stays in the if
        b.yield({});
        b.setInsertionPointToEnd(ifOp->body(1));
        b.yield({});
      }
      b.store(p, b.binary(OpKind::Add, both, outerOnly));
      b.yield({});
    }
    b.yield({});
  }
  finish();
  EXPECT_TRUE(runLICM(*f));
  std::string s = ir();
  EXPECT_NE(s.find("  %4 = mul %n, %n : i32\n  for %0, %n, %1 {\n  ^bb(%5: i32):\n    %6 = add %5, %n : i32\n"
                   "    %7 = add %4, %6 : i32\n    for %2, %n, %3 {\n"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("    if %c {\n        %9 = sub %n, %n : i32\n"), std::string::npos) << s;
}
