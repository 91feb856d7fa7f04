// Tests of the lowering (lib/frontend/Lower.h): kernels from source to printed IR, the typing rules
// (promotion, weak literals, broadcasting), compile-time evaluation, and the error messages.
#include "frontend/Lower.h"
#include "frontend/Parser.h"
#include "ir/Printer.h"

#include <gtest/gtest.h>

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
