// Lowering of a parsed Triton kernel (Ast.h) to the tile IR (lib/ir), specialised on the argument
// types and constexpr values of one launch.
//
// The lowering evaluates everything it can at compile time (constexpr parameters, module constants,
// Python arithmetic on them, `if` on compile-time conditions, `tl.static_range` loops) and emits IR for
// the rest with Triton's typing rules (promotion, weak Python scalars, NumPy broadcasting). Calls of
// other @jit functions and `combine_fn`s of reductions/scans are inlined.
//
// Specialisation: Pointer(d) parameters become `ptr<d>` arguments (with a `hint {multiple_of = [16]}`
// on entry when divisibleBy16), Scalar(d) ones `d` arguments (an integer with equalsOne is the
// compile-time constant 1 in the body), Constexpr ones compile-time values (a string that names a
// dtype, like "fp16", works wherever a dtype is expected). Control flow: `if` on a compile-time value
// lowers one branch; runtime `if`/`for`/`while` become structured ops carrying the variables (and tuple
// leaves) they change; `if c: return` at function level makes the rest of the function the else
// branch; `tl.static_range` and loops over tuples are unrolled. A TensorDesc spec (a host-side tensor
// descriptor) makes its parameter a descriptor over the next 2 * rank integer specs (shape, strides), with
// arguments `p`, `p.shape0`.., `p.stride0`... Not supported (reported as errors): break/continue, other
// returns inside runtime control flow.
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
  /// The launch's warps (tl.extra.cuda.num_warps() / num_threads() are compile-time values, as in Triton).
  int numWarps = 4;
};

/// Lowers the kernel to a module with one function named like the kernel whose arguments are the
/// kernel's non-constexpr parameters, in order. Returns null after reporting errors to `diag`.
std::unique_ptr<ir::Module> lowerKernel(const LowerInput &input, ir::TypeContext &types, Diagnostics &diag);

} // namespace mt
