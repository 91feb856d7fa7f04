#include "frontend/AstDump.h"

#include <charconv>
#include <cstdio>
#include <cstdlib>

namespace mt {

using namespace ast;

namespace {

std::string locStr(SourceLoc loc) { return "@" + std::to_string(loc.line) + ":" + std::to_string(loc.col); }

std::string quote(const std::string &s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\r':
      out += "\\r";
      break;
    default:
      if (c < 0x20 || c >= 0x7F) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02x", c);
        out += buf;
      } else {
        out += char(c);
      }
    }
  }
  return out + "\"";
}

// The shortest decimal form that reads back as the same double, always recognisable as a float
// (`10.0`, `0.5`, `1e-05`, `inf`).
std::string floatStr(double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, res.ptr);
  if (s.find_first_of(".ein") == std::string::npos)
    s += ".0";
  return s;
}

void dumpExprTo(const Expr *e, std::string &out);

void dumpOperands(const Expr &e, std::string &out, size_t from = 0) {
  for (size_t i = from; i < e.operands.size(); ++i) {
    out += " ";
    dumpExprTo(e.operands[i].get(), out);
  }
}

void dumpExprTo(const Expr *e, std::string &out) {
  if (!e) {
    out += "_";
    return;
  }
  std::string loc = locStr(e->loc);
  switch (e->kind) {
  case ExprKind::Name:
    out += "(Name " + e->name + " " + loc + ")";
    return;
  case ExprKind::Int:
    out += "(Int " + std::to_string(e->intValue) + " " + loc + ")";
    return;
  case ExprKind::Float:
    out += "(Float " + floatStr(e->floatValue) + " " + loc + ")";
    return;
  case ExprKind::Bool:
    out += std::string("(Bool ") + (e->boolValue ? "True " : "False ") + loc + ")";
    return;
  case ExprKind::NoneLit:
    out += "(None " + loc + ")";
    return;
  case ExprKind::String:
    out += "(String " + quote(e->name) + " " + loc + ")";
    return;
  case ExprKind::Attribute:
    out += "(Attribute " + e->name + " " + loc;
    break;
  case ExprKind::Subscript:
    out += "(Subscript " + loc;
    break;
  case ExprKind::Slice:
    out += "(Slice " + loc;
    break;
  case ExprKind::Call:
    out += "(Call " + loc;
    dumpOperands(*e, out);
    for (const Keyword &kw : e->keywords) {
      out += " (kw " + kw.name + " " + locStr(kw.loc) + " ";
      dumpExprTo(kw.value.get(), out);
      out += ")";
    }
    out += ")";
    return;
  case ExprKind::BinOp:
    out += std::string("(BinOp ") + spelling(e->binOp) + " " + loc;
    break;
  case ExprKind::UnaryOp:
    out += std::string("(UnaryOp ") + spelling(e->unaryOp) + " " + loc;
    break;
  case ExprKind::BoolOp:
    out += std::string("(BoolOp ") + (e->boolOp == BoolOpKind::And ? "and " : "or ") + loc;
    break;
  case ExprKind::Compare:
    out += "(Compare " + loc;
    for (size_t i = 0; i < e->operands.size(); ++i) {
      if (i > 0 && i - 1 < e->cmpOps.size())
        out += std::string(" ") + spelling(e->cmpOps[i - 1]);
      out += " ";
      dumpExprTo(e->operands[i].get(), out);
    }
    out += ")";
    return;
  case ExprKind::IfExp:
    out += "(IfExp " + loc;
    break;
  case ExprKind::Tuple:
    out += "(Tuple " + loc;
    break;
  case ExprKind::List:
    out += "(List " + loc;
    break;
  case ExprKind::Dict:
    out += "(Dict " + loc;
    for (size_t i = 0; i + 1 < e->operands.size(); i += 2) {
      out += " (";
      dumpExprTo(e->operands[i].get(), out);
      out += " ";
      dumpExprTo(e->operands[i + 1].get(), out);
      out += ")";
    }
    out += ")";
    return;
  }
  dumpOperands(*e, out);
  out += ")";
}

class Dumper {
public:
  std::string out;

  void line(int indent, const std::string &text) {
    out += "\n";
    out.append(size_t(indent) * 2, ' ');
    out += text;
  }

  void block(int indent, const char *label, const StmtList &stmts) {
    line(indent, std::string("(") + label);
    for (const StmtPtr &s : stmts)
      stmt(indent + 1, *s);
    out += ")";
  }

  void stmt(int indent, const Stmt &s) {
    std::string loc = locStr(s.loc);
    switch (s.kind) {
    case StmtKind::FunctionDef:
      if (s.func)
        function(indent, *s.func);
      return;
    case StmtKind::Assign: {
      std::string text = "(Assign " + loc;
      for (const ExprPtr &t : s.targets)
        text += " " + dumpExpr(*t);
      text += " = " + exprOrNull(s.value.get()) + ")";
      line(indent, text);
      return;
    }
    case StmtKind::AugAssign:
      line(indent, std::string("(AugAssign ") + spelling(s.augOp) + "= " + loc + " " + targetOf(s) + " " +
                       exprOrNull(s.value.get()) + ")");
      return;
    case StmtKind::AnnAssign: {
      std::string text = "(AnnAssign " + loc + " " + targetOf(s) + " : " + exprOrNull(s.test.get());
      if (s.value)
        text += " = " + dumpExpr(*s.value);
      line(indent, text + ")");
      return;
    }
    case StmtKind::ExprStmt:
      line(indent, "(Expr " + loc + " " + exprOrNull(s.value.get()) + ")");
      return;
    case StmtKind::If:
      line(indent, "(If " + loc + " " + exprOrNull(s.test.get()));
      block(indent + 1, "then", s.body);
      if (!s.orelse.empty())
        block(indent + 1, "else", s.orelse);
      out += ")";
      return;
    case StmtKind::For:
      line(indent, "(For " + loc + " " + targetOf(s) + " " + exprOrNull(s.test.get()));
      block(indent + 1, "body", s.body);
      out += ")";
      return;
    case StmtKind::While:
      line(indent, "(While " + loc + " " + exprOrNull(s.test.get()));
      block(indent + 1, "body", s.body);
      out += ")";
      return;
    case StmtKind::Return:
      line(indent, "(Return " + loc + (s.value ? " " + dumpExpr(*s.value) : "") + ")");
      return;
    case StmtKind::Pass:
      line(indent, "(Pass " + loc + ")");
      return;
    case StmtKind::Break:
      line(indent, "(Break " + loc + ")");
      return;
    case StmtKind::Continue:
      line(indent, "(Continue " + loc + ")");
      return;
    case StmtKind::Assert:
      line(indent,
           "(Assert " + loc + " " + exprOrNull(s.test.get()) + (s.msg ? " " + dumpExpr(*s.msg) : "") + ")");
      return;
    }
  }

  void function(int indent, const FunctionDef &f) {
    line(indent, "(FunctionDef " + f.name + " " + locStr(f.loc));
    if (!f.decorators.empty()) {
      std::string text = "(decorators";
      for (const ExprPtr &d : f.decorators)
        text += " " + dumpExpr(*d);
      line(indent + 1, text + ")");
    }
    std::string params = "(params";
    for (const Param &p : f.params) {
      params += " (" + p.name + " " + locStr(p.loc);
      if (p.annotation)
        params += " : " + dumpExpr(*p.annotation);
      if (p.defaultValue)
        params += " = " + dumpExpr(*p.defaultValue);
      params += ")";
    }
    line(indent + 1, params + ")");
    if (f.returns)
      line(indent + 1, "(returns " + dumpExpr(*f.returns) + ")");
    if (!f.docstring.empty())
      line(indent + 1, "(docstring " + quote(f.docstring) + ")");
    block(indent + 1, "body", f.body);
    out += ")";
  }

private:
  static std::string exprOrNull(const Expr *e) { return e ? dumpExpr(*e) : "_"; }
  static std::string targetOf(const Stmt &s) {
    return s.targets.empty() ? "_" : exprOrNull(s.targets[0].get());
  }
};

} // namespace

std::string dumpExpr(const Expr &e) {
  std::string out;
  dumpExprTo(&e, out);
  return out;
}

std::string dumpAst(const Module &m) {
  Dumper d;
  d.out = "(Module";
  for (const Module::Import &imp : m.imports) {
    if (imp.name.empty())
      d.line(1, "(Import " + imp.module + " as " + imp.alias + " " + locStr(imp.loc) + ")");
    else
      d.line(1, "(ImportFrom " + imp.module + " import " + imp.name + " as " + imp.alias + " " +
                    locStr(imp.loc) + ")");
  }
  for (const StmtPtr &s : m.globals) {
    d.line(1, "(Global");
    d.stmt(2, *s);
    d.out += ")";
  }
  for (const auto &f : m.functions)
    d.function(1, *f);
  d.out += ")\n";
  return d.out;
}

} // namespace mt
