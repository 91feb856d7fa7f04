// A compiled CUDA kernel loaded on a device, launched on device memory or host buffers (mt::LaunchArg).
//
//   auto k = emitCuda(fn, opts, diag);                      // Emitter.h
//   auto cubin = compileCuda(k->source, k->name + ".cu", info.arch());
//   auto loaded = LoadedKernel::load(*Driver::get(), *k, *cubin, /*device=*/0);
//   Status s = (*loaded)->launchOnHostBuffers({grid_x}, args);   // copy in, run, copy back
//   Status s = (*loaded)->launchDevice({grid_x}, args, stream);  // Device args (torch CUDA tensors)
//
// Buffer arguments are host memory: a launch copies each to the device and back and waits. Device
// arguments (LaunchArg::device) are passed as they are; launchDevice returns without waiting.
#pragma once

#include "backend/cuda/Driver.h"
#include "backend/cuda/Emitter.h"

#include <memory>
#include <span>

namespace mt::cuda {

class LoadedKernel {
public:
  /// Makes device `ordinal` current, loads `cubin` and finds the kernel; raises the function's dynamic
  /// shared-memory limit when the kernel needs more than 48 KiB.
  static Expected<std::unique_ptr<LoadedKernel>> load(const Driver &drv, const CudaKernel &kernel,
                                                      const std::vector<char> &cubin, int ordinal = 0);
  ~LoadedKernel();
  LoadedKernel(const LoadedKernel &) = delete;
  LoadedKernel &operator=(const LoadedKernel &) = delete;

  const CudaKernel &kernel() const { return kernel_; }
  CUfunction function() const { return fn_; }

  /// Launches on `grid` with one argument per kernel parameter: Buffer (host memory, copied to the
  /// device and back) or Null for pointers; Int or Float for scalars (converted to the parameter's dtype).
  /// Device arguments (GPU memory) are passed through as they are. Waits for the kernel (copies back).
  Status launchOnHostBuffers(Grid grid, std::span<const LaunchArg> args, void *stream = nullptr) const;

  /// Launches on `stream` (a CUstream, null: the legacy default stream) with Device or Null arguments
  /// for pointers and Int/Float for scalars; returns without waiting for the kernel. Parameter values are
  /// packed into fixed arrays: no heap allocation per launch.
  Status launchDevice(Grid grid, std::span<const LaunchArg> args, void *stream = nullptr) const;
  static constexpr size_t kMaxDeviceParams = 64;

private:
  LoadedKernel(const Driver &drv, CudaKernel kernel, CUmodule m, CUfunction f, int ordinal)
      : drv_(drv), kernel_(std::move(kernel)), module_(m), fn_(f), ordinal_(ordinal) {}
  const Driver &drv_;
  CudaKernel kernel_;
  CUmodule module_;
  CUfunction fn_;
  int ordinal_;
};

} // namespace mt::cuda
