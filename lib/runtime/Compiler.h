// The compilation pipeline behind mt::Context, usable on its own by tools (mtc --emit=...).
#pragma once

#include "ir/Operation.h"
#include "mt/mt.h"
#include "support/Diagnostics.h"

#include <memory>

namespace mt::runtime {

struct CompiledModule {
  std::unique_ptr<ir::Module> module;
  ir::Function *function = nullptr; // the kernel, inside module
};

/// Parses the kernel (and helper) sources, lowers the kernel for `args`, verifies, runs the pass pipeline
/// (opts.passes, or the default one; none if !opts.optimize), verifies again. Source buffers are added to
/// `sources`; errors come back rendered.
Expected<CompiledModule> compileToIR(const KernelSource &src, const std::vector<ArgSpec> &args,
                                     const CompileOptions &opts, SourceManager &sources,
                                     ir::TypeContext &types);

/// Runs the named passes (verifying after each) on `f`; prints the IR after each when opts.printIrAfterAll.
/// Unknown pass names and verifier failures are reported to `diag`; returns false on error.
bool runPipeline(ir::Function &f, const std::vector<std::string> &passes, const CompileOptions &opts,
                 Diagnostics &diag);

} // namespace mt::runtime
