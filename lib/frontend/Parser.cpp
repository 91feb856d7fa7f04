// The module level (imports, constants, function definitions) and statements.
#include "frontend/Parser.h"
#include "frontend/ParserImpl.h"

namespace mt {

std::unique_ptr<ast::Module> parseModule(const SourceManager &sources, uint32_t file, Diagnostics &diag) {
  std::vector<Token> tokens;
  if (!tokenize(sources, file, diag, tokens))
    return nullptr;
  try {
    return parser::Parser(std::move(tokens), diag).parseModule(file);
  } catch (const parser::ParseError &) {
    return nullptr;
  } catch (const CompileAbort &) {
    return nullptr;
  }
}

} // namespace mt

namespace mt::parser {

using namespace ast;

// module = (NEWLINE | import | fromimport | decorator* funcdef | simplestmts)* EOF
//
// Top-level simple statements may only be assignments of module constants (kept in Module::globals)
// and string literals (a module docstring, dropped).
std::unique_ptr<Module> Parser::parseModule(uint32_t file) {
  auto m = std::make_unique<Module>();
  m->file = file;
  while (!at(TokenKind::EndOfFile)) {
    if (consume(TokenKind::Newline))
      continue;
    if (at(TokenKind::Indent))
      fail(tok().loc, "unexpected indent");
    if (at(TokenKind::KwImport)) {
      parseImport(*m);
      continue;
    }
    if (at(TokenKind::KwFrom)) {
      parseFromImport(*m);
      continue;
    }
    if (at(TokenKind::At) || at(TokenKind::KwDef)) {
      std::vector<ExprPtr> decorators;
      while (consume(TokenKind::At)) {
        decorators.push_back(parseExpr());
        expect(TokenKind::Newline, "after a decorator");
      }
      if (!at(TokenKind::KwDef))
        fail(tok().loc, "expected 'def' after decorators, found " + describeToken(tok()));
      auto f = parseFunctionDef(std::move(decorators));
      for (const auto &g : m->functions)
        if (g->name == f->name)
          fail(f->loc, "function '" + f->name + "' is defined twice");
      m->functions.push_back(std::move(f));
      continue;
    }
    StmtList stmts;
    parseStmt(stmts);
    for (StmtPtr &s : stmts) {
      if (s->kind == StmtKind::Assign || s->kind == StmtKind::AnnAssign) {
        m->globals.push_back(std::move(s));
        continue;
      }
      if (s->kind == StmtKind::ExprStmt && s->value->kind == ExprKind::String)
        continue;
      fail(s->loc,
           "only imports, function definitions and constant assignments are supported at module level");
    }
  }
  return m;
}

// dottedname = IDENT ("." IDENT)*
std::string Parser::parseDottedName() {
  std::string name = expect(TokenKind::Identifier, "in module name").text;
  while (consume(TokenKind::Dot))
    name += "." + expect(TokenKind::Identifier, "in module name").text;
  return name;
}

// import = "import" dottedname ("as" IDENT)? ("," dottedname ("as" IDENT)?)* NEWLINE
void Parser::parseImport(Module &m) {
  SourceLoc loc = expect(TokenKind::KwImport, "").loc;
  do {
    Module::Import imp;
    imp.loc = loc;
    imp.module = parseDottedName();
    // `import a.b` binds `a`; `import a.b as c` binds `c`.
    imp.alias = imp.module.substr(0, imp.module.find('.'));
    if (consume(TokenKind::KwAs))
      imp.alias = expect(TokenKind::Identifier, "after 'as'").text;
    m.imports.push_back(std::move(imp));
  } while (consume(TokenKind::Comma));
  expect(TokenKind::Newline, "after import");
}

// fromimport = "from" dottedname "import" ("(" names ","? ")" | names) NEWLINE
// names      = IDENT ("as" IDENT)? ("," IDENT ("as" IDENT)?)*
void Parser::parseFromImport(Module &m) {
  SourceLoc loc = expect(TokenKind::KwFrom, "").loc;
  if (at(TokenKind::Dot) || at(TokenKind::Ellipsis))
    fail(tok().loc, "relative imports are not supported");
  std::string module = parseDottedName();
  expect(TokenKind::KwImport, "in from-import");
  if (at(TokenKind::Star))
    fail(tok().loc, "'from ... import *' is not supported");
  bool paren = consume(TokenKind::LParen);
  do {
    if (paren && at(TokenKind::RParen))
      break;
    Module::Import imp;
    imp.loc = loc;
    imp.module = module;
    imp.name = expect(TokenKind::Identifier, "in from-import").text;
    imp.alias = imp.name;
    if (consume(TokenKind::KwAs))
      imp.alias = expect(TokenKind::Identifier, "after 'as'").text;
    m.imports.push_back(std::move(imp));
  } while (consume(TokenKind::Comma));
  if (paren)
    expect(TokenKind::RParen, "to close the import list");
  expect(TokenKind::Newline, "after import");
}

// funcdef = "def" IDENT "(" params? ")" ("->" expr)? ":" block
//
// A string literal as the first statement of the body is the docstring (not part of `body`).
std::unique_ptr<FunctionDef> Parser::parseFunctionDef(std::vector<ExprPtr> decorators) {
  auto f = std::make_unique<FunctionDef>();
  f->loc = expect(TokenKind::KwDef, "").loc;
  f->decorators = std::move(decorators);
  f->name = expect(TokenKind::Identifier, "after 'def'").text;
  expect(TokenKind::LParen, "after the function name");
  parseParams(*f);
  expect(TokenKind::RParen, "to close the parameter list");
  if (consume(TokenKind::Arrow))
    f->returns = parseExpr();
  expect(TokenKind::Colon, "after the function signature");
  f->body = parseBlock();
  if (!f->body.empty() && f->body[0]->kind == StmtKind::ExprStmt &&
      f->body[0]->value->kind == ExprKind::String) {
    f->docstring = f->body[0]->value->name;
    f->body.erase(f->body.begin());
  }
  return f;
}

// params = param ("," param)* ","?
// param  = IDENT (":" expr)? ("=" expr)?
void Parser::parseParams(FunctionDef &f) {
  while (!at(TokenKind::RParen)) {
    if (at(TokenKind::Star) || at(TokenKind::Pow)) {
      bool bare = at(TokenKind::Star) && !peekTok(1).is(TokenKind::Identifier);
      if (bare)
        fail(tok().loc, "keyword-only parameters ('*') are not supported in a kernel");
      fail(tok().loc, std::string("variadic parameters ('") + (at(TokenKind::Star) ? "*" : "**") +
                          "') are not supported in a kernel");
    }
    if (at(TokenKind::Slash))
      fail(tok().loc, "positional-only parameters ('/') are not supported in a kernel");
    const Token &name = expect(TokenKind::Identifier, "in parameter list");
    Param p;
    p.loc = name.loc;
    p.name = name.text;
    for (const Param &q : f.params)
      if (q.name == p.name)
        fail(p.loc, "duplicate parameter '" + p.name + "'");
    if (consume(TokenKind::Colon))
      p.annotation = parseExpr();
    if (consume(TokenKind::Assign))
      p.defaultValue = parseExpr();
    else if (!f.params.empty() && f.params.back().defaultValue)
      fail(p.loc, "parameter without a default follows parameter with a default");
    f.params.push_back(std::move(p));
    if (!consume(TokenKind::Comma))
      break;
  }
}

// block = simplestmts | NEWLINE INDENT stmt+ DEDENT
StmtList Parser::parseBlock() {
  DepthGuard guard(*this, tok().loc, "blocks");
  StmtList body;
  if (!consume(TokenKind::Newline)) {
    parseSimpleStmts(body);
    return body;
  }
  if (!at(TokenKind::Indent))
    fail(tok().loc, "expected an indented block, found " + describeToken(tok()));
  next();
  while (!consume(TokenKind::Dedent)) {
    if (at(TokenKind::EndOfFile))
      fail(tok().loc, "unexpected end of file in block");
    parseStmt(body);
  }
  return body;
}

// stmt = if | for | while | simplestmts
void Parser::parseStmt(StmtList &out) {
  switch (tok().kind) {
  case TokenKind::KwIf:
    out.push_back(parseIf());
    return;
  case TokenKind::KwFor:
    out.push_back(parseFor());
    return;
  case TokenKind::KwWhile:
    out.push_back(parseWhile());
    return;
  case TokenKind::KwDef:
  case TokenKind::At:
    fail(tok().loc, "nested function definitions are not supported in a kernel");
  case TokenKind::KwClass:
  case TokenKind::KwTry:
  case TokenKind::KwWith:
  case TokenKind::KwAsync:
  case TokenKind::KwExcept:
  case TokenKind::KwFinally:
    unsupported(tok());
  case TokenKind::KwElif:
  case TokenKind::KwElse:
    fail(tok().loc, "'" + std::string(tokenKindSpelling(tok().kind)) + "' without a matching 'if'");
  case TokenKind::Indent:
    fail(tok().loc, "unexpected indent");
  default:
    parseSimpleStmts(out);
    return;
  }
}

// simplestmts = simplestmt (";" simplestmt)* ";"? NEWLINE
void Parser::parseSimpleStmts(StmtList &out) {
  out.push_back(parseSimpleStmt());
  while (consume(TokenKind::Semicolon)) {
    if (at(TokenKind::Newline))
      break;
    out.push_back(parseSimpleStmt());
  }
  expect(TokenKind::Newline, "at the end of the statement");
}

// simplestmt = "pass" | "break" | "continue" | "return" exprlist? | "assert" expr ("," expr)? | exprstmt
StmtPtr Parser::parseSimpleStmt() {
  const Token &t = tok();
  SourceLoc loc = t.loc;
  switch (t.kind) {
  case TokenKind::KwPass:
    next();
    return std::make_unique<Stmt>(StmtKind::Pass, loc);
  case TokenKind::KwBreak:
    next();
    return std::make_unique<Stmt>(StmtKind::Break, loc);
  case TokenKind::KwContinue:
    next();
    return std::make_unique<Stmt>(StmtKind::Continue, loc);
  case TokenKind::KwReturn: {
    next();
    auto s = std::make_unique<Stmt>(StmtKind::Return, loc);
    if (!at(TokenKind::Newline) && !at(TokenKind::Semicolon))
      s->value = parseExprList();
    return s;
  }
  case TokenKind::KwAssert: {
    next();
    auto s = std::make_unique<Stmt>(StmtKind::Assert, loc);
    s->test = parseExpr();
    if (consume(TokenKind::Comma))
      s->msg = parseExpr();
    return s;
  }
  case TokenKind::KwDel:
  case TokenKind::KwGlobal:
  case TokenKind::KwNonlocal:
  case TokenKind::KwRaise:
  case TokenKind::KwYield:
  case TokenKind::KwClass:
  case TokenKind::KwTry:
  case TokenKind::KwWith:
  case TokenKind::KwLambda:
  case TokenKind::KwAsync:
  case TokenKind::KwAwait:
    unsupported(t);
  case TokenKind::KwImport:
  case TokenKind::KwFrom:
    fail(loc, "imports are only supported at module level");
  case TokenKind::KwIf:
  case TokenKind::KwFor:
  case TokenKind::KwWhile:
  case TokenKind::KwDef:
    fail(loc, "'" + std::string(tokenKindSpelling(t.kind)) + "' must start a new line");
  default:
    return parseExprStmt();
  }
}

static bool augOpOf(TokenKind k, BinOpKind &op) {
  switch (k) {
  case TokenKind::PlusAssign:
    op = BinOpKind::Add;
    return true;
  case TokenKind::MinusAssign:
    op = BinOpKind::Sub;
    return true;
  case TokenKind::StarAssign:
    op = BinOpKind::Mul;
    return true;
  case TokenKind::SlashAssign:
    op = BinOpKind::Div;
    return true;
  case TokenKind::FloorDivAssign:
    op = BinOpKind::FloorDiv;
    return true;
  case TokenKind::PercentAssign:
    op = BinOpKind::Mod;
    return true;
  case TokenKind::PowAssign:
    op = BinOpKind::Pow;
    return true;
  case TokenKind::AtAssign:
    op = BinOpKind::MatMul;
    return true;
  case TokenKind::AmpAssign:
    op = BinOpKind::BitAnd;
    return true;
  case TokenKind::PipeAssign:
    op = BinOpKind::BitOr;
    return true;
  case TokenKind::CaretAssign:
    op = BinOpKind::BitXor;
    return true;
  case TokenKind::LShiftAssign:
    op = BinOpKind::LShift;
    return true;
  case TokenKind::RShiftAssign:
    op = BinOpKind::RShift;
    return true;
  default:
    return false;
  }
}

static const char *exprKindNoun(ExprKind k) {
  switch (k) {
  case ExprKind::Call:
    return "a function call";
  case ExprKind::Int:
  case ExprKind::Float:
  case ExprKind::Bool:
  case ExprKind::NoneLit:
  case ExprKind::String:
    return "a literal";
  case ExprKind::Compare:
    return "a comparison";
  case ExprKind::IfExp:
    return "a conditional expression";
  default:
    return "an expression";
  }
}

// Targets are names, attributes, subscripts, and (for unpacking) tuples and lists of targets.
void Parser::checkAssignTarget(const Expr &e, bool allowTuple) {
  switch (e.kind) {
  case ExprKind::Name:
  case ExprKind::Attribute:
  case ExprKind::Subscript:
    return;
  case ExprKind::Tuple:
  case ExprKind::List:
    if (!allowTuple)
      fail(e.loc, "only a single target can be annotated or augmented");
    if (e.operands.empty())
      fail(e.loc, "cannot assign to an empty tuple");
    for (const ExprPtr &op : e.operands)
      checkAssignTarget(*op, true);
    return;
  default:
    fail(e.loc, std::string("cannot assign to ") + exprKindNoun(e.kind));
  }
}

// exprstmt = exprlist ("=" exprlist)+          (Assign; chained targets)
//          | target augop exprlist             (AugAssign)
//          | target ":" expr ("=" exprlist)?   (AnnAssign)
//          | exprlist                          (ExprStmt)
StmtPtr Parser::parseExprStmt() {
  SourceLoc loc = tok().loc;
  ExprPtr first = parseExprList();
  BinOpKind augOp;
  if (augOpOf(tok().kind, augOp)) {
    checkAssignTarget(*first, false);
    next();
    auto s = std::make_unique<Stmt>(StmtKind::AugAssign, loc);
    s->augOp = augOp;
    s->targets.push_back(std::move(first));
    s->value = parseExprList();
    return s;
  }
  if (consume(TokenKind::Colon)) {
    checkAssignTarget(*first, false);
    auto s = std::make_unique<Stmt>(StmtKind::AnnAssign, loc);
    s->targets.push_back(std::move(first));
    s->test = parseExpr();
    if (consume(TokenKind::Assign))
      s->value = parseExprList();
    return s;
  }
  if (!at(TokenKind::Assign)) {
    auto s = std::make_unique<Stmt>(StmtKind::ExprStmt, loc);
    s->value = std::move(first);
    return s;
  }
  auto s = std::make_unique<Stmt>(StmtKind::Assign, loc);
  ExprPtr value = std::move(first);
  while (consume(TokenKind::Assign)) {
    checkAssignTarget(*value, true);
    s->targets.push_back(std::move(value));
    if (at(TokenKind::KwYield))
      unsupported(tok());
    value = parseExprList();
  }
  s->value = std::move(value);
  return s;
}

// if = "if" expr ":" block ("elif" expr ":" block)* ("else" ":" block)?
//
// An `elif` becomes an If that is the only statement of the enclosing If's orelse.
StmtPtr Parser::parseIf() {
  SourceLoc loc = next().loc; // 'if' or 'elif'
  auto s = std::make_unique<Stmt>(StmtKind::If, loc);
  s->test = parseExpr();
  expect(TokenKind::Colon, "after the condition of 'if'");
  s->body = parseBlock();
  if (at(TokenKind::KwElif)) {
    DepthGuard guard(*this, tok().loc, "blocks");
    s->orelse.push_back(parseIf());
  } else if (consume(TokenKind::KwElse)) {
    expect(TokenKind::Colon, "after 'else'");
    s->orelse = parseBlock();
  }
  return s;
}

// for = "for" targetlist "in" exprlist ":" block
StmtPtr Parser::parseFor() {
  SourceLoc loc = next().loc;
  auto s = std::make_unique<Stmt>(StmtKind::For, loc);
  ExprPtr target = parseTargetList();
  checkAssignTarget(*target, true);
  s->targets.push_back(std::move(target));
  expect(TokenKind::KwIn, "in 'for' statement");
  s->test = parseExprList();
  expect(TokenKind::Colon, "after the iterable of 'for'");
  s->body = parseBlock();
  if (at(TokenKind::KwElse))
    fail(tok().loc, "'for ... else' is not supported in a kernel");
  return s;
}

// while = "while" expr ":" block
StmtPtr Parser::parseWhile() {
  SourceLoc loc = next().loc;
  auto s = std::make_unique<Stmt>(StmtKind::While, loc);
  s->test = parseExpr();
  expect(TokenKind::Colon, "after the condition of 'while'");
  s->body = parseBlock();
  if (at(TokenKind::KwElse))
    fail(tok().loc, "'while ... else' is not supported in a kernel");
  return s;
}

} // namespace mt::parser
