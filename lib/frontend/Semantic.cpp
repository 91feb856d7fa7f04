// Typed IR construction with Triton's rules: materialising compile-time numbers (weakly typed next to
// IR values), dtype promotion, NumPy broadcasting, binary operators and comparisons.
#include "frontend/LowerImpl.h"

#include <cmath>
#include <limits>
#include <tuple>

namespace mt::lower {

using namespace ast;
using ir::DType;
using ir::OpKind;

std::vector<int64_t> Lowerer::shapeOf(const Val &v) {
  return v.isIR() ? v.v->type()->shape() : std::vector<int64_t>{};
}

std::string Lowerer::shapeStr(const std::vector<int64_t> &s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i)
    r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

// ---- Compile-time arguments -------------------------------------------------------------------------

int64_t Lowerer::constInt(const Val &v, SourceLoc loc, const std::string &what) {
  if (v.kind == Val::Kind::Int || v.kind == Val::Kind::Bool)
    return v.asInt();
  fail(loc, what + " must be a compile-time integer, got " + describe(v));
}

int64_t Lowerer::axisArg(const Val &v, SourceLoc loc, int64_t rank, const std::string &fname,
                         const char *what) {
  int64_t given = constInt(v, loc, what), axis = given < 0 ? given + rank : given;
  if (axis < 0 || axis >= rank)
    fail(loc, fname + "(): " + what + " " + std::to_string(given) + " is out of range for a tensor of rank " +
                  std::to_string(rank));
  return axis;
}

bool Lowerer::constBool(const Val &v, SourceLoc loc, const std::string &what) {
  if (!isCompileTime(v))
    fail(loc, what + " must be a compile-time constant, got " + describe(v));
  return truthy(v);
}

const ir::Type *Lowerer::asType(const Val &v, SourceLoc loc, const std::string &what) {
  if (v.kind == Val::Kind::DType)
    return v.type;
  if (v.kind == Val::Kind::Str)
    if (auto d = ir::parseDType(v.s))
      return scalarType(*d);
  fail(loc, what + " must be a dtype, got " + (v.kind == Val::Kind::Str ? "'" + v.s + "'" : describe(v)));
}

ir::DType Lowerer::asDType(const Val &v, SourceLoc loc, const std::string &what) {
  const ir::Type *t = asType(v, loc, what);
  if (!t->isScalar())
    fail(loc, what + " must be a scalar dtype, got " + t->str());
  return t->dtype();
}

std::vector<int64_t> Lowerer::asShape(const Val &v, SourceLoc loc, const std::string &what) {
  if (v.kind == Val::Kind::Int)
    return {v.i};
  if (v.kind != Val::Kind::Tuple)
    fail(loc, what + " must be a tuple of compile-time integers, got " + describe(v));
  std::vector<int64_t> s;
  for (const Val &e : v.elems)
    s.push_back(constInt(e, loc, what + " element"));
  return s;
}

void Lowerer::checkBlockShape(const std::vector<int64_t> &shape, SourceLoc loc) {
  int64_t n = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    int64_t d = shape[i];
    if (d <= 0 || (d & (d - 1)) != 0)
      fail(loc, "shape element " + std::to_string(i) + " must be a power of 2, got " + std::to_string(d));
    if (d > (1 << 20) || (n *= d) > (1 << 20))
      fail(loc, "tensor of shape " + shapeStr(shape) + " has more than 1048576 elements");
  }
}

// ---- Materialising and converting -------------------------------------------------------------------

static bool fitsI32(int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }

ir::Value *Lowerer::toIR(const Val &v, SourceLoc loc, const std::string &what) {
  switch (v.kind) {
  case Val::Kind::IR:
    return v.v;
  case Val::Kind::Bool:
    return constant(v, scalarType(DType::I1));
  case Val::Kind::Int:
    return constant(v, scalarType(fitsI32(v.i) ? DType::I32 : DType::I64));
  case Val::Kind::Float:
    return constant(v, scalarType(DType::F32));
  default:
    fail(loc, what + " must be a number or a tensor, got " + describe(v));
  }
}

ir::Value *Lowerer::constant(const Val &num, const ir::Type *type) {
  if (type->isFloatLike())
    return b_.constFloat(type, num.asDouble());
  if (type->dtype() == DType::I1)
    return b_.constInt(type, truthy(num) ? 1 : 0);
  if (num.kind == Val::Kind::Float) {
    double d = num.f;
    if (std::isnan(d))
      d = 0;
    d = std::clamp(d, -9.2e18, 9.2e18);
    return b_.constInt(type, int64_t(d));
  }
  return b_.constInt(type, num.asInt());
}

ir::Value *Lowerer::toI1(ir::Value *v) {
  const ir::Type *t = v->type();
  if (t->dtype() == DType::I1 && !t->isPointerLike())
    return v;
  ir::Value *zero = t->isFloatLike() ? b_.constFloat(t, 0.0) : b_.constInt(t, 0);
  return b_.cmp("ne", v, zero);
}

ir::Value *Lowerer::castTo(ir::Value *v, DType to) {
  if (v->type()->dtype() == to)
    return v;
  if (to == DType::I1)
    return toI1(v);
  return b_.cast(v, to);
}

ir::Value *Lowerer::expandDims(ir::Value *v, int64_t axis, SourceLoc loc) {
  const ir::Type *t = v->type();
  int64_t rank = t->rank();
  if (axis < 0)
    axis += rank + 1;
  if (axis < 0 || axis > rank)
    fail(loc, "expand_dims axis " + std::to_string(axis) + " is out of range for a tensor of rank " +
                  std::to_string(rank));
  std::vector<int64_t> shape = t->shape();
  shape.insert(shape.begin() + axis, 1);
  if (rank == 0)
    return b_.create1(OpKind::Splat, {v}, types_.block(t, shape));
  return b_.create1(OpKind::ExpandDims, {v}, types_.block(t->scalarType(), shape), {{"axis", axis}});
}

ir::Value *Lowerer::reshape(ir::Value *v, const std::vector<int64_t> &shape, SourceLoc loc) {
  const ir::Type *t = v->type();
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  if (n != t->numElements())
    fail(loc, "cannot reshape " + t->str() + " to shape " + shapeStr(shape) + " (element counts differ)");
  if (t->shape() == shape)
    return v;
  if (shape.empty())
    fail(loc, "cannot reshape a tensor to a scalar; use a reduction");
  if (t->rank() == 0)
    return b_.create1(OpKind::Splat, {v}, types_.block(t, shape));
  return b_.create1(OpKind::Reshape, {v}, types_.block(t->scalarType(), shape));
}

std::vector<int64_t> Lowerer::broadcastShapes(const std::vector<int64_t> &a, const std::vector<int64_t> &b,
                                              SourceLoc loc) {
  auto r = ir::TypeContext::broadcastShapes(a, b);
  if (!r)
    fail(loc, "incompatible shapes for broadcasting: " + shapeStr(a) + " and " + shapeStr(b));
  return *r;
}

ir::Value *Lowerer::broadcastTo(ir::Value *v, const std::vector<int64_t> &shape, SourceLoc loc) {
  const ir::Type *t = v->type();
  if (t->shape() == shape)
    return v;
  if (t->rank() == 0)
    return b_.broadcastTo(v, shape);
  if (t->rank() > shape.size())
    fail(loc, "cannot broadcast shape " + shapeStr(t->shape()) + " to " + shapeStr(shape));
  size_t extra = shape.size() - t->rank();
  for (size_t i = 0; i < t->rank(); ++i)
    if (t->shape()[i] != shape[extra + i] && t->shape()[i] != 1)
      fail(loc, "cannot broadcast shape " + shapeStr(t->shape()) + " to " + shapeStr(shape));
  for (size_t i = 0; i < extra; ++i)
    v = expandDims(v, 0, loc);
  if (v->type()->shape() == shape)
    return v;
  return b_.create1(OpKind::Broadcast, {v}, types_.block(t->scalarType(), shape));
}

// ---- Promotion --------------------------------------------------------------------------------------

DType Lowerer::promote(DType a, DType b) {
  if (a == b)
    return a;
  if (a == DType::F64 || b == DType::F64)
    return DType::F64;
  if (a == DType::F32 || b == DType::F32)
    return DType::F32;
  // Triton: fp16 with fp16 or fp8 gives fp16, two different fp8 types fp16, bf16 with anything else fp32.
  if ((a == DType::F16 && ir::isFp8(b)) || (b == DType::F16 && ir::isFp8(a)) ||
      (ir::isFp8(a) && ir::isFp8(b)))
    return DType::F16;
  if (ir::isFloat(a) && ir::isFloat(b))
    return DType::F32; // bf16 vs fp16 or fp8
  if (ir::isFloat(a))
    return a;
  if (ir::isFloat(b))
    return b;
  unsigned wa = ir::bitWidth(a), wb = ir::bitWidth(b);
  if (ir::isUnsigned(a) != ir::isUnsigned(b)) {
    DType u = ir::isUnsigned(a) ? a : b, s = ir::isUnsigned(a) ? b : a;
    return ir::bitWidth(u) >= ir::bitWidth(s) ? u : s;
  }
  return wa >= wb ? a : b;
}

DType Lowerer::weakDType(const Val &num, DType other, SourceLoc loc) {
  if (num.kind == Val::Kind::Float)
    return ir::isFloat(other) ? other : DType::F32;
  if (num.kind == Val::Kind::Bool)
    return other;
  // An int literal takes the tensor's dtype if its value fits.
  if (ir::isFloat(other))
    return other;
  int64_t v = num.i;
  if (other == DType::I1)
    return fitsI32(v) ? DType::I32 : DType::I64;
  unsigned w = ir::bitWidth(other);
  if (ir::isUnsigned(other)) {
    if (v < 0 && w < 64)
      return other; // wraps, like Triton's unsigned arithmetic
    return other;
  }
  if (w < 64 && (v < -(int64_t(1) << (w - 1)) || v >= (int64_t(1) << (w - 1))))
    return fitsI32(v) && w < 32 ? DType::I32 : DType::I64;
  return other;
}

DType Lowerer::commonDType(const Val &a, const Val &b, SourceLoc loc) {
  for (const Val *x : {&a, &b})
    if (!x->isIR() && !x->isNumber())
      fail(loc, "expected a number or a tensor, got " + describe(*x));
  if (a.isIR() && b.isIR())
    return promote(a.v->type()->dtype(), b.v->type()->dtype());
  if (a.isIR())
    return weakDType(b, a.v->type()->dtype(), loc);
  if (b.isIR())
    return weakDType(a, b.v->type()->dtype(), loc);
  return promote(defaultDType(a), defaultDType(b));
}

DType Lowerer::defaultDType(const Val &num) {
  if (num.kind == Val::Kind::Bool)
    return DType::I1;
  if (num.kind == Val::Kind::Float)
    return DType::F32;
  return fitsI32(num.i) ? DType::I32 : DType::I64;
}

ir::Value *Lowerer::coerce(const Val &v, DType d, const std::vector<int64_t> &shape, SourceLoc loc,
                           const std::string &what) {
  if (v.isNumber())
    return constant(v, types_.shaped(scalarType(d), shape));
  if (!v.isIR())
    fail(loc, what + " must be a number or a tensor, got " + describe(v));
  if (v.v->type()->isPointerLike())
    fail(loc, what + " must not be a pointer, got " + v.v->type()->str());
  return broadcastTo(castTo(v.v, d), shape, loc);
}

std::pair<ir::Value *, ir::Value *> Lowerer::unify(const Val &a, const Val &b, SourceLoc loc,
                                                   const char *opName, bool arith) {
  for (const Val *x : {&a, &b})
    if (x->isIR() && x->v->type()->isPointerLike())
      fail(loc, std::string("unsupported operand types for ") + opName + ": " + describe(a) + " and " +
                    describe(b));
  DType d = commonDType(a, b, loc);
  if (arith && d == DType::I1)
    d = DType::I32;
  std::vector<int64_t> shape = broadcastShapes(shapeOf(a), shapeOf(b), loc);
  return {coerce(a, d, shape, loc, "operand"), coerce(b, d, shape, loc, "operand")};
}

// ---- Operators --------------------------------------------------------------------------------------

static ir::Value *pointerOffset(Lowerer &L, const Val &ptr, const Val &off, bool negate, SourceLoc loc,
                                const char *sym) {
  bool intOff = off.isIntLike() || (off.isIR() && off.v->type()->isIntLike());
  if (!intOff)
    L.fail(loc, std::string("unsupported operand types for ") + sym + ": " + describe(ptr) + " and " +
                    describe(off) + " (a pointer can only be offset by an integer)");
  ir::Builder &b = L.builder();
  ir::Value *o;
  if (off.isIR()) {
    o = off.v;
    if (o->type()->dtype() == DType::I1)
      o = L.castTo(o, DType::I32);
    if (negate)
      o = b.unary(OpKind::Neg, o);
  } else {
    int64_t v = off.asInt();
    if (negate)
      v = -v;
    o = L.toIR(Val::integer(v), loc);
  }
  std::vector<int64_t> shape = L.broadcastShapes(ptr.v->type()->shape(), o->type()->shape(), loc);
  ir::Value *p = L.broadcastTo(ptr.v, shape, loc);
  o = L.broadcastTo(o, shape, loc);
  return b.create1(OpKind::AddPtr, {p, o}, p->type());
}

Val Lowerer::binary(BinOpKind op, const Val &a, const Val &b, SourceLoc loc) {
  if (isCompileTime(a) && isCompileTime(b))
    return foldBinary(op, a, b, loc);
  const char *sym = ast::spelling(op);
  if (op == BinOpKind::MatMul) {
    CallArgs args;
    args.pos = {a, b};
    args.posLocs = {loc, loc};
    return callBuiltin("dot", args, loc, "tl.dot");
  }
  if (op == BinOpKind::Pow)
    fail(loc, "'**' is not supported on tensors (both operands must be compile-time values)");
  for (const Val *x : {&a, &b})
    if (!x->isIR() && !x->isNumber())
      fail(loc,
           std::string("unsupported operand types for ") + sym + ": " + describe(a) + " and " + describe(b));
  bool aPtr = a.isIR() && a.v->type()->isPointerLike();
  bool bPtr = b.isIR() && b.v->type()->isPointerLike();
  if (aPtr || bPtr) {
    if (op == BinOpKind::Add && aPtr && !bPtr)
      return Val::ir(pointerOffset(*this, a, b, false, loc, sym));
    if (op == BinOpKind::Add && bPtr && !aPtr)
      return Val::ir(pointerOffset(*this, b, a, false, loc, sym));
    if (op == BinOpKind::Sub && aPtr && !bPtr)
      return Val::ir(pointerOffset(*this, a, b, true, loc, sym));
    fail(loc,
         std::string("unsupported operand types for ") + sym + ": " + describe(a) + " and " + describe(b));
  }
  DType d = commonDType(a, b, loc);
  bool isInt = !ir::isFloat(d);
  switch (op) {
  case BinOpKind::Add:
  case BinOpKind::Sub:
  case BinOpKind::Mul: {
    auto [x, y] = unify(a, b, loc, sym, true);
    if (isInt)
      std::tie(x, y) = maskInactive(x, y, false);
    OpKind k = op == BinOpKind::Add ? OpKind::Add : op == BinOpKind::Sub ? OpKind::Sub : OpKind::Mul;
    return Val::ir(b_.binary(k, x, y));
  }
  case BinOpKind::Div: {
    auto [x, y] = unify(a, b, loc, sym, true);
    if (isInt) {
      x = castTo(x, DType::F32);
      y = castTo(y, DType::F32);
    }
    return Val::ir(b_.binary(OpKind::Div, x, y));
  }
  case BinOpKind::FloorDiv: {
    if (!isInt)
      fail(loc, "floor division of floats is not supported");
    auto [x, y] = unify(a, b, loc, sym, true);
    std::tie(x, y) = maskInactive(x, y, true);
    return Val::ir(b_.binary(OpKind::Div, x, y));
  }
  case BinOpKind::Mod: {
    auto [x, y] = unify(a, b, loc, sym, true);
    if (isInt)
      std::tie(x, y) = maskInactive(x, y, true);
    return Val::ir(b_.binary(OpKind::Rem, x, y));
  }
  case BinOpKind::BitAnd:
  case BinOpKind::BitOr:
  case BinOpKind::BitXor:
  case BinOpKind::LShift:
  case BinOpKind::RShift: {
    if (!isInt)
      fail(loc, std::string("operator ") + sym + " is only supported on integers, got " + describe(a) +
                    " and " + describe(b));
    bool shift = op == BinOpKind::LShift || op == BinOpKind::RShift;
    auto [x, y] = unify(a, b, loc, sym, shift);
    OpKind k = op == BinOpKind::BitAnd   ? OpKind::And
               : op == BinOpKind::BitOr  ? OpKind::Or
               : op == BinOpKind::BitXor ? OpKind::Xor
               : op == BinOpKind::LShift ? OpKind::Shl
                                         : OpKind::Shr;
    return Val::ir(b_.binary(k, x, y));
  }
  case BinOpKind::Pow:
  case BinOpKind::MatMul:
    break;
  }
  fail(loc, std::string("unsupported operator ") + sym);
}

Val Lowerer::compare(CmpOpKind op, const Val &a, const Val &b, SourceLoc loc) {
  if (auto r = foldCompare(op, a, b, loc))
    return Val::boolean(*r);
  const char *pred = nullptr;
  switch (op) {
  case CmpOpKind::Eq:
    pred = "eq";
    break;
  case CmpOpKind::NotEq:
    pred = "ne";
    break;
  case CmpOpKind::Lt:
    pred = "lt";
    break;
  case CmpOpKind::LtE:
    pred = "le";
    break;
  case CmpOpKind::Gt:
    pred = "gt";
    break;
  case CmpOpKind::GtE:
    pred = "ge";
    break;
  default:
    fail(loc, "'in' / 'not in' are only supported on compile-time values");
  }
  bool aPtr = a.isIR() && a.v->type()->isPointerLike();
  bool bPtr = b.isIR() && b.v->type()->isPointerLike();
  if (aPtr || bPtr) {
    if (!(aPtr && bPtr) || a.v->type()->scalarType() != b.v->type()->scalarType())
      fail(loc, "cannot compare " + describe(a) + " with " + describe(b));
    auto shape = broadcastShapes(a.v->type()->shape(), b.v->type()->shape(), loc);
    return Val::ir(b_.cmp(pred, broadcastTo(a.v, shape, loc), broadcastTo(b.v, shape, loc)));
  }
  auto [x, y] = unify(a, b, loc, "comparison");
  return Val::ir(b_.cmp(pred, x, y));
}

/// The value of an integer constant, if `v` is one.
static std::optional<int64_t> intConstant(ir::Value *v) {
  const ir::Operation *d = v->definingOp();
  if (!d || d->kind() != OpKind::Constant || !std::holds_alternative<int64_t>(*d->attr("value")))
    return std::nullopt;
  return std::get<int64_t>(*d->attr("value"));
}

std::pair<ir::Value *, ir::Value *> Lowerer::maskInactive(ir::Value *x, ir::Value *y, bool isDivision) {
  if (!ew_ || !ew_->mask || x->type()->shape() != ew_->mask->type()->shape())
    return {x, y};
  // A constant operand stays when the other one's replacement alone makes the op safe: 0 * c, 0 + c, 0 - c
  // (c not the minimum), 0 / c and 0 % c (c not 0), c / 1.
  std::optional<int64_t> cx = intConstant(x), cy = intConstant(y);
  bool keepX = cx.has_value(), keepY = cy && !(isDivision && *cy == 0) && *cy != INT64_MIN &&
                                       !(ir::bitWidth(y->type()->dtype()) == 32 && *cy == INT32_MIN);
  if (keepX && keepY)
    return {x, y};
  ir::Value *m = ew_->mask;
  if (!keepX)
    x = b_.select(m, x, constant(Val::integer(0), x->type()));
  if (!keepY)
    y = b_.select(m, y, constant(Val::integer(isDivision ? 1 : 0), y->type()));
  return {x, y};
}

ir::Value *Lowerer::toCondition(const Val &v, SourceLoc loc, const char *what) {
  ir::Value *c = toIR(v, loc, what);
  if (c->type()->isBlock())
    fail(loc, std::string(what) + " must be a scalar, got " + c->type()->str());
  if (c->type()->isPointer())
    fail(loc, std::string(what) + " must not be a pointer");
  return toI1(c);
}

ir::Value *Lowerer::unaryMath(OpKind k, const Val &x, SourceLoc loc, const std::string &name) {
  ir::Value *v = toIR(x, loc, "argument of " + name);
  if (!v->type()->isFloatLike())
    fail(loc, name + "() expects a floating-point tensor, got " + v->type()->str());
  return b_.unary(k, v);
}

} // namespace mt::lower
