#include "backend/cpu/Tile.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>

namespace mt::cpu {

uint16_t floatToHalfBits(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) // inf or NaN
    return uint16_t(sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u | ((absx >> 13) & 0x3ffu) : 0u));
  if (absx >= 0x477ff000u) // rounds to >= 65520: overflow to inf
    return uint16_t(sign | 0x7c00u);
  int exp = int(absx >> 23) - 127;
  uint32_t mant = absx & 0x7fffffu;
  if (exp >= -14) { // normal half
    uint32_t h = (uint32_t(exp + 15) << 10) | (mant >> 13);
    uint32_t rest = mant & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u)))
      ++h; // may carry into the exponent, which is right
    return uint16_t(sign | h);
  }
  if (exp < -25) // below half the smallest subnormal: zero
    return uint16_t(sign);
  // Subnormal half: value = m * 2^-24 with m = (1.mant) * 2^(exp+24).
  mant |= 0x800000u;
  int shift = -exp - 1; // bits to drop from the 24-bit significand to count in units of 2^-24
  uint32_t h = mant >> shift;
  uint32_t rest = mant & ((1u << shift) - 1u);
  uint32_t halfway = 1u << (shift - 1);
  if (rest > halfway || (rest == halfway && (h & 1u)))
    ++h;
  return uint16_t(sign | h);
}

float halfBitsToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  if (exp == 0x1f)
    return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));
  if (exp == 0) {
    float v = std::ldexp(float(mant), -24);
    return sign ? -v : v;
  }
  return std::bit_cast<float>(sign | ((exp + 112u) << 23) | (mant << 13));
}

uint16_t floatToBFloatBits(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u)
    return uint16_t((x >> 16) | 0x40u); // quiet NaN
  x += 0x7fffu + ((x >> 16) & 1u);
  return uint16_t(x >> 16);
}

namespace {
/// The field widths of an fp8 dtype: exponent bits, mantissa bits, its bias.
struct Fp8Format {
  int E, M, bias;
  bool fn; // e4m3fn: no infinities, all-ones is NaN
};
Fp8Format fp8Format(DType d) {
  return d == DType::F8E4M3 ? Fp8Format{4, 3, 7, true} : Fp8Format{5, 2, 15, false};
}
} // namespace

float fp8BitsToFloat(uint8_t b, DType d) {
  auto [E, M, bias, fn] = fp8Format(d);
  int expMax = (1 << E) - 1, e = (b >> M) & expMax, m = b & ((1 << M) - 1);
  float sign = (b & 0x80) ? -1.0f : 1.0f;
  if (fn ? (e == expMax && m == (1 << M) - 1) : (e == expMax && m != 0))
    return std::numeric_limits<float>::quiet_NaN();
  if (!fn && e == expMax)
    return sign * std::numeric_limits<float>::infinity();
  if (e == 0)
    return sign * std::ldexp(float(m), 1 - bias - M);
  return sign * std::ldexp(float((1 << M) | m), e - bias - M);
}

uint8_t floatToFp8Bits(float f, DType d) {
  auto [E, M, bias, fn] = fp8Format(d);
  uint8_t sign = std::signbit(f) ? 0x80 : 0;
  if (std::isnan(f))
    return uint8_t(sign | 0x7f);
  double r = std::fabs(ir::roundToFp8(double(f), d)); // on the grid, at most the largest finite value
  if (r == 0)
    return sign;
  int re = std::max(std::ilogb(r), 1 - bias);   // the binade, or the subnormal one (exponent field 0)
  int steps = int(r / std::ldexp(1.0, re - M)); // the significand in units of the last place
  return uint8_t(sign | (steps >> M == 0 ? 0 : (re + bias) << M) | (steps & ((1 << M) - 1)));
}

float doubleToFloatRoundOdd(double d) {
  float f = float(d);
  if (std::isnan(d) || std::isinf(f) || double(f) == d)
    return f;
  // Step toward zero if rounding went away from zero, then force the last bit to 1 (sticky).
  if (std::fabs(double(f)) > std::fabs(d))
    f = std::nextafter(f, 0.0f);
  return std::bit_cast<float>(std::bit_cast<uint32_t>(f) | 1u);
}

double Tile::getDouble(size_t i) const {
  if (isPtr_)
    return double(data<Ptr>()[i].offset);
  double r = 0;
  MT_DISPATCH_DTYPE(dtype_, T, r = double(Num<T>::get(data<T>()[i])));
  return r;
}

int64_t Tile::getInt(size_t i) const {
  if (isPtr_)
    return data<Ptr>()[i].offset;
  int64_t r = 0;
  MT_DISPATCH_DTYPE(dtype_, T, r = convertElem<int64_t>(data<T>()[i]));
  return r;
}

std::string Tile::format(size_t i) const {
  if (isPtr_)
    return "ptr(arg " + std::to_string(data<Ptr>()[i].buffer) + " + " +
           std::to_string(data<Ptr>()[i].offset) + ")";
  char buf[64];
  std::to_chars_result res{};
  MT_DISPATCH_DTYPE(dtype_, T, res = std::to_chars(buf, buf + sizeof buf, Num<T>::get(data<T>()[i])));
  return std::string(buf, res.ptr);
}

void Tile::fillDouble(double v) {
  MT_DISPATCH_DTYPE(dtype_, T, {
    T x = convertElem<T>(v);
    T *d = data<T>();
    for (size_t i = 0; i < numel_; ++i)
      d[i] = x;
  });
}

void Tile::fillInt(int64_t v) {
  MT_DISPATCH_DTYPE(dtype_, T, {
    T x = convertElem<T>(v);
    T *d = data<T>();
    for (size_t i = 0; i < numel_; ++i)
      d[i] = x;
  });
}

Tile Tile::element(size_t i) const {
  Tile t(dtype_, isPtr_, {});
  std::memcpy(t.raw(), static_cast<const char *>(raw()) + i * elemSize(), elemSize());
  return t;
}

void Tile::setElement(size_t i, const Tile &scalar) {
  std::memcpy(static_cast<char *>(raw()) + i * elemSize(), scalar.raw(), elemSize());
}

std::string Tile::shapeStr() const {
  std::string s = "[";
  for (size_t i = 0; i < shape_.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape_[i]);
  return s + "]";
}

} // namespace mt::cpu
