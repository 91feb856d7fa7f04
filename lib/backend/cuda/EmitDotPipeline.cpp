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

/// Written into a ring by st.shared (the element paths), read by warpgroup MMAs (the async proxy): each
/// writing thread fences its writes before the barrier or arrival that hands the slot over. Copies by
/// cp.async need none: once waited for, they are visible to the MMAs behind the barrier (as Triton 3.6's
/// and CUTLASS's cp.async + wgmma main loops, which issue no proxy fence either; the fence costs a
/// MEMBAR.ALL.CTA per iteration).
const char *const kGenericWritesFence =
    "mt::fenceProxyAsync(); // these st.shared writes, for the warpgroup MMAs' async-proxy reads";

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

const KernelEmitter::LoopPipe *KernelEmitter::planDotPipeline(const Operation &loop) {
  if (!opts_.tensorCores)
    return nullptr;
  LoopPipe lp;
  lp.loop = &loop;
  lp.stages = loop.attr("num_stages") ? int(loop.intAttr("num_stages")) : opts_.numStages;
  Block &body = const_cast<Operation &>(loop).body(0);
  if (lp.stages < 2 || storesAnywhere(body))
    return nullptr;
  bool anyRing = false;
  for (const auto &opPtr : body.operations()) {
    const Operation *dot = opPtr.get();
    if (dot->kind() != OpKind::Dot || fragOf(dot->result()) < 0)
      continue;
    std::optional<MmaPlan> plan = mmaPlanFor(*dot);
    if (!plan)
      continue;
    PipedDot pd;
    pd.dot = dot;
    pd.plan = *plan;
    bool useful = false;
    for (int k = 0; k < 2; ++k) {
      PipeOperand &po = pd.ops[k];
      const Value *operand = dot->operand(unsigned(k));
      po.value = operand;
      po.tile = operandTile(*plan, k, false);
      const Operation *ld = operand->definingOp();
      const Operation *trans = nullptr;
      if (k == 1 && ld && ld->kind() == OpKind::Trans && ld->parentBlock() == &body &&
          countUses(body, operand) == 1 && ld->operand(0)->type()->rank() == 2) {
        trans = ld; // tl.dot(q, tl.trans(k)): the ring holds k as loaded
        operand = ld->operand(0);
        ld = operand->definingOp();
      }
      bool ring = ld && ld->kind() == OpKind::Load && ld->parentBlock() == &body &&
                  countUses(body, operand) == 1 &&
                  (ld->numOperands() < 3 || isZeroConstant(ld->operand(2))) &&
                  int64_t(per(operand->type())) * threads_ >= operand->type()->numElements();
      for (unsigned o = 0; ring && o < std::min(2u, ld->numOperands()); ++o) // `other` is a zero literal
        ring = pipelineable(ld->operand(o), loop, 0);
      if (k == 0 && wgmmaRegisterA(dot->operand(0), *plan)) {
        po.kind = PipeOperand::Registers; // attention's probabilities: straight from the fragments
      } else if (ring) {
        po.kind = PipeOperand::Ring;
        po.load = ld;
        po.trans = trans;
        if (trans) // N rows of K
          po.tile = operandTile(*plan, 1, true);
        anyRing = useful = true;
      } else if (trans) {
        operand = dot->operand(1); // staged from the transposed value's registers
      } else if (!inside(operand, loop) && fragOf(operand) < 0) {
        po.kind = PipeOperand::Invariant; // e.g. attention's q: staged once
        useful = true;
      }
    }
    if (useful)
      lp.dots.push_back(pd);
  }
  if (!anyRing)
    return nullptr;
  // The region: per dot, A then B; a ring operand takes `stages` slots.
  // A lone wgmma whose accumulator only the loop carries keeps one group of products in flight into the
  // next iteration: the ring gets one more slot, so that the copies issued in an iteration never refill
  // the slot those products still read.
  // (At N = 128 ptxas, CUDA 13.0, used to serialize every wgmma of such loops, C7514 "non wgmma instructions
  // reading accumulator registers ... between start and end of the pipeline stage", because of the single
  // f32 -> bf16 conversions of the epilogue; they go by pairs now, Emitter.cpp emitElementwise.)
  if (lp.dots.size() == 1 && lp.dots[0].plan.wgmma) {
    const Operation *dot = lp.dots[0].dot;
    const Value *acc = dot->operand(2);
    const Operation *yield = body.terminator();
    for (unsigned k = 1; k < body.numArguments() && yield && k - 1 < yield->numOperands(); ++k)
      if (body.argument(k) == acc && yield->operand(k - 1) == dot->result() && countUses(body, acc) == 1 &&
          countUses(body, dot->result()) == 1)
        lp.deferWait = true;
  }
  // Barriers by mbarrier (EmitOptions::mbarrierRings): loops of synchronous warpgroup MMAs that stage
  // nothing per iteration, with two dots or more (attention: one warpgroup's softmax then overlaps the
  // other's MMAs) on two warpgroups or more (on one, the H100 measured them slower than the block-wide
  // barrier: attention D128 BM64 BN64, 4.1 ms against 2.6).
  lp.mbar = opts_.mbarrierRings && !lp.deferWait && lp.dots.size() >= 2 && threads_ >= 256;
  for (const PipedDot &pd : lp.dots)
    for (const PipeOperand &po : pd.ops)
      lp.mbar = lp.mbar && pd.plan.wgmma && po.kind != PipeOperand::Staged;
  auto layout = [&](int stages) {
    int slots = stages + (lp.deferWait || lp.mbar ? 1 : 0);
    size_t off = 0;
    for (PipedDot &pd : lp.dots)
      for (int k = 0; k < 2; ++k) {
        PipeOperand &po = pd.ops[k];
        if (po.kind == PipeOperand::Staged || po.kind == PipeOperand::Registers)
          continue;
        size_t bytes = size_t(po.tile.rows * po.tile.ld) * elemBytes(po.value->type());
        po.slotBytes = pd.plan.wgmma ? align1024(bytes) : align16(bytes); // swizzle atoms stay aligned
        po.offset = pd.plan.wgmma ? align1024(off) : off;
        off = po.offset;
        off += po.slotBytes * size_t(po.kind == PipeOperand::Ring ? slots : 1);
      }
    if (lp.mbar) { // full[slots], empty[slots]
      lp.barOffset = align16(off);
      off = lp.barOffset + 2 * size_t(slots) * 8;
    }
    return off;
  };
  auto fit = [&](int stages) {
    lp.stages = stages;
    while (lp.stages >= 2 && layout(lp.stages) > opts_.maxPipeBytes)
      --lp.stages;
    return lp.stages >= 2;
  };
  int wanted = lp.stages;
  if (!fit(wanted) && lp.mbar) { // the mbarrier rings' extra slot does not fit: block-wide barriers then
    lp.mbar = false;
    fit(wanted);
  }
  if (lp.stages < 2)
    return nullptr;
  pipeBytes_ = std::max(pipeBytes_, layout(lp.stages));
  lp.stage = "v" + std::to_string(counter_++) + "_stage";
  if (lp.mbar) {
    std::string id = "v" + std::to_string(counter_++);
    lp.full = id + "_full";
    lp.empty = id + "_empty";
    lp.iter = id + "_iter";
    // Ping-pong (EmitOptions::pingPong): with two warpgroups in step, both run their softmax while the
    // tensor cores idle (ncu, attention D128 causal: the tensor pipe 51 % active). In turns, one's
    // products run while the other computes. Only where a turn's products are long enough against the
    // handover: every dot at least 128 x 128 per warpgroup product (H100, attention: D128 BN128 1.89 ms
    // against 2.02 without turns; D128 BN64 2.78 against 2.21, D64 BN128 1.76 against 1.46).
    lp.pingPong = opts_.pingPong && threads_ == 256;
    for (const PipedDot &pd : lp.dots)
      lp.pingPong = lp.pingPong && pd.plan.n >= 128 && pd.plan.k >= 128;
    if (lp.pingPong) {
      lp.turnMarker = "@TURN" + id + "@";
      lp.warpgroup = id + "_wg";
      lp.turn = id + "_turn";
    }
  }
  if (lp.mbar && opts_.rotate)
    planRotation(lp);
  for (const PipedDot &pd : lp.dots) {
    pipedDots_[pd.dot] = &loop;
    for (const PipeOperand &po : pd.ops)
      if (po.kind == PipeOperand::Ring) {
        pipedLoads_.insert(po.load);
        if (po.trans)
          pipedLoads_.insert(po.trans); // not emitted either: the mma reads the ring transposed
      }
  }
  return &(loopPipes_[&loop] = lp);
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

void KernelEmitter::emitPipeIssue(const LoopPipe &p, const std::string &iv, int distance,
                                  const std::string &stageExpr, int group) {
  pipeSubst_ = PipeSubst{p.loop, iv, std::to_string(distance)};
  for (const PipedDot &pd : p.dots)
    for (const PipeOperand &po : pd.ops) {
      if (po.kind != PipeOperand::Ring || (group >= 0 && &pd != &p.dots[size_t(group)]))
        continue;
      const Operation &ld = *po.load;
      const Value *ptr = ld.operand(0), *mask = ld.numOperands() > 1 ? ld.operand(1) : nullptr;
      const Type *t = ld.result()->type();
      std::string et = elemType(t, &ld);
      size_t eb = elemBytes(t);
      std::string dst = "v" + std::to_string(counter_++) + "_ring";
      line(et + " *" + dst + " = reinterpret_cast<" + et + " *>(mt_smem + @PIPE@ + " +
           num(int64_t(po.offset)) + " + (" + stageExpr + ") * " + num(int64_t(po.slotBytes)) + ");");
      int64_t pe = per(t), w = vecWidth(pe), n = t->numElements();
      std::string idx = po.tile.index("L");
      std::string elem = "if (L < " + num(n) + ") " + dst + "[" + idx +
                         "] = " + (mask ? at(mask) + " ? *" : "*") + at(ptr) +
                         (mask ? " : mt::zero<" + et + ">()" : "") + ";";
      int64_t bytes = w * int64_t(eb);
      if (w < 2 || po.tile.cols % w != 0 || (bytes != 4 && bytes != 8 && bytes != 16)) {
        line("#pragma unroll");
        open("for (int i = 0; i < " + num(pe) + "; ++i)");
        lineL(lin(pe));
        line(elem);
        close();
        if (pd.plan.wgmma)
          line(kGenericWritesFence);
        continue;
      }
      emitRingCopy(po, ptr, mask, pe, w, n, bytes, dst, idx, elem, pd.plan.wgmma);
    }
  pipeSubst_.reset();
}

void KernelEmitter::emitRingGroupBases(const LoopPipe &p) {
  for (const PipedDot &pd : p.dots)
    for (const PipeOperand &po : pd.ops) {
      if (po.kind != PipeOperand::Ring)
        continue;
      const Value *ptr = po.load->operand(0);
      auto it = lazyIter_.find(ptr);
      if (it == lazyIter_.end() || it->second.offset.empty() ||
          it->second.advance->kind() != OpKind::AddPtr || inside(it->second.init, *p.loop) ||
          !isLazy(it->second.init))
        continue;
      const Type *t = po.load->result()->type();
      int64_t pe = per(t), w = vecWidth(pe), n = t->numElements();
      if (w < 2 || pe % w != 0)
        continue;
      std::string id = "v" + std::to_string(counter_++), W = num(w);
      po.groupBase = id + "_base";
      po.groupContig = id + "_contig";
      const Value *init = it->second.init;
      AxisInfo ai = axisInfo(init, w);
      po.groupContigKnown = ai.kind == AxisInfo::Contig;
      bool partial = pe * threads_ > n;
      line("// the ring's group pointers before the advances (loop-invariant: the loop adds one offset)");
      po.groupNext = id + "_run";
      line(elemType(ptr->type(), nullptr) + " " + po.groupBase + "[" + num(pe / w) + "];");
      line(elemType(ptr->type(), nullptr) + " " + po.groupNext + "[" + num(pe / w) + "];");
      line("bool " + po.groupContig + " = true;");
      line("#pragma unroll");
      open("for (int mt_g = 0; mt_g < " + num(pe) + "; mt_g += " + W + ")");
      open("");
      line("const int i = mt_g;");
      lineL(lin(pe));
      line(po.groupBase + "[mt_g / " + W + "] = " + at(init) + ";");
      close();
      if (ai.kind != AxisInfo::Contig) { // EndsContig (EmitAxis.cpp): the last element decides
        line("#pragma unroll");
        open("for (int mt_j = " + (ai.kind == AxisInfo::EndsContig ? num(w - 1) : std::string("1")) +
             "; mt_j < " + W + "; ++mt_j)");
        line("const int i = mt_g + mt_j;");
        lineL(lin(pe));
        line(po.groupContig + " = " + po.groupContig + " && (" +
             std::string(partial ? "L >= " + num(n) + " || " : "") + at(init) + " == " + po.groupBase +
             "[mt_g / " + W + "] + mt_j);");
        close();
      }
      close();
    }
}

void KernelEmitter::emitRingGroupNext(const LoopPipe &p, const std::string &iv) {
  pipeSubst_ = PipeSubst{p.loop, iv, std::to_string(p.distance())};
  for (const PipedDot &pd : p.dots)
    for (const PipeOperand &po : pd.ops) {
      if (po.kind == PipeOperand::Ring && po.groupNext.empty() && opts_.affineRings)
        emitAffineRun(p, po);
      if (po.kind != PipeOperand::Ring || po.groupNext.empty())
        continue;
      const Value *ptr = po.load->operand(0), *init = lazyIter_.at(ptr).init;
      int64_t pe = per(po.load->result()->type()), w = vecWidth(pe);
      line("// the group pointers of the loop's first copies (" + num(p.distance()) + " iterations ahead)");
      lazyInitOverride_[init] = po.groupBase + "[mt_g / " + num(w) + "]";
      emitGroupValues(po.groupNext, pe, w, [&] { return at(ptr); });
      lazyInitOverride_.erase(init);
    }
  pipeSubst_.reset();
}

void KernelEmitter::emitGroupValues(const std::string &dst, int64_t pe, int64_t w,
                                    const std::function<std::string()> &expr) {
  std::string W = num(w);
  line("#pragma unroll");
  open("for (int mt_g = 0; mt_g < " + num(pe) + "; mt_g += " + W + ")");
  open("");
  line("const int i = mt_g;");
  lineL(lin(pe));
  line(dst + "[mt_g / " + W + "] = " + expr() + ";");
  close();
  close();
}

void KernelEmitter::emitRingCopy(const PipeOperand &po, const Value *ptr, const Value *mask, int64_t pe,
                                 int64_t w, int64_t n, int64_t bytes, const std::string &dst,
                                 const std::string &idx, const std::string &elem, bool wgmma) {
  std::string id = "v" + std::to_string(counter_++), ps = id + "_p", ms = id + "_m", ok = id + "_ok";
  std::string et = elemType(ptr->type(), nullptr), W = num(w), G = num(pe / w);
  bool partial = pe * threads_ > n; // the last groups of some threads lie past the tile
  auto AI = axisInfo(ptr, w);
  const Value *init = po.groupBase.empty() ? nullptr : lazyIter_.at(ptr).init;
  if (init)
    AI.kind = AxisInfo::Contig; // checked once before the loop (groupContig)
  bool maskUniform = mask && mask->type()->isBlock() && axisInfo(mask, w).kind == AxisInfo::Uniform;
  // Proven at compile time (EmitAxis.cpp: 16-byte pointer hints, offsets' and steps' divisibility): the
  // groups' alignment needs no check; with contiguity and a group-uniform mask too, there is no element
  // path at all (as Triton's cp.async copies).
  bool aligned = AI.div >= bytes; // the init's and the step's divisibility for an advanced pointer
  bool proven = aligned && (init ? po.groupContigKnown : AI.kind == AxisInfo::Contig) &&
                (!mask || !mask->type()->isBlock() || maskUniform);
  line(et + " " + ps + "[" + G + "];");
  line("bool " + ms + "[" + G + "];");
  if (!proven)
    line("bool " + ok + " = " + (init ? po.groupContig : std::string("true")) + ";");
  line("#pragma unroll");
  open("for (int mt_g = 0; mt_g < " + num(pe) + "; mt_g += " + W + ")");
  open("");
  line("const int i = mt_g;");
  lineL(lin(pe));
  // The loop's copies read running group pointers where there are (groupNext, affineRun), advanced here.
  std::string run, step;
  if (init && nextIssue_ && !po.groupNext.empty()) {
    if (std::optional<std::string> s = advanceStep(lazyIter_.at(ptr)))
      run = po.groupNext, step = "(mt::i64)(" + *s + ")";
  } else if (nextIssue_ && !po.affineRun.empty()) {
    run = po.affineRun, step = po.affineStep;
  }
  if (!run.empty()) {
    std::string next = run + "[mt_g / " + W + "]";
    line(ps + "[mt_g / " + W + "] = " + next + ";");
    line(next + " += " + step + ";");
  } else {
    if (init)
      lazyInitOverride_[init] = po.groupBase + "[mt_g / " + W + "]";
    line(ps + "[mt_g / " + W + "] = " + at(ptr) + ";");
    if (init)
      lazyInitOverride_.erase(init);
  }
  if (!aligned)
    line(ok + " = " + ok + " && mt::aligned<" + num(bytes) + ">(" + ps + "[mt_g / " + W + "]);");
  // A mask that is all-or-nothing over a group becomes the copy's zero-fill predicate.
  std::string m = !mask ? "true" : (maskUniform || !mask->type()->isBlock()) ? at(mask) : "true";
  line(ms + "[mt_g / " + W + "] = " + (partial ? "L < " + num(n) + " && " : std::string()) + m + ";");
  close();
  auto eachElement = [&](const std::string &from, const std::string &body) {
    line("#pragma unroll");
    open("for (int mt_j = " + from + "; mt_j < " + W + "; ++mt_j)");
    line("const int i = mt_g + mt_j;");
    lineL(lin(pe));
    line(body);
    close();
  };
  if (!proven) {
    if (AI.kind == AxisInfo::EndsContig) { // one comparison: the last element (EmitAxis.cpp)
      open("");
      line("const int i = mt_g + " + num(w - 1) + ";");
      lineL(lin(pe));
      line(ok + " = " + ok + " && (" + std::string(partial ? "L >= " + num(n) + " || " : "") + at(ptr) +
           " == " + ps + "[mt_g / " + W + "] + " + num(w - 1) + ");");
      close();
    } else if (AI.kind != AxisInfo::Contig) {
      eachElement("1", ok + " = " + ok + " && (" + std::string(partial ? "L >= " + num(n) + " || " : "") +
                           at(ptr) + " == " + ps + "[mt_g / " + W + "] + mt_j);");
    }
    if (mask && mask->type()->isBlock() && !maskUniform)
      eachElement("0", ok + " = " + ok + " && (" + std::string(partial ? "L >= " + num(n) + " || " : "") +
                           at(mask) + ");");
  }
  close();
  // All groups of the thread at once: one branch per operand, straight-line copies on the fast path.
  open(proven ? std::string() : "if (" + ok + ")");
  // Groups a whole number of rows (and swizzle periods) apart: at constant offsets from the first.
  std::optional<int64_t> shift = pe > w ? po.tile.shift(threads_ * w) : std::nullopt;
  std::string at0 = id + "_s0";
  if (shift) {
    line("int " + at0 + ";");
    open("");
    line("const int i = 0;");
    lineL(lin(pe));
    line(at0 + " = " + idx + ";");
    close();
  }
  line("#pragma unroll");
  open("for (int mt_g = 0; mt_g < " + num(pe) + "; mt_g += " + W + ")");
  line("const int i = mt_g;");
  lineL(lin(pe));
  if (partial)
    line("if (L < " + num(n) + ")");
  std::string slot = shift ? at0 + " + (mt_g / " + W + ") * " + num(*shift) : idx;
  line((partial ? "  " : "") + std::string("mt::cpAsync<") + num(bytes) + ">(&" + dst + "[" + slot + "], " +
       ps + "[mt_g / " + W + "], " + ms + "[mt_g / " + W + "]);");
  close();
  if (proven) {
    close();
    return;
  }
  close(" else {");
  ++indent_;
  line("#pragma unroll 1"); // rare; a rolled loop holds no registers across the loop body
  open("for (int i = 0; i < " + num(pe) + "; ++i)");
  lineL("mt::opaque(" + lin(pe) + ")");
  line(elem);
  close();
  if (wgmma)
    line(kGenericWritesFence);
  close();
}

void KernelEmitter::emitPipePrologue(const LoopPipe &p, const std::string &lb, const std::string &ub,
                                     const std::string &step, const std::string &ivType) {
  line("// the dots' operands, " + num(p.stages) + " stages of cp.async (EmitDotPipeline.cpp)");
  line("int " + p.stage + " = 0;");
  line("__syncthreads(); // an enclosing loop's last reads of the region are done");
  if (p.mbar) {
    line("// slots signalled by mbarriers: full (copies landed, 2 arrivals a thread), empty (slot read)");
    line("unsigned long long *" + p.full + " = reinterpret_cast<unsigned long long *>(mt_smem + @PIPE@ + " +
         num(int64_t(p.barOffset)) + ");");
    line("unsigned long long *" + p.empty + " = " + p.full + " + " + num(p.slots()) + ";");
    if (p.split) {
      line("unsigned long long *" + p.fullB + " = " + p.full + " + " + num(2 * p.slots()) +
           "; // the second dot's operands");
      line("unsigned long long *" + p.emptyB + " = " + p.full + " + " + num(3 * p.slots()) + ";");
    }
    line("int " + p.iter + " = 0;");
    open("if (mt_tid == 0)");
    line("#pragma unroll");
    open("for (int s = 0; s < " + num(p.slots()) + "; ++s)");
    for (const std::string &full : {p.full, p.fullB})
      if (!full.empty())
        line("mt::mbarInit(&" + full + "[s], " + num(2 * threads_) + ");");
    for (const std::string &empty : {p.empty, p.emptyB})
      if (!empty.empty())
        line("mt::mbarInit(&" + empty + "[s], " + num(threads_) + ");");
    close();
    close();
  }
  for (const PipedDot &pd : p.dots)
    for (const PipeOperand &po : pd.ops)
      if (po.kind == PipeOperand::Invariant) {
        std::string et = elemType(po.value->type(), pd.dot);
        std::string dst = "v" + std::to_string(counter_++) + "_fixed";
        line(et + " *" + dst + " = reinterpret_cast<" + et + " *>(mt_smem + @PIPE@ + " +
             num(int64_t(po.offset)) + ");");
        stageOperand(*pd.dot, po.value, dst, po.tile); // visible after the loop's first barrier
        if (pd.plan.wgmma && !p.mbar)                  // (with mbarriers: the fence before the barrier below)
          line(kGenericWritesFence);
      }
  if (p.mbar) { // no block-wide barrier in the loop: the staged operands and the barriers' init, now
    line("mt::fenceProxyAsync();");
    line("__syncthreads();");
  }
  emitRingGroupBases(p);
  for (int s = 0; s < p.distance(); ++s) {
    std::string iv = "(" + ivType + ")(" + lb + " + " + num(s) + " * " + step + ")";
    open("if (" + inRange(iv, ub, step) + ")");
    emitPipeIssue(p, iv, s, num(s));
    emitSlotFilled(p, num(s));
    close();
    if (!p.mbar)
      line("mt::cpAsyncCommit();");
  }
  emitRingGroupNext(p, "(" + ivType + ")(" + lb + " + " + num(p.distance()) + " * " + step + ")");
  if (p.pingPong) {
    line("const int " + p.warpgroup + " = mt_wg;");
    line("int " + p.turn + " = 0;");
    turnLine(p, p.turn + " = 1 + " + p.warpgroup + ";");
    turnLine(p, "if (" + p.warpgroup + " == 1 && " + inRange("(" + ivType + ")(" + lb + ")", ub, step) +
                    ") mt::namedBarArrive(1, 256); // warpgroup 0 takes the first turn");
  }
}

void KernelEmitter::turnLine(const LoopPipe &p, const std::string &text) { line(p.turnMarker + text); }

void KernelEmitter::finishTurns(const LoopPipe &p, size_t bodyStart) {
  if (!p.pingPong)
    return;
  // The turns' last: warpgroup 1 arrived once before the loop and once a turn but the last; warpgroup 0
  // once a turn, the last here. Every bar.sync of the loop has then met its arrival: nothing is left
  // pending on barriers 1 and 2 for a later loop.
  turnLine(p, "if (" + p.warpgroup + " == 0 && " + p.iter +
                  " > 0) mt::namedBarArrive(2, 256); // the last turn");
  // A block-wide barrier in the body would wait for a warpgroup that waits for its turn; a return (an
  // early exit of some threads) would leave the other warpgroup's turns unpassed: either drops the turns.
  std::string body = out_.str().substr(bodyStart);
  turns_[p.turnMarker] =
      body.find("__syncthreads") == std::string::npos && body.find("return") == std::string::npos;
}

std::string KernelEmitter::applyTurns(std::string body) const {
  for (const auto &[marker, kept] : turns_)
    for (size_t at = body.find(marker); at != std::string::npos; at = body.find(marker, at)) {
      if (kept) {
        body.erase(at, marker.size());
        continue;
      }
      size_t from = body.rfind('\n', at), to = body.find('\n', at);
      from = from == std::string::npos ? 0 : from + 1;
      body.erase(from, to == std::string::npos ? std::string::npos : to + 1 - from);
      at = from;
    }
  return body;
}

void KernelEmitter::emitPipeEpilogue(const LoopPipe &p) {
  line("mt::cpAsyncWait<0>();");
  if (!p.mbar)
    return;
  // The barriers' words may hold other data from here on (PTX: invalidated first); `empty` follows `full`
  // (emitPipePrologue), so one loop ends both.
  line("__syncthreads(); // every thread is past its last wait");
  open("if (mt_tid == 0)");
  line("#pragma unroll");
  open("for (int s = 0; s < " + num((p.split ? 4 : 2) * p.slots()) + "; ++s)");
  line("mt::mbarInval(&" + p.full + "[s]);");
  close();
  close();
}

void KernelEmitter::emitSlotFilled(const LoopPipe &p, const std::string &slot, int group) {
  if (!p.mbar)
    return;
  auto filled = [&](const std::string &full) { // once the copies have landed, and now that they are issued
    line("mt::cpAsyncArrive(&" + full + "[" + slot + "]); mt::mbarArrive(&" + full + "[" + slot + "]);");
  };
  if (group <= 0) // all groups, or the first dot's
    filled(p.full);
  if (p.split && group != 0) // the second dot's, signalled apart
    filled(p.fullB);
}

void KernelEmitter::emitRingRelease(const Operation &dot) {
  auto it = pipedDots_.find(&dot);
  if (it == pipedDots_.end())
    return;
  const LoopPipe &p = loopPipes_.at(it->second);
  if (p.mbar && p.dots.back().dot == &dot)
    line("mt::mbarArrive(&" + p.empty + "[" + p.stage + "]); // this thread is done with the slot");
}

void KernelEmitter::emitNextIssue(const LoopPipe &p, int group) {
  const LoopBounds &lb = loopBounds_.at(p.loop);
  std::string iv = name(const_cast<Operation *>(p.loop)->body(0).argument(0));
  int d = p.distance();
  std::string next = "(" + lb.ivType + ")(" + iv + " + " + num(d) + " * " + lb.step + ")";
  open("if (" + inRange(next, lb.ub, lb.step) + ")");
  std::string slot = "(" + p.stage + " + " + num(d) + ") % " + num(p.slots());
  if (p.mbar) { // the slot's last readers (the iteration before last) are done with it
    line("const int mt_fill = (" + p.iter + " + " + num(d) + ") / " + num(p.slots()) + ";");
    line("if (mt_fill > 0) mt::mbarWait(&" + (group == 1 ? p.emptyB : p.empty) + "[" + slot +
         "], (mt_fill - 1) & 1);");
  }
  nextIssue_ = true;
  emitPipeIssue(p, next, d, slot, group);
  nextIssue_ = false;
  emitSlotFilled(p, slot, group);
  close();
  if (!p.mbar)
    line("mt::cpAsyncCommit();");
}

KernelEmitter::PipedOperands KernelEmitter::emitPipedOperands(const Operation &dot, const std::string &et) {
  const LoopPipe &p = loopPipes_.at(pipedDots_.at(&dot));
  const PipedDot *pd = nullptr;
  for (const PipedDot &d : p.dots)
    if (d.dot == &dot)
      pd = &d;
  MT_ASSERT(pd) << "CUDA emitter: a piped dot without its plan";
  if (pd == &p.dots.front()) {
    if (p.mbar) {
      line("mt::mbarWait(&" + p.full + "[" + p.stage + "], (" + p.iter + " / " + num(p.slots()) +
           ") & 1); // this iteration's slots have landed");
    } else {
      line("mt::cpAsyncWait<" + num(p.distance() - 1) + ">(); // this iteration's slots have landed");
      line("__syncthreads();");
    }
    if (!p.deferWait && !p.pingPong && !p.rotate) // else after the products are issued (emitFragDot)
      emitNextIssue(p);
  }
  bool staged = pd->ops[0].kind == PipeOperand::Staged || pd->ops[1].kind == PipeOperand::Staged;
  if (staged && pd != &p.dots.front())
    line("__syncthreads();"); // earlier users of the per-op shared memory are done
  std::string ptrs[2];
  size_t off = 0;
  for (int k = 0; k < 2; ++k) {
    const PipeOperand &po = pd->ops[k];
    ptrs[k] = "v" + std::to_string(counter_++) + (k == 0 ? "_sa" : "_sb");
    std::string base;
    if (po.kind == PipeOperand::Registers) {
      ptrs[k].clear();
      continue;
    }
    if (po.kind == PipeOperand::Ring)
      base = "mt_smem + @PIPE@ + " + num(int64_t(po.offset)) + " + " + p.stage + " * " +
             num(int64_t(po.slotBytes));
    else if (po.kind == PipeOperand::Invariant)
      base = "mt_smem + @PIPE@ + " + num(int64_t(po.offset));
    else
      base = "mt_smem + " + num(int64_t(off));
    line(et + " *" + ptrs[k] + " = reinterpret_cast<" + et + " *>(" + base + ");");
    if (po.kind == PipeOperand::Staged) {
      stageOperand(dot, po.value, ptrs[k], po.tile);
      size_t end = off + size_t(po.tile.rows * po.tile.ld) * elemBytes(po.value->type());
      off = pd->plan.wgmma ? align1024(end) : align16(end);
      useScratch(off);
    }
  }
  if (staged) {
    if (pd->plan.wgmma)
      line("mt::fenceProxyAsync();");
    line("__syncthreads();");
  }
  return {ptrs[0], ptrs[1], pd->ops[1].tile.ld, pd->ops[1].trans != nullptr};
}

} // namespace mt::cuda::detail
