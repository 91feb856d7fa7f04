// licm: loop-invariant code motion.
//
//   for ... { %s = mul %a, %b; ... }   (%a, %b defined outside) -> %s = mul %a, %b; for ... { ... }
//
// Hoists Pure ops without regions whose operands are all defined outside a `for` or `while` to just
// before the loop; loops are visited inner first, so an op can climb several levels. Memory ops
// (load, store, atomics) never move, nor do ops nested in an `if` of the loop body, nor integer
// division/remainder whose divisor is not a nonzero constant (the loop may run zero times and the
// division would then trap where the program did not).
#pragma once

#include "ir/Operation.h"

namespace mt::transforms {

/// Returns true if the function changed.
bool runLICM(ir::Function &f);

} // namespace mt::transforms
