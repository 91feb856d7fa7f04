#include "frontend/Parser.h"
#include "frontend/AstDump.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

using namespace mt;
using namespace mt::ast;

namespace {

struct Parsed {
  std::unique_ptr<Module> module;
  std::string error; // "line:col: message" of the first diagnostic
  std::string rendered;
};

Parsed parse(const std::string &src) {
  SourceManager sm;
  uint32_t file = sm.addBuffer("k.py", src);
  Diagnostics diag(&sm);
  Parsed p;
  p.module = parseModule(sm, file, diag);
  if (!diag.all().empty()) {
    const Diagnostic &d = diag.all()[0];
    p.error = std::to_string(d.loc.line) + ":" + std::to_string(d.loc.col) + ": " + d.message;
  }
  p.rendered = diag.renderAll();
  EXPECT_EQ(p.module == nullptr, diag.hasErrors()) << p.rendered;
  return p;
}

std::string dump(const std::string &src) {
  Parsed p = parse(src);
  EXPECT_TRUE(p.module) << p.rendered;
  return p.module ? dumpAst(*p.module) : "";
}

// The dump of the value of the first statement of `def f(): <stmt>`.
std::string exprOf(const std::string &expr) {
  Parsed p = parse("def f():\n    x = " + expr + "\n");
  EXPECT_TRUE(p.module) << p.rendered;
  if (!p.module)
    return "";
  const Stmt &s = *p.module->functions.at(0)->body.at(0);
  return dumpExpr(*s.value);
}

std::string errorOf(const std::string &src) {
  Parsed p = parse(src);
  EXPECT_FALSE(p.module) << "expected an error for:\n" << src;
  return p.error;
}

std::string readSource(const std::string &rel) {
  std::ifstream in(std::string(MT_SOURCE_DIR) + "/" + rel);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace

TEST(Parser, VectorAddStructure) {
  Parsed p = parse(readSource("test/frontend/vector_add.py"));
  ASSERT_TRUE(p.module) << p.rendered;
  const Module &m = *p.module;
  ASSERT_EQ(m.imports.size(), 2u);
  EXPECT_EQ(m.imports[1].module, "triton.language");
  EXPECT_EQ(m.imports[1].alias, "tl");
  const FunctionDef *f = m.findFunction("add_kernel");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->loc.line, 7u);
  EXPECT_EQ(f->loc.col, 1u);
  ASSERT_EQ(f->params.size(), 5u);
  EXPECT_EQ(f->params[4].name, "BLOCK_SIZE");
  ASSERT_TRUE(f->params[4].annotation);
  EXPECT_EQ(dumpExpr(*f->params[4].annotation), "(Attribute constexpr @7:66 (Name tl @7:66))");
  EXPECT_EQ(f->docstring, "Elementwise x + y.");
  ASSERT_EQ(f->body.size(), 8u); // the docstring is not part of the body
  EXPECT_EQ(f->body[0]->kind, StmtKind::Assign);
  EXPECT_EQ(f->body[7]->kind, StmtKind::ExprStmt);
  ASSERT_EQ(f->decorators.size(), 1u);
  EXPECT_EQ(dumpExpr(*f->decorators[0]), "(Attribute jit @6:2 (Name triton @6:2))");
}

TEST(Parser, TutorialKernelsParse) {
  for (const char *file : {"test/frontend/softmax.py", "test/frontend/matmul.py",
                           "test/frontend/layer_norm.py", "test/frontend/precedence.py"}) {
    Parsed p = parse(readSource(file));
    EXPECT_TRUE(p.module) << file << ":\n" << p.rendered;
  }
  Parsed mm = parse(readSource("test/frontend/matmul.py"));
  ASSERT_TRUE(mm.module);
  EXPECT_EQ(mm.module->functions.size(), 2u);
  const FunctionDef *f = mm.module->findFunction("matmul_kernel");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->decorators.size(), 2u);
  const Expr &autotune = *f->decorators[0];
  ASSERT_EQ(autotune.kind, ExprKind::Call);
  ASSERT_EQ(autotune.keywords.size(), 2u);
  EXPECT_EQ(autotune.keywords[0].name, "configs");
  EXPECT_EQ(autotune.keywords[0].value->operands.size(), 2u); // two triton.Config(...)
  const Expr &config = *autotune.keywords[0].value->operands[0];
  ASSERT_EQ(config.operands.size(), 2u);
  EXPECT_EQ(config.operands[1]->kind, ExprKind::Dict);
  EXPECT_EQ(config.operands[1]->operands.size(), 8u);
  EXPECT_EQ(f->params.size(), 17u);
  ASSERT_TRUE(f->params[16].defaultValue);
  EXPECT_EQ(f->params[16].defaultValue->kind, ExprKind::String);
}

TEST(Parser, Precedence) {
  EXPECT_EQ(exprOf("-2**2"), "(UnaryOp - @2:9 (BinOp ** @2:10 (Int 2 @2:10) (Int 2 @2:13)))");
  EXPECT_EQ(exprOf("2**-1"), "(BinOp ** @2:9 (Int 2 @2:9) (UnaryOp - @2:12 (Int 1 @2:13)))");
  EXPECT_EQ(exprOf("a**b**c"),
            "(BinOp ** @2:9 (Name a @2:9) (BinOp ** @2:12 (Name b @2:12) (Name c @2:15)))");
  EXPECT_EQ(exprOf("a-b-c"), "(BinOp - @2:9 (BinOp - @2:9 (Name a @2:9) (Name b @2:11)) (Name c @2:13))");
  EXPECT_EQ(exprOf("a+b*c"), "(BinOp + @2:9 (Name a @2:9) (BinOp * @2:11 (Name b @2:11) (Name c @2:13)))");
  EXPECT_EQ(exprOf("(a+b)*c"), "(BinOp * @2:9 (BinOp + @2:10 (Name a @2:10) (Name b @2:12)) (Name c @2:15))");
  EXPECT_EQ(exprOf("a<<b+c"), "(BinOp << @2:9 (Name a @2:9) (BinOp + @2:12 (Name b @2:12) (Name c @2:14)))");
  EXPECT_EQ(exprOf("a&b|c^d"), "(BinOp | @2:9 (BinOp & @2:9 (Name a @2:9) (Name b @2:11)) (BinOp ^ @2:13 "
                               "(Name c @2:13) (Name d @2:15)))");
  EXPECT_EQ(exprOf("a|b==c"), "(Compare @2:9 (BinOp | @2:9 (Name a @2:9) (Name b @2:11)) == (Name c @2:14))");
  EXPECT_EQ(exprOf("not a==b"), "(UnaryOp not @2:9 (Compare @2:13 (Name a @2:13) == (Name b @2:16)))");
  EXPECT_EQ(exprOf("a or b and c"),
            "(BoolOp or @2:9 (Name a @2:9) (BoolOp and @2:14 (Name b @2:14) (Name c @2:20)))");
  EXPECT_EQ(exprOf("a and b and c"), "(BoolOp and @2:9 (Name a @2:9) (Name b @2:15) (Name c @2:21))");
  EXPECT_EQ(exprOf("a if b or c else d"),
            "(IfExp @2:9 (Name a @2:9) (BoolOp or @2:14 (Name b @2:14) (Name c @2:19)) (Name d @2:26))");
  EXPECT_EQ(exprOf("~a % b // c / d * e @ f"),
            "(BinOp @ @2:9 (BinOp * @2:9 (BinOp / @2:9 (BinOp // @2:9 (BinOp % @2:9 (UnaryOp ~ @2:9 (Name a "
            "@2:10)) "
            "(Name b @2:14)) (Name c @2:19)) (Name d @2:23)) (Name e @2:27)) (Name f @2:31))");
  EXPECT_EQ(exprOf("--a"), "(UnaryOp - @2:9 (UnaryOp - @2:10 (Name a @2:11)))");
  EXPECT_EQ(exprOf("a >> 1 >> 2"),
            "(BinOp >> @2:9 (BinOp >> @2:9 (Name a @2:9) (Int 1 @2:14)) (Int 2 @2:19))");
}

TEST(Parser, ChainedComparison) {
  EXPECT_EQ(exprOf("0 <= i < n != m"),
            "(Compare @2:9 (Int 0 @2:9) <= (Name i @2:14) < (Name n @2:18) != (Name m @2:23))");
  EXPECT_EQ(exprOf("a is b is not c in d not in e"),
            "(Compare @2:9 (Name a @2:9) is (Name b @2:14) is not (Name c @2:23) in (Name d @2:28) not in "
            "(Name e @2:37))");
  EXPECT_EQ(exprOf("a > b >= c"), "(Compare @2:9 (Name a @2:9) > (Name b @2:13) >= (Name c @2:18))");
}

TEST(Parser, SubscriptsAndSlices) {
  EXPECT_EQ(exprOf("x[:, None]"),
            "(Subscript @2:9 (Name x @2:9) (Tuple @2:11 (Slice @2:11 _ _ _) (None @2:14)))");
  EXPECT_EQ(exprOf("x[None, :]"),
            "(Subscript @2:9 (Name x @2:9) (Tuple @2:11 (None @2:11) (Slice @2:17 _ _ _)))");
  EXPECT_EQ(exprOf("x[1:2:3]"),
            "(Subscript @2:9 (Name x @2:9) (Slice @2:11 (Int 1 @2:11) (Int 2 @2:13) (Int 3 @2:15)))");
  EXPECT_EQ(exprOf("x[:n]"), "(Subscript @2:9 (Name x @2:9) (Slice @2:11 _ (Name n @2:12) _))");
  EXPECT_EQ(exprOf("x[a::]"), "(Subscript @2:9 (Name x @2:9) (Slice @2:11 (Name a @2:11) _ _))");
  EXPECT_EQ(exprOf("x[::s]"), "(Subscript @2:9 (Name x @2:9) (Slice @2:11 _ _ (Name s @2:13)))");
  EXPECT_EQ(exprOf("x[i, j]"), "(Subscript @2:9 (Name x @2:9) (Tuple @2:11 (Name i @2:11) (Name j @2:14)))");
  EXPECT_EQ(exprOf("x[i,]"), "(Subscript @2:9 (Name x @2:9) (Tuple @2:11 (Name i @2:11)))");
  EXPECT_EQ(exprOf("x[i]"), "(Subscript @2:9 (Name x @2:9) (Name i @2:11))");
  EXPECT_EQ(exprOf("x[i][j]"),
            "(Subscript @2:9 (Subscript @2:9 (Name x @2:9) (Name i @2:11)) (Name j @2:14))");
}

TEST(Parser, AtomsAndCalls) {
  EXPECT_EQ(exprOf("()"), "(Tuple @2:9)");
  EXPECT_EQ(exprOf("(a,)"), "(Tuple @2:9 (Name a @2:10))");
  EXPECT_EQ(exprOf("(a)"), "(Name a @2:10)");
  EXPECT_EQ(exprOf("[a, b,]"), "(List @2:9 (Name a @2:10) (Name b @2:13))");
  EXPECT_EQ(exprOf("'a' 'b' \"c\""), "(String \"abc\" @2:9)");
  EXPECT_EQ(exprOf("True"), "(Bool True @2:9)");
  EXPECT_EQ(exprOf("False"), "(Bool False @2:9)");
  EXPECT_EQ(exprOf("None"), "(None @2:9)");
  EXPECT_EQ(exprOf("1.5"), "(Float 1.5 @2:9)");
  EXPECT_EQ(exprOf("0x10"), "(Int 16 @2:9)");
  EXPECT_EQ(exprOf("a, b"), "(Tuple @2:9 (Name a @2:9) (Name b @2:12))");
  EXPECT_EQ(exprOf("a,"), "(Tuple @2:9 (Name a @2:9))");
  EXPECT_EQ(
      exprOf("f(a, b=1, c=d)"),
      "(Call @2:9 (Name f @2:9) (Name a @2:11) (kw b @2:14 (Int 1 @2:16)) (kw c @2:19 (Name d @2:21)))");
  EXPECT_EQ(exprOf("f()"), "(Call @2:9 (Name f @2:9))");
  EXPECT_EQ(exprOf("a.b(c).d"),
            "(Attribute d @2:9 (Call @2:9 (Attribute b @2:9 (Name a @2:9)) (Name c @2:13)))");
  EXPECT_EQ(exprOf("{'a': 1, 'b': x}"),
            "(Dict @2:9 ((String \"a\" @2:10) (Int 1 @2:15)) ((String \"b\" @2:18) (Name x @2:23)))");
}

TEST(Parser, Statements) {
  std::string d = dump("def f(a, b):\n"
                       "    a = b = 1\n"
                       "    a, b = f()\n"
                       "    (a, b) = b, a\n"
                       "    [a, b] = c\n"
                       "    a.x[0] = 2\n"
                       "    a //= 2\n"
                       "    a **= 2; b <<= 1; b >>= 1;\n"
                       "    c: tl.constexpr = 3\n"
                       "    d: int\n"
                       "    f(a)\n"
                       "    assert a, 'm'\n"
                       "    assert b\n"
                       "    return\n");
  EXPECT_NE(d.find("(Assign @2:5 (Name a @2:5) (Name b @2:9) = (Int 1 @2:13))"), std::string::npos) << d;
  EXPECT_NE(d.find("(Assign @3:5 (Tuple @3:5 (Name a @3:5) (Name b @3:8)) = (Call @3:12 (Name f @3:12)))"),
            std::string::npos)
      << d;
  EXPECT_NE(d.find("(Assign @4:5 (Tuple @4:5 (Name a @4:6) (Name b @4:9)) = (Tuple @4:14"), std::string::npos)
      << d;
  EXPECT_NE(d.find("(Assign @5:5 (List @5:5 (Name a @5:6) (Name b @5:9)) = (Name c @5:14))"),
            std::string::npos)
      << d;
  EXPECT_NE(
      d.find("(Assign @6:5 (Subscript @6:5 (Attribute x @6:5 (Name a @6:5)) (Int 0 @6:9)) = (Int 2 @6:14))"),
      std::string::npos)
      << d;
  EXPECT_NE(d.find("(AugAssign //= @7:5 (Name a @7:5) (Int 2 @7:11))"), std::string::npos) << d;
  EXPECT_NE(
      d.find("(AugAssign **= @8:5 (Name a @8:5) (Int 2 @8:11))\n      (AugAssign <<= @8:14 (Name b @8:14) "
             "(Int 1 @8:20))\n      (AugAssign >>= @8:23"),
      std::string::npos)
      << d;
  EXPECT_NE(
      d.find("(AnnAssign @9:5 (Name c @9:5) : (Attribute constexpr @9:8 (Name tl @9:8)) = (Int 3 @9:23))"),
      std::string::npos)
      << d;
  EXPECT_NE(d.find("(AnnAssign @10:5 (Name d @10:5) : (Name int @10:8))"), std::string::npos) << d;
  EXPECT_NE(d.find("(Expr @11:5 (Call @11:5 (Name f @11:5) (Name a @11:7)))"), std::string::npos) << d;
  EXPECT_NE(d.find("(Assert @12:5 (Name a @12:12) (String \"m\" @12:15))"), std::string::npos) << d;
  EXPECT_NE(d.find("(Assert @13:5 (Name b @13:12))"), std::string::npos) << d;
  EXPECT_NE(d.find("(Return @14:5))))"), std::string::npos) << d;
}

TEST(Parser, ControlFlow) {
  std::string d = dump("def f(n):\n"
                       "    if n > 0:\n"
                       "        pass\n"
                       "    elif n < 0:\n"
                       "        return n, -n\n"
                       "    else:\n"
                       "        n = 1\n"
                       "    for i in range(n):\n"
                       "        continue\n"
                       "    for i, j in z:\n"
                       "        break\n"
                       "    while n: n -= 1\n");
  EXPECT_EQ(d, "(Module\n"
               "  (FunctionDef f @1:1\n"
               "    (params (n @1:7))\n"
               "    (body\n"
               "      (If @2:5 (Compare @2:8 (Name n @2:8) > (Int 0 @2:12))\n"
               "        (then\n"
               "          (Pass @3:9))\n"
               "        (else\n"
               "          (If @4:5 (Compare @4:10 (Name n @4:10) < (Int 0 @4:14))\n"
               "            (then\n"
               "              (Return @5:9 (Tuple @5:16 (Name n @5:16) (UnaryOp - @5:19 (Name n @5:20)))))\n"
               "            (else\n"
               "              (Assign @7:9 (Name n @7:9) = (Int 1 @7:13))))))\n"
               "      (For @8:5 (Name i @8:9) (Call @8:14 (Name range @8:14) (Name n @8:20))\n"
               "        (body\n"
               "          (Continue @9:9)))\n"
               "      (For @10:5 (Tuple @10:9 (Name i @10:9) (Name j @10:12)) (Name z @10:17)\n"
               "        (body\n"
               "          (Break @11:9)))\n"
               "      (While @12:5 (Name n @12:11)\n"
               "        (body\n"
               "          (AugAssign -= @12:14 (Name n @12:14) (Int 1 @12:19)))))))\n");
}

TEST(Parser, ModuleLevel) {
  Parsed p = parse("\"\"\"Module doc.\"\"\"\n"
                   "import triton.language as tl, math\n"
                   "from triton import jit as J, cdiv\n"
                   "from a.b import (c,\n    d as e,)\n"
                   "BLOCK = 128\n"
                   "SCALE: float = 0.5\n"
                   "@J\n"
                   "def k(x): return x\n");
  ASSERT_TRUE(p.module) << p.rendered;
  const Module &m = *p.module;
  ASSERT_EQ(m.imports.size(), 6u);
  EXPECT_EQ(m.imports[0].module, "triton.language");
  EXPECT_EQ(m.imports[0].alias, "tl");
  EXPECT_EQ(m.imports[1].alias, "math");
  EXPECT_EQ(m.imports[2].module, "triton");
  EXPECT_EQ(m.imports[2].name, "jit");
  EXPECT_EQ(m.imports[2].alias, "J");
  EXPECT_EQ(m.imports[3].alias, "cdiv");
  EXPECT_EQ(m.imports[5].name, "d");
  EXPECT_EQ(m.imports[5].alias, "e");
  EXPECT_EQ(m.imports[5].loc.line, 4u);
  ASSERT_EQ(m.globals.size(), 2u);
  EXPECT_EQ(m.globals[0]->kind, StmtKind::Assign);
  EXPECT_EQ(m.globals[1]->kind, StmtKind::AnnAssign);
  ASSERT_EQ(m.functions.size(), 1u);
  EXPECT_EQ(m.functions[0]->body.size(), 1u);
  EXPECT_EQ(m.functions[0]->body[0]->kind, StmtKind::Return);
  Parsed q = parse("import a.b\n");
  ASSERT_TRUE(q.module);
  EXPECT_EQ(q.module->imports[0].alias, "a"); // `import a.b` binds `a`
}

TEST(Parser, DecoratorsAndParams) {
  std::string d =
      dump("@jit(do_not_specialize=[\"n\"])\n"
           "@triton.heuristics({'EVEN': lambda_free})\n"
           "def k(x_ptr: tl.pointer_type, n, BLOCK: tl.constexpr = 64, EVEN: tl.constexpr = True) -> None:\n"
           "    '''Doc.'''\n"
           "    pass\n");
  EXPECT_NE(
      d.find("(decorators (Call @1:2 (Name jit @1:2) (kw do_not_specialize @1:6 (List @1:24 (String \"n\" "
             "@1:25)))) (Call @2:2"),
      std::string::npos)
      << d;
  EXPECT_NE(
      d.find("(params (x_ptr @3:7 : (Attribute pointer_type @3:14 (Name tl @3:14))) (n @3:31) (BLOCK @3:34 : "
             "(Attribute constexpr @3:41 (Name tl @3:41)) = (Int 64 @3:56))"),
      std::string::npos)
      << d;
  EXPECT_NE(d.find("(returns (None @3:90))\n    (docstring \"Doc.\")\n    (body\n      (Pass @5:5))"),
            std::string::npos)
      << d;
}

TEST(Parser, DocstringOnlyWhenFirst) {
  Parsed p = parse("def f():\n    x = 1\n    'not a docstring'\n");
  ASSERT_TRUE(p.module);
  EXPECT_EQ(p.module->functions[0]->docstring, "");
  EXPECT_EQ(p.module->functions[0]->body.size(), 2u);
}

TEST(Parser, UnsupportedConstructs) {
  EXPECT_EQ(errorOf("def f():\n    def g():\n        pass\n"),
            "2:5: nested function definitions are not supported in a kernel");
  EXPECT_EQ(errorOf("def f():\n    @jit\n    def g():\n        pass\n"),
            "2:5: nested function definitions are not supported in a kernel");
  EXPECT_EQ(errorOf("def f(x):\n    del x\n"), "2:5: 'del' is not supported in a kernel");
  EXPECT_EQ(errorOf("def f(x):\n    global x\n"), "2:5: 'global' is not supported in a kernel");
  EXPECT_EQ(errorOf("def f(x):\n    class A: pass\n"), "2:5: 'class' is not supported in a kernel");
  EXPECT_EQ(errorOf("class A:\n    pass\n"), "1:1: 'class' is not supported in a kernel");
  EXPECT_EQ(errorOf("def f(x):\n    try:\n        pass\n"), "2:5: 'try' is not supported in a kernel");
  EXPECT_EQ(errorOf("def f(x):\n    with x: pass\n"), "2:5: 'with' is not supported in a kernel");
  EXPECT_EQ(errorOf("def f(x):\n    y = lambda a: a\n"), "2:9: 'lambda' is not supported in a kernel");
  EXPECT_EQ(errorOf("def f(x):\n    yield x\n"), "2:5: 'yield' is not supported in a kernel");
  EXPECT_EQ(errorOf("def f(x):\n    y = yield x\n"), "2:9: 'yield' is not supported in a kernel");
  EXPECT_EQ(errorOf("def f(x):\n    y = await x\n"), "2:9: 'await' is not supported in a kernel");
  EXPECT_EQ(errorOf("def f(x):\n    raise x\n"), "2:5: 'raise' is not supported in a kernel");
  EXPECT_EQ(errorOf("def f(x):\n    for i in x:\n        pass\n    else:\n        pass\n"),
            "4:5: 'for ... else' is not supported in a kernel");
  EXPECT_EQ(errorOf("def f(x):\n    while x:\n        pass\n    else:\n        pass\n"),
            "4:5: 'while ... else' is not supported in a kernel");
  EXPECT_EQ(errorOf("def f(*args):\n    pass\n"),
            "1:7: variadic parameters ('*') are not supported in a kernel");
  EXPECT_EQ(errorOf("def f(**kw):\n    pass\n"),
            "1:7: variadic parameters ('**') are not supported in a kernel");
  EXPECT_EQ(errorOf("def f(a, *, b):\n    pass\n"),
            "1:10: keyword-only parameters ('*') are not supported in a kernel");
  EXPECT_EQ(errorOf("def f(a, /, b):\n    pass\n"),
            "1:10: positional-only parameters ('/') are not supported in a kernel");
  EXPECT_EQ(errorOf("def f(x):\n    g(*x)\n"), "2:7: '*' argument unpacking is not supported in a kernel");
  EXPECT_EQ(errorOf("def f(x):\n    g(**x)\n"), "2:7: '**' argument unpacking is not supported in a kernel");
  EXPECT_EQ(errorOf("def f(x):\n    y = [i for i in x]\n"),
            "2:12: comprehensions and generator expressions are not supported in a kernel");
  EXPECT_EQ(errorOf("def f(x):\n    y = {1, 2}\n"), "2:11: set literals are not supported in a kernel");
  EXPECT_EQ(errorOf("def f(x):\n    a, *b = x\n"), "2:8: starred expressions are not supported in a kernel");
  EXPECT_EQ(errorOf("def f(x):\n    import math\n"), "2:5: imports are only supported at module level");
  EXPECT_EQ(errorOf("from . import x\n"), "1:6: relative imports are not supported");
  EXPECT_EQ(errorOf("from a import *\n"), "1:15: 'from ... import *' is not supported");
  EXPECT_EQ(errorOf("print(1)\n"),
            "1:1: only imports, function definitions and constant assignments are supported at module level");
  EXPECT_EQ(errorOf("def f(x):\n    y = x[...]\n"), "2:11: '...' is not supported in a kernel");
}

TEST(Parser, SyntaxErrors) {
  EXPECT_EQ(errorOf("def f(x)\n    pass\n"), "1:9: expected ':' after the function signature, found newline");
  EXPECT_EQ(errorOf("def f(x):\npass\n"), "2:1: expected an indented block, found 'pass'");
  EXPECT_EQ(errorOf("def f(x):\n    x = \n"), "2:9: expected an expression, found newline");
  EXPECT_EQ(errorOf("def f(x):\n    1 = x\n"), "2:5: cannot assign to a literal");
  EXPECT_EQ(errorOf("def f(x):\n    f() = x\n"), "2:5: cannot assign to a function call");
  EXPECT_EQ(errorOf("def f(x):\n    a, b += 1\n"), "2:5: only a single target can be annotated or augmented");
  EXPECT_EQ(errorOf("def f(x):\n    a + 1 += 1\n"), "2:5: cannot assign to an expression");
  EXPECT_EQ(errorOf("def f(x):\n    x[] = 1\n"), "2:7: expected an index in subscript, found ']'");
  EXPECT_EQ(errorOf("def f(x):\n    g(a=1, 2)\n"), "2:12: positional argument follows keyword argument");
  EXPECT_EQ(errorOf("def f(x):\n    g(a=1, a=2)\n"), "2:12: keyword argument 'a' repeated");
  EXPECT_EQ(errorOf("def f(x, x):\n    pass\n"), "1:10: duplicate parameter 'x'");
  EXPECT_EQ(errorOf("def f(a=1, b):\n    pass\n"),
            "1:12: parameter without a default follows parameter with a default");
  EXPECT_EQ(errorOf("def f(x):\n    pass\ndef f(y):\n    pass\n"), "3:1: function 'f' is defined twice");
  EXPECT_EQ(errorOf("@jit\nx = 1\n"), "2:1: expected 'def' after decorators, found identifier 'x'");
  EXPECT_EQ(errorOf("  x = 1\n"), "1:3: unexpected indent");
  EXPECT_EQ(errorOf("def f(x):\n    else:\n        pass\n"), "2:5: 'else' without a matching 'if'");
  EXPECT_EQ(errorOf("def f(x):\n    x = a if b\n"),
            "2:15: expected 'else' in conditional expression, found newline");
  EXPECT_EQ(errorOf("def f(x):\n    x = a not b\n"),
            "2:15: expected 'in' after 'not' in comparison, found identifier 'b'");
  EXPECT_EQ(errorOf("def f(x):\n    x = a.1\n"),
            "2:10: expected 'newline' at the end of the statement, found number '.1'");
  EXPECT_EQ(errorOf("def f(x):\n    x = a. b\n    y = a.(b)\n"),
            "3:11: expected 'identifier' after '.', found '('");
  EXPECT_EQ(errorOf("def f(x):\n    pass pass\n"),
            "2:10: expected 'newline' at the end of the statement, found 'pass'");
  EXPECT_EQ(errorOf("def f(x):\n    x = 1 if 2 else 3 = 4\n"),
            "2:9: cannot assign to a conditional expression");
}

TEST(Parser, NestingLimits) {
  std::string deep = "def f():\n    x = " + std::string(300, '(') + "1" + std::string(300, ')') + "\n";
  EXPECT_EQ(errorOf(deep), "2:208: expression nested too deeply");
  EXPECT_EQ(errorOf("def f():\n    x = " + std::string(500, '-') + "1\n"),
            "2:207: expression nested too deeply");
  EXPECT_EQ(errorOf("def f():\n    x = " + std::string(500, '[') + std::string(500, ']') + "\n"),
            "2:208: expression nested too deeply");
  std::string notChain = "def f():\n    x = ";
  for (int i = 0; i < 300; ++i)
    notChain += "not ";
  EXPECT_EQ(errorOf(notChain + "a\n").substr(0, 4), "2:80"); // 4 characters per `not `
  // A long flat chain is as deep as it is long: bounded so that later recursive walks are safe.
  std::string chain = "def f():\n    x = a";
  for (int i = 0; i < 2000; ++i)
    chain += " + a";
  EXPECT_EQ(errorOf(chain + "\n"), "2:9: expression too complex");
  std::string ok = "def f():\n    x = a";
  for (int i = 0; i < 500; ++i)
    ok += " + a";
  EXPECT_TRUE(parse(ok + "\n").module);
  std::string blocks = "def f():\n";
  for (int i = 0; i < 300; ++i)
    blocks += std::string(size_t(i + 1) * 1, ' ') + "if x:\n";
  blocks += std::string(301, ' ') + "pass\n";
  EXPECT_NE(errorOf(blocks).find("nested too deeply"), std::string::npos);
}

TEST(Parser, RenderedErrorHasCaret) {
  Parsed p = parse("def f(x):\n    return x +\n");
  ASSERT_FALSE(p.module);
  EXPECT_EQ(p.rendered,
            "k.py:2:15: error: expected an expression, found newline\n    return x +\n              ^\n");
}
