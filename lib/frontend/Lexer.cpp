#include "frontend/Lexer.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace mt {

std::string_view tokenKindSpelling(TokenKind kind) {
  switch (kind) {
#define MT_TOKEN_CASE(name, spelling)                                                                        \
  case TokenKind::name:                                                                                      \
    return spelling;
    MT_SPECIAL_TOKENS(MT_TOKEN_CASE) MT_KEYWORD_TOKENS(MT_TOKEN_CASE) MT_PUNCT_TOKENS(MT_TOKEN_CASE)
#undef MT_TOKEN_CASE
  }
  return "token";
}

std::string describeToken(const Token &tok) {
  switch (tok.kind) {
  case TokenKind::EndOfFile:
  case TokenKind::Newline:
  case TokenKind::Indent:
  case TokenKind::Dedent:
    return std::string(tokenKindSpelling(tok.kind));
  case TokenKind::Identifier:
    return "identifier '" + tok.text + "'";
  case TokenKind::Int:
  case TokenKind::Float:
    return "number '" + tok.text + "'";
  case TokenKind::String:
    return "string literal";
  default:
    return "'" + std::string(tokenKindSpelling(tok.kind)) + "'";
  }
}

namespace {

bool isIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isIdentChar(char c) { return isIdentStart(c) || isDigit(c); }

int digitValue(char c) {
  if (isDigit(c))
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return 99;
}

void appendUtf8(std::string &out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

/// Thrown internally to stop at the first lexical error (already reported).
struct LexError {};

class Lexer {
public:
  Lexer(const SourceManager &sources, uint32_t file, Diagnostics &diag, std::vector<Token> &out)
      : src_(sources.text(file)), file_(file), lineOffset_(sources.lineOffset(file)), diag_(diag), out_(out) {
  }

  bool run() {
    try {
      lexAll();
      return true;
    } catch (const LexError &) {
      return false;
    }
  }

private:
  std::string_view src_;
  uint32_t file_;
  uint32_t lineOffset_; // added to line numbers named in messages (as Diagnostics does to their location)
  Diagnostics &diag_;
  std::vector<Token> &out_;
  size_t pos_ = 0;
  uint32_t line_ = 1;
  uint32_t col_ = 1;
  std::vector<uint32_t> indents_{0};
  struct Open {
    char c;
    SourceLoc loc;
  };
  std::vector<Open> brackets_;

  SourceLoc here() const { return SourceLoc{file_, line_, col_}; }
  char peek(size_t ahead = 0) const { return pos_ + ahead < src_.size() ? src_[pos_ + ahead] : '\0'; }
  bool atEnd() const { return pos_ >= src_.size(); }
  bool startsWith(std::string_view s) const { return src_.substr(pos_, s.size()) == s; }

  void advance() {
    if (atEnd())
      return;
    if (src_[pos_] == '\n') {
      ++line_;
      col_ = 1;
    } else {
      ++col_;
    }
    ++pos_;
  }

  [[noreturn]] void fail(SourceLoc loc, std::string msg) {
    diag_.error(loc, std::move(msg));
    throw LexError();
  }

  Token &push(TokenKind kind, SourceLoc loc) {
    out_.emplace_back();
    out_.back().kind = kind;
    out_.back().loc = loc;
    return out_.back();
  }

  bool lastIsNewline() const { return out_.empty() || out_.back().is(TokenKind::Newline); }

  // Measures the indentation of the line starting at pos_ and emits INDENT/DEDENT tokens. Returns false if
  // the line is blank or holds only a comment (it then produces no tokens at all).
  bool handleLineStart() {
    uint32_t width = 0;
    while (!atEnd()) {
      char c = peek();
      if (c == ' ')
        ++width;
      else if (c == '\t')
        width = (width / 8 + 1) * 8;
      else if (c == '\f')
        width = 0;
      else
        break;
      advance();
    }
    char c = peek();
    if (atEnd() || c == '#' || c == '\n' || c == '\r' || (c == '\\' && isLineEnd(1)))
      return false;
    SourceLoc loc = here();
    if (width > indents_.back()) {
      indents_.push_back(width);
      push(TokenKind::Indent, loc);
      return true;
    }
    while (width < indents_.back()) {
      indents_.pop_back();
      push(TokenKind::Dedent, loc);
    }
    if (width != indents_.back())
      fail(loc, "unindent does not match any outer indentation level");
    return true;
  }

  bool isLineEnd(size_t ahead) const {
    char c = peek(ahead);
    return c == '\n' || (c == '\r' && peek(ahead + 1) == '\n') || pos_ + ahead >= src_.size();
  }

  void lexAll() {
    bool lineStart = true;
    while (true) {
      if (lineStart && brackets_.empty()) {
        lineStart = false;
        if (!handleLineStart()) {
          skipToLineEnd();
          if (atEnd())
            break;
          advance(); // the '\n'
          lineStart = true;
          continue;
        }
      }
      if (atEnd())
        break;
      char c = peek();
      if (c == ' ' || c == '\t' || c == '\f' || c == '\r') {
        advance();
        continue;
      }
      if (c == '#') {
        skipToLineEnd();
        continue;
      }
      if (c == '\n') {
        if (brackets_.empty() && !lastIsNewline())
          push(TokenKind::Newline, here());
        advance();
        lineStart = brackets_.empty();
        continue;
      }
      if (c == '\\') {
        SourceLoc loc = here();
        advance();
        if (peek() == '\r')
          advance();
        if (atEnd())
          fail(loc, "unexpected end of file after line continuation character");
        if (peek() != '\n')
          fail(loc, "unexpected character after line continuation character");
        advance();
        continue;
      }
      lexToken();
    }
    if (!brackets_.empty())
      fail(brackets_.back().loc, std::string("'") + brackets_.back().c + "' was never closed");
    SourceLoc end = here();
    if (!lastIsNewline())
      push(TokenKind::Newline, end);
    while (indents_.size() > 1) {
      indents_.pop_back();
      push(TokenKind::Dedent, end);
    }
    push(TokenKind::EndOfFile, end);
  }

  void skipToLineEnd() {
    while (!atEnd() && peek() != '\n')
      advance();
  }

  void lexToken() {
    char c = peek();
    if (isDigit(c) || (c == '.' && isDigit(peek(1))))
      return lexNumber();
    if (c == '\'' || c == '"')
      return lexString(here(), /*raw=*/false);
    if (isIdentStart(c))
      return lexIdentifier();
    if ((unsigned char)c >= 0x80)
      fail(here(), "non-ASCII character in source (only ASCII identifiers are supported)");
    lexPunct();
  }

  void lexIdentifier() {
    SourceLoc loc = here();
    size_t start = pos_;
    while (isIdentChar(peek()))
      advance();
    std::string_view word = src_.substr(start, pos_ - start);
    if (peek() == '\'' || peek() == '"') {
      std::string prefix;
      for (char ch : word)
        prefix += char(std::tolower((unsigned char)ch));
      if (prefix == "r")
        return lexString(loc, /*raw=*/true);
      if (prefix == "u")
        return lexString(loc, /*raw=*/false);
      if (prefix.find('f') != std::string::npos && prefix.size() <= 2)
        fail(loc, "f-strings are not supported in a kernel");
      if (prefix.find('b') != std::string::npos && prefix.size() <= 2)
        fail(loc, "bytes literals are not supported in a kernel");
    }
    static constexpr struct {
      std::string_view word;
      TokenKind kind;
    } keywords[] = {
#define MT_KEYWORD_ENTRY(name, spelling) {spelling, TokenKind::name},
        MT_KEYWORD_TOKENS(MT_KEYWORD_ENTRY)
#undef MT_KEYWORD_ENTRY
    };
    for (const auto &kw : keywords)
      if (kw.word == word) {
        push(kw.kind, loc);
        return;
      }
    push(TokenKind::Identifier, loc).text = std::string(word);
  }

  // Reads digits of base `base` with single underscores between them into `digits`; reports an error if
  // `required` and there is none.
  void readDigits(int base, std::string &digits, SourceLoc loc, bool required) {
    bool any = false;
    while (true) {
      char c = peek();
      if (c == '_' && any && digitValue(peek(1)) < base) {
        advance();
        continue;
      }
      if (digitValue(c) >= base || (base <= 10 && !isDigit(c)))
        break;
      digits += c;
      any = true;
      advance();
    }
    if (required && !any)
      fail(loc, "invalid number literal");
  }

  void checkNumberEnd(SourceLoc loc) {
    if (peek() == 'j' || peek() == 'J')
      fail(loc, "complex literals are not supported in a kernel");
    if (isIdentChar(peek()) || peek() == '_')
      fail(loc, "invalid number literal");
  }

  void lexNumber() {
    SourceLoc loc = here();
    size_t start = pos_;
    char c1 = peek(1);
    if (peek() == '0' && std::strchr("xXoObB", c1) && c1 != '\0') {
      int base = (c1 == 'x' || c1 == 'X') ? 16 : (c1 == 'o' || c1 == 'O') ? 8 : 2;
      advance();
      advance();
      if (peek() == '_')
        advance();
      std::string digits;
      readDigits(base, digits, loc, /*required=*/true);
      checkNumberEnd(loc);
      uint64_t value = 0;
      for (char d : digits) {
        uint64_t v = uint64_t(digitValue(d));
        if (value > (uint64_t(INT64_MAX) - v) / uint64_t(base))
          fail(loc, "integer literal is too large for a 64-bit integer");
        value = value * base + v;
      }
      Token &tok = push(TokenKind::Int, loc);
      tok.intValue = int64_t(value);
      tok.text = std::string(src_.substr(start, pos_ - start));
      return;
    }
    std::string digits;
    if (peek() != '.')
      readDigits(10, digits, loc, /*required=*/true);
    bool isFloat = false;
    std::string frac, exp;
    if (peek() == '.') {
      isFloat = true;
      advance();
      if (isDigit(peek()))
        readDigits(10, frac, loc, /*required=*/true);
    }
    if (peek() == 'e' || peek() == 'E') {
      char sign = peek(1);
      if (isDigit(sign) || ((sign == '+' || sign == '-') && isDigit(peek(2)))) {
        isFloat = true;
        advance();
        if (sign == '+' || sign == '-') {
          exp += sign;
          advance();
        }
        readDigits(10, exp, loc, /*required=*/true);
      } else {
        fail(loc, "invalid number literal");
      }
    }
    checkNumberEnd(loc);
    std::string text(src_.substr(start, pos_ - start));
    if (isFloat) {
      std::string clean = (digits.empty() ? "0" : digits) + "." + (frac.empty() ? "0" : frac);
      if (!exp.empty())
        clean += "e" + exp;
      Token &tok = push(TokenKind::Float, loc);
      tok.floatValue = std::strtod(clean.c_str(), nullptr);
      tok.text = text;
      return;
    }
    if (digits.size() > 1 && digits[0] == '0' && digits.find_first_not_of('0') != std::string::npos)
      fail(loc, "leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal");
    uint64_t value = 0;
    for (char d : digits) {
      uint64_t v = uint64_t(d - '0');
      if (value > (uint64_t(INT64_MAX) - v) / 10)
        fail(loc, "integer literal is too large for a 64-bit integer");
      value = value * 10 + v;
    }
    Token &tok = push(TokenKind::Int, loc);
    tok.intValue = int64_t(value);
    tok.text = text;
  }

  // `loc` is where the literal starts (including any prefix); pos_ is at the opening quote.
  void lexString(SourceLoc loc, bool raw) {
    char quote = peek();
    bool triple = peek(1) == quote && peek(2) == quote;
    advance();
    if (triple) {
      advance();
      advance();
    }
    std::string value;
    while (true) {
      if (atEnd())
        fail(loc, triple ? "unterminated triple-quoted string literal" : "unterminated string literal");
      char c = peek();
      if (c == quote) {
        if (!triple) {
          advance();
          break;
        }
        if (peek(1) == quote && peek(2) == quote) {
          advance();
          advance();
          advance();
          break;
        }
      }
      if (c == '\n' && !triple)
        fail(loc, "unterminated string literal");
      if (c == '\\') {
        lexEscape(value, raw);
        continue;
      }
      value += c;
      advance();
    }
    push(TokenKind::String, loc).text = std::move(value);
  }

  void lexEscape(std::string &value, bool raw) {
    SourceLoc loc = here();
    advance(); // the backslash
    if (atEnd())
      return; // reported as an unterminated string by the caller
    char c = peek();
    if (raw) {
      // A raw string keeps the backslash; it still cannot end the string on an escaped quote.
      value += '\\';
      value += c;
      advance();
      return;
    }
    advance();
    switch (c) {
    case '\n':
      return; // line continuation inside the string
    case '\\':
    case '\'':
    case '"':
      value += c;
      return;
    case 'n':
      value += '\n';
      return;
    case 't':
      value += '\t';
      return;
    case 'r':
      value += '\r';
      return;
    case 'a':
      value += '\a';
      return;
    case 'b':
      value += '\b';
      return;
    case 'f':
      value += '\f';
      return;
    case 'v':
      value += '\v';
      return;
    case 'x':
    case 'u':
    case 'U': {
      int n = c == 'x' ? 2 : c == 'u' ? 4 : 8;
      uint32_t cp = 0;
      for (int i = 0; i < n; ++i) {
        if (digitValue(peek()) >= 16)
          fail(loc, std::string("truncated \\") + c + " escape in string literal");
        cp = cp * 16 + uint32_t(digitValue(peek()));
        advance();
      }
      if (cp > 0x10FFFF)
        fail(loc, "invalid unicode escape in string literal");
      if (c == 'x')
        value += char(cp);
      else
        appendUtf8(value, cp);
      return;
    }
    default:
      break;
    }
    if (c >= '0' && c <= '7') {
      uint32_t v = uint32_t(c - '0');
      for (int i = 0; i < 2 && peek() >= '0' && peek() <= '7'; ++i) {
        v = v * 8 + uint32_t(peek() - '0');
        advance();
      }
      value += char(v & 0xFF);
      return;
    }
    // Python keeps unknown escapes as written.
    value += '\\';
    value += c;
  }

  void lexPunct() {
    SourceLoc loc = here();
    if (startsWith(":="))
      fail(loc, "the walrus operator ':=' is not supported in a kernel");
    static constexpr struct {
      std::string_view text;
      TokenKind kind;
    } puncts[] = {
#define MT_PUNCT_ENTRY(name, spelling) {spelling, TokenKind::name},
        MT_PUNCT_TOKENS(MT_PUNCT_ENTRY)
#undef MT_PUNCT_ENTRY
    };
    for (const auto &p : puncts) {
      if (!startsWith(p.text))
        continue;
      for (size_t i = 0; i < p.text.size(); ++i)
        advance();
      push(p.kind, loc);
      trackBracket(p.kind, loc);
      return;
    }
    char c = peek();
    if (c == '!')
      fail(loc, "invalid character '!' (use 'not' or '!=')");
    if (c >= 0x20 && c < 0x7F)
      fail(loc, std::string("invalid character '") + c + "' in source");
    fail(loc, "invalid character in source");
  }

  void trackBracket(TokenKind kind, SourceLoc loc) {
    char open = 0, close = 0;
    switch (kind) {
    case TokenKind::LParen:
      open = '(';
      break;
    case TokenKind::LBracket:
      open = '[';
      break;
    case TokenKind::LBrace:
      open = '{';
      break;
    case TokenKind::RParen:
      close = ')';
      break;
    case TokenKind::RBracket:
      close = ']';
      break;
    case TokenKind::RBrace:
      close = '}';
      break;
    default:
      return;
    }
    if (open) {
      brackets_.push_back({open, loc});
      return;
    }
    if (brackets_.empty())
      fail(loc, std::string("unmatched '") + close + "'");
    char expected = brackets_.back().c == '(' ? ')' : brackets_.back().c == '[' ? ']' : '}';
    if (close != expected)
      fail(loc, std::string("closing '") + close + "' does not match opening '" + brackets_.back().c +
                    "' at line " + std::to_string(brackets_.back().loc.line + lineOffset_));
    brackets_.pop_back();
  }
};

} // namespace

bool tokenize(const SourceManager &sources, uint32_t file, Diagnostics &diag, std::vector<Token> &out) {
  out.clear();
  return Lexer(sources, file, diag, out).run();
}

} // namespace mt
