// mtc: the mini-triton compiler driver.
//
//   mtc FILE --emit=ast     parse FILE and print its AST (see lib/frontend/AstDump.h)
//
// Errors are printed as `file:line:col: error: msg`, the source line and a caret, and the exit code is 1.
// Each `--emit` value is one `emitX` function below; `dispatch` picks it.
#include "frontend/AstDump.h"
#include "frontend/Parser.h"
#include "support/Diagnostics.h"
#include "support/SourceLoc.h"

#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

namespace {

struct Options {
  std::string input;
  std::string emit = "ast";
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

int reportErrors(const mt::Diagnostics &diag) {
  std::cerr << diag.renderAll();
  return 1;
}

int emitAst(const Options &opts, mt::SourceManager &sources, uint32_t file) {
  mt::Diagnostics diag(&sources);
  std::unique_ptr<mt::ast::Module> module = mt::parseModule(sources, file, diag);
  if (!module)
    return reportErrors(diag);
  std::cout << mt::dumpAst(*module);
  if (diag.hasErrors() || !diag.all().empty())
    std::cerr << diag.renderAll();
  return 0;
}

int dispatch(const Options &opts) {
  std::string text;
  if (!readFile(opts.input, text)) {
    std::cerr << "mtc: error: cannot read '" << opts.input << "'\n";
    return 1;
  }
  mt::SourceManager sources;
  uint32_t file = sources.addBuffer(opts.input, std::move(text));
  if (opts.emit == "ast")
    return emitAst(opts, sources, file);
  std::cerr << "mtc: error: unknown --emit value '" << opts.emit << "'\n";
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"mtc: the mini-triton kernel compiler"};
  Options opts;
  app.add_option("file", opts.input, "Kernel source file (Python subset)")->required();
  app.add_option("--emit", opts.emit, "What to print: ast")
      ->check(CLI::IsMember({"ast"}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    return dispatch(opts);
  } catch (const mt::CompileAbort &) {
    std::cerr << "mtc: compilation aborted\n";
    return 1;
  }
}
