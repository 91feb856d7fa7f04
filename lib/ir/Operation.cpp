#include "ir/Operation.h"

#include "support/Diagnostics.h"

#include <algorithm>

namespace mt::ir {

static const OpInfo kOpInfos[] = {
#define OP(Kind, Mnemonic, NumOperands, NumResults, NumRegions, Traits)                                      \
  {Mnemonic, NumOperands, NumResults, NumRegions, static_cast<unsigned>(Traits)},
#include "ir/Ops.def"
#undef OP
};

const OpInfo &opInfo(OpKind kind) { return kOpInfos[static_cast<unsigned>(kind)]; }
std::string_view mnemonic(OpKind kind) { return opInfo(kind).mnemonic; }

bool lookupOpKind(std::string_view m, OpKind &out) {
  for (unsigned i = 0; i < std::size(kOpInfos); ++i) {
    if (kOpInfos[i].mnemonic == m) {
      out = static_cast<OpKind>(i);
      return true;
    }
  }
  return false;
}

// ---- Value / Block ----------------------------------------------------------------------------------

Block *Value::ownerBlock() const { return def_ ? def_->parentBlock() : block_; }

Block::~Block() {
  // Destroy ops back to front so that nothing outlives what it was built from.
  while (!ops_.empty())
    ops_.pop_back();
}

Operation *Block::parentOp() const { return parent_ ? parent_->parentOp() : nullptr; }

Value *Block::addArgument(const Type *type) {
  args_.push_back(std::unique_ptr<Value>(new Value(type, nullptr, this, numArguments())));
  return args_.back().get();
}

Operation *Block::terminator() const {
  if (ops_.empty() || !ops_.back()->hasTrait(Terminator))
    return nullptr;
  return ops_.back().get();
}

Operation *Block::insert(iterator pos, std::unique_ptr<Operation> op) {
  op->parent_ = this;
  return ops_.insert(pos, std::move(op))->get();
}

Block::iterator Block::find(Operation *op) {
  return std::find_if(ops_.begin(), ops_.end(), [&](const auto &p) { return p.get() == op; });
}

std::unique_ptr<Operation> Block::remove(Operation *op) {
  auto it = find(op);
  MT_ASSERT(it != ops_.end()) << "op is not in this block";
  std::unique_ptr<Operation> owned = std::move(*it);
  ops_.erase(it);
  owned->parent_ = nullptr;
  return owned;
}

void Block::erase(Operation *op) { remove(op); }

// ---- Operation --------------------------------------------------------------------------------------

std::unique_ptr<Operation> Operation::create(OpKind kind, SourceLoc loc, std::vector<Value *> operands,
                                             const std::vector<const Type *> &resultTypes,
                                             std::vector<NamedAttr> attrs) {
  std::unique_ptr<Operation> op(new Operation(kind, loc));
  op->operands_ = std::move(operands);
  for (unsigned i = 0; i < resultTypes.size(); ++i)
    op->results_.push_back(std::unique_ptr<Value>(new Value(resultTypes[i], op.get(), nullptr, i)));
  for (int i = 0; i < opInfo(kind).numRegions; ++i)
    op->regions_.push_back(std::make_unique<Region>(op.get()));
  for (auto &a : attrs)
    op->setAttr(std::move(a.name), std::move(a.value));
  return op;
}

const AttrValue *Operation::attr(std::string_view name) const {
  for (const NamedAttr &a : attrs_)
    if (a.name == name)
      return &a.value;
  return nullptr;
}

void Operation::setAttr(std::string name, AttrValue v) {
  auto it = std::lower_bound(attrs_.begin(), attrs_.end(), name,
                             [](const NamedAttr &a, const std::string &n) { return a.name < n; });
  if (it != attrs_.end() && it->name == name) {
    it->value = std::move(v);
    return;
  }
  attrs_.insert(it, NamedAttr{std::move(name), std::move(v)});
}

int64_t Operation::intAttr(std::string_view name, int64_t dflt) const {
  const AttrValue *a = attr(name);
  if (!a)
    return dflt;
  if (auto *i = std::get_if<int64_t>(a))
    return *i;
  if (auto *d = std::get_if<double>(a))
    return static_cast<int64_t>(*d);
  return dflt;
}

double Operation::floatAttr(std::string_view name, double dflt) const {
  const AttrValue *a = attr(name);
  if (!a)
    return dflt;
  if (auto *d = std::get_if<double>(a))
    return *d;
  if (auto *i = std::get_if<int64_t>(a))
    return static_cast<double>(*i);
  return dflt;
}

std::string Operation::stringAttr(std::string_view name, std::string dflt) const {
  const AttrValue *a = attr(name);
  if (auto *s = a ? std::get_if<std::string>(a) : nullptr)
    return *s;
  return dflt;
}

std::vector<int64_t> Operation::intsAttr(std::string_view name) const {
  const AttrValue *a = attr(name);
  if (auto *v = a ? std::get_if<std::vector<int64_t>>(a) : nullptr)
    return *v;
  return {};
}

void Operation::walk(const std::function<void(Operation *)> &fn) {
  fn(this);
  for (auto &r : regions_)
    for (auto &op : r->block().operations())
      op->walk(fn);
}

// ---- Function / Module ------------------------------------------------------------------------------

void Function::walk(const std::function<void(Operation *)> &fn) {
  for (auto &op : body().operations())
    op->walk(fn);
}

void Function::replaceAllUsesWith(Value *from, Value *to) {
  walk([&](Operation *op) {
    for (unsigned i = 0; i < op->numOperands(); ++i)
      if (op->operand(i) == from)
        op->setOperand(i, to);
  });
}

bool Function::hasUses(const Value *v) {
  bool used = false;
  walk([&](Operation *op) {
    for (Value *o : op->operands())
      used |= o == v;
  });
  return used;
}

Function *Module::addFunction(std::string name, SourceLoc loc) {
  functions_.push_back(std::make_unique<Function>(std::move(name), loc));
  return functions_.back().get();
}

Function *Module::lookup(std::string_view name) const {
  for (const auto &f : functions_)
    if (f->name() == name)
      return f.get();
  return nullptr;
}

} // namespace mt::ir
