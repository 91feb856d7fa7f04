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

/// Loop-carried tiles of `loop` (a for) that each iteration advances by a uniform step: the yield gives
/// back `addptr %arg, splat(s)` (or an integer `add`, or a constant step) whose only user is the yield,
/// and the argument and loop result are read only through at(). Returns (argument index k, advance op).
std::vector<std::pair<unsigned, const Operation *>>
advancedIterArgs(const Operation &loop,
                 const std::map<const Value *, std::vector<const Operation *>> &users) {
  std::vector<std::pair<unsigned, const Operation *>> r;
  Block &body = const_cast<Operation &>(loop).body(0);
  const Operation *yield = body.terminator();
  if (!yield || yield->kind() != OpKind::Yield)
    return r;
  auto readOnlyThroughAt = [&](const Value *v, const Operation *except) {
    auto it = users.find(v);
    if (it == users.end())
      return true;
    for (const Operation *u : it->second)
      if (u != except && !readsThroughAt(*u))
        return false;
    return true;
  };
  for (unsigned k = 0; k + 1 < body.numArguments() && k < yield->numOperands() && k < loop.numResults();
       ++k) {
    const Value *arg = body.argument(k + 1), *next = yield->operand(k);
    const Operation *adv = next->definingOp();
    if (!arg->type()->isBlock() || !adv || adv->parentBlock() != &body || adv->numOperands() != 2 ||
        adv->operand(0) != arg || next->type() != arg->type())
      continue;
    bool intAdd = adv->kind() == OpKind::Add && arg->type()->isIntLike();
    if (adv->kind() != OpKind::AddPtr && !intAdd)
      continue;
    const Operation *step = adv->operand(1)->definingOp();
    if (!step || (step->kind() != OpKind::Splat && step->kind() != OpKind::Constant))
      continue;
    auto nextUsers = users.find(next);
    if (nextUsers == users.end() || nextUsers->second.size() != 1 || nextUsers->second[0] != yield)
      continue;
    if (!readOnlyThroughAt(arg, adv) || !readOnlyThroughAt(loop.result(k), nullptr))
      continue;
    r.emplace_back(k, adv);
  }
  return r;
}

} // namespace

void KernelEmitter::planLazyValues(const Block &body) {
  std::map<const Value *, std::vector<const Operation *>> users;
  collectUsers(body, users);
  // Loop inits of advanced iter args are read through at() once those args are lazy.
  std::map<const Operation *, std::vector<std::pair<unsigned, const Operation *>>> advanced;
  std::set<std::pair<const Operation *, const Value *>> initUses;
  std::function<void(const Block &)> findLoops = [&](const Block &b) {
    for (const auto &op : b.operations()) {
      for (unsigned r = 0; r < op->numRegions(); ++r)
        findLoops(op->region(r).block());
      if (op->kind() != OpKind::For)
        continue;
      advanced[op.get()] = advancedIterArgs(*op, users);
      for (auto &[k, adv] : advanced[op.get()])
        initUses.insert({op.get(), op->operand(3 + k)});
    }
  };
  findLoops(body);
  std::map<const Value *, int> cost;
  std::function<void(const Block &)> visit = [&](const Block &b) {
    for (const auto &op : b.operations()) {
      if (op->kind() == OpKind::For) {
        Block &lb = op->region(0).block();
        for (auto &[k, adv] : advanced[op.get()]) {
          const Value *init = op->operand(3 + k);
          bool onlyAdvanced = true; // every use of init in this loop is an advanced arg's init
          for (unsigned o = 3; o < op->numOperands(); ++o)
            if (op->operand(o) == init) {
              bool adv2 = false;
              for (auto &[k2, a2] : advanced[op.get()])
                adv2 = adv2 || k2 + 3 == o;
              onlyAdvanced = onlyAdvanced && adv2;
            }
          if (!lazy_.count(init) || !onlyAdvanced || cost[init] + 2 > kLazyCost)
            continue;
          const Value *arg = lb.argument(k + 1);
          lazy_.insert(arg);
          lazy_.insert(op->result(k));
          lazy_.insert(adv->result());
          cost[arg] = cost[op->result(k)] = cost[adv->result()] = cost[init] + 2;
          lazyIter_[arg] = lazyIter_[op->result(k)] = LazyIter{init, adv, ""};
        }
      }
      for (unsigned r = 0; r < op->numRegions(); ++r)
        visit(op->region(r).block());
      if (!recomputable(*op) || !op->result()->type()->isBlock())
        continue;
      int c = 1;
      bool ok = true;
      for (const Value *o : op->operands()) {
        if (!o->type()->isBlock())
          continue;
        const Operation *od = o->definingOp();
        if (od && od->kind() == OpKind::Constant) { // a splat literal: read in place by at()
          c += 1;
          continue;
        }
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
        aware = aware && (readsThroughAt(*u) || initUses.count({u, v}));
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
    return pipeSubst_ ? scalarAt(v) : name(v);
  if (auto it = lazyIter_.find(v); it != lazyIter_.end() && !it->second.offset.empty()) {
    auto ov = lazyInitOverride_.find(it->second.init);
    auto e = ov != lazyInitOverride_.end() ? std::optional<std::string>(ov->second)
                                           : valueAt(it->second.init, idx, budget);
    if (!e)
      return std::nullopt;
    std::string off = it->second.offset;
    const Operation *adv = it->second.advance;
    if (pipeSubst_ && adv->parentBlock() == &const_cast<Operation *>(pipeSubst_->loop)->body(0)) {
      // A later iteration (EmitDotPipeline.cpp): the running offset plus `distance` more steps.
      int b = 4;
      auto step = valueAt(adv->operand(1), "0", b);
      if (!step)
        return std::nullopt;
      if (adv->kind() == OpKind::AddPtr)
        off = "(" + off + " + (mt::i64)" + pipeSubst_->distance + " * (mt::i64)(" + *step + "))";
      else
        off = "mt::add(" + off + ", mt::mul(" + *step + ", (" + elemType(v->type()->scalarType(), adv) + ")" +
              pipeSubst_->distance + "))";
    }
    if (adv->kind() == OpKind::AddPtr)
      return "(" + *e + " + " + off + ")";
    return "mt::add(" + *e + ", " + off + ")";
  }
  if (isLazy(v))
    budget = std::max(budget, kLazyCost + 1); // planned: its whole expression fits
  const Operation *def = v->definingOp();
  if (!def || --budget < 0)
    return std::nullopt;
  switch (def->kind()) {
  case OpKind::MakeRange:
    return "(mt::i32)(" + num(def->intAttr("start")) + " + " + idx + ")";
  case OpKind::Splat:
    return valueAt(def->operand(0), idx, budget);
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
      return valueAt(src, idx, budget);
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
  forEach(rt, declare(op.result(), &op), *e, layoutOf(op.result()));
  return true;
}

} // namespace mt::cuda::detail
