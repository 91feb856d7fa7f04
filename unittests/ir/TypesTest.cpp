#include "ir/Types.h"
#include "ir/Builder.h"
#include "ir/Printer.h"

#include <gtest/gtest.h>

using namespace mt::ir;

TEST(Types, InterningGivesPointerEquality) {
  TypeContext tc;
  const Type *f32 = tc.scalar(DType::F32);
  EXPECT_EQ(tc.block(f32, {128, 64}), tc.block(f32, {128, 64}));
  EXPECT_NE(tc.block(f32, {128, 64}), tc.block(f32, {64, 128}));
  EXPECT_EQ(tc.pointer(f32), tc.pointer(f32));
  EXPECT_EQ(tc.block(tc.pointer(f32), {4})->str(), "tensor<4xptr<f32>>");
  EXPECT_EQ(tc.block(f32, {128, 64})->str(), "tensor<128x64xf32>");
  EXPECT_EQ(tc.block(f32, {128, 64})->numElements(), 128 * 64);
}

TEST(Types, BroadcastShapesFollowsNumPy) {
  using V = std::vector<int64_t>;
  EXPECT_EQ(TypeContext::broadcastShapes(V{128, 1}, V{1, 64}), (V{128, 64}));
  EXPECT_EQ(TypeContext::broadcastShapes(V{64}, V{128, 64}), (V{128, 64}));
  EXPECT_EQ(TypeContext::broadcastShapes(V{}, V{8}), (V{8}));
  EXPECT_FALSE(TypeContext::broadcastShapes(V{3}, V{4}).has_value());
  EXPECT_FALSE(TypeContext::broadcastShapes(V{2, 3}, V{3, 2}).has_value());
}

TEST(Types, DTypeNamesRoundTrip) {
  for (unsigned i = 0; i <= unsigned(DType::F64); ++i) {
    DType d = DType(i);
    EXPECT_EQ(parseDType(dtypeName(d)), d);
    EXPECT_EQ(parseDType(tritonDtypeName(d)), d);
  }
  EXPECT_EQ(parseDType("bfloat16"), DType::BF16);
  EXPECT_FALSE(parseDType("fp8").has_value());
  EXPECT_EQ(bitWidth(DType::BF16), 16u);
  EXPECT_TRUE(isUnsigned(DType::U32));
  EXPECT_FALSE(isUnsigned(DType::I32));
}

TEST(Printer, PrintsGenericForm) {
  TypeContext tc;
  Module m(tc);
  Function *f = m.addFunction("k", {});
  Value *p = f->body().addArgument(tc.pointer(tc.scalar(DType::F32)));
  f->argNames().push_back("x_ptr");
  Builder b(tc);
  b.setInsertionPointToEnd(f->body());
  Value *pid = b.programId(0);
  Value *r = b.makeRange(0, 4);
  Value *off = b.binary(OpKind::Add, b.broadcastTo(pid, {4}), r);
  Value *ptrs = b.binary(OpKind::AddPtr, b.broadcastTo(p, {4}), off);
  Value *x = b.load(ptrs);
  b.store(ptrs, b.binary(OpKind::Mul, x, b.constFloat(x->type(), 2.0)));
  b.create(OpKind::Return, {}, {});
  EXPECT_EQ(toString(m), "func @k(%x_ptr: ptr<f32>) {\n"
                         "  %0 = program_id {axis = 0} : i32\n"
                         "  %1 = make_range {end = 4, start = 0} : tensor<4xi32>\n"
                         "  %2 = splat %0 : tensor<4xi32>\n"
                         "  %3 = add %2, %1 : tensor<4xi32>\n"
                         "  %4 = splat %x_ptr : tensor<4xptr<f32>>\n"
                         "  %5 = addptr %4, %3 : tensor<4xptr<f32>>\n"
                         "  %6 = load %5 : tensor<4xf32>\n"
                         "  %7 = constant {value = 2.0} : tensor<4xf32>\n"
                         "  %8 = mul %6, %7 : tensor<4xf32>\n"
                         "  store %5, %8\n"
                         "  return\n"
                         "}\n");
}
