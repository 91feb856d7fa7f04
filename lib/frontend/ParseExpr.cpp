// Expressions, from the loosest binding (conditional expression) to atoms. Every node's location is that
// of the token that starts it (for `a + b`, the start of `a`).
#include "frontend/ParserImpl.h"

#include <algorithm>

namespace mt::parser {

using namespace ast;

const Token &Parser::expect(TokenKind k, const char *context) {
  if (!at(k))
    fail(tok().loc, "expected '" + std::string(tokenKindSpelling(k)) + "' " + context + ", found " +
                        describeToken(tok()));
  return next();
}

void Parser::fail(SourceLoc loc, std::string msg) {
  diag_.error(loc, std::move(msg));
  throw ParseError();
}

void Parser::unsupported(const Token &t) {
  fail(t.loc, "'" + std::string(tokenKindSpelling(t.kind)) + "' is not supported in a kernel");
}

Parser::DepthGuard::DepthGuard(Parser &p, SourceLoc loc, const char *what) : p(p) {
  if (++p.depth_ > kMaxNestingDepth) {
    --p.depth_;
    p.fail(loc, std::string(what) + " nested too deeply");
  }
}

unsigned Parser::heightOf(const Expr *e) const {
  if (!e)
    return 0;
  auto it = heights_.find(e);
  return it == heights_.end() ? 1 : it->second;
}

ExprPtr Parser::makeExpr(ExprKind kind, SourceLoc loc, std::vector<ExprPtr> operands) {
  unsigned h = 0;
  for (const ExprPtr &op : operands)
    h = std::max(h, heightOf(op.get()));
  if (h + 1 > kMaxExprHeight)
    fail(loc, "expression too complex");
  auto e = std::make_unique<Expr>(kind, loc);
  e->operands = std::move(operands);
  if (h > 0)
    heights_[e.get()] = h + 1;
  return e;
}

ExprPtr Parser::makeBinOp(BinOpKind op, SourceLoc loc, ExprPtr lhs, ExprPtr rhs) {
  std::vector<ExprPtr> ops;
  ops.push_back(std::move(lhs));
  ops.push_back(std::move(rhs));
  ExprPtr e = makeExpr(ExprKind::BinOp, loc, std::move(ops));
  e->binOp = op;
  return e;
}

bool Parser::atExprStart() const {
  switch (tok().kind) {
  case TokenKind::Identifier:
  case TokenKind::Int:
  case TokenKind::Float:
  case TokenKind::String:
  case TokenKind::KwTrue:
  case TokenKind::KwFalse:
  case TokenKind::KwNone:
  case TokenKind::KwNot:
  case TokenKind::KwLambda:
  case TokenKind::KwAwait:
  case TokenKind::KwYield:
  case TokenKind::LParen:
  case TokenKind::LBracket:
  case TokenKind::LBrace:
  case TokenKind::Minus:
  case TokenKind::Plus:
  case TokenKind::Tilde:
  case TokenKind::Star:
  case TokenKind::Ellipsis:
    return true;
  default:
    return false;
  }
}

// exprlist = expr ("," expr)* ","?        (a comma makes a Tuple)
ExprPtr Parser::parseExprList() {
  SourceLoc start = tok().loc;
  if (at(TokenKind::Star))
    fail(tok().loc, "starred expressions are not supported in a kernel");
  ExprPtr first = parseExpr();
  if (!at(TokenKind::Comma))
    return first;
  SourceLoc loc = start;
  std::vector<ExprPtr> elts;
  elts.push_back(std::move(first));
  while (consume(TokenKind::Comma)) {
    if (!atExprStart())
      break;
    if (at(TokenKind::Star))
      fail(tok().loc, "starred expressions are not supported in a kernel");
    elts.push_back(parseExpr());
  }
  return makeExpr(ExprKind::Tuple, loc, std::move(elts));
}

// targetlist = bitor ("," bitor)* ","?     (the target of `for`; stops before `in`)
ExprPtr Parser::parseTargetList() {
  SourceLoc start = tok().loc;
  ExprPtr first = parseBitOr();
  if (!at(TokenKind::Comma))
    return first;
  SourceLoc loc = start;
  std::vector<ExprPtr> elts;
  elts.push_back(std::move(first));
  while (consume(TokenKind::Comma)) {
    if (!atExprStart())
      break;
    elts.push_back(parseBitOr());
  }
  return makeExpr(ExprKind::Tuple, loc, std::move(elts));
}

// expr = ortest ("if" ortest "else" expr)?
ExprPtr Parser::parseExpr() {
  SourceLoc start = tok().loc;
  DepthGuard guard(*this, start, "expression");
  if (at(TokenKind::KwLambda) || at(TokenKind::KwYield) || at(TokenKind::KwAwait))
    unsupported(tok());
  ExprPtr body = parseOrTest();
  if (!consume(TokenKind::KwIf))
    return body;
  ExprPtr test = parseOrTest();
  expect(TokenKind::KwElse, "in conditional expression");
  ExprPtr orelse = parseExpr();
  SourceLoc loc = start;
  std::vector<ExprPtr> ops;
  ops.push_back(std::move(body));
  ops.push_back(std::move(test));
  ops.push_back(std::move(orelse));
  return makeExpr(ExprKind::IfExp, loc, std::move(ops));
}

// ortest = andtest ("or" andtest)*
ExprPtr Parser::parseOrTest() {
  SourceLoc start = tok().loc;
  ExprPtr first = parseAndTest();
  if (!at(TokenKind::KwOr))
    return first;
  std::vector<ExprPtr> values;
  SourceLoc loc = start;
  values.push_back(std::move(first));
  while (consume(TokenKind::KwOr))
    values.push_back(parseAndTest());
  ExprPtr e = makeExpr(ExprKind::BoolOp, loc, std::move(values));
  e->boolOp = BoolOpKind::Or;
  return e;
}

// andtest = nottest ("and" nottest)*
ExprPtr Parser::parseAndTest() {
  SourceLoc start = tok().loc;
  ExprPtr first = parseNotTest();
  if (!at(TokenKind::KwAnd))
    return first;
  std::vector<ExprPtr> values;
  SourceLoc loc = start;
  values.push_back(std::move(first));
  while (consume(TokenKind::KwAnd))
    values.push_back(parseNotTest());
  ExprPtr e = makeExpr(ExprKind::BoolOp, loc, std::move(values));
  e->boolOp = BoolOpKind::And;
  return e;
}

// nottest = "not" nottest | comparison
ExprPtr Parser::parseNotTest() {
  if (!at(TokenKind::KwNot))
    return parseComparison();
  DepthGuard guard(*this, tok().loc, "expression");
  SourceLoc loc = next().loc;
  std::vector<ExprPtr> ops;
  ops.push_back(parseNotTest());
  ExprPtr e = makeExpr(ExprKind::UnaryOp, loc, std::move(ops));
  e->unaryOp = UnaryOpKind::Not;
  return e;
}

// comparison = bitor (compop bitor)*
// compop     = "<" | ">" | "==" | ">=" | "<=" | "!=" | "in" | "not" "in" | "is" | "is" "not"
ExprPtr Parser::parseComparison() {
  SourceLoc start = tok().loc;
  ExprPtr first = parseBitOr();
  std::vector<ExprPtr> operands;
  std::vector<CmpOpKind> cmpOps;
  while (true) {
    CmpOpKind op;
    switch (tok().kind) {
    case TokenKind::Less:
      op = CmpOpKind::Lt;
      break;
    case TokenKind::Greater:
      op = CmpOpKind::Gt;
      break;
    case TokenKind::EqualEqual:
      op = CmpOpKind::Eq;
      break;
    case TokenKind::GreaterEqual:
      op = CmpOpKind::GtE;
      break;
    case TokenKind::LessEqual:
      op = CmpOpKind::LtE;
      break;
    case TokenKind::NotEqual:
      op = CmpOpKind::NotEq;
      break;
    case TokenKind::KwIn:
      op = CmpOpKind::In;
      break;
    case TokenKind::KwIs:
      op = peekTok(1).is(TokenKind::KwNot) ? CmpOpKind::IsNot : CmpOpKind::Is;
      break;
    case TokenKind::KwNot:
      if (!peekTok(1).is(TokenKind::KwIn))
        fail(peekTok(1).loc, "expected 'in' after 'not' in comparison, found " + describeToken(peekTok(1)));
      op = CmpOpKind::NotIn;
      break;
    default:
      if (cmpOps.empty())
        return first;
      {
        SourceLoc loc = start;
        operands.insert(operands.begin(), std::move(first));
        ExprPtr e = makeExpr(ExprKind::Compare, loc, std::move(operands));
        e->cmpOps = std::move(cmpOps);
        return e;
      }
    }
    next();
    if (op == CmpOpKind::IsNot || op == CmpOpKind::NotIn)
      next();
    cmpOps.push_back(op);
    operands.push_back(parseBitOr());
  }
}

// bitor = bitxor ("|" bitxor)*
ExprPtr Parser::parseBitOr() {
  SourceLoc start = tok().loc;
  ExprPtr e = parseBitXor();
  while (consume(TokenKind::Pipe))
    e = makeBinOp(BinOpKind::BitOr, start, std::move(e), parseBitXor());
  return e;
}

// bitxor = bitand ("^" bitand)*
ExprPtr Parser::parseBitXor() {
  SourceLoc start = tok().loc;
  ExprPtr e = parseBitAnd();
  while (consume(TokenKind::Caret))
    e = makeBinOp(BinOpKind::BitXor, start, std::move(e), parseBitAnd());
  return e;
}

// bitand = shift ("&" shift)*
ExprPtr Parser::parseBitAnd() {
  SourceLoc start = tok().loc;
  ExprPtr e = parseShift();
  while (consume(TokenKind::Amp))
    e = makeBinOp(BinOpKind::BitAnd, start, std::move(e), parseShift());
  return e;
}

// shift = arith (("<<" | ">>") arith)*
ExprPtr Parser::parseShift() {
  SourceLoc start = tok().loc;
  ExprPtr e = parseArith();
  while (at(TokenKind::LShift) || at(TokenKind::RShift)) {
    BinOpKind op = next().is(TokenKind::LShift) ? BinOpKind::LShift : BinOpKind::RShift;
    e = makeBinOp(op, start, std::move(e), parseArith());
  }
  return e;
}

// arith = term (("+" | "-") term)*
ExprPtr Parser::parseArith() {
  SourceLoc start = tok().loc;
  ExprPtr e = parseTerm();
  while (at(TokenKind::Plus) || at(TokenKind::Minus)) {
    BinOpKind op = next().is(TokenKind::Plus) ? BinOpKind::Add : BinOpKind::Sub;
    e = makeBinOp(op, start, std::move(e), parseTerm());
  }
  return e;
}

// term = factor (("*" | "/" | "//" | "%" | "@") factor)*
ExprPtr Parser::parseTerm() {
  SourceLoc start = tok().loc;
  ExprPtr e = parseFactor();
  while (true) {
    BinOpKind op;
    switch (tok().kind) {
    case TokenKind::Star:
      op = BinOpKind::Mul;
      break;
    case TokenKind::Slash:
      op = BinOpKind::Div;
      break;
    case TokenKind::FloorDiv:
      op = BinOpKind::FloorDiv;
      break;
    case TokenKind::Percent:
      op = BinOpKind::Mod;
      break;
    case TokenKind::At:
      op = BinOpKind::MatMul;
      break;
    default:
      return e;
    }
    next();
    e = makeBinOp(op, start, std::move(e), parseFactor());
  }
}

// factor = ("+" | "-" | "~") factor | power
ExprPtr Parser::parseFactor() {
  UnaryOpKind op;
  switch (tok().kind) {
  case TokenKind::Plus:
    op = UnaryOpKind::Pos;
    break;
  case TokenKind::Minus:
    op = UnaryOpKind::Neg;
    break;
  case TokenKind::Tilde:
    op = UnaryOpKind::Invert;
    break;
  default:
    return parsePower();
  }
  DepthGuard guard(*this, tok().loc, "expression");
  SourceLoc loc = next().loc;
  std::vector<ExprPtr> ops;
  ops.push_back(parseFactor());
  ExprPtr e = makeExpr(ExprKind::UnaryOp, loc, std::move(ops));
  e->unaryOp = op;
  return e;
}

// power = primary ("**" factor)?        (right associative; -2**2 is -(2**2), 2**-1 is 2**(-1))
ExprPtr Parser::parsePower() {
  if (at(TokenKind::KwAwait))
    unsupported(tok());
  SourceLoc start = tok().loc;
  ExprPtr base = parsePrimary();
  if (!at(TokenKind::Pow))
    return base;
  DepthGuard guard(*this, tok().loc, "expression");
  next();
  return makeBinOp(BinOpKind::Pow, start, std::move(base), parseFactor());
}

// primary = atom ("." IDENT | "(" callargs ")" | "[" subscript "]")*
ExprPtr Parser::parsePrimary() {
  SourceLoc start = tok().loc;
  ExprPtr e = parseAtom();
  while (true) {
    if (consume(TokenKind::Dot)) {
      const Token &name = expect(TokenKind::Identifier, "after '.'");
      SourceLoc loc = start;
      std::vector<ExprPtr> ops;
      ops.push_back(std::move(e));
      e = makeExpr(ExprKind::Attribute, loc, std::move(ops));
      e->name = name.text;
      continue;
    }
    if (at(TokenKind::LParen)) {
      e = parseCallArgs(std::move(e), start);
      continue;
    }
    if (at(TokenKind::LBracket)) {
      e = parseSubscript(std::move(e), start);
      continue;
    }
    return e;
  }
}

void Parser::rejectComprehension() {
  if (at(TokenKind::KwFor) || at(TokenKind::KwAsync))
    fail(tok().loc, "comprehensions and generator expressions are not supported in a kernel");
}

// callargs = (arg ("," arg)* ","?)?
// arg      = IDENT "=" expr | expr          (positional arguments before keyword arguments)
ExprPtr Parser::parseCallArgs(ExprPtr callee, SourceLoc loc) {
  expect(TokenKind::LParen, "to start the call's arguments");
  std::vector<ExprPtr> ops;
  ops.push_back(std::move(callee));
  std::vector<Keyword> keywords;
  while (!at(TokenKind::RParen)) {
    if (at(TokenKind::Star) || at(TokenKind::Pow))
      fail(tok().loc, std::string("'") + (at(TokenKind::Star) ? "*" : "**") +
                          "' argument unpacking is not supported in a kernel");
    if (at(TokenKind::Identifier) && peekTok(1).is(TokenKind::Assign)) {
      const Token &name = next();
      next();
      for (const Keyword &kw : keywords)
        if (kw.name == name.text)
          fail(name.loc, "keyword argument '" + name.text + "' repeated");
      Keyword kw{name.loc, name.text, parseExpr()};
      keywords.push_back(std::move(kw));
    } else {
      SourceLoc argLoc = tok().loc;
      ExprPtr arg = parseExpr();
      rejectComprehension();
      if (!keywords.empty())
        fail(argLoc, "positional argument follows keyword argument");
      ops.push_back(std::move(arg));
    }
    if (!consume(TokenKind::Comma))
      break;
  }
  expect(TokenKind::RParen, "to close the call's arguments");
  ExprPtr e = makeExpr(ExprKind::Call, loc, std::move(ops));
  unsigned h = 0;
  for (const Keyword &kw : keywords)
    h = std::max(h, heightOf(kw.value.get()));
  if (h + 1 > heightOf(e.get()))
    heights_[e.get()] = h + 1;
  if (h + 1 > kMaxExprHeight)
    fail(loc, "expression too complex");
  e->keywords = std::move(keywords);
  return e;
}

// subscript = sliceitem ("," sliceitem)* ","?     (several items, or a trailing comma, make a Tuple)
ExprPtr Parser::parseSubscript(ExprPtr value, SourceLoc loc) {
  expect(TokenKind::LBracket, "to start a subscript");
  if (at(TokenKind::RBracket))
    fail(tok().loc, "expected an index in subscript, found ']'");
  std::vector<ExprPtr> items;
  bool tuple = false;
  items.push_back(parseSliceItem());
  while (consume(TokenKind::Comma)) {
    tuple = true;
    if (at(TokenKind::RBracket))
      break;
    items.push_back(parseSliceItem());
  }
  expect(TokenKind::RBracket, "to close the subscript");
  ExprPtr index;
  if (tuple) {
    SourceLoc tupleLoc = items[0]->loc;
    index = makeExpr(ExprKind::Tuple, tupleLoc, std::move(items));
  } else
    index = std::move(items[0]);
  std::vector<ExprPtr> ops;
  ops.push_back(std::move(value));
  ops.push_back(std::move(index));
  return makeExpr(ExprKind::Subscript, loc, std::move(ops));
}

// sliceitem = expr? ":" expr? (":" expr?)? | expr
ExprPtr Parser::parseSliceItem() {
  SourceLoc loc = tok().loc;
  ExprPtr lower;
  if (!at(TokenKind::Colon)) {
    if (at(TokenKind::Star))
      fail(tok().loc, "starred expressions are not supported in a kernel");
    lower = parseExpr();
    if (!at(TokenKind::Colon))
      return lower;
  }
  next(); // ':'
  ExprPtr upper, step;
  auto atItemEnd = [&] { return at(TokenKind::Colon) || at(TokenKind::Comma) || at(TokenKind::RBracket); };
  if (!atItemEnd())
    upper = parseExpr();
  if (consume(TokenKind::Colon) && !at(TokenKind::Comma) && !at(TokenKind::RBracket))
    step = parseExpr();
  std::vector<ExprPtr> ops;
  ops.push_back(std::move(lower));
  ops.push_back(std::move(upper));
  ops.push_back(std::move(step));
  return makeExpr(ExprKind::Slice, loc, std::move(ops));
}

// atom = IDENT | INT | FLOAT | STRING+ | "True" | "False" | "None"
//      | "(" parenthesized ")" | "[" list "]" | "{" dict "}"
ExprPtr Parser::parseAtom() {
  const Token &t = tok();
  switch (t.kind) {
  case TokenKind::Identifier: {
    ExprPtr e = makeExpr(ExprKind::Name, t.loc);
    e->name = t.text;
    next();
    return e;
  }
  case TokenKind::Int: {
    ExprPtr e = makeExpr(ExprKind::Int, t.loc);
    e->intValue = t.intValue;
    next();
    return e;
  }
  case TokenKind::Float: {
    ExprPtr e = makeExpr(ExprKind::Float, t.loc);
    e->floatValue = t.floatValue;
    next();
    return e;
  }
  case TokenKind::String: {
    ExprPtr e = makeExpr(ExprKind::String, t.loc);
    while (at(TokenKind::String))
      e->name += next().text;
    return e;
  }
  case TokenKind::KwTrue:
  case TokenKind::KwFalse: {
    ExprPtr e = makeExpr(ExprKind::Bool, t.loc);
    e->boolValue = t.is(TokenKind::KwTrue);
    next();
    return e;
  }
  case TokenKind::KwNone: {
    ExprPtr e = makeExpr(ExprKind::NoneLit, t.loc);
    next();
    return e;
  }
  case TokenKind::LParen:
    return parseParenthesized();
  case TokenKind::LBracket:
    return parseList();
  case TokenKind::LBrace:
    return parseDict();
  case TokenKind::KwLambda:
  case TokenKind::KwYield:
  case TokenKind::KwAwait:
    unsupported(t);
  case TokenKind::Ellipsis:
    fail(t.loc, "'...' is not supported in a kernel");
  case TokenKind::Star:
    fail(t.loc, "starred expressions are not supported in a kernel");
  default:
    fail(t.loc, "expected an expression, found " + describeToken(t));
  }
}

// parenthesized = "(" ")" | "(" expr ")" | "(" expr "," (expr ("," expr)* ","?)? ")"
ExprPtr Parser::parseParenthesized() {
  SourceLoc loc = expect(TokenKind::LParen, "").loc;
  if (consume(TokenKind::RParen))
    return makeExpr(ExprKind::Tuple, loc);
  if (at(TokenKind::KwYield))
    unsupported(tok());
  ExprPtr first = parseExpr();
  rejectComprehension();
  if (consume(TokenKind::RParen))
    return first;
  std::vector<ExprPtr> elts;
  elts.push_back(std::move(first));
  while (consume(TokenKind::Comma)) {
    if (at(TokenKind::RParen))
      break;
    elts.push_back(parseExpr());
  }
  expect(TokenKind::RParen, "to close the parenthesized expression");
  return makeExpr(ExprKind::Tuple, loc, std::move(elts));
}

// list = "[" (expr ("," expr)* ","?)? "]"
ExprPtr Parser::parseList() {
  SourceLoc loc = expect(TokenKind::LBracket, "").loc;
  std::vector<ExprPtr> elts;
  while (!at(TokenKind::RBracket)) {
    elts.push_back(parseExpr());
    rejectComprehension();
    if (!consume(TokenKind::Comma))
      break;
  }
  expect(TokenKind::RBracket, "to close the list");
  return makeExpr(ExprKind::List, loc, std::move(elts));
}

// dict = "{" (expr ":" expr ("," expr ":" expr)* ","?)? "}"
ExprPtr Parser::parseDict() {
  SourceLoc loc = expect(TokenKind::LBrace, "").loc;
  std::vector<ExprPtr> elts;
  while (!at(TokenKind::RBrace)) {
    if (at(TokenKind::Pow))
      fail(tok().loc, "'**' dictionary unpacking is not supported in a kernel");
    elts.push_back(parseExpr());
    rejectComprehension();
    if (!at(TokenKind::Colon))
      fail(tok().loc, "set literals are not supported in a kernel");
    next();
    elts.push_back(parseExpr());
    rejectComprehension();
    if (!consume(TokenKind::Comma))
      break;
  }
  expect(TokenKind::RBrace, "to close the dictionary");
  return makeExpr(ExprKind::Dict, loc, std::move(elts));
}

} // namespace mt::parser
