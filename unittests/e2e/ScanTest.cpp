// End to end: the recurrence h_t = a_t * h_{t-1} + x_t as a parallel associative scan
// (examples/kernels/linear_scan.py) and as a sequential loop (examples/kernels/seq_scan.py).
#include "E2EUtil.h"

namespace mt::e2e {
namespace {

/// Inputs in [B, T, D] layout and the float64 reference (same layout).
struct ScanData {
  int64_t B, T, D;
  std::vector<double> a, x, h;
  double at(const std::vector<double> &v, int64_t b, int64_t t, int64_t d) const {
    return v[(b * T + t) * D + d];
  }
};

ScanData makeScanData(int64_t B, int64_t T, int64_t D, uint64_t seed) {
  ScanData s{B, T, D, {}, {}, {}};
  Rng rng(seed);
  for (int64_t i = 0; i < B * T * D; ++i) {
    // Decays in (0.5, 1.05): some slightly above 1, so errors compound if the order is wrong.
    s.a.push_back(static_cast<float>(rng.uniform(0.5, 1.05)));
    s.x.push_back(static_cast<float>(rng.uniform(-1.0, 1.0)));
  }
  s.h.resize(B * T * D);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t d = 0; d < D; ++d) {
      double h = 0.0;
      for (int64_t t = 0; t < T; ++t) {
        h = s.at(s.a, b, t, d) * h + s.at(s.x, b, t, d);
        s.h[(b * T + t) * D + d] = h;
      }
    }
  return s;
}

TEST(E2EScan, SequentialLoopT100D17) {
  const int64_t B = 2, T = 100, D = 17, blockD = 8;
  ScanData s = makeScanData(B, T, D, 61);
  Context ctx;
  KernelPtr k;
  ASSERT_COMPILES(k, compileFile(ctx, "seq_scan.py", "seq_scan_kernel",
                                 {ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32),
                                  ArgSpec::pointer(DType::F32), ArgSpec::forInt(T), ArgSpec::forInt(D),
                                  ArgSpec::forInt(T * D), ArgSpec::forInt(D), ArgSpec::constant(blockD)}));
  Buffer x(DType::F32, B * T * D), a(DType::F32, B * T * D), h(DType::F32, B * T * D, /*slack=*/blockD);
  for (int64_t i = 0; i < B * T * D; ++i) {
    x.set(i, s.x[i]);
    a.set(i, s.a[i]);
  }
  h.poison();
  ASSERT_LAUNCHES(k, (Grid{static_cast<uint32_t>(B), cdiv(D, blockD)}),
                  {x.arg(), a.arg(), h.arg(), LaunchArg::integer(T), LaunchArg::integer(D),
                   LaunchArg::integer(T * D), LaunchArg::integer(D)});
  EXPECT_TRUE(allClose(h, s.h, {1e-5, 1e-5}));
  EXPECT_TRUE(h.slackUntouched());
}

void runAssociativeScan(int64_t B, int64_t T, int64_t D, int64_t blockD, int64_t blockT, uint64_t seed) {
  ScanData s = makeScanData(B, T, D, seed);
  Context ctx;
  KernelPtr k;
  ASSERT_COMPILES(k, compileFile(ctx, "linear_scan.py", "linear_scan_kernel",
                                 {ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32),
                                  ArgSpec::pointer(DType::F32), ArgSpec::forInt(D), ArgSpec::forInt(T),
                                  ArgSpec::forInt(D * T), ArgSpec::forInt(T), ArgSpec::constant(blockD),
                                  ArgSpec::constant(blockT)}));
  // The kernel's layout is [B, D, T] (scan along the contiguous last axis).
  Buffer x(DType::F32, B * D * T), a(DType::F32, B * D * T), h(DType::F32, B * D * T, /*slack=*/blockT);
  std::vector<double> ref(B * D * T);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t d = 0; d < D; ++d)
      for (int64_t t = 0; t < T; ++t) {
        int64_t i = (b * D + d) * T + t;
        x.set(i, s.at(s.x, b, t, d));
        a.set(i, s.at(s.a, b, t, d));
        ref[i] = s.at(s.h, b, t, d);
      }
  h.poison();
  ASSERT_LAUNCHES(k, (Grid{static_cast<uint32_t>(B), cdiv(D, blockD)}),
                  {x.arg(), a.arg(), h.arg(), LaunchArg::integer(D), LaunchArg::integer(T),
                   LaunchArg::integer(D * T), LaunchArg::integer(T)});
  // A tree-ordered scan rounds differently from the loop: allow a few ulps more.
  EXPECT_TRUE(allClose(h, ref, {2e-5, 2e-5}));
  EXPECT_TRUE(h.slackUntouched());
}

TEST(E2EScan, AssociativeScanT100D17) { runAssociativeScan(2, 100, 17, 8, 128, 62); }
TEST(E2EScan, AssociativeScanExactTile) { runAssociativeScan(1, 64, 16, 16, 64, 63); }

TEST(E2EScan, SequentialAndAssociativeAgree) {
  // Both kernels on the same data: they must agree with each other as well as with the reference.
  const int64_t B = 1, T = 100, D = 17;
  ScanData s = makeScanData(B, T, D, 64);
  Context ctx;
  KernelPtr seq, par;
  ASSERT_COMPILES(seq,
                  compileFile(ctx, "seq_scan.py", "seq_scan_kernel",
                              {ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32),
                               ArgSpec::pointer(DType::F32), ArgSpec::forInt(T), ArgSpec::forInt(D),
                               ArgSpec::forInt(T * D), ArgSpec::forInt(D), ArgSpec::constant(int64_t(32))}));
  ASSERT_COMPILES(par, compileFile(ctx, "linear_scan.py", "linear_scan_kernel",
                                   {ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32),
                                    ArgSpec::pointer(DType::F32), ArgSpec::forInt(D), ArgSpec::forInt(T),
                                    ArgSpec::forInt(D * T), ArgSpec::forInt(T),
                                    ArgSpec::constant(int64_t(32)), ArgSpec::constant(int64_t(128))}));
  Buffer xs(DType::F32, T * D), as(DType::F32, T * D), hs(DType::F32, T * D);
  Buffer xp(DType::F32, T * D), ap(DType::F32, T * D), hp(DType::F32, T * D);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t d = 0; d < D; ++d) {
      xs.set(t * D + d, s.at(s.x, 0, t, d));
      as.set(t * D + d, s.at(s.a, 0, t, d));
      xp.set(d * T + t, s.at(s.x, 0, t, d));
      ap.set(d * T + t, s.at(s.a, 0, t, d));
    }
  hs.poison();
  hp.poison();
  ASSERT_LAUNCHES(seq, (Grid{1, 1}),
                  {xs.arg(), as.arg(), hs.arg(), LaunchArg::integer(T), LaunchArg::integer(D),
                   LaunchArg::integer(T * D), LaunchArg::integer(D)});
  ASSERT_LAUNCHES(par, (Grid{1, 1}),
                  {xp.arg(), ap.arg(), hp.arg(), LaunchArg::integer(D), LaunchArg::integer(T),
                   LaunchArg::integer(D * T), LaunchArg::integer(T)});
  std::vector<double> fromSeq(T * D), fromPar(T * D);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t d = 0; d < D; ++d) {
      fromSeq[t * D + d] = hs.get(t * D + d);
      fromPar[t * D + d] = hp.get(d * T + t);
    }
  EXPECT_TRUE(allClose(fromSeq, s.h, {1e-5, 1e-5}));
  EXPECT_TRUE(allClose(fromPar, fromSeq, {2e-5, 2e-5}));
}

} // namespace
} // namespace mt::e2e
