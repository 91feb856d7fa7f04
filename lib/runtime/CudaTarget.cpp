// mt::Kernel for the Cuda target, and mt::cudaAvailable.
#include "runtime/CudaTarget.h"

#include "backend/cuda/Driver.h"
#include "backend/cuda/Emitter.h"
#include "backend/cuda/Launch.h"
#include "backend/cuda/Nvrtc.h"
#include "ir/Printer.h"

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

/// A kernel loaded on the GPU. Device arguments go straight to cuLaunchKernel (asynchronous launch);
/// a launch with any host Buffer argument copies it in and out and waits for the kernel.
class CudaTargetKernel final : public Kernel {
public:
  CudaTargetKernel(CompiledModule compiled, std::unique_ptr<cuda::LoadedKernel> loaded)
      : compiled_(std::move(compiled)), loaded_(std::move(loaded)) {
    irText_ = ir::toString(*compiled_.module);
  }
  const std::string &name() const override { return compiled_.function->name(); }
  std::string irText() const override { return irText_; }
  const std::vector<std::string> &runtimeParams() const override { return compiled_.function->argNames(); }
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
  CompiledModule compiled_;
  std::unique_ptr<cuda::LoadedKernel> loaded_;
  std::string irText_;
};

} // namespace

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

Expected<std::shared_ptr<const Kernel>> makeCudaKernel(CompiledModule compiled, const CompileOptions &opts,
                                                       const std::string &arch,
                                                       const SourceManager &sources) {
  std::string why;
  const cuda::Driver *drv = cuda::Driver::get(&why);
  if (!drv)
    return Error{"error: cannot compile for the GPU (Target::Cuda): no usable CUDA device: " + why};
  Diagnostics diag(&sources);
  cuda::EmitOptions eo;
  eo.numWarps = opts.numWarps;
  std::optional<cuda::CudaKernel> emitted = cuda::emitCuda(*compiled.function, eo, diag);
  if (!emitted || diag.hasErrors())
    return Error{diag.renderAll()};
  auto cubin = cuda::compileCuda(emitted->source, emitted->name + ".cu", arch);
  if (!cubin)
    return Error{"error: NVRTC failed on the CUDA source of kernel '" + emitted->name + "' (" + arch +
                 "):\n" + cubin.error().message};
  auto loaded = cuda::LoadedKernel::load(*drv, *emitted, *cubin, 0);
  if (!loaded)
    return Error{"error: cannot load kernel '" + emitted->name + "' on the GPU: " + loaded.error().message};
  return std::shared_ptr<const Kernel>(
      std::make_shared<CudaTargetKernel>(std::move(compiled), std::move(*loaded)));
}

} // namespace mt::runtime
