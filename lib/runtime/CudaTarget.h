// The Cuda target of mt::Context: optimised tile IR → CUDA C++ (backend/cuda/Emitter) → NVRTC for the
// device's arch → a module loaded in the current CUDA context, wrapped as an mt::Kernel. The cubin and
// the launch metadata go through the disk cache (KernelCache.h): a hit skips the frontend and NVRTC.
//
//   auto bin = compileCudaBinary(src, args, opts, "sm_90a", &cache, sources, types); // no GPU needed
//   auto kernel = loadCudaKernel(std::move(*bin));                                   // device 0
#pragma once

#include "backend/cuda/Emitter.h"
#include "runtime/Compiler.h"
#include "runtime/KernelCache.h"

#include <memory>

namespace mt::runtime {

/// The NVRTC target of device 0 ("sm_90a" on an H100), or an Error saying why no GPU can be used.
Expected<std::string> cudaDeviceArch();

/// Everything loading a Cuda-target kernel needs, from NVRTC or from the disk cache.
struct CudaBinary {
  cuda::CudaKernel kernel; // symbol, threads, shared bytes, params (`source` is empty after a disk hit)
  std::vector<char> cubin;
  std::string functionName;               // Kernel::name()
  std::vector<std::string> runtimeParams; // Kernel::runtimeParams()
  std::string irText;                     // Kernel::irText()
  std::string cacheKey;                   // the disk-cache key (hex SHA-256)
  bool fromDiskCache = false;
  double milliseconds = 0.0; // time to produce it: the lookup (hit) or frontend + emitter + NVRTC (miss)
};

/// The disk-cache key of a Cuda-target compile: a SHA-256 of the entry format, the compiler version and
/// build id (a hash of the compiler's sources), specKey (source texts, names, globals, ArgSpecs, options,
/// target), `arch`, the NVRTC version and the NVRTC options.
/// Whether kernels compiled for `arch` use warpgroup MMAs (cuda::EmitOptions::wgmma): on sm_90a, unless the
/// environment sets MINI_TRITON_WGMMA=0 (then mma.sync, as on other GPUs; part of the cache key).
bool wgmmaFor(const std::string &arch);
/// With wgmma, cuda::EmitOptions::mbarrierRings, unless the environment sets MINI_TRITON_MBARRIER=0 (part of
/// the cache key).
bool mbarrierRingsFor(const std::string &arch);
/// With mbarrier rings, cuda::EmitOptions::pingPong, unless the environment sets MINI_TRITON_PINGPONG=0 (part
/// of the cache key).
bool pingPongFor(const std::string &arch);
/// With mbarrier rings, cuda::EmitOptions::rotate where the environment sets MINI_TRITON_ROTATE=1 (part of
/// the cache key; off by default: slower on the H100 so far).
bool rotateFor(const std::string &arch);
/// cuda::EmitOptions::affineRings where the environment sets MINI_TRITON_AFFINE_RINGS=1 (part of the cache
/// key; off by default: no faster on the H100).
bool affineRingsFor();
/// cuda::EmitOptions::waitFirst where the environment sets MINI_TRITON_WAIT_FIRST=1 (part of the cache key;
/// off by default: no difference on the H100).
bool waitFirstFor();
/// cuda::EmitOptions::maxPipeBytes for `arch`, within its opt-in shared memory per block: 225 KiB on sm_90
/// and sm_100, 160 on sm_80/87, 96 elsewhere; or MINI_TRITON_PIPE_KB KiB, at most the limit (part of the
/// cache key).
size_t pipeBytesFor(const std::string &arch);
/// cuda::EmitOptions::maxSharedBytes for `arch`: its opt-in shared memory per block (227 KiB on sm_90).
size_t sharedBytesFor(const std::string &arch);
std::string cudaCacheKey(const KernelSource &src, const std::vector<ArgSpec> &args,
                         const CompileOptions &opts, const std::string &arch,
                         std::pair<int, int> nvrtcVersion);

/// The build id of this compiler (a SHA-256 of lib/ and device/ at build time).
const char *compilerBuildId();

/// Source → cubin + metadata for `arch`, without a GPU. With a `cache`, a hit skips the frontend and NVRTC
/// (unless `lookup` is false) and a miss stores what it compiled. Errors come back rendered.
Expected<CudaBinary> compileCudaBinary(const KernelSource &src, const std::vector<ArgSpec> &args,
                                       const CompileOptions &opts, const std::string &arch,
                                       KernelCache *cache, SourceManager &sources, ir::TypeContext &types,
                                       bool lookup = true);

/// Loads `bin` on device 0 as an mt::Kernel. Launches take Device arguments as they are and copy
/// Buffer (host) arguments to the device and back.
Expected<std::shared_ptr<const Kernel>> loadCudaKernel(CudaBinary bin);

/// compileCudaBinary + loadCudaKernel. A cached cubin the driver rejects is dropped, recompiled and
/// rewritten. `binInfo` (optional) receives the binary's provenance (key, hit, milliseconds).
Expected<std::shared_ptr<const Kernel>> makeCudaKernel(const KernelSource &src,
                                                       const std::vector<ArgSpec> &args,
                                                       const CompileOptions &opts, const std::string &arch,
                                                       KernelCache *cache, SourceManager &sources,
                                                       ir::TypeContext &types, CudaBinary *binInfo = nullptr);

} // namespace mt::runtime
