// Tile IR -> CUDA C++: `dot` on tensor cores (mma.sync, sm_80+; device/mma.cuh).
//
//   dot a[M,K], b[K,N], acc[M,N]    f16/bf16 operands, f32 acc        -> mma.m16n8k16
//                                   f32 operands, input_precision tf32 -> mma.m16n8k8.tf32
//                                   (the frontend's default for f32; without the attribute a dot is
//                                   ieee, as in the CPU interpreter)
// Everything else (ieee or tf32x3 f32, f64, integers, an f16 accumulator, M % 16, N % 8 or K % 16/8
// not zero) stays on the FMA loop of EmitTile.cpp.
//
// The operands and the accumulator go through shared memory (a layout conversion from and to the
// blocked layout, so no other op changes):
//   __syncthreads; a -> sa[M][LDA], b -> sb[K][LDB], acc -> sc[M][LDC] (skipped for a constant acc);
//   __syncthreads; mt::mmaTile<...>(sa, sb, sc, init, mt_tid); __syncthreads; result[i] = sc[L].
// Rows are padded so that fragment loads are free of bank conflicts (see device/mma.cuh). The staging
// stores and result loads move up to 16 bytes at a time (vecWidth() consecutive elements of a thread;
// copyTile checks that lin() makes them contiguous and aligned, which folds away), else element by element.
#include "backend/cuda/EmitterImpl.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace mt::cuda::detail {

using namespace ir;

namespace {

/// The most shared memory a block may opt into on sm_90 (227 KiB); a dot whose staged A, B and C need
/// more takes the FMA loop.
constexpr size_t kMaxMmaSharedBytes = 227 * 1024;

/// The warp grid WM x WN for an M x N tile of 16 x 8 mma tiles: doubles the side with the larger
/// per-warp extent while the tiles still divide evenly and the grid fits in `warps`.
std::pair<int, int> warpGrid(int64_t m, int64_t n, int warps) {
  int wm = 1, wn = 1;
  while (wm * wn * 2 <= warps) {
    bool canM = (m / 16) % (wm * 2) == 0, canN = (n / 8) % (wn * 2) == 0;
    if (!canM && !canN)
      break;
    if (canM && (!canN || m / wm >= n / wn))
      wm *= 2;
    else
      wn *= 2;
  }
  return {wm, wn};
}

} // namespace

int swizzleWidth(int64_t cols) {
  for (int w : {128, 64, 32})
    if ((cols * 2) % w == 0)
      return w;
  return 0;
}

std::string SmemTile::index(const std::string &L) const {
  if (swz)
    return "mt::swizzled<" + num(rows) + ", " + num(cols) + ", " + num(swz) +
           (sub > 1 ? ", " + num(sub) : "") + ">(" + L + ")";
  return "(" + L + " / " + num(cols) + ") * " + num(ld) + " + " + L + " % " + num(cols);
}

std::optional<int64_t> SmemTile::shift(int64_t step) const {
  if (cols <= 0 || step % cols != 0 || sub > 1)
    return std::nullopt;
  int64_t r = step / cols;
  if (!swz)
    return r * ld;
  if (r * swz % 1024 != 0) // the XOR of swizzled() reads the address bits below 1024
    return std::nullopt;
  return r * swz / 2; // rows of swz bytes, 16-bit elements
}

std::optional<MmaPlan> planMma(const Operation &op, int numWarps, bool wgmma) {
  const Type *at_ = op.operand(0)->type(), *bt = op.operand(1)->type(), *rt = op.result()->type();
  if (at_->rank() != 2 || bt->rank() != 2 || rt->rank() != 2 || op.operand(2)->type() != rt)
    return std::nullopt;
  DType d = at_->dtype();
  if (bt->dtype() != d || rt->dtype() != DType::F32)
    return std::nullopt;
  MmaPlan p;
  p.m = at_->shape()[0];
  p.k = at_->shape()[1];
  p.n = bt->shape()[1];
  if (d == DType::F16 || d == DType::BF16) {
    p.kStep = 16;
  } else if (d == DType::F32 && op.stringAttr("input_precision") == "tf32") {
    p.kStep = 8;
  } else {
    return std::nullopt;
  }
  p.elem = d;
  if (p.m % 16 != 0 || p.n % 8 != 0 || p.k % p.kStep != 0)
    return std::nullopt;
  // A warpgroup MMA: each warpgroup takes 64 rows, or 128 in two products (so the accumulators are
  // fragLinear<M, N, warps, 1>), the whole of N in one m64nNk16 instruction per product and k-step of 16.
  int sub = numWarps > 0 && p.m % (16 * numWarps) == 0 ? int(p.m / (16 * numWarps)) : 0;
  if (wgmma && p.kStep == 16 && numWarps % 4 == 0 && (sub == 1 || sub == 2) && p.n % 16 == 0 && p.n <= 256) {
    p.wgmma = true;
    p.sub = sub;
    p.wm = numWarps;
    p.wn = 1;
    p.lda = p.k;
    p.ldb = p.n;
    p.ldc = p.n + (p.n % 16 == 0 ? 8 : 16);
    p.swA = swizzleWidth(p.k);
    p.swB = swizzleWidth(p.n);
    return p;
  }
  std::tie(p.wm, p.wn) = warpGrid(p.m, p.n, numWarps);
  // Padding (elements): 16-bit rows of A are 16 (mod 32) bytes apart, hence distinct 16-byte bank groups
  // for the 8 rows of an ldmatrix phase; f32 rows of A are 4 (mod 8) words apart (lanes read rows g,
  // columns t); B and C rows are 8 (mod 16) elements apart.
  p.lda = p.k + (p.kStep == 16 ? 8 : 4);
  p.ldb = p.n + (p.n % 16 == 0 ? 8 : 16);
  p.ldc = p.n + (p.n % 16 == 0 ? 8 : 16);
  return p;
}

bool KernelEmitter::emitMmaDot(const Operation &op) {
  if (!opts_.tensorCores)
    return false;
  std::optional<MmaPlan> plan = mmaPlanFor(op);
  if (!plan)
    return false;
  if (plan->wgmma && fragOf(op.result()) < 0)
    plan = planMma(op, opts_.numWarps); // wgmma accumulates in fragment registers only
  const MmaPlan &p = *plan;
  const Value *a = op.operand(0), *b = op.operand(1), *acc = op.operand(2);
  std::string et = cudaTypeName(p.elem);
  size_t eb = elemBytes(a->type());

  // A constant accumulator (tl.dot(a, b) or a splat) initialises the fragments instead of being staged.
  const Operation *accDef = acc->definingOp();
  bool loadC = !(accDef && accDef->kind() == OpKind::Constant && accDef->attr("value") &&
                 std::isfinite(accDef->floatAttr("value")));
  double init = loadC ? 0.0 : accDef->floatAttr("value");

  size_t offA = 0;
  size_t offB =
      p.wgmma ? align1024(offA + size_t(p.m * p.lda) * eb) : align16(offA + size_t(p.m * p.lda) * eb);
  size_t offC = align16(offB + size_t(p.k * p.ldb) * eb);
  size_t total = align16(offC + size_t(p.m * p.ldc) * 4);
  int frag = fragOf(op.result());
  if (frag >= 0) {
    emitFragDot(op, p, frag, loadC ? std::optional<double>() : std::optional<double>(init), offB);
    return true;
  }
  if (total > kMaxMmaSharedBytes)
    return false; // the FMA loop stages only A and B
  useScratch(total);

  std::string id = "v" + std::to_string(counter_++);
  std::string sa = id + "_sa", sb = id + "_sb", sc = id + "_sc";
  line("// dot " + num(p.m) + "x" + num(p.n) + "x" + num(p.k) + " " + std::string(dtypeName(p.elem)) +
       " on tensor cores (mma k" + num(p.kStep) + "), warps " + num(p.wm) + "x" + num(p.wn));
  line("__syncthreads();");
  line(et + " *" + sa + " = " + smemArray(et, offA) + ";");
  line(et + " *" + sb + " = " + smemArray(et, offB) + ";");
  line("mt::f32 *" + sc + " = " + smemArray("mt::f32", offC) + ";");
  stageOperand(op, a, sa, {p.m, p.k, p.lda});
  stageOperand(op, b, sb, {p.k, p.n, p.ldb});
  if (loadC)
    stageOperand(op, acc, sc, {p.m, p.n, p.ldc});
  line("__syncthreads();");
  char initText[64];
  std::snprintf(initText, sizeof initText, "%a", init);
  line("mt::mmaTile<" + et + ", " + num(p.m) + ", " + num(p.n) + ", " + num(p.k) + ", " + num(p.wm) + ", " +
       num(p.wn) + ", " + num(p.lda) + ", " + num(p.ldb) + ", " + num(p.ldc) + ", " +
       (loadC ? "true" : "false") + ">(" + sa + ", " + sb + ", " + sc + ", " +
       (loadC ? "0.0f" : "(float)" + std::string(initText)) + ", mt_tid);");
  line("__syncthreads();");
  const Type *rt = op.result()->type();
  std::string r = declare(op.result(), &op);
  // Padding elements (L >= M*N) of the blocked result are zero.
  line("#pragma unroll");
  line("for (int i = 0; i < " + num(per(rt)) + "; ++i) " + r + "[i] = 0.0f;");
  copyTile(
      rt,
      [&](const std::string &idx, const std::string &i) {
        return r + "[" + i + "] = " + sc + "[" + idx + "];";
      },
      [&](const std::string &idx, const std::string &i0, int vec) {
        std::string vt = "mt::Vec<mt::f32, " + num(vec) + ">";
        std::string body =
            "const " + vt + " mt_v = *reinterpret_cast<const " + vt + " *>(&" + sc + "[" + idx + "]);";
        for (int j = 0; j < vec; ++j)
          body += " " + r + "[" + i0 + " + " + num(j) + "] = mt_v.v[" + num(j) + "];";
        return body;
      },
      {p.m, p.n, p.ldc});
  return true;
}

void KernelEmitter::emitFragDot(const Operation &op, const MmaPlan &p, int frag, std::optional<double> init,
                                size_t offB) {
  const Value *a = op.operand(0), *b = op.operand(1), *acc = op.operand(2);
  std::string et = cudaTypeName(p.elem);
  size_t eb = elemBytes(a->type());
  if (!pipedDots_.count(&op))
    useScratch(align16(offB + size_t(p.k * p.ldb) * eb)); // (N x K for B^T: as many)
  std::string id = "v" + std::to_string(counter_++);
  std::string sa = id + "_sa", sb = id + "_sb";
  line("// dot " + num(p.m) + "x" + num(p.n) + "x" + num(p.k) + " " + std::string(dtypeName(p.elem)) +
       (p.wgmma ? " on tensor cores (wgmma m64n" + num(p.n) + "k16, " + num(p.m / 64) + " warpgroups)"
                : " on tensor cores (mma k" + num(p.kStep) + "), warps " + num(p.wm) + "x" + num(p.wn)) +
       ", accumulator in registers");
  const LoopPipe *pipe = pipedDots_.count(&op) ? &loopPipes_.at(pipedDots_.at(&op)) : nullptr;
  if (pipe && pipe->rotate && pipe->dots.back().dot == &op) { // issued with the next iteration's first dot
    std::string accName = name(pipe->accArg), pv = valueIn(a, fragOf(a));
    std::string words = num(perIn(a->type(), fragOf(a)) / 2), next = pipe->pCarry + "_next";
    line("unsigned " + next + "[" + words + "];"); // this iteration's A, packed (the carry is still read)
    line("#pragma unroll");
    line("for (int i = 0; i < " + words + "; ++i) " + next + "[i] = mt::packPair(" + pv + "[2 * i], " + pv +
         "[2 * i + 1]);");
    // The code between the dots ran under these products: ptxas would hoist the wait above it (SASS).
    // (On the packed words: on the 16-bit values it cost a repacking, PRMT and LOP3, every iteration.)
    line("mt::orderAfter(" + next + "); // the code since this iteration's first dot stays before the wait");
    line("mt::wgmmaWait<0>(" + accName + "); // the last iteration's second product");
    line("if (" + pipe->iter + " > 0) mt::mbarArrive(&" + (pipe->split ? pipe->emptyB : pipe->empty) + "[" +
         previousSlot(*pipe) + "]); // this thread is done with the last iteration's slot");
    if (pipe->split) // its operands' slot: refilled only now that both warpgroups' readers are done
      emitNextIssue(*pipe, 1);
    line("mt::fenceOperands(" + pipe->pCarry + "); // its A: rewritten only from here on");
    line("#pragma unroll");
    line("for (int i = 0; i < " + words + "; ++i) " + pipe->pCarry + "[i] = " + next + "[i];");
    if (pipe->rescaleBy)
      assign(pipe->rescaleBy->type(), pipe->xCarry, valueIn(pipe->rescaleBy, layoutOf(pipe->rescaleBy)),
             layoutOf(pipe->rescaleBy));
    bind(op.result(), accName);
    return;
  }
  bool inFlight = pipe && pipe->deferWait;
  std::string r;
  if (inFlight) { // accumulates in place into the loop-carried registers, products left in flight
    r = name(acc);
    bind(op.result(), r);
  } else {
    r = declare(op.result(), &op);
  }
  if (inFlight) {
  } else if (init) {
    char text[64];
    std::snprintf(text, sizeof text, "%a", *init);
    forEach(op.result()->type(), r, "(float)" + std::string(text), frag);
  } else {
    assign(op.result()->type(), r, valueIn(acc, frag), frag);
  }
  int64_t ldb = p.ldb;
  bool bT = false;
  if (pipedDots_.count(&op)) { // operands copied stages ahead or staged once (EmitDotPipeline.cpp)
    PipedOperands po = emitPipedOperands(op, et);
    sa = po.a, sb = po.b, ldb = po.ldb, bT = po.bTransposed;
  } else if (p.wgmma && wgmmaRegisterA(a, p)) {
    line("__syncthreads();");
    line(et + " *" + sb + " = " + smemArray(et, 0) + ";");
    stageOperand(op, b, sb, operandTile(p, 1, false));
    line("mt::fenceProxyAsync(); // the staged tile, for the warpgroup MMAs' async-proxy reads");
    line("__syncthreads();");
    sa.clear();
  } else {
    line("__syncthreads();");
    line(et + " *" + sa + " = " + smemArray(et, 0) + ";");
    line(et + " *" + sb + " = " + smemArray(et, offB) + ";");
    stageOperand(op, a, sa, operandTile(p, 0, false));
    stageOperand(op, b, sb, operandTile(p, 1, false));
    if (p.wgmma)
      line("mt::fenceProxyAsync(); // the staged tiles, for the warpgroup MMAs' async-proxy reads");
    line("__syncthreads();");
  }
  if (p.wgmma) {
    usesWgmma_ = true;
    // Template arguments after the instruction: the wait (-1: none, products left in flight; default 0)
    // and the products per warpgroup (default 1).
    // Ping-pong (LoopPipe::pingPong): the warpgroup's turn starts at the loop's last dot and ends once the
    // first dot of its next iteration is issued; that one's wait and the next copies come after the turn.
    // (Measured, H100: leaving the last dot's products in flight through the handover, for the first dot's
    // wait to cover, was slower: attention D128 BN128 2.08 ms against 1.89.)
    bool front = pipe && pipe->dots.front().dot == &op;
    bool rotated = front && pipe->rotate, turnEnds = front && pipe->pingPong;
    // The turn's wait, inside the call (with A from registers: once A is packed, pinned there). Rotated:
    // before the first dot (the second follows it), from the second iteration on.
    std::string turn = pipe && pipe->pingPong && pipe->dots.back().dot == &op ? ", " + pipe->turn
                       : rotated && pipe->pingPong ? ", " + pipe->iter + " > 0 ? " + pipe->turn + " : 0"
                                                   : "";
    std::string waitSub = inFlight || turnEnds || rotated ? ", -1" : p.sub > 1 ? ", 0" : "";
    if (p.sub > 1)
      waitSub += ", " + num(p.sub);
    if (sa.empty()) { // A from the fragment registers
      line(wgmmaRegACall(p, bT, valueIn(a, fragOf(a)), sb, r, waitSub, turn));
    } else {
      std::string mma = wgmmaInstruction(p.n, p.elem, bT);
      line("mt::wgmmaAccumulate<" + et + ", " + num(p.m) + ", " + num(p.n) + ", " + num(p.k) + ", " +
           num(p.swA) + ", " + num(operandTile(p, 1, bT).swz) + ", " + (bT ? "true" : "false") + ", " + mma +
           waitSub + ">(" + sa + ", " + sb + ", " + r + ", mt_wg" + turn + ");");
    }
    if (inFlight) { // the next copies while the products run; the last iteration's done before or after
      std::string wait =
          "mt::wgmmaWait<1>(" + r + "); // the last iteration's products are done, this one's run on";
      if (opts_.waitFirst)
        line(wait);
      emitNextIssue(*pipe);
      if (!opts_.waitFirst)
        line(wait);
    }
    if (rotated) { // the second product of the iteration before (none in the first: an empty group)
      open("if (" + pipe->iter + " > 0)");
      emitSecondOperandsWait(*pipe);
      line(regAProduct(*pipe, pipe->pCarry, previousSlot(*pipe), name(pipe->accArg), ", -1", ""));
      close(" else {");
      ++indent_;
      line("mt::wgmmaCommit(); // an empty group: one wait count fits every iteration");
      close();
    }
    if (turnEnds)
      turnLine(*pipe, "if (" + pipe->iter + " > 0) mt::namedBarArrive(2 - " + pipe->warpgroup +
                          ", 256); // the other warpgroup's turn");
    if (turnEnds || rotated) { // split: the first dot's operands only (the second's after its product)
      emitNextIssue(*pipe, rotated && pipe->split ? 0 : -1);
      line("mt::wgmmaWait<" + std::string(rotated ? "1" : "0") + ">(" + r + ");" +
           (rotated ? " // this product; the second one of the iteration before runs on" : ""));
    }
    if (rotated && pipe->split)
      line("mt::mbarArrive(&" + pipe->empty + "[" + pipe->stage + "]); // this thread is done with the slot");
    emitRingRelease(op);
    return;
  }
  line("mt::mmaAccumulate<" + et + ", " + num(p.m) + ", " + num(p.n) + ", " + num(p.k) + ", " + num(p.wm) +
       ", " + num(p.wn) + ", " + num(p.lda) + ", " + num(ldb) + (bT ? ", true" : "") + ">(" + sa + ", " + sb +
       ", " + r + ", mt_tid);");
}

std::string KernelEmitter::wgmmaRegACall(const MmaPlan &p, bool bT, const std::string &a,
                                         const std::string &b, const std::string &acc,
                                         const std::string &waitSub, const std::string &turn) {
  return "mt::wgmmaAccumulateRegA<" + cudaTypeName(p.elem) + ", " + num(p.m) + ", " + num(p.n) + ", " +
         num(p.k) + ", " + num(operandTile(p, 1, bT).swz) + ", " + (bT ? "true" : "false") + ", " +
         wgmmaInstruction(p.n, p.elem, bT, /*aRegs=*/true) + waitSub + ">(" + a + ", " + b + ", " + acc +
         ", mt_wg" + turn + ");";
}

bool KernelEmitter::wgmmaRegisterA(const Value *a, const MmaPlan &p) const {
  int f = fragOf(a);
  if (!p.wgmma || f < 0 || a->type()->dtype() != p.elem)
    return false;
  const FragLayout &l = frags_[size_t(f)];
  return l.m == p.m && l.n == p.k && l.wm == p.wm && l.wn == 1;
}

SmemTile operandTile(const MmaPlan &p, int which, bool bTransposed) {
  if (which == 0)
    return {p.m, p.k, p.lda, p.wgmma ? p.swA : 0, p.wgmma ? p.sub : 1};
  if (bTransposed) // N rows of K, padded like A's rows (mma.sync) or K-major (wgmma)
    return {p.n, p.k, p.wgmma ? p.k : p.lda, p.wgmma ? swizzleWidth(p.k) : 0};
  return {p.k, p.n, p.ldb, p.wgmma ? p.swB : 0};
}

void KernelEmitter::stageOperand(const Operation &op, const Value *v, const std::string &dst,
                                 const SmemTile &at) {
  int f = fragOf(v);
  if (f >= 0) { // fragment layout: element by element at its own index
    const Type *t = v->type();
    line("#pragma unroll");
    open("for (int i = 0; i < " + num(perIn(t, f)) + "; ++i)");
    lineL(linIn(t, f));
    line(dst + "[" + at.index("L") + "] = " + name(v) + "[i];");
    close();
    return;
  }
  copyTile(
      v->type(),
      [&](const std::string &idx, const std::string &i) {
        return dst + "[" + idx + "] = " + name(v) + "[" + i + "];";
      },
      [&](const std::string &idx, const std::string &i0, int vec) {
        std::string t = elemType(v->type(), &op);
        std::string vt = "mt::Vec<" + t + ", " + num(vec) + ">";
        std::string body = vt + " mt_v;";
        for (int j = 0; j < vec; ++j)
          body += " mt_v.v[" + num(j) + "] = " + name(v) + "[" + i0 + " + " + num(j) + "];";
        return body + " *reinterpret_cast<" + vt + " *>(&" + dst + "[" + idx + "]) = mt_v;";
      },
      at);
}

void KernelEmitter::copyTile(
    const Type *t, const std::function<std::string(const std::string &, const std::string &)> &scalar,
    const std::function<std::string(const std::string &, const std::string &, int)> &vector,
    const SmemTile &at) {
  int64_t p = per(t), n = t->numElements();
  // Up to 16 bytes, at most the run of consecutive elements lin() gives a thread.
  int vec = int(std::min<int64_t>(16 / int64_t(elemBytes(t)), vecWidth(p)));
  std::string idx = at.index("L");
  if (vec < 2 || p % vec != 0 || at.cols % vec != 0 || at.ld % vec != 0 || n % vec != 0) {
    line("#pragma unroll");
    open("for (int i = 0; i < " + num(p) + "; ++i)");
    lineL(lin(p));
    line("if (L < " + num(n) + ") " + scalar(idx, "i"));
    close();
    return;
  }
  // Runs of `vec` elements of a thread: one 16-byte access where lin() makes them contiguous and aligned
  // (the checks fold away for an affine lin()), element by element otherwise.
  line("#pragma unroll");
  open("for (int mt_i0 = 0; mt_i0 < " + num(p) + "; mt_i0 += " + num(vec) + ")");
  line("int mt_l0, mt_l1;");
  line("{ const int i = mt_i0; mt_l0 = " + lin(p) + "; }");
  line("{ const int i = mt_i0 + " + num(vec - 1) + "; mt_l1 = " + lin(p) + "; }");
  open("if (mt_l1 == mt_l0 + " + num(vec - 1) + " && mt_l0 % " + num(vec) + " == 0)");
  line("const int L = mt_l0;");
  line("if (L < " + num(n) + ") { " + vector(idx, "mt_i0", vec) + " }");
  close(" else {");
  ++indent_;
  line("#pragma unroll");
  open("for (int i = mt_i0; i < mt_i0 + " + num(vec) + "; ++i)");
  lineL(lin(p));
  line("if (L < " + num(n) + ") " + scalar(idx, "i"));
  close();
  close();
  close();
}

} // namespace mt::cuda::detail
