// The specialisation key of a compilation: everything that can change the compiled kernel.
#pragma once

#include "mt/mt.h"

#include <string>

namespace mt::runtime {

/// Version of the compiler itself; part of every cache key so that a new compiler never reuses old code.
inline constexpr const char *kCompilerVersion = "mini-triton 0.1";

/// A stable textual key: source texts (kernel + helpers) and their file names and line offsets, the kernel
/// name, module globals, every ArgSpec (dtype, constexpr value, divisibility/equals-one flags), the
/// options that affect code (warps, stages, optimisation, pass list), the backend and the compiler version.
std::string specKey(const KernelSource &src, const std::vector<ArgSpec> &args, const CompileOptions &opts,
                    const std::string &backend);

/// Human-readable form of a constexpr value (Python spelling: None, True, 3, 1.5, 'fp32').
std::string formatConstexpr(const ConstexprValue &v);

} // namespace mt::runtime
