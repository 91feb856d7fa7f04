// The `mathfn` op's functions (ir/MathFns.def): what each takes and returns, and its reference value.
#pragma once

#include <cstdint>
#include <string_view>

namespace mt::ir {

struct MathFn {
  enum class Domain : uint8_t { Float, F32, Int };
  enum class Result : uint8_t { Same, I32 };
  std::string_view name;
  int arity;
  Domain domain;
  Result result;
};

/// The function named `name`, or null.
const MathFn *findMathFn(std::string_view name);

/// The reference value of a Float / F32 function, computed in double precision (the caller rounds it to the
/// operands' type once). `b` is ignored by one-operand functions; `single`: the operands are f32 (or f16 /
/// bf16, computed through f32), for the functions whose result depends on the precision (nextafter).
using MathFnEval = double (*)(double a, double b, bool single);
/// The evaluator of a Float / F32 function, looked up once per op rather than per element.
MathFnEval mathFnEval(const MathFn &fn);

/// The value of an Int function on `bits`-wide operands (32 or 64) given as their bit patterns, signed or
/// not; an I32 result comes back as its (non-negative) count.
uint64_t evalIntMathFn(const MathFn &fn, uint64_t a, uint64_t b, unsigned bits, bool isSigned);

} // namespace mt::ir
