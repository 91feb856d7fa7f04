// The IR parser: print → parse → print is the identity on IR covering every op kind, attribute
// literals survive exactly, and each syntax error points at the offending token.
#include "ir/Parser.h"
#include "ir/Builder.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <set>

using namespace mt;
using namespace mt::ir;

namespace {

/// Builds one function that uses every op kind of Ops.def at least once, with regions.
void buildEveryOp(Module &m) {
  TypeContext &tc = m.types();
  const Type *i32 = tc.scalar(DType::I32), *f32 = tc.scalar(DType::F32), *i1 = tc.scalar(DType::I1);
  const Type *v4f = tc.block(f32, {4}), *v4i = tc.block(i32, {4});
  Function *f = m.addFunction("every_op", {});
  Value *x = f->body().addArgument(tc.pointer(f32));
  Value *n = f->body().addArgument(i32);
  Value *y = f->body().addArgument(tc.pointer(i32));
  f->argNames() = {"x_ptr", "n", "y_ptr"};
  Builder b(tc);
  b.setInsertionPointToEnd(f->body());

  Value *pid = b.programId(0);
  Value *np = b.create1(OpKind::NumPrograms, {}, i32, {{"axis", int64_t(1)}});
  Value *r = b.makeRange(0, 4);
  Value *a = b.binary(OpKind::Add, b.broadcastTo(pid, {4}), r);
  a = b.binary(OpKind::Mul, a, b.broadcastTo(np, {4}));
  for (OpKind k : {OpKind::Sub, OpKind::Div, OpKind::Rem, OpKind::And, OpKind::Or, OpKind::Xor, OpKind::Shl,
                   OpKind::Shr, OpKind::Max, OpKind::Min, OpKind::UMulHi})
    a = b.binary(k, a, r);
  a = b.unary(OpKind::Not, a);
  a = b.create1(OpKind::Hint, {a}, v4i, {{"multiple_of", std::vector<int64_t>{16}}});
  Value *c = b.cmp("lt", a, b.broadcastTo(n, {4}));
  a = b.select(c, a, r);
  Value *ptrs = b.binary(OpKind::AddPtr, b.broadcastTo(x, {4}), a);
  Value *ld = b.load(ptrs, c, b.constFloat(v4f, 0.5));
  ld = b.create1(OpKind::Fma, {ld, ld, ld}, v4f);
  for (OpKind k :
       {OpKind::Neg, OpKind::Exp, OpKind::Exp2, OpKind::Log, OpKind::Log2, OpKind::Sqrt, OpKind::Rsqrt,
        OpKind::Abs, OpKind::Sin, OpKind::Cos, OpKind::Tanh, OpKind::Erf, OpKind::Floor, OpKind::Ceil})
    ld = b.unary(k, ld);
  ld = b.create1(OpKind::MathFn, {ld, ld}, v4f, {{"fn", std::string("atan2")}});
  ld = b.create1(
      OpKind::InlineAsm, {ld}, v4f,
      {{"asm", std::string("mov.b32 $0, $1;")}, {"constraints", std::string("=f,f")}, {"pack", int64_t(1)}});
  Value *asInt = b.cast(ld, DType::I32);
  Value *bits = b.create1(OpKind::Bitcast, {ld}, v4i);
  b.create(OpKind::Store, {b.binary(OpKind::AddPtr, b.broadcastTo(y, {4}), asInt), bits}, {});
  Value *row = b.create1(OpKind::ExpandDims, {ld}, tc.block(f32, {1, 4}), {{"axis", int64_t(0)}});
  Value *mat = b.create1(OpKind::Broadcast, {row}, tc.block(f32, {8, 4}));
  b.create1(OpKind::Reshape, {mat}, tc.block(f32, {32}));
  Value *matT =
      b.create1(OpKind::Trans, {mat}, tc.block(f32, {4, 8}), {{"order", std::vector<int64_t>{1, 0}}});
  Value *joined = b.create1(OpKind::Join, {ld, ld}, tc.block(f32, {4, 2}));
  Operation *split = b.create(OpKind::Split, {joined}, {v4f, v4f});
  Value *col = b.create1(OpKind::Reshape, {a}, tc.block(i32, {4, 1}));
  b.create1(OpKind::Gather, {mat, b.create1(OpKind::Reshape, {col}, tc.block(i32, {1, 4}))},
            tc.block(f32, {1, 4}), {{"axis", int64_t(0)}});
  Value *acc = b.constFloat(tc.block(f32, {8, 8}), 0.0);
  b.create1(OpKind::Dot, {mat, matT, acc}, tc.block(f32, {8, 8}), {{"input_precision", std::string("ieee")}});

  Operation *red = b.create(OpKind::Reduce, {split->result(0)}, {f32}, {{"axis", int64_t(0)}});
  {
    InsertionGuard g(b);
    Block &body = red->body();
    Value *lhs = body.addArgument(f32), *rhs = body.addArgument(f32);
    b.setInsertionPointToEnd(body);
    b.yield({b.binary(OpKind::Add, lhs, rhs)});
  }
  Operation *scan =
      b.create(OpKind::Scan, {split->result(1)}, {v4f}, {{"axis", int64_t(0)}, {"reverse", int64_t(1)}});
  {
    InsertionGuard g(b);
    Block &body = scan->body();
    Value *lhs = body.addArgument(f32), *rhs = body.addArgument(f32);
    b.setInsertionPointToEnd(body);
    b.yield({b.binary(OpKind::Max, lhs, rhs)});
  }
  b.store(ptrs, scan->result(0), c);
  b.create1(OpKind::AtomicRmw, {ptrs, ld, c}, v4f, {{"kind", std::string("add")}});
  b.create1(OpKind::AtomicCas, {y, n, n}, i32);

  Operation *loop = b.createFor(b.constI32(0), n, b.constI32(1), {red->result(0)});
  {
    InsertionGuard g(b);
    b.setInsertionPointToEnd(loop->body());
    Value *iv = b.cast(loop->body().argument(0), DType::F32);
    b.yield({b.binary(OpKind::Add, loop->body().argument(1), iv)});
  }
  Operation *ifOp = b.createIf(b.cmp("ge", n, pid), {f32});
  {
    InsertionGuard g(b);
    b.setInsertionPointToEnd(ifOp->body(0));
    b.yield({loop->result(0)});
    b.setInsertionPointToEnd(ifOp->body(1));
    b.yield({b.constFloat(f32, -std::numeric_limits<double>::infinity())});
  }
  Operation *wh = b.create(OpKind::While, {pid}, {i32});
  {
    InsertionGuard g(b);
    Block &before = wh->body(0);
    Value *v = before.addArgument(i32);
    b.setInsertionPointToEnd(before);
    b.create(OpKind::Condition, {b.cmp("lt", v, n), v}, {});
    Block &after = wh->body(1);
    Value *w = after.addArgument(i32);
    b.setInsertionPointToEnd(after);
    b.yield({b.binary(OpKind::Add, w, b.constI32(1))});
  }
  b.create(OpKind::Print, {ifOp->result(0), wh->result(0)}, {}, {{"prefix", std::string("x = \"q\"\\\n")}});
  b.create(OpKind::Assert, {b.cmp("ne", n, b.constI32(0))}, {}, {{"message", std::string("n != 0")}});
  b.create(OpKind::Barrier, {}, {});
  b.create(OpKind::ReadSreg, {}, {tc.scalar(DType::I64)}, {{"reg", std::string("globaltimer")}});
  b.create(OpKind::ReadSreg, {}, {tc.scalar(DType::I32)}, {{"reg", std::string("smid")}});
  b.create(OpKind::Return, {}, {});
  (void)i1;
}

std::unique_ptr<Module> parseText(const std::string &text, SourceManager &sm, TypeContext &tc,
                                  Diagnostics &diag) {
  return parseIR(text, "test.mtir", sm, tc, diag);
}

} // namespace

TEST(IRParser, RoundTripCoversEveryOpKind) {
  TypeContext tc;
  Module m(tc);
  buildEveryOp(m);
  SourceManager sm;
  Diagnostics diag(&sm);
  ASSERT_TRUE(verify(m, diag)) << diag.renderAll();

  std::set<OpKind> seen;
  m.functions()[0]->walk([&](Operation *op) { seen.insert(op->kind()); });
  const OpKind all[] = {
#define OP(Kind, Mnemonic, NumOperands, NumResults, NumRegions, Traits) OpKind::Kind,
#include "ir/Ops.def"
#undef OP
  };
  for (OpKind k : all)
    EXPECT_TRUE(seen.count(k)) << "the round-trip test does not use '" << mnemonic(k) << "'";

  std::string first = toString(m);
  auto parsed = parseText(first, sm, tc, diag);
  ASSERT_TRUE(parsed) << diag.renderAll();
  EXPECT_TRUE(verify(*parsed, diag)) << diag.renderAll();
  EXPECT_EQ(toString(*parsed), first);
  // Types are interned in the same context, so they compare by pointer.
  EXPECT_EQ(parsed->functions()[0]->body().argument(0)->type(), tc.pointer(tc.scalar(DType::F32)));
  EXPECT_EQ(parsed->functions()[0]->argNames(), (std::vector<std::string>{"x_ptr", "n", "y_ptr"}));
}

TEST(IRParser, FloatAndIntAttributesSurviveExactly) {
  TypeContext tc;
  Module m(tc);
  Function *f = m.addFunction("consts", {});
  Builder b(tc);
  b.setInsertionPointToEnd(f->body());
  std::mt19937_64 rng(1234);
  std::vector<double> doubles = {std::numeric_limits<double>::infinity(),
                                 -std::numeric_limits<double>::infinity(),
                                 std::numeric_limits<double>::denorm_min(),
                                 -0.0,
                                 1e300,
                                 0.1};
  std::vector<int64_t> ints = {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), -1};
  for (int i = 0; i < 50; ++i) {
    uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    if (std::isfinite(d))
      doubles.push_back(d);
    ints.push_back(static_cast<int64_t>(rng()));
  }
  for (double d : doubles)
    b.constFloat(tc.scalar(DType::F64), d);
  for (int64_t v : ints)
    b.constInt(tc.scalar(DType::I64), v);
  b.constFloat(tc.scalar(DType::F32), std::nan(""));
  b.create(OpKind::Return, {}, {});

  SourceManager sm;
  Diagnostics diag(&sm);
  std::string text = toString(m);
  auto parsed = parseText(text, sm, tc, diag);
  ASSERT_TRUE(parsed) << diag.renderAll();
  EXPECT_EQ(toString(*parsed), text);
  auto it = parsed->functions()[0]->body().operations().begin();
  for (double d : doubles) {
    double got = (*it++)->floatAttr("value");
    EXPECT_EQ(std::memcmp(&got, &d, sizeof d), 0) << "wrote " << d << ", read " << got;
  }
  for (int64_t v : ints)
    EXPECT_EQ((*it++)->intAttr("value"), v);
  EXPECT_TRUE(std::isnan((*it)->floatAttr("value")));
}

TEST(IRParser, LocationsRegisterOneBufferPerFile) {
  SourceManager sm;
  TypeContext tc;
  Diagnostics diag(&sm);
  std::string text = "func @k() {\n"
                     "  %0 = program_id {axis = 0} : i32 loc(\"kern.py\":12:7)\n"
                     "  %1 = program_id {axis = 1} : i32 loc(\"kern.py\":13:9)\n"
                     "  %2 = add %0, %1 : i32\n"
                     "  return loc(\"other.py\":1:1)\n"
                     "}\n";
  auto m = parseText(text, sm, tc, diag);
  ASSERT_TRUE(m) << diag.renderAll();
  auto &ops = m->functions()[0]->body().operations();
  auto it = ops.begin();
  SourceLoc a = (*it++)->loc(), b = (*it++)->loc(), c = (*it++)->loc(), d = (*it)->loc();
  EXPECT_EQ(sm.name(a.file), "kern.py");
  EXPECT_EQ(a.file, b.file);
  EXPECT_EQ(a.line, 12u);
  EXPECT_EQ(b.col, 9u);
  // Without loc(...), the op's position in the IR buffer.
  EXPECT_EQ(sm.name(c.file), "test.mtir");
  EXPECT_EQ(c.line, 4u);
  EXPECT_EQ(c.col, 3u);
  EXPECT_EQ(sm.name(d.file), "other.py");
  EXPECT_NE(d.file, a.file);

  PrintOptions opts;
  opts.locations = true;
  opts.sources = &sm;
  std::string printed = toString(*m, opts);
  EXPECT_NE(printed.find("loc(\"kern.py\":13:9)"), std::string::npos) << printed;
  EXPECT_NE(printed.find("loc(\"test.mtir\":4:3)"), std::string::npos) << printed;
  auto again = parseText(printed, sm, tc, diag);
  ASSERT_TRUE(again) << diag.renderAll();
  EXPECT_EQ(toString(*again, opts), printed);
}

struct ParseErrorCase {
  const char *text;
  unsigned line, col;
  const char *message;
};

class IRParserErrors : public testing::TestWithParam<ParseErrorCase> {};

TEST_P(IRParserErrors, ReportsLineAndColumn) {
  const ParseErrorCase &c = GetParam();
  SourceManager sm;
  TypeContext tc;
  Diagnostics diag(&sm);
  auto m = parseText(c.text, sm, tc, diag);
  EXPECT_FALSE(m);
  ASSERT_EQ(diag.all().size(), 1u) << diag.renderAll();
  const Diagnostic &d = diag.all()[0];
  EXPECT_EQ(d.loc.line, c.line) << diag.renderAll();
  EXPECT_EQ(d.loc.col, c.col) << diag.renderAll();
  EXPECT_NE(d.message.find(c.message), std::string::npos) << diag.renderAll();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, IRParserErrors,
    testing::Values(
        ParseErrorCase{"func @f() {\n  %0 = add %1, %1 : i32\n  return\n}\n", 2, 12,
                       "use of undefined value %1"},
        ParseErrorCase{"func @f(%a: i32) {\n  %a = add %a, %a : i32\n  return\n}\n", 2, 3,
                       "redefinition of value %a"},
        ParseErrorCase{"func @f() {\n  %0 = frobnicate : i32\n  return\n}\n", 2, 8,
                       "unknown operation 'frobnicate'"},
        ParseErrorCase{"func @f() {\n  %0, %1 = program_id {axis = 0} : i32\n  return\n}\n", 2, 12,
                       "2 result name(s) but 1 result type(s)"},
        ParseErrorCase{"func @f(%a: i33) {\n  return\n}\n", 1, 13, "expected a type, found 'i33'"},
        ParseErrorCase{"func @f(%a: tensor<0xf32>) {\n  return\n}\n", 1, 20,
                       "tensor dimension must be positive"},
        ParseErrorCase{"func @f(%a: tensor<4xf32) {\n  return\n}\n", 1, 25, "expected '>'"},
        ParseErrorCase{"func @f() {\n  %0 = constant {value = 99999999999999999999} : i64\n  return\n}\n", 2,
                       26, "out of range"},
        ParseErrorCase{"func @f() {\n  print {prefix = \"abc}\n  return\n}\n", 2, 19, "unterminated string"},
        ParseErrorCase{"func @f() {\n  barrier {a = 1, a = 2}\n  return\n}\n", 2, 19,
                       "duplicate attribute 'a'"},
        ParseErrorCase{"func @f() {\n  %0 = program_id {axis = 0} : i32 extra\n  return\n}\n", 2, 36,
                       "expected end of line"},
        ParseErrorCase{"func @f(%c: i1) {\n  if %c {\n    yield\n  }\n  return\n}\n", 2, 3,
                       "'if' takes 2 region(s), found 1"},
        ParseErrorCase{"func @f() {\n  barrier {\n  }\n  return\n}\n", 2, 11, "'barrier' takes 0 region(s)"},
        ParseErrorCase{"func @f() {\n  return\n", 3, 1, "expected '}', found end of input"},
        ParseErrorCase{"func @f() {\n  return\n}\nfunc @f() {\n  return\n}\n", 4, 1,
                       "redefinition of function @f"},
        ParseErrorCase{"fun @f() {}\n", 1, 1, "expected 'func'"},
        ParseErrorCase{"func @f() {\n  %0 = constant {value = 1} : i32 loc(\"a.py\":0:1)\n  return\n}\n", 2,
                       46, "invalid location"},
        ParseErrorCase{"func @f() {\n  %0 = constant {value = [1, x]} : i32\n  return\n}\n", 2, 30,
                       "expected an integer"},
        ParseErrorCase{"// only a comment\nfunc @f(%p: ptr<tensor<4xf32>>) {\n  return\n}\n", 2, 13,
                       "pointer to a tensor"}));

TEST(IRParser, DeepNestingIsAnErrorNotACrash) {
  std::string text = "func @f(%c: i1) {\n";
  for (int i = 0; i < 1000; ++i)
    text += "if %c {\n";
  text += "}\n";
  SourceManager sm;
  TypeContext tc;
  Diagnostics diag(&sm);
  EXPECT_FALSE(parseText(text, sm, tc, diag));
  ASSERT_TRUE(diag.hasErrors());
  EXPECT_NE(diag.all()[0].message.find("nested too deeply"), std::string::npos) << diag.renderAll();

  std::string type = "func @f(%a: ";
  for (int i = 0; i < 1000; ++i)
    type += "ptr<";
  diag.clear();
  EXPECT_FALSE(parseText(type, sm, tc, diag));
  EXPECT_NE(diag.all()[0].message.find("nested too deeply"), std::string::npos) << diag.renderAll();
}
