// The Cuda target of mt::Context: optimised tile IR → CUDA C++ (backend/cuda/Emitter) → NVRTC for the
// device's arch → a module loaded in the current CUDA context, wrapped as an mt::Kernel.
#pragma once

#include "runtime/Compiler.h"

#include <memory>

namespace mt::runtime {

/// The NVRTC target of device 0 ("sm_90a" on an H100), or an Error saying why no GPU can be used.
Expected<std::string> cudaDeviceArch();

/// Emits, compiles (for `arch`) and loads `compiled` on device 0. Launches take Device arguments as they
/// are and copy Buffer (host) arguments to the device and back.
Expected<std::shared_ptr<const Kernel>> makeCudaKernel(CompiledModule compiled, const CompileOptions &opts,
                                                       const std::string &arch, const SourceManager &sources);

} // namespace mt::runtime
