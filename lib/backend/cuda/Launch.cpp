// LoadedKernel: module loading and launches with host-buffer arguments.
#include "backend/cuda/Launch.h"
#include "support/Diagnostics.h"

#include <algorithm>
#include <cstring>

namespace mt::cuda {

namespace {

/// One scalar kernel argument, stored in the parameter's own C type (the driver copies sizeof bytes).
struct ScalarSlot {
  alignas(8) unsigned char bytes[8] = {};
};

template <typename T> void put(ScalarSlot &s, T v) { std::memcpy(s.bytes, &v, sizeof(T)); }

bool packScalar(const KernelParam &p, const LaunchArg &a, ScalarSlot &slot, std::string &err) {
  using ir::DType;
  if (a.kind != LaunchArg::Kind::Int && a.kind != LaunchArg::Kind::Float) {
    err = "parameter '" + p.name + "' is a scalar: pass an integer or a float";
    return false;
  }
  bool isInt = a.kind == LaunchArg::Kind::Int;
  double f = isInt ? double(a.i) : a.f;
  int64_t i = isInt ? a.i : int64_t(a.f);
  switch (p.dtype) {
  case DType::I1:
    put<bool>(slot, i != 0);
    return true;
  case DType::I8:
    put<int8_t>(slot, int8_t(i));
    return true;
  case DType::I16:
    put<int16_t>(slot, int16_t(i));
    return true;
  case DType::I32:
    put<int32_t>(slot, int32_t(i));
    return true;
  case DType::I64:
    put<int64_t>(slot, i);
    return true;
  case DType::U8:
    put<uint8_t>(slot, uint8_t(i));
    return true;
  case DType::U16:
    put<uint16_t>(slot, uint16_t(i));
    return true;
  case DType::U32:
    put<uint32_t>(slot, uint32_t(i));
    return true;
  case DType::U64:
    put<uint64_t>(slot, uint64_t(i));
    return true;
  case DType::F32:
    put<float>(slot, float(f));
    return true;
  case DType::F64:
    put<double>(slot, f);
    return true;
  case DType::F16:
  case DType::BF16:
  case DType::F8E4M3:
  case DType::F8E5M2:
    err = "parameter '" + p.name + "': f16/bf16/fp8 scalar arguments are not supported yet";
    return false;
  }
  err = "parameter '" + p.name + "': unknown dtype";
  return false;
}

} // namespace

Expected<std::unique_ptr<LoadedKernel>> LoadedKernel::load(const Driver &drv, const CudaKernel &kernel,
                                                           const std::vector<char> &cubin, int ordinal) {
  if (Status s = drv.ensureContext(ordinal); !s)
    return s.error();
  auto m = drv.loadModule(cubin);
  if (!m)
    return m.error();
  auto f = drv.getFunction(*m, kernel.name);
  if (!f) {
    (void)drv.unloadModule(*m);
    return f.error();
  }
  if (kernel.sharedBytes > 48 * 1024) {
    if (Status s = drv.setMaxDynamicShared(*f, int(kernel.sharedBytes)); !s) {
      (void)drv.unloadModule(*m);
      return Error{s.error().message + " (the kernel needs " + std::to_string(kernel.sharedBytes) +
                   " bytes of shared memory)"};
    }
  }
  return std::unique_ptr<LoadedKernel>(new LoadedKernel(drv, kernel, *m, *f, ordinal));
}

LoadedKernel::~LoadedKernel() { (void)drv_.unloadModule(module_); }

Status LoadedKernel::launchOnHostBuffers(Grid grid, std::span<const LaunchArg> args, void *stream) const {
  const std::vector<KernelParam> &params = kernel_.params;
  if (args.size() != params.size())
    return Error{"kernel " + kernel_.name + " takes " + std::to_string(params.size()) + " arguments, got " +
                 std::to_string(args.size())};
  if (Status s = drv_.ensureContext(ordinal_); !s)
    return s;
  // Host buffers are copied to the device around the launch. Buffers that overlap in host memory (one
  // array passed twice, views of one storage, an in-place op) share one device copy of their union, so
  // that the kernel sees one memory as the host program does and the copy back is not order-dependent.
  struct Region {
    uintptr_t begin, end;
    CUdeviceptr dev = 0;
  };
  std::vector<Region> regions;
  for (size_t i = 0; i < params.size(); ++i)
    if (params[i].isPointer && args[i].kind == LaunchArg::Kind::Buffer && args[i].bytes > 0) {
      uintptr_t b = reinterpret_cast<uintptr_t>(args[i].data);
      regions.push_back({b, b + args[i].bytes});
    }
  std::sort(regions.begin(), regions.end(),
            [](const Region &a, const Region &b) { return a.begin < b.begin; });
  std::vector<Region> merged;
  for (const Region &r : regions) {
    if (!merged.empty() && r.begin < merged.back().end)
      merged.back().end = std::max(merged.back().end, r.end);
    else
      merged.push_back(r);
  }
  auto release = [&] {
    for (const Region &r : merged)
      if (r.dev)
        (void)drv_.free(r.dev);
  };
  for (Region &r : merged) {
    auto d = drv_.alloc(r.end - r.begin);
    if (!d) {
      release();
      return d.error();
    }
    r.dev = *d;
    if (Status s = drv_.copyToDevice(r.dev, reinterpret_cast<const void *>(r.begin), r.end - r.begin); !s) {
      release();
      return s;
    }
  }
  std::vector<CUdeviceptr> passed(params.size(), 0); // what the kernel receives: copies or Device args
  std::vector<ScalarSlot> scalars(params.size());
  std::vector<void *> slots(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    const KernelParam &p = params[i];
    const LaunchArg &a = args[i];
    if (p.isPointer) {
      if (a.kind == LaunchArg::Kind::Buffer && a.bytes > 0) {
        uintptr_t b = reinterpret_cast<uintptr_t>(a.data);
        auto it = std::upper_bound(merged.begin(), merged.end(), b,
                                   [](uintptr_t v, const Region &r) { return v < r.begin; });
        MT_ASSERT(it != merged.begin()) << "host buffer outside every copied region";
        --it;
        passed[i] = it->dev + (b - it->begin);
      } else if (a.kind == LaunchArg::Kind::Device) {
        passed[i] = reinterpret_cast<uintptr_t>(a.data);
      } else if (a.kind != LaunchArg::Kind::Null && a.kind != LaunchArg::Kind::Buffer) {
        release();
        return Error{"parameter '" + p.name + "' is a pointer: pass a buffer, GPU memory or null"};
      }
      slots[i] = &passed[i];
      continue;
    }
    std::string err;
    if (!packScalar(p, a, scalars[i], err)) {
      release();
      return Error{err};
    }
    slots[i] = scalars[i].bytes;
  }
  Status st = drv_.launch(fn_, grid.x, grid.y, grid.z, kernel_.numThreads, unsigned(kernel_.sharedBytes),
                          slots.data(), static_cast<CUstream>(stream));
  if (st)
    st = drv_.synchronize();
  for (size_t r = 0; st && r < merged.size(); ++r)
    st = drv_.copyToHost(reinterpret_cast<void *>(merged[r].begin), merged[r].dev,
                         merged[r].end - merged[r].begin);
  release();
  return st;
}

Status LoadedKernel::launchDevice(Grid grid, std::span<const LaunchArg> args, void *stream) const {
  const std::vector<KernelParam> &params = kernel_.params;
  size_t n = params.size();
  if (args.size() != n)
    return Error{"kernel " + kernel_.name + " takes " + std::to_string(n) + " arguments, got " +
                 std::to_string(args.size())};
  if (n > kMaxDeviceParams)
    return launchOnHostBuffers(grid, args, stream); // rare: more parameters than the fixed arrays hold
  // Kernel parameter values in fixed arrays on the stack: no heap allocation per launch.
  ScalarSlot values[kMaxDeviceParams];
  void *slots[kMaxDeviceParams];
  for (size_t i = 0; i < n; ++i) {
    const KernelParam &p = params[i];
    const LaunchArg &a = args[i];
    if (p.isPointer) {
      if (a.kind == LaunchArg::Kind::Device)
        put<CUdeviceptr>(values[i], reinterpret_cast<uintptr_t>(a.data));
      else if (a.kind == LaunchArg::Kind::Null)
        put<CUdeviceptr>(values[i], 0);
      else
        return Error{"parameter '" + p.name + "' is a pointer: pass GPU memory or null"};
    } else {
      std::string err;
      if (!packScalar(p, a, values[i], err))
        return Error{err};
    }
    slots[i] = values[i].bytes;
  }
  if (Status s = drv_.ensureContext(ordinal_); !s)
    return s;
  return drv_.launch(fn_, grid.x, grid.y, grid.z, kernel_.numThreads, unsigned(kernel_.sharedBytes), slots,
                     static_cast<CUstream>(stream));
}

} // namespace mt::cuda
