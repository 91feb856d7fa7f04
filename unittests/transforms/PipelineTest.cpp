#include "PassTestUtil.h"

#include "transforms/Passes.h"

using namespace mt::ir;
using mt::transforms::testing::PassTest;
namespace tr = mt::transforms;

TEST(Pipeline, RegistryAndDefaultOrder) {
  for (const char *name : {"canonicalize", "cse", "dce", "licm", "sink-load-uses"}) {
    const tr::PassInfo *p = tr::lookupPass(name);
    ASSERT_NE(p, nullptr) << name;
    EXPECT_EQ(p->name, name);
    EXPECT_FALSE(p->description.empty());
  }
  EXPECT_EQ(tr::lookupPass("no-such-pass"), nullptr);
  EXPECT_EQ(tr::defaultPipeline(), (std::vector<std::string>{"canonicalize", "cse", "licm", "canonicalize",
                                                             "dce", "sink-load-uses"}));
  for (const std::string &name : tr::defaultPipeline())
    EXPECT_NE(tr::lookupPass(name), nullptr) << name;
}

// A loop whose address arithmetic is invariant and duplicated: the default pipeline merges, hoists,
// folds and cleans it, and keeps every load and store.
TEST_F(PassTest, DefaultPipelineOnALoop) {
  Value *n = param(ty(DType::I32), "n"), *x = param(ptr(DType::F32), "x");
  Value *acc0 = b.constFloat(ty(DType::F32), 0.0);
  Operation *loop = forLoop(n, {acc0, acc0});
  {
    InsertionGuard g(b);
    Block &body = loop->body();
    b.setInsertionPointToEnd(body);
    Value *iv = body.argument(0);
    Value *scale1 = b.binary(OpKind::Mul, n, b.constI32(4)); // invariant, duplicated
    Value *scale2 = b.binary(OpKind::Mul, n, b.constI32(4));
    Value *off = b.binary(OpKind::Add, b.binary(OpKind::Add, iv, scale1), b.constI32(0)); // + 0
    Value *v = b.load(b.binary(OpKind::AddPtr, x, off));
    b.load(b.binary(OpKind::AddPtr, x, scale2));              // unused load: removed by dce
    Value *dead = b.binary(OpKind::Add, body.argument(2), v); // only feeds itself: dropped
    b.yield({b.binary(OpKind::Add, body.argument(1), v), dead});
  }
  b.store(x, loop->result(0));
  finish();
  bool changed = false;
  for (const std::string &name : tr::defaultPipeline())
    changed |= tr::lookupPass(name)->run(*f);
  EXPECT_TRUE(changed);
  std::string s = ir();
  EXPECT_EQ(count(OpKind::Mul), 1) << s;
  EXPECT_EQ(count(OpKind::Load), 1) << s;
  EXPECT_EQ(count(OpKind::Store), 1) << s;
  EXPECT_EQ(count(OpKind::Add), 2) << s; // iv + scale, acc + v
  EXPECT_NE(s.find("= mul %n, %"), std::string::npos) << s;
  EXPECT_LT(s.find("= mul %n, %"), s.find("= for ")) << s;                      // hoisted
  EXPECT_NE(s.find("%5 = for %1, %n, %2, %0 : f32 {"), std::string::npos) << s; // one carried value left
}
