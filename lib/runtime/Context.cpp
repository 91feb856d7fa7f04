// mt::Context: source → AST → IR → passes → a launchable kernel, cached by specialisation key.
#include "runtime/Compiler.h"
#include "runtime/CudaTarget.h"
#include "runtime/KernelCache.h"
#include "runtime/SpecKey.h"

#include "backend/cpu/Interpreter.h"
#include "ir/Printer.h"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <unordered_map>

namespace mt {

namespace {

/// A kernel compiled for the CPU interpreter.
class CpuKernel final : public Kernel {
public:
  CpuKernel(runtime::CompiledModule compiled, const SourceManager &sources, cpu::ThreadPool &pool)
      : compiled_(std::move(compiled)), sources_(sources), pool_(pool) {
    irText_ = ir::toString(*compiled_.module);
  }
  const std::string &name() const override { return compiled_.function->name(); }
  std::string irText() const override { return irText_; }
  const std::vector<std::string> &runtimeParams() const override { return compiled_.function->argNames(); }
  Status launch(Grid grid, std::span<const LaunchArg> args) const override {
    return cpu::runKernel(*compiled_.function, grid, args, &sources_, pool_);
  }

private:
  runtime::CompiledModule compiled_;
  std::string irText_;
  const SourceManager &sources_;
  cpu::ThreadPool &pool_;
};

} // namespace

struct Context::Impl {
  explicit Impl(ContextOptions opts) : pool(opts.numThreads) {
    const char *force = std::getenv("MINI_TRITON_FORCE_GPU");
    forceGpu = opts.forceGpu || (force && std::string(force) == "1");
    DiskCacheOptions disk = runtime::resolveDiskCacheOptions(opts.diskCache);
    if (disk.enabled)
      diskCache = std::make_unique<runtime::KernelCache>(disk.dir, disk.log);
  }
  SourceManager sources;
  ir::TypeContext types;
  cpu::ThreadPool pool;
  std::unique_ptr<runtime::KernelCache> diskCache; // GPU kernels; null when disabled
  std::mutex mutex;
  std::unordered_map<std::string, std::shared_ptr<const Kernel>> cache;
  size_t numCompilations = 0;
  bool forceGpu = false;
  CacheStats stats; // the memory and GPU counters (disk writes/corrupt come from diskCache)
};

Context::Context(ContextOptions opts) : impl_(std::make_unique<Impl>(opts)) {}
Context::~Context() = default;

size_t Context::numCompilations() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->numCompilations;
}

CacheStats Context::cacheStats() const {
  CacheStats s;
  {
    std::lock_guard lock(impl_->mutex);
    s = impl_->stats;
  }
  if (impl_->diskCache) {
    runtime::KernelCache::Stats d = impl_->diskCache->stats();
    s.diskCorrupt = d.corrupt;
    s.diskWrites = d.writes;
    s.diskDir = impl_->diskCache->dir();
  }
  return s;
}

Expected<std::shared_ptr<const Kernel>>
Context::compile(const KernelSource &src, const std::vector<ArgSpec> &args, const CompileOptions &given) {
  CompileOptions opts = given;
  if (impl_->forceGpu && opts.target == Target::Cpu)
    opts.target = Target::Cuda;
  std::string backend = "cpu";
  if (opts.target == Target::Cuda) {
    auto arch = runtime::cudaDeviceArch(); // the arch is part of the key
    if (!arch)
      return arch.error();
    backend = "cuda:" + *arch;
  }
  std::string key = runtime::specKey(src, args, opts, backend);
  bool useCache = !opts.printIrAfterAll;
  if (useCache) {
    std::lock_guard lock(impl_->mutex);
    auto it = impl_->cache.find(key);
    if (it != impl_->cache.end()) {
      ++impl_->stats.memoryHits;
      return it->second;
    }
  }
  std::shared_ptr<const Kernel> kernel;
  if (opts.target == Target::Cuda) {
    // The disk cache skips the frontend and NVRTC on a hit; IR dumps need the frontend to run.
    runtime::KernelCache *disk = useCache && opts.useDiskCache ? impl_->diskCache.get() : nullptr;
    auto t0 = std::chrono::steady_clock::now();
    runtime::CudaBinary info;
    auto k = runtime::makeCudaKernel(src, args, opts, backend.substr(5), disk, impl_->sources, impl_->types,
                                     &info);
    if (!k)
      return k.error();
    kernel = std::move(*k);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::lock_guard lock(impl_->mutex);
    impl_->stats.lastGpuCompileMs = ms;
    impl_->stats.lastGpuCompileHit = info.fromDiskCache;
    if (disk)
      ++(info.fromDiskCache ? impl_->stats.diskHits : impl_->stats.diskMisses);
  } else {
    auto compiled = runtime::compileToIR(src, args, opts, impl_->sources, impl_->types);
    if (!compiled)
      return compiled.error();
    kernel = std::make_shared<CpuKernel>(std::move(*compiled), impl_->sources, impl_->pool);
  }
  std::lock_guard lock(impl_->mutex);
  ++impl_->numCompilations;
  if (useCache)
    impl_->cache.emplace(key, kernel); // a concurrent compile of the same key keeps the first
  return kernel;
}

Expected<KernelSource> KernelSource::fromFile(const std::string &path, std::string functionName) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Error{"error: cannot read kernel file '" + path + "'"};
  std::ostringstream ss;
  ss << in.rdbuf();
  KernelSource src;
  src.text = ss.str();
  src.fileName = path;
  src.functionName = std::move(functionName);
  return src;
}

} // namespace mt
