// Expressions: names, literals, attributes, subscripts, calls, operators, and Python arithmetic on
// compile-time values.
#include "frontend/LowerImpl.h"

#include <cmath>
#include <sstream>

namespace mt::lower {

using namespace ast;
using ir::DType;
using ir::OpKind;

// ---- Val helpers ------------------------------------------------------------------------------------

bool sameVal(const Val &a, const Val &b) {
  if (a.kind != b.kind)
    return false;
  switch (a.kind) {
  case Val::Kind::Undef:
  case Val::Kind::None:
    return true;
  case Val::Kind::Bool:
    return a.b == b.b;
  case Val::Kind::Int:
    return a.i == b.i;
  case Val::Kind::Float:
    return a.f == b.f || (std::isnan(a.f) && std::isnan(b.f));
  case Val::Kind::Str:
  case Val::Kind::Module:
    return a.s == b.s;
  case Val::Kind::DType:
    return a.type == b.type;
  case Val::Kind::Func:
    return a.fn == b.fn;
  case Val::Kind::Builtin:
  case Val::Kind::Tuple:
  case Val::Kind::Range:
    if (a.s != b.s || a.b != b.b || a.elems.size() != b.elems.size())
      return false;
    for (size_t i = 0; i < a.elems.size(); ++i)
      if (!sameVal(a.elems[i], b.elems[i]))
        return false;
    return true;
  case Val::Kind::IR:
    return a.v == b.v;
  }
  return false;
}

static std::string formatDouble(double d) {
  if (std::isnan(d))
    return "nan";
  if (std::isinf(d))
    return d < 0 ? "-inf" : "inf";
  std::ostringstream os;
  os.precision(17);
  os << d;
  std::string s = os.str();
  if (s.find_first_of(".e") == std::string::npos)
    s += ".0";
  return s;
}

std::string repr(const Val &v) {
  switch (v.kind) {
  case Val::Kind::Undef:
    return "<undefined>";
  case Val::Kind::None:
    return "None";
  case Val::Kind::Bool:
    return v.b ? "True" : "False";
  case Val::Kind::Int:
    return std::to_string(v.i);
  case Val::Kind::Float:
    return formatDouble(v.f);
  case Val::Kind::Str:
    return v.s;
  case Val::Kind::DType:
    return v.type->isScalar() ? std::string(ir::tritonDtypeName(v.type->dtype())) : v.type->str();
  case Val::Kind::Tuple: {
    std::string s = v.isList ? "[" : "(";
    for (size_t i = 0; i < v.elems.size(); ++i)
      s += (i ? ", " : "") + repr(v.elems[i]);
    if (!v.isList && v.elems.size() == 1)
      s += ",";
    return s + (v.isList ? "]" : ")");
  }
  case Val::Kind::Func:
    return "<function " + v.fn->name + ">";
  case Val::Kind::Builtin:
    return "<builtin " + v.s + ">";
  case Val::Kind::Module:
    return "<module " + v.s + ">";
  case Val::Kind::Range:
    return "range(" + repr(v.elems[0]) + ", " + repr(v.elems[1]) + ", " + repr(v.elems[2]) + ")";
  case Val::Kind::IR:
    return v.v->type()->str();
  }
  return "?";
}

std::string describe(const Val &v) {
  switch (v.kind) {
  case Val::Kind::Undef:
    return "an undefined value";
  case Val::Kind::None:
    return "None";
  case Val::Kind::Bool:
    return "bool";
  case Val::Kind::Int:
    return "int";
  case Val::Kind::Float:
    return "float";
  case Val::Kind::Str:
    return "str";
  case Val::Kind::DType:
    return "dtype";
  case Val::Kind::Tuple:
    if (isTensorDesc(v))
      return "tensor_descriptor";
    if (v.s == "block_ptr")
      return "block pointer";
    return v.isList ? "list" : "tuple";
  case Val::Kind::Func:
    return "function";
  case Val::Kind::Builtin:
    return "builtin function";
  case Val::Kind::Module:
    return "module";
  case Val::Kind::Range:
    return "range";
  case Val::Kind::IR:
    return v.v->type()->str();
  }
  return "?";
}

bool truthy(const Val &v) {
  switch (v.kind) {
  case Val::Kind::None:
    return false;
  case Val::Kind::Bool:
    return v.b;
  case Val::Kind::Int:
    return v.i != 0;
  case Val::Kind::Float:
    return v.f != 0.0;
  case Val::Kind::Str:
    return !v.s.empty();
  case Val::Kind::Tuple:
    return !v.elems.empty();
  default:
    return true;
  }
}

bool isCompileTime(const Val &v) {
  if (v.kind == Val::Kind::IR || v.kind == Val::Kind::Undef)
    return false;
  for (const Val &e : v.elems)
    if (!isCompileTime(e))
      return false;
  return true;
}

// ---- Expressions ------------------------------------------------------------------------------------

Val Lowerer::lowerExpr(const Expr &e) {
  switch (e.kind) {
  case ExprKind::Name:
    return lookupName(e.name, e.loc);
  case ExprKind::Int:
    return Val::integer(e.intValue);
  case ExprKind::Float:
    return Val::floating(e.floatValue);
  case ExprKind::Bool:
    return Val::boolean(e.boolValue);
  case ExprKind::NoneLit:
    return Val::none();
  case ExprKind::String:
    return Val::str(e.name);
  case ExprKind::Attribute:
    return lowerAttribute(e);
  case ExprKind::Subscript:
    return lowerSubscript(e);
  case ExprKind::Slice:
    fail(e.loc, "a slice is only allowed inside a subscript");
  case ExprKind::Call:
    return lowerCall(e);
  case ExprKind::BinOp: {
    Val l = lowerExpr(*e.operands[0]);
    Val r = lowerExpr(*e.operands[1]);
    b_.setLoc(e.loc);
    return binary(e.binOp, l, r, e.loc);
  }
  case ExprKind::UnaryOp:
    return lowerUnary(e);
  case ExprKind::BoolOp:
    return lowerBoolOp(e);
  case ExprKind::Compare:
    return lowerCompare(e);
  case ExprKind::IfExp:
    return lowerIfExp(e);
  case ExprKind::Dict:
    fail(e.loc, "dict literals are not supported in a kernel");
  case ExprKind::Tuple:
  case ExprKind::List: {
    std::vector<Val> elems;
    for (const ExprPtr &o : e.operands)
      elems.push_back(lowerExpr(*o));
    return Val::tuple(std::move(elems), e.kind == ExprKind::List);
  }
  }
  fail(e.loc, "unsupported expression");
}

Val Lowerer::lowerAttribute(const Expr &e) {
  Val base = lowerExpr(*e.operands[0]);
  b_.setLoc(e.loc);
  return attributeOf(base, e.name, e.loc);
}

Val Lowerer::attributeOf(const Val &base, const std::string &attr, SourceLoc loc) {
  switch (base.kind) {
  case Val::Kind::Module:
    return moduleAttr(base, attr, loc);
  case Val::Kind::IR: {
    const ir::Type *t = base.v->type();
    if (attr == "dtype")
      return Val::dtype(t->scalarType());
    if (attr == "type")
      return Val::dtype(t);
    if (attr == "shape") {
      std::vector<Val> dims;
      for (int64_t d : t->shape())
        dims.push_back(Val::integer(d));
      return Val::tuple(std::move(dims));
    }
    if (attr == "numel")
      return Val::integer(t->numElements());
    if (attr == "T") {
      CallArgs args;
      args.pos.push_back(base);
      args.posLocs.push_back(loc);
      return callBuiltin("trans", args, loc, "tensor.T");
    }
    if (builtins_.count("method." + attr))
      return Val::method("method." + attr, base);
    if (builtins_.count(attr))
      return Val::method(attr, base);
    fail(loc, "tensor has no attribute '" + attr + "'");
  }
  case Val::Kind::DType: {
    const ir::Type *t = base.type;
    if (attr == "element_ty") {
      if (t->isBlock())
        return Val::dtype(t->element());
      if (t->isPointer())
        return Val::dtype(t->element());
      fail(loc, "dtype " + repr(base) + " has no attribute 'element_ty'");
    }
    if (attr == "primitive_bitwidth" || attr == "int_bitwidth" || attr == "fp_mantissa_width") {
      if (!t->isScalar())
        fail(loc, "dtype " + repr(base) + " has no attribute '" + attr + "'");
      return Val::integer(ir::bitWidth(t->dtype()));
    }
    if (attr == "scalar")
      return Val::dtype(t->scalarType());
    if (attr == "name")
      return Val::str(repr(base));
    if (builtins_.count("dtype." + attr))
      return Val::method("dtype." + attr, base);
    fail(loc, "dtype has no attribute '" + attr + "'");
  }
  case Val::Kind::Str:
    if (auto d = ir::parseDType(base.s))
      return attributeOf(Val::dtype(scalarType(*d)), attr, loc);
    break;
  case Val::Kind::Tuple:
    if (isBlockPtr(base) && (attr == "dtype" || attr == "type")) {
      // As in Triton: a pointer to the block (`p.dtype.element_ty` is the block type; `.to()` of it casts to
      // its element type).
      const ir::Type *elem = base.elems[kBpBase].v->type()->element();
      return Val::dtype(
          types_.pointer(types_.block(elem, asShape(base.elems[kBpBlock], loc, "block_shape"))));
    }
    if (isTensorDesc(base)) {
      if (builtins_.count("desc." + attr)) // load, store, gather, scatter, atomic_add ...
        return Val::method("desc." + attr, base);
      const ir::Type *elem = base.elems[kTdBase].v->type()->element();
      if (attr == "dtype")
        return Val::dtype(elem);
      if (attr == "shape")
        return base.elems[kTdShape];
      if (attr == "strides")
        return base.elems[kTdStrides];
      if (attr == "block_shape")
        return base.elems[kTdBlock];
      if (attr == "block_type")
        return Val::dtype(types_.block(elem, asShape(base.elems[kTdBlock], loc, "block_shape")));
      fail(loc, "tensor_descriptor has no attribute '" + attr + "'");
    }
    break;
  default:
    break;
  }
  fail(loc, describe(base) + " has no attribute '" + attr + "'");
}

Val Lowerer::moduleAttr(const Val &mod, const std::string &attr, SourceLoc loc) {
  std::string path = mod.s;
  for (const char *alias : {"triton.language.core", "triton.language.math", "triton.language.standard",
                            "triton.language.semantic", "triton.language.random"})
    if (path == alias)
      path = "triton.language";
  if (path == "triton.language") {
    static const std::pair<const char *, DType> dtypes[] = {
        {"float16", DType::F16}, {"bfloat16", DType::BF16},     {"float32", DType::F32},
        {"float64", DType::F64}, {"int1", DType::I1},           {"int8", DType::I8},
        {"int16", DType::I16},   {"int32", DType::I32},         {"int64", DType::I64},
        {"uint8", DType::U8},    {"uint16", DType::U16},        {"uint32", DType::U32},
        {"uint64", DType::U64},  {"float8e4nv", DType::F8E4M3}, {"float8e5", DType::F8E5M2},
    };
    for (const auto &[n, d] : dtypes)
      if (attr == n)
        return Val::dtype(scalarType(d));
    if (attr == "core" || attr == "math" || attr == "standard" || attr == "extra" || attr == "semantic" ||
        attr == "random")
      return Val::module(path + "." + attr);
    if (attr == "tensor" || attr == "dtype" || attr == "tensor_descriptor")
      return Val::builtin(attr);
    if (attr == "PropagateNan")
      return Val::module("triton.language.PropagateNan");
    if (builtins_.count(attr))
      return Val::builtin(attr);
    fail(loc, "'tl." + attr + "' is not supported");
  }
  if (path == "triton.language.PropagateNan") { // Triton's enum values
    if (attr == "ALL")
      return Val::integer(0xFFFF);
    if (attr == "NONE")
      return Val::integer(0);
  }
  if (path == "triton") {
    if (attr == "language")
      return Val::module("triton.language");
    if (attr == "cdiv")
      return Val::builtin("cdiv");
    if (attr == "next_power_of_2")
      return Val::builtin("next_power_of_2");
    if (attr == "jit" || attr == "autotune" || attr == "heuristics" || attr == "Config")
      return Val::builtin(attr);
    fail(loc, "'triton." + attr + "' is not supported");
  }
  if (path == "math") {
    if (attr == "pi")
      return Val::floating(M_PI);
    if (attr == "e")
      return Val::floating(M_E);
    if (attr == "inf")
      return Val::floating(INFINITY);
    if (attr == "nan")
      return Val::floating(NAN);
    if (builtins_.count("py.math." + attr))
      return Val::builtin("py.math." + attr);
  }
  // tl.extra.libdevice and tl.extra.cuda.libdevice are one module (BuiltinsLibdevice.cpp).
  if (path == "triton.language.extra" && attr == "cuda")
    return Val::module(path + "." + attr);
  if (path == "triton.language.extra.cuda" &&
      (attr == "num_warps" || attr == "num_threads" || attr == "globaltimer" || attr == "smid"))
    return Val::builtin("cuda." + attr);
  if ((path == "triton.language.extra" || path == "triton.language.extra.cuda") && attr == "libdevice")
    return Val::module("triton.language.extra.libdevice");
  if (path == "triton.language.extra.libdevice" || path == "triton.language.extra.cuda.libdevice") {
    if (builtins_.count("libdevice." + attr))
      return Val::builtin("libdevice." + attr);
    fail(loc, "'libdevice." + attr + "' is not supported");
  }
  fail(loc, "'" + path + "." + attr + "' is not supported");
}

Val Lowerer::lowerSubscript(const Expr &e) {
  Val base = lowerExpr(*e.operands[0]);
  const Expr &index = *e.operands[1];
  b_.setLoc(e.loc);
  if (base.kind == Val::Kind::Tuple) {
    int64_t n = int64_t(base.elems.size());
    if (index.kind == ExprKind::Slice) {
      auto bound = [&](const ExprPtr &x, int64_t dflt) {
        if (!x)
          return dflt;
        int64_t v = constInt(lowerExpr(*x), x->loc, "tuple slice bound");
        if (v < 0)
          v += n;
        return std::clamp<int64_t>(v, 0, n);
      };
      if (index.operands[2])
        fail(index.loc, "tuple slices with a step are not supported");
      int64_t lo = bound(index.operands[0], 0), hi = bound(index.operands[1], n);
      std::vector<Val> out;
      for (int64_t i = lo; i < hi; ++i)
        out.push_back(base.elems[i]);
      return Val::tuple(std::move(out), base.isList);
    }
    int64_t i = constInt(lowerExpr(index), index.loc, "tuple index");
    if (i < 0)
      i += n;
    if (i < 0 || i >= n)
      fail(index.loc, "tuple index " + std::to_string(i) + " out of range (size " + std::to_string(n) + ")");
    return base.elems[i];
  }
  if (base.kind != Val::Kind::IR)
    fail(e.loc, describe(base) + " is not subscriptable");
  std::vector<const Expr *> items;
  if (index.kind == ExprKind::Tuple)
    for (const ExprPtr &o : index.operands)
      items.push_back(o.get());
  else
    items.push_back(&index);
  ir::Value *v = base.v;
  int64_t rank = v->type()->rank();
  int64_t pos = 0, used = 0;
  for (const Expr *it : items) {
    if (it->kind == ExprKind::NoneLit) {
      if (v->type()->rank() == 0)
        v = reshape(v, {1}, it->loc);
      else
        v = expandDims(v, pos, it->loc);
      ++pos;
      continue;
    }
    bool fullSlice = it->kind == ExprKind::Slice && !it->operands[0] && !it->operands[1] && !it->operands[2];
    if (!fullSlice)
      fail(it->loc, "only None and ':' are supported when indexing a tensor");
    if (used >= rank)
      fail(it->loc, "too many indices for a tensor of rank " + std::to_string(rank));
    ++used;
    ++pos;
  }
  return Val::ir(v);
}

Val Lowerer::lowerCall(const Expr &e) {
  const Expr &calleeExpr = *e.operands[0];
  Val callee = lowerExpr(calleeExpr);
  CallArgs args;
  for (size_t i = 1; i < e.operands.size(); ++i) {
    args.pos.push_back(lowerExpr(*e.operands[i]));
    args.posLocs.push_back(e.operands[i]->loc);
  }
  for (const Keyword &k : e.keywords) {
    args.kwNames.push_back(k.name);
    args.kwVals.push_back(lowerExpr(*k.value));
    args.kwLocs.push_back(k.loc);
  }
  b_.setLoc(e.loc);
  std::string text = calleeExpr.kind == ExprKind::Name || calleeExpr.kind == ExprKind::Attribute
                         ? calleeExpr.name
                         : "expression";
  return callValue(callee, args, e.loc, text);
}

Val Lowerer::lowerCompare(const Expr &e) {
  std::vector<Val> vals;
  for (const ExprPtr &o : e.operands)
    vals.push_back(lowerExpr(*o));
  b_.setLoc(e.loc);
  Val result;
  for (size_t k = 0; k < e.cmpOps.size(); ++k) {
    Val c = compare(e.cmpOps[k], vals[k], vals[k + 1], e.loc);
    if (k == 0) {
      result = c;
      continue;
    }
    if (isCompileTime(result) && !truthy(result))
      return result;
    result = isCompileTime(result) ? c : binary(BinOpKind::BitAnd, result, c, e.loc);
  }
  return result;
}

Val Lowerer::lowerBoolOp(const Expr &e) {
  bool isAnd = e.boolOp == BoolOpKind::And;
  const char *word = isAnd ? "and" : "or";
  Val cur = lowerExpr(*e.operands[0]);
  for (size_t k = 1; k < e.operands.size(); ++k) {
    if (isCompileTime(cur)) {
      if (isAnd != truthy(cur))
        return cur; // Python short-circuit: `False and x` / `True or x`
      cur = lowerExpr(*e.operands[k]);
      continue;
    }
    Val next = lowerExpr(*e.operands[k]);
    b_.setLoc(e.loc);
    if (isCompileTime(next) && next.isNumber()) {
      // `x and True` == x; `x and False` == False (x has no side effects).
      if (isAnd == truthy(next))
        continue;
      cur = next;
      continue;
    }
    for (const Val *v : {&cur, &next})
      if (v->isIR() && v->v->type()->isBlock())
        fail(e.loc, std::string("'") + word + "' on tensors is not supported; use '" + (isAnd ? "&" : "|") +
                        "' instead");
    ir::Value *l = toI1(toIR(cur, e.loc, std::string("operand of '") + word + "'"));
    ir::Value *r = toI1(toIR(next, e.operands[k]->loc, std::string("operand of '") + word + "'"));
    cur = Val::ir(b_.binary(isAnd ? OpKind::And : OpKind::Or, l, r));
  }
  return cur;
}

Val Lowerer::lowerUnary(const Expr &e) {
  Val x = lowerExpr(*e.operands[0]);
  b_.setLoc(e.loc);
  switch (e.unaryOp) {
  case UnaryOpKind::Not:
    if (isCompileTime(x))
      return Val::boolean(!truthy(x));
    if (!x.isIR() || x.v->type()->isPointerLike())
      fail(e.loc, "'not' is not supported on " + describe(x));
    return Val::ir(b_.unary(OpKind::Not, toI1(x.v)));
  case UnaryOpKind::Pos:
    if (x.isNumber() || x.isIR())
      return x.kind == Val::Kind::Bool ? Val::integer(x.b) : x;
    break;
  case UnaryOpKind::Neg:
    if (x.kind == Val::Kind::Float)
      return Val::floating(-x.f);
    if (x.isNumber())
      return foldBinary(BinOpKind::Sub, Val::integer(0), x, e.loc);
    if (x.isIR() && !x.v->type()->isPointerLike()) {
      ir::Value *v = x.v;
      if (v->type()->dtype() == DType::I1)
        v = castTo(v, DType::I32);
      return Val::ir(b_.unary(OpKind::Neg, v));
    }
    break;
  case UnaryOpKind::Invert:
    if (x.kind == Val::Kind::Int || x.kind == Val::Kind::Bool)
      return Val::integer(~x.asInt());
    if (x.isIR() && x.v->type()->isIntLike())
      return Val::ir(b_.unary(OpKind::Not, x.v));
    if (x.isIR() || x.isNumber())
      fail(e.loc, "'~' is only supported on integers, got " + describe(x));
    break;
  }
  fail(e.loc, "bad operand type for unary operator: " + describe(x));
}

// ---- Compile-time arithmetic ------------------------------------------------------------------------

Val Lowerer::foldBinary(BinOpKind op, const Val &a, const Val &b, SourceLoc loc) {
  std::string sym = ast::spelling(op);
  // Sequences.
  if (a.kind == Val::Kind::Tuple && b.kind == Val::Kind::Tuple && op == BinOpKind::Add) {
    Val r = a;
    r.elems.insert(r.elems.end(), b.elems.begin(), b.elems.end());
    return r;
  }
  if (a.kind == Val::Kind::Str && b.kind == Val::Kind::Str && op == BinOpKind::Add)
    return Val::str(a.s + b.s);
  if (a.kind == Val::Kind::Tuple && b.kind == Val::Kind::Int && op == BinOpKind::Mul) {
    Val r = Val::tuple({}, a.isList);
    for (int64_t k = 0; k < b.i && r.elems.size() < 4096; ++k)
      r.elems.insert(r.elems.end(), a.elems.begin(), a.elems.end());
    return r;
  }
  if (!a.isNumber() || !b.isNumber())
    fail(loc, "unsupported operand types for " + sym + ": " + describe(a) + " and " + describe(b));
  bool ints = a.isIntLike() && b.isIntLike();
  auto overflow = [&]() -> Val { fail(loc, "integer overflow in compile-time expression (" + sym + ")"); };
  if (ints) {
    int64_t x = a.asInt(), y = b.asInt(), r = 0;
    bool bothBool = a.kind == Val::Kind::Bool && b.kind == Val::Kind::Bool;
    switch (op) {
    case BinOpKind::Add:
      return __builtin_add_overflow(x, y, &r) ? overflow() : Val::integer(r);
    case BinOpKind::Sub:
      return __builtin_sub_overflow(x, y, &r) ? overflow() : Val::integer(r);
    case BinOpKind::Mul:
      return __builtin_mul_overflow(x, y, &r) ? overflow() : Val::integer(r);
    case BinOpKind::Div:
      if (y == 0)
        fail(loc, "division by zero in compile-time expression");
      return Val::floating(double(x) / double(y));
    case BinOpKind::FloorDiv:
    case BinOpKind::Mod: {
      if (y == 0)
        fail(loc, "division by zero in compile-time expression");
      if (x == INT64_MIN && y == -1)
        return op == BinOpKind::Mod ? Val::integer(0) : overflow();
      int64_t q = x / y, m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) {
        q -= 1;
        m += y;
      }
      return Val::integer(op == BinOpKind::FloorDiv ? q : m);
    }
    case BinOpKind::Pow: {
      if (y < 0)
        return Val::floating(std::pow(double(x), double(y)));
      int64_t acc = 1;
      for (int64_t k = 0; k < y; ++k) {
        if (__builtin_mul_overflow(acc, x, &acc))
          return overflow();
        if (acc == 0 || acc == 1)
          break;
      }
      return Val::integer(acc);
    }
    case BinOpKind::LShift:
      if (y < 0)
        fail(loc, "negative shift count");
      if (y >= 63 || (x != 0 && (x > (INT64_MAX >> y) || x < (INT64_MIN >> y))))
        return overflow();
      return Val::integer(x << y);
    case BinOpKind::RShift:
      if (y < 0)
        fail(loc, "negative shift count");
      return Val::integer(y >= 63 ? (x < 0 ? -1 : 0) : x >> y);
    case BinOpKind::BitAnd:
      return bothBool ? Val::boolean(x & y) : Val::integer(x & y);
    case BinOpKind::BitOr:
      return bothBool ? Val::boolean(x | y) : Val::integer(x | y);
    case BinOpKind::BitXor:
      return bothBool ? Val::boolean(x ^ y) : Val::integer(x ^ y);
    case BinOpKind::MatMul:
      break;
    }
    fail(loc, "unsupported operand types for " + sym + ": " + describe(a) + " and " + describe(b));
  }
  double x = a.asDouble(), y = b.asDouble();
  switch (op) {
  case BinOpKind::Add:
    return Val::floating(x + y);
  case BinOpKind::Sub:
    return Val::floating(x - y);
  case BinOpKind::Mul:
    return Val::floating(x * y);
  case BinOpKind::Div:
    if (y == 0)
      fail(loc, "division by zero in compile-time expression");
    return Val::floating(x / y);
  case BinOpKind::FloorDiv:
    if (y == 0)
      fail(loc, "division by zero in compile-time expression");
    return Val::floating(std::floor(x / y));
  case BinOpKind::Mod: {
    if (y == 0)
      fail(loc, "division by zero in compile-time expression");
    double m = std::fmod(x, y);
    if (m != 0 && ((m < 0) != (y < 0)))
      m += y;
    return Val::floating(m);
  }
  case BinOpKind::Pow:
    return Val::floating(std::pow(x, y));
  default:
    fail(loc, "unsupported operand types for " + sym + ": " + describe(a) + " and " + describe(b));
  }
}

std::optional<bool> Lowerer::foldCompare(CmpOpKind op, const Val &a, const Val &b, SourceLoc loc) {
  if (op == CmpOpKind::Is || op == CmpOpKind::IsNot) {
    bool same;
    if (a.isNone() || b.isNone())
      same = a.isNone() && b.isNone();
    else if (!isCompileTime(a) || !isCompileTime(b))
      same = a.isIR() && b.isIR() && a.v == b.v;
    else
      same = sameVal(a, b);
    return op == CmpOpKind::Is ? same : !same;
  }
  if (!isCompileTime(a) || !isCompileTime(b))
    return std::nullopt;
  auto equal = [&](const Val &x, const Val &y) -> bool {
    if (x.isNumber() && y.isNumber())
      return x.isIntLike() && y.isIntLike() ? x.asInt() == y.asInt() : x.asDouble() == y.asDouble();
    if (x.kind == Val::Kind::DType && y.kind == Val::Kind::Str)
      return ir::parseDType(y.s) && x.type == scalarType(*ir::parseDType(y.s));
    if (x.kind == Val::Kind::Str && y.kind == Val::Kind::DType)
      return ir::parseDType(x.s) && y.type == scalarType(*ir::parseDType(x.s));
    return sameVal(x, y);
  };
  switch (op) {
  case CmpOpKind::Eq:
    return equal(a, b);
  case CmpOpKind::NotEq:
    return !equal(a, b);
  case CmpOpKind::In:
  case CmpOpKind::NotIn: {
    bool found = false;
    if (b.kind == Val::Kind::Tuple) {
      for (const Val &x : b.elems)
        found |= equal(a, x);
    } else if (b.kind == Val::Kind::Str && a.kind == Val::Kind::Str) {
      found = b.s.find(a.s) != std::string::npos;
    } else {
      fail(loc, "'in' needs a tuple or string on the right, got " + describe(b));
    }
    return op == CmpOpKind::In ? found : !found;
  }
  default:
    break;
  }
  int c = 0;
  if (a.isNumber() && b.isNumber()) {
    if (a.isIntLike() && b.isIntLike())
      c = a.asInt() < b.asInt() ? -1 : a.asInt() > b.asInt() ? 1 : 0;
    else {
      double x = a.asDouble(), y = b.asDouble();
      if (std::isnan(x) || std::isnan(y))
        return false;
      c = x < y ? -1 : x > y ? 1 : 0;
    }
  } else if (a.kind == Val::Kind::Str && b.kind == Val::Kind::Str) {
    c = a.s.compare(b.s);
  } else {
    fail(loc, "cannot order " + describe(a) + " and " + describe(b));
  }
  switch (op) {
  case CmpOpKind::Lt:
    return c < 0;
  case CmpOpKind::LtE:
    return c <= 0;
  case CmpOpKind::Gt:
    return c > 0;
  case CmpOpKind::GtE:
    return c >= 0;
  default:
    return false;
  }
}

} // namespace mt::lower
