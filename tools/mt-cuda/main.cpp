// mt-cuda: tile IR -> CUDA C++ (the CUDA backend's emitter), optionally compiled with NVRTC or run on
// the GPU. For golden tests of the emitter and for the device smoke check.
//
//   mt-cuda FILE.mtir [--function NAME] [--num-warps 4]        print the generated CUDA
//   mt-cuda FILE.mtir --line-directives                        ... with #line directives to the .mtir lines
//                     [--no-tensor-cores] [--wgmma] [--no-prefetch] [--prefetch-depth 2]   (emitter options)
//   mt-cuda FILE.mtir --compile [--arch sm_90a]                compile with NVRTC: "ok: ..." + cubin size
//   mt-cuda FILE.mtir --run [--n 100000] [--block B]           run a vector add (x, y, out, n) on GPU 0
//                                                              and check out == x + y
#include "backend/cuda/Driver.h"
#include "backend/cuda/Emitter.h"
#include "backend/cuda/Launch.h"
#include "backend/cuda/Nvrtc.h"
#include "ir/Parser.h"
#include "ir/Verifier.h"

#include <CLI/CLI.hpp>

#include <cmath>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

namespace {

using namespace mt;

/// The extent of the largest make_range: the kernel's BLOCK, unless --block says otherwise.
int64_t inferBlock(ir::Function &f) {
  int64_t block = 0;
  f.walk([&](ir::Operation *op) {
    if (op->kind() == ir::OpKind::MakeRange)
      block = std::max(block, op->intAttr("end") - op->intAttr("start"));
  });
  return block;
}

/// Runs a vector-add kernel (float *x, float *y, float *out, int n) on GPU 0 and checks the result.
int runVectorAdd(const cuda::CudaKernel &k, int64_t n, int64_t block) {
  std::string why;
  const cuda::Driver *drv = cuda::Driver::get(&why);
  if (!drv) {
    std::cerr << "mt-cuda: no GPU: " << why << "\n";
    return 2;
  }
  auto info = drv->deviceInfo(0);
  if (!info) {
    std::cerr << "mt-cuda: " << info.error() << "\n";
    return 1;
  }
  std::cout << "device: " << info->name << " (sm " << info->major << "." << info->minor << ", "
            << info->multiprocessors << " SMs) -> " << info->arch() << "\n";
  if (k.params.size() != 4 || !k.params[0].isPointer || !k.params[1].isPointer || !k.params[2].isPointer ||
      k.params[3].isPointer || k.params[0].dtype != DType::F32 || k.params[2].dtype != DType::F32) {
    std::cerr << "mt-cuda: --run checks vector add only: (ptr<f32> x, ptr<f32> y, ptr<f32> out, int n)\n";
    return 1;
  }
  auto cubin = cuda::compileCuda(k.source, k.name + ".cu", info->arch());
  if (!cubin) {
    std::cerr << cubin.error() << "\n";
    return 1;
  }
  auto loaded = cuda::LoadedKernel::load(*drv, k, *cubin, 0);
  if (!loaded) {
    std::cerr << "mt-cuda: " << loaded.error() << "\n";
    return 1;
  }
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> dist(-10.0f, 10.0f);
  std::vector<float> x(n), y(n);
  for (int64_t i = 0; i < n; ++i) {
    x[i] = dist(rng);
    y[i] = dist(rng);
  }
  // NaN-poisoned output: a kernel that writes nothing fails the check.
  std::vector<float> out(n, std::nanf(""));
  unsigned grid = unsigned((n + block - 1) / block);
  LaunchArg args[] = {LaunchArg::buffer(x.data(), size_t(n)), LaunchArg::buffer(y.data(), size_t(n)),
                      LaunchArg::buffer(out.data(), size_t(n)), LaunchArg::integer(n)};
  if (Status s = (*loaded)->launchOnHostBuffers({grid, 1, 1}, args); !s) {
    std::cerr << "mt-cuda: " << s.error() << "\n";
    return 1;
  }

  int64_t bad = 0;
  for (int64_t i = 0; i < n; ++i)
    if (!(out[i] == x[i] + y[i])) {
      if (bad < 5)
        std::cerr << "mismatch at " << i << ": got " << out[i] << ", expected " << x[i] + y[i] << "\n";
      ++bad;
    }
  if (bad) {
    std::cerr << "FAILED: " << bad << " of " << n << " elements wrong\n";
    return 1;
  }
  std::cout << "run ok: " << k.name << " n=" << n << " grid=" << grid << " threads=" << k.numThreads
            << ", all elements equal x + y\n";
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"mt-cuda: tile IR -> CUDA C++ (print, compile with NVRTC, or run a vector add)"};
  std::string input, function, arch = "sm_90a";
  int numWarps = 4, prefetchDepth = 2;
  bool compile = false, run = false, noTensorCores = false, lineDirectives = false, noPrefetch = false,
       wgmma = false;
  int64_t n = 100000, block = 0;
  app.add_option("input", input, "IR file (.mtir)")->required();
  app.add_option("--function", function, "Function to emit (default: the first)");
  app.add_option("--num-warps", numWarps, "Warps per program (threads = 32 * num_warps)");
  app.add_option("--arch", arch, "NVRTC target for --compile (sm_80, sm_90a, ...; 'native': GPU 0's)");
  app.add_flag("--no-tensor-cores", noTensorCores, "Keep every dot on the FMA loop (no mma.sync)");
  app.add_flag("--wgmma", wgmma, "Tensor-core dots as sm_90a warpgroup MMAs (wgmma) where they fit");
  int numStages = 3;
  app.add_option("--num-stages", numStages, "Pipeline depth of loops feeding a dot (cp.async; < 2: none)");
  app.add_flag("--line-directives", lineDirectives,
               "#line directives mapping the CUDA to the .mtir lines (off: IR goldens stay plain)");
  app.add_flag("--no-prefetch", noPrefetch,
               "Issue every load where it stands (no loads one iteration ahead)");
  app.add_option("--prefetch-depth", prefetchDepth,
                 "Iterations a loop's loads run ahead, at most (default 2)");
  app.add_flag("--compile", compile, "Compile with NVRTC and print 'ok' and the cubin size");
  app.add_flag("--run", run, "Run a vector-add kernel on GPU 0 and check it");
  app.add_option("--n", n, "Elements for --run");
  app.add_option("--block", block, "Elements per program for --run (default: the largest make_range)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    return app.exit(e);
  }

  std::ifstream in(input, std::ios::binary);
  if (!in) {
    std::cerr << "mt-cuda: cannot read " << input << "\n";
    return 1;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  mt::SourceManager sources;
  mt::ir::TypeContext types;
  mt::Diagnostics diag(&sources);
  auto module = mt::ir::parseIR(ss.str(), input, sources, types, diag);
  if (!module || !mt::ir::verify(*module, diag)) {
    std::cerr << diag.renderAll();
    return 1;
  }
  mt::ir::Function *fn = function.empty()
                             ? (module->functions().empty() ? nullptr : module->functions()[0].get())
                             : module->lookup(function);
  if (!fn) {
    std::cerr << "mt-cuda: no function " << (function.empty() ? "in the file" : "@" + function) << "\n";
    return 1;
  }
  mt::cuda::EmitOptions eo;
  eo.numWarps = numWarps;
  eo.tensorCores = !noTensorCores;
  eo.numStages = numStages;
  eo.lineDirectives = lineDirectives;
  eo.prefetchLoads = !noPrefetch;
  eo.prefetchDepth = prefetchDepth;
  eo.wgmma = wgmma;
  auto kernel = mt::cuda::emitCuda(*fn, eo, diag);
  if (!kernel) {
    std::cerr << diag.renderAll();
    return 1;
  }
  if (run) {
    if (n <= 0 || n > (int64_t(1) << 31) - 1) {
      std::cerr << "mt-cuda: --n must be in 1..2^31-1\n";
      return 1;
    }
    return runVectorAdd(*kernel, n, block > 0 ? block : std::max<int64_t>(1, inferBlock(*fn)));
  }
  if (!compile) {
    std::cout << kernel->source;
    return 0;
  }
  if (arch == "native") {
    std::string why;
    const mt::cuda::Driver *drv = mt::cuda::Driver::get(&why);
    auto info = drv ? drv->deviceInfo(0) : mt::Expected<mt::cuda::DeviceInfo>(mt::Error{why});
    if (!info) {
      std::cerr << "mt-cuda: --arch native: " << info.error() << "\n";
      return 2;
    }
    arch = info->arch();
  }
  auto cubin = mt::cuda::compileCuda(kernel->source, kernel->name + ".cu", arch);
  if (!cubin) {
    std::cerr << cubin.error() << "\n";
    return 1;
  }
  std::cout << "ok: " << kernel->name << " " << arch << " cubin " << cubin->size() << " bytes, "
            << kernel->numThreads << " threads, " << kernel->sharedBytes << " bytes shared\n";
  return 0;
}
