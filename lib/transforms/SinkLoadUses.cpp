#include "transforms/SinkLoadUses.h"

#include <unordered_set>
#include <vector>

namespace mt::transforms {
namespace {

using namespace ir;

/// True if `op` or an op nested in its regions reads `v`.
bool reads(Operation *op, const Value *v) {
  bool found = false;
  op->walk([&](Operation *o) {
    for (Value *u : o->operands())
      found |= u == v;
  });
  return found;
}

class SinkLoadUses {
public:
  bool run(Block &b) {
    for (auto &op : b.operations())
      for (unsigned r = 0; r < op->numRegions(); ++r)
        run(op->body(r));
    std::vector<Operation *> ops;
    for (auto &op : b.operations())
      ops.push_back(op.get());
    // Which ops read a load (directly or through ops that do), in program order.
    std::unordered_set<const Value *> fromLoad;
    std::vector<Operation *> candidates;
    for (Operation *op : ops) {
      bool readsLoad = false;
      for (Value *v : op->operands())
        readsLoad |= fromLoad.count(v) > 0;
      if (op->kind() == OpKind::Load) {
        for (auto &r : op->results())
          fromLoad.insert(r.get());
      } else if (readsLoad && op->hasTrait(Pure) && op->numRegions() == 0 && !op->hasTrait(Terminator)) {
        for (auto &r : op->results())
          fromLoad.insert(r.get());
        candidates.push_back(op);
      }
    }
    // Last first, so that an op's users have already moved when it does.
    for (auto it = candidates.rbegin(); it != candidates.rend(); ++it)
      sink(b, *it);
    return changed_;
  }

private:
  void sink(Block &b, Operation *op) {
    auto first = std::next(b.find(op));
    bool passesLoad = false; // only worth it past a load: other ops keep their order
    for (; first != b.operations().end(); ++first) {
      bool uses = (*first)->hasTrait(Terminator);
      for (auto &r : op->results())
        uses |= reads(first->get(), r.get());
      if (uses)
        break;
      passesLoad |= (*first)->kind() == OpKind::Load;
    }
    if (!passesLoad || first == b.operations().end())
      return;
    b.insert(first, b.remove(op)); // a list: `first` stays valid
    changed_ = true;
  }

  bool changed_ = false;
};

} // namespace

bool runSinkLoadUses(ir::Function &f) { return SinkLoadUses().run(f.body()); }

} // namespace mt::transforms
