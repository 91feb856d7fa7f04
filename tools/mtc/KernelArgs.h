// Kernel arguments for `mtc`: parsed from `name=spec` strings, turned into ArgSpecs and buffers.
//
// Specs: `*fp32:1000` (pointer to a fresh buffer of 1000 random fp32), `*fp16` (pointer, compile only),
// `i32:1000` / `fp32:0.5` (scalar of that type and value), `i32` (scalar, compile only), `None`, or a
// constexpr literal (`128`, `True`, `1.5`, `'fp16'`). A kernel file can carry its own invocations:
//   # mtc-run: add_kernel x=*fp32:1000 y=*fp32:1000 out=*fp32:1000 n=i32:1000 BLOCK=256 grid=4
#pragma once

#include "mt/mt.h"

#include <string>
#include <vector>

namespace mtc {

struct Invocation {
  std::string kernel;
  std::vector<std::string> args; // name=spec
  std::string grid;              // "X[,Y[,Z]]"
};

/// Collects the `# mtc-run:` lines of a kernel file. Returns false on a malformed line.
bool invocationsFromFile(const std::string &text, std::vector<Invocation> &out);

struct KernelArgs {
  std::vector<mt::ArgSpec> specs;        // one per kernel parameter
  std::vector<mt::LaunchArg> launchArgs; // one per non-constexpr parameter
  std::vector<std::string> bufferNames;
  std::vector<std::vector<unsigned char>> buffers;
  std::vector<mt::DType> bufferTypes;
  mt::Grid grid;
  /// A line per buffer: name, dtype, size, sum and first values after a run.
  std::string summary() const;
};

/// Matches `inv.args` against the kernel's parameters (parsed from `text`); params not given use their
/// defaults. Errors (unknown name, bad spec, missing argument) come back in `err`.
bool buildKernelArgs(const std::string &text, const std::string &fileName, const Invocation &inv,
                     KernelArgs &out, std::string &err);

} // namespace mtc
