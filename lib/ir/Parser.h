// Reads the textual IR that ir/Printer.h writes (see the grammar at the top of Parser.cpp).
//
// Errors are reported to the Diagnostics at the file:line:col of the offending token; the parser
// then returns null. It never asserts or crashes on bad input. Types of op results come from the
// `: types` list; operand types come from their definitions. The parser checks syntax, names and
// region counts; everything else (operand counts, type rules, dominance) is the Verifier's job.
#pragma once

#include "ir/Operation.h"
#include "support/Diagnostics.h"

#include <memory>
#include <string>
#include <string_view>

namespace mt::ir {

/// Parses buffer `file` of `sources`. `loc("name":l:c)` suffixes register `name` (once per distinct
/// name, with empty text) in `sources` so that the ops' SourceLocs name that file; ops without a
/// `loc(...)` get their position in the IR buffer itself.
std::unique_ptr<Module> parseIR(SourceManager &sources, uint32_t file, TypeContext &types, Diagnostics &diag);

/// Convenience: registers `text` under `name` in `sources` and parses it.
std::unique_ptr<Module> parseIR(std::string_view text, std::string name, SourceManager &sources,
                                TypeContext &types, Diagnostics &diag);

} // namespace mt::ir
