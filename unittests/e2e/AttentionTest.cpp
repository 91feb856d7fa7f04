// End to end: examples/kernels/attention.py (flash-attention forward, online softmax in base 2).
#include "E2EUtil.h"

namespace mt::e2e {
namespace {

/// With `ieee`, both tl.dot calls get input_precision="ieee"; by default (Triton's) f32 dot inputs are
/// rounded to tf32 and the tolerance is looser.
void runAttention(int64_t Z, int64_t H, int64_t S, int64_t D, bool causal, int64_t blockM, int64_t blockN,
                  uint64_t seed, bool ieee = false) {
  Context ctx;
  const int64_t sd = 1, ss = D, sh = S * D, sz = H * S * D;
  std::vector<std::pair<std::string, std::string>> edits;
  if (ieee) {
    edits.push_back({"tl.dot(q, kt)", "tl.dot(q, kt, input_precision=\"ieee\")"});
    edits.push_back({"tl.dot(p, v, acc)", "tl.dot(p, v, acc, input_precision=\"ieee\")"});
  }
  auto src = loadKernelWith("attention.py", "attn_fwd_kernel", edits);
  ASSERT_TRUE(src) << src.error();
  KernelPtr k;
  ASSERT_COMPILES(k, ctx.compile(*src, {ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32),
                                        ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32),
                                        ArgSpec::scalar(DType::F32), ArgSpec::forInt(sz), ArgSpec::forInt(sh),
                                        ArgSpec::forInt(ss), ArgSpec::forInt(sd), ArgSpec::forInt(H),
                                        ArgSpec::forInt(S), ArgSpec::constant(D), ArgSpec::constant(blockM),
                                        ArgSpec::constant(blockN), ArgSpec::constant(causal)}));
  Rng rng(seed);
  const int64_t n = Z * H * S * D;
  Buffer q(DType::F32, n), kk(DType::F32, n), v(DType::F32, n), o(DType::F32, n, /*slack=*/blockM * D);
  rng.fill(q, -2.0, 2.0);
  rng.fill(kk, -2.0, 2.0);
  rng.fill(v);
  o.poison();
  const double scale = 1.0 / std::sqrt(static_cast<double>(D));
  ASSERT_LAUNCHES(k, (Grid{cdiv(S, blockM), static_cast<uint32_t>(Z * H)}),
                  {q.arg(), kk.arg(), v.arg(), o.arg(), LaunchArg::floating(scale), LaunchArg::integer(sz),
                   LaunchArg::integer(sh), LaunchArg::integer(ss), LaunchArg::integer(sd),
                   LaunchArg::integer(H), LaunchArg::integer(S)});

  std::vector<double> ref(n);
  std::vector<double> s(S);
  for (int64_t zh = 0; zh < Z * H; ++zh) {
    const int64_t base = zh * S * D;
    for (int64_t i = 0; i < S; ++i) {
      const int64_t last = causal ? i : S - 1;
      double mx = -INFINITY;
      for (int64_t j = 0; j <= last; ++j) {
        double dot = 0.0;
        for (int64_t d = 0; d < D; ++d)
          dot += q.get(base + i * D + d) * kk.get(base + j * D + d);
        s[j] = dot * scale;
        mx = std::max(mx, s[j]);
      }
      double sum = 0.0;
      for (int64_t j = 0; j <= last; ++j)
        sum += (s[j] = std::exp(s[j] - mx));
      for (int64_t d = 0; d < D; ++d) {
        double acc = 0.0;
        for (int64_t j = 0; j <= last; ++j)
          acc += s[j] * v.get(base + j * D + d);
        ref[base + i * D + d] = acc / sum;
      }
    }
  }
  EXPECT_TRUE(allClose(o, ref, ieee ? Tolerance{1e-5, 1e-5} : Tolerance{3e-3, 3e-3}));
  EXPECT_TRUE(o.slackUntouched());
}

TEST(E2EAttention, NonCausal) { runAttention(1, 2, 67, 32, false, 16, 16, 51); }
TEST(E2EAttention, Causal) { runAttention(1, 2, 67, 32, true, 16, 16, 52); }
TEST(E2EAttention, CausalTwoBatchesWideQueryBlock) { runAttention(2, 2, 67, 32, true, 32, 16, 53); }
TEST(E2EAttention, NonCausalIeee) { runAttention(1, 2, 67, 32, false, 16, 16, 54, true); }
TEST(E2EAttention, CausalIeee) { runAttention(1, 2, 67, 32, true, 16, 16, 55, true); }

} // namespace
} // namespace mt::e2e
