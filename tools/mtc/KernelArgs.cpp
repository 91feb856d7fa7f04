#include "KernelArgs.h"

#include "backend/cpu/Tile.h" // the interpreter's f16/bf16 conversions
#include "frontend/Parser.h"
#include "support/Diagnostics.h"

#include <cmath>
#include <cstring>
#include <random>
#include <sstream>

namespace mtc {
namespace {

std::vector<std::string> splitWords(const std::string &s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;)
    out.push_back(w);
  return out;
}

bool parseInt(const std::string &s, int64_t &v) {
  if (s.empty())
    return false;
  char *end = nullptr;
  errno = 0;
  v = std::strtoll(s.c_str(), &end, 0);
  return errno == 0 && *end == '\0';
}

bool parseDouble(const std::string &s, double &v) {
  if (s.empty())
    return false;
  char *end = nullptr;
  v = std::strtod(s.c_str(), &end);
  return *end == '\0';
}

double readElement(const unsigned char *p, mt::DType d) {
  using mt::DType;
  switch (d) {
  case DType::F8E4M3:
    return mt::cpu::fp8BitsToFloat(*p, mt::DType::F8E4M3);
  case DType::F8E5M2:
    return mt::cpu::fp8BitsToFloat(*p, mt::DType::F8E5M2);
  case DType::I1:
  case DType::U8:
    return *p;
  case DType::I8:
    return static_cast<int8_t>(*p);
  case DType::I16: {
    int16_t v;
    std::memcpy(&v, p, 2);
    return v;
  }
  case DType::U16: {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return v;
  }
  case DType::I32: {
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  case DType::U32: {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  case DType::I64: {
    int64_t v;
    std::memcpy(&v, p, 8);
    return double(v);
  }
  case DType::U64: {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return double(v);
  }
  case DType::F16: {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return mt::cpu::halfBitsToFloat(v);
  }
  case DType::BF16: {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return mt::cpu::bfloatBitsToFloat(v);
  }
  case DType::F32: {
    float v;
    std::memcpy(&v, p, 4);
    return v;
  }
  case DType::F64: {
    double v;
    std::memcpy(&v, p, 8);
    return v;
  }
  }
  return 0;
}

void writeRandom(unsigned char *p, mt::DType d, std::mt19937_64 &rng) {
  using mt::DType;
  std::uniform_real_distribution<float> real(-1.0f, 1.0f);
  std::uniform_int_distribution<int> small(0, 99);
  int64_t iv = small(rng);
  switch (d) {
  case DType::F8E4M3:
    *p = mt::cpu::floatToFp8Bits(real(rng), mt::DType::F8E4M3);
    return;
  case DType::F8E5M2:
    *p = mt::cpu::floatToFp8Bits(real(rng), mt::DType::F8E5M2);
    return;
  case DType::F16: {
    uint16_t h = mt::cpu::floatToHalfBits(real(rng));
    std::memcpy(p, &h, 2);
    return;
  }
  case DType::BF16: {
    uint16_t h = mt::cpu::floatToBFloatBits(real(rng));
    std::memcpy(p, &h, 2);
    return;
  }
  case DType::F32: {
    float f = real(rng);
    std::memcpy(p, &f, 4);
    return;
  }
  case DType::F64: {
    double f = real(rng);
    std::memcpy(p, &f, 8);
    return;
  }
  case DType::I1:
    *p = iv & 1;
    return;
  default:
    std::memcpy(p, &iv, mt::ir::bitWidth(d) / 8);
    return;
  }
}

bool isConstexprParam(const mt::ast::Param &p) {
  const mt::ast::Expr *a = p.annotation.get();
  return a && (a->kind == mt::ast::ExprKind::Attribute || a->kind == mt::ast::ExprKind::Name) &&
         a->name == "constexpr";
}

/// Triton's name of a tl dtype attribute: float32 -> fp32, bfloat16 -> bf16; int/uint names are unchanged.
std::string dtypeName(const std::string &attr) {
  static const std::map<std::string, std::string> floats = {
      {"float16", "fp16"}, {"bfloat16", "bf16"}, {"float32", "fp32"}, {"float64", "fp64"}};
  auto it = floats.find(attr);
  return it == floats.end() ? attr : it->second;
}

bool constexprLiteral(const std::string &s, mt::ConstexprValue &v) {
  int64_t i;
  double d;
  if (s == "None")
    v = std::monostate{};
  else if (s == "True")
    v = true;
  else if (s == "False")
    v = false;
  else if (parseInt(s, i))
    v = i;
  else if (parseDouble(s, d))
    v = d;
  else if (s.size() >= 2 && (s.front() == '\'' || s.front() == '"') && s.back() == s.front())
    v = s.substr(1, s.size() - 2);
  else if (s.rfind("tl.", 0) == 0) // a dtype: tl.float32 -> "fp32", tl.int64 -> "int64"
    v = dtypeName(s.substr(3));
  else
    return false;
  return true;
}

} // namespace

bool invocationsFromFile(const std::string &text, std::vector<Invocation> &out) {
  std::istringstream in(text);
  const std::string tag = "# mtc-run:";
  for (std::string line; std::getline(in, line);) {
    size_t pos = line.find(tag);
    if (pos == std::string::npos)
      continue;
    std::vector<std::string> words = splitWords(line.substr(pos + tag.size()));
    if (words.empty())
      return false;
    Invocation inv{words[0], {}, ""};
    for (size_t i = 1; i < words.size(); ++i) {
      if (words[i].rfind("grid=", 0) == 0)
        inv.grid = words[i].substr(5);
      else
        inv.args.push_back(words[i]);
    }
    out.push_back(std::move(inv));
  }
  return true;
}

bool buildKernelArgs(const std::string &text, const std::string &fileName, const Invocation &inv,
                     KernelArgs &out, std::string &err) {
  mt::SourceManager sources;
  mt::Diagnostics diag(&sources);
  auto module = mt::parseModule(sources, sources.addBuffer(fileName, text), diag);
  if (!module) {
    err = "cannot parse kernel file:\n" + diag.renderAll();
    return false;
  }
  const mt::ast::FunctionDef *fn = module->findFunction(inv.kernel);
  if (!fn) {
    err = "no function '" + inv.kernel + "' in '" + fileName + "'";
    return false;
  }
  std::map<std::string, std::string> given;
  for (const std::string &a : inv.args) {
    size_t eq = a.find('=');
    if (eq == std::string::npos) {
      err = "argument '" + a + "' is not name=spec";
      return false;
    }
    given[a.substr(0, eq)] = a.substr(eq + 1);
  }
  for (const auto &[name, spec] : given) {
    bool known = false;
    for (const auto &p : fn->params)
      known |= p.name == name;
    if (!known) {
      err = "kernel '" + inv.kernel + "' has no parameter '" + name + "'";
      return false;
    }
  }
  std::mt19937_64 rng(1234);
  for (const mt::ast::Param &p : fn->params) {
    auto it = given.find(p.name);
    if (it == given.end()) {
      if (p.defaultValue)
        break; // this and later params take their defaults
      err = "missing argument for parameter '" + p.name + "'";
      return false;
    }
    const std::string &spec = it->second;
    mt::ConstexprValue cv;
    if (isConstexprParam(p) || spec == "None") {
      if (!constexprLiteral(spec, cv)) {
        err = "bad constexpr value '" + spec + "' for '" + p.name + "'";
        return false;
      }
      out.specs.push_back(mt::ArgSpec::constant(cv));
      continue;
    }
    int64_t literalInt;
    double literalFloat;
    if (parseInt(spec, literalInt)) { // a plain int for a runtime parameter: Triton's int specialisation
      out.specs.push_back(mt::ArgSpec::forInt(literalInt));
      out.launchArgs.push_back(mt::LaunchArg::integer(literalInt));
      continue;
    }
    if (parseDouble(spec, literalFloat)) {
      out.specs.push_back(mt::ArgSpec::scalar(mt::DType::F32));
      out.launchArgs.push_back(mt::LaunchArg::floating(literalFloat));
      continue;
    }
    bool isPtr = spec[0] == '*';
    std::string body = isPtr ? spec.substr(1) : spec;
    size_t colon = body.find(':');
    std::string dtName = body.substr(0, colon);
    auto dt = mt::ir::parseDType(dtName);
    if (!dt) {
      err = "unknown dtype '" + dtName + "' for '" + p.name + "'";
      return false;
    }
    std::string value = colon == std::string::npos ? "" : body.substr(colon + 1);
    if (isPtr) {
      out.specs.push_back(mt::ArgSpec::pointer(*dt));
      int64_t n = 0;
      if (!value.empty() && (!parseInt(value, n) || n < 0)) {
        err = "bad buffer size '" + value + "' for '" + p.name + "'";
        return false;
      }
      size_t elem = std::max(1u, mt::ir::bitWidth(*dt) / 8);
      out.buffers.emplace_back(static_cast<size_t>(n) * elem);
      for (int64_t i = 0; i < n; ++i)
        writeRandom(out.buffers.back().data() + i * elem, *dt, rng);
      out.bufferNames.push_back(p.name);
      out.bufferTypes.push_back(*dt);
      // The inner vector's storage stays put when `buffers` itself grows, so the pointer stays valid.
      out.launchArgs.push_back(mt::LaunchArg::buffer(out.buffers.back().data(), out.buffers.back().size()));
      continue;
    }
    out.specs.push_back(mt::ArgSpec::scalar(*dt));
    if (mt::ir::isFloat(*dt)) {
      double d = 0;
      if (!value.empty() && !parseDouble(value, d)) {
        err = "bad value '" + value + "' for '" + p.name + "'";
        return false;
      }
      out.launchArgs.push_back(mt::LaunchArg::floating(d));
    } else {
      int64_t i = 0;
      if (!value.empty() && !parseInt(value, i)) {
        err = "bad value '" + value + "' for '" + p.name + "'";
        return false;
      }
      out.launchArgs.push_back(mt::LaunchArg::integer(i));
    }
  }
  uint32_t dims[3] = {1, 1, 1};
  std::stringstream gs(inv.grid);
  int k = 0;
  for (std::string part; k < 3 && std::getline(gs, part, ',');) {
    int64_t v;
    if (!parseInt(part, v) || v <= 0 || v > INT32_MAX) {
      err = "bad grid '" + inv.grid + "'";
      return false;
    }
    dims[k++] = static_cast<uint32_t>(v);
  }
  out.grid = {dims[0], dims[1], dims[2]};
  return true;
}

std::string KernelArgs::summary() const {
  std::ostringstream os;
  for (size_t i = 0; i < buffers.size(); ++i) {
    size_t elem = std::max(1u, mt::ir::bitWidth(bufferTypes[i]) / 8);
    size_t n = buffers[i].size() / elem;
    double sum = 0;
    for (size_t j = 0; j < n; ++j)
      sum += readElement(buffers[i].data() + j * elem, bufferTypes[i]);
    os << "  " << bufferNames[i] << ": " << n << " x " << mt::ir::tritonDtypeName(bufferTypes[i]) << ", sum "
       << sum << ", first [";
    for (size_t j = 0; j < std::min<size_t>(n, 4); ++j)
      os << (j ? ", " : "") << readElement(buffers[i].data() + j * elem, bufferTypes[i]);
    os << (n > 4 ? ", ...]\n" : "]\n");
  }
  return os.str();
}

} // namespace mtc
