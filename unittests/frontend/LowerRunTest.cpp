// End-to-end checks of the lowering's semantics: kernels lowered from source run on the CPU
// interpreter (through mt::Context) and are compared with float64 references on random inputs.
#include "mt/mt.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

using namespace mt;

namespace {

KernelSource inputKernel(const std::string &file, const std::string &fn) {
  std::ifstream in(std::string(MT_SOURCE_DIR) + "/test/frontend/Inputs/" + file);
  std::stringstream ss;
  ss << in.rdbuf();
  KernelSource src;
  src.text = ss.str();
  src.fileName = file;
  src.functionName = fn;
  return src;
}

double halfToDouble(uint16_t h) {
  int e = (h >> 10) & 31, m = h & 1023;
  double f = e == 0 ? m * std::ldexp(1.0, -24) : (1 + m / 1024.0) * std::ldexp(1.0, e - 15);
  return (h & 0x8000) ? -f : f;
}

} // namespace

TEST(LowerRun, Softmax) {
  Context ctx;
  auto k = ctx.compile(inputKernel("softmax.py", "softmax_kernel"),
                       {ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32),
                        ArgSpec::scalar(DType::I32), ArgSpec::scalar(DType::I32), ArgSpec::scalar(DType::I32),
                        ArgSpec::constant(int64_t(128))});
  ASSERT_TRUE(k) << k.error();
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-3, 3);
  int R = 5, C = 100;
  std::vector<float> x(R * C), y(R * C, 0.0f);
  for (float &v : x)
    v = u(rng);
  LaunchArg args[] = {LaunchArg::buffer(y.data(), y.size()), LaunchArg::buffer(x.data(), x.size()),
                      LaunchArg::integer(C), LaunchArg::integer(C), LaunchArg::integer(C)};
  auto st = (*k)->launch({uint32_t(R)}, args);
  ASSERT_TRUE(st) << st.error();
  for (int r = 0; r < R; ++r) {
    double m = -1e30, s = 0;
    for (int c = 0; c < C; ++c)
      m = std::max(m, double(x[r * C + c]));
    for (int c = 0; c < C; ++c)
      s += std::exp(x[r * C + c] - m);
    for (int c = 0; c < C; ++c)
      ASSERT_NEAR(y[r * C + c], std::exp(x[r * C + c] - m) / s, 1e-6) << r << "," << c;
  }
}

TEST(LowerRun, GroupedMatmulWithLeakyRelu) {
  Context ctx;
  std::vector<ArgSpec> as{ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32),
                          ArgSpec::pointer(DType::F16)};
  for (int i = 0; i < 9; ++i)
    as.push_back(ArgSpec::scalar(DType::I32));
  for (int64_t v : {32, 32, 16, 2})
    as.push_back(ArgSpec::constant(v));
  as.push_back(ArgSpec::constant(std::string("leaky_relu")));
  auto k = ctx.compile(inputKernel("matmul.py", "matmul_kernel"), as);
  ASSERT_TRUE(k) << k.error();
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> u(-2, 2);
  int M = 70, N = 50, K = 40;
  std::vector<float> a(M * K), b(K * N);
  std::vector<uint16_t> c(M * N, 0);
  for (float &v : a)
    v = u(rng);
  for (float &v : b)
    v = u(rng);
  std::vector<LaunchArg> args{LaunchArg::buffer(a.data(), a.size()),
                              LaunchArg::buffer(b.data(), b.size()),
                              LaunchArg::buffer(c.data(), c.size()),
                              LaunchArg::integer(M),
                              LaunchArg::integer(N),
                              LaunchArg::integer(K),
                              LaunchArg::integer(K),
                              LaunchArg::integer(1),
                              LaunchArg::integer(N),
                              LaunchArg::integer(1),
                              LaunchArg::integer(N),
                              LaunchArg::integer(1)};
  auto st = (*k)->launch({uint32_t(((M + 31) / 32) * ((N + 31) / 32))}, args);
  ASSERT_TRUE(st) << st.error();
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      double s = 0;
      for (int q = 0; q < K; ++q)
        s += double(a[i * K + q]) * b[q * N + j];
      if (s < 0)
        s *= 0.01;
      // tf32 inputs (the default precision of an f32 tl.dot) and an f16 result.
      ASSERT_NEAR(halfToDouble(c[i * N + j]), s, 1e-2 * (1 + std::fabs(s))) << i << "," << j;
    }
}

TEST(LowerRun, ScanArgmaxCumsum) {
  KernelSource src;
  src.text = R"(
import triton
import triton.language as tl
@triton.jit
def combine(a1, b1, a2, b2):
    return a1 * a2, b1 * a2 + b2
@triton.jit
def k(a_ptr, x_ptr, out_ptr, idx_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    a = tl.load(a_ptr + offs)
    x = tl.load(x_ptr + offs)
    _, h = tl.associative_scan((a, x), axis=0, combine_fn=combine)
    tl.store(out_ptr + offs, h)
    tl.store(idx_ptr, tl.argmax(x, axis=0))
    tl.store(idx_ptr + 1, tl.argmin(x, axis=0))
    tl.store(out_ptr + BLOCK + offs, tl.cumsum(x, 0))
)";
  src.functionName = "k";
  Context ctx;
  auto k = ctx.compile(src, {ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32),
                             ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::I32),
                             ArgSpec::constant(int64_t(64))});
  ASSERT_TRUE(k) << k.error();
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-2, 2);
  std::vector<float> a(64), x(64), out(128, 0.0f);
  std::vector<int32_t> idx(2, -1);
  for (float &v : a)
    v = 0.5f * u(rng);
  for (float &v : x)
    v = u(rng);
  x[10] = x[20] = 5; // ties: the smaller index wins
  x[30] = x[40] = -5;
  LaunchArg args[] = {LaunchArg::buffer(a.data(), 64), LaunchArg::buffer(x.data(), 64),
                      LaunchArg::buffer(out.data(), 128), LaunchArg::buffer(idx.data(), 2)};
  auto st = (*k)->launch({1}, args);
  ASSERT_TRUE(st) << st.error();
  double h = 0, cs = 0;
  for (int t = 0; t < 64; ++t) {
    h = a[t] * h + x[t];
    cs += x[t];
    EXPECT_NEAR(out[t], h, 1e-5) << t;
    EXPECT_NEAR(out[64 + t], cs, 1e-4) << t;
  }
  EXPECT_EQ(idx[0], 10);
  EXPECT_EQ(idx[1], 30);
}

TEST(LowerRun, DownwardRangeAndWhile) {
  KernelSource src;
  src.text = R"(
import triton
import triton.language as tl
@triton.jit
def k(p, n):
    acc = 0
    for i in range(n - 1, -1, -2):
        acc = acc * 10 + i
    j = 0
    while j * j < n:
        j += 1
    tl.store(p, acc)
    tl.store(p + 1, j)
)";
  src.functionName = "k";
  Context ctx;
  auto k = ctx.compile(src, {ArgSpec::pointer(DType::I32), ArgSpec::scalar(DType::I32)});
  ASSERT_TRUE(k) << k.error();
  for (int n : {5, 0, -3, 10}) {
    std::vector<int32_t> out(2, -7);
    LaunchArg args[] = {LaunchArg::buffer(out.data(), 2), LaunchArg::integer(n)};
    auto st = (*k)->launch({1}, args);
    ASSERT_TRUE(st) << st.error();
    int64_t acc = 0, j = 0;
    for (int i = n - 1; i > -1; i -= 2)
      acc = acc * 10 + i;
    while (j * j < n)
      ++j;
    EXPECT_EQ(out[0], acc) << n;
    EXPECT_EQ(out[1], j) << n;
  }
}
