// IR types: element dtypes, and the interned scalar, pointer and block (tile) types built on them.
//
// Types are interned by a TypeContext and compared by pointer. A block type's element is a scalar or a
// pointer type; its shape is a list of positive extents (powers of two for tiles made by the frontend).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mt::ir {

/// Element types. Order matters for nothing but printing. F8E4M3 / F8E5M2 are Triton's fp8e4nv (e4m3fn: no
/// infinities, max 448) and fp8e5 (e5m2); like f16 / bf16 they are computed in f32 and rounded back.
enum class DType : uint8_t {
  I1,
  I8,
  I16,
  I32,
  I64,
  U8,
  U16,
  U32,
  U64,
  F16,
  BF16,
  F32,
  F64,
  F8E4M3,
  F8E5M2
}; // F8E5M2 last (TypeContext)

unsigned bitWidth(DType d);
inline bool isFp8(DType d) { return d == DType::F8E4M3 || d == DType::F8E5M2; }
inline bool isFloat(DType d) {
  return d == DType::F16 || d == DType::BF16 || d == DType::F32 || d == DType::F64 || isFp8(d);
}
inline bool isInteger(DType d) { return !isFloat(d); } // includes i1
inline bool isBool(DType d) { return d == DType::I1; }
inline bool isUnsigned(DType d) { return d >= DType::U8 && d <= DType::U64; }
inline bool isSigned(DType d) { return d >= DType::I1 && d <= DType::I64; }
/// IR spelling: i1 i8 i16 i32 i64 u8 u16 u32 u64 f16 bf16 f32 f64 f8e4m3 f8e5m2.
std::string_view dtypeName(DType d);
/// Triton spelling: int1 int8 … uint64 fp16 bf16 fp32 fp64 fp8e4nv fp8e5.
std::string_view tritonDtypeName(DType d);
/// Accepts both spellings plus the aliases Triton users write (float32, float16, bfloat16, float64,
/// int32, …, "bool").
std::optional<DType> parseDType(std::string_view s);
/// x rounded to the fp8 dtype `d`: nearest even on the format's grid, saturating to its largest finite
/// value (448 for f8e4m3, 57344 for f8e5m2; the GPU's cvt.rn.satfinite, infinities included); NaN stays NaN.
double roundToFp8(double x, DType d);
DType signedIntOfWidth(unsigned bits);
DType unsignedIntOfWidth(unsigned bits);

class TypeContext;

class Type {
public:
  enum class Kind : uint8_t { Void, Scalar, Pointer, Block };

  Kind kind() const { return kind_; }
  bool isVoid() const { return kind_ == Kind::Void; }
  bool isScalar() const { return kind_ == Kind::Scalar; }
  bool isPointer() const { return kind_ == Kind::Pointer; }
  bool isBlock() const { return kind_ == Kind::Block; }

  /// Scalar: its dtype. Block of scalars: the element dtype. Pointer (or block of pointers): the
  /// pointee's dtype.
  DType dtype() const { return dtype_; }
  /// Block: the element type (scalar or pointer). Pointer: the pointee. Others: null.
  const Type *element() const { return element_; }
  /// Block → its element type; scalar/pointer → itself.
  const Type *scalarType() const { return isBlock() ? element_ : this; }
  /// True for a pointer or a block of pointers.
  bool isPointerLike() const { return scalarType()->isPointer(); }
  bool isFloatLike() const { return !isPointerLike() && !isVoid() && isFloat(dtype_); }
  bool isIntLike() const { return !isPointerLike() && !isVoid() && isInteger(dtype_); }
  const std::vector<int64_t> &shape() const { return shape_; }
  unsigned rank() const { return static_cast<unsigned>(shape_.size()); }
  int64_t numElements() const;

  /// Printed form: `f32`, `ptr<f16>`, `tensor<128x64xf32>`, `tensor<128xptr<f32>>`, `void`.
  std::string str() const;

private:
  friend class TypeContext;
  Type(Kind k, DType d, const Type *elem, std::vector<int64_t> shape)
      : kind_(k), dtype_(d), element_(elem), shape_(std::move(shape)) {}
  Kind kind_;
  DType dtype_;
  const Type *element_;
  std::vector<int64_t> shape_;
};

/// Interns types. Thread-safe; lives as long as every module that uses its types.
class TypeContext {
public:
  TypeContext();
  const Type *voidType() const { return void_; }
  const Type *scalar(DType d) const { return scalars_[static_cast<unsigned>(d)]; }
  const Type *pointer(const Type *pointee);
  const Type *block(const Type *element, const std::vector<int64_t> &shape);
  /// `base` with its element (or itself, if scalar) replaced by `elem`, keeping the shape.
  const Type *withElement(const Type *base, const Type *elem);
  /// Same shape as `base`, element dtype `d`.
  const Type *withDType(const Type *base, DType d) { return withElement(base, scalar(d)); }
  /// `elem` if shape is empty, else a block type of that shape.
  const Type *shaped(const Type *elem, const std::vector<int64_t> &shape) {
    return shape.empty() ? elem : block(elem, shape);
  }

  /// NumPy broadcasting of two shapes; nullopt if incompatible.
  static std::optional<std::vector<int64_t>> broadcastShapes(const std::vector<int64_t> &a,
                                                             const std::vector<int64_t> &b);

private:
  std::mutex mutex_;
  std::vector<std::unique_ptr<Type>> owned_;
  const Type *void_;
  std::vector<const Type *> scalars_;
  std::map<const Type *, const Type *> pointers_;
  std::map<std::pair<const Type *, std::vector<int64_t>>, const Type *> blocks_;
};

} // namespace mt::ir
