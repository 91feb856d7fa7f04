// dlopen-based NVRTC binding: the handful of nvrtc* entry points we call, resolved once per process.
#include "backend/cuda/Nvrtc.h"

#include <dlfcn.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

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
  nvrtcResult (*GetPTXSize)(nvrtcProgram, size_t *);
  nvrtcResult (*GetPTX)(nvrtcProgram, char *);
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
              resolve(a.handle, "nvrtcGetCUBIN", a.GetCUBIN) &&
              resolve(a.handle, "nvrtcGetPTXSize", a.GetPTXSize) &&
              resolve(a.handle, "nvrtcGetPTX", a.GetPTX);
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

namespace {

/// A compiled NVRTC program, destroyed with the object.
class Program {
public:
  explicit Program(nvrtcProgram p) : p_(p) {}
  ~Program() {
    if (p_)
      api().DestroyProgram(&p_);
  }
  Program(const Program &) = delete;
  Program &operator=(const Program &) = delete;
  nvrtcProgram get() const { return p_; }

private:
  nvrtcProgram p_;
};

/// Compiles `source` for `arch` (a real sm_ or a virtual compute_ architecture). On failure the error
/// holds NVRTC's log and names the file where `source` was saved.
Expected<std::unique_ptr<Program>> compileProgram(const std::string &source, const std::string &name,
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
  nvrtcProgram raw = nullptr;
  nvrtcResult r = a.CreateProgram(&raw, source.c_str(), name.c_str(), static_cast<int>(headers.size()),
                                  headerTexts.data(), headerNames.data());
  if (r != 0)
    return Error{std::string("nvrtcCreateProgram failed: ") + a.GetErrorString(r)};
  auto prog = std::make_unique<Program>(raw);

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
  r = a.CompileProgram(prog->get(), static_cast<int>(argv.size()), argv.data());
  if (r == 0)
    return prog;

  size_t logSize = 0;
  std::string log;
  if (a.GetProgramLogSize(prog->get(), &logSize) == 0 && logSize > 1) {
    log.resize(logSize);
    a.GetProgramLog(prog->get(), log.data());
    log.resize(logSize - 1);
  }
  std::string saved = dumpSource(source, name, opts.dumpDir);
  std::string hint = cudaInclude.empty() ? "(no CUDA include directory with cuda_fp16.h was found: set "
                                           "CUDA_HOME or NvrtcOptions::includeDirs)\n"
                                         : "";
  if (source.find("#line ") != std::string::npos)
    hint += "(the log's kernel-source lines come from the #line directives in the saved file)\n";
  return Error{"NVRTC failed to compile " + name + " for " + arch + " (" + a.GetErrorString(r) +
               "); the generated CUDA is saved in " + saved + "\n" + hint + log};
}

} // namespace

Expected<std::vector<char>> compileCuda(const std::string &source, const std::string &name,
                                        const std::string &arch, const NvrtcOptions &opts) {
  auto prog = compileProgram(source, name, arch, opts);
  if (!prog)
    return prog.error();
  const NvrtcApi &a = api();
  size_t size = 0;
  std::vector<char> cubin;
  if (a.GetCUBINSize((*prog)->get(), &size) != 0 || size == 0)
    return Error{"NVRTC produced no cubin for " + arch + " (a virtual compute_ target gives PTX only)"};
  cubin.resize(size);
  if (nvrtcResult r = a.GetCUBIN((*prog)->get(), cubin.data()); r != 0)
    return Error{std::string("nvrtcGetCUBIN failed: ") + a.GetErrorString(r)};
  return cubin;
}

Expected<std::string> compileCudaToPtx(const std::string &source, const std::string &name,
                                       const std::string &arch, const NvrtcOptions &opts) {
  std::string virt = arch.rfind("sm_", 0) == 0 ? "compute_" + arch.substr(3) : arch;
  auto prog = compileProgram(source, name, virt, opts);
  if (!prog)
    return prog.error();
  const NvrtcApi &a = api();
  size_t size = 0;
  if (a.GetPTXSize((*prog)->get(), &size) != 0 || size == 0)
    return Error{"NVRTC produced no PTX for " + virt};
  std::string ptx(size, '\0');
  if (nvrtcResult r = a.GetPTX((*prog)->get(), ptx.data()); r != 0)
    return Error{std::string("nvrtcGetPTX failed: ") + a.GetErrorString(r)};
  ptx.resize(size - 1); // without the terminating NUL
  return ptx;
}

} // namespace mt::cuda
