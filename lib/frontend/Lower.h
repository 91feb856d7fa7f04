// Lowering of a parsed Triton kernel (Ast.h) to the tile IR (lib/ir), specialised on the argument
// types and constexpr values of one launch.
//
// The lowering evaluates everything it can at compile time (constexpr parameters, module constants,
// Python arithmetic on them, `if` on compile-time conditions, `tl.static_range` loops) and emits IR for
// the rest with Triton's typing rules (promotion, weak Python scalars, NumPy broadcasting). Calls of
// other @jit functions and `combine_fn`s of reductions/scans are inlined.
#pragma once

#include "frontend/Ast.h"
#include "ir/Operation.h"
#include "mt/mt.h"
#include "support/Diagnostics.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mt {

struct LowerInput {
  const ast::Module *module = nullptr; // holds the kernel
  std::string kernelName;
  /// One per kernel parameter, in order; trailing parameters with defaults may be omitted (their
  /// default is used, as a compile-time value).
  std::vector<ArgSpec> args;
  /// More modules whose @jit functions the kernel may call.
  std::vector<const ast::Module *> helperModules;
  /// Module-level constants by name (take precedence over the module's own assignments).
  std::map<std::string, ConstexprValue> globals;
};

/// Lowers the kernel to a module with one function named like the kernel whose arguments are the
/// kernel's non-constexpr parameters, in order. Returns null after reporting errors to `diag`.
std::unique_ptr<ir::Module> lowerKernel(const LowerInput &input, ir::TypeContext &types, Diagnostics &diag);

} // namespace mt
