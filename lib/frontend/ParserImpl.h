// Internal to the parser: the Parser class shared by Parser.cpp (module, functions, statements) and
// ParseExpr.cpp (expressions). Not part of the frontend's interface; include Parser.h instead.
#pragma once

#include "frontend/Ast.h"
#include "frontend/Lexer.h"
#include "support/Diagnostics.h"

#include <string>
#include <unordered_map>
#include <vector>

namespace mt::parser {

/// Thrown to unwind the parser after the first error has been reported.
struct ParseError {};

/// Recursion into nested expressions or blocks deeper than this is an error ("nested too deeply").
constexpr unsigned kMaxNestingDepth = 200;
/// The height of an expression tree (a long chain `a+b+c+...` is as deep as it is long) is bounded so
/// that every later recursive walk over the AST, its destructor included, stays within the stack.
constexpr unsigned kMaxExprHeight = 1000;

class Parser {
public:
  Parser(std::vector<Token> tokens, Diagnostics &diag) : toks_(std::move(tokens)), diag_(diag) {}

  std::unique_ptr<ast::Module> parseModule(uint32_t file);

private:
  std::vector<Token> toks_;
  size_t pos_ = 0;
  Diagnostics &diag_;
  unsigned depth_ = 0;
  std::unordered_map<const ast::Expr *, unsigned> heights_;

  // ---- Token stream ----
  const Token &tok() const { return toks_[pos_]; }
  const Token &peekTok(size_t ahead) const {
    return toks_[pos_ + ahead < toks_.size() ? pos_ + ahead : toks_.size() - 1];
  }
  bool at(TokenKind k) const { return tok().kind == k; }
  const Token &next() {
    const Token &t = toks_[pos_];
    if (pos_ + 1 < toks_.size())
      ++pos_;
    return t;
  }
  bool consume(TokenKind k) {
    if (!at(k))
      return false;
    next();
    return true;
  }
  const Token &expect(TokenKind k, const char *context);
  [[noreturn]] void fail(SourceLoc loc, std::string msg);
  [[noreturn]] void unsupported(const Token &t);

  /// RAII guard of the recursion depth.
  struct DepthGuard {
    Parser &p;
    DepthGuard(Parser &p, SourceLoc loc, const char *what);
    ~DepthGuard() { --p.depth_; }
  };

  // ---- AST construction ----
  ast::ExprPtr makeExpr(ast::ExprKind kind, SourceLoc loc, std::vector<ast::ExprPtr> operands = {});
  unsigned heightOf(const ast::Expr *e) const;

  // ---- Module level (Parser.cpp) ----
  void parseImport(ast::Module &m);
  void parseFromImport(ast::Module &m);
  std::string parseDottedName();
  std::unique_ptr<ast::FunctionDef> parseFunctionDef(std::vector<ast::ExprPtr> decorators);
  void parseParams(ast::FunctionDef &f);

  // ---- Statements (Parser.cpp) ----
  ast::StmtList parseBlock();
  void parseStmt(ast::StmtList &out);
  void parseSimpleStmts(ast::StmtList &out);
  ast::StmtPtr parseSimpleStmt();
  ast::StmtPtr parseIf();
  ast::StmtPtr parseFor();
  ast::StmtPtr parseWhile();
  ast::StmtPtr parseExprStmt();
  void checkAssignTarget(const ast::Expr &e, bool allowTuple);

  // ---- Expressions (ParseExpr.cpp) ----
  bool atExprStart() const;
  ast::ExprPtr parseExprList();
  ast::ExprPtr parseTargetList();
  ast::ExprPtr parseExpr();
  ast::ExprPtr parseOrTest();
  ast::ExprPtr parseAndTest();
  ast::ExprPtr parseNotTest();
  ast::ExprPtr parseComparison();
  ast::ExprPtr parseBitOr();
  ast::ExprPtr parseBitXor();
  ast::ExprPtr parseBitAnd();
  ast::ExprPtr parseShift();
  ast::ExprPtr parseArith();
  ast::ExprPtr parseTerm();
  ast::ExprPtr parseFactor();
  ast::ExprPtr parsePower();
  ast::ExprPtr parsePrimary();
  ast::ExprPtr parseCallArgs(ast::ExprPtr callee, SourceLoc loc);
  ast::ExprPtr parseSubscript(ast::ExprPtr value, SourceLoc loc);
  ast::ExprPtr parseSliceItem();
  ast::ExprPtr parseAtom();
  ast::ExprPtr parseParenthesized();
  ast::ExprPtr parseList();
  ast::ExprPtr parseDict();
  ast::ExprPtr makeBinOp(ast::BinOpKind op, SourceLoc loc, ast::ExprPtr lhs, ast::ExprPtr rhs);
  void rejectComprehension();
};

} // namespace mt::parser
