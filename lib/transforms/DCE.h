// dce: dead code elimination.
//
//   %v = load %p          (unused)          -> removed (reads have no effect)
//   %r = for ... { no stores } (unused)     -> removed
//   for ... iter %acc = %init, ... { %n = add %acc, %x; yield %n } with the result unused
//                                           -> the init, block argument, yield operand and result go
//
// Ops whose kind has the MemWrite trait (store, atomics, print, assert, barrier) are never removed,
// nor are for/if/while/reduce/scan whose regions hold one. An unused side-effect-free `while` is
// removed even though it might not terminate (as in MLIR).
#pragma once

#include "ir/Operation.h"

namespace mt::transforms {

/// Returns true if the function changed.
bool runDCE(ir::Function &f);

} // namespace mt::transforms
