// The recursive-descent parser for the Python subset Triton kernels are written in.
//
// It builds the AST of Ast.h from the tokens of Lexer.h. The grammar rule of each construct is written
// above the function that parses it (ParserImpl.h lists them all). The parser stops at the first error:
// it reports it to the Diagnostics and returns null. It never asserts on its input; nesting deeper than
// `kMaxNestingDepth` is reported as an error rather than risking the native stack.
#pragma once

#include "frontend/Ast.h"
#include "support/Diagnostics.h"
#include "support/SourceLoc.h"

#include <memory>

namespace mt {

/// Parses buffer `file` of `sources` as a module. Returns null after reporting an error to `diag`.
std::unique_ptr<ast::Module> parseModule(const SourceManager &sources, uint32_t file, Diagnostics &diag);

} // namespace mt
