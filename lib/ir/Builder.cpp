#include "ir/Builder.h"

#include "support/Diagnostics.h"

namespace mt::ir {

void Builder::setInsertionPoint(Operation *op) {
  block_ = op->parentBlock();
  pos_ = block_->find(op);
}

Operation *Builder::create(OpKind kind, std::vector<Value *> operands,
                           const std::vector<const Type *> &results, std::vector<NamedAttr> attrs) {
  MT_ASSERT(block_) << "builder has no insertion point";
  for (Value *v : operands)
    MT_ASSERT(v) << "null operand to " << mnemonic(kind);
  return block_->insert(pos_, Operation::create(kind, loc_, std::move(operands), results, std::move(attrs)));
}

Value *Builder::create1(OpKind kind, std::vector<Value *> operands, const Type *result,
                        std::vector<NamedAttr> attrs) {
  return create(kind, std::move(operands), {result}, std::move(attrs))->result(0);
}

Value *Builder::constInt(const Type *type, int64_t v) {
  return create1(OpKind::Constant, {}, type, {{"value", v}});
}

Value *Builder::constFloat(const Type *type, double v) {
  return create1(OpKind::Constant, {}, type, {{"value", v}});
}

Value *Builder::binary(OpKind kind, Value *a, Value *b) {
  MT_ASSERT(a->type() == b->type() || kind == OpKind::AddPtr)
      << mnemonic(kind) << " operands differ: " << a->type()->str() << " vs " << b->type()->str();
  return create1(kind, {a, b}, a->type());
}

Value *Builder::cmp(std::string_view pred, Value *a, Value *b) {
  MT_ASSERT(a->type() == b->type()) << "cmp operands differ";
  return create1(OpKind::Cmp, {a, b}, types_.withDType(a->type(), DType::I1), {{"pred", std::string(pred)}});
}

Value *Builder::unary(OpKind kind, Value *a) { return create1(kind, {a}, a->type()); }

Value *Builder::select(Value *cond, Value *a, Value *b) {
  return create1(OpKind::Select, {cond, a, b}, a->type());
}

Value *Builder::cast(Value *v, DType to) {
  if (v->type()->dtype() == to && !v->type()->isPointerLike())
    return v;
  return create1(OpKind::Cast, {v}, types_.withDType(v->type(), to));
}

Value *Builder::broadcastTo(Value *v, const std::vector<int64_t> &shape) {
  const Type *t = v->type();
  if (t->shape() == shape)
    return v;
  const Type *result = types_.block(t->scalarType(), shape);
  if (!t->isBlock())
    return create1(OpKind::Splat, {v}, result);
  return create1(OpKind::Broadcast, {v}, result);
}

Value *Builder::makeRange(int64_t start, int64_t end) {
  return create1(OpKind::MakeRange, {}, types_.block(scalar(DType::I32), {end - start}),
                 {{"start", start}, {"end", end}});
}

Value *Builder::programId(int axis) {
  return create1(OpKind::ProgramId, {}, scalar(DType::I32), {{"axis", int64_t(axis)}});
}

Value *Builder::load(Value *ptr, Value *mask, Value *other) {
  std::vector<Value *> ops{ptr};
  if (mask)
    ops.push_back(mask);
  if (other)
    ops.push_back(other);
  const Type *elem = ptr->type()->scalarType()->element();
  return create1(OpKind::Load, ops, types_.withElement(ptr->type(), elem));
}

void Builder::store(Value *ptr, Value *value, Value *mask) {
  std::vector<Value *> ops{ptr, value};
  if (mask)
    ops.push_back(mask);
  create(OpKind::Store, ops, {});
}

void Builder::yield(std::vector<Value *> values) { create(OpKind::Yield, std::move(values), {}); }

Operation *Builder::createFor(Value *lb, Value *ub, Value *step, std::vector<Value *> inits) {
  std::vector<Value *> operands{lb, ub, step};
  std::vector<const Type *> resultTypes;
  for (Value *v : inits) {
    operands.push_back(v);
    resultTypes.push_back(v->type());
  }
  Operation *op = create(OpKind::For, operands, resultTypes);
  Block &body = op->body();
  body.addArgument(lb->type());
  for (const Type *t : resultTypes)
    body.addArgument(t);
  return op;
}

Operation *Builder::createIf(Value *cond, const std::vector<const Type *> &resultTypes) {
  return create(OpKind::If, {cond}, resultTypes);
}

} // namespace mt::ir
