// Internal to the lowering: the Lowerer class shared by Lower.cpp (driver, names, statements, calls),
// LowerControl.cpp (if / for / while), LowerExpr.cpp (expressions, compile-time folding),
// Semantic.cpp (typed IR ops: promotion, broadcasting, casts) and Builtins*.cpp (tl.* functions).
#pragma once

#include "frontend/Lower.h"
#include "frontend/LowerValue.h"
#include "ir/Builder.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace mt::lower {

/// The arguments of a call, evaluated.
struct CallArgs {
  std::vector<Val> pos;
  std::vector<SourceLoc> posLocs;
  std::vector<std::string> kwNames;
  std::vector<Val> kwVals;
  std::vector<SourceLoc> kwLocs;
};

/// Arguments bound to a builtin's signature (see BuiltinDef::sig).
struct Bound {
  std::string fname; // "tl.load", for messages
  std::vector<std::optional<Val>> vals;
  std::vector<SourceLoc> locs;
  std::vector<Val> rest; // the `*args` of a variadic builtin
  std::vector<SourceLoc> restLocs;
  SourceLoc callLoc;

  /// Given and not None.
  bool has(size_t i) const { return vals[i].has_value() && !vals[i]->isNone(); }
  const Val &operator[](size_t i) const { return *vals[i]; }
  SourceLoc loc(size_t i) const { return locs[i].isValid() ? locs[i] : callLoc; }
  SourceLoc restLoc(size_t i) const;
};

class Lowerer;

/// A builtin: its signature and its handler. Signature entries are parameter names; "name?" is
/// optional, "*name" collects the remaining positional arguments, "**" accepts (and ignores) any
/// other keyword argument.
struct BuiltinDef {
  std::vector<std::string> sig;
  std::function<Val(Lowerer &, Bound &)> fn;
};
using BuiltinTable = std::map<std::string, BuiltinDef>;
void registerCoreBuiltins(BuiltinTable &t);   // Builtins.cpp
void registerMathBuiltins(BuiltinTable &t);   // BuiltinsMath.cpp
void registerReduceBuiltins(BuiltinTable &t); // BuiltinsReduce.cpp
void registerRandomBuiltins(BuiltinTable &t); // BuiltinsRandom.cpp
void registerOrderBuiltins(BuiltinTable &t);  // BuiltinsOrder.cpp
/// libdevice.<name>; after the others (it aliases some of them).
void registerLibdeviceBuiltins(BuiltinTable &t); // BuiltinsLibdevice.cpp

// Pieces the builtin files share.
/// The mask operand as i1 (or null when absent); anything but a boolean is an error, as in Triton.
ir::Value *maskArg(Lowerer &L, Bound &a, size_t i); // Builtins.cpp
/// tl.maximum / tl.minimum of two values (folded when both are numbers).
Val minMax(Lowerer &L, bool isMax, const Val &x, const Val &y, SourceLoc loc,
           bool propagateNaN = false); // BuiltinsMath.cpp
/// v with its dims in `order` (result dim i = v's dim order[i]); v itself for the identity.
ir::Value *permute(Lowerer &L, ir::Value *v, const std::vector<int64_t> &order); // BuiltinsOrder.cpp
/// A tensor descriptor (tl.make_tensor_descriptor, or a host TensorDescriptor parameter) is a compile-time
/// record: a tuple tagged "tensor_desc" of these fields (shape, strides and block_shape are tuples; padding
/// the string "zero" or "nan"). It never changes, so loops carry it whole.
/// A block pointer (tl.make_block_ptr) is a compile-time record: a tuple tagged "block_ptr" of these fields.
enum BlockPtrField { kBpBase, kBpShape, kBpStrides, kBpOffsets, kBpBlock, kBpOrder };
inline bool isBlockPtr(const Val &v) { return v.kind == Val::Kind::Tuple && v.s == "block_ptr"; }
enum TensorDescField { kTdBase, kTdShape, kTdStrides, kTdBlock, kTdPadding };
inline bool isTensorDesc(const Val &v) { return v.kind == Val::Kind::Tuple && v.s == "tensor_desc"; }
Val tensorDesc(Val base, std::vector<Val> shape, std::vector<Val> strides, const std::vector<int64_t> &block,
               bool nanPadding); // Builtins.cpp
/// The index of each element along `axis`, as an i32 tensor of `shape`.
ir::Value *indexAlong(Lowerer &L, const std::vector<int64_t> &shape, int64_t axis,
                      SourceLoc loc); // BuiltinsReduce.cpp
/// The slices of v along its last dim (a power of two), in order; stackLast is the inverse.
std::vector<ir::Value *> slicesOfLast(Lowerer &L, ir::Value *v, SourceLoc loc);         // BuiltinsReduce.cpp
ir::Value *stackLast(Lowerer &L, const std::vector<ir::Value *> &parts, SourceLoc loc); // BuiltinsReduce.cpp
/// Whether any element of the i1 tensor `mask` is set, as a scalar i1.
ir::Value *anyOf(Lowerer &L, ir::Value *mask, SourceLoc loc); // BuiltinsReduce.cpp
void registerElementwiseBuiltins(BuiltinTable &t);            // BuiltinsElementwise.cpp

/// One activation of a kernel or inlined @jit function.
struct Frame {
  const ast::Module *module = nullptr;
  std::string name;
  std::map<std::string, Val> vars;
  int runtimeDepth = 0; // nesting of runtime if/for/while inside this function
  bool returned = false;
  Val retVal;
  bool isKernel = false;
};

class Lowerer {
public:
  Lowerer(const LowerInput &in, ir::TypeContext &types, Diagnostics &diag);
  std::unique_ptr<ir::Module> run();

  [[noreturn]] void fail(SourceLoc loc, const std::string &msg) { diag_.fatal(loc, msg); }
  /// "line:col" of `loc` as the user's file numbers it (the kernel text's line offset added), for messages
  /// that name a second place.
  std::string lineCol(SourceLoc loc) const {
    const SourceManager *sm = diag_.sources();
    return std::to_string(loc.line + (sm ? sm->lineOffset(loc.file) : 0)) + ":" + std::to_string(loc.col);
  }
  Frame &frame() { return *frames_.back(); }
  ir::Builder &builder() { return b_; }
  ir::TypeContext &types() { return types_; }
  const ir::Type *scalarType(ir::DType d) { return types_.scalar(d); }
  void setLoc(SourceLoc loc) { b_.setLoc(loc); }

  // ---- Lower.cpp: driver, names, statements, calls ------------------------------------------------
  void lowerBody(const ast::StmtList &body);
  void lowerStmts(const std::vector<const ast::Stmt *> &stmts);
  void lowerStmt(const ast::Stmt &s);
  void assignTo(const ast::Expr &target, const Val &v);
  Val lookupName(const std::string &name, SourceLoc loc);
  /// The value of a dotted path ("triton.language.float32") reached from module `path` by `attr`.
  Val moduleAttr(const Val &mod, const std::string &attr, SourceLoc loc);
  /// Calls any callable value (a @jit function, a builtin, a bound method).
  Val callValue(const Val &callee, CallArgs &args, SourceLoc loc, const std::string &calleeText);
  /// Inlines @jit function `fn` at the insertion point.
  Val inlineCall(const Val &fn, CallArgs &args, SourceLoc loc);
  Val callBuiltin(const std::string &name, CallArgs &args, SourceLoc loc, const std::string &display);
  /// Resolves `from a.b import c` on first use.
  Val resolveImport(const Val &v, SourceLoc loc);
  std::string builtinDisplayName(const std::string &name) const;

  // ---- LowerControl.cpp -----------------------------------------------------------------------------
  void lowerIf(const ast::Stmt &s);
  /// A runtime `if` with condition `c` over the given branches. With `elseIsRest`, the else branch is
  /// the rest of the function after an early `return` in the then branch.
  void lowerRuntimeIf(const ast::Stmt &s, const Val &c, const std::vector<const ast::Stmt *> &thenStmts,
                      const std::vector<const ast::Stmt *> &elseStmts, bool elseIsRest);
  void lowerFor(const ast::Stmt &s);
  void lowerWhile(const ast::Stmt &s);
  Val lowerIfExp(const ast::Expr &e);

  // ---- Per-element control flow (inside tl.map_elementwise's function; LowerControl.cpp) ----------------
  /// tl.map_elementwise calls its function once with whole tensors of `shape`; an `if`, `while` or
  /// conditional expression whose condition is such a tensor then runs per element: both branches (every
  /// loop iteration while any element needs one) are computed and merged with `where`. `mask`: the elements
  /// that run the code being lowered (null: all). Null `ew_`: not in such a function.
  struct ElementwiseScope {
    std::vector<int64_t> shape;
    ir::Value *mask = nullptr;
  };
  std::optional<ElementwiseScope> ew_;
  /// Whether condition `c` is per element (a tensor, inside tl.map_elementwise's function).
  bool isPerElement(const Val &c) const { return ew_ && c.isIR() && c.v->type()->isBlock(); }
  void lowerMaskedIf(const ast::Stmt &s, const Val &c, const std::vector<const ast::Stmt *> &thenStmts,
                     const std::vector<const ast::Stmt *> &elseStmts, bool elseIsRest);
  Val lowerMaskedIfExp(const ast::Expr &e, const Val &c);
  /// Integer add/sub/mul/div/rem operands with the elements outside the current mask replaced by 0 (a
  /// divisor by 1): code that an element does not run must not raise its overflow or division-by-zero.
  std::pair<ir::Value *, ir::Value *> maskInactive(ir::Value *x, ir::Value *y, bool isDivision);
  /// Names assigned anywhere in `body` (syntactically), in first-assignment order.
  static void assignedNames(const ast::StmtList &body, std::vector<std::string> &out);

  // ---- LowerExpr.cpp --------------------------------------------------------------------------------
  Val lowerExpr(const ast::Expr &e);
  Val lowerCall(const ast::Expr &e);
  Val lowerAttribute(const ast::Expr &e);
  Val lowerSubscript(const ast::Expr &e);
  Val lowerCompare(const ast::Expr &e);
  Val lowerBoolOp(const ast::Expr &e);
  Val lowerUnary(const ast::Expr &e);
  /// Python arithmetic on two compile-time numbers.
  Val foldBinary(ast::BinOpKind op, const Val &a, const Val &b, SourceLoc loc);
  /// A compile-time comparison; nullopt if either side is not compile-time.
  std::optional<bool> foldCompare(ast::CmpOpKind op, const Val &a, const Val &b, SourceLoc loc);
  Val attributeOf(const Val &base, const std::string &attr, SourceLoc loc);

  // ---- Semantic.cpp: typed IR construction ----------------------------------------------------------
  /// The IR value of `v`: compile-time numbers become constants of their default type (int: i32 or
  /// i64, float: f32, bool: i1). Anything else is an error naming `what`.
  ir::Value *toIR(const Val &v, SourceLoc loc, const std::string &what = "value");
  /// A constant of `type` (scalar or block) holding the number `num`.
  ir::Value *constant(const Val &num, const ir::Type *type);
  /// Converts the elements of `v` to dtype `to` (to i1: `v != 0`).
  ir::Value *castTo(ir::Value *v, ir::DType to);
  /// Broadcasts `v` (scalar or block) to `shape` (NumPy rules); error naming both shapes if impossible.
  ir::Value *broadcastTo(ir::Value *v, const std::vector<int64_t> &shape, SourceLoc loc);
  std::vector<int64_t> broadcastShapes(const std::vector<int64_t> &a, const std::vector<int64_t> &b,
                                       SourceLoc loc);
  /// Triton's dtype promotion of two IR dtypes.
  static ir::DType promote(ir::DType a, ir::DType b);
  /// The dtype of a compile-time number on its own: bool i1, int i32 (i64 if needed), float f32.
  static ir::DType defaultDType(const Val &num);
  /// The dtype a compile-time number takes next to an IR value of dtype `other`.
  ir::DType weakDType(const Val &num, ir::DType other, SourceLoc loc);
  /// Brings a and b to a common dtype and shape (for arithmetic when `arith`, i1+i1 -> i32).
  std::pair<ir::Value *, ir::Value *> unify(const Val &a, const Val &b, SourceLoc loc, const char *opName,
                                            bool arith = false);
  /// The common dtype of a and b (at least one IR) without emitting anything.
  ir::DType commonDType(const Val &a, const Val &b, SourceLoc loc);
  /// Converts `v` (compile-time or IR) to an IR value of `type`'s dtype and shape (weak for literals).
  ir::Value *coerce(const Val &v, ir::DType d, const std::vector<int64_t> &shape, SourceLoc loc,
                    const std::string &what);
  Val binary(ast::BinOpKind op, const Val &a, const Val &b, SourceLoc loc);
  Val compare(ast::CmpOpKind op, const Val &a, const Val &b, SourceLoc loc);
  /// A scalar i1 condition for `if`/`while` (ints/floats compared with 0).
  ir::Value *toCondition(const Val &v, SourceLoc loc, const char *what);
  /// v != 0 as i1 (or v itself when i1).
  ir::Value *toI1(ir::Value *v);
  ir::Value *expandDims(ir::Value *v, int64_t axis, SourceLoc loc);
  ir::Value *reshape(ir::Value *v, const std::vector<int64_t> &shape, SourceLoc loc);
  ir::Value *unaryMath(ir::OpKind k, const Val &x, SourceLoc loc, const std::string &name);

  // ---- Conversions of compile-time arguments ---------------------------------------------------------
  int64_t constInt(const Val &v, SourceLoc loc, const std::string &what);
  /// A compile-time axis (`what`: "axis", "dim") of a tensor of rank `rank`, negative ones counted from the
  /// end; out of range is an error naming `fname`.
  int64_t axisArg(const Val &v, SourceLoc loc, int64_t rank, const std::string &fname, const char *what);
  bool constBool(const Val &v, SourceLoc loc, const std::string &what);
  const ir::Type *asType(const Val &v, SourceLoc loc, const std::string &what);
  ir::DType asDType(const Val &v, SourceLoc loc, const std::string &what);
  std::vector<int64_t> asShape(const Val &v, SourceLoc loc, const std::string &what);
  /// A tile shape: each extent a power of two, numel bounded (Triton's rule).
  void checkBlockShape(const std::vector<int64_t> &shape, SourceLoc loc);
  static std::vector<int64_t> shapeOf(const Val &v);
  static std::string shapeStr(const std::vector<int64_t> &s);

  // ---- Members ---------------------------------------------------------------------------------------
  const LowerInput &in_;
  ir::TypeContext &types_;
  Diagnostics &diag_;
  ir::Builder b_;
  std::vector<std::unique_ptr<Frame>> frames_;
  std::map<const ast::Module *, std::map<std::string, Val>> globals_;
  std::set<const ast::Module *> globalsDone_;
  std::set<const ast::Stmt *> evaluating_;
  BuiltinTable builtins_;
  int inlineDepth_ = 0;
  int64_t unrolled_ = 0; // static loop iterations so far (bounded)

private:
  /// A runtime kernel parameter (a pointer or a scalar) as a new argument of f named `name`.
  Val scalarParam(ir::Function *f, const std::string &name, const ArgSpec &a);
  /// A host-side tensor descriptor parameter: base, then the 2 * rank integer specs from in_.args[first].
  Val descriptorParam(ir::Function *f, const ast::Param &p, const ArgSpec &a, size_t first);
  const std::map<std::string, Val> &moduleGlobals(const ast::Module *m);
  Val globalFromConstexpr(const ConstexprValue &c);
};

/// Rolls back ops created at the builder's insertion point since construction (when rollback() is
/// called); used to retry a loop whose carried types had to be refined.
class Checkpoint {
public:
  explicit Checkpoint(ir::Builder &b);
  /// The ops created at the insertion point since construction, in order.
  std::vector<ir::Operation *> created() const;
  void rollback();

private:
  ir::Builder &b_;
  ir::Block *block_;
  ir::Operation *last_; // the op before the insertion point, or null
};

} // namespace mt::lower
