#include "ir/Types.h"

#include <algorithm>
#include <cmath>

namespace mt::ir {

unsigned bitWidth(DType d) {
  switch (d) {
  case DType::I1:
    return 1;
  case DType::I8:
  case DType::U8:
  case DType::F8E4M3:
  case DType::F8E5M2:
    return 8;
  case DType::I16:
  case DType::U16:
  case DType::F16:
  case DType::BF16:
    return 16;
  case DType::I32:
  case DType::U32:
  case DType::F32:
    return 32;
  case DType::I64:
  case DType::U64:
  case DType::F64:
    return 64;
  }
  return 0;
}

std::string_view dtypeName(DType d) {
  switch (d) {
  case DType::I1:
    return "i1";
  case DType::I8:
    return "i8";
  case DType::I16:
    return "i16";
  case DType::I32:
    return "i32";
  case DType::I64:
    return "i64";
  case DType::U8:
    return "u8";
  case DType::U16:
    return "u16";
  case DType::U32:
    return "u32";
  case DType::U64:
    return "u64";
  case DType::F16:
    return "f16";
  case DType::BF16:
    return "bf16";
  case DType::F32:
    return "f32";
  case DType::F64:
    return "f64";
  case DType::F8E4M3:
    return "f8e4m3";
  case DType::F8E5M2:
    return "f8e5m2";
  }
  return "?";
}

std::string_view tritonDtypeName(DType d) {
  switch (d) {
  case DType::I1:
    return "int1";
  case DType::I8:
    return "int8";
  case DType::I16:
    return "int16";
  case DType::I32:
    return "int32";
  case DType::I64:
    return "int64";
  case DType::U8:
    return "uint8";
  case DType::U16:
    return "uint16";
  case DType::U32:
    return "uint32";
  case DType::U64:
    return "uint64";
  case DType::F16:
    return "fp16";
  case DType::BF16:
    return "bf16";
  case DType::F32:
    return "fp32";
  case DType::F64:
    return "fp64";
  case DType::F8E4M3:
    return "fp8e4nv";
  case DType::F8E5M2:
    return "fp8e5";
  }
  return "?";
}

std::optional<DType> parseDType(std::string_view s) {
  static const std::pair<std::string_view, DType> table[] = {
      {"i1", DType::I1},         {"int1", DType::I1},        {"bool", DType::I1},
      {"i8", DType::I8},         {"int8", DType::I8},        {"i16", DType::I16},
      {"int16", DType::I16},     {"i32", DType::I32},        {"int32", DType::I32},
      {"i64", DType::I64},       {"int64", DType::I64},      {"u8", DType::U8},
      {"uint8", DType::U8},      {"u16", DType::U16},        {"uint16", DType::U16},
      {"u32", DType::U32},       {"uint32", DType::U32},     {"u64", DType::U64},
      {"uint64", DType::U64},    {"f16", DType::F16},        {"fp16", DType::F16},
      {"float16", DType::F16},   {"half", DType::F16},       {"bf16", DType::BF16},
      {"bfloat16", DType::BF16}, {"f32", DType::F32},        {"fp32", DType::F32},
      {"float32", DType::F32},   {"float", DType::F32},      {"f64", DType::F64},
      {"fp64", DType::F64},      {"float64", DType::F64},    {"double", DType::F64},
      {"f8e4m3", DType::F8E4M3}, {"fp8e4nv", DType::F8E4M3}, {"float8e4nv", DType::F8E4M3},
      {"f8e5m2", DType::F8E5M2}, {"fp8e5", DType::F8E5M2},   {"float8e5", DType::F8E5M2},
  };
  for (const auto &[name, d] : table)
    if (name == s)
      return d;
  return std::nullopt;
}

double roundToFp8(double x, DType d) {
  // e4m3fn: 4 significant bits, normal exponents -6..8, max 1.75 * 2^8; e5m2: 3 bits, -14..15, 1.75 * 2^15.
  bool e4 = d == DType::F8E4M3;
  int precision = e4 ? 4 : 3, minExp = e4 ? -6 : -14;
  double maxFinite = e4 ? 448.0 : 57344.0;
  if (std::isnan(x) || x == 0)
    return x;
  if (std::fabs(x) >= maxFinite)
    return std::copysign(maxFinite, x);
  int e = 0;
  std::frexp(x, &e);                                       // |x| in [2^(e-1), 2^e)
  int q = std::max(e - precision, minExp - precision + 1); // exponent of one step (subnormals too)
  double r = std::ldexp(std::nearbyint(std::ldexp(x, -q)), q);
  return std::fabs(r) > maxFinite ? std::copysign(maxFinite, x) : r;
}

DType signedIntOfWidth(unsigned bits) {
  switch (bits) {
  case 1:
    return DType::I1;
  case 8:
    return DType::I8;
  case 16:
    return DType::I16;
  case 32:
    return DType::I32;
  default:
    return DType::I64;
  }
}

DType unsignedIntOfWidth(unsigned bits) {
  switch (bits) {
  case 1:
    return DType::I1;
  case 8:
    return DType::U8;
  case 16:
    return DType::U16;
  case 32:
    return DType::U32;
  default:
    return DType::U64;
  }
}

int64_t Type::numElements() const {
  int64_t n = 1;
  for (int64_t e : shape_)
    n *= e;
  return n;
}

std::string Type::str() const {
  switch (kind_) {
  case Kind::Void:
    return "void";
  case Kind::Scalar:
    return std::string(dtypeName(dtype_));
  case Kind::Pointer:
    return "ptr<" + element_->str() + ">";
  case Kind::Block: {
    std::string s = "tensor<";
    for (int64_t e : shape_)
      s += std::to_string(e) + "x";
    return s + element_->str() + ">";
  }
  }
  return "?";
}

TypeContext::TypeContext() {
  owned_.push_back(std::unique_ptr<Type>(new Type(Type::Kind::Void, DType::I1, nullptr, {})));
  void_ = owned_.back().get();
  for (unsigned i = 0; i <= static_cast<unsigned>(DType::F8E5M2); ++i) { // every DType
    owned_.push_back(std::unique_ptr<Type>(new Type(Type::Kind::Scalar, static_cast<DType>(i), nullptr, {})));
    scalars_.push_back(owned_.back().get());
  }
}

const Type *TypeContext::pointer(const Type *pointee) {
  std::lock_guard lock(mutex_);
  auto it = pointers_.find(pointee);
  if (it != pointers_.end())
    return it->second;
  owned_.push_back(std::unique_ptr<Type>(new Type(Type::Kind::Pointer, pointee->dtype(), pointee, {})));
  pointers_[pointee] = owned_.back().get();
  return owned_.back().get();
}

const Type *TypeContext::block(const Type *element, const std::vector<int64_t> &shape) {
  element = element->scalarType();
  std::lock_guard lock(mutex_);
  auto key = std::make_pair(element, shape);
  auto it = blocks_.find(key);
  if (it != blocks_.end())
    return it->second;
  owned_.push_back(std::unique_ptr<Type>(new Type(Type::Kind::Block, element->dtype(), element, shape)));
  blocks_[key] = owned_.back().get();
  return owned_.back().get();
}

const Type *TypeContext::withElement(const Type *base, const Type *elem) {
  if (base->isBlock())
    return block(elem, base->shape());
  return elem;
}

std::optional<std::vector<int64_t>> TypeContext::broadcastShapes(const std::vector<int64_t> &a,
                                                                 const std::vector<int64_t> &b) {
  size_t n = std::max(a.size(), b.size());
  std::vector<int64_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1)
      return std::nullopt;
    out[i] = da == 1 ? db : da;
  }
  return out;
}

} // namespace mt::ir
