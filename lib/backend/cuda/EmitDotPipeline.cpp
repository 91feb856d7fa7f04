// Tile IR -> CUDA C++: software pipelining of the loads that feed a loop's tensor-core dot.
//
//   for k in range(...):                        mt_stage = 0; prologue: iterations 0 .. S-2 -> stages
//     a = tl.load(a_ptrs, mask=..., other=0)    (not emitted here)
//     b = tl.load(b_ptrs, mask=..., other=0)    (not emitted here)
//     acc = tl.dot(a, b, acc)                   wait until this iteration's copies landed; barrier;
//     a_ptrs += BLOCK_K * stride_ak             issue iteration k + S - 1 into the stage freed last
//                                               iteration; mma from stage mt_stage
//
// The loads become cp.async copies straight into shared memory, in the rows the mma reads (A: M x K,
// B: K x N, padded as in EmitDot.cpp), issued S - 1 iterations ahead into a ring of S stages, so that
// global latency overlaps the tensor cores (Triton's num_stages). The addresses of a later iteration are
// the same lazy expressions (EmitRemat.cpp) with the induction variable advanced (pipeSubst_): scalars the
// body computes from it are recomputed (scalarAt), the loop's advanced pointers add the steps to their
// running offsets, and loop-carried scalars the yield advances by a uniform step (the offsets of
// tl.advance'd block pointers) add the steps to their current values. Masked-off elements are zero (other
// must be 0 or absent). Groups that are not provably contiguous and aligned, or partly masked, are copied
// element by element (synchronously).
//
// Applies when the body has exactly one dot with a fragment-layout result (EmitLayout.cpp), both its
// operands are loads in the body used only by it, every address operand can be recomputed for a later
// iteration, and nothing in the body stores (a store could feed a later iteration's load). The ring lives
// after every other use of shared memory (their offsets restart at 0 for each op).
#include "backend/cuda/EmitterImpl.h"

#include <algorithm>

namespace mt::cuda::detail {

using namespace ir;

namespace {

/// The most shared memory the ring may take (of the 227 KiB a block can have on sm_90).
constexpr size_t kMaxPipeBytes = 192 * 1024;

bool inside(const Value *v, const Operation &loop) {
  const Block *body = &const_cast<Operation &>(loop).body(0);
  for (const Block *b = v->ownerBlock(); b;) {
    if (b == body)
      return true;
    const Operation *parent = b->parentOp();
    b = parent ? parent->parentBlock() : nullptr;
  }
  return false;
}

bool storesAnywhere(const Block &b) {
  for (const auto &op : b.operations()) {
    if (op->kind() == OpKind::Store || op->kind() == OpKind::AtomicRmw || op->kind() == OpKind::AtomicCas)
      return true;
    for (unsigned r = 0; r < op->numRegions(); ++r)
      if (storesAnywhere(op->region(r).block()))
        return true;
  }
  return false;
}

unsigned countUses(const Block &b, const Value *v) {
  unsigned n = 0;
  for (const auto &op : b.operations()) {
    for (const Value *o : op->operands())
      n += o == v;
    for (unsigned r = 0; r < op->numRegions(); ++r)
      n += countUses(op->region(r).block(), v);
  }
  return n;
}

bool isZeroConstant(const Value *v) {
  const Operation *def = v->definingOp();
  return def && def->kind() == OpKind::Constant && def->attr("value") && def->floatAttr("value") == 0.0;
}

/// For a scalar loop-carried value `v` (a body argument of `loop`): the step its yield adds each iteration
/// (`offs += BLOCK_K`, as tl.advance does), null for a value the yield passes through unchanged (`v` itself
/// is returned as `same`), or false when it is anything else.
bool advancedScalar(const Value *v, const Operation &loop, const Value *&step, bool &same) {
  Block &body = const_cast<Operation &>(loop).body(0);
  const Operation *yield = body.terminator();
  step = nullptr;
  same = false;
  for (unsigned k = 1; yield && k < body.numArguments() && k - 1 < yield->numOperands(); ++k) {
    if (body.argument(k) != v)
      continue;
    const Value *next = yield->operand(k - 1);
    if (next == v) {
      same = true;
      return true;
    }
    const Operation *add = next->definingOp();
    if (!add || add->kind() != OpKind::Add || add->numOperands() != 2)
      return false;
    const Value *other = add->operand(0) == v   ? add->operand(1)
                         : add->operand(1) == v ? add->operand(0)
                                                : nullptr;
    const Operation *od = other ? other->definingOp() : nullptr;
    if (!other || (!(od && od->kind() == OpKind::Constant) && inside(other, loop)))
      return false;
    step = other;
    return true;
  }
  return false;
}

} // namespace

std::string KernelEmitter::inRange(const std::string &x, const std::string &ub, const std::string &step) {
  return "(" + step + " > 0 ? " + x + " < " + ub + " : " + x + " > " + ub + ")";
}

bool KernelEmitter::pipelineable(const Value *v, const Operation &loop, int depth) {
  if (depth > 64)
    return false;
  if (!v->type()->isBlock()) {
    if (!inside(v, loop))
      return true;
    if (v == const_cast<Operation &>(loop).body(0).argument(0))
      return true;
    const Operation *def = v->definingOp();
    if (!def) { // a loop-carried scalar: known later only when the loop advances it by a uniform step
      const Value *step;
      bool same;
      return v->ownerBlock() == &const_cast<Operation &>(loop).body(0) && advancedScalar(v, loop, step, same);
    }
    if (def->kind() == OpKind::Constant)
      return true;
    if (def->kind() != OpKind::Hint && !(def->hasTrait(Elementwise) && def->hasTrait(Pure)))
      return false;
    for (const Value *o : def->operands())
      if (!pipelineable(o, loop, depth + 1))
        return false;
    return true;
  }
  if (!isLazy(v))
    return false;
  if (auto it = lazyIter_.find(v); it != lazyIter_.end()) {
    if (!pipelineable(it->second.init, loop, depth + 1))
      return false;
    const Value *step = it->second.advance->operand(1);
    const Operation *sd = step->definingOp();
    return sd &&
           (sd->kind() == OpKind::Constant || (sd->kind() == OpKind::Splat && !inside(sd->operand(0), loop)));
  }
  const Operation *def = v->definingOp();
  if (!def || def->kind() == OpKind::Load)
    return false;
  for (const Value *o : def->operands())
    if (!pipelineable(o, loop, depth + 1))
      return false;
  return true;
}

const KernelEmitter::DotPipe *KernelEmitter::planDotPipeline(const Operation &loop) {
  if (!opts_.tensorCores || (opts_.numStages < 2 && !loop.attr("num_stages")))
    return nullptr;
  Block &body = const_cast<Operation &>(loop).body(0);
  if (storesAnywhere(body))
    return nullptr;
  const Operation *dot = nullptr;
  for (const auto &op : body.operations()) {
    if (op->kind() != OpKind::Dot)
      continue;
    if (dot)
      return nullptr; // one pipelined dot per loop
    dot = op.get();
  }
  if (!dot || fragOf(dot->result()) < 0)
    return nullptr;
  std::optional<MmaPlan> plan = planMma(*dot, opts_.numWarps);
  if (!plan)
    return nullptr;
  DotPipe p;
  p.loop = &loop;
  p.dot = dot;
  p.plan = *plan;
  for (int k = 0; k < 2; ++k) {
    const Value *operand = dot->operand(unsigned(k));
    const Operation *ld = operand->definingOp();
    if (!ld || ld->kind() != OpKind::Load || ld->parentBlock() != &body || countUses(body, operand) != 1)
      return nullptr;
    if (ld->numOperands() > 2 && !isZeroConstant(ld->operand(2)))
      return nullptr;
    for (const Value *o : ld->operands())
      if (!pipelineable(o, loop, 0))
        return nullptr;
    if (int64_t(per(operand->type())) * threads_ < operand->type()->numElements())
      return nullptr;
    p.loads[k] = ld;
  }
  size_t eb = elemBytes(dot->operand(0)->type());
  p.offA = 0;
  p.offB = align16(size_t(p.plan.m * p.plan.lda) * eb);
  p.stageBytes = align16(p.offB + size_t(p.plan.k * p.plan.ldb) * eb);
  p.stages = opts_.numStages;
  if (loop.attr("num_stages")) // tl.range(..., num_stages=N) overrides the launch's num_stages
    p.stages = int(loop.intAttr("num_stages"));
  if (p.stages < 2)
    return nullptr;
  while (p.stages >= 2 && size_t(p.stages) * p.stageBytes > kMaxPipeBytes)
    --p.stages;
  if (p.stages < 2)
    return nullptr;
  p.stage = "v" + std::to_string(counter_++) + "_stage";
  pipeBytes_ = std::max(pipeBytes_, size_t(p.stages) * p.stageBytes);
  pipedLoads_.insert(p.loads[0]);
  pipedLoads_.insert(p.loads[1]);
  return &(pipes_[dot] = p);
}

std::optional<std::string> KernelEmitter::scalarAt(const Value *v) {
  MT_ASSERT(pipeSubst_) << "CUDA emitter: scalarAt outside a pipelined issue";
  const Operation &loop = *pipeSubst_->loop;
  if (!inside(v, loop))
    return name(v);
  if (v == const_cast<Operation &>(loop).body(0).argument(0))
    return pipeSubst_->iv;
  const Operation *def = v->definingOp();
  if (!def) { // this loop's advanced scalar: its current value plus `distance` steps
    const Value *step;
    bool same;
    if (v->ownerBlock() != &const_cast<Operation &>(loop).body(0) || !advancedScalar(v, loop, step, same))
      return std::nullopt;
    if (same)
      return name(v);
    std::string t = elemType(v->type(), nullptr);
    return "mt::add(" + name(v) + ", mt::mul(" + *scalarAt(step) + ", (" + t + ")" + pipeSubst_->distance +
           "))";
  }
  if (def->kind() == OpKind::Constant)
    return literal(*def, v->type());
  if (def->kind() == OpKind::Hint)
    return scalarAt(def->operand(0));
  std::vector<std::string> ops;
  for (const Value *o : def->operands()) {
    auto e = scalarAt(o);
    if (!e)
      return std::nullopt;
    ops.push_back(*e);
  }
  for (unsigned k = 0; k < def->numOperands(); ++k)
    exprOverride_[def->operand(k)] = ops[k];
  std::string r = elementwiseExpr(*def);
  for (const Value *o : def->operands())
    exprOverride_.erase(o);
  return "(" + r + ")";
}

void KernelEmitter::emitPipeIssue(const DotPipe &p, const std::string &iv, int distance,
                                  const std::string &stageExpr) {
  pipeSubst_ = PipeSubst{p.loop, iv, std::to_string(distance)};
  std::string et = cudaTypeName(p.plan.elem);
  size_t eb = elemBytes(p.dot->operand(0)->type());
  for (int k = 0; k < 2; ++k) {
    const Operation &ld = *p.loads[k];
    const Value *ptr = ld.operand(0), *mask = ld.numOperands() > 1 ? ld.operand(1) : nullptr;
    const Type *t = ld.result()->type();
    int64_t cols = k == 0 ? p.plan.k : p.plan.n, ld_ = k == 0 ? p.plan.lda : p.plan.ldb;
    std::string dst = "v" + std::to_string(counter_++) + (k == 0 ? "_pa" : "_pb");
    line(et + " *" + dst + " = reinterpret_cast<" + et + " *>(mt_smem + @PIPE@ + " +
         num(int64_t(k == 0 ? p.offA : p.offB)) + " + (" + stageExpr + ") * " + num(int64_t(p.stageBytes)) +
         ");");
    int64_t pe = per(t), w = vecWidth(pe), n = t->numElements();
    std::string idx = "(L / " + num(cols) + ") * " + num(ld_) + " + L % " + num(cols);
    std::string elem = "if (L < " + num(n) + ") " + dst + "[" + idx +
                       "] = " + (mask ? at(mask) + " ? *" : "*") + at(ptr) +
                       (mask ? " : mt::zero<" + et + ">()" : "") + ";";
    int64_t bytes = w * int64_t(eb);
    if (w < 2 || cols % w != 0 || (bytes != 4 && bytes != 8 && bytes != 16)) {
      line("#pragma unroll");
      open("for (int i = 0; i < " + num(pe) + "; ++i)");
      line("const int L = " + lin(pe) + ";");
      line(elem);
      close();
      continue;
    }
    std::string vec = "{ const int i = mt_g; const int L = " + lin(pe) + "; mt::cpAsync<" + num(bytes) +
                      ">(&" + dst + "[" + idx + "], mt_p0, true); }";
    emitVectorGroups(ptr, mask, pe, w, n, eb, vec, elem);
  }
  pipeSubst_.reset();
}

void KernelEmitter::emitPipePrologue(const DotPipe &p, const std::string &lb, const std::string &ub,
                                     const std::string &step, const std::string &ivType) {
  line("// the dot's operands, " + num(p.stages) + " stages of cp.async (EmitDotPipeline.cpp)");
  line("int " + p.stage + " = 0;");
  for (int s = 0; s + 1 < p.stages; ++s) {
    std::string iv = "(" + ivType + ")(" + lb + " + " + num(s) + " * " + step + ")";
    open("if (" + inRange(iv, ub, step) + ")");
    emitPipeIssue(p, iv, s, num(s));
    close();
    line("mt::cpAsyncCommit();");
  }
}

} // namespace mt::cuda::detail
