// End to end: examples/kernels/layernorm.py (forward, storing mean and rstd) through the public API.
#include "E2EUtil.h"

namespace mt::e2e {
namespace {

void runLayernorm(DType d, int64_t rows, int64_t cols, int64_t stride, int64_t block, uint64_t seed) {
  const double eps = 1e-5;
  Context ctx;
  KernelPtr k;
  ASSERT_COMPILES(
      k, compileFile(ctx, "layernorm.py", "layer_norm_fwd",
                     {ArgSpec::pointer(d), ArgSpec::pointer(d), ArgSpec::pointer(d), ArgSpec::pointer(d),
                      ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32), ArgSpec::forInt(stride),
                      ArgSpec::forInt(cols), ArgSpec::scalar(DType::F32), ArgSpec::constant(block)}));
  Rng rng(seed);
  Buffer x(d, rows * stride), y(d, rows * stride, /*slack=*/block), w(d, cols), b(d, cols);
  Buffer mean(DType::F32, rows, 4), rstd(DType::F32, rows, 4);
  // An offset keeps the mean away from zero, so a wrong mean shows.
  rng.fill(x, 0.5, 3.0);
  rng.fill(w, -2.0, 2.0);
  rng.fill(b, -1.0, 1.0);
  y.poison();
  mean.poison();
  rstd.poison();
  ASSERT_LAUNCHES(k, Grid{static_cast<uint32_t>(rows)},
                  {x.arg(), y.arg(), w.arg(), b.arg(), mean.arg(), rstd.arg(), LaunchArg::integer(stride),
                   LaunchArg::integer(cols), LaunchArg::floating(eps)});

  std::vector<double> gotY, refY, refMean, refRstd;
  for (int64_t r = 0; r < rows; ++r) {
    double m = 0.0, v = 0.0;
    for (int64_t c = 0; c < cols; ++c)
      m += x.get(r * stride + c);
    m /= cols;
    for (int64_t c = 0; c < cols; ++c)
      v += (x.get(r * stride + c) - m) * (x.get(r * stride + c) - m);
    v /= cols;
    double rs = 1.0 / std::sqrt(v + eps);
    refMean.push_back(m);
    refRstd.push_back(rs);
    for (int64_t c = 0; c < cols; ++c) {
      refY.push_back((x.get(r * stride + c) - m) * rs * w.get(c) + b.get(c));
      gotY.push_back(y.get(r * stride + c));
    }
  }
  Tolerance tol = d == DType::F32 ? Tolerance{1e-5, 1e-5} : toleranceFor(d);
  EXPECT_TRUE(allClose(gotY, refY, tol)) << "y";
  EXPECT_TRUE(allClose(mean, refMean, {1e-5, 1e-6})) << "mean";
  EXPECT_TRUE(allClose(rstd, refRstd, {1e-5, 1e-6})) << "rstd";
  EXPECT_TRUE(y.slackUntouched());
  EXPECT_TRUE(mean.slackUntouched());
  EXPECT_TRUE(rstd.slackUntouched());
}

TEST(E2ELayernorm, F32Rows33Cols257) { runLayernorm(DType::F32, 33, 257, 257, 128, 41); }
TEST(E2ELayernorm, F32OneBlockWiderThanRow) { runLayernorm(DType::F32, 33, 257, 260, 512, 42); }
TEST(E2ELayernorm, F16) { runLayernorm(DType::F16, 33, 257, 257, 128, 43); }
TEST(E2ELayernorm, BF16) { runLayernorm(DType::BF16, 33, 257, 257, 128, 44); }

} // namespace
} // namespace mt::e2e
