// cse: common subexpression elimination over the scoped dominance tree of structured regions.
//
//   %a = add %x, %y ; %b = add %x, %y   -> uses of %b become %a
//
// Candidates are Pure ops without regions, plus reduce/scan whose regions are structurally equal.
// Same kind, operands, attributes (floats compared bitwise) and result types -> one op. A value from
// an enclosing block is reused inside nested regions, never the reverse; the regions of one op do not
// see each other's values.
#pragma once

#include "ir/Operation.h"

namespace mt::transforms {

/// Returns true if the function changed.
bool runCSE(ir::Function &f);

} // namespace mt::transforms
