// End to end: user errors through the public API. Out-of-bounds accesses at run time (reported with
// the kernel's file:line:col, the argument and the index; nothing written), compile errors (syntax,
// types) rendered as `file:line:col: error: …` with the source line and a caret.
#include "E2EUtil.h"

#include <regex>

#include <sys/mman.h>

namespace mt::e2e {
namespace {

TEST(E2EErrors, OutOfBoundsStoreNamesLocationArgumentAndIndex) {
  const int64_t n = 1000, block = 256;
  Context ctx;
  KernelPtr k;
  ASSERT_COMPILES(k, compileFile(ctx, "oob.py", "copy_forgot_mask",
                                 {ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32),
                                  ArgSpec::forInt(n), ArgSpec::constant(block)}));
  Rng rng(91);
  Buffer src(DType::F32, n), dst(DType::F32, n, /*slack=*/block);
  rng.fill(src);
  dst.poison();
  std::vector<LaunchArg> args = {src.arg(), dst.arg(), LaunchArg::integer(n)};
  Status st = k->launch(Grid{cdiv(n, block)}, args);
  ASSERT_FALSE(st) << "an out-of-bounds store launched successfully";
  const std::string msg = st.error().message;

  LineCol at = findLineCol(readKernelFile("oob.py"), "tl.store(dst_ptr + offs, x)");
  ASSERT_GT(at.line, 0u);
  const std::string where = "oob.py:" + std::to_string(at.line) + ":" + std::to_string(at.col);
  EXPECT_NE(msg.find(where), std::string::npos) << "want " << where << " in:\n" << msg;
  EXPECT_NE(msg.find("dst_ptr"), std::string::npos) << "want the argument name in:\n" << msg;
  EXPECT_NE(msg.find(std::to_string(n)), std::string::npos) << "want the first bad index " << n << " in:\n"
                                                            << msg;

  // Nothing past the buffer was written, and the failing store wrote nothing (mt.h: "a failed store
  // writes nothing"), so the in-bounds part of the last block is still poisoned.
  EXPECT_TRUE(dst.slackUntouched()) << "the interpreter wrote past the end of dst";
  for (int64_t i = (n / block) * block; i < n; ++i)
    EXPECT_TRUE(dst.isPoisoned(i)) << "element " << i << " of the failing store was written";
}

TEST(E2EErrors, OutOfBoundsLoadIsReportedToo) {
  // The same kernel with a src shorter than n: the masked load reads past src.
  const int64_t n = 512, block = 256;
  Context ctx;
  KernelPtr k;
  ASSERT_COMPILES(k, compileFile(ctx, "oob.py", "copy_forgot_mask",
                                 {ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32),
                                  ArgSpec::forInt(n), ArgSpec::constant(block)}));
  Buffer src(DType::F32, 300), dst(DType::F32, n);
  Rng(92).fill(src);
  dst.poison();
  std::vector<LaunchArg> args = {src.arg(), dst.arg(), LaunchArg::integer(n)};
  Status st = k->launch(Grid{2}, args);
  ASSERT_FALSE(st);
  LineCol at = findLineCol(readKernelFile("oob.py"), "tl.load(src_ptr + offs");
  const std::string where = "oob.py:" + std::to_string(at.line) + ":" + std::to_string(at.col);
  EXPECT_NE(st.error().message.find(where), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("src_ptr"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("300"), std::string::npos) << st.error().message;
}

/// A large anonymous mapping that only costs the pages a kernel touches (MAP_NORESERVE): lets a
/// test pass a buffer of more than 2^31 elements.
class SparseBuffer {
public:
  explicit SparseBuffer(size_t bytes) : bytes_(bytes) {
    void *p =
        mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    data_ = p == MAP_FAILED ? nullptr : static_cast<float *>(p);
  }
  ~SparseBuffer() {
    if (data_)
      munmap(data_, bytes_);
  }
  SparseBuffer(const SparseBuffer &) = delete;
  SparseBuffer &operator=(const SparseBuffer &) = delete;
  float *data() const { return data_; }
  LaunchArg arg() const { return LaunchArg::buffer(static_cast<void *>(data_), bytes_); }

private:
  size_t bytes_;
  float *data_;
};

TEST(E2EErrors, Int32OffsetOverflowDoesNotWrapSilently) {
  // dst holds 4 * 2^30 + 16 floats (16 GiB of address space, a few pages touched). Program pid
  // writes row pid at pid * stride with stride = 2^30 (an int32 argument): pid * stride overflows
  // int32 from pid 2 on, and pid 4's product wraps to exactly 0, i.e. onto row 0. DESIGN.md: index
  // arithmetic must not wrap silently. Acceptable: promote (every row lands where it belongs), or
  // report the overflow. Not acceptable: a wrapped offset (row 0 overwritten with x + 4, or a
  // negative offset in the message).
  const int64_t stride = int64_t(1) << 30, cols = 10, block = 16, rows = 5;
  Context ctx;
  KernelPtr k;
  ASSERT_COMPILES(k, compileFile(ctx, "oob.py", "scatter_rows_i32_overflow",
                                 {ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32),
                                  ArgSpec::forInt(stride), ArgSpec::forInt(cols), ArgSpec::constant(block)}));
  SparseBuffer dst(((rows - 1) * stride + block) * sizeof(float));
  ASSERT_NE(dst.data(), nullptr) << "cannot map 16 GiB of address space";
  const float kPoison = -12345.0f;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      dst.data()[r * stride + c] = kPoison;
  Buffer src(DType::F32, cols);
  Rng(93).fill(src, 1.0, 2.0);
  std::vector<LaunchArg> args = {src.arg(), dst.arg(), LaunchArg::integer(stride), LaunchArg::integer(cols)};
  Status st = k->launch(Grid{static_cast<uint32_t>(rows)}, args);

  for (int64_t c = 0; c < cols; ++c) {
    float row0 = dst.data()[c];
    EXPECT_NE(row0, static_cast<float>(src.get(c) + 4))
        << "program 4's wrapped offset landed on row 0, col " << c;
  }
  if (st) {
    // Promoted: every row is where it belongs.
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        EXPECT_EQ(dst.data()[r * stride + c], static_cast<float>(src.get(c) + r))
            << "row " << r << " col " << c;
    return;
  }
  const std::string msg = st.error().message;
  EXPECT_NE(msg.find("overflow"), std::string::npos) << msg;
  LineCol at = findLineCol(readKernelFile("oob.py"), "tl.store(dst_ptr + pid * stride");
  EXPECT_NE(msg.find("oob.py:" + std::to_string(at.line) + ":"), std::string::npos) << msg;
  std::regex negative("-[0-9]{6,}");
  EXPECT_FALSE(std::regex_search(msg, negative)) << "a wrapped negative offset was reported:\n" << msg;
  for (int64_t c = 0; c < cols; ++c) {
    float row0 = dst.data()[c];
    EXPECT_TRUE(row0 == kPoison || row0 == static_cast<float>(src.get(c)))
        << "row 0 col " << c << ": " << row0;
  }
}

TEST(E2EErrors, Int64StrideDoesNotOverflow) {
  // The same kernel specialised for a stride that needs int64 (forInt gives i64): pid * stride is
  // 64-bit, so program 1 is simply out of bounds at index 2^31 + col, reported as such.
  const int64_t stride = int64_t(1) << 31, cols = 10, block = 16;
  Context ctx;
  KernelPtr k;
  ASSERT_COMPILES(k, compileFile(ctx, "oob.py", "scatter_rows_i32_overflow",
                                 {ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32),
                                  ArgSpec::forInt(stride), ArgSpec::forInt(cols), ArgSpec::constant(block)}));
  Buffer src(DType::F32, cols), dst(DType::F32, cols, block);
  Rng(94).fill(src, 1.0, 2.0);
  dst.poison();
  std::vector<LaunchArg> args = {src.arg(), dst.arg(), LaunchArg::integer(stride), LaunchArg::integer(cols)};
  Status st = k->launch(Grid{2}, args);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("2147483648"), std::string::npos) << st.error().message;
  EXPECT_TRUE(dst.slackUntouched());
}

KernelSource inlineSource(std::string fileName, std::string body, std::string function) {
  KernelSource src;
  src.text = "import triton\nimport triton.language as tl\n\n\n@triton.jit\n" + std::move(body);
  src.fileName = std::move(fileName);
  src.functionName = std::move(function);
  return src;
}

/// Expects a compile error at `file:line:` (any column), with an `error` label, the source line and
/// a caret line.
void expectCompileError(const KernelSource &src, const std::vector<ArgSpec> &specs, unsigned line,
                        const std::string &sourceLine, const std::string &mentions) {
  Context ctx;
  auto k = ctx.compile(src, specs);
  ASSERT_FALSE(k) << "compiled, but the kernel has an error";
  const std::string msg = k.error().message;
  std::regex loc(src.fileName + ":" + std::to_string(line) + ":[0-9]+: error");
  EXPECT_TRUE(std::regex_search(msg, loc)) << "want " << src.fileName << ":" << line << ":COL: error in:\n"
                                           << msg;
  EXPECT_NE(msg.find(sourceLine), std::string::npos) << "want the source line in:\n" << msg;
  EXPECT_TRUE(hasCaretLine(msg)) << "want a caret line in:\n" << msg;
  if (!mentions.empty()) {
    EXPECT_NE(msg.find(mentions), std::string::npos) << "want '" << mentions << "' in:\n" << msg;
  }
}

TEST(E2EErrors, SyntaxErrorHasLocationAndCaret) {
  KernelSource src = inlineSource("bad_syntax.py",
                                  "def bad_syntax(x_ptr, n, BLOCK: tl.constexpr):\n"
                                  "    offs = tl.arange(0, BLOCK)\n"
                                  "    x = tl.load(x_ptr + offs mask=offs < n)\n"
                                  "    tl.store(x_ptr + offs, x)\n",
                                  "bad_syntax");
  expectCompileError(src,
                     {ArgSpec::pointer(DType::F32), ArgSpec::forInt(100), ArgSpec::constant(int64_t(128))}, 8,
                     "x = tl.load(x_ptr + offs mask=offs < n)", "");
}

TEST(E2EErrors, UnclosedParenIsASyntaxError) {
  KernelSource src = inlineSource("unclosed.py",
                                  "def unclosed(x_ptr, BLOCK: tl.constexpr):\n"
                                  "    offs = tl.arange(0, BLOCK\n"
                                  "    tl.store(x_ptr + offs, 1.0)\n",
                                  "unclosed");
  Context ctx;
  auto k = ctx.compile(src, {ArgSpec::pointer(DType::F32), ArgSpec::constant(int64_t(16))});
  ASSERT_FALSE(k);
  EXPECT_TRUE(std::regex_search(k.error().message, std::regex("unclosed.py:[78]:[0-9]+: error")))
      << k.error().message;
  EXPECT_TRUE(hasCaretLine(k.error().message)) << k.error().message;
}

TEST(E2EErrors, TypeErrorPointerPlusFloat) {
  KernelSource src = inlineSource("type_error.py",
                                  "def type_error(x_ptr, out_ptr, BLOCK: tl.constexpr):\n"
                                  "    offs = tl.arange(0, BLOCK)\n"
                                  "    x = tl.load(x_ptr + offs * 1.5)\n"
                                  "    tl.store(out_ptr + offs, x)\n",
                                  "type_error");
  expectCompileError(
      src, {ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32), ArgSpec::constant(int64_t(16))}, 8,
      "x = tl.load(x_ptr + offs * 1.5)", "");
}

TEST(E2EErrors, TypeErrorDotShapeMismatch) {
  KernelSource src = inlineSource("dot_shapes.py",
                                  "def dot_shapes(a_ptr, c_ptr):\n"
                                  "    r = tl.arange(0, 16)\n"
                                  "    c = tl.arange(0, 32)\n"
                                  "    a = tl.load(a_ptr + r[:, None] * 32 + c[None, :])\n"
                                  "    acc = tl.dot(a, a)\n"
                                  "    tl.store(c_ptr + r[:, None] * 32 + c[None, :], acc)\n",
                                  "dot_shapes");
  expectCompileError(src, {ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32)}, 10,
                     "acc = tl.dot(a, a)", "");
}

TEST(E2EErrors, UndefinedNameIsNamed) {
  KernelSource src = inlineSource("undefined.py",
                                  "def undefined(x_ptr, BLOCK: tl.constexpr):\n"
                                  "    offs = tl.arange(0, BLOCK)\n"
                                  "    tl.store(x_ptr + offs, not_defined_anywhere)\n",
                                  "undefined");
  expectCompileError(src, {ArgSpec::pointer(DType::F32), ArgSpec::constant(int64_t(16))}, 8,
                     "tl.store(x_ptr + offs, not_defined_anywhere)", "not_defined_anywhere");
}

TEST(E2EErrors, NonPowerOfTwoArangeIsAnError) {
  // Triton requires power-of-two tile extents; BLOCK = 100 must be rejected, at the arange.
  Context ctx;
  auto k =
      compileFile(ctx, "vector_add.py", "add_kernel",
                  {ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32),
                   ArgSpec::forInt(1000), ArgSpec::constant(int64_t(100))});
  ASSERT_FALSE(k);
  LineCol at = findLineCol(readKernelFile("vector_add.py"), "tl.arange(0, BLOCK_SIZE)");
  EXPECT_NE(k.error().message.find("vector_add.py:" + std::to_string(at.line) + ":"), std::string::npos)
      << k.error().message;
}

TEST(E2EErrors, MissingFileIsAnError) {
  auto src = KernelSource::fromFile(kernelPath("does_not_exist.py"), "k");
  ASSERT_FALSE(src);
  EXPECT_NE(src.error().message.find("does_not_exist.py"), std::string::npos) << src.error().message;
}

TEST(E2EErrors, WrongNumberOfArgSpecsIsAnError) {
  Context ctx;
  auto k = compileFile(ctx, "vector_add.py", "add_kernel", {ArgSpec::pointer(DType::F32)});
  ASSERT_FALSE(k);
  EXPECT_FALSE(k.error().message.empty());
}

} // namespace
} // namespace mt::e2e
