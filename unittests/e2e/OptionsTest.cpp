// End to end: compile options and context options do not change results. The unoptimised and the
// optimised pipelines agree, one worker thread and many agree, and concurrent compiles are safe.
#include "E2EUtil.h"

#include <thread>

namespace mt::e2e {
namespace {

std::vector<ArgSpec> softmaxSpecs(int64_t cols) {
  return {ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32), ArgSpec::forInt(cols),
          ArgSpec::forInt(cols),        ArgSpec::forInt(cols),        ArgSpec::constant(int64_t(128))};
}

std::vector<double> runSoftmaxWith(const CompileOptions &opts, const Buffer &input, int64_t rows,
                                   int64_t cols, std::string *ir = nullptr) {
  Context ctx;
  auto k = compileFile(ctx, "softmax.py", "softmax_kernel", softmaxSpecs(cols), opts);
  EXPECT_TRUE(k) << k.error();
  if (!k)
    return {};
  if (ir)
    *ir = (*k)->irText();
  Buffer in = input, out(DType::F32, rows * cols);
  out.poison();
  std::vector<LaunchArg> args = {out.arg(), in.arg(), LaunchArg::integer(cols), LaunchArg::integer(cols),
                                 LaunchArg::integer(cols)};
  Status st = (*k)->launch(Grid{static_cast<uint32_t>(rows)}, args);
  EXPECT_TRUE(st) << errorText(st);
  return out.values();
}

TEST(E2EOptions, OptimisedAndUnoptimisedAgree) {
  const int64_t rows = 37, cols = 100;
  Buffer in(DType::F32, rows * cols);
  Rng(101).fill(in, -4.0, 4.0);
  CompileOptions plain;
  plain.optimize = false;
  std::string irPlain, irOpt;
  std::vector<double> a = runSoftmaxWith(plain, in, rows, cols, &irPlain);
  std::vector<double> b = runSoftmaxWith(CompileOptions{}, in, rows, cols, &irOpt);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_TRUE(allClose(b, a, {1e-6, 1e-7}));
  EXPECT_NE(irOpt.find("softmax_kernel"), std::string::npos) << irOpt;
  EXPECT_NE(irPlain.find("softmax_kernel"), std::string::npos) << irPlain;
}

TEST(E2EOptions, PrintIrAfterAllWritesTheDump) {
  Context ctx;
  std::ostringstream dump;
  CompileOptions opts;
  opts.printIrAfterAll = true;
  opts.irDump = &dump;
  auto k = compileFile(ctx, "softmax.py", "softmax_kernel", softmaxSpecs(100), opts);
  ASSERT_TRUE(k) << k.error();
  EXPECT_NE(dump.str().find("softmax_kernel"), std::string::npos) << dump.str();
}

TEST(E2EOptions, MatmulUnoptimisedMatchesOptimised) {
  const int64_t M = 40, N = 40, K = 40;
  Buffer a(DType::F32, M * K), b(DType::F32, K * N);
  Rng rng(102);
  rng.fill(a);
  rng.fill(b);
  std::vector<std::vector<double>> results;
  for (bool optimize : {false, true}) {
    Context ctx;
    CompileOptions opts;
    opts.optimize = optimize;
    KernelPtr k;
    ASSERT_COMPILES(
        k,
        compileFile(ctx, "matmul.py", "matmul_kernel",
                    {ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32),
                     ArgSpec::forInt(M), ArgSpec::forInt(N), ArgSpec::forInt(K), ArgSpec::forInt(K),
                     ArgSpec::forInt(1), ArgSpec::forInt(N), ArgSpec::forInt(1), ArgSpec::forInt(N),
                     ArgSpec::forInt(1), ArgSpec::constant(int64_t(16)), ArgSpec::constant(int64_t(32)),
                     ArgSpec::constant(int64_t(16)), ArgSpec::constant(int64_t(2)), ArgSpec::constant(false)},
                    opts));
    Buffer c(DType::F32, M * N);
    c.poison();
    ASSERT_LAUNCHES(k, Grid{cdiv(M, 16) * cdiv(N, 32)},
                    {a.arg(), b.arg(), c.arg(), LaunchArg::integer(M), LaunchArg::integer(N),
                     LaunchArg::integer(K), LaunchArg::integer(K), LaunchArg::integer(1),
                     LaunchArg::integer(N), LaunchArg::integer(1), LaunchArg::integer(N),
                     LaunchArg::integer(1)});
    results.push_back(c.values());
  }
  std::vector<double> ref(M * N);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j)
      for (int64_t kk = 0; kk < K; ++kk)
        ref[i * N + j] += a.get(i * K + kk) * b.get(kk * N + j);
  // (f32 tl.dot rounds its inputs to tf32 by default, as Triton does on the GPU.)
  EXPECT_TRUE(allClose(results[0], ref, {2e-3, 2e-3})) << "unoptimised";
  EXPECT_TRUE(allClose(results[1], ref, {2e-3, 2e-3})) << "optimised";
  EXPECT_TRUE(allClose(results[1], results[0], {1e-6, 1e-6})) << "optimised vs unoptimised";
}

TEST(E2EOptions, OneThreadAndManyThreadsAgree) {
  // Atomics from many programs: the result must not depend on the number of worker threads.
  const int64_t n = 20000, bins = 32, block = 128;
  Buffer x(DType::I32, n);
  Rng(103).fill(x, 0, 100000);
  std::vector<std::vector<double>> results;
  for (unsigned threads : {1u, 4u, 0u}) {
    Context ctx(ContextOptions{threads});
    KernelPtr k;
    ASSERT_COMPILES(k, compileFile(ctx, "atomics.py", "histogram_kernel",
                                   {ArgSpec::pointer(DType::I32), ArgSpec::pointer(DType::I32),
                                    ArgSpec::forInt(n), ArgSpec::constant(bins), ArgSpec::constant(block)}));
    Buffer hist(DType::I32, bins);
    for (int64_t b = 0; b < bins; ++b)
      hist.set(b, 7);
    ASSERT_LAUNCHES(k, Grid{cdiv(n, block)}, {x.arg(), hist.arg(), LaunchArg::integer(n)});
    results.push_back(hist.values());
  }
  std::vector<double> ref(bins, 7.0);
  for (int64_t i = 0; i < n; ++i)
    ref[static_cast<int64_t>(x.get(i)) % bins] += 1;
  for (const auto &r : results)
    EXPECT_TRUE(allClose(r, ref, {0, 0}));
}

TEST(E2EOptions, ConcurrentCompilesOfOneKernel) {
  Context ctx;
  std::vector<KernelPtr> kernels(4);
  std::vector<std::string> errors(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      auto k = compileFile(ctx, "softmax.py", "softmax_kernel", softmaxSpecs(100));
      if (k)
        kernels[t] = *k;
      else
        errors[t] = k.error().message;
    });
  for (auto &th : threads)
    th.join();
  for (int t = 0; t < 4; ++t)
    EXPECT_TRUE(kernels[t]) << errors[t];
  size_t n = ctx.numCompilations();
  EXPECT_GE(n, 1u);
  EXPECT_LE(n, 4u);
  auto again = compileFile(ctx, "softmax.py", "softmax_kernel", softmaxSpecs(100));
  ASSERT_TRUE(again) << again.error();
  EXPECT_EQ(ctx.numCompilations(), n) << "a compile after the concurrent ones must hit the cache";
}

} // namespace
} // namespace mt::e2e
