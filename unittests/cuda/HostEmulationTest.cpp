// Runs generated CUDA kernels on the CPU: the emitted source is compiled as host C++ (host/host_shim.h
// maps threads, barriers, shared memory and atomics onto std::thread) and its results are checked
// against references computed here. This checks the emitter's layout and index math (reductions,
// scans, transposes, joins, broadcasts, dot, loops, atomics) without a GPU. Needs a host C++20
// compiler (`c++`) at test time; skipped otherwise.
#include "backend/cuda/Emitter.h"
#include "backend/cuda/Nvrtc.h"
#include "ir/Parser.h"
#include "ir/Verifier.h"
#include "mt/mt.h"
#include "runtime/Compiler.h"

#include "host/host_shim.h" // the f16/bf16 conversions, for building inputs

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <unistd.h>

using namespace mt;
namespace fs = std::filesystem;

namespace {

std::string readFile(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Bytes of a typed host vector, for kernel buffers.
template <typename T> std::vector<char> bytesOf(const std::vector<T> &v) {
  std::vector<char> b(v.size() * sizeof(T));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}
template <typename T> std::vector<T> valuesOf(const std::vector<char> &b) {
  std::vector<T> v(b.size() / sizeof(T));
  std::memcpy(v.data(), b.data(), b.size());
  return v;
}

std::vector<float> randomFloats(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-3.0f, 3.0f);
  std::vector<float> v(n);
  for (float &x : v)
    x = dist(rng);
  return v;
}

class CudaHostEmulation : public ::testing::Test {
protected:
  fs::path dir;
  /// Runs MmaFragAccumulatorLoopWithAdvancedPointers' kernel for `kt` K-tiles against a reference.
  void checkFragLoop(const cuda::CudaKernel &k, int kt);

  void SetUp() override {
    if (std::system("c++ --version > /dev/null 2>&1") != 0)
      GTEST_SKIP() << "no host C++ compiler (c++) to emulate kernels with";
    dir = fs::temp_directory_path() / ("mt_cuda_emul_" + std::to_string(::getpid()) + "_" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir);
    fs::create_directory_symlink(fs::path(MT_SOURCE_DIR) / "device", dir / "mt");
  }
  void TearDown() override {
    if (!dir.empty())
      fs::remove_all(dir);
  }

  /// Parses `file` (under test/codegen) or IR text and emits function `fn`.
  std::optional<cuda::CudaKernel> emit(const std::string &irText, const std::string &fn, int numWarps = 4,
                                       bool prefetch = true, int prefetchDepth = 2) {
    SourceManager sources;
    ir::TypeContext types;
    Diagnostics diag(&sources);
    auto m = ir::parseIR(irText, "kernel.mtir", sources, types, diag);
    if (!m || !ir::verify(*m, diag)) {
      ADD_FAILURE() << diag.renderAll();
      return std::nullopt;
    }
    ir::Function *f = m->lookup(fn);
    if (!f) {
      ADD_FAILURE() << "no function @" << fn;
      return std::nullopt;
    }
    auto k = cuda::emitCuda(
        *f, {.numWarps = numWarps, .prefetchLoads = prefetch, .prefetchDepth = prefetchDepth}, diag);
    if (!k)
      ADD_FAILURE() << diag.renderAll();
    return k;
  }
  /// Lowers kernel `fn` of python/mini_triton/kernels/`file` for `specs` and emits it (`strip`: column-strip
  /// layouts for axis-0 scans and reductions, EmitStrip.cpp).
  std::optional<cuda::CudaKernel> emitLibrary(const std::string &file, const std::string &fn,
                                              const std::vector<ArgSpec> &specs, int numWarps,
                                              bool prefetch = true, bool strip = true) {
    auto src = KernelSource::fromFile(
        (fs::path(MT_SOURCE_DIR) / "python" / "mini_triton" / "kernels" / file).string(), fn);
    if (!src) {
      ADD_FAILURE() << src.error();
      return std::nullopt;
    }
    return emitSource(*src, specs, numWarps, prefetch, strip);
  }
  /// Lowers kernel source `src` for `specs` and emits it.
  std::optional<cuda::CudaKernel> emitSource(const KernelSource &src, const std::vector<ArgSpec> &specs,
                                             int numWarps, bool prefetch = true, bool strip = true) {
    SourceManager sources;
    ir::TypeContext types;
    auto compiled = runtime::compileToIR(src, specs, CompileOptions{}, sources, types);
    if (!compiled) {
      ADD_FAILURE() << compiled.error();
      return std::nullopt;
    }
    Diagnostics diag(&sources);
    auto k = cuda::emitCuda(*compiled->function,
                            {.numWarps = numWarps, .prefetchLoads = prefetch, .stripLayouts = strip}, diag);
    if (!k)
      ADD_FAILURE() << diag.renderAll();
    return k;
  }
  /// The scalar arguments of `k` in parameter order, by name.
  static std::vector<int64_t> scalarsByName(const cuda::CudaKernel &k,
                                            const std::map<std::string, int64_t> &v) {
    std::vector<int64_t> r;
    for (const cuda::KernelParam &p : k.params)
      if (!p.isPointer) {
        auto it = v.find(p.name);
        EXPECT_NE(it, v.end()) << "no value for scalar parameter " << p.name;
        r.push_back(it == v.end() ? 0 : it->second);
      }
    return r;
  }
  std::string codegenFile(const std::string &name) {
    return readFile(fs::path(MT_SOURCE_DIR) / "test" / "codegen" / name);
  }

  /// Compiles `k` as host C++ and runs it on a 1-D grid: pointer parameters take `bufs` in order
  /// (updated in place), scalar parameters take `scalars` in order.
  bool run(const cuda::CudaKernel &k, unsigned grid, std::vector<std::vector<char> *> bufs,
           std::vector<int64_t> scalars, unsigned gridY = 1) {
    std::ostringstream src;
    src << k.source << "\n#include <fstream>\n#include <iterator>\nint main(int argc, char **argv) {\n";
    std::ostringstream call;
    size_t nb = 0, ns = 0;
    for (const cuda::KernelParam &p : k.params) {
      call << (nb + ns ? ", " : "");
      if (p.isPointer) {
        src << "  std::ifstream in" << nb << "(argv[" << nb + 1 << "], std::ios::binary);\n"
            << "  std::vector<char> b" << nb << "((std::istreambuf_iterator<char>(in" << nb << ")), {});\n";
        call << "(" << cuda::cudaTypeName(p.dtype) << " *)b" << nb << ".data()";
        ++nb;
      } else {
        if (ns >= scalars.size()) {
          ADD_FAILURE() << "too few scalar arguments";
          return false;
        }
        call << "(" << cuda::cudaTypeName(p.dtype) << ")" << scalars[ns++];
      }
    }
    if (nb != bufs.size()) {
      ADD_FAILURE() << "kernel has " << nb << " pointer parameters, got " << bufs.size() << " buffers";
      return false;
    }
    src << "  mtHostLaunch({" << grid << ", " << gridY << ", 1}, " << k.numThreads << ", [&] { " << k.name
        << "(" << call.str() << "); });\n";
    for (size_t i = 0; i < nb; ++i)
      src << "  std::ofstream out" << i << "(argv[" << i + 1 << "], std::ios::binary); out" << i << ".write(b"
          << i << ".data(), b" << i << ".size());\n";
    src << "  return 0;\n}\n";
    std::ofstream(dir / "kernel.cpp") << src.str();
    fs::path host = fs::path(MT_SOURCE_DIR) / "unittests" / "cuda" / "host";
    std::string cmd = "c++ -std=c++20 -O1 -w -pthread " + extraFlags + " -I" + dir.string() + " -I" +
                      host.string() + " -include host_shim.h " + (dir / "kernel.cpp").string() + " -o " +
                      (dir / "kernel").string() + " > " + (dir / "cc.log").string() + " 2>&1";
    if (std::system(cmd.c_str()) != 0) {
      ADD_FAILURE() << "host compile failed:\n" << readFile(dir / "cc.log") << "\n" << src.str();
      return false;
    }
    std::string runCmd = (dir / "kernel").string();
    for (size_t i = 0; i < nb; ++i) {
      fs::path f = dir / ("buf" + std::to_string(i));
      std::ofstream(f, std::ios::binary).write(bufs[i]->data(), std::streamsize(bufs[i]->size()));
      runCmd += " " + f.string();
    }
    runCmd += " > " + (dir / "run.log").string() + " 2>&1";
    if (std::system(runCmd.c_str()) != 0) {
      ADD_FAILURE() << "emulated kernel failed:\n" << readFile(dir / "run.log");
      return false;
    }
    for (size_t i = 0; i < nb; ++i) {
      std::string b = readFile(dir / ("buf" + std::to_string(i)));
      EXPECT_EQ(b.size(), bufs[i]->size());
      bufs[i]->assign(b.begin(), b.end());
    }
    return true;
  }
  std::string runLog() { return readFile(dir / "run.log"); }
  /// Extra host compiler flags (-fsanitize=address: a read outside a buffer fails the run).
  std::string extraFlags;
};

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

void CudaHostEmulation::checkFragLoop(const cuda::CudaKernel &kernel, int kt) {
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

namespace {

// ---- Loads one iteration ahead (EmitPipeline.cpp) --------------------------------------------------------
// The library's scan kernels (python/mini_triton/kernels/scan.py) with their loop loads prefetched, built
// with AddressSanitizer: a prefetch past the last iteration, or outside a mask, reads outside the exact-size
// buffers and fails the run. Odd sizes: masked columns, a partial last chunk, a padded row stride for `a`.

/// AddressSanitizer, with libstdc++'s vector annotations: the harness reads buffers into vectors whose
/// capacity may exceed their size.
const char *const kAsan = "-fsanitize=address -D_GLIBCXX_SANITIZE_VECTOR";

/// (B, T, D) inputs: x, dout and h contiguous, a with a padded row stride, h0 of (B, D); values in f32.
struct ScanProblem {
  int64_t B, T, D, aRow;
  std::vector<float> x, a, h0, dout, hSaved;
  ScanProblem(int64_t b, int64_t t, int64_t d, unsigned seed) : B(b), T(t), D(d), aRow(d + 3) {
    x = randomFloats(size_t(B * T * D), seed);
    dout = randomFloats(size_t(B * T * D), seed + 1);
    hSaved = randomFloats(size_t(B * T * D), seed + 2);
    h0 = randomFloats(size_t(B * D), seed + 3);
    a = randomFloats(size_t(B * T * aRow), seed + 4);
    for (float &v : a)
      v = 0.775f + v / 12.0f; // in (0.525, 1.025)
  }
  double X(int64_t b, int64_t t, int64_t d) const { return x[size_t((b * T + t) * D + d)]; }
  double A(int64_t b, int64_t t, int64_t d) const { return a[size_t((b * T + t) * aRow + d)]; }
  double G(int64_t b, int64_t t, int64_t d) const { return dout[size_t((b * T + t) * D + d)]; }
  double H(int64_t b, int64_t t, int64_t d) const { return hSaved[size_t((b * T + t) * D + d)]; }
  /// The kernels' integer arguments (forward and backward names).
  std::map<std::string, int64_t> scalars() const {
    return {{"T", T},
            {"D", D},
            {"stride_xb", T * D},
            {"stride_xt", D},
            {"stride_xd", 1},
            {"stride_gb", T * D},
            {"stride_gt", D},
            {"stride_gd", 1},
            {"stride_ab", T * aRow},
            {"stride_at", aRow},
            {"stride_ad", 1},
            {"stride_h0b", D},
            {"stride_h0d", 1}};
  }
  /// ArgSpecs: `ptrs` f32 pointers, then T, D and `strides` integer strides as in scalars(), then constexprs.
  std::vector<ArgSpec> specs(int ptrs, const std::vector<std::string> &ints,
                             const std::vector<ConstexprValue> &constexprs) const {
    std::vector<ArgSpec> s(size_t(ptrs), ArgSpec::pointer(DType::F32));
    auto v = scalars();
    for (const std::string &n : ints)
      s.push_back(ArgSpec::forInt(v.at(n)));
    for (const ConstexprValue &c : constexprs)
      s.push_back(ArgSpec::constant(c));
    return s;
  }
};

const std::vector<std::string> kFwdInts = {"T",         "D",         "stride_xb", "stride_xt",  "stride_xd",
                                           "stride_ab", "stride_at", "stride_ad", "stride_h0b", "stride_h0d"};
const std::vector<std::string> kBwdInts = {"T",         "D",         "stride_gb", "stride_gt",  "stride_gd",
                                           "stride_ab", "stride_at", "stride_ad", "stride_h0b", "stride_h0d"};

/// Loads prefetched (their first registers, `vN_pf[` or `vN_pf0[`) and how many iterations ahead.
struct Prefetched {
  size_t loads = 0, depth = 0;
};
Prefetched prefetchedIn(const std::string &src) {
  Prefetched r;
  std::istringstream in(src);
  size_t regs = 0;
  for (std::string l; std::getline(in, l);) {
    if (l.find("// prefetched loads") == std::string::npos)
      continue;
    ++regs;
    r.loads += l.find("_pf[") != std::string::npos || l.find("_pf0[") != std::string::npos;
  }
  r.depth = r.loads ? regs / r.loads : 0;
  return r;
}

/// Checks the forward states h (B, T, D) against h_t = a_t h_{t-1} + x_t from h0.
void expectForward(const ScanProblem &p, const std::vector<float> &h) {
  for (int64_t b = 0; b < p.B; ++b)
    for (int64_t d = 0; d < p.D; ++d) {
      double ref = p.h0[size_t(b * p.D + d)];
      for (int64_t t = 0; t < p.T; ++t) {
        ref = p.A(b, t, d) * ref + p.X(b, t, d);
        ASSERT_NEAR(h[size_t((b * p.T + t) * p.D + d)], ref, 2e-5 * (1.0 + std::fabs(ref)))
            << "b " << b << " t " << t << " d " << d;
      }
    }
}

/// Checks dx, da (B, T, D) and dh0 (B, D) of the backward recurrence (see scan.py).
void expectBackward(const ScanProblem &p, const std::vector<float> &dx, const std::vector<float> &da,
                    const std::vector<float> &dh0) {
  for (int64_t b = 0; b < p.B; ++b)
    for (int64_t d = 0; d < p.D; ++d) {
      double g = 0.0; // a_{t+1} dh_{t+1}
      for (int64_t t = p.T - 1; t >= 0; --t) {
        double dh = p.G(b, t, d) + g;
        double hPrev = t > 0 ? p.H(b, t - 1, d) : p.h0[size_t(b * p.D + d)];
        size_t at = size_t((b * p.T + t) * p.D + d);
        ASSERT_NEAR(dx[at], dh, 2e-5 * (1.0 + std::fabs(dh))) << "dx b " << b << " t " << t << " d " << d;
        ASSERT_NEAR(da[at], dh * hPrev, 2e-5 * (1.0 + std::fabs(dh * hPrev)))
            << "da b " << b << " t " << t << " d " << d;
        g = p.A(b, t, d) * dh;
      }
      ASSERT_NEAR(dh0[size_t(b * p.D + d)], g, 2e-5 * (1.0 + std::fabs(g))) << "dh0 b " << b << " d " << d;
    }
}

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
