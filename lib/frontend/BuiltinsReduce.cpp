// tl.dot, reductions (sum, max, min, argmax, argmin, reduce) and scans (associative_scan, cumsum,
// cumprod). Reductions and scans build a `reduce`/`scan` op whose region combines two elements; a
// user combine_fn (a @jit function) is inlined into that region.
#include "frontend/LowerImpl.h"

namespace mt::lower {

using ir::DType;
using ir::OpKind;

namespace {

using Combine = std::function<std::vector<ir::Value *>(Lowerer &, const std::vector<ir::Value *> &lhs,
                                                       const std::vector<ir::Value *> &rhs)>;

/// Emits a reduce (scan when `isScan`) of `inputs` (all of one shape) along `axis`.
std::vector<ir::Value *> emitCombineOp(Lowerer &L, const std::vector<ir::Value *> &inputs, int64_t axis,
                                       bool isScan, bool reverse, const Combine &combine) {
  ir::Builder &b = L.builder();
  std::vector<const ir::Type *> resultTypes;
  for (ir::Value *v : inputs) {
    if (isScan) {
      resultTypes.push_back(v->type());
      continue;
    }
    std::vector<int64_t> shape = v->type()->shape();
    shape.erase(shape.begin() + axis);
    resultTypes.push_back(L.types().shaped(v->type()->scalarType(), shape));
  }
  std::vector<ir::NamedAttr> attrs{{"axis", axis}};
  if (isScan)
    attrs.push_back({"reverse", int64_t(reverse ? 1 : 0)});
  ir::Operation *op = b.create(isScan ? OpKind::Scan : OpKind::Reduce, inputs, resultTypes, attrs);
  ir::Block &blk = op->body();
  std::vector<ir::Value *> lhs, rhs;
  for (ir::Value *v : inputs)
    lhs.push_back(blk.addArgument(v->type()->scalarType()));
  for (ir::Value *v : inputs)
    rhs.push_back(blk.addArgument(v->type()->scalarType()));
  {
    ir::InsertionGuard guard(b);
    b.setInsertionPointToEnd(blk);
    std::vector<ir::Value *> ys = combine(L, lhs, rhs);
    b.yield(ys);
  }
  std::vector<ir::Value *> out;
  for (unsigned i = 0; i < op->numResults(); ++i)
    out.push_back(op->result(i));
  return out;
}

/// Normalises `axis` for inputs of one shape; with axis None the inputs are flattened to 1-D.
int64_t prepareAxis(Lowerer &L, Bound &a, size_t axisIdx, std::vector<ir::Value *> &inputs, bool &all) {
  const ir::Type *t = inputs[0]->type();
  if (t->rank() == 0)
    L.fail(a.loc(0), a.fname + "() needs a tensor, got the scalar " + t->str());
  for (ir::Value *v : inputs)
    if (v->type()->shape() != t->shape())
      L.fail(a.loc(0), a.fname + "(): all inputs must have the same shape, got " +
                           Lowerer::shapeStr(t->shape()) + " and " + Lowerer::shapeStr(v->type()->shape()));
  all = !a.has(axisIdx);
  if (all) {
    for (ir::Value *&v : inputs)
      if (v->type()->rank() != 1)
        v = L.reshape(v, {v->type()->numElements()}, a.callLoc);
    return 0;
  }
  return L.axisArg(a[axisIdx], a.loc(axisIdx), t->rank(), a.fname, "axis");
}

/// Applies keep_dims to a reduction result.
ir::Value *keepDims(Lowerer &L, ir::Value *r, bool keep, bool all, int64_t axis, unsigned origRank,
                    SourceLoc loc) {
  if (!keep)
    return r;
  if (all)
    return L.reshape(r, std::vector<int64_t>(origRank, 1), loc);
  return L.expandDims(r, axis, loc);
}

DType sumDType(DType d) {
  if (ir::isInteger(d) && ir::bitWidth(d) < 32)
    return ir::isUnsigned(d) ? DType::U32 : DType::I32;
  if (d == DType::F16 || d == DType::BF16)
    return DType::F32;
  return d;
}

Combine binaryCombine(OpKind k) {
  return [k](Lowerer &L, const std::vector<ir::Value *> &l, const std::vector<ir::Value *> &r) {
    return std::vector<ir::Value *>{L.builder().binary(k, l[0], r[0])};
  };
}

/// (value, index) pairs: keeps the larger (isMax) value, and the smaller index on ties.
Combine argCombine(bool isMax) {
  return [isMax](Lowerer &L, const std::vector<ir::Value *> &l, const std::vector<ir::Value *> &r) {
    ir::Builder &b = L.builder();
    ir::Value *better = b.cmp(isMax ? "gt" : "lt", l[0], r[0]);
    ir::Value *tie = b.binary(OpKind::And, b.cmp("eq", l[0], r[0]), b.cmp("lt", l[1], r[1]));
    ir::Value *pick = b.binary(OpKind::Or, better, tie);
    return std::vector<ir::Value *>{b.select(pick, l[0], r[0]), b.select(pick, l[1], r[1])};
  };
}

} // namespace

ir::Value *indexAlong(Lowerer &L, const std::vector<int64_t> &shape, int64_t axis, SourceLoc loc) {
  ir::Value *r = L.builder().makeRange(0, shape[axis]);
  for (int64_t i = 0; i < axis; ++i)
    r = L.expandDims(r, 0, loc);
  for (size_t i = axis + 1; i < shape.size(); ++i)
    r = L.expandDims(r, int64_t(i), loc);
  return L.broadcastTo(r, shape, loc);
}

ir::Value *anyOf(Lowerer &L, ir::Value *mask, SourceLoc loc) {
  if (mask->type()->rank() != 1)
    mask = L.reshape(mask, {mask->type()->numElements()}, loc);
  return emitCombineOp(L, {mask}, 0, false, false, binaryCombine(OpKind::Or))[0];
}

// Halves by split, recursively.
std::vector<ir::Value *> slicesOfLast(Lowerer &L, ir::Value *v, SourceLoc loc) {
  std::vector<int64_t> shape = v->type()->shape();
  int64_t n = shape.back();
  shape.pop_back();
  if (n == 1)
    return {L.reshape(v, shape, loc)};
  std::vector<int64_t> pairs = shape;
  pairs.push_back(n / 2);
  pairs.push_back(2);
  const ir::Type *ht = L.types().block(v->type()->scalarType(), [&] {
    auto h = shape;
    h.push_back(n / 2);
    return h;
  }());
  ir::Operation *sp = L.builder().create(OpKind::Split, {L.reshape(v, pairs, loc)}, {ht, ht});
  std::vector<ir::Value *> even = slicesOfLast(L, sp->result(0), loc),
                           odd = slicesOfLast(L, sp->result(1), loc);
  std::vector<ir::Value *> out;
  for (size_t i = 0; i < even.size(); ++i) {
    out.push_back(even[i]);
    out.push_back(odd[i]);
  }
  return out;
}

/// The inverse of slicesOfLast: the slices stacked along a new last dim.
ir::Value *stackLast(Lowerer &L, const std::vector<ir::Value *> &parts, SourceLoc loc) {
  std::vector<int64_t> shape = parts[0]->type()->shape();
  if (parts.size() == 1)
    return L.expandDims(parts[0], int64_t(shape.size()), loc);
  std::vector<ir::Value *> even, odd;
  for (size_t i = 0; i < parts.size(); ++i)
    (i % 2 ? odd : even).push_back(parts[i]);
  ir::Value *e = stackLast(L, even, loc), *o = stackLast(L, odd, loc);
  std::vector<int64_t> joined = e->type()->shape();
  joined.push_back(2);
  ir::Value *j = L.builder().create1(OpKind::Join, {e, o}, L.types().block(e->type()->scalarType(), joined));
  shape.push_back(int64_t(parts.size()));
  return L.reshape(j, shape, loc);
}

namespace {

/// max/min (optionally with indices) and argmax/argmin.
Val argReduce(Lowerer &L, Bound &a, bool isMax, size_t axisIdx, size_t keepIdx, bool values, bool indices) {
  ir::Value *x = L.toIR(a[0], a.loc(0), "input of " + a.fname);
  unsigned rank = x->type()->rank();
  std::vector<ir::Value *> ins{x};
  bool all;
  int64_t axis = prepareAxis(L, a, axisIdx, ins, all);
  bool keep = a.has(keepIdx) && L.constBool(a[keepIdx], a.loc(keepIdx), "keep_dims");
  if (!indices) {
    auto r = emitCombineOp(L, ins, axis, false, false, binaryCombine(isMax ? OpKind::Max : OpKind::Min));
    return Val::ir(keepDims(L, r[0], keep, all, axis, rank, a.callLoc));
  }
  ins.push_back(indexAlong(L, ins[0]->type()->shape(), axis, a.callLoc));
  auto r = emitCombineOp(L, ins, axis, false, false, argCombine(isMax));
  ir::Value *v = keepDims(L, r[0], keep, all, axis, rank, a.callLoc);
  ir::Value *i = keepDims(L, r[1], keep, all, axis, rank, a.callLoc);
  if (!values)
    return Val::ir(i);
  return Val::tuple({Val::ir(v), Val::ir(i)});
}

/// The inputs of reduce/associative_scan: one tensor or a tuple of tensors.
std::vector<ir::Value *> tupleInputs(Lowerer &L, Bound &a, bool &isTuple) {
  isTuple = a[0].kind == Val::Kind::Tuple;
  std::vector<ir::Value *> ins;
  if (isTuple) {
    for (const Val &v : a[0].elems)
      ins.push_back(L.toIR(v, a.loc(0), "input of " + a.fname));
  } else {
    ins.push_back(L.toIR(a[0], a.loc(0), "input of " + a.fname));
  }
  if (ins.empty())
    L.fail(a.loc(0), a.fname + "() needs at least one input");
  return ins;
}

/// Inlines the user's combine_fn into the region: its results, cast to the element types.
Combine userCombine(const Val &fn, SourceLoc loc, const std::string &fname) {
  return [fn, loc, fname](Lowerer &L, const std::vector<ir::Value *> &l, const std::vector<ir::Value *> &r) {
    CallArgs args;
    for (ir::Value *v : l) {
      args.pos.push_back(Val::ir(v));
      args.posLocs.push_back(loc);
    }
    for (ir::Value *v : r) {
      args.pos.push_back(Val::ir(v));
      args.posLocs.push_back(loc);
    }
    Val ret = L.inlineCall(fn, args, loc);
    std::vector<Val> rs = ret.kind == Val::Kind::Tuple ? ret.elems : std::vector<Val>{ret};
    if (rs.size() != l.size())
      L.fail(loc, "the combine_fn of " + fname + "() returned " + std::to_string(rs.size()) +
                      " values, expected " + std::to_string(l.size()));
    std::vector<ir::Value *> ys;
    for (size_t i = 0; i < rs.size(); ++i) {
      const ir::Type *t = l[i]->type();
      if (rs[i].isIR() && rs[i].v->type()->isBlock())
        L.fail(loc, "the combine_fn of " + fname + "() must return scalars, got " + describe(rs[i]));
      ys.push_back(L.coerce(rs[i], t->dtype(), {}, loc, "combine_fn result"));
    }
    return ys;
  };
}

Val packResults(const std::vector<ir::Value *> &rs, bool isTuple) {
  if (!isTuple)
    return Val::ir(rs[0]);
  std::vector<Val> out;
  for (ir::Value *v : rs)
    out.push_back(Val::ir(v));
  return Val::tuple(std::move(out));
}

Val dotFn(Lowerer &L, Bound &a);

/// A batched tl.dot, [B, M, K] x [B, K, N] (+ [B, M, N]): one 2-D dot per batch (each may use tensor
/// cores), the results stacked back.
Val batchedDot(Lowerer &L, Bound &a, ir::Value *x, ir::Value *y) {
  const ir::Type *tx = x->type(), *ty = y->type();
  if (tx->rank() != 3 || ty->rank() != 3 || tx->shape()[0] != ty->shape()[0])
    L.fail(a.callLoc,
           "a batched tl.dot needs two 3D tensors of one batch size, got " + tx->str() + " and " + ty->str());
  int64_t batch = tx->shape()[0];
  auto slices = [&](ir::Value *v) { return slicesOfLast(L, permute(L, v, {1, 2, 0}), a.callLoc); };
  std::vector<ir::Value *> xs = slices(x), ys = slices(y), accs;
  if (a.has(2) && a[2].isIR()) {
    const ir::Type *tc = a[2].v->type();
    if (tc->rank() != 3 || tc->shape()[0] != batch)
      L.fail(a.loc(2), "tl.dot accumulator must have shape " +
                           Lowerer::shapeStr({batch, tx->shape()[1], ty->shape()[2]}) + ", got " + tc->str());
    accs = slices(a[2].v);
  }
  std::vector<ir::Value *> out;
  for (int64_t b = 0; b < batch; ++b) {
    Bound one = a;
    one.vals[0] = Val::ir(xs[b]);
    one.vals[1] = Val::ir(ys[b]);
    if (!accs.empty())
      one.vals[2] = Val::ir(accs[b]);
    out.push_back(dotFn(L, one).v);
  }
  return Val::ir(permute(L, stackLast(L, out, a.callLoc), {2, 0, 1}));
}

Val dotFn(Lowerer &L, Bound &a) {
  ir::Value *x = L.toIR(a[0], a.loc(0), "input of tl.dot"), *y = L.toIR(a[1], a.loc(1), "other of tl.dot");
  const ir::Type *tx = x->type(), *ty = y->type();
  if (tx->rank() == 3 || ty->rank() == 3)
    return batchedDot(L, a, x, y);
  if (tx->rank() != 2 || ty->rank() != 2)
    L.fail(a.callLoc, "tl.dot needs 2D tensors, got " + tx->str() + " and " + ty->str());
  if (tx->isPointerLike() || ty->isPointerLike())
    L.fail(a.callLoc, "tl.dot of pointers is not supported");
  int64_t M = tx->shape()[0], K = tx->shape()[1], K2 = ty->shape()[0], N = ty->shape()[1];
  if (K != K2)
    L.fail(a.callLoc, "incompatible shapes for tl.dot: " + Lowerer::shapeStr(tx->shape()) + " and " +
                          Lowerer::shapeStr(ty->shape()) + " (the inner dimensions differ)");
  if (M < 16 || N < 16 || K < 16)
    L.fail(a.callLoc, "tl.dot needs M, N and K of at least 16, got M=" + std::to_string(M) +
                          ", N=" + std::to_string(N) + ", K=" + std::to_string(K));
  DType dx = tx->dtype(), dy = ty->dtype();
  if (ir::isFp8(dx) && ir::isFp8(dy)) {
    // fp8 operands (either format, mixed too, as Triton's Hopper dots) are exact in fp16: the product is
    // an fp16 dot accumulating in f32, the same values as an fp8 MMA.
    x = L.castTo(x, DType::F16);
    y = L.castTo(y, DType::F16);
    tx = x->type();
    ty = y->type();
    dx = dy = DType::F16;
  }
  if (dx != dy)
    L.fail(a.callLoc, "tl.dot operands must have the same dtype, got " +
                          std::string(ir::tritonDtypeName(dx)) + " and " +
                          std::string(ir::tritonDtypeName(dy)));
  DType out;
  if (dx == DType::I8) {
    out = DType::I32;
  } else if (dx == DType::F16 || dx == DType::BF16 || dx == DType::F32 || dx == DType::F64) {
    out = dx == DType::F64 ? DType::F64 : DType::F32;
    if (a.has(6)) {
      out = L.asDType(a[6], a.loc(6), "out_dtype");
      if (out != DType::F32 && !(out == DType::F16 && dx == DType::F16) && out != DType::F64)
        L.fail(a.loc(6), "tl.dot out_dtype must be float32 (or float16 for float16 inputs)");
    }
  } else {
    L.fail(a.callLoc, "tl.dot does not support " + std::string(ir::tritonDtypeName(dx)) + " inputs");
  }
  std::vector<int64_t> shape{M, N};
  ir::Value *acc;
  if (a.has(2)) {
    const Val &c = a[2];
    if (c.isIR()) {
      if (c.v->type()->shape() != shape)
        L.fail(a.loc(2), "tl.dot accumulator must have shape " + Lowerer::shapeStr(shape) + ", got " +
                             c.v->type()->str());
      acc = c.v;
      out = acc->type()->dtype();
    } else {
      acc = L.coerce(c, out, shape, a.loc(2), "acc");
    }
  } else {
    acc = L.constant(Val::integer(0), L.types().block(L.scalarType(out), shape));
  }
  std::vector<ir::NamedAttr> attrs;
  if (dx == DType::F32) {
    std::string prec = "tf32";
    if (a.has(4) && !L.constBool(a[4], a.loc(4), "allow_tf32"))
      prec = "ieee";
    if (a.has(3)) {
      if (a[3].kind != Val::Kind::Str)
        L.fail(a.loc(3), "input_precision must be a string");
      prec = a[3].s;
      if (prec != "tf32" && prec != "tf32x3" && prec != "ieee")
        L.fail(a.loc(3), "input_precision must be one of 'tf32', 'tf32x3', 'ieee', got '" + prec + "'");
    }
    attrs.push_back({"input_precision", prec});
  }
  return Val::ir(L.builder().create1(OpKind::Dot, {x, y, acc}, acc->type(), attrs));
}

} // namespace

void registerReduceBuiltins(BuiltinTable &t) {
  t["dot"] = {
      {"input", "other", "acc?", "input_precision?", "allow_tf32?", "max_num_imprecise_acc?", "out_dtype?"},
      dotFn};
  t["sum"] = {{"input", "axis?", "keep_dims?", "dtype?"}, [](Lowerer &L, Bound &a) {
                ir::Value *x = L.toIR(a[0], a.loc(0), "input of tl.sum");
                if (x->type()->isPointerLike())
                  L.fail(a.loc(0), "tl.sum of pointers is not supported");
                DType d = a.has(3) ? L.asDType(a[3], a.loc(3), "dtype") : sumDType(x->type()->dtype());
                unsigned rank = x->type()->rank();
                std::vector<ir::Value *> ins{x};
                bool all;
                int64_t axis = prepareAxis(L, a, 1, ins, all);
                ins[0] = L.castTo(ins[0], d);
                bool keep = a.has(2) && L.constBool(a[2], a.loc(2), "keep_dims");
                auto r = emitCombineOp(L, ins, axis, false, false, binaryCombine(OpKind::Add));
                return Val::ir(keepDims(L, r[0], keep, all, axis, rank, a.callLoc));
              }};
  // tl.softmax(x, dim=0): exp(x - max) / sum along `dim`, both reductions broadcast back along it, so the
  // result has x's shape whatever keep_dims says (accepted for Triton's signature). `/` is the fast division
  // unless ieee_rounding.
  t["softmax"] = {{"x", "dim?", "keep_dims?", "ieee_rounding?"}, [](Lowerer &L, Bound &a) {
                    ir::Value *x = L.toIR(a[0], a.loc(0), "input of tl.softmax");
                    if (x->type()->isPointerLike() || !x->type()->isFloatLike() || x->type()->rank() == 0)
                      L.fail(a.loc(0),
                             "tl.softmax() expects a floating-point tensor, got " + x->type()->str());
                    int64_t dim = a.has(1) ? L.axisArg(a[1], a.loc(1), x->type()->rank(), a.fname, "dim") : 0;
                    ir::Builder &b = L.builder();
                    std::vector<int64_t> shape = x->type()->shape();
                    auto along = [&](OpKind k, ir::Value *v) {
                      ir::Value *r = emitCombineOp(L, {v}, dim, false, false, binaryCombine(k))[0];
                      return L.broadcastTo(L.expandDims(r, dim, a.callLoc), shape, a.callLoc);
                    };
                    ir::Value *num = b.unary(OpKind::Exp, b.binary(OpKind::Sub, x, along(OpKind::Max, x)));
                    ir::Value *r = b.binary(OpKind::Div, num, along(OpKind::Add, num));
                    if (a.has(3) && L.constBool(a[3], a.loc(3), "ieee_rounding"))
                      r->definingOp()->setAttr("rounding", std::string("rn"));
                    return Val::ir(r);
                  }};
  // tl.histogram(input, num_bins, mask=None): the int32 count of each value 0 .. num_bins-1 among the
  // (unmasked) elements of a 1-D integer tensor, as the sum over elements of (x == bin); values outside the
  // bins count nowhere.
  t["histogram"] = {
      {"input", "num_bins", "mask?"}, [](Lowerer &L, Bound &a) {
        ir::Value *x = L.toIR(a[0], a.loc(0), "input of tl.histogram");
        if (x->type()->isPointerLike() || !x->type()->isIntLike() || x->type()->rank() != 1)
          L.fail(a.loc(0), "tl.histogram() expects a 1-D integer tensor, got " + x->type()->str());
        int64_t bins = L.constInt(a[1], a.loc(1), "num_bins");
        int64_t n = x->type()->shape()[0];
        if (bins <= 0 || (bins & (bins - 1)) != 0)
          L.fail(a.loc(1), "tl.histogram(): num_bins must be a power of 2, got " + std::to_string(bins));
        std::vector<int64_t> grid{n, bins};
        L.checkBlockShape(grid, a.callLoc);
        ir::Builder &b = L.builder();
        ir::Value *bin = b.cast(b.makeRange(0, bins), x->type()->dtype());
        ir::Value *hit = b.cmp("eq", L.broadcastTo(L.expandDims(x, 1, a.callLoc), grid, a.callLoc),
                               L.broadcastTo(L.expandDims(bin, 0, a.callLoc), grid, a.callLoc));
        if (ir::Value *m = maskArg(L, a, 2)) {
          m = L.broadcastTo(m, {n}, a.loc(2));
          hit = b.binary(OpKind::And, hit, L.broadcastTo(L.expandDims(m, 1, a.loc(2)), grid, a.loc(2)));
        }
        ir::Value *ones = b.cast(hit, DType::I32);
        return Val::ir(emitCombineOp(L, {ones}, 0, false, false, binaryCombine(OpKind::Add))[0]);
      }};
  t["xor_sum"] = {{"input", "axis?", "keep_dims?"}, [](Lowerer &L, Bound &a) {
                    ir::Value *x = L.toIR(a[0], a.loc(0), "input of tl.xor_sum");
                    if (!x->type()->isIntLike())
                      L.fail(a.loc(0), "tl.xor_sum needs an integer tensor, got " + x->type()->str());
                    unsigned rank = x->type()->rank();
                    std::vector<ir::Value *> ins{x};
                    bool all;
                    int64_t axis = prepareAxis(L, a, 1, ins, all);
                    bool keep = a.has(2) && L.constBool(a[2], a.loc(2), "keep_dims");
                    auto r = emitCombineOp(L, ins, axis, false, false, binaryCombine(OpKind::Xor));
                    return Val::ir(keepDims(L, r[0], keep, all, axis, rank, a.callLoc));
                  }};
  for (bool isMax : {true, false}) {
    t[isMax ? "max" : "min"] = {{"input", "axis?", "return_indices?", "return_indices_tie_break_left?",
                                 "keep_dims?", "propagate_nan?"},
                                [isMax](Lowerer &L, Bound &a) {
                                  bool idx = a.has(2) && L.constBool(a[2], a.loc(2), "return_indices");
                                  return argReduce(L, a, isMax, 1, 4, true, idx);
                                }};
    t[isMax ? "argmax" : "argmin"] = {
        {"input", "axis", "tie_break_left?", "keep_dims?"},
        [isMax](Lowerer &L, Bound &a) { return argReduce(L, a, isMax, 1, 3, false, true); }};
  }
  t["reduce"] = {{"input", "axis", "combine_fn", "keep_dims?"}, [](Lowerer &L, Bound &a) {
                   bool isTuple;
                   std::vector<ir::Value *> ins = tupleInputs(L, a, isTuple);
                   if (a[2].kind != Val::Kind::Func)
                     L.fail(a.loc(2), "combine_fn must be a @triton.jit function, got " + describe(a[2]));
                   unsigned rank = ins[0]->type()->rank();
                   bool all;
                   int64_t axis = prepareAxis(L, a, 1, ins, all);
                   bool keep = a.has(3) && L.constBool(a[3], a.loc(3), "keep_dims");
                   auto rs = emitCombineOp(L, ins, axis, false, false, userCombine(a[2], a.callLoc, a.fname));
                   for (ir::Value *&r : rs)
                     r = keepDims(L, r, keep, all, axis, rank, a.callLoc);
                   return packResults(rs, isTuple);
                 }};
  t["associative_scan"] = {
      {"input", "axis", "combine_fn", "reverse?"}, [](Lowerer &L, Bound &a) {
        bool isTuple;
        std::vector<ir::Value *> ins = tupleInputs(L, a, isTuple);
        if (a[2].kind != Val::Kind::Func)
          L.fail(a.loc(2), "combine_fn must be a @triton.jit function, got " + describe(a[2]));
        bool all;
        int64_t axis = prepareAxis(L, a, 1, ins, all);
        if (all)
          L.fail(a.loc(0), "tl.associative_scan needs an axis");
        bool reverse = a.has(3) && L.constBool(a[3], a.loc(3), "reverse");
        auto rs = emitCombineOp(L, ins, axis, true, reverse, userCombine(a[2], a.callLoc, a.fname));
        return packResults(rs, isTuple);
      }};
  for (bool isSum : {true, false}) {
    t[isSum ? "cumsum" : "cumprod"] = {
        {"input", "axis?", "reverse?", "dtype?"}, [isSum](Lowerer &L, Bound &a) {
          ir::Value *x = L.toIR(a[0], a.loc(0), "input of " + a.fname);
          if (x->type()->rank() == 0)
            L.fail(a.loc(0), a.fname + "() needs a tensor, got " + x->type()->str());
          DType d = a.has(3) ? L.asDType(a[3], a.loc(3), "dtype")
                    : isSum  ? sumDType(x->type()->dtype())
                             : x->type()->dtype();
          int64_t axis = a.has(1) ? L.constInt(a[1], a.loc(1), "axis") : 0;
          int64_t rank = x->type()->rank();
          if (axis < 0)
            axis += rank;
          if (axis < 0 || axis >= rank)
            L.fail(a.loc(1), a.fname + "(): axis out of range");
          bool reverse = a.has(2) && L.constBool(a[2], a.loc(2), "reverse");
          x = L.castTo(x, d);
          auto r =
              emitCombineOp(L, {x}, axis, true, reverse, binaryCombine(isSum ? OpKind::Add : OpKind::Mul));
          return Val::ir(r[0]);
        }};
  }
}

} // namespace mt::lower
