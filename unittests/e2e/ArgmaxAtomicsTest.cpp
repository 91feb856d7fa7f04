// End to end: tl.argmax (examples/kernels/argmax.py) and atomics (examples/kernels/atomics.py).
#include "E2EUtil.h"

namespace mt::e2e {
namespace {

void runArgmax(DType d, int64_t rows, int64_t cols, int64_t block, uint64_t seed, bool ties) {
  Context ctx;
  KernelPtr k;
  ASSERT_COMPILES(k, compileFile(ctx, "argmax.py", "argmax_kernel",
                                 {ArgSpec::pointer(d), ArgSpec::pointer(DType::I32), ArgSpec::forInt(cols),
                                  ArgSpec::forInt(cols), ArgSpec::constant(block)}));
  Rng rng(seed);
  Buffer x(d, rows * cols), out(DType::I32, rows, /*slack=*/4);
  if (ties) {
    // Few distinct values: every row has its maximum several times; the first index must win.
    for (size_t i = 0; i < x.size(); ++i)
      x.set(i, static_cast<double>(rng.integer(-3, 3)));
  } else {
    rng.fill(x, -5.0, 5.0);
  }
  out.poison();
  ASSERT_LAUNCHES(k, Grid{static_cast<uint32_t>(rows)},
                  {x.arg(), out.arg(), LaunchArg::integer(cols), LaunchArg::integer(cols)});
  std::vector<double> ref;
  for (int64_t r = 0; r < rows; ++r) {
    int64_t best = 0;
    for (int64_t c = 1; c < cols; ++c)
      if (x.get(r * cols + c) > x.get(r * cols + best))
        best = c;
    ref.push_back(static_cast<double>(best));
  }
  EXPECT_TRUE(allClose(out, ref));
  EXPECT_TRUE(out.slackUntouched());
}

TEST(E2EArgmax, F32Rows37Cols100) { runArgmax(DType::F32, 37, 100, 128, 71, false); }
TEST(E2EArgmax, TiesPickTheFirstIndex) { runArgmax(DType::F32, 37, 100, 128, 72, true); }
TEST(E2EArgmax, F16) { runArgmax(DType::F16, 9, 200, 256, 73, false); }

void runHistogram(int64_t n, int64_t numBins, int64_t block, int64_t maxValue, uint64_t seed) {
  Context ctx;
  KernelPtr k;
  ASSERT_COMPILES(k, compileFile(ctx, "atomics.py", "histogram_kernel",
                                 {ArgSpec::pointer(DType::I32), ArgSpec::pointer(DType::I32),
                                  ArgSpec::forInt(n), ArgSpec::constant(numBins), ArgSpec::constant(block)}));
  Rng rng(seed);
  Buffer x(DType::I32, n), hist(DType::I32, numBins, /*slack=*/4);
  rng.fill(x, 0, static_cast<double>(maxValue));
  // Non-zero starting counts: the kernel adds to them.
  for (int64_t b = 0; b < numBins; ++b)
    hist.set(b, static_cast<double>(rng.integer(1, 9)));
  std::vector<double> ref = hist.values();
  for (int64_t i = 0; i < n; ++i)
    ref[static_cast<int64_t>(x.get(i)) % numBins] += 1;
  ASSERT_LAUNCHES(k, Grid{cdiv(n, block)}, {x.arg(), hist.arg(), LaunchArg::integer(n)});
  EXPECT_TRUE(allClose(hist, ref));
  EXPECT_TRUE(hist.slackUntouched());
}

TEST(E2EAtomics, Histogram1000Values16Bins) { runHistogram(1000, 16, 128, 999, 81); }
TEST(E2EAtomics, HistogramAllInOneBin) {
  // One bin: every lane of every program increments the same counter (full contention).
  runHistogram(1000, 1, 128, 999, 82);
}
TEST(E2EAtomics, HistogramManyPrograms) { runHistogram(100000, 64, 256, 1 << 20, 83); }

void runGlobalMax(int64_t n, int64_t block, double initial, uint64_t seed) {
  Context ctx;
  KernelPtr k;
  ASSERT_COMPILES(k, compileFile(ctx, "atomics.py", "global_max_kernel",
                                 {ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32),
                                  ArgSpec::forInt(n), ArgSpec::constant(block)}));
  Rng rng(seed);
  Buffer x(DType::F32, n), out(DType::F32, 1, /*slack=*/4);
  rng.fill(x, -100.0, 100.0);
  out.set(0, initial);
  double ref = initial;
  for (int64_t i = 0; i < n; ++i)
    ref = std::max(ref, x.get(i));
  ASSERT_LAUNCHES(k, Grid{cdiv(n, block)}, {x.arg(), out.arg(), LaunchArg::integer(n)});
  EXPECT_EQ(out.get(0), ref);
  EXPECT_TRUE(out.slackUntouched());
}

TEST(E2EAtomics, GlobalMax) { runGlobalMax(1000, 128, -1e30, 84); }
TEST(E2EAtomics, GlobalMaxKeepsLargerInitial) { runGlobalMax(1000, 128, 1000.0, 85); }
TEST(E2EAtomics, GlobalMaxManyPrograms) { runGlobalMax(50001, 64, -1e30, 86); }

} // namespace
} // namespace mt::e2e
