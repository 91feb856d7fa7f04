// Line info of the generated CUDA: `#line` directives map every generated line to the kernel-source line
// of its op (with the kernel's line offset), NVRTC's -lineinfo carries them into PTX `.file`/`.loc`, and an
// NVRTC error in such a source names kernel lines and the file the source was saved to. No GPU needed;
// the NVRTC parts skip where NVRTC cannot be loaded.
#include "backend/cuda/Emitter.h"
#include "backend/cuda/Nvrtc.h"
#include "runtime/Compiler.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

using namespace mt;

namespace {

// Lines 1.. of the buffer; with lineOffset 40 the kernel's `def` is line 42 of its file.
const char *kKernel = R"(import mini_triton as triton
import mini_triton.language as tl
@triton.jit
def scale_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)

    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask, other=0.0)
    s = tl.sum(x * x, axis=0)
    y = x * s + 1.0
    tl.store(y_ptr + offs, y, mask=mask)
)";
constexpr uint32_t kOffset = 40;

struct Emitted {
  std::string source;
  std::string error;
};

Emitted emit(const std::string &fileName, cuda::EmitOptions eo = {}, bool withSources = true) {
  KernelSource src;
  src.text = kKernel;
  src.fileName = fileName;
  src.lineOffset = kOffset;
  src.functionName = "scale_kernel";
  std::vector<ArgSpec> args = {ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32),
                               ArgSpec::scalar(DType::I32), ArgSpec::constant(int64_t(256))};
  SourceManager sources;
  ir::TypeContext types;
  auto compiled = runtime::compileToIR(src, args, CompileOptions{}, sources, types);
  if (!compiled)
    return {"", compiled.error().message};
  Diagnostics diag(withSources ? &sources : nullptr);
  auto k = cuda::emitCuda(*compiled->function, eo, diag);
  if (!k)
    return {"", diag.renderAll()};
  return {k->source, ""};
}

std::vector<std::string> splitLines(const std::string &s) {
  std::vector<std::string> lines;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);)
    lines.push_back(l);
  return lines;
}

/// The (file, line) the compiler attributes each non-directive line to, the way a C preprocessor counts:
/// a `#line N "f"` directive names the next line, each line after it counts on. Lines before the first
/// directive are left out.
std::vector<std::pair<std::string, uint32_t>> presumedLines(const std::string &source) {
  static const std::regex directive(R"re(^\s*#line (\d+)(?: "((?:[^"\\]|\\.)*)")?$)re");
  std::vector<std::pair<std::string, uint32_t>> out;
  std::string file;
  uint32_t next = 0;
  for (const std::string &l : splitLines(source)) {
    std::smatch m;
    if (std::regex_match(l, m, directive)) {
      next = uint32_t(std::stoul(m[1]));
      if (m[2].matched)
        file = m[2];
      continue;
    }
    if (!file.empty())
      out.push_back({file, next});
    ++next;
  }
  return out;
}

TEST(CudaLineInfo, DirectivesNameTheKernelFileAndShiftedLines) {
  Emitted e = emit("kernels/scale.py");
  ASSERT_TRUE(e.error.empty()) << e.error;
  // The first op (program_id, buffer line 5) opens with the full form; later lines change only the number.
  EXPECT_NE(e.source.find("#line 45 \"kernels/scale.py\"\n  mt::i32 v0 = (mt::i32)blockIdx.x;"),
            std::string::npos)
      << e.source;
  EXPECT_NE(e.source.find("#line 50\n"), std::string::npos) << e.source; // tl.sum(x * x)
  // The full form appears once: every op comes from the one file.
  int full = 0;
  for (const std::string &l : splitLines(e.source))
    full += l.find("#line") != std::string::npos && l.find('"') != std::string::npos;
  EXPECT_EQ(full, 1) << e.source;
}

TEST(CudaLineInfo, EveryGeneratedLineMapsToAStatementOfTheKernel) {
  Emitted e = emit("scale.py");
  ASSERT_TRUE(e.error.empty()) << e.error;
  auto presumed = presumedLines(e.source);
  ASSERT_GT(presumed.size(), 20u) << e.source;
  // Lines with a statement (1-based buffer lines 4..12 minus the blank line 7), shifted by the offset. A
  // multi-line op must not spill onto the lines after it (a blank line, or past the kernel's end).
  std::set<uint32_t> statements;
  for (uint32_t l : {4u, 5u, 6u, 8u, 9u, 10u, 11u, 12u})
    statements.insert(l + kOffset);
  std::map<uint32_t, int> perLine;
  for (const auto &[file, line] : presumed) {
    EXPECT_EQ(file, "scale.py");
    EXPECT_TRUE(statements.count(line)) << "a generated line attributed to line " << line << "\n" << e.source;
    ++perLine[line];
  }
  // The load, the reduction and the store each emit many lines; all of them keep their op's line.
  EXPECT_GT(perLine[9 + kOffset], 5) << e.source;
  EXPECT_GT(perLine[10 + kOffset], 5) << e.source;
  EXPECT_GT(perLine[12 + kOffset], 5) << e.source;
}

TEST(CudaLineInfo, NoDirectivesWhenOffOrWithoutSources) {
  Emitted off = emit("scale.py", {.numWarps = 4, .tensorCores = true, .lineDirectives = false});
  ASSERT_TRUE(off.error.empty()) << off.error;
  EXPECT_EQ(off.source.find("#line"), std::string::npos) << off.source;
  Emitted noSources = emit("scale.py", {}, /*withSources=*/false);
  ASSERT_TRUE(noSources.error.empty()) << noSources.error;
  EXPECT_EQ(noSources.source.find("#line"), std::string::npos) << noSources.source;
  // Apart from the directives the code is the same.
  std::string on = emit("scale.py").source;
  std::string stripped;
  for (const std::string &l : splitLines(on))
    if (l.find("#line") == std::string::npos)
      stripped += l + "\n";
  EXPECT_EQ(stripped, off.source);
}

TEST(CudaLineInfo, FileNameIsEscapedAsACStringLiteral) {
  Emitted e = emit("dir\\we\"ird\tna\nme.py");
  ASSERT_TRUE(e.error.empty()) << e.error;
  // Backslash, tab and newline escaped; the quote becomes ' (ptxas cannot read an escaped quote in .file).
  EXPECT_NE(e.source.find("#line 45 \"dir\\\\we'ird\\011na\\012me.py\"\n"), std::string::npos) << e.source;
  std::string why;
  if (!cuda::nvrtcAvailable(&why))
    GTEST_SKIP() << "NVRTC unavailable: " << why;
  auto cubin = cuda::compileCuda(e.source, "scale_kernel.cu", "sm_90a");
  EXPECT_TRUE(bool(cubin)) << (cubin ? "" : cubin.error().message);
}

TEST(CudaLineInfo, PtxLineInfoNamesTheKernelFile) {
  std::string why;
  if (!cuda::nvrtcAvailable(&why))
    GTEST_SKIP() << "NVRTC unavailable: " << why;
  Emitted e = emit("/work/kernels/scale_lineinfo.py");
  ASSERT_TRUE(e.error.empty()) << e.error;
  auto ptx = cuda::compileCudaToPtx(e.source, "scale_kernel.cu", "sm_90a");
  ASSERT_TRUE(bool(ptx)) << ptx.error();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(*ptx, m, std::regex(R"re(\.file\s+(\d+)\s+"[^"]*scale_lineinfo\.py")re")))
      << ptx->substr(0, 4000);
  std::string id = m[1];
  // Instructions of the load (line 49), the reduction (50) and the store (52) carry those lines.
  for (int line : {49, 50, 52})
    EXPECT_TRUE(
        std::regex_search(*ptx, std::regex("\\.loc\\s+" + id + "\\s+" + std::to_string(line) + "\\s")))
        << "no .loc for line " << line;
  // Without -lineinfo: no line table.
  cuda::NvrtcOptions plain;
  plain.lineInfo = false;
  auto bare = cuda::compileCudaToPtx(e.source, "scale_kernel.cu", "sm_90a", plain);
  ASSERT_TRUE(bool(bare)) << bare.error();
  EXPECT_EQ(bare->find(".loc"), std::string::npos);
  // The cubin the runtime loads carries the file name in its line table.
  auto cubin = cuda::compileCuda(e.source, "scale_kernel.cu", "sm_90a");
  ASSERT_TRUE(bool(cubin)) << cubin.error();
  EXPECT_NE(std::string(cubin->begin(), cubin->end()).find("scale_lineinfo.py"), std::string::npos);
}

TEST(CudaLineInfo, NvrtcErrorNamesKernelLineAndSavedSource) {
  std::string why;
  if (!cuda::nvrtcAvailable(&why))
    GTEST_SKIP() << "NVRTC unavailable: " << why;
  Emitted e = emit("scale.py");
  ASSERT_TRUE(e.error.empty()) << e.error;
  // A broken statement inside the tl.sum op's lines (as an emitter bug would produce).
  size_t at = e.source.find("#line 50\n");
  ASSERT_NE(at, std::string::npos) << e.source;
  std::string broken = e.source;
  broken.insert(at + 9, "  mt_undefined_name = 1;\n");
  std::string dir = (std::filesystem::temp_directory_path() / "mt_lineinfo_test").string();
  cuda::NvrtcOptions opts;
  opts.dumpDir = dir;
  auto r = cuda::compileCuda(broken, "scale_kernel.cu", "sm_90a", opts);
  ASSERT_FALSE(bool(r));
  const std::string &msg = r.error().message;
  EXPECT_NE(msg.find("scale.py(50)"), std::string::npos) << msg; // NVRTC's log, at the kernel line
  EXPECT_NE(msg.find("mt_undefined_name"), std::string::npos) << msg;
  EXPECT_NE(msg.find("#line directives"), std::string::npos) << msg;
  size_t p = msg.find(dir);
  ASSERT_NE(p, std::string::npos) << msg;
  std::string path = msg.substr(p, msg.find('\n', p) - p);
  std::ifstream in(path);
  std::stringstream saved;
  saved << in.rdbuf();
  EXPECT_EQ(saved.str(), broken) << path;
  std::filesystem::remove_all(dir);
}

} // namespace
