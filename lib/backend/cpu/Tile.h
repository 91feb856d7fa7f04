// Run-time values of the CPU interpreter: scalars and tiles, stored compactly per dtype.
//
// A Tile is a shape plus a row-major array of elements. A scalar is a tile of rank 0 (one element), so
// every op has one code path. Element storage per dtype:
//   i1 → Bool (one byte, 0 or 1)   i8..i64, u8..u64 → the C++ integer of that width
//   f16 → Half, bf16 → BFloat (raw bits; math happens in float and is rounded back after every op)
//   f32 → float, f64 → double      pointers → Ptr (buffer = index of the kernel parameter, byte offset)
// Hot loops dispatch on the dtype once (MT_DISPATCH_DTYPE) and then run typed, without per-element
// virtual calls.
#pragma once

#include "ir/Types.h"
#include "support/SourceLoc.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mt::cpu {

using ir::DType;

// ---- Element types ----------------------------------------------------------------------------------
struct Bool {
  uint8_t v;
};
struct Half {
  uint16_t bits;
};
struct BFloat {
  uint16_t bits;
};
/// Triton's fp8e4nv (e4m3fn) and fp8e5 (e5m2), raw bits.
struct F8E4M3 {
  uint8_t bits;
};
struct F8E5M2 {
  uint8_t bits;
};
/// A device pointer: the buffer (the index of the kernel parameter it came from) and a byte offset; or, for
/// an integer cast to a pointer that is not inside a buffer argument, kRawAddress and the address itself.
struct Ptr {
  int64_t offset;
  int64_t buffer;
  friend bool operator==(const Ptr &, const Ptr &) = default;
};
inline constexpr int64_t kRawAddress = -2;

/// float → f16 bits, round to nearest even (overflow → inf, NaN stays NaN).
uint16_t floatToHalfBits(float f);
float halfBitsToFloat(uint16_t h);
/// float → bf16 bits, round to nearest even.
uint16_t floatToBFloatBits(float f);
inline float bfloatBitsToFloat(uint16_t b) { return std::bit_cast<float>(uint32_t(b) << 16); }
/// double → float rounded to odd: a float that, rounded again to f16/bf16 (≤ 22 fewer mantissa bits),
/// gives the correctly rounded result of the double (no double-rounding error).
float doubleToFloatRoundOdd(double d);

/// fp8 bits of dtype d (F8E4M3: e4m3fn, no infinities, all-ones NaN; F8E5M2) <-> float. float -> fp8 rounds
/// as ir::roundToFp8 (nearest even, saturating, as the GPU's cvt.rn.satfinite: device/types.cuh fp8Bits).
float fp8BitsToFloat(uint8_t b, DType d);
uint8_t floatToFp8Bits(float f, DType d);

inline Half toHalf(float f) { return Half{floatToHalfBits(f)}; }
inline BFloat toBFloat(float f) { return BFloat{floatToBFloatBits(f)}; }

/// The type arithmetic happens in: float for f16/bf16/f32, double for f64, int64/uint64 for integers.
template <class T> struct Num;
template <> struct Num<Bool> {
  using C = int64_t;
  static C get(Bool x) { return x.v; }
  static Bool make(C c) { return Bool{uint8_t(c & 1)}; }
};
#define MT_INT_NUM(T, W)                                                                                     \
  template <> struct Num<T> {                                                                                \
    using C = W;                                                                                             \
    static C get(T x) { return x; }                                                                          \
    static T make(C c) { return static_cast<T>(c); }                                                         \
  };
MT_INT_NUM(int8_t, int64_t)
MT_INT_NUM(int16_t, int64_t)
MT_INT_NUM(int32_t, int64_t)
MT_INT_NUM(int64_t, int64_t)
MT_INT_NUM(uint8_t, uint64_t)
MT_INT_NUM(uint16_t, uint64_t)
MT_INT_NUM(uint32_t, uint64_t)
MT_INT_NUM(uint64_t, uint64_t)
#undef MT_INT_NUM
template <> struct Num<Half> {
  using C = float;
  static C get(Half x) { return halfBitsToFloat(x.bits); }
  static Half make(C c) { return toHalf(c); }
};
template <> struct Num<BFloat> {
  using C = float;
  static C get(BFloat x) { return bfloatBitsToFloat(x.bits); }
  static BFloat make(C c) { return toBFloat(c); }
};
template <> struct Num<F8E4M3> {
  using C = float;
  static C get(F8E4M3 x) { return fp8BitsToFloat(x.bits, DType::F8E4M3); }
  static F8E4M3 make(C c) { return F8E4M3{floatToFp8Bits(c, DType::F8E4M3)}; }
};
template <> struct Num<F8E5M2> {
  using C = float;
  static C get(F8E5M2 x) { return fp8BitsToFloat(x.bits, DType::F8E5M2); }
  static F8E5M2 make(C c) { return F8E5M2{floatToFp8Bits(c, DType::F8E5M2)}; }
};
template <> struct Num<float> {
  using C = float;
  static C get(float x) { return x; }
  static float make(C c) { return c; }
};
template <> struct Num<double> {
  using C = double;
  static C get(double x) { return x; }
  static double make(C c) { return c; }
};

template <class T> constexpr bool IsFloatElem = std::is_floating_point_v<typename Num<T>::C>;

/// Runs `body` with `T` bound to the storage type of dtype `dt`.
#define MT_DISPATCH_DTYPE(dt, T, ...)                                                                        \
  switch (dt) {                                                                                              \
  case ::mt::ir::DType::I1: {                                                                                \
    using T = ::mt::cpu::Bool;                                                                               \
    __VA_ARGS__;                                                                                             \
  } break;                                                                                                   \
  case ::mt::ir::DType::I8: {                                                                                \
    using T = int8_t;                                                                                        \
    __VA_ARGS__;                                                                                             \
  } break;                                                                                                   \
  case ::mt::ir::DType::I16: {                                                                               \
    using T = int16_t;                                                                                       \
    __VA_ARGS__;                                                                                             \
  } break;                                                                                                   \
  case ::mt::ir::DType::I32: {                                                                               \
    using T = int32_t;                                                                                       \
    __VA_ARGS__;                                                                                             \
  } break;                                                                                                   \
  case ::mt::ir::DType::I64: {                                                                               \
    using T = int64_t;                                                                                       \
    __VA_ARGS__;                                                                                             \
  } break;                                                                                                   \
  case ::mt::ir::DType::U8: {                                                                                \
    using T = uint8_t;                                                                                       \
    __VA_ARGS__;                                                                                             \
  } break;                                                                                                   \
  case ::mt::ir::DType::U16: {                                                                               \
    using T = uint16_t;                                                                                      \
    __VA_ARGS__;                                                                                             \
  } break;                                                                                                   \
  case ::mt::ir::DType::U32: {                                                                               \
    using T = uint32_t;                                                                                      \
    __VA_ARGS__;                                                                                             \
  } break;                                                                                                   \
  case ::mt::ir::DType::U64: {                                                                               \
    using T = uint64_t;                                                                                      \
    __VA_ARGS__;                                                                                             \
  } break;                                                                                                   \
  case ::mt::ir::DType::F16: {                                                                               \
    using T = ::mt::cpu::Half;                                                                               \
    __VA_ARGS__;                                                                                             \
  } break;                                                                                                   \
  case ::mt::ir::DType::BF16: {                                                                              \
    using T = ::mt::cpu::BFloat;                                                                             \
    __VA_ARGS__;                                                                                             \
  } break;                                                                                                   \
  case ::mt::ir::DType::F32: {                                                                               \
    using T = float;                                                                                         \
    __VA_ARGS__;                                                                                             \
  } break;                                                                                                   \
  case ::mt::ir::DType::F64: {                                                                               \
    using T = double;                                                                                        \
    __VA_ARGS__;                                                                                             \
  } break;                                                                                                   \
  case ::mt::ir::DType::F8E4M3: {                                                                            \
    using T = ::mt::cpu::F8E4M3;                                                                             \
    __VA_ARGS__;                                                                                             \
  } break;                                                                                                   \
  case ::mt::ir::DType::F8E5M2: {                                                                            \
    using T = ::mt::cpu::F8E5M2;                                                                             \
    __VA_ARGS__;                                                                                             \
  } break;                                                                                                   \
  }

/// Bytes of one element of dtype `d` in memory and in a tile (i1 takes a byte).
inline unsigned byteWidth(DType d) { return d == DType::I1 ? 1 : ir::bitWidth(d) / 8; }

// ---- Tile -------------------------------------------------------------------------------------------
/// Zero-initialised 8-byte words; up to two (a scalar, or a pointer) live inline without allocating,
/// which keeps scalar code (loop counters, combine regions) cheap.
class Words {
public:
  Words() = default;
  explicit Words(size_t n) : n_(n) {
    if (n > kInline)
      heap_.reset(new uint64_t[n]());
  }
  Words(const Words &o) : n_(o.n_) {
    if (o.heap_) {
      heap_.reset(new uint64_t[n_]);
      std::memcpy(heap_.get(), o.heap_.get(), n_ * 8);
    } else {
      std::memcpy(inline_, o.inline_, sizeof inline_);
    }
  }
  Words(Words &&o) noexcept : n_(std::exchange(o.n_, 0)), heap_(std::move(o.heap_)) {
    std::memcpy(inline_, o.inline_, sizeof inline_);
  }
  Words &operator=(const Words &o) {
    if (this != &o)
      *this = Words(o);
    return *this;
  }
  Words &operator=(Words &&o) noexcept {
    if (this == &o)
      return *this;
    n_ = std::exchange(o.n_, 0);
    heap_ = std::move(o.heap_);
    std::memcpy(inline_, o.inline_, sizeof inline_);
    return *this;
  }
  uint64_t *data() { return heap_ ? heap_.get() : inline_; }
  const uint64_t *data() const { return heap_ ? heap_.get() : inline_; }

private:
  static constexpr size_t kInline = 2;
  size_t n_ = 0;
  uint64_t inline_[kInline] = {0, 0};
  std::unique_ptr<uint64_t[]> heap_;
};

/// A scalar (rank 0) or a tile. For a pointer tile, `dtype` is the pointee's dtype and the elements
/// are Ptr.
class Tile {
public:
  /// An empty placeholder (no elements): the state of a slot before its value is computed.
  Tile() = default;
  Tile(DType dtype, bool isPtr, std::vector<int64_t> shape)
      : dtype_(dtype), isPtr_(isPtr), shape_(std::move(shape)) {
    size_t n = 1;
    for (int64_t d : shape_)
      n *= size_t(d);
    numel_ = n;
    words_ = Words((n * elemSize() + 7) / 8);
  }
  Tile(const Tile &) = default;
  Tile &operator=(const Tile &) = default;
  /// A moved-from tile is empty (numel() == 0), like an unset slot.
  Tile(Tile &&o) noexcept
      : dtype_(o.dtype_), isPtr_(o.isPtr_), shape_(std::move(o.shape_)), numel_(std::exchange(o.numel_, 0)),
        words_(std::move(o.words_)) {}
  Tile &operator=(Tile &&o) noexcept {
    if (this == &o)
      return *this;
    dtype_ = o.dtype_;
    isPtr_ = o.isPtr_;
    shape_ = std::move(o.shape_);
    numel_ = std::exchange(o.numel_, 0);
    words_ = std::move(o.words_);
    return *this;
  }
  /// A tile shaped and typed like an IR type (scalar, pointer or block).
  static Tile ofType(const ir::Type *t) {
    return Tile(t->dtype(), t->isPointerLike(), t->isBlock() ? t->shape() : std::vector<int64_t>{});
  }

  DType dtype() const { return dtype_; }
  bool isPtr() const { return isPtr_; }
  const std::vector<int64_t> &shape() const { return shape_; }
  unsigned rank() const { return unsigned(shape_.size()); }
  size_t numel() const { return numel_; }
  unsigned elemSize() const { return isPtr_ ? sizeof(Ptr) : byteWidth(dtype_); }
  bool sameLayout(const Tile &o) const {
    return dtype_ == o.dtype_ && isPtr_ == o.isPtr_ && shape_ == o.shape_;
  }

  void *raw() { return words_.data(); }
  const void *raw() const { return words_.data(); }
  template <class T> T *data() { return reinterpret_cast<T *>(words_.data()); }
  template <class T> const T *data() const { return reinterpret_cast<const T *>(words_.data()); }

  // ---- Slow, generic element access (printing, constants, control flow) ----
  /// Element i as a double (ints convert; pointers give their offset).
  double getDouble(size_t i) const;
  /// Element i as an int64 (floats truncate; unsigned 64-bit values wrap).
  int64_t getInt(size_t i) const;
  /// Element i as text (ints in decimal, floats shortest round-trip).
  std::string format(size_t i) const;
  /// Sets every element to the value (converted like a cast from f64 / i64).
  void fillDouble(double v);
  void fillInt(int64_t v);
  /// A one-element scalar tile holding element i.
  Tile element(size_t i) const;
  /// Copies the (single) element of `scalar` into element i.
  void setElement(size_t i, const Tile &scalar);
  /// Shape as "[a, b]" for messages.
  std::string shapeStr() const;

private:
  DType dtype_ = DType::I32;
  bool isPtr_ = false;
  std::vector<int64_t> shape_;
  size_t numel_ = 0; // a default Tile holds nothing (an unset slot); real tiles have >= 1 element
  Words words_;
};

/// Converts one value between element types with the GPU's cast semantics: float→int truncates and
/// saturates (NaN → 0), int→float and float→float round to nearest even, anything→i1 is (x != 0).
template <class To, class From> To convertElem(From x);

/// A user-visible failure while running a kernel (out-of-bounds access, overflow, device_assert, …).
/// Thrown inside the interpreter; the dispatcher attaches the location of the op that failed.
struct KernelError {
  std::string message;
  SourceLoc loc = {};
  bool hasLoc = false;
};

} // namespace mt::cpu

#include "backend/cpu/Convert.inc"
