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
  /// tl.dot(..., input_precision="ieee") instead of Triton's default, which rounds f32 inputs to tf32.
  bool ieee = false;
};

/// Runs the kernel and checks C against the float64 product (with `timing`, also prints the launch's
/// wall time).
void runMatmul(const MatmulCase &mc, uint64_t seed, bool timing = false) {
  const auto [M, N, K] = std::tuple(mc.M, mc.N, mc.K);
  Context ctx;
  int64_t sam = mc.transposeA ? 1 : K, sak = mc.transposeA ? M : 1;
  int64_t sbk = mc.transposeB ? 1 : N, sbn = mc.transposeB ? K : 1;
  int64_t scm = N, scn = 1;
  std::vector<std::pair<std::string, std::string>> edits;
  if (mc.ieee)
    edits.push_back({"tl.dot(a, b, accumulator)", "tl.dot(a, b, accumulator, input_precision=\"ieee\")"});
  auto src = loadKernelWith("matmul.py", "matmul_kernel", edits);
  ASSERT_TRUE(src) << src.error();
  KernelPtr k;
  ASSERT_COMPILES(
      k, ctx.compile(*src,
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
  if (timing) {
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
  // Error bound per element, relative to sum_k |a_ik * b_kj|: f32 accumulation of K products (~K ulps);
  // tf32 inputs (Triton's default for f32 tl.dot) carry 2^-11 relative rounding each; f16/bf16 inputs
  // are exact in the f32 products; an f16 output rounds by 2^-11 of |c|.
  double rel = 4.0 * K * 6e-8;
  if (mc.inType == DType::F32 && !mc.ieee)
    rel += 2.0 * 4.9e-4;
  std::vector<double> bound(M * N);
  for (int64_t i = 0; i < M * N; ++i) {
    bound[i] = rel * absSum[i] + 1e-6;
    if (mc.outType == DType::F16)
      bound[i] += 1e-3 * std::abs(ref[i]) + 1e-4;
    if (mc.outType == DType::BF16)
      bound[i] += 8e-3 * std::abs(ref[i]) + 1e-4;
  }
  EXPECT_TRUE(withinBounds(c.values(), ref, bound));
  EXPECT_TRUE(c.slackUntouched());
}

TEST(E2EMatmul, F32OddSizes) { runMatmul({100, 72, 50}, 31); }
TEST(E2EMatmul, F32OddSizesIeee) {
  MatmulCase mc{100, 72, 50};
  mc.ieee = true;
  runMatmul(mc, 31);
}
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

/// examples/kernels/matmul_block_ptr.py: the same product through tl.make_block_ptr / tl.advance with
/// boundary checks (partial tiles in M, N and K), f16 inputs, f32 output; B optionally transposed.
void runBlockPtrMatmul(int64_t M, int64_t N, int64_t K, bool transposeB, uint64_t seed) {
  Context ctx;
  int64_t sbk = transposeB ? 1 : N, sbn = transposeB ? K : 1;
  auto src = loadKernelWith("matmul_block_ptr.py", "matmul_block_ptr_kernel", {});
  ASSERT_TRUE(src) << src.error();
  KernelPtr k;
  ASSERT_COMPILES(k, ctx.compile(*src, {ArgSpec::pointer(DType::F16), ArgSpec::pointer(DType::F16),
                                        ArgSpec::pointer(DType::F32), ArgSpec::forInt(M), ArgSpec::forInt(N),
                                        ArgSpec::forInt(K), ArgSpec::forInt(K), ArgSpec::forInt(1),
                                        ArgSpec::forInt(sbk), ArgSpec::forInt(sbn), ArgSpec::forInt(N),
                                        ArgSpec::forInt(1), ArgSpec::constant(int64_t(32)),
                                        ArgSpec::constant(int64_t(32)), ArgSpec::constant(int64_t(16))}));
  Rng rng(seed);
  Buffer a(DType::F16, M * K), b(DType::F16, K * N), c(DType::F32, M * N, /*slack=*/64);
  rng.fill(a);
  rng.fill(b);
  c.poison();
  ASSERT_LAUNCHES(k, Grid{cdiv(M, 32) * cdiv(N, 32)},
                  {a.arg(), b.arg(), c.arg(), LaunchArg::integer(M), LaunchArg::integer(N),
                   LaunchArg::integer(K), LaunchArg::integer(K), LaunchArg::integer(1),
                   LaunchArg::integer(sbk), LaunchArg::integer(sbn), LaunchArg::integer(N),
                   LaunchArg::integer(1)});
  std::vector<double> ref(M * N), bound(M * N);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double s = 0.0, as = 0.0;
      for (int64_t kk = 0; kk < K; ++kk) {
        double p = a.get(i * K + kk) * b.get(kk * sbk + j * sbn);
        s += p;
        as += std::abs(p);
      }
      ref[i * N + j] = s;
      bound[i * N + j] = 4.0 * K * 6e-8 * as + 1e-6; // f16 products are exact in f32
    }
  EXPECT_TRUE(withinBounds(c.values(), ref, bound));
  EXPECT_TRUE(c.slackUntouched());
}

TEST(E2EMatmul, BlockPointersOddSizes) { runBlockPtrMatmul(100, 72, 50, false, 39); }
TEST(E2EMatmul, BlockPointersTransposedB) { runBlockPtrMatmul(65, 40, 90, true, 40); }

TEST(E2EMatmul, Timing512) {
  // A measurement, not an assertion on speed (the result is still checked).
  runMatmul({512, 512, 512, 64, 64, 32, 8}, 38, /*timing=*/true);
}

} // namespace
} // namespace mt::e2e
