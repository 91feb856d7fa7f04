// Control flow. Compile-time conditions and static loops are evaluated here and only the taken code is
// lowered; runtime `if`, `for` and `while` become structured ops whose results / loop-carried values
// are the variables the statement assigns that live on after it.
#include "frontend/LowerImpl.h"

#include <algorithm>

namespace mt::lower {

using namespace ast;
using ir::DType;
using ir::OpKind;

Checkpoint::Checkpoint(ir::Builder &b) : b_(b), block_(b.insertionBlock()), last_(nullptr) {
  auto pos = b.insertionPoint();
  if (pos != block_->operations().begin())
    last_ = std::prev(pos)->get();
}

std::vector<ir::Operation *> Checkpoint::created() const {
  auto &ops = block_->operations();
  auto first = last_ ? std::next(block_->find(last_)) : ops.begin();
  std::vector<ir::Operation *> out;
  for (auto it = first; it != b_.insertionPoint(); ++it)
    out.push_back(it->get());
  return out;
}

void Checkpoint::rollback() {
  std::vector<ir::Operation *> doomed = created();
  for (auto it = doomed.rbegin(); it != doomed.rend(); ++it)
    block_->erase(*it);
}

static void collectTargets(const Expr &t, std::vector<std::string> &out) {
  if (t.kind == ExprKind::Name) {
    if (std::find(out.begin(), out.end(), t.name) == out.end())
      out.push_back(t.name);
    return;
  }
  if (t.kind == ExprKind::Tuple || t.kind == ExprKind::List)
    for (const ExprPtr &o : t.operands)
      collectTargets(*o, out);
}

void Lowerer::assignedNames(const StmtList &body, std::vector<std::string> &out) {
  for (const StmtPtr &s : body) {
    for (const ExprPtr &t : s->targets)
      collectTargets(*t, out);
    assignedNames(s->body, out);
    assignedNames(s->orelse, out);
  }
}

/// Moves every op of `from` to the end of `to`.
static void moveOps(ir::Block &from, ir::Block &to) {
  while (!from.empty())
    to.push_back(from.remove(from.operations().front().get()));
}

/// Flattens `v` into leaves keyed `name`, `name[0]`, `name[1][2]`, ... (tuples element-wise).
static void flattenLeaves(const std::string &key, const Val &v, std::map<std::string, Val> &out,
                          std::vector<std::string> &order) {
  if (v.kind == Val::Kind::Tuple && !isTensorDesc(v)) { // a tensor descriptor never changes: one leaf
    // A block pointer's fields other than its offsets never change: they stay whole.
    for (size_t i = 0; i < v.elems.size(); ++i) {
      std::string k = key + "[" + std::to_string(i) + "]";
      if (isBlockPtr(v) && i != kBpOffsets) {
        out[k] = v.elems[i];
        order.push_back(k);
        continue;
      }
      flattenLeaves(k, v.elems[i], out, order);
    }
    return;
  }
  out[key] = v;
  order.push_back(key);
}

/// `shape` with its leaves replaced by those in `leaves`.
static Val rebuildLeaves(const std::string &key, const Val &shape, const std::map<std::string, Val> &leaves) {
  if (shape.kind != Val::Kind::Tuple || isTensorDesc(shape))
    return leaves.at(key);
  Val r = shape;
  for (size_t i = 0; i < r.elems.size(); ++i) {
    std::string k = key + "[" + std::to_string(i) + "]";
    r.elems[i] =
        isBlockPtr(shape) && i != kBpOffsets ? leaves.at(k) : rebuildLeaves(k, shape.elems[i], leaves);
  }
  return r;
}

/// Flattens the values `t` and `e` that variable `name` has after two paths (the branches of an `if`, or
/// where a per-element condition holds and where it does not) into leaves `tl` / `el` (keys in order), and
/// returns why they cannot be merged leaf by leaf, if so: an Undef naming different structures, a path's
/// undefined value, or differing compile-time values that are not numbers. `at` places the two paths in the
/// messages.
static std::optional<Val> pairLeaves(const std::string &name, const Val &t, const Val &e,
                                     const std::string &at, std::map<std::string, Val> &tl,
                                     std::map<std::string, Val> &el, std::vector<std::string> &keys) {
  std::vector<std::string> ek;
  flattenLeaves(name, t, tl, keys);
  flattenLeaves(name, e, el, ek);
  if (keys != ek)
    return Val::undef("'" + name + "' has different structures " + at);
  for (const std::string &k : keys) {
    const Val &tv = tl[k], &ev = el[k];
    if (sameVal(tv, ev))
      continue;
    if (tv.kind == Val::Kind::Undef || ev.kind == Val::Kind::Undef)
      return tv.kind == Val::Kind::Undef ? tv : ev;
    if (!(tv.isIR() || tv.isNumber()) || !(ev.isIR() || ev.isNumber()))
      return Val::undef("'" + name + "' has different compile-time values " + at + " (" + repr(t) + " and " +
                        repr(e) + ")");
  }
  return std::nullopt;
}

// ---- Per-element control flow (tl.map_elementwise) ----------------------------------------------------

/// Condition `c` as an i1 mask of the elements of tl.map_elementwise's shape, and-ed with `outer` if given.
static ir::Value *elementMask(Lowerer &L, const Val &c, SourceLoc loc, const char *what, ir::Value *outer) {
  ir::Value *m = L.toIR(c, loc, what);
  if (m->type()->isPointerLike())
    L.fail(loc, std::string(what) + " must not be a pointer");
  m = L.broadcastTo(L.toI1(m), L.ew_->shape, loc);
  return outer ? L.builder().binary(OpKind::And, outer, m) : m;
}

/// The masks of the elements that run the then and the else branch of per-element condition `cond`.
static std::pair<ir::Value *, ir::Value *> branchMasks(Lowerer &L, ir::Value *cond, ir::Value *outer) {
  ir::Builder &b = L.builder();
  ir::Value *notCond = b.unary(OpKind::Not, cond);
  if (!outer)
    return {cond, notCond};
  return {b.binary(OpKind::And, outer, cond), b.binary(OpKind::And, outer, notCond)};
}

/// Code under a per-element condition runs for every element (and is merged afterwards): anything that
/// reads or writes memory, prints or asserts would act for elements that do not run it, so it is refused.
static void rejectSideEffects(Lowerer &L, const std::vector<ir::Operation *> &ops, const char *where) {
  for (ir::Operation *op : ops)
    op->walk([&](ir::Operation *o) {
      if (o->hasTrait(ir::MemRead) || o->hasTrait(ir::MemWrite))
        L.fail(o->loc(), "'" + std::string(o->name()) + "' in " + where +
                             " of tl.map_elementwise's function is not supported: code under a per-element "
                             "condition must not access memory, print or assert");
    });
}

/// Variable `name` after per-element code: `t` where `mask` holds, else `e` (tuples leaf by leaf).
static Val mergePerElement(Lowerer &L, ir::Value *mask, const Val &t, const Val &e, const std::string &name,
                           SourceLoc loc) {
  if (sameVal(t, e))
    return t;
  std::string at = "where the per-element condition at " + L.lineCol(loc) + " holds and where it does not";
  if (t.isTuple() && t.s != e.s)
    return Val::undef("'" + name + "' has different structures " + at);
  std::map<std::string, Val> tl, el, merged;
  std::vector<std::string> keys;
  if (std::optional<Val> bad = pairLeaves(name, t, e, at, tl, el, keys))
    return *bad;
  for (const std::string &k : keys) {
    if (sameVal(tl[k], el[k])) {
      merged[k] = tl[k];
      continue;
    }
    CallArgs args;
    args.pos = {Val::ir(mask), tl[k], el[k]};
    args.posLocs = {loc, loc, loc};
    merged[k] = L.callBuiltin("where", args, loc, "tl.where");
  }
  return rebuildLeaves(name, t, merged);
}

/// The pseudo-variable that carries a function's return value through an early-return `if`.
static const char *const kReturnValue = "return value";

/// Lowers one branch of a runtime `if` from the variables `pre` and returns the variables after it (with the
/// returned value under kReturnValue when the else branch is the rest of the function).
static std::map<std::string, Val> lowerBranch(Lowerer &L, const std::map<std::string, Val> &pre,
                                              const std::vector<const Stmt *> &stmts, bool elseIsRest) {
  Frame &fr = L.frame();
  fr.vars = pre;
  // With elseIsRest both branches run to the end of the function: they are at function level.
  bool nested = !elseIsRest;
  fr.runtimeDepth += nested;
  L.lowerStmts(stmts);
  fr.runtimeDepth -= nested;
  std::map<std::string, Val> vars = fr.vars;
  if (elseIsRest)
    vars[kReturnValue] = fr.returned ? fr.retVal : Val::none();
  fr.returned = false;
  fr.retVal = Val::none();
  return vars;
}

/// The names an `if` may merge: those of either branch (only the returned value when the else branch is the
/// rest of the function).
static std::set<std::string> branchNames(const std::map<std::string, Val> (&branchVars)[2], bool elseIsRest) {
  if (elseIsRest)
    return {kReturnValue};
  std::set<std::string> all;
  for (auto &bv : branchVars)
    for (auto &[n, v] : bv)
      all.insert(n);
  return all;
}

static Val definedInOneBranch(Lowerer &L, const std::string &n, SourceLoc loc) {
  return Val::undef("'" + n + "' is defined in only one branch of the if at " + L.lineCol(loc) +
                    " and cannot be used after it");
}

/// After an `if` whose else branch was the rest of the function: its merged returned value is the function's.
static void takeReturnValue(Lowerer &L, SourceLoc loc) {
  Frame &fr = L.frame();
  Val r = fr.vars[kReturnValue];
  fr.vars.erase(kReturnValue);
  if (r.kind == Val::Kind::Undef)
    L.fail(loc, r.s);
  fr.retVal = r;
  fr.returned = true;
}

// ---- if -----------------------------------------------------------------------------------------------

void Lowerer::lowerIf(const Stmt &s) {
  Val c = lowerExpr(*s.test);
  if (isCompileTime(c)) {
    lowerBody(truthy(c) ? s.body : s.orelse);
    return;
  }
  std::vector<const Stmt *> thenS, elseS;
  for (const StmtPtr &x : s.body)
    thenS.push_back(x.get());
  for (const StmtPtr &x : s.orelse)
    elseS.push_back(x.get());
  lowerRuntimeIf(s, c, thenS, elseS, false);
}

void Lowerer::lowerRuntimeIf(const Stmt &s, const Val &c, const std::vector<const Stmt *> &thenS,
                             const std::vector<const Stmt *> &elseS, bool elseIsRest) {
  if (isPerElement(c))
    return lowerMaskedIf(s, c, thenS, elseS, elseIsRest);
  b_.setLoc(s.loc);
  ir::Value *cond = toCondition(c, s.test->loc, "if condition");
  Frame &fr = frame();
  std::map<std::string, Val> pre = fr.vars;

  // Lower both branches into a scratch op, then build the real `if` once the result types are known.
  auto scratch = ir::Operation::create(OpKind::If, s.loc, {}, {});
  std::map<std::string, Val> branchVars[2];
  for (int br = 0; br < 2; ++br) {
    ir::InsertionGuard guard(b_);
    b_.setInsertionPointToEnd(scratch->body(br));
    branchVars[br] = lowerBranch(*this, pre, br == 0 ? thenS : elseS, elseIsRest);
  }
  fr.vars = pre;

  // Merge the variables.
  std::vector<std::string> names;
  std::vector<Val> thenVals, elseVals;
  std::set<std::string> all = branchNames(branchVars, elseIsRest);
  std::map<std::string, Val> merged;                  // leaf key -> value after the if
  std::vector<std::pair<std::string, Val>> toRebuild; // name, its shape (then value)
  for (const std::string &n : all) {
    auto t = branchVars[0].find(n), e = branchVars[1].find(n);
    if (t == branchVars[0].end() || e == branchVars[1].end()) {
      fr.vars[n] = definedInOneBranch(*this, n, s.loc);
      continue;
    }
    if (sameVal(t->second, e->second)) {
      fr.vars[n] = t->second;
      continue;
    }
    std::map<std::string, Val> tl, el;
    std::vector<std::string> tk;
    if (std::optional<Val> bad = pairLeaves(n, t->second, e->second,
                                            "in the branches of the if at " + lineCol(s.loc), tl, el, tk)) {
      fr.vars[n] = *bad;
      continue;
    }
    for (const std::string &k : tk) {
      merged[k] = tl[k];
      if (sameVal(tl[k], el[k]))
        continue;
      names.push_back(k);
      thenVals.push_back(tl[k]);
      elseVals.push_back(el[k]);
    }
    toRebuild.push_back({n, t->second});
  }

  // Result types: an IR side fixes the type; a compile-time number on the other side is weakly typed.
  std::vector<const ir::Type *> types;
  for (size_t i = 0; i < names.size(); ++i) {
    const Val &t = thenVals[i], &e = elseVals[i];
    const ir::Type *ty;
    if (t.isIR() && e.isIR()) {
      if (t.v->type() != e.v->type())
        fail(s.loc, "mismatched type for '" + names[i] + "' between then block (" + t.v->type()->str() +
                        ") and else block (" + e.v->type()->str() + ")");
      ty = t.v->type();
    } else if (t.isIR() || e.isIR()) {
      const Val &irv = t.isIR() ? t : e, &num = t.isIR() ? e : t;
      ty = types_.withDType(irv.v->type(), weakDType(num, irv.v->type()->dtype(), s.loc));
      if (ty != irv.v->type() || ty->isBlock())
        fail(s.loc, "mismatched type for '" + names[i] + "' between the branches of the if (" + describe(t) +
                        " and " + describe(e) + ")");
    } else {
      ty = scalarType(promote(defaultDType(t), defaultDType(e)));
    }
    types.push_back(ty);
  }

  ir::Operation *ifOp = b_.createIf(cond, types);
  for (int br = 0; br < 2; ++br) {
    ir::InsertionGuard guard(b_);
    ir::Block &blk = ifOp->body(br);
    moveOps(scratch->body(br), blk);
    b_.setInsertionPointToEnd(blk);
    std::vector<ir::Value *> ys;
    for (size_t i = 0; i < names.size(); ++i) {
      const Val &v = br == 0 ? thenVals[i] : elseVals[i];
      ys.push_back(v.isIR() ? v.v : constant(v, types[i]));
    }
    b_.yield(ys);
  }
  for (size_t i = 0; i < names.size(); ++i)
    merged[names[i]] = Val::ir(ifOp->result(i));
  for (const auto &[n, shape] : toRebuild)
    fr.vars[n] = rebuildLeaves(n, shape, merged);
  if (elseIsRest)
    takeReturnValue(*this, s.loc);
}

Val Lowerer::lowerIfExp(const Expr &e) {
  Val c = lowerExpr(*e.operands[1]);
  if (isCompileTime(c))
    return lowerExpr(*(truthy(c) ? e.operands[0] : e.operands[2]));
  if (isPerElement(c))
    return lowerMaskedIfExp(e, c);
  b_.setLoc(e.loc);
  ir::Value *cond = toCondition(c, e.operands[1]->loc, "condition of a conditional expression");
  auto scratch = ir::Operation::create(OpKind::If, e.loc, {}, {});
  Val vals[2];
  for (int br = 0; br < 2; ++br) {
    ir::InsertionGuard guard(b_);
    b_.setInsertionPointToEnd(scratch->body(br));
    vals[br] = lowerExpr(*e.operands[br == 0 ? 0 : 2]);
  }
  DType d = commonDType(vals[0], vals[1], e.loc);
  auto shape0 = shapeOf(vals[0]), shape1 = shapeOf(vals[1]);
  std::vector<int64_t> shape = broadcastShapes(shape0, shape1, e.loc);
  const ir::Type *ty = types_.shaped(scalarType(d), shape);
  ir::Operation *ifOp = b_.createIf(cond, {ty});
  for (int br = 0; br < 2; ++br) {
    ir::InsertionGuard guard(b_);
    ir::Block &blk = ifOp->body(br);
    moveOps(scratch->body(br), blk);
    b_.setInsertionPointToEnd(blk);
    b_.yield({coerce(vals[br], d, shape, e.loc, "branch of a conditional expression")});
  }
  return Val::ir(ifOp->result(0));
}

void Lowerer::lowerMaskedIf(const Stmt &s, const Val &c, const std::vector<const Stmt *> &thenS,
                            const std::vector<const Stmt *> &elseS, bool elseIsRest) {
  b_.setLoc(s.loc);
  ir::Value *outer = ew_->mask;
  ir::Value *cond = elementMask(*this, c, s.test->loc, "if condition", nullptr);
  auto [thenMask, elseMask] = branchMasks(*this, cond, outer);
  Frame &fr = frame();
  std::map<std::string, Val> pre = fr.vars;
  std::map<std::string, Val> branchVars[2];
  for (int br = 0; br < 2; ++br) {
    ew_->mask = br == 0 ? thenMask : elseMask;
    Checkpoint ops(b_);
    branchVars[br] = lowerBranch(*this, pre, br == 0 ? thenS : elseS, elseIsRest);
    rejectSideEffects(*this, ops.created(), "a per-element if");
  }
  ew_->mask = outer;
  fr.vars = pre;
  b_.setLoc(s.loc);
  for (const std::string &n : branchNames(branchVars, elseIsRest)) {
    auto t = branchVars[0].find(n), e = branchVars[1].find(n);
    if (t == branchVars[0].end() || e == branchVars[1].end())
      fr.vars[n] = definedInOneBranch(*this, n, s.loc);
    else
      fr.vars[n] = mergePerElement(*this, cond, t->second, e->second, n, s.loc);
  }
  if (elseIsRest)
    takeReturnValue(*this, s.loc);
}

Val Lowerer::lowerMaskedIfExp(const Expr &e, const Val &c) {
  b_.setLoc(e.loc);
  ir::Value *outer = ew_->mask;
  ir::Value *cond =
      elementMask(*this, c, e.operands[1]->loc, "condition of a conditional expression", nullptr);
  auto [thenMask, elseMask] = branchMasks(*this, cond, outer);
  Val vals[2];
  for (int br = 0; br < 2; ++br) {
    ew_->mask = br == 0 ? thenMask : elseMask;
    Checkpoint ops(b_);
    vals[br] = lowerExpr(*e.operands[br == 0 ? 0 : 2]);
    rejectSideEffects(*this, ops.created(), "a per-element conditional expression");
  }
  ew_->mask = outer;
  b_.setLoc(e.loc);
  CallArgs args;
  args.pos = {Val::ir(cond), vals[0], vals[1]};
  args.posLocs = {e.operands[1]->loc, e.operands[0]->loc, e.operands[2]->loc};
  return callBuiltin("where", args, e.loc, "tl.where");
}

// ---- Loops ----------------------------------------------------------------------------------------------

namespace {
/// The plan of one attempt at lowering a loop: which variables are carried and with which types.
struct CarryPlan {
  std::vector<std::string> names;
  std::map<std::string, const ir::Type *> forced; // compile-time inits re-typed after a first attempt
  std::set<std::string> dropped;                  // unchanged compile-time values: not carried
  /// In tl.map_elementwise's function: a value may become a tensor of the function's shape in the loop
  /// (merged per element), so its init is re-typed (numbers) or broadcast (same-dtype IR values).
  bool perElement = false;
};
} // namespace

/// Checks the values a loop body produced for its carried variables. Returns false (and updates the
/// plan) when the loop must be lowered again; fails on a type change that cannot be fixed.
static bool checkCarried(Lowerer &L, CarryPlan &plan, const std::vector<std::string> &carried,
                         const std::vector<ir::Value *> &inits, const std::map<std::string, Val> &pre,
                         const std::map<std::string, Val> &after, std::vector<ir::Value *> &yields,
                         SourceLoc loc, const char *what, ir::Block *body, unsigned argOffset) {
  bool ok = true;
  for (const std::string &n : plan.names) {
    if (!plan.dropped.count(n) || sameVal(after.at(n), pre.at(n)))
      continue;
    const Val &before = pre.at(n), &v = after.at(n);
    if ((before.isNumber() || before.isIR()) && (v.isNumber() || v.isIR())) {
      plan.dropped.erase(n);
      ok = false;
      continue;
    }
    L.fail(loc, "variable '" + n + "' holds " + (isCompileTime(before) ? repr(before) : describe(before)) +
                    " before the " + what +
                    " and is re-assigned in it; only numbers and tensors can change "
                    "across iterations");
  }
  for (size_t i = 0; i < carried.size(); ++i) {
    const std::string &n = carried[i];
    const Val &before = pre.at(n);
    const Val &v = after.at(n);
    if (v.kind == Val::Kind::Undef)
      L.fail(loc, v.s);
    if (isCompileTime(v) && isCompileTime(before) && sameVal(v, before)) {
      plan.dropped.insert(n);
      ok = false;
      continue;
    }
    const ir::Type *t = inits[i]->type();
    if (v.isNumber()) {
      yields.push_back(L.constant(v, t));
      continue;
    }
    if (!v.isIR())
      L.fail(loc, std::string("loop-carried variable '") + n + "' of the " + what +
                      " must be a number or a tensor, got " + describe(v));
    if (v.v->isBlockArg() && v.v->ownerBlock() == body && v.v->index() == i + argOffset) {
      plan.dropped.insert(n); // unchanged in the loop: no need to carry it
      ok = false;
      continue;
    }
    if (v.v->type() == t) {
      yields.push_back(v.v);
      continue;
    }
    bool widened =
        plan.perElement && v.v->type()->isBlock() &&
        (before.isNumber() || (before.isIR() && before.v->type()->shape() != v.v->type()->shape() &&
                               before.v->type()->scalarType() == v.v->type()->scalarType()));
    if ((before.isNumber() || widened) && !plan.forced.count(n) && (v.v->type()->rank() == 0 || widened)) {
      plan.forced[n] = v.v->type();
      ok = false;
      continue;
    }
    L.fail(loc, "loop-carried variable '" + n + "' has initial type " + t->str() + " but is re-assigned to " +
                    v.v->type()->str() + " in the loop; make sure that the type stays consistent");
  }
  return ok;
}

namespace {
/// The variables a loop assigns that are live before it, flattened to leaves; which leaves are
/// carried and with which types is refined over attempts (CarryPlan).
struct LoopVars {
  std::map<std::string, Val> pre;
  std::vector<std::string> names;
  std::map<std::string, std::vector<std::string>> keysOf;
  std::map<std::string, Val> preLeaves;
  CarryPlan plan;

  LoopVars(const std::vector<std::string> &assigned, const std::map<std::string, Val> &vars,
           const std::string &exclude)
      : pre(vars) {
    for (const std::string &n : assigned) {
      auto it = pre.find(n);
      if (n == exclude || it == pre.end() || it->second.kind == Val::Kind::Undef)
        continue;
      names.push_back(n);
      flattenLeaves(n, it->second, preLeaves, keysOf[n]);
      for (const std::string &k : keysOf[n]) {
        plan.names.push_back(k);
        // Optimistic: compile-time values stay compile-time unless the body changes them.
        if (!preLeaves[k].isIR())
          plan.dropped.insert(k);
      }
    }
  }

  void materialiseInits(Lowerer &L, SourceLoc loc, std::vector<std::string> &carried,
                        std::vector<ir::Value *> &inits) {
    for (const std::string &k : plan.names) {
      if (plan.dropped.count(k))
        continue;
      const Val &v = preLeaves[k];
      auto f = plan.forced.find(k);
      carried.push_back(k);
      if (f == plan.forced.end())
        inits.push_back(L.toIR(v, loc));
      else
        inits.push_back(v.isIR() ? L.broadcastTo(v.v, f->second->shape(), loc) : L.constant(v, f->second));
    }
  }

  /// Variables at the start of the body: `pre` with the carried leaves replaced by `args`.
  void bind(std::map<std::string, Val> &vars, const std::vector<std::string> &carried,
            const std::vector<ir::Value *> &args) {
    vars = pre;
    std::map<std::string, Val> leaves = preLeaves;
    for (size_t i = 0; i < carried.size(); ++i)
      leaves[carried[i]] = Val::ir(args[i]);
    for (const std::string &n : names)
      vars[n] = rebuildLeaves(n, pre.at(n), leaves);
  }

  bool check(Lowerer &L, const std::map<std::string, Val> &vars, const std::vector<std::string> &carried,
             const std::vector<ir::Value *> &inits, std::vector<ir::Value *> &yields, SourceLoc loc,
             const char *what, ir::Block *body, unsigned argOffset) {
    std::map<std::string, Val> afterLeaves;
    for (const std::string &n : names) {
      const Val &v = vars.at(n);
      if (v.kind == Val::Kind::Undef)
        L.fail(loc, v.s);
      std::vector<std::string> keys;
      flattenLeaves(n, v, afterLeaves, keys);
      if (keys != keysOf[n] || (v.kind == Val::Kind::Tuple && v.s != pre.at(n).s))
        L.fail(loc, "variable '" + n + "' changes its structure in the " + what + " (" + describe(pre.at(n)) +
                        " before, " + describe(v) + " after)");
    }
    return checkCarried(L, plan, carried, inits, preLeaves, afterLeaves, yields, loc, what, body, argOffset);
  }

  /// Binds the loop's results after it; names first defined in the body are not available.
  void finish(std::map<std::string, Val> &vars, const StmtList &body, const std::string &target,
              const std::vector<std::string> &carried, ir::Operation *op, const std::string &at) {
    std::vector<std::string> all;
    Lowerer::assignedNames(body, all);
    for (const std::string &n : all)
      if (!pre.count(n) && n != target)
        vars[n] =
            Val::undef("'" + n + "' is defined inside the loop at " + at + " and cannot be used after it");
    std::map<std::string, Val> leaves = preLeaves;
    for (size_t i = 0; i < carried.size(); ++i)
      leaves[carried[i]] = Val::ir(op->result(i));
    for (const std::string &n : names)
      vars[n] = rebuildLeaves(n, pre.at(n), leaves);
  }
};

std::vector<std::string> assigned(const Stmt &s) {
  std::vector<std::string> out;
  Lowerer::assignedNames(s.body, out);
  return out;
}
} // namespace

void Lowerer::lowerFor(const Stmt &s) {
  const Expr &target = *s.targets[0];
  Val iter = lowerExpr(*s.test);
  b_.setLoc(s.loc);
  Frame &fr = frame();
  // Compile-time iteration: static_range, or a tuple/list.
  if (iter.kind == Val::Kind::Tuple || (iter.kind == Val::Kind::Range && iter.b)) {
    std::vector<Val> items;
    if (iter.kind == Val::Kind::Tuple) {
      items = iter.elems;
    } else {
      int64_t lo = iter.elems[0].i, hi = iter.elems[1].i, st = iter.elems[2].i;
      for (int64_t i = lo; st > 0 ? i < hi : i > hi; i += st) {
        items.push_back(Val::integer(i));
        if (items.size() > 4096)
          fail(s.test->loc, "static_range has more than 4096 iterations");
        if (__builtin_add_overflow(i, st, &i))
          break;
        i -= st;
      }
    }
    for (const Val &it : items) {
      if (++unrolled_ > (1 << 16))
        fail(s.test->loc, "more than 65536 unrolled loop iterations in this kernel");
      assignTo(target, it);
      lowerBody(s.body);
      if (fr.returned)
        return;
    }
    return;
  }
  if (iter.kind != Val::Kind::Range)
    fail(s.test->loc,
         "a for loop must iterate over range(...), tl.range(...), tl.static_range(...) or a tuple, not " +
             describe(iter));
  if (target.kind != ExprKind::Name)
    fail(target.loc, "the target of a for loop over a range must be a single name");

  // A compile-time negative step counts k = 0, 1, ... (start - end - step - 1) // -step and binds the
  // target to start + k * step (the IR's `for` counts upwards).
  std::optional<std::pair<Val, int64_t>> downward;
  if (iter.elems[2].kind == Val::Kind::Int && iter.elems[2].i < 0) {
    int64_t st = iter.elems[2].i;
    if (st == INT64_MIN)
      fail(s.test->loc, "range step is out of range");
    b_.setLoc(s.test->loc);
    Val span = binary(BinOpKind::Sub, iter.elems[0], iter.elems[1], s.test->loc);
    span = binary(BinOpKind::Add, span, Val::integer(-st - 1), s.test->loc);
    Val count = binary(BinOpKind::FloorDiv, span, Val::integer(-st), s.test->loc);
    downward = {iter.elems[0], st};
    iter.elems = {Val::integer(0), count, Val::integer(1)};
  }

  // The induction variable's type: i32 unless a bound needs i64.
  DType ivType = DType::I32;
  for (const Val &bnd : iter.elems) {
    if (bnd.isIR()) {
      if (!bnd.v->type()->isIntLike() || bnd.v->type()->isBlock())
        fail(s.test->loc, "range bounds must be integer scalars, got " + bnd.v->type()->str() +
                              (ew_ && bnd.v->type()->isBlock()
                                   ? " (in tl.map_elementwise's function, a loop with a per-element count is "
                                     "written as a while loop)"
                                   : ""));
      if (ir::bitWidth(bnd.v->type()->dtype()) == 64)
        ivType = DType::I64;
    } else if (!bnd.isIntLike()) {
      fail(s.test->loc, "range bounds must be integers, got " + describe(bnd));
    } else if (bnd.asInt() < INT32_MIN || bnd.asInt() > INT32_MAX) {
      ivType = DType::I64;
    }
  }
  LoopVars lv(assigned(s), fr.vars, target.name);
  lv.plan.perElement = ew_.has_value();

  Checkpoint cp(b_);
  for (int attempt = 0;; ++attempt) {
    if (attempt >= 16)
      fail(s.loc, "cannot determine the types of the variables this loop carries");
    b_.setLoc(s.loc);
    ir::Value *lb = coerce(iter.elems[0], ivType, {}, s.test->loc, "range start");
    ir::Value *ub = coerce(iter.elems[1], ivType, {}, s.test->loc, "range end");
    ir::Value *st = coerce(iter.elems[2], ivType, {}, s.test->loc, "range step");
    std::vector<std::string> carried;
    std::vector<ir::Value *> inits;
    lv.materialiseInits(*this, s.loc, carried, inits);
    ir::Operation *forOp = b_.createFor(lb, ub, st, inits);
    if (iter.elems.size() > 3)
      forOp->setAttr("num_stages", iter.elems[3].i);
    ir::Block &body = forOp->body();
    std::vector<ir::Value *> args;
    for (unsigned i = 1; i < body.numArguments(); ++i)
      args.push_back(body.argument(i));
    lv.bind(fr.vars, carried, args);
    fr.vars[target.name] = Val::ir(body.argument(0));
    if (downward) {
      ir::InsertionGuard guard(b_);
      b_.setInsertionPointToEnd(body);
      b_.setLoc(s.test->loc);
      Val step =
          binary(BinOpKind::Mul, Val::ir(body.argument(0)), Val::integer(downward->second), s.test->loc);
      fr.vars[target.name] = binary(BinOpKind::Add, downward->first, step, s.test->loc);
    }
    std::vector<ir::Value *> yields;
    bool ok;
    {
      ir::InsertionGuard guard(b_);
      b_.setInsertionPointToEnd(body);
      ++fr.runtimeDepth;
      lowerBody(s.body);
      --fr.runtimeDepth;
      if (fr.returned)
        fail(s.loc, "'return' inside a runtime for loop is not supported");
      b_.setLoc(s.loc);
      ok = lv.check(*this, fr.vars, carried, inits, yields, s.loc, "for loop", &body, 1);
      if (ok)
        b_.yield(yields);
    }
    fr.vars = lv.pre;
    if (!ok) {
      cp.rollback();
      continue;
    }
    lv.finish(fr.vars, s.body, target.name, carried, forOp, lineCol(s.loc));
    return;
  }
}

void Lowerer::lowerWhile(const Stmt &s) {
  Frame &fr = frame();
  b_.setLoc(s.loc);
  LoopVars lv(assigned(s), fr.vars, "");
  lv.plan.perElement = ew_.has_value();
  // A per-element condition (in tl.map_elementwise's function) is found when first lowered: the loop is
  // then lowered again, running while the condition holds for any element, and each iteration's results
  // are merged by `where` with the condition it started from.
  bool perElement = false;
  ir::Value *outer = ew_ ? ew_->mask : nullptr;

  Checkpoint cp(b_);
  for (int attempt = 0;; ++attempt) {
    if (attempt >= 16)
      fail(s.loc, "cannot determine the types of the variables this loop carries");
    b_.setLoc(s.loc);
    std::vector<std::string> carried;
    std::vector<ir::Value *> inits;
    lv.materialiseInits(*this, s.loc, carried, inits);
    std::vector<const ir::Type *> types;
    for (ir::Value *v : inits)
      types.push_back(v->type());
    ir::Operation *whileOp = b_.create(OpKind::While, inits, types);
    ir::Block &before = whileOp->body(0), &after = whileOp->body(1);
    std::vector<ir::Value *> beforeArgs, afterArgs;
    for (const ir::Type *t : types) {
      beforeArgs.push_back(before.addArgument(t));
      afterArgs.push_back(after.addArgument(t));
    }
    std::vector<ir::Value *> yields;
    bool ok = false, restart = false;
    {
      ir::InsertionGuard guard(b_);
      b_.setInsertionPointToEnd(before);
      lv.bind(fr.vars, carried, beforeArgs);
      Val c = lowerExpr(*s.test);
      b_.setLoc(s.loc);
      restart = !perElement && isPerElement(c);
      if (!restart) {
        ir::Value *cond;
        if (perElement)
          cond = anyOf(*this, elementMask(*this, c, s.test->loc, "while condition", outer), s.test->loc);
        else
          cond = isCompileTime(c) ? b_.constBool(truthy(c)) : toCondition(c, s.test->loc, "while condition");
        std::vector<ir::Value *> ops{cond};
        ops.insert(ops.end(), beforeArgs.begin(), beforeArgs.end());
        b_.create(OpKind::Condition, ops, {});

        b_.setInsertionPointToEnd(after);
        Checkpoint bodyOps(b_);
        lv.bind(fr.vars, carried, afterArgs);
        ir::Value *active = nullptr;
        std::map<std::string, Val> entry;
        if (perElement) {
          // The elements this iteration runs for: the condition again, on the values the body starts from.
          active = elementMask(*this, lowerExpr(*s.test), s.test->loc, "while condition", outer);
          entry = fr.vars;
          ew_->mask = active;
        }
        ++fr.runtimeDepth;
        lowerBody(s.body);
        --fr.runtimeDepth;
        if (fr.returned)
          fail(s.loc, "'return' inside a while loop is not supported");
        b_.setLoc(s.loc);
        if (perElement) {
          ew_->mask = outer;
          rejectSideEffects(*this, bodyOps.created(), "a per-element while loop");
          for (const std::string &n : lv.names)
            fr.vars[n] = mergePerElement(*this, active, fr.vars.at(n), entry.at(n), n, s.loc);
        }
        ok = lv.check(*this, fr.vars, carried, inits, yields, s.loc, "while loop", &after, 0);
        if (ok)
          b_.yield(yields);
      }
    }
    fr.vars = lv.pre;
    if (restart)
      perElement = true;
    if (!ok) {
      cp.rollback();
      continue;
    }
    lv.finish(fr.vars, s.body, "", carried, whileOp, lineCol(s.loc));
    return;
  }
}

} // namespace mt::lower
