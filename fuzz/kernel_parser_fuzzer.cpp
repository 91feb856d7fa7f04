// libFuzzer target: the lexer, the parser and the AST dump must never crash, hang or leak on any input;
// bad input must come back as a null module with at least one error.
#include "frontend/AstDump.h"
#include "frontend/Parser.h"
#include "support/Diagnostics.h"
#include "support/SourceLoc.h"

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mt::SourceManager sources;
  uint32_t file = sources.addBuffer("fuzz.py", std::string(reinterpret_cast<const char *>(data), size));
  mt::Diagnostics diag(&sources);
  auto module = mt::parseModule(sources, file, diag);
  if (module) {
    std::string dump = mt::dumpAst(*module);
    if (dump.empty())
      std::abort();
  } else if (!diag.hasErrors()) {
    std::abort(); // a failed parse must say why
  }
  (void)diag.renderAll();
  return 0;
}
