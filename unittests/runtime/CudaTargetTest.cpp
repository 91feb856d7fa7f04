// Context::compile with Target::Cuda: the example kernels through the CUDA pipeline (emitter → NVRTC,
// runnable wherever NVRTC is), the error without a GPU, and, when a GPU exists, launches on Device
// buffers (cuMemAlloc) checked against float64 references.
#include "../e2e/E2EUtil.h"

#include "backend/cuda/Driver.h"
#include "backend/cuda/Emitter.h"
#include "backend/cuda/Nvrtc.h"
#include "ir/Types.h"
#include "runtime/Compiler.h"
#include "runtime/CudaTarget.h"
#include "runtime/SpecKey.h"

namespace mt::e2e {
namespace {

CompileOptions cudaOptions(int numWarps = 4) {
  CompileOptions o;
  o.target = Target::Cuda;
  o.numWarps = numWarps;
  return o;
}

std::vector<ArgSpec> vectorAddSpecs(int64_t n) {
  return {ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32),
          ArgSpec::forInt(n), ArgSpec::constant(int64_t(1024))};
}

std::vector<ArgSpec> softmaxSpecs(int64_t cols) {
  return {ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32), ArgSpec::forInt(cols),
          ArgSpec::forInt(cols),        ArgSpec::forInt(cols),        ArgSpec::constant(int64_t(128))};
}

std::vector<ArgSpec> matmulSpecs(int64_t M, int64_t N, int64_t K) {
  return {ArgSpec::pointer(DType::F32),
          ArgSpec::pointer(DType::F32),
          ArgSpec::pointer(DType::F32),
          ArgSpec::forInt(M),
          ArgSpec::forInt(N),
          ArgSpec::forInt(K),
          ArgSpec::forInt(K),
          ArgSpec::forInt(1),
          ArgSpec::forInt(N),
          ArgSpec::forInt(1),
          ArgSpec::forInt(N),
          ArgSpec::forInt(1),
          ArgSpec::constant(int64_t(32)),
          ArgSpec::constant(int64_t(32)),
          ArgSpec::constant(int64_t(16)),
          ArgSpec::constant(int64_t(4)),
          ArgSpec::constant(false)};
}

std::vector<ArgSpec> attentionSpecs(int64_t H, int64_t S, int64_t D, bool causal) {
  return {ArgSpec::pointer(DType::F32),
          ArgSpec::pointer(DType::F32),
          ArgSpec::pointer(DType::F32),
          ArgSpec::pointer(DType::F32),
          ArgSpec::scalar(DType::F32),
          ArgSpec::forInt(H * S * D),
          ArgSpec::forInt(S * D),
          ArgSpec::forInt(D),
          ArgSpec::forInt(1),
          ArgSpec::forInt(H),
          ArgSpec::forInt(S),
          ArgSpec::constant(D),
          ArgSpec::constant(int64_t(16)),
          ArgSpec::constant(int64_t(16)),
          ArgSpec::constant(causal)};
}

TEST(CudaTarget, SpecKeyDependsOnTarget) {
  KernelSource src;
  src.text = "def k(x): pass";
  src.functionName = "k";
  CompileOptions cpu, gpu = cudaOptions();
  EXPECT_NE(runtime::specKey(src, {}, cpu, "cpu"), runtime::specKey(src, {}, gpu, "cpu"));
}

TEST(CudaTarget, PipelineSharedMemoryFitsEachArchitecture) {
  // Within each GPU's opt-in shared memory per block (227 / 163 / 99 KiB); MINI_TRITON_PIPE_KB may ask for
  // less, or more up to that limit.
  unsetenv("MINI_TRITON_PIPE_KB");
  EXPECT_EQ(runtime::pipeBytesFor("sm_90a"), 225u * 1024);
  EXPECT_EQ(runtime::pipeBytesFor("sm_80"), 160u * 1024);
  EXPECT_EQ(runtime::pipeBytesFor("sm_86"), 96u * 1024);
  EXPECT_EQ(runtime::pipeBytesFor("sm_89"), 96u * 1024);
  EXPECT_EQ(runtime::pipeBytesFor("sm_100a"), 225u * 1024);
  EXPECT_EQ(runtime::pipeBytesFor("sm_75"), 96u * 1024); // unknown here: the smallest of the others
  setenv("MINI_TRITON_PIPE_KB", "300", 1);
  EXPECT_EQ(runtime::pipeBytesFor("sm_90a"), 227u * 1024);
  EXPECT_EQ(runtime::pipeBytesFor("sm_80"), 163u * 1024);
  setenv("MINI_TRITON_PIPE_KB", "64", 1);
  EXPECT_EQ(runtime::pipeBytesFor("sm_90a"), 64u * 1024);
  unsetenv("MINI_TRITON_PIPE_KB");
}

TEST(CudaTarget, CompileWithoutGpuGivesTheReason) {
  std::string why;
  if (cudaAvailable(&why))
    GTEST_SKIP() << "a GPU is present";
  EXPECT_FALSE(why.empty());
  Context ctx;
  auto k = compileFile(ctx, "vector_add.py", "add_kernel", vectorAddSpecs(1000), cudaOptions());
  ASSERT_FALSE(k);
  EXPECT_NE(k.error().message.find("no usable CUDA device"), std::string::npos) << k.error();
  EXPECT_NE(k.error().message.find(why), std::string::npos) << k.error();
  // The CPU target of the same kernel still compiles in the same Context.
  auto cpu = compileFile(ctx, "vector_add.py", "add_kernel", vectorAddSpecs(1000));
  EXPECT_TRUE(cpu) << cpu.error();
}

TEST(CudaTarget, ForceGpuRoutesCpuCompilesToTheGpu) {
  ContextOptions co;
  co.forceGpu = true;
  Context ctx(co);
  auto k = compileFile(ctx, "vector_add.py", "add_kernel", vectorAddSpecs(1000)); // Target::Cpu asked
  std::string why;
  if (!cudaAvailable(&why)) {
    ASSERT_FALSE(k);
    EXPECT_NE(k.error().message.find("Target::Cuda"), std::string::npos) << k.error();
    return;
  }
  ASSERT_TRUE(k) << k.error();
  const int64_t n = 1000;
  Rng rng(79);
  Buffer x(DType::F32, n), y(DType::F32, n), out(DType::F32, n);
  rng.fill(x);
  rng.fill(y);
  out.poison();
  KernelPtr kernel = *k;
  ASSERT_LAUNCHES(kernel, (Grid{1}), {x.arg(), y.arg(), out.arg(), LaunchArg::integer(n)});
  std::vector<double> ref(n);
  for (int64_t i = 0; i < n; ++i)
    ref[i] = x.get(i) + y.get(i);
  EXPECT_TRUE(allClose(out, ref, Tolerance{1e-6, 1e-6}));
}

TEST(CudaTarget, CpuKernelRejectsDeviceMemory) {
  Context ctx;
  auto k = compileFile(ctx, "vector_add.py", "add_kernel", vectorAddSpecs(16));
  ASSERT_TRUE(k) << k.error();
  float host[16] = {};
  LaunchArg args[] = {LaunchArg::device(0x1000, 64), LaunchArg::buffer(host, 16), LaunchArg::buffer(host, 16),
                      LaunchArg::integer(16)};
  Status st = (*k)->launch({1}, args);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("GPU memory"), std::string::npos) << st.error();
}

/// The pipeline a Target::Cuda compile runs, up to the cubin, for an arch given here (no GPU needed).
void compileThroughNvrtc(const std::string &file, const std::string &function,
                         const std::vector<ArgSpec> &specs, const std::string &arch) {
  std::string why;
  if (!cuda::nvrtcAvailable(&why))
    GTEST_SKIP() << "NVRTC unavailable: " << why;
  auto src = KernelSource::fromFile(kernelPath(file), function);
  ASSERT_TRUE(src) << src.error();
  SourceManager sources;
  ir::TypeContext types;
  auto compiled = runtime::compileToIR(*src, specs, CompileOptions{}, sources, types);
  ASSERT_TRUE(compiled) << compiled.error();
  Diagnostics diag(&sources);
  auto emitted = cuda::emitCuda(*compiled->function, {.numWarps = 4}, diag);
  ASSERT_TRUE(emitted) << diag.renderAll();
  auto cubin = cuda::compileCuda(emitted->source, emitted->name + ".cu", arch);
  ASSERT_TRUE(cubin) << cubin.error();
  EXPECT_GT(cubin->size(), 256u);
  EXPECT_EQ(emitted->params.size(), (*compiled).function->argNames().size());
}

TEST(CudaTargetNvrtc, VectorAdd) {
  compileThroughNvrtc("vector_add.py", "add_kernel", vectorAddSpecs(1000), "sm_90a");
}
TEST(CudaTargetNvrtc, Softmax) {
  compileThroughNvrtc("softmax.py", "softmax_kernel", softmaxSpecs(100), "sm_90a");
}
TEST(CudaTargetNvrtc, Matmul) {
  compileThroughNvrtc("matmul.py", "matmul_kernel", matmulSpecs(130, 70, 90), "sm_90a");
}
TEST(CudaTargetNvrtc, Attention) {
  compileThroughNvrtc("attention.py", "attn_fwd_kernel", attentionSpecs(2, 67, 32, true), "sm_90a");
}

// ---- On a GPU --------------------------------------------------------------------------------------------

/// GPU memory holding a copy of a host Buffer (cuMemAlloc + copies through the Driver).
class DeviceBuffer {
public:
  DeviceBuffer(const cuda::Driver &drv, Buffer &host) : drv_(drv), host_(host) {
    bytes_ = host.size() * dtypeBytes(host.dtype());
    auto p = drv.alloc(bytes_);
    EXPECT_TRUE(p) << p.error();
    ptr_ = p ? *p : 0;
    if (ptr_) {
      Status s = drv.copyToDevice(ptr_, host.data(), bytes_);
      EXPECT_TRUE(s) << s.error();
    }
  }
  ~DeviceBuffer() {
    if (ptr_)
      (void)drv_.free(ptr_);
  }
  LaunchArg arg() const { return LaunchArg::device(ptr_, bytes_); }
  /// Waits for the GPU and copies the memory back into the host Buffer.
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

const cuda::Driver *gpuOrSkip() {
  std::string why;
  const cuda::Driver *drv = cuda::Driver::get(&why);
  if (drv) {
    Status s = drv->ensureContext(0);
    EXPECT_TRUE(s) << s.error();
  }
  return drv;
}

#define REQUIRE_GPU(drv)                                                                                     \
  const cuda::Driver *drv = gpuOrSkip();                                                                     \
  if (!drv)                                                                                                  \
  GTEST_SKIP() << "no GPU"

TEST(CudaTargetGpu, VectorAddOnDeviceBuffers) {
  REQUIRE_GPU(drv);
  const int64_t n = 1000003;
  Context ctx;
  KernelPtr k;
  ASSERT_COMPILES(k, compileFile(ctx, "vector_add.py", "add_kernel", vectorAddSpecs(n), cudaOptions()));
  Rng rng(71);
  Buffer x(DType::F32, n), y(DType::F32, n), out(DType::F32, n);
  rng.fill(x);
  rng.fill(y);
  out.poison();
  DeviceBuffer dx(*drv, x), dy(*drv, y), dout(*drv, out);
  ASSERT_LAUNCHES(k, (Grid{cdiv(n, 1024)}), {dx.arg(), dy.arg(), dout.arg(), LaunchArg::integer(n)});
  dout.readBack();
  std::vector<double> ref(n);
  for (int64_t i = 0; i < n; ++i)
    ref[i] = x.get(i) + y.get(i);
  EXPECT_TRUE(allClose(out, ref, Tolerance{1e-6, 1e-6}));
}

TEST(CudaTargetGpu, VectorAddOnHostBuffersCopies) {
  REQUIRE_GPU(drv);
  const int64_t n = 5000;
  Context ctx;
  KernelPtr k;
  ASSERT_COMPILES(k, compileFile(ctx, "vector_add.py", "add_kernel", vectorAddSpecs(n), cudaOptions()));
  Rng rng(72);
  Buffer x(DType::F32, n), y(DType::F32, n), out(DType::F32, n);
  rng.fill(x);
  rng.fill(y);
  out.poison();
  ASSERT_LAUNCHES(k, (Grid{cdiv(n, 1024)}), {x.arg(), y.arg(), out.arg(), LaunchArg::integer(n)});
  std::vector<double> ref(n);
  for (int64_t i = 0; i < n; ++i)
    ref[i] = x.get(i) + y.get(i);
  EXPECT_TRUE(allClose(out, ref, Tolerance{1e-6, 1e-6}));
}

TEST(CudaTargetGpu, SoftmaxOnDeviceBuffers) {
  REQUIRE_GPU(drv);
  const int64_t rows = 37, cols = 100;
  Context ctx;
  KernelPtr k;
  ASSERT_COMPILES(k, compileFile(ctx, "softmax.py", "softmax_kernel", softmaxSpecs(cols), cudaOptions()));
  Rng rng(73);
  Buffer in(DType::F32, rows * cols), out(DType::F32, rows * cols);
  rng.fill(in, -4.0, 4.0);
  out.poison();
  DeviceBuffer din(*drv, in), dout(*drv, out);
  ASSERT_LAUNCHES(
      k, (Grid{uint32_t(rows)}),
      {dout.arg(), din.arg(), LaunchArg::integer(cols), LaunchArg::integer(cols), LaunchArg::integer(cols)});
  dout.readBack();
  std::vector<double> ref(rows * cols);
  for (int64_t r = 0; r < rows; ++r) {
    double mx = -INFINITY, sum = 0.0;
    for (int64_t c = 0; c < cols; ++c)
      mx = std::max(mx, in.get(r * cols + c));
    for (int64_t c = 0; c < cols; ++c)
      sum += std::exp(in.get(r * cols + c) - mx);
    for (int64_t c = 0; c < cols; ++c)
      ref[r * cols + c] = std::exp(in.get(r * cols + c) - mx) / sum;
  }
  EXPECT_TRUE(allClose(out, ref, Tolerance{1e-5, 1e-5}));
}

TEST(CudaTargetGpu, MatmulOnDeviceBuffers) {
  REQUIRE_GPU(drv);
  const int64_t M = 130, N = 70, K = 90;
  Context ctx;
  KernelPtr k;
  ASSERT_COMPILES(k, compileFile(ctx, "matmul.py", "matmul_kernel", matmulSpecs(M, N, K), cudaOptions()));
  Rng rng(74);
  Buffer a(DType::F32, M * K), b(DType::F32, K * N), c(DType::F32, M * N);
  rng.fill(a);
  rng.fill(b);
  c.poison();
  DeviceBuffer da(*drv, a), db(*drv, b), dc(*drv, c);
  ASSERT_LAUNCHES(k, (Grid{cdiv(M, 32) * cdiv(N, 32)}),
                  {da.arg(), db.arg(), dc.arg(), LaunchArg::integer(M), LaunchArg::integer(N),
                   LaunchArg::integer(K), LaunchArg::integer(K), LaunchArg::integer(1), LaunchArg::integer(N),
                   LaunchArg::integer(1), LaunchArg::integer(N), LaunchArg::integer(1)});
  dc.readBack();
  std::vector<double> ref(M * N);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double s = 0.0;
      for (int64_t kk = 0; kk < K; ++kk)
        s += a.get(i * K + kk) * b.get(kk * N + j);
      ref[i * N + j] = s;
    }
  // f32 tl.dot defaults to tf32 inputs (2^-11 relative each): |error| <= ~K * 2^-10 * max|a*b|.
  EXPECT_TRUE(allClose(c, ref, Tolerance{1e-2, 2e-2}));
}

TEST(CudaTargetGpu, AttentionOnDeviceBuffers) {
  REQUIRE_GPU(drv);
  const int64_t Z = 1, H = 2, S = 67, D = 32;
  const bool causal = true;
  Context ctx;
  KernelPtr k;
  ASSERT_COMPILES(
      k, compileFile(ctx, "attention.py", "attn_fwd_kernel", attentionSpecs(H, S, D, causal), cudaOptions()));
  Rng rng(75);
  const int64_t n = Z * H * S * D;
  Buffer q(DType::F32, n), kk(DType::F32, n), v(DType::F32, n), o(DType::F32, n);
  rng.fill(q, -2.0, 2.0);
  rng.fill(kk, -2.0, 2.0);
  rng.fill(v);
  o.poison();
  DeviceBuffer dq(*drv, q), dk(*drv, kk), dv(*drv, v), dout(*drv, o);
  const double scale = 1.0 / std::sqrt(double(D));
  ASSERT_LAUNCHES(k, (Grid{cdiv(S, 16), uint32_t(Z * H)}),
                  {dq.arg(), dk.arg(), dv.arg(), dout.arg(), LaunchArg::floating(scale),
                   LaunchArg::integer(H * S * D), LaunchArg::integer(S * D), LaunchArg::integer(D),
                   LaunchArg::integer(1), LaunchArg::integer(H), LaunchArg::integer(S)});
  dout.readBack();
  std::vector<double> ref(n), s(S);
  for (int64_t zh = 0; zh < Z * H; ++zh) {
    const int64_t base = zh * S * D;
    for (int64_t i = 0; i < S; ++i) {
      const int64_t last = causal ? i : S - 1;
      double mx = -INFINITY, sum = 0.0;
      for (int64_t j = 0; j <= last; ++j) {
        double dot = 0.0;
        for (int64_t d = 0; d < D; ++d)
          dot += q.get(base + i * D + d) * kk.get(base + j * D + d);
        s[j] = dot * scale;
        mx = std::max(mx, s[j]);
      }
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
  EXPECT_TRUE(allClose(o, ref, Tolerance{3e-3, 3e-3}));
}

} // namespace
} // namespace mt::e2e
