#include "runtime/SpecKey.h"

#include <cstdio>

namespace mt {

ArgSpec ArgSpec::forInt(int64_t v) {
  bool fits32 = v >= INT32_MIN && v <= INT32_MAX;
  ArgSpec spec = scalar(fits32 ? DType::I32 : DType::I64);
  spec.divisibleBy16 = v % 16 == 0;
  spec.equalsOne = v == 1;
  return spec;
}

} // namespace mt

namespace mt::runtime {

std::string formatConstexpr(const ConstexprValue &v) {
  struct Visitor {
    std::string operator()(std::monostate) const { return "None"; }
    std::string operator()(bool b) const { return b ? "True" : "False"; }
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const {
      char buf[40];
      std::snprintf(buf, sizeof buf, "%.17g", d);
      return std::string(buf) + "f";
    }
    std::string operator()(const std::string &s) const { return "'" + s + "'"; }
  };
  return std::visit(Visitor{}, v);
}

static void appendField(std::string &key, const std::string &field) {
  // Length-prefixed so that no two different inputs concatenate to the same key.
  key += std::to_string(field.size());
  key += ':';
  key += field;
}

std::string specKey(const KernelSource &src, const std::vector<ArgSpec> &args, const CompileOptions &opts,
                    const std::string &backend) {
  std::string key;
  appendField(key, kCompilerVersion);
  appendField(key, backend);
  appendField(key, src.functionName);
  appendField(key, src.fileName);
  appendField(key, std::to_string(src.lineOffset));
  appendField(key, src.text);
  for (const auto &h : src.helpers) {
    appendField(key, h.fileName);
    appendField(key, std::to_string(h.lineOffset));
    appendField(key, h.text);
  }
  for (const auto &[name, value] : src.globals)
    appendField(key, name + "=" + formatConstexpr(value));
  for (const ArgSpec &a : args) {
    std::string f;
    switch (a.kind) {
    case ArgSpec::Kind::Pointer:
      f = "*" + std::string(ir::dtypeName(a.dtype));
      break;
    case ArgSpec::Kind::Scalar:
      f = std::string(ir::dtypeName(a.dtype));
      break;
    case ArgSpec::Kind::Constexpr:
      f = "c" + formatConstexpr(a.value);
      break;
    case ArgSpec::Kind::TensorDesc:
      f = "desc<" + std::string(ir::dtypeName(a.dtype)) + (a.nanPadding ? ",nan" : ",zero");
      for (int64_t b : a.blockShape)
        f += "," + std::to_string(b);
      f += ">";
      break;
    }
    if (a.divisibleBy16)
      f += "/16";
    if (a.equalsOne)
      f += "=1";
    appendField(key, f);
  }
  appendField(key, opts.target == Target::Cuda ? "target=cuda" : "target=cpu");
  appendField(key, "w" + std::to_string(opts.numWarps) + "s" + std::to_string(opts.numStages) + "o" +
                       std::to_string(opts.optimize));
  for (const auto &p : opts.passes)
    appendField(key, p);
  return key;
}

} // namespace mt::runtime
