#include "transforms/Canonicalize.h"

#include "support/Diagnostics.h"

#include <cmath>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

namespace mt::transforms {
namespace {

using namespace ir;

constexpr int kMaxIterations = 16;

// ---- Constant values --------------------------------------------------------------------------------

/// A constant operand's value. Ints are normalised to their dtype: sign-extended if signed,
/// zero-extended if unsigned or i1 (u64 keeps its bit pattern). Floats are held exactly in a double.
struct Const {
  int64_t i = 0;
  double f = 0;
};

int64_t wrapInt(int64_t v, DType d) {
  unsigned bits = bitWidth(d);
  if (bits >= 64)
    return v;
  uint64_t mask = (uint64_t(1) << bits) - 1;
  uint64_t u = uint64_t(v) & mask;
  if (isSigned(d) && d != DType::I1 && ((u >> (bits - 1)) & 1))
    u |= ~mask;
  return int64_t(u);
}

/// i1 behaves as an unsigned 0/1.
bool isUnsignedLike(DType d) { return !isSigned(d) || d == DType::I1; }

int64_t signedMin(unsigned bits) { return bits >= 64 ? INT64_MIN : -(int64_t(1) << (bits - 1)); }

/// Rounds `x` to the nearest value of dtype `d` (ties to even; overflow gives inf).
double roundTo(double x, DType d) {
  if (d == DType::F64)
    return x;
  if (d == DType::F32)
    return double(float(x));
  if (isFp8(d))
    return roundToFp8(x, d);
  if (!std::isfinite(x) || x == 0)
    return x;
  // f16: 11 bits of precision, exponents -14..15; bf16: 8 bits, -126..127.
  int precision = d == DType::F16 ? 11 : 8;
  int minExp = d == DType::F16 ? -14 : -126;
  int maxExp = d == DType::F16 ? 15 : 127;
  int e = 0;
  std::frexp(x, &e);                                       // |x| in [2^(e-1), 2^e)
  int q = std::max(e - precision, minExp - precision + 1); // exponent of one ulp (subnormals too)
  double r = std::ldexp(std::nearbyint(std::ldexp(x, -q)), q);
  double maxFinite = std::ldexp(2.0 - std::ldexp(1.0, 1 - precision), maxExp);
  if (std::fabs(r) > maxFinite)
    return std::copysign(INFINITY, x);
  return r;
}

/// The value of `v` if it is a (scalar or splat) constant of a non-pointer type.
std::optional<Const> constOf(Value *v) {
  Operation *def = v->definingOp();
  if (!def || def->kind() != OpKind::Constant || v->type()->isPointerLike())
    return std::nullopt;
  Const c;
  DType d = v->type()->dtype();
  if (isFloat(d))
    c.f = def->floatAttr("value");
  else
    c.i = wrapInt(def->intAttr("value"), d);
  return c;
}

bool isIntConst(Value *v, int64_t want) {
  auto c = constOf(v);
  return c && v->type()->isIntLike() && c->i == want;
}

/// Bitwise: +0.0 and -0.0 differ.
bool isFloatConst(Value *v, double want) {
  auto c = constOf(v);
  return c && v->type()->isFloatLike() && c->f == want && std::signbit(c->f) == std::signbit(want);
}

bool isZero(Value *v) { return isIntConst(v, 0) || isFloatConst(v, 0.0); }
bool isOne(Value *v) { return isIntConst(v, 1) || isFloatConst(v, 1.0); }

// ---- Folding arithmetic -----------------------------------------------------------------------------

template <typename T> bool compare(const std::string &pred, T a, T b, bool &out) {
  if (pred == "eq")
    out = a == b;
  else if (pred == "ne")
    out = a != b;
  else if (pred == "lt")
    out = a < b;
  else if (pred == "le")
    out = a <= b;
  else if (pred == "gt")
    out = a > b;
  else if (pred == "ge")
    out = a >= b;
  else
    return false;
  return true;
}

std::optional<int64_t> foldIntBinary(OpKind k, int64_t a, int64_t b, DType d) {
  bool uns = isUnsignedLike(d);
  unsigned bits = bitWidth(d);
  uint64_t ua = uint64_t(a), ub = uint64_t(b);
  switch (k) {
  case OpKind::Add:
    return wrapInt(int64_t(ua + ub), d);
  case OpKind::Sub:
    return wrapInt(int64_t(ua - ub), d);
  case OpKind::Mul:
    return wrapInt(int64_t(ua * ub), d);
  case OpKind::UMulHi:
    if (bits == 64)
      return int64_t(uint64_t((unsigned __int128)ua * ub >> 64));
    if (bits != 32)
      return std::nullopt;
    return wrapInt(int64_t((uint64_t(uint32_t(ua)) * uint32_t(ub)) >> 32), d);
  case OpKind::Div:
  case OpKind::Rem:
    if (b == 0)
      return std::nullopt; // x / 0 traps: leave it to run time
    if (uns)
      return wrapInt(int64_t(k == OpKind::Div ? ua / ub : ua % ub), d);
    if (a == signedMin(bits) && b == -1)
      return std::nullopt; // INT_MIN / -1 overflows
    return wrapInt(k == OpKind::Div ? a / b : a % b, d);
  case OpKind::And:
    return int64_t(ua & ub);
  case OpKind::Or:
    return int64_t(ua | ub);
  case OpKind::Xor:
    return wrapInt(int64_t(ua ^ ub), d);
  case OpKind::Shl:
  case OpKind::Shr:
    if (b < 0 || ub >= bits)
      return std::nullopt; // shift by the width or more is undefined
    if (k == OpKind::Shl)
      return wrapInt(int64_t(ua << ub), d);
    return uns ? int64_t(ua >> ub) : (a >> b); // logical for unsigned, arithmetic for signed
  case OpKind::Max:
    return uns ? (ua > ub ? a : b) : (a > b ? a : b);
  case OpKind::Min:
    return uns ? (ua < ub ? a : b) : (a < b ? a : b);
  default:
    return std::nullopt;
  }
}

template <typename T> std::optional<T> floatBinary(OpKind k, T a, T b) {
  switch (k) {
  case OpKind::Add:
    return a + b;
  case OpKind::Sub:
    return a - b;
  case OpKind::Mul:
    return a * b;
  case OpKind::Div:
    return a / b; // IEEE: x / 0 is inf or nan, no trap
  case OpKind::Rem:
    return std::fmod(a, b);
  case OpKind::Max:
    return std::fmax(a, b); // a NaN operand loses
  case OpKind::Min:
    return std::fmin(a, b);
  default:
    return std::nullopt;
  }
}

/// f32 is computed in float; f16/bf16 in double, then rounded once (exact for + - * / sqrt, since
/// double has more than twice their precision plus two bits); f64 in double.
std::optional<double> foldFloatBinary(OpKind k, double a, double b, DType d) {
  if (d == DType::F32) {
    auto r = floatBinary<float>(k, float(a), float(b));
    return r ? std::optional<double>(*r) : std::nullopt;
  }
  auto r = floatBinary<double>(k, a, b);
  return r ? std::optional<double>(roundTo(*r, d)) : std::nullopt;
}

std::optional<Const> foldCast(Const c, DType from, DType to) {
  Const out;
  if (to == DType::I1)
    return std::nullopt; // int/float -> bool is a comparison, not a truncation: left to the backend
  if (isInteger(from) && isInteger(to)) {
    out.i = wrapInt(c.i, to); // C conversion: wrap to the target width
    return out;
  }
  if (isInteger(from)) {
    bool uns = isUnsignedLike(from);
    if (to == DType::F32)
      out.f = uns ? double(float(uint64_t(c.i))) : double(float(c.i)); // one rounding
    else if (to == DType::F64)
      out.f = uns ? double(uint64_t(c.i)) : double(c.i);
    else if (uns ? uint64_t(c.i) < (uint64_t(1) << 53)
                 : (c.i > -(int64_t(1) << 53) && c.i < (int64_t(1) << 53)))
      out.f = roundTo(uns ? double(uint64_t(c.i)) : double(c.i), to); // exact in double, rounded once
    else
      return std::nullopt;
    return out;
  }
  if (isFloat(to)) {
    out.f = roundTo(c.f, to);
    return out;
  }
  // float -> int truncates toward zero; NaN and out-of-range values are undefined: not folded.
  if (std::isnan(c.f))
    return std::nullopt;
  double t = std::trunc(c.f);
  unsigned bits = bitWidth(to);
  double lo = isUnsignedLike(to) ? 0.0 : -std::ldexp(1.0, int(bits) - 1);
  double hi = isUnsignedLike(to) ? std::ldexp(1.0, int(bits)) : std::ldexp(1.0, int(bits) - 1);
  if (!(t >= lo && t < hi))
    return std::nullopt;
  out.i = isUnsignedLike(to) ? wrapInt(int64_t(uint64_t(t)), to) : int64_t(t);
  return out;
}

std::optional<Const> foldUnary(OpKind k, Const c, DType d) {
  Const out;
  if (isInteger(d)) {
    uint64_t u = uint64_t(c.i);
    switch (k) {
    case OpKind::Neg:
      out.i = wrapInt(int64_t(0 - u), d);
      return out;
    case OpKind::Not:
      out.i = wrapInt(int64_t(~u), d);
      return out;
    case OpKind::Abs:
      out.i = (!isUnsignedLike(d) && c.i < 0) ? wrapInt(int64_t(0 - u), d) : c.i;
      return out;
    default:
      return std::nullopt;
    }
  }
  switch (k) {
  case OpKind::Neg:
    out.f = -c.f;
    return out;
  case OpKind::Abs:
    out.f = std::fabs(c.f);
    return out;
  case OpKind::Floor:
    out.f = std::floor(c.f);
    return out;
  case OpKind::Ceil:
    out.f = std::ceil(c.f);
    return out;
  case OpKind::Sqrt:
    out.f = d == DType::F32 ? double(std::sqrt(float(c.f))) : roundTo(std::sqrt(c.f), d);
    return out;
  default:
    return std::nullopt; // exp, log, sin, ...: libm and the GPU may differ; rsqrt is not exact
  }
}

// ---- The rewriter -----------------------------------------------------------------------------------

class Canonicalizer {
public:
  explicit Canonicalizer(Function &f) : f_(f) {}

  bool run() {
    bool changed = false;
    for (int iter = 0; iter < kMaxIterations; ++iter) {
      bool c = simplifyBlock(f_.body());
      c |= eraseDeadPureOps();
      changed |= c;
      if (!c)
        break;
    }
    return changed;
  }

private:
  bool simplifyBlock(Block &b) {
    bool changed = false;
    for (auto it = b.operations().begin(); it != b.operations().end();) {
      Operation *op = it->get();
      ++it; // `op` may be erased; ops inserted before it are seen on the next iteration
      for (unsigned r = 0; r < op->numRegions(); ++r)
        changed |= simplifyBlock(op->body(r));
      changed |= simplifyOp(op);
    }
    return changed;
  }

  bool simplifyOp(Operation *op) {
    if (op->kind() == OpKind::If)
      return foldIf(op);
    if (op->kind() == OpKind::For)
      return foldFor(op);
    if (op->numResults() != 1 || op->numRegions() != 0 || op->kind() == OpKind::Constant)
      return false;
    Value *repl = fold(op);
    if (!repl)
      return false;
    f_.replaceAllUsesWith(op->result(0), repl);
    op->parentBlock()->erase(op);
    return true;
  }

  /// A new constant of `type` inserted before `before`.
  Value *makeConst(Operation *before, const Type *type, Const c) {
    Block *b = before->parentBlock();
    auto op = Operation::create(OpKind::Constant, before->loc(), {}, {type});
    if (type->isFloatLike())
      op->setAttr("value", c.f);
    else
      op->setAttr("value", c.i);
    return b->insert(b->find(before), std::move(op))->result(0);
  }

  Value *makeIntConst(Operation *before, const Type *type, int64_t v) {
    Const c;
    c.i = v;
    return makeConst(before, type, c);
  }

  /// A replacement for op's single result, or null.
  Value *fold(Operation *op) {
    const Type *type = op->result(0)->type();
    if (Value *v = foldConstants(op))
      return v;
    Value *a = op->numOperands() > 0 ? op->operand(0) : nullptr;
    Value *b = op->numOperands() > 1 ? op->operand(1) : nullptr;
    bool isInt = type->isIntLike();
    switch (op->kind()) {
    case OpKind::Add:
      if (isInt && isZero(b))
        return a; // x + 0 -> x
      if (isInt && isZero(a))
        return b; // 0 + x -> x
      if (isFloatConst(b, -0.0))
        return a; // x + -0.0 -> x   (x + 0.0 is not exact: -0.0 + 0.0 = +0.0)
      if (isFloatConst(a, -0.0))
        return b; // -0.0 + x -> x
      return nullptr;
    case OpKind::Sub:
      if (isIntConst(b, 0) || isFloatConst(b, 0.0))
        return a; // x - 0 -> x   (float: x - +0.0 is exact, -0.0 - 0.0 = -0.0)
      return nullptr;
    case OpKind::Mul:
      if (isOne(b))
        return a; // x * 1 -> x
      if (isOne(a))
        return b; // 1 * x -> x
      if (isIntConst(b, 0))
        return b; // x * 0 -> 0   (ints only: float x * 0 is nan for inf/nan and -0 for x < 0)
      if (isIntConst(a, 0))
        return a; // 0 * x -> 0
      return nullptr;
    case OpKind::UMulHi:
      if (isIntConst(b, 0))
        return b; // umulhi(x, 0) -> 0 (Philox's first round: three of its counter words are 0)
      return isIntConst(a, 0) ? a : nullptr;
    case OpKind::Div:
      return isOne(b) ? a : nullptr; // x / 1 -> x
    case OpKind::And:
      if (isIntConst(b, 0))
        return b;                            // x & 0 -> 0
      return isIntConst(a, 0) ? a : nullptr; // 0 & x -> 0
    case OpKind::Or:
    case OpKind::Xor:
      if (isIntConst(b, 0))
        return a; // x | 0 -> x, x ^ 0 -> x
      return isIntConst(a, 0) ? b : nullptr;
    case OpKind::Shl:
    case OpKind::Shr:
      return isIntConst(b, 0) ? a : nullptr; // x << 0 -> x, x >> 0 -> x
    case OpKind::AddPtr:
      return isIntConst(b, 0) ? a : nullptr; // p + 0 -> p
    case OpKind::Select:
      if (op->operand(1) == op->operand(2))
        return op->operand(1); // select(c, x, x) -> x
      if (auto c = constOf(a))
        return c->i ? op->operand(1) : op->operand(2); // select(true, x, y) -> x
      return nullptr;
    case OpKind::Cast:
    case OpKind::Broadcast:
    case OpKind::Reshape:
      if (a->type() == type)
        return a; // cast<T>(x : T) -> x; broadcast/reshape to the same type -> x
      break;
    default:
      break;
    }
    // expand_dims/reshape/broadcast(splat x) -> splat x of the new shape
    if ((op->kind() == OpKind::ExpandDims || op->kind() == OpKind::Reshape ||
         op->kind() == OpKind::Broadcast) &&
        a->definingOp() && a->definingOp()->kind() == OpKind::Splat) {
      Block *blk = op->parentBlock();
      auto splat = Operation::create(OpKind::Splat, op->loc(), {a->definingOp()->operand(0)}, {type});
      return blk->insert(blk->find(op), std::move(splat))->result(0);
    }
    return nullptr;
  }

  /// Ops whose operands are all constants -> constant.
  Value *foldConstants(Operation *op) {
    const Type *type = op->result(0)->type();
    if (type->isPointerLike())
      return nullptr;
    std::vector<Const> cs;
    for (Value *v : op->operands()) {
      auto c = constOf(v);
      if (!c)
        return nullptr;
      cs.push_back(*c);
    }
    DType d = type->dtype();
    switch (op->kind()) {
    case OpKind::Splat: // splat(c) -> block constant c
    case OpKind::Broadcast:
    case OpKind::ExpandDims:
    case OpKind::Reshape:
    case OpKind::Trans:
      return makeConst(op, type, cs[0]);
    case OpKind::Cmp: {
      DType od = op->operand(0)->type()->dtype();
      bool r = false;
      std::string pred = op->stringAttr("pred");
      bool ok = isFloat(od)          ? compare(pred, cs[0].f, cs[1].f, r)
                : isUnsignedLike(od) ? compare(pred, uint64_t(cs[0].i), uint64_t(cs[1].i), r)
                                     : compare(pred, cs[0].i, cs[1].i, r);
      return ok ? makeIntConst(op, type, r ? 1 : 0) : nullptr; // cmp(c1, c2) -> i1
    }
    case OpKind::Select:
      return nullptr; // handled by the identity (any constant condition)
    case OpKind::Cast: {
      auto r = foldCast(cs[0], op->operand(0)->type()->dtype(), d);
      return r ? makeConst(op, type, *r) : nullptr;
    }
    case OpKind::Fma: {
      Const r;
      if (isInteger(d))
        r.i = wrapInt(int64_t(uint64_t(cs[0].i) * uint64_t(cs[1].i) + uint64_t(cs[2].i)), d);
      else if (d == DType::F32)
        r.f = std::fma(float(cs[0].f), float(cs[1].f), float(cs[2].f));
      else if (d == DType::F64)
        r.f = std::fma(cs[0].f, cs[1].f, cs[2].f);
      else
        return nullptr; // f16/bf16 fma: not exact through double
      return makeConst(op, type, r);
    }
    default:
      break;
    }
    if (!op->hasTrait(Elementwise) || op->kind() == OpKind::Bitcast || op->kind() == OpKind::Hint)
      return nullptr;
    if (cs.size() == 1) {
      auto r = foldUnary(op->kind(), cs[0], d);
      return r ? makeConst(op, type, *r) : nullptr;
    }
    if (cs.size() != 2)
      return nullptr;
    Const r;
    if (isFloat(d)) {
      auto v = foldFloatBinary(op->kind(), cs[0].f, cs[1].f, d);
      if (!v)
        return nullptr;
      r.f = *v;
    } else {
      auto v = foldIntBinary(op->kind(), cs[0].i, cs[1].i, d);
      if (!v)
        return nullptr;
      r.i = *v;
    }
    return makeConst(op, type, r);
  }

  /// if true { A; yield a } else { B; yield b } -> A, uses of the result -> a
  bool foldIf(Operation *op) {
    auto c = constOf(op->operand(0));
    if (!c)
      return false;
    Block &taken = op->body(c->i ? 0 : 1);
    Operation *yield = taken.terminator();
    std::vector<Value *> yielded = yield ? yield->operands() : std::vector<Value *>{};
    MT_ASSERT(yielded.size() == op->numResults())
        << "if yields " << yielded.size() << " values for " << op->numResults() << " results";
    Block *parent = op->parentBlock();
    auto pos = parent->find(op);
    while (!taken.empty() && taken.operations().front().get() != yield)
      parent->insert(pos, taken.remove(taken.operations().front().get()));
    for (unsigned i = 0; i < op->numResults(); ++i)
      f_.replaceAllUsesWith(op->result(i), yielded[i]);
    parent->erase(op);
    return true;
  }

  /// for lb to ub step s (s > 0, lb >= ub) -> its inits
  bool foldFor(Operation *op) {
    auto lb = constOf(op->operand(0)), ub = constOf(op->operand(1)), step = constOf(op->operand(2));
    if (!lb || !ub || !step)
      return false;
    DType d = op->operand(0)->type()->dtype();
    bool positive = isUnsignedLike(d) ? step->i != 0 : step->i > 0;
    bool empty = isUnsignedLike(d) ? uint64_t(lb->i) >= uint64_t(ub->i) : lb->i >= ub->i;
    if (!positive || !empty)
      return false;
    for (unsigned i = 0; i < op->numResults(); ++i)
      f_.replaceAllUsesWith(op->result(i), op->operand(3 + i));
    op->parentBlock()->erase(op);
    return true;
  }

  /// Pure region-free ops left without uses (the constants and shape ops that folding bypassed)
  /// are erased, users before what they use.
  bool eraseDeadPureOps() {
    std::unordered_map<const Value *, int> uses;
    std::vector<Operation *> pure;
    f_.walk([&](Operation *op) {
      for (Value *v : op->operands())
        ++uses[v];
      if (op->hasTrait(Pure) && op->numRegions() == 0)
        pure.push_back(op);
    });
    bool changed = false;
    for (auto it = pure.rbegin(); it != pure.rend(); ++it) {
      Operation *op = *it;
      bool used = false;
      for (const auto &r : op->results())
        used |= uses[r.get()] > 0;
      if (used)
        continue;
      for (Value *v : op->operands())
        --uses[v];
      op->parentBlock()->erase(op);
      changed = true;
    }
    return changed;
  }

  Function &f_;
};

} // namespace

bool runCanonicalize(ir::Function &f) { return Canonicalizer(f).run(); }

} // namespace mt::transforms
