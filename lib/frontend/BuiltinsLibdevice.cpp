// triton.language.extra.libdevice (also reached as tl.extra.cuda.libdevice): Triton's names for the CUDA
// math library. Most become one `mathfn` op (ir/MathFns.def: the interpreter computes it in double precision,
// the GPU calls the CUDA function); the rest are compositions of existing ops: isnan / isinf / isfinited /
// finitef / signbit (i32 0 or 1), the bit reinterpretations (float_as_int, ...), the rounding conversions
// (float2int_rn, ...), powi / ldexp / scalbn, and the aliases of tl builtins (abs, fma, div_rn, max, ...).
// Float functions take f32 and f64 as in Triton, and f16 / bf16 too (through f32, rounded back once); the
// directed-rounding variants (_rz, _rd, _ru) are a source-located "not supported".
#include "frontend/LowerImpl.h"
#include "ir/MathFns.h"

#include <cmath>

namespace mt::lower {

using ir::DType;
using ir::MathFn;
using ir::OpKind;

namespace {

const std::vector<std::string> &argNames(int n) {
  static const std::vector<std::string> names[] = {{"arg0"}, {"arg0", "arg1"}, {"arg0", "arg1", "arg2"}};
  return names[n - 1];
}

/// Operand i of a libdevice call as IR, checked against the function's domain.
ir::Value *operand(Lowerer &L, Bound &a, size_t i, MathFn::Domain dom) {
  ir::Value *v = L.toIR(a[i], a.loc(i), "argument of " + a.fname);
  const ir::Type *t = v->type();
  bool ok = !t->isPointerLike() &&
            (dom == MathFn::Domain::Int
                 ? t->isIntLike() && (ir::bitWidth(t->dtype()) == 32 || ir::bitWidth(t->dtype()) == 64)
             : dom == MathFn::Domain::F32 ? t->dtype() == DType::F32
                                          : t->isFloatLike());
  if (!ok)
    L.fail(a.loc(i), a.fname + "() expects " +
                         (dom == MathFn::Domain::Int   ? std::string("a 32- or 64-bit integer")
                          : dom == MathFn::Domain::F32 ? std::string("an fp32")
                                                       : std::string("a floating-point")) +
                         " tensor, got " + t->str());
  return v;
}

/// The operands of a call, of one dtype and shape (Triton's promotion and broadcasting between them).
std::vector<ir::Value *> operands(Lowerer &L, Bound &a, int arity, MathFn::Domain dom) {
  if (arity == 1)
    return {operand(L, a, 0, dom)};
  auto [x, y] = L.unify(a[0], a[1], a.callLoc, a.fname.c_str(), true);
  Bound b = a;
  b.vals = {Val::ir(x), Val::ir(y)};
  return {operand(L, b, 0, dom), operand(L, b, 1, dom)};
}

ir::Value *mathFn(Lowerer &L, const MathFn &fn, std::vector<ir::Value *> ops) {
  const ir::Type *t = ops[0]->type();
  const ir::Type *rt = fn.result == MathFn::Result::I32 ? L.types().withDType(t, DType::I32) : t;
  return L.builder().create1(OpKind::MathFn, std::move(ops), rt, {{"fn", std::string(fn.name)}});
}

const MathFn &fnNamed(const char *name) { return *ir::findMathFn(name); }

/// The float operand and, as a float of its dtype, the integer exponent (powi, ldexp, scalbn).
Val floatWithIntExponent(Lowerer &L, Bound &a, const char *fn) {
  ir::Value *x = operand(L, a, 0, MathFn::Domain::Float);
  ir::Value *n = L.toIR(a[1], a.loc(1), "exponent of " + a.fname);
  if (n->type()->isPointerLike() || !n->type()->isIntLike())
    L.fail(a.loc(1), a.fname + "() expects an integer exponent, got " + n->type()->str());
  auto shape = L.broadcastShapes(x->type()->shape(), n->type()->shape(), a.callLoc);
  x = L.broadcastTo(x, shape, a.loc(0));
  n = L.broadcastTo(L.castTo(n, x->type()->dtype()), shape, a.loc(1));
  return Val::ir(mathFn(L, fnNamed(fn), {x, n}));
}

/// x's bits as the signed integer of its width.
ir::Value *bitsOf(Lowerer &L, ir::Value *x) {
  DType d = ir::signedIntOfWidth(ir::bitWidth(x->type()->dtype()));
  return L.builder().create1(OpKind::Bitcast, {x}, L.types().withDType(x->type(), d));
}

/// Argument 0 of a conversion, which must be of dtype `from` exactly (no promotion, as in libdevice).
ir::Value *exactly(Lowerer &L, Bound &a, DType from) {
  ir::Value *x = L.toIR(a[0], a.loc(0), "argument of " + a.fname);
  if (x->type()->isPointerLike() || x->type()->dtype() != from)
    L.fail(a.loc(0),
           a.fname + "() expects " + std::string(ir::tritonDtypeName(from)) + ", got " + x->type()->str());
  return x;
}

/// A predicate on a float tensor, as Triton's libdevice returns it: i32 1 or 0.
void predicate(BuiltinTable &t, const std::string &name, ir::Value *(*test)(Lowerer &, ir::Value *)) {
  t["libdevice." + name] = {{"arg0"}, [test](Lowerer &L, Bound &a) {
                              ir::Value *x = operand(L, a, 0, MathFn::Domain::Float);
                              return Val::ir(L.builder().cast(test(L, x), DType::I32));
                            }};
}

ir::Value *isInf(Lowerer &L, ir::Value *x) {
  ir::Builder &b = L.builder();
  return b.cmp("eq", b.unary(OpKind::Abs, x), b.constFloat(x->type(), INFINITY));
}

/// Neither infinite nor NaN: |x| < inf.
ir::Value *isFinite(Lowerer &L, ir::Value *x) {
  ir::Builder &b = L.builder();
  return b.cmp("lt", b.unary(OpKind::Abs, x), b.constFloat(x->type(), INFINITY));
}

/// A bit reinterpretation from dtype `from` to `to` (float_as_int and its relatives).
void reinterpret(BuiltinTable &t, const std::string &name, DType from, DType to) {
  t["libdevice." + name] = {
      {"arg0"}, [from, to](Lowerer &L, Bound &a) {
        ir::Value *x = exactly(L, a, from);
        return Val::ir(L.builder().create1(OpKind::Bitcast, {x}, L.types().withDType(x->type(), to)));
      }};
}

/// `<from>2<to>_<mode>` conversions: float -> integer rounds by the mode first (rint, trunc, floor, ceil) and
/// converts exactly; integer -> float and double -> float round to nearest only.
void conversions(BuiltinTable &t) {
  static const std::pair<const char *, DType> kinds[] = {{"float", DType::F32}, {"double", DType::F64},
                                                         {"int", DType::I32},   {"uint", DType::U32},
                                                         {"ll", DType::I64},    {"ull", DType::U64}};
  static const std::pair<const char *, const char *> modes[] = {
      {"rn", "rint"}, {"rz", "trunc"}, {"rd", "floor"}, {"ru", "ceil"}};
  for (const auto &[fromName, from] : kinds)
    for (const auto &[toName, to] : kinds) {
      if (from == to || (!ir::isFloat(from) && !ir::isFloat(to)) || (from == DType::F32 && to == DType::F64))
        continue;
      for (const auto &[mode, rounder] : modes) {
        std::string name = std::string(fromName) + "2" + toName + "_" + mode;
        DType f = from, d = to;
        const char *r = rounder;
        bool exact = ir::isFloat(from) && !ir::isFloat(to); // round first, then an exact conversion
        bool nearest = std::string(mode) == "rn";
        t["libdevice." + name] = {{"arg0"}, [f, d, r, exact, nearest](Lowerer &L, Bound &a) {
                                    ir::Value *x = exactly(L, a, f);
                                    if (!exact && !nearest)
                                      L.fail(a.callLoc, a.fname + "(): only round-to-nearest (_rn) is "
                                                                  "supported for conversions to floats");
                                    if (exact)
                                      x = mathFn(L, fnNamed(r), {x});
                                    return Val::ir(L.builder().cast(x, d));
                                  }};
      }
    }
}

} // namespace

void registerLibdeviceBuiltins(BuiltinTable &t) {
  for (const char *n :
       {"acos",      "acosh",     "asin",      "asinh",       "atan",         "atanh",       "cbrt",
        "ceil",      "cos",       "cosh",      "cospi",       "erf",          "erfc",        "erfcinv",
        "erfcx",     "erfinv",    "exp",       "exp10",       "exp2",         "expm1",       "floor",
        "j0",        "j1",        "lgamma",    "log",         "log10",        "log1p",       "log2",
        "logb",      "nearbyint", "normcdf",   "normcdfinv",  "rcbrt",        "rcp_rn",      "rint",
        "round",     "rsqrt",     "sin",       "sinh",        "sinpi",        "sqrt",        "tan",
        "tanh",      "tgamma",    "trunc",     "y0",          "y1",           "ilogb",       "add_rn",
        "atan2",     "copysign",  "fdim",      "fmod",        "hypot",        "mul_rn",      "nextafter",
        "pow",       "remainder", "fast_cosf", "fast_exp10f", "fast_expf",    "fast_log10f", "fast_log2f",
        "fast_logf", "fast_sinf", "fast_tanf", "saturatef",   "fast_dividef", "fast_powf",   "brev",
        "clz",       "ffs",       "popc",      "mulhi"}) {
    const MathFn *fn = &fnNamed(n);
    t[std::string("libdevice.") + n] = {argNames(fn->arity), [fn](Lowerer &L, Bound &a) {
                                          return Val::ir(
                                              mathFn(L, *fn, operands(L, a, fn->arity, fn->domain)));
                                        }};
  }
  // Other names for the same functions.
  t["libdevice.sqrt_rn"] = t["libdevice.sqrt"]; // CUDA's sqrt is correctly rounded
  t["libdevice.sub_rn"] = {argNames(2), [](Lowerer &L, Bound &a) {
                             auto ops = operands(L, a, 2, MathFn::Domain::Float);
                             ops[1] = L.builder().unary(OpKind::Neg, ops[1]); // exact
                             return Val::ir(mathFn(L, fnNamed("add_rn"), ops));
                           }};
  t["libdevice.pow"].fn = [](Lowerer &L, Bound &a) { // an integer exponent: powi
    if (a[1].isIntLike() || (a[1].isIR() && a[1].v->type()->isIntLike()))
      return floatWithIntExponent(L, a, "pow");
    return Val::ir(mathFn(L, fnNamed("pow"), operands(L, a, 2, MathFn::Domain::Float)));
  };
  t["libdevice.powi"] = {argNames(2), [](Lowerer &L, Bound &a) { return floatWithIntExponent(L, a, "pow"); }};
  t["libdevice.ldexp"] = {argNames(2),
                          [](Lowerer &L, Bound &a) { return floatWithIntExponent(L, a, "ldexp"); }};
  t["libdevice.scalbn"] = t["libdevice.ldexp"];
  // The tl builtins libdevice repeats (their handlers, under libdevice's parameter names).
  struct Alias {
    const char *name, *builtin;
    std::vector<std::string> sig;
  };
  for (const Alias &al :
       std::initializer_list<Alias>{{"abs", "abs", {"arg0"}},
                                    {"fma", "fma", {"arg0", "arg1", "arg2"}},
                                    {"fma_rn", "fma", {"arg0", "arg1", "arg2"}},
                                    {"div_rn", "div_rn", {"arg0", "arg1"}},
                                    {"umulhi", "umulhi", {"arg0", "arg1"}},
                                    {"max", "maximum", {"arg0", "arg1", "propagate_nan?"}},
                                    {"min", "minimum", {"arg0", "arg1", "propagate_nan?"}},
                                    {"fmax", "maximum", {"arg0", "arg1", "propagate_nan?"}},
                                    {"fmin", "minimum", {"arg0", "arg1", "propagate_nan?"}}})
    t[std::string("libdevice.") + al.name] = {al.sig, t.at(al.builtin).fn};
  predicate(t, "isnan", [](Lowerer &L, ir::Value *x) { return L.builder().cmp("ne", x, x); });
  predicate(t, "isinf", isInf);
  predicate(t, "isfinited", isFinite);
  predicate(t, "finitef", isFinite);
  predicate(t, "signbit", [](Lowerer &L, ir::Value *x) {
    ir::Value *bits = bitsOf(L, x);
    return L.builder().cmp("lt", bits, L.builder().constInt(bits->type(), 0));
  });
  reinterpret(t, "float_as_int", DType::F32, DType::I32);
  reinterpret(t, "int_as_float", DType::I32, DType::F32);
  reinterpret(t, "float_as_uint", DType::F32, DType::U32);
  reinterpret(t, "uint_as_float", DType::U32, DType::F32);
  reinterpret(t, "double_as_longlong", DType::F64, DType::I64);
  reinterpret(t, "longlong_as_double", DType::I64, DType::F64);
  conversions(t);
  for (const char *op : {"add", "mul", "div", "sqrt", "rcp", "fma"})
    for (const char *mode : {"rz", "rd", "ru"}) {
      std::string name = std::string(op) + "_" + mode;
      t["libdevice." + name] = {{"*args", "**"}, [name](Lowerer &L, Bound &a) -> Val {
                                  L.fail(a.callLoc, a.fname + "() is not supported: directed rounding (" +
                                                        name.substr(name.size() - 2) +
                                                        ") has no CPU and GPU equivalent here; use _rn");
                                }};
    }
}

} // namespace mt::lower
