// The pass registry and the default optimisation pipeline, as a table of contents.
#include "transforms/CSE.h"
#include "transforms/Canonicalize.h"
#include "transforms/DCE.h"
#include "transforms/LICM.h"
#include "transforms/Passes.h"
#include "transforms/SinkLoadUses.h"

namespace mt::transforms {

const std::vector<PassInfo> &allPasses() {
  static const std::vector<PassInfo> passes = {
      {"canonicalize", "fold constants, apply exact algebraic identities, inline constant if/for",
       runCanonicalize},
      {"cse", "merge identical pure ops (scoped by regions)", runCSE},
      {"dce", "remove unused ops without side effects and dead loop-carried values", runDCE},
      {"licm", "hoist loop-invariant pure ops out of for/while", runLICM},
      {"sink-load-uses", "move the pure uses of loads down to their first user (loads in flight together)",
       runSinkLoadUses},
  };
  return passes;
}

const PassInfo *lookupPass(std::string_view name) {
  for (const PassInfo &p : allPasses())
    if (p.name == name)
      return &p;
  return nullptr;
}

const std::vector<std::string> &defaultPipeline() {
  static const std::vector<std::string> pipeline = {
      "canonicalize", // 1. fold what the frontend left constant; simplify x*1, x+0, if(true), ...
      "cse",          // 2. merge the duplicates that specialisation and inlining expose
      "licm",         // 3. hoist invariant address arithmetic and constants out of loops
      "canonicalize", // 4. fold again what hoisting and merging brought together
      "dce",          // 5. drop what is left unused, including dead loop-carried values
      "sink-load-uses", // 6. a block's loads issued together, their uses after them
  };
  return pipeline;
}

} // namespace mt::transforms
