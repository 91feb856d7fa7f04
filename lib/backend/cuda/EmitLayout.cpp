// Tile IR -> CUDA C++: a second layout for tiles, the accumulator fragments of tensor-core dots.
//
// Every tile is held in the blocked layout (groups of consecutive elements per thread, Emitter.cpp lin())
// except the ones chosen here, which are held the way mma.sync leaves its accumulators (device/mma.cuh
// fragLinear): a dot's result, and what flows from it without leaving the registers:
//
//   %acc0 = constant 0.0 : tensor<128x128xf32>          blocked (a splat: written in any layout for free)
//   %r = for ... iter %acc = %acc0 {                      frag: the yield gives it a frag value
//     %d = dot %a, %b, %acc                               frag: a tensor-core dot, accumulating in place
//     yield %d
//   }
//   %c = cast %r : tensor<128x128xbf16>                  frag: elementwise, other operands lazy
//   store %c_ptrs, %c, %c_mask                           pairs from the fragments, or (16-bit, row-contiguous
//                                                        pointers) staged through shared memory and stored
//                                                        16 bytes a thread (EmitMemory.cpp)
//
// So the K loop of a matmul keeps its accumulator in registers instead of a shared-memory round trip per
// dot. Any other user (a reduction, a shape op, an elementwise op with a blocked operand) reads a blocked
// copy converted once through shared memory right after the value's definition; a yield or loop init
// whose target has the other layout is converted where it is assigned.
#include "backend/cuda/EmitterImpl.h"

#include <algorithm>

namespace mt::cuda::detail {

using namespace ir;

namespace {

/// The most shared memory a block may opt into on sm_90 (227 KiB).
constexpr size_t kMaxSharedBytes = 227 * 1024;
/// The most accumulator elements a thread holds (128 x 256 on 8 warps, as Triton allows).
constexpr int64_t kMaxFragPerThread = 128;

bool isPureElementwise(const Operation &op) {
  return op.hasTrait(Elementwise) && op.hasTrait(Pure) && op.numResults() == 1 &&
         op.result()->type()->isBlock();
}

void collectUses(const Block &b, std::map<const Value *, std::vector<const Operation *>> &users) {
  for (const auto &op : b.operations()) {
    for (const Value *v : op->operands())
      users[v].push_back(op.get());
    for (unsigned r = 0; r < op->numRegions(); ++r)
      collectUses(op->region(r).block(), users);
  }
}

} // namespace

int KernelEmitter::fragForDot(const Operation &op) {
  if (!opts_.tensorCores)
    return -1;
  std::optional<MmaPlan> p = mmaPlanFor(op);
  if (!p || int64_t(p->wm) * p->wn != opts_.numWarps)
    return -1; // every warp must hold a part of the accumulator
  if (p->m * p->n / (int64_t(opts_.numWarps) * 32) > kMaxFragPerThread)
    return -1;
  size_t eb = elemBytes(op.operand(0)->type());
  if (align16(size_t(p->m * p->lda) * eb) + size_t(p->k * p->ldb) * eb > kMaxSharedBytes)
    return -1;
  for (size_t f = 0; f < frags_.size(); ++f)
    if (!frags_[f].row && frags_[f].m == p->m && frags_[f].n == p->n && frags_[f].wm == p->wm &&
        frags_[f].wn == p->wn)
      return int(f);
  frags_.push_back({p->m, p->n, p->wm, p->wn});
  return int(frags_.size()) - 1;
}

void KernelEmitter::planFragBlock(const Block &b) {
  for (const auto &opPtr : b.operations()) {
    const Operation &op = *opPtr;
    if (op.kind() == OpKind::Dot) {
      int f = fragForDot(op);
      if (f >= 0)
        fragOf_[op.result()] = f;
      continue;
    }
    if (op.kind() == OpKind::For) {
      Block &body = const_cast<Operation &>(op).body(0);
      const Operation *yield = body.terminator();
      // Loop-carried values take the layout their yield gives them; that may make more of the body frag,
      // so repeat until nothing changes (each round only adds frag values; bounded for safety).
      for (int round = 0; round < 4; ++round) {
        planFragBlock(body);
        bool changed = false;
        for (unsigned k = 0; yield && k + 1 < body.numArguments() && k < yield->numOperands(); ++k) {
          int f = fragOf(yield->operand(k));
          const Value *arg = body.argument(k + 1);
          if (f < 0 || fragOf(arg) == f || yield->operand(k)->type() != arg->type())
            continue;
          fragOf_[arg] = f;
          fragOf_[op.result(k)] = f;
          changed = true;
        }
        if (!changed)
          break;
      }
      continue;
    }
    for (unsigned r = 0; r < op.numRegions(); ++r)
      planFragBlock(op.region(r).block());
    if (!isPureElementwise(op) || isLazy(op.result()))
      continue;
    int f = -1;
    bool ok = true;
    std::vector<const Value *> spread; // broadcasts to emit in the frag layout
    std::vector<const Value *> chain;  // loads and what reads them, to emit in the frag layout
    for (const Value *o : op.operands()) {
      if (!o->type()->isBlock())
        continue;
      const Operation *od = o->definingOp();
      int fo = fragOf(o);
      if (fo >= 0 && !(od && od->kind() == OpKind::Broadcast))
        ok = ok && (f < 0 || f == fo), f = fo;
      else if (fragBroadcastCandidate(o))
        spread.push_back(o);
      else if (!isLazy(o) && !(od && od->kind() == OpKind::Constant)) // else both read through at()
        ok = ok && fragLoadChain(o, chain);
    }
    for (const Value *o : spread)
      ok = ok && (fragOf(o) < 0 || fragOf(o) == f);
    if (ok && f >= 0) {
      fragOf_[op.result()] = f;
      for (const Value *o : spread)
        fragOf_[o] = f;
      for (const Value *o : chain)
        fragOf_[o] = f;
    } else {
      fragOf_.erase(op.result());
    }
  }
}

bool KernelEmitter::fragLoadChain(const Value *v, std::vector<const Value *> &chain, int depth) const {
  if (!v->type()->isBlock() || isLazy(v) || isConstant(v))
    return true; // read through at() at any index
  const Operation *def = v->definingOp();
  auto it = users_.find(v);
  if (!def || depth > 8 || fragOf(v) >= 0 || it == users_.end() || it->second.size() != 1)
    return false;
  if (def->kind() == OpKind::Load) {
    if (v->type()->rank() != 2 || def->numOperands() < 1 || !def->operand(0)->type()->isBlock())
      return false;
    for (const Value *o : def->operands())
      if (o->type()->isBlock() && !isLazy(o) && !isConstant(o))
        return false;
  } else if (isPureElementwise(*def)) {
    for (const Value *o : def->operands())
      if (!fragLoadChain(o, chain, depth + 1))
        return false;
  } else {
    return false;
  }
  chain.push_back(v);
  return true;
}

bool KernelEmitter::fragAware(const Operation &user, const Value *v) const {
  int f = fragOf(v);
  if (isFragRow(f)) {
    switch (user.kind()) {
    case OpKind::Broadcast: { // [M, 1] over a fragment tile: from registers, or shared memory (other rows)
      int rf = fragOf(user.result());
      return rf >= 0 && !frags_[size_t(rf)].row && user.operand(0) == v && v->type()->rank() == 2;
    }
    case OpKind::ExpandDims:
    case OpKind::Reshape:
      return fragOf(user.result()) == f;
    case OpKind::Dot:
    case OpKind::Reduce:
      return false;
    default:
      break; // stores, yields, loops and elementwise ops as for fragment tiles
    }
  }
  switch (user.kind()) {
  case OpKind::Dot:
    // A tensor-core dot with a frag result: the accumulator in place; the operands are staged element by
    // element from any layout.
    if (fragOf(user.result()) < 0)
      return false;
    return user.operand(2) != v || fragOf(user.result()) == f;
  case OpKind::Store: {
    if (user.numOperands() < 2 || user.operand(1) != v || user.operand(0) == v)
      return false;
    for (unsigned k = 0; k < user.numOperands(); ++k)
      if (k != 1 && user.operand(k)->type()->isBlock() && !isLazy(user.operand(k)) &&
          fragOf(user.operand(k)) != f)
        return false;
    return true;
  }
  case OpKind::Yield: {
    const Block *owner = user.parentBlock();
    const Operation *parent = owner ? owner->parentOp() : nullptr;
    if (!parent || parent->kind() != OpKind::For)
      return false;
    for (unsigned k = 0; k < user.numOperands(); ++k)
      if (user.operand(k) == v && fragOf(owner->argument(k + 1)) != f)
        return false;
    return true;
  }
  case OpKind::For:
    for (unsigned k = 3; k < user.numOperands(); ++k)
      if (user.operand(k) == v && fragOf(user.result(k - 3)) != f)
        return false;
    return true;
  case OpKind::Reduce:
    return fragRowReduce(user);
  default:
    return isPureElementwise(user) && fragOf(user.result()) == f;
  }
}

void KernelEmitter::planFragLayouts(const Block &body) {
  if (!opts_.tensorCores)
    return;
  collectUses(body, users_);
  planFragBlock(body);
  if (fragOf_.empty())
    return;
  planFragRows(body);
  for (const auto &[v, f] : fragOf_) {
    auto it = users_.find(v);
    if (it == users_.end())
      continue;
    for (const Operation *u : it->second)
      if (!fragAware(*u, v))
        needsBlocked_.insert(v);
  }
}

// ---- Row vectors of fragment tiles ---------------------------------------------------------------------

int KernelEmitter::fragRowOf(int f) {
  FragLayout r = frags_[size_t(f)];
  r.row = true;
  r.n = 1;
  for (size_t k = 0; k < frags_.size(); ++k)
    if (frags_[k].row && frags_[k].m == r.m && frags_[k].wm == r.wm && frags_[k].wn == r.wn)
      return int(k);
  frags_.push_back(r);
  return int(frags_.size()) - 1;
}

std::string KernelEmitter::fragRowOwner(int f) const {
  const FragLayout &l = frags_[size_t(f)];
  return "(mt_tid & 3) == 0" + (l.wn > 1 ? " && (mt_tid >> 5) % " + num(l.wn) + " == 0" : std::string());
}

namespace {

/// [M] or [M, 1]: the shapes a row-vector layout holds.
bool rowShaped(const Type *t) {
  return t->isBlock() && (t->rank() == 1 || (t->rank() == 2 && t->shape()[1] == 1));
}

} // namespace

void KernelEmitter::planFragRows(const Block &body) {
  auto dropRows = [&] {
    for (auto it = fragOf_.begin(); it != fragOf_.end();)
      it = isFragRow(it->second) ? fragOf_.erase(it) : std::next(it);
    rowGuess_.clear();
  };
  for (int attempt = 0; attempt < 4; ++attempt) {
    for (int round = 0; round < 8 && planFragRowBlock(body); ++round) {
    }
    bool ok = true; // every guessed loop-carried vector yields a value of its layout
    for (const auto &[arg, yielded] : rowGuess_)
      if (fragOf(yielded) != fragOf(arg)) {
        rowRejected_.insert(arg);
        ok = false;
      }
    if (ok)
      return;
    dropRows();
  }
  dropRows();
}

bool KernelEmitter::planFragRowBlock(const Block &b) {
  bool changed = false;
  auto set = [&](const Value *v, int id) {
    if (id < 0 || fragOf(v) >= 0 || isLazy(v) || !rowShaped(v->type()) ||
        v->type()->numElements() != frags_[size_t(id)].m)
      return;
    fragOf_[v] = id;
    changed = true;
  };
  // Every tile operand of `op` lazy, a splat or in layout `id`.
  auto operandsIn = [&](const Operation &op, int id) {
    for (const Value *o : op.operands())
      if (o->type()->isBlock() && !isLazy(o) && !isConstant(o) && fragOf(o) != id)
        return false;
    return true;
  };
  for (const auto &opPtr : b.operations()) {
    const Operation &op = *opPtr;
    for (unsigned r = 0; r < op.numRegions(); ++r)
      changed = planFragRowBlock(op.region(r).block()) || changed;
    switch (op.kind()) {
    case OpKind::Reduce:
      if (fragRowReduce(op) && op.result(0)->type()->rank() == 1)
        for (unsigned k = 0; k < op.numResults(); ++k)
          set(op.result(k), fragRowOf(fragOf(op.operand(0))));
      continue;
    case OpKind::ExpandDims:
    case OpKind::Reshape:
      if (op.operand(0)->type()->isBlock() && isFragRow(fragOf(op.operand(0))))
        set(op.result(), fragOf(op.operand(0)));
      continue;
    case OpKind::For: {
      Block &body = const_cast<Operation &>(op).body(0);
      const Operation *yield = body.terminator();
      for (unsigned k = 0; yield && k + 1 < body.numArguments() && k < yield->numOperands(); ++k) {
        const Value *arg = body.argument(k + 1), *init = op.operand(3 + k), *y = yield->operand(k);
        if (isFragRow(fragOf(y)) && y->type() == arg->type()) {
          set(arg, fragOf(y));
          set(op.result(k), fragOf(y));
          continue;
        }
        // A carried vector that starts as a splat or in a row layout (attention's m_i, l_i): tried in the
        // row layout of a fragment tile of its length.
        if (fragOf(arg) >= 0 || isLazy(arg) || rowRejected_.count(arg) || !rowShaped(arg->type()))
          continue;
        int id = isFragRow(fragOf(init)) ? fragOf(init) : -1;
        for (size_t f = 0; id < 0 && isConstant(init) && f < frags_.size(); ++f)
          if (!frags_[f].row && frags_[f].m == arg->type()->numElements())
            id = fragRowOf(int(f));
        if (id < 0)
          continue;
        set(arg, id);
        set(op.result(k), id);
        rowGuess_[arg] = y;
      }
      continue;
    }
    default:
      break;
    }
    if (!isPureElementwise(op) || isLazy(op.result()) || !rowShaped(op.result()->type()))
      continue;
    int id = -1;
    for (const Value *o : op.operands())
      if (isFragRow(fragOf(o)))
        id = fragOf(o);
    if (id >= 0 && operandsIn(op, id))
      set(op.result(), id);
  }
  return changed;
}

int64_t KernelEmitter::perIn(const Type *t, int frag) const {
  if (frag < 0)
    return per(t);
  if (isStrip(frag)) // EmitStrip.cpp
    return stripPer(stripOf(frag));
  const FragLayout &l = frags_[size_t(frag)];
  if (l.row)
    return l.m / l.wm / 16 * 2;
  return (l.m / l.wm / 16) * (l.n / l.wn / 8) * 4;
}

std::string KernelEmitter::linIn(const Type *t, int frag) const {
  if (frag < 0)
    return lin(per(t));
  if (isStrip(frag)) // EmitStrip.cpp
    return stripLin(stripOf(frag));
  const FragLayout &l = frags_[size_t(frag)];
  if (l.row)
    return "mt::fragRow<" + num(l.m) + ", " + num(l.wm) + ", " + num(l.wn) + ">(mt_tid, i)";
  return "mt::fragLinear<" + num(l.m) + ", " + num(l.n) + ", " + num(l.wm) + ", " + num(l.wn) +
         ">(mt_tid, i)";
}

std::string KernelEmitter::convertLayout(const Value *v, const std::string &src, int from, int to) {
  const Type *t = v->type();
  std::string et = elemType(t, nullptr);
  int64_t n = t->numElements();
  useScratch(align16(size_t(n) * elemBytes(t)));
  std::string dst = fresh(v) + (to < 0 ? "_blocked" : "_frag");
  auto kind = [](int l) { return l < 0 ? "blocked" : isStrip(l) ? "strip" : "frag"; };
  line("// " + std::string(kind(from)) + " -> " + kind(to) + " through shared memory");
  line(et + " " + dst + "[" + num(perIn(t, to)) + "];");
  line("__syncthreads();");
  std::string s = dst + "_s";
  line(et + " *" + s + " = " + smemArray(et, 0) + ";");
  line("#pragma unroll");
  open("for (int i = 0; i < " + num(perIn(t, from)) + "; ++i)");
  lineL(linIn(t, from));
  line("if (L < " + num(n) + (isFragRow(from) ? " && " + fragRowOwner(from) : "") + ") " + s +
       "[L] = " + src + "[i];");
  close();
  line("__syncthreads();");
  line("#pragma unroll");
  open("for (int i = 0; i < " + num(perIn(t, to)) + "; ++i)");
  lineL(linIn(t, to));
  line(dst + "[i] = L < " + num(n) + " ? " + s + "[L] : mt::zero<" + et + ">();");
  close();
  return dst;
}

std::string KernelEmitter::valueIn(const Value *v, int frag) {
  int f = layoutOf(v);
  if (!v->type()->isBlock() || f == frag)
    return name(v);
  if (frag < 0)
    if (auto it = blockedCopy_.find(v); it != blockedCopy_.end())
      return it->second;
  const Operation *def = v->definingOp();
  if (def && def->kind() == OpKind::Constant) { // a splat: written in the new layout directly
    std::string dst = fresh(v) + (frag < 0 ? "_blocked" : "_frag");
    line(elemType(v->type(), def) + " " + dst + "[" + num(perIn(v->type(), frag)) + "];");
    forEach(v->type(), dst, literal(*def, v->type()), frag);
    return dst;
  }
  return convertLayout(v, name(v), f, frag);
}

void KernelEmitter::emitBlockedCopy(const Value *v) {
  if (!needsBlocked_.count(v) || blockedCopy_.count(v))
    return;
  blockedCopy_[v] = convertLayout(v, name(v), layoutOf(v), -1);
}

} // namespace mt::cuda::detail

namespace mt::cuda::detail {

using namespace ir;

bool KernelEmitter::fragRowReduce(const Operation &op) const {
  if (op.kind() != OpKind::Reduce || op.numOperands() == 0 || op.intAttr("axis") != 1)
    return false;
  int f = fragOf(op.operand(0));
  if (f < 0 || op.operand(0)->type()->rank() != 2)
    return false;
  for (const Value *v : op.operands())
    if (fragOf(v) != f)
      return false;
  return true;
}

void KernelEmitter::emitFragRowReduce(const Operation &op) {
  // Rows of a fragment tile (EmitLayout.cpp): a thread holds FM x 2 row pieces (rows g and g + 8 of each
  // 16-row tile), each over FN tiles x 2 columns; the 4 lanes of a quad hold the rest of the warp's
  // columns, and the WN warps of a warp row the rest of the tile's.
  // With a row-vector result (planFragRows) and one warp per row, the quad's lanes all hold the result
  // after the shuffles: no shared memory, no barrier.
  const FragLayout &l = frags_[size_t(fragOf(op.operand(0)))];
  int64_t fm = l.m / l.wm / 16, fn = l.n / l.wn / 8, rows = l.m;
  unsigned n = op.numOperands();
  int rl = fragOf(op.result(0));
  bool rowResult = isFragRow(rl), viaSmem = !rowResult || l.wn > 1;
  line("// reduce axis 1 of a fragment tile: registers, quad shuffles" +
       std::string(viaSmem ? ", the " + num(l.wn) + " warp(s) of a row through shared memory" : ""));
  std::vector<std::string> results;
  for (unsigned k = 0; k < n; ++k)
    results.push_back(declare(op.result(k), &op));
  open("");
  std::vector<std::string> outs, types;
  size_t offset = 0;
  for (unsigned k = 0; k < n; ++k) {
    types.push_back(elemType(op.operand(k)->type(), &op));
    outs.push_back("v" + std::to_string(counter_++) + "_rows");
  }
  if (viaSmem) {
    line("__syncthreads();");
    for (unsigned k = 0; k < n; ++k) {
      line(types[k] + " *" + outs[k] + " = " + smemArray(types[k], offset) + ";");
      offset = align16(offset + size_t(l.wn * rows) * elemBytes(op.operand(k)->type()));
    }
    useScratch(offset);
  }
  std::vector<std::string> acc, rhs;
  for (unsigned k = 0; k < n; ++k) {
    acc.push_back("v" + std::to_string(counter_++) + "_acc");
    rhs.push_back("v" + std::to_string(counter_++) + "_rhs");
    line(types[k] + " " + acc.back() + ", " + rhs.back() + ";");
  }
  if (viaSmem)
    line("const int mt_warp = mt_tid >> 5, mt_lane = mt_tid & 31;");
  for (int64_t r = 0; r < fm * 2; ++r) {
    int64_t tile = r / 2, half = r % 2;
    open("");
    for (unsigned k = 0; k < n; ++k)
      line(acc[k] + " = " + name(op.operand(k)) + "[" + num((tile * fn) * 4 + half * 2) + "];");
    for (int64_t t = 0; t < fn; ++t)
      for (int64_t c = 0; c < 2; ++c) {
        if (t == 0 && c == 0)
          continue;
        for (unsigned k = 0; k < n; ++k)
          line(rhs[k] + " = " + name(op.operand(k)) + "[" + num((tile * fn + t) * 4 + half * 2 + c) + "];");
        emitCombine(op, acc, rhs);
      }
    for (int off : {1, 2}) {
      for (unsigned k = 0; k < n; ++k)
        line(rhs[k] + " = mt::shflXor(" + acc[k] + ", " + std::to_string(off) + ");");
      emitCombine(op, acc, rhs);
    }
    if (!viaSmem) {
      for (unsigned k = 0; k < n; ++k)
        line(results[k] + "[" + num(r) + "] = " + acc[k] + ";");
      close();
      continue;
    }
    std::string row = "(mt_warp / " + num(l.wn) + ") * " + num(l.m / l.wm) + " + " +
                      num(tile * 16 + half * 8) + " + (mt_lane >> 2)";
    open("if ((mt_lane & 3) == 0)");
    for (unsigned k = 0; k < n; ++k)
      line(outs[k] + "[(mt_warp % " + num(l.wn) + ") * " + num(rows) + " + " + row + "] = " + acc[k] + ";");
    close();
    close();
  }
  if (!viaSmem) {
    close();
    return;
  }
  line("__syncthreads();");
  // The [M] result in the blocked layout or this thread's rows: the warps' pieces of each row, folded in
  // warp order.
  const Type *rt = op.result(0)->type();
  int64_t p = perIn(rt, rowResult ? rl : -1);
  line("#pragma unroll");
  open("for (int i = 0; i < " + num(p) + "; ++i)");
  lineL(linIn(rt, rowResult ? rl : -1));
  open("if (L < " + num(rows) + ")");
  for (unsigned k = 0; k < n; ++k)
    line(acc[k] + " = " + outs[k] + "[L];");
  for (int64_t w = 1; w < l.wn; ++w) {
    for (unsigned k = 0; k < n; ++k)
      line(rhs[k] + " = " + outs[k] + "[" + num(w * rows) + " + L];");
    emitCombine(op, acc, rhs);
  }
  close(" else {");
  ++indent_;
  for (unsigned k = 0; k < n; ++k)
    line(acc[k] + " = mt::zero<" + types[k] + ">();");
  close();
  for (unsigned k = 0; k < n; ++k)
    line(results[k] + "[i] = " + acc[k] + ";");
  close();
  close();
}

bool KernelEmitter::fragBroadcastCandidate(const Value *v) const {
  const Operation *def = v->definingOp();
  if (!def || def->kind() != OpKind::Broadcast || isLazy(v) || !v->type()->isBlock())
    return false;
  const Type *st = def->operand(0)->type();
  return st->isBlock() && st->rank() <= v->type()->rank() && st->numElements() <= 4096 &&
         (fragOf(def->operand(0)) < 0 || isFragRow(fragOf(def->operand(0))));
}

void KernelEmitter::emitFragBroadcast(const Operation &op) {
  // A row or column vector spread over a fragment tile: the (small) source through shared memory, read
  // at each fragment element's source index.
  int f = fragOf(op.result());
  const Value *src = op.operand(0);
  int sl = fragOf(src);
  if (isFragRow(sl) && fragAware(op, src)) {
    const FragLayout &l = frags_[size_t(f)], &r = frags_[size_t(sl)];
    if (r.m == l.m && r.wm == l.wm && r.wn == l.wn) { // the tile's own rows: in registers
      forEach(op.result()->type(), declare(op.result(), &op),
              name(src) + "[mt::fragRowPiece<" + num(l.n) + ", " + num(l.wn) + ">(i)]", f);
      return;
    }
    // Rows of another warp grid: each row once into shared memory, read at each element's row.
    std::string et = elemType(src->type(), &op), s = "v" + std::to_string(counter_++) + "_rows";
    line("__syncthreads();");
    line(et + " *" + s + " = " + smemArray(et, 0) + ";");
    line("#pragma unroll");
    open("for (int i = 0; i < " + num(perOf(src)) + "; ++i)");
    lineL(linIn(src->type(), sl));
    line("if (" + fragRowOwner(sl) + ") " + s + "[L] = " + name(src) + "[i];");
    close();
    useScratch(align16(size_t(r.m) * elemBytes(src->type())));
    line("__syncthreads();");
    forEach(op.result()->type(), declare(op.result(), &op), s + "[" + broadcastSourceIndex(op, "L") + "]", f);
    return;
  }
  std::vector<std::string> smem = spill({src}, op);
  std::string r = declare(op.result(), &op);
  forEach(op.result()->type(), r, smem[0] + "[" + broadcastSourceIndex(op, "L") + "]", f);
}

} // namespace mt::cuda::detail
