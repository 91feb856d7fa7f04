// The values the lowering computes with: either an IR value (a tile or a scalar living in the kernel)
// or a compile-time Python value (int, float, bool, None, string, dtype, tuple, function, module, ...).
//
// Compile-time values stay compile-time until they meet an IR value; then they are materialised as
// IR constants, as "weak" scalars that take the other side's dtype where compatible (Triton's rule).
#pragma once

#include "frontend/Ast.h"
#include "ir/Operation.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mt::lower {

struct Val {
  enum class Kind {
    Undef,   // a name that may not be used (defined in one branch only); `s` says why
    None,    // None
    Bool,    // b
    Int,     // i
    Float,   // f
    Str,     // s
    DType,   // type: a scalar, pointer or block type (`x.dtype`, `tl.float32`, `ptr.dtype`)
    Tuple,   // elems (isList for [..])
    Func,    // fn in module fnModule: a user function (inlined when called)
    Builtin, // s: builtin name ("load", "py.min", "method.to"); elems[0]: bound `self`, if any
    Module,  // s: dotted path ("triton.language")
    Range,   // elems: start, end, step; b: static_range (unrolled)
    IR,      // v
  };
  Kind kind = Kind::None;
  bool b = false;
  int64_t i = 0;
  double f = 0.0;
  std::string s;
  const ir::Type *type = nullptr;
  std::vector<Val> elems;
  bool isList = false;
  const ast::FunctionDef *fn = nullptr;
  const ast::Module *fnModule = nullptr;
  ir::Value *v = nullptr;

  static Val none() { return {}; }
  static Val boolean(bool x) {
    Val r;
    r.kind = Kind::Bool;
    r.b = x;
    return r;
  }
  static Val integer(int64_t x) {
    Val r;
    r.kind = Kind::Int;
    r.i = x;
    return r;
  }
  static Val floating(double x) {
    Val r;
    r.kind = Kind::Float;
    r.f = x;
    return r;
  }
  static Val str(std::string x) {
    Val r;
    r.kind = Kind::Str;
    r.s = std::move(x);
    return r;
  }
  static Val dtype(const ir::Type *t) {
    Val r;
    r.kind = Kind::DType;
    r.type = t;
    return r;
  }
  static Val tuple(std::vector<Val> e, bool list = false) {
    Val r;
    r.kind = Kind::Tuple;
    r.elems = std::move(e);
    r.isList = list;
    return r;
  }
  static Val builtin(std::string name) {
    Val r;
    r.kind = Kind::Builtin;
    r.s = std::move(name);
    return r;
  }
  static Val method(std::string name, Val self) {
    Val r = builtin(std::move(name));
    r.elems.push_back(std::move(self));
    return r;
  }
  static Val module(std::string path) {
    Val r;
    r.kind = Kind::Module;
    r.s = std::move(path);
    return r;
  }
  static Val func(const ast::FunctionDef *f, const ast::Module *m) {
    Val r;
    r.kind = Kind::Func;
    r.fn = f;
    r.fnModule = m;
    return r;
  }
  static Val ir(ir::Value *x) {
    Val r;
    r.kind = Kind::IR;
    r.v = x;
    return r;
  }
  static Val undef(std::string why) {
    Val r;
    r.kind = Kind::Undef;
    r.s = std::move(why);
    return r;
  }

  bool isIR() const { return kind == Kind::IR; }
  bool isNone() const { return kind == Kind::None; }
  bool isTuple() const { return kind == Kind::Tuple; }
  /// A compile-time int, float or bool.
  bool isNumber() const { return kind == Kind::Int || kind == Kind::Float || kind == Kind::Bool; }
  bool isIntLike() const { return kind == Kind::Int || kind == Kind::Bool; }
  /// The number as a double / int64 (bool as 0/1).
  double asDouble() const { return kind == Kind::Float ? f : kind == Kind::Int ? double(i) : double(b); }
  int64_t asInt() const { return kind == Kind::Int ? i : kind == Kind::Bool ? int64_t(b) : int64_t(f); }
  const ir::Type *irType() const { return v ? v->type() : nullptr; }
};

/// Structural equality of compile-time values (IR values: the same SSA value).
bool sameVal(const Val &a, const Val &b);
/// Python-like rendering for static_print and messages ("128", "fp32", "(1, 2)", "tensor<128xf32>").
std::string repr(const Val &v);
/// What kind of thing it is, for messages: "int", "float", "tensor<128xf32>", "i32", "function", ...
std::string describe(const Val &v);
/// Python truthiness of a compile-time value; false if not compile-time (check isCompileTime first).
bool truthy(const Val &v);
/// Whether the value is fully known at compile time (tuples: all elements).
bool isCompileTime(const Val &v);

} // namespace mt::lower
