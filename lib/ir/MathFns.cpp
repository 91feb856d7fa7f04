#include "ir/MathFns.h"

#include <cmath>
#include <limits>

namespace mt::ir {

namespace {

constexpr MathFn kFns[] = {
#define MATHFN(Name, Arity, Dom, Res) {#Name, Arity, MathFn::Domain::Dom, MathFn::Result::Res},
#include "ir/MathFns.def"
#undef MATHFN
};

constexpr double kPi = 3.14159265358979323846;
constexpr double kInf = std::numeric_limits<double>::infinity();

/// The x where a monotone f crosses y, between lo and hi (f(lo) and f(hi) on either side): Newton steps from
/// x0, kept inside the bracket (bisection when a step leaves it), until the bracket stops shrinking.
template <class F, class D> double solveMonotone(F f, D df, double y, double x0, double lo, double hi) {
  double x = x0;
  bool rising = f(hi) > f(lo);
  for (int i = 0; i < 200; ++i) {
    double fx = f(x) - y;
    if (fx == 0)
      return x;
    if ((fx > 0) == rising)
      hi = x;
    else
      lo = x;
    double d = df(x), next = d != 0 ? x - fx / d : (lo + hi) / 2;
    if (!(next > lo && next < hi))
      next = lo + (hi - lo) / 2;
    if (next == x || next == lo || next == hi)
      return next;
    x = next;
  }
  return x;
}

double derfc(double x) { return -2 / std::sqrt(kPi) * std::exp(-x * x); }

/// erfc(x) = y for y in [0, 2].
double erfcinv(double y) {
  if (std::isnan(y) || y < 0 || y > 2)
    return std::numeric_limits<double>::quiet_NaN();
  if (y == 0)
    return kInf;
  if (y == 2)
    return -kInf;
  // A first guess from the tail's asymptote erfc(x) ~ exp(-x^2) / (x sqrt(pi)).
  double t = y < 1 ? y : 2 - y, g = t < 0.5 ? std::sqrt(std::max(-std::log(t * std::sqrt(kPi)), 0.0)) : 0.0;
  double x = solveMonotone([](double v) { return std::erfc(v); }, derfc, t, g, -1.0, 27.5);
  return y < 1 ? x : -x;
}

/// erf(x) = y for y in [-1, 1]: near +-1 through erfc, whose argument 1 - |y| is exact there.
double erfinv(double y) {
  if (std::isnan(y) || y < -1 || y > 1)
    return std::numeric_limits<double>::quiet_NaN();
  if (std::fabs(y) > 0.5)
    return std::copysign(erfcinv(1 - std::fabs(y)), y);
  return solveMonotone([](double v) { return std::erf(v); }, [](double v) { return -derfc(v); }, y, y, -1.0,
                       1.0);
}

/// exp(x^2) erfc(x), with x^2 split in two (fma) so that the exponential keeps every bit; the asymptotic
/// series where erfc underflows.
double erfcx(double x) {
  if (x > 25) {
    double r = 1 / (x * x);
    return 1 / (x * std::sqrt(kPi)) * (1 - r / 2 * (1 - 1.5 * r * (1 - 2.5 * r * (1 - 3.5 * r))));
  }
  double hi = x * x, lo = std::fma(x, x, -hi);
  return std::exp(hi) * std::exp(lo) * std::erfc(x);
}

/// sin(pi x) for any x, reduced exactly to [-1/2, 1/2] first.
double sinpi(double x) {
  if (!std::isfinite(x))
    return std::numeric_limits<double>::quiet_NaN();
  double r = std::remainder(x, 2.0); // exact, in [-1, 1]
  if (r > 0.5)
    r = 1 - r;
  else if (r < -0.5)
    r = -1 - r;
  if (r == 0)
    return std::copysign(0.0, x);
  return std::sin(kPi * r);
}

double cospi(double x) {
  if (!std::isfinite(x))
    return std::numeric_limits<double>::quiet_NaN();
  double r = std::fabs(std::remainder(x, 2.0)); // exact, in [0, 1]
  return r == 0.5 ? 0.0 : sinpi(0.5 - r);
}

template <class T> T brevBits(T v, unsigned bits) {
  T r = 0;
  for (unsigned i = 0; i < bits; ++i)
    r |= T((v >> i) & 1) << (bits - 1 - i);
  return r;
}

} // namespace

const MathFn *findMathFn(std::string_view name) {
  for (const MathFn &f : kFns)
    if (f.name == name)
      return &f;
  return nullptr;
}

// MT_EVAL(expr): an evaluator of a (and b, single) as a plain function.
#define MT_EVAL(expr) [](double a, double b, bool single) -> double { return expr; }
MathFnEval mathFnEval(const MathFn &fn) {
  std::string_view n = fn.name;
  if (n.substr(0, 5) == "fast_")
    n = n.substr(5, n.size() - 6); // fast_expf -> exp: exact on the CPU
  if (n == "acos")
    return MT_EVAL(std::acos(a));
  if (n == "acosh")
    return MT_EVAL(std::acosh(a));
  if (n == "asin")
    return MT_EVAL(std::asin(a));
  if (n == "asinh")
    return MT_EVAL(std::asinh(a));
  if (n == "atan")
    return MT_EVAL(std::atan(a));
  if (n == "atanh")
    return MT_EVAL(std::atanh(a));
  if (n == "cbrt")
    return MT_EVAL(std::cbrt(a));
  if (n == "ceil")
    return MT_EVAL(std::ceil(a));
  if (n == "cos")
    return MT_EVAL(std::cos(a));
  if (n == "cosh")
    return MT_EVAL(std::cosh(a));
  if (n == "cospi")
    return MT_EVAL(cospi(a));
  if (n == "erf")
    return MT_EVAL(std::erf(a));
  if (n == "erfc")
    return MT_EVAL(std::erfc(a));
  if (n == "erfcinv")
    return MT_EVAL(erfcinv(a));
  if (n == "erfcx")
    return MT_EVAL(erfcx(a));
  if (n == "erfinv")
    return MT_EVAL(erfinv(a));
  if (n == "exp")
    return MT_EVAL(std::exp(a));
  if (n == "exp10")
    return MT_EVAL(std::pow(10.0, a));
  if (n == "exp2")
    return MT_EVAL(std::exp2(a));
  if (n == "expm1")
    return MT_EVAL(std::expm1(a));
  if (n == "floor")
    return MT_EVAL(std::floor(a));
  if (n == "j0")
    return MT_EVAL(::j0(a));
  if (n == "j1")
    return MT_EVAL(::j1(a));
  if (n == "lgamma")
    return MT_EVAL(std::lgamma(a));
  if (n == "log")
    return MT_EVAL(std::log(a));
  if (n == "log10")
    return MT_EVAL(std::log10(a));
  if (n == "log1p")
    return MT_EVAL(std::log1p(a));
  if (n == "log2")
    return MT_EVAL(std::log2(a));
  if (n == "logb")
    return MT_EVAL(std::logb(a));
  if (n == "nearbyint" || n == "rint")
    // round half to even (the default rounding mode)
    return MT_EVAL(std::nearbyint(a));
  if (n == "normcdf")
    return MT_EVAL(0.5 * std::erfc(-a / std::sqrt(2.0)));
  if (n == "normcdfinv")
    return MT_EVAL(-std::sqrt(2.0) * erfcinv(2 * a));
  if (n == "rcbrt")
    return MT_EVAL(1 / std::cbrt(a));
  if (n == "rcp_rn")
    return MT_EVAL(1 / a);
  if (n == "round")
    // half away from zero
    return MT_EVAL(std::round(a));
  if (n == "rsqrt")
    return MT_EVAL(1 / std::sqrt(a));
  if (n == "saturatef")
    return MT_EVAL(std::isnan(a) ? 0.0 : std::fmin(std::fmax(a, 0.0), 1.0));
  if (n == "sin")
    return MT_EVAL(std::sin(a));
  if (n == "sinh")
    return MT_EVAL(std::sinh(a));
  if (n == "sinpi")
    return MT_EVAL(sinpi(a));
  if (n == "sqrt")
    return MT_EVAL(std::sqrt(a));
  if (n == "tan")
    return MT_EVAL(std::tan(a));
  if (n == "tanh")
    return MT_EVAL(std::tanh(a));
  if (n == "tgamma")
    return MT_EVAL(std::tgamma(a));
  if (n == "trunc")
    return MT_EVAL(std::trunc(a));
  if (n == "y0")
    return MT_EVAL(::y0(a));
  if (n == "y1")
    return MT_EVAL(::y1(a));
  if (n == "ilogb")
    return MT_EVAL(double(std::isnan(a) || a == 0 ? std::numeric_limits<int>::min()
                          : std::isinf(a)         ? std::numeric_limits<int>::max()
                                                  : std::ilogb(single ? double(float(a)) : a)));
  if (n == "add_rn")
    return MT_EVAL(a + b);
  if (n == "atan2")
    return MT_EVAL(std::atan2(a, b));
  if (n == "copysign")
    return MT_EVAL(std::copysign(a, b));
  if (n == "fdim")
    return MT_EVAL(std::fdim(a, b));
  if (n == "fmod")
    return MT_EVAL(std::fmod(a, b));
  if (n == "hypot")
    return MT_EVAL(std::hypot(a, b));
  if (n == "ldexp")
    return MT_EVAL(std::isnan(b) ? std::numeric_limits<double>::quiet_NaN()
                                 : std::ldexp(a, int(std::fmax(std::fmin(b, 1e5), -1e5))));
  if (n == "mul_rn")
    return MT_EVAL(a * b);
  if (n == "nextafter") // in the operands' own precision: one step of theirs, not of a double
    return MT_EVAL(single ? double(std::nextafter(float(a), float(b))) : std::nextafter(a, b));
  if (n == "pow")
    return MT_EVAL(std::pow(a, b));
  if (n == "remainder")
    return MT_EVAL(std::remainder(a, b));
  if (n == "divide")
    return MT_EVAL(a / b);
  return [](double, double, bool) { return std::numeric_limits<double>::quiet_NaN(); };
}
#undef MT_EVAL

uint64_t evalIntMathFn(const MathFn &fn, uint64_t a, uint64_t b, unsigned bits, bool isSigned) {
  uint64_t mask = bits == 64 ? ~uint64_t(0) : (uint64_t(1) << bits) - 1;
  a &= mask;
  b &= mask;
  std::string_view n = fn.name;
  if (n == "brev")
    return brevBits(a, bits);
  if (n == "clz") {
    unsigned c = 0;
    for (int i = int(bits) - 1; i >= 0 && !((a >> i) & 1); --i)
      ++c;
    return c;
  }
  if (n == "ffs") {
    for (unsigned i = 0; i < bits; ++i)
      if ((a >> i) & 1)
        return i + 1;
    return 0;
  }
  if (n == "popc") {
    unsigned c = 0;
    for (unsigned i = 0; i < bits; ++i)
      c += (a >> i) & 1;
    return c;
  }
  if (n == "mulhi") {
    auto sext = [&](uint64_t v) -> __int128 {
      if (isSigned && bits < 64 && ((v >> (bits - 1)) & 1))
        return __int128(int64_t(v | ~mask));
      return isSigned && bits == 64 ? __int128(int64_t(v)) : __int128(v);
    };
    if (isSigned)
      return uint64_t((sext(a) * sext(b)) >> bits) & mask;
    return uint64_t(((unsigned __int128)a * b) >> bits) & mask;
  }
  return 0;
}

} // namespace mt::ir
