// Placeholder pass registry so that mt-opt links before the passes land; the passes helper replaces
// this file with the real table of contents.
#include "transforms/Passes.h"

namespace mt::transforms {

const std::vector<PassInfo> &allPasses() {
  static const std::vector<PassInfo> passes;
  return passes;
}

const PassInfo *lookupPass(std::string_view name) {
  for (const PassInfo &p : allPasses())
    if (p.name == name)
      return &p;
  return nullptr;
}

const std::vector<std::string> &defaultPipeline() {
  static const std::vector<std::string> pipeline;
  return pipeline;
}

} // namespace mt::transforms
