// End to end: the KernelSource fields beyond the text — lineOffset, helper sources with @jit
// functions, module-level globals — and a kernel that calls a @jit helper in its own file.
#include "E2EUtil.h"

#include <regex>

namespace mt::e2e {
namespace {

const char *kScaleKernel = "import triton\n"
                           "import triton.language as tl\n"
                           "\n"
                           "\n"
                           "@triton.jit\n"
                           "def scale_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):\n"
                           "    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)\n"
                           "    mask = offs < n\n"
                           "    x = tl.load(x_ptr + offs, mask=mask)\n"
                           "    tl.store(out_ptr + offs, transform(x), mask=mask)\n";

std::vector<ArgSpec> scaleSpecs(int64_t n) {
  return {ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32), ArgSpec::forInt(n),
          ArgSpec::constant(int64_t(64))};
}

/// Runs a compiled scale-like kernel on n random values, returns (inputs, outputs).
void runUnary(const KernelPtr &k, int64_t n, uint64_t seed, Buffer &x, Buffer &out) {
  Rng(seed).fill(x, -3.0, 3.0);
  out.poison();
  ASSERT_LAUNCHES(k, Grid{cdiv(n, 64)}, {x.arg(), out.arg(), LaunchArg::integer(n)});
}

TEST(E2ESource, SameFileJitHelper) {
  KernelSource src;
  src.text = std::string(kScaleKernel) + "\n\n@triton.jit\ndef transform(v):\n    return v * 3.0 + 1.0\n";
  src.fileName = "same_file.py";
  src.functionName = "scale_kernel";
  Context ctx;
  KernelPtr k;
  ASSERT_COMPILES(k, ctx.compile(src, scaleSpecs(300)));
  Buffer x(DType::F32, 300), out(DType::F32, 300);
  runUnary(k, 300, 111, x, out);
  std::vector<double> ref(300);
  for (int i = 0; i < 300; ++i)
    ref[i] = x.get(i) * 3.0 + 1.0;
  EXPECT_TRUE(allClose(out, ref));
}

TEST(E2ESource, HelperSourceProvidesJitFunction) {
  KernelSource src;
  src.text = kScaleKernel;
  src.fileName = "main.py";
  src.functionName = "scale_kernel";
  src.helpers.push_back({"import triton\nimport triton.language as tl\n\n\n@triton.jit\ndef transform(v):\n"
                         "    return tl.abs(v) - 0.5\n",
                         "helpers.py", 0});
  Context ctx;
  KernelPtr k;
  ASSERT_COMPILES(k, ctx.compile(src, scaleSpecs(200)));
  Buffer x(DType::F32, 200), out(DType::F32, 200);
  runUnary(k, 200, 112, x, out);
  std::vector<double> ref(200);
  for (int i = 0; i < 200; ++i)
    ref[i] = std::abs(x.get(i)) - 0.5;
  EXPECT_TRUE(allClose(out, ref));
}

TEST(E2ESource, GlobalsAreReadByName) {
  KernelSource src;
  src.text = "import triton\n"
             "import triton.language as tl\n"
             "\n"
             "\n"
             "@triton.jit\n"
             "def scale_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):\n"
             "    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)\n"
             "    mask = offs < n\n"
             "    x = tl.load(x_ptr + offs, mask=mask)\n"
             "    tl.store(out_ptr + offs, x * FACTOR + OFFSET, mask=mask)\n";
  src.fileName = "globals.py";
  src.functionName = "scale_kernel";
  src.globals["FACTOR"] = 2.5;
  src.globals["OFFSET"] = int64_t(4);
  Context ctx;
  KernelPtr k;
  ASSERT_COMPILES(k, ctx.compile(src, scaleSpecs(129)));
  Buffer x(DType::F32, 129), out(DType::F32, 129);
  runUnary(k, 129, 113, x, out);
  std::vector<double> ref(129);
  for (int i = 0; i < 129; ++i)
    ref[i] = x.get(i) * 2.5 + 4.0;
  EXPECT_TRUE(allClose(out, ref));

  // Another global value is another kernel.
  src.globals["FACTOR"] = 3.5;
  size_t before = ctx.numCompilations();
  ASSERT_COMPILES(k, ctx.compile(src, scaleSpecs(129)));
  EXPECT_EQ(ctx.numCompilations(), before + 1);
}

TEST(E2ESource, LineOffsetShiftsReportedLines) {
  // The kernel text is taken from line 38 of a bigger file (lineOffset 37): errors name 37 + the line
  // in the text.
  KernelSource src;
  src.text = "import triton\n"                                // line 38
             "import triton.language as tl\n"                 // line 39
             "@triton.jit\n"                                  // line 40
             "def shifted(x_ptr, BLOCK: tl.constexpr):\n"     // line 41
             "    offs = tl.arange(0, BLOCK)\n"               // line 42
             "    tl.store(x_ptr + offs, undefined_value)\n"; // line 43
  src.fileName = "big_file.py";
  src.lineOffset = 37;
  src.functionName = "shifted";
  Context ctx;
  auto k = ctx.compile(src, {ArgSpec::pointer(DType::F32), ArgSpec::constant(int64_t(16))});
  ASSERT_FALSE(k);
  EXPECT_TRUE(std::regex_search(k.error().message, std::regex("big_file.py:43:[0-9]+: error")))
      << k.error().message;
  EXPECT_NE(k.error().message.find("undefined_value"), std::string::npos) << k.error().message;
}

} // namespace
} // namespace mt::e2e
