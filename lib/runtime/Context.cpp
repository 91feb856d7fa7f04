// mt::Context: source → AST → IR → passes → a launchable kernel, cached by specialisation key.
#include "runtime/Compiler.h"
#include "runtime/CudaTarget.h"
#include "runtime/SpecKey.h"

#include "backend/cpu/Interpreter.h"
#include "ir/Printer.h"

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
  explicit Impl(ContextOptions opts) : pool(opts.numThreads) {}
  SourceManager sources;
  ir::TypeContext types;
  cpu::ThreadPool pool;
  std::mutex mutex;
  std::unordered_map<std::string, std::shared_ptr<const Kernel>> cache;
  size_t numCompilations = 0;
};

Context::Context(ContextOptions opts) : impl_(std::make_unique<Impl>(opts)) {}
Context::~Context() = default;

size_t Context::numCompilations() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->numCompilations;
}

Expected<std::shared_ptr<const Kernel>>
Context::compile(const KernelSource &src, const std::vector<ArgSpec> &args, const CompileOptions &opts) {
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
    if (it != impl_->cache.end())
      return it->second;
  }
  auto compiled = runtime::compileToIR(src, args, opts, impl_->sources, impl_->types);
  if (!compiled)
    return compiled.error();
  std::shared_ptr<const Kernel> kernel;
  if (opts.target == Target::Cuda) {
    auto k = runtime::makeCudaKernel(std::move(*compiled), opts, backend.substr(5), impl_->sources);
    if (!k)
      return k.error();
    kernel = std::move(*k);
  } else {
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
