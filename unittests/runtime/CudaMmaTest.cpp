// Tensor-core `dot` (mma.sync) through the CUDA target: the example matmul and attention kernels choose
// the mma path for f16/bf16 and tf32 (NVRTC compiles them for sm_80 and sm_90a, no GPU needed), and, on
// a GPU, run with masked odd shapes and 4 or 8 warps against float64 references.
#include "../e2e/E2EUtil.h"

#include "backend/cuda/Driver.h"
#include "backend/cuda/Emitter.h"
#include "backend/cuda/Nvrtc.h"
#include "ir/Types.h"
#include "runtime/Compiler.h"

namespace mt::e2e {
namespace {

CompileOptions cudaOptions(int numWarps) {
  CompileOptions o;
  o.target = Target::Cuda;
  o.numWarps = numWarps;
  return o;
}

struct MatmulShape {
  int64_t m, n, k;
  int64_t blockM, blockN, blockK;
};

/// matmul.py specialised for row-major A (M x K) and B (K x N) of `dtype` and an f32 C.
std::vector<ArgSpec> matmulSpecs(DType dtype, const MatmulShape &s) {
  return {ArgSpec::pointer(dtype),      ArgSpec::pointer(dtype),
          ArgSpec::pointer(DType::F32), ArgSpec::forInt(s.m),
          ArgSpec::forInt(s.n),         ArgSpec::forInt(s.k),
          ArgSpec::forInt(s.k),         ArgSpec::forInt(1),
          ArgSpec::forInt(s.n),         ArgSpec::forInt(1),
          ArgSpec::forInt(s.n),         ArgSpec::forInt(1),
          ArgSpec::constant(s.blockM),  ArgSpec::constant(s.blockN),
          ArgSpec::constant(s.blockK),  ArgSpec::constant(int64_t(4)),
          ArgSpec::constant(false)};
}

struct AttnShape {
  int64_t h, s, d;
  int64_t blockM, blockN;
  bool causal;
};

std::vector<ArgSpec> attentionSpecs(const AttnShape &a) {
  return {ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32),
          ArgSpec::pointer(DType::F32), ArgSpec::scalar(DType::F32),  ArgSpec::forInt(a.h * a.s * a.d),
          ArgSpec::forInt(a.s * a.d),   ArgSpec::forInt(a.d),         ArgSpec::forInt(1),
          ArgSpec::forInt(a.h),         ArgSpec::forInt(a.s),         ArgSpec::constant(a.d),
          ArgSpec::constant(a.blockM),  ArgSpec::constant(a.blockN),  ArgSpec::constant(a.causal)};
}

/// The CUDA source a Target::Cuda compile of `function` emits (empty after a test failure).
std::string emittedSource(const std::string &file, const std::string &function,
                          const std::vector<ArgSpec> &specs, int numWarps) {
  auto src = KernelSource::fromFile(kernelPath(file), function);
  EXPECT_TRUE(src) << src.error();
  if (!src)
    return "";
  SourceManager sources;
  ir::TypeContext types;
  auto compiled = runtime::compileToIR(*src, specs, CompileOptions{}, sources, types);
  EXPECT_TRUE(compiled) << compiled.error();
  if (!compiled)
    return "";
  Diagnostics diag(&sources);
  auto emitted = cuda::emitCuda(*compiled->function, {.numWarps = numWarps}, diag);
  EXPECT_TRUE(emitted) << diag.renderAll();
  if (!emitted)
    return "";
  std::string why;
  if (cuda::nvrtcAvailable(&why)) {
    for (const char *arch : {"sm_80", "sm_90a"}) {
      auto cubin = cuda::compileCuda(emitted->source, emitted->name + ".cu", arch);
      EXPECT_TRUE(cubin) << arch << ": " << cubin.error();
    }
  }
  return emitted->source;
}

size_t count(const std::string &text, const std::string &needle) {
  size_t n = 0;
  for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1))
    ++n;
  return n;
}

// ---- Plan selection (no GPU) -------------------------------------------------------------------------

TEST(CudaTargetMma, MatmulBf16UsesTensorCores) {
  std::string src =
      emittedSource("matmul.py", "matmul_kernel", matmulSpecs(DType::BF16, {300, 193, 111, 64, 64, 32}), 4);
  // 64x64x32 bf16, 4 warps as 2 x 2; A rows 32 + 8, B rows 64 + 8 (padding); the accumulator in registers.
  EXPECT_NE(src.find("mt::mmaAccumulate<mt::bf16, 64, 64, 32, 2, 2, 40, 72>"), std::string::npos) << src;
  EXPECT_EQ(src.find("through shared memory"), std::string::npos) << src;
}

TEST(CudaTargetMma, MatmulF16EightWarps) {
  std::string src =
      emittedSource("matmul.py", "matmul_kernel", matmulSpecs(DType::F16, {333, 257, 77, 128, 128, 32}), 8);
  EXPECT_NE(src.find("mt::mmaAccumulate<mt::f16, 128, 128, 32, 4, 2, 40, 136>"), std::string::npos) << src;
}

TEST(CudaTargetMma, MatmulF32IsTf32) {
  std::string src =
      emittedSource("matmul.py", "matmul_kernel", matmulSpecs(DType::F32, {130, 70, 90, 32, 32, 16}), 4);
  // tf32 (the default input_precision of an f32 tl.dot): A rows 16 + 4 words.
  EXPECT_NE(src.find("mt::mmaAccumulate<mt::f32, 32, 32, 16, 2, 2, 20, 40>"), std::string::npos) << src;
}

TEST(CudaTargetMma, AttentionBothDotsOnTensorCores) {
  std::string src =
      emittedSource("attention.py", "attn_fwd_kernel", attentionSpecs({2, 300, 64, 64, 32, true}), 4);
  // q @ k^T starts from a zero accumulator; p @ v accumulates into acc. Both accumulate in registers, and the
  // scores and acc stay in the fragment layout: row reductions and row-vector broadcasts work on it
  // (EmitLayout.cpp), so no tile is converted.
  EXPECT_EQ(count(src, "mt::mmaAccumulate<"), 2u) << src;
  EXPECT_NE(src.find("mt::mmaAccumulate<mt::f32, 64, 32, 64, 4, 1, 68, 40>"), std::string::npos) << src;
  EXPECT_NE(src.find("mt::mmaAccumulate<mt::f32, 64, 64, 32, 2, 2, 36, 72>"), std::string::npos) << src;
  EXPECT_EQ(src.find("-> blocked through shared memory"), std::string::npos) << src;
}

// ---- On a GPU --------------------------------------------------------------------------------------------

/// GPU memory holding a copy of a host Buffer.
class DeviceCopy {
public:
  DeviceCopy(const cuda::Driver &drv, Buffer &host) : drv_(drv), host_(host) {
    bytes_ = host.size() * dtypeBytes(host.dtype());
    auto p = drv.alloc(bytes_);
    EXPECT_TRUE(p) << p.error();
    ptr_ = p ? *p : 0;
    if (ptr_) {
      Status s = drv.copyToDevice(ptr_, host.data(), bytes_);
      EXPECT_TRUE(s) << s.error();
    }
  }
  ~DeviceCopy() {
    if (ptr_)
      (void)drv_.free(ptr_);
  }
  LaunchArg arg() const { return LaunchArg::device(ptr_, bytes_); }
  void readBack() {
    Status s = drv_.synchronize();
    ASSERT_TRUE(s) << s.error();
    s = drv_.copyToHost(host_.data(), ptr_, bytes_);
    ASSERT_TRUE(s) << s.error();
  }

private:
  const cuda::Driver &drv_;
  Buffer &host_;
  cuda::CUdeviceptr ptr_ = 0;
  size_t bytes_ = 0;
};

const cuda::Driver *gpu() {
  std::string why;
  const cuda::Driver *drv = cuda::Driver::get(&why);
  if (drv) {
    Status s = drv->ensureContext(0);
    EXPECT_TRUE(s) << s.error();
  }
  return drv;
}

/// C = A @ B through matmul.py on the GPU; |C - ref| <= sum_k |a_ik b_kj| * relErr per element.
void checkMatmul(DType dtype, const MatmulShape &s, int numWarps, double relErr, uint64_t seed) {
  const cuda::Driver *drv = gpu();
  if (!drv)
    GTEST_SKIP() << "no GPU";
  Context ctx;
  KernelPtr k;
  ASSERT_COMPILES(
      k, compileFile(ctx, "matmul.py", "matmul_kernel", matmulSpecs(dtype, s), cudaOptions(numWarps)));
  Rng rng(seed);
  Buffer a(dtype, s.m * s.k), b(dtype, s.k * s.n), c(DType::F32, s.m * s.n);
  rng.fill(a);
  rng.fill(b);
  c.poison();
  DeviceCopy da(*drv, a), db(*drv, b), dc(*drv, c);
  ASSERT_LAUNCHES(k, (Grid{cdiv(s.m, s.blockM) * cdiv(s.n, s.blockN)}),
                  {da.arg(), db.arg(), dc.arg(), LaunchArg::integer(s.m), LaunchArg::integer(s.n),
                   LaunchArg::integer(s.k), LaunchArg::integer(s.k), LaunchArg::integer(1),
                   LaunchArg::integer(s.n), LaunchArg::integer(1), LaunchArg::integer(s.n),
                   LaunchArg::integer(1)});
  dc.readBack();
  std::vector<double> av = a.values(), bv = b.values(), ref(s.m * s.n), bound(s.m * s.n);
  for (int64_t i = 0; i < s.m; ++i)
    for (int64_t j = 0; j < s.n; ++j) {
      double sum = 0.0, mag = 0.0;
      for (int64_t kk = 0; kk < s.k; ++kk) {
        double p = av[i * s.k + kk] * bv[kk * s.n + j];
        sum += p;
        mag += std::abs(p);
      }
      ref[i * s.n + j] = sum;
      bound[i * s.n + j] = mag * relErr + 1e-6;
    }
  EXPECT_TRUE(withinBounds(c.values(), ref, bound));
}

// 16-bit products are exact in f32; only the f32 accumulation rounds (K * 2^-24 relative, with room for
// the tensor cores' internal truncation). tf32 inputs carry 2^-11 relative each: 2^-10 per product.
constexpr double kHalfErr = 1.0 / (1 << 16);
constexpr double kTf32Err = 1.0 / (1 << 9);

TEST(CudaTargetGpu, MatmulMmaBf16Warps4) {
  checkMatmul(DType::BF16, {300, 193, 111, 64, 64, 32}, 4, kHalfErr, 101);
}
TEST(CudaTargetGpu, MatmulMmaBf16Warps8) {
  checkMatmul(DType::BF16, {333, 257, 77, 128, 128, 32}, 8, kHalfErr, 102);
}
TEST(CudaTargetGpu, MatmulMmaF16Warps4) {
  checkMatmul(DType::F16, {129, 250, 95, 64, 128, 32}, 4, kHalfErr, 103);
}
TEST(CudaTargetGpu, MatmulMmaF16Warps8) {
  checkMatmul(DType::F16, {201, 67, 150, 64, 64, 64}, 8, kHalfErr, 104);
}
TEST(CudaTargetGpu, MatmulMmaTf32Warps4) {
  checkMatmul(DType::F32, {300, 193, 111, 64, 64, 32}, 4, kTf32Err, 105);
}
TEST(CudaTargetGpu, MatmulMmaTf32Warps8) {
  checkMatmul(DType::F32, {190, 270, 45, 128, 64, 16}, 8, kTf32Err, 106);
}
TEST(CudaTargetGpu, MatmulMmaBf16OneWarpAndTwo) {
  checkMatmul(DType::BF16, {100, 70, 50, 32, 32, 16}, 1, kHalfErr, 107);
  checkMatmul(DType::BF16, {100, 70, 50, 16, 64, 32}, 2, kHalfErr, 108);
}

/// attention.py (f32 Q, K, V: both dots on tf32 tensor cores) against a float64 softmax(QK^T)V.
void checkAttention(const AttnShape &a, int numWarps, uint64_t seed) {
  const cuda::Driver *drv = gpu();
  if (!drv)
    GTEST_SKIP() << "no GPU";
  Context ctx;
  KernelPtr k;
  ASSERT_COMPILES(
      k, compileFile(ctx, "attention.py", "attn_fwd_kernel", attentionSpecs(a), cudaOptions(numWarps)));
  Rng rng(seed);
  const int64_t n = a.h * a.s * a.d;
  Buffer q(DType::F32, n), kk(DType::F32, n), v(DType::F32, n), o(DType::F32, n);
  rng.fill(q, -2.0, 2.0);
  rng.fill(kk, -2.0, 2.0);
  rng.fill(v);
  o.poison();
  DeviceCopy dq(*drv, q), dk(*drv, kk), dv(*drv, v), dout(*drv, o);
  const double scale = 1.0 / std::sqrt(double(a.d));
  ASSERT_LAUNCHES(k, (Grid{cdiv(a.s, a.blockM), uint32_t(a.h)}),
                  {dq.arg(), dk.arg(), dv.arg(), dout.arg(), LaunchArg::floating(scale),
                   LaunchArg::integer(n), LaunchArg::integer(a.s * a.d), LaunchArg::integer(a.d),
                   LaunchArg::integer(1), LaunchArg::integer(a.h), LaunchArg::integer(a.s)});
  dout.readBack();
  std::vector<double> ref(n), sc(a.s);
  for (int64_t h = 0; h < a.h; ++h) {
    const int64_t base = h * a.s * a.d;
    for (int64_t i = 0; i < a.s; ++i) {
      const int64_t last = a.causal ? i : a.s - 1;
      double mx = -INFINITY, sum = 0.0;
      for (int64_t j = 0; j <= last; ++j) {
        double dot = 0.0;
        for (int64_t d = 0; d < a.d; ++d)
          dot += q.get(base + i * a.d + d) * kk.get(base + j * a.d + d);
        sc[j] = dot * scale;
        mx = std::max(mx, sc[j]);
      }
      for (int64_t j = 0; j <= last; ++j)
        sum += (sc[j] = std::exp(sc[j] - mx));
      for (int64_t d = 0; d < a.d; ++d) {
        double acc = 0.0;
        for (int64_t j = 0; j <= last; ++j)
          acc += sc[j] * v.get(base + j * a.d + d);
        ref[base + i * a.d + d] = acc / sum;
      }
    }
  }
  // tf32 scores: |error| ~ sqrt(D) * 4 * 2^-11 * scale before the softmax; outputs are averages of v.
  EXPECT_TRUE(allClose(o, ref, Tolerance{1e-2, 1e-2}));
}

TEST(CudaTargetGpu, AttentionMmaCausalWarps4) { checkAttention({2, 300, 64, 64, 32, true}, 4, 111); }
TEST(CudaTargetGpu, AttentionMmaFullWarps8) { checkAttention({3, 161, 32, 64, 64, false}, 8, 112); }

} // namespace
} // namespace mt::e2e
