// Loads libcuda.so.1 with dlopen and resolves the driver entry points by their versioned symbol
// names (the names cuda.h's macros expand to: cuMemAlloc -> cuMemAlloc_v2, ...).
#include "backend/cuda/Driver.h"

#include <dlfcn.h>

#include <mutex>

namespace mt::cuda {

struct Driver::Api {
  void *handle = nullptr;
  CUresult (*cuInit)(unsigned);
  CUresult (*cuDeviceGetCount)(int *);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDeviceGetName)(char *, int, CUdevice);
  CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*cuCtxSetCurrent)(CUcontext);
  CUresult (*cuCtxGetCurrent)(CUcontext *);
  CUresult (*cuCtxSynchronize)();
  CUresult (*cuModuleLoadData)(CUmodule *, const void *);
  CUresult (*cuModuleUnload)(CUmodule);
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*cuFuncSetAttribute)(CUfunction, int, int);
  CUresult (*cuFuncGetAttribute)(int *, int, CUfunction);
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                             CUstream, void **, void **);
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
  CUresult (*cuMemFree)(CUdeviceptr);
  CUresult (*cuMemcpyHtoD)(CUdeviceptr, const void *, size_t);
  CUresult (*cuMemcpyDtoH)(void *, CUdeviceptr, size_t);
  CUresult (*cuGetErrorName)(CUresult, const char **);
  CUresult (*cuGetErrorString)(CUresult, const char **);
};

std::string archForComputeCapability(int major, int minor) {
  std::string arch = "sm_" + std::to_string(major) + std::to_string(minor);
  // The arch-specific ("a") targets unlock wgmma/setmaxnreg (9.0) and tcgen05 (10.0); they run only on
  // exactly that chip, which is what a JIT for the device in hand wants.
  if ((major == 9 || major == 10) && minor == 0)
    arch += "a";
  return arch;
}

std::string DeviceInfo::arch() const { return archForComputeCapability(major, minor); }

namespace {

template <typename Fn> bool resolve(void *handle, const char *symbol, Fn &out, std::string &missing) {
  out = reinterpret_cast<Fn>(dlsym(handle, symbol));
  if (!out)
    missing = symbol;
  return out != nullptr;
}

struct Loaded {
  Driver *driver = nullptr;
  std::string reason;
};

} // namespace

const Driver *Driver::get(std::string *reason) {
  // Loaded once per process: the driver library is a process-wide resource by nature.
  static Loaded loaded = []() -> Loaded {
    void *h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      const char *err = dlerror();
      return {nullptr,
              std::string("cannot load libcuda.so.1 (no NVIDIA driver): ") + (err ? err : "unknown")};
    }
    auto *api = new Api();
    api->handle = h;
    std::string missing;
    bool ok = resolve(h, "cuInit", api->cuInit, missing) &&
              resolve(h, "cuDeviceGetCount", api->cuDeviceGetCount, missing) &&
              resolve(h, "cuDeviceGet", api->cuDeviceGet, missing) &&
              resolve(h, "cuDeviceGetName", api->cuDeviceGetName, missing) &&
              resolve(h, "cuDeviceGetAttribute", api->cuDeviceGetAttribute, missing) &&
              resolve(h, "cuDevicePrimaryCtxRetain", api->cuDevicePrimaryCtxRetain, missing) &&
              resolve(h, "cuCtxSetCurrent", api->cuCtxSetCurrent, missing) &&
              resolve(h, "cuCtxGetCurrent", api->cuCtxGetCurrent, missing) &&
              resolve(h, "cuCtxSynchronize", api->cuCtxSynchronize, missing) &&
              resolve(h, "cuModuleLoadData", api->cuModuleLoadData, missing) &&
              resolve(h, "cuModuleUnload", api->cuModuleUnload, missing) &&
              resolve(h, "cuModuleGetFunction", api->cuModuleGetFunction, missing) &&
              resolve(h, "cuFuncSetAttribute", api->cuFuncSetAttribute, missing) &&
              resolve(h, "cuFuncGetAttribute", api->cuFuncGetAttribute, missing) &&
              resolve(h, "cuLaunchKernel", api->cuLaunchKernel, missing) &&
              resolve(h, "cuMemAlloc_v2", api->cuMemAlloc, missing) &&
              resolve(h, "cuMemFree_v2", api->cuMemFree, missing) &&
              resolve(h, "cuMemcpyHtoD_v2", api->cuMemcpyHtoD, missing) &&
              resolve(h, "cuMemcpyDtoH_v2", api->cuMemcpyDtoH, missing) &&
              resolve(h, "cuGetErrorName", api->cuGetErrorName, missing) &&
              resolve(h, "cuGetErrorString", api->cuGetErrorString, missing);
    if (!ok) {
      delete api;
      dlclose(h);
      return {nullptr, "libcuda.so.1 lacks the entry point " + missing + " (driver too old?)"};
    }
    auto *drv = new Driver();
    drv->api_ = api;
    CUresult r = api->cuInit(0);
    if (r != kCudaSuccess) {
      std::string why = "cuInit failed: " + drv->errorString(r);
      delete drv;
      delete api;
      dlclose(h);
      return {nullptr, why};
    }
    r = api->cuDeviceGetCount(&drv->deviceCount_);
    if (r != kCudaSuccess || drv->deviceCount_ <= 0) {
      std::string why =
          r != kCudaSuccess ? "cuDeviceGetCount failed: " + drv->errorString(r) : "no CUDA device";
      delete drv;
      delete api;
      dlclose(h);
      return {nullptr, why};
    }
    return {drv, ""};
  }();
  if (!loaded.driver && reason)
    *reason = loaded.reason;
  return loaded.driver;
}

std::string Driver::errorString(CUresult r) const {
  const char *name = nullptr, *msg = nullptr;
  if (api_->cuGetErrorName(r, &name) != kCudaSuccess || !name)
    name = "CUDA_ERROR_UNKNOWN";
  if (api_->cuGetErrorString(r, &msg) != kCudaSuccess || !msg)
    msg = "unknown error";
  return std::string(name) + " (" + std::to_string(r) + "): " + msg;
}

Status Driver::check(CUresult r, const char *what) const {
  if (r == kCudaSuccess)
    return Status::ok();
  return Error{std::string(what) + " failed: " + errorString(r)};
}

Expected<DeviceInfo> Driver::deviceInfo(int ordinal) const {
  CUdevice dev;
  if (Status s = check(api_->cuDeviceGet(&dev, ordinal), "cuDeviceGet"); !s)
    return s.error();
  DeviceInfo info;
  info.ordinal = ordinal;
  char name[256] = {};
  if (Status s = check(api_->cuDeviceGetName(name, sizeof(name) - 1, dev), "cuDeviceGetName"); !s)
    return s.error();
  info.name = name;
  struct {
    int attr;
    int *out;
  } attrs[] = {{kAttrComputeCapabilityMajor, &info.major},
               {kAttrComputeCapabilityMinor, &info.minor},
               {kAttrMultiprocessorCount, &info.multiprocessors},
               {kAttrMaxSharedMemoryPerBlockOptin, &info.maxSharedPerBlockOptin}};
  for (auto &a : attrs)
    if (Status s = check(api_->cuDeviceGetAttribute(a.out, a.attr, dev), "cuDeviceGetAttribute"); !s)
      return s.error();
  return info;
}

Status Driver::makeCurrent(int ordinal) const {
  CUdevice dev;
  if (Status s = check(api_->cuDeviceGet(&dev, ordinal), "cuDeviceGet"); !s)
    return s;
  CUcontext ctx = nullptr;
  if (Status s = check(api_->cuDevicePrimaryCtxRetain(&ctx, dev), "cuDevicePrimaryCtxRetain"); !s)
    return s;
  return check(api_->cuCtxSetCurrent(ctx), "cuCtxSetCurrent");
}

Status Driver::ensureContext(int ordinal) const {
  CUcontext ctx = nullptr;
  if (Status s = check(api_->cuCtxGetCurrent(&ctx), "cuCtxGetCurrent"); !s)
    return s;
  if (ctx)
    return Status::ok(); // torch's (or anyone's) current context: use it
  // Nothing current on this thread: retain the primary context (a reference counted once per thread
  // that gets here, released at process exit) and make it current.
  return makeCurrent(ordinal);
}

Expected<CUmodule> Driver::loadModule(const std::vector<char> &cubin) const {
  CUmodule m = nullptr;
  if (Status s = check(api_->cuModuleLoadData(&m, cubin.data()), "cuModuleLoadData"); !s)
    return s.error();
  return m;
}

Status Driver::unloadModule(CUmodule m) const { return check(api_->cuModuleUnload(m), "cuModuleUnload"); }

Expected<CUfunction> Driver::getFunction(CUmodule m, const std::string &name) const {
  CUfunction f = nullptr;
  if (Status s = check(api_->cuModuleGetFunction(&f, m, name.c_str()), "cuModuleGetFunction"); !s)
    return s.error();
  return f;
}

Status Driver::setMaxDynamicShared(CUfunction f, int bytes) const {
  return check(api_->cuFuncSetAttribute(f, kFuncAttrMaxDynamicSharedSizeBytes, bytes), "cuFuncSetAttribute");
}

Expected<int> Driver::funcAttribute(CUfunction f, int attr) const {
  int v = 0;
  if (Status s = check(api_->cuFuncGetAttribute(&v, attr, f), "cuFuncGetAttribute"); !s)
    return s.error();
  return v;
}

Status Driver::launch(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned threads,
                      unsigned sharedBytes, void **params, CUstream stream) const {
  return check(api_->cuLaunchKernel(f, gx, gy, gz, threads, 1, 1, sharedBytes, stream, params, nullptr),
               "cuLaunchKernel");
}

Expected<CUdeviceptr> Driver::alloc(size_t bytes) const {
  CUdeviceptr p = 0;
  if (Status s = check(api_->cuMemAlloc(&p, bytes), "cuMemAlloc"); !s)
    return s.error();
  return p;
}

Status Driver::free(CUdeviceptr p) const { return check(api_->cuMemFree(p), "cuMemFree"); }

Status Driver::copyToDevice(CUdeviceptr dst, const void *src, size_t bytes) const {
  return check(api_->cuMemcpyHtoD(dst, src, bytes), "cuMemcpyHtoD");
}

Status Driver::copyToHost(void *dst, CUdeviceptr src, size_t bytes) const {
  return check(api_->cuMemcpyDtoH(dst, src, bytes), "cuMemcpyDtoH");
}

Status Driver::synchronize() const { return check(api_->cuCtxSynchronize(), "cuCtxSynchronize"); }

} // namespace mt::cuda
