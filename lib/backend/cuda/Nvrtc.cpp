// dlopen-based NVRTC binding: the handful of nvrtc* entry points we call, resolved once per process.
#include "backend/cuda/Nvrtc.h"

#include <dlfcn.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace mt::cuda {

namespace {

#include "DeviceHeaders.inc" // kDeviceHeaders: {name, text} for each device/*.cuh (CMake-generated)

using nvrtcResult = int;
using nvrtcProgram = struct _nvrtcProgram *;

struct NvrtcApi {
  void *handle = nullptr;
  std::string reason;
  const char *(*GetErrorString)(nvrtcResult);
  nvrtcResult (*Version)(int *, int *);
  nvrtcResult (*CreateProgram)(nvrtcProgram *, const char *, const char *, int, const char *const *,
                               const char *const *);
  nvrtcResult (*DestroyProgram)(nvrtcProgram *);
  nvrtcResult (*CompileProgram)(nvrtcProgram, int, const char *const *);
  nvrtcResult (*GetProgramLogSize)(nvrtcProgram, size_t *);
  nvrtcResult (*GetProgramLog)(nvrtcProgram, char *);
  nvrtcResult (*GetCUBINSize)(nvrtcProgram, size_t *);
  nvrtcResult (*GetCUBIN)(nvrtcProgram, char *);
};

template <typename Fn> bool resolve(void *h, const char *sym, Fn &out) {
  out = reinterpret_cast<Fn>(dlsym(h, sym));
  return out != nullptr;
}

const NvrtcApi &api() {
  static NvrtcApi loaded = [] {
    NvrtcApi a;
    const char *candidates[] = {"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so",
                                "/usr/local/cuda/lib64/libnvrtc.so"};
    std::string errors;
    for (const char *c : candidates) {
      a.handle = dlopen(c, RTLD_NOW | RTLD_LOCAL);
      if (a.handle)
        break;
      const char *e = dlerror();
      errors += std::string("\n  ") + (e ? e : c);
    }
    if (!a.handle) {
      a.reason = "cannot load NVRTC:" + errors;
      return a;
    }
    bool ok = resolve(a.handle, "nvrtcGetErrorString", a.GetErrorString) &&
              resolve(a.handle, "nvrtcVersion", a.Version) &&
              resolve(a.handle, "nvrtcCreateProgram", a.CreateProgram) &&
              resolve(a.handle, "nvrtcDestroyProgram", a.DestroyProgram) &&
              resolve(a.handle, "nvrtcCompileProgram", a.CompileProgram) &&
              resolve(a.handle, "nvrtcGetProgramLogSize", a.GetProgramLogSize) &&
              resolve(a.handle, "nvrtcGetProgramLog", a.GetProgramLog) &&
              resolve(a.handle, "nvrtcGetCUBINSize", a.GetCUBINSize) &&
              resolve(a.handle, "nvrtcGetCUBIN", a.GetCUBIN);
    if (!ok) {
      dlclose(a.handle);
      a.handle = nullptr;
      a.reason = "the loaded NVRTC lacks nvrtcGetCUBIN (NVRTC 11.1 or newer is needed)";
    }
    return a;
  }();
  return loaded;
}

std::string dumpSource(const std::string &source, const std::string &name, const std::string &dir) {
  namespace fs = std::filesystem;
  fs::path base;
  if (!dir.empty()) {
    base = dir;
  } else {
    const char *tmp = std::getenv("TMPDIR");
    base = fs::path(tmp && *tmp ? tmp : "/tmp") / "mini_triton";
  }
  std::error_code ec;
  fs::create_directories(base, ec);
  static std::atomic<unsigned> counter{0};
  fs::path file = base / (std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" +
                          fs::path(name).filename().string());
  std::ofstream out(file, std::ios::binary);
  out << source;
  if (!out)
    return "(could not save the source under " + base.string() + ")";
  return file.string();
}

/// The CUDA toolkit's include directory (for cuda_fp16.h / cuda_bf16.h, which NVRTC does not build
/// in): $CUDA_HOME or $CUDA_PATH, the toolkit NVRTC was loaded from, /usr/local/cuda. Empty if none.
std::string findCudaInclude() {
  namespace fs = std::filesystem;
  std::vector<fs::path> candidates;
  for (const char *var : {"CUDA_HOME", "CUDA_PATH"})
    if (const char *v = std::getenv(var); v && *v)
      candidates.push_back(fs::path(v) / "include");
  Dl_info info;
  if (api().handle && dladdr(reinterpret_cast<void *>(api().CompileProgram), &info) && info.dli_fname) {
    fs::path lib = fs::path(info.dli_fname).parent_path();
    candidates.push_back(lib.parent_path() / "include");               // <toolkit>/lib64/libnvrtc.so
    candidates.push_back(lib.parent_path().parent_path() / "include"); // <toolkit>/targets/<arch>/lib
  }
  candidates.push_back("/usr/local/cuda/include");
  for (const fs::path &dir : candidates) {
    std::error_code ec;
    if (fs::exists(dir / "cuda_fp16.h", ec) && fs::exists(dir / "cuda_bf16.h", ec))
      return dir.string();
  }
  return "";
}

std::atomic<size_t> compileCount{0};

} // namespace

size_t nvrtcCompileCount() { return compileCount.load(); }

const std::vector<std::pair<std::string, std::string>> &deviceHeaders() {
  static const std::vector<std::pair<std::string, std::string>> headers = [] {
    std::vector<std::pair<std::string, std::string>> v;
    for (const auto &h : kDeviceHeaders)
      v.emplace_back(h.name, h.text);
    return v;
  }();
  return headers;
}

bool nvrtcAvailable(std::string *reason) {
  const NvrtcApi &a = api();
  if (!a.handle && reason)
    *reason = a.reason;
  return a.handle != nullptr;
}

std::pair<int, int> nvrtcVersion() {
  const NvrtcApi &a = api();
  int major = 0, minor = 0;
  if (a.handle && a.Version(&major, &minor) != 0)
    return {0, 0};
  return {major, minor};
}

Expected<std::vector<char>> compileCuda(const std::string &source, const std::string &name,
                                        const std::string &arch, const NvrtcOptions &opts) {
  const NvrtcApi &a = api();
  if (!a.handle)
    return Error{a.reason};
  const auto &headers = deviceHeaders();
  std::vector<const char *> headerTexts, headerNames;
  for (const auto &[hname, text] : headers) {
    headerNames.push_back(hname.c_str());
    headerTexts.push_back(text.c_str());
  }
  nvrtcProgram prog = nullptr;
  nvrtcResult r = a.CreateProgram(&prog, source.c_str(), name.c_str(), static_cast<int>(headers.size()),
                                  headerTexts.data(), headerNames.data());
  if (r != 0)
    return Error{std::string("nvrtcCreateProgram failed: ") + a.GetErrorString(r)};

  std::vector<std::string> flags = {"-std=c++17", "--gpu-architecture=" + arch, "-default-device"};
  if (opts.lineInfo)
    flags.push_back("-lineinfo");
  for (const std::string &d : opts.includeDirs)
    flags.push_back("-I" + d);
  static const std::string cudaInclude = findCudaInclude();
  if (!cudaInclude.empty())
    flags.push_back("-I" + cudaInclude);
  for (const std::string &f : opts.extraFlags)
    flags.push_back(f);
  std::vector<const char *> argv;
  for (const std::string &f : flags)
    argv.push_back(f.c_str());
  ++compileCount;
  r = a.CompileProgram(prog, static_cast<int>(argv.size()), argv.data());

  size_t logSize = 0;
  std::string log;
  if (a.GetProgramLogSize(prog, &logSize) == 0 && logSize > 1) {
    log.resize(logSize);
    a.GetProgramLog(prog, log.data());
    log.resize(logSize - 1);
  }
  if (r != 0) {
    a.DestroyProgram(&prog);
    std::string saved = dumpSource(source, name, opts.dumpDir);
    std::string hint = cudaInclude.empty() ? "(no CUDA include directory with cuda_fp16.h was found: set "
                                             "CUDA_HOME or NvrtcOptions::includeDirs)\n"
                                           : "";
    return Error{"NVRTC failed to compile " + name + " for " + arch + " (" + a.GetErrorString(r) +
                 "); the generated CUDA is saved in " + saved + "\n" + hint + log};
  }
  size_t size = 0;
  std::vector<char> cubin;
  if (a.GetCUBINSize(prog, &size) != 0 || size == 0) {
    a.DestroyProgram(&prog);
    return Error{"NVRTC produced no cubin for " + arch + " (a virtual compute_ target gives PTX only)"};
  }
  cubin.resize(size);
  r = a.GetCUBIN(prog, cubin.data());
  a.DestroyProgram(&prog);
  if (r != 0)
    return Error{std::string("nvrtcGetCUBIN failed: ") + a.GetErrorString(r)};
  return cubin;
}

} // namespace mt::cuda
