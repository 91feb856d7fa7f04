// NVRTC (CUDA's run-time C++ compiler), loaded with dlopen so that binaries start where it is absent.
//
//   auto cubin = compileCuda(source, "add_kernel.cu", "sm_90a", {});
//   if (!cubin) std::cerr << cubin.error();   // NVRTC's log + where the source was saved
//
// The device helper headers (device/*.cuh, embedded into the binary) are handed to NVRTC as in-memory
// headers, so `#include "mt/....cuh"` works without any file on disk.
#pragma once

#include "mt/mt.h"

#include <string>
#include <utility>
#include <vector>

namespace mt::cuda {

struct NvrtcOptions {
  bool lineInfo = true;                 // -lineinfo (source lines in profilers and in SASS)
  std::vector<std::string> extraFlags;  // appended verbatim
  std::vector<std::string> includeDirs; // -I<dir> (beyond the embedded device headers)
  /// Directory for failed sources; empty: $TMPDIR/mini_triton (or /tmp/mini_triton).
  std::string dumpDir;
};

/// True if libnvrtc can be loaded; otherwise `reason` says why.
bool nvrtcAvailable(std::string *reason = nullptr);
/// NVRTC's version, e.g. {13, 0}; {0, 0} if unavailable.
std::pair<int, int> nvrtcVersion();

/// How many times this process has called nvrtcCompileProgram (a statistic: tests check that a disk-cache
/// hit does not compile).
size_t nvrtcCompileCount();

/// Compiles `source` (named `name` in messages) for `arch` ("sm_90a", "sm_80", ...) to a cubin.
/// On failure the error holds NVRTC's log and names the file where `source` was saved.
Expected<std::vector<char>> compileCuda(const std::string &source, const std::string &name,
                                        const std::string &arch, const NvrtcOptions &opts = {});

/// Compiles `source` to PTX for the virtual architecture of `arch` ("sm_90a" -> "compute_90a"), with the
/// same options and error reporting as compileCuda. For inspecting the generated code, e.g. the `.file` /
/// `.loc` line info that -lineinfo and the kernel's #line directives produce.
Expected<std::string> compileCudaToPtx(const std::string &source, const std::string &name,
                                       const std::string &arch, const NvrtcOptions &opts = {});

/// The embedded device headers, as (include name, text) pairs: ("mt/tile.cuh", "...").
const std::vector<std::pair<std::string, std::string>> &deviceHeaders();

} // namespace mt::cuda
