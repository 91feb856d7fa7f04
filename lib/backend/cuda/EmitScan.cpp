// Tile IR -> CUDA C++: `scan` (associative_scan, cumsum, cumprod; tuples; reverse).
//
// The source tiles are spilled to shared memory. Each line along the scan axis gets `lanes` consecutive
// threads of one warp (a power of 2, at most 32 and at most the line's length), each owning a contiguous
// segment of the line:
//   1. each lane scans its segment sequentially, in place;
//   2. the lanes' totals are scanned with warp shuffles (Hillis-Steele, lower lanes on the left);
//   3. each lane combines the total of the lanes before it into its segment;
// then, after a barrier, every thread reads its result elements. A reverse scan is the same on mirrored
// positions. The combine region's operand order is kept (earlier elements on the left), so non-
// commutative combines such as a linear recurrence's are exact. Lines beyond what the threads cover at
// once are done in rounds with a uniform trip count, so every thread reaches every shuffle.
#include "backend/cuda/EmitterImpl.h"

namespace mt::cuda::detail {

using namespace ir;

void KernelEmitter::emitScan(const Operation &op) {
  const Type *st = checkAxisOp(op, "scans");
  if (stripAxis0(op)) { // strip tiles (EmitStrip.cpp): along each thread's own rows
    emitStripScan(op);
    return;
  }
  int64_t axis = op.intAttr("axis");
  bool reverse = op.intAttr("reverse") != 0;
  std::vector<const Value *> srcs(op.operands().begin(), op.operands().end());
  std::vector<std::string> smem = spill(srcs, op);

  int64_t extent = st->shape()[axis], inner = stridesOf(st->shape())[axis];
  int64_t n = st->numElements(), lines = n / extent;
  int64_t lanes =
      std::min({int64_t(32), pow2Floor(std::max<int64_t>(1, threads_ / lines)), pow2Floor(extent)});
  int64_t perRound = threads_ / lanes, rounds = (lines + perRound - 1) / perRound;
  int64_t seg = (extent + lanes - 1) / lanes;
  std::vector<std::string> results;
  for (unsigned k = 0; k < op.numResults(); ++k)
    results.push_back(declare(op.result(k), &op));

  auto segmentLoop = [&] {
    open("for (int mt_q = mt_lane * " + num(seg) + "; mt_q < " +
         (seg * lanes == extent ? "(mt_lane + 1) * " + num(seg)
                                : "((mt_lane + 1) * " + num(seg) + " < " + num(extent) +
                                      " ? (mt_lane + 1) * " + num(seg) + " : " + num(extent) + ")") +
         "; ++mt_q)");
    std::string pos = reverse ? "(" + num(extent - 1) + " - mt_q)" : "mt_q";
    line("const int mt_at = mt_base + " + pos + (inner == 1 ? "" : " * " + num(inner)) + ";");
  };

  open("");
  line("const int mt_lane = mt_tid % " + num(lanes) + ";");
  open("for (int mt_r = 0; mt_r < " + num(rounds) + "; ++mt_r)");
  line("const int mt_o = mt_r * " + num(perRound) + " + mt_tid / " + num(lanes) + ";");
  line("const bool mt_live = mt_o < " + num(lines) + ";");
  line(inner == 1 ? "const int mt_base = mt_o * " + num(extent) + ";"
                  : "const int mt_base = (mt_o / " + num(inner) + ") * " + num(extent * inner) +
                        " + mt_o % " + num(inner) + ";");
  Partial pa = declarePartial(op);
  // 1. The lane's segment, scanned in place.
  open("if (mt_live)");
  segmentLoop();
  emitFold(
      op, pa, [&](unsigned k) { return smem[k] + "[mt_at]"; }, "true");
  for (unsigned k = 0; k < smem.size(); ++k)
    line(smem[k] + "[mt_at] = " + pa.acc[k] + ";");
  close();
  close();
  if (lanes > 1) {
    // 2. Inclusive scan of the lanes' totals: the lower lane's total is the left operand.
    line("#pragma unroll");
    open("for (int mt_off = 1; mt_off < " + num(lanes) + "; mt_off <<= 1)");
    line("const bool mt_rhas = mt::shflUp(" + pa.has + ", mt_off);");
    for (unsigned k = 0; k < pa.acc.size(); ++k)
      line(pa.rhs[k] + " = mt::shflUp(" + pa.acc[k] + ", mt_off);");
    open("if (mt_lane >= mt_off && mt_rhas)");
    open("if (" + pa.has + ")");
    for (unsigned k = 0; k < pa.acc.size(); ++k) // acc = combine(left = rhs, right = acc)
      line("{ " + pa.types[k] + " mt_t = " + pa.acc[k] + "; " + pa.acc[k] + " = " + pa.rhs[k] + "; " +
           pa.rhs[k] + " = mt_t; }");
    emitCombine(op, pa.acc, pa.rhs);
    close(" else {");
    ++indent_;
    for (unsigned k = 0; k < pa.acc.size(); ++k)
      line(pa.acc[k] + " = " + pa.rhs[k] + ";");
    close();
    line(pa.has + " = true;");
    close();
    close();
    // 3. The total of the lanes before this one (the previous lane's inclusive total), combined into
    // the segment from the left.
    line("const bool mt_phas = mt::shflUp(" + pa.has + ", 1) && mt_lane > 0;");
    std::vector<std::string> pre;
    for (unsigned k = 0; k < pa.acc.size(); ++k) {
      pre.push_back("v" + std::to_string(counter_++) + "_pre");
      line(pa.types[k] + " " + pre.back() + " = mt::shflUp(" + pa.acc[k] + ", 1);");
    }
    open("if (mt_live && mt_phas)");
    segmentLoop();
    for (unsigned k = 0; k < pa.acc.size(); ++k) {
      line(pa.acc[k] + " = " + pre[k] + ";");
      line(pa.rhs[k] + " = " + smem[k] + "[mt_at];");
    }
    emitCombine(op, pa.acc, pa.rhs);
    for (unsigned k = 0; k < smem.size(); ++k)
      line(smem[k] + "[mt_at] = " + pa.acc[k] + ";");
    close();
    close();
  }
  close(); // rounds
  line("__syncthreads();");
  int64_t p = per(st);
  line("#pragma unroll");
  open("for (int i = 0; i < " + num(p) + "; ++i)");
  lineL(lin(p));
  for (unsigned k = 0; k < results.size(); ++k)
    line(results[k] + "[i] = L < " + num(n) + " ? " + smem[k] + "[L] : mt::zero<" + pa.types[k] + ">();");
  close();
  close();
}

void KernelEmitter::emitStripScan(const Operation &op) {
  // Strip layout (EmitStrip.cpp): for each of its columns a thread holds `s` consecutive rows of its row
  // group. 1. each thread scans its rows in registers; 2. the row groups' totals are scanned with shuffles
  // over the row groups of a warp (cgp lanes apart); 3. when a column's row groups span several warps, the
  // warps' totals meet in shared memory; 4. each thread combines the total of the row groups before its
  // own into its rows. A reverse scan mirrors the rows, the row groups and the warps.
  const StripLayout &l = stripOf(layoutOf(op.operand(0)));
  bool reverse = op.intAttr("reverse") != 0;
  unsigned n = op.numOperands();
  int64_t slots = l.reps * l.v;
  int64_t gpw = l.cgp >= 32 ? 1 : std::min<int64_t>(l.rg, 32 / l.cgp), nw = l.rg / gpw;
  std::vector<std::string> src, res, types, acc, rhs, pre, smem;
  for (unsigned k = 0; k < n; ++k) {
    src.push_back(name(op.operand(k)));
    types.push_back(elemType(op.operand(k)->type(), &op));
  }
  for (unsigned k = 0; k < n; ++k)
    res.push_back(declare(op.result(k), &op));
  line("// scan axis 0 of a strip tile: " + num(l.s) + " row(s) per thread in registers" +
       (gpw > 1 ? ", shuffles over " + num(gpw) + " row groups" : "") +
       (nw > 1 ? ", " + num(nw) + " warps' totals in shared memory" : ""));
  open("");
  for (unsigned k = 0; k < n; ++k) {
    acc.push_back("v" + std::to_string(counter_++) + "_acc");
    rhs.push_back("v" + std::to_string(counter_++) + "_rhs");
    line(types[k] + " " + acc[k] + ", " + rhs[k] + ";");
    if (l.rg > 1) {
      pre.push_back("v" + std::to_string(counter_++) + "_pre");
      line(types[k] + " " + pre[k] + "[" + num(slots) + "];");
    }
  }
  if (nw > 1) {
    for (unsigned k = 0; k < n; ++k) {
      smem.push_back("v" + std::to_string(counter_++) + "_tot");
      line(types[k] + " *" + smem[k] + " = " +
           stripSmem(op, k, types[k], size_t(nw * l.cols) * elemBytes(op.operand(k)->type())) + ";");
    }
  }
  // Positions in scan order: the thread's row group within its warp (q) and its warp group (w).
  std::string qRaw = "(mt_tid / " + num(l.cgp) + ") % " + num(gpw),
              wRaw = "(mt_tid / " + num(l.cgp * gpw) + ")";
  if (l.rg > 1) {
    line("const int mt_q = " + (reverse ? num(gpw - 1) + " - " + qRaw : qRaw) + ";");
    line("const int mt_w = " + (reverse ? num(nw - 1) + " - " + wRaw : wRaw) + ";");
  }
  auto slotHead = [&] {
    line("#pragma unroll");
    open("for (int mt_c = 0; mt_c < " + num(slots) + "; ++mt_c)");
    line("const int mt_i0 = (mt_c / " + num(l.v) + ") * " + num(l.v * l.s) + " + mt_c % " + num(l.v) + ";");
    line("const int mt_col = ((mt_c / " + num(l.v) + ") * " + num(l.cgp) + " + mt_tid % " + num(l.cgp) +
         ") * " + num(l.v) + " + mt_c % " + num(l.v) + ";");
  };
  auto rowIndex = [&](const std::string &r) {
    return "mt_i0 + " + (reverse ? "(" + num(l.s - 1) + " - " + r + ")" : r) + " * " + num(l.v);
  };
  // acc = combine(left, acc): `left` comes first in scan order.
  auto combineLeft = [&](const std::vector<std::string> &left) {
    for (unsigned k = 0; k < n; ++k)
      line(rhs[k] + " = " + acc[k] + "; " + acc[k] + " = " + left[k] + ";");
    emitCombine(op, acc, rhs);
  };
  if (nw > 1 && stripLeadingBarrier(op))
    line("__syncthreads();");
  slotHead();
  // 1. The thread's rows.
  for (unsigned k = 0; k < n; ++k) {
    line(acc[k] + " = " + src[k] + "[" + rowIndex("0") + "];");
    line(res[k] + "[" + rowIndex("0") + "] = " + acc[k] + ";");
  }
  if (l.s > 1) {
    line("#pragma unroll");
    open("for (int mt_r = 1; mt_r < " + num(l.s) + "; ++mt_r)");
    line("const int mt_i = " + rowIndex("mt_r") + ";");
    for (unsigned k = 0; k < n; ++k)
      line(rhs[k] + " = " + src[k] + "[mt_i];");
    emitCombine(op, acc, rhs);
    for (unsigned k = 0; k < n; ++k)
      line(res[k] + "[mt_i] = " + acc[k] + ";");
    close();
  }
  if (l.rg > 1) {
    // 2. Inclusive scan of the row groups' totals within the warp; pre = the previous group's.
    std::string shfl = reverse ? "mt::shflDown(" : "mt::shflUp(";
    std::vector<std::string> got;
    for (unsigned k = 0; k < n; ++k)
      got.push_back("v" + std::to_string(counter_++) + "_got");
    for (int64_t off = 1; off < gpw; off *= 2) {
      open("");
      for (unsigned k = 0; k < n; ++k)
        line(types[k] + " " + got[k] + " = " + shfl + acc[k] + ", " + num(off * l.cgp) + ");");
      open("if (mt_q >= " + num(off) + ")");
      combineLeft(got);
      close();
      close();
    }
    for (unsigned k = 0; k < n; ++k)
      line(pre[k] + "[mt_c] = " + (gpw > 1 ? shfl + acc[k] + ", " + num(l.cgp) + ")" : acc[k]) + ";");
    // 3. The warp's total (its last row group's inclusive total), for the warps after it.
    if (nw > 1) {
      open("if (mt_q == " + num(gpw - 1) + ")");
      for (unsigned k = 0; k < n; ++k)
        line(smem[k] + "[mt_w * " + num(l.cols) + " + mt_col] = " + acc[k] + ";");
      close();
    }
  }
  close();
  if (l.rg > 1) {
    if (nw > 1)
      line("__syncthreads();");
    // 4. The total before the thread's row group, combined into each of its rows from the left.
    std::vector<std::string> pfx;
    for (unsigned k = 0; k < n; ++k) {
      pfx.push_back("v" + std::to_string(counter_++) + "_pfx");
      line(types[k] + " " + pfx[k] + ";");
    }
    line("bool mt_has;");
    slotHead();
    line("mt_has = mt_q > 0;");
    if (gpw > 1) {
      open("if (mt_has)");
      for (unsigned k = 0; k < n; ++k)
        line(acc[k] + " = " + pre[k] + "[mt_c];");
      close();
    }
    if (nw > 1) {
      open("if (mt_w > 0)");
      std::vector<std::string> wsum;
      for (unsigned k = 0; k < n; ++k) {
        wsum.push_back("v" + std::to_string(counter_++) + "_wsum");
        line(types[k] + " " + wsum[k] + " = " + smem[k] + "[mt_col];");
      }
      // A loop of compile-time length (mt_w < nw), predicated: a run-time bound made nvcc unroll by 16
      // with remainder branches, per column.
      line("#pragma unroll");
      open("for (int mt_v = 1; mt_v < " + num(nw - 1) + "; ++mt_v)");
      open("if (mt_v < mt_w)");
      for (unsigned k = 0; k < n; ++k)
        line(rhs[k] + " = " + smem[k] + "[mt_v * " + num(l.cols) + " + mt_col];"); // by scan order
      emitCombine(op, wsum, rhs);
      close();
      close();
      open("if (mt_has)");
      combineLeft(wsum);
      close(" else {");
      ++indent_;
      for (unsigned k = 0; k < n; ++k)
        line(acc[k] + " = " + wsum[k] + ";");
      close();
      line("mt_has = true;");
      close();
    }
    open("if (mt_has)");
    line("#pragma unroll");
    open("for (int mt_r = 0; mt_r < " + num(l.s) + "; ++mt_r)");
    line("const int mt_i = mt_i0 + mt_r * " + num(l.v) + ";");
    for (unsigned k = 0; k < n; ++k)
      line(pfx[k] + " = " + acc[k] + "; " + rhs[k] + " = " + res[k] + "[mt_i];");
    emitCombine(op, pfx, rhs);
    for (unsigned k = 0; k < n; ++k)
      line(res[k] + "[mt_i] = " + pfx[k] + ";");
    close();
    close();
    close();
  }
  close();
}

} // namespace mt::cuda::detail
