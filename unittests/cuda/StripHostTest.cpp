// Column-strip layouts (EmitStrip.cpp) run on the CPU: axis-0 scans, reductions and broadcasts in registers,
// the chunked scan kernels in every strip geometry vs float64 (AddressSanitizer), barrier counts.
#include "ScanHostProblem.h"

using namespace mt;
using namespace mt::hostemu;

namespace {

// ---- Column-strip layouts (EmitStrip.cpp): axis-0 scans, reductions and broadcasts in registers ----------

/// `__syncthreads()` calls inside the kernel's first top-level `for` over a scalar (the chunk loop).
size_t barriersInFirstLoop(const std::string &src) {
  std::istringstream in(src);
  bool inside = false;
  size_t n = 0;
  for (std::string l; std::getline(in, l);) {
    if (!inside && l.rfind("  for (mt::", 0) == 0) {
      inside = true;
      continue;
    }
    if (inside && l == "  }")
      break;
    n += inside && l.find("__syncthreads()") != std::string::npos;
  }
  return n;
}

TEST_F(CudaHostEmulation, StripLayoutChunkedScans) {
  // The chunked kernels in strip layouts of every kind: row groups in one warp or several (shared memory),
  // several rows per thread, column groups wider than a warp (cgp > 32) and several per thread (reps > 1).
  // Odd T and D, chunks that do not divide them, a padded row stride for `a`.
  ScanProblem p(2, 45, 83, 404);
  struct Case {
    int64_t chunkT, chunkD, blockT, blockD;
    int warps;
    size_t loopBarriers; // per copy of the chunk loop's body
  };
  const std::vector<Case> cases = {
      {7, 19, 8, 32, 4, 2},   // v 2: 16 column groups x 8 row groups on 4 warps (a barrier each scan, reduce)
      {30, 13, 32, 16, 2, 2}, // v 4: 4 x 16 row groups of 2 rows, 2 warps
      {16, 30, 16, 32, 1, 0}, // one warp: 8 x 4 row groups of 4 rows, all in registers and shuffles
      {3, 200, 4, 256, 1, 0}, // 64 column groups on 32 lanes (2 per thread), one row group of 4 rows
      {6, 250, 8, 256, 4, 2}}; // 64 column groups span 2 warps, 2 row groups of 4 rows
  extraFlags = kAsan;
  for (const Case &c : cases) {
    SCOPED_TRACE("chunk " + std::to_string(c.chunkT) + "x" + std::to_string(c.chunkD) + " warps " +
                 std::to_string(c.warps));
    std::vector<ConstexprValue> cx = {true, std::string("fp32"), c.chunkT, c.chunkD, c.blockT, c.blockD};
    auto fwd =
        emitLibrary("scan.py", "rnn_scan_fwd_chunked_kernel", p.specs(4, kFwdInts, cx), c.warps, false);
    auto bwd =
        emitLibrary("scan.py", "rnn_scan_bwd_chunked_kernel", p.specs(7, kBwdInts, cx), c.warps, false);
    ASSERT_TRUE(fwd && bwd);
    for (const cuda::CudaKernel *k : {&*fwd, &*bwd}) {
      EXPECT_NE(k->source.find("scan axis 0 of a strip tile"), std::string::npos) << k->source;
      EXPECT_NE(k->source.find("reduce axis 0 of a strip tile"), std::string::npos);
      EXPECT_EQ(barriersInFirstLoop(k->source), c.loopBarriers) << k->source;
    }
    unsigned gridY = unsigned((p.D + c.chunkD - 1) / c.chunkD);
    std::vector<float> h(size_t(p.B * p.T * p.D), std::nanf(""));
    auto bx = bytesOf(p.x), ba = bytesOf(p.a), b0 = bytesOf(p.h0), bh = bytesOf(h);
    ASSERT_TRUE(run(*fwd, unsigned(p.B), {&bx, &ba, &b0, &bh}, scalarsByName(*fwd, p.scalars()), gridY));
    expectForward(p, valuesOf<float>(bh));
    std::vector<float> dx(size_t(p.B * p.T * p.D), std::nanf("")), da = dx,
                                                                   dh0(size_t(p.B * p.D), std::nanf(""));
    auto bg = bytesOf(p.dout), bs = bytesOf(p.hSaved), bdx = bytesOf(dx), bda = bytesOf(da),
         bd0 = bytesOf(dh0);
    ASSERT_TRUE(run(*bwd, unsigned(p.B), {&bg, &ba, &bs, &b0, &bdx, &bda, &bd0},
                    scalarsByName(*bwd, p.scalars()), gridY));
    expectBackward(p, valuesOf<float>(bdx), valuesOf<float>(bda), valuesOf<float>(bd0));
  }
}

TEST_F(CudaHostEmulation, StripLayoutCutsTheChunkLoopsBarriers) {
  // The benchmarks' 16 x 32 chunks on 4 warps: the strip layout against the blocked one (bf16 data).
  ScanProblem p(4, 4096, 5120, 1);
  auto specs = [&](int ptrs, const std::vector<std::string> &ints) {
    std::vector<ArgSpec> s =
        p.specs(ptrs, ints, {true, std::string("fp32"), int64_t(16), int64_t(32), int64_t(16), int64_t(32)});
    for (int i = 0; i < ptrs; ++i)
      s[size_t(i)] = ArgSpec::pointer(DType::BF16);
    return s;
  };
  for (const char *kernel : {"rnn_scan_fwd_chunked_kernel", "rnn_scan_bwd_chunked_kernel"}) {
    SCOPED_TRACE(kernel);
    bool fwd = std::string(kernel).find("fwd") != std::string::npos;
    auto strip =
        emitLibrary("scan.py", kernel, specs(fwd ? 4 : 7, fwd ? kFwdInts : kBwdInts), 4, false, true);
    auto blocked =
        emitLibrary("scan.py", kernel, specs(fwd ? 4 : 7, fwd ? kFwdInts : kBwdInts), 4, false, false);
    ASSERT_TRUE(strip && blocked);
    EXPECT_EQ(barriersInFirstLoop(strip->source), 2u) << strip->source; // the scan's and the reduce's
    EXPECT_GE(barriersInFirstLoop(blocked->source), 7u);
    EXPECT_EQ(blocked->source.find("strip tile"), std::string::npos);
  }
}

TEST_F(CudaHostEmulation, StripLayoutScanReduceBroadcastAgainstFloat64) {
  // cumsum, a reverse associative_scan, max and sum along axis 0 and their rows broadcast back, in strip
  // layouts of several shapes; masked columns past N.
  KernelSource src;
  src.fileName = "strip.py";
  src.functionName = "strip_ops";
  src.text = R"PY(
import mini_triton as triton
import mini_triton.language as tl


@triton.jit
def _mul_add(a_l, x_l, a_r, x_r):
    return a_l * a_r, x_l * a_r + x_r


@triton.jit
def strip_ops(x_ptr, a_ptr, out_ptr, rev_ptr, red_ptr, N, R: tl.constexpr, C: tl.constexpr):
    rows = tl.arange(0, R)
    cols = tl.arange(0, C)
    mask = (rows[:, None] < R) & (cols[None, :] < N)
    offs = rows[:, None] * C + cols[None, :]
    x = tl.load(x_ptr + offs, mask=mask, other=0.0)
    a = tl.load(a_ptr + offs, mask=mask, other=1.0)
    m = tl.max(x, axis=0)
    s = tl.sum(x, axis=0)
    y = tl.cumsum(x, axis=0) - m[None, :] + s[None, :] * 0.5
    tl.store(out_ptr + offs, y, mask=mask)
    g, r = tl.associative_scan((a, x), axis=0, combine_fn=_mul_add, reverse=True)
    tl.store(rev_ptr + offs, r + g, mask=mask)
    tl.store(red_ptr + cols, m + s, mask=cols < N)
)PY";
  struct Case {
    int64_t R, C;
    int warps;
  };
  for (const Case &c : std::vector<Case>{{16, 32, 4}, {64, 16, 2}, {4, 256, 1}, {8, 256, 4}, {32, 32, 1}}) {
    SCOPED_TRACE(std::to_string(c.R) + "x" + std::to_string(c.C) + " warps " + std::to_string(c.warps));
    int64_t N = c.C - 3, n = c.R * c.C;
    std::vector<ArgSpec> specs(5, ArgSpec::pointer(DType::F32));
    specs.push_back(ArgSpec::forInt(N));
    specs.push_back(ArgSpec::constant(ConstexprValue(c.R)));
    specs.push_back(ArgSpec::constant(ConstexprValue(c.C)));
    auto k = emitSource(src, specs, c.warps);
    ASSERT_TRUE(k);
    EXPECT_NE(k->source.find("scan axis 0 of a strip tile"), std::string::npos) << k->source;
    std::vector<float> x = randomFloats(size_t(n), unsigned(c.R * 7 + c.C)), a = randomFloats(size_t(n), 5);
    for (float &v : a)
      v = 0.8f + v / 15.0f;
    std::vector<float> out(size_t(n), 7.0f), rev(size_t(n), 7.0f), red(size_t(c.C), 7.0f);
    auto bx = bytesOf(x), ba = bytesOf(a), bo = bytesOf(out), br = bytesOf(rev), bd = bytesOf(red);
    ASSERT_TRUE(run(*k, 1, {&bx, &ba, &bo, &br, &bd}, {N}));
    out = valuesOf<float>(bo), rev = valuesOf<float>(br), red = valuesOf<float>(bd);
    for (int64_t col = 0; col < c.C; ++col) {
      if (col >= N) { // masked: untouched
        EXPECT_EQ(red[size_t(col)], 7.0f);
        EXPECT_EQ(out[size_t(col)], 7.0f);
        continue;
      }
      double m = -1e300, s = 0.0;
      for (int64_t r = 0; r < c.R; ++r) {
        m = std::max(m, double(x[size_t(r * c.C + col)]));
        s += x[size_t(r * c.C + col)];
      }
      ASSERT_NEAR(red[size_t(col)], m + s, 1e-4 * (1.0 + std::fabs(m + s))) << "col " << col;
      double cum = 0.0;
      for (int64_t r = 0; r < c.R; ++r) {
        cum += x[size_t(r * c.C + col)];
        double ref = cum - m + s * 0.5;
        ASSERT_NEAR(out[size_t(r * c.C + col)], ref, 1e-4 * (1.0 + std::fabs(ref)))
            << "r " << r << " col " << col;
      }
      double g = 1.0, h = 0.0; // from the last row up: g = a_r * g, h = a_r * h + x_r (order of the combine)
      for (int64_t r = c.R - 1; r >= 0; --r) {
        size_t at = size_t(r * c.C + col);
        h = h * a[at] + x[at];
        g = g * a[at];
        ASSERT_NEAR(rev[at], h + g, 1e-4 * (1.0 + std::fabs(h + g))) << "r " << r << " col " << col;
      }
    }
  }
}

TEST_F(CudaHostEmulation, StripLayoutLoneScanInALoopWaitsBeforeItsTotals) {
  // One cross-warp strip scan in a loop: no other strip op's barrier separates one iteration's reads of
  // its warp totals from the next one's writes, so it keeps its leading barrier (2 per iteration). The scans'
  // accumulator is carried in the strip layout; `b`, tried too, is kept blocked (its yield is not strip).
  KernelSource src;
  src.fileName = "strip_loop.py";
  src.functionName = "strip_loop";
  src.text = R"PY(
import mini_triton as triton
import mini_triton.language as tl


@triton.jit
def strip_loop(x_ptr, out_ptr, b_ptr, N, R: tl.constexpr, C: tl.constexpr):
    rows = tl.arange(0, R)
    cols = tl.arange(0, C)
    offs = rows[:, None] * C + cols[None, :]
    acc = tl.zeros((R, C), dtype=tl.float32)
    b = tl.zeros((R, C), dtype=tl.float32)
    for it in range(N):
        x = tl.load(x_ptr + it * R * C + offs)
        acc = acc * 0.5 + tl.cumsum(x, axis=0)  # an accumulator of scans: carried in the strip layout
        tl.store(out_ptr + it * R * C + offs, acc)
        b = b * 0.5 + tl.trans(tl.trans(x))  # transposes are blocked: b is tried, then kept blocked
    tl.store(b_ptr + offs, b)
)PY";
  const int64_t R = 16, C = 32, N = 3;
  std::vector<ArgSpec> specs(3, ArgSpec::pointer(DType::F32));
  specs.push_back(ArgSpec::forInt(N));
  specs.push_back(ArgSpec::constant(ConstexprValue(R)));
  specs.push_back(ArgSpec::constant(ConstexprValue(C)));
  auto k = emitSource(src, specs, 4, false);
  ASSERT_TRUE(k);
  EXPECT_NE(k->source.find("scan axis 0 of a strip tile"), std::string::npos) << k->source;
  // 2 for the scan; b: x converted to blocked (2), the transposes (4)
  EXPECT_EQ(barriersInFirstLoop(k->source), 8u) << k->source;
  std::vector<float> x = randomFloats(size_t(N * R * C), 77), out(size_t(N * R * C), 7.0f),
                     b(size_t(R * C), 7.0f);
  auto bx = bytesOf(x), bo = bytesOf(out), bb = bytesOf(b);
  ASSERT_TRUE(run(*k, 1, {&bx, &bo, &bb}, {N}));
  out = valuesOf<float>(bo);
  b = valuesOf<float>(bb);
  for (int64_t e = 0; e < R * C; ++e) {
    double refB = 0.0;
    for (int64_t it = 0; it < N; ++it)
      refB = refB * 0.5 + x[size_t(it * R * C + e)];
    ASSERT_NEAR(b[size_t(e)], refB, 1e-5 * (1.0 + std::fabs(refB))) << "b " << e;
  }
  std::vector<double> ref(size_t(R * C), 0.0);
  for (int64_t it = 0; it < N; ++it)
    for (int64_t col = 0; col < C; ++col) {
      double cum = 0.0;
      for (int64_t r = 0; r < R; ++r) {
        size_t at = size_t(it * R * C + r * C + col);
        cum += x[at];
        ref[size_t(r * C + col)] = ref[size_t(r * C + col)] * 0.5 + cum;
        ASSERT_NEAR(out[at], ref[size_t(r * C + col)], 1e-4 * (1.0 + std::fabs(cum)))
            << "it " << it << " r " << r;
      }
    }
}


} // namespace
