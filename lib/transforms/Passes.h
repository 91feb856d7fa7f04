// The pass registry. Each pass lives in its own file (Canonicalize.cpp, CSE.cpp, DCE.cpp, LICM.cpp, …)
// and exposes one function `bool runX(ir::Function &)` returning whether it changed anything.
// Pipeline.cpp is the ordered list of the default pipeline, readable as a table of contents.
#pragma once

#include "ir/Operation.h"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace mt::transforms {

struct PassInfo {
  std::string_view name; // command-line name: "canonicalize", "cse", "dce", "licm"
  std::string_view description;
  std::function<bool(ir::Function &)> run; // returns true if the function changed
};

/// Every registered pass, in a fixed order.
const std::vector<PassInfo> &allPasses();
const PassInfo *lookupPass(std::string_view name);
/// Names of the default optimisation pipeline, in order.
const std::vector<std::string> &defaultPipeline();

} // namespace mt::transforms
