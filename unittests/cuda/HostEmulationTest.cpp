// Runs generated CUDA kernels on the CPU: the emitted source is compiled as host C++ and its results are
// checked against references computed here (fixture: HostEmulation.h). This checks the emitter's layout and
// index math (reductions, scans, transposes, joins, broadcasts, dot, loops, atomics) without a GPU.
#include "HostEmulation.h"

#include "backend/cpu/Tile.h" // the interpreter's fp8 conversions, the reference

using namespace mt;
using namespace mt::hostemu;

namespace {

TEST_F(CudaHostEmulation, VectorAdd) {
  auto k = emit(codegenFile("vector_add.mtir"), "add_kernel");
  ASSERT_TRUE(k);
  const int n = 2500; // 3 programs of 1024, the last one partly masked
  std::vector<float> x = randomFloats(3072, 1), y = randomFloats(3072, 2), out(3072, -9.0f);
  auto bx = bytesOf(x), by = bytesOf(y), bo = bytesOf(out);
  ASSERT_TRUE(run(*k, 3, {&bx, &by, &bo}, {n}));
  std::vector<float> got = valuesOf<float>(bo);
  for (int i = 0; i < 3072; ++i)
    ASSERT_EQ(got[i], i < n ? x[i] + y[i] : -9.0f) << i;
}

TEST_F(CudaHostEmulation, MaskedSoftmax) {
  auto k = emit(codegenFile("softmax.mtir"), "softmax");
  ASSERT_TRUE(k);
  const int rows = 8, cols = 100; // 4 rows per program, 28 of 128 columns masked off
  std::vector<float> in = randomFloats(rows * cols, 3), out(rows * cols, 0.0f);
  auto bi = bytesOf(in), bo = bytesOf(out);
  ASSERT_TRUE(run(*k, 2, {&bo, &bi}, {cols}));
  std::vector<float> got = valuesOf<float>(bo);
  for (int r = 0; r < rows; ++r) {
    double mx = -INFINITY, total = 0;
    for (int c = 0; c < cols; ++c)
      mx = std::max(mx, double(in[r * cols + c]));
    for (int c = 0; c < cols; ++c)
      total += std::exp(in[r * cols + c] - mx);
    for (int c = 0; c < cols; ++c)
      ASSERT_NEAR(got[r * cols + c], std::exp(in[r * cols + c] - mx) / total, 1e-6) << r << "," << c;
  }
}

TEST_F(CudaHostEmulation, ForIfWhile) {
  auto k = emit(codegenFile("control_flow.mtir"), "loops");
  ASSERT_TRUE(k);
  // n_iter = 3: acc[j] = sum_k in[256k + j]; scale = 3/3 = 1; the while halves 3 -> 1.
  std::vector<float> in = randomFloats(768, 4), out(256, 0.0f);
  auto bi = bytesOf(in), bo = bytesOf(out);
  ASSERT_TRUE(run(*k, 1, {&bo, &bi}, {3}));
  std::vector<float> got = valuesOf<float>(bo);
  for (int j = 0; j < 256; ++j)
    ASSERT_EQ(got[j], (in[j] + in[256 + j]) + in[512 + j]) << j;
}

TEST_F(CudaHostEmulation, ScansAndReductions) {
  auto k = emit(codegenFile("ops.mtir"), "scans");
  ASSERT_TRUE(k);
  std::vector<float> x = randomFloats(512, 5);
  auto bp = bytesOf(x);
  ASSERT_TRUE(run(*k, 1, {&bp}, {}));
  std::vector<float> got = valuesOf<float>(bp);
  // Reference, in the kernel's order of f32 operations.
  float cum[8][64], rev[8][64];
  for (int r = 0; r < 8; ++r) {
    float acc = x[r * 64];
    for (int j = 0; j < 64; ++j) {
      if (j)
        acc = acc + x[r * 64 + j];
      cum[r][j] = acc;
    }
    float m = cum[r][63];
    for (int j = 63; j >= 0; --j) {
      if (j != 63)
        m = std::fmax(m, cum[r][j]);
      rev[r][j] = m;
    }
  }
  float col[64], arg[64], tot = 0;
  for (int j = 0; j < 64; ++j) {
    float v = rev[0][j], i = x[j];
    for (int r = 1; r < 8; ++r) {
      bool keep = v >= rev[r][j];
      i = keep ? i : x[r * 64 + j];
      v = keep ? v : rev[r][j];
    }
    col[j] = v;
    arg[j] = i;
    tot = j ? tot + v : v;
  }
  // The total is a tree of f32 additions (registers, then warp shuffles), not the sequential order.
  for (int j = 0; j < 64; ++j)
    ASSERT_NEAR(got[j], (col[j] + arg[j]) + tot, 1e-5f * (std::fabs(col[j] + arg[j]) + std::fabs(tot))) << j;
  for (int j = 64; j < 512; ++j)
    ASSERT_EQ(got[j], x[j]) << "untouched " << j;
}

TEST_F(CudaHostEmulation, WideRowReductions) {
  auto k = emit(codegenFile("ops.mtir"), "wide_rows");
  ASSERT_TRUE(k);
  EXPECT_NE(k->source.find("mt::shflXor("), std::string::npos);
  std::vector<float> x = randomFloats(1024, 11), q = {-1.0f, -1.0f};
  auto bp = bytesOf(x), bq = bytesOf(q);
  ASSERT_TRUE(run(*k, 1, {&bp, &bq}, {}));
  std::vector<float> got = valuesOf<float>(bp), maxes = valuesOf<float>(bq);
  for (int r = 0; r < 2; ++r)
    EXPECT_EQ(maxes[r], *std::max_element(x.begin() + r * 512, x.begin() + (r + 1) * 512)) << r;
  for (int j = 0; j < 512; ++j)
    ASSERT_EQ(got[j], x[j] + x[512 + j]) << j;
}

TEST_F(CudaHostEmulation, BroadcastsOfIndexArithmeticStayInRegisters) {
  auto k = emit(codegenFile("ops.mtir"), "index_grid", 1);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->source.find("_smem"), std::string::npos) << k->source;
  std::vector<int32_t> out(128, -7);
  auto bo = bytesOf(out);
  const int rows = 5, cols = 11;
  ASSERT_TRUE(run(*k, 1, {&bo}, {rows, cols}));
  std::vector<int32_t> got = valuesOf<int32_t>(bo);
  for (int r = 0; r < 8; ++r)
    for (int c = 0; c < 16; ++c)
      ASSERT_EQ(got[r * 16 + c], r < rows && c < cols ? r * 100 + c : -7) << r << "," << c;
}

// The axis analysis drops per-element checks of vector accesses (test/codegen/axis.mtir): the results
// must still respect the masks at the edges.
TEST_F(CudaHostEmulation, ProvenUniformMasksAndConsecutivePointers) {
  auto k = emit(codegenFile("axis.mtir"), "vadd16");
  ASSERT_TRUE(k);
  const int n = 1040; // a multiple of 16, not of the 1024-element block: program 1 is masked after 16
  std::vector<float> x = randomFloats(2048, 21), out(2048, -5.0f);
  auto bx = bytesOf(x), bo = bytesOf(out);
  ASSERT_TRUE(run(*k, 2, {&bx, &bo}, {n}));
  std::vector<float> got = valuesOf<float>(bo);
  for (int j = 0; j < 2048; ++j)
    ASSERT_EQ(got[j], j < n ? x[j] : -5.0f) << j;

  auto r = emit(codegenFile("axis.mtir"), "rows");
  ASSERT_TRUE(r);
  const int stride = 80, m = 5; // rows of 64 used, 80 apart; rows >= 5 masked off
  std::vector<float> y = randomFloats(16 * stride, 22);
  auto by = bytesOf(y);
  ASSERT_TRUE(run(*r, 1, {&by}, {stride, m}));
  std::vector<float> gy = valuesOf<float>(by);
  for (int row = 0; row < 16; ++row)
    for (int c = 0; c < stride; ++c) {
      int j = row * stride + c;
      ASSERT_EQ(gy[j], row < m && c < 64 ? y[j] + y[j] : y[j]) << row << "," << c;
    }
}

TEST_F(CudaHostEmulation, BroadcastOfLoadedRowReloadsOnlyBeforeStores) {
  auto k = emit(codegenFile("ops.mtir"), "row_bcast", 1);
  ASSERT_TRUE(k);
  // The first broadcast re-loads; the one after the store must use the loaded values (shared memory).
  EXPECT_NE(k->source.find("_smem"), std::string::npos) << k->source;
  std::vector<float> p = randomFloats(16, 31), q(128, -1.0f);
  auto bp = bytesOf(p), bq = bytesOf(q);
  ASSERT_TRUE(run(*k, 1, {&bp, &bq}, {}));
  std::vector<float> gp = valuesOf<float>(bp), gq = valuesOf<float>(bq);
  for (int j = 0; j < 16; ++j)
    ASSERT_EQ(gp[j], p[j] * 2.0f) << j;
  for (int r = 0; r < 8; ++r)
    for (int j = 0; j < 16; ++j)
      ASSERT_EQ(gq[r * 16 + j], p[j]) << r << "," << j; // the values loaded before the store
}

TEST_F(CudaHostEmulation, ParallelScanOfALinearRecurrence) {
  auto k = emit(codegenFile("ops.mtir"), "linrec");
  ASSERT_TRUE(k);
  EXPECT_NE(k->source.find("mt::shflUp("), std::string::npos);
  std::vector<float> a = randomFloats(192, 41), x = randomFloats(192, 42), o(192, -9.0f), orev(192, -9.0f);
  for (float &v : a)
    v = 0.75f + v / 12.0f; // in (0.5, 1)
  auto ba = bytesOf(a), bx = bytesOf(x), bo = bytesOf(o), br = bytesOf(orev);
  ASSERT_TRUE(run(*k, 1, {&ba, &bx, &bo, &br}, {}));
  std::vector<float> h = valuesOf<float>(bo), hr = valuesOf<float>(br);
  for (int row = 0; row < 8; ++row) {
    double acc = 0.0;
    for (int t = 0; t < 24; ++t) {
      int j = row * 24 + t;
      acc = t ? a[j] * acc + x[j] : x[j];
      ASSERT_NEAR(h[j], acc, 1e-5 * (1.0 + std::fabs(acc))) << row << "," << t;
    }
    acc = 0.0;
    for (int t = 23; t >= 0; --t) {
      int j = row * 24 + t;
      acc = t != 23 ? a[j] * acc + x[j] : x[j];
      ASSERT_NEAR(hr[j], acc, 1e-5 * (1.0 + std::fabs(acc))) << "reverse " << row << "," << t;
    }
  }

  auto c = emit(codegenFile("ops.mtir"), "cumrows", 1);
  ASSERT_TRUE(c);
  std::vector<float> v = randomFloats(256, 43);
  auto bv = bytesOf(v);
  ASSERT_TRUE(run(*c, 1, {&bv}, {}));
  std::vector<float> got = valuesOf<float>(bv);
  for (int row = 0; row < 64; ++row) {
    float s = 0.0f;
    for (int t = 0; t < 4; ++t) {
      s = t ? s + v[row * 4 + t] : v[row * 4 + t];
      ASSERT_EQ(got[row * 4 + t], s) << row << "," << t;
    }
  }
}

TEST_F(CudaHostEmulation, DenseRank1ReductionsNeedNoFlags) {
  auto k = emit(codegenFile("ops.mtir"), "sum1024");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->source.find("mt_rhas"), std::string::npos) << k->source;
  std::vector<float> x = randomFloats(1024, 51), q = {0.0f, 0.0f};
  auto bx = bytesOf(x), bq = bytesOf(q);
  ASSERT_TRUE(run(*k, 1, {&bx, &bq}, {}));
  std::vector<float> got = valuesOf<float>(bq);
  double sum = 0.0;
  for (float v : x)
    sum += v;
  EXPECT_EQ(got[0], *std::max_element(x.begin(), x.end()));
  EXPECT_NEAR(got[1], sum, 1e-3);
}

TEST_F(CudaHostEmulation, TransJoinSplit) {
  auto k = emit(codegenFile("ops.mtir"), "shapes");
  ASSERT_TRUE(k);
  std::vector<int32_t> p(512, 7);
  std::vector<int64_t> q(512, 7);
  auto bp = bytesOf(p), bq = bytesOf(q);
  ASSERT_TRUE(run(*k, 1, {&bp, &bq}, {}));
  std::vector<int32_t> gp = valuesOf<int32_t>(bp);
  std::vector<int64_t> gq = valuesOf<int64_t>(bq);
  for (int l = 0; l < 512; ++l) {
    // trans(reshape(range, 16x32)) flattened: element l = (l / 16, l % 16) of 32x16 = m[l % 16][l / 16].
    int expected = l - ((l % 16) * 32 + l / 16);
    ASSERT_EQ(gp[l], expected) << l;
    ASSERT_EQ(gq[l], expected) << l;
  }
}

TEST_F(CudaHostEmulation, CombineFunctionWithAnIf) {
  // An argmax combine_fn written with if / elif / else (smaller index on ties) in a reduce and a scan.
  for (unsigned warps : {1u, 4u}) {
    auto k = emitFile("test/codegen/combine_if.py", "k",
                      {ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32),
                       ArgSpec::pointer(DType::I32), ArgSpec::constant(int64_t(64))},
                      warps);
    ASSERT_TRUE(k);
    std::vector<float> x(64);
    std::vector<float> r = randomFloats(64, 31);
    for (int i = 0; i < 64; ++i)
      x[i] = std::floor(r[i] * 4.0f); // few distinct values: ties
    std::vector<float> v(65, -1.0f);
    std::vector<int32_t> ix(65, -1);
    auto bx = bytesOf(x), bv = bytesOf(v), bi = bytesOf(ix);
    ASSERT_TRUE(run(*k, 1, {&bx, &bv, &bi}, {}));
    v = valuesOf<float>(bv);
    ix = valuesOf<int32_t>(bi);
    float best = x[0];
    int at = 0;
    for (int i = 0; i < 64; ++i) {
      if (x[i] > best)
        best = x[i], at = i;
      ASSERT_EQ(v[1 + i], best) << warps << " scan " << i;
      ASSERT_EQ(ix[1 + i], at) << warps << " scan " << i;
    }
    ASSERT_EQ(v[0], best) << warps;
    ASSERT_EQ(ix[0], at) << warps;
  }
}

TEST_F(CudaHostEmulation, GatherAlongEachAxis) {
  auto k = emit(codegenFile("ops.mtir"), "gathers");
  ASSERT_TRUE(k);
  std::vector<float> x = randomFloats(512, 11), o(320, -1.0f);
  std::vector<int32_t> ix(256);
  for (int i = 0; i < 256; ++i)
    ix[i] = (i * 7 + 3) % 16; // rows of the 16 x 32 source for the first gather; its first 64 columns (< 32)
  auto bx = bytesOf(x), bi = bytesOf(ix), bo = bytesOf(o);
  ASSERT_TRUE(run(*k, 1, {&bx, &bi, &bo}, {}));
  std::vector<float> got = valuesOf<float>(bo);
  for (int r = 0; r < 8; ++r)
    for (int c = 0; c < 32; ++c)
      ASSERT_EQ(got[r * 32 + c], x[ix[r * 32 + c] * 32 + c]) << r << "," << c;
  for (int r = 0; r < 16; ++r)
    for (int c = 0; c < 4; ++c)
      ASSERT_EQ(got[256 + r * 4 + c], x[r * 32 + ix[r * 4 + c]]) << r << "," << c;
}

TEST_F(CudaHostEmulation, Fp8ConversionsArithmeticAndDot) {
  using mt::cpu::floatToFp8Bits;
  using mt::cpu::fp8BitsToFloat;
  auto cvt = emitFile("test/codegen/fp8.py", "convert",
                      {ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F8E4M3),
                       ArgSpec::pointer(DType::F8E5M2), ArgSpec::pointer(DType::F32),
                       ArgSpec::constant(int64_t(256))},
                      4);
  ASSERT_TRUE(cvt);
  std::vector<float> x = randomFloats(256, 21);
  for (float &v : x)
    v *= 100.0f; // past both formats' largest finite value at times
  const float specials[] = {1e6f,  -1e6f, 448.0f,        464.0f,   0.0f,
                            -0.0f, 1e-9f, std::nanf(""), 57344.0f, 61440.0f};
  std::copy(std::begin(specials), std::end(specials), x.begin());
  std::vector<uint8_t> y(256, 0x55), z(256, 0x55);
  std::vector<float> w(256, -1.0f);
  auto bx = bytesOf(x), by = bytesOf(y), bz = bytesOf(z), bw = bytesOf(w);
  ASSERT_TRUE(run(*cvt, 1, {&bx, &by, &bz, &bw}, {}));
  y = valuesOf<uint8_t>(by);
  z = valuesOf<uint8_t>(bz);
  w = valuesOf<float>(bw);
  for (int i = 0; i < 256; ++i) {
    uint8_t e4 = floatToFp8Bits(x[i], mt::DType::F8E4M3), e5 = floatToFp8Bits(x[i], mt::DType::F8E5M2);
    ASSERT_EQ(y[i], e4) << i << ": " << x[i];
    ASSERT_EQ(z[i], e5) << i << ": " << x[i];
    // (e4 * 2 + e5) in fp16 (the common type of two fp8 formats), computed in f32.
    float sum = fp8BitsToFloat(floatToFp8Bits(fp8BitsToFloat(e4, mt::DType::F8E4M3) * 2, mt::DType::F8E4M3),
                               mt::DType::F8E4M3) +
                fp8BitsToFloat(e5, mt::DType::F8E5M2);
    float ref = mt::cpu::halfBitsToFloat(mt::cpu::floatToHalfBits(sum));
    if (std::isnan(ref))
      ASSERT_TRUE(std::isnan(w[i])) << i;
    else
      ASSERT_EQ(w[i], ref) << i << ": " << x[i];
  }
  auto dot = emitFile("test/codegen/fp8.py", "fp8_dot",
                      {ArgSpec::pointer(DType::F8E4M3), ArgSpec::pointer(DType::F8E5M2),
                       ArgSpec::pointer(DType::F8E4M3), ArgSpec::constant(int64_t(16)),
                       ArgSpec::constant(int64_t(16)), ArgSpec::constant(int64_t(32))},
                      4);
  ASSERT_TRUE(dot);
  std::vector<float> af = randomFloats(16 * 32, 22), bf = randomFloats(32 * 16, 23);
  std::vector<uint8_t> a(af.size()), b(bf.size()), c(256, 0x55);
  for (size_t i = 0; i < a.size(); ++i) {
    a[i] = floatToFp8Bits(af[i], mt::DType::F8E4M3);
    b[i] = floatToFp8Bits(bf[i], mt::DType::F8E5M2);
  }
  auto ba = bytesOf(a), bb = bytesOf(b), bc = bytesOf(c);
  ASSERT_TRUE(run(*dot, 1, {&ba, &bb, &bc}, {}));
  c = valuesOf<uint8_t>(bc);
  for (int m = 0; m < 16; ++m)
    for (int n = 0; n < 16; ++n) {
      double acc = 0; // products of fp8 values are exact in f32, and 32 of them sum exactly here too
      for (int k = 0; k < 32; ++k)
        acc += double(fp8BitsToFloat(a[m * 32 + k], mt::DType::F8E4M3)) *
               fp8BitsToFloat(b[k * 16 + n], mt::DType::F8E5M2);
      ASSERT_EQ(c[m * 16 + n], floatToFp8Bits(float(acc), mt::DType::F8E4M3)) << m << "," << n;
    }
}

TEST_F(CudaHostEmulation, AtomicsAndPrint) {
  auto k = emit(codegenFile("ops.mtir"), "atomics");
  ASSERT_TRUE(k);
  std::vector<float> p = randomFloats(64, 6);
  std::vector<uint16_t> h(64, 0);
  std::vector<int32_t> cnt = {0};
  std::vector<uint32_t> u(64);
  for (int i = 0; i < 64; ++i)
    u[i] = uint32_t(1000 + 3 * i);
  auto bp = bytesOf(p), bh = bytesOf(h), bc = bytesOf(cnt), bu = bytesOf(u);
  ASSERT_TRUE(run(*k, 1, {&bp, &bh, &bc, &bu}, {}));
  std::vector<float> gp = valuesOf<float>(bp);
  std::vector<uint32_t> gu = valuesOf<uint32_t>(bu);
  for (int i = 0; i < 64; ++i) {
    ASSERT_EQ(gp[i], p[i] + 1.5f) << i; // add 1.5, then max with the old value
    ASSERT_EQ(gu[i], u[i] ^ uint32_t(i)) << i;
  }
  EXPECT_EQ(valuesOf<int32_t>(bc)[0], 2); // cas 0 -> 1, then +1
  std::string log = runLog();
  EXPECT_NE(log.find("pid (0, 0, 0) idx (0) old=1"), std::string::npos) << log;
  EXPECT_NE(log.find("pid (0, 0, 0) idx (63) uold=" + std::to_string(u[63])), std::string::npos) << log;
}

/// Round-to-nearest-even f32 -> bf16 -> f32, the reference for a bf16 store.
float roundToBf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  u += 0x7fffu + ((u >> 16) & 1u);
  u &= 0xffff0000u;
  std::memcpy(&f, &u, 4);
  return f;
}

TEST_F(CudaHostEmulation, DotF16InBf16Out) {
  // dot.mtir: a 32x16 f16 @ b 16x32 f16, accumulated in f32 over k_tiles iterations, stored as bf16.
  auto k = emit(codegenFile("dot.mtir"), "matmul");
  ASSERT_TRUE(k);
  // Inputs exactly representable in f16: multiples of 1/8 in [-4, 4].
  std::mt19937 rng(9);
  std::uniform_int_distribution<int> dist(-32, 32);
  std::vector<float> a(32 * 16), b(16 * 32);
  std::vector<uint16_t> ha(a.size()), hb(b.size());
  auto toHalf = [](float f) { return __float2half(f).x; };
  for (size_t i = 0; i < a.size(); ++i)
    ha[i] = toHalf(a[i] = dist(rng) / 8.0f);
  for (size_t i = 0; i < b.size(); ++i)
    hb[i] = toHalf(b[i] = dist(rng) / 8.0f);
  std::vector<uint16_t> c(32 * 32, 0);
  auto ba = bytesOf(ha), bb = bytesOf(hb), bc = bytesOf(c);
  ASSERT_TRUE(run(*k, 1, {&ba, &bb, &bc}, {2}));
  std::vector<uint16_t> got = valuesOf<uint16_t>(bc);
  for (int m = 0; m < 32; ++m)
    for (int n = 0; n < 32; ++n) {
      float ref = 0; // exact: small multiples of 1/64 summed in f32
      for (int kk = 0; kk < 16; ++kk)
        ref += a[m * 16 + kk] * b[kk * 32 + n];
      ASSERT_EQ(__bfloat162float({got[m * 32 + n]}), roundToBf16(2 * ref)) << m << "," << n;
    }
}

TEST_F(CudaHostEmulation, DotF32) {
  const char *ir = R"(
func @mm(%c: ptr<f32>, %a: ptr<f32>, %b: ptr<f32>) {
  %ra = make_range {end = 512, start = 0} : tensor<512xi32>
  %ia = reshape %ra : tensor<16x32xi32>
  %ap = splat %a : tensor<16x32xptr<f32>>
  %aps = addptr %ap, %ia : tensor<16x32xptr<f32>>
  %av = load %aps : tensor<16x32xf32>
  %ib = reshape %ra : tensor<32x16xi32>
  %bp = splat %b : tensor<32x16xptr<f32>>
  %bps = addptr %bp, %ib : tensor<32x16xptr<f32>>
  %bv = load %bps : tensor<32x16xf32>
  %acc = constant {value = 0.5} : tensor<16x16xf32>
  %d = dot %av, %bv, %acc : tensor<16x16xf32>
  %rc = make_range {end = 256, start = 0} : tensor<256xi32>
  %ic = reshape %rc : tensor<16x16xi32>
  %cp = splat %c : tensor<16x16xptr<f32>>
  %cps = addptr %cp, %ic : tensor<16x16xptr<f32>>
  store %cps, %d
  return
}
)";
  auto k = emit(ir, "mm", 2);
  ASSERT_TRUE(k);
  std::vector<float> a = randomFloats(512, 7), b = randomFloats(512, 8), c(256, 0.0f);
  auto ba = bytesOf(a), bb = bytesOf(b), bc = bytesOf(c);
  ASSERT_TRUE(run(*k, 1, {&bc, &ba, &bb}, {}));
  std::vector<float> got = valuesOf<float>(bc);
  for (int m = 0; m < 16; ++m)
    for (int n = 0; n < 16; ++n) {
      double ref = 0.5;
      for (int kk = 0; kk < 32; ++kk)
        ref += double(a[m * 32 + kk]) * b[kk * 16 + n];
      ASSERT_NEAR(got[m * 16 + n], ref, 1e-4) << m << "," << n;
    }
}

/// Round-to-nearest-even f32 -> bf16 bits.
uint16_t bf16Bits(float f) { return __float2bfloat16(f).x; }

TEST_F(CudaHostEmulation, MmaBf16LoadedAccEightWarps) {
  // dot_mma.mtir @bf16_64x64x32: c = c + a @ b on the tensor-core path (the host runs mmaTile's FMA
  // fallback with the same staging, 4 x 2 warp grid and accumulator ownership).
  auto k = emit(codegenFile("dot_mma.mtir"), "bf16_64x64x32", 8);
  ASSERT_TRUE(k);
  ASSERT_NE(k->source.find("mt::mmaAccumulate<mt::bf16, 64, 64, 32, 4, 2,"), std::string::npos) << k->source;
  std::vector<float> a = randomFloats(64 * 32, 21), b = randomFloats(32 * 64, 22),
                     c = randomFloats(64 * 64, 23);
  std::vector<uint16_t> ha(a.size()), hb(b.size());
  for (size_t i = 0; i < a.size(); ++i)
    a[i] = __bfloat162float({ha[i] = bf16Bits(a[i])});
  for (size_t i = 0; i < b.size(); ++i)
    b[i] = __bfloat162float({hb[i] = bf16Bits(b[i])});
  auto ba = bytesOf(ha), bb = bytesOf(hb), bc = bytesOf(c);
  ASSERT_TRUE(run(*k, 1, {&ba, &bb, &bc}, {}));
  std::vector<float> got = valuesOf<float>(bc);
  for (int m = 0; m < 64; ++m)
    for (int n = 0; n < 64; ++n) {
      double ref = c[m * 64 + n];
      for (int kk = 0; kk < 32; ++kk)
        ref += double(a[m * 32 + kk]) * b[kk * 64 + n];
      ASSERT_NEAR(got[m * 64 + n], ref, 1e-4) << m << "," << n;
    }
}

TEST_F(CudaHostEmulation, MmaTf32ConstantAcc) {
  // dot_mma.mtir @tf32_const_acc: 32x16 @ 16x32 + 0.5 with 2 warps; the accumulator is never staged.
  auto k = emit(codegenFile("dot_mma.mtir"), "tf32_const_acc", 2);
  ASSERT_TRUE(k);
  ASSERT_NE(k->source.find("mt::mmaAccumulate<mt::f32, 32, 32, 16, 2, 1,"), std::string::npos) << k->source;
  std::vector<float> a = randomFloats(512, 24), b = randomFloats(512, 25), c(1024, -7.0f);
  auto ba = bytesOf(a), bb = bytesOf(b), bc = bytesOf(c);
  ASSERT_TRUE(run(*k, 1, {&ba, &bb, &bc}, {}));
  std::vector<float> got = valuesOf<float>(bc);
  for (int m = 0; m < 32; ++m)
    for (int n = 0; n < 32; ++n) {
      double ref = 0.5;
      for (int kk = 0; kk < 16; ++kk)
        ref += double(a[m * 16 + kk]) * b[kk * 32 + n];
      ASSERT_NEAR(got[m * 32 + n], ref, 1e-4) << m << "," << n;
    }
}

TEST_F(CudaHostEmulation, MmaFragAccumulatorLoopWithAdvancedPointers) {
  // A K loop whose pointer tiles are loop-carried and advanced by a uniform step (`a_ptrs += 16`): they
  // stay lazy (init expression + running offset). The accumulator stays in the fragment layout across the
  // loop; its row sums reduce the fragments in place, the tile itself is stored from the fragments. c = a[32
  // x 16*kt] @ b[16*kt x 32]; rows[m] = sum_n c[m, n].
  const char *ir = R"(
func @mm(%a_ptr: ptr<bf16>, %b_ptr: ptr<bf16>, %c_ptr: ptr<f32>, %rows_ptr: ptr<f32>, %kt: i32) {
  %r512 = make_range {end = 512, start = 0} : tensor<512xi32>
  %ia = reshape %r512 : tensor<32x16xi32>
  %rm = make_range {end = 32, start = 0} : tensor<32xi32>
  %rme = expand_dims %rm {axis = 1} : tensor<32x1xi32>
  %rmb = broadcast %rme : tensor<32x16xi32>
  %ka = splat %kt : tensor<32x16xi32>
  %c16 = constant {value = 16} : tensor<32x16xi32>
  %rowk = mul %rmb, %ka : tensor<32x16xi32>
  %rowk16 = mul %rowk, %c16 : tensor<32x16xi32>
  %row16 = mul %rmb, %c16 : tensor<32x16xi32>
  %aoff0 = sub %ia, %row16 : tensor<32x16xi32>
  %aoff = add %aoff0, %rowk16 : tensor<32x16xi32>
  %ap = splat %a_ptr : tensor<32x16xptr<bf16>>
  %aps = addptr %ap, %aoff : tensor<32x16xptr<bf16>>
  %ib = reshape %r512 : tensor<16x32xi32>
  %bp = splat %b_ptr : tensor<16x32xptr<bf16>>
  %bps = addptr %bp, %ib : tensor<16x32xptr<bf16>>
  %zero = constant {value = 0} : i32
  %one = constant {value = 1} : i32
  %s16 = constant {value = 16} : i32
  %s512 = constant {value = 512} : i32
  %acc0 = constant {value = 0.25} : tensor<32x32xf32>
  %acc, %pa, %pb = for %zero, %kt, %one, %acc0, %aps, %bps : tensor<32x32xf32>, tensor<32x16xptr<bf16>>, tensor<16x32xptr<bf16>> {
  ^bb(%k: i32, %acc_in: tensor<32x32xf32>, %a_in: tensor<32x16xptr<bf16>>, %b_in: tensor<16x32xptr<bf16>>):
    %a = load %a_in : tensor<32x16xbf16>
    %b = load %b_in : tensor<16x32xbf16>
    %d = dot %a, %b, %acc_in : tensor<32x32xf32>
    %sa = splat %s16 : tensor<32x16xi32>
    %an = addptr %a_in, %sa : tensor<32x16xptr<bf16>>
    %sb = splat %s512 : tensor<16x32xi32>
    %bn = addptr %b_in, %sb : tensor<16x32xptr<bf16>>
    yield %d, %an, %bn
  }
  %r1k = make_range {end = 1024, start = 0} : tensor<1024xi32>
  %ic = reshape %r1k : tensor<32x32xi32>
  %cp = splat %c_ptr : tensor<32x32xptr<f32>>
  %cps = addptr %cp, %ic : tensor<32x32xptr<f32>>
  store %cps, %acc
  %rows = reduce %acc {axis = 1} : tensor<32xf32> {
  ^bb(%x: f32, %y: f32):
    %s = add %x, %y : f32
    yield %s
  }
  %rp = splat %rows_ptr : tensor<32xptr<f32>>
  %rps = addptr %rp, %rm : tensor<32xptr<f32>>
  store %rps, %rows
  return
}
)";
  auto k = emit(ir, "mm", 4);
  ASSERT_TRUE(k);
  // The pointer tiles are not registers: each is its init's expression plus a running offset.
  EXPECT_NE(k->source.find("_off += (mt::i64)("), std::string::npos) << k->source;
  EXPECT_NE(k->source.find("mt::mmaAccumulate<mt::bf16, 32, 32, 16, 2, 2,"), std::string::npos) << k->source;
  EXPECT_EQ(k->source.find("blocked -> frag"), std::string::npos) << k->source;
  EXPECT_EQ(k->source.find("frag -> blocked"), std::string::npos) << k->source;
  EXPECT_NE(k->source.find("reduce axis 1 of a fragment tile"), std::string::npos) << k->source;
  // The loads are copied 2 iterations ahead into a ring of 3 stages (EmitDotPipeline.cpp): the loop runs
  // 0, 1, 2 (fewer iterations than stages) and 5 times.
  EXPECT_NE(k->source.find("mt::cpAsyncWait<1>();"), std::string::npos) << k->source;
  for (int kt : {0, 1, 2, 5})
    checkFragLoop(*k, kt);
}

} // namespace

void mt::hostemu::CudaHostEmulation::checkFragLoop(const cuda::CudaKernel &kernel, int kt) {
  const cuda::CudaKernel *k = &kernel;
  const int K = 16 * kt;
  std::vector<float> a = randomFloats(32 * K, 31 + kt), b = randomFloats(K * 32, 32 + kt);
  std::vector<uint16_t> ha(a.size()), hb(b.size());
  for (size_t i = 0; i < a.size(); ++i)
    a[i] = __bfloat162float({ha[i] = __float2bfloat16(a[i]).x});
  for (size_t i = 0; i < b.size(); ++i)
    b[i] = __bfloat162float({hb[i] = __float2bfloat16(b[i]).x});
  std::vector<float> c(32 * 32, -77.0f), rows(32, -77.0f);
  ha.push_back(0), hb.push_back(0); // never empty
  auto ba = bytesOf(ha), bb = bytesOf(hb), bc = bytesOf(c), br = bytesOf(rows);
  ASSERT_TRUE(run(*k, 1, {&ba, &bb, &bc, &br}, {kt}));
  std::vector<float> got = valuesOf<float>(bc), gotRows = valuesOf<float>(br);
  for (int m = 0; m < 32; ++m) {
    double rowRef = 0;
    for (int n = 0; n < 32; ++n) {
      double ref = 0.25;
      for (int kk = 0; kk < K; ++kk)
        ref += double(a[m * K + kk]) * b[kk * 32 + n];
      rowRef += ref;
      ASSERT_NEAR(got[m * 32 + n], ref, 1e-4) << m << "," << n << " kt " << kt;
    }
    ASSERT_NEAR(gotRows[m], rowRef, 1e-3) << m << " kt " << kt;
  }
}

namespace {

TEST_F(CudaHostEmulation, RemOfContiguousOffsetsChecksGroupEnds) {
  // out[i] = in[16 + (i - 16) % 16] (C remainder), 128 elements on one warp: groups of 4 are contiguous
  // except the one at i = 0..3, which reads 16 + {0, -15, -14, -13}: its ends disagree, so it takes the
  // element path.
  const char *ir = R"(
func @remk(%in: ptr<f32>, %out: ptr<f32>) {
  %r = make_range {end = 128, start = 0} : tensor<128xi32>
  %c16 = constant {value = 16} : tensor<128xi32>
  %s = sub %r, %c16 : tensor<128xi32>
  %m = rem %s, %c16 : tensor<128xi32>
  %o = add %m, %c16 : tensor<128xi32>
  %ip = splat %in : tensor<128xptr<f32>>
  %ips = addptr %ip, %o : tensor<128xptr<f32>>
  %v = load %ips : tensor<128xf32>
  %op = splat %out : tensor<128xptr<f32>>
  %ops = addptr %op, %r : tensor<128xptr<f32>>
  store %ops, %v
  return
}
)";
  auto k = emit(ir, "remk", 1);
  ASSERT_TRUE(k);
  EXPECT_NE(k->source.find(" == mt_p0 + 3;"), std::string::npos) << k->source; // one end comparison
  EXPECT_EQ(k->source.find("for (int mt_j = 1;"), std::string::npos) << k->source;
  std::vector<float> in = randomFloats(32, 41), out(128, -5.0f);
  auto bi = bytesOf(in), bo = bytesOf(out);
  ASSERT_TRUE(run(*k, 1, {&bi, &bo}, {}));
  std::vector<float> got = valuesOf<float>(bo);
  for (int i = 0; i < 128; ++i)
    ASSERT_EQ(got[i], in[16 + (i - 16) % 16]) << i;
}

TEST_F(CudaHostEmulation, AttentionFragmentsRowReductionsAndBroadcasts) {
  // attention_frag.mtir: examples/kernels/attention.py, causal, HEAD_DIM 32, 32 x 32 blocks on 4 warps, with
  // its scores and output in the fragment layout throughout (EmitLayout.cpp). N_CTX = 50: two query
  // blocks, the second partial; qk_scale = 1 (a scalar argument).
  auto k = emit(codegenFile("attention_frag.mtir"), "attn_fwd_kernel", 4);
  ASSERT_TRUE(k);
  ASSERT_EQ(k->source.find("-> blocked through"), std::string::npos) << k->source;
  ASSERT_EQ(k->source.find("-> frag through"), std::string::npos) << k->source;
  ASSERT_NE(k->source.find("reduce axis 1 of a fragment tile"), std::string::npos) << k->source;
  const int n = 50, d = 32;
  std::vector<float> q = randomFloats(n * d, 51), kk = randomFloats(n * d, 52), v = randomFloats(n * d, 53);
  std::vector<float> out(n * d, -99.0f);
  auto bq = bytesOf(q), bk = bytesOf(kk), bv = bytesOf(v), bo = bytesOf(out);
  // qk_scale, stride_z, stride_h, stride_s, stride_d, H, N_CTX
  ASSERT_TRUE(run(*k, 2, {&bq, &bk, &bv, &bo}, {1, n * d, n * d, d, 1, 1, n}));
  std::vector<float> got = valuesOf<float>(bo);
  for (int i = 0; i < n; ++i) {
    std::vector<double> s(size_t(i) + 1);
    double mx = -1e300, sum = 0;
    for (int j = 0; j <= i; ++j) {
      double dotv = 0;
      for (int c = 0; c < d; ++c)
        dotv += double(q[i * d + c]) * kk[j * d + c];
      s[size_t(j)] = dotv;
      mx = std::max(mx, dotv);
    }
    for (double &x : s)
      sum += (x = std::exp(x - mx));
    for (int c = 0; c < d; ++c) {
      double ref = 0;
      for (int j = 0; j <= i; ++j)
        ref += s[size_t(j)] / sum * v[j * d + c];
      ASSERT_NEAR(got[i * d + c], ref, 2e-4) << i << "," << c;
    }
  }
}

TEST_F(CudaHostEmulation, BlockPointerMatmulPipelined) {
  // matmul_block_ptr.mtir: C[100 x 72] = A[100 x 50] @ B[50 x 72] through block pointers with boundary
  // checks (partial tiles in M, N and K), the loads pipelined 2 iterations ahead with tl.advance'd offsets.
  auto k = emit(codegenFile("matmul_block_ptr.mtir"), "matmul_block_ptr_kernel", 4);
  ASSERT_TRUE(k);
  ASSERT_NE(k->source.find("mt::cpAsyncWait<1>();"), std::string::npos) << k->source;
  const int M = 100, N = 72, K = 50;
  std::mt19937 rng(61);
  std::uniform_int_distribution<int> dist(-32, 32); // multiples of 1/8: exact in f16, sums exact in f32
  std::vector<float> a(M * K), b(K * N);
  std::vector<uint16_t> ha(a.size()), hb(b.size());
  for (size_t i = 0; i < a.size(); ++i)
    ha[i] = __float2half(a[i] = dist(rng) / 8.0f).x;
  for (size_t i = 0; i < b.size(); ++i)
    hb[i] = __float2half(b[i] = dist(rng) / 8.0f).x;
  std::vector<float> c(M * N, -123.0f);
  auto ba = bytesOf(ha), bb = bytesOf(hb), bc = bytesOf(c);
  // M, N, K, stride_am, stride_ak, stride_bk, stride_bn, stride_cm, stride_cn; grid: 4 x 3 tiles of 32 x 32
  ASSERT_TRUE(run(*k, 12, {&ba, &bb, &bc}, {M, N, K, K, 1, N, 1, N, 1}));
  std::vector<float> got = valuesOf<float>(bc);
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) {
      double ref = 0;
      for (int kk = 0; kk < K; ++kk)
        ref += double(a[m * K + kk]) * b[kk * N + n];
      ASSERT_EQ(got[m * N + n], float(ref)) << m << "," << n;
    }
}

} // namespace
