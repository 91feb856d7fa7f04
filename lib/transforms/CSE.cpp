#include "transforms/CSE.h"

#include <cstring>
#include <functional>
#include <unordered_map>
#include <vector>

namespace mt::transforms {
namespace {

using namespace ir;

/// Attribute equality; doubles compare bitwise so that 0.0 and -0.0 (and NaN payloads) stay apart.
bool sameAttr(const AttrValue &a, const AttrValue &b) {
  if (a.index() != b.index())
    return false;
  if (const double *da = std::get_if<double>(&a)) {
    double db = std::get<double>(b);
    return std::memcmp(da, &db, sizeof db) == 0;
  }
  return a == b;
}

/// Structural equality of ops. Values defined inside the compared regions are matched pairwise
/// through `map_`; anything else must be the very same value.
class Matcher {
public:
  bool ops(Operation &a, Operation &b) {
    if (a.kind() != b.kind() || a.numOperands() != b.numOperands() || a.numResults() != b.numResults() ||
        a.numRegions() != b.numRegions() || a.attrs().size() != b.attrs().size())
      return false;
    for (unsigned i = 0; i < a.numOperands(); ++i)
      if (!values(a.operand(i), b.operand(i)))
        return false;
    for (unsigned i = 0; i < a.numResults(); ++i)
      if (a.result(i)->type() != b.result(i)->type())
        return false;
    for (size_t i = 0; i < a.attrs().size(); ++i)
      if (a.attrs()[i].name != b.attrs()[i].name || !sameAttr(a.attrs()[i].value, b.attrs()[i].value))
        return false;
    for (unsigned r = 0; r < a.numRegions(); ++r)
      if (!blocks(a.body(r), b.body(r)))
        return false;
    for (unsigned i = 0; i < a.numResults(); ++i)
      map_[a.result(i)] = b.result(i);
    return true;
  }

private:
  bool values(Value *a, Value *b) {
    auto it = map_.find(a);
    return it != map_.end() ? it->second == b : a == b;
  }

  bool blocks(Block &a, Block &b) {
    if (a.numArguments() != b.numArguments() || a.operations().size() != b.operations().size())
      return false;
    for (unsigned i = 0; i < a.numArguments(); ++i) {
      if (a.argument(i)->type() != b.argument(i)->type())
        return false;
      map_[a.argument(i)] = b.argument(i);
    }
    for (auto ia = a.operations().begin(), ib = b.operations().begin(); ia != a.operations().end();
         ++ia, ++ib)
      if (!ops(**ia, **ib))
        return false;
    return true;
  }

  std::unordered_map<const Value *, const Value *> map_;
};

size_t hashOp(const Operation &op) {
  size_t h = std::hash<unsigned>()(unsigned(op.kind()));
  auto mix = [&](size_t v) { h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2); };
  for (Value *v : op.operands())
    mix(std::hash<const void *>()(v));
  for (const auto &r : op.results())
    mix(std::hash<const void *>()(r->type()));
  for (const NamedAttr &a : op.attrs())
    mix(std::hash<std::string>()(a.name));
  return h;
}

bool isCandidate(const Operation &op) {
  if (!op.hasTrait(Pure) || op.numResults() == 0)
    return false;
  return op.numRegions() == 0 || op.kind() == OpKind::Reduce || op.kind() == OpKind::Scan;
}

class CSE {
public:
  explicit CSE(Function &f) : f_(f) {}

  bool run() {
    visitBlock(f_.body());
    return changed_;
  }

private:
  /// Each block is a scope: what it defines is visible to the regions nested in it, and gone after.
  void visitBlock(Block &b) {
    scopes_.emplace_back();
    for (auto it = b.operations().begin(); it != b.operations().end();) {
      Operation *op = it->get();
      ++it;
      for (unsigned r = 0; r < op->numRegions(); ++r)
        visitBlock(op->body(r));
      if (!isCandidate(*op))
        continue;
      size_t h = hashOp(*op);
      if (Operation *existing = lookup(*op, h)) {
        for (unsigned i = 0; i < op->numResults(); ++i)
          f_.replaceAllUsesWith(op->result(i), existing->result(i)); // op(a, b); op(a, b) -> one op
        b.erase(op);
        changed_ = true;
        continue;
      }
      scopes_.back().emplace(h, op);
    }
    scopes_.pop_back();
  }

  Operation *lookup(Operation &op, size_t h) {
    for (auto scope = scopes_.rbegin(); scope != scopes_.rend(); ++scope) {
      auto [lo, hi] = scope->equal_range(h);
      for (auto it = lo; it != hi; ++it)
        if (Matcher().ops(*it->second, op))
          return it->second;
    }
    return nullptr;
  }

  Function &f_;
  std::vector<std::unordered_multimap<size_t, Operation *>> scopes_;
  bool changed_ = false;
};

} // namespace

bool runCSE(ir::Function &f) { return CSE(f).run(); }

} // namespace mt::transforms
