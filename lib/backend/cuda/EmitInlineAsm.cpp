// Tile IR -> CUDA C++: tl.inline_asm_elementwise (the inline_asm op), one asm statement per element.
//
// Triton hands the asm to LLVM: operands are $0, $1, ... (outputs first) and the constraints an LLVM list
// ("=r,=r,r,l"). CUDA's inline asm is GCC's: operands %0, %1, ... and a literal % written %%. Each operand
// goes through a register-typed temporary (r: 32 bits, l: 64, h: 16, f: f32, d: f64) holding the element's
// bits, so an f32 value under "r" is passed as its bit pattern, as LLVM does.
#include "backend/cuda/EmitterImpl.h"

namespace mt::cuda::detail {

using namespace ir;

namespace {

/// The C++ register type of constraint letter c, and its width in bits (0: not supported).
std::pair<std::string, unsigned> registerOf(char c) {
  switch (c) {
  case 'r':
    return {"unsigned int", 32};
  case 'l':
    return {"unsigned long long", 64};
  case 'h':
    return {"unsigned short", 16};
  case 'f':
    return {"float", 32};
  case 'd':
    return {"double", 64};
  default:
    return {"", 0};
  }
}

/// The asm text as a C++ string literal in GCC's operand syntax.
std::string asmLiteral(const std::string &text) {
  std::string out = "\"";
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '$' && i + 1 < text.size() && std::isdigit(static_cast<unsigned char>(text[i + 1]))) {
      out += '%';
      continue;
    }
    if (c == '$' && i + 1 < text.size() && text[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (c == '%')
      out += "%%";
    else if (c == '"' || c == '\\')
      out += std::string("\\") + c;
    else if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else
      out += c;
  }
  return out + "\"";
}

} // namespace

void KernelEmitter::emitInlineAsm(const Operation &op) {
  std::string constraints = op.stringAttr("constraints");
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    size_t comma = constraints.find(',', start);
    parts.push_back(
        constraints.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  unsigned nOut = op.numResults(), nIn = op.numOperands();
  if (parts.size() != nOut + nIn)
    unsupported(op, "the constraints \"" + constraints + "\" name " + std::to_string(parts.size()) +
                        " operands, the op has " + std::to_string(nOut) + " results and " +
                        std::to_string(nIn) + " arguments");
  std::vector<std::string> outs, ins;
  for (unsigned k = 0; k < nOut; ++k)
    outs.push_back(declare(op.result(k), &op));
  const Type *shapeType = op.result(0)->type();
  auto temp = [&](const std::string &c, const Type *t, unsigned k, bool out) {
    std::string letter = out ? (c.size() == 2 && c[0] == '=' ? c.substr(1) : "") : c;
    auto [reg, bits] = letter.size() == 1 ? registerOf(letter[0]) : std::make_pair(std::string(), 0u);
    if (bits == 0)
      unsupported(op, "constraint \"" + c + "\" is not supported (use =r/=l/=h/=f/=d and r/l/h/f/d)");
    if (t->isPointerLike() || bitWidth(t->dtype()) != bits)
      unsupported(op, "constraint \"" + c + "\" needs a " + std::to_string(bits) + "-bit element, got " +
                          t->str() + " (pack > 1 is not supported)");
    return std::make_pair(reg, std::string(out ? "mt_asm_o" : "mt_asm_i") + std::to_string(k));
  };
  std::vector<std::string> values;
  bool linear = false;
  for (const Value *v : op.operands()) {
    values.push_back(at(v));
    linear |= usesLinearIndex(values.back());
  }
  if (shapeType->isBlock()) {
    line("#pragma unroll");
    open("for (int i = 0; i < " + num(perOf(op.result(0))) + "; ++i)");
    if (linear) // a lazily computed operand (index arithmetic) reads the linear index
      lineL(linIn(shapeType, layoutOf(op.result(0))));
  } else {
    open("");
  }
  std::string outList, inList;
  std::vector<std::string> back;
  for (unsigned k = 0; k < nOut; ++k) {
    const Type *t = op.result(k)->type();
    auto [reg, var] = temp(parts[k], t, k, true);
    line(reg + " " + var + ";");
    outList += std::string(k ? ", " : "") + "\"" + parts[k] + "\"(" + var + ")";
    back.push_back(outs[k] + (t->isBlock() ? "[i]" : "") + " = mt::bits<" + elemType(t, &op) + ">(" + var +
                   ");");
  }
  for (unsigned k = 0; k < nIn; ++k) {
    const Value *v = op.operand(k);
    auto [reg, var] = temp(parts[nOut + k], v->type(), k, false);
    line("const " + reg + " " + var + " = mt::bits<" + reg + ">(" + values[k] + ");");
    inList += std::string(k ? ", " : "") + "\"" + parts[nOut + k] + "\"(" + var + ")";
  }
  line("asm volatile(" + asmLiteral(op.stringAttr("asm")) + " : " + outList + " : " + inList + ");");
  for (const std::string &b : back)
    line(b);
  close();
}

} // namespace mt::cuda::detail
