// Builds IR at an insertion point. Thin: result types of elementwise ops follow their operands; the
// frontend is responsible for broadcasting and promotion before it calls these.
#pragma once

#include "ir/Operation.h"

namespace mt::ir {

class Builder {
public:
  explicit Builder(TypeContext &types) : types_(types) {}

  TypeContext &types() { return types_; }
  void setInsertionPointToEnd(Block &b) {
    block_ = &b;
    pos_ = b.operations().end();
  }
  void setInsertionPoint(Block &b, Block::iterator pos) {
    block_ = &b;
    pos_ = pos;
  }
  /// Inserts before `op`.
  void setInsertionPoint(Operation *op);
  Block *insertionBlock() const { return block_; }
  Block::iterator insertionPoint() const { return pos_; }
  void setLoc(SourceLoc loc) { loc_ = loc; }
  SourceLoc loc() const { return loc_; }

  /// Creates and inserts any op.
  Operation *create(OpKind kind, std::vector<Value *> operands, const std::vector<const Type *> &results,
                    std::vector<NamedAttr> attrs = {});
  /// Creates an op with exactly one result and returns it.
  Value *create1(OpKind kind, std::vector<Value *> operands, const Type *result,
                 std::vector<NamedAttr> attrs = {});

  // ---- Conveniences ----
  const Type *scalar(DType d) { return types_.scalar(d); }
  Value *constInt(const Type *type, int64_t v);
  Value *constFloat(const Type *type, double v);
  Value *constI32(int64_t v) { return constInt(scalar(DType::I32), v); }
  Value *constBool(bool v) { return constInt(scalar(DType::I1), v ? 1 : 0); }
  /// Binary elementwise op; the result has a's type (i1 of a's shape for Cmp).
  Value *binary(OpKind kind, Value *a, Value *b);
  Value *cmp(std::string_view pred, Value *a, Value *b);
  Value *unary(OpKind kind, Value *a);
  Value *select(Value *cond, Value *a, Value *b);
  Value *cast(Value *v, DType to);
  /// Scalar → block of `shape` (splat), or block → block of `shape` (broadcast); no-op if same shape.
  Value *broadcastTo(Value *v, const std::vector<int64_t> &shape);
  Value *makeRange(int64_t start, int64_t end);
  Value *programId(int axis);
  Value *load(Value *ptr, Value *mask = nullptr, Value *other = nullptr);
  void store(Value *ptr, Value *value, Value *mask = nullptr);
  void yield(std::vector<Value *> values);

  /// `for iv in range(lb, ub, step)` carrying `inits`: the body block gets arguments (iv, iters...)
  /// and no terminator; the caller fills it and ends it with yield.
  Operation *createFor(Value *lb, Value *ub, Value *step, std::vector<Value *> inits);
  /// `if cond` with results of `resultTypes`; both regions start empty.
  Operation *createIf(Value *cond, const std::vector<const Type *> &resultTypes);

private:
  TypeContext &types_;
  Block *block_ = nullptr;
  Block::iterator pos_;
  SourceLoc loc_;
};

/// Restores the builder's insertion point when it goes out of scope.
class InsertionGuard {
public:
  explicit InsertionGuard(Builder &b) : b_(b), block_(b.insertionBlock()), pos_(b.insertionPoint()) {}
  ~InsertionGuard() {
    if (block_)
      b_.setInsertionPoint(*block_, pos_);
  }

private:
  Builder &b_;
  Block *block_;
  Block::iterator pos_;
};

} // namespace mt::ir
