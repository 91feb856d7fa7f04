// Prints IR in the textual form that ir/Parser.h reads back.
//
//   func @add_kernel(%x_ptr: ptr<f32>, %n: i32) {
//     %0 = program_id {axis = 0} : i32
//     %1 = make_range {end = 128, start = 0} : tensor<128xi32>
//     %2, %3 = for %lb, %ub, %step, %a, %b : f32, f32 {
//     ^bb(%4: i32, %5: f32, %6: f32):
//       yield %5, %6
//     }
//     store %p, %v
//     return
//   }
//
// Generic form for every op: `results = mnemonic operands {attrs} : result-types regions [loc(...)]`.
// Regions print as `{ ^bb(args): ops }`; an op with two regions separates them with ` else `.
#pragma once

#include "ir/Operation.h"

#include <ostream>
#include <string>

namespace mt {
class SourceManager;
}

namespace mt::ir {

struct PrintOptions {
  /// Append `loc("file":line:col)` to every op (needs `sources` to name the file).
  bool locations = false;
  const SourceManager *sources = nullptr;
};

void printModule(const Module &m, std::ostream &os, const PrintOptions &opts = {});
void printFunction(const Function &f, std::ostream &os, const PrintOptions &opts = {});
std::string toString(const Module &m, const PrintOptions &opts = {});
std::string toString(const Function &f, const PrintOptions &opts = {});
/// One op (and its regions) with values numbered locally; for error messages and debugging.
std::string toString(const Operation &op);

} // namespace mt::ir
