// Tile IR -> CUDA C++: broadcasts without shared memory, by recomputing the source.
//
// A broadcast moves elements between threads, so in general it goes through shared memory (EmitTile.cpp).
// But the usual sources are index arithmetic: `offs_m[:, None] * stride`, `rows[:, None] < M`, built from
// make_range, constants and scalars by pure elementwise ops. Such a value is a function of the linear index
// alone, so each thread can evaluate it at the source index of each of its own result elements. That is what
// Triton's slice layouts buy; here the expression is simply re-emitted, at most kBudget ops deep.
#include "backend/cuda/EmitterImpl.h"

namespace mt::cuda::detail {

using namespace ir;

namespace {

constexpr int kBudget = 12;   // ops re-emitted for one broadcast source
constexpr int kLazyCost = 40; // ops in the expression of a lazy tile

/// Ops valueAt() can recompute from their operands.
bool recomputable(const Operation &op) {
  switch (op.kind()) {
  case OpKind::MakeRange:
  case OpKind::Splat:
  case OpKind::Constant:
  case OpKind::Hint:
  case OpKind::ExpandDims:
  case OpKind::Reshape:
  case OpKind::Broadcast:
    return op.numResults() == 1;
  default:
    return op.hasTrait(Elementwise) && op.hasTrait(Pure) && op.numResults() == 1;
  }
}

/// Users that read a tile operand only through at() (element i at linear index L).
bool readsThroughAt(const Operation &op) {
  switch (op.kind()) {
  case OpKind::Load:
  case OpKind::Store:
  case OpKind::AtomicRmw:
  case OpKind::AtomicCas:
  case OpKind::Assert:
  case OpKind::Hint:
  case OpKind::ExpandDims:
  case OpKind::Reshape:
  case OpKind::Broadcast:
    return true;
  default:
    return op.hasTrait(Elementwise) && op.hasTrait(Pure);
  }
}

void collectUsers(const Block &b, std::map<const Value *, std::vector<const Operation *>> &users) {
  for (const auto &op : b.operations()) {
    for (const Value *v : op->operands())
      users[v].push_back(op.get());
    for (unsigned r = 0; r < op->numRegions(); ++r)
      collectUsers(op->region(r).block(), users);
  }
}

} // namespace

void KernelEmitter::planLazyValues(const Block &body) {
  std::map<const Value *, std::vector<const Operation *>> users;
  collectUsers(body, users);
  std::map<const Value *, int> cost;
  std::function<void(const Block &)> visit = [&](const Block &b) {
    for (const auto &op : b.operations()) {
      for (unsigned r = 0; r < op->numRegions(); ++r)
        visit(op->region(r).block());
      if (!recomputable(*op) || !op->result()->type()->isBlock())
        continue;
      int c = 1;
      bool ok = true;
      for (const Value *o : op->operands()) {
        if (!o->type()->isBlock())
          continue;
        auto it = cost.find(o);
        ok = ok && it != cost.end() && lazy_.count(o);
        c += ok ? it->second : 0;
      }
      const Value *v = op->result();
      auto us = users.find(v);
      if (!ok || c > kLazyCost || us == users.end())
        continue;
      bool aware = true;
      for (const Operation *u : us->second)
        aware = aware && readsThroughAt(*u);
      if (!aware)
        continue;
      lazy_.insert(v);
      cost[v] = c;
    }
  };
  visit(body);
}

std::string KernelEmitter::broadcastSourceIndex(const Operation &op, const std::string &idx) {
  const std::vector<int64_t> &ss = op.operand(0)->type()->shape();
  const std::vector<int64_t> &ds = op.result()->type()->shape();
  std::vector<int64_t> sst = stridesOf(ss), dst = stridesOf(ds);
  size_t lead = ds.size() - ss.size();
  std::string e;
  for (size_t d = 0; d < ss.size(); ++d) {
    if (ss[d] == 1)
      continue;
    size_t dd = d + lead;
    std::string c = dst[dd] == 1 ? idx : "(" + idx + " / " + num(dst[dd]) + ")";
    if (dd != 0)
      c = "(" + c + " % " + num(ds[dd]) + ")";
    e += (e.empty() ? "" : " + ") + c + (sst[d] == 1 ? "" : " * " + num(sst[d]));
  }
  return e.empty() ? "0" : e;
}

std::optional<std::string> KernelEmitter::valueAt(const Value *v, const std::string &idx, int &budget) {
  if (!v->type()->isBlock())
    return name(v);
  if (isLazy(v))
    budget = std::max(budget, kLazyCost + 1); // planned: its whole expression fits
  const Operation *def = v->definingOp();
  if (!def || --budget < 0)
    return std::nullopt;
  switch (def->kind()) {
  case OpKind::MakeRange:
    return "(mt::i32)(" + num(def->intAttr("start")) + " + " + idx + ")";
  case OpKind::Splat:
    return name(def->operand(0));
  case OpKind::Constant:
    return literal(*def, v->type());
  case OpKind::Hint:
    return valueAt(def->operand(0), idx, budget);
  case OpKind::Load: {
    // Only for a broadcast, when no store or atomic was emitted since this load in the same block:
    // the same memory, read again at the broadcast's own indices (an L1 hit), instead of a shared-memory
    // round trip.
    // Both at the kernel's top level, so that one barrier before the next store orders every re-load
    // before every thread's later stores (emitOp).
    auto epoch = loadEpoch_.find(v);
    if (!reloadBlock_ || epoch == loadEpoch_.end() || epoch->second != sideEffects_ ||
        v->ownerBlock() != reloadBlock_ || reloadBlock_ != &fn_.body())
      return std::nullopt;
    reloaded_ = true;
    std::vector<std::string> ops;
    for (const Value *o : def->operands()) {
      auto e = valueAt(o, idx, budget);
      if (!e)
        return std::nullopt;
      ops.push_back("(" + *e + ")");
    }
    if (ops.size() == 1)
      return "(*" + ops[0] + ")";
    std::string other = ops.size() > 2 ? ops[2] : "mt::zero<" + elemType(v->type(), def) + ">()";
    return "(" + ops[1] + " ? *" + ops[0] + " : " + other + ")";
  }
  case OpKind::ExpandDims:
  case OpKind::Reshape:
  case OpKind::Broadcast: {
    const Value *src = def->operand(0);
    if (!src->type()->isBlock())
      return name(src);
    if (src->type()->numElements() == v->type()->numElements())
      return valueAt(src, idx, budget);
    if (def->kind() != OpKind::Broadcast || src->type()->rank() > v->type()->rank())
      return std::nullopt;
    return valueAt(src, "(" + broadcastSourceIndex(*def, idx) + ")", budget);
  }
  default:
    break;
  }
  if (!def->hasTrait(Elementwise) || !def->hasTrait(Pure) || def->numResults() != 1)
    return std::nullopt;
  std::vector<std::string> operands;
  for (const Value *o : def->operands()) {
    auto e = valueAt(o, idx, budget);
    if (!e)
      return std::nullopt;
    operands.push_back("(" + *e + ")");
  }
  for (unsigned k = 0; k < def->numOperands(); ++k)
    if (def->operand(k)->type()->isBlock())
      exprOverride_[def->operand(k)] = operands[k];
  std::string r = elementwiseExpr(*def);
  for (const Value *o : def->operands())
    exprOverride_.erase(o);
  return "(" + r + ")";
}

bool KernelEmitter::emitBroadcastInRegisters(const Operation &op) {
  const Value *src = op.operand(0);
  const Type *rt = op.result()->type();
  if (src->type()->rank() > rt->rank())
    return false;
  int budget = kBudget;
  reloadBlock_ = op.result()->ownerBlock();
  reloaded_ = false;
  auto e = valueAt(src, "(" + broadcastSourceIndex(op, "L") + ")", budget);
  reloadBlock_ = nullptr;
  if (!e)
    return false;
  reloadBarrierPending_ = reloadBarrierPending_ || reloaded_;
  forEach(rt, declare(op.result(), &op), *e);
  return true;
}

} // namespace mt::cuda::detail
