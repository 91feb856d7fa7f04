#include "frontend/Lexer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace mt;

namespace {

struct Lexed {
  bool ok = false;
  std::vector<Token> toks;
  std::string error; // "line:col: message" of the first diagnostic
};

Lexed lex(const std::string &src) {
  SourceManager sm;
  uint32_t file = sm.addBuffer("t.py", src);
  Diagnostics diag(&sm);
  Lexed r;
  r.ok = tokenize(sm, file, diag, r.toks);
  if (!diag.all().empty()) {
    const Diagnostic &d = diag.all()[0];
    r.error = std::to_string(d.loc.line) + ":" + std::to_string(d.loc.col) + ": " + d.message;
  }
  EXPECT_EQ(r.ok, diag.all().empty());
  return r;
}

// A compact form of the token stream: `def f ( ) : NL IN pass NL DE EOF`, identifiers as themselves,
// numbers as `i:42` / `f:0.5`, strings as `s:"text"`.
std::string show(const std::vector<Token> &toks) {
  std::string out;
  for (const Token &t : toks) {
    if (!out.empty())
      out += " ";
    switch (t.kind) {
    case TokenKind::Newline:
      out += "NL";
      break;
    case TokenKind::Indent:
      out += "IN";
      break;
    case TokenKind::Dedent:
      out += "DE";
      break;
    case TokenKind::EndOfFile:
      out += "EOF";
      break;
    case TokenKind::Identifier:
      out += t.text;
      break;
    case TokenKind::Int:
      out += "i:" + std::to_string(t.intValue);
      break;
    case TokenKind::Float: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "f:%g", t.floatValue);
      out += buf;
      break;
    }
    case TokenKind::String:
      out += "s:\"" + t.text + "\"";
      break;
    default:
      out += std::string(tokenKindSpelling(t.kind));
    }
  }
  return out;
}

std::string lexShow(const std::string &src) {
  Lexed r = lex(src);
  EXPECT_TRUE(r.ok) << r.error;
  return show(r.toks);
}

std::string lexError(const std::string &src) {
  Lexed r = lex(src);
  EXPECT_FALSE(r.ok);
  return r.error;
}

} // namespace

TEST(Lexer, SimpleFunction) {
  EXPECT_EQ(lexShow("def f(x):\n    return x + 1\n"), "def f ( x ) : NL IN return x + i:1 NL DE EOF");
}

TEST(Lexer, LocationsAreOneBased) {
  Lexed r = lex("a = 1\n  \n# c\nbb  =  22\n");
  ASSERT_TRUE(r.ok);
  ASSERT_EQ(r.toks.size(), 9u);
  EXPECT_EQ(r.toks[0].loc.line, 1u);
  EXPECT_EQ(r.toks[0].loc.col, 1u);
  EXPECT_EQ(r.toks[2].loc.col, 5u);
  EXPECT_EQ(r.toks[4].text, "bb");
  EXPECT_EQ(r.toks[4].loc.line, 4u);
  EXPECT_EQ(r.toks[6].loc.line, 4u);
  EXPECT_EQ(r.toks[6].loc.col, 8u);
  EXPECT_NE(r.toks[0].loc.file, 0u);
}

TEST(Lexer, IndentDedentStack) {
  EXPECT_EQ(lexShow("if a:\n  if b:\n    x\n  y\nz\n"), "if a : NL IN if b : NL IN x NL DE y NL DE z NL EOF");
  // Two dedents at once, and dedents at end of file without a trailing newline.
  EXPECT_EQ(lexShow("if a:\n  if b:\n    x\ny"), "if a : NL IN if b : NL IN x NL DE DE y NL EOF");
  EXPECT_EQ(lexShow("if a:\n  if b:\n    x"), "if a : NL IN if b : NL IN x NL DE DE EOF");
}

TEST(Lexer, BlankAndCommentLinesAreIgnored) {
  EXPECT_EQ(lexShow("\n\n# only a comment\nif a:\n\n      # deeper comment\n  x  # trailing\n\n  y\n"),
            "if a : NL IN x NL y NL DE EOF");
}

TEST(Lexer, TabsAdvanceToMultipleOfEight) {
  // A tab (8) and eight spaces are the same indentation.
  EXPECT_EQ(lexShow("if a:\n\tx\n        y\n"), "if a : NL IN x NL y NL DE EOF");
  // "  \t" is also 8.
  EXPECT_EQ(lexShow("if a:\n  \tx\n        y\n"), "if a : NL IN x NL y NL DE EOF");
}

TEST(Lexer, ImplicitAndExplicitLineJoining) {
  EXPECT_EQ(lexShow("x = f(a,\n      b)\ny = [1,\n2]\n"), "x = f ( a , b ) NL y = [ i:1 , i:2 ] NL EOF");
  EXPECT_EQ(lexShow("x = a + \\\n    b\n"), "x = a + b NL EOF");
  EXPECT_EQ(lexShow("d = {1:\n  2}\n"), "d = { i:1 : i:2 } NL EOF");
}

TEST(Lexer, IntegerLiterals) {
  EXPECT_EQ(lexShow("0 42 0x1F 0XfF 0o17 0b101 1_000_000 0x_ff 00"),
            "i:0 i:42 i:31 i:255 i:15 i:5 i:1000000 i:255 i:0 NL EOF");
  EXPECT_EQ(lexShow("9223372036854775807"), "i:9223372036854775807 NL EOF");
  EXPECT_EQ(lexShow("0x7fffffffffffffff"), "i:9223372036854775807 NL EOF");
}

TEST(Lexer, FloatLiterals) {
  EXPECT_EQ(lexShow("1. .5 1e-3 1_0.0 2.5E+2 3e4 0.125"),
            "f:1 f:0.5 f:0.001 f:10 f:250 f:30000 f:0.125 NL EOF");
  Lexed r = lex("x = 1.5e-7");
  ASSERT_TRUE(r.ok);
  EXPECT_DOUBLE_EQ(r.toks[2].floatValue, 1.5e-7);
  EXPECT_EQ(r.toks[2].text, "1.5e-7");
}

TEST(Lexer, StringLiterals) {
  EXPECT_EQ(lexShow("'a' \"b\" 'it\\'s' \"q\\\"\" 'x\\ty' r'\\n' R\"\\d\" u'u'"),
            "s:\"a\" s:\"b\" s:\"it's\" s:\"q\"\" s:\"x\ty\" s:\"\\n\" s:\"\\d\" s:\"u\" NL EOF");
  EXPECT_EQ(lexShow("'\\x41\\101\\n'"), "s:\"AA\n\" NL EOF");
  Lexed r = lex("def f():\n    \"\"\"Doc\n    string 'q' \"\"\"\n    x\n");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(show(r.toks), "def f ( ) : NL IN s:\"Doc\n    string 'q' \" NL x NL DE EOF");
  EXPECT_EQ(r.toks[7].loc.line, 2u);
  EXPECT_EQ(r.toks[9].loc.line, 4u); // line counting continues after a multi-line string
  EXPECT_EQ(lexShow("'''a''' \"\"\"b\"\"\""), "s:\"a\" s:\"b\" NL EOF");
}

TEST(Lexer, AllOperators) {
  EXPECT_EQ(lexShow("** // @ -> << >> <= >= == != + - * / % & | ^ ~ < > ( ) [ ] { } , : . ; ="),
            "** // @ -> << >> <= >= == != + - * / % & | ^ ~ < > ( ) [ ] { } , : . ; = NL EOF");
  EXPECT_EQ(lexShow("+= -= *= /= //= %= **= @= &= |= ^= <<= >>="),
            "+= -= *= /= //= %= **= @= &= |= ^= <<= >>= NL EOF");
  EXPECT_EQ(lexShow("a**-b//c"), "a ** - b // c NL EOF");
}

TEST(Lexer, KeywordsAndIdentifiers) {
  EXPECT_EQ(lexShow("def defx if_ None True False not in is and or _x x1"),
            "def defx if_ None True False not in is and or _x x1 NL EOF");
  Lexed r = lex("not");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.toks[0].kind, TokenKind::KwNot);
}

TEST(Lexer, CrLfLineEndings) { EXPECT_EQ(lexShow("if a:\r\n  x\r\ny\r\n"), "if a : NL IN x NL DE y NL EOF"); }

TEST(Lexer, Errors) {
  EXPECT_EQ(lexError("if a:\n    x\n  y\n"), "3:3: unindent does not match any outer indentation level");
  EXPECT_EQ(lexError("x = 9223372036854775808\n"), "1:5: integer literal is too large for a 64-bit integer");
  EXPECT_EQ(lexError("x = 0x10000000000000000\n"), "1:5: integer literal is too large for a 64-bit integer");
  EXPECT_EQ(lexError("x = f'{a}'\n"), "1:5: f-strings are not supported in a kernel");
  EXPECT_EQ(lexError("x = rf'{a}'\n"), "1:5: f-strings are not supported in a kernel");
  EXPECT_EQ(lexError("x = b'a'\n"), "1:5: bytes literals are not supported in a kernel");
  EXPECT_EQ(lexError("if (n := 3):\n"), "1:7: the walrus operator ':=' is not supported in a kernel");
  EXPECT_EQ(lexError("x = 'abc\n"), "1:5: unterminated string literal");
  EXPECT_EQ(lexError("x = '''abc\n\n"), "1:5: unterminated triple-quoted string literal");
  EXPECT_EQ(lexError("x = (1,\n 2\n"), "1:5: '(' was never closed");
  EXPECT_EQ(lexError("x = (1]\n"), "1:7: closing ']' does not match opening '(' at line 1");
  EXPECT_EQ(lexError("x = 1)\n"), "1:6: unmatched ')'");
  EXPECT_EQ(lexError("x = a \\ b\n"), "1:7: unexpected character after line continuation character");
  EXPECT_EQ(lexError("x = a \\"), "1:7: unexpected end of file after line continuation character");
  EXPECT_EQ(lexError("x = a $ b\n"), "1:7: invalid character '$' in source");
  EXPECT_EQ(lexError("x = a ! b\n"), "1:7: invalid character '!' (use 'not' or '!=')");
  EXPECT_EQ(lexError("x = 1abc\n"), "1:5: invalid number literal");
  EXPECT_EQ(lexError("x = 1__0\n"), "1:5: invalid number literal");
  EXPECT_EQ(lexError("x = 0x\n"), "1:5: invalid number literal");
  EXPECT_EQ(lexError("x = 1e\n"), "1:5: invalid number literal");
  EXPECT_EQ(lexError("x = 012\n"),
            "1:5: leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal");
  EXPECT_EQ(lexError("x = 3j\n"), "1:5: complex literals are not supported in a kernel");
  EXPECT_EQ(lexError("x = \xc3\xa9\n"),
            "1:5: non-ASCII character in source (only ASCII identifiers are supported)");
  EXPECT_EQ(lexError("x = '\\x4'\n"), "1:6: truncated \\x escape in string literal");
}

TEST(Lexer, EmptyInput) {
  EXPECT_EQ(lexShow(""), "EOF");
  EXPECT_EQ(lexShow("\n\n  # c\n"), "EOF");
}

TEST(Lexer, LineNamedInAMessageCountsTheLineOffset) {
  // A kernel cut from a larger file (Python: the function's text, its first line at `lineOffset + 1`): the
  // opening bracket's line in the message is the file's, as the rendered location of the error is.
  SourceManager sm;
  uint32_t file = sm.addBuffer("k.py", "x = (1,\n 2]\n", 40);
  Diagnostics diag(&sm);
  std::vector<Token> toks;
  EXPECT_FALSE(tokenize(sm, file, diag, toks));
  ASSERT_EQ(diag.all().size(), 1u);
  EXPECT_EQ(sm.format(diag.all()[0].loc), "k.py:42:3");
  EXPECT_EQ(diag.all()[0].message, "closing ']' does not match opening '(' at line 41");
}
