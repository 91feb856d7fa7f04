// End to end: examples/kernels/vector_add.py through the public API, for several dtypes, plus the
// compiled-kernel cache and Triton's integer specialisation.
#include "E2EUtil.h"

namespace mt::e2e {
namespace {

std::vector<ArgSpec> addSpecs(DType d, int64_t n, int64_t block) {
  return {ArgSpec::pointer(d), ArgSpec::pointer(d), ArgSpec::pointer(d), ArgSpec::forInt(n),
          ArgSpec::constant(block)};
}

void runVectorAdd(DType d, int64_t n, int64_t block, uint64_t seed) {
  Context ctx;
  KernelPtr k;
  ASSERT_COMPILES(k, compileFile(ctx, "vector_add.py", "add_kernel", addSpecs(d, n, block)));
  EXPECT_EQ(k->name(), "add_kernel");
  EXPECT_EQ(k->runtimeParams(), (std::vector<std::string>{"x_ptr", "y_ptr", "out_ptr", "n_elements"}));

  Rng rng(seed);
  Buffer x(d, n), y(d, n), out(d, n, /*slack=*/block);
  rng.fill(x, -10.0, 10.0);
  rng.fill(y, -10.0, 10.0);
  out.poison();
  ASSERT_LAUNCHES(k, Grid{cdiv(n, block)}, {x.arg(), y.arg(), out.arg(), LaunchArg::integer(n)});

  std::vector<double> ref(n);
  for (int64_t i = 0; i < n; ++i)
    ref[i] = x.get(i) + y.get(i);
  EXPECT_TRUE(allClose(out, ref));
  EXPECT_TRUE(out.slackUntouched()) << "the masked tail was written past n";
}

TEST(E2EVectorAdd, F32MaskedTail) { runVectorAdd(DType::F32, 1000, 256, 1); }
TEST(E2EVectorAdd, F16) { runVectorAdd(DType::F16, 1000, 256, 2); }
TEST(E2EVectorAdd, BF16) { runVectorAdd(DType::BF16, 777, 128, 3); }
TEST(E2EVectorAdd, F64) { runVectorAdd(DType::F64, 1000, 64, 4); }
TEST(E2EVectorAdd, I32) { runVectorAdd(DType::I32, 1000, 256, 5); }
TEST(E2EVectorAdd, I64) { runVectorAdd(DType::I64, 1000, 256, 8); }

/// Mixed dtypes: x + y follows Triton's promotion (f16 + f32 -> f32); the store casts to out's dtype.
void runMixedAdd(DType dx, DType dy, DType dout, uint64_t seed) {
  const int64_t n = 1000, block = 256;
  Context ctx;
  KernelPtr k;
  ASSERT_COMPILES(k, compileFile(ctx, "vector_add.py", "add_kernel",
                                 {ArgSpec::pointer(dx), ArgSpec::pointer(dy), ArgSpec::pointer(dout),
                                  ArgSpec::forInt(n), ArgSpec::constant(block)}));
  Rng rng(seed);
  Buffer x(dx, n), y(dy, n), out(dout, n, block);
  rng.fill(x, -10.0, 10.0);
  rng.fill(y, -10.0, 10.0);
  out.poison();
  ASSERT_LAUNCHES(k, Grid{cdiv(n, block)}, {x.arg(), y.arg(), out.arg(), LaunchArg::integer(n)});
  std::vector<double> ref(n);
  for (int64_t i = 0; i < n; ++i)
    ref[i] = x.get(i) + y.get(i);
  EXPECT_TRUE(allClose(out, ref));
  EXPECT_TRUE(out.slackUntouched());
}

TEST(E2EVectorAdd, F16PlusF32IntoF32) { runMixedAdd(DType::F16, DType::F32, DType::F32, 9); }
TEST(E2EVectorAdd, F32PlusF32IntoF16) { runMixedAdd(DType::F32, DType::F32, DType::F16, 10); }
TEST(E2EVectorAdd, ExactMultipleOfBlock) { runVectorAdd(DType::F32, 1024, 256, 6); }
TEST(E2EVectorAdd, SmallerThanOneBlock) { runVectorAdd(DType::F32, 3, 256, 7); }

TEST(E2EVectorAdd, RelaunchWithOtherSizeSameKernel) {
  // 1000 and 1001 are both "plain" ints (not 1, not divisible by 16): one specialisation serves both.
  Context ctx;
  KernelPtr k;
  ASSERT_COMPILES(k, compileFile(ctx, "vector_add.py", "add_kernel", addSpecs(DType::F32, 1000, 256)));
  for (int64_t n : {1000, 1001, 515}) {
    Rng rng(100 + n);
    Buffer x(DType::F32, n), y(DType::F32, n), out(DType::F32, n, 256);
    rng.fill(x);
    rng.fill(y);
    out.poison();
    ASSERT_LAUNCHES(k, Grid{cdiv(n, 256)}, {x.arg(), y.arg(), out.arg(), LaunchArg::integer(n)});
    std::vector<double> ref(n);
    for (int64_t i = 0; i < n; ++i)
      ref[i] = x.get(i) + y.get(i);
    EXPECT_TRUE(allClose(out, ref)) << "n = " << n;
    EXPECT_TRUE(out.slackUntouched()) << "n = " << n;
  }
}

TEST(E2EArgSpec, ForIntFollowsTritonSpecialisation) {
  ArgSpec s = ArgSpec::forInt(1000);
  EXPECT_EQ(s.kind, ArgSpec::Kind::Scalar);
  EXPECT_EQ(s.dtype, DType::I32);
  EXPECT_FALSE(s.divisibleBy16);
  EXPECT_FALSE(s.equalsOne);
  s = ArgSpec::forInt(1024);
  EXPECT_EQ(s.dtype, DType::I32);
  EXPECT_TRUE(s.divisibleBy16);
  EXPECT_FALSE(s.equalsOne);
  s = ArgSpec::forInt(1);
  EXPECT_TRUE(s.equalsOne);
  EXPECT_FALSE(s.divisibleBy16);
  s = ArgSpec::forInt(int64_t(1) << 40);
  EXPECT_EQ(s.dtype, DType::I64);
  s = ArgSpec::forInt(-5);
  EXPECT_EQ(s.dtype, DType::I32);
  s = ArgSpec::forInt(int64_t(1) << 31); // just past int32
  EXPECT_EQ(s.dtype, DType::I64);
}

TEST(E2ECache, SameSpecDoesNotRecompileNewConstexprDoes) {
  Context ctx;
  EXPECT_EQ(ctx.numCompilations(), 0u);
  KernelPtr a, b, c, d, e, f;
  ASSERT_COMPILES(a, compileFile(ctx, "vector_add.py", "add_kernel", addSpecs(DType::F32, 1000, 256)));
  EXPECT_EQ(ctx.numCompilations(), 1u);
  ASSERT_COMPILES(b, compileFile(ctx, "vector_add.py", "add_kernel", addSpecs(DType::F32, 1000, 256)));
  EXPECT_EQ(ctx.numCompilations(), 1u) << "same source + spec must hit the cache";
  EXPECT_EQ(a.get(), b.get()) << "a cache hit returns the same kernel";
  // Another plain int value: same specialisation.
  ASSERT_COMPILES(c, compileFile(ctx, "vector_add.py", "add_kernel", addSpecs(DType::F32, 1001, 256)));
  EXPECT_EQ(ctx.numCompilations(), 1u);
  // A new constexpr value is a new kernel.
  ASSERT_COMPILES(d, compileFile(ctx, "vector_add.py", "add_kernel", addSpecs(DType::F32, 1000, 128)));
  EXPECT_EQ(ctx.numCompilations(), 2u);
  // A new pointer dtype is a new kernel.
  ASSERT_COMPILES(e, compileFile(ctx, "vector_add.py", "add_kernel", addSpecs(DType::F16, 1000, 128)));
  EXPECT_EQ(ctx.numCompilations(), 3u);
  // Divisibility by 16 is part of the key (DESIGN.md: the usual Triton specialisations).
  ASSERT_COMPILES(f, compileFile(ctx, "vector_add.py", "add_kernel", addSpecs(DType::F32, 1024, 256)));
  EXPECT_EQ(ctx.numCompilations(), 4u);
  // Back to the first: still cached.
  ASSERT_COMPILES(b, compileFile(ctx, "vector_add.py", "add_kernel", addSpecs(DType::F32, 1000, 256)));
  EXPECT_EQ(ctx.numCompilations(), 4u);
  // Options are part of the key too.
  CompileOptions opts;
  opts.numWarps = 8;
  ASSERT_COMPILES(b, compileFile(ctx, "vector_add.py", "add_kernel", addSpecs(DType::F32, 1000, 256), opts));
  EXPECT_EQ(ctx.numCompilations(), 5u);

  // The cached kernel still runs correctly.
  Rng rng(11);
  Buffer x(DType::F32, 1000), y(DType::F32, 1000), out(DType::F32, 1000);
  rng.fill(x);
  rng.fill(y);
  out.poison();
  ASSERT_LAUNCHES(c, Grid{cdiv(1000, 256)}, {x.arg(), y.arg(), out.arg(), LaunchArg::integer(1000)});
  std::vector<double> ref(1000);
  for (int i = 0; i < 1000; ++i)
    ref[i] = x.get(i) + y.get(i);
  EXPECT_TRUE(allClose(out, ref));
}

TEST(E2ECache, SourceTextIsPartOfTheKey) {
  Context ctx;
  auto src = KernelSource::fromFile(kernelPath("vector_add.py"), "add_kernel");
  ASSERT_TRUE(src) << src.error();
  KernelPtr a, b;
  ASSERT_COMPILES(a, ctx.compile(*src, addSpecs(DType::F32, 1000, 256)));
  KernelSource edited = *src;
  edited.text += "\n# an edit\n";
  ASSERT_COMPILES(b, ctx.compile(edited, addSpecs(DType::F32, 1000, 256)));
  EXPECT_EQ(ctx.numCompilations(), 2u);
}

TEST(E2EVectorAdd, WrongArgumentCountIsAnError) {
  Context ctx;
  KernelPtr k;
  ASSERT_COMPILES(k, compileFile(ctx, "vector_add.py", "add_kernel", addSpecs(DType::F32, 1000, 256)));
  Buffer x(DType::F32, 1000), y(DType::F32, 1000);
  std::vector<LaunchArg> args = {x.arg(), y.arg()};
  Status st = k->launch(Grid{4}, args);
  EXPECT_FALSE(st) << "launch with 2 of 4 arguments succeeded";
}

TEST(E2EVectorAdd, MissingFunctionIsAnError) {
  Context ctx;
  auto k = compileFile(ctx, "vector_add.py", "no_such_kernel", addSpecs(DType::F32, 1000, 256));
  ASSERT_FALSE(k);
  EXPECT_NE(k.error().message.find("no_such_kernel"), std::string::npos) << k.error().message;
}

} // namespace
} // namespace mt::e2e
