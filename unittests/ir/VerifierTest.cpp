// The IR verifier: each rule fires with its message at the offending op's line; well-formed IR passes.
#include "ir/Verifier.h"
#include "ir/Builder.h"
#include "ir/Parser.h"
#include "ir/Printer.h"

#include <gtest/gtest.h>

using namespace mt;
using namespace mt::ir;

namespace {

struct VerifyCase {
  const char *name;
  const char *text; // a whole function; the faulty op is on `line`
  unsigned line;
  const char *message;
};

class VerifierErrors : public testing::TestWithParam<VerifyCase> {};

TEST_P(VerifierErrors, ReportsAtTheOp) {
  const VerifyCase &c = GetParam();
  SourceManager sm;
  TypeContext tc;
  Diagnostics diag(&sm);
  auto m = parseIR(c.text, "v.mtir", sm, tc, diag);
  ASSERT_TRUE(m) << diag.renderAll();
  EXPECT_FALSE(verify(*m, diag));
  ASSERT_TRUE(diag.hasErrors());
  bool found = false;
  for (const Diagnostic &d : diag.all())
    found |= d.message.find(c.message) != std::string::npos && d.loc.line == c.line;
  EXPECT_TRUE(found) << "wanted line " << c.line << ": " << c.message << "\ngot:\n" << diag.renderAll();
}

#define HDR "func @f(%a: tensor<4xi32>, %b: tensor<4xf32>, %s: i32, %x: f32, %p: ptr<f32>, %c: i1) {\n"

INSTANTIATE_TEST_SUITE_P(
    Rules, VerifierErrors,
    testing::Values(
        VerifyCase{"ElementwiseType", HDR "  %0 = add %a, %b : tensor<4xi32>\n  return\n}\n", 2,
                   "'add' operand 1 has type tensor<4xf32>, expected tensor<4xi32>"},
        VerifyCase{"OperandCount", HDR "  %0 = add %a : tensor<4xi32>\n  return\n}\n", 2,
                   "'add' expects 2 operand(s), got 1"},
        VerifyCase{"ResultCount", HDR "  %0 = barrier : i32\n  return\n}\n", 2,
                   "'barrier' expects 0 result(s), got 1"},
        VerifyCase{"LoadOperandRange", HDR "  %0 = load : f32\n  return\n}\n", 2,
                   "'load' expects 1 to 3 operands, got 0"},
        VerifyCase{"CmpResult", HDR "  %0 = cmp %a, %a {pred = \"lt\"} : tensor<4xi32>\n  return\n}\n", 2,
                   "'cmp' result has type tensor<4xi32>, expected i1"},
        VerifyCase{"CmpOperands", HDR "  %0 = cmp %s, %x {pred = \"eq\"} : i1\n  return\n}\n", 2,
                   "'cmp' operand 1 has type f32, expected i32"},
        VerifyCase{"CmpPred", HDR "  %0 = cmp %s, %s {pred = \"lg\"} : i1\n  return\n}\n", 2,
                   "needs a 'pred'"},
        VerifyCase{"SelectCond", HDR "  %0 = select %s, %x, %x : f32\n  return\n}\n", 2,
                   "'select' operand 0 has type i32, expected i1"},
        VerifyCase{"AddPtrLhs", HDR "  %0 = addptr %s, %s : i32\n  return\n}\n", 2,
                   "'addptr' operand 0 has type i32, expected a pointer"},
        VerifyCase{"AddPtrRhs", HDR "  %0 = addptr %p, %x : ptr<f32>\n  return\n}\n", 2,
                   "'addptr' operand 1 has type f32, expected an integer"},
        VerifyCase{"CastShape", HDR "  %0 = cast %a : tensor<8xf32>\n  return\n}\n", 2,
                   "'cast' changes the shape"},
        VerifyCase{"BitcastWidth", HDR "  %0 = bitcast %s : f64\n  return\n}\n", 2,
                   "'bitcast' changes the bit width"},
        VerifyCase{"UMulHiWidth",
                   HDR "  %0 = constant {value = 3} : i16\n  %1 = umulhi %0, %0 : i16\n  return\n}\n", 3,
                   "'umulhi' needs 32- or 64-bit integer"},
        VerifyCase{"MathFnName", HDR "  %0 = mathfn %b {fn = \"nope\"} : tensor<4xf32>\n  return\n}\n", 2,
                   "'mathfn' unknown function 'nope'"},
        VerifyCase{"MathFnArity", HDR "  %0 = mathfn %b {fn = \"pow\"} : tensor<4xf32>\n  return\n}\n", 2,
                   "'pow' takes 2 operand(s), got 1"},
        VerifyCase{"MathFnDomain", HDR "  %0 = mathfn %a {fn = \"log1p\"} : tensor<4xi32>\n  return\n}\n", 2,
                   "'log1p' is not defined on tensor<4xi32>"},
        VerifyCase{"MathFnF32Only",
                   HDR "  %0 = cast %x : f64\n  %1 = mathfn %0 {fn = \"fast_expf\"} : f64\n  return\n}\n", 3,
                   "'fast_expf' is not defined on f64"},
        VerifyCase{"MathFnResult", HDR "  %0 = mathfn %b {fn = \"ilogb\"} : tensor<4xf32>\n  return\n}\n", 2,
                   "result has type tensor<4xf32>, expected i32"},
        VerifyCase{"GatherAxis", HDR "  %0 = gather %b, %a {axis = 1} : tensor<4xf32>\n  return\n}\n", 2,
                   "'gather' axis 1 is out of range for tensor<4xf32>"},
        VerifyCase{"GatherIndex", HDR "  %0 = gather %b, %b {axis = 0} : tensor<4xf32>\n  return\n}\n", 2,
                   "'gather' operand 1 has type tensor<4xf32>, expected integers of rank 1"},
        VerifyCase{"FloatOnly", HDR "  %0 = exp %a : tensor<4xi32>\n  return\n}\n", 2,
                   "'exp' needs floating-point"},
        VerifyCase{"IntOnly", HDR "  %0 = xor %b, %b : tensor<4xf32>\n  return\n}\n", 2,
                   "'xor' needs integer"},
        VerifyCase{"SplatOfTensor", HDR "  %0 = splat %a : tensor<4xi32>\n  return\n}\n", 2,
                   "'splat' needs a scalar operand"},
        VerifyCase{"SplatElement", HDR "  %0 = splat %s : tensor<4xf32>\n  return\n}\n", 2,
                   "'splat' changes the element type"},
        VerifyCase{"Broadcast", HDR "  %0 = broadcast %a : tensor<8xi32>\n  return\n}\n", 2,
                   "'broadcast' cannot broadcast tensor<4xi32> to tensor<8xi32>"},
        VerifyCase{"ExpandDimsAxis", HDR "  %0 = expand_dims %a {axis = 2} : tensor<4x1xi32>\n  return\n}\n",
                   2, "'expand_dims' axis 2 is out of range"},
        VerifyCase{"ExpandDimsShape", HDR "  %0 = expand_dims %a {axis = 0} : tensor<4x1xi32>\n  return\n}\n",
                   2, "'expand_dims' result 0 has type tensor<4x1xi32>, expected tensor<1x4xi32>"},
        VerifyCase{"Reshape", HDR "  %0 = reshape %a : tensor<2x4xi32>\n  return\n}\n", 2,
                   "'reshape' changes the number of elements"},
        VerifyCase{"TransOrder", HDR "  %0 = trans %a {order = [1]} : tensor<4xi32>\n  return\n}\n", 2,
                   "'trans' 'order' is not a permutation"},
        VerifyCase{"TransShape",
                   HDR "  %0 = expand_dims %a {axis = 0} : tensor<1x4xi32>\n"
                       "  %1 = trans %0 {order = [1, 0]} : tensor<1x4xi32>\n  return\n}\n",
                   3, "'trans' result 0 has type tensor<1x4xi32>, expected tensor<4x1xi32>"},
        VerifyCase{"Split", HDR "  %0, %1 = split %a : i32, i32\n  return\n}\n", 2,
                   "'split' needs an operand whose last dim is 2"},
        VerifyCase{"LoadPtr", HDR "  %0 = load %s : f32\n  return\n}\n", 2,
                   "'load' operand 0 has type i32, expected a pointer"},
        VerifyCase{"LoadResult", HDR "  %0 = load %p : f64\n  return\n}\n", 2,
                   "'load' result 0 has type f64, expected f32"},
        VerifyCase{"LoadMask", HDR "  %0 = load %p, %s : f32\n  return\n}\n", 2,
                   "'load' operand 1 has type i32, expected i1"},
        VerifyCase{"LoadOther", HDR "  %0 = load %p, %c, %s : f32\n  return\n}\n", 2,
                   "'load' operand 2 has type i32, expected f32"},
        VerifyCase{"StoreValue", HDR "  store %p, %b\n  return\n}\n", 2,
                   "'store' operand 1 has type tensor<4xf32>, expected f32"},
        VerifyCase{"AtomicKind", HDR "  %0 = atomic_rmw %p, %x {kind = \"mul\"} : f32\n  return\n}\n", 2,
                   "'atomic_rmw' needs a 'kind'"},
        VerifyCase{
            "DotShapes",
            HDR "  %0 = splat %x : tensor<4x8xf32>\n  %1 = splat %x : tensor<4x8xf32>\n"
                "  %2 = splat %x : tensor<4x8xf32>\n  %3 = dot %0, %1, %2 : tensor<4x8xf32>\n  return\n}\n",
            5, "'dot' shapes do not match [M,K] x [K,N] + [M,N]"},
        VerifyCase{"DotRank", HDR "  %0 = dot %b, %b, %b : tensor<4xf32>\n  return\n}\n", 2,
                   "'dot' needs 2-d operands"},
        VerifyCase{"ReduceArgs",
                   HDR
                   "  %0 = reduce %b {axis = 0} : f32 {\n  ^bb(%1: f32):\n    yield %1\n  }\n  return\n}\n",
                   2, "'reduce' region 0 has 1 argument(s), expected 2"},
        VerifyCase{
            "ReduceYield",
            HDR
            "  %0 = reduce %b {axis = 0} : f32 {\n  ^bb(%1: f32, %2: f32):\n    yield %s\n  }\n  return\n}\n",
            4, "'yield' operand 0 has type i32, expected f32 for 'reduce'"},
        VerifyCase{
            "ReduceResult",
            HDR "  %0 = reduce %b {axis = 0} : tensor<4xf32> {\n  ^bb(%1: f32, %2: f32):\n    yield %1\n  }\n"
                "  return\n}\n",
            2, "'reduce' result 0 has type tensor<4xf32>, expected f32"},
        VerifyCase{
            "ReduceAxis",
            HDR
            "  %0 = reduce %b {axis = 1} : f32 {\n  ^bb(%1: f32, %2: f32):\n    yield %1\n  }\n  return\n}\n",
            2, "'reduce' axis 1 is out of range"},
        VerifyCase{
            "ForResult",
            HDR
            "  %0 = for %s, %s, %s, %x : i32 {\n  ^bb(%1: i32, %2: f32):\n    yield %2\n  }\n  return\n}\n",
            2, "'for' result 0 has type i32, expected f32"},
        VerifyCase{"ForBlockArgs",
                   HDR "  %0 = for %s, %s, %s, %x : f32 {\n  ^bb(%1: i32):\n    yield %x\n  }\n  return\n}\n",
                   2, "'for' region 0 has 1 argument(s), expected 2"},
        VerifyCase{
            "ForYieldCount",
            HDR "  %0 = for %s, %s, %s, %x : f32 {\n  ^bb(%1: i32, %2: f32):\n    yield\n  }\n  return\n}\n",
            4, "'yield' yields 0 value(s), expected 1 for 'for'"},
        VerifyCase{"ForBounds", HDR "  for %x, %x, %x {\n  ^bb(%1: f32):\n    yield\n  }\n  return\n}\n", 2,
                   "'for' operand 0 (lower bound) has type f32"},
        VerifyCase{"IfCond", HDR "  if %s {\n    yield\n  } else {\n    yield\n  }\n  return\n}\n", 2,
                   "'if' operand 0 has type i32, expected i1"},
        VerifyCase{"IfYield",
                   HDR "  %0 = if %c : f32 {\n    yield %x\n  } else {\n    yield %s\n  }\n  return\n}\n", 5,
                   "'yield' operand 0 has type i32, expected f32 for 'if'"},
        VerifyCase{
            "WhileCondition",
            HDR
            "  %0 = while %s : i32 {\n  ^bb(%1: i32):\n    condition %1, %1\n  } else {\n  ^bb(%2: i32):\n"
            "    yield %2\n  }\n  return\n}\n",
            4, "'condition' operand 0 has type i32, expected i1"},
        VerifyCase{"WhileTerminator",
                   HDR "  %0 = while %s : i32 {\n  ^bb(%1: i32):\n    yield %1\n  } else {\n  ^bb(%2: i32):\n"
                       "    yield %2\n  }\n  return\n}\n",
                   4, "'yield' cannot end region 0 of 'while' (expected 'condition')"},
        VerifyCase{"MissingYield", HDR "  for %s, %s, %s {\n  ^bb(%1: i32):\n  }\n  return\n}\n", 2,
                   "'for' region 0 must end with 'yield'"},
        VerifyCase{"ReturnInRegion",
                   HDR "  for %s, %s, %s {\n  ^bb(%1: i32):\n    return\n  }\n  return\n}\n", 4,
                   "'return' must be at function level"},
        VerifyCase{"TerminatorNotLast", HDR "  return\n  barrier\n  return\n}\n", 2,
                   "'return' must be the last operation in its block"},
        VerifyCase{"MissingReturn", HDR "  barrier\n}\n", 2, "function @f must end with 'return'"},
        VerifyCase{
            "Dominance",
            HDR
            "  %0 = if %c : f32 {\n    %1 = add %x, %x : f32\n    yield %1\n  } else {\n    yield %x\n  }\n"
            "  %2 = add %1, %x : f32\n  return\n}\n",
            8, "'add' operand 0 is not defined before this use"},
        VerifyCase{"MakeRangeOrder",
                   HDR "  %0 = make_range {end = 0, start = 4} : tensor<4xi32>\n  return\n}\n", 2,
                   "'make_range' needs end > start"},
        VerifyCase{"MakeRangeLength",
                   HDR "  %0 = make_range {end = 8, start = 0} : tensor<4xi32>\n  return\n}\n", 2,
                   "'make_range' result has type tensor<4xi32>, expected tensor<8xi32>"},
        VerifyCase{"ConstantFloatInt", HDR "  %0 = constant {value = 1.5} : i32\n  return\n}\n", 2,
                   "'constant' has a float value but integer type i32"},
        VerifyCase{"ProgramIdAxis", HDR "  %0 = program_id {axis = 3} : i32\n  return\n}\n", 2,
                   "'program_id' needs an 'axis' attribute"},
        VerifyCase{"PointerArith", HDR "  %0 = add %p, %p : ptr<f32>\n  return\n}\n", 2,
                   "'add' cannot operate on pointers"}),
    [](const testing::TestParamInfo<VerifyCase> &info) { return std::string(info.param.name); });

TEST(Verifier, BuilderIRVerifiesAndBadTypesAreCaught) {
  TypeContext tc;
  Module m(tc);
  Function *f = m.addFunction("k", {});
  const Type *f32 = tc.scalar(DType::F32);
  Value *p = f->body().addArgument(tc.pointer(f32));
  Builder b(tc);
  b.setInsertionPointToEnd(f->body());
  Value *offs = b.makeRange(0, 16);
  Value *ptrs = b.binary(OpKind::AddPtr, b.broadcastTo(p, {16}), offs);
  Value *mask = b.cmp("lt", offs, b.broadcastTo(b.constI32(10), {16}));
  Value *x = b.load(ptrs, mask, b.constFloat(tc.block(f32, {16}), 0.0));
  Operation *loop = b.createFor(b.constI32(0), b.constI32(4), b.constI32(1), {x});
  {
    InsertionGuard g(b);
    b.setInsertionPointToEnd(loop->body());
    b.yield({b.binary(OpKind::Mul, loop->body().argument(1), loop->body().argument(1))});
  }
  b.store(ptrs, loop->result(0), mask);
  Operation *ret = b.create(OpKind::Return, {}, {});
  Diagnostics diag;
  EXPECT_TRUE(verify(*f, diag)) << diag.renderAll();

  // Break it: store an i32 tile through f32 pointers, and drop the return.
  Value *bad = b.cast(loop->result(0), DType::I32);
  b.store(ptrs, bad, mask);
  f->body().erase(ret);
  EXPECT_FALSE(verify(*f, diag));
  ASSERT_EQ(diag.all().size(), 2u) << diag.renderAll();
  EXPECT_EQ(diag.all()[0].message, "'store' operand 1 has type tensor<16xi32>, expected tensor<16xf32>");
  EXPECT_EQ(diag.all()[1].message, "function @k must end with 'return'");
}

} // namespace
