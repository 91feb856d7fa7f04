// Tile IR -> CUDA C++: software pipelining of the loads in `for` loops (register prefetch).
//
// A loop such as
//   for t in range(T):
//       x = tl.load(x_b + t * stride_t + cols, mask=mask_d)   # issue, then wait for memory at once
//       h = a * h + x
// waits for every iteration's loads before it computes; with few programs per SM nothing else hides that
// latency. Here a load at the top level of the body whose pointer, mask and other are functions of the
// induction variable and of values defined before the loop (through pure ops: index arithmetic, casts,
// splats, broadcasts) is issued one iteration early:
//
//   T pf[PER];                                               // the prefetch registers
//   if (step > 0 ? lb < ub : lb > ub) pf = load(operands at iv = lb);
//   for (iv = lb; ...; iv += step) {
//     ...
//     T x[PER] = pf;                                         // where the load stood
//     next = iv + step;
//     if (step > 0 ? next < ub : next > ub) pf = load(operands at iv = next);
//     ...
//   }
//
// The next iteration's operands are rebuilt with the induction variable substituted (rebuildAt), and the
// load goes through the ordinary load path (vector accesses, mask and `other` included). It reads exactly
// the addresses, under exactly the mask, that the next iteration would read, only earlier; so it is done
// only where nothing in between can change that memory as far as the program can tell: no store in the
// body writes through a pointer rooted in the same kernel parameter (or in one that cannot be traced), and
// loops with atomics, barriers or asserts are left alone. Distinct pointer parameters are assumed not to
// alias, as Triton's pipeliner assumes. A loop-carried pointer that the body advances by a loop-invariant
// amount (`a_ptrs += BLOCK_K * stride_ak`) counts too: its next value is the yielded one, rebuilt from the
// current one. The prefetch registers of one loop are capped at kMaxRegisters 32-bit registers per thread.
//
// Deeper (EmitOptions::prefetchDepth = D > 1, where the tiles are small: kMaxDeepRegisters): D register
// sets hold iterations iv + 0 .. D - 1 and the body is emitted D times per loop iteration (a `break`
// between copies when the loop ends), copy c reading set c and refilling it at the end of the body with
// iteration iv + D * step. Loading into a set only once its value is dead lets ptxas keep each set in the
// same registers: a rotation (pf0 = pf1; pf1 = load) or a refill while the old value is still live costs
// register moves at the loop's back edge, and a move waits for the load it copies. With one set (D = 1) the
// refill stays at the load's position, to overlap the rest of the body.
#include "backend/cuda/EmitterImpl.h"

namespace mt::cuda::detail {

using namespace ir;

namespace {

constexpr int64_t kMaxRegisters = 32;     // prefetch registers per thread, all loads of one loop together
constexpr int64_t kMaxDeepRegisters = 16; // the same, loading more than one iteration ahead
constexpr int kRebuildBudget = 80;        // ops rebuilt for one operand

/// Follows a pointer through ops that keep its base: addptr, splat, shape ops, hints, pointer casts.
const Value *stripToBase(const Value *v) {
  for (int depth = 0; depth < 64; ++depth) {
    const Operation *def = v->definingOp();
    if (!def || def->numOperands() == 0)
      return v;
    switch (def->kind()) {
    case OpKind::AddPtr:
    case OpKind::Splat:
    case OpKind::Broadcast:
    case OpKind::ExpandDims:
    case OpKind::Reshape:
    case OpKind::Trans:
    case OpKind::Hint:
      v = def->operand(0);
      continue;
    case OpKind::Cast:
    case OpKind::Bitcast:
      if (!def->operand(0)->type()->isPointerLike())
        return v;
      v = def->operand(0);
      continue;
    default:
      return v;
    }
  }
  return v;
}

/// The kernel parameter pointer value `v` is derived from, or null when that cannot be traced (a pointer
/// loaded from memory, chosen by a select between parameters, or the result of a control-flow op).
const Value *rootPointer(const Value *v, int depth = 0) {
  if (depth > 8)
    return nullptr;
  v = stripToBase(v);
  if (const Operation *def = v->definingOp()) {
    if (def->kind() != OpKind::Select)
      return nullptr;
    const Value *a = rootPointer(def->operand(1), depth + 1);
    return a == rootPointer(def->operand(2), depth + 1) ? a : nullptr;
  }
  const Block *b = v->ownerBlock();
  const Operation *loop = b ? b->parentOp() : nullptr;
  if (!loop)
    return v; // a kernel parameter
  // A loop-carried pointer: the root of its init, when what the body yields for it keeps that root.
  if (loop->kind() != OpKind::For || v->index() == 0 || loop->numOperands() < 3 + v->index())
    return nullptr;
  const Value *root = rootPointer(loop->operand(2 + v->index()), depth + 1);
  const Operation *term = b->terminator();
  if (!root || !term || term->numOperands() < v->index())
    return nullptr;
  const Value *next = term->operand(v->index() - 1);
  if (stripToBase(next) == v || rootPointer(next, depth + 1) == root)
    return root;
  return nullptr;
}

/// What may write memory in a loop body: the roots of its stores (null: unknown), and whether it holds an
/// atomic, a barrier, an assert or another op with effects the prefetch must not be moved across.
struct BodyEffects {
  std::vector<const Value *> storeRoots;
  bool unsafe = false;
};

void collectEffects(const Block &b, BodyEffects &fx) {
  for (const auto &op : b.operations()) {
    if (op->kind() == OpKind::Store)
      fx.storeRoots.push_back(op->numOperands() ? rootPointer(op->operand(0)) : nullptr);
    else if (op->hasTrait(MemWrite) && op->kind() != OpKind::Print)
      fx.unsafe = true; // atomics (they may order other programs' stores), barriers, asserts
    for (unsigned r = 0; r < op->numRegions(); ++r)
      collectEffects(op->region(r).block(), fx);
  }
}

/// 32-bit registers per thread of `per` elements of `t`'s element type.
int64_t registersOf(const Type *t, int64_t per) {
  const Type *s = t->scalarType();
  int64_t bits = s->isPointer() ? 64 : std::max(8u, bitWidth(s->dtype()));
  return (per * bits + 31) / 32;
}

} // namespace

std::optional<std::string> KernelEmitter::rebuildAt(const Value *v, const std::string &idx, const Block &body,
                                                    const std::map<const Value *, ArgExpr> &args,
                                                    int &budget) {
  if (--budget < 0)
    return std::nullopt;
  bool tile = v->type()->isBlock();
  if (v->ownerBlock() != &body) { // defined before the loop: the same in every iteration
    if (!tile)
      return name(v);
    if (idx == "L" && !isLazy(v))
      return name(v) + "[i]";
    int b = 12;
    if (auto e = valueAt(v, idx, b))
      return "(" + *e + ")";
    return std::nullopt;
  }
  if (v->isBlockArg()) {
    auto it = args.find(v);
    return it == args.end() ? std::nullopt : it->second(idx);
  }
  const Operation *def = v->definingOp();
  if (def->numResults() != 1)
    return std::nullopt;
  switch (def->kind()) {
  case OpKind::Constant:
    return literal(*def, v->type());
  case OpKind::MakeRange:
    return "(mt::i32)(" + num(def->intAttr("start")) + " + " + idx + ")";
  case OpKind::Splat:
  case OpKind::Hint:
    return rebuildAt(def->operand(0), idx, body, args, budget);
  case OpKind::ExpandDims:
  case OpKind::Reshape:
  case OpKind::Broadcast: {
    const Value *src = def->operand(0);
    if (!src->type()->isBlock() || src->type()->numElements() == v->type()->numElements())
      return rebuildAt(src, idx, body, args, budget);
    if (def->kind() != OpKind::Broadcast || src->type()->rank() > v->type()->rank())
      return std::nullopt;
    return rebuildAt(src, "(" + broadcastSourceIndex(*def, idx) + ")", body, args, budget);
  }
  default:
    break;
  }
  if (!def->hasTrait(Elementwise) || !def->hasTrait(Pure))
    return std::nullopt;
  std::vector<std::string> operands;
  for (const Value *o : def->operands()) {
    auto e = rebuildAt(o, idx, body, args, budget);
    if (!e)
      return std::nullopt;
    operands.push_back("(" + *e + ")");
  }
  // elementwiseExpr reads its operands through at(), which returns these while they are set.
  for (unsigned k = 0; k < def->numOperands(); ++k)
    exprOverride_[def->operand(k)] = operands[k];
  std::string r = elementwiseExpr(*def);
  for (const Value *o : def->operands())
    exprOverride_.erase(o);
  return "(" + r + ")";
}

std::shared_ptr<KernelEmitter::LoopArgs>
KernelEmitter::argsAfter(const Operation &forOp, std::shared_ptr<LoopArgs> prev, const std::string &ivName) {
  const Block &body = forOp.region(0).block();
  const Operation *term = body.terminator();
  auto args = std::make_shared<LoopArgs>();
  (*args)[body.argument(0)] = [ivName](const std::string &) { return std::optional<std::string>(ivName); };
  for (unsigned k = 1; k < body.numArguments() && k <= term->numOperands(); ++k)
    (*args)[body.argument(k)] = [this, yielded = term->operand(k - 1), pb = &body,
                                 prev](const std::string &idx) {
      int budget = kRebuildBudget;
      return rebuildAt(yielded, idx, *pb, *prev, budget);
    };
  return args;
}

void KernelEmitter::emitPrefetchPrologue(const Operation &forOp) {
  if (!opts_.prefetchLoads || opts_.prefetchDepth < 1)
    return;
  const Block &body = forOp.region(0).block();
  const Operation *term = body.terminator();
  if (!term || term->kind() != OpKind::Yield)
    return;
  BodyEffects fx;
  collectEffects(body, fx);
  if (fx.unsafe)
    return;
  const Value *iv = body.argument(0);
  PrefetchLoop pl;
  pl.ivType = elemType(iv->type(), &forOp);
  pl.ub = name(forOp.operand(1));
  pl.step = name(forOp.operand(2));
  std::string lb = name(forOp.operand(0));

  // The body's arguments at the first iteration (lb and the inits) and at the current one (as bound); those
  // of later iterations follow through argsAfter (a carried value: what the body yields, rebuilt).
  auto first = std::make_shared<LoopArgs>(), current = std::make_shared<LoopArgs>();
  (*first)[iv] = [lb](const std::string &) { return std::optional<std::string>(lb); };
  (*current)[iv] = [this, iv](const std::string &) { return std::optional<std::string>(name(iv)); };
  for (unsigned k = 1; k < body.numArguments() && k <= term->numOperands(); ++k) {
    const Value *arg = body.argument(k), *init = forOp.operand(2 + k);
    (*first)[arg] = [this, init, pb = &body](const std::string &idx) {
      int budget = kRebuildBudget;
      return rebuildAt(init, idx, *pb, {}, budget);
    };
    (*current)[arg] = [this, arg](const std::string &idx) -> std::optional<std::string> {
      if (!arg->type()->isBlock())
        return name(arg);
      if (isLazy(arg)) { // an advanced pointer tile: init + running offset (EmitRemat.cpp)
        int b = 0;
        auto e = valueAt(arg, idx, b);
        return e ? std::optional<std::string>("(" + *e + ")") : std::nullopt;
      }
      if (idx != "L")
        return std::nullopt;
      return name(arg) + "[i]";
    };
  }
  // `depth` iterations ahead of the current one / of the first one, the induction variables named `iv`_pfK.
  auto ahead = [&](std::shared_ptr<LoopArgs> base, int from, int depth) {
    for (int k = from + 1; k <= from + depth; ++k)
      base = argsAfter(forOp, base, name(iv) + "_pf" + num(k));
    return base;
  };
  auto rebuilds = [&](const Operation &op, int depth) {
    auto pro = ahead(first, 0, depth - 1), next = ahead(current, 0, depth);
    for (const Value *o : op.operands()) {
      int b1 = kRebuildBudget, b2 = kRebuildBudget;
      if (!rebuildAt(o, "L", body, *pro, b1) || !rebuildAt(o, "L", body, *next, b2))
        return false;
    }
    return true;
  };

  // The loads to prefetch, in body order while the register budget lasts; then as many iterations ahead as
  // the option and the budget allow.
  std::vector<const Operation *> chosen;
  int64_t registers = 0;
  for (const auto &opPtr : body.operations()) {
    const Operation &op = *opPtr;
    if (op.kind() != OpKind::Load || op.numResults() != 1 || op.numOperands() < 1 || op.numOperands() > 3 ||
        !op.operand(0)->type()->isPointerLike() ||
        pipedLoads_.count(&op)) // cp.async rings: EmitDotPipeline.cpp
      continue;
    const Value *root = rootPointer(op.operand(0));
    bool hazard = false; // a store that may write what this load reads
    for (const Value *s : fx.storeRoots)
      hazard = hazard || !s || !root || s == root;
    const Type *rt = op.result()->type();
    int64_t cost = registersOf(rt, per(rt));
    if (hazard || registers + cost > kMaxRegisters || !rebuilds(op, 1))
      continue;
    registers += cost;
    chosen.push_back(&op);
  }
  if (chosen.empty())
    return;
  // Deeper only for small tiles (the sequential scans' rows): the loop is unrolled by the depth.
  pl.depth = int(std::max<int64_t>(1, std::min<int64_t>(opts_.prefetchDepth, kMaxDeepRegisters / registers)));
  // A loop whose dots are fed by cp.async rings (EmitDotPipeline.cpp) is not unrolled: the rings' stage
  // bookkeeping assumes one copy of the body per iteration (the backward attention kernel's dK/dV came out
  // wrong with both).
  if (loopPipes_.count(&forOp))
    pl.depth = 1;
  for (const Operation *op : chosen)
    if (pl.depth > 1 && !rebuilds(*op, pl.depth))
      pl.depth = 1;
  pl.next = ahead(current, 0, pl.depth);

  for (const Operation *op : chosen) {
    const Value *r = op->result();
    std::string base = fresh(r) + "_pf";
    PrefetchedLoad &p = prefetch_[op] = PrefetchedLoad{}; // a loop inside an unrolled one is planned again
    p.loop = &forOp;
    for (int k = 0; k < pl.depth; ++k) {
      p.regs.push_back(base + (pl.depth > 1 ? num(k) : ""));
      line(elemType(r->type(), op) + " " + p.regs.back() +
           (r->type()->isBlock() ? "[" + num(perOf(r)) + "]" : "") +
           "; // prefetched loads (EmitPipeline.cpp)");
    }
  }
  // Iteration lb + k * step goes to registers k, if the loop gets that far.
  open("");
  std::string ok = fresh() + "_pfok";
  line("bool " + ok + " = " + pl.step + " > 0 ? " + lb + " < " + pl.ub + " : " + lb + " > " + pl.ub + ";");
  auto stage = first;
  std::string prevIv = lb;
  for (int k = 0; k < pl.depth; ++k) {
    if (k > 0) {
      std::string ivk = name(iv) + "_pf" + num(k);
      line("const " + pl.ivType + " " + ivk + " = mt::add(" + prevIv + ", (" + pl.ivType + ")" + pl.step +
           ");");
      line(ok + " = " + ok + " && (" + pl.step + " > 0 ? " + ivk + " < " + pl.ub + " : " + ivk + " > " +
           pl.ub + ");");
      stage = argsAfter(forOp, stage, ivk);
      prevIv = ivk;
    }
    open("if (" + ok + ")");
    for (const Operation *op : chosen)
      emitLoadFrom(*op, prefetch_[op].regs[size_t(k)], body, *stage);
    close();
  }
  close();
  prefetchLoops_[&forOp] = pl;
}

void KernelEmitter::emitLoadFrom(const Operation &load, const std::string &regs, const Block &body,
                                 const LoopArgs &args) {
  std::vector<std::pair<const Value *, std::string>> operands;
  for (const Value *o : load.operands()) {
    int budget = kRebuildBudget;
    auto e = rebuildAt(o, "L", body, args, budget);
    MT_ASSERT(e) << "CUDA emitter: a prefetched load's operand cannot be rebuilt";
    operands.push_back({o, "(" + *e + ")"});
  }
  for (const auto &[v, e] : operands)
    exprOverride_[v] = e;
  emitLoad(load, regs);
  for (const auto &[v, e] : operands)
    exprOverride_.erase(v);
}

bool KernelEmitter::emitPrefetchedLoad(const Operation &op) {
  auto it = prefetch_.find(&op);
  if (it == prefetch_.end())
    return false;
  PrefetchLoop &pl = prefetchLoops_.at(it->second.loop);
  const Type *rt = op.result()->type();
  // Copy c of the unrolled body reads registers c, then loads `depth` iterations ahead into them: one
  // iteration ahead right here, so that the load overlaps the rest of the body; deeper at the end of the
  // body, once the registers' value is dead, so that the load can reuse them with no register moves.
  const std::string &mine = it->second.regs[size_t(pl.copy)];
  if (rt->isBlock())
    assign(rt, declare(op.result(), &op), mine, layoutOf(op.result()));
  else
    declare(op.result(), &op, mine);
  if (pl.depth == 1)
    emitLoadAhead(op);
  else
    pl.pending.push_back(&op);
  return true;
}

void KernelEmitter::emitLoadAhead(const Operation &op) {
  const PrefetchedLoad &p = prefetch_.at(&op);
  const PrefetchLoop &pl = prefetchLoops_.at(p.loop);
  const Block &body = p.loop->region(0).block();
  const Type *rt = op.result()->type();
  const std::string &mine = p.regs[size_t(pl.copy)];
  open("");
  std::string iv = name(body.argument(0)), ok = fresh() + "_pfok";
  for (int k = 1; k <= pl.depth; ++k) {
    std::string ivk = name(body.argument(0)) + "_pf" + num(k);
    line("const " + pl.ivType + " " + ivk + " = mt::add(" + iv + ", (" + pl.ivType + ")" + pl.step + ");");
    std::string cond = pl.step + " > 0 ? " + ivk + " < " + pl.ub + " : " + ivk + " > " + pl.ub;
    line(k == 1 ? "bool " + ok + " = " + cond + ";" : ok + " = " + ok + " && (" + cond + ");");
    iv = ivk;
  }
  open("if (" + ok + ")");
  emitLoadFrom(op, mine, body, *pl.next);
  // Written on both paths, the registers never merge with their old value (which would need a copy that
  // waits for the load); the zeros are never read, there is no such iteration.
  close(" else {");
  ++indent_;
  forEach(rt, mine, "mt::zero<" + elemType(rt, &op) + ">()", layoutOf(op.result()));
  close();
  close();
}

void KernelEmitter::emitPrefetchTail(const Operation &forOp) {
  auto it = prefetchLoops_.find(&forOp);
  if (it == prefetchLoops_.end())
    return;
  std::vector<const Operation *> pending = std::move(it->second.pending);
  it->second.pending.clear();
  for (const Operation *op : pending)
    emitLoadAhead(*op);
}

int KernelEmitter::prefetchCopies(const Operation &forOp) const {
  auto it = prefetchLoops_.find(&forOp);
  return it == prefetchLoops_.end() ? 1 : it->second.depth;
}

void KernelEmitter::setPrefetchCopy(const Operation &forOp, int copy) {
  if (auto it = prefetchLoops_.find(&forOp); it != prefetchLoops_.end())
    it->second.copy = copy;
}

} // namespace mt::cuda::detail
