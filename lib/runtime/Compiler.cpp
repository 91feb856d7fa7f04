#include "runtime/Compiler.h"

#include "frontend/Lower.h"
#include "frontend/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "transforms/Passes.h"

#include <iostream>

namespace mt::runtime {

bool runPipeline(ir::Function &f, const std::vector<std::string> &passes, const CompileOptions &opts,
                 Diagnostics &diag) {
  std::ostream &dump = opts.irDump ? *opts.irDump : std::cerr;
  for (const std::string &name : passes) {
    const transforms::PassInfo *pass = transforms::lookupPass(name);
    if (!pass) {
      diag.error({}, "unknown pass '" + name + "'");
      return false;
    }
    pass->run(f);
    if (opts.printIrAfterAll) {
      dump << "// ----- IR after " << name << " -----\n";
      ir::printFunction(f, dump);
    }
    if (!ir::verify(f, diag)) {
      diag.note({}, "the IR above was produced by pass '" + name + "' (an internal compiler error)");
      return false;
    }
  }
  return true;
}

Expected<CompiledModule> compileToIR(const KernelSource &src, const std::vector<ArgSpec> &args,
                                     const CompileOptions &opts, SourceManager &sources,
                                     ir::TypeContext &types) {
  Diagnostics diag(&sources);
  auto fail = [&]() { return Error{diag.renderAll()}; };
  // As in Triton: the layouts split tiles over warps in powers of two (3 warps compiled, unchecked).
  if (opts.numWarps < 1 || opts.numWarps > 32 || (opts.numWarps & (opts.numWarps - 1)) != 0)
    return Error{src.fileName + ": " + src.functionName +
                 ": num_warps must be a power of 2 from 1 to 32, got " + std::to_string(opts.numWarps)};

  uint32_t file = sources.addBuffer(src.fileName, src.text, src.lineOffset);
  std::unique_ptr<ast::Module> mainModule = parseModule(sources, file, diag);
  if (!mainModule || diag.hasErrors())
    return fail();
  std::vector<std::unique_ptr<ast::Module>> helpers;
  for (const auto &h : src.helpers) {
    uint32_t hf = sources.addBuffer(h.fileName, h.text, h.lineOffset);
    helpers.push_back(parseModule(sources, hf, diag));
    if (!helpers.back() || diag.hasErrors())
      return fail();
  }

  LowerInput input;
  input.module = mainModule.get();
  input.kernelName = src.functionName;
  input.args = args;
  for (const auto &h : helpers)
    input.helperModules.push_back(h.get());
  input.globals = src.globals;
  input.numWarps = opts.numWarps;
  CompiledModule out;
  out.module = lowerKernel(input, types, diag);
  if (!out.module || diag.hasErrors())
    return fail();
  out.function = out.module->functions().front().get();
  if (opts.printIrAfterAll) {
    std::ostream &dump = opts.irDump ? *opts.irDump : std::cerr;
    dump << "// ----- IR after lowering -----\n";
    ir::printFunction(*out.function, dump);
  }
  if (!ir::verify(*out.function, diag))
    return fail();
  if (opts.optimize) {
    const std::vector<std::string> &passes =
        opts.passes.empty() ? transforms::defaultPipeline() : opts.passes;
    if (!runPipeline(*out.function, passes, opts, diag))
      return fail();
  }
  return out;
}

} // namespace mt::runtime
