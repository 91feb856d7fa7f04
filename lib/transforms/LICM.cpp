#include "transforms/LICM.h"

#include <vector>

namespace mt::transforms {
namespace {

using namespace ir;

/// True if `v` is defined outside `loop` (not in any region nested in it).
bool definedOutside(Value *v, Operation *loop) {
  Block *b = v->ownerBlock();
  for (Operation *p = b ? b->parentOp() : nullptr; p; p = p->parentOp())
    if (p == loop)
      return false;
  return true;
}

bool isNonZeroIntConst(Value *v) {
  Operation *def = v->definingOp();
  return def && def->kind() == OpKind::Constant && def->intAttr("value") != 0;
}

/// Pure, region-free, and safe to run even if the loop body never would.
bool isHoistable(const Operation &op) {
  if (!op.hasTrait(Pure) || op.numRegions() != 0 || op.hasTrait(Terminator))
    return false;
  bool intDivision =
      (op.kind() == OpKind::Div || op.kind() == OpKind::Rem) && op.result(0)->type()->isIntLike();
  return !intDivision || isNonZeroIntConst(op.operand(1));
}

class LICM {
public:
  bool run(Block &b) {
    std::vector<Operation *> ops;
    for (auto &op : b.operations())
      ops.push_back(op.get());
    for (Operation *op : ops) {
      for (unsigned r = 0; r < op->numRegions(); ++r)
        run(op->body(r)); // inner loops first
      if (op->kind() == OpKind::For || op->kind() == OpKind::While)
        hoistFrom(op);
    }
    return changed_;
  }

private:
  /// for { %v = op(outside...) } -> %v = op(outside...); for { }
  void hoistFrom(Operation *loop) {
    Block *parent = loop->parentBlock();
    for (unsigned r = 0; r < loop->numRegions(); ++r) {
      Block &body = loop->body(r);
      std::vector<Operation *> ops;
      for (auto &op : body.operations())
        ops.push_back(op.get());
      for (Operation *op : ops) {
        if (!isHoistable(*op))
          continue;
        bool invariant = true;
        for (Value *v : op->operands())
          invariant &= definedOutside(v, loop);
        if (!invariant)
          continue;
        parent->insert(parent->find(loop), body.remove(op));
        changed_ = true;
      }
    }
  }

  bool changed_ = false;
};

} // namespace

bool runLICM(ir::Function &f) { return LICM().run(f.body()); }

} // namespace mt::transforms
