// Builds small kernels with ir::Builder and runs them on the CPU interpreter.
#pragma once

#include "backend/cpu/Interpreter.h"
#include "ir/Builder.h"
#include "support/SourceLoc.h"

#include <random>
#include <string>
#include <vector>

namespace mt::cpu::test {

using namespace mt::ir;

inline ThreadPool &testPool() {
  static ThreadPool pool(2);
  return pool;
}

struct Kernel {
  TypeContext tc;
  SourceManager sm;
  Module m{tc};
  Function *f;
  Builder b{tc};
  uint32_t file = 0;

  explicit Kernel(const char *name = "k", std::string source = "") {
    f = m.addFunction(name, {});
    b.setInsertionPointToEnd(f->body());
    if (!source.empty())
      file = sm.addBuffer("kernel.py", std::move(source));
  }
  /// Subsequent ops get file:line:col of the registered source.
  void at(uint32_t line, uint32_t col) { b.setLoc(SourceLoc{file, line, col}); }
  const Type *s(DType d) { return tc.scalar(d); }
  const Type *tile(DType d, std::vector<int64_t> shape) { return tc.block(tc.scalar(d), shape); }
  Value *ptrArg(DType d, const std::string &name) {
    f->argNames().push_back(name);
    return f->body().addArgument(tc.pointer(tc.scalar(d)));
  }
  Value *scalarArg(DType d, const std::string &name) {
    f->argNames().push_back(name);
    return f->body().addArgument(tc.scalar(d));
  }
  Value *c32(int64_t v) { return b.constI32(v); }
  Value *cst(const Type *t, double v) { return b.constFloat(t, v); }
  Value *add(Value *x, Value *y) { return b.binary(OpKind::Add, x, y); }
  Value *mul(Value *x, Value *y) { return b.binary(OpKind::Mul, x, y); }
  /// base (scalar pointer) + offsets (int tile) → pointer tile.
  Value *ptrs(Value *base, Value *offsets) {
    return b.binary(OpKind::AddPtr, b.broadcastTo(base, offsets->type()->shape()), offsets);
  }
  Value *expandDims(Value *v, int axis) {
    std::vector<int64_t> shape = v->type()->shape();
    shape.insert(shape.begin() + axis, 1);
    return b.create1(OpKind::ExpandDims, {v}, tc.block(v->type()->scalarType(), shape),
                     {{"axis", int64_t(axis)}});
  }
  /// Row-major offsets of an [R, C] tile with row stride `stride`: r * stride + c.
  Value *offsets2d(int64_t R, int64_t C, Value *stride) {
    Value *rows = expandDims(b.makeRange(0, R), 1);
    Value *cols = expandDims(b.makeRange(0, C), 0);
    Value *rs = mul(b.broadcastTo(rows, {R, C}), b.broadcastTo(stride, {R, C}));
    return add(rs, b.broadcastTo(cols, {R, C}));
  }
  /// A combine region `(a, b) -> kind(a, b)` on `op` whose operand element type is `t`.
  void simpleCombine(Operation *op, OpKind kind, const Type *t) {
    Block &blk = op->body();
    Value *x = blk.addArgument(t);
    Value *y = blk.addArgument(t);
    InsertionGuard g(b);
    b.setInsertionPointToEnd(blk);
    b.yield({b.binary(kind, x, y)});
  }
  void ret() { b.create(OpKind::Return, {}, {}); }
  Status run(Grid grid, std::vector<LaunchArg> args) { return runKernel(*f, grid, args, &sm, testPool()); }
};

inline std::vector<float> randomFloats(size_t n, unsigned seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float &x : v)
    x = d(rng);
  return v;
}

} // namespace mt::cpu::test
