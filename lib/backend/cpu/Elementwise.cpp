// Elementwise ops: constants, binary and unary arithmetic, cmp, select, fma, casts, addptr.
//
// Floats compute in Num<T>::C (float for f16/bf16/f32, double for f64) and round back to the dtype after
// every op. Integers compute in 64 bits and wrap to the dtype; signed i32/i64 add/sub/mul overflow and
// division by zero are errors.
#include "backend/cpu/Exec.h"
#include "ir/MathFns.h"

#include <cmath>

namespace mt::cpu {

using ir::OpKind;

namespace {

void checkSame(const ir::Operation &op, const Tile &a, const Tile &b) {
  if (!a.sameLayout(b))
    fail("operands of '" + std::string(op.name()) + "' differ in type or shape: " + a.shapeStr() + " vs " +
         b.shapeStr());
}

template <class T, class F> Tile mapBinary(const Tile &a, const Tile &b, F f) {
  Tile r(a.dtype(), false, a.shape());
  const T *x = a.data<T>(), *y = b.data<T>();
  T *o = r.data<T>();
  size_t n = a.numel();
  for (size_t i = 0; i < n; ++i)
    o[i] = Num<T>::make(f(Num<T>::get(x[i]), Num<T>::get(y[i])));
  return r;
}

template <class T, class F> Tile mapUnary(const Tile &a, F f) {
  Tile r(a.dtype(), false, a.shape());
  const T *x = a.data<T>();
  T *o = r.data<T>();
  size_t n = a.numel();
  for (size_t i = 0; i < n; ++i)
    o[i] = Num<T>::make(f(Num<T>::get(x[i])));
  return r;
}

/// Signed add/sub/mul with overflow detection (i32 and i64).
template <class T, class F>
Tile checkedBinary(const ir::Operation &op, const Tile &a, const Tile &b, F f, const char *sym,
                   Executor &ex) {
  Tile r(a.dtype(), false, a.shape());
  const T *x = a.data<T>(), *y = b.data<T>();
  T *o = r.data<T>();
  size_t n = a.numel();
  for (size_t i = 0; i < n; ++i)
    if (f(x[i], y[i], &o[i]))
      fail("integer overflow in " + std::string(ir::dtypeName(a.dtype())) + " " + std::string(op.name()) +
           " (" + std::to_string(x[i]) + " " + sym + " " + std::to_string(y[i]) + ") " +
           ex.where(int64_t(i)));
  return r;
}

template <class T> Tile intBinary(const ir::Operation &op, const Tile &a, const Tile &b, Executor &ex) {
  using C = typename Num<T>::C;
  constexpr bool checked = std::is_same_v<T, int32_t> || std::is_same_v<T, int64_t>;
  constexpr unsigned bits = std::is_same_v<T, Bool> ? 1 : sizeof(T) * 8;
  switch (op.kind()) {
  case OpKind::Add:
    if constexpr (checked)
      return checkedBinary<T>(
          op, a, b, [](T x, T y, T *r) { return __builtin_add_overflow(x, y, r); }, "+", ex);
    return mapBinary<T>(a, b, [](C x, C y) { return C(uint64_t(x) + uint64_t(y)); });
  case OpKind::Sub:
    if constexpr (checked)
      return checkedBinary<T>(
          op, a, b, [](T x, T y, T *r) { return __builtin_sub_overflow(x, y, r); }, "-", ex);
    return mapBinary<T>(a, b, [](C x, C y) { return C(uint64_t(x) - uint64_t(y)); });
  case OpKind::Mul:
    if constexpr (checked)
      return checkedBinary<T>(
          op, a, b, [](T x, T y, T *r) { return __builtin_mul_overflow(x, y, r); }, "*", ex);
    return mapBinary<T>(a, b, [](C x, C y) { return C(uint64_t(x) * uint64_t(y)); });
  case OpKind::Div:
  case OpKind::Rem: {
    bool isDiv = op.kind() == OpKind::Div;
    Tile r(a.dtype(), false, a.shape());
    const T *x = a.data<T>(), *y = b.data<T>();
    T *o = r.data<T>();
    for (size_t i = 0; i < a.numel(); ++i) {
      C xv = Num<T>::get(x[i]), yv = Num<T>::get(y[i]);
      if (yv == 0)
        fail("integer " + std::string(isDiv ? "division" : "remainder") + " by zero in " +
             std::string(ir::dtypeName(a.dtype())) + " " + std::string(op.name()) + " " +
             ex.where(int64_t(i)));
      if constexpr (std::is_signed_v<C> && !std::is_same_v<T, Bool>) {
        if (yv == -1 && xv == C(std::numeric_limits<T>::min())) {
          if constexpr (checked)
            fail("integer overflow in " + std::string(ir::dtypeName(a.dtype())) + " " +
                 std::string(op.name()) + " (" + std::to_string(xv) + " / -1) " + ex.where(int64_t(i)));
          o[i] = Num<T>::make(isDiv ? xv : 0);
          continue;
        }
      }
      o[i] = Num<T>::make(isDiv ? xv / yv : xv % yv);
    }
    return r;
  }
  case OpKind::UMulHi: // the high half of the unsigned double-width product (32 and 64 bits)
    if constexpr (bits == 32)
      return mapBinary<T>(a, b, [](C x, C y) { return C((uint64_t(uint32_t(x)) * uint32_t(y)) >> 32); });
    if constexpr (bits == 64)
      return mapBinary<T>(
          a, b, [](C x, C y) { return C(uint64_t((unsigned __int128)uint64_t(x) * uint64_t(y) >> 64)); });
    break;
  case OpKind::And:
    return mapBinary<T>(a, b, [](C x, C y) { return C(x & y); });
  case OpKind::Or:
    return mapBinary<T>(a, b, [](C x, C y) { return C(x | y); });
  case OpKind::Xor:
    return mapBinary<T>(a, b, [](C x, C y) { return C(x ^ y); });
  case OpKind::Shl:
    return mapBinary<T>(a, b, [](C x, C y) { return uint64_t(y) >= bits ? C(0) : C(uint64_t(x) << y); });
  case OpKind::Shr:
    return mapBinary<T>(a, b, [](C x, C y) {
      if (uint64_t(y) >= bits)
        return x < 0 ? C(-1) : C(0);
      return C(x >> y);
    });
  case OpKind::Max:
    return mapBinary<T>(a, b, [](C x, C y) { return x < y ? y : x; });
  case OpKind::Min:
    return mapBinary<T>(a, b, [](C x, C y) { return y < x ? y : x; });
  default:
    break;
  }
  fail("'" + std::string(op.name()) + "' is not defined on " + std::string(ir::dtypeName(a.dtype())));
}

template <class T> Tile floatBinary(const ir::Operation &op, const Tile &a, const Tile &b) {
  using C = typename Num<T>::C;
  switch (op.kind()) {
  case OpKind::Add:
    return mapBinary<T>(a, b, [](C x, C y) { return x + y; });
  case OpKind::Sub:
    return mapBinary<T>(a, b, [](C x, C y) { return x - y; });
  case OpKind::Mul:
    return mapBinary<T>(a, b, [](C x, C y) { return x * y; });
  case OpKind::Div:
    return mapBinary<T>(a, b, [](C x, C y) { return x / y; });
  case OpKind::Rem:
    return mapBinary<T>(a, b, [](C x, C y) { return std::fmod(x, y); });
  case OpKind::Max:
    return mapBinary<T>(a, b, [](C x, C y) { return std::fmax(x, y); });
  case OpKind::Min:
    return mapBinary<T>(a, b, [](C x, C y) { return std::fmin(x, y); });
  default:
    break;
  }
  fail("'" + std::string(op.name()) + "' is not defined on " + std::string(ir::dtypeName(a.dtype())));
}

template <class T> Tile floatUnary(const ir::Operation &op, const Tile &a) {
  using C = typename Num<T>::C;
  switch (op.kind()) {
  case OpKind::Neg:
    return mapUnary<T>(a, [](C x) { return -x; });
  case OpKind::Exp:
    return mapUnary<T>(a, [](C x) { return std::exp(x); });
  case OpKind::Exp2:
    return mapUnary<T>(a, [](C x) { return std::exp2(x); });
  case OpKind::Log:
    return mapUnary<T>(a, [](C x) { return std::log(x); });
  case OpKind::Log2:
    return mapUnary<T>(a, [](C x) { return std::log2(x); });
  case OpKind::Sqrt:
    return mapUnary<T>(a, [](C x) { return std::sqrt(x); });
  case OpKind::Rsqrt:
    return mapUnary<T>(a, [](C x) { return C(1) / std::sqrt(x); });
  case OpKind::Abs:
    return mapUnary<T>(a, [](C x) { return std::fabs(x); });
  case OpKind::Sin:
    return mapUnary<T>(a, [](C x) { return std::sin(x); });
  case OpKind::Cos:
    return mapUnary<T>(a, [](C x) { return std::cos(x); });
  case OpKind::Tanh:
    return mapUnary<T>(a, [](C x) { return std::tanh(x); });
  case OpKind::Erf:
    return mapUnary<T>(a, [](C x) { return std::erf(x); });
  case OpKind::Floor:
    return mapUnary<T>(a, [](C x) { return std::floor(x); });
  case OpKind::Ceil:
    return mapUnary<T>(a, [](C x) { return std::ceil(x); });
  default:
    break;
  }
  fail("'" + std::string(op.name()) + "' is not defined on " + std::string(ir::dtypeName(a.dtype())));
}

template <class T> Tile intUnary(const ir::Operation &op, const Tile &a) {
  using C = typename Num<T>::C;
  switch (op.kind()) {
  case OpKind::Neg:
    return mapUnary<T>(a, [](C x) { return C(0 - uint64_t(x)); });
  case OpKind::Not:
    return mapUnary<T>(a, [](C x) { return C(~x); });
  case OpKind::Abs:
    return mapUnary<T>(a, [](C x) { return x < 0 ? C(0 - uint64_t(x)) : x; });
  case OpKind::Floor:
  case OpKind::Ceil:
    return a;
  default:
    break;
  }
  fail("'" + std::string(op.name()) + "' is not defined on " + std::string(ir::dtypeName(a.dtype())));
}

enum class Pred { Eq, Ne, Lt, Le, Gt, Ge };

Pred parsePred(const ir::Operation &op) {
  std::string p = op.stringAttr("pred");
  if (p == "eq")
    return Pred::Eq;
  if (p == "ne")
    return Pred::Ne;
  if (p == "lt")
    return Pred::Lt;
  if (p == "le")
    return Pred::Le;
  if (p == "gt")
    return Pred::Gt;
  if (p == "ge")
    return Pred::Ge;
  fail("cmp has an unknown predicate '" + p + "'");
}

template <class C> bool compare(Pred p, C x, C y) {
  switch (p) {
  case Pred::Eq:
    return x == y;
  case Pred::Ne:
    return x != y;
  case Pred::Lt:
    return x < y;
  case Pred::Le:
    return x <= y;
  case Pred::Gt:
    return x > y;
  case Pred::Ge:
    return x >= y;
  }
  return false;
}

template <class T, class P> void cmpLoop(const T *x, const T *y, Bool *o, size_t n, P pred) {
  for (size_t i = 0; i < n; ++i)
    o[i].v = pred(Num<T>::get(x[i]), Num<T>::get(y[i]));
}

template <class T> void cmpTyped(Pred p, const Tile &a, const Tile &b, Tile &r) {
  using C = typename Num<T>::C;
  const T *x = a.data<T>(), *y = b.data<T>();
  Bool *o = r.data<Bool>();
  size_t n = a.numel();
  switch (p) {
  case Pred::Eq:
    return cmpLoop(x, y, o, n, [](C u, C v) { return u == v; });
  case Pred::Ne:
    return cmpLoop(x, y, o, n, [](C u, C v) { return u != v; });
  case Pred::Lt:
    return cmpLoop(x, y, o, n, [](C u, C v) { return u < v; });
  case Pred::Le:
    return cmpLoop(x, y, o, n, [](C u, C v) { return u <= v; });
  case Pred::Gt:
    return cmpLoop(x, y, o, n, [](C u, C v) { return u > v; });
  case Pred::Ge:
    return cmpLoop(x, y, o, n, [](C u, C v) { return u >= v; });
  }
}

/// Copies elements of size S: o[i] = c[i] ? a[i] : b[i] (c broadcast if scalar).
template <class E> void selectLoop(const Bool *c, bool scalarCond, const E *a, const E *b, E *o, size_t n) {
  for (size_t i = 0; i < n; ++i)
    o[i] = c[scalarCond ? 0 : i].v ? a[i] : b[i];
}

} // namespace

Tile evalConstant(const ir::Operation &op) {
  const ir::Type *t = op.result()->type();
  if (t->isPointerLike())
    fail("pointer constants are not supported");
  Tile r = Tile::ofType(t);
  const ir::AttrValue *v = op.attr("value");
  if (!v)
    fail("constant without a value");
  if (auto *i = std::get_if<int64_t>(v))
    r.fillInt(*i);
  else if (auto *d = std::get_if<double>(v))
    r.fillDouble(*d);
  else
    fail("constant value must be an int or a float");
  return r;
}

Tile evalBinary(const ir::Operation &op, const Tile &a, const Tile &b, Executor &ex) {
  checkSame(op, a, b);
  if (a.isPtr())
    fail("'" + std::string(op.name()) + "' is not defined on pointers");
  MT_DISPATCH_DTYPE(a.dtype(), T, {
    if constexpr (IsFloatElem<T>)
      return floatBinary<T>(op, a, b);
    else
      return intBinary<T>(op, a, b, ex);
  });
  fail("bad dtype");
}

Tile evalUnary(const ir::Operation &op, const Tile &a) {
  if (a.isPtr())
    fail("'" + std::string(op.name()) + "' is not defined on pointers");
  MT_DISPATCH_DTYPE(a.dtype(), T, {
    if constexpr (IsFloatElem<T>)
      return floatUnary<T>(op, a);
    else
      return intUnary<T>(op, a);
  });
  fail("bad dtype");
}

Tile evalCmp(const ir::Operation &op, const Tile &a, const Tile &b) {
  checkSame(op, a, b);
  Pred p = parsePred(op);
  Tile r(DType::I1, false, a.shape());
  if (a.isPtr()) {
    const Ptr *x = a.data<Ptr>(), *y = b.data<Ptr>();
    for (size_t i = 0; i < a.numel(); ++i) {
      bool v = (p == Pred::Ne) ? (x[i].buffer != y[i].buffer || x[i].offset != y[i].offset)
                               : (x[i].buffer == y[i].buffer && compare(p, x[i].offset, y[i].offset));
      r.data<Bool>()[i].v = v;
    }
    return r;
  }
  MT_DISPATCH_DTYPE(a.dtype(), T, cmpTyped<T>(p, a, b, r));
  return r;
}

Tile evalSelect(const Tile &c, const Tile &a, const Tile &b) {
  if (!a.sameLayout(b))
    fail("select operands differ in type or shape");
  bool scalarCond = c.numel() == 1 && a.numel() != 1;
  if (c.dtype() != DType::I1 || c.isPtr() || (!scalarCond && c.shape() != a.shape()))
    fail("select condition must be i1 of the operands' shape");
  Tile r(a.dtype(), a.isPtr(), a.shape());
  const Bool *cd = c.data<Bool>();
  size_t n = a.numel();
  switch (a.elemSize()) {
  case 1:
    selectLoop(cd, scalarCond, a.data<uint8_t>(), b.data<uint8_t>(), r.data<uint8_t>(), n);
    break;
  case 2:
    selectLoop(cd, scalarCond, a.data<uint16_t>(), b.data<uint16_t>(), r.data<uint16_t>(), n);
    break;
  case 4:
    selectLoop(cd, scalarCond, a.data<uint32_t>(), b.data<uint32_t>(), r.data<uint32_t>(), n);
    break;
  case 8:
    selectLoop(cd, scalarCond, a.data<uint64_t>(), b.data<uint64_t>(), r.data<uint64_t>(), n);
    break;
  default:
    selectLoop(cd, scalarCond, a.data<Ptr>(), b.data<Ptr>(), r.data<Ptr>(), n);
    break;
  }
  return r;
}

Tile evalFma(const Tile &a, const Tile &b, const Tile &c) {
  if (!a.sameLayout(b) || !a.sameLayout(c) || a.isPtr())
    fail("fma operands differ in type or shape");
  Tile r(a.dtype(), false, a.shape());
  MT_DISPATCH_DTYPE(a.dtype(), T, {
    const T *x = a.data<T>(), *y = b.data<T>(), *z = c.data<T>();
    T *o = r.data<T>();
    using C = typename Num<T>::C;
    for (size_t i = 0; i < a.numel(); ++i) {
      C xv = Num<T>::get(x[i]), yv = Num<T>::get(y[i]), zv = Num<T>::get(z[i]);
      if constexpr (std::is_floating_point_v<C>)
        o[i] = Num<T>::make(std::fma(xv, yv, zv));
      else
        o[i] = Num<T>::make(C(uint64_t(xv) * uint64_t(yv) + uint64_t(zv)));
    }
  });
  return r;
}

Tile evalMathFn(const ir::Operation &op, Operands ins) {
  std::string name = op.stringAttr("fn");
  const ir::MathFn *fn = ir::findMathFn(name);
  if (!fn || int(ins.size()) != fn->arity)
    fail("mathfn: unknown function '" + name + "' or wrong operand count");
  const Tile &a = *ins[0];
  const Tile &b = fn->arity > 1 ? *ins[1] : a;
  checkSame(op, a, b);
  if (a.isPtr())
    fail("'" + name + "' is not defined on pointers");
  bool i32Out = fn->result == ir::MathFn::Result::I32;
  Tile r(i32Out ? DType::I32 : a.dtype(), false, a.shape());
  size_t n = a.numel();
  MT_DISPATCH_DTYPE(a.dtype(), T, {
    const T *x = a.data<T>(), *y = b.data<T>();
    if constexpr (IsFloatElem<T>) {
      using C = typename Num<T>::C;
      if (fn->domain == ir::MathFn::Domain::Int)
        fail("'" + name + "' is not defined on " + std::string(ir::dtypeName(a.dtype())));
      constexpr bool single = std::is_same_v<C, float>;
      ir::MathFnEval eval = ir::mathFnEval(*fn);
      for (size_t i = 0; i < n; ++i) {
        double v = eval(double(Num<T>::get(x[i])), double(Num<T>::get(y[i])), single);
        if (i32Out)
          r.data<int32_t>()[i] = int32_t(v);
        else
          r.data<T>()[i] = Num<T>::make(C(v));
      }
      return r;
    } else {
      constexpr unsigned bits = std::is_same_v<T, Bool> ? 1 : sizeof(T) * 8;
      if (fn->domain != ir::MathFn::Domain::Int || (bits != 32 && bits != 64))
        fail("'" + name + "' is not defined on " + std::string(ir::dtypeName(a.dtype())));
      constexpr bool isSigned = std::is_signed_v<T>;
      for (size_t i = 0; i < n; ++i) {
        uint64_t v =
            ir::evalIntMathFn(*fn, uint64_t(Num<T>::get(x[i])), uint64_t(Num<T>::get(y[i])), bits, isSigned);
        if (i32Out)
          r.data<int32_t>()[i] = int32_t(v);
        else
          r.data<T>()[i] = T(v);
      }
      return r;
    }
  });
  fail("bad dtype");
}

/// The address a pointer stands for.
static int64_t addressOf(const LaunchState &L, const Ptr &p) {
  if (p.buffer >= 0 && size_t(p.buffer) < L.buffers.size())
    return int64_t(reinterpret_cast<uintptr_t>(L.buffers[size_t(p.buffer)].data)) + p.offset;
  return p.offset;
}

/// The pointer for an address: into the buffer argument holding it (one past its end included), else raw.
static Ptr pointerTo(const LaunchState &L, uint64_t addr) {
  for (size_t i = 0; i < L.buffers.size(); ++i) {
    const BufferArg &b = L.buffers[i];
    uint64_t lo = reinterpret_cast<uintptr_t>(b.data);
    if (!b.isNull && addr >= lo && addr - lo <= b.bytes)
      return Ptr{int64_t(addr - lo), int64_t(i)};
  }
  return Ptr{int64_t(addr), kRawAddress};
}

Tile evalCast(const ir::Operation &op, const Tile &a, Executor &ex) {
  const ir::Type *rt = op.result()->type();
  Tile r = Tile::ofType(rt);
  if (r.numel() != a.numel())
    fail("cast changes the shape");
  const LaunchState &L = ex.launch();
  if (a.isPtr() && rt->isPointerLike()) {
    std::memcpy(r.raw(), a.raw(), a.numel() * sizeof(Ptr));
    return r;
  }
  if (rt->isPointerLike()) {
    if (ir::isFloat(a.dtype()) || ir::bitWidth(a.dtype()) != 64)
      fail("only 64-bit integers (addresses) can be cast to a pointer");
    const uint64_t *x = a.data<uint64_t>();
    for (size_t i = 0; i < a.numel(); ++i)
      r.data<Ptr>()[i] = pointerTo(L, x[i]);
    return r;
  }
  if (a.isPtr()) {
    if (ir::isFloat(r.dtype()) || ir::bitWidth(r.dtype()) != 64)
      fail("a pointer can only be cast to a 64-bit integer");
    for (size_t i = 0; i < a.numel(); ++i)
      r.data<int64_t>()[i] = addressOf(L, a.data<Ptr>()[i]);
    return r;
  }
  size_t n = a.numel();
  MT_DISPATCH_DTYPE(a.dtype(), From, {
    const From *x = a.data<From>();
    MT_DISPATCH_DTYPE(r.dtype(), To, {
      To *o = r.data<To>();
      for (size_t i = 0; i < n; ++i)
        o[i] = convertElem<To>(x[i]);
    });
  });
  return r;
}

Tile evalBitcast(const ir::Operation &op, const Tile &a) {
  Tile r = Tile::ofType(op.result()->type());
  if (r.numel() != a.numel() || r.elemSize() != a.elemSize() || r.isPtr() != a.isPtr())
    fail("bitcast between types of different widths");
  std::memcpy(r.raw(), a.raw(), a.numel() * a.elemSize());
  return r;
}

Tile evalAddPtr(const ir::Operation &op, const Tile &p, const Tile &off, Executor &ex) {
  if (!p.isPtr() || off.isPtr() || ir::isFloat(off.dtype()))
    fail("addptr takes a pointer and an integer offset");
  bool scalarOff = off.numel() == 1 && p.numel() != 1;
  if (!scalarOff && off.shape() != p.shape())
    fail("addptr operands differ in shape");
  Tile r = Tile::ofType(op.result()->type());
  if (!r.isPtr() || r.numel() != p.numel())
    fail("addptr result must be a pointer of the operand's shape");
  int64_t size = int64_t(byteWidth(p.dtype()));
  const Ptr *x = p.data<Ptr>();
  Ptr *o = r.data<Ptr>();
  size_t n = p.numel();
  MT_DISPATCH_DTYPE(off.dtype(), T, {
    if constexpr (!IsFloatElem<T>) {
      const T *d = off.data<T>();
      for (size_t i = 0; i < n; ++i) {
        int64_t k = int64_t(Num<T>::get(d[scalarOff ? 0 : i]));
        int64_t bytes, res;
        if (__builtin_mul_overflow(k, size, &bytes) || __builtin_add_overflow(x[i].offset, bytes, &res))
          fail("pointer arithmetic overflows " + ex.where(int64_t(i)));
        o[i] = Ptr{res, x[i].buffer};
      }
    }
  });
  return r;
}

bool isFastCombine(OpKind k) {
  return k == OpKind::Add || k == OpKind::Max || k == OpKind::Min || k == OpKind::Mul;
}

} // namespace mt::cpu
