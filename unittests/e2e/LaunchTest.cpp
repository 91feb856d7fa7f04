// End to end: launch-time behaviour of a compiled kernel — empty grids, wrong argument kinds, None
// pointers, short buffers, and concurrent launches of one kernel.
#include "E2EUtil.h"

#include <thread>

namespace mt::e2e {
namespace {

std::vector<ArgSpec> addSpecs() {
  return {ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32),
          ArgSpec::forInt(1000), ArgSpec::constant(int64_t(256))};
}

TEST(E2ELaunch, EmptyGridRunsNothing) {
  Context ctx;
  KernelPtr k;
  ASSERT_COMPILES(k, compileFile(ctx, "vector_add.py", "add_kernel", addSpecs()));
  Buffer x(DType::F32, 1000), y(DType::F32, 1000), out(DType::F32, 1000);
  Rng rng(121);
  rng.fill(x);
  rng.fill(y);
  out.poison();
  // Triton launches nothing for a grid with a zero extent.
  ASSERT_LAUNCHES(k, (Grid{0, 1, 1}), {x.arg(), y.arg(), out.arg(), LaunchArg::integer(1000)});
  for (size_t i = 0; i < out.size(); ++i)
    ASSERT_TRUE(out.isPoisoned(i)) << i;
}

TEST(E2ELaunch, IntegerWhereABufferIsExpectedIsAnError) {
  Context ctx;
  KernelPtr k;
  ASSERT_COMPILES(k, compileFile(ctx, "vector_add.py", "add_kernel", addSpecs()));
  Buffer x(DType::F32, 1000), out(DType::F32, 1000);
  std::vector<LaunchArg> args = {x.arg(), LaunchArg::integer(7), out.arg(), LaunchArg::integer(1000)};
  Status st = k->launch(Grid{4}, args);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("y_ptr"), std::string::npos) << st.error().message;
}

TEST(E2ELaunch, NonePointerAccessIsAnError) {
  Context ctx;
  KernelPtr k;
  ASSERT_COMPILES(k, compileFile(ctx, "vector_add.py", "add_kernel", addSpecs()));
  Buffer x(DType::F32, 1000), y(DType::F32, 1000);
  Rng rng(122);
  rng.fill(x);
  rng.fill(y);
  std::vector<LaunchArg> args = {x.arg(), y.arg(), LaunchArg::null(), LaunchArg::integer(1000)};
  Status st = k->launch(Grid{4}, args);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("out_ptr"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("vector_add.py:"), std::string::npos) << st.error().message;
}

TEST(E2ELaunch, ShortInputBufferIsReportedAtTheLoad) {
  Context ctx;
  KernelPtr k;
  ASSERT_COMPILES(k, compileFile(ctx, "vector_add.py", "add_kernel", addSpecs()));
  Buffer x(DType::F32, 1000), y(DType::F32, 600), out(DType::F32, 1000);
  Rng rng(123);
  rng.fill(x);
  rng.fill(y);
  out.poison();
  std::vector<LaunchArg> args = {x.arg(), y.arg(), out.arg(), LaunchArg::integer(1000)};
  Status st = k->launch(Grid{4}, args);
  ASSERT_FALSE(st);
  const std::string msg = st.error().message;
  LineCol at = findLineCol(readKernelFile("vector_add.py"), "tl.load(y_ptr + offsets");
  EXPECT_NE(msg.find("vector_add.py:" + std::to_string(at.line) + ":" + std::to_string(at.col)),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("y_ptr"), std::string::npos) << msg;
  EXPECT_NE(msg.find("600"), std::string::npos) << msg;
}

TEST(E2ELaunch, ConcurrentLaunchesOfOneKernel) {
  Context ctx;
  KernelPtr k;
  ASSERT_COMPILES(
      k, compileFile(ctx, "softmax.py", "softmax_kernel",
                     {ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32), ArgSpec::forInt(100),
                      ArgSpec::forInt(100), ArgSpec::forInt(100), ArgSpec::constant(int64_t(128))}));
  const int kThreads = 4;
  const int64_t rows = 50, cols = 100;
  std::vector<Buffer> ins, outs;
  for (int t = 0; t < kThreads; ++t) {
    ins.emplace_back(DType::F32, rows * cols);
    outs.emplace_back(DType::F32, rows * cols);
    Rng(130 + t).fill(ins.back(), -3.0, 3.0);
    outs.back().poison();
  }
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      std::vector<LaunchArg> args = {outs[t].arg(), ins[t].arg(), LaunchArg::integer(cols),
                                     LaunchArg::integer(cols), LaunchArg::integer(cols)};
      for (int rep = 0; rep < 3; ++rep) {
        Status st = k->launch(Grid{static_cast<uint32_t>(rows)}, args);
        if (!st)
          errors[t] = st.error().message;
      }
    });
  for (auto &th : threads)
    th.join();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(errors[t], "") << "thread " << t;
    std::vector<double> ref;
    for (int64_t r = 0; r < rows; ++r) {
      double mx = -INFINITY, sum = 0.0;
      for (int64_t c = 0; c < cols; ++c)
        mx = std::max(mx, ins[t].get(r * cols + c));
      for (int64_t c = 0; c < cols; ++c)
        sum += std::exp(ins[t].get(r * cols + c) - mx);
      for (int64_t c = 0; c < cols; ++c)
        ref.push_back(std::exp(ins[t].get(r * cols + c) - mx) / sum);
    }
    EXPECT_TRUE(allClose(outs[t], ref, {1e-5, 1e-7})) << "thread " << t;
  }
}

TEST(E2ELaunch, RepeatedLaunchesAgree) {
  // A kernel compiled once is launched many times; results do not drift between launches.
  Context ctx;
  KernelPtr k;
  ASSERT_COMPILES(k, compileFile(ctx, "vector_add.py", "add_kernel", addSpecs()));
  Buffer x(DType::F32, 1000), y(DType::F32, 1000), out(DType::F32, 1000);
  Rng rng(124);
  rng.fill(x);
  rng.fill(y);
  std::vector<double> ref(1000);
  for (int i = 0; i < 1000; ++i)
    ref[i] = x.get(i) + y.get(i);
  for (int rep = 0; rep < 5; ++rep) {
    out.poison();
    ASSERT_LAUNCHES(k, Grid{4}, {x.arg(), y.arg(), out.arg(), LaunchArg::integer(1000)});
    ASSERT_TRUE(allClose(out, ref)) << "launch " << rep;
  }
}

} // namespace
} // namespace mt::e2e
