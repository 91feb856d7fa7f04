// The IR verifier: counts from Ops.def, per-op type rules, region terminators and dominance.
//
// Dominance in structured IR is scoping: an operand must be a block argument of the op's block or an
// enclosing one, or the result of an op that comes earlier in one of those blocks. The walk keeps the
// set of values in scope, adding a block's arguments on entry, each op's results after the op (and
// after its regions, so an op cannot see its own results), and dropping them on leaving the block.
#include "ir/Verifier.h"

#include "ir/MathFns.h"

#include <algorithm>
#include <limits>
#include <string>
#include <unordered_set>

namespace mt::ir {
namespace {

std::string str(const Type *t) { return t ? t->str() : "<null type>"; }

/// The printed form of the type with element `elem` and `shape` (a scalar if the shape is empty).
std::string shapedStr(const std::string &elem, const std::vector<int64_t> &shape) {
  if (shape.empty())
    return elem;
  std::string s = "tensor<";
  for (int64_t d : shape)
    s += std::to_string(d) + "x";
  return s + elem + ">";
}

/// True if `t` is `elem` (empty shape) or a tensor of `elem` with `shape`. Types need not come from
/// the same TypeContext as anything the verifier could build, so compare structurally.
bool isShaped(const Type *t, const Type *elem, const std::vector<int64_t> &shape) {
  if (shape.empty())
    return t == elem;
  return t->isBlock() && t->element() == elem && t->shape() == shape;
}

bool isIntScalar(const Type *t) { return t->isScalar() && isInteger(t->dtype()); }
bool isI1Of(const Type *t, const std::vector<int64_t> &shape) {
  return !t->isPointerLike() && !t->isVoid() && t->dtype() == DType::I1 && t->shape() == shape &&
         (shape.empty() ? t->isScalar() : t->isBlock());
}

class Verifier {
public:
  explicit Verifier(Diagnostics &diag) : diag_(diag) {}

  bool run(const Function &f) {
    scope_.clear();
    verifyBlock(f.body(), nullptr, 0);
    const Operation *term = f.body().empty() ? nullptr : f.body().operations().back().get();
    if (!term || term->kind() != OpKind::Return)
      diag_.error(term ? term->loc() : f.loc(), "function @" + f.name() + " must end with 'return'");
    return ok_ && !(!term || term->kind() != OpKind::Return);
  }

private:
  // ---- Reporting ----------------------------------------------------------------------------------

  void fail(const Operation &op, const std::string &msg) {
    diag_.error(op.loc(), "'" + std::string(op.name()) + "' " + msg);
    ok_ = false;
  }

  /// `operand i has type X, expected Y` unless the types match.
  bool expectOperandType(const Operation &op, unsigned i, const Type *expected) {
    const Type *t = op.operand(i)->type();
    if (t == expected)
      return true;
    fail(op, "operand " + std::to_string(i) + " has type " + str(t) + ", expected " + str(expected));
    return false;
  }

  bool expectResultType(const Operation &op, unsigned i, const Type *expected) {
    const Type *t = op.result(i)->type();
    if (t == expected)
      return true;
    fail(op, "result " + std::to_string(i) + " has type " + str(t) + ", expected " + str(expected));
    return false;
  }

  bool expectOperandShaped(const Operation &op, unsigned i, const Type *elem,
                           const std::vector<int64_t> &shape) {
    const Type *t = op.operand(i)->type();
    if (isShaped(t, elem, shape))
      return true;
    fail(op, "operand " + std::to_string(i) + " has type " + str(t) + ", expected " +
                 shapedStr(elem->str(), shape));
    return false;
  }

  bool expectResultShaped(const Operation &op, unsigned i, const Type *elem,
                          const std::vector<int64_t> &shape) {
    const Type *t = op.result(i)->type();
    if (isShaped(t, elem, shape))
      return true;
    fail(op, "result " + std::to_string(i) + " has type " + str(t) + ", expected " +
                 shapedStr(elem->str(), shape));
    return false;
  }

  bool expectOperandI1(const Operation &op, unsigned i, const std::vector<int64_t> &shape) {
    const Type *t = op.operand(i)->type();
    if (isI1Of(t, shape))
      return true;
    fail(op, "operand " + std::to_string(i) + " has type " + str(t) + ", expected " + shapedStr("i1", shape));
    return false;
  }

  // ---- Walk ---------------------------------------------------------------------------------------

  void verifyBlock(const Block &block, const Operation *parent, unsigned regionIndex) {
    std::vector<const Value *> added;
    for (const auto &arg : block.arguments()) {
      scope_.insert(arg.get());
      added.push_back(arg.get());
    }
    const auto &ops = block.operations();
    for (auto it = ops.begin(); it != ops.end(); ++it) {
      const Operation &op = **it;
      if (op.hasTrait(Terminator) && std::next(it) != ops.end())
        fail(op, "must be the last operation in its block");
      verifyOp(op);
      for (const auto &r : op.results()) {
        scope_.insert(r.get());
        added.push_back(r.get());
      }
    }
    verifyTerminator(block, parent, regionIndex);
    for (const Value *v : added)
      scope_.erase(v);
  }

  /// Each region ends in the terminator its op expects; the function body in `return`.
  void verifyTerminator(const Block &block, const Operation *parent, unsigned regionIndex) {
    if (!parent)
      return; // the function body is checked by run()
    OpKind want = parent->kind() == OpKind::While && regionIndex == 0 ? OpKind::Condition : OpKind::Yield;
    if (block.empty()) {
      // An `if` without results may leave a region empty (an implicit empty yield).
      if (parent->kind() == OpKind::If && parent->numResults() == 0)
        return;
      fail(*parent,
           "region " + std::to_string(regionIndex) + " must end with '" + std::string(mnemonic(want)) + "'");
      return;
    }
    const Operation &last = *block.operations().back();
    if (last.kind() == want)
      return;
    std::string region =
        "region " + std::to_string(regionIndex) + " of '" + std::string(parent->name()) + "'";
    if (last.hasTrait(Terminator))
      fail(last, "cannot end " + region + " (expected '" + std::string(mnemonic(want)) + "')");
    else
      fail(*parent, "region " + std::to_string(regionIndex) + " must end with '" +
                        std::string(mnemonic(want)) + "', found '" + std::string(last.name()) + "'");
  }

  void verifyOp(const Operation &op) {
    bool operandsOk = true;
    for (unsigned i = 0; i < op.numOperands(); ++i) {
      const Value *v = op.operand(i);
      if (!v || !v->type()) {
        fail(op, "operand " + std::to_string(i) + " is null");
        operandsOk = false;
      } else if (!scope_.count(v)) {
        fail(op,
             "operand " + std::to_string(i) + " is not defined before this use (it does not dominate it)");
      }
    }
    for (unsigned r = 0; r < op.numRegions(); ++r)
      verifyBlock(op.region(r).block(), &op, r);
    for (unsigned i = 0; i < op.numResults(); ++i)
      if (!op.result(i)->type()) {
        fail(op, "result " + std::to_string(i) + " has no type");
        operandsOk = false;
      }
    if (operandsOk && verifyCounts(op))
      verifySemantics(op);
  }

  bool verifyCounts(const Operation &op) {
    const OpInfo &info = op.info();
    auto count = [&](const char *what, int want, unsigned got) {
      if (want < 0 || unsigned(want) == got)
        return true;
      fail(op, "expects " + std::to_string(want) + " " + what + ", got " + std::to_string(got));
      return false;
    };
    bool ok = count("operand(s)", info.numOperands, op.numOperands());
    ok &= count("result(s)", info.numResults, op.numResults());
    ok &= count("region(s)", info.numRegions, op.numRegions());
    if (!ok)
      return false;
    auto range = [&](unsigned lo, unsigned hi) {
      if (op.numOperands() >= lo && op.numOperands() <= hi)
        return true;
      fail(op, "expects " + std::to_string(lo) + " to " + std::to_string(hi) + " operands, got " +
                   std::to_string(op.numOperands()));
      return false;
    };
    switch (op.kind()) {
    case OpKind::Load:
      return range(1, 3);
    case OpKind::Store:
    case OpKind::AtomicRmw:
      return range(2, 3);
    case OpKind::For:
      if (!range(3, ~0u))
        return false;
      return count("result(s) (one per loop-carried value)", int(op.numOperands()) - 3, op.numResults());
    case OpKind::Reduce:
    case OpKind::Scan:
      if (!range(1, ~0u))
        return false;
      return count("result(s) (one per operand)", int(op.numOperands()), op.numResults());
    case OpKind::Condition:
      return range(1, ~0u);
    default:
      return true;
    }
  }

  void verifySemantics(const Operation &op);
  void verifyElementwise(const Operation &op);
  void verifyShapeOp(const Operation &op);
  void verifyMemory(const Operation &op);
  void verifyDot(const Operation &op);
  void verifyReduceScan(const Operation &op);
  void verifyFor(const Operation &op);
  void verifyIf(const Operation &op);
  void verifyWhile(const Operation &op);
  /// The values a region's terminator yields must have types `want`; `what` names them.
  void verifyYield(const Operation &parent, unsigned region, const std::vector<const Type *> &want,
                   unsigned skip = 0);
  void verifyBlockArgs(const Operation &op, unsigned region, const std::vector<const Type *> &want);

  Diagnostics &diag_;
  std::unordered_set<const Value *> scope_;
  bool ok_ = true;
};

unsigned widthOf(const Type *t) { return t->isPointerLike() ? 64 : bitWidth(t->dtype()); }

void Verifier::verifySemantics(const Operation &op) {
  switch (op.kind()) {
  case OpKind::Constant: {
    const AttrValue *v = op.attr("value");
    const Type *t = op.result()->type();
    if (!v || !(std::holds_alternative<int64_t>(*v) || std::holds_alternative<double>(*v)))
      return fail(op, "needs an int or float 'value' attribute");
    if (t->isPointerLike())
      return fail(op, "cannot have pointer type " + str(t));
    if (std::holds_alternative<double>(*v) && !t->isFloatLike())
      return fail(op, "has a float value but integer type " + str(t));
    return;
  }
  case OpKind::ProgramId:
  case OpKind::NumPrograms: {
    int64_t axis = op.intAttr("axis", -1);
    if (!op.hasAttr("axis") || axis < 0 || axis > 2)
      fail(op, "needs an 'axis' attribute of 0, 1 or 2");
    if (op.result()->type() != op.result()->type()->scalarType() ||
        op.result()->type()->dtype() != DType::I32 || op.result()->type()->isPointerLike())
      fail(op, "result has type " + str(op.result()->type()) + ", expected i32");
    return;
  }
  case OpKind::ReadSreg: {
    std::string reg = op.stringAttr("reg");
    DType want = reg == "globaltimer" ? DType::I64 : DType::I32;
    if (reg != "globaltimer" && reg != "smid")
      fail(op, "needs a 'reg' attribute of \"globaltimer\" or \"smid\"");
    else if (op.result()->type() != op.result()->type()->scalarType() ||
             op.result()->type()->isPointerLike() || op.result()->type()->dtype() != want)
      fail(op, "result has type " + str(op.result()->type()) + ", expected " + std::string(dtypeName(want)));
    return;
  }
  case OpKind::MakeRange: {
    int64_t start = op.intAttr("start"), end = op.intAttr("end");
    if (!op.hasAttr("start") || !op.hasAttr("end"))
      return fail(op, "needs 'start' and 'end' attributes");
    if (end <= start)
      return fail(op, "needs end > start, got start = " + std::to_string(start) +
                          ", end = " + std::to_string(end));
    int64_t length;
    if (__builtin_sub_overflow(end, start, &length) || length > std::numeric_limits<int32_t>::max())
      return fail(op, "range [" + std::to_string(start) + ", " + std::to_string(end) + ") is too long");
    const Type *t = op.result()->type();
    if (!t->isBlock() || t->rank() != 1 || t->isPointerLike() || t->dtype() != DType::I32 ||
        t->shape()[0] != length)
      fail(op, "result has type " + str(t) + ", expected tensor<" + std::to_string(length) + "xi32>");
    return;
  }
  case OpKind::Splat:
  case OpKind::Broadcast:
  case OpKind::ExpandDims:
  case OpKind::Reshape:
  case OpKind::Trans:
  case OpKind::Join:
  case OpKind::Split:
  case OpKind::Gather:
    return verifyShapeOp(op);
  case OpKind::Load:
  case OpKind::Store:
  case OpKind::AtomicRmw:
  case OpKind::AtomicCas:
    return verifyMemory(op);
  case OpKind::Dot:
    return verifyDot(op);
  case OpKind::Reduce:
  case OpKind::Scan:
    return verifyReduceScan(op);
  case OpKind::For:
    return verifyFor(op);
  case OpKind::If:
    return verifyIf(op);
  case OpKind::While:
    return verifyWhile(op);
  case OpKind::Yield:
    if (!op.parentOp())
      fail(op, "must be inside a region of 'for', 'if', 'while', 'reduce' or 'scan'");
    return;
  case OpKind::Condition: {
    const Operation *p = op.parentOp();
    if (!p || p->kind() != OpKind::While || op.parentBlock() != &p->region(0).block())
      return fail(op, "must end the first region of a 'while'");
    if (!isI1Of(op.operand(0)->type(), {}))
      fail(op, "operand 0 has type " + str(op.operand(0)->type()) + ", expected i1");
    return;
  }
  case OpKind::Return:
    if (op.parentOp())
      fail(op, "must be at function level");
    return;
  case OpKind::Assert:
    if (!op.operand(0)->type()->isIntLike())
      fail(op, "operand 0 has type " + str(op.operand(0)->type()) + ", expected an integer or i1");
    return;
  case OpKind::Print:
  case OpKind::Barrier:
    return;
  case OpKind::InlineAsm: {
    if (op.numResults() == 0)
      return fail(op, "needs at least one result");
    const std::vector<int64_t> &shape = op.result(0)->type()->shape();
    for (const Value *v : op.operands())
      if (v->type()->shape() != shape)
        return fail(op, "operand type " + str(v->type()) + " does not have the results' shape");
    for (const auto &r : op.results())
      if (r->type()->shape() != shape || r->type()->isPointerLike())
        return fail(op, "results must be numbers of one shape, got " + str(r->type()));
    if (!op.hasAttr("asm") || !op.hasAttr("constraints"))
      fail(op, "needs 'asm' and 'constraints' attributes");
    return;
  }
  default:
    if (op.hasTrait(Elementwise))
      verifyElementwise(op);
    return;
  }
}

void Verifier::verifyElementwise(const Operation &op) {
  const Type *res = op.result()->type();
  switch (op.kind()) {
  case OpKind::Cmp: {
    static const char *preds[] = {"eq", "ne", "lt", "le", "gt", "ge"};
    std::string pred = op.stringAttr("pred");
    if (std::find(std::begin(preds), std::end(preds), pred) == std::end(preds))
      fail(op, "needs a 'pred' attribute (eq, ne, lt, le, gt or ge), got '" + pred + "'");
    expectOperandType(op, 1, op.operand(0)->type());
    if (!isI1Of(res, op.operand(0)->type()->shape()) || res->isPointerLike())
      fail(op, "result has type " + str(res) + ", expected i1 of the operands' shape");
    return;
  }
  case OpKind::Select:
    if (!isI1Of(op.operand(0)->type(), res->shape()))
      fail(op,
           "operand 0 has type " + str(op.operand(0)->type()) + ", expected i1 of the shape of " + str(res));
    expectOperandType(op, 1, res);
    expectOperandType(op, 2, res);
    return;
  case OpKind::AddPtr: {
    const Type *lhs = op.operand(0)->type(), *rhs = op.operand(1)->type();
    if (!lhs->isPointerLike())
      return fail(op, "operand 0 has type " + str(lhs) + ", expected a pointer or a tensor of pointers");
    if (!rhs->isIntLike() || rhs->shape() != lhs->shape())
      fail(op, "operand 1 has type " + str(rhs) + ", expected an integer of the shape of " + str(lhs));
    expectResultType(op, 0, lhs);
    return;
  }
  case OpKind::MathFn: {
    std::string name = op.stringAttr("fn");
    const MathFn *fn = findMathFn(name);
    if (!fn)
      return fail(op, "unknown function '" + name + "'");
    if (int(op.numOperands()) != fn->arity)
      return fail(op, "'" + name + "' takes " + std::to_string(fn->arity) + " operand(s), got " +
                          std::to_string(op.numOperands()));
    const Type *in = op.operand(0)->type();
    for (unsigned i = 1; i < op.numOperands(); ++i)
      if (!expectOperandType(op, i, in))
        return;
    bool ok = fn->domain == MathFn::Domain::Int ? in->isIntLike() && (widthOf(in) == 32 || widthOf(in) == 64)
              : fn->domain == MathFn::Domain::F32 ? in->dtype() == DType::F32 && !in->isPointerLike()
                                                  : in->isFloatLike();
    if (!ok)
      return fail(op, "'" + name + "' is not defined on " + str(in));
    if (fn->result == MathFn::Result::Same)
      expectResultType(op, 0, in);
    else if (res->dtype() != DType::I32 || res->isPointerLike() || res->shape() != in->shape())
      fail(op, "result has type " + str(res) + ", expected i32 of the operands' shape");
    return;
  }
  case OpKind::Cast:
  case OpKind::Bitcast: {
    const Type *in = op.operand(0)->type();
    if (in->shape() != res->shape())
      return fail(op, "changes the shape: operand has type " + str(in) + ", result " + str(res));
    if (op.kind() == OpKind::Bitcast && widthOf(in) != widthOf(res))
      fail(op, "changes the bit width: operand has type " + str(in) + ", result " + str(res));
    return;
  }
  default:
    break;
  }
  for (unsigned i = 0; i < op.numOperands(); ++i)
    if (!expectOperandType(op, i, res))
      return;
  switch (op.kind()) {
  case OpKind::And:
  case OpKind::Or:
  case OpKind::Xor:
  case OpKind::Shl:
  case OpKind::Shr:
  case OpKind::Not:
    if (!res->isIntLike())
      fail(op, "needs integer operands, got " + str(res));
    return;
  case OpKind::UMulHi:
    if (!res->isIntLike() || (bitWidth(res->dtype()) != 32 && bitWidth(res->dtype()) != 64))
      fail(op, "needs 32- or 64-bit integer operands, got " + str(res));
    return;
  case OpKind::Exp:
  case OpKind::Exp2:
  case OpKind::Log:
  case OpKind::Log2:
  case OpKind::Sqrt:
  case OpKind::Rsqrt:
  case OpKind::Sin:
  case OpKind::Cos:
  case OpKind::Tanh:
  case OpKind::Erf:
  case OpKind::Floor:
  case OpKind::Ceil:
  case OpKind::Fma:
    if (!res->isFloatLike())
      fail(op, "needs floating-point operands, got " + str(res));
    return;
  case OpKind::Hint:
    return;
  default:
    if (res->isPointerLike())
      fail(op, "cannot operate on pointers (" + str(res) + "); use 'addptr'");
    return;
  }
}

void Verifier::verifyShapeOp(const Operation &op) {
  const Type *in = op.operand(0)->type(), *res = op.result()->type();
  if (in->scalarType() != res->scalarType())
    return fail(op, "changes the element type: operand has type " + str(in) + ", result " + str(res));
  std::vector<int64_t> shape = in->shape();
  switch (op.kind()) {
  case OpKind::Splat:
    if (in->isBlock() || !res->isBlock())
      fail(op, "needs a scalar operand and a tensor result, got " + str(in) + " -> " + str(res));
    return;
  case OpKind::Broadcast: {
    auto b = TypeContext::broadcastShapes(in->shape(), res->shape());
    if (!in->isBlock() || !res->isBlock() || !b || *b != res->shape())
      fail(op, "cannot broadcast " + str(in) + " to " + str(res));
    return;
  }
  case OpKind::ExpandDims: {
    int64_t axis = op.intAttr("axis", -1);
    if (axis < 0 || axis > int64_t(shape.size()))
      return fail(op, "axis " + std::to_string(axis) + " is out of range for " + str(in));
    shape.insert(shape.begin() + axis, 1);
    break;
  }
  case OpKind::Reshape:
    if (in->numElements() != res->numElements())
      fail(op, "changes the number of elements: " + str(in) + " -> " + str(res));
    return;
  case OpKind::Trans: {
    std::vector<int64_t> order = op.intsAttr("order");
    if (!op.hasAttr("order"))
      for (unsigned i = 0; i < shape.size(); ++i)
        order.push_back(shape.size() - 1 - i);
    std::vector<int64_t> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    bool perm = sorted.size() == shape.size();
    for (size_t i = 0; perm && i < sorted.size(); ++i)
      perm = sorted[i] == int64_t(i);
    if (!perm)
      return fail(op,
                  "'order' is not a permutation of the operand's " + std::to_string(shape.size()) + " dims");
    std::vector<int64_t> out;
    for (int64_t o : order)
      out.push_back(in->shape()[o]);
    shape = out;
    break;
  }
  case OpKind::Join:
    expectOperandType(op, 1, in);
    shape.push_back(2);
    break;
  case OpKind::Gather: {
    const Type *index = op.operand(1)->type();
    int64_t axis = op.intAttr("axis", -1);
    if (!in->isBlock() || in->isPointerLike())
      return fail(op, "needs a tensor of numbers as operand 0, got " + str(in));
    if (!index->isBlock() || !index->isIntLike() || index->rank() != in->rank())
      return fail(op, "operand 1 has type " + str(index) + ", expected integers of rank " +
                          std::to_string(in->rank()));
    if (axis < 0 || axis >= int64_t(in->rank()))
      return fail(op, "axis " + std::to_string(axis) + " is out of range for " + str(in));
    for (size_t d = 0; d < shape.size(); ++d)
      if (int64_t(d) != axis && index->shape()[d] != shape[d])
        return fail(op, "index dim " + std::to_string(d) + " (" + str(index) + ") must match " + str(in));
    shape = index->shape();
    break;
  }
  case OpKind::Split:
    if (shape.empty() || shape.back() != 2)
      return fail(op, "needs an operand whose last dim is 2, got " + str(in));
    shape.pop_back();
    if (op.result(1)->type() != op.result(0)->type())
      fail(op,
           "results have different types " + str(op.result(0)->type()) + " and " + str(op.result(1)->type()));
    break;
  default:
    return;
  }
  expectResultShaped(op, 0, in->scalarType(), shape);
}

void Verifier::verifyMemory(const Operation &op) {
  const Type *ptr = op.operand(0)->type();
  if (!ptr->isPointerLike())
    return fail(op, "operand 0 has type " + str(ptr) + ", expected a pointer or a tensor of pointers");
  const Type *pointee = ptr->scalarType()->element();
  const std::vector<int64_t> &shape = ptr->shape();
  unsigned maskIndex = op.numOperands(); // none
  switch (op.kind()) {
  case OpKind::Load:
    expectResultShaped(op, 0, pointee, shape);
    maskIndex = 1;
    if (op.numOperands() > 2)
      expectOperandShaped(op, 2, pointee, shape);
    break;
  case OpKind::Store:
    expectOperandShaped(op, 1, pointee, shape);
    maskIndex = 2;
    break;
  case OpKind::AtomicRmw: {
    static const char *kinds[] = {"add", "max", "min", "xchg", "and", "or", "xor"};
    std::string kind = op.stringAttr("kind");
    if (std::find(std::begin(kinds), std::end(kinds), kind) == std::end(kinds))
      fail(op, "needs a 'kind' attribute (add, max, min, xchg, and, or, xor), got '" + kind + "'");
    expectOperandShaped(op, 1, pointee, shape);
    expectResultShaped(op, 0, pointee, shape);
    maskIndex = 2;
    break;
  }
  case OpKind::AtomicCas:
    expectOperandShaped(op, 1, pointee, shape);
    expectOperandShaped(op, 2, pointee, shape);
    expectResultShaped(op, 0, pointee, shape);
    break;
  default:
    return;
  }
  if (maskIndex < op.numOperands())
    expectOperandI1(op, maskIndex, shape);
}

void Verifier::verifyDot(const Operation &op) {
  const Type *a = op.operand(0)->type(), *b = op.operand(1)->type(), *c = op.operand(2)->type();
  if (a->rank() != 2 || b->rank() != 2 || c->rank() != 2 || a->isPointerLike() || b->isPointerLike())
    return fail(op, "needs 2-d operands, got " + str(a) + ", " + str(b) + ", " + str(c));
  int64_t m = a->shape()[0], k = a->shape()[1], n = b->shape()[1];
  if (b->shape()[0] != k || c->shape()[0] != m || c->shape()[1] != n)
    return fail(op, "shapes do not match [M,K] x [K,N] + [M,N]: " + str(a) + ", " + str(b) + ", " + str(c));
  expectResultType(op, 0, c);
}

void Verifier::verifyBlockArgs(const Operation &op, unsigned region, const std::vector<const Type *> &want) {
  const Block &b = op.region(region).block();
  if (b.numArguments() != want.size())
    return fail(op, "region " + std::to_string(region) + " has " + std::to_string(b.numArguments()) +
                        " argument(s), expected " + std::to_string(want.size()));
  for (unsigned i = 0; i < want.size(); ++i)
    if (b.argument(i)->type() != want[i])
      fail(op, "region " + std::to_string(region) + " argument " + std::to_string(i) + " has type " +
                   str(b.argument(i)->type()) + ", expected " + str(want[i]));
}

void Verifier::verifyYield(const Operation &parent, unsigned region, const std::vector<const Type *> &want,
                           unsigned skip) {
  const Block &b = parent.region(region).block();
  if (b.empty())
    return; // reported by verifyTerminator
  const Operation &term = *b.operations().back();
  if (!term.hasTrait(Terminator) || term.kind() == OpKind::Return)
    return; // reported by verifyTerminator
  if (term.numOperands() != want.size() + skip)
    return fail(term, "yields " + std::to_string(term.numOperands() - std::min(skip, term.numOperands())) +
                          " value(s), expected " + std::to_string(want.size()) + " for '" +
                          std::string(parent.name()) + "'");
  for (unsigned i = 0; i < want.size(); ++i)
    if (term.operand(i + skip)->type() != want[i])
      fail(term, "operand " + std::to_string(i + skip) + " has type " + str(term.operand(i + skip)->type()) +
                     ", expected " + str(want[i]) + " for '" + std::string(parent.name()) + "'");
}

void Verifier::verifyReduceScan(const Operation &op) {
  unsigned n = op.numOperands();
  const std::vector<int64_t> &shape = op.operand(0)->type()->shape();
  int64_t axis = op.intAttr("axis", -1);
  if (shape.empty())
    return fail(op, "needs tensor operands, got " + str(op.operand(0)->type()));
  if (!op.hasAttr("axis") || axis < 0 || axis >= int64_t(shape.size()))
    return fail(op, "axis " + std::to_string(axis) + " is out of range for " + str(op.operand(0)->type()));
  std::vector<const Type *> elems;
  for (unsigned i = 0; i < n; ++i) {
    const Type *t = op.operand(i)->type();
    if (t->shape() != shape)
      return fail(op, "operand " + std::to_string(i) + " has type " + str(t) +
                          ", expected the shape of operand 0");
    elems.push_back(t->scalarType());
  }
  std::vector<int64_t> reduced = shape;
  reduced.erase(reduced.begin() + axis);
  for (unsigned i = 0; i < n; ++i) {
    if (op.kind() == OpKind::Scan)
      expectResultType(op, i, op.operand(i)->type());
    else
      expectResultShaped(op, i, elems[i], reduced);
  }
  std::vector<const Type *> args = elems;
  args.insert(args.end(), elems.begin(), elems.end());
  verifyBlockArgs(op, 0, args);
  verifyYield(op, 0, elems);
}

void Verifier::verifyFor(const Operation &op) {
  const Type *lb = op.operand(0)->type();
  if (!isIntScalar(lb))
    return fail(op, "operand 0 (lower bound) has type " + str(lb) + ", expected a scalar integer");
  expectOperandType(op, 1, lb);
  expectOperandType(op, 2, lb);
  std::vector<const Type *> carried;
  for (unsigned i = 3; i < op.numOperands(); ++i) {
    carried.push_back(op.operand(i)->type());
    expectResultType(op, i - 3, op.operand(i)->type());
  }
  std::vector<const Type *> args{lb};
  args.insert(args.end(), carried.begin(), carried.end());
  verifyBlockArgs(op, 0, args);
  verifyYield(op, 0, carried);
}

void Verifier::verifyIf(const Operation &op) {
  if (!isI1Of(op.operand(0)->type(), {}))
    fail(op, "operand 0 has type " + str(op.operand(0)->type()) + ", expected i1");
  std::vector<const Type *> results;
  for (const auto &r : op.results())
    results.push_back(r->type());
  for (unsigned r = 0; r < 2; ++r) {
    verifyBlockArgs(op, r, {});
    verifyYield(op, r, results);
  }
}

void Verifier::verifyWhile(const Operation &op) {
  std::vector<const Type *> inits, results;
  for (const Value *v : op.operands())
    inits.push_back(v->type());
  for (const auto &r : op.results())
    results.push_back(r->type());
  verifyBlockArgs(op, 0, inits);
  verifyYield(op, 0, results, /*skip=*/1);
  verifyBlockArgs(op, 1, results);
  verifyYield(op, 1, inits);
}

} // namespace

bool verify(const Function &f, Diagnostics &diag) { return Verifier(diag).run(f); }

bool verify(const Module &m, Diagnostics &diag) {
  bool ok = true;
  for (const auto &f : m.functions())
    ok &= verify(*f, diag);
  return ok;
}

} // namespace mt::ir
