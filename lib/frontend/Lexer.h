// The lexer for the Python subset Triton kernels are written in.
//
// `tokenize` turns one source buffer into a flat token list, Python style: NEWLINE ends a logical line,
// INDENT/DEDENT bracket a more deeply indented block (a stack of indentation widths; a tab advances to the
// next multiple of 8), newlines inside (), [] and {} and after a `\` are ignored, and blank or
// comment-only lines produce no token. The list always ends with NEWLINE? DEDENT* EOF.
#pragma once

#include "support/Diagnostics.h"
#include "support/SourceLoc.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mt {

// X(name, spelling)
#define MT_SPECIAL_TOKENS(X)                                                                                 \
  X(EndOfFile, "end of file")                                                                                \
  X(Newline, "newline")                                                                                      \
  X(Indent, "indent")                                                                                        \
  X(Dedent, "dedent")                                                                                        \
  X(Identifier, "identifier")                                                                                \
  X(Int, "integer literal")                                                                                  \
  X(Float, "float literal")                                                                                  \
  X(String, "string literal")

#define MT_KEYWORD_TOKENS(X)                                                                                 \
  X(KwFalse, "False")                                                                                        \
  X(KwNone, "None")                                                                                          \
  X(KwTrue, "True")                                                                                          \
  X(KwAnd, "and")                                                                                            \
  X(KwAs, "as")                                                                                              \
  X(KwAssert, "assert")                                                                                      \
  X(KwAsync, "async")                                                                                        \
  X(KwAwait, "await")                                                                                        \
  X(KwBreak, "break")                                                                                        \
  X(KwClass, "class")                                                                                        \
  X(KwContinue, "continue")                                                                                  \
  X(KwDef, "def")                                                                                            \
  X(KwDel, "del")                                                                                            \
  X(KwElif, "elif")                                                                                          \
  X(KwElse, "else")                                                                                          \
  X(KwExcept, "except")                                                                                      \
  X(KwFinally, "finally")                                                                                    \
  X(KwFor, "for")                                                                                            \
  X(KwFrom, "from")                                                                                          \
  X(KwGlobal, "global")                                                                                      \
  X(KwIf, "if")                                                                                              \
  X(KwImport, "import")                                                                                      \
  X(KwIn, "in")                                                                                              \
  X(KwIs, "is")                                                                                              \
  X(KwLambda, "lambda")                                                                                      \
  X(KwNonlocal, "nonlocal")                                                                                  \
  X(KwNot, "not")                                                                                            \
  X(KwOr, "or")                                                                                              \
  X(KwPass, "pass")                                                                                          \
  X(KwRaise, "raise")                                                                                        \
  X(KwReturn, "return")                                                                                      \
  X(KwTry, "try")                                                                                            \
  X(KwWhile, "while")                                                                                        \
  X(KwWith, "with")                                                                                          \
  X(KwYield, "yield")

// Ordered longest first: the lexer takes the first spelling that matches.
#define MT_PUNCT_TOKENS(X)                                                                                   \
  X(PowAssign, "**=")                                                                                        \
  X(FloorDivAssign, "//=")                                                                                   \
  X(LShiftAssign, "<<=")                                                                                     \
  X(RShiftAssign, ">>=")                                                                                     \
  X(Ellipsis, "...")                                                                                         \
  X(Pow, "**")                                                                                               \
  X(FloorDiv, "//")                                                                                          \
  X(LShift, "<<")                                                                                            \
  X(RShift, ">>")                                                                                            \
  X(LessEqual, "<=")                                                                                         \
  X(GreaterEqual, ">=")                                                                                      \
  X(EqualEqual, "==")                                                                                        \
  X(NotEqual, "!=")                                                                                          \
  X(Arrow, "->")                                                                                             \
  X(PlusAssign, "+=")                                                                                        \
  X(MinusAssign, "-=")                                                                                       \
  X(StarAssign, "*=")                                                                                        \
  X(SlashAssign, "/=")                                                                                       \
  X(PercentAssign, "%=")                                                                                     \
  X(AmpAssign, "&=")                                                                                         \
  X(PipeAssign, "|=")                                                                                        \
  X(CaretAssign, "^=")                                                                                       \
  X(AtAssign, "@=")                                                                                          \
  X(Plus, "+")                                                                                               \
  X(Minus, "-")                                                                                              \
  X(Star, "*")                                                                                               \
  X(Slash, "/")                                                                                              \
  X(Percent, "%")                                                                                            \
  X(At, "@")                                                                                                 \
  X(Amp, "&")                                                                                                \
  X(Pipe, "|")                                                                                               \
  X(Caret, "^")                                                                                              \
  X(Tilde, "~")                                                                                              \
  X(Less, "<")                                                                                               \
  X(Greater, ">")                                                                                            \
  X(LParen, "(")                                                                                             \
  X(RParen, ")")                                                                                             \
  X(LBracket, "[")                                                                                           \
  X(RBracket, "]")                                                                                           \
  X(LBrace, "{")                                                                                             \
  X(RBrace, "}")                                                                                             \
  X(Comma, ",")                                                                                              \
  X(Colon, ":")                                                                                              \
  X(Dot, ".")                                                                                                \
  X(Semicolon, ";")                                                                                          \
  X(Assign, "=")

enum class TokenKind {
#define MT_TOKEN_ENUM(name, spelling) name,
  MT_SPECIAL_TOKENS(MT_TOKEN_ENUM) MT_KEYWORD_TOKENS(MT_TOKEN_ENUM) MT_PUNCT_TOKENS(MT_TOKEN_ENUM)
#undef MT_TOKEN_ENUM
};

/// The spelling of a keyword or punctuator (`def`, `**=`), or a description (`identifier`).
std::string_view tokenKindSpelling(TokenKind kind);

struct Token {
  TokenKind kind = TokenKind::EndOfFile;
  SourceLoc loc;
  std::string text;        // Identifier: the name; String: the decoded value; Int/Float: the source text
  int64_t intValue = 0;    // Int
  double floatValue = 0.0; // Float

  bool is(TokenKind k) const { return kind == k; }
};

/// Tokenizes buffer `file` of `sources`. On a lexical error, reports it to `diag` and returns false
/// (`out` then holds the tokens before the error).
bool tokenize(const SourceManager &sources, uint32_t file, Diagnostics &diag, std::vector<Token> &out);

/// A short description of a token for messages: `'def'`, `identifier 'x'`, `newline`.
std::string describeToken(const Token &tok);

} // namespace mt
