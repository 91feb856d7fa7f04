#include "ir/Printer.h"

#include "support/SourceLoc.h"

#include <cmath>
#include <cstdio>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

namespace mt::ir {
namespace {

std::string formatFloat(double v) {
  if (std::isnan(v))
    return "nan";
  if (std::isinf(v))
    return v < 0 ? "-inf" : "inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  std::string s(buf);
  // Keep the shortest form that reads back exactly.
  for (int prec = 1; prec < 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) {
      s = buf;
      break;
    }
  }
  if (s.find_first_of(".eEn") == std::string::npos)
    s += ".0";
  return s;
}

std::string formatAttr(const AttrValue &a) {
  if (auto *i = std::get_if<int64_t>(&a))
    return std::to_string(*i);
  if (auto *d = std::get_if<double>(&a))
    return formatFloat(*d);
  if (auto *s = std::get_if<std::string>(&a)) {
    std::string out = "\"";
    for (char c : *s) {
      if (c == '"' || c == '\\')
        out += '\\';
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      out += c;
    }
    return out + "\"";
  }
  const auto &v = std::get<std::vector<int64_t>>(a);
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i)
    out += (i ? ", " : "") + std::to_string(v[i]);
  return out + "]";
}

class Printer {
public:
  Printer(std::ostream &os, const PrintOptions &opts) : os_(os), opts_(opts) {}

  void printFunction(const Function &f) {
    os_ << "func @" << f.name() << "(";
    const Block &body = f.body();
    for (unsigned i = 0; i < body.numArguments(); ++i) {
      Value *arg = body.argument(i);
      std::string hint = i < f.argNames().size() ? f.argNames()[i] : "";
      os_ << (i ? ", " : "") << define(arg, hint) << ": " << arg->type()->str();
    }
    os_ << ") {\n";
    for (const auto &op : body.operations())
      printOp(*op, 1);
    os_ << "}\n";
  }

  void printOp(const Operation &op, int indent) {
    os_ << std::string(indent * 2, ' ');
    for (unsigned i = 0; i < op.numResults(); ++i)
      os_ << (i ? ", " : "") << define(op.result(i), "");
    if (op.numResults())
      os_ << " = ";
    os_ << op.name();
    for (unsigned i = 0; i < op.numOperands(); ++i)
      os_ << (i ? ", " : " ") << use(op.operand(i));
    if (!op.attrs().empty()) {
      os_ << " {";
      for (size_t i = 0; i < op.attrs().size(); ++i)
        os_ << (i ? ", " : "") << op.attrs()[i].name << " = " << formatAttr(op.attrs()[i].value);
      os_ << "}";
    }
    if (op.numResults()) {
      os_ << " :";
      for (unsigned i = 0; i < op.numResults(); ++i)
        os_ << (i ? ", " : " ") << op.result(i)->type()->str();
    }
    for (unsigned r = 0; r < op.numRegions(); ++r) {
      os_ << (r ? " else {\n" : " {\n");
      printBlock(op.region(r).block(), indent);
      os_ << std::string(indent * 2, ' ') << "}";
    }
    if (opts_.locations && op.loc().isValid()) {
      std::string file = opts_.sources ? std::string(opts_.sources->name(op.loc().file)) : "";
      os_ << " loc(" << formatAttr(file) << ":" << op.loc().line << ":" << op.loc().col << ")";
    }
    os_ << "\n";
  }

private:
  void printBlock(const Block &b, int indent) {
    if (b.numArguments()) {
      os_ << std::string(indent * 2, ' ') << "^bb(";
      for (unsigned i = 0; i < b.numArguments(); ++i)
        os_ << (i ? ", " : "") << define(b.argument(i), "") << ": " << b.argument(i)->type()->str();
      os_ << "):\n";
    }
    for (const auto &op : b.operations())
      printOp(*op, indent + 1);
  }

  std::string define(const Value *v, const std::string &hint) {
    std::string name;
    if (!hint.empty() && used_.insert(hint).second)
      name = hint;
    else
      name = std::to_string(next_++);
    names_[v] = name;
    return "%" + name;
  }

  std::string use(const Value *v) {
    auto it = names_.find(v);
    if (it == names_.end())
      return "%<undefined>";
    return "%" + it->second;
  }

  std::ostream &os_;
  const PrintOptions &opts_;
  std::unordered_map<const Value *, std::string> names_;
  std::unordered_set<std::string> used_;
  unsigned next_ = 0;
};

} // namespace

void printFunction(const Function &f, std::ostream &os, const PrintOptions &opts) {
  Printer(os, opts).printFunction(f);
}

void printModule(const Module &m, std::ostream &os, const PrintOptions &opts) {
  for (size_t i = 0; i < m.functions().size(); ++i) {
    if (i)
      os << "\n";
    printFunction(*m.functions()[i], os, opts);
  }
}

std::string toString(const Module &m, const PrintOptions &opts) {
  std::ostringstream os;
  printModule(m, os, opts);
  return os.str();
}

std::string toString(const Function &f, const PrintOptions &opts) {
  std::ostringstream os;
  printFunction(f, os, opts);
  return os.str();
}

std::string toString(const Operation &op) {
  std::ostringstream os;
  PrintOptions opts;
  Printer(os, opts).printOp(op, 0);
  return os.str();
}

} // namespace mt::ir
