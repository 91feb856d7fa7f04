// Warpgroup MMAs (EmitOptions::wgmma, device/wgmma.cuh) run on the CPU: the generated kernels stage their
// operands in the swizzled layouts and the host fallback of each m64nNk16 instruction reads them back through
// the same matrix descriptors the GPU gets, so a wrong swizzle, descriptor field or warpgroup offset gives
// wrong products here. The same sources must also compile for sm_90a with NVRTC (the inline asm is checked
// by ptxas there).
#include "HostEmulation.h"

using namespace mt;
using namespace mt::hostemu;

namespace {

size_t count(const std::string &text, const std::string &needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size()))
    ++n;
  return n;
}

/// Query row i of head `head` of softmax(q k^T * scale) v over keys 0 .. last, in float64 ([heads, S, D]
/// arrays): the output row and the row's log-sum-exp.
struct AttentionRow {
  std::vector<double> out;
  double lse = 0;
};
AttentionRow attentionRow(const std::vector<float> &q, const std::vector<float> &k,
                          const std::vector<float> &v, size_t head, int S, int D, int i, int last,
                          double scale) {
  std::vector<double> p(S, 0.0);
  double mx = -1e300, sum = 0;
  for (int j = 0; j <= last; ++j) {
    double s = 0;
    for (int d = 0; d < D; ++d)
      s += double(q[(head * S + i) * D + d]) * k[(head * S + j) * D + d];
    mx = std::max(mx, p[j] = s * scale);
  }
  for (int j = 0; j <= last; ++j)
    sum += (p[j] = std::exp(p[j] - mx));
  AttentionRow r{std::vector<double>(D, 0.0), mx + std::log(sum)};
  for (int d = 0; d < D; ++d) {
    for (int j = 0; j <= last; ++j)
      r.out[d] += p[j] * v[(head * S + j) * D + d];
    r.out[d] /= sum;
  }
  return r;
}

/// Multiples of 1/8 in [-4, 4]: exact in f16/bf16, products and sums of a few hundred exact in f32.
std::vector<float> eighths(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(-32, 32);
  std::vector<float> v(n);
  for (float &x : v)
    x = float(dist(rng)) / 8.0f;
  return v;
}

std::vector<uint16_t> toHalf(const std::vector<float> &v) {
  std::vector<uint16_t> h(v.size());
  for (size_t i = 0; i < v.size(); ++i)
    h[i] = __float2half(v[i]).x;
  return h;
}

std::vector<uint16_t> toBf16(const std::vector<float> &v) {
  std::vector<uint16_t> h(v.size());
  for (size_t i = 0; i < v.size(); ++i)
    h[i] = __float2bfloat16(v[i]).x;
  return h;
}

class WgmmaHost : public CudaHostEmulation {
protected:
  void SetUp() override {
    CudaHostEmulation::SetUp();
    wgmma = true;
  }
  /// The kernel compiles for sm_90a (where the asm is real) when NVRTC is there.
  void expectCompilesForSm90a(const cuda::CudaKernel &k) {
    auto cubin = cuda::compileCuda(k.source, k.name + ".cu", "sm_90a");
    ASSERT_TRUE(cubin) << cubin.error() << "\n" << k.source;
    EXPECT_GT(cubin->size(), 1024u);
  }
};

struct MatmulCase {
  int bm, bn, bk, warps;
  int m, n, k;
  const char *swizzles; // the mt::wgmmaAccumulate template arguments naming the swizzle widths of A and B
};

TEST_F(WgmmaHost, MatmulEverySwizzleWidthAndTwoWarpgroups) {
  // examples/kernels/matmul.py (pointer tiles, masked K tail, f16 in, f32 out) with the tile shapes that
  // pick each swizzle width (rows of 64, 32 and 16 elements: 128-, 64- and 32-byte swizzles) and 8 warps
  // (two warpgroups, the second one's A rows start 64 rows in). Partial tiles in M, N and K.
  const MatmulCase cases[] = {
      {64, 64, 64, 4, 130, 80, 208, "128, 128, false"},
      {64, 32, 32, 4, 100, 72, 50, "64, 64, false"},
      {64, 16, 16, 4, 70, 40, 40, "32, 32, false"},
      {128, 64, 32, 8, 150, 64, 96, "64, 128, false"},
      // 128 rows on one warpgroup: two m64 products per k-step (A's rows permuted in shared memory).
      {128, 64, 32, 4, 150, 72, 96, "64, 128, false, mt_wgmma_m64n64k16_f16_nmajor, -1, 2>"},
  };
  for (const MatmulCase &c : cases) {
    SCOPED_TRACE("BM " + std::to_string(c.bm) + " BN " + std::to_string(c.bn) + " BK " +
                 std::to_string(c.bk));
    std::vector<ArgSpec> specs = {ArgSpec::pointer(DType::F16), ArgSpec::pointer(DType::F16),
                                  ArgSpec::pointer(DType::F32)};
    for (int64_t v : {c.m, c.n, c.k, c.k, 1, c.n, 1, c.n, 1})
      specs.push_back(ArgSpec::forInt(v));
    for (int64_t v : {c.bm, c.bn, c.bk, 4})
      specs.push_back(ArgSpec::constant(v));
    specs.push_back(ArgSpec::constant(false));
    auto k = emitFile("examples/kernels/matmul.py", "matmul_kernel", specs, c.warps);
    ASSERT_TRUE(k);
    ASSERT_NE(k->source.find("mt::wgmmaAccumulate<mt::f16, " + std::to_string(c.bm) + ", " +
                             std::to_string(c.bn) + ", " + std::to_string(c.bk) + ", " + c.swizzles),
              std::string::npos)
        << k->source;
    EXPECT_NE(k->source.find("mt::swizzled<"), std::string::npos);
    EXPECT_NE(k->source.find("mt::fenceProxyAsync();"), std::string::npos);
    // Pipelined (3 stages: copies 2 ahead), the products of one iteration left in flight into the next (a
    // fourth slot).
    EXPECT_NE(k->source.find("mt::cpAsyncWait<1>(); // this iteration's slots"), std::string::npos);
    EXPECT_NE(k->source.find("% 4) * "), std::string::npos);
    EXPECT_NE(k->source.find(c.bm == 16 * c.warps ? ", -1>(v" : ", -1, 2>(v"), std::string::npos)
        << k->source; // products issued, then the next copies
    EXPECT_NE(k->source.find("); // the last iteration's products are done"), std::string::npos);
    EXPECT_NE(k->source.find("mt::wgmmaWait<0>(); // the last products"), std::string::npos);
    std::vector<float> a = eighths(size_t(c.m) * c.k, 71), b = eighths(size_t(c.k) * c.n, 72);
    std::vector<float> out(size_t(c.m) * c.n, -123.0f);
    auto ba = bytesOf(toHalf(a)), bb = bytesOf(toHalf(b)), bc = bytesOf(out);
    int grid = ((c.m + c.bm - 1) / c.bm) * ((c.n + c.bn - 1) / c.bn);
    std::map<std::string, int64_t> scalars = {{"M", c.m},         {"N", c.n},         {"K", c.k},
                                              {"stride_am", c.k}, {"stride_ak", 1},   {"stride_bk", c.n},
                                              {"stride_bn", 1},   {"stride_cm", c.n}, {"stride_cn", 1}};
    ASSERT_TRUE(run(*k, unsigned(grid), {&ba, &bb, &bc}, scalarsByName(*k, scalars)));
    std::vector<float> got = valuesOf<float>(bc);
    for (int i = 0; i < c.m; ++i)
      for (int j = 0; j < c.n; ++j) {
        double ref = 0;
        for (int kk = 0; kk < c.k; ++kk)
          ref += double(a[size_t(i) * c.k + kk]) * b[size_t(kk) * c.n + j];
        ASSERT_EQ(got[size_t(i) * c.n + j], float(ref)) << i << "," << j;
      }
    expectCompilesForSm90a(*k);
  }
}

TEST_F(WgmmaHost, MatmulFourStagesProductsInFlight) {
  // 4 stages with the products in flight: copies 3 iterations ahead into a ring of 5 (the slot the last
  // iteration's products read is refilled one iteration later). 9 K-tiles, the last one partial. The
  // next copies issued before or after the wait for the last iteration's products (EmitOptions::waitFirst).
  for (bool first : {false, true}) {
    SCOPED_TRACE(first ? "wait first" : "copies first");
    waitFirst = first;
    numStages = 4;
    const int M = 64, N = 64, K = 280, BM = 64, BN = 64, BK = 32;
    std::vector<ArgSpec> specs = {ArgSpec::pointer(DType::F16), ArgSpec::pointer(DType::F16),
                                  ArgSpec::pointer(DType::F32)};
    for (int64_t v : {M, N, K, K, 1, N, 1, N, 1})
      specs.push_back(ArgSpec::forInt(v));
    for (int64_t v : {BM, BN, BK, 4})
      specs.push_back(ArgSpec::constant(v));
    specs.push_back(ArgSpec::constant(false));
    auto k = emitFile("examples/kernels/matmul.py", "matmul_kernel", specs, 4);
    ASSERT_TRUE(k);
    ASSERT_NE(k->source.find("mt::cpAsyncWait<2>(); // this iteration's slots"), std::string::npos)
        << k->source;
    ASSERT_NE(k->source.find("% 5) * "), std::string::npos) << k->source;
    const size_t dot = k->source.find("mt::wgmmaAccumulate<"),
                 wait = k->source.find("mt::wgmmaWait<1>(", dot),
                 commit = k->source.find("mt::cpAsyncCommit();", dot);
    ASSERT_NE(wait, std::string::npos);
    EXPECT_EQ(first, wait < commit) << k->source;
    std::vector<float> a = eighths(M * K, 76), b = eighths(K * N, 77), out(M * N, -123.0f);
    auto ba = bytesOf(toHalf(a)), bb = bytesOf(toHalf(b)), bc = bytesOf(out);
    std::map<std::string, int64_t> scalars = {{"M", M},         {"N", N},         {"K", K},
                                              {"stride_am", K}, {"stride_ak", 1}, {"stride_bk", N},
                                              {"stride_bn", 1}, {"stride_cm", N}, {"stride_cn", 1}};
    ASSERT_TRUE(run(*k, 1, {&ba, &bb, &bc}, scalarsByName(*k, scalars)));
    std::vector<float> got = valuesOf<float>(bc);
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) {
        double ref = 0;
        for (int kk = 0; kk < K; ++kk)
          ref += double(a[i * K + kk]) * b[kk * N + j];
        ASSERT_EQ(got[i * N + j], float(ref)) << i << "," << j;
      }
    expectCompilesForSm90a(*k);
  }
}

TEST_F(WgmmaHost, BlockPointerMatmul) {
  // examples/kernels/matmul_block_ptr.py: tl.advance'd block pointers with boundary checks, 64 x 64 x 32.
  const int M = 100, N = 72, K = 50, BM = 64, BN = 64, BK = 32;
  std::vector<ArgSpec> specs = {ArgSpec::pointer(DType::F16), ArgSpec::pointer(DType::F16),
                                ArgSpec::pointer(DType::F32)};
  for (int64_t v : {M, N, K, K, 1, N, 1, N, 1})
    specs.push_back(ArgSpec::forInt(v));
  for (int64_t v : {BM, BN, BK})
    specs.push_back(ArgSpec::constant(v));
  auto k = emitFile("examples/kernels/matmul_block_ptr.py", "matmul_block_ptr_kernel", specs, 4);
  ASSERT_TRUE(k);
  ASSERT_NE(k->source.find("mt::wgmmaAccumulate<mt::f16, 64, 64, 32, 64, 128, false"), std::string::npos)
      << k->source;
  std::vector<float> a = eighths(M * K, 73), b = eighths(K * N, 74), out(M * N, -123.0f);
  auto ba = bytesOf(toHalf(a)), bb = bytesOf(toHalf(b)), bc = bytesOf(out);
  std::map<std::string, int64_t> scalars = {{"M", M},         {"N", N},         {"K", K},
                                            {"stride_am", K}, {"stride_ak", 1}, {"stride_bk", N},
                                            {"stride_bn", 1}, {"stride_cm", N}, {"stride_cn", 1}};
  ASSERT_TRUE(run(*k, 2 * 2, {&ba, &bb, &bc}, scalarsByName(*k, scalars)));
  std::vector<float> got = valuesOf<float>(bc);
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      double ref = 0;
      for (int kk = 0; kk < K; ++kk)
        ref += double(a[i * K + kk]) * b[kk * N + j];
      ASSERT_EQ(got[i * N + j], float(ref)) << i << "," << j;
    }
  expectCompilesForSm90a(*k);
}

TEST_F(WgmmaHost, AttentionQKTransposedAndPV) {
  // bench/kernels/attention_bf16.py: S = q @ tl.trans(k) reads B K-major from the ring that holds k as loaded
  // (N rows of HEAD_DIM), P @ V reads V N-major and P from the fragment registers (A in registers). Causal
  // and not, 2 query blocks of 64 over a sequence of 128 keys in blocks of 32, HEAD_DIM 64.
  // Also with mbarrier rings (EmitOptions::mbarrierRings): no block-wide barrier in the loops, on one and on
  // two warpgroups (128 query rows, 8 warps); at HEAD_DIM 128 and blocks of 128 keys (256 keys) the two
  // warpgroups then take turns (EmitOptions::pingPong).
  const int Z = 1, H = 2;
  // With `rot`, rings issue P @ V an iteration late, with the next S (EmitOptions::rotate); with `aff`, the
  // ring copies of k and v read running pointers (EmitOptions::affineRings).
  struct Cfg {
    int bm, warps;
    bool mbar;
    int d = 64, bn = 32;
    bool rot = false, aff = false;
  };
  // 128 query rows on one warpgroup (4 warps): both products twice per k-step, P from two fragment rows.
  for (Cfg c : {Cfg{64, 4, false}, Cfg{64, 4, true}, Cfg{128, 8, true}, Cfg{128, 8, true, 64, 32, true, true},
                Cfg{128, 4, false, 64, 32, false, true}, Cfg{128, 8, true, 128, 128},
                Cfg{128, 8, true, 128, 128, true}, Cfg{128, 8, true, 128, 128, false, true}})
    for (bool causal : {false, true}) {
      const int BM = c.bm, D = c.d, BN = c.bn, S = std::max(128, 2 * BN);
      mbarrier = c.mbar;
      rotate = c.rot;
      affineRings = c.aff;
      maxPipeBytes = D == 128 ? 225 * 1024 : cuda::EmitOptions{}.maxPipeBytes; // q + 2 x 3 slots of 32 KiB
      SCOPED_TRACE(std::string(causal ? "causal" : "full") + " BM " + std::to_string(BM) + " D " +
                   std::to_string(D) + (c.mbar ? " mbarrier" : "") + (c.rot ? " rotated" : "") +
                   (c.aff ? " affine" : ""));
      std::vector<ArgSpec> specs = {ArgSpec::pointer(DType::BF16), ArgSpec::pointer(DType::BF16),
                                    ArgSpec::pointer(DType::BF16), ArgSpec::pointer(DType::BF16),
                                    ArgSpec::scalar(DType::F32)};
      for (int64_t v : {H * S * D, S * D, D, 1, H, S})
        specs.push_back(ArgSpec::forInt(v));
      for (int64_t v : {D, BM, BN})
        specs.push_back(ArgSpec::constant(v));
      specs.push_back(ArgSpec::constant(causal));
      auto k = emitFile("bench/kernels/attention_bf16.py", "attn_fwd_bf16_kernel", specs, c.warps);
      ASSERT_TRUE(k);
      ASSERT_NE(k->source.find("mt::wgmmaAccumulate<mt::bf16, " + std::to_string(BM) + ", " +
                               std::to_string(BN) + ", " + std::to_string(D) + ", 128, 128, true"),
                std::string::npos)
          << k->source;
      // P @ V takes P (the first product's fragments, cast to bf16) from registers: no staging, no barrier.
      ASSERT_NE(k->source.find("mt::wgmmaAccumulateRegA<mt::bf16, " + std::to_string(BM) + ", " +
                               std::to_string(D) + ", " + std::to_string(BN) + ", 128, false"),
                std::string::npos)
          << k->source;
      // m_i, l_i and alpha stay in the rows' registers (EmitLayout.cpp planFragRows): the row max and sum are
      // quad shuffles, the broadcasts read registers; the only barrier of a loop is the ring's (and, after a
      // loop of mbarriers, the one before they are invalidated). The bf16 output alone goes through shared
      // memory, to be stored 16 bytes a thread (two barriers).
      EXPECT_EQ(count(k->source, "through shared memory"), 1u) << k->source;
      EXPECT_NE(k->source.find("// fragments -> blocked through shared memory, stored 16 bytes a group"),
                std::string::npos)
          << k->source;
      EXPECT_NE(k->source.find("[mt::fragRowPiece<" + std::to_string(D) + ", 1>(i)]"), std::string::npos)
          << k->source;
      bool rings = c.mbar && c.warps >= 8;
      EXPECT_EQ(count(k->source, "__syncthreads();"), (causal ? 6u : 4u) + (rings ? (causal ? 2u : 1u) : 0u))
          << k->source;
      EXPECT_EQ(count(k->source, "mt::mbarInval("), rings ? (causal ? 2u : 1u) : 0u) << k->source;
      // mbarrier rings only on two warpgroups or more (on one the block-wide barrier measured faster)
      EXPECT_EQ(k->source.find("mt::mbarWait(") != std::string::npos, rings) << k->source;
      // ... and with products of 128 x 128 the two warpgroups take turns at the tensor cores
      // (EmitOptions::pingPong): a turn from P @ V to the next S's issue; before each loop warpgroup 1
      // passes the first turn, after it warpgroup 0 the last.
      const size_t turns = rings && D == 128 && BN == 128 ? (causal ? 2u : 1u) : 0u;
      EXPECT_EQ(count(k->source, "_turn = 1 + "), turns) << k->source;
      EXPECT_EQ(count(k->source, "mt::namedBarArrive("), 3 * turns) << k->source;
      // Rotated loops: in iteration i, P @ V of iteration i - 1 right after S (an empty group in the first),
      // its wait after the softmax; after the loop the last P @ V.
      // Affine rings: k's and v's copies advance running pointers (two per loop).
      EXPECT_EQ(count(k->source, "_astep;"), c.aff ? (causal ? 4u : 2u) : 0u) << k->source;
      const size_t rotated = rings && c.rot ? (causal ? 2u : 1u) : 0u;
      EXPECT_EQ(count(k->source, "mt::wgmmaCommit(); // an empty group"), rotated) << k->source;
      EXPECT_EQ(count(k->source, "mt::wgmmaAccumulateRegA<"), rotated  ? 2 * rotated
                                                              : causal ? 2u
                                                                       : 1u)
          << k->source;
      size_t n = size_t(Z) * H * S * D;
      std::mt19937 rng(75);
      std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
      std::vector<float> q(n), kk(n), v(n);
      for (std::vector<float> *t : {&q, &kk, &v})
        for (float &x : *t)
          x = __bfloat162float(__float2bfloat16(dist(rng) * (t == &q ? 0.25f : 1.0f)));
      std::vector<float> outInit(n, -7.0f);
      auto bq = bytesOf(toBf16(q)), bk = bytesOf(toBf16(kk)), bv = bytesOf(toBf16(v)),
           bo = bytesOf(toBf16(outInit));
      // The host launcher passes integer scalars (cast to the parameter type): scale 1, q kept small instead.
      const double scale = 1.0;
      std::map<std::string, int64_t> named = {{"qk_scale", 1}, {"stride_z", H * S * D}, {"stride_h", S * D},
                                              {"stride_s", D}, {"stride_d", 1},         {"H", H},
                                              {"N_CTX", S}};
      ASSERT_TRUE(run(*k, S / BM, {&bq, &bk, &bv, &bo}, scalarsByName(*k, named), Z * H));
      std::vector<uint16_t> got = valuesOf<uint16_t>(bo);
      for (int zh = 0; zh < Z * H; ++zh)
        for (int i = 0; i < S; ++i) {
          AttentionRow ref = attentionRow(q, kk, v, size_t(zh), S, D, i, causal ? i : S - 1, scale);
          for (int d = 0; d < D; ++d) {
            __nv_bfloat16 h;
            h.x = got[(size_t(zh) * S + i) * D + d];
            ASSERT_NEAR(__bfloat162float(h), ref.out[d], 2e-2) << zh << "," << i << "," << d;
          }
        }
      expectCompilesForSm90a(*k);
    }
}

TEST_F(WgmmaHost, RingsThatDoNotFitFallBack) {
  // Attention at HEAD_DIM 128, BLOCK_N 128, 3 stages: q (32 KiB) and per slot k and v (64 KiB). In 192 KiB
  // the loop gets 2 stages; the mbarrier rings' extra slot does not fit even then, so the loop keeps its
  // block-wide barrier (and is still pipelined). With 225 KiB: 3 stages, or the mbarrier rings at 2 (with a
  // rotated loop, LoopPipe::split, 4 barriers a slot: 48 bytes more).
  std::vector<ArgSpec> specs = {ArgSpec::pointer(DType::BF16), ArgSpec::pointer(DType::BF16),
                                ArgSpec::pointer(DType::BF16), ArgSpec::pointer(DType::BF16),
                                ArgSpec::scalar(DType::F32)};
  for (int64_t v : {32 * 4096 * 128, 4096 * 128, 128, 1, 32, 4096})
    specs.push_back(ArgSpec::forInt(v));
  for (int64_t v : {128, 128, 128})
    specs.push_back(ArgSpec::constant(v));
  specs.push_back(ArgSpec::constant(false));
  struct Case {
    bool mbar;
    size_t kib, shared;
    bool mbarWaits, rot = false;
  };
  for (Case c :
       {Case{false, 192, 163840, false}, Case{true, 192, 163840, false}, Case{false, 225, 229376, false},
        Case{true, 225, 229424, true}, Case{true, 225, 229472, true, true}}) {
    SCOPED_TRACE(std::string(c.mbar ? "mbarrier " : "") + (c.rot ? "rotated " : "") + std::to_string(c.kib) +
                 " KiB");
    mbarrier = c.mbar;
    rotate = c.rot;
    maxPipeBytes = c.kib * 1024;
    auto k = emitFile("bench/kernels/attention_bf16.py", "attn_fwd_bf16_kernel", specs, 8);
    ASSERT_TRUE(k);
    EXPECT_EQ(k->sharedBytes, c.shared);
    EXPECT_EQ(k->source.find("mt::mbarWait") != std::string::npos, c.mbarWaits);
    EXPECT_NE(k->source.find("mt::wgmmaAccumulate"), std::string::npos);
    EXPECT_NE(k->source.find("mt::cpAsync<16>"), std::string::npos); // the ring copies
  }
}

TEST_F(WgmmaHost, LibraryAttentionMaskedTails) {
  // python/mini_triton/kernels/attention.py in bf16 (DOT=bf16): S = 150 is no multiple of the 64-row blocks,
  // so the last key block's copies are partly zero-filled and its scores masked to -1e30 before the row
  // max; P @ V takes P from registers. Causal and not; output and log-sum-exp vs float64.
  const int BH = 2, S = 150, D = 64;
  struct Cfg {
    int bm, bn, warps;
    bool mbar = false;
  };
  for (Cfg cfg : {Cfg{64, 64, 4}, Cfg{128, 64, 8}, Cfg{128, 128, 8}, Cfg{128, 64, 8, true}})
    for (bool causal : {true, false}) {
      const int BM = cfg.bm, BN = cfg.bn;
      mbarrier = cfg.mbar; // EmitOptions::mbarrierRings
      SCOPED_TRACE(std::string(causal ? "causal" : "full") + " BM " + std::to_string(BM) + " BN " +
                   std::to_string(BN) + (cfg.mbar ? " mbarrier" : ""));
      std::vector<ArgSpec> specs = {ArgSpec::pointer(DType::BF16),
                                    ArgSpec::pointer(DType::BF16),
                                    ArgSpec::pointer(DType::BF16),
                                    ArgSpec::pointer(DType::BF16),
                                    ArgSpec::pointer(DType::F32),
                                    ArgSpec::forInt(S),
                                    ArgSpec::constant(0.125 * 1.4426950408889634)};
      for (int64_t v : {BM, BN, D, D})
        specs.push_back(ArgSpec::constant(v));
      specs.push_back(ArgSpec::constant(causal));
      specs.push_back(ArgSpec::constant(std::string("fp32")));
      specs.push_back(ArgSpec::constant(std::string("bf16")));
      auto k = emitLibrary("attention.py", "attn_fwd_kernel", specs, cfg.warps);
      ASSERT_TRUE(k);
      EXPECT_EQ(k->source.find("mt::mbarWait(") != std::string::npos, cfg.mbar) << k->source;
      ASSERT_NE(k->source.find("mt::wgmmaAccumulateRegA<mt::bf16, " + std::to_string(BM) + ", 64, " +
                               std::to_string(BN)),
                std::string::npos)
          << k->source;
      size_t n = size_t(BH) * S * D;
      std::mt19937 rng(78);
      std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
      std::vector<float> q(n), kk(n), v(n);
      for (std::vector<float> *t : {&q, &kk, &v})
        for (float &x : *t)
          x = __bfloat162float(__float2bfloat16(dist(rng)));
      std::vector<float> o(n, -7.0f), lse(size_t(BH) * S, -7.0f);
      auto bq = bytesOf(toBf16(q)), bk = bytesOf(toBf16(kk)), bv = bytesOf(toBf16(v)),
           bo = bytesOf(toBf16(o)), bl = bytesOf(lse);
      ASSERT_TRUE(run(*k, (S + BM - 1) / BM, {&bq, &bk, &bv, &bo, &bl}, scalarsByName(*k, {{"S", S}}), BH));
      std::vector<uint16_t> got = valuesOf<uint16_t>(bo);
      std::vector<float> gotLse = valuesOf<float>(bl);
      for (int bh = 0; bh < BH; ++bh)
        for (int i = 0; i < S; ++i) {
          AttentionRow ref = attentionRow(q, kk, v, size_t(bh), S, D, i, causal ? i : S - 1, 0.125);
          ASSERT_NEAR(gotLse[size_t(bh) * S + i], ref.lse, 2e-2) << bh << "," << i;
          for (int d = 0; d < D; ++d) {
            __nv_bfloat16 h;
            h.x = got[(size_t(bh) * S + i) * D + d];
            ASSERT_NEAR(__bfloat162float(h), ref.out[d], 2e-2) << bh << "," << i << "," << d;
          }
        }
    }
}

TEST_F(CudaHostEmulation, AttentionBackwardDkDvPipelinedWithPrefetchedRowLoads) {
  // attention.py's dK/dV kernel in bf16: four tensor-core dots fed by cp.async rings in a loop that also
  // loads lse and delta rows (register prefetch). The prefetch must not unroll the loop body: the rings'
  // stage bookkeeping assumes one copy per iteration (it did, and dK/dV came out wrong on the GPU).
  // mma.sync (4 warps, 64 x 64 tiles) and wgmma; vs float64.
  const int S = 150, D = 64;
  const double smScale = 0.125, qkScale = 0.18, log2e = 1.4426950408889634;
  for (bool useWgmma : {false, true}) {
    SCOPED_TRACE(useWgmma ? "wgmma" : "mma.sync");
    wgmma = useWgmma;
    std::vector<ArgSpec> specs = {
        ArgSpec::pointer(DType::BF16), ArgSpec::pointer(DType::BF16), ArgSpec::pointer(DType::BF16),
        ArgSpec::pointer(DType::BF16), ArgSpec::pointer(DType::F32),  ArgSpec::pointer(DType::F32),
        ArgSpec::pointer(DType::BF16), ArgSpec::pointer(DType::BF16), ArgSpec::forInt(S),
        ArgSpec::constant(smScale),    ArgSpec::constant(qkScale)};
    for (int64_t v : {64, 64, D, D})
      specs.push_back(ArgSpec::constant(v));
    specs.push_back(ArgSpec::constant(false));
    specs.push_back(ArgSpec::constant(std::string("fp32")));
    specs.push_back(ArgSpec::constant(std::string("bf16")));
    auto k = emitLibrary("attention.py", "attn_bwd_dkdv_kernel", specs, 4);
    ASSERT_TRUE(k);
    ASSERT_NE(k->source.find("prefetched loads"), std::string::npos) << k->source;
    size_t n = size_t(S) * D;
    std::mt19937 rng(79);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    std::vector<float> q(n), kk(n), v(n), dO(n), lse(S), delta(S);
    for (std::vector<float> *t : {&q, &kk, &v, &dO})
      for (float &x : *t)
        x = __bfloat162float(__float2bfloat16(dist(rng)));
    for (float &x : lse)
      x = dist(rng) + 3.0f;
    for (float &x : delta)
      x = dist(rng);
    std::vector<float> poison(n, -7.0f);
    auto bq = bytesOf(toBf16(q)), bk = bytesOf(toBf16(kk)), bv = bytesOf(toBf16(v)), bd = bytesOf(toBf16(dO)),
         bl = bytesOf(lse), bde = bytesOf(delta), bdk = bytesOf(toBf16(poison)),
         bdv = bytesOf(toBf16(poison));
    ASSERT_TRUE(
        run(*k, (S + 63) / 64, {&bq, &bk, &bv, &bd, &bl, &bde, &bdk, &bdv}, scalarsByName(*k, {{"S", S}})));
    std::vector<uint16_t> gdk = valuesOf<uint16_t>(bdk), gdv = valuesOf<uint16_t>(bdv);
    std::vector<double> rdk(n, 0.0), rdv(n, 0.0);
    for (int m = 0; m < S; ++m)
      for (int j = 0; j < S; ++j) {
        double qk = 0, dp = 0;
        for (int d = 0; d < D; ++d) {
          qk += double(q[size_t(m) * D + d]) * kk[size_t(j) * D + d];
          dp += double(dO[size_t(m) * D + d]) * v[size_t(j) * D + d];
        }
        double p = std::exp2(qk * qkScale - double(lse[m]) * log2e), ds = p * (dp - delta[m]);
        for (int d = 0; d < D; ++d) {
          rdv[size_t(j) * D + d] += p * dO[size_t(m) * D + d];
          rdk[size_t(j) * D + d] += smScale * ds * q[size_t(m) * D + d];
        }
      }
    auto check = [&](const std::vector<uint16_t> &got, const std::vector<double> &ref, const char *what) {
      double mag = 0;
      for (double x : ref)
        mag = std::max(mag, std::abs(x));
      for (size_t e = 0; e < n; ++e) {
        __nv_bfloat16 h;
        h.x = got[e];
        ASSERT_NEAR(__bfloat162float(h), ref[e], 2e-2 * mag) << what << " " << e / D << "," << e % D;
      }
    };
    check(gdv, rdv, "dV");
    check(gdk, rdk, "dK");
  }
}

} // namespace

TEST_F(WgmmaHost, NewtonSchulzEpilogueReadsItsTileInTheAccumulatorLayout) {
  // bench/kernels/newton_schulz_bf16.py: B = ALPHA * (P @ Q) + BETA * R in bf16 on two warpgroups. R is
  // loaded straight into the accumulator's fragment layout (EmitLayout.cpp fragLoadChain: no conversion
  // of the accumulator through shared memory), and the kernel asks for no more shared memory than its ring
  // (what the epilogue uses overlaps it). Partial tiles in M, N and K; vs float64.
  const int M = 150, N = 100, K = 96, BM = 128, BN = 64, BK = 32;
  const double alpha = 2.0, beta = -0.5;
  std::vector<ArgSpec> specs(4, ArgSpec::pointer(DType::BF16));
  for (int64_t v : {M, N, K, K, 1, N, 1, N, 1, N, 1})
    specs.push_back(ArgSpec::forInt(v));
  specs.push_back(ArgSpec::constant(alpha));
  specs.push_back(ArgSpec::constant(beta));
  for (int64_t v : {BM, BN, BK, 8})
    specs.push_back(ArgSpec::constant(v));
  auto k = emitFile("bench/kernels/newton_schulz_bf16.py", "matmul_epilogue_tc_kernel", specs, 8);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->source.find("frag -> blocked"), std::string::npos) << k->source;
  EXPECT_NE(k->source.find("mt::loadVec<2>("), std::string::npos) << k->source;
  // The ring: (128 x 32 + 32 x 64) bf16 per slot, 4 slots (3 stages, the products in flight).
  EXPECT_EQ(k->sharedBytes, size_t(4 * (BM * BK + BK * BN) * 2));
  std::vector<float> p = eighths(size_t(M) * K, 81), q = eighths(size_t(K) * N, 82),
                     r = eighths(size_t(M) * N, 83);
  auto bp = bytesOf(toBf16(p)), bq = bytesOf(toBf16(q)), br = bytesOf(toBf16(r));
  auto bo = bytesOf(toBf16(std::vector<float>(size_t(M) * N, -123.0f)));
  std::map<std::string, int64_t> scalars = {{"M", M},         {"N", N},         {"K", K},
                                            {"stride_pm", K}, {"stride_pk", 1}, {"stride_qk", N},
                                            {"stride_qn", 1}, {"stride_rm", N}, {"stride_rn", 1},
                                            {"stride_om", N}, {"stride_on", 1}};
  int grid = ((M + BM - 1) / BM) * ((N + BN - 1) / BN);
  ASSERT_TRUE(run(*k, unsigned(grid), {&bp, &bq, &br, &bo}, scalarsByName(*k, scalars)));
  std::vector<uint16_t> got = valuesOf<uint16_t>(bo);
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      double ref = 0;
      for (int kk = 0; kk < K; ++kk)
        ref += double(p[size_t(i) * K + kk]) * q[size_t(kk) * N + j];
      ref = alpha * ref + beta * r[size_t(i) * N + j]; // exact in f32: one bf16 rounding
      __nv_bfloat16 h;
      h.x = got[size_t(i) * N + j];
      ASSERT_EQ(__bfloat162float(h), __bfloat162float(__float2bfloat16(float(ref)))) << i << "," << j;
    }
  expectCompilesForSm90a(*k);
}

TEST_F(WgmmaHost, TileAddedToTheAccumulatorInsideTheLoop) {
  // A tile loaded each iteration and added to the accumulator (acc += R_j): loaded in the fragment layout
  // (fragLoadChain), also when the load runs an iteration ahead (EmitPipeline.cpp); on warpgroup MMAs and
  // on mma.sync. acc = A @ B + sum_j R_j, exact in f32.
  KernelSource src;
  src.functionName = "dot_bias_loop";
  src.text = R"(
@triton.jit
def dot_bias_loop(a_ptr, b_ptr, r_ptr, o_ptr, K):
    m = tl.arange(0, 64)
    k = tl.arange(0, 32)
    acc = tl.zeros((64, 64), dtype=tl.float32)
    for k0 in range(0, K, 32):
        a = tl.load(a_ptr + m[:, None] * K + (k0 + k)[None, :])
        b = tl.load(b_ptr + (k0 + k)[:, None] * 64 + m[None, :])
        acc = tl.dot(a, b, acc)
        acc = acc + tl.load(r_ptr + (k0 // 32) * 4096 + m[:, None] * 64 + m[None, :]).to(tl.float32)
    tl.store(o_ptr + m[:, None] * 64 + m[None, :], acc)
)";
  const int K = 96;
  for (bool wg : {true, false}) {
    SCOPED_TRACE(wg ? "wgmma" : "mma.sync");
    wgmma = wg;
    std::vector<ArgSpec> specs = {ArgSpec::pointer(DType::F16), ArgSpec::pointer(DType::F16),
                                  ArgSpec::pointer(DType::F16), ArgSpec::pointer(DType::F32),
                                  ArgSpec::forInt(K)};
    auto k = emitSource(src, specs, 4);
    ASSERT_TRUE(k);
    EXPECT_EQ(k->source.find("frag -> blocked"), std::string::npos) << k->source;
    std::vector<float> a = eighths(64 * K, 91), b = eighths(size_t(K) * 64, 92), r = eighths(64 * 64 * 3, 93);
    auto ba = bytesOf(toHalf(a)), bb = bytesOf(toHalf(b)), br = bytesOf(toHalf(r));
    auto bo = bytesOf(std::vector<float>(64 * 64, -123.0f));
    ASSERT_TRUE(run(*k, 1, {&ba, &bb, &br, &bo}, scalarsByName(*k, {{"K", K}})));
    std::vector<float> got = valuesOf<float>(bo);
    for (int i = 0; i < 64; ++i)
      for (int j = 0; j < 64; ++j) {
        double ref = 0;
        for (int kk = 0; kk < K; ++kk)
          ref += double(a[size_t(i) * K + kk]) * b[size_t(kk) * 64 + j];
        for (int it = 0; it < K / 32; ++it)
          ref += r[size_t(it) * 4096 + size_t(i) * 64 + j];
        ASSERT_EQ(got[size_t(i) * 64 + j], float(ref)) << i << "," << j;
      }
    if (wg)
      expectCompilesForSm90a(*k);
  }
}

TEST_F(WgmmaHost, TurnsOnlyInLoopsWithoutABlockBarrier) {
  // Two 128 x 128 x 128 products a loop on two warpgroups with mbarrier rings: the warpgroups take turns
  // (EmitOptions::pingPong). A column sum of the first product (axis 0: across warps, through shared memory
  // and __syncthreads) in the same loop would deadlock against a warpgroup waiting for its turn: that loop
  // keeps no turns. Its reduction's scratch does not fit beside 224 KiB of rings in the block's 227 KiB
  // (EmitOptions::maxSharedBytes): emitCuda emits it again with smaller rings. Both compute exact values.
  KernelSource src;
  src.functionName = "two_dots";
  src.text = R"(
@triton.jit
def two_dots(q_ptr, k_ptr, v_ptr, o_ptr, N, COLSUM: tl.constexpr):
    r = tl.arange(0, 128)
    q = tl.load(q_ptr + r[:, None] * 128 + r[None, :])
    acc = tl.zeros((128, 128), dtype=tl.float32)
    cs = tl.zeros((128,), dtype=tl.float32)
    for s in range(0, N, 128):
        k = tl.load(k_ptr + (s + r)[:, None] * 128 + r[None, :])
        x = tl.dot(q, tl.trans(k))
        if COLSUM:
            cs += tl.sum(x, 0)
        v = tl.load(v_ptr + (s + r)[:, None] * 128 + r[None, :])
        acc = tl.dot(x.to(tl.bfloat16), v, acc)
    tl.store(o_ptr + r[:, None] * 128 + r[None, :], acc + cs[None, :])
)";
  wgmma = true;
  mbarrier = true;
  maxPipeBytes = 225 * 1024;
  maxSharedBytes = 227 * 1024;
  const int N = 256;
  for (bool colsum : {false, true}) {
    SCOPED_TRACE(colsum ? "column sum" : "no column sum");
    std::vector<ArgSpec> specs = {ArgSpec::pointer(DType::BF16),
                                  ArgSpec::pointer(DType::BF16),
                                  ArgSpec::pointer(DType::BF16),
                                  ArgSpec::pointer(DType::F32),
                                  ArgSpec::forInt(N),
                                  ArgSpec::constant(colsum)};
    auto k = emitSource(src, specs, 8);
    ASSERT_TRUE(k);
    EXPECT_LE(k->sharedBytes, maxSharedBytes) << k->source;
    if (!colsum)
      EXPECT_NE(k->source.find("mt::mbarWait("), std::string::npos) << k->source;
    EXPECT_EQ(count(k->source, "_turn = 1 + "), colsum ? 0u : 1u) << k->source;
    EXPECT_EQ(count(k->source, "mt::namedBarArrive("), colsum ? 0u : 3u) << k->source;
    expectCompilesForSm90a(*k);
    // Small integers: every product and sum exact in f32 (and x exact in bf16).
    std::vector<float> q(128 * 128), kk(size_t(N) * 128), v(size_t(N) * 128);
    for (size_t i = 0; i < q.size(); ++i)
      q[i] = float(int(i * 7 % 5) - 2);
    for (size_t i = 0; i < kk.size(); ++i) {
      kk[i] = float(int(i * 3 % 3) - 1) * (i % 11 == 0 ? 1.0f : 0.0f);
      v[i] = float(int(i * 5 % 7) - 3);
    }
    auto bq = bytesOf(toBf16(q)), bk = bytesOf(toBf16(kk)), bv = bytesOf(toBf16(v));
    auto bo = bytesOf(std::vector<float>(128 * 128, -123.0f));
    ASSERT_TRUE(run(*k, 1, {&bq, &bk, &bv, &bo}, scalarsByName(*k, {{"N", N}})));
    std::vector<float> got = valuesOf<float>(bo);
    std::vector<double> ref(128 * 128, 0.0), cs(128, 0.0);
    for (int s = 0; s < N; s += 128)
      for (int i = 0; i < 128; ++i)
        for (int j = 0; j < 128; ++j) {
          double x = 0;
          for (int d = 0; d < 128; ++d)
            x += double(q[size_t(i) * 128 + d]) * kk[size_t(s + j) * 128 + d];
          if (colsum)
            cs[size_t(j)] += x;
          for (int c = 0; c < 128; ++c)
            ref[size_t(i) * 128 + c] += x * v[size_t(s + j) * 128 + c];
        }
    for (int i = 0; i < 128; ++i)
      for (int c = 0; c < 128; ++c)
        ASSERT_EQ(got[size_t(i) * 128 + c], float(ref[size_t(i) * 128 + c] + cs[size_t(c)])) << i << "," << c;
  }
}
