// Elementwise tl.* builtins: math functions, maximum/minimum/clamp/where/fma, casts, and Python's
// min/max/abs.
#include "frontend/LowerImpl.h"

#include <cmath>

namespace mt::lower {

using ir::DType;
using ir::OpKind;

namespace {

/// `r`, or a NaN of `v` where `v` is NaN (floats only).
ir::Value *keepNaN(Lowerer &L, ir::Value *v, ir::Value *r) {
  if (!v->type()->isFloatLike())
    return r;
  return L.builder().select(L.builder().cmp("ne", v, v), v, r);
}

} // namespace

Val minMax(Lowerer &L, bool isMax, const Val &x, const Val &y, SourceLoc loc, bool propagateNaN) {
  if (x.isNumber() && y.isNumber()) {
    bool yBigger = x.isIntLike() && y.isIntLike() ? y.asInt() > x.asInt() : y.asDouble() > x.asDouble();
    return (yBigger == isMax) ? y : x;
  }
  auto [a, b] = L.unify(x, y, loc, isMax ? "maximum" : "minimum", true);
  ir::Value *r = L.builder().binary(isMax ? OpKind::Max : OpKind::Min, a, b);
  // Max / Min drop a NaN operand (fmax); tl.PropagateNan.ALL returns it instead.
  return Val::ir(propagateNaN ? keepNaN(L, a, keepNaN(L, b, r)) : r);
}

namespace {

/// propagate_nan=tl.PropagateNan.ALL (any non-zero value) rather than NONE.
bool propagateArg(Lowerer &L, Bound &a, size_t i) {
  return a.has(i) && L.constInt(a[i], a.loc(i), "propagate_nan") != 0;
}

/// Python's min/max: of several arguments or of one tuple; IR values use tl.minimum/tl.maximum.
Val pyMinMax(Lowerer &L, Bound &a, bool isMax) {
  std::vector<Val> items = a.rest;
  if (items.size() == 1 && items[0].kind == Val::Kind::Tuple)
    items = items[0].elems;
  if (items.empty())
    L.fail(a.callLoc, a.fname + "() needs at least one argument");
  Val cur = items[0];
  for (size_t i = 1; i < items.size(); ++i) {
    for (const Val *v : {&cur, &items[i]})
      if (!v->isNumber() && !v->isIR())
        L.fail(a.callLoc, a.fname + "() of " + describe(*v) + " is not supported");
    cur = minMax(L, isMax, cur, items[i], a.callLoc);
  }
  return cur;
}

Val castFn(Lowerer &L, Bound &a) {
  const ir::Type *to = L.asType(a[1], a.loc(1), "dtype");
  if (to->isBlock())
    to = to->scalarType(); // Triton casts to a block type's element type
  bool bitcast = a.has(3) && L.constBool(a[3], a.loc(3), "bitcast");
  const Val &x = a[0];
  if (to->isPointer()) {
    // A 64-bit integer is an address (Triton's grouped GEMM loads a table of data_ptr()s and casts them).
    bool isAddress = x.isIR() && !x.v->type()->isPointerLike() && ir::isInteger(x.v->type()->dtype()) &&
                     ir::bitWidth(x.v->type()->dtype()) == 64;
    if (!x.isIR() || (!x.v->type()->isPointerLike() && !isAddress))
      L.fail(a.callLoc, "only pointers and 64-bit integers (addresses) can be cast to a pointer type, got " +
                            describe(x));
    const ir::Type *rt = L.types().withElement(x.v->type(), to);
    return Val::ir(L.builder().create1(isAddress ? OpKind::Cast : OpKind::Bitcast, {x.v}, rt));
  }
  if (!to->isScalar())
    L.fail(a.loc(1), "cannot cast to " + to->str());
  DType d = to->dtype();
  if (x.isNumber() && !bitcast)
    return Val::ir(L.constant(x, L.scalarType(d)));
  ir::Value *v = L.toIR(x, a.loc(0), "argument of " + a.fname);
  if (v->type()->isPointerLike()) {
    if (bitcast || !ir::isInteger(d) || ir::bitWidth(d) != 64)
      L.fail(a.loc(0), "a pointer can only be cast to a 64-bit integer (its address), not to " +
                           std::string(ir::tritonDtypeName(d)));
    return Val::ir(
        L.builder().create1(OpKind::Cast, {v}, L.types().shaped(L.scalarType(d), v->type()->shape())));
  }
  if (bitcast) {
    DType from = v->type()->dtype();
    if (ir::bitWidth(from) != ir::bitWidth(d))
      L.fail(a.callLoc, "cannot bitcast " + std::string(ir::tritonDtypeName(from)) + " to " +
                            std::string(ir::tritonDtypeName(d)) + ": the bit widths differ");
    if (from == d)
      return Val::ir(v);
    return Val::ir(L.builder().create1(OpKind::Bitcast, {v}, L.types().withDType(v->type(), d)));
  }
  return Val::ir(L.castTo(v, d));
}

} // namespace

void registerMathBuiltins(BuiltinTable &t) {
  static const std::pair<const char *, OpKind> unary[] = {
      {"exp", OpKind::Exp},   {"exp2", OpKind::Exp2},    {"log", OpKind::Log},     {"log2", OpKind::Log2},
      {"sqrt", OpKind::Sqrt}, {"sqrt_rn", OpKind::Sqrt}, {"rsqrt", OpKind::Rsqrt}, {"sin", OpKind::Sin},
      {"cos", OpKind::Cos},   {"tanh", OpKind::Tanh},    {"erf", OpKind::Erf},     {"floor", OpKind::Floor},
      {"ceil", OpKind::Ceil},
  };
  for (const auto &[name, kind] : unary) {
    OpKind k = kind;
    std::string n = name;
    t[n] = {{"x"},
            [k, n](Lowerer &L, Bound &a) { return Val::ir(L.unaryMath(k, a[0], a.loc(0), "tl." + n)); }};
  }
  auto absFn = [](Lowerer &L, Bound &a) {
    const Val &x = a[0];
    if (x.kind == Val::Kind::Float)
      return Val::floating(std::fabs(x.f));
    if (x.isIntLike()) {
      if (x.asInt() == INT64_MIN)
        L.fail(a.loc(0), "integer overflow in abs()");
      return Val::integer(std::llabs(x.asInt()));
    }
    ir::Value *v = L.toIR(x, a.loc(0), "argument of abs");
    if (v->type()->isPointerLike())
      L.fail(a.loc(0), "abs() of a pointer is not supported");
    if (ir::isUnsigned(v->type()->dtype()) || v->type()->dtype() == DType::I1)
      return Val::ir(v);
    return Val::ir(L.builder().unary(OpKind::Abs, v));
  };
  t["abs"] = {{"x"}, absFn};
  t["py.abs"] = {{"x"}, absFn};
  t["sigmoid"] = {{"x"}, [](Lowerer &L, Bound &a) {
                    ir::Value *x = L.toIR(a[0], a.loc(0), "argument of tl.sigmoid");
                    if (!x->type()->isFloatLike())
                      L.fail(a.loc(0),
                             "tl.sigmoid() expects a floating-point tensor, got " + x->type()->str());
                    ir::Builder &b = L.builder();
                    ir::Value *e = b.unary(OpKind::Exp, b.unary(OpKind::Neg, x));
                    ir::Value *one = b.constFloat(x->type(), 1.0);
                    return Val::ir(b.binary(OpKind::Div, one, b.binary(OpKind::Add, one, e)));
                  }};
  t["maximum"] = {{"x", "y", "propagate_nan?"}, [](Lowerer &L, Bound &a) {
                    return minMax(L, true, a[0], a[1], a.callLoc, propagateArg(L, a, 2));
                  }};
  t["minimum"] = {{"x", "y", "propagate_nan?"}, [](Lowerer &L, Bound &a) {
                    return minMax(L, false, a[0], a[1], a.callLoc, propagateArg(L, a, 2));
                  }};
  t["clamp"] = {{"x", "min", "max", "propagate_nan?"}, [](Lowerer &L, Bound &a) {
                  Val lo = minMax(L, true, a[0], a[1], a.callLoc);
                  Val r = minMax(L, false, lo, a[2], a.callLoc);
                  // As in Triton, propagate_nan concerns x: a NaN of x stays NaN.
                  if (propagateArg(L, a, 3) && r.isIR() && a[0].isIR())
                    r = Val::ir(keepNaN(
                        L, L.coerce(a[0], r.v->type()->dtype(), r.v->type()->shape(), a.loc(0), "x"), r.v));
                  return r;
                }};
  t["pointer_type"] = {{"element_ty", "address_space?", "const?"}, [](Lowerer &L, Bound &a) {
                         const ir::Type *e = L.asType(a[0], a.loc(0), "element_ty");
                         if (!e->isScalar() || e->isPointer())
                           L.fail(a.loc(0), "tl.pointer_type() needs a scalar dtype, got " + e->str());
                         return Val::dtype(L.types().pointer(e));
                       }};
  t["py.min"] = {{"*args", "**"}, [](Lowerer &L, Bound &a) { return pyMinMax(L, a, false); }};
  t["py.max"] = {{"*args", "**"}, [](Lowerer &L, Bound &a) { return pyMinMax(L, a, true); }};
  t["fma"] = {{"x", "y", "z"}, [](Lowerer &L, Bound &a) {
                DType d = L.commonDType(a[0], a[1], a.callLoc);
                Val probe = a[2];
                if (a[2].isIR())
                  d = Lowerer::promote(d, a[2].v->type()->dtype());
                if (!ir::isFloat(d))
                  L.fail(a.callLoc, "tl.fma() expects floating-point operands");
                auto shape = L.broadcastShapes(Lowerer::shapeOf(a[0]), Lowerer::shapeOf(a[1]), a.callLoc);
                shape = L.broadcastShapes(shape, Lowerer::shapeOf(a[2]), a.callLoc);
                std::vector<ir::Value *> ops;
                for (size_t i = 0; i < 3; ++i)
                  ops.push_back(L.coerce(a[i], d, shape, a.loc(i), "operand of tl.fma"));
                return Val::ir(L.builder().create1(OpKind::Fma, ops, ops[0]->type()));
              }};
  t["where"] = {{"condition", "x", "y"}, [](Lowerer &L, Bound &a) {
                  ir::Value *c = L.toIR(a[0], a.loc(0), "condition of tl.where");
                  if (c->type()->isPointerLike())
                    L.fail(a.loc(0), "the condition of tl.where must be boolean, got " + c->type()->str());
                  c = L.toI1(c);
                  const Val &x = a[1], &y = a[2];
                  bool xPtr = x.isIR() && x.v->type()->isPointerLike(),
                       yPtr = y.isIR() && y.v->type()->isPointerLike();
                  auto shape = L.broadcastShapes(c->type()->shape(), Lowerer::shapeOf(x), a.callLoc);
                  shape = L.broadcastShapes(shape, Lowerer::shapeOf(y), a.callLoc);
                  ir::Value *xv, *yv;
                  if (xPtr || yPtr) {
                    if (!xPtr || !yPtr || x.v->type()->scalarType() != y.v->type()->scalarType())
                      L.fail(a.callLoc, "tl.where operands must both be pointers of one type, got " +
                                            describe(x) + " and " + describe(y));
                    xv = L.broadcastTo(x.v, shape, a.loc(1));
                    yv = L.broadcastTo(y.v, shape, a.loc(2));
                  } else {
                    DType d = L.commonDType(x, y, a.callLoc);
                    xv = L.coerce(x, d, shape, a.loc(1), "x");
                    yv = L.coerce(y, d, shape, a.loc(2), "y");
                  }
                  c = L.broadcastTo(c, shape, a.loc(0));
                  return Val::ir(L.builder().select(c, xv, yv));
                }};
  // `/` is Triton's fast full-range division on the GPU (div.full.f32); div_rn and fdiv(...,
  // ieee_rounding=True) are IEEE round-to-nearest: their div op carries {rounding = "rn"}.
  auto fdiv = [](Lowerer &L, Bound &a) {
    Val r = L.binary(ast::BinOpKind::Div, a[0], a[1], a.callLoc);
    bool ieee = a.fname.find("div_rn") != std::string::npos ||
                (a.vals.size() > 2 && a.has(2) && a[2].kind == Val::Kind::Bool && a[2].b);
    if (ieee && r.kind == Val::Kind::IR && r.v && r.v->definingOp() &&
        r.v->definingOp()->kind() == ir::OpKind::Div)
      r.v->definingOp()->setAttr("rounding", std::string("rn"));
    return r;
  };
  t["fdiv"] = {{"x", "y", "ieee_rounding?"}, fdiv};
  t["div_rn"] = {{"x", "y"}, fdiv};
  t["cast"] = {{"input", "dtype", "fp_downcast_rounding?", "bitcast?"}, castFn};
  t["method.to"] = {{"input", "dtype", "fp_downcast_rounding?", "bitcast?"}, castFn};
}

} // namespace mt::lower
