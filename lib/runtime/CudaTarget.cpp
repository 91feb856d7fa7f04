// mt::Kernel for the Cuda target, its disk-cache key and entry metadata, and mt::cudaAvailable.
#include "runtime/CudaTarget.h"

#include "backend/cuda/Driver.h"
#include "backend/cuda/Launch.h"
#include "backend/cuda/Nvrtc.h"
#include "ir/Printer.h"
#include "runtime/Sha256.h"
#include "runtime/SpecKey.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace mt {

bool cudaAvailable(std::string *why) {
  std::string reason;
  if (cuda::Driver::get(&reason))
    return true;
  if (why)
    *why = reason;
  return false;
}

} // namespace mt

namespace mt::runtime {

namespace {

#include "BuildId.inc" // kBuildId (CMake-generated: a SHA-256 of lib/ and device/)

/// Bumped when the entry metadata below changes shape.
constexpr const char *kEntryKind = "mini-triton cuda kernel v1";

using Clock = std::chrono::steady_clock;
double msSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::string formatMs(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", ms);
  return buf;
}

nlohmann::json toMetadata(const CudaBinary &bin, const std::string &arch) {
  nlohmann::json params = nlohmann::json::array();
  for (const cuda::KernelParam &p : bin.kernel.params)
    params.push_back(
        {{"name", p.name}, {"pointer", p.isPointer}, {"dtype", std::string(ir::dtypeName(p.dtype))}});
  return {{"kind", kEntryKind},
          {"arch", arch},
          {"symbol", bin.kernel.name},
          {"num_threads", bin.kernel.numThreads},
          {"shared_bytes", bin.kernel.sharedBytes},
          {"params", std::move(params)},
          {"function", bin.functionName},
          {"runtime_params", bin.runtimeParams},
          {"ir", bin.irText}};
}

/// Fills `bin` from an entry's metadata; false (with `why`) when a field is missing or has the wrong type.
bool fromMetadata(const nlohmann::json &m, CudaBinary &bin, std::string &why) {
  try {
    if (m.at("kind").get<std::string>() != kEntryKind) {
      why = "not a " + std::string(kEntryKind) + " entry";
      return false;
    }
    bin.kernel.name = m.at("symbol").get<std::string>();
    bin.kernel.numThreads = m.at("num_threads").get<unsigned>();
    bin.kernel.sharedBytes = m.at("shared_bytes").get<size_t>();
    bin.kernel.params.clear();
    for (const nlohmann::json &p : m.at("params")) {
      cuda::KernelParam kp;
      kp.name = p.at("name").get<std::string>();
      kp.isPointer = p.at("pointer").get<bool>();
      std::optional<ir::DType> d = ir::parseDType(p.at("dtype").get<std::string>());
      if (!d) {
        why = "unknown dtype in the metadata";
        return false;
      }
      kp.dtype = *d;
      bin.kernel.params.push_back(std::move(kp));
    }
    bin.functionName = m.at("function").get<std::string>();
    bin.runtimeParams = m.at("runtime_params").get<std::vector<std::string>>();
    bin.irText = m.at("ir").get<std::string>();
  } catch (const nlohmann::json::exception &e) {
    why = std::string("bad metadata: ") + e.what();
    return false;
  }
  if (bin.kernel.name.empty() || bin.kernel.numThreads == 0 || bin.kernel.numThreads > 1024 ||
      bin.runtimeParams.size() != bin.kernel.params.size()) {
    why = "inconsistent metadata";
    return false;
  }
  return true;
}

/// A kernel loaded on the GPU. Device arguments go straight to cuLaunchKernel (asynchronous launch);
/// a launch with any host Buffer argument copies it in and out and waits for the kernel.
class CudaTargetKernel final : public Kernel {
public:
  CudaTargetKernel(CudaBinary bin, std::unique_ptr<cuda::LoadedKernel> loaded)
      : name_(std::move(bin.functionName)), irText_(std::move(bin.irText)),
        runtimeParams_(std::move(bin.runtimeParams)), loaded_(std::move(loaded)) {}
  const std::string &name() const override { return name_; }
  std::string irText() const override { return irText_; }
  const std::vector<std::string> &runtimeParams() const override { return runtimeParams_; }
  KernelInfo info() const override {
    KernelInfo i;
    i.gpu = true;
    i.sharedBytes = loaded_->kernel().sharedBytes;
    i.numThreads = loaded_->kernel().numThreads;
    const cuda::Driver *drv = cuda::Driver::get();
    if (auto regs = drv->funcAttribute(loaded_->function(), cuda::kFuncAttrNumRegs))
      i.numRegs = *regs;
    if (auto local = drv->funcAttribute(loaded_->function(), cuda::kFuncAttrLocalSizeBytes))
      i.numSpills = *local / 4;
    return i;
  }
  Status launch(Grid grid, std::span<const LaunchArg> args) const override {
    return launchOnStream(nullptr, grid, args);
  }
  Status launchOnStream(void *stream, Grid grid, std::span<const LaunchArg> args) const override {
    for (const LaunchArg &a : args)
      if (a.kind == LaunchArg::Kind::Buffer)
        return loaded_->launchOnHostBuffers(grid, args, stream);
    return loaded_->launchDevice(grid, args, stream);
  }

private:
  std::string name_;
  std::string irText_;
  std::vector<std::string> runtimeParams_;
  std::unique_ptr<cuda::LoadedKernel> loaded_;
};

} // namespace

const char *compilerBuildId() { return kBuildId; }

Expected<std::string> cudaDeviceArch() {
  std::string why;
  const cuda::Driver *drv = cuda::Driver::get(&why);
  if (!drv)
    return Error{"error: cannot compile for the GPU (Target::Cuda): no usable CUDA device: " + why};
  auto info = drv->deviceInfo(0);
  if (!info)
    return Error{"error: cannot query CUDA device 0: " + info.error().message};
  return info->arch();
}

namespace {
/// Whether the environment sets `name` to `value` (the code-generation switches below).
bool envIs(const char *name, const char *value) {
  const char *env = std::getenv(name);
  return env && std::string(env) == value;
}
bool notTurnedOff(const char *name) { return !envIs(name, "0"); }
} // namespace

bool wgmmaFor(const std::string &arch) { return arch == "sm_90a" && notTurnedOff("MINI_TRITON_WGMMA"); }

bool mbarrierRingsFor(const std::string &arch) {
  return wgmmaFor(arch) && notTurnedOff("MINI_TRITON_MBARRIER");
}

bool pingPongFor(const std::string &arch) {
  return mbarrierRingsFor(arch) && notTurnedOff("MINI_TRITON_PINGPONG");
}

bool rotateFor(const std::string &arch) {
  // Opt-in: slower on the H100 so far (bench/attention_ab.py, 2026-12-07, BM128 BN128 w8 s3: D128 2.10 ->
  // 2.25 ms, D128 causal 1.22 -> 1.37, D64 BM128 slower too). ncu, D128: the turns' barrier stalls went from
  // 16.6 % to 2.3 % of the warps' cycles, but the instructions from 751M to 976M (P carried as 16-bit values,
  // repacked every iteration; the registers at 255). P is carried packed since (SASS: no repacking left, the
  // loop 796 instructions against 684 unrotated, 231 registers): still slower (bench/attention_variants.sh,
  // H100, 2026-12-07 session 11, medians of 3 rounds: D128 2.199 ms against 2.171 / 2.145 default before /
  // after, causal 1.277 against 1.231 / 1.227; with affine rings too 2.214 and 1.301).
  return mbarrierRingsFor(arch) && envIs("MINI_TRITON_ROTATE", "1");
}

// Opt-in: no faster on the H100 (bench/attention_variants.sh, 2026-12-07 session 11, against the default
// before / after: D128 2.149 ms against 2.171 / 2.145, causal 1.247 against 1.231 / 1.227, D64 1.444 against
// 1.429 / 1.422), though its SASS loop is 60 instructions shorter.
bool affineRingsFor() { return envIs("MINI_TRITON_AFFINE_RINGS", "1"); }

// Opt-in: no difference on the H100 (bench/matmul_bench.py, 2026-12-07 session 11, BM128 BN256 BK64 w8 s3,
// per config against the default run beside it: 4096^3 0.2041 ms against 0.2052, 8192^3 1.7787
// against 1.7698).
bool waitFirstFor() { return envIs("MINI_TRITON_WAIT_FIRST", "1"); }

namespace {
struct SharedLimit {
  const char *prefix;
  size_t max, preferred; // KiB
};

SharedLimit sharedLimit(const std::string &arch) {
  // KiB of opt-in shared memory per block (CUDA programming guide, compute capabilities): 227 on sm_90 and
  // sm_100, 163 on sm_80 / sm_87, 99 on sm_86 / sm_89 / sm_120; the rings' default leaves 2-3 KiB for the
  // rest of a kernel. Other GPUs: 99 (too little only costs stages; too much fails the launch).
  static const SharedLimit limits[] = {{"sm_90", 227, 225}, {"sm_100", 227, 225}, {"sm_80", 163, 160},
                                       {"sm_87", 163, 160}, {"sm_86", 99, 96},    {"sm_89", 99, 96},
                                       {"sm_120", 99, 96}};
  for (const SharedLimit &l : limits)
    if (arch.rfind(l.prefix, 0) == 0)
      return l;
  return {"", 99, 96};
}
} // namespace

size_t pipeBytesFor(const std::string &arch) {
  SharedLimit l = sharedLimit(arch);
  const char *env = std::getenv("MINI_TRITON_PIPE_KB");
  size_t kb = env ? size_t(std::strtoul(env, nullptr, 10)) : 0;
  return (kb ? std::min(kb, l.max) : l.preferred) * 1024;
}

size_t sharedBytesFor(const std::string &arch) { return sharedLimit(arch).max * 1024; }

namespace {
const char *envDir(const char *name) {
  const char *d = std::getenv(name);
  return d && *d ? d : nullptr;
}
const char *overrideDir() { return envDir("MINI_TRITON_OVERRIDE_DIR"); }

/// Debugging aids, as Triton's TRITON_KERNEL_DUMP / TRITON_KERNEL_OVERRIDE: MINI_TRITON_DUMP_DIR=D writes
/// each generated CUDA source to D/<kernel>.cu; MINI_TRITON_OVERRIDE_DIR=D compiles D/<kernel>.cu, where it
/// exists, instead (for hand-edited experiments; the launch keeps the generated kernel's parameters, threads
/// and shared memory, and such compiles bypass the disk cache). Returns an error message, or "".
std::string dumpOrOverrideSource(cuda::CudaKernel &k) {
  namespace fs = std::filesystem;
  if (const char *d = envDir("MINI_TRITON_DUMP_DIR")) {
    std::error_code ec;
    fs::create_directories(d, ec);
    fs::path file = fs::path(d) / (k.name + ".cu");
    std::ofstream out(file, std::ios::binary);
    out << k.source;
    if (!out)
      return "error: MINI_TRITON_DUMP_DIR: cannot write " + file.string();
  }
  if (const char *d = overrideDir()) {
    fs::path file = fs::path(d) / (k.name + ".cu");
    std::error_code ec;
    if (fs::exists(file, ec)) {
      std::ifstream in(file, std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      if (!in)
        return "error: MINI_TRITON_OVERRIDE_DIR: cannot read " + file.string();
      k.source = text.str();
      std::cerr << "mini_triton: kernel '" << k.name << "' compiled from " << file.string()
                << " (MINI_TRITON_OVERRIDE_DIR)\n";
    }
  }
  return "";
}
} // namespace

std::string cudaCacheKey(const KernelSource &src, const std::vector<ArgSpec> &args,
                         const CompileOptions &opts, const std::string &arch,
                         std::pair<int, int> nvrtcVersion) {
  cuda::NvrtcOptions nvrtcDefaults; // what compileCudaBinary passes
  Sha256 h;
  h.updateField(kEntryKind);
  h.updateField(kCompilerVersion);
  h.updateField(kBuildId);
  h.updateField(specKey(src, args, opts, "cuda:" + arch));
  h.updateField(arch);
  h.updateField(wgmmaFor(arch) ? "wgmma" : "mma.sync");
  h.updateField(mbarrierRingsFor(arch) ? "mbarrier-rings" : "");
  h.updateField(pingPongFor(arch) ? "ping-pong" : "");
  h.updateField(rotateFor(arch) ? "rotate" : "");
  h.updateField(affineRingsFor() ? "affine-rings" : "");
  h.updateField(waitFirstFor() ? "wait-first" : "");
  h.updateField("pipe " + std::to_string(pipeBytesFor(arch)));
  h.updateField("nvrtc " + std::to_string(nvrtcVersion.first) + "." + std::to_string(nvrtcVersion.second));
  h.updateField(nvrtcDefaults.lineInfo ? "lineinfo" : "");
  for (const std::string &f : nvrtcDefaults.extraFlags)
    h.updateField(f);
  return h.hexDigest();
}

Expected<CudaBinary> compileCudaBinary(const KernelSource &src, const std::vector<ArgSpec> &args,
                                       const CompileOptions &opts, const std::string &arch,
                                       KernelCache *cache, SourceManager &sources, ir::TypeContext &types,
                                       bool lookup) {
  auto t0 = Clock::now();
  CudaBinary bin;
  if (cache) {
    bin.cacheKey = cudaCacheKey(src, args, opts, arch, cuda::nvrtcVersion());
    if (lookup && !overrideDir()) { // an override's source is not in the key: always compiled afresh
      std::string why;
      if (std::optional<KernelCacheEntry> e = cache->get(bin.cacheKey, &why)) {
        if (fromMetadata(e->metadata, bin, why)) {
          bin.cubin = std::move(e->binary);
          bin.fromDiskCache = true;
          bin.milliseconds = msSince(t0);
          if (cache->logging())
            cache->notice("mini_triton cache: hit " + bin.functionName + " " + arch + " " +
                          formatMs(bin.milliseconds) + " ms key=" + bin.cacheKey.substr(0, 16));
          return bin;
        }
        cache->discard(bin.cacheKey, why);
      }
    }
  }

  auto compiled = compileToIR(src, args, opts, sources, types);
  if (!compiled)
    return compiled.error();
  double frontendMs = msSince(t0);
  Diagnostics diag(&sources);
  cuda::EmitOptions eo;
  eo.numWarps = opts.numWarps;
  eo.numStages = opts.numStages;
  // As in Triton: num_stages=1 pipelines nothing, num_stages=S loads up to S - 1 iterations ahead.
  eo.prefetchLoads = opts.numStages > 1;
  eo.prefetchDepth = std::max(1, opts.numStages - 1);
  eo.wgmma = wgmmaFor(arch);
  eo.mbarrierRings = mbarrierRingsFor(arch);
  eo.pingPong = pingPongFor(arch);
  eo.rotate = rotateFor(arch);
  eo.affineRings = affineRingsFor();
  eo.waitFirst = waitFirstFor();
  eo.maxPipeBytes = pipeBytesFor(arch);
  eo.maxSharedBytes = sharedBytesFor(arch);
  std::optional<cuda::CudaKernel> emitted = cuda::emitCuda(*compiled->function, eo, diag);
  if (!emitted || diag.hasErrors())
    return Error{diag.renderAll()};
  if (std::string why = dumpOrOverrideSource(*emitted); !why.empty())
    return Error{why};
  auto tNvrtc = Clock::now();
  auto cubin = cuda::compileCuda(emitted->source, emitted->name + ".cu", arch);
  if (!cubin)
    return Error{"error: NVRTC failed on the CUDA source of kernel '" + emitted->name + "' (" + arch +
                 "):\n" + cubin.error().message};
  double nvrtcMs = msSince(tNvrtc);
  bin.kernel = std::move(*emitted);
  bin.cubin = std::move(*cubin);
  bin.functionName = compiled->function->name();
  bin.runtimeParams = compiled->function->argNames();
  bin.irText = ir::toString(*compiled->module);
  bin.milliseconds = msSince(t0);
  if (cache && !overrideDir()) {
    bool stored = cache->put(bin.cacheKey, toMetadata(bin, arch), bin.cubin);
    if (cache->logging())
      cache->notice("mini_triton cache: miss " + bin.functionName + " " + arch + " " +
                    formatMs(bin.milliseconds) + " ms (frontend " + formatMs(frontendMs) + " ms, nvrtc " +
                    formatMs(nvrtcMs) + " ms)" + (stored ? ", stored" : ", not stored") +
                    " key=" + bin.cacheKey.substr(0, 16));
  }
  return bin;
}

Expected<std::shared_ptr<const Kernel>> loadCudaKernel(CudaBinary bin) {
  std::string why;
  const cuda::Driver *drv = cuda::Driver::get(&why);
  if (!drv)
    return Error{"error: cannot compile for the GPU (Target::Cuda): no usable CUDA device: " + why};
  auto loaded = cuda::LoadedKernel::load(*drv, bin.kernel, bin.cubin, 0);
  if (!loaded)
    return Error{"error: cannot load kernel '" + bin.kernel.name + "' on the GPU: " + loaded.error().message};
  return std::shared_ptr<const Kernel>(
      std::make_shared<CudaTargetKernel>(std::move(bin), std::move(*loaded)));
}

Expected<std::shared_ptr<const Kernel>> makeCudaKernel(const KernelSource &src,
                                                       const std::vector<ArgSpec> &args,
                                                       const CompileOptions &opts, const std::string &arch,
                                                       KernelCache *cache, SourceManager &sources,
                                                       ir::TypeContext &types, CudaBinary *binInfo) {
  auto bin = compileCudaBinary(src, args, opts, arch, cache, sources, types);
  if (!bin)
    return bin.error();
  auto info = [&](const CudaBinary &b) {
    if (!binInfo)
      return;
    binInfo->cacheKey = b.cacheKey;
    binInfo->fromDiskCache = b.fromDiskCache;
    binInfo->milliseconds = b.milliseconds;
  };
  if (!bin->fromDiskCache) {
    info(*bin);
    return loadCudaKernel(std::move(*bin));
  }
  CudaBinary cached = *bin; // keep the metadata for the provenance if the load succeeds
  cached.cubin.clear();
  auto kernel = loadCudaKernel(std::move(*bin));
  if (kernel) {
    info(cached);
    return kernel;
  }
  // The driver rejected the cached cubin (corrupt beyond the checksum, or built for another driver):
  // drop it, compile afresh and store the new one.
  cache->discard(cached.cacheKey, kernel.error().message);
  auto fresh = compileCudaBinary(src, args, opts, arch, cache, sources, types, /*lookup=*/false);
  if (!fresh)
    return fresh.error();
  fresh->milliseconds += cached.milliseconds;
  info(*fresh);
  return loadCudaKernel(std::move(*fresh));
}

} // namespace mt::runtime
