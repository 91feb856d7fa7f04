// End to end: examples/kernels/matmul.py (grouped tl.dot matmul) through the public API, f32 and f16,
// contiguous and transposed operands, and a 512^3 timing.
#include "E2EUtil.h"

#include <chrono>
#include <cstdio>

namespace mt::e2e {
namespace {

struct MatmulCase {
  int64_t M, N, K;
  int64_t blockM = 32, blockN = 32, blockK = 16, groupM = 4;
  DType inType = DType::F32;
  DType outType = DType::F32;
  bool transposeA = false; // A stored as K x M (column-major M x K)
  bool transposeB = false;
};

/// Runs the kernel; returns the output and fills `ref` with the float64 product.
void runMatmul(const MatmulCase &mc, uint64_t seed, bool checkResult = true) {
  const auto [M, N, K] = std::tuple(mc.M, mc.N, mc.K);
  Context ctx;
  int64_t sam = mc.transposeA ? 1 : K, sak = mc.transposeA ? M : 1;
  int64_t sbk = mc.transposeB ? 1 : N, sbn = mc.transposeB ? K : 1;
  int64_t scm = N, scn = 1;
  KernelPtr k;
  ASSERT_COMPILES(
      k, compileFile(ctx, "matmul.py", "matmul_kernel",
                     {ArgSpec::pointer(mc.inType), ArgSpec::pointer(mc.inType), ArgSpec::pointer(mc.outType),
                      ArgSpec::forInt(M), ArgSpec::forInt(N), ArgSpec::forInt(K), ArgSpec::forInt(sam),
                      ArgSpec::forInt(sak), ArgSpec::forInt(sbk), ArgSpec::forInt(sbn), ArgSpec::forInt(scm),
                      ArgSpec::forInt(scn), ArgSpec::constant(mc.blockM), ArgSpec::constant(mc.blockN),
                      ArgSpec::constant(mc.blockK), ArgSpec::constant(mc.groupM),
                      ArgSpec::constant(mc.outType == DType::F16)}));
  Rng rng(seed);
  Buffer a(mc.inType, M * K), b(mc.inType, K * N), c(mc.outType, M * N, /*slack=*/64);
  rng.fill(a);
  rng.fill(b);
  c.poison();
  Grid grid{cdiv(M, mc.blockM) * cdiv(N, mc.blockN)};
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_LAUNCHES(k, grid,
                  {a.arg(), b.arg(), c.arg(), LaunchArg::integer(M), LaunchArg::integer(N),
                   LaunchArg::integer(K), LaunchArg::integer(sam), LaunchArg::integer(sak),
                   LaunchArg::integer(sbk), LaunchArg::integer(sbn), LaunchArg::integer(scm),
                   LaunchArg::integer(scn)});
  auto t1 = std::chrono::steady_clock::now();
  if (!checkResult) {
    double ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
    std::printf("[ timing ] matmul %lldx%lldx%lld f32 (blocks %lld/%lld/%lld): %.1f ms, %.3f GFLOP/s\n",
                (long long)M, (long long)N, (long long)K, (long long)mc.blockM, (long long)mc.blockN,
                (long long)mc.blockK, ms, 2.0 * M * N * K / (ms * 1e6));
  }

  std::vector<double> ref(M * N), absSum(M * N);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double s = 0.0, as = 0.0;
      for (int64_t kk = 0; kk < K; ++kk) {
        double p = a.get(i * sam + kk * sak) * b.get(kk * sbk + j * sbn);
        s += p;
        as += std::abs(p);
      }
      ref[i * N + j] = s;
      absSum[i * N + j] = as;
    }
  // f32 accumulation of K products: error bounded by ~K * eps * sum|a_ik b_kj|; the f16 output rounds.
  Tolerance tol = mc.outType == DType::F16 ? Tolerance{1e-2, 1e-2} : Tolerance{1e-5, 1e-5};
  if (!checkResult) {
    // Big sizes: a loose check that the result is the product at all.
    tol = {1e-4, 1e-4};
  }
  EXPECT_TRUE(allClose(c, ref, tol));
  EXPECT_TRUE(c.slackUntouched());
}

TEST(E2EMatmul, F32OddSizes) { runMatmul({100, 72, 50}, 31); }
TEST(E2EMatmul, F16InputsF32Output) { runMatmul({100, 72, 50, 32, 32, 16, 4, DType::F16, DType::F32}, 32); }
TEST(E2EMatmul, F16InputsF16Output) { runMatmul({100, 72, 50, 32, 32, 16, 4, DType::F16, DType::F16}, 33); }
TEST(E2EMatmul, BF16Inputs) { runMatmul({100, 72, 50, 32, 32, 16, 4, DType::BF16, DType::F32}, 34); }
TEST(E2EMatmul, TransposedOperands) {
  MatmulCase mc{100, 72, 50};
  mc.transposeA = mc.transposeB = true;
  runMatmul(mc, 35);
}
TEST(E2EMatmul, GroupLargerThanTileRows) {
  // 3 row tiles, GROUP_SIZE_M 8: the last (only) group is short (min(num_pid_m - first_pid_m, GROUP)).
  runMatmul({70, 130, 33, 32, 32, 16, 8}, 36);
}
TEST(E2EMatmul, SingleKBlockAndOneRowTile) { runMatmul({16, 48, 16, 16, 16, 16, 1}, 37); }

TEST(E2EMatmul, Timing512) {
  // A measurement, not an assertion on speed (the result is still checked).
  runMatmul({512, 512, 512, 64, 64, 32, 8}, 38, /*checkResult=*/false);
}

} // namespace
} // namespace mt::e2e
