// libFuzzer target for the IR parser and verifier: arbitrary bytes must never crash, hang or leak.
// For input that parses and verifies, printing must round-trip: print → parse → print is stable.
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace mt;
  SourceManager sources;
  Diagnostics diag(&sources);
  ir::TypeContext types;
  auto module = ir::parseIR(std::string_view(reinterpret_cast<const char *>(data), size), "fuzz.mtir",
                            sources, types, diag);
  (void)diag.renderAll();
  if (!module || !ir::verify(*module, diag))
    return 0;
  std::string first = ir::toString(*module);
  auto again = ir::parseIR(first, "printed.mtir", sources, types, diag);
  if (!again || !ir::verify(*again, diag) || ir::toString(*again) != first) {
    std::fprintf(stderr, "round trip failed:\n%s\n%s", first.c_str(), diag.renderAll().c_str());
    std::abort();
  }
  return 0;
}
