// mt-opt: reads tile IR, verifies it, runs passes in command-line order (verifying after each) and
// prints the result.
//
//   mt-opt [FILE|-] [-o OUT] [--cse] [--dce] ... [--pass-pipeline=a,b,c] [--print-ir-after-all]
//          [--verify-each|--no-verify-each] [--print-locations] [--list-passes]
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "transforms/Passes.h"

#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>

namespace {

bool readInput(const std::string &path, std::string &text) {
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), {});
    return true;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  text = ss.str();
  return true;
}

std::vector<std::string> splitCommas(const std::string &s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ',') {
      if (!cur.empty())
        out.push_back(cur);
      cur.clear();
    } else if (c != ' ') {
      cur += c;
    }
  }
  if (!cur.empty())
    out.push_back(cur);
  return out;
}

} // namespace

int main(int argc, char **argv) {
  using namespace mt;
  CLI::App app{"mt-opt: reads mini-triton tile IR, runs passes, prints IR"};
  std::string input = "-", output = "-", pipeline;
  bool printAfterAll = false, verifyEach = true, printLocations = false, listPasses = false;
  app.add_option("input", input, "IR file to read ('-' for stdin)");
  app.add_option("-o,--output", output, "Output file ('-' for stdout)");
  app.add_flag("--print-ir-after-all", printAfterAll, "Print the IR to stderr after every pass");
  app.add_flag("--verify-each,!--no-verify-each", verifyEach, "Verify the IR after every pass (default on)");
  app.add_flag("--print-locations", printLocations, "Print loc(\"file\":line:col) after every op");
  CLI::Option *pipelineOpt =
      app.add_option("--pass-pipeline", pipeline, "Comma-separated list of passes to run, in order");
  app.add_flag("--list-passes", listPasses, "List the registered passes and exit");
  std::map<const CLI::Option *, std::string> passFlags;
  for (const transforms::PassInfo &p : transforms::allPasses())
    passFlags[app.add_flag("--" + std::string(p.name))->description(std::string(p.description))] =
        std::string(p.name);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    return app.exit(e) == 0 ? 0 : 1; // --help exits 0; usage errors exit 1 like every other error
  }

  if (listPasses) {
    for (const transforms::PassInfo &p : transforms::allPasses())
      std::cout << "  --" << p.name << "  " << p.description << "\n";
    return 0;
  }

  // Passes in command-line order: each pass flag, and the pipeline's list where it was given.
  std::vector<std::string> passes;
  for (const CLI::Option *opt : app.parse_order()) {
    if (auto it = passFlags.find(opt); it != passFlags.end())
      passes.push_back(it->second);
    else if (opt == pipelineOpt)
      for (std::string &name : splitCommas(pipeline))
        passes.push_back(std::move(name));
  }
  for (const std::string &name : passes) {
    if (!transforms::lookupPass(name)) {
      std::cerr << "mt-opt: error: unknown pass '" << name << "' (see --list-passes)\n";
      return 1;
    }
  }

  std::string text;
  if (!readInput(input, text)) {
    std::cerr << "mt-opt: error: cannot read '" << input << "'\n";
    return 1;
  }
  SourceManager sources;
  Diagnostics diag(&sources);
  ir::TypeContext types;
  auto module = ir::parseIR(text, input == "-" ? "<stdin>" : input, sources, types, diag);
  auto failed = [&] {
    std::cerr << diag.renderAll();
    return 1;
  };
  if (!module || !ir::verify(*module, diag))
    return failed();

  ir::PrintOptions printOpts;
  printOpts.locations = printLocations;
  printOpts.sources = &sources;
  for (const std::string &name : passes) {
    const transforms::PassInfo *pass = transforms::lookupPass(name);
    for (const auto &f : module->functions())
      pass->run(*f);
    if (printAfterAll)
      std::cerr << "// -----// IR Dump After " << name << " //----- //\n" << ir::toString(*module, printOpts);
    if (verifyEach && !ir::verify(*module, diag)) {
      diag.note({}, "the IR failed to verify after pass '" + name + "'");
      return failed();
    }
  }

  std::string result = ir::toString(*module, printOpts);
  if (output == "-") {
    std::cout << result;
    return 0;
  }
  std::ofstream out(output, std::ios::binary);
  out << result;
  if (!out) {
    std::cerr << "mt-opt: error: cannot write '" << output << "'\n";
    return 1;
  }
  return 0;
}
