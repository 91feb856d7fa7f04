// Checks the IR's structural and type rules (see Ops.def for what each op expects). Every violation is
// reported to the Diagnostics at the op's location, with a message naming the op and the mismatch,
// e.g. `'add' operand 1 has type tensor<4xf32>, expected tensor<4xi32>`. Never asserts on bad IR.
#pragma once

#include "ir/Operation.h"
#include "support/Diagnostics.h"

namespace mt::ir {

/// Returns true if `f` is well formed; otherwise reports every problem found and returns false.
bool verify(const Function &f, Diagnostics &diag);
bool verify(const Module &m, Diagnostics &diag);

} // namespace mt::ir
