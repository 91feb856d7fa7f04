// sink-load-uses: let a block's loads all be in flight before the first of them is waited for.
//
//   %a = load %pa; %af = cast %a; %b = load %pb; %bf = cast %b; %s = add %af, %bf
//     -> %a = load %pa; %b = load %pb; %af = cast %a; %bf = cast %b; %s = add %af, %bf
//
// `tl.load(p).to(tl.float32)` puts a use right after each load, and on the GPU a use waits for the load:
// a kernel reading several tensors then pays one memory latency per tensor. This pass moves each Pure op
// without regions that reads a load's result (or the result of an op so moved) down to just before its
// first user in the same block (an op that holds the user in a region counts as the user), or before the
// terminator, when a load lies in between (otherwise it stays: ops keep their order where nothing is
// gained); nothing else moves, and an op never moves past a user. Blocks are visited in every region.
#pragma once

#include "ir/Operation.h"

namespace mt::transforms {

/// Returns true if the function changed.
bool runSinkLoadUses(ir::Function &f);

} // namespace mt::transforms
