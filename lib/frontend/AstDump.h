// A readable, stable text form of the AST, for `mtc --emit=ast` and golden tests.
//
// Format: one S-expression per node, `(Kind payload @line:col children...)`.
//   - Expressions are printed on one line: `(BinOp + @4:9 (Name a @4:9) (Int 1 @4:13))`.
//     Name/Int/Float/Bool/None/String carry their value (`(Int 42 @1:5)`, `(String "a\nb" @2:1)`);
//     Attribute its name before the location (`(Attribute arange @3:5 (Name tl @3:5))`); BinOp/UnaryOp/
//     BoolOp their operator (`(UnaryOp not @..)`); Compare interleaves operators and operands
//     (`(Compare @1:1 (Name a ..) < (Name b ..) <= (Name c ..))`); a Call lists the callee, the
//     positional arguments, then `(kw name @l:c value)` per keyword; a missing Slice part prints `_`;
//     Dict prints `(k v)` pairs.
//   - Statements are printed one per line, indented by two spaces per level; the bodies of If/For/While
//     are in `(then ...)`/`(else ...)`/`(body ...)` groups:
//       (Assign @5:5 (Name a @5:5) (Name b @5:9) = (Int 1 @5:13))       a = b = 1
//       (AugAssign += @6:5 (Name a @6:5) (Int 1 @6:10))
//       (AnnAssign @7:5 (Name x @7:5) : (Name int @7:8) = (Int 1 @7:14))
//       (Expr @8:5 (Call ...))   (Return @9:5 ...)   (Assert @10:5 test msg?)   (Pass @11:5)
//       (For @12:5 target iter  (body ...))   (While @13:5 test (body ...))
//   - The module: `(Module` then `(Import triton.language as tl @1:1)` /
//     `(ImportFrom triton import jit as jit @2:1)`, `(Global <stmt>)` per module constant, and per function
//     `(FunctionDef name @l:c` with `(decorators ...)`, `(params (name @l:c : annotation = default) ...)`,
//     `(returns ...)`, `(docstring "...")` (each only when present) and `(body ...)`.
// Closing parentheses end the last line of a group (Lisp style). Strings are escaped C-style.
#pragma once

#include "frontend/Ast.h"

#include <string>

namespace mt {

/// The module as text (ends with a newline).
std::string dumpAst(const ast::Module &m);
/// One expression on one line.
std::string dumpExpr(const ast::Expr &e);

} // namespace mt
