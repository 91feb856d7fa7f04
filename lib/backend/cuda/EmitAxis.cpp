// Tile IR -> CUDA C++: what is known at compile time about lazy index tiles, per group of W consecutive
// linear indices (the groups of a vector access), so that vector loads and stores skip run-time checks.
//
// For a tile f and a power-of-2 width W, over every group start L0 (a multiple of W):
//   Uniform  f(L0 + j) == f(L0)       for j < W   (a mask of `rows < M` along a row)
//   Contig   f(L0 + j) == f(L0) + j   for j < W   (offsets `start + arange`, pointers base + offsets)
//   div      f(L0) is a multiple of div (a power of 2; of every element for scalars); for pointers, the
//            group start's address in bytes
//   EndsContig  contiguous exactly when f(L0 + W - 1) == f(L0) + W - 1 (checked at run time)
// as Triton's axis analysis does with contiguity, constancy and divisibility. Integer overflow is not
// modelled: Triton assumes none, and the interpreter reports it.
#include "backend/cuda/EmitterImpl.h"

#include <numeric>

namespace mt::cuda::detail {

using namespace ir;

namespace {

constexpr int64_t kMaxDiv = int64_t(1) << 30;

int64_t pow2Of(int64_t v) {
  if (v == 0)
    return kMaxDiv;
  int64_t p = 1;
  while (p < kMaxDiv && v % (p * 2) == 0)
    p *= 2;
  return p;
}

int64_t hintValue(const Operation &op, const char *name) {
  const AttrValue *a = op.attr(name);
  if (!a || !std::holds_alternative<std::vector<int64_t>>(*a))
    return 0;
  const auto &v = std::get<std::vector<int64_t>>(*a);
  return v.empty() ? 0 : v.back();
}

/// Every element of `v` is >= 0 (program ids, ranges from 0, non-negative constants, and sums, products,
/// splats and reshapes of such): Triton assumes this of `%`'s left operand; here it is shown.
bool nonNegative(const Value *v, int depth = 0) {
  const Operation *def = v->definingOp();
  if (!def || depth > 12 || !v->type()->isIntLike())
    return false;
  switch (def->kind()) {
  case OpKind::ProgramId:
  case OpKind::NumPrograms:
    return true;
  case OpKind::MakeRange:
    return def->intAttr("start") >= 0;
  case OpKind::Constant: {
    const AttrValue *a = def->attr("value");
    return a && std::holds_alternative<int64_t>(*a) && std::get<int64_t>(*a) >= 0;
  }
  case OpKind::Add:
  case OpKind::Mul:
  case OpKind::Div: // C division: truncates
    return nonNegative(def->operand(0), depth + 1) && nonNegative(def->operand(1), depth + 1);
  case OpKind::Rem: // C remainder: the sign of the left operand
    return nonNegative(def->operand(0), depth + 1);
  case OpKind::Splat:
  case OpKind::Broadcast:
  case OpKind::ExpandDims:
  case OpKind::Reshape:
  case OpKind::Hint:
    return nonNegative(def->operand(0), depth + 1);
  default:
    return false;
  }
}

} // namespace

int64_t KernelEmitter::scalarDivisibility(const Value *v, int depth) const {
  const Operation *def = v->definingOp();
  if (depth > 8)
    return 1;
  if (vecElemBytes(v->type()) > 0 && !v->type()->isBlock()) {
    // A scalar pointer: a power of 2 dividing its address in bytes (the launch's multiple_of = 16 hint
    // on aligned pointer arguments, then offsets scaled by the element size).
    if (!def)
      return 1;
    if (def->kind() == OpKind::Hint)
      return std::max(hintValue(*def, "multiple_of") > 0 ? pow2Of(hintValue(*def, "multiple_of")) : 1,
                      scalarDivisibility(def->operand(0), depth + 1));
    if (def->kind() == OpKind::AddPtr)
      return std::min(scalarDivisibility(def->operand(0), depth + 1),
                      std::min(kMaxDiv, scalarDivisibility(def->operand(1), depth + 1) *
                                            int64_t(vecElemBytes(v->type()))));
    return 1;
  }
  if (!v->type()->isIntLike())
    return 1;
  if (!def) { // a for loop's induction variable takes the values lb + k * step
    const Block *b = v->ownerBlock();
    const Operation *loop = b ? b->parentOp() : nullptr;
    if (loop && loop->kind() == OpKind::For && loop->numOperands() >= 3 &&
        v == const_cast<Operation *>(loop)->body(0).argument(0))
      return std::min(scalarDivisibility(loop->operand(0), depth + 1),
                      scalarDivisibility(loop->operand(2), depth + 1));
    return 1;
  }
  switch (def->kind()) {
  case OpKind::Constant: {
    const AttrValue *a = def->attr("value");
    return a && std::holds_alternative<int64_t>(*a) ? pow2Of(std::get<int64_t>(*a)) : 1;
  }
  case OpKind::Hint:
    return std::max(hintValue(*def, "multiple_of") > 0 ? pow2Of(hintValue(*def, "multiple_of")) : 1,
                    scalarDivisibility(def->operand(0), depth + 1));
  case OpKind::Mul:
    return std::min(kMaxDiv, scalarDivisibility(def->operand(0), depth + 1) *
                                 scalarDivisibility(def->operand(1), depth + 1));
  case OpKind::Add:
  case OpKind::Sub:
    return std::min(scalarDivisibility(def->operand(0), depth + 1),
                    scalarDivisibility(def->operand(1), depth + 1));
  case OpKind::Cast:
    return def->operand(0)->type()->isIntLike() ? scalarDivisibility(def->operand(0), depth + 1) : 1;
  default:
    return 1;
  }
}

KernelEmitter::AxisInfo KernelEmitter::axisInfo(const Value *v, int64_t w) {
  if (!v->type()->isBlock())
    return {AxisInfo::Uniform, scalarDivisibility(v, 0)};
  auto key = std::make_pair(v, w);
  if (auto it = axisMemo_.find(key); it != axisMemo_.end())
    return it->second;
  AxisInfo r = computeAxisInfo(v, w);
  if (w == 1) // a group of one element is uniform over itself: what counts is its divisibility
    r.kind = AxisInfo::Uniform;
  axisMemo_[key] = r;
  return r;
}

KernelEmitter::AxisInfo KernelEmitter::computeAxisInfo(const Value *v, int64_t w) {
  const AxisInfo other{AxisInfo::Other, 1};
  if (auto it = lazyIter_.find(v); it != lazyIter_.end() && isLazy(v)) {
    // init + a uniform running offset: the init's kind; divisibility shared with the step.
    // (For pointers, div is in bytes and the step in elements.)
    AxisInfo a = axisInfo(it->second.init, w);
    int64_t step = axisInfo(it->second.advance->operand(1), w).div;
    if (it->second.advance->kind() == OpKind::AddPtr)
      step = std::min(kMaxDiv, step * std::max<int64_t>(1, int64_t(vecElemBytes(v->type()))));
    a.div = std::min(a.div, step);
    return a;
  }
  const Operation *def = v->definingOp();
  if (!def || !isLazy(v))
    return other;
  auto kindOf = [&](unsigned k) { return axisInfo(def->operand(k), w); };
  switch (def->kind()) {
  case OpKind::MakeRange:
    return {AxisInfo::Contig, std::min(pow2Of(def->intAttr("start")), w)};
  case OpKind::Constant: {
    const AttrValue *a = def->attr("value");
    return {AxisInfo::Uniform, a && std::holds_alternative<int64_t>(*a) ? pow2Of(std::get<int64_t>(*a)) : 1};
  }
  case OpKind::Splat:
    return {AxisInfo::Uniform, scalarDivisibility(def->operand(0), 0)};
  case OpKind::Hint: {
    AxisInfo a = kindOf(0);
    if (int64_t m = hintValue(*def, "multiple_of"); m > 0)
      a.div = std::max(a.div, pow2Of(m));
    if (int64_t c = hintValue(*def, "max_contiguous"); c >= w && a.kind == AxisInfo::Other)
      a.kind = AxisInfo::Contig; // the user's promise, as in Triton
    return a;
  }
  case OpKind::ExpandDims:
  case OpKind::Reshape:
    return kindOf(0); // same elements in the same linear order
  case OpKind::Broadcast: {
    const Type *st = def->operand(0)->type();
    const std::vector<int64_t> &ds = v->type()->shape();
    if (!st->isBlock())
      return {AxisInfo::Uniform, scalarDivisibility(def->operand(0), 0)};
    if (ds.empty() || ds.back() % w != 0 || st->rank() == 0)
      return other;
    // A group lies inside one row of the result. Along an unbroadcast last dim it reads a group of the
    // source (row strides are multiples of the row length); along a broadcast one, a single element.
    if (st->shape().back() == ds.back())
      return kindOf(0);
    if (st->shape().back() == 1)
      return {AxisInfo::Uniform, axisInfo(def->operand(0), 1).div};
    return other;
  }
  default:
    break;
  }
  if (def->numOperands() == 0)
    return other;
  std::vector<AxisInfo> in;
  bool allUniform = true;
  for (unsigned k = 0; k < def->numOperands(); ++k) {
    in.push_back(kindOf(k));
    allUniform = allUniform && in.back().kind == AxisInfo::Uniform;
  }
  auto U = AxisInfo::Uniform, C = AxisInfo::Contig, E = AxisInfo::EndsContig;
  // A contiguous-like group plus a uniform one keeps its kind (Contig or EndsContig).
  auto shifted = [&](const AxisInfo &a, const AxisInfo &b) {
    return (a.kind == C || a.kind == E) && b.kind == U;
  };
  int64_t divMin = in[0].div;
  for (const AxisInfo &a : in)
    divMin = std::min(divMin, a.div);
  switch (def->kind()) {
  case OpKind::Add:
    if (allUniform)
      return {U, divMin};
    if (shifted(in[0], in[1]))
      return {in[0].kind, divMin};
    if (shifted(in[1], in[0]))
      return {in[1].kind, divMin};
    return {AxisInfo::Other, divMin};
  case OpKind::Sub:
    if (allUniform)
      return {U, divMin};
    if (shifted(in[0], in[1]))
      return {in[0].kind, divMin};
    return {AxisInfo::Other, divMin};
  case OpKind::Mul:
    return {allUniform ? U : AxisInfo::Other, std::min(kMaxDiv, in[0].div * in[1].div)};
  case OpKind::Rem:
    // (s + j) % n for j < W, with s = f(L0) and n multiples of W (`(pid * BLOCK + arange) % N`, N % 16 == 0):
    // s + j for j >= 1 lies strictly between multiples of W, hence of n, so only j = 0 can wrap: for s >= 0
    // the group is contiguous; for a negative multiple s of n it is 0, j - n, ... So it is contiguous
    // exactly when its ends are (EndsContig). Triton assumes s >= 0; we check the ends at run time unless
    // s >= 0 is shown (nonNegative: `pid * BLOCK + arange`).
    if (allUniform)
      return {U, 1};
    if (in[0].kind == C && in[1].kind == U && in[0].div >= w && in[1].div >= w && v->type()->isIntLike())
      return {nonNegative(def->operand(0)) ? C : E, std::min(in[0].div, in[1].div)};
    return other;
  case OpKind::AddPtr: {
    // Pointer tiles: div is the group start's address alignment in bytes.
    int64_t align = std::min(
        in[0].div, std::min(kMaxDiv, in[1].div * std::max<int64_t>(1, int64_t(vecElemBytes(v->type())))));
    if (allUniform)
      return {U, align};
    if (shifted(in[0], in[1]))
      return {in[0].kind, align};
    if (shifted(in[1], in[0]))
      return {in[1].kind, align};
    return other;
  }
  case OpKind::Cmp: {
    if (allUniform)
      return {U, 1};
    std::string pred = def->stringAttr("pred");
    bool aligned = in[0].div >= w && in[1].div >= w;
    bool leftContig = in[0].kind == C && in[1].kind == U, rightContig = in[0].kind == U && in[1].kind == C;
    if (aligned &&
        ((leftContig && (pred == "lt" || pred == "ge")) || (rightContig && (pred == "gt" || pred == "le"))))
      return {U, 1};
    return other;
  }
  case OpKind::Cast:
    if (in[0].kind == U)
      return {U, 1};
    if ((in[0].kind == C || in[0].kind == E) && def->operand(0)->type()->isIntLike() &&
        v->type()->isIntLike() && bitWidth(v->type()->dtype()) >= bitWidth(def->operand(0)->type()->dtype()))
      return in[0];
    return other;
  default:
    return allUniform ? AxisInfo{U, 1} : other;
  }
}

} // namespace mt::cuda::detail
