// canonicalize: constant folding, exact algebraic identities and trivial control flow, run to a
// fixpoint (bounded).
//
//   add %c3, %c4 : i32            -> constant 7
//   mul %x, %c1                   -> %x
//   if %true { A; yield %a } ...  -> A inlined, uses of the result replaced by %a
//   for with lb >= ub, step > 0   -> its inits
//
// Folding follows the dtype: ints wrap to their width (signed or unsigned as the dtype says, C
// division), floats are computed in their own precision (f16/bf16 rounded to nearest even).
// Nothing that could trap or is implementation-defined is folded: division or remainder by zero,
// INT_MIN / -1, shifts by the width or more, out-of-range float -> int casts, casts to i1.
// Pure ops left unused are erased (folding bypasses them); loads and loops are left to dce.
// Transcendentals (exp, log, sin, ...) are not folded either: libm and the GPU may differ by an ulp.
#pragma once

#include "ir/Operation.h"

namespace mt::transforms {

/// Returns true if the function changed.
bool runCanonicalize(ir::Function &f);

} // namespace mt::transforms
