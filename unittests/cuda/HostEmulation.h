// The fixture of the host-emulation tests (HostEmulationTest.cpp, WgmmaHostTest.cpp, ...): emits CUDA from
// IR text or library kernels, compiles it as host C++ (host/host_shim.h maps threads, barriers, shared memory
// and atomics onto std::thread) and runs it on buffers. Needs a host C++20 compiler (`c++`) at test time;
// the tests skip otherwise.
#pragma once

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

namespace mt::hostemu {

namespace fs = std::filesystem;

inline std::string readFile(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Bytes of a typed host vector, for kernel buffers.
template <typename T> inline std::vector<char> bytesOf(const std::vector<T> &v) {
  std::vector<char> b(v.size() * sizeof(T));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}
template <typename T> inline std::vector<T> valuesOf(const std::vector<char> &b) {
  std::vector<T> v(b.size() / sizeof(T));
  std::memcpy(v.data(), b.data(), b.size());
  return v;
}

inline std::vector<float> randomFloats(size_t n, unsigned seed) {
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
    cuda::EmitOptions eo;
    eo.numWarps = numWarps;
    eo.prefetchLoads = prefetch;
    eo.prefetchDepth = prefetchDepth;
    eo.wgmma = wgmma;
    eo.mbarrierRings = mbarrier;
    eo.pingPong = mbarrier; // the turns compile; the host runs them as no-ops
    eo.rotate = mbarrier && rotate;
    eo.affineRings = affineRings;
    eo.waitFirst = waitFirst;
    eo.numStages = numStages;
    eo.maxPipeBytes = maxPipeBytes;
    eo.maxSharedBytes = maxSharedBytes;
    auto k = cuda::emitCuda(*f, eo, diag);
    if (!k)
      ADD_FAILURE() << diag.renderAll();
    return k;
  }
  /// Lowers kernel `fn` of python/mini_triton/kernels/`file` for `specs` and emits it (`strip`: column-strip
  /// layouts for axis-0 scans and reductions, EmitStrip.cpp).
  std::optional<cuda::CudaKernel> emitLibrary(const std::string &file, const std::string &fn,
                                              const std::vector<ArgSpec> &specs, int numWarps,
                                              bool prefetch = true, bool strip = true) {
    return emitFile("python/mini_triton/kernels/" + file, fn, specs, numWarps, prefetch, strip);
  }
  /// Lowers kernel `fn` of `file` (relative to the source tree) for `specs` and emits it.
  std::optional<cuda::CudaKernel> emitFile(const std::string &file, const std::string &fn,
                                           const std::vector<ArgSpec> &specs, int numWarps,
                                           bool prefetch = true, bool strip = true) {
    auto src = KernelSource::fromFile((fs::path(MT_SOURCE_DIR) / file).string(), fn);
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
    cuda::EmitOptions eo;
    eo.numWarps = numWarps;
    eo.prefetchLoads = prefetch;
    eo.stripLayouts = strip;
    eo.wgmma = wgmma;
    eo.mbarrierRings = mbarrier;
    eo.pingPong = mbarrier; // the turns compile; the host runs them as no-ops
    eo.rotate = mbarrier && rotate;
    eo.affineRings = affineRings;
    eo.waitFirst = waitFirst;
    eo.numStages = numStages;
    eo.maxPipeBytes = maxPipeBytes;
    eo.maxSharedBytes = maxSharedBytes;
    auto k = cuda::emitCuda(*compiled->function, eo, diag);
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
  /// Emit tensor-core dots as sm_90a warpgroup MMAs (EmitOptions::wgmma; emulated on the host).
  bool wgmma = false;
  /// EmitOptions::mbarrierRings (mbarriers emulated with atomics on the host) and pingPong.
  bool mbarrier = false;
  /// With mbarrier: EmitOptions::rotate too (off by default, as in the runtime).
  bool rotate = false;
  /// EmitOptions::affineRings.
  bool affineRings = false;
  /// EmitOptions::waitFirst.
  bool waitFirst = false;
  /// EmitOptions::numStages of the kernels emitted.
  int numStages = 3;
  /// EmitOptions::maxPipeBytes of the kernels emitted.
  size_t maxPipeBytes = cuda::EmitOptions{}.maxPipeBytes;
  /// EmitOptions::maxSharedBytes of the kernels emitted (0: no limit).
  size_t maxSharedBytes = 0;
};

} // namespace mt::hostemu
