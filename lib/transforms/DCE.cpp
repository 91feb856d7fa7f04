#include "transforms/DCE.h"

#include "support/Diagnostics.h"

#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace mt::transforms {
namespace {

using namespace ir;

constexpr int kMaxIterations = 16;

/// True if `op` or anything nested in it writes memory (or prints, asserts, synchronises).
bool hasSideEffects(Operation *op) {
  bool effects = false;
  op->walk([&](Operation *o) { effects |= o->hasTrait(MemWrite); });
  return effects;
}

class DCE {
public:
  explicit DCE(Function &f) : f_(f) {}

  bool run() {
    bool changed = false;
    for (int iter = 0; iter < kMaxIterations; ++iter) {
      countUses();
      bool c = sweep(f_.body());
      changed |= c;
      if (!c)
        break;
    }
    return changed;
  }

private:
  void countUses() {
    uses_.clear();
    f_.walk([&](Operation *op) {
      for (Value *v : op->operands())
        ++uses_[v];
    });
  }

  bool unused(Operation *op) {
    for (const auto &r : op->results())
      if (uses_[r.get()] > 0)
        return false;
    return true;
  }

  void erase(Operation *op) {
    op->walk([&](Operation *o) {
      for (Value *v : o->operands())
        --uses_[v];
    });
    op->parentBlock()->erase(op);
  }

  /// Back to front, so that users go before the values they use.
  bool sweep(Block &b) {
    bool changed = false;
    std::vector<Operation *> ops;
    for (auto &op : b.operations())
      ops.push_back(op.get());
    for (auto it = ops.rbegin(); it != ops.rend(); ++it) {
      Operation *op = *it;
      for (unsigned r = 0; r < op->numRegions(); ++r)
        changed |= sweep(op->body(r));
      if (op->kind() == OpKind::For && dropDeadIterArgs(op, op))
        changed = true;
      if (op->hasTrait(Terminator) || !unused(op) || hasSideEffects(op))
        continue;
      erase(op); // unused, no effects -> gone
      changed = true;
    }
    return changed;
  }

  /// Ops of `body` (before its terminator) that reach a side effect or a yield operand other than
  /// the slots in `dropped`; everything else only feeds those slots.
  std::unordered_set<Operation *> liveOps(Block &body, Operation *yield, const std::vector<bool> &dropped) {
    std::unordered_set<const Value *> liveValues;
    std::unordered_set<Operation *> live;
    for (unsigned j = 0; j < yield->numOperands(); ++j)
      if (!dropped[j])
        liveValues.insert(yield->operand(j));
    for (auto it = body.operations().rbegin(); it != body.operations().rend(); ++it) {
      Operation *op = it->get();
      if (op == yield)
        continue;
      bool isLive = hasSideEffects(op);
      for (const auto &r : op->results())
        isLive |= liveValues.count(r.get()) > 0;
      if (!isLive)
        continue;
      live.insert(op);
      op->walk([&](Operation *o) {
        for (Value *v : o->operands())
          liveValues.insert(v);
      });
    }
    return live;
  }

  /// for ... iter(%acc = %init) { %n = f(%acc); yield %n } with the result unused
  ///   -> for ... { } : the init, the block argument, the yield operand and the result are dropped.
  /// `forOp` is replaced by a new op when anything is dropped; returns whether it was.
  bool dropDeadIterArgs(Operation *forOp, Operation *&replaced) {
    Block &body = forOp->body();
    Operation *yield = body.terminator();
    unsigned n = forOp->numResults();
    if (!yield || yield->numOperands() != n || body.numArguments() != n + 1)
      return false;
    std::vector<bool> dropped(n, false);
    bool any = false;
    for (unsigned i = 0; i < n; ++i) {
      if (uses_[forOp->result(i)] > 0)
        continue;
      std::vector<bool> only(n, false);
      only[i] = true;
      bool argLive = false;
      for (Operation *op : liveOps(body, yield, only))
        op->walk([&](Operation *o) {
          for (Value *v : o->operands())
            argLive |= v == body.argument(1 + i);
        });
      for (unsigned j = 0; j < n; ++j)
        argLive |= j != i && yield->operand(j) == body.argument(1 + i);
      if (argLive)
        continue;
      dropped[i] = true;
      any = true;
    }
    if (!any)
      return false;

    // Erase what only fed the dropped slots, then the slots themselves.
    std::unordered_set<Operation *> live = liveOps(body, yield, dropped);
    std::vector<Operation *> dead;
    for (auto &op : body.operations())
      if (op.get() != yield && !live.count(op.get()))
        dead.push_back(op.get());
    std::vector<Value *> kept;
    for (unsigned j = 0; j < n; ++j)
      if (!dropped[j])
        kept.push_back(yield->operand(j));
    yield->setOperands(kept);
    for (auto it = dead.rbegin(); it != dead.rend(); ++it)
      body.erase(*it);

    // Rebuild the loop with fewer carried values.
    std::vector<Value *> operands{forOp->operand(0), forOp->operand(1), forOp->operand(2)};
    std::vector<const Type *> types;
    for (unsigned i = 0; i < n; ++i) {
      if (dropped[i])
        continue;
      operands.push_back(forOp->operand(3 + i));
      types.push_back(forOp->result(i)->type());
    }
    Block *parent = forOp->parentBlock();
    Operation *newFor = parent->insert(
        parent->find(forOp), Operation::create(OpKind::For, forOp->loc(), operands, types, forOp->attrs()));
    Block &newBody = newFor->body();
    auto moveValue = [&](Value *from, Value *to) {
      to->setNameHint(from->nameHint());
      f_.replaceAllUsesWith(from, to);
    };
    moveValue(body.argument(0), newBody.addArgument(body.argument(0)->type()));
    for (unsigned i = 0, k = 0; i < n; ++i) {
      if (dropped[i]) {
        MT_ASSERT(!f_.hasUses(body.argument(1 + i))) << "dropped loop-carried value still used";
        continue;
      }
      moveValue(body.argument(1 + i), newBody.addArgument(body.argument(1 + i)->type()));
      moveValue(forOp->result(i), newFor->result(k++));
    }
    while (!body.empty())
      newBody.push_back(body.remove(body.operations().front().get()));
    parent->erase(forOp);
    replaced = newFor;
    countUses();
    return true;
  }

  Function &f_;
  std::unordered_map<const Value *, int> uses_;
};

} // namespace

bool runDCE(ir::Function &f) { return DCE(f).run(); }

} // namespace mt::transforms
