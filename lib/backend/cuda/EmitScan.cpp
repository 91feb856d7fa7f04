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
  line("const int L = " + lin(p) + ";");
  for (unsigned k = 0; k < results.size(); ++k)
    line(results[k] + "[i] = L < " + num(n) + " ? " + smem[k] + "[L] : mt::zero<" + pa.types[k] + ">();");
  close();
  close();
}

} // namespace mt::cuda::detail
