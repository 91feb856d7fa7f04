// Shared fixture for the pass unit tests: one function `k` built with ir::Builder, printed for checks.
#pragma once

#include "ir/Builder.h"
#include "ir/Printer.h"

#include <gtest/gtest.h>

#include <string>

namespace mt::transforms::testing {

class PassTest : public ::testing::Test {
protected:
  void SetUp() override {
    f = m.addFunction("k", SourceLoc{});
    b.setInsertionPointToEnd(f->body());
  }

  const ir::Type *ty(ir::DType d) { return tc.scalar(d); }
  const ir::Type *block(ir::DType d, std::vector<int64_t> shape) { return tc.block(tc.scalar(d), shape); }
  const ir::Type *ptr(ir::DType d) { return tc.pointer(tc.scalar(d)); }

  ir::Value *param(const ir::Type *t, std::string name) {
    f->argNames().push_back(std::move(name));
    return f->body().addArgument(t);
  }
  /// for iv in range(0, ub, 1) carrying `inits` (the constants are made in order, lb first).
  ir::Operation *forLoop(ir::Value *ub, std::vector<ir::Value *> inits = {}) {
    ir::Value *lb = b.constI32(0);
    ir::Value *step = b.constI32(1);
    return b.createFor(lb, ub, step, std::move(inits));
  }
  void finish() { b.create(ir::OpKind::Return, {}, {}); }
  std::string ir() { return ir::toString(*f); }

  /// Number of ops of `kind` anywhere in the function.
  int count(ir::OpKind kind) {
    int n = 0;
    f->walk([&](ir::Operation *op) { n += op->kind() == kind; });
    return n;
  }

  ir::TypeContext tc;
  ir::Module m{tc};
  ir::Function *f = nullptr;
  ir::Builder b{tc};
};

} // namespace mt::transforms::testing
