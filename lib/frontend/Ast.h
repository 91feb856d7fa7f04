// The AST of the Python subset that Triton kernels are written in.
//
// Every node carries the location of the token that starts it (chibicc style). Nodes are owned by
// unique_ptrs in their parent; a Module owns its function definitions. The parser (Parser.h) builds it,
// the lowering (Lower.h) walks it, and `dumpAst` (AstDump.h) prints it for `mtc --emit=ast` and tests.
#pragma once

#include "support/SourceLoc.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mt::ast {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using StmtList = std::vector<StmtPtr>;

// ---- Expressions ------------------------------------------------------------------------------------

enum class ExprKind {
  Name,      // x
  Int,       // 42, 0x1F, 1_000
  Float,     // 1.5, 1e-3
  Bool,      // True / False
  NoneLit,   // None
  String,    // "abc" / 'abc' (adjacent literals are concatenated by the parser)
  Attribute, // value.attr
  Subscript, // value[index]  (index is a Tuple when there are several, each may be a Slice or None)
  Slice,     // lower:upper:step inside a subscript; any part may be null
  Call,      // func(args, name=value)
  BinOp,     // a + b
  UnaryOp,   // -a, +a, ~a, not a
  BoolOp,    // a and b and c / a or b
  Compare,   // a < b <= c  (chained: operands.size() == ops.size() + 1)
  IfExp,     // a if cond else b
  Tuple,     // (a, b) or a, b
  List,      // [a, b]
  Dict,      // {k: v, ...}: operands = k0, v0, k1, v1, ... (for `triton.Config({...})` in decorators)
};

enum class BinOpKind {
  Add,
  Sub,
  Mul,
  Div,
  FloorDiv,
  Mod,
  Pow,
  MatMul,
  LShift,
  RShift,
  BitAnd,
  BitOr,
  BitXor
};
enum class UnaryOpKind { Neg, Pos, Invert, Not };
enum class BoolOpKind { And, Or };
enum class CmpOpKind { Eq, NotEq, Lt, LtE, Gt, GtE, Is, IsNot, In, NotIn };

/// Python spelling of an operator: "+", "//", "not", "is not", ...
const char *spelling(BinOpKind op);
const char *spelling(UnaryOpKind op);
const char *spelling(CmpOpKind op);

struct Keyword {
  SourceLoc loc;
  std::string name;
  ExprPtr value;
};

struct Expr {
  ExprKind kind;
  SourceLoc loc;

  std::string name;        // Name: identifier; Attribute: attribute name; String: the decoded text
  int64_t intValue = 0;    // Int (literals beyond int64 are rejected by the parser)
  double floatValue = 0.0; // Float
  bool boolValue = false;  // Bool

  BinOpKind binOp = BinOpKind::Add;
  UnaryOpKind unaryOp = UnaryOpKind::Neg;
  BoolOpKind boolOp = BoolOpKind::And;
  std::vector<CmpOpKind> cmpOps; // Compare

  // Children. Their meaning per kind:
  //   Attribute: operands[0] = value
  //   Subscript: operands[0] = value, operands[1] = index (Tuple for `a[i, j]`)
  //   Slice:     operands[0..2] = lower, upper, step (each may be null)
  //   Call:      operands[0] = callee, operands[1..] = positional args; keywords = keyword args
  //   BinOp:     operands = {lhs, rhs};  UnaryOp: operands = {operand}
  //   BoolOp:    operands = values (>= 2); Compare: operands = {first, rest...}
  //   IfExp:     operands = {body, test, orelse}
  //   Tuple/List: operands = elements
  std::vector<ExprPtr> operands;
  std::vector<Keyword> keywords;

  Expr(ExprKind kind, SourceLoc loc) : kind(kind), loc(loc) {}
};

// ---- Statements -------------------------------------------------------------------------------------

enum class StmtKind {
  FunctionDef,
  Assign,    // targets[0] = targets[1] = ... = value   (a target may be a Tuple for unpacking)
  AugAssign, // target op= value
  AnnAssign, // target: annotation (= value)?
  ExprStmt,  // a bare expression (calls, docstrings)
  If,
  For, // for target in iter: body   (orelse is rejected by the parser)
  While,
  Return, // value may be null
  Pass,
  Break,
  Continue,
  Assert, // assert test, msg
};

struct Param {
  SourceLoc loc;
  std::string name;
  ExprPtr annotation;   // may be null; `tl.constexpr` marks a compile-time parameter
  ExprPtr defaultValue; // may be null
};

struct FunctionDef;

struct Stmt {
  StmtKind kind;
  SourceLoc loc;

  std::vector<ExprPtr> targets;      // Assign (one or more), AugAssign/AnnAssign/For (exactly one)
  ExprPtr value;                     // Assign/AugAssign/AnnAssign value, ExprStmt, Return (nullable)
  ExprPtr test;                      // If/While condition, Assert test, For iterable, AnnAssign annotation
  ExprPtr msg;                       // Assert message (nullable)
  BinOpKind augOp = BinOpKind::Add;  // AugAssign
  StmtList body;                     // If/For/While body
  StmtList orelse;                   // If else-branch (an `elif` is a single nested If here)
  std::unique_ptr<FunctionDef> func; // FunctionDef

  Stmt(StmtKind kind, SourceLoc loc) : kind(kind), loc(loc) {}
};

struct FunctionDef {
  SourceLoc loc; // of the `def` keyword
  std::string name;
  std::vector<ExprPtr> decorators; // e.g. `triton.jit`, `jit(do_not_specialize=["n"])`
  std::vector<Param> params;
  ExprPtr returns; // nullable
  std::string docstring;
  StmtList body;
};

/// A parsed source buffer: its top-level function definitions (other top-level statements such as
/// imports and assignments of module constants are kept in `globals` for the lowering to resolve
/// names like `BLOCK = 128` or `import triton.language as tl`).
struct Module {
  uint32_t file = 0;
  std::vector<std::unique_ptr<FunctionDef>> functions;
  StmtList globals; // top-level Assign / AnnAssign statements
  struct Import {
    SourceLoc loc;
    std::string module; // e.g. "triton.language"
    std::string name;   // for `from m import name`; empty for `import m`
    std::string alias;  // `as` name, or the bound name
  };
  std::vector<Import> imports;

  const FunctionDef *findFunction(const std::string &name) const {
    for (const auto &f : functions)
      if (f->name == name)
        return f.get();
    return nullptr;
  }
};

} // namespace mt::ast
