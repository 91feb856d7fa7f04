// The IR's object model: Values defined by Operations or as Block arguments; Operations that own
// Regions; single-block Regions; Functions and Modules.
//
// SSA with structured control flow (MLIR's scf style): `for`, `if` and `while` own regions whose block
// arguments carry loop-carried values, and whose `yield` terminators produce the op's results. There
// are no use-lists; passes that need uses walk the function (kernels are small).
#pragma once

#include "ir/Types.h"
#include "support/SourceLoc.h"

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace mt::ir {

enum class OpKind : uint8_t {
#define OP(Kind, Mnemonic, NumOperands, NumResults, NumRegions, Traits) Kind,
#include "ir/Ops.def"
#undef OP
};

/// Op traits, as used in Ops.def.
enum Trait : unsigned {
  None = 0,
  Pure = 1u << 0,        // no side effects, result depends only on operands and attributes
  Elementwise = 1u << 1, // applies per element; operands and result share the shape
  Commutative = 1u << 2,
  Terminator = 1u << 3,
  MemRead = 1u << 4,
  MemWrite = 1u << 5,
};

struct OpInfo {
  std::string_view mnemonic;
  int numOperands; // -1: variadic
  int numResults;  // -1: variadic
  int numRegions;
  unsigned traits;
};
const OpInfo &opInfo(OpKind kind);
std::string_view mnemonic(OpKind kind);
/// Lookup by mnemonic, for the IR parser.
bool lookupOpKind(std::string_view mnemonic, OpKind &out);

class Operation;
class Block;
class Region;

class Value {
public:
  const Type *type() const { return type_; }
  void setType(const Type *t) { type_ = t; }
  /// The defining operation, or null for a block argument.
  Operation *definingOp() const { return def_; }
  /// For a block argument: the block. For an op result: the block holding the op.
  Block *ownerBlock() const;
  bool isBlockArg() const { return def_ == nullptr; }
  /// Index among the defining op's results or the block's arguments.
  unsigned index() const { return index_; }
  /// Optional name from the source (`acc`, `offs_m`); printed as a comment-free suffix hint.
  const std::string &nameHint() const { return nameHint_; }
  void setNameHint(std::string n) { nameHint_ = std::move(n); }

private:
  friend class Operation;
  friend class Block;
  Value(const Type *type, Operation *def, Block *block, unsigned index)
      : type_(type), def_(def), block_(block), index_(index) {}
  const Type *type_;
  Operation *def_;
  Block *block_;
  unsigned index_;
  std::string nameHint_;
};

using AttrValue = std::variant<int64_t, double, std::string, std::vector<int64_t>>;

struct NamedAttr {
  std::string name;
  AttrValue value;
};

class Block {
public:
  using OpList = std::list<std::unique_ptr<Operation>>;
  using iterator = OpList::iterator;

  explicit Block(Region *parent = nullptr) : parent_(parent) {}
  ~Block();
  Region *parentRegion() const { return parent_; }
  Operation *parentOp() const;

  Value *addArgument(const Type *type);
  const std::vector<std::unique_ptr<Value>> &arguments() const { return args_; }
  Value *argument(unsigned i) const { return args_[i].get(); }
  unsigned numArguments() const { return static_cast<unsigned>(args_.size()); }

  OpList &operations() { return ops_; }
  const OpList &operations() const { return ops_; }
  bool empty() const { return ops_.empty(); }
  Operation *terminator() const; // the last op if it is a terminator, else null

  /// Inserts `op` before `pos` and returns it.
  Operation *insert(iterator pos, std::unique_ptr<Operation> op);
  Operation *push_back(std::unique_ptr<Operation> op) { return insert(ops_.end(), std::move(op)); }
  /// Unlinks and destroys `op` (its results must be unused).
  void erase(Operation *op);
  /// Unlinks `op` and returns ownership.
  std::unique_ptr<Operation> remove(Operation *op);
  iterator find(Operation *op);

private:
  Region *parent_;
  std::vector<std::unique_ptr<Value>> args_;
  OpList ops_;
};

/// A region has exactly one block (structured control flow needs no more).
class Region {
public:
  explicit Region(Operation *parent) : parent_(parent), block_(std::make_unique<Block>(this)) {}
  Operation *parentOp() const { return parent_; }
  Block &block() { return *block_; }
  const Block &block() const { return *block_; }

private:
  Operation *parent_;
  std::unique_ptr<Block> block_;
};

class Operation {
public:
  /// Creates a detached op with result types `resultTypes` and `numRegions` empty regions (use
  /// opInfo(kind).numRegions unless the op is variadic in nothing).
  static std::unique_ptr<Operation> create(OpKind kind, SourceLoc loc, std::vector<Value *> operands,
                                           const std::vector<const Type *> &resultTypes,
                                           std::vector<NamedAttr> attrs = {});

  OpKind kind() const { return kind_; }
  std::string_view name() const { return mnemonic(kind_); }
  const OpInfo &info() const { return opInfo(kind_); }
  bool hasTrait(Trait t) const { return (info().traits & t) != 0; }
  SourceLoc loc() const { return loc_; }
  void setLoc(SourceLoc loc) { loc_ = loc; }
  Block *parentBlock() const { return parent_; }
  /// The op whose region holds this op, or null at function level.
  Operation *parentOp() const { return parent_ ? parent_->parentOp() : nullptr; }

  const std::vector<Value *> &operands() const { return operands_; }
  Value *operand(unsigned i) const { return operands_[i]; }
  unsigned numOperands() const { return static_cast<unsigned>(operands_.size()); }
  void setOperand(unsigned i, Value *v) { operands_[i] = v; }
  void setOperands(std::vector<Value *> v) { operands_ = std::move(v); }

  unsigned numResults() const { return static_cast<unsigned>(results_.size()); }
  Value *result(unsigned i = 0) const { return results_[i].get(); }
  const std::vector<std::unique_ptr<Value>> &results() const { return results_; }

  unsigned numRegions() const { return static_cast<unsigned>(regions_.size()); }
  Region &region(unsigned i) { return *regions_[i]; }
  const Region &region(unsigned i) const { return *regions_[i]; }
  Block &body(unsigned i = 0) { return regions_[i]->block(); }

  // ---- Attributes (kept sorted by name) ----
  const std::vector<NamedAttr> &attrs() const { return attrs_; }
  const AttrValue *attr(std::string_view name) const;
  bool hasAttr(std::string_view name) const { return attr(name) != nullptr; }
  void setAttr(std::string name, AttrValue v);
  int64_t intAttr(std::string_view name, int64_t dflt = 0) const;
  double floatAttr(std::string_view name, double dflt = 0.0) const; // an int attr converts
  std::string stringAttr(std::string_view name, std::string dflt = "") const;
  std::vector<int64_t> intsAttr(std::string_view name) const;

  /// Walks this op and all ops nested in its regions, pre-order.
  void walk(const std::function<void(Operation *)> &fn);

private:
  friend class Block;
  Operation(OpKind kind, SourceLoc loc) : kind_(kind), loc_(loc) {}
  OpKind kind_;
  SourceLoc loc_;
  Block *parent_ = nullptr;
  std::vector<Value *> operands_;
  std::vector<std::unique_ptr<Value>> results_;
  std::vector<NamedAttr> attrs_;
  std::vector<std::unique_ptr<Region>> regions_;
};

/// A kernel (or, before inlining, any function). Its parameters are the arguments of body().
class Function {
public:
  Function(std::string name, SourceLoc loc) : name_(std::move(name)), loc_(loc), region_(nullptr) {}
  const std::string &name() const { return name_; }
  SourceLoc loc() const { return loc_; }
  Block &body() { return region_.block(); }
  const Block &body() const { return region_.block(); }
  Region &region() { return region_; }
  /// Source names of the parameters, parallel to body().arguments().
  std::vector<std::string> &argNames() { return argNames_; }
  const std::vector<std::string> &argNames() const { return argNames_; }
  void walk(const std::function<void(Operation *)> &fn);
  /// Replaces every use of `from` in this function with `to`.
  void replaceAllUsesWith(Value *from, Value *to);
  /// True if any op in the function uses `v`.
  bool hasUses(const Value *v);

private:
  std::string name_;
  SourceLoc loc_;
  Region region_;
  std::vector<std::string> argNames_;
};

class Module {
public:
  explicit Module(TypeContext &types) : types_(&types) {}
  TypeContext &types() const { return *types_; }
  Function *addFunction(std::string name, SourceLoc loc);
  const std::vector<std::unique_ptr<Function>> &functions() const { return functions_; }
  Function *lookup(std::string_view name) const;

private:
  TypeContext *types_;
  std::vector<std::unique_ptr<Function>> functions_;
};

} // namespace mt::ir
