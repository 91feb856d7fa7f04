// The IR parser: a recursive-descent reader over characters (the IR's tokens are simple enough that
// a separate lexer buys nothing). Grammar, with `nl` meaning that the item must start on the line of
// the op's mnemonic (ops are one per line; regions span lines):
//
//   module     = function*
//   function   = "func" "@" name "(" (arg ("," arg)*)? ")" "{" op* "}"
//   arg        = value ":" type
//   op         = (value ("," value)* "=")? mnemonic operands? attr-dict? (":" type ("," type)*)?
//                regions? loc?
//   operands   = nl value ("," value)*
//   attr-dict  = nl "{" name "=" attr ("," name "=" attr)* "}"
//   regions    = nl region (nl "else" region)*
//   region     = "{" ("^" name "(" (arg ("," arg)*)? ")" ":")? op* "}"
//   loc        = nl "loc" "(" string ":" int ":" int ")"
//   type       = dtype | "ptr" "<" type ">" | "tensor" "<" (int "x")+ type ">"
//   attr       = int | float | "inf" | "-inf" | "nan" | string | "[" (int ("," int)*)? "]"
//   value      = "%" [A-Za-z0-9_.$]+
//
// `//` starts a comment that runs to the end of the line.
#include "ir/Parser.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <unordered_map>

namespace mt::ir {
namespace {

/// Deepest nesting of regions or types we accept (the parser recurses on both).
constexpr unsigned kMaxDepth = 128;
/// Largest tile we accept, in elements (guards later stages against absurd allocations).
constexpr int64_t kMaxTileElements = int64_t(1) << 40;

bool isIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isIdentChar(char c) { return isIdentStart(c) || isDigit(c); }
bool isNameChar(char c) { return isIdentChar(c) || c == '.' || c == '$'; }

class IRParser {
public:
  IRParser(SourceManager &sources, uint32_t file, TypeContext &types, Diagnostics &diag)
      : sources_(sources), file_(file), text_(sources.text(file)), types_(types), diag_(diag) {
    lineStarts_.push_back(0);
    for (size_t i = 0; i < text_.size(); ++i)
      if (text_[i] == '\n')
        lineStarts_.push_back(i + 1);
  }

  std::unique_ptr<Module> run() {
    auto module = std::make_unique<Module>(types_);
    try {
      skipWs();
      while (!atEnd()) {
        parseFunction(*module);
        skipWs();
      }
    } catch (const CompileAbort &) {
      return nullptr;
    }
    return module;
  }

private:
  // ---- Characters and positions -------------------------------------------------------------------

  bool atEnd() const { return pos_ >= text_.size(); }
  char peek(size_t k = 0) const { return pos_ + k < text_.size() ? text_[pos_ + k] : '\0'; }

  SourceLoc locAt(size_t pos) const {
    size_t lo = 0, hi = lineStarts_.size();
    while (hi - lo > 1) { // last line start <= pos
      size_t mid = (lo + hi) / 2;
      if (lineStarts_[mid] <= pos)
        lo = mid;
      else
        hi = mid;
    }
    return SourceLoc{file_, static_cast<uint32_t>(lo + 1), static_cast<uint32_t>(pos - lineStarts_[lo] + 1)};
  }

  [[noreturn]] void error(size_t pos, const std::string &msg) { diag_.fatal(locAt(pos), msg); }

  /// A short description of what is at the cursor, for "expected X, found Y".
  std::string found() const {
    if (atEnd())
      return "end of input";
    if (peek() == '\n')
      return "end of line";
    size_t end = pos_;
    while (end < text_.size() && isNameChar(text_[end]))
      ++end;
    if (end == pos_)
      end = pos_ + 1;
    return "'" + std::string(text_.substr(pos_, end - pos_)) + "'";
  }

  [[noreturn]] void errorExpected(const std::string &what) {
    error(pos_, "expected " + what + ", found " + found());
  }

  void skipComment() {
    while (!atEnd() && peek() != '\n')
      ++pos_;
  }

  /// Skips whitespace, newlines and comments.
  void skipWs() {
    while (!atEnd()) {
      char c = peek();
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
        ++pos_;
      else if (c == '/' && peek(1) == '/')
        skipComment();
      else
        break;
    }
  }

  /// Skips blanks and a comment on the current line; true if something other than the line's end
  /// follows.
  bool skipWsSameLine() {
    while (!atEnd() && (peek() == ' ' || peek() == '\t' || peek() == '\r'))
      ++pos_;
    if (peek() == '/' && peek(1) == '/')
      skipComment();
    return !atEnd() && peek() != '\n';
  }

  /// Consumes `c` after optional whitespace; leaves the cursor alone if `c` is not next.
  bool consume(char c) {
    size_t save = pos_;
    skipWs();
    if (peek() == c) {
      ++pos_;
      return true;
    }
    pos_ = save;
    return false;
  }

  void expect(char c) {
    skipWs();
    if (peek() != c)
      errorExpected(std::string("'") + c + "'");
    ++pos_;
  }

  /// [A-Za-z_][A-Za-z0-9_]* at the cursor (no skipping); empty if none.
  std::string_view ident() {
    if (!isIdentStart(peek()))
      return {};
    size_t start = pos_;
    while (isIdentChar(peek()))
      ++pos_;
    return text_.substr(start, pos_ - start);
  }

  /// True (and consumed) if the identifier `word` is at the cursor.
  bool consumeWord(std::string_view word) {
    size_t save = pos_;
    if (ident() == word)
      return true;
    pos_ = save;
    return false;
  }

  /// The name after a sigil: [A-Za-z0-9_.$]+.
  std::string symbolName(const char *what) {
    size_t start = pos_;
    while (isNameChar(peek()))
      ++pos_;
    if (pos_ == start)
      errorExpected(what);
    return std::string(text_.substr(start, pos_ - start));
  }

  /// `%name`, after skipping whitespace; returns the name and sets `pos` to the `%`.
  std::string valueName(size_t &pos) {
    skipWs();
    pos = pos_;
    if (peek() != '%')
      errorExpected("a value (%name)");
    ++pos_;
    return symbolName("a value name after '%'");
  }

  // ---- Values -------------------------------------------------------------------------------------

  void define(const std::string &name, Value *v, size_t pos) {
    if (!values_.emplace(name, v).second)
      error(pos, "redefinition of value %" + name);
  }

  Value *lookup(const std::string &name, size_t pos) {
    auto it = values_.find(name);
    if (it == values_.end())
      error(pos, "use of undefined value %" + name);
    return it->second;
  }

  // ---- Literals -----------------------------------------------------------------------------------

  int64_t parseInt(const char *what) {
    skipWs();
    size_t start = pos_;
    if (peek() == '-')
      ++pos_;
    if (!isDigit(peek())) {
      pos_ = start;
      errorExpected(what);
    }
    while (isDigit(peek()))
      ++pos_;
    std::string lexeme(text_.substr(start, pos_ - start));
    errno = 0;
    long long v = std::strtoll(lexeme.c_str(), nullptr, 10);
    if (errno == ERANGE)
      error(start, "integer " + lexeme + " is out of range");
    return v;
  }

  std::string parseString() {
    skipWs();
    size_t start = pos_;
    if (peek() != '"')
      errorExpected("a string");
    ++pos_;
    std::string out;
    while (true) {
      if (atEnd() || peek() == '\n')
        error(start, "unterminated string");
      char c = text_[pos_++];
      if (c == '"')
        return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      char e = peek();
      if (e == 'n')
        out += '\n';
      else if (e == 't')
        out += '\t';
      else if (e == '"' || e == '\\')
        out += e;
      else
        error(pos_ - 1, "unknown escape sequence in string");
      ++pos_;
    }
  }

  /// int | float | inf | -inf | nan | string | [ints]
  AttrValue parseAttrValue() {
    skipWs();
    size_t start = pos_;
    if (peek() == '"')
      return parseString();
    if (peek() == '[') {
      ++pos_;
      std::vector<int64_t> list;
      if (consume(']'))
        return list;
      do
        list.push_back(parseInt("an integer"));
      while (consume(','));
      expect(']');
      return list;
    }
    bool neg = peek() == '-';
    if (neg)
      ++pos_;
    std::string_view word = ident();
    if (word == "inf")
      return neg ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    if (word == "nan")
      return std::numeric_limits<double>::quiet_NaN();
    if (!word.empty() || !isDigit(peek())) {
      pos_ = start;
      errorExpected("an attribute value");
    }
    while (isDigit(peek()))
      ++pos_;
    bool isFloatLit = false;
    if (peek() == '.') {
      isFloatLit = true;
      ++pos_;
      while (isDigit(peek()))
        ++pos_;
    }
    if (peek() == 'e' || peek() == 'E') {
      isFloatLit = true;
      ++pos_;
      if (peek() == '+' || peek() == '-')
        ++pos_;
      if (!isDigit(peek()))
        errorExpected("an exponent");
      while (isDigit(peek()))
        ++pos_;
    }
    std::string lexeme(text_.substr(start, pos_ - start));
    errno = 0;
    if (isFloatLit) {
      double d = std::strtod(lexeme.c_str(), nullptr);
      if (errno == ERANGE && std::isinf(d))
        error(start, "float " + lexeme + " is out of range");
      return d;
    }
    long long v = std::strtoll(lexeme.c_str(), nullptr, 10);
    if (errno == ERANGE)
      error(start, "integer " + lexeme + " is out of range");
    return static_cast<int64_t>(v);
  }

  // ---- Types --------------------------------------------------------------------------------------

  const Type *parseType(unsigned depth) {
    skipWs();
    size_t start = pos_;
    if (depth > kMaxDepth)
      error(start, "type nested too deeply");
    std::string_view word = ident();
    if (word == "ptr") {
      expect('<');
      const Type *pointee = parseType(depth + 1);
      if (pointee->isBlock())
        error(start, "pointer to a tensor type is not supported");
      expect('>');
      return types_.pointer(pointee);
    }
    if (word == "tensor") {
      expect('<');
      skipWs();
      std::vector<int64_t> shape;
      int64_t elements = 1;
      while (isDigit(peek())) {
        size_t dimPos = pos_;
        int64_t dim = 0;
        while (isDigit(peek())) {
          dim = dim * 10 + (peek() - '0');
          if (dim > kMaxTileElements)
            error(dimPos, "tensor dimension is too large");
          ++pos_;
        }
        if (dim == 0)
          error(dimPos, "tensor dimension must be positive");
        if (dim > kMaxTileElements / elements)
          error(start, "tensor type has too many elements");
        elements *= dim;
        shape.push_back(dim);
        if (peek() != 'x')
          errorExpected("'x' after a tensor dimension");
        ++pos_;
      }
      if (shape.empty())
        errorExpected("a tensor dimension");
      const Type *elem = parseType(depth + 1);
      if (elem->isBlock())
        error(start, "tensor of tensors is not a type");
      expect('>');
      return types_.block(elem, shape);
    }
    for (unsigned i = 0; i <= static_cast<unsigned>(DType::F64); ++i)
      if (!word.empty() && word == dtypeName(static_cast<DType>(i)))
        return types_.scalar(static_cast<DType>(i));
    pos_ = start;
    errorExpected("a type");
  }

  // ---- Functions, ops and regions -----------------------------------------------------------------

  void parseFunction(Module &module) {
    size_t start = pos_;
    if (!consumeWord("func"))
      errorExpected("'func'");
    skipWs();
    if (peek() != '@')
      errorExpected("'@' and a function name");
    ++pos_;
    std::string name = symbolName("a function name after '@'");
    if (module.lookup(name))
      error(start, "redefinition of function @" + name);
    Function *f = module.addFunction(name, locAt(start));
    values_.clear();
    expect('(');
    if (!consume(')')) {
      do {
        size_t argPos;
        std::string argName = valueName(argPos);
        expect(':');
        Value *arg = f->body().addArgument(parseType(0));
        define(argName, arg, argPos);
        bool numeric = argName.find_first_not_of("0123456789") == std::string::npos;
        f->argNames().push_back(numeric ? "" : argName);
      } while (consume(','));
      expect(')');
    }
    expect('{');
    parseOps(f->body(), 0);
  }

  /// Parses ops into `block` up to and including the closing '}'.
  void parseOps(Block &block, unsigned depth) {
    while (true) {
      skipWs();
      if (atEnd())
        errorExpected("'}'");
      if (peek() == '}') {
        ++pos_;
        return;
      }
      parseOp(block, depth);
    }
  }

  void parseRegion(Block &block, unsigned depth) {
    size_t start = pos_;
    if (depth > kMaxDepth)
      error(start, "regions nested too deeply");
    expect('{');
    skipWs();
    if (peek() == '^') {
      ++pos_;
      symbolName("a block name after '^'");
      expect('(');
      if (!consume(')')) {
        do {
          size_t argPos;
          std::string argName = valueName(argPos);
          expect(':');
          define(argName, block.addArgument(parseType(0)), argPos);
        } while (consume(','));
        expect(')');
      }
      expect(':');
    }
    parseOps(block, depth);
  }

  /// True if the '{' at the cursor opens an attribute dictionary (`{name =`) rather than a region.
  bool looksLikeAttrDict() {
    size_t save = pos_;
    ++pos_;
    skipWs();
    bool isDict = !ident().empty() && consume('=');
    pos_ = save;
    return isDict;
  }

  void parseAttrDict(std::vector<NamedAttr> &attrs) {
    expect('{');
    do {
      skipWs();
      size_t namePos = pos_;
      std::string name(ident());
      if (name.empty())
        errorExpected("an attribute name");
      expect('=');
      AttrValue value = parseAttrValue();
      for (const NamedAttr &a : attrs)
        if (a.name == name)
          error(namePos, "duplicate attribute '" + name + "'");
      attrs.push_back({std::move(name), std::move(value)});
    } while (consume(','));
    expect('}');
  }

  SourceLoc parseLoc() {
    expect('(');
    std::string name = parseString();
    expect(':');
    size_t linePos = pos_;
    int64_t line = parseInt("a line number");
    expect(':');
    int64_t col = parseInt("a column number");
    if (line <= 0 || col < 0 || line > std::numeric_limits<uint32_t>::max() ||
        col > std::numeric_limits<uint32_t>::max())
      error(linePos, "invalid location");
    expect(')');
    auto it = locFiles_.find(name);
    if (it == locFiles_.end())
      it = locFiles_.emplace(name, sources_.addBuffer(name, "")).first;
    return SourceLoc{it->second, static_cast<uint32_t>(line), static_cast<uint32_t>(col)};
  }

  void parseOp(Block &block, unsigned depth) {
    skipWs();
    size_t start = pos_;
    std::vector<std::pair<std::string, size_t>> resultNames;
    if (peek() == '%') {
      do {
        size_t p;
        std::string n = valueName(p);
        resultNames.push_back({std::move(n), p});
      } while (consume(','));
      expect('=');
      skipWs();
    }
    size_t mnemonicPos = pos_;
    std::string_view name = ident();
    if (name.empty())
      errorExpected("an operation name");
    OpKind kind;
    if (!lookupOpKind(name, kind))
      error(mnemonicPos, "unknown operation '" + std::string(name) + "'");

    std::vector<Value *> operands;
    if (skipWsSameLine() && peek() == '%') {
      do {
        size_t p;
        std::string n = valueName(p);
        operands.push_back(lookup(n, p));
      } while (consume(','));
    }
    std::vector<NamedAttr> attrs;
    if (skipWsSameLine() && peek() == '{' && looksLikeAttrDict())
      parseAttrDict(attrs);
    std::vector<const Type *> resultTypes;
    if (skipWsSameLine() && peek() == ':') {
      ++pos_;
      do
        resultTypes.push_back(parseType(0));
      while (consume(','));
    }
    if (resultTypes.size() != resultNames.size())
      error(mnemonicPos, "'" + std::string(name) + "' has " + std::to_string(resultNames.size()) +
                             " result name(s) but " + std::to_string(resultTypes.size()) + " result type(s)");

    Operation *op = block.push_back(
        Operation::create(kind, locAt(start), std::move(operands), resultTypes, std::move(attrs)));
    unsigned numRegions = 0;
    while (skipWsSameLine()) {
      size_t regionPos = pos_;
      if (numRegions > 0 && !consumeWord("else"))
        break;
      if (numRegions == 0 && peek() != '{')
        break;
      skipWsSameLine();
      if (numRegions >= op->numRegions())
        error(regionPos,
              "'" + std::string(name) + "' takes " + std::to_string(op->numRegions()) + " region(s)");
      parseRegion(op->region(numRegions).block(), depth + 1);
      ++numRegions;
    }
    if (numRegions != op->numRegions())
      error(mnemonicPos, "'" + std::string(name) + "' takes " + std::to_string(op->numRegions()) +
                             " region(s), found " + std::to_string(numRegions));
    if (skipWsSameLine() && consumeWord("loc"))
      op->setLoc(parseLoc());
    if (skipWsSameLine())
      errorExpected("end of line after the operation");
    // Results become visible only after the op's regions (an op cannot use its own results).
    for (unsigned i = 0; i < resultNames.size(); ++i)
      define(resultNames[i].first, op->result(i), resultNames[i].second);
  }

  SourceManager &sources_;
  uint32_t file_;
  std::string_view text_;
  TypeContext &types_;
  Diagnostics &diag_;
  size_t pos_ = 0;
  std::vector<size_t> lineStarts_;
  std::unordered_map<std::string, Value *> values_;
  std::unordered_map<std::string, uint32_t> locFiles_;
};

} // namespace

std::unique_ptr<Module> parseIR(SourceManager &sources, uint32_t file, TypeContext &types,
                                Diagnostics &diag) {
  return IRParser(sources, file, types, diag).run();
}

std::unique_ptr<Module> parseIR(std::string_view text, std::string name, SourceManager &sources,
                                TypeContext &types, Diagnostics &diag) {
  uint32_t file = sources.addBuffer(std::move(name), std::string(text));
  return parseIR(sources, file, types, diag);
}

} // namespace mt::ir
