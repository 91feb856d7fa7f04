// CPU interpreter: memory, bounds checks, control flow, errors, atomics, grids.
#include "KernelHarness.h"

#include <gtest/gtest.h>

using namespace mt::cpu::test;
using mt::Grid;
using mt::LaunchArg;

namespace {

/// out[i] = x[i] + y[i] for i < n, BLOCK lanes per program.
void buildVectorAdd(Kernel &k, int64_t block, bool masked) {
  Value *x = k.ptrArg(DType::F32, "x_ptr");
  Value *y = k.ptrArg(DType::F32, "y_ptr");
  Value *out = k.ptrArg(DType::F32, "out_ptr");
  Value *n = k.scalarArg(DType::I32, "n");
  k.at(2, 11);
  Value *pid = k.b.programId(0);
  Value *offs = k.add(k.b.broadcastTo(k.mul(pid, k.c32(block)), {block}), k.b.makeRange(0, block));
  Value *mask = masked ? k.b.cmp("lt", offs, k.b.broadcastTo(n, {block})) : nullptr;
  k.at(3, 9);
  Value *xv = k.b.load(k.ptrs(x, offs), mask);
  k.at(4, 9);
  Value *yv = k.b.load(k.ptrs(y, offs), mask);
  k.at(5, 5);
  k.b.store(k.ptrs(out, offs), k.add(xv, yv), mask);
  k.ret();
}

const char *kVectorAddSource = "def add_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):\n"
                               "    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)\n"
                               "    x = tl.load(x_ptr + offs)\n"
                               "    y = tl.load(y_ptr + offs)\n"
                               "    tl.store(out_ptr + offs, x + y)\n";

TEST(CpuInterpreter, VectorAddWithMaskOverOddN) {
  Kernel k("add_kernel", kVectorAddSource);
  buildVectorAdd(k, 128, /*masked=*/true);
  const int n = 1001;
  std::vector<float> x = randomFloats(n, 1), y = randomFloats(n, 2), out(n, -7.f);
  Grid grid{(n + 127) / 128, 1, 1};
  mt::Status st = k.run(grid, {LaunchArg::buffer(x.data(), n), LaunchArg::buffer(y.data(), n),
                               LaunchArg::buffer(out.data(), n), LaunchArg::integer(n)});
  ASSERT_TRUE(st) << st.error().message;
  for (int i = 0; i < n; ++i)
    ASSERT_EQ(out[i], x[i] + y[i]) << "at " << i;
}

TEST(CpuInterpreter, OutOfBoundsLoadReportsArgumentIndexAndLocation) {
  Kernel k("add_kernel", kVectorAddSource);
  buildVectorAdd(k, 128, /*masked=*/false);
  const int n = 1000; // the last program reads lanes 896..1023
  std::vector<float> x = randomFloats(n, 3), y = randomFloats(n, 4), out(n, -7.f);
  mt::Status st = k.run({8, 1, 1}, {LaunchArg::buffer(x.data(), n), LaunchArg::buffer(y.data(), n),
                                    LaunchArg::buffer(out.data(), n), LaunchArg::integer(n)});
  ASSERT_FALSE(st);
  const std::string &msg = st.error().message;
  EXPECT_NE(
      msg.find("kernel.py:3:9: error: out-of-bounds load from 'x_ptr': element offset 1000 is outside the "
               "buffer of 1000 elements (program (7, 0, 0), lane 104)"),
      std::string::npos)
      << msg;
  EXPECT_NE(msg.find("    x = tl.load(x_ptr + offs)\n        ^\n"), std::string::npos) << msg;
}

TEST(CpuInterpreter, FailedStoreWritesNothing) {
  Kernel k("store_kernel", "def store_kernel(out_ptr):\n    tl.store(out_ptr + tl.arange(0, 128), 1.0)\n");
  Value *out = k.ptrArg(DType::F32, "out_ptr");
  k.at(2, 5);
  Value *offs = k.b.makeRange(0, 128);
  k.b.store(k.ptrs(out, offs), k.cst(k.tile(DType::F32, {128}), 1.0));
  k.ret();
  std::vector<float> buf(100, -42.5f);
  mt::Status st = k.run({1, 1, 1}, {LaunchArg::buffer(buf.data(), buf.size())});
  ASSERT_FALSE(st);
  EXPECT_NE(
      st.error().message.find("kernel.py:2:5: error: out-of-bounds store to 'out_ptr': element offset 100 "
                              "is outside the buffer of 100 elements (program (0, 0, 0), lane 100)"),
      std::string::npos)
      << st.error().message;
  for (float v : buf)
    ASSERT_EQ(v, -42.5f);
}

TEST(CpuInterpreter, NullPointerAndBadArguments) {
  Kernel k("add_kernel", kVectorAddSource);
  buildVectorAdd(k, 16, true);
  std::vector<float> x = randomFloats(16, 5), out(16);
  mt::Status st = k.run({1, 1, 1}, {LaunchArg::buffer(x.data(), 16), LaunchArg::null(),
                                    LaunchArg::buffer(out.data(), 16), LaunchArg::integer(16)});
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("load through 'y_ptr', which is None"), std::string::npos)
      << st.error().message;
  st = k.run({1, 1, 1}, {LaunchArg::buffer(x.data(), 16), LaunchArg::integer(3),
                         LaunchArg::buffer(out.data(), 16), LaunchArg::integer(16)});
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("argument 'y_ptr' is a pointer"), std::string::npos)
      << st.error().message;
  st = k.run({1, 1, 1}, {LaunchArg::buffer(x.data(), 16)});
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("takes 4 arguments, got 1"), std::string::npos) << st.error().message;
}

TEST(CpuInterpreter, ForLoopAccumulates) {
  // acc = 0; for i in range(1, n, 2): acc += x[i]; out[0] = acc
  Kernel k;
  Value *x = k.ptrArg(DType::F32, "x_ptr");
  Value *out = k.ptrArg(DType::F32, "out_ptr");
  Value *n = k.scalarArg(DType::I32, "n");
  Value *zero = k.cst(k.s(DType::F32), 0.0);
  Operation *loop = k.b.createFor(k.c32(1), n, k.c32(2), {zero});
  {
    InsertionGuard g(k.b);
    k.b.setInsertionPointToEnd(loop->body());
    Value *iv = loop->body().argument(0), *acc = loop->body().argument(1);
    Value *v = k.b.load(k.b.binary(OpKind::AddPtr, x, iv));
    k.b.yield({k.add(acc, v)});
  }
  k.b.store(out, loop->result(0));
  k.ret();
  std::vector<float> xs = randomFloats(37, 6);
  float got = 0;
  ASSERT_TRUE(k.run({1, 1, 1}, {LaunchArg::buffer(xs.data(), xs.size()), LaunchArg::buffer(&got, 1),
                                LaunchArg::integer(37)}));
  float want = 0;
  for (int i = 1; i < 37; i += 2)
    want += xs[i];
  EXPECT_EQ(got, want);
}

TEST(CpuInterpreter, IfSelectsBranchPerProgram) {
  // out[pid] = pid % 3 == 0 ? 1.5 * pid : -2.0
  Kernel k;
  Value *out = k.ptrArg(DType::F32, "out_ptr");
  Value *pid = k.b.programId(0);
  Value *cond = k.b.cmp("eq", k.b.binary(OpKind::Rem, pid, k.c32(3)), k.c32(0));
  Operation *ifOp = k.b.createIf(cond, {k.s(DType::F32)});
  {
    InsertionGuard g(k.b);
    k.b.setInsertionPointToEnd(ifOp->body(0));
    k.b.yield({k.mul(k.b.cast(pid, DType::F32), k.cst(k.s(DType::F32), 1.5))});
    k.b.setInsertionPointToEnd(ifOp->body(1));
    k.b.yield({k.cst(k.s(DType::F32), -2.0)});
  }
  k.b.store(k.b.binary(OpKind::AddPtr, out, pid), ifOp->result(0));
  k.ret();
  std::vector<float> got(10, 0);
  ASSERT_TRUE(k.run({10, 1, 1}, {LaunchArg::buffer(got.data(), got.size())}));
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(got[i], i % 3 == 0 ? 1.5f * i : -2.0f) << i;
}

TEST(CpuInterpreter, WhileLoopRunsUntilConditionFails) {
  // i = 0; s = 0; while i < n: s += i * i; i += 1; out = s
  Kernel k;
  Value *out = k.ptrArg(DType::I64, "out_ptr");
  Value *n = k.scalarArg(DType::I64, "n");
  const Type *i64 = k.s(DType::I64);
  Value *zero = k.b.constInt(i64, 0);
  Operation *w = k.b.create(OpKind::While, {zero, zero}, {i64, i64});
  {
    InsertionGuard g(k.b);
    Block &before = w->body(0);
    Value *i = before.addArgument(i64), *s = before.addArgument(i64);
    k.b.setInsertionPointToEnd(before);
    k.b.create(OpKind::Condition, {k.b.cmp("lt", i, n), i, s}, {});
    Block &after = w->body(1);
    Value *i2 = after.addArgument(i64), *s2 = after.addArgument(i64);
    k.b.setInsertionPointToEnd(after);
    k.b.yield({k.add(i2, k.b.constInt(i64, 1)), k.add(s2, k.mul(i2, i2))});
  }
  k.b.store(out, w->result(1));
  k.ret();
  int64_t got = -1;
  ASSERT_TRUE(k.run({1, 1, 1}, {LaunchArg::buffer(&got, 1), LaunchArg::integer(10)}));
  EXPECT_EQ(got, 285);
}

TEST(CpuInterpreter, SignedOverflowIsAnError) {
  Kernel k("k", "def k(out_ptr, a):\n    tl.store(out_ptr, a * a)\n");
  Value *out = k.ptrArg(DType::I32, "out_ptr");
  Value *a = k.scalarArg(DType::I32, "a");
  k.at(2, 27);
  Value *sq = k.mul(a, a);
  k.b.store(out, sq);
  k.ret();
  int32_t got = 0;
  ASSERT_TRUE(k.run({1, 1, 1}, {LaunchArg::buffer(&got, 1), LaunchArg::integer(46340)}));
  EXPECT_EQ(got, 46340 * 46340);
  mt::Status st = k.run({1, 1, 1}, {LaunchArg::buffer(&got, 1), LaunchArg::integer(46341)});
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("kernel.py:2:27: error: integer overflow in i32 mul (46341 * 46341)"),
            std::string::npos)
      << st.error().message;
}

TEST(CpuInterpreter, IntegerDivisionByZeroIsAnError) {
  Kernel k;
  Value *out = k.ptrArg(DType::I32, "out_ptr");
  Value *a = k.scalarArg(DType::I32, "a");
  k.b.store(out, k.b.binary(OpKind::Div, k.c32(-7), a));
  k.ret();
  int32_t got = 0;
  ASSERT_TRUE(k.run({1, 1, 1}, {LaunchArg::buffer(&got, 1), LaunchArg::integer(2)}));
  EXPECT_EQ(got, -3); // C-style truncation
  mt::Status st = k.run({1, 1, 1}, {LaunchArg::buffer(&got, 1), LaunchArg::integer(0)});
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("integer division by zero"), std::string::npos);
}

TEST(CpuInterpreter, AtomicAddFromManyPrograms) {
  // Every program adds 1 to counter[0] and pid to counter[1 + pid % 3] (4-lane tile, lane 0..3).
  Kernel k;
  Value *counter = k.ptrArg(DType::I32, "counter");
  Value *fsum = k.ptrArg(DType::F32, "fsum");
  Value *pid = k.b.programId(0);
  k.b.create(OpKind::AtomicRmw, {counter, k.c32(1)}, {k.s(DType::I32)}, {{"kind", std::string("add")}});
  Value *lanes = k.b.makeRange(0, 4);
  Value *vals = k.b.broadcastTo(pid, {4});
  Value *mask =
      k.b.cmp("eq", lanes, k.b.broadcastTo(k.add(k.b.binary(OpKind::Rem, pid, k.c32(3)), k.c32(1)), {4}));
  k.b.create(OpKind::AtomicRmw, {k.ptrs(counter, lanes), vals, mask}, {k.tile(DType::I32, {4})},
             {{"kind", std::string("add")}});
  k.b.create(OpKind::AtomicRmw, {fsum, k.cst(k.s(DType::F32), 0.5)}, {k.s(DType::F32)},
             {{"kind", std::string("add")}});
  k.ret();
  std::vector<int32_t> c(4, 0);
  float f = 0;
  const int programs = 3000;
  ASSERT_TRUE(k.run({programs, 1, 1}, {LaunchArg::buffer(c.data(), 4), LaunchArg::buffer(&f, 1)}));
  EXPECT_EQ(c[0], programs);
  int64_t want[3] = {0, 0, 0};
  for (int p = 0; p < programs; ++p)
    want[p % 3] += p;
  EXPECT_EQ(c[1], want[0]);
  EXPECT_EQ(c[2], want[1]);
  EXPECT_EQ(c[3], want[2]);
  EXPECT_EQ(f, 0.5f * programs);
}

TEST(CpuInterpreter, DeviceAssertFailure) {
  Kernel k("k", "def k():\n    tl.device_assert(tl.program_id(0) < 3, 'pid too large')\n");
  Value *pid = k.b.programId(0);
  k.at(2, 5);
  k.b.create(OpKind::Assert, {k.b.cmp("lt", pid, k.c32(3))}, {}, {{"message", std::string("pid too large")}});
  k.ret();
  ASSERT_TRUE(k.run({3, 1, 1}, {}));
  mt::Status st = k.run({5, 1, 1}, {});
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("kernel.py:2:5: error: device_assert failed: pid too large"),
            std::string::npos)
      << st.error().message;
}

TEST(CpuInterpreter, GridWithThreeAxes) {
  // out[(z * Y + y) * X + x] = x + 10 y + 100 z + num_programs(2) * 1000
  Kernel k;
  Value *out = k.ptrArg(DType::I32, "out_ptr");
  Value *x = k.b.programId(0), *y = k.b.programId(1), *z = k.b.programId(2);
  Value *nx = k.b.create1(OpKind::NumPrograms, {}, k.s(DType::I32), {{"axis", int64_t(0)}});
  Value *ny = k.b.create1(OpKind::NumPrograms, {}, k.s(DType::I32), {{"axis", int64_t(1)}});
  Value *nz = k.b.create1(OpKind::NumPrograms, {}, k.s(DType::I32), {{"axis", int64_t(2)}});
  Value *idx = k.add(k.mul(k.add(k.mul(z, ny), y), nx), x);
  Value *v = k.add(k.add(x, k.mul(y, k.c32(10))), k.add(k.mul(z, k.c32(100)), k.mul(nz, k.c32(1000))));
  k.b.store(k.b.binary(OpKind::AddPtr, out, idx), v);
  k.ret();
  std::vector<int32_t> got(5 * 3 * 4, -1);
  ASSERT_TRUE(k.run({5, 3, 4}, {LaunchArg::buffer(got.data(), got.size())}));
  for (int zz = 0; zz < 4; ++zz)
    for (int yy = 0; yy < 3; ++yy)
      for (int xx = 0; xx < 5; ++xx)
        ASSERT_EQ(got[(zz * 3 + yy) * 5 + xx], xx + 10 * yy + 100 * zz + 4000);
}

} // namespace
