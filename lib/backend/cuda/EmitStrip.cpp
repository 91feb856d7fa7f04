// Tile IR -> CUDA C++: the column-strip layout, for tiles scanned or reduced along axis 0.
//
// In the blocked layout (Emitter.cpp lin()) a thread's elements run along the contiguous axis, so a scan or
// reduction along axis 0 crosses threads and goes through shared memory. In a strip layout a thread owns
// `v` consecutive columns for `s` consecutive rows (its row group), so along axis 0 it runs over its own
// registers first:
//
//   [R, C] tile, cgp column groups x rg row groups of threads (cgp * rg = threads):
//     thread t: columns ((rep * cgp + t % cgp) * v + j), rows ((t / cgp) * s + r), for rep < reps, r < s, j <
//     v element i = (rep * s + r) * v + j
//   its column vectors ([C] or [1, C]: reductions along axis 0, the rows broadcasts spread over it):
//     thread t: columns ((rep * cgp + t % cgp) * v + j), element i = rep * v + j, the same in every row group
//
// A warp still loads or stores 32 / cgp rows of cgp * v consecutive columns, `v` at a time (16-byte
// vectors where the column count allows). An axis-0 scan is sequential over a thread's rows, then warp
// shuffles over the row groups of a warp, then, only when the row groups of a column span several warps,
// the warps' totals through shared memory (two barriers); an axis-0 reduction likewise, with a butterfly
// that leaves the result in every row group. Broadcasting a column vector over the rows is a register copy,
// so a chunked scan carries its state across chunks in registers.
//
// Heuristic (planStripLayouts): in a kernel without tensor-core fragments, every 2-D tile shape that some
// scan or reduce runs along axis 0 gets a strip layout (the widest vector v <= the kernel's vector width
// that still gives every thread a row), and then, until nothing changes: loads of that shape whose operands
// are lazy or strip, non-lazy broadcasts to it, elementwise ops over strip operands (the others lazy or
// constant), axis-0 scans and reductions of strip operands (the latter giving column vectors), loop-
// carried values that the yield gives a strip value, and the loads and elementwise ops a carried column
// vector starts from (h0). Carried tiles of a strip shape that start as splats (accumulators) are tried in
// the strip layout too, and planned again without them if their yield does not end up in it. Every other
// value stays blocked; a strip value read by an op that does not understand strips gets a blocked copy at its
// definition (EmitLayout.cpp convertLayout), as for frags.
#include "backend/cuda/EmitterImpl.h"

#include <algorithm>

namespace mt::cuda::detail {

using namespace ir;

namespace {

bool pureElementwise(const Operation &op) {
  return op.hasTrait(Elementwise) && op.hasTrait(Pure) && op.numResults() == 1 &&
         op.result()->type()->isBlock();
}

bool isPow2(int64_t x) { return x > 0 && (x & (x - 1)) == 0; }

void collectUsers(const Block &b, std::map<const Value *, std::vector<const Operation *>> &users) {
  for (const auto &op : b.operations()) {
    for (const Value *v : op->operands())
      users[v].push_back(op.get());
    for (unsigned r = 0; r < op->numRegions(); ++r)
      collectUsers(op->region(r).block(), users);
  }
}

/// The 2-D shapes scanned or reduced along axis 0 in `b`.
void collectAxis0Shapes(const Block &b, std::vector<std::vector<int64_t>> &shapes) {
  for (const auto &op : b.operations()) {
    if ((op->kind() == OpKind::Scan || op->kind() == OpKind::Reduce) && op->numOperands() > 0 &&
        op->intAttr("axis") == 0 && op->operand(0)->type()->isBlock() && op->operand(0)->type()->rank() == 2)
      shapes.push_back(op->operand(0)->type()->shape());
    for (unsigned r = 0; r < op->numRegions(); ++r)
      collectAxis0Shapes(op->region(r).block(), shapes);
  }
}

} // namespace

int KernelEmitter::stripFor(int64_t rows, int64_t cols, bool vector) {
  if (!isPow2(rows) || !isPow2(cols) || !isPow2(threads_) || rows < 2)
    return -1;
  int64_t v = pow2Floor(std::min<int64_t>(std::max<int64_t>(1, vecElems_), cols));
  while (v > 1 && rows * (cols / v) < threads_)
    v /= 2; // every thread must own a row of some column group
  if (rows * (cols / v) < threads_)
    return -1;
  StripLayout l;
  l.rows = rows;
  l.cols = cols;
  l.v = v;
  int64_t cg = cols / v;
  l.cgp = std::min(cg, threads_);
  l.reps = cg / l.cgp;
  l.rg = threads_ / l.cgp;
  l.s = rows / l.rg;
  l.vector = vector;
  if (l.rg * l.s != rows)
    return -1;
  for (size_t k = 0; k < strips_.size(); ++k) {
    const StripLayout &o = strips_[k];
    if (o.rows == l.rows && o.cols == l.cols && o.v == l.v && o.vector == l.vector)
      return kStripBase + int(k);
  }
  strips_.push_back(l);
  return kStripBase + int(strips_.size()) - 1;
}

std::string KernelEmitter::stripLin(const StripLayout &l) const {
  std::string tcol = l.cgp == 1 ? "0" : "mt_tid % " + num(l.cgp);
  std::string group =
      l.reps == 1 ? tcol : "(i / " + num(l.v * (l.vector ? 1 : l.s)) + ") * " + num(l.cgp) + " + " + tcol;
  std::string col = l.v == 1 ? "(" + group + ")" : "(" + group + ") * " + num(l.v) + " + i % " + num(l.v);
  if (l.vector)
    return "(" + col + ")";
  std::string rowGroup = l.rg == 1 ? "0" : "mt_tid / " + num(l.cgp);
  std::string row =
      "(" + rowGroup + ") * " + num(l.s) + (l.s == 1 ? "" : " + (i / " + num(l.v) + ") % " + num(l.s));
  return "((" + row + ") * " + num(l.cols) + " + " + col + ")";
}

// ---- Planning -------------------------------------------------------------------------------------------

void KernelEmitter::planStripLayouts(const Block &body) {
  if (!opts_.stripLayouts || !fragOf_.empty())
    return; // tensor-core kernels keep their fragment layouts only
  std::vector<std::vector<int64_t>> shapes;
  collectAxis0Shapes(body, shapes);
  bool any = false;
  for (const auto &s : shapes)
    any = stripFor(s[0], s[1], false) >= 0 || any;
  if (!any)
    return;
  for (int attempt = 0; attempt < 4; ++attempt) {
    for (int round = 0; round < 8 && planStripBlock(body); ++round) {
    }
    bool ok = true; // every guessed loop-carried tile yields a strip value of its layout
    for (const auto &[arg, yielded] : stripGuess_)
      if (layoutOf(yielded) != layoutOf(arg)) {
        stripRejected_.insert(arg);
        ok = false;
      }
    if (ok)
      break;
    stripOf_.clear();
    stripGuess_.clear();
  }
  std::map<const Value *, std::vector<const Operation *>> users;
  collectUsers(body, users);
  for (const auto &[v, l] : stripOf_) {
    auto it = users.find(v);
    if (it == users.end())
      continue;
    for (const Operation *u : it->second)
      if (!stripAware(*u, v))
        needsBlocked_.insert(v);
  }
}

bool KernelEmitter::planStripBlock(const Block &b) {
  bool changed = false;
  auto set = [&](const Value *v, int id) {
    if (id < 0 || layoutOf(v) == id || fragOf(v) >= 0 || isLazy(v))
      return;
    stripOf_[v] = id;
    changed = true;
  };
  // The 2-D strip layout chosen for type `t` (-1 if none): only shapes with an axis-0 scan or reduction.
  auto tileStrip = [&](const Type *t) {
    if (!t->isBlock() || t->rank() != 2)
      return -1;
    for (size_t k = 0; k < strips_.size(); ++k)
      if (!strips_[k].vector && strips_[k].rows == t->shape()[0] && strips_[k].cols == t->shape()[1])
        return kStripBase + int(k);
    return -1;
  };
  // All tile operands of `op` lazy, constant or in layout `id`.
  auto operandsIn = [&](const Operation &op, int id) {
    for (const Value *o : op.operands())
      if (o->type()->isBlock() && !isLazy(o) && !isConstant(o) && layoutOf(o) != id)
        return false;
    return true;
  };
  for (const auto &opPtr : b.operations()) {
    const Operation &op = *opPtr;
    for (unsigned r = 0; r < op.numRegions(); ++r)
      changed = planStripBlock(op.region(r).block()) || changed;
    switch (op.kind()) {
    case OpKind::Load: {
      int id = tileStrip(op.result()->type());
      if (id >= 0 && operandsIn(op, id))
        set(op.result(), id);
      continue;
    }
    case OpKind::Scan:
    case OpKind::Reduce: {
      const Type *t = op.operand(0)->type();
      int id = tileStrip(t);
      if (id < 0 || op.intAttr("axis") != 0 || !operandsIn(op, id))
        continue;
      bool all = true;
      for (const Value *o : op.operands())
        all = all && layoutOf(o) == id;
      if (!all)
        continue;
      int rid = op.kind() == OpKind::Scan ? id : stripFor(t->shape()[0], t->shape()[1], true);
      for (unsigned k = 0; k < op.numResults(); ++k)
        set(op.result(k), rid);
      continue;
    }
    case OpKind::Broadcast:
    case OpKind::ExpandDims:
    case OpKind::Reshape: {
      const Value *src = op.operand(0);
      const Type *rt = op.result()->type();
      if (!src->type()->isBlock() || isLazy(op.result()))
        continue;
      int sl = layoutOf(src);
      if (src->type()->numElements() == rt->numElements()) { // the same registers: [C] <-> [1, C]
        if (isStrip(sl) && stripOf(sl).vector && rt->shape().back() == stripOf(sl).cols)
          set(op.result(), sl);
        continue;
      }
      int id = op.kind() == OpKind::Broadcast ? tileStrip(rt) : -1;
      if (id < 0)
        continue;
      set(op.result(), id);
      if (src->type()->shape().back() == rt->shape().back() &&
          src->type()->numElements() == rt->shape().back())
        markStripSources(src, stripFor(rt->shape()[0], rt->shape()[1], true), 0);
      continue;
    }
    case OpKind::For: {
      Block &body = const_cast<Operation &>(op).body(0);
      const Operation *yield = body.terminator();
      for (unsigned k = 0; yield && k + 1 < body.numArguments() && k < yield->numOperands(); ++k) {
        int l = layoutOf(yield->operand(k));
        const Value *arg = body.argument(k + 1);
        if (!isStrip(l) || yield->operand(k)->type() != arg->type() || isLazy(arg))
          continue;
        set(arg, l);
        set(op.result(k), l);
        if (stripOf(l).vector)
          markStripSources(op.operand(3 + k), l, 0);
      }
      // A carried tile of a strip shape that starts as a splat or a strip value: tried in the strip layout
      // (an accumulator of scans), dropped if its yield does not end up in it.
      for (unsigned k = 0; yield && k + 1 < body.numArguments() && k < yield->numOperands(); ++k) {
        const Value *arg = body.argument(k + 1), *init = op.operand(3 + k);
        int id = tileStrip(arg->type());
        if (id < 0 || layoutOf(arg) >= 0 || isLazy(arg) || stripRejected_.count(arg) ||
            !(isConstant(init) || layoutOf(init) == id))
          continue;
        set(arg, id);
        set(op.result(k), id);
        stripGuess_[arg] = yield->operand(k);
      }
      continue;
    }
    default:
      break;
    }
    if (!pureElementwise(op) || isLazy(op.result()))
      continue;
    const Type *rt = op.result()->type();
    int id = tileStrip(rt);
    if (id < 0) { // a column vector: from the strip vector operands
      for (const Value *o : op.operands())
        if (isStrip(layoutOf(o)) && stripOf(layoutOf(o)).vector && o->type() == rt)
          id = layoutOf(o);
    }
    if (id >= 0 && operandsIn(op, id))
      set(op.result(), id);
  }
  return changed;
}

void KernelEmitter::markStripSources(const Value *v, int layout, int depth) {
  // Only whole chains of loads and elementwise ops over lazy or constant operands are moved.
  std::function<bool(const Value *, int)> movable = [&](const Value *x, int d) {
    if (!x->type()->isBlock() || isLazy(x) || isConstant(x) || layoutOf(x) == layout)
      return true;
    const Operation *def = x->definingOp();
    if (d > 4 || !def || layoutOf(x) >= 0 || x->type()->numElements() != stripOf(layout).cols)
      return false;
    if (def->kind() != OpKind::Load && !pureElementwise(*def))
      return false;
    for (const Value *o : def->operands())
      if (!movable(o, d + 1))
        return false;
    return true;
  };
  if (layout < 0 || !movable(v, depth))
    return;
  std::function<void(const Value *)> mark = [&](const Value *x) {
    if (!x->type()->isBlock() || isLazy(x) || isConstant(x) || layoutOf(x) == layout)
      return;
    stripOf_[x] = layout;
    for (const Value *o : x->definingOp()->operands())
      mark(o);
  };
  mark(v);
}

bool KernelEmitter::stripAware(const Operation &user, const Value *v) const {
  int l = layoutOf(v);
  if (!isStrip(l))
    return false;
  auto othersIn = [&] {
    for (const Value *o : user.operands())
      if (o->type()->isBlock() && !isLazy(o) && !isConstant(o) && layoutOf(o) != l)
        return false;
    return true;
  };
  switch (user.kind()) {
  case OpKind::Load:
    return user.operand(0) != v && layoutOf(user.result()) == l && othersIn();
  case OpKind::Store:
    return user.numOperands() >= 2 && user.operand(1) == v && user.operand(0) != v && othersIn();
  case OpKind::Yield: {
    const Block *owner = user.parentBlock();
    const Operation *parent = owner ? owner->parentOp() : nullptr;
    if (!parent || parent->kind() != OpKind::For)
      return false;
    for (unsigned k = 0; k < user.numOperands(); ++k)
      if (user.operand(k) == v && layoutOf(owner->argument(k + 1)) != l)
        return false;
    return true;
  }
  case OpKind::For:
    for (unsigned k = 3; k < user.numOperands(); ++k)
      if (user.operand(k) == v && layoutOf(user.result(k - 3)) != l)
        return false;
    return true;
  case OpKind::Scan:
  case OpKind::Reduce:
    return stripAxis0(user);
  case OpKind::Broadcast:
  case OpKind::ExpandDims:
  case OpKind::Reshape: {
    int rl = layoutOf(user.result());
    if (user.result()->type()->numElements() == v->type()->numElements())
      return rl == l;
    if (!isStrip(rl) || !stripOf(l).vector || stripOf(rl).vector)
      return false;
    const StripLayout &s = stripOf(l), &r = stripOf(rl);
    return s.cols == r.cols && s.v == r.v && s.cgp == r.cgp && s.reps == r.reps &&
           v->type()->numElements() == s.cols;
  }
  default:
    return pureElementwise(user) && layoutOf(user.result()) == l;
  }
}

bool KernelEmitter::layoutAware(const Operation &user, const Value *v) const {
  return isStrip(layoutOf(v)) ? stripAware(user, v) : fragAware(user, v);
}

bool KernelEmitter::stripAxis0(const Operation &op) const {
  if ((op.kind() != OpKind::Scan && op.kind() != OpKind::Reduce) || op.numOperands() == 0 ||
      op.intAttr("axis") != 0)
    return false;
  int l = layoutOf(op.operand(0));
  if (!isStrip(l) || stripOf(l).vector)
    return false;
  for (const Value *o : op.operands())
    if (layoutOf(o) != l)
      return false;
  for (unsigned k = 0; k < op.numResults(); ++k)
    if (!isStrip(layoutOf(op.result(k))))
      return false;
  return true;
}

// ---- Emission -------------------------------------------------------------------------------------------

void KernelEmitter::emitStripBroadcast(const Operation &op) {
  const Value *src = op.operand(0);
  int rl = layoutOf(op.result());
  if (stripAware(op, src)) { // a column vector spread over the rows: each thread copies its own columns
    const StripLayout &l = stripOf(rl);
    std::string s = name(src);
    forEach(op.result()->type(), declare(op.result(), &op),
            s + "[(i / " + num(l.v * l.s) + ") * " + num(l.v) + " + i % " + num(l.v) + "]", rl);
    return;
  }
  if (emitBroadcastInRegisters(op)) // recomputed at each element's own index (EmitRemat.cpp)
    return;
  std::vector<std::string> smem = spill({src}, op); // a blocked source, read at the source index
  forEach(op.result()->type(), declare(op.result(), &op), smem[0] + "[" + broadcastSourceIndex(op, "L") + "]",
          rl);
}

std::string KernelEmitter::stripSmem(const Operation &op, unsigned k, const std::string &elemType,
                                     size_t bytes) {
  auto [it, fresh] = stripRegion_.try_emplace({&op, k}, stripBytes_);
  if (fresh)
    stripBytes_ = align16(stripBytes_ + bytes);
  return "reinterpret_cast<" + elemType + " *>(mt_smem + @STRIP@ + " + num(int64_t(it->second)) + ")";
}

bool KernelEmitter::stripLeadingBarrier(const Operation &op) const {
  if (loopDepth_ == 0)
    return false; // runs once: its region is written once
  const Block *b = op.parentBlock();
  if (!b)
    return true;
  for (const auto &other : b->operations())
    if (other.get() != &op && stripAxis0(*other) && stripWarpGroups(stripOf(layoutOf(other->operand(0)))) > 1)
      return false; // its barrier comes between this op's reads and its next writes, both ways round
  return true;
}

} // namespace mt::cuda::detail
