// tl.umulhi and Triton's counter-based random numbers (Philox 4x32-10 / 4x64-10): randint, randint4x,
// rand, rand4x, randn, randn4x, philox, uint_to_uniform_float, pair_uniform_to_normal. The same
// (seed, offset) gives the same bits as Triton's triton.language.random, on the CPU and the GPU: the
// counter is (offset, 0, 0, 0) bitcast to uint32 (uint64 for 64-bit offsets), the key the seed's two
// 32-bit halves (for 64-bit offsets: the seed and 0).
#include "frontend/LowerImpl.h"

#include <array>

namespace mt::lower {

using ir::DType;
using ir::OpKind;

namespace {

constexpr int64_t kDefaultRounds = 10;

/// Philox's constants for one word size: the Weyl key increments and the round multipliers.
struct PhiloxConstants {
  uint64_t keyA, keyB, roundA, roundB;
};
constexpr PhiloxConstants kPhilox32{0x9E3779B9u, 0xBB67AE85u, 0xD2511F53u, 0xCD9E8D57u};
constexpr PhiloxConstants kPhilox64{0x9E3779B97F4A7C15ull, 0xBB67AE8584CAA73Bull, 0xD2E7470EE14C6C93ull,
                                    0xCA5A826395121157ull};

using Words = std::array<ir::Value *, 4>;

/// An integer operand of a random-number builtin (a tensor or a scalar, never a pointer or a float).
ir::Value *intOperand(Lowerer &L, Bound &a, size_t i, const std::string &what) {
  ir::Value *v = L.toIR(a[i], a.loc(i), what + " of " + a.fname);
  if (v->type()->isPointerLike() || !v->type()->isIntLike() || v->type()->dtype() == DType::I1)
    L.fail(a.loc(i), a.fname + "(): " + what + " must be an integer, got " + v->type()->str());
  return v;
}

int64_t roundsArg(Lowerer &L, Bound &a, size_t i) {
  if (!a.has(i))
    return kDefaultRounds;
  int64_t n = L.constInt(a[i], a.loc(i), "n_rounds");
  if (n < 0 || n > 64)
    L.fail(a.loc(i), a.fname + "(): n_rounds must be from 0 to 64, got " + std::to_string(n));
  return n;
}

/// `x` of the counter's word type: value-cast to its width, then bitcast to unsigned.
ir::Value *toWord(Lowerer &L, ir::Value *x, DType word) {
  DType d = x->type()->dtype();
  unsigned bits = ir::bitWidth(word);
  if (ir::bitWidth(d) != bits)
    x = L.builder().cast(x, ir::isUnsigned(d) ? word : (bits == 32 ? DType::I32 : DType::I64));
  if (x->type()->dtype() != word)
    x = L.builder().create1(OpKind::Bitcast, {x}, L.types().withDType(x->type(), word));
  return x;
}

/// `n` rounds of Philox on counter `c` with key (k0, k1), all of one unsigned type and shape.
Words philoxRounds(Lowerer &L, Words c, ir::Value *k0, ir::Value *k1, int64_t n) {
  ir::Builder &b = L.builder();
  const ir::Type *t = c[0]->type();
  const PhiloxConstants &K = ir::bitWidth(t->dtype()) == 32 ? kPhilox32 : kPhilox64;
  ir::Value *A = b.constInt(t, int64_t(K.roundA)), *B = b.constInt(t, int64_t(K.roundB));
  ir::Value *keyA = b.constInt(t, int64_t(K.keyA)), *keyB = b.constInt(t, int64_t(K.keyB));
  for (int64_t r = 0; r < n; ++r) {
    ir::Value *c0 = c[0], *c2 = c[2];
    c[0] = b.binary(OpKind::Xor, b.binary(OpKind::Xor, b.binary(OpKind::UMulHi, B, c2), c[1]), k0);
    c[2] = b.binary(OpKind::Xor, b.binary(OpKind::Xor, b.binary(OpKind::UMulHi, A, c0), c[3]), k1);
    c[1] = b.binary(OpKind::Mul, B, c2);
    c[3] = b.binary(OpKind::Mul, A, c0);
    k0 = b.binary(OpKind::Add, k0, keyA);
    k1 = b.binary(OpKind::Add, k1, keyB);
  }
  return c;
}

/// Triton's philox(seed, c0, c1, c2, c3, n_rounds): the counter words take the first word's width (32
/// or 64 bits); the key is the seed's halves (32) or the seed and 0 (64). Everything broadcasts to one shape.
Words philox(Lowerer &L, Bound &a, ir::Value *seed, Words c, int64_t rounds) {
  unsigned bits = ir::bitWidth(c[0]->type()->dtype());
  if (bits != 32 && bits != 64)
    L.fail(a.loc(1), a.fname + "(): offsets must be 32- or 64-bit integers, got " + c[0]->type()->str());
  DType word = bits == 32 ? DType::U32 : DType::U64;
  std::vector<int64_t> shape = seed->type()->shape();
  for (ir::Value *v : c)
    shape = L.broadcastShapes(shape, v->type()->shape(), a.callLoc);
  for (ir::Value *&v : c)
    v = L.broadcastTo(toWord(L, v, word), shape, a.callLoc);
  ir::Builder &b = L.builder();
  // seed.to(uint64): a value cast (a negative int32 seed sign-extends).
  ir::Value *s = b.cast(seed, ir::isUnsigned(seed->type()->dtype()) ? DType::U64 : DType::I64);
  if (s->type()->dtype() != DType::U64)
    s = b.create1(OpKind::Bitcast, {s}, L.types().withDType(s->type(), DType::U64));
  ir::Value *k0, *k1; // split while the seed is a scalar, then splat
  if (bits == 32) {
    k0 = b.cast(s, DType::U32); // the low half (truncation)
    k1 = b.cast(b.binary(OpKind::Shr, s, b.constInt(s->type(), 32)), DType::U32);
  } else {
    k0 = s;
    k1 = b.constInt(s->type(), 0);
  }
  return philoxRounds(L, c, L.broadcastTo(k0, shape, a.loc(0)), L.broadcastTo(k1, shape, a.loc(0)), rounds);
}

Words randint4x(Lowerer &L, Bound &a) {
  ir::Value *seed = intOperand(L, a, 0, "seed");
  ir::Value *offset = intOperand(L, a, 1, "offset");
  // The other counter words are 0, made in the word type so that the first round's products fold.
  DType d = offset->type()->dtype(), word = ir::bitWidth(d) == 64 ? DType::U64 : DType::U32;
  ir::Value *zero = L.builder().constInt(L.types().withDType(offset->type(), word), 0);
  return philox(L, a, seed, {offset, zero, zero, zero}, roundsArg(L, a, 2));
}

/// A random 32- or 64-bit word as a float32 in [0, 1): read as signed, folded onto [0, MAX], scaled.
ir::Value *uniform(Lowerer &L, ir::Value *x) {
  ir::Builder &b = L.builder();
  bool wide = ir::bitWidth(x->type()->dtype()) == 64;
  DType s = wide ? DType::I64 : DType::I32;
  if (x->type()->dtype() != s)
    x = b.create1(OpKind::Bitcast, {x}, L.types().withDType(x->type(), s));
  // x < 0 ? -x - 1 : x, with -x - 1 as ~x (the same bits, and no overflow at the minimum).
  ir::Value *neg = b.cmp("lt", x, b.constInt(x->type(), 0));
  x = b.select(neg, b.unary(OpKind::Not, x), x);
  ir::Value *f = b.cast(x, DType::F32);
  return b.binary(OpKind::Mul, f, b.constFloat(f->type(), wide ? 1.0842020432385337e-19 : 4.6566127342e-10));
}

/// Box-Muller: two uniforms to two standard normals.
std::pair<ir::Value *, ir::Value *> toNormal(Lowerer &L, ir::Value *u1, ir::Value *u2) {
  ir::Builder &b = L.builder();
  const ir::Type *t = u1->type();
  u1 = b.binary(OpKind::Max, u1, b.constFloat(t, 1.0e-7));
  ir::Value *th = b.binary(OpKind::Mul, b.constFloat(t, 6.283185307179586), u2);
  ir::Value *r =
      b.unary(OpKind::Sqrt, b.binary(OpKind::Mul, b.constFloat(t, -2.0), b.unary(OpKind::Log, u1)));
  return {b.binary(OpKind::Mul, r, b.unary(OpKind::Cos, th)),
          b.binary(OpKind::Mul, r, b.unary(OpKind::Sin, th))};
}

Val tuple4(const std::array<ir::Value *, 4> &v) {
  return Val::tuple({Val::ir(v[0]), Val::ir(v[1]), Val::ir(v[2]), Val::ir(v[3])});
}

ir::Value *floatOperand(Lowerer &L, Bound &a, size_t i) {
  ir::Value *v = L.toIR(a[i], a.loc(i), "argument of " + a.fname);
  if (v->type()->dtype() != DType::F32 || v->type()->isPointerLike())
    L.fail(a.loc(i), a.fname + "() expects float32 uniforms, got " + v->type()->str());
  return v;
}

} // namespace

void registerRandomBuiltins(BuiltinTable &t) {
  t["umulhi"] = {{"x", "y"}, [](Lowerer &L, Bound &a) {
                   auto [x, y] = L.unify(a[0], a[1], a.callLoc, "umulhi");
                   DType d = x->type()->dtype();
                   if (x->type()->isPointerLike() || !ir::isInteger(d) ||
                       (ir::bitWidth(d) != 32 && ir::bitWidth(d) != 64))
                     L.fail(a.callLoc, "tl.umulhi() expects 32- or 64-bit integers, got " + x->type()->str());
                   return Val::ir(L.builder().binary(OpKind::UMulHi, x, y));
                 }};
  t["randint4x"] = {{"seed", "offset", "n_rounds?"},
                    [](Lowerer &L, Bound &a) { return tuple4(randint4x(L, a)); }};
  t["randint"] = {{"seed", "offset", "n_rounds?"},
                  [](Lowerer &L, Bound &a) { return Val::ir(randint4x(L, a)[0]); }};
  t["rand"] = {{"seed", "offset", "n_rounds?"},
               [](Lowerer &L, Bound &a) { return Val::ir(uniform(L, randint4x(L, a)[0])); }};
  t["rand4x"] = {{"seed", "offsets", "n_rounds?"}, [](Lowerer &L, Bound &a) {
                   Words w = randint4x(L, a);
                   for (ir::Value *&v : w)
                     v = uniform(L, v);
                   return tuple4(w);
                 }};
  t["randn"] = {{"seed", "offset", "n_rounds?"}, [](Lowerer &L, Bound &a) {
                  Words w = randint4x(L, a);
                  return Val::ir(toNormal(L, uniform(L, w[0]), uniform(L, w[1])).first);
                }};
  t["randn4x"] = {{"seed", "offset", "n_rounds?"}, [](Lowerer &L, Bound &a) {
                    Words w = randint4x(L, a);
                    for (ir::Value *&v : w)
                      v = uniform(L, v);
                    auto [n1, n2] = toNormal(L, w[0], w[1]);
                    auto [n3, n4] = toNormal(L, w[2], w[3]);
                    return tuple4({n1, n2, n3, n4});
                  }};
  t["philox"] = {{"seed", "c0", "c1", "c2", "c3", "n_rounds?"}, [](Lowerer &L, Bound &a) {
                   ir::Value *seed = intOperand(L, a, 0, "seed");
                   Words c;
                   for (size_t i = 0; i < 4; ++i)
                     c[i] = intOperand(L, a, i + 1, "counter word");
                   return tuple4(philox(L, a, seed, c, roundsArg(L, a, 5)));
                 }};
  t["uint_to_uniform_float"] = {{"x"}, [](Lowerer &L, Bound &a) {
                                  ir::Value *x = intOperand(L, a, 0, "x");
                                  unsigned bits = ir::bitWidth(x->type()->dtype());
                                  if (bits != 32 && bits != 64)
                                    L.fail(a.loc(0), a.fname + "() expects 32- or 64-bit integers, got " +
                                                         x->type()->str());
                                  return Val::ir(uniform(L, x));
                                }};
  t["pair_uniform_to_normal"] = {
      {"u1", "u2"}, [](Lowerer &L, Bound &a) {
        ir::Value *u1 = floatOperand(L, a, 0), *u2 = floatOperand(L, a, 1);
        auto shape = L.broadcastShapes(u1->type()->shape(), u2->type()->shape(), a.callLoc);
        auto [n1, n2] = toNormal(L, L.broadcastTo(u1, shape, a.loc(0)), L.broadcastTo(u2, shape, a.loc(1)));
        return Val::tuple({Val::ir(n1), Val::ir(n2)});
      }};
}

} // namespace mt::lower
