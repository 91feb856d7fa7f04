// Tile IR -> CUDA C++: broadcasts without shared memory, by recomputing the source.
//
// A broadcast moves elements between threads, so in general it goes through shared memory (EmitTile.cpp).
// But the usual sources are index arithmetic: `offs_m[:, None] * stride`, `rows[:, None] < M`, built from
// make_range, constants and scalars by pure elementwise ops. Such a value is a function of the linear index
// alone, so each thread can evaluate it at the source index of each of its own result elements. That is what
// Triton's slice layouts buy; here the expression is simply re-emitted, at most kBudget ops deep.
#include "backend/cuda/EmitterImpl.h"

namespace mt::cuda::detail {

using namespace ir;

namespace {

constexpr int kBudget = 12;

} // namespace

std::string KernelEmitter::broadcastSourceIndex(const Operation &op, const std::string &idx) {
  const std::vector<int64_t> &ss = op.operand(0)->type()->shape();
  const std::vector<int64_t> &ds = op.result()->type()->shape();
  std::vector<int64_t> sst = stridesOf(ss), dst = stridesOf(ds);
  size_t lead = ds.size() - ss.size();
  std::string e;
  for (size_t d = 0; d < ss.size(); ++d) {
    if (ss[d] == 1)
      continue;
    size_t dd = d + lead;
    std::string c = dst[dd] == 1 ? idx : "(" + idx + " / " + num(dst[dd]) + ")";
    if (dd != 0)
      c = "(" + c + " % " + num(ds[dd]) + ")";
    e += (e.empty() ? "" : " + ") + c + (sst[d] == 1 ? "" : " * " + num(sst[d]));
  }
  return e.empty() ? "0" : e;
}

std::optional<std::string> KernelEmitter::valueAt(const Value *v, const std::string &idx, int &budget) {
  if (!v->type()->isBlock())
    return name(v);
  const Operation *def = v->definingOp();
  if (!def || --budget < 0)
    return std::nullopt;
  switch (def->kind()) {
  case OpKind::MakeRange:
    return "(mt::i32)(" + num(def->intAttr("start")) + " + " + idx + ")";
  case OpKind::Splat:
    return name(def->operand(0));
  case OpKind::Constant:
    return literal(*def, v->type());
  case OpKind::Hint:
    return valueAt(def->operand(0), idx, budget);
  case OpKind::ExpandDims:
  case OpKind::Reshape:
  case OpKind::Broadcast: {
    const Value *src = def->operand(0);
    if (!src->type()->isBlock())
      return name(src);
    if (src->type()->numElements() == v->type()->numElements())
      return valueAt(src, idx, budget);
    if (def->kind() != OpKind::Broadcast || src->type()->rank() > v->type()->rank())
      return std::nullopt;
    return valueAt(src, "(" + broadcastSourceIndex(*def, idx) + ")", budget);
  }
  default:
    break;
  }
  if (!def->hasTrait(Elementwise) || !def->hasTrait(Pure) || def->numResults() != 1)
    return std::nullopt;
  std::vector<std::string> operands;
  for (const Value *o : def->operands()) {
    auto e = valueAt(o, idx, budget);
    if (!e)
      return std::nullopt;
    operands.push_back("(" + *e + ")");
  }
  for (unsigned k = 0; k < def->numOperands(); ++k)
    if (def->operand(k)->type()->isBlock())
      exprOverride_[def->operand(k)] = operands[k];
  std::string r = elementwiseExpr(*def);
  for (const Value *o : def->operands())
    exprOverride_.erase(o);
  return "(" + r + ")";
}

bool KernelEmitter::emitBroadcastInRegisters(const Operation &op) {
  const Value *src = op.operand(0);
  const Type *rt = op.result()->type();
  if (src->type()->rank() > rt->rank())
    return false;
  int budget = kBudget;
  auto e = valueAt(src, "(" + broadcastSourceIndex(op, "L") + ")", budget);
  if (!e)
    return false;
  forEach(rt, declare(op.result(), &op), *e);
  return true;
}

} // namespace mt::cuda::detail
