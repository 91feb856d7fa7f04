// Tile IR -> CUDA C++: rotated ring loops (EmitOptions::rotate, LoopPipe::rotate), FlashAttention-3's
// intra-warpgroup overlap, for loops of two warpgroup MMAs whose second takes A from registers and
// accumulates into a loop-carried value (attention):
//
//   for j:                                     for j:  acc *= x_carried                (one at j = 0)
//     S = Q @ K_j                                      S = Q @ K_j                     issued, not waited
//     ... P, x from S (the softmax)                    acc += P_carried @ V_{j-1}      issued (j > 0)
//     acc = P @ V_j + acc * x                          wait for S; ... P, x from S     under P @ V
//                                                      wait for P @ V; carry P, x
//                                              after:  acc *= x; acc += P @ V_last     (if the loop ran)
//
// Every element sees the same operations in the same order. The first iteration issues an empty wgmma
// group instead of a product, so that one wait count fits every iteration and the loop stays branch-free
// for ptxas (a product under an `if` made it serialize them all). The emission itself is spread over
// EmitDot.cpp (the two dots), Emitter.cpp (the carries, the rescale, the epilogue) and
// EmitDotPipeline.cpp (the split barriers); this file plans it and holds its pieces.
#include "backend/cuda/EmitterImpl.h"

namespace mt::cuda::detail {

using namespace ir;

void KernelEmitter::planRotation(LoopPipe &lp) {
  // FlashAttention-3's intra-warpgroup overlap: in loops S = A B1 (from the ring); ...; acc = P B2 + acc * x
  // (P from the registers), the product P B2 of iteration i - 1 is issued right after S of iteration i and
  // waited for after the code between the two dots, which then runs under it.
  if (lp.dots.size() != 2 || !lp.dots[0].plan.wgmma || !lp.dots[1].plan.wgmma)
    return;
  const PipedDot &second = lp.dots[1];
  if (second.ops[0].kind != PipeOperand::Registers || second.ops[1].kind != PipeOperand::Ring ||
      lp.dots[0].ops[1].kind != PipeOperand::Ring || second.plan.sub != 1)
    return;
  Block &body = const_cast<Operation *>(lp.loop)->body(0);
  const Operation *yield = body.terminator();
  const Value *accIn = second.dot->operand(2);
  auto carried = [&](const Value *v) { // a loop-carried value of this body
    return v->isBlockArg() && v->ownerBlock() == &body && v->index() > 0;
  };
  const Value *accArg = nullptr, *by = nullptr;
  const Operation *rescale = nullptr;
  if (carried(accIn)) {
    accArg = accIn;
  } else if (const Operation *m = accIn->definingOp();
             m && m->kind() == OpKind::Mul && m->parentBlock() == &body && countUses(body, accIn) == 1) {
    for (unsigned k = 0; k < 2 && !accArg; ++k)
      if (carried(m->operand(k))) {
        accArg = m->operand(k), by = m->operand(1 - k), rescale = m;
      }
  }
  if (!accArg || !yield || countUses(body, accArg) != 1 || countUses(body, second.dot->result()) != 1 ||
      yield->operand(accArg->index() - 1) != second.dot->result() || by == accArg ||
      layoutOf(second.dot->result()) != layoutOf(accArg) || (by && layoutOf(by) != layoutOf(accArg)) ||
      (by && isLazy(by)) || fragOf(second.dot->operand(0)) < 0)
    return;
  lp.rotate = true;
  lp.accArg = accArg;
  lp.rescaleBy = by;
  if (rescale)
    rotatedRescales_[rescale] = accArg;
  std::string id = "v" + std::to_string(counter_++);
  lp.pCarry = id + "_pprev";
  lp.xCarry = id + "_xprev";
  size_t end = lp.barOffset + 4 * size_t(lp.slots()) * 8; // two more barriers a slot
  if (end <= opts_.maxPipeBytes) {
    lp.split = true;
    lp.fullB = lp.full + "B";
    lp.emptyB = lp.empty + "B";
    pipeBytes_ = std::max(pipeBytes_, end);
  }
}

std::string KernelEmitter::regAProduct(const LoopPipe &p, const std::string &a, const std::string &slot,
                                       const std::string &acc, const std::string &waitSub,
                                       const std::string &turn) {
  const PipedDot &pd = p.dots.back();
  const PipeOperand &b = pd.ops[1];
  bool bT = b.trans != nullptr;
  std::string et = cudaTypeName(pd.plan.elem);
  std::string sb = "v" + std::to_string(counter_++) + "_sb";
  line(et + " *" + sb + " = reinterpret_cast<" + et + " *>(mt_smem + @PIPE@ + " + num(int64_t(b.offset)) +
       " + " + slot + " * " + num(int64_t(b.slotBytes)) + ");");
  return wgmmaRegACall(pd.plan, bT, a, sb, acc, waitSub, turn);
}

void KernelEmitter::emitSecondOperandsWait(const LoopPipe &p) {
  if (p.split)
    line("mt::mbarWait(&" + p.fullB + "[" + previousSlot(p) + "], ((" + p.iter + " - 1) / " + num(p.slots()) +
         ") & 1); // the second dot's operands of the iteration before have landed");
}

std::string KernelEmitter::previousSlot(const LoopPipe &p) const {
  return "(" + p.stage + " == 0 ? " + num(p.slots() - 1) + " : " + p.stage + " - 1)";
}

void KernelEmitter::emitRotationCarries(const LoopPipe &p) {
  // A packed in pairs, as the products read it (a carried array of 16-bit values made ptxas unpack and
  // repack it every iteration: PRMT, LOP3).
  const Value *pv = p.dots.back().dot->operand(0);
  line("unsigned " + p.pCarry + "[" + num(perIn(pv->type(), fragOf(pv)) / 2) + "] = {};");
  if (p.rescaleBy) {
    const Type *xt = p.rescaleBy->type();
    int xf = layoutOf(p.rescaleBy);
    line(elemType(xt, nullptr) + " " + p.xCarry + "[" + num(perIn(xt, xf)) + "];");
    forEach(xt, p.xCarry, "mt::cvt<" + elemType(xt->scalarType(), nullptr) + ">(1.0f)", xf);
  }
}

void KernelEmitter::emitRotatedRescale(const LoopPipe &p) {
  if (!p.rescaleBy)
    return;
  const Type *t = p.accArg->type();
  std::string acc = name(p.accArg);
  forEach(t, acc, "mt::mul(" + acc + "[i], " + p.xCarry + "[i])", layoutOf(p.accArg));
}

void KernelEmitter::emitRotationEpilogue(const LoopPipe &p) {
  open("if (" + p.iter + " > 0)"); // the last iteration's second product
  emitRotatedRescale(p);
  std::string slot = previousSlot(p);
  emitSecondOperandsWait(p);
  line(regAProduct(p, p.pCarry, slot, name(p.accArg), "", p.pingPong ? ", " + p.turn : ""));
  line("mt::mbarArrive(&" + (p.split ? p.emptyB : p.empty) + "[" + slot +
       "]); // this thread is done with the last slot");
  close();
}

} // namespace mt::cuda::detail
