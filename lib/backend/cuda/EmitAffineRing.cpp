// Tile IR -> CUDA C++: affine rings (EmitOptions::affineRings). A ring copy whose pointer tile is an
// affine function of the loop's induction variable with one coefficient for every element
//
//   k = tl.load(K + (start_n + offs_n)[:, None] * stride_s + offs_d[None, :])   d/d start_n = stride_s
//
// reads running group pointers (PipeOperand::affineRun), set after the prologue's copies to the first loop
// copies' addresses and advanced by the loop's step times the coefficient after each copy, instead of
// recomputing every group's address from the induction variable (EmitDotPipeline.cpp emitRingCopy).
#include "backend/cuda/EmitterImpl.h"

namespace mt::cuda::detail {

using namespace ir;

std::optional<std::string> KernelEmitter::uniformScalar(const Value *v, const Operation &loop, int depth) {
  const Operation *def = v->definingOp();
  if (def && def->kind() == OpKind::Constant)
    return literal(*def, v->type());
  if (!v->type()->isBlock())
    return inside(v, loop) ? std::nullopt : std::optional<std::string>(name(v));
  if (!def || depth > 8)
    return std::nullopt;
  if (def->kind() == OpKind::Splat || def->kind() == OpKind::Broadcast || def->kind() == OpKind::ExpandDims)
    return uniformScalar(def->operand(0), loop, depth + 1);
  return std::nullopt;
}

std::optional<std::string> KernelEmitter::affineCoefficient(const Value *v, const Operation &loop,
                                                            int depth) {
  Block &body = const_cast<Operation &>(loop).body(0);
  if (v == body.argument(0))
    return "1";
  if (!inside(v, loop))
    return "0";
  const Operation *def = v->definingOp();
  if (!def || depth > 32)
    return std::nullopt; // a loop-carried value
  auto sum = [](const std::string &a, const std::string &b, const char *op) -> std::string {
    if (b == "0")
      return a;
    if (a == "0" && std::string(op) == "+")
      return b;
    return "(" + a + " " + op + " " + b + ")";
  };
  switch (def->kind()) {
  case OpKind::Constant:
  case OpKind::MakeRange:
    return "0";
  case OpKind::Splat:
  case OpKind::Broadcast:
  case OpKind::ExpandDims:
  case OpKind::Hint:
    return affineCoefficient(def->operand(0), loop, depth + 1);
  case OpKind::Cast: // integer widening or narrowing: exact while the offsets do not overflow
    if (isFloat(def->operand(0)->type()->scalarType()->dtype()) || isFloat(v->type()->scalarType()->dtype()))
      return std::nullopt;
    return affineCoefficient(def->operand(0), loop, depth + 1);
  case OpKind::Add:
  case OpKind::Sub:
  case OpKind::AddPtr: {
    auto a = affineCoefficient(def->operand(0), loop, depth + 1);
    auto b = affineCoefficient(def->operand(1), loop, depth + 1);
    if (!a || !b)
      return std::nullopt;
    return sum(*a, *b, def->kind() == OpKind::Sub ? "-" : "+");
  }
  case OpKind::Mul: {
    for (unsigned k = 0; k < 2; ++k) {
      auto c = affineCoefficient(def->operand(k), loop, depth + 1);
      auto s = uniformScalar(def->operand(1 - k), loop, depth + 1);
      if (c && s)
        return *c == "0" ? std::string("0") : "(" + *c + " * (mt::i64)(" + *s + "))";
    }
    return std::nullopt;
  }
  default:
    return std::nullopt;
  }
}

void KernelEmitter::emitAffineRun(const LoopPipe &p, const PipeOperand &po) {
  const Value *ptr = po.load->operand(0);
  std::optional<std::string> c = affineCoefficient(ptr, *p.loop);
  if (!c || *c == "0")
    return;
  int64_t pe = per(po.load->result()->type()), w = vecWidth(pe);
  std::string id = "v" + std::to_string(counter_++);
  po.affineRun = id + "_arun";
  po.affineStep = id + "_astep";
  line("// the group pointers of the loop's first copies, advanced by a constant step (affine in the loop "
       "variable)");
  line("const mt::i64 " + po.affineStep + " = (mt::i64)(" + loopBounds_.at(p.loop).step + ") * " + *c + ";");
  line(elemType(ptr->type(), nullptr) + " " + po.affineRun + "[" + num(pe / w) + "];");
  emitGroupValues(po.affineRun, pe, w, [&] { return at(ptr); });
}

} // namespace mt::cuda::detail
