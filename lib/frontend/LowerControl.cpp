// Control flow. Compile-time conditions and static loops are evaluated here and only the taken code is
// lowered; runtime `if`, `for` and `while` become structured ops whose results / loop-carried values
// are the variables the statement assigns that live on after it.
#include "frontend/LowerImpl.h"

#include <algorithm>

namespace mt::lower {

using namespace ast;
using ir::DType;
using ir::OpKind;

static std::string locStr(SourceLoc l) { return std::to_string(l.line) + ":" + std::to_string(l.col); }

Checkpoint::Checkpoint(ir::Builder &b) : b_(b), block_(b.insertionBlock()), last_(nullptr) {
  auto pos = b.insertionPoint();
  if (pos != block_->operations().begin())
    last_ = std::prev(pos)->get();
}

void Checkpoint::rollback() {
  auto &ops = block_->operations();
  auto first = last_ ? std::next(block_->find(last_)) : ops.begin();
  auto end = b_.insertionPoint();
  std::vector<ir::Operation *> doomed;
  for (auto it = first; it != end; ++it)
    doomed.push_back(it->get());
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
    fr.vars = pre;
    bool nested = !(br == 1 && elseIsRest);
    fr.runtimeDepth += nested;
    lowerStmts(br == 0 ? thenS : elseS);
    fr.runtimeDepth -= nested;
    if (fr.returned && !fr.retVal.isNone())
      fail(s.loc, "a function with an early 'return' inside a runtime if cannot return a value");
    fr.returned = false;
    branchVars[br] = fr.vars;
  }
  fr.vars = pre;

  // Merge the variables.
  std::vector<std::string> names;
  std::vector<Val> thenVals, elseVals;
  std::set<std::string> all;
  for (auto &bv : branchVars)
    for (auto &[n, v] : bv)
      all.insert(n);
  if (elseIsRest)
    all.clear(); // nothing follows: no results
  for (const std::string &n : all) {
    auto t = branchVars[0].find(n), e = branchVars[1].find(n);
    if (t == branchVars[0].end() || e == branchVars[1].end()) {
      fr.vars[n] = Val::undef("'" + n + "' is defined in only one branch of the if at " + locStr(s.loc) +
                              " and cannot be used after it");
      continue;
    }
    if (sameVal(t->second, e->second)) {
      fr.vars[n] = t->second;
      continue;
    }
    if (t->second.kind == Val::Kind::Undef || e->second.kind == Val::Kind::Undef) {
      fr.vars[n] = t->second.kind == Val::Kind::Undef ? t->second : e->second;
      continue;
    }
    bool okT = t->second.isIR() || t->second.isNumber(), okE = e->second.isIR() || e->second.isNumber();
    if (!okT || !okE) {
      fr.vars[n] = Val::undef("'" + n + "' has different compile-time values in the branches of the if at " +
                              locStr(s.loc) + " (" + repr(t->second) + " and " + repr(e->second) + ")");
      continue;
    }
    names.push_back(n);
    thenVals.push_back(t->second);
    elseVals.push_back(e->second);
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
    fr.vars[names[i]] = Val::ir(ifOp->result(i));
}

Val Lowerer::lowerIfExp(const Expr &e) {
  Val c = lowerExpr(*e.operands[1]);
  if (isCompileTime(c))
    return lowerExpr(*(truthy(c) ? e.operands[0] : e.operands[2]));
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

// ---- Loops ----------------------------------------------------------------------------------------------

namespace {
/// The plan of one attempt at lowering a loop: which variables are carried and with which types.
struct CarryPlan {
  std::vector<std::string> names;
  std::map<std::string, const ir::Type *> forced; // compile-time inits re-typed after a first attempt
  std::set<std::string> dropped;                  // unchanged compile-time values: not carried
};
} // namespace

/// Checks the values a loop body produced for its carried variables. Returns false (and updates the
/// plan) when the loop must be lowered again; fails on a type change that cannot be fixed.
static bool checkCarried(Lowerer &L, CarryPlan &plan, const std::vector<std::string> &carried,
                         const std::vector<ir::Value *> &inits, const std::map<std::string, Val> &pre,
                         const std::map<std::string, Val> &after, std::vector<ir::Value *> &yields,
                         SourceLoc loc, const char *what) {
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
    if (v.v->type() == t) {
      yields.push_back(v.v);
      continue;
    }
    if (before.isNumber() && !plan.forced.count(n) && v.v->type()->rank() == 0) {
      plan.forced[n] = v.v->type();
      ok = false;
      continue;
    }
    L.fail(loc, "loop-carried variable '" + n + "' has initial type " + t->str() + " but is re-assigned to " +
                    v.v->type()->str() + " in the loop; make sure that the type stays consistent");
  }
  return ok;
}

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
      }
    }
    for (const Val &it : items) {
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

  // The induction variable's type: i32 unless a bound needs i64.
  DType ivType = DType::I32;
  for (const Val &bnd : iter.elems) {
    if (bnd.isIR()) {
      if (!bnd.v->type()->isIntLike() || bnd.v->type()->isBlock())
        fail(s.test->loc, "range bounds must be integer scalars, got " + bnd.v->type()->str());
      if (ir::bitWidth(bnd.v->type()->dtype()) == 64)
        ivType = DType::I64;
    } else if (!bnd.isIntLike()) {
      fail(s.test->loc, "range bounds must be integers, got " + describe(bnd));
    } else if (bnd.asInt() < INT32_MIN || bnd.asInt() > INT32_MAX) {
      ivType = DType::I64;
    }
  }
  std::vector<std::string> assigned;
  assignedNames(s.body, assigned);
  std::map<std::string, Val> pre = fr.vars;
  CarryPlan plan;
  for (const std::string &n : assigned)
    if (n != target.name && pre.count(n) && pre[n].kind != Val::Kind::Undef) {
      plan.names.push_back(n);
      if (!pre[n].isNumber() && !pre[n].isIR())
        plan.dropped.insert(n);
    }

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
    for (const std::string &n : plan.names) {
      if (plan.dropped.count(n))
        continue;
      const Val &v = pre[n];
      ir::Value *init;
      if (auto f = plan.forced.find(n); f != plan.forced.end())
        init = constant(v, f->second);
      else if (v.isNumber() || v.isIR())
        init = toIR(v, s.loc);
      else
        fail(s.loc, "variable '" + n + "' is assigned in the loop but holds " + describe(v) +
                        ", which cannot be carried across iterations");
      carried.push_back(n);
      inits.push_back(init);
    }
    ir::Operation *forOp = b_.createFor(lb, ub, st, inits);
    ir::Block &body = forOp->body();
    fr.vars = pre;
    fr.vars[target.name] = Val::ir(body.argument(0));
    for (size_t i = 0; i < carried.size(); ++i)
      fr.vars[carried[i]] = Val::ir(body.argument(i + 1));
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
      ok = checkCarried(*this, plan, carried, inits, pre, fr.vars, yields, s.loc, "for loop");
      if (ok)
        b_.yield(yields);
    }
    std::map<std::string, Val> after = fr.vars;
    fr.vars = pre;
    if (!ok) {
      cp.rollback();
      continue;
    }
    for (const std::string &n : assigned)
      if (!pre.count(n) && n != target.name)
        fr.vars[n] = Val::undef("'" + n + "' is defined inside the loop at " + locStr(s.loc) +
                                " and cannot be used after it");
    for (size_t i = 0; i < carried.size(); ++i)
      fr.vars[carried[i]] = Val::ir(forOp->result(i));
    return;
  }
}

void Lowerer::lowerWhile(const Stmt &s) {
  Frame &fr = frame();
  b_.setLoc(s.loc);
  std::vector<std::string> assigned;
  assignedNames(s.body, assigned);
  std::map<std::string, Val> pre = fr.vars;
  CarryPlan plan;
  for (const std::string &n : assigned)
    if (pre.count(n) && pre[n].kind != Val::Kind::Undef) {
      plan.names.push_back(n);
      if (!pre[n].isNumber() && !pre[n].isIR())
        plan.dropped.insert(n);
    }

  Checkpoint cp(b_);
  for (int attempt = 0;; ++attempt) {
    if (attempt >= 16)
      fail(s.loc, "cannot determine the types of the variables this loop carries");
    b_.setLoc(s.loc);
    std::vector<std::string> carried;
    std::vector<ir::Value *> inits;
    std::vector<const ir::Type *> types;
    for (const std::string &n : plan.names) {
      if (plan.dropped.count(n))
        continue;
      const Val &v = pre[n];
      ir::Value *init;
      if (auto f = plan.forced.find(n); f != plan.forced.end())
        init = constant(v, f->second);
      else if (v.isNumber() || v.isIR())
        init = toIR(v, s.loc);
      else
        fail(s.loc, "variable '" + n + "' is assigned in the loop but holds " + describe(v) +
                        ", which cannot be carried across iterations");
      carried.push_back(n);
      inits.push_back(init);
      types.push_back(init->type());
    }
    ir::Operation *whileOp = b_.create(OpKind::While, inits, types);
    ir::Block &before = whileOp->body(0), &after = whileOp->body(1);
    for (const ir::Type *t : types) {
      before.addArgument(t);
      after.addArgument(t);
    }
    std::vector<ir::Value *> yields;
    bool ok;
    {
      ir::InsertionGuard guard(b_);
      b_.setInsertionPointToEnd(before);
      fr.vars = pre;
      for (size_t i = 0; i < carried.size(); ++i)
        fr.vars[carried[i]] = Val::ir(before.argument(i));
      Val c = lowerExpr(*s.test);
      b_.setLoc(s.loc);
      ir::Value *cond =
          isCompileTime(c) ? b_.constBool(truthy(c)) : toCondition(c, s.test->loc, "while condition");
      std::vector<ir::Value *> ops{cond};
      for (unsigned i = 0; i < before.numArguments(); ++i)
        ops.push_back(before.argument(i));
      b_.create(OpKind::Condition, ops, {});

      b_.setInsertionPointToEnd(after);
      fr.vars = pre;
      for (size_t i = 0; i < carried.size(); ++i)
        fr.vars[carried[i]] = Val::ir(after.argument(i));
      ++fr.runtimeDepth;
      lowerBody(s.body);
      --fr.runtimeDepth;
      if (fr.returned)
        fail(s.loc, "'return' inside a while loop is not supported");
      b_.setLoc(s.loc);
      ok = checkCarried(*this, plan, carried, inits, pre, fr.vars, yields, s.loc, "while loop");
      if (ok)
        b_.yield(yields);
    }
    fr.vars = pre;
    if (!ok) {
      cp.rollback();
      continue;
    }
    for (const std::string &n : assigned)
      if (!pre.count(n))
        fr.vars[n] = Val::undef("'" + n + "' is defined inside the loop at " + locStr(s.loc) +
                                " and cannot be used after it");
    for (size_t i = 0; i < carried.size(); ++i)
      fr.vars[carried[i]] = Val::ir(whileOp->result(i));
    return;
  }
}

} // namespace mt::lower
