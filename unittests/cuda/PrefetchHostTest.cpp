// Loads issued iterations ahead (EmitPipeline.cpp) and cp.async rings (EmitDotPipeline.cpp) run on the CPU:
// the library's scan kernels with their loop loads prefetched, built with AddressSanitizer (a prefetch past the
// last iteration, or outside a mask, reads outside the exact-size buffers and fails the run), loop bounds and
// steps, nested loops, and a dot reading its ring transposed.
#include "ScanHostProblem.h"

using namespace mt;
using namespace mt::hostemu;

namespace {

TEST_F(CudaHostEmulation, PrefetchedSequentialScanForward) {
  ScanProblem p(2, 37, 83, 101);
  auto k = emitLibrary("scan.py", "rnn_scan_fwd_seq_kernel",
                       p.specs(4, kFwdInts, {true, std::string("fp32"), int64_t(64)}), 1);
  ASSERT_TRUE(k);
  EXPECT_EQ(prefetchedIn(k->source).loads, 2u) << k->source; // a and x
  EXPECT_EQ(prefetchedIn(k->source).depth, 2u); // tiles of 2 elements per thread: two iterations ahead
  extraFlags = kAsan;
  std::vector<float> h(size_t(p.B * p.T * p.D), std::nanf(""));
  auto bx = bytesOf(p.x), ba = bytesOf(p.a), b0 = bytesOf(p.h0), bh = bytesOf(h);
  ASSERT_TRUE(run(*k, unsigned(p.B), {&bx, &ba, &b0, &bh}, scalarsByName(*k, p.scalars()), 2));
  expectForward(p, valuesOf<float>(bh));
}

TEST_F(CudaHostEmulation, PrefetchedChunkedScanForward) {
  // Chunks of 7 time steps in 8-row tiles, 19 of 32 columns: 45 = 6 * 7 + 3 steps, D = 50 = 2 * 19 + 12.
  ScanProblem p(2, 45, 50, 202);
  auto k = emitLibrary(
      "scan.py", "rnn_scan_fwd_chunked_kernel",
      p.specs(4, kFwdInts, {true, std::string("fp32"), int64_t(7), int64_t(19), int64_t(8), int64_t(32)}), 2);
  ASSERT_TRUE(k);
  EXPECT_EQ(prefetchedIn(k->source).loads, 2u) << k->source;
  EXPECT_EQ(prefetchedIn(k->source).depth, 2u);
  EXPECT_NE(k->source.find("mt::loadVec<4>(&v"), std::string::npos); // the prefetch keeps vector loads
  extraFlags = kAsan;
  std::vector<float> h(size_t(p.B * p.T * p.D), std::nanf(""));
  auto bx = bytesOf(p.x), ba = bytesOf(p.a), b0 = bytesOf(p.h0), bh = bytesOf(h);
  ASSERT_TRUE(run(*k, unsigned(p.B), {&bx, &ba, &b0, &bh}, scalarsByName(*k, p.scalars()), 3));
  expectForward(p, valuesOf<float>(bh));
}

TEST_F(CudaHostEmulation, PrefetchedReverseLoopsOfTheBackwardScans) {
  // t = T - 1 - i: the loads walk memory backwards; the chunked kernel also loads a one step ahead under
  // its own mask (has_next) and h one step behind (offs_t > 0).
  ScanProblem p(2, 29, 45, 303);
  auto seq = emitLibrary("scan.py", "rnn_scan_bwd_seq_kernel",
                         p.specs(7, kBwdInts, {true, std::string("fp32"), int64_t(32)}), 1);
  ASSERT_TRUE(seq);
  EXPECT_EQ(prefetchedIn(seq->source).loads, 3u) << seq->source; // dout, a, h
  auto chunked = emitLibrary(
      "scan.py", "rnn_scan_bwd_chunked_kernel",
      p.specs(7, kBwdInts, {true, std::string("fp32"), int64_t(6), int64_t(13), int64_t(8), int64_t(16)}), 1);
  ASSERT_TRUE(chunked);
  EXPECT_EQ(prefetchedIn(chunked->source).loads, 3u) << chunked->source;
  extraFlags = kAsan;
  for (const auto &[k, gridY] : {std::pair{&*seq, 2u}, std::pair{&*chunked, 4u}}) {
    SCOPED_TRACE(k->name);
    std::vector<float> dx(size_t(p.B * p.T * p.D), std::nanf("")), da = dx,
                                                                   dh0(size_t(p.B * p.D), std::nanf(""));
    auto bg = bytesOf(p.dout), ba = bytesOf(p.a), bh = bytesOf(p.hSaved), b0 = bytesOf(p.h0),
         bdx = bytesOf(dx), bda = bytesOf(da), bd0 = bytesOf(dh0);
    ASSERT_TRUE(run(*k, unsigned(p.B), {&bg, &ba, &bh, &b0, &bdx, &bda, &bd0}, scalarsByName(*k, p.scalars()),
                    gridY));
    expectBackward(p, valuesOf<float>(bdx), valuesOf<float>(bda), valuesOf<float>(bd0));
  }
}

TEST_F(CudaHostEmulation, PrefetchedLoopBoundsStepsAndEmptyRanges) {
  // acc = acc * 0.5 + row_i over i in range(lb, ub, step): the order and the set of rows show in the result;
  // masked columns (>= 50) read `other` (-1). `in` holds exactly rows 0..6.
  const char *ir = R"(
func @ranges(%in: ptr<f32>, %out: ptr<f32>, %lb: i32, %ub: i32, %step: i32) {
  %r = make_range {end = 64, start = 0} : tensor<64xi32>
  %c50 = constant {value = 50} : i32
  %c50s = splat %c50 : tensor<64xi32>
  %m = cmp %r, %c50s {pred = "lt"} : tensor<64xi1>
  %other = constant {value = -1.0} : tensor<64xf32>
  %half = constant {value = 0.5} : tensor<64xf32>
  %zero = constant {value = 0.0} : tensor<64xf32>
  %ins = splat %in : tensor<64xptr<f32>>
  %acc = for %lb, %ub, %step, %zero : tensor<64xf32> {
  ^bb(%i: i32, %a: tensor<64xf32>):
    %row = mul %i, %c50 : i32
    %rows = splat %row : tensor<64xi32>
    %offs = add %rows, %r : tensor<64xi32>
    %ptrs = addptr %ins, %offs : tensor<64xptr<f32>>
    %x = load %ptrs, %m, %other : tensor<64xf32>
    %ah = mul %a, %half : tensor<64xf32>
    %an = add %ah, %x : tensor<64xf32>
    yield %an
  }
  %outs = splat %out : tensor<64xptr<f32>>
  %op = addptr %outs, %r : tensor<64xptr<f32>>
  store %op, %acc
  return
}
)";
  extraFlags = kAsan;
  std::vector<float> in = randomFloats(7 * 50, 404);
  struct Range {
    int lb, ub, step;
  };
  for (int depth : {1, 3}) {
    auto k = emit(ir, "ranges", 1, true, depth);
    ASSERT_TRUE(k);
    EXPECT_EQ(prefetchedIn(k->source).loads, 1u) << k->source;
    EXPECT_EQ(prefetchedIn(k->source).depth, size_t(depth)) << k->source;
    // Empty ranges whose first row lies outside `in` (7, 9, -1): loading it ahead would fail under ASan.
    for (Range rg : {Range{0, 7, 1}, Range{0, 7, 3}, Range{3, 3, 1}, Range{7, 7, 1}, Range{9, 3, 1},
                     Range{6, -1, -1}, Range{6, 0, -2}, Range{-1, 5, -1}}) {
      SCOPED_TRACE("depth " + std::to_string(depth) + ", range(" + std::to_string(rg.lb) + ", " +
                   std::to_string(rg.ub) + ", " + std::to_string(rg.step) + ")");
      std::vector<float> out(64, std::nanf(""));
      auto bi = bytesOf(in), bo = bytesOf(out);
      ASSERT_TRUE(run(*k, 1, {&bi, &bo}, {rg.lb, rg.ub, rg.step}));
      std::vector<float> got = valuesOf<float>(bo);
      for (int j = 0; j < 64; ++j) {
        float ref = 0.0f;
        for (int i = rg.lb; rg.step > 0 ? i < rg.ub : i > rg.ub; i += rg.step)
          ref = ref * 0.5f + (j < 50 ? in[size_t(i * 50 + j)] : -1.0f);
        ASSERT_EQ(got[j], ref) << j;
      }
    }
  }
}

TEST_F(CudaHostEmulation, PrefetchedScanKernelsCompileForSm90a) {
  // bf16 in and out, as the GPU ops launch them, in launch configurations the benchmarks pick.
  std::string why;
  if (!cuda::nvrtcAvailable(&why))
    GTEST_SKIP() << "NVRTC unavailable: " << why;
  ScanProblem p(4, 4096, 5120, 1);
  auto specs = [&](int ptrs, const std::vector<std::string> &ints, const std::vector<ConstexprValue> &cx) {
    std::vector<ArgSpec> s = p.specs(ptrs, ints, cx);
    for (int i = 0; i < ptrs; ++i)
      s[size_t(i)] = ArgSpec::pointer(DType::BF16);
    return s;
  };
  struct Case {
    const char *kernel;
    std::vector<ArgSpec> specs;
    int numWarps;
    size_t prefetched;
  };
  std::string fp32 = "fp32";
  std::vector<Case> cases = {
      {"rnn_scan_fwd_seq_kernel", specs(4, kFwdInts, {false, fp32, int64_t(64)}), 2, 2},
      {"rnn_scan_fwd_chunked_kernel",
       specs(4, kFwdInts, {false, fp32, int64_t(128), int64_t(32), int64_t(128), int64_t(32)}), 4, 2},
      {"rnn_scan_bwd_seq_kernel", specs(7, kBwdInts, {true, fp32, int64_t(64)}), 2, 3},
      {"rnn_scan_bwd_chunked_kernel",
       specs(7, kBwdInts, {true, fp32, int64_t(64), int64_t(32), int64_t(64), int64_t(32)}), 4, 3}};
  for (const Case &c : cases) {
    SCOPED_TRACE(c.kernel);
    auto k = emitLibrary("scan.py", c.kernel, c.specs, c.numWarps);
    ASSERT_TRUE(k);
    EXPECT_EQ(prefetchedIn(k->source).loads, c.prefetched);
    auto cubin = cuda::compileCuda(k->source, k->name + ".cu", "sm_90a");
    ASSERT_TRUE(cubin) << cubin.error();
    EXPECT_GT(cubin->size(), 256u);
  }
}

TEST_F(CudaHostEmulation, PrefetchedLoopCarriedPointers) {
  // `p += 256` each iteration (test/codegen/prefetch.mtir @carried_ptr): the next tile's pointers are the
  // yielded ones, rebuilt from the current ones; `in` holds exactly n rows.
  auto k = emit(codegenFile("prefetch.mtir"), "carried_ptr");
  ASSERT_TRUE(k);
  EXPECT_EQ(prefetchedIn(k->source).loads, 1u) << k->source;
  EXPECT_EQ(prefetchedIn(k->source).depth, 2u);
  extraFlags = kAsan;
  for (int n : {5, 1, 0}) {
    SCOPED_TRACE("n = " + std::to_string(n));
    std::vector<float> in = randomFloats(size_t(n) * 256, 505), out(256, std::nanf(""));
    auto bi = bytesOf(in), bo = bytesOf(out);
    ASSERT_TRUE(run(*k, 1, {&bi, &bo}, {n}));
    std::vector<float> got = valuesOf<float>(bo);
    for (int j = 0; j < 256; ++j) {
      float ref = 0.0f;
      for (int r = 0; r < n; ++r)
        ref = ref + in[size_t(r * 256 + j)];
      ASSERT_EQ(got[j], ref) << j;
    }
  }
}

TEST_F(CudaHostEmulation, PrefetchedNestedLoops) {
  // The outer loop runs two iterations ahead (unrolled twice), so the inner loop, whose loads depend on
  // both induction variables, is emitted and planned twice: out = sum_i row_i * sum_j 0.5^(m-1-j) row_{i+j}.
  const char *ir = R"(
func @nested(%in: ptr<f32>, %out: ptr<f32>, %n: i32, %m: i32) {
  %c0 = constant {value = 0} : i32
  %c1 = constant {value = 1} : i32
  %c64 = constant {value = 64} : i32
  %r = make_range {end = 64, start = 0} : tensor<64xi32>
  %half = constant {value = 0.5} : tensor<64xf32>
  %zero = constant {value = 0.0} : tensor<64xf32>
  %ins = splat %in : tensor<64xptr<f32>>
  %acc = for %c0, %n, %c1, %zero : tensor<64xf32> {
  ^bb(%i: i32, %a: tensor<64xf32>):
    %row = mul %i, %c64 : i32
    %rows = splat %row : tensor<64xi32>
    %offs = add %rows, %r : tensor<64xi32>
    %ptrs = addptr %ins, %offs : tensor<64xptr<f32>>
    %x = load %ptrs : tensor<64xf32>
    %inner = for %c0, %m, %c1, %zero : tensor<64xf32> {
    ^bb(%j: i32, %b: tensor<64xf32>):
      %ij = add %i, %j : i32
      %row2 = mul %ij, %c64 : i32
      %rows2 = splat %row2 : tensor<64xi32>
      %offs2 = add %rows2, %r : tensor<64xi32>
      %ptrs2 = addptr %ins, %offs2 : tensor<64xptr<f32>>
      %y = load %ptrs2 : tensor<64xf32>
      %bh = mul %b, %half : tensor<64xf32>
      %bn = add %bh, %y : tensor<64xf32>
      yield %bn
    }
    %xi = mul %x, %inner : tensor<64xf32>
    %an = add %a, %xi : tensor<64xf32>
    yield %an
  }
  %outs = splat %out : tensor<64xptr<f32>>
  %op = addptr %outs, %r : tensor<64xptr<f32>>
  store %op, %acc
  return
}
)";
  auto k = emit(ir, "nested", 1);
  ASSERT_TRUE(k);
  EXPECT_EQ(prefetchedIn(k->source).depth, 2u) << k->source;
  extraFlags = kAsan;
  for (auto [n, m] : {std::pair{5, 3}, std::pair{4, 0}, std::pair{0, 2}}) {
    SCOPED_TRACE("n " + std::to_string(n) + " m " + std::to_string(m));
    std::vector<float> in = randomFloats(size_t(std::max({n, n + m - 1, 1})) * 64, 606),
                       out(64, std::nanf(""));
    auto bi = bytesOf(in), bo = bytesOf(out);
    ASSERT_TRUE(run(*k, 1, {&bi, &bo}, {n, m}));
    std::vector<float> got = valuesOf<float>(bo);
    for (int c = 0; c < 64; ++c) {
      float acc = 0.0f;
      for (int i = 0; i < n; ++i) {
        float inner = 0.0f;
        for (int j = 0; j < m; ++j)
          inner = inner * 0.5f + in[size_t((i + j) * 64 + c)];
        acc = acc + in[size_t(i * 64 + c)] * inner;
      }
      ASSERT_EQ(got[c], acc) << c;
    }
  }
}

TEST_F(CudaHostEmulation, DotOfTransposedLoadReadsTheRingTransposed) {
  // dot_trans_b.mtir: C = A @ B^T with B loaded as 32 rows of K and passed through tl.trans; K = 48 (3 blocks
  // of 16, so the ring wraps). Inputs exact in f16, sums exact in f32.
  auto k = emit(codegenFile("dot_trans_b.mtir"), "abt_kernel", 4);
  ASSERT_TRUE(k);
  ASSERT_NE(k->source.find(", 24, 24, true>("), std::string::npos) << k->source;
  const int K = 48;
  std::mt19937 rng(71);
  std::uniform_int_distribution<int> dist(-32, 32);
  std::vector<float> a(32 * K), b(32 * K);
  std::vector<uint16_t> ha(a.size()), hb(b.size());
  for (size_t i = 0; i < a.size(); ++i)
    ha[i] = __float2half(a[i] = dist(rng) / 8.0f).x;
  for (size_t i = 0; i < b.size(); ++i)
    hb[i] = __float2half(b[i] = dist(rng) / 8.0f).x;
  std::vector<float> c(32 * 32, -5.0f);
  auto ba = bytesOf(ha), bb = bytesOf(hb), bc = bytesOf(c);
  ASSERT_TRUE(run(*k, 1, {&ba, &bb, &bc}, {K}));
  std::vector<float> got = valuesOf<float>(bc);
  for (int m = 0; m < 32; ++m)
    for (int n = 0; n < 32; ++n) {
      double ref = 0;
      for (int kk = 0; kk < K; ++kk)
        ref += double(a[m * K + kk]) * b[n * K + kk];
      ASSERT_EQ(got[m * 32 + n], float(ref)) << m << "," << n;
    }
}

} // namespace
