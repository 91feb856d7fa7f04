// tl.map_elementwise(scalar_fn, *args, pack=1): applies a @jit function to each element of the broadcast
// arguments. The function is inlined once, on whole tensors; an `if`, `while` or conditional expression on
// a per-element condition inside it is lowered per element (LowerControl.cpp: both branches computed and
// merged with `where`, a loop running while any element needs another iteration), so the function may use
// Python control flow on its "scalar" arguments as in Triton. With pack = p, the function takes p
// consecutive elements of each argument (argument i's elements are parameters i*p .. i*p+p-1) and returns p
// values of each result in the same order.
#include "frontend/LowerImpl.h"

namespace mt::lower {

using ir::DType;
using ir::OpKind;

namespace {

/// Restores the enclosing per-element scope (none, or an outer tl.map_elementwise's) on exit.
class ScopeGuard {
public:
  ScopeGuard(Lowerer &L, std::vector<int64_t> shape) : L_(L), saved_(L.ew_) {
    L.ew_ = Lowerer::ElementwiseScope{std::move(shape), nullptr};
  }
  ~ScopeGuard() { L_.ew_ = saved_; }

private:
  Lowerer &L_;
  std::optional<Lowerer::ElementwiseScope> saved_;
};

Val mapElementwise(Lowerer &L, Bound &a) {
  const std::string fname = "tl.map_elementwise";
  if (a[0].kind != Val::Kind::Func)
    L.fail(a.loc(0), fname + ": scalar_fn must be a @triton.jit function, got " + describe(a[0]));
  if (a.rest.empty())
    L.fail(a.callLoc, fname + " needs at least one tensor argument");
  int64_t pack = a.has(2) ? L.constInt(a[2], a.loc(2), "pack") : 1;
  if (pack < 1 || (pack & (pack - 1)) != 0)
    L.fail(a.loc(2), fname + ": pack must be a power of two >= 1, got " + std::to_string(pack));

  std::vector<ir::Value *> ins;
  std::vector<int64_t> shape;
  for (size_t i = 0; i < a.rest.size(); ++i) {
    const Val &v = a.rest[i];
    if (!v.isIR() && !v.isNumber())
      L.fail(a.restLoc(i), fname + ": arguments must be tensors or numbers, got " + describe(v));
    ins.push_back(L.toIR(v, a.restLoc(i), "argument of " + fname));
    shape = L.broadcastShapes(shape, ins.back()->type()->shape(), a.restLoc(i));
  }
  // Tensors are broadcast to the common shape; scalars stay scalars (uniform: `range(k)` works on them).
  for (size_t i = 0; i < ins.size(); ++i)
    if (ins[i]->type()->isBlock())
      ins[i] = L.broadcastTo(ins[i], shape, a.restLoc(i));
  int64_t numel = 1;
  for (int64_t d : shape)
    numel *= d;
  if (shape.empty() && pack != 1)
    L.fail(a.loc(2), fname + ": pack=" + std::to_string(pack) + " needs tensor arguments, got scalars");
  if (numel % pack != 0)
    L.fail(a.loc(2), fname + ": pack=" + std::to_string(pack) + " does not divide the " +
                         std::to_string(numel) + " elements of " + Lowerer::shapeStr(shape));

  // The function's arguments: with pack p, each tensor as p tensors of its elements k*p + j, j = 0..p-1.
  std::vector<int64_t> callShape = pack == 1 ? shape : std::vector<int64_t>{numel / pack};
  CallArgs call;
  for (size_t i = 0; i < ins.size(); ++i) {
    if (pack == 1 || !ins[i]->type()->isBlock()) {
      for (int64_t j = 0; j < pack; ++j) {
        call.pos.push_back(Val::ir(ins[i]));
        call.posLocs.push_back(a.restLoc(i));
      }
      continue;
    }
    for (ir::Value *part :
         slicesOfLast(L, L.reshape(ins[i], {numel / pack, pack}, a.restLoc(i)), a.restLoc(i))) {
      call.pos.push_back(Val::ir(part));
      call.posLocs.push_back(a.restLoc(i));
    }
  }

  Val ret;
  if (shape.empty()) {
    ret = L.inlineCall(a[0], call, a.callLoc); // scalars: plain control flow
  } else {
    ScopeGuard scope(L, callShape);
    ret = L.inlineCall(a[0], call, a.callLoc);
  }
  L.setLoc(a.callLoc);
  if (ret.isNone())
    L.fail(a.callLoc, fname + ": the function '" + a[0].fn->name + "' returns nothing");
  bool isTuple = ret.isTuple();
  std::vector<Val> rs = isTuple ? ret.elems : std::vector<Val>{ret};
  for (const Val &r : rs)
    if (!r.isIR() && !r.isNumber())
      L.fail(a.callLoc, fname + ": the function '" + a[0].fn->name +
                            "' must return tensors or numbers, got " + describe(r));
  if (rs.size() % size_t(pack) != 0)
    L.fail(a.callLoc, fname + ": with pack=" + std::to_string(pack) +
                          " the function must return a multiple of " + std::to_string(pack) +
                          " values, got " + std::to_string(rs.size()));

  std::vector<Val> outs;
  for (size_t k = 0; k < rs.size(); k += size_t(pack)) {
    std::vector<ir::Value *> parts;
    for (int64_t j = 0; j < pack; ++j) {
      ir::Value *v = L.toIR(rs[k + j], a.callLoc, "result of " + fname);
      if (j > 0 && v->type()->scalarType() != parts[0]->type()->scalarType())
        L.fail(a.callLoc, fname + ": the " + std::to_string(pack) + " packed values of result " +
                              std::to_string(k / pack) + " differ in type (" + parts[0]->type()->str() +
                              " and " + v->type()->str() + ")");
      parts.push_back(L.broadcastTo(v, callShape, a.callLoc));
    }
    ir::Value *out = pack == 1 ? parts[0] : L.reshape(stackLast(L, parts, a.callLoc), shape, a.callLoc);
    outs.push_back(Val::ir(out));
  }
  if (outs.size() == 1 && (!isTuple || pack > 1))
    return outs[0];
  return Val::tuple(std::move(outs));
}

} // namespace

void registerElementwiseBuiltins(BuiltinTable &t) {
  t["map_elementwise"] = {{"scalar_fn", "*args", "pack?"}, mapElementwise};
}

} // namespace mt::lower
