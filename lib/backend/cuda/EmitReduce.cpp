// Tile IR -> CUDA C++: `reduce`, by one of three strategies chosen from the shape.
//
//   rank 1 -> scalar      each thread combines its own elements in registers, a butterfly of warp
//                         shuffles combines the warp, and the warps' partials meet in shared memory
//                         (a softmax or rmsnorm row: no spill of the tile at all).
//   few outputs           the source is spilled to shared memory; `lanes` threads (a power of 2) per
//                         output combine strided slices of its row, then shuffle (and, when a group
//                         spans several warps, combine the warps' partials); results go back through
//                         shared memory to the result tile's layout.
//   outputs >= threads    one thread per output, sequentially from the spilled source.
//
// Partials carry a `has` flag, so that threads without elements (padding) need no identity value; the
// combine region is emitted inline at each step.
#include "backend/cuda/EmitterImpl.h"

namespace mt::cuda::detail {

using namespace ir;

const Type *KernelEmitter::checkAxisOp(const Operation &op, const char *what) {
  if (op.numOperands() == 0 || op.numOperands() != op.numResults())
    unsupported(op, "needs as many results as operands");
  const Type *st = op.operand(0)->type();
  if (!st->isBlock())
    unsupported(op, std::string(what) + " a tile, got " + st->str());
  int64_t axis = op.intAttr("axis");
  if (axis < 0 || axis >= int64_t(st->rank()))
    unsupported(op, "axis " + num(axis) + " out of range for " + st->str());
  for (const Value *v : op.operands())
    if (v->type()->shape() != st->shape())
      unsupported(op, "all operands must have one shape");
  return st;
}

void KernelEmitter::emitReduce(const Operation &op) {
  const Type *st = checkAxisOp(op, "reduces");
  if (stripAxis0(op)) { // strip tiles (EmitStrip.cpp): along each thread's own rows
    emitStripReduce(op);
    return;
  }
  if (fragRowReduce(op)) { // EmitLayout.cpp
    emitFragRowReduce(op);
    return;
  }
  int64_t axis = op.intAttr("axis");
  if (st->rank() == 1) {
    emitReduceToScalar(op);
    return;
  }
  std::vector<const Value *> srcs(op.operands().begin(), op.operands().end());
  std::vector<std::string> smem = spill(srcs, op);
  const Type *rt = op.result(0)->type();
  int64_t nOut = rt->isBlock() ? rt->numElements() : 1;
  int64_t lanes = std::min(pow2Floor(std::max<int64_t>(1, threads_ / nOut)), pow2Floor(st->shape()[axis]));
  if (lanes <= 1)
    emitReduceSequential(op, smem);
  else
    emitReduceByGroups(op, smem, lanes);
}

KernelEmitter::Partial KernelEmitter::declarePartial(const Operation &op) {
  Partial p;
  for (const Value *v : op.operands()) {
    std::string et = elemType(v->type(), &op);
    p.types.push_back(et);
    p.acc.push_back("v" + std::to_string(counter_++) + "_acc");
    p.rhs.push_back("v" + std::to_string(counter_++) + "_rhs");
    line(et + " " + p.acc.back() + " = mt::zero<" + et + ">();");
    line(et + " " + p.rhs.back() + " = mt::zero<" + et + ">();");
  }
  p.has = "v" + std::to_string(counter_++) + "_has";
  line("bool " + p.has + " = false;");
  return p;
}

void KernelEmitter::emitFold(const Operation &op, const Partial &p,
                             const std::function<std::string(unsigned)> &load, const std::string &rhsValid) {
  open("if (" + rhsValid + ")");
  if (load)
    for (unsigned k = 0; k < p.acc.size(); ++k)
      line(p.rhs[k] + " = " + load(k) + ";");
  open("if (" + p.has + ")");
  emitCombine(op, p.acc, p.rhs);
  close(" else {");
  ++indent_;
  for (unsigned k = 0; k < p.acc.size(); ++k)
    line(p.acc[k] + " = " + p.rhs[k] + ";");
  close();
  line(p.has + " = true;");
  close();
}

void KernelEmitter::emitButterfly(const Operation &op, const Partial &p, int64_t width, bool dense) {
  if (width < 2)
    return;
  line("#pragma unroll");
  open("for (int mt_off = " + num(width / 2) + "; mt_off > 0; mt_off >>= 1)");
  if (!dense)
    line("const bool mt_rhas = mt::shflXor(" + p.has + ", mt_off);");
  for (unsigned k = 0; k < p.acc.size(); ++k)
    line(p.rhs[k] + " = mt::shflXor(" + p.acc[k] + ", mt_off);");
  if (dense)
    emitCombine(op, p.acc, p.rhs);
  else
    emitFold(op, p, nullptr, "mt_rhas");
  close();
}

void KernelEmitter::emitWarpPartials(const Operation &op, const Partial &p, size_t &offset,
                                     const std::string &firstWarp, int64_t count, bool dense) {
  int64_t warps = threads_ / 32;
  std::vector<std::string> parts;
  for (unsigned k = 0; k < p.acc.size(); ++k) {
    parts.push_back(smemArray(p.types[k], offset));
    offset = align16(offset + size_t(warps) * elemBytes(op.operand(k)->type()));
  }
  std::string flags = dense ? "" : smemArray("bool", offset);
  if (!dense)
    offset = align16(offset + size_t(warps));
  useScratch(offset);
  line("__syncthreads();");
  open("if ((mt_tid & 31) == 0)");
  for (unsigned k = 0; k < p.acc.size(); ++k)
    line(parts[k] + "[mt_tid >> 5] = " + p.acc[k] + ";");
  if (!dense)
    line(flags + "[mt_tid >> 5] = " + p.has + ";");
  close();
  line("__syncthreads();");
  if (dense) {
    // Every warp of the group has a partial: the first one starts, the others fold in, in warp order.
    for (unsigned k = 0; k < p.acc.size(); ++k)
      line(p.acc[k] + " = " + parts[k] + "[" + firstWarp + "];");
    line("#pragma unroll");
    open("for (int mt_w = 1; mt_w < " + num(count) + "; ++mt_w)");
    for (unsigned k = 0; k < p.acc.size(); ++k)
      line(p.rhs[k] + " = " + parts[k] + "[" + firstWarp + " + mt_w];");
    emitCombine(op, p.acc, p.rhs);
    close();
    return;
  }
  line(p.has + " = false;");
  line("#pragma unroll");
  open("for (int mt_w = 0; mt_w < " + num(count) + "; ++mt_w)");
  emitFold(
      op, p, [&](unsigned k) { return parts[k] + "[" + firstWarp + " + mt_w]"; },
      flags + "[" + firstWarp + " + mt_w]");
  close();
}

void KernelEmitter::emitReduceToScalar(const Operation &op) {
  const Type *st = op.operand(0)->type();
  int64_t n = st->numElements(), p = per(st);
  std::vector<std::string> results;
  for (unsigned k = 0; k < op.numResults(); ++k)
    results.push_back(declare(op.result(k), &op));
  open("");
  Partial pa = declarePartial(op);
  bool padded = p * threads_ > n;
  line("#pragma unroll");
  open("for (int i = 0; i < " + num(p) + "; ++i)");
  if (padded)
    lineL(lin(p));
  emitFold(
      op, pa, [&](unsigned k) { return at(op.operand(k)); }, padded ? "L < " + num(n) : "true");
  close();
  // Dense: every thread holds at least one element (its first one, at index mt_tid * V, is in range), so
  // the shuffles and the warps' partials need no validity flags.
  int64_t v0 = p == 1 ? 1 : vecWidth(p);
  bool dense = (threads_ - 1) * v0 < n;
  emitButterfly(op, pa, std::min<int64_t>(32, threads_), dense);
  if (threads_ > 32) {
    size_t offset = 0;
    emitWarpPartials(op, pa, offset, "0", threads_ / 32, dense);
  }
  for (unsigned k = 0; k < results.size(); ++k)
    line(results[k] + " = " + pa.acc[k] + ";");
  close();
}

void KernelEmitter::emitReduceByGroups(const Operation &op, const std::vector<std::string> &smem,
                                       int64_t lanes) {
  const Type *st = op.operand(0)->type();
  const Type *rt = op.result(0)->type();
  int64_t axis = op.intAttr("axis");
  int64_t extent = st->shape()[axis], inner = stridesOf(st->shape())[axis];
  int64_t nOut = rt->numElements();
  std::vector<std::string> results;
  for (unsigned k = 0; k < op.numResults(); ++k)
    results.push_back(declare(op.result(k), &op));
  // Shared memory after the spilled sources: the warps' partials (groups wider than a warp), then
  // one result per output.
  size_t offset = 0;
  for (const Value *v : op.operands())
    offset = align16(offset + size_t(st->numElements()) * elemBytes(v->type()));
  open("");
  line("const int mt_o = mt_tid / " + num(lanes) + ", mt_lane = mt_tid % " + num(lanes) + ";");
  line(inner == 1 ? "const int mt_base = mt_o * " + num(extent) + ";"
                  : "const int mt_base = (mt_o / " + num(inner) + ") * " + num(extent * inner) +
                        " + mt_o % " + num(inner) + ";");
  Partial pa = declarePartial(op);
  bool idle = threads_ / lanes > nOut;
  if (idle)
    open("if (mt_o < " + num(nOut) + ")");
  open("for (int j = mt_lane; j < " + num(extent) + "; j += " + num(lanes) + ")");
  emitFold(
      op, pa,
      [&](unsigned k) {
        return smem[k] + "[mt_base + j" + (inner == 1 ? std::string() : " * " + num(inner)) + "]";
      },
      "true");
  close();
  if (idle)
    close();
  // Within a group every lane has at least one element (lanes <= extent); lanes of idle groups only
  // meet each other. So the exchanges need no validity flags.
  emitButterfly(op, pa, std::min<int64_t>(32, lanes), /*dense=*/true);
  if (lanes > 32) {
    int64_t perGroup = lanes / 32;
    emitWarpPartials(op, pa, offset, "mt_o * " + num(perGroup), perGroup, /*dense=*/true);
  }
  std::vector<std::string> outs;
  for (unsigned k = 0; k < pa.acc.size(); ++k) {
    outs.push_back(smemArray(pa.types[k], offset));
    offset = align16(offset + size_t(nOut) * elemBytes(op.operand(k)->type()));
  }
  useScratch(offset);
  open("if (mt_lane == 0" + (idle ? " && mt_o < " + num(nOut) : std::string()) + ")");
  for (unsigned k = 0; k < pa.acc.size(); ++k)
    line(outs[k] + "[mt_o] = " + pa.acc[k] + ";");
  close();
  line("__syncthreads();");
  int64_t p = per(rt);
  line("#pragma unroll");
  open("for (int i = 0; i < " + num(p) + "; ++i)");
  lineL(lin(p));
  for (unsigned k = 0; k < results.size(); ++k)
    line(results[k] + "[i] = L < " + num(nOut) + " ? " + outs[k] + "[L] : mt::zero<" + pa.types[k] + ">();");
  close();
  close();
}

void KernelEmitter::emitReduceSequential(const Operation &op, const std::vector<std::string> &smem) {
  const Type *st = op.operand(0)->type();
  int64_t axis = op.intAttr("axis");
  std::vector<const Value *> srcs(op.operands().begin(), op.operands().end());
  const std::vector<int64_t> &shape = st->shape();
  int64_t extent = shape[axis];
  int64_t inner = stridesOf(shape)[axis];
  const Type *rt = op.result(0)->type();
  int64_t nOut = rt->isBlock() ? rt->numElements() : 1;
  std::vector<std::string> results;
  for (unsigned k = 0; k < op.numResults(); ++k)
    results.push_back(declare(op.result(k), &op));

  int64_t p = per(rt);
  bool tile = rt->isBlock();
  if (tile) {
    line("#pragma unroll");
    open("for (int i = 0; i < " + num(p) + "; ++i)");
    lineL(lin(p));
  } else {
    open("");
    line("const int L = 0;");
  }
  open("if (L < " + num(nOut) + ")");
  // Output L = (outer, in); element j along the axis sits at outer * extent * inner + j * inner + in.
  line(inner == 1 ? "const int mt_base = L * " + num(extent) + ";"
                  : "const int mt_base = (L / " + num(inner) + ") * " + num(extent * inner) + " + L % " +
                        num(inner) + ";");
  std::vector<std::string> acc, rhs;
  for (unsigned k = 0; k < srcs.size(); ++k) {
    std::string et = elemType(srcs[k]->type(), &op);
    acc.push_back("v" + std::to_string(counter_++) + "_acc");
    rhs.push_back("v" + std::to_string(counter_++) + "_rhs");
    line(et + " " + acc[k] + " = " + smem[k] + "[mt_base];");
  }
  open("for (int j = 1; j < " + num(extent) + "; ++j)");
  for (unsigned k = 0; k < srcs.size(); ++k)
    line(elemType(srcs[k]->type(), &op) + " " + rhs[k] + " = " + smem[k] + "[mt_base + j" +
         (inner == 1 ? std::string() : " * " + num(inner)) + "];");
  emitCombine(op, acc, rhs);
  close();
  for (unsigned k = 0; k < srcs.size(); ++k)
    line(results[k] + (tile ? "[i]" : "") + " = " + acc[k] + ";");
  close();
  if (tile) {
    open(" else");
    for (unsigned k = 0; k < srcs.size(); ++k)
      line(results[k] + "[i] = mt::zero<" + elemType(rt, &op) + ">();");
    close();
  }
  close();
}

void KernelEmitter::emitStripReduce(const Operation &op) {
  // Strip layout (EmitStrip.cpp): each thread folds its rows of each column in registers, a butterfly over
  // the row groups of a warp (cgp lanes apart) gives every group the warp's result, and when a column's row
  // groups span several warps their results meet in shared memory. The result, a column vector, is then in
  // every row group (the strip vector layout).
  const StripLayout &l = stripOf(layoutOf(op.operand(0)));
  unsigned n = op.numOperands();
  int64_t slots = l.reps * l.v;
  int64_t gpw = l.cgp >= 32 ? 1 : std::min<int64_t>(l.rg, 32 / l.cgp), nw = l.rg / gpw;
  std::vector<std::string> src, res, types, acc, rhs, smem;
  for (unsigned k = 0; k < n; ++k) {
    src.push_back(name(op.operand(k)));
    types.push_back(elemType(op.operand(k)->type(), &op));
  }
  for (unsigned k = 0; k < n; ++k)
    res.push_back(declare(op.result(k), &op));
  line("// reduce axis 0 of a strip tile: " + num(l.s) + " row(s) per thread in registers" +
       (gpw > 1 ? ", a butterfly over " + num(gpw) + " row groups" : "") +
       (nw > 1 ? ", " + num(nw) + " warps through shared memory" : ""));
  open("");
  for (unsigned k = 0; k < n; ++k) {
    acc.push_back("v" + std::to_string(counter_++) + "_acc");
    rhs.push_back("v" + std::to_string(counter_++) + "_rhs");
    line(types[k] + " " + acc[k] + ", " + rhs[k] + ";");
  }
  if (nw > 1) {
    for (unsigned k = 0; k < n; ++k) {
      smem.push_back("v" + std::to_string(counter_++) + "_part");
      line(types[k] + " *" + smem[k] + " = " +
           stripSmem(op, k, types[k], size_t(nw * l.cols) * elemBytes(op.operand(k)->type())) + ";");
    }
    if (stripLeadingBarrier(op))
      line("__syncthreads();");
  }
  if (l.rg > 1)
    line("const int mt_q = (mt_tid / " + num(l.cgp) + ") % " + num(gpw) + ", mt_w = mt_tid / " +
         num(l.cgp * gpw) + ";");
  auto slotHead = [&] {
    line("#pragma unroll");
    open("for (int mt_c = 0; mt_c < " + num(slots) + "; ++mt_c)");
    line("const int mt_i0 = (mt_c / " + num(l.v) + ") * " + num(l.v * l.s) + " + mt_c % " + num(l.v) + ";");
    line("const int mt_col = ((mt_c / " + num(l.v) + ") * " + num(l.cgp) + " + mt_tid % " + num(l.cgp) +
         ") * " + num(l.v) + " + mt_c % " + num(l.v) + ";");
  };
  slotHead();
  for (unsigned k = 0; k < n; ++k)
    line(acc[k] + " = " + src[k] + "[mt_i0];");
  if (l.s > 1) {
    line("#pragma unroll");
    open("for (int mt_r = 1; mt_r < " + num(l.s) + "; ++mt_r)");
    for (unsigned k = 0; k < n; ++k)
      line(rhs[k] + " = " + src[k] + "[mt_i0 + mt_r * " + num(l.v) + "];");
    emitCombine(op, acc, rhs);
    close();
  }
  for (int64_t off = 1; off < gpw; off *= 2) {
    // Both partners combine (lower group, upper group): every group ends with the same bits.
    for (unsigned k = 0; k < n; ++k)
      line(rhs[k] + " = mt::shflXor(" + acc[k] + ", " + num(off * l.cgp) + ");");
    open("if (mt_q & " + num(off) + ")");
    for (unsigned k = 0; k < n; ++k)
      line("{ " + types[k] + " mt_t = " + acc[k] + "; " + acc[k] + " = " + rhs[k] + "; " + rhs[k] +
           " = mt_t; }");
    close();
    emitCombine(op, acc, rhs);
  }
  if (nw > 1) {
    open("if (mt_q == 0)");
    for (unsigned k = 0; k < n; ++k)
      line(smem[k] + "[mt_w * " + num(l.cols) + " + mt_col] = " + acc[k] + ";");
    close();
  } else {
    for (unsigned k = 0; k < n; ++k)
      line(res[k] + "[mt_c] = " + acc[k] + ";");
  }
  close();
  if (nw > 1) {
    line("__syncthreads();");
    slotHead();
    for (unsigned k = 0; k < n; ++k)
      line(acc[k] + " = " + smem[k] + "[mt_col];");
    line("#pragma unroll");
    open("for (int mt_v = 1; mt_v < " + num(nw) + "; ++mt_v)");
    for (unsigned k = 0; k < n; ++k)
      line(rhs[k] + " = " + smem[k] + "[mt_v * " + num(l.cols) + " + mt_col];");
    emitCombine(op, acc, rhs);
    close();
    for (unsigned k = 0; k < n; ++k)
      line(res[k] + "[mt_c] = " + acc[k] + ";");
    close();
  }
  close();
}

} // namespace mt::cuda::detail
