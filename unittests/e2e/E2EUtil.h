// Shared helpers of the end-to-end tests: typed host buffers with poisoned tails, seeded random
// fills, float64 reference comparison, and compiling the kernels of examples/kernels.
//
// The tests drive only the public API (include/mt/mt.h): compile a kernel file for a specialisation,
// launch it on host buffers, compare with a float64 reference computed here.
#pragma once

#include "backend/cpu/Tile.h" // fp8 <-> float, for fp8 buffers
#include "mt/mt.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace mt::e2e {

// ---- Kernel files -----------------------------------------------------------------------------------

inline std::string kernelPath(const std::string &file) {
  return std::string(MT_SOURCE_DIR) + "/examples/kernels/" + file;
}

/// The text of a kernel file (empty if unreadable; the compile then fails with a clear message).
inline std::string readKernelFile(const std::string &file) {
  std::ifstream in(kernelPath(file));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// 1-based line and column of the first occurrence of `needle` in `text` (line 0 if absent).
struct LineCol {
  unsigned line = 0, col = 0;
};
inline LineCol findLineCol(const std::string &text, const std::string &needle) {
  size_t pos = text.find(needle);
  if (pos == std::string::npos)
    return {};
  LineCol lc{1, 1};
  for (size_t i = 0; i < pos; ++i) {
    if (text[i] == '\n') {
      ++lc.line;
      lc.col = 1;
    } else {
      ++lc.col;
    }
  }
  return lc;
}

using KernelPtr = std::shared_ptr<const Kernel>;

/// Compiles `function` of examples/kernels/`file` for `specs`.
inline Expected<KernelPtr> compileFile(Context &ctx, const std::string &file, const std::string &function,
                                       const std::vector<ArgSpec> &specs, const CompileOptions &opts = {}) {
  auto src = KernelSource::fromFile(kernelPath(file), function);
  if (!src)
    return src.error();
  return ctx.compile(*src, specs, opts);
}

/// Loads examples/kernels/`file` with each `from` → `to` text substitution applied (each `from` must
/// occur; a missing one leaves the source unchanged, and the caller's checks will say so).
inline Expected<KernelSource> loadKernelWith(const std::string &file, const std::string &function,
                                             const std::vector<std::pair<std::string, std::string>> &edits) {
  auto src = KernelSource::fromFile(kernelPath(file), function);
  if (!src)
    return src.error();
  for (const auto &[from, to] : edits) {
    size_t pos = src->text.find(from);
    if (pos == std::string::npos)
      return Error{"test bug: '" + from + "' not found in " + file};
    src->text.replace(pos, from.size(), to);
  }
  return *src;
}

/// Compiles or fails the current test (use as `KernelPtr k; ASSERT_COMPILES(k, compileFile(...));`).
#define ASSERT_COMPILES(var, expr)                                                                           \
  do {                                                                                                       \
    auto compiled_ = (expr);                                                                                 \
    ASSERT_TRUE(compiled_) << "compile failed:\n" << compiled_.error().message;                              \
    var = *compiled_;                                                                                        \
  } while (0)

/// Launches or fails the current test.
#define ASSERT_LAUNCHES(kernel, grid, ...)                                                                   \
  do {                                                                                                       \
    std::vector<::mt::LaunchArg> launchArgs_ = __VA_ARGS__;                                                  \
    ::mt::Status st_ = (kernel)->launch(grid, launchArgs_);                                                  \
    ASSERT_TRUE(st_) << "launch failed:\n" << st_.error().message;                                           \
  } while (0)

inline uint32_t cdiv(int64_t a, int64_t b) { return static_cast<uint32_t>((a + b - 1) / b); }

// ---- Half-precision conversions (round to nearest even) -------------------------------------------

inline uint16_t floatToHalfBits(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) // inf or nan
    return static_cast<uint16_t>(sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u : 0u));
  if (absx >= 0x477ff000u) // rounds to >= 65520: overflow to inf
    return static_cast<uint16_t>(sign | 0x7c00u);
  if (absx < 0x38800000u) { // below the smallest normal half (2^-14): subnormal or zero
    float a = std::bit_cast<float>(absx);
    // Subnormal halves are multiples of 2^-24; nearbyint rounds half to even.
    return static_cast<uint16_t>(sign | static_cast<uint32_t>(std::nearbyint(a * 16777216.0f)));
  }
  uint32_t mant = absx & 0x7fffffu;
  uint32_t exp = (absx >> 23) - 127 + 15;
  uint32_t h = (exp << 10) | (mant >> 13);
  uint32_t rest = mant & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u)))
    ++h; // carries into the exponent correctly
  return static_cast<uint16_t>(sign | h);
}

inline float halfBitsToFloat(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    float v = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -v : v;
  }
  if (exp == 31)
    return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));
  return std::bit_cast<float>(sign | ((exp - 15 + 127) << 23) | (mant << 13));
}

inline uint16_t floatToBf16Bits(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u)
    return static_cast<uint16_t>((x >> 16) | 0x40u); // quiet nan
  uint32_t lsb = (x >> 16) & 1u;
  return static_cast<uint16_t>((x + 0x7fffu + lsb) >> 16);
}

inline float bf16BitsToFloat(uint16_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b) << 16); }

// ---- Host buffers ------------------------------------------------------------------------------------

inline size_t dtypeBytes(DType d) {
  switch (d) {
  case DType::I1:
  case DType::I8:
  case DType::U8:
  case DType::F8E4M3:
  case DType::F8E5M2:
    return 1;
  case DType::I16:
  case DType::U16:
  case DType::F16:
  case DType::BF16:
    return 2;
  case DType::I32:
  case DType::U32:
  case DType::F32:
    return 4;
  case DType::I64:
  case DType::U64:
  case DType::F64:
    return 8;
  }
  return 0;
}

/// A typed host buffer of `size()` elements followed by `slack` poisoned elements that the kernel is
/// not told about (its LaunchArg covers only the first `size()`): a write there is a bounds bug.
class Buffer {
public:
  Buffer(DType dtype, size_t n, size_t slack = 0)
      : dtype_(dtype), n_(n), slack_(slack), bytes_((n + slack) * dtypeBytes(dtype), kPoisonByte) {}

  static constexpr uint8_t kPoisonByte = 0xAB;

  DType dtype() const { return dtype_; }
  size_t size() const { return n_; }
  void *data() { return bytes_.data(); }
  const void *data() const { return bytes_.data(); }
  /// The launch argument: the first size() elements only.
  LaunchArg arg() { return LaunchArg::buffer(bytes_.data(), n_ * dtypeBytes(dtype_)); }

  double get(size_t i) const {
    const uint8_t *p = bytes_.data() + i * dtypeBytes(dtype_);
    switch (dtype_) {
    case DType::F8E4M3:
      return mt::cpu::fp8BitsToFloat(*p, mt::DType::F8E4M3);
    case DType::F8E5M2:
      return mt::cpu::fp8BitsToFloat(*p, mt::DType::F8E5M2);
    case DType::I1:
    case DType::U8:
      return *p;
    case DType::I8:
      return load<int8_t>(p);
    case DType::I16:
      return load<int16_t>(p);
    case DType::U16:
      return load<uint16_t>(p);
    case DType::I32:
      return load<int32_t>(p);
    case DType::U32:
      return load<uint32_t>(p);
    case DType::I64:
      return static_cast<double>(load<int64_t>(p));
    case DType::U64:
      return static_cast<double>(load<uint64_t>(p));
    case DType::F16:
      return halfBitsToFloat(load<uint16_t>(p));
    case DType::BF16:
      return bf16BitsToFloat(load<uint16_t>(p));
    case DType::F32:
      return load<float>(p);
    case DType::F64:
      return load<double>(p);
    }
    return 0;
  }

  /// Stores `v` rounded to the dtype (integers: truncated).
  void set(size_t i, double v) {
    uint8_t *p = bytes_.data() + i * dtypeBytes(dtype_);
    switch (dtype_) {
    case DType::F8E4M3:
      return store<uint8_t>(p, mt::cpu::floatToFp8Bits(float(v), mt::DType::F8E4M3));
    case DType::F8E5M2:
      return store<uint8_t>(p, mt::cpu::floatToFp8Bits(float(v), mt::DType::F8E5M2));
    case DType::I1:
    case DType::U8:
      return store<uint8_t>(p, static_cast<uint8_t>(v));
    case DType::I8:
      return store<int8_t>(p, static_cast<int8_t>(v));
    case DType::I16:
      return store<int16_t>(p, static_cast<int16_t>(v));
    case DType::U16:
      return store<uint16_t>(p, static_cast<uint16_t>(v));
    case DType::I32:
      return store<int32_t>(p, static_cast<int32_t>(v));
    case DType::U32:
      return store<uint32_t>(p, static_cast<uint32_t>(v));
    case DType::I64:
      return store<int64_t>(p, static_cast<int64_t>(v));
    case DType::U64:
      return store<uint64_t>(p, static_cast<uint64_t>(v));
    case DType::F16:
      return store<uint16_t>(p, floatToHalfBits(static_cast<float>(v)));
    case DType::BF16:
      return store<uint16_t>(p, floatToBf16Bits(static_cast<float>(v)));
    case DType::F32:
      return store<float>(p, static_cast<float>(v));
    case DType::F64:
      return store<double>(p, v);
    }
  }

  /// Poisons the visible elements: NaN for floats, 0xAB bytes for integers. (The slack is always
  /// 0xAB bytes.)
  void poison() {
    std::fill(bytes_.begin(), bytes_.begin() + n_ * dtypeBytes(dtype_), kPoisonByte);
    if (!isFloat(dtype_))
      return;
    for (size_t i = 0; i < n_; ++i)
      set(i, std::numeric_limits<double>::quiet_NaN());
  }

  /// True if the slack after size() still holds the poison bytes.
  bool slackUntouched() const {
    return std::all_of(bytes_.begin() + n_ * dtypeBytes(dtype_), bytes_.end(),
                       [](uint8_t b) { return b == kPoisonByte; });
  }

  /// Element i's raw bytes are the poison (for integer buffers) or NaN (for floats).
  bool isPoisoned(size_t i) const {
    if (isFloat(dtype_))
      return std::isnan(get(i));
    const uint8_t *p = bytes_.data() + i * dtypeBytes(dtype_);
    return std::all_of(p, p + dtypeBytes(dtype_), [](uint8_t b) { return b == kPoisonByte; });
  }

  std::vector<double> values() const {
    std::vector<double> v(n_);
    for (size_t i = 0; i < n_; ++i)
      v[i] = get(i);
    return v;
  }

private:
  template <typename T> static T load(const uint8_t *p) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
  }
  template <typename T> static void store(uint8_t *p, T v) { std::memcpy(p, &v, sizeof(T)); }

  DType dtype_;
  size_t n_, slack_;
  std::vector<uint8_t> bytes_;
};

// ---- Random inputs -----------------------------------------------------------------------------------

/// A seeded generator. Every test uses its own fixed seed, so failures reproduce.
class Rng {
public:
  explicit Rng(uint64_t seed) : gen_(seed) {}

  /// Uniform in [lo, hi), never exactly zero (tests must not pass on zero-filled memory).
  double uniform(double lo, double hi) {
    for (;;) {
      double v = std::uniform_real_distribution<double>(lo, hi)(gen_);
      if (std::abs(v) > 1e-3)
        return v;
    }
  }
  double normal() { return std::normal_distribution<double>(0.0, 1.0)(gen_); }
  int64_t integer(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(gen_); }

  /// Fills a buffer with uniform values in [lo, hi) (rounded to its dtype).
  void fill(Buffer &b, double lo = -1.0, double hi = 1.0) {
    for (size_t i = 0; i < b.size(); ++i)
      b.set(i, isFloat(b.dtype()) ? uniform(lo, hi) : static_cast<double>(integer((int64_t)lo, (int64_t)hi)));
  }

private:
  std::mt19937_64 gen_;
};

// ---- Comparison ------------------------------------------------------------------------------------

/// |got - ref| <= atol + rtol * |ref| elementwise.
struct Tolerance {
  double rtol;
  double atol;
};

/// Default tolerances per dtype of the compared output.
inline Tolerance toleranceFor(DType d) {
  switch (d) {
  case DType::F16:
    return {1e-2, 1e-2};
  case DType::BF16:
    return {2e-2, 2e-2};
  case DType::F32:
    return {1e-5, 1e-5};
  case DType::F64:
    return {1e-12, 1e-12};
  default:
    return {0.0, 0.0}; // integers: exact
  }
}

/// Compares got[i] (i < ref.size()) with the reference; NaN (an unwritten, poisoned element) always
/// fails. Reports the number of mismatches, the first few, and the max abs error.
inline ::testing::AssertionResult allClose(const std::vector<double> &got, const std::vector<double> &ref,
                                           Tolerance tol) {
  if (got.size() < ref.size())
    return ::testing::AssertionFailure() << "got " << got.size() << " values, want " << ref.size();
  size_t bad = 0;
  double maxErr = 0.0;
  std::ostringstream first;
  for (size_t i = 0; i < ref.size(); ++i) {
    double err = std::abs(got[i] - ref[i]);
    bool ok = !std::isnan(got[i]) && err <= tol.atol + tol.rtol * std::abs(ref[i]);
    if (std::isnan(ref[i]) && std::isnan(got[i]))
      ok = true;
    if (!std::isnan(err))
      maxErr = std::max(maxErr, err);
    if (ok)
      continue;
    if (bad < 8)
      first << "\n  [" << i << "] got " << got[i] << ", want " << ref[i];
    ++bad;
  }
  if (bad == 0)
    return ::testing::AssertionSuccess() << "max abs error " << maxErr;
  return ::testing::AssertionFailure()
         << bad << " of " << ref.size() << " elements differ (rtol " << tol.rtol << ", atol " << tol.atol
         << ", max abs error " << maxErr << "):" << first.str();
}

/// |got[i] - ref[i]| <= bound[i] elementwise (for error bounds that depend on the element, like a
/// dot product's sum of |a_ik * b_kj|).
inline ::testing::AssertionResult withinBounds(const std::vector<double> &got, const std::vector<double> &ref,
                                               const std::vector<double> &bound) {
  size_t bad = 0;
  double maxErr = 0.0;
  std::ostringstream first;
  for (size_t i = 0; i < ref.size(); ++i) {
    double err = std::abs(got[i] - ref[i]);
    if (!std::isnan(err))
      maxErr = std::max(maxErr, err);
    if (!std::isnan(got[i]) && err <= bound[i])
      continue;
    if (bad < 8)
      first << "\n  [" << i << "] got " << got[i] << ", want " << ref[i] << " +- " << bound[i];
    ++bad;
  }
  if (bad == 0)
    return ::testing::AssertionSuccess() << "max abs error " << maxErr;
  return ::testing::AssertionFailure()
         << bad << " of " << ref.size() << " elements out of bounds (max abs error " << maxErr
         << "):" << first.str();
}

inline ::testing::AssertionResult allClose(const Buffer &got, const std::vector<double> &ref) {
  return allClose(got.values(), ref, toleranceFor(got.dtype()));
}
inline ::testing::AssertionResult allClose(const Buffer &got, const std::vector<double> &ref, Tolerance tol) {
  return allClose(got.values(), ref, tol);
}

/// The message of a failed status, or "" if it succeeded.
inline std::string errorText(const Status &st) { return st ? std::string() : st.error().message; }

/// True if some line of `msg` is a caret line: only spaces/tildes and at least one '^'.
inline bool hasCaretLine(const std::string &msg) {
  std::istringstream in(msg);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find('^') == std::string::npos)
      continue;
    if (std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '^' || c == '~'; }))
      return true;
  }
  return false;
}

} // namespace mt::e2e
