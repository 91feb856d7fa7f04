// End to end: examples/kernels/softmax.py (fused row softmax) through the public API.
#include "E2EUtil.h"

namespace mt::e2e {
namespace {

void runSoftmax(int64_t rows, int64_t cols, int64_t inStride, int64_t outStride, int64_t block, uint64_t seed,
                double scale) {
  Context ctx;
  KernelPtr k;
  ASSERT_COMPILES(
      k, compileFile(ctx, "softmax.py", "softmax_kernel",
                     {ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32), ArgSpec::forInt(inStride),
                      ArgSpec::forInt(outStride), ArgSpec::forInt(cols), ArgSpec::constant(block)}));
  Rng rng(seed);
  Buffer in(DType::F32, rows * inStride), out(DType::F32, rows * outStride, /*slack=*/block);
  rng.fill(in, -scale, scale);
  out.poison();
  ASSERT_LAUNCHES(k, Grid{static_cast<uint32_t>(rows)},
                  {out.arg(), in.arg(), LaunchArg::integer(inStride), LaunchArg::integer(outStride),
                   LaunchArg::integer(cols)});

  std::vector<double> got, ref;
  for (int64_t r = 0; r < rows; ++r) {
    double mx = -INFINITY, sum = 0.0;
    for (int64_t c = 0; c < cols; ++c)
      mx = std::max(mx, in.get(r * inStride + c));
    for (int64_t c = 0; c < cols; ++c)
      sum += std::exp(in.get(r * inStride + c) - mx);
    for (int64_t c = 0; c < cols; ++c) {
      ref.push_back(std::exp(in.get(r * inStride + c) - mx) / sum);
      got.push_back(out.get(r * outStride + c));
    }
    // Padding between rows of the output is never written.
    for (int64_t c = cols; c < outStride; ++c)
      EXPECT_TRUE(out.isPoisoned(r * outStride + c)) << "row " << r << " col " << c;
  }
  EXPECT_TRUE(allClose(got, ref, {1e-5, 1e-7}));
  EXPECT_TRUE(out.slackUntouched());
}

TEST(E2ESoftmax, Rows37Cols100Block128) { runSoftmax(37, 100, 100, 100, 128, 21, 4.0); }
TEST(E2ESoftmax, PaddedStrides) { runSoftmax(37, 100, 113, 128, 128, 22, 4.0); }
TEST(E2ESoftmax, LargeInputsNeedMaxSubtraction) {
  // exp(200) overflows f32: only the max-subtracted form gives finite results.
  runSoftmax(5, 100, 100, 100, 128, 23, 200.0);
}
TEST(E2ESoftmax, ExactBlockWidth) { runSoftmax(7, 64, 64, 64, 64, 24, 3.0); }

} // namespace
} // namespace mt::e2e
