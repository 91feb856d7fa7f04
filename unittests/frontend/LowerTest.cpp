// Tests of the lowering (lib/frontend/Lower.h): kernels from source to printed IR, the typing rules
// (promotion, weak literals, broadcasting), compile-time evaluation, and the error messages.
#include "frontend/Lower.h"
#include "frontend/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace mt;

namespace {

struct Lowered {
  bool ok = false;
  std::string ir;
  std::string errors;
};

Lowered lower(const std::string &src, const std::string &kernel, std::vector<ArgSpec> args,
              std::map<std::string, ConstexprValue> globals = {}) {
  SourceManager sm;
  uint32_t file = sm.addBuffer("k.py", src);
  Diagnostics diag(&sm);
  Lowered out;
  auto mod = parseModule(sm, file, diag);
  if (!mod) {
    out.errors = diag.renderAll();
    return out;
  }
  ir::TypeContext types;
  LowerInput in;
  in.module = mod.get();
  in.kernelName = kernel;
  in.args = std::move(args);
  in.globals = std::move(globals);
  auto m = lowerKernel(in, types, diag);
  out.errors = diag.renderAll();
  if (!m)
    return out;
  out.ok = true;
  out.ir = ir::toString(*m);
  // Every lowered kernel must be well-formed IR.
  Diagnostics vdiag(&sm);
  EXPECT_TRUE(ir::verify(*m, vdiag)) << vdiag.renderAll() << out.ir;
  return out;
}

/// Checks that `patterns` occur in `text` in order (like FileCheck's CHECK lines).
::testing::AssertionResult inOrder(const std::string &text, const std::vector<std::string> &patterns) {
  size_t pos = 0;
  for (const std::string &p : patterns) {
    size_t at = text.find(p, pos);
    if (at == std::string::npos)
      return ::testing::AssertionFailure() << "missing '" << p << "' (in order) in:\n" << text;
    pos = at + p.size();
  }
  return ::testing::AssertionSuccess();
}

size_t count(const std::string &text, const std::string &p) {
  size_t n = 0;
  for (size_t at = text.find(p); at != std::string::npos; at = text.find(p, at + 1))
    ++n;
  return n;
}

std::string readInput(const std::string &name) {
  std::ifstream in(std::string(MT_SOURCE_DIR) + "/test/frontend/Inputs/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ArgSpec ptr(DType d) { return ArgSpec::pointer(d, false); }
ArgSpec scal(DType d) { return ArgSpec::scalar(d); }
ArgSpec cst(int64_t v) { return ArgSpec::constant(v); }

const char *kAdd = R"(
import triton
import triton.language as tl

@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n_elements, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(axis=0)
    block_start = pid * BLOCK_SIZE
    offsets = block_start + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask)
    y = tl.load(y_ptr + offsets, mask=mask)
    output = x + y
    tl.store(out_ptr + offsets, output, mask=mask)
)";

} // namespace

TEST(Lower, VectorAdd) {
  auto r = lower(kAdd, "add_kernel",
                 {ptr(DType::F32), ptr(DType::F32), ptr(DType::F32), scal(DType::I32), cst(1024)});
  ASSERT_TRUE(r.ok) << r.errors;
  EXPECT_TRUE(inOrder(
      r.ir, {"func @add_kernel(%x_ptr: ptr<f32>, %y_ptr: ptr<f32>, %out_ptr: ptr<f32>, %n_elements: i32)",
             "program_id {axis = 0} : i32", "constant {value = 1024} : i32", "mul",
             "make_range {end = 1024, start = 0} : tensor<1024xi32>", "splat", "add", "cmp",
             "{pred = \"lt\"} : tensor<1024xi1>", "addptr", "load", ": tensor<1024xf32>", "add",
             ": tensor<1024xf32>", "store", "return"}))
      << r.ir;
}

TEST(Lower, Softmax) {
  auto r = lower(
      readInput("softmax.py"), "softmax_kernel",
      {ptr(DType::F32), ptr(DType::F32), scal(DType::I32), scal(DType::I32), scal(DType::I32), cst(128)});
  ASSERT_TRUE(r.ok) << r.errors;
  EXPECT_TRUE(
      inOrder(r.ir, {"constant {value = -inf} : tensor<128xf32>", "load", "reduce", "{axis = 0} : f32", "max",
                     "yield", "splat", "sub", "exp", "reduce", "add", "div", "store"}));
  EXPECT_EQ(count(r.ir, "reduce"), 2u);
}

TEST(Lower, MatmulGroupedWithMin) {
  std::vector<ArgSpec> args{ptr(DType::F16), ptr(DType::F16), ptr(DType::F16)};
  for (int i = 0; i < 9; ++i)
    args.push_back(scal(DType::I32));
  for (int64_t v : {64, 64, 32, 8})
    args.push_back(cst(v));
  args.push_back(ArgSpec::constant(std::string("leaky_relu")));
  auto r = lower(readInput("matmul.py"), "matmul_kernel", args);
  ASSERT_TRUE(r.ok) << r.errors;
  // min(num_pid_m - first_pid_m, GROUP_SIZE_M) on an IR scalar is an elementwise min.
  EXPECT_TRUE(inOrder(r.ir, {"min %", ": i32"}));
  // The K loop carries the accumulator and both pointer tiles.
  EXPECT_TRUE(
      inOrder(r.ir, {"= for ", ": tensor<64x64xf32>, tensor<64x32xptr<f16>>, tensor<32x64xptr<f16>> {",
                     "load", ": tensor<64x32xf16>", "dot", ": tensor<64x64xf32>", "add", "addptr", "addptr",
                     "yield", "}", "select", "cast", ": tensor<64x64xf16>", "and", "store"}));
  // Without the activation the helper is not inlined.
  args.back() = ArgSpec::constant(std::string(""));
  auto r2 = lower(readInput("matmul.py"), "matmul_kernel", args);
  ASSERT_TRUE(r2.ok) << r2.errors;
  EXPECT_EQ(count(r2.ir, "select"), 0u);
}

TEST(Lower, LayerNorm) {
  auto r = lower(readInput("layernorm.py"), "_layer_norm_fwd_fused",
                 {ptr(DType::F16), ptr(DType::F16), ptr(DType::F16), ptr(DType::F16), ptr(DType::F32),
                  ptr(DType::F32), scal(DType::I32), scal(DType::I32), scal(DType::F32), cst(256)});
  ASSERT_TRUE(r.ok) << r.errors;
  EXPECT_EQ(count(r.ir, " = for "), 2u); // two loops carry an accumulator
  EXPECT_EQ(count(r.ir, "  for "), 1u);  // the last one carries nothing
  EXPECT_TRUE(inOrder(r.ir, {"cast %N : f32", "div", "sqrt", ": f32", "store", "store", "for", "load",
                             ": tensor<256xf16>", "cast", "sub", "mul", "cast", "mul", "add", "store"}));
}

TEST(Lower, FlashAttentionForward) {
  auto r = lower(readInput("attention.py"), "attn_fwd",
                 {ptr(DType::F16), ptr(DType::F16), ptr(DType::F16), scal(DType::F32), ptr(DType::F16),
                  scal(DType::I32), scal(DType::I32), scal(DType::I32), scal(DType::I32), cst(128), cst(64),
                  cst(64), cst(32), cst(3)});
  ASSERT_TRUE(r.ok) << r.errors;
  // STAGE = 3: both inner calls are inlined, each a loop carrying l_i, acc, m_i and two pointer tiles.
  EXPECT_EQ(count(r.ir, " = for "), 2u);
  EXPECT_TRUE(inOrder(r.ir, {"= for",
                             "tensor<64xf32>, tensor<64x64xf32>, tensor<64xf32>",
                             "hint",
                             "{multiple_of = [32]}",
                             "dot",
                             "reduce",
                             "max",
                             "exp2",
                             "reduce",
                             "add",
                             "exp2",
                             "cast",
                             ": tensor<64x32xf16>",
                             "dot",
                             "yield",
                             "= for",
                             "cmp",
                             "{pred = \"ge\"}",
                             "select",
                             "yield",
                             "log2",
                             "div",
                             "cast",
                             ": tensor<64x64xf16>",
                             "store"}));
  // STAGE = 1 keeps only the first (off-band) loop.
  auto r1 = lower(readInput("attention.py"), "attn_fwd",
                  {ptr(DType::F16), ptr(DType::F16), ptr(DType::F16), scal(DType::F32), ptr(DType::F16),
                   scal(DType::I32), scal(DType::I32), scal(DType::I32), scal(DType::I32), cst(128), cst(64),
                   cst(64), cst(32), cst(1)});
  ASSERT_TRUE(r1.ok) << r1.errors;
  EXPECT_EQ(count(r1.ir, " = for "), 1u);
  EXPECT_EQ(count(r1.ir, "select"), 0u);
}

const char *kScan = R"(
import triton
import triton.language as tl

@triton.jit
def combine(a1, b1, a2, b2):
    return a1 * a2, b1 * a2 + b2

@triton.jit
def scan_kernel(a_ptr, x_ptr, out_ptr, idx_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    a = tl.load(a_ptr + offs)
    x = tl.load(x_ptr + offs)
    _, h = tl.associative_scan((a, x), axis=0, combine_fn=combine)
    tl.store(out_ptr + offs, h)
    i = tl.argmax(x, axis=0)
    tl.store(idx_ptr, i)
    old = tl.atomic_add(out_ptr + offs, x, mask=offs < 8)
    prev = tl.atomic_cas(idx_ptr, 0, i)
    m = tl.atomic_max(idx_ptr + offs, offs)
)";

TEST(Lower, AssociativeScanTupleArgmaxAtomics) {
  auto r = lower(kScan, "scan_kernel",
                 {ptr(DType::F32), ptr(DType::F32), ptr(DType::F32), ptr(DType::I32), cst(64)});
  ASSERT_TRUE(r.ok) << r.errors;
  EXPECT_TRUE(inOrder(r.ir, {"= scan %", "{axis = 0, reverse = 0} : tensor<64xf32>, tensor<64xf32> {",
                             "^bb(%", ": f32, %", ": f32, %", ": f32, %", ": f32):", "mul", "mul", "add",
                             "yield", "}", "store"}));
  // argmax: a 2-operand reduce of (values, indices) that keeps the smaller index on ties.
  EXPECT_TRUE(inOrder(r.ir, {"make_range {end = 64, start = 0}", "= reduce %", "{axis = 0} : f32, i32 {",
                             "cmp", "{pred = \"gt\"}", "{pred = \"lt\"}", "{pred = \"eq\"}", "and", "or",
                             "select", "select", "yield", "store %idx_ptr"}));
  EXPECT_TRUE(inOrder(r.ir, {"atomic_rmw", "{kind = \"add\"} : tensor<64xf32>", "atomic_cas %idx_ptr",
                             ": i32", "atomic_rmw", "{kind = \"max\"} : tensor<64xi32>"}));
}

// ---- Typing rules -----------------------------------------------------------------------------------

namespace {

/// Lowers `tl.static_assert((EXPR).dtype == R)` for scalar arguments a, b of the given dtypes.
Lowered typeOf(const std::string &expr, DType a, DType b, const std::string &expected) {
  std::string src = "import triton.language as tl\n@triton.jit\ndef k(a, b, R: tl.constexpr):\n"
                    "    tl.static_assert((" +
                    expr + ").dtype == R, 'got ' + (" + expr + ").dtype.name)\n";
  return lower(src, "k", {scal(a), scal(b), ArgSpec::constant(expected)});
}

} // namespace

TEST(LowerTypes, BinaryPromotion) {
  struct Case {
    const char *expr;
    DType a, b;
    const char *result;
  } cases[] = {
      {"a + b", DType::I8, DType::I32, "int32"},
      {"a + b", DType::I8, DType::U8, "uint8"},
      {"a + b", DType::I32, DType::U32, "uint32"},
      {"a + b", DType::I64, DType::U32, "int64"},
      {"a + b", DType::U64, DType::I32, "uint64"},
      {"a + b", DType::F16, DType::BF16, "fp32"},
      {"a + b", DType::F16, DType::F32, "fp32"},
      {"a + b", DType::F16, DType::I32, "fp16"},
      {"a + b", DType::BF16, DType::I64, "bf16"},
      {"a * b", DType::F64, DType::F32, "fp64"},
      {"a + b", DType::I1, DType::I1, "int32"},
      {"a & b", DType::I1, DType::I1, "int1"},
      {"a / b", DType::I32, DType::I32, "fp32"},
      {"a // b", DType::I32, DType::I64, "int64"},
      {"a / b", DType::F16, DType::F16, "fp16"},
      {"a % b", DType::F32, DType::F16, "fp32"},
      {"a < b", DType::F32, DType::I32, "int1"},
      {"tl.maximum(a, b)", DType::I8, DType::F16, "fp16"},
      {"tl.where(a > 0, a, b)", DType::I32, DType::F32, "fp32"},
      // Weak Python scalars take the tensor's dtype where compatible.
      {"a + 1", DType::I8, DType::I8, "int8"},
      {"a + 1", DType::F16, DType::F16, "fp16"},
      {"a * 1.5", DType::F16, DType::F16, "fp16"},
      {"a * 1.5", DType::I32, DType::I32, "fp32"},
      {"2 - a", DType::U16, DType::U16, "uint16"},
      {"a + 2", DType::I64, DType::I64, "int64"},
      {"a + True", DType::I16, DType::I16, "int16"},
      {"a / 2", DType::I32, DType::I32, "fp32"},
      {"a + 1", DType::BF16, DType::BF16, "bf16"},
      {"-a", DType::I1, DType::I1, "int32"},
  };
  for (const Case &c : cases) {
    auto r = typeOf(c.expr, c.a, c.b, c.result);
    EXPECT_TRUE(r.ok) << c.expr << " with " << ir::dtypeName(c.a) << ", " << ir::dtypeName(c.b) << ": "
                      << r.errors;
  }
  // The same check fails for a wrong expectation (the test can fail).
  EXPECT_FALSE(typeOf("a + b", DType::I8, DType::I32, "int8").ok);
}

TEST(LowerTypes, Broadcasting) {
  const char *src = R"(
import triton.language as tl
@triton.jit
def k(p):
    a = tl.arange(0, 4)[:, None]
    b = tl.arange(0, 8)
    c = a + b
    tl.static_assert(c.shape == (4, 8))
    d = tl.zeros((2, 4, 8), tl.float32) + c
    tl.static_assert(d.shape == (2, 4, 8))
    e = d + b[None, None, :]
    tl.store(p + c, c)
)";
  auto r = lower(src, "k", {ptr(DType::I32)});
  ASSERT_TRUE(r.ok) << r.errors;
  EXPECT_TRUE(inOrder(r.ir, {"expand_dims", "tensor<4x1xi32>", "broadcast", "tensor<4x8xi32>", "broadcast",
                             "tensor<4x8xi32>", "add", "cast", ": tensor<4x8xf32>", "expand_dims",
                             "{axis = 0} : tensor<1x4x8xf32>", "broadcast", "tensor<2x4x8xf32>", "add"}));
}

TEST(LowerTypes, CompileTimeFolding) {
  const char *src = R"(
import triton.language as tl
@triton.jit
def k(p, BLOCK: tl.constexpr):
    tl.static_assert(-7 // 2 == -4 and -7 % 3 == 2 and 7 / 2 == 3.5 and 2 ** 10 == 1024)
    tl.static_assert(1 < 2 < 3 and not (3 < 2 < 4) and (1 if BLOCK else 2) == 1)
    tl.static_assert(tl.cdiv(BLOCK, 3) == (BLOCK + 2) // 3 and min(BLOCK, 7) == 7)
    if BLOCK > 64:
        x = tl.full((BLOCK,), 1.0, tl.float32)
    else:
        x = tl.full((BLOCK,), 2, tl.int8)
    tl.store(p + tl.arange(0, BLOCK), x)
)";
  auto r = lower(src, "k", {ptr(DType::F32), cst(128)});
  ASSERT_TRUE(r.ok) << r.errors;
  EXPECT_TRUE(inOrder(r.ir, {"constant {value = 1.0} : tensor<128xf32>", "store"}));
  EXPECT_EQ(count(r.ir, "if "), 0u);
  EXPECT_EQ(count(r.ir, "i8"), 0u);
  auto r2 = lower(src, "k", {ptr(DType::F32), cst(32)});
  ASSERT_TRUE(r2.ok) << r2.errors;
  EXPECT_TRUE(inOrder(r2.ir, {"constant {value = 2} : tensor<32xi8>", "cast", ": tensor<32xf32>", "store"}));
}

// ---- Control flow -------------------------------------------------------------------------------------

TEST(LowerControl, RuntimeIfMergesVariables) {
  const char *src = R"(
import triton.language as tl
@triton.jit
def k(p, n):
    x = tl.load(p)
    y = 0
    if n > 3:
        x = x * 2
        z = 1
    elif n > 1:
        y = 5
        z = 2
    else:
        z = 3
    tl.store(p, x + y + z)
)";
  auto r = lower(src, "k", {ptr(DType::F32), scal(DType::I32)});
  ASSERT_TRUE(r.ok) << r.errors;
  // The outer if yields x (f32), y and z (i32); the nested one y and z.
  EXPECT_TRUE(inOrder(r.ir, {"= if %", ": f32, i32, i32 {", "mul", "yield", "} else {", "= if %",
                             ": i32, i32 {", "yield", "} else {", "yield", "}", "yield", "}", "store"}));
}

TEST(LowerControl, LoopCarriedWeakInitAndWhile) {
  const char *src = R"(
import triton.language as tl
@triton.jit
def k(p, n):
    acc = 0.0
    i = 0
    total = 0
    for j in tl.range(0, n, 2, num_stages=3):
        acc += tl.load(p + j)
        i = i + 1
    while i < n:
        i += 3
    for s in tl.static_range(3):
        total += s
    tl.static_assert(total == 3)
    tl.store(p, acc + i)
)";
  auto r = lower(src, "k", {ptr(DType::F16), scal(DType::I64)});
  ASSERT_TRUE(r.ok) << r.errors;
  // The loop over an i64 bound has an i64 induction variable; acc = 0.0 is carried as f32 (f32 + f16
  // stays f32), i = 0 as i32.
  EXPECT_TRUE(
      inOrder(r.ir, {"= for %", ": f32, i32 {", "^bb(%", ": i64, %", ": f32, %", ": i32):", "load", "add",
                     "yield", "= while %", ": i32 {", "condition", "} else {", "yield", "store"}));
  EXPECT_EQ(count(r.ir, "= for"), 1u);
}

// ---- Errors ---------------------------------------------------------------------------------------------

namespace {

/// Lowers a kernel `k` with one f32 pointer `p` and one i32 `n`, and returns the rendered errors.
std::string errorOf(const std::string &body, std::vector<ArgSpec> args = {}) {
  std::string src = "import triton\nimport triton.language as tl\n@triton.jit\ndef k(p, n):\n" + body;
  if (args.empty())
    args = {ptr(DType::F32), scal(DType::I32)};
  auto r = lower(src, "k", args);
  EXPECT_FALSE(r.ok) << "expected an error for:\n" << body << "\ngot:\n" << r.ir;
  return r.errors;
}

#define EXPECT_ERROR(body, text)                                                                             \
  do {                                                                                                       \
    std::string e_ = errorOf(body);                                                                          \
    EXPECT_NE(e_.find(text), std::string::npos) << "expected '" << text << "' in:\n" << e_;                  \
  } while (0)

} // namespace

TEST(LowerErrors, Messages) {
  EXPECT_ERROR("    x = foo + 1\n", "k.py:5:9: error: name 'foo' is not defined");
  EXPECT_ERROR("    x = tl.arange(0, 12)\n", "k.py:5:9: error: arange's range must be a power of 2, got 12");
  EXPECT_ERROR("    x = tl.arange(0, 4) + tl.arange(0, 8)\n",
               "k.py:5:9: error: incompatible shapes for broadcasting: [4] and [8]");
  EXPECT_ERROR("    x = tl.load(p) // 2.0\n", "k.py:5:9: error: floor division of floats is not supported");
  EXPECT_ERROR("    x = n ** 2\n", "k.py:5:9: error: '**' is not supported on tensors");
  EXPECT_ERROR("    x = tl.arange(0, 4) < n and n > 1\n",
               "k.py:5:9: error: 'and' on tensors is not supported; use '&' instead");
  EXPECT_ERROR("    x = p + 1.5\n", "k.py:5:9: error: unsupported operand types for +: ptr<f32> and float");
  EXPECT_ERROR("    x = tl.foo(1)\n", "k.py:5:9: error: 'tl.foo' is not supported");
  EXPECT_ERROR("    x = tl.load()\n", "k.py:5:9: error: tl.load() missing required argument 'pointer'");
  EXPECT_ERROR("    x = tl.load(p, mask=None, bogus=1)\n",
               "k.py:5:31: error: tl.load() got an unexpected keyword argument 'bogus'");
  EXPECT_ERROR("    x = tl.program_id(0, 1)\n",
               "k.py:5:26: error: tl.program_id() takes at most 1 positional");
  EXPECT_ERROR("    x = tl.load(p, other=0.0)\n",
               "k.py:5:20: error: `other` cannot be provided without `mask`");
  EXPECT_ERROR("    tl.static_assert(n == n)\n",
               "k.py:5:22: error: tl.static_assert needs a compile-time condition");
  EXPECT_ERROR("    tl.static_assert(1 > 2, \"too big\")\n",
               "k.py:5:5: error: static_assert failed: too big");
  EXPECT_ERROR("    for i in range(n):\n        break\n", "k.py:6:9: error: 'break' is not supported");
  EXPECT_ERROR("    for i in range(n):\n        continue\n", "k.py:6:9: error: 'continue' is not supported");
  EXPECT_ERROR("    for i in range(n):\n        return\n",
               "k.py:6:9: error: 'return' inside a runtime if/for/while");
  EXPECT_ERROR("    if n > 0:\n        x = 1\n    else:\n        return\n",
               "k.py:8:9: error: 'return' inside a runtime if/for/while");
  EXPECT_ERROR("    x = 0\n    for i in range(n):\n        x = tl.zeros((4,), tl.float32)\n",
               "k.py:6:5: error: loop-carried variable 'x' has initial type i32 but is re-assigned to "
               "tensor<4xf32> in the loop");
  EXPECT_ERROR("    if n > 0:\n        x = 1.0\n    else:\n        x = tl.load(p + tl.arange(0, 4))\n",
               "k.py:5:5: error: mismatched type for 'x'");
  EXPECT_ERROR("    if n > 0:\n        y = 1\n    tl.store(p, y)\n",
               "k.py:7:17: error: 'y' is defined in only one branch of the if at 5:5");
  EXPECT_ERROR("    for i in range(n):\n        t = i\n    tl.store(p, t)\n",
               "k.py:7:17: error: 't' is defined inside the loop at 5:5");
  EXPECT_ERROR("    x = helper(n)\n\ndef helper(a):\n    return a\n",
               "k.py:5:9: error: function 'helper' is not a @triton.jit function");
  EXPECT_ERROR("    a = tl.zeros((16, 8), tl.float16)\n    x = tl.dot(a, a)\n",
               "k.py:6:9: error: incompatible shapes for tl.dot: [16, 8] and [16, 8]");
  EXPECT_ERROR("    a = tl.zeros((8, 8), tl.float16)\n    x = tl.dot(a, a)\n",
               "k.py:6:9: error: tl.dot needs M, N and K of at least 16, got M=8, N=8, K=8");
  EXPECT_ERROR("    x = tl.zeros((3, 4), tl.float32)\n",
               "k.py:5:18: error: shape element 0 must be a power of 2, got 3");
  EXPECT_ERROR("    x = ~tl.load(p)\n", "k.py:5:9: error: '~' is only supported on integers, got f32");
  EXPECT_ERROR("    a, b = (1, 2, 3)\n", "k.py:5:5: error: cannot unpack 3 values into 2 targets");
  EXPECT_ERROR("    x = (1, 2)[5]\n", "k.py:5:16: error: tuple index 5 out of range (size 2)");
  // Value, mask and other take the pointer's shape, as in Triton; never the pointer theirs.
  EXPECT_ERROR("    o = tl.arange(0, 16)\n    tl.store(p + o, tl.zeros((16, 16), tl.float32))\n",
               "k.py:6:21: error: tl.store: the value (shape [16, 16]) does not broadcast to the pointer's "
               "shape [16]");
  EXPECT_ERROR(
      "    tl.store(p, tl.zeros((16,), tl.float32))\n",
      "k.py:5:17: error: tl.store: the value (shape [16]) does not broadcast to the pointer's shape [] (a "
      "scalar pointer: add the offsets to the pointer)");
  EXPECT_ERROR("    o = tl.arange(0, 16)\n    tl.store(p + o[None, :], 1.0, mask=o[:, None] < n)\n",
               "k.py:6:35: error: tl.store: the mask (shape [16, 1]) does not broadcast to the pointer's "
               "shape [1, 16]");
  EXPECT_ERROR(
      "    o = tl.arange(0, 16)\n    x = tl.load(p, mask=o < n)\n",
      "k.py:6:20: error: tl.load: the mask (shape [16]) does not broadcast to the pointer's shape []");
  EXPECT_ERROR("    x = tl.load(p)[0]\n",
               "k.py:5:20: error: only None and ':' are supported when indexing a tensor");
  EXPECT_ERROR(
      "    x = tl.load(p + tl.arange(0, 4)).to(tl.float32, bitcast=True).to(tl.float16, bitcast=True)\n",
      "error: cannot bitcast fp32 to fp16: the bit widths differ");
  EXPECT_ERROR("    x = tl.zeros((4,), dtype=tl.float32)\n    x[0] = 1\n",
               "k.py:6:5: error: assignment to a subscript");
  EXPECT_ERROR("    x = {1: 2}\n", "k.py:5:9: error: dict literals are not supported in a kernel");
  EXPECT_ERROR("    x = 1 // 0\n", "k.py:5:9: error: division by zero in compile-time expression");
  EXPECT_ERROR("    x = tl.sum(tl.zeros((4, 4), tl.float32), axis=2)\n",
               "error: tl.sum(): axis 2 is out of range for a tensor of rank 2");
  EXPECT_ERROR("    x = tl.softmax(tl.zeros((4, 4), tl.float32), -3)\n",
               "error: tl.softmax(): dim -3 is out of range for a tensor of rank 2");
  EXPECT_ERROR("    x = tl.flip(tl.zeros((4, 4), tl.float32), 2)\n",
               "error: tl.flip(): dim 2 is out of range for a tensor of rank 2");
}

TEST(LowerErrors, KernelArguments) {
  const char *src = "import triton.language as tl\n@triton.jit\ndef k(p, n, B: tl.constexpr):\n    pass\n";
  auto r = lower(src, "k", {ptr(DType::F32), scal(DType::I32), scal(DType::I32)});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(
      r.errors.find("k.py:3:13: error: parameter 'B' is annotated tl.constexpr but its argument is not a "
                    "compile-time value"),
      std::string::npos)
      << r.errors;
  r = lower(src, "k", {ptr(DType::F32), scal(DType::I32)});
  EXPECT_NE(r.errors.find("k.py:3:13: error: no argument given for parameter 'B' of kernel 'k'"),
            std::string::npos)
      << r.errors;
  r = lower(src, "k", {ptr(DType::F32), scal(DType::I32), cst(1), cst(2)});
  EXPECT_NE(r.errors.find("k.py:3:1: error: kernel 'k' has 3 parameters but 4 arguments were given"),
            std::string::npos)
      << r.errors;
  r = lower(src, "nope", {});
  EXPECT_NE(r.errors.find("kernel 'nope' is not defined"), std::string::npos) << r.errors;
}

TEST(LowerControl, EarlyReturnBecomesElseBranch) {
  const char *src = R"(
import triton.language as tl
@triton.jit
def k(p, M, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    if pid >= M:
        return
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    tl.store(p + offs, 1.0)
)";
  auto r = lower(src, "k", {ptr(DType::F32), scal(DType::I32), cst(32)});
  ASSERT_TRUE(r.ok) << r.errors;
  EXPECT_TRUE(inOrder(r.ir, {"cmp", "{pred = \"ge\"}", "  if %", " {", "yield", "} else {", "make_range",
                             "store", "yield", "}", "return"}));
}

TEST(Lower, ArgumentSpecialisationAndHelpers) {
  const char *src = R"(
import triton
import triton.language as tl
from triton.language import constexpr as cexpr

SCALE = 3
OFFSETS = tl.constexpr(2)

@triton.jit
def scaled(x, factor: tl.constexpr = SCALE, bias=0):
    if factor == 1:
        return x + bias
    return x * factor + bias

@triton.jit
def k(p, stride, one, n, BLOCK: cexpr, FLAG: tl.constexpr = None):
    offs = tl.arange(0, BLOCK) * stride * one
    x = tl.load(p + offs)
    y = scaled(x, bias=OFFSETS)
    z = scaled(y, 1)
    if FLAG is not None:
        z = z * 100
    for i in tl.static_range(0, 4, 2):
        z += i
    tl.store(p + offs, z)
)";
  ArgSpec stride = ArgSpec::scalar(DType::I32);
  stride.divisibleBy16 = true;
  ArgSpec one = ArgSpec::scalar(DType::I32);
  one.equalsOne = true;
  auto r = lower(src, "k", {ArgSpec::pointer(DType::F32, true), stride, one, scal(DType::I32), cst(16)});
  ASSERT_TRUE(r.ok) << r.errors;
  // divisibleBy16 -> hint on entry; equalsOne -> the parameter stays, its uses become the constant 1.
  EXPECT_TRUE(
      inOrder(r.ir, {"func @k(%p: ptr<f32>, %stride: i32, %one: i32, %n: i32)",
                     "hint %p {multiple_of = [16]} : ptr<f32>", "hint %stride {multiple_of = [16]} : i32",
                     "make_range", "mul", "constant {value = 1} : tensor<16xi32>", "mul", "load",
                     "constant {value = 3.0} : tensor<16xf32>", "mul", "constant {value = 2.0}", "add",
                     "constant {value = 0.0}", "add", "constant {value = 0.0}", "add",
                     "constant {value = 2.0}", "add", "store"}));
  EXPECT_EQ(count(r.ir, "100"), 0u);
  EXPECT_EQ(count(r.ir, "hint %one"), 0u);
}

TEST(Lower, ModuleGlobalsFromInput) {
  const char *src = R"(
import triton.language as tl
@triton.jit
def k(p):
    tl.static_assert(EPS < 1.0 and NAME == "x" and DT == tl.float16)
    x = tl.zeros((4,), dtype=DT)
    tl.store(p + tl.arange(0, 4), x)
)";
  auto r = lower(src, "k", {ptr(DType::F32)},
                 {{"EPS", 1e-5}, {"NAME", std::string("x")}, {"DT", std::string("fp16")}});
  ASSERT_TRUE(r.ok) << r.errors;
  EXPECT_TRUE(inOrder(r.ir, {"constant {value = 0.0} : tensor<4xf16>", "cast", "store"}));
}

TEST(LowerControl, TuplesAcrossIfAndLoops) {
  const char *src = R"(
import triton.language as tl
@triton.jit
def k(p, n):
    st = (tl.load(p), 0, None)
    if n > 2:
        st = (st[0] * 2, 1, None)
    for i in range(n):
        a, b, c = st
        st = (a + 1.0, b + i, c)
    tl.store(p, st[0] + st[1])
)";
  auto r = lower(src, "k", {ptr(DType::F32), scal(DType::I32)});
  ASSERT_TRUE(r.ok) << r.errors;
  // Only the leaves that change are results / carried; None stays a compile-time value.
  EXPECT_TRUE(inOrder(r.ir, {"= if %", ": f32, i32 {", "yield", "} else {", "yield", "= for %",
                             ": f32, i32 {", "^bb(%", ": i32, %", ": f32, %", ": i32):", "add", "add",
                             "yield", "cast", "add", "store"}));
  EXPECT_ERROR("    st = (1, 2)\n    for i in range(n):\n        st = (1, 2, 3)\n",
               "k.py:6:5: error: variable 'st' changes its structure in the for loop");
}

TEST(Lower, BlockPointers) {
  auto r = lower(readInput("block_ptr.py"), "k",
                 {ptr(DType::F16), ptr(DType::F32), scal(DType::I32), scal(DType::I32), scal(DType::I32),
                  cst(32), cst(16)});
  ASSERT_TRUE(r.ok) << r.errors;
  // In the loop only the block pointer's offsets change: only they are carried (not the base pointer).
  EXPECT_TRUE(
      inOrder(r.ir, {"= for %", ": tensor<32x16xf32>, i32, i32 {", "make_range", "cmp", "{pred = \"lt\"}",
                     "cmp", "{pred = \"ge\"}", "and", "load", ": tensor<32x16xf16>", "add", "add", "yield"}));
  // The store checks only dim 0.
  size_t store = r.ir.find("store");
  ASSERT_NE(store, std::string::npos);
  std::string tail = r.ir.substr(r.ir.find("yield"));
  EXPECT_EQ(count(tail, "{pred = \"lt\"}"), 1u) << tail;
}

TEST(LowerErrors, Builtins) {
  EXPECT_ERROR("    x = tl.program_id(3)\n", "k.py:5:23: error: program_id axis must be 0, 1 or 2, got 3");
  EXPECT_ERROR("    x = tl.arange(8, 4)\n",
               "k.py:5:9: error: arange's end argument must be greater than the start");
  EXPECT_ERROR("    x = tl.arange(0, n)\n",
               "k.py:5:22: error: arange end must be a compile-time integer, got i32");
  EXPECT_ERROR("    x = tl.load(n)\n",
               "k.py:5:17: error: tl.load() expects a pointer or a tensor of pointers, got i32");
  EXPECT_ERROR("    tl.store(p, 1.0, mask=1.5)\n",
               "k.py:5:22: error: mask must be boolean (e.g. `offs < n`), got f32");
  EXPECT_ERROR("    tl.store(p + tl.arange(0, 8), 1.0, mask=tl.arange(0, 8))\n",
               "k.py:5:40: error: mask must be boolean (e.g. `offs < n`), got tensor<8xi32>");
  EXPECT_ERROR("    x = tl.reshape(tl.zeros((4, 4), tl.float32), (8, 4))\n",
               "k.py:5:9: error: cannot reshape tensor<4x4xf32> to shape [8, 4] (element counts differ)");
  EXPECT_ERROR("    x = tl.permute(tl.zeros((4, 4), tl.float32), (0, 0))\n",
               "k.py:5:9: error: tl.permute(): dims must be a permutation of 0..1");
  EXPECT_ERROR("    x = tl.split(tl.zeros((4, 4), tl.float32))\n",
               "k.py:5:9: error: tl.split needs a tensor whose last dimension is 2, got tensor<4x4xf32>");
  EXPECT_ERROR("    a = tl.zeros((16, 16), tl.float16)\n    x = tl.dot(a, a.to(tl.float32))\n",
               "k.py:6:9: error: tl.dot operands must have the same dtype, got fp16 and fp32");
  EXPECT_ERROR("    a = tl.zeros((2, 16, 16), tl.float16)\n    x = tl.dot(a, tl.zeros((4, 16, 16), tl.float16))\n",
               "k.py:6:9: error: a batched tl.dot needs two 3D tensors of one batch size, got "
               "tensor<2x16x16xf16> and tensor<4x16x16xf16>");
  EXPECT_ERROR("    x = tl.exp(tl.arange(0, 4))\n",
               "k.py:5:16: error: tl.exp() expects a floating-point tensor, got tensor<4xi32>");
  EXPECT_ERROR("    x = tl.zeros((4,), dtype=5)\n", "k.py:5:24: error: dtype must be a dtype, got int");
  EXPECT_ERROR("    x = tl.full((4,), tl.arange(0, 4), tl.int32)\n",
               "k.py:5:23: error: tl.full value must be a scalar, got tensor<4xi32>");
  EXPECT_ERROR("    for i in tl.static_range(n):\n        pass\n",
               "k.py:5:14: error: tl.static_range bounds must be compile-time integers, got i32");
  EXPECT_ERROR("    for i in range(0, n, 0):\n        pass\n",
               "k.py:5:14: error: range step must not be zero");
  EXPECT_ERROR("    for i in 5:\n        pass\n",
               "k.py:5:14: error: a for loop must iterate over range(...)");
  EXPECT_ERROR("    x = tl.reduce(tl.zeros((4,), tl.float32), 0, 3)\n",
               "k.py:5:50: error: combine_fn must be a @triton.jit function, got int");
  EXPECT_ERROR(
      "    x = tl.reduce(tl.zeros((4,), tl.float32), 0, f)\n@triton.jit\ndef f(a, b):\n    return a, b\n",
      "k.py:5:9: error: the combine_fn of tl.reduce() returned 2 values, expected 1");
  EXPECT_ERROR("    x = f(1, 2)\n@triton.jit\ndef f(a):\n    return a\n",
               "k.py:5:9: error: f() takes 1 arguments but 2 were given");
  EXPECT_ERROR("    x = f(b=2)\n@triton.jit\ndef f(a):\n    return a\n",
               "k.py:5:11: error: f() got an unexpected keyword argument 'b'");
  EXPECT_ERROR("    x = f()\n@triton.jit\ndef f(a):\n    return a\n",
               "k.py:5:9: error: f() missing required argument 'a'");
  EXPECT_ERROR("    x = f(1)\n@triton.jit\ndef f(a):\n    return f(a)\n",
               "error: calls nested more than 64 deep");
  EXPECT_ERROR("    x = tl.atomic_add(n, 1)\n", "k.py:5:23: error: tl.atomic_add() expects a pointer");
  EXPECT_ERROR("    x = n in (1, 2)\n",
               "k.py:5:9: error: 'in' / 'not in' are only supported on compile-time values");
  EXPECT_ERROR("    x = 1\n    x.foo\n", "k.py:6:5: error: int has no attribute 'foo'");
  EXPECT_ERROR("    x = tl.load(p).foo\n", "k.py:5:9: error: tensor has no attribute 'foo'");
  EXPECT_ERROR("    x = tl.extra.cuda.libdevice.byte_perm(n, n, n)\n",
               "k.py:5:9: error: 'libdevice.byte_perm' is not supported");
  EXPECT_ERROR("    x = tl.extra.libdevice.tanh(n)\n",
               "k.py:5:33: error: libdevice.tanh() expects a floating-point tensor, got i32");
  EXPECT_ERROR("    x = float(tl.load(p))\n", "k.py:5:15: error: float() of f32 is not supported");
  EXPECT_ERROR(
      "    x = tl.load(p)\n    if x:\n        pass\n    y = tl.arange(0, 4)\n    if y:\n        pass\n",
      "k.py:9:8: error: if condition must be a scalar, got tensor<4xi32>");
  EXPECT_ERROR("    def g():\n        pass\n",
               "k.py:5:5: error: nested function definitions are not supported");
  EXPECT_ERROR("    x = tl.make_block_ptr(p, (n,), (1,), (0, 0), (16,), (0,))\n",
               "k.py:5:42: error: tl.make_block_ptr: offsets must be a tuple of 1 values");
}

TEST(Lower, ReductionsShapesAndMethods) {
  const char *src = R"(
import triton.language as tl
@triton.jit
def k(p, q):
    a = tl.arange(0, 4)
    b = tl.interleave(a, a + 10)
    tl.static_assert(b.shape == (8,))
    c = tl.xor_sum(b, 0)
    d = b.reshape(2, 4).sum(axis=1, keep_dims=True)
    tl.static_assert(d.shape == (2, 1) and d.dtype == tl.int32)
    h = tl.load(q + tl.arange(0, 8)[:, None] * 8 + tl.arange(0, 8)[None, :])
    s = tl.sum(h)
    tl.static_assert(s.dtype == tl.float32 and len(s.shape) == 0)
    cs = tl.cumsum(h, axis=1, reverse=True)
    tl.static_assert(cs.dtype == tl.float32 and cs.shape == (8, 8))
    m = tl.max(h, axis=0, keep_dims=True)
    tl.static_assert(m.dtype == tl.float16 and m.shape == (1, 8))
    t = h.T.to(tl.float32)
    tl.static_assert(t.shape == (8, 8))
    tl.store(p, c + tl.sum(d))
)";
  auto r = lower(src, "k", {ptr(DType::I32), ptr(DType::F16)});
  ASSERT_TRUE(r.ok) << r.errors;
  EXPECT_TRUE(inOrder(r.ir, {"join",
                             ": tensor<4x2xi32>",
                             "reshape",
                             ": tensor<8xi32>",
                             "reduce",
                             "xor",
                             "reshape",
                             ": tensor<2x4xi32>",
                             "reduce",
                             "{axis = 1} : tensor<2xi32>",
                             "expand_dims",
                             "load",
                             "reshape",
                             ": tensor<64xf16>",
                             "cast",
                             ": tensor<64xf32>",
                             "reduce",
                             "cast",
                             ": tensor<8x8xf32>",
                             "scan",
                             "{axis = 1, reverse = 1}",
                             "reduce",
                             "{axis = 0} : tensor<8xf16>",
                             "max",
                             "expand_dims",
                             "trans",
                             "{order = [1, 0]}"}));
}

TEST(Lower, HelperModules) {
  SourceManager sm;
  uint32_t kf = sm.addBuffer("k.py", "import triton.language as tl\n@triton.jit\ndef k(p):\n"
                                     "    tl.store(p, twice(tl.load(p)))\n");
  uint32_t hf =
      sm.addBuffer("h.py", "import triton\nSCALE = 2\n@triton.jit\ndef twice(x):\n    return x * SCALE\n");
  Diagnostics diag(&sm);
  auto km = parseModule(sm, kf, diag);
  auto hm = parseModule(sm, hf, diag);
  ASSERT_TRUE(km && hm) << diag.renderAll();
  ir::TypeContext types;
  LowerInput in;
  in.module = km.get();
  in.kernelName = "k";
  in.args = {ptr(DType::F32)};
  in.helperModules = {hm.get()};
  auto m = lowerKernel(in, types, diag);
  ASSERT_TRUE(m) << diag.renderAll();
  EXPECT_TRUE(ir::verify(*m, diag)) << diag.renderAll();
  // SCALE resolves in the helper's own module.
  EXPECT_TRUE(inOrder(ir::toString(*m), {"load", "constant {value = 2.0} : f32", "mul", "store"}));
}

TEST(LowerControl, EarlyReturnWithValueInHelper) {
  const char *src = R"(
import triton
import triton.language as tl
@triton.jit
def sgn(x):
    if x > 0:
        return 1.0
    if x < 0:
        return -1.0
    return 0.0

@triton.jit
def k(p):
    v = tl.load(p)
    tl.store(p, sgn(v))
)";
  auto r = lower(src, "k", {ptr(DType::F32)});
  ASSERT_TRUE(r.ok) << r.errors;
  EXPECT_TRUE(inOrder(r.ir, {"load", "= if %", ": f32 {", "constant {value = 1.0}", "yield", "} else {",
                             "= if %", ": f32 {", "constant {value = -1.0}", "yield", "} else {",
                             "constant {value = 0.0}", "yield", "}", "yield", "}", "store"}));
  const char *bad = R"(
import triton
@triton.jit
def f(x):
    if x > 0:
        return 1.0
    y = x

@triton.jit
def k(p):
    f(p)
)";
  auto r2 = lower(bad, "k", {scal(DType::F32)});
  EXPECT_FALSE(r2.ok);
  EXPECT_NE(
      r2.errors.find("k.py:5:5: error: 'return value' has different compile-time values in the branches"),
      std::string::npos)
      << r2.errors;
}

TEST(LowerControl, UnrolledTupleLoops) {
  const char *src = R"(
import triton.language as tl
@triton.jit
def k(p, q):
    acc = tl.zeros((4,), tl.float32)
    for i, (ptr, w) in enumerate(zip((p, q), (2.0, 3.0))):
        acc += tl.load(ptr + tl.arange(0, 4)) * w + i
    tl.store(p + tl.arange(0, 4), acc)
)";
  auto r = lower(src, "k", {ptr(DType::F32), ptr(DType::F32)});
  ASSERT_TRUE(r.ok) << r.errors;
  EXPECT_EQ(count(r.ir, "= load"), 2u);
  EXPECT_EQ(count(r.ir, " for "), 0u);
  EXPECT_TRUE(
      inOrder(r.ir, {"load", "constant {value = 2.0}", "mul", "constant {value = 0.0}", "add", "add", "load",
                     "constant {value = 3.0}", "mul", "constant {value = 1.0}", "add", "add", "store"}));
}
