// mtc: the mini-triton compiler driver.
//
//   mtc FILE --emit=ast                       parse FILE and print its AST (see lib/frontend/AstDump.h)
//   mtc FILE -k NAME --emit=ir  ARGS...       lower kernel NAME for ARGS and print the tile IR
//   mtc FILE -k NAME --emit=ir-opt ARGS...    ... after the optimisation pipeline (--print-ir-after-all)
//   mtc FILE -k NAME --emit=cuda ARGS...      ... and the CUDA C++ the GPU backend generates (--num-warps),
//                                             with #line directives to FILE (--no-line-directives)
//   mtc FILE -k NAME --run ARGS... --grid X,Y,Z   run it on the CPU with random inputs
//   mtc FILE --run                            run every `# mtc-run:` line of FILE (see KernelArgs.h)
//
// ARGS are `--arg name=spec` (or positional after the file): `x=*fp32:1000` a pointer to a buffer of 1000
// fp32, `n=i32:1000` a scalar, `BLOCK=128` a constexpr. Errors are printed as `file:line:col: error: msg`,
// the source line and a caret, and the exit code is 1.
#include "KernelArgs.h"
#include "backend/cuda/Emitter.h"

#include "frontend/AstDump.h"
#include "frontend/Parser.h"
#include "ir/Printer.h"
#include "mt/mt.h"
#include "runtime/Compiler.h"
#include "support/Diagnostics.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

namespace {

struct Options {
  std::string input;
  std::string emit; // default: ast without a kernel, ir-opt with one
  std::string kernel;
  std::vector<std::string> args;
  std::string grid;
  std::string passes;
  bool run = false;
  bool printIrAfterAll = false;
  bool noLineDirectives = false;
  int numWarps = 4;
  int numStages = 3;
  bool locations = false;
  bool noPrefetch = false;
  int prefetchDepth = 2;
  bool wgmma = false;
  bool mbarrier = false;
  bool pingPong = false;
  bool rotate = false;
  bool affineRings = false;
  bool waitFirst = false;
  size_t pipeKb = 192;
  bool noStrip = false;
  int repeat = 1;
};

bool readFile(const std::string &path, std::string &text) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  text = ss.str();
  return true;
}

int emitAst(mt::SourceManager &sources, uint32_t file) {
  mt::Diagnostics diag(&sources);
  std::unique_ptr<mt::ast::Module> module = mt::parseModule(sources, file, diag);
  if (!module) {
    std::cerr << diag.renderAll();
    return 1;
  }
  std::cout << mt::dumpAst(*module);
  return 0;
}

mt::CompileOptions compileOptions(const Options &opts) {
  mt::CompileOptions co;
  co.printIrAfterAll = opts.printIrAfterAll;
  co.irDump = &std::cout;
  co.optimize = opts.emit != "ir";
  std::stringstream ss(opts.passes);
  for (std::string p; std::getline(ss, p, ',');)
    if (!p.empty())
      co.passes.push_back(p);
  return co;
}

int emitIr(const Options &opts, const mt::KernelSource &src, const mtc::KernelArgs &ka) {
  mt::SourceManager sources;
  mt::ir::TypeContext types;
  auto compiled = mt::runtime::compileToIR(src, ka.specs, compileOptions(opts), sources, types);
  if (!compiled) {
    std::cerr << compiled.error().message;
    return 1;
  }
  if (opts.printIrAfterAll)
    return 0;
  if (opts.emit == "cuda") {
    mt::Diagnostics diag(&sources);
    mt::cuda::EmitOptions eo;
    eo.numWarps = opts.numWarps;
    eo.numStages = opts.numStages;
    eo.lineDirectives = !opts.noLineDirectives;
    eo.prefetchLoads = !opts.noPrefetch;
    eo.prefetchDepth = opts.prefetchDepth;
    eo.wgmma = opts.wgmma;
    eo.mbarrierRings = opts.mbarrier;
    eo.pingPong = opts.pingPong;
    eo.rotate = opts.rotate;
    eo.affineRings = opts.affineRings;
    eo.waitFirst = opts.waitFirst;
    eo.maxPipeBytes = opts.pipeKb * 1024;
    eo.stripLayouts = !opts.noStrip;
    auto k = mt::cuda::emitCuda(*compiled->function, eo, diag);
    if (!k) {
      std::cerr << diag.renderAll();
      return 1;
    }
    std::cout << k->source;
    return 0;
  }
  mt::ir::PrintOptions po;
  po.locations = opts.locations;
  po.sources = &sources;
  mt::ir::printModule(*compiled->module, std::cout, po);
  return 0;
}

int runKernel(const Options &opts, mt::Context &ctx, const mt::KernelSource &src, mtc::KernelArgs &ka) {
  auto kernel = ctx.compile(src, ka.specs, compileOptions(opts));
  if (!kernel) {
    std::cerr << kernel.error().message;
    return 1;
  }
  mt::Status st;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < opts.repeat && st; ++i)
    st = (*kernel)->launch(ka.grid, ka.launchArgs);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (!st) {
    std::cerr << st.error().message;
    return 1;
  }
  std::cout << src.functionName << ": grid (" << ka.grid.x << ", " << ka.grid.y << ", " << ka.grid.z << "), "
            << ms / opts.repeat << " ms per launch on the CPU interpreter\n";
  std::cout << ka.summary();
  return 0;
}

int dispatch(const Options &opts) {
  std::string text;
  if (!readFile(opts.input, text)) {
    std::cerr << "mtc: error: cannot read '" << opts.input << "'\n";
    return 1;
  }
  if (opts.emit == "ast" ||
      (opts.emit.empty() && opts.kernel.empty() && !opts.run && !opts.printIrAfterAll)) {
    mt::SourceManager sources;
    return emitAst(sources, sources.addBuffer(opts.input, text));
  }
  // Each invocation: a kernel name + its args, from the command line or from the file's `# mtc-run:` lines.
  std::vector<mtc::Invocation> invocations;
  std::string err;
  if (!opts.kernel.empty()) {
    invocations.push_back({opts.kernel, opts.args, opts.grid});
  } else if (!mtc::invocationsFromFile(text, invocations) || invocations.empty()) {
    std::cerr << "mtc: error: no kernel given (-k NAME) and no `# mtc-run:` line in '" << opts.input << "'\n";
    return 1;
  }
  mt::Context ctx;
  for (const mtc::Invocation &inv : invocations) {
    mt::KernelSource src;
    src.text = text;
    src.fileName = opts.input;
    src.functionName = inv.kernel;
    mtc::KernelArgs ka;
    if (!mtc::buildKernelArgs(text, opts.input, inv, ka, err)) {
      std::cerr << "mtc: error: " << err << "\n";
      return 1;
    }
    int rc = opts.run ? runKernel(opts, ctx, src, ka) : emitIr(opts, src, ka);
    if (rc)
      return rc;
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"mtc: the mini-triton kernel compiler"};
  Options opts;
  app.add_option("file", opts.input, "Kernel source file (Python subset)")->required();
  app.add_option("args", opts.args, "Kernel arguments name=spec (same as --arg)");
  app.add_option(
         "--emit", opts.emit,
         "What to print: ast, ir (as lowered), ir-opt (after the pipeline), cuda (generated CUDA C++)")
      ->check(CLI::IsMember({"ast", "ir", "ir-opt", "cuda"}));
  app.add_option("--num-warps", opts.numWarps, "Warps per program for --emit=cuda (a power of 2, 1 to 32)")
      ->check(CLI::IsMember({1, 2, 4, 8, 16, 32}));
  app.add_option("--num-stages", opts.numStages, "Pipeline depth for --emit=cuda (cp.async; < 2: none)");
  app.add_flag("--no-line-directives", opts.noLineDirectives,
               "--emit=cuda without the #line directives that map it to the kernel source");
  app.add_flag("--wgmma", opts.wgmma,
               "--emit=cuda: tensor-core dots as sm_90a warpgroup MMAs where they fit");
  app.add_flag("--mbarrier", opts.mbarrier,
               "--emit=cuda with --wgmma: rings of synchronous warpgroup-MMA loops signalled by mbarriers");
  app.add_flag(
      "--ping-pong", opts.pingPong,
      "--emit=cuda with --mbarrier: the two warpgroups of such loops take turns at the tensor cores");
  app.add_flag("--rotate", opts.rotate,
               "--emit=cuda with --mbarrier: a loop's second product (A from registers) issued one iteration "
               "late, with the next one's first");
  app.add_flag("--affine-rings", opts.affineRings,
               "--emit=cuda: ring copies of addresses affine in the loop variable from running pointers");
  app.add_flag("--wait-first", opts.waitFirst,
               "--emit=cuda: in loops with products in flight, wait for the last iteration's before the next "
               "copies");
  app.add_option("--pipe-kb", opts.pipeKb,
                 "--emit=cuda: shared memory (KiB) one pipelined loop's rings may take")
      ->check(CLI::Range(16, 227));
  app.add_flag("--no-prefetch", opts.noPrefetch, "--emit=cuda: issue every load where it stands");
  app.add_flag("--no-strip", opts.noStrip,
               "--emit=cuda: keep axis-0 scans and reductions in the blocked layout");
  app.add_option("--prefetch-depth", opts.prefetchDepth,
                 "--emit=cuda: iterations loop loads run ahead, at most");
  app.add_option("-k,--kernel", opts.kernel, "Kernel (function) name");
  app.add_option("--arg", opts.args, "name=spec: *fp32:N pointer to N elements, i32:V scalar, V constexpr");
  app.add_option("--grid", opts.grid, "Launch grid X[,Y[,Z]] for --run");
  app.add_option("--passes", opts.passes, "Comma-separated pass list instead of the default pipeline");
  app.add_option("--repeat", opts.repeat, "Launches to time with --run")->check(CLI::PositiveNumber);
  app.add_flag("--run", opts.run, "Run the kernel on the CPU with random inputs");
  app.add_flag("--print-ir-after-all", opts.printIrAfterAll, "Print the IR after lowering and each pass");
  app.add_flag("--print-locations", opts.locations, "Print loc(...) after each op");
  CLI11_PARSE(app, argc, argv);
  try {
    return dispatch(opts);
  } catch (const mt::CompileAbort &) {
    std::cerr << "mtc: compilation aborted\n";
    return 1;
  }
}
