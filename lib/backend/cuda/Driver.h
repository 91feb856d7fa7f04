// The CUDA driver API, loaded at run time with dlopen("libcuda.so.1"); never linked, so that every
// binary starts on a machine without a GPU or driver (and falls back to the CPU backend there).
//
//   std::string why;
//   const Driver *drv = Driver::get(&why);     // null + reason when libcuda or a device is missing
//   auto ctx = drv->primaryContext(0);          // retains the device's primary context, makes it current
//   auto mod = drv->loadModule(cubin);          // cuModuleLoadData
//
// We declare the few driver types and enum values we use ourselves (values as in CUDA's cuda.h), so
// building needs no CUDA headers either. All calls return mt::Status / Expected with the driver's
// error name and string.
#pragma once

#include "mt/mt.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mt::cuda {

// ---- The driver types we use (opaque handles; layouts as in cuda.h) ----
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
struct CUctx_st;
struct CUmod_st;
struct CUfunc_st;
struct CUstream_st;
using CUcontext = CUctx_st *;
using CUmodule = CUmod_st *;
using CUfunction = CUfunc_st *;
using CUstream = CUstream_st *;

// Enum values from cuda.h (stable ABI).
constexpr CUresult kCudaSuccess = 0;
constexpr CUresult kCudaErrorNoDevice = 100;
constexpr int kAttrMultiprocessorCount = 16;
constexpr int kAttrComputeCapabilityMajor = 75;
constexpr int kAttrComputeCapabilityMinor = 76;
constexpr int kAttrMaxSharedMemoryPerBlockOptin = 97;
constexpr int kFuncAttrMaxDynamicSharedSizeBytes = 8;
constexpr int kFuncAttrLocalSizeBytes = 3;
constexpr int kFuncAttrNumRegs = 4;

/// What a kernel compiled for a device needs to know about it.
struct DeviceInfo {
  int ordinal = 0;
  std::string name;
  int major = 0, minor = 0;
  int multiprocessors = 0;
  int maxSharedPerBlockOptin = 0; // bytes
  /// NVRTC target: "sm_90a" for 9.0 (the arch-specific variant, for wgmma), "sm_80" for 8.0, ...
  std::string arch() const;
};

/// "sm_90a" for (9, 0), "sm_100a" for (10, 0), "sm_80" for (8, 0), "sm_86" for (8, 6).
std::string archForComputeCapability(int major, int minor);

class Driver {
public:
  /// The process-wide driver, loaded and initialised on first use (thread-safe). Null when libcuda
  /// cannot be loaded, lacks an entry point, cuInit fails or no device exists; `reason` then says why.
  static const Driver *get(std::string *reason = nullptr);

  int deviceCount() const { return deviceCount_; }
  Expected<DeviceInfo> deviceInfo(int ordinal) const;

  /// Retains device `ordinal`'s primary context and makes it current on the calling thread.
  Status makeCurrent(int ordinal) const;
  /// Keeps the calling thread's current context if it has one (torch's: the primary context); otherwise
  /// retains device `ordinal`'s primary context and makes it current (the same context torch uses).
  Status ensureContext(int ordinal) const;
  Expected<CUmodule> loadModule(const std::vector<char> &cubin) const;
  Status unloadModule(CUmodule m) const;
  Expected<CUfunction> getFunction(CUmodule m, const std::string &name) const;
  /// Raises the function's dynamic shared-memory limit (needed above 48 KiB).
  Status setMaxDynamicShared(CUfunction f, int bytes) const;
  /// cuFuncGetAttribute (kFuncAttrNumRegs, kFuncAttrLocalSizeBytes, ...).
  Expected<int> funcAttribute(CUfunction f, int attr) const;
  /// `params[i]` points at the value of kernel parameter i (the driver's kernelParams convention).
  /// `stream` null: the legacy default stream.
  Status launch(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned threads, unsigned sharedBytes,
                void **params, CUstream stream = nullptr) const;
  Expected<CUdeviceptr> alloc(size_t bytes) const;
  Status free(CUdeviceptr p) const;
  Status copyToDevice(CUdeviceptr dst, const void *src, size_t bytes) const;
  Status copyToHost(void *dst, CUdeviceptr src, size_t bytes) const;
  Status synchronize() const;

  /// "CUDA_ERROR_X: message" for a driver result.
  std::string errorString(CUresult r) const;

  struct Api; // the resolved entry points (Driver.cpp)

private:
  Driver() = default;
  Status check(CUresult r, const char *what) const;
  const Api *api_ = nullptr;
  int deviceCount_ = 0;
};

} // namespace mt::cuda
