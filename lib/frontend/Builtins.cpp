// tl.* builtins that create tiles, access memory, change shapes, and help debugging; Python builtins
// (range, min, len, float, ...). Each entry: the signature (names as in Triton's documentation) and a
// handler. Math, elementwise and casts are in BuiltinsMath.cpp; dot, reductions and scans in
// BuiltinsReduce.cpp.
#include "frontend/LowerImpl.h"

#include <cmath>
#include <iostream>

namespace mt::lower {

using ir::DType;
using ir::OpKind;

ir::Value *maskArg(Lowerer &L, Bound &a, size_t i) {
  if (!a.has(i))
    return nullptr;
  ir::Value *m = L.toIR(a[i], a.loc(i), "mask");
  // As in Triton, only booleans: an integer mask (`mask=offs` for `mask=offs < n`) is an error, not `!= 0`.
  if (m->type()->isPointerLike() || m->type()->dtype() != DType::I1)
    L.fail(a.loc(i), "mask must be boolean (e.g. `offs < n`), got " + m->type()->str());
  return m;
}

namespace {

/// The pointer operand of a memory builtin.
ir::Value *pointerArg(Lowerer &L, Bound &a, size_t i) {
  const Val &p = a[i];
  if (!p.isIR() || !p.v->type()->isPointerLike())
    L.fail(a.loc(i), a.fname + "() expects a pointer or a tensor of pointers, got " + describe(p));
  return p.v;
}

/// A shape given as `*shape` (several ints, or one tuple/list).
std::vector<int64_t> varShape(Lowerer &L, Bound &a, const std::string &what) {
  if (a.rest.size() == 1 && a.rest[0].kind == Val::Kind::Tuple)
    return L.asShape(a.rest[0], a.restLoc(0), what);
  std::vector<int64_t> s;
  for (size_t i = 0; i < a.rest.size(); ++i)
    s.push_back(L.constInt(a.rest[i], a.restLoc(i), what));
  return s;
}

ir::Value *tileArg(Lowerer &L, Bound &a, size_t i) {
  return L.toIR(a[i], a.loc(i), "argument of " + a.fname);
}

Val atomicRmw(Lowerer &L, Bound &a, const char *kind) {
  ir::Value *ptr = pointerArg(L, a, 0);
  ir::Value *mask = maskArg(L, a, 2);
  std::vector<int64_t> shape = ptr->type()->shape();
  shape = L.broadcastShapes(shape, Lowerer::shapeOf(a[1]), a.loc(1));
  if (mask)
    shape = L.broadcastShapes(shape, mask->type()->shape(), a.loc(2));
  DType elem = ptr->type()->dtype();
  ptr = L.broadcastTo(ptr, shape, a.callLoc);
  ir::Value *val = L.coerce(a[1], elem, shape, a.loc(1), "val");
  std::vector<ir::Value *> ops{ptr, val};
  if (mask)
    ops.push_back(L.broadcastTo(mask, shape, a.loc(2)));
  const ir::Type *rt = L.types().shaped(L.scalarType(elem), shape);
  return Val::ir(L.builder().create1(OpKind::AtomicRmw, ops, rt, {{"kind", std::string(kind)}}));
}

Val hint(Lowerer &L, Bound &a, const char *name) {
  ir::Value *x = tileArg(L, a, 0);
  std::vector<int64_t> vals = L.asShape(a[1], a.loc(1), std::string(name) + " values");
  return Val::ir(L.builder().create1(OpKind::Hint, {x}, x->type(), {{name, vals}}));
}

Val makeRange(Lowerer &L, Bound &a, bool isStatic) {
  Val start = a[0], end, step = Val::integer(1);
  if (a.has(1)) {
    end = a[1];
  } else {
    end = start;
    start = Val::integer(0);
  }
  if (a.has(2))
    step = a[2];
  Val r;
  r.kind = Val::Kind::Range;
  r.b = isStatic;
  r.elems = {start, end, step};
  for (size_t i = 0; i < 3; ++i) {
    const Val &v = r.elems[i];
    if (isStatic && !v.isIntLike())
      L.fail(a.callLoc, "tl.static_range bounds must be compile-time integers, got " + describe(v));
    if (v.isNumber() && !v.isIntLike())
      L.fail(a.callLoc, "range bounds must be integers, got " + describe(v));
    if (v.isIntLike())
      r.elems[i] = Val::integer(v.asInt());
  }
  if (r.elems[2].kind == Val::Kind::Int && r.elems[2].i == 0)
    L.fail(a.callLoc, "range step must not be zero");
  // tl.range(..., num_stages=N): the loop's own pipeline depth (a fourth element; the CUDA backend reads it
  // from the for op's num_stages attribute).
  if (!isStatic && a.vals.size() > 3 && a.has(3)) {
    if (!a[3].isIntLike())
      L.fail(a.loc(3), "tl.range num_stages must be a compile-time integer, got " + describe(a[3]));
    r.elems.push_back(Val::integer(a[3].asInt()));
  }
  return r;
}

double parseFloatText(Lowerer &L, const std::string &s, SourceLoc loc) {
  std::string t;
  for (char c : s)
    if (c != ' ')
      t += char(std::tolower(c));
  if (t == "inf" || t == "+inf" || t == "infinity")
    return INFINITY;
  if (t == "-inf" || t == "-infinity")
    return -INFINITY;
  if (t == "nan" || t == "+nan" || t == "-nan")
    return NAN;
  char *end = nullptr;
  double d = std::strtod(t.c_str(), &end);
  if (t.empty() || *end)
    L.fail(loc, "could not convert string to float: '" + s + "'");
  return d;
}

// ---- Block pointers (tl.make_block_ptr) ----
// Loads and stores expand a block pointer (LowerImpl.h) into a pointer tile and a bounds mask; in loops only
// its offsets change (they are carried like any tuple leaf).

/// The pointer tile of a block pointer and the mask of the dims in `check` (null if none).
std::pair<ir::Value *, ir::Value *> expandBlockPtr(Lowerer &L, const Val &bp,
                                                   const std::vector<int64_t> &check, SourceLoc loc) {
  const std::vector<Val> &f = bp.elems;
  size_t rank = f[kBpBlock].elems.size();
  Val ptr = f[kBpBase];
  Val mask;
  bool hasMask = false;
  for (size_t d = 0; d < rank; ++d) {
    Val idx = Val::ir(L.builder().makeRange(0, f[kBpBlock].elems[d].i));
    idx = L.binary(ast::BinOpKind::Add, f[kBpOffsets].elems[d], idx, loc);
    for (size_t e = 0; e < rank; ++e)
      if (e != d)
        idx = Val::ir(L.expandDims(idx.v, int64_t(e), loc));
    ptr = L.binary(ast::BinOpKind::Add, ptr, L.binary(ast::BinOpKind::Mul, idx, f[kBpStrides].elems[d], loc),
                   loc);
    if (std::find(check.begin(), check.end(), int64_t(d)) == check.end())
      continue;
    Val inb = L.binary(ast::BinOpKind::BitAnd, L.compare(ast::CmpOpKind::GtE, idx, Val::integer(0), loc),
                       L.compare(ast::CmpOpKind::Lt, idx, f[kBpShape].elems[d], loc), loc);
    mask = hasMask ? L.binary(ast::BinOpKind::BitAnd, mask, inb, loc) : inb;
    hasMask = true;
  }
  std::vector<int64_t> shape;
  for (const Val &b : f[kBpBlock].elems)
    shape.push_back(b.i);
  ir::Value *p = L.broadcastTo(ptr.v, shape, loc);
  ir::Value *m = hasMask ? L.broadcastTo(mask.v, shape, loc) : nullptr;
  return {p, m};
}

std::vector<int64_t> boundaryCheck(Lowerer &L, Bound &a, size_t i, size_t rank) {
  if (!a.has(i))
    return {};
  std::vector<int64_t> dims = L.asShape(a[i], a.loc(i), "boundary_check");
  for (int64_t d : dims)
    if (d < 0 || d >= int64_t(rank))
      L.fail(a.loc(i), "boundary_check dimension " + std::to_string(d) + " is out of range");
  return dims;
}

Val blockPtrLoad(Lowerer &L, Bound &a) {
  if (a.has(1) || a.has(2))
    L.fail(a.callLoc, "tl.load of a block pointer takes boundary_check, not mask/other");
  auto check = boundaryCheck(L, a, 3, a[0].elems[kBpBlock].elems.size());
  auto [p, m] = expandBlockPtr(L, a[0], check, a.callLoc);
  ir::Value *other = nullptr;
  if (m) {
    std::string pad = a.has(4) && a[4].kind == Val::Kind::Str ? a[4].s : "zero";
    const ir::Type *t = L.types().withElement(p->type(), L.scalarType(p->type()->dtype()));
    other = L.constant(pad == "nan" ? Val::floating(NAN) : Val::integer(0), t);
  }
  return Val::ir(L.builder().load(p, m, other));
}

/// A source-located error naming both shapes unless `v` broadcasts to the shape of a load's or store's
/// pointer (Lowerer::broadcastTo's rule, with the operation and operand in the message). Builds no IR.
void checkFitsPointer(Lowerer &L, ir::Value *v, const std::vector<int64_t> &shape, const char *op,
                      const char *what, SourceLoc loc) {
  std::vector<int64_t> vs = v->type()->shape();
  bool fits = vs.size() <= shape.size();
  for (size_t i = 0; fits && i < vs.size(); ++i)
    fits = vs[i] == 1 || vs[i] == shape[shape.size() - vs.size() + i];
  if (!fits)
    L.fail(loc, std::string(op) + ": the " + what + " (shape " + Lowerer::shapeStr(vs) +
                    ") does not broadcast to the pointer's shape " + Lowerer::shapeStr(shape) +
                    (shape.empty() ? " (a scalar pointer: add the offsets to the pointer)" : ""));
}

Val blockPtrStore(Lowerer &L, Bound &a) {
  if (a.has(2))
    L.fail(a.loc(2), "tl.store to a block pointer takes boundary_check, not mask");
  auto check = boundaryCheck(L, a, 3, a[0].elems[kBpBlock].elems.size());
  auto [p, m] = expandBlockPtr(L, a[0], check, a.callLoc);
  ir::Value *val = L.coerce(a[1], p->type()->dtype(), p->type()->shape(), a.loc(1), "value");
  L.builder().store(p, val, m);
  return Val::none();
}

/// Argument i of `fn` (`what`: "shape", "strides", "offsets"): a tuple or list of n integer scalars.
Val intScalars(Lowerer &L, Bound &a, size_t i, size_t n, const char *fn, const char *what, const char *kind) {
  if (a[i].kind != Val::Kind::Tuple || a[i].elems.size() != n)
    L.fail(a.loc(i), std::string(fn) + ": " + what + " must be a " + kind + " of " + std::to_string(n) +
                         " values" + (std::string(kind) == "list" ? " (one per block dim)" : ""));
  for (const Val &v : a[i].elems)
    if (!v.isIntLike() && !(v.isIR() && v.v->type()->isScalar() && v.v->type()->isIntLike()))
      L.fail(a.loc(i), std::string(fn) + ": " + what + " must be integer scalars, got " + describe(v));
  return Val::tuple(a[i].elems);
}

Val makeBlockPtr(Lowerer &L, Bound &a) {
  const Val &base = a[0];
  if (!base.isIR() || !base.v->type()->isPointer())
    L.fail(a.loc(0), "tl.make_block_ptr base must be a scalar pointer, got " + describe(base));
  std::vector<int64_t> block = L.asShape(a[4], a.loc(4), "block_shape");
  L.checkBlockShape(block, a.loc(4));
  Val bp = Val::tuple({});
  bp.s = "block_ptr";
  bp.elems.push_back(base);
  static const char *const what[] = {"", "shape", "strides", "offsets"};
  for (size_t i = 1; i <= 3; ++i)
    bp.elems.push_back(intScalars(L, a, i, block.size(), "tl.make_block_ptr", what[i], "tuple"));
  std::vector<Val> blockVals;
  for (int64_t b : block)
    blockVals.push_back(Val::integer(b));
  bp.elems.push_back(Val::tuple(blockVals));
  bp.elems.push_back(a[5]);
  return bp;
}

Val advanceBlockPtr(Lowerer &L, Bound &a) {
  if (!isBlockPtr(a[0]))
    L.fail(a.loc(0), "tl.advance needs a block pointer, got " + describe(a[0]));
  Val bp = a[0];
  std::vector<Val> &offs = bp.elems[kBpOffsets].elems;
  if (a[1].kind != Val::Kind::Tuple || a[1].elems.size() != offs.size())
    L.fail(a.loc(1), "tl.advance offsets must be a tuple of " + std::to_string(offs.size()) + " values");
  for (size_t i = 0; i < offs.size(); ++i)
    offs[i] = L.binary(ast::BinOpKind::Add, offs[i], a[1].elems[i], a.loc(1));
  return bp;
}

// ---- Tensor descriptors (tl.make_tensor_descriptor; the record: LowerImpl.h) ----
// desc.load(offsets) / desc.store(offsets, value) (and tl.load_tensor_descriptor /
// tl.store_tensor_descriptor) read or write the block at `offsets` as a block pointer checked in every dim:
// elements outside `shape` read as zero (padding "nan": NaN) and are not written. Triton issues TMA copies
// for them; the values are the same.

Val makeTensorDesc(Lowerer &L, Bound &a) {
  const Val &base = a[0];
  if (!base.isIR() || !base.v->type()->isPointer())
    L.fail(a.loc(0), "tl.make_tensor_descriptor base must be a scalar pointer, got " + describe(base));
  std::vector<int64_t> block = L.asShape(a[3], a.loc(3), "block_shape");
  L.checkBlockShape(block, a.loc(3));
  if (block.empty() || block.size() > 5)
    L.fail(a.loc(3), "tl.make_tensor_descriptor: block_shape must have 1 to 5 dims, got " +
                         std::to_string(block.size()));
  Val shape = intScalars(L, a, 1, block.size(), "tl.make_tensor_descriptor", "shape", "list");
  Val strides = intScalars(L, a, 2, block.size(), "tl.make_tensor_descriptor", "strides", "list");
  const Val &last = strides.elems.back();
  if (last.isIntLike() && last.asInt() != 1)
    L.fail(a.loc(2), "tl.make_tensor_descriptor: the last dim must be contiguous (stride 1), got stride " +
                         std::to_string(last.asInt()));
  std::string pad = a.has(4) ? (a[4].kind == Val::Kind::Str ? a[4].s : "?") : "zero";
  if (pad != "zero" && pad != "nan")
    L.fail(a.loc(4), "tl.make_tensor_descriptor: padding_option must be \"zero\" or \"nan\"");
  return tensorDesc(base, shape.elems, strides.elems, block, pad == "nan");
}

/// The descriptor argument a[0] of a descriptor method.
const Val &descArg(Lowerer &L, Bound &a) {
  if (!isTensorDesc(a[0]))
    L.fail(a.loc(0), a.fname + " needs a tensor descriptor, got " + describe(a[0]));
  return a[0];
}

/// A load of pointers p under mask m, with the descriptor's padding where m is false.
Val paddedLoad(Lowerer &L, Bound &a, ir::Value *p, ir::Value *m) {
  const ir::Type *t = L.types().withElement(p->type(), L.scalarType(p->type()->dtype()));
  bool nan = a[0].elems[kTdPadding].s == "nan";
  if (nan && !ir::isFloat(p->type()->dtype()))
    L.fail(a.callLoc, a.fname + ": padding \"nan\" needs a floating-point descriptor");
  return Val::ir(L.builder().load(p, m, L.constant(nan ? Val::floating(NAN) : Val::integer(0), t)));
}

/// A store of argument a[vi] to pointers p under mask m (the value broadcast to their shape).
Val maskedStore(Lowerer &L, Bound &a, size_t vi, ir::Value *p, ir::Value *m) {
  if (a[vi].isIR() && !a[vi].v->type()->isPointerLike())
    checkFitsPointer(L, a[vi].v, p->type()->shape(), a.fname.c_str(), "value", a.loc(vi));
  L.builder().store(p, L.coerce(a[vi], p->type()->dtype(), p->type()->shape(), a.loc(vi), "value"), m);
  return Val::none();
}

/// The block pointer of descriptor `a[0]` at offsets `a[1]`, checked in every dim.
std::pair<ir::Value *, ir::Value *> descBlock(Lowerer &L, Bound &a) {
  const Val &td = descArg(L, a);
  size_t rank = td.elems[kTdBlock].elems.size();
  Val offsets = intScalars(L, a, 1, rank, a.fname.c_str(), "offsets", "list");
  Val bp = Val::tuple({td.elems[kTdBase], td.elems[kTdShape], td.elems[kTdStrides], offsets,
                       td.elems[kTdBlock], Val::none()});
  bp.s = "block_ptr";
  std::vector<int64_t> every;
  for (size_t d = 0; d < rank; ++d)
    every.push_back(int64_t(d));
  return expandBlockPtr(L, bp, every, a.callLoc);
}

Val descLoad(Lowerer &L, Bound &a) {
  auto [p, m] = descBlock(L, a);
  return paddedLoad(L, a, p, m);
}

Val descStore(Lowerer &L, Bound &a) {
  auto [p, m] = descBlock(L, a);
  return maskedStore(L, a, 2, p, m);
}

/// desc.atomic_<kind>(offsets, value): the read-modify-write on the block, elements outside the shape left
/// alone (Triton's TMA reductions return nothing).
Val descAtomic(Lowerer &L, Bound &a, const char *kind) {
  auto [p, m] = descBlock(L, a);
  ir::Value *val = L.coerce(a[2], p->type()->dtype(), p->type()->shape(), a.loc(2), "value");
  std::vector<ir::Value *> ops{p, val};
  if (m)
    ops.push_back(m);
  L.builder().create1(OpKind::AtomicRmw, ops, val->type(), {{"kind", std::string(kind)}});
  return Val::none();
}

/// The pointers and in-bounds mask of rows x_offsets (a 1-D tensor) and the block's columns from y_offset of
/// a 2-D descriptor whose block has one row (desc.gather / desc.scatter).
std::pair<ir::Value *, ir::Value *> descRows(Lowerer &L, Bound &a, size_t xi, size_t yi) {
  const Val &td = descArg(L, a);
  const std::vector<Val> &block = td.elems[kTdBlock].elems;
  if (block.size() != 2 || block[0].i != 1)
    L.fail(a.loc(0), a.fname + " needs a 2-D descriptor whose block has one row, got block_shape " +
                         describe(td.elems[kTdBlock]));
  ir::Value *rows = L.toIR(a[xi], a.loc(xi), "x_offsets of " + a.fname);
  if (rows->type()->rank() != 1 || !rows->type()->isIntLike() || rows->type()->isPointerLike())
    L.fail(a.loc(xi), a.fname + ": x_offsets must be a 1-D integer tensor, got " + rows->type()->str());
  Val r = Val::ir(L.expandDims(rows, 1, a.loc(xi)));
  Val c = L.binary(ast::BinOpKind::Add, a[yi],
                   Val::ir(L.expandDims(L.builder().makeRange(0, block[1].i), 0, a.callLoc)), a.loc(yi));
  const std::vector<Val> &shape = td.elems[kTdShape].elems, &strides = td.elems[kTdStrides].elems;
  Val ptr = L.binary(ast::BinOpKind::Add, td.elems[kTdBase],
                     L.binary(ast::BinOpKind::Mul, r, strides[0], a.callLoc), a.callLoc);
  ptr =
      L.binary(ast::BinOpKind::Add, ptr, L.binary(ast::BinOpKind::Mul, c, strides[1], a.callLoc), a.callLoc);
  auto inside = [&](const Val &i, const Val &n) {
    return L.binary(ast::BinOpKind::BitAnd, L.compare(ast::CmpOpKind::GtE, i, Val::integer(0), a.callLoc),
                    L.compare(ast::CmpOpKind::Lt, i, n, a.callLoc), a.callLoc);
  };
  Val mask = L.binary(ast::BinOpKind::BitAnd, inside(r, shape[0]), inside(c, shape[1]), a.callLoc);
  std::vector<int64_t> out{rows->type()->shape()[0], block[1].i};
  return {L.broadcastTo(ptr.v, out, a.callLoc), L.broadcastTo(mask.v, out, a.callLoc)};
}

Val descGather(Lowerer &L, Bound &a) {
  auto [p, m] = descRows(L, a, 1, 2);
  return paddedLoad(L, a, p, m);
}

Val descScatter(Lowerer &L, Bound &a) {
  auto [p, m] = descRows(L, a, 2, 3);
  return maskedStore(L, a, 1, p, m);
}

} // namespace

Val tensorDesc(Val base, std::vector<Val> shape, std::vector<Val> strides, const std::vector<int64_t> &block,
               bool nanPadding) {
  std::vector<Val> blockVals;
  for (int64_t b : block)
    blockVals.push_back(Val::integer(b));
  Val td = Val::tuple({std::move(base), Val::tuple(std::move(shape)), Val::tuple(std::move(strides)),
                       Val::tuple(std::move(blockVals)), Val::str(nanPadding ? "nan" : "zero")});
  td.s = "tensor_desc";
  return td;
}

SourceLoc Bound::restLoc(size_t i) const {
  return i < restLocs.size() && restLocs[i].isValid() ? restLocs[i] : callLoc;
}

void registerCoreBuiltins(BuiltinTable &t) {
  // ---- Program and index space ----
  t["program_id"] = {{"axis"}, [](Lowerer &L, Bound &a) {
                       int64_t ax = L.constInt(a[0], a.loc(0), "program_id axis");
                       if (ax < 0 || ax > 2)
                         L.fail(a.loc(0), "program_id axis must be 0, 1 or 2, got " + std::to_string(ax));
                       return Val::ir(L.builder().programId(int(ax)));
                     }};
  t["num_programs"] = {{"axis"}, [](Lowerer &L, Bound &a) {
                         int64_t ax = L.constInt(a[0], a.loc(0), "num_programs axis");
                         if (ax < 0 || ax > 2)
                           L.fail(a.loc(0), "num_programs axis must be 0, 1 or 2, got " + std::to_string(ax));
                         return Val::ir(L.builder().create1(OpKind::NumPrograms, {}, L.scalarType(DType::I32),
                                                            {{"axis", ax}}));
                       }};
  t["arange"] = {{"start", "end"}, [](Lowerer &L, Bound &a) {
                   int64_t s = L.constInt(a[0], a.loc(0), "arange start");
                   int64_t e = L.constInt(a[1], a.loc(1), "arange end");
                   if (s < INT32_MIN || s > INT32_MAX || e < INT32_MIN || e > INT32_MAX)
                     L.fail(a.callLoc, "arange's arguments must be within the int32 range");
                   if (e <= s)
                     L.fail(a.callLoc, "arange's end argument must be greater than the start argument");
                   int64_t n = e - s;
                   if ((n & (n - 1)) != 0)
                     L.fail(a.callLoc, "arange's range must be a power of 2, got " + std::to_string(n));
                   if (n > (1 << 20))
                     L.fail(a.callLoc, "arange's range must be at most 1048576, got " + std::to_string(n));
                   return Val::ir(L.builder().makeRange(s, e));
                 }};

  // ---- Creation ----
  t["zeros"] = {{"shape", "dtype"}, [](Lowerer &L, Bound &a) {
                  std::vector<int64_t> shape = L.asShape(a[0], a.loc(0), "shape");
                  L.checkBlockShape(shape, a.loc(0));
                  DType d = L.asDType(a[1], a.loc(1), "dtype");
                  return Val::ir(L.constant(Val::integer(0), L.types().shaped(L.scalarType(d), shape)));
                }};
  t["zeros_like"] = {
      {"input", "dtype?"}, [](Lowerer &L, Bound &a) {
        ir::Value *x = tileArg(L, a, 0);
        DType d = a.has(1) ? L.asDType(a[1], a.loc(1), "dtype") : x->type()->dtype();
        return Val::ir(L.constant(Val::integer(0), L.types().shaped(L.scalarType(d), x->type()->shape())));
      }};
  t["full"] = {{"shape", "value", "dtype"}, [](Lowerer &L, Bound &a) {
                 std::vector<int64_t> shape = L.asShape(a[0], a.loc(0), "shape");
                 L.checkBlockShape(shape, a.loc(0));
                 DType d = L.asDType(a[2], a.loc(2), "dtype");
                 const Val &v = a[1];
                 if (v.isNumber())
                   return Val::ir(L.constant(v, L.types().shaped(L.scalarType(d), shape)));
                 if (!v.isIR() || v.v->type()->rank() != 0)
                   L.fail(a.loc(1), "tl.full value must be a scalar, got " + describe(v));
                 return Val::ir(L.coerce(v, d, shape, a.loc(1), "value"));
               }};

  // ---- Memory ----
  t["load"] = {{"pointer", "mask?", "other?", "boundary_check?", "padding_option?", "cache_modifier?",
                "eviction_policy?", "volatile?"},
               [](Lowerer &L, Bound &a) {
                 if (isBlockPtr(a[0]))
                   return blockPtrLoad(L, a);
                 ir::Value *ptr = pointerArg(L, a, 0);
                 ir::Value *mask = maskArg(L, a, 1);
                 if (a.has(2) && !mask)
                   L.fail(a.loc(2), "`other` cannot be provided without `mask`");
                 // As in Triton: a tensor of pointers and its mask / other broadcast to a common shape, but a
                 // scalar pointer takes only a scalar mask and other.
                 std::vector<int64_t> shape = ptr->type()->shape();
                 bool scalarPtr = shape.empty();
                 if (mask && scalarPtr)
                   checkFitsPointer(L, mask, shape, "tl.load", "mask", a.loc(1));
                 else if (mask)
                   shape = L.broadcastShapes(shape, mask->type()->shape(), a.loc(1));
                 if (a.has(2) && a[2].isIR() && !a[2].v->type()->isPointerLike()) {
                   if (scalarPtr)
                     checkFitsPointer(L, a[2].v, shape, "tl.load", "other", a.loc(2));
                   else
                     shape = L.broadcastShapes(shape, a[2].v->type()->shape(), a.loc(2));
                 }
                 ptr = L.broadcastTo(ptr, shape, a.loc(0));
                 if (mask)
                   mask = L.broadcastTo(mask, shape, a.loc(1));
                 ir::Value *other = nullptr;
                 if (a.has(2))
                   other = L.coerce(a[2], ptr->type()->dtype(), shape, a.loc(2), "other");
                 return Val::ir(L.builder().load(ptr, mask, other));
               }};
  t["store"] = {{"pointer", "value", "mask?", "boundary_check?", "cache_modifier?", "eviction_policy?"},
                [](Lowerer &L, Bound &a) {
                  if (isBlockPtr(a[0]))
                    return blockPtrStore(L, a);
                  ir::Value *ptr = pointerArg(L, a, 0);
                  ir::Value *mask = maskArg(L, a, 2);
                  // As in Triton, value and mask take the pointer's shape (a value of more elements than
                  // pointers would be stored several times into the same places).
                  std::vector<int64_t> shape = ptr->type()->shape();
                  if (a[1].isIR() && !a[1].v->type()->isPointerLike())
                    checkFitsPointer(L, a[1].v, shape, "tl.store", "value", a.loc(1));
                  ir::Value *val = L.coerce(a[1], ptr->type()->dtype(), shape, a.loc(1), "value");
                  if (mask) {
                    checkFitsPointer(L, mask, shape, "tl.store", "mask", a.loc(2));
                    mask = L.broadcastTo(mask, shape, a.loc(2));
                  }
                  L.builder().store(ptr, val, mask);
                  return Val::none();
                }};
  for (const char *k : {"add", "max", "min", "xchg", "and", "or", "xor"}) {
    std::string kind = k;
    t["atomic_" + kind] = {{"pointer", "val", "mask?", "sem?", "scope?"},
                           [kind](Lowerer &L, Bound &a) { return atomicRmw(L, a, kind.c_str()); }};
  }
  t["atomic_cas"] = {{"pointer", "cmp", "val", "sem?", "scope?"}, [](Lowerer &L, Bound &a) {
                       ir::Value *ptr = pointerArg(L, a, 0);
                       std::vector<int64_t> shape = ptr->type()->shape();
                       shape = L.broadcastShapes(shape, Lowerer::shapeOf(a[1]), a.loc(1));
                       shape = L.broadcastShapes(shape, Lowerer::shapeOf(a[2]), a.loc(2));
                       DType elem = ptr->type()->dtype();
                       ptr = L.broadcastTo(ptr, shape, a.loc(0));
                       ir::Value *cmp = L.coerce(a[1], elem, shape, a.loc(1), "cmp");
                       ir::Value *val = L.coerce(a[2], elem, shape, a.loc(2), "val");
                       const ir::Type *rt = L.types().shaped(L.scalarType(elem), shape);
                       return Val::ir(L.builder().create1(OpKind::AtomicCas, {ptr, cmp, val}, rt));
                     }};

  t["make_block_ptr"] = {{"base", "shape", "strides", "offsets", "block_shape", "order"}, makeBlockPtr};
  t["advance"] = {{"base", "offsets"}, advanceBlockPtr};
  t["make_tensor_descriptor"] = {{"base", "shape", "strides", "block_shape", "padding_option?"},
                                 makeTensorDesc};
  t["load_tensor_descriptor"] = {{"desc", "offsets"}, descLoad};
  t["store_tensor_descriptor"] = {{"desc", "offsets", "value"}, descStore};
  // tl.extra.cuda.num_warps() / num_threads(): the launch's, as compile-time values (Triton's constexprs).
  // globaltimer() / smid(): read_sreg ops.
  t["cuda.num_warps"] = {{}, [](Lowerer &L, Bound &) { return Val::integer(L.in_.numWarps); }};
  for (const char *reg : {"globaltimer", "smid"}) {
    std::string r = reg;
    t["cuda." + r] = {
        {}, [r](Lowerer &L, Bound &) {
          DType d = r == "globaltimer" ? DType::I64 : DType::I32;
          return Val::ir(L.builder().create1(OpKind::ReadSreg, {}, L.scalarType(d), {{"reg", r}}));
        }};
  }
  t["cuda.num_threads"] = {{},
                           [](Lowerer &L, Bound &) { return Val::integer(int64_t(L.in_.numWarps) * 32); }};
  t["desc.load"] = t["load_tensor_descriptor"];
  t["desc.store"] = t["store_tensor_descriptor"];
  t["desc.gather"] = {{"desc", "x_offsets", "y_offset"}, descGather};
  t["desc.scatter"] = {{"desc", "value", "x_offsets", "y_offset"}, descScatter};
  for (const char *kind : {"add", "min", "max", "and", "or", "xor"})
    t[std::string("desc.atomic_") + kind] = {{"desc", "offsets", "value"},
                                             [kind](Lowerer &L, Bound &a) { return descAtomic(L, a, kind); }};

  // ---- Shapes ----
  auto reshapeFn = [](Lowerer &L, Bound &a) {
    ir::Value *x = tileArg(L, a, 0);
    std::vector<int64_t> shape = varShape(L, a, "shape");
    L.checkBlockShape(shape, a.callLoc);
    return Val::ir(L.reshape(x, shape, a.callLoc));
  };
  t["reshape"] = {{"input", "*shape", "can_reorder?"}, reshapeFn};
  t["view"] = {{"input", "*shape"}, reshapeFn};
  t["ravel"] = {{"x", "can_reorder?"}, [](Lowerer &L, Bound &a) {
                  ir::Value *x = tileArg(L, a, 0);
                  return Val::ir(L.reshape(x, {x->type()->numElements()}, a.callLoc));
                }};
  auto transFn = [](Lowerer &L, Bound &a) {
    ir::Value *x = tileArg(L, a, 0);
    int64_t rank = x->type()->rank();
    std::vector<int64_t> order = varShape(L, a, "dims");
    if (order.empty()) {
      if (rank != 2)
        L.fail(a.callLoc, a.fname + "() of a tensor of rank " + std::to_string(rank) + " needs the dims");
      order = {1, 0};
    }
    if (int64_t(order.size()) != rank)
      L.fail(a.callLoc,
             a.fname + "(): dims " + Lowerer::shapeStr(order) + " do not match rank " + std::to_string(rank));
    std::vector<bool> seen(rank, false);
    std::vector<int64_t> shape;
    for (int64_t &d : order) {
      if (d < 0)
        d += rank;
      if (d < 0 || d >= rank || seen[d])
        L.fail(a.callLoc, a.fname + "(): dims must be a permutation of 0.." + std::to_string(rank - 1));
      seen[d] = true;
      shape.push_back(x->type()->shape()[d]);
    }
    const ir::Type *rt = L.types().block(x->type()->scalarType(), shape);
    return Val::ir(L.builder().create1(OpKind::Trans, {x}, rt, {{"order", order}}));
  };
  t["trans"] = {{"input", "*dims"}, transFn};
  t["permute"] = {{"input", "*dims"}, transFn};
  t["expand_dims"] = {{"input", "axis"}, [](Lowerer &L, Bound &a) {
                        ir::Value *x = tileArg(L, a, 0);
                        std::vector<int64_t> axes = L.asShape(a[1], a.loc(1), "axis");
                        int64_t newRank = x->type()->rank() + int64_t(axes.size());
                        for (int64_t &ax : axes)
                          if (ax < 0)
                            ax += newRank;
                        std::sort(axes.begin(), axes.end());
                        for (int64_t ax : axes)
                          x = L.expandDims(x, ax, a.loc(1));
                        return Val::ir(x);
                      }};
  t["broadcast_to"] = {{"input", "*shape"}, [](Lowerer &L, Bound &a) {
                         ir::Value *x = tileArg(L, a, 0);
                         std::vector<int64_t> shape = varShape(L, a, "shape");
                         L.checkBlockShape(shape, a.callLoc);
                         return Val::ir(L.broadcastTo(x, shape, a.callLoc));
                       }};
  t["broadcast"] = {{"input", "other"}, [](Lowerer &L, Bound &a) {
                      ir::Value *x = tileArg(L, a, 0), *y = tileArg(L, a, 1);
                      auto shape = L.broadcastShapes(x->type()->shape(), y->type()->shape(), a.callLoc);
                      return Val::tuple({Val::ir(L.broadcastTo(x, shape, a.callLoc)),
                                         Val::ir(L.broadcastTo(y, shape, a.callLoc))});
                    }};
  t["join"] = {{"a", "b"}, [](Lowerer &L, Bound &a) {
                 auto [x, y] = L.unify(a[0], a[1], a.callLoc, "join");
                 std::vector<int64_t> shape = x->type()->shape();
                 shape.push_back(2);
                 const ir::Type *rt = L.types().block(x->type()->scalarType(), shape);
                 return Val::ir(L.builder().create1(OpKind::Join, {x, y}, rt));
               }};
  t["interleave"] = {{"a", "b"}, [](Lowerer &L, Bound &a) {
                       // join along a new last dim, then merge it into the previous one.
                       auto [x, y] = L.unify(a[0], a[1], a.callLoc, "interleave");
                       std::vector<int64_t> shape = x->type()->shape();
                       if (shape.empty())
                         L.fail(a.callLoc, "tl.interleave needs tensors, got scalars");
                       shape.push_back(2);
                       const ir::Type *jt = L.types().block(x->type()->scalarType(), shape);
                       ir::Value *j = L.builder().create1(OpKind::Join, {x, y}, jt);
                       shape.pop_back();
                       shape.back() *= 2;
                       return Val::ir(L.reshape(j, shape, a.callLoc));
                     }};
  // tl.inline_asm_elementwise(asm, constraints, args, dtype, is_pure, pack): the PTX applied to each element
  // of the broadcast arguments (the inline_asm op; GPU only: the interpreter reports it). dtype may be a
  // tuple (several outputs: a tuple of tensors). pack > 1 (several narrow elements a register) is not
  // supported.
  t["inline_asm_elementwise"] = {
      {"asm", "constraints", "args", "dtype", "is_pure", "pack"}, [](Lowerer &L, Bound &a) {
        for (size_t i : {size_t(0), size_t(1)})
          if (a[i].kind != Val::Kind::Str)
            L.fail(a.loc(i), std::string("tl.inline_asm_elementwise: ") + (i ? "constraints" : "asm") +
                                 " must be a string, got " + describe(a[i]));
        int64_t pack = L.constInt(a[5], a.loc(5), "pack");
        if (pack != 1)
          L.fail(a.loc(5), "tl.inline_asm_elementwise: pack=" + std::to_string(pack) +
                               " is not supported (only pack=1: one element a register)");
        std::vector<Val> args = a[2].kind == Val::Kind::Tuple ? a[2].elems : std::vector<Val>{a[2]};
        bool many = a[3].kind == Val::Kind::Tuple;
        std::vector<Val> dts = many ? a[3].elems : std::vector<Val>{a[3]};
        std::vector<int64_t> shape;
        std::vector<ir::Value *> ins;
        for (const Val &v : args) {
          ins.push_back(L.toIR(v, a.loc(2), "argument of tl.inline_asm_elementwise"));
          if (ins.back()->type()->isPointerLike())
            L.fail(a.loc(2),
                   "tl.inline_asm_elementwise: arguments must be numbers, got " + ins.back()->type()->str());
          shape = L.broadcastShapes(shape, ins.back()->type()->shape(), a.loc(2));
        }
        for (ir::Value *&v : ins)
          v = L.broadcastTo(v, shape, a.loc(2));
        std::string constraints = a[1].s;
        size_t outs = 0, total = 1;
        for (size_t i = 0; i < constraints.size(); ++i) {
          total += constraints[i] == ',';
          outs += constraints[i] == '=' && (i == 0 || constraints[i - 1] == ',');
        }
        if (outs != dts.size() || total != dts.size() + ins.size())
          L.fail(a.loc(1), "tl.inline_asm_elementwise: the constraints \"" + constraints + "\" name " +
                               std::to_string(outs) + " outputs and " + std::to_string(total - outs) +
                               " inputs; the call has " + std::to_string(dts.size()) + " dtypes and " +
                               std::to_string(ins.size()) + " arguments");
        std::vector<const ir::Type *> results;
        for (size_t i = 0; i < dts.size(); ++i)
          results.push_back(L.types().shaped(L.scalarType(L.asDType(dts[i], a.loc(3), "dtype")), shape));
        ir::Operation *op = L.builder().create(
            OpKind::InlineAsm, ins, results, {{"asm", a[0].s}, {"constraints", constraints}, {"pack", pack}});
        if (!many)
          return Val::ir(op->result(0));
        std::vector<Val> rs;
        for (unsigned i = 0; i < op->numResults(); ++i)
          rs.push_back(Val::ir(op->result(i)));
        return Val::tuple(std::move(rs));
      }};
  // tl.cat(input, other, can_reorder): Triton may reorder the elements and so requires can_reorder=True;
  // ours is the plain concatenation along dim 0 (one valid order): join along a new last dim, move it first,
  // merge it into dim 0.
  t["cat"] = {{"input", "other", "can_reorder?"}, [](Lowerer &L, Bound &a) {
                if (!a.has(2) || !L.constBool(a[2], a.loc(2), "can_reorder"))
                  L.fail(a.callLoc, "tl.cat: the current implementation of `cat` always may reorder elements "
                                    "(pass can_reorder=True, as Triton requires)");
                auto [x, y] = L.unify(a[0], a[1], a.callLoc, "cat");
                std::vector<int64_t> shape = x->type()->shape();
                if (shape.empty())
                  L.fail(a.callLoc, "tl.cat needs tensors, got scalars");
                shape.push_back(2);
                ir::Value *j = L.builder().create1(OpKind::Join, {x, y},
                                                   L.types().block(x->type()->scalarType(), shape));
                std::vector<int64_t> order = {int64_t(shape.size()) - 1};
                for (size_t d = 0; d + 1 < shape.size(); ++d)
                  order.push_back(int64_t(d));
                j = permute(L, j, order);
                shape.pop_back();
                shape[0] *= 2;
                return Val::ir(L.reshape(j, shape, a.callLoc));
              }};
  t["split"] = {{"a"}, [](Lowerer &L, Bound &a) {
                  ir::Value *x = tileArg(L, a, 0);
                  std::vector<int64_t> shape = x->type()->shape();
                  if (shape.empty() || shape.back() != 2)
                    L.fail(a.callLoc,
                           "tl.split needs a tensor whose last dimension is 2, got " + x->type()->str());
                  shape.pop_back();
                  const ir::Type *rt = L.types().shaped(x->type()->scalarType(), shape);
                  ir::Operation *op = L.builder().create(OpKind::Split, {x}, {rt, rt});
                  return Val::tuple({Val::ir(op->result(0)), Val::ir(op->result(1))});
                }};

  // ---- Compile-time helpers and debugging ----
  t["constexpr"] = {{"value"}, [](Lowerer &L, Bound &a) {
                      if (!isCompileTime(a[0]))
                        L.fail(a.loc(0), "tl.constexpr() needs a compile-time value, got " + describe(a[0]));
                      return a[0];
                    }};
  t["static_assert"] = {{"cond", "msg?"}, [](Lowerer &L, Bound &a) {
                          if (!isCompileTime(a[0]))
                            L.fail(a.loc(0),
                                   "tl.static_assert needs a compile-time condition, got " + describe(a[0]));
                          if (!truthy(a[0])) {
                            std::string msg = a.has(1) ? repr(a[1]) : "";
                            L.fail(a.callLoc, "static_assert failed" + (msg.empty() ? "" : ": " + msg));
                          }
                          return Val::none();
                        }};
  t["static_print"] = {{"*values", "**"}, [](Lowerer &L, Bound &a) {
                         std::string line;
                         for (size_t i = 0; i < a.rest.size(); ++i)
                           line += (i ? " " : "") + repr(a.rest[i]);
                         std::cerr << line << "\n";
                         return Val::none();
                       }};
  auto devicePrint = [](Lowerer &L, Bound &a) {
    std::string prefix = a.has(0) ? (a[0].kind == Val::Kind::Str ? a[0].s : repr(a[0])) : "";
    std::vector<ir::Value *> vals;
    for (size_t i = 0; i < a.rest.size(); ++i)
      vals.push_back(L.toIR(a.rest[i], a.restLoc(i), "device_print argument"));
    L.builder().create(OpKind::Print, vals, {}, {{"prefix", prefix}});
    return Val::none();
  };
  t["device_print"] = {{"prefix", "*args", "hex?"}, devicePrint};
  t["device_assert"] = {{"cond", "msg?", "mask?"}, [](Lowerer &L, Bound &a) {
                          if (isCompileTime(a[0]) && truthy(a[0]))
                            return Val::none();
                          ir::Value *c = L.toI1(L.toIR(a[0], a.loc(0), "device_assert condition"));
                          std::string msg =
                              a.has(1) ? (a[1].kind == Val::Kind::Str ? a[1].s : repr(a[1])) : "";
                          L.builder().create(OpKind::Assert, {c}, {}, {{"message", msg}});
                          return Val::none();
                        }};
  t["debug_barrier"] = {{}, [](Lowerer &L, Bound &) {
                          L.builder().create(OpKind::Barrier, {}, {});
                          return Val::none();
                        }};
  t["multiple_of"] = {{"input", "values"}, [](Lowerer &L, Bound &a) { return hint(L, a, "multiple_of"); }};
  t["max_contiguous"] = {{"input", "values"},
                         [](Lowerer &L, Bound &a) { return hint(L, a, "max_contiguous"); }};
  t["max_constancy"] = {{"input", "values"},
                        [](Lowerer &L, Bound &a) { return hint(L, a, "max_constancy"); }};
  t["assume"] = {{"cond"}, [](Lowerer &, Bound &) { return Val::none(); }};

  // ---- Loops ----
  t["static_range"] = {{"arg1", "arg2?", "step?"},
                       [](Lowerer &L, Bound &a) { return makeRange(L, a, true); }};
  t["range"] = {{"arg1", "arg2?", "step?", "num_stages?", "**"},
                [](Lowerer &L, Bound &a) { return makeRange(L, a, false); }};
  t["py.range"] = {{"start", "stop?", "step?"}, [](Lowerer &L, Bound &a) { return makeRange(L, a, false); }};

  // ---- triton.* ----
  // tl.swizzle2d(i, j, size_i, size_j, size_g): the (i, j) of a size_i x size_j grid renumbered so that
  // groups of size_g rows are walked column by column (Triton's grouped tile order), as Triton computes it.
  t["swizzle2d"] = {
      {"i", "j", "size_i", "size_j", "size_g"}, [](Lowerer &L, Bound &a) {
        for (size_t k = 0; k < 5; ++k)
          if (!(a[k].isIntLike() ||
                (a[k].isIR() && a[k].v->type()->isIntLike() && !a[k].v->type()->isPointerLike())))
            L.fail(a.loc(k), "tl.swizzle2d() expects integers, got " + describe(a[k]));
        SourceLoc loc = a.callLoc;
        auto op = [&](ast::BinOpKind k, const Val &x, const Val &y) { return L.binary(k, x, y, loc); };
        using K = ast::BinOpKind;
        Val ij = op(K::Add, op(K::Mul, a[0], a[3]), a[1]);
        Val sizeGJ = op(K::Mul, a[4], a[3]);
        Val offI = op(K::Mul, op(K::FloorDiv, ij, sizeGJ), a[4]);
        Val sizeG = minMax(L, false, op(K::Sub, a[2], offI), a[4], loc);
        ij = op(K::Mod, ij, sizeGJ);
        return Val::tuple({op(K::Add, offI, op(K::Mod, ij, sizeG)), op(K::FloorDiv, ij, sizeG)});
      }};
  t["cdiv"] = {{"x", "div"}, [](Lowerer &L, Bound &a) {
                 if (isCompileTime(a[0]) && isCompileTime(a[1])) {
                   int64_t x = L.constInt(a[0], a.loc(0), "cdiv argument");
                   int64_t y = L.constInt(a[1], a.loc(1), "cdiv argument");
                   if (y == 0)
                     L.fail(a.loc(1), "division by zero in cdiv");
                   if (x == INT64_MIN)
                     L.fail(a.loc(0), "integer overflow in cdiv");
                   Val q =
                       L.foldBinary(ast::BinOpKind::FloorDiv, Val::integer(-x), Val::integer(y), a.callLoc);
                   return Val::integer(-q.i);
                 }
                 Val s = L.binary(ast::BinOpKind::Add, a[0], a[1], a.callLoc);
                 s = L.binary(ast::BinOpKind::Sub, s, Val::integer(1), a.callLoc);
                 return L.binary(ast::BinOpKind::FloorDiv, s, a[1], a.callLoc);
               }};
  t["next_power_of_2"] = {{"n"}, [](Lowerer &L, Bound &a) {
                            int64_t n = L.constInt(a[0], a.loc(0), "next_power_of_2 argument");
                            int64_t p = 1;
                            while (p < n && p < (int64_t(1) << 62))
                              p <<= 1;
                            return Val::integer(p);
                          }};

  // ---- Python builtins ----
  t["py.float"] = {{"x?"}, [](Lowerer &L, Bound &a) {
                     if (!a.has(0))
                       return Val::floating(0.0);
                     const Val &x = a[0];
                     if (x.kind == Val::Kind::Str)
                       return Val::floating(parseFloatText(L, x.s, a.loc(0)));
                     if (x.isNumber())
                       return Val::floating(x.asDouble());
                     L.fail(a.loc(0), "float() of " + describe(x) + " is not supported; use .to(tl.float32)");
                   }};
  t["py.int"] = {{"x?"}, [](Lowerer &L, Bound &a) {
                   if (!a.has(0))
                     return Val::integer(0);
                   const Val &x = a[0];
                   if (x.kind == Val::Kind::Str) {
                     char *end = nullptr;
                     long long v = std::strtoll(x.s.c_str(), &end, 10);
                     if (x.s.empty() || *end)
                       L.fail(a.loc(0), "invalid literal for int(): '" + x.s + "'");
                     return Val::integer(v);
                   }
                   if (x.kind == Val::Kind::Float) {
                     if (!std::isfinite(x.f) || std::fabs(x.f) > 9.2e18)
                       L.fail(a.loc(0), "cannot convert float " + repr(x) + " to an integer");
                     return Val::integer(int64_t(x.f));
                   }
                   if (x.isIntLike())
                     return Val::integer(x.asInt());
                   L.fail(a.loc(0), "int() of " + describe(x) + " is not supported; use .to(tl.int32)");
                 }};
  t["py.bool"] = {{"x?"}, [](Lowerer &L, Bound &a) {
                    if (!a.has(0))
                      return Val::boolean(false);
                    return Val::boolean(L.constBool(a[0], a.loc(0), "bool() argument"));
                  }};
  // isinstance(x, cls): compile-time, for the classes a kernel can name (tl.tensor, tl.tensor_descriptor,
  // tl.constexpr, tl.dtype, int, float, bool, tuple, list, or a tuple of them).
  t["py.isinstance"] = {{"obj", "classinfo"}, [](Lowerer &L, Bound &a) {
                          const Val &x = a[0];
                          std::function<bool(const Val &)> is = [&](const Val &c) -> bool {
                            if (c.kind == Val::Kind::Tuple && c.s.empty()) {
                              for (const Val &e : c.elems)
                                if (is(e))
                                  return true;
                              return false;
                            }
                            std::string n = c.kind == Val::Kind::Builtin ? c.s : "";
                            if (n == "tensor")
                              return x.isIR();
                            if (n == "tensor_descriptor")
                              return isTensorDesc(x);
                            if (n == "constexpr")
                              return !x.isIR() && x.kind != Val::Kind::Tuple;
                            if (n == "dtype")
                              return x.kind == Val::Kind::DType;
                            if (n == "py.int")
                              return x.kind == Val::Kind::Int || x.kind == Val::Kind::Bool;
                            if (n == "py.float")
                              return x.kind == Val::Kind::Float;
                            if (n == "py.bool")
                              return x.kind == Val::Kind::Bool;
                            if (n == "py.tuple" || n == "py.list")
                              return x.kind == Val::Kind::Tuple && x.s.empty() &&
                                     x.isList == (n == "py.list");
                            L.fail(a.loc(1), "isinstance() with " + describe(c) + " is not supported");
                          };
                          return Val::boolean(is(a[1]));
                        }};
  t["py.len"] = {{"x"}, [](Lowerer &L, Bound &a) {
                   const Val &x = a[0];
                   if (x.kind == Val::Kind::Tuple)
                     return Val::integer(int64_t(x.elems.size()));
                   if (x.kind == Val::Kind::Str)
                     return Val::integer(int64_t(x.s.size()));
                   if (x.isIR() && x.v->type()->rank() > 0)
                     return Val::integer(x.v->type()->shape()[0]);
                   L.fail(a.loc(0), "len() of " + describe(x) + " is not supported");
                 }};
  t["py.tuple"] = {{"x?"}, [](Lowerer &L, Bound &a) {
                     if (!a.has(0))
                       return Val::tuple({});
                     if (a[0].kind != Val::Kind::Tuple)
                       L.fail(a.loc(0), "tuple() of " + describe(a[0]) + " is not supported");
                     return Val::tuple(a[0].elems);
                   }};
  t["py.list"] = {{"x?"}, [](Lowerer &L, Bound &a) {
                    if (!a.has(0))
                      return Val::tuple({}, true);
                    if (a[0].kind != Val::Kind::Tuple)
                      L.fail(a.loc(0), "list() of " + describe(a[0]) + " is not supported");
                    return Val::tuple(a[0].elems, true);
                  }};
  t["py.enumerate"] = {{"x", "start?"}, [](Lowerer &L, Bound &a) {
                         if (a[0].kind != Val::Kind::Tuple)
                           L.fail(a.loc(0), "enumerate() needs a tuple or list, got " + describe(a[0]));
                         int64_t start = a.has(1) ? L.constInt(a[1], a.loc(1), "enumerate start") : 0;
                         std::vector<Val> out;
                         for (size_t i = 0; i < a[0].elems.size(); ++i)
                           out.push_back(Val::tuple({Val::integer(start + int64_t(i)), a[0].elems[i]}));
                         return Val::tuple(std::move(out));
                       }};
  t["py.zip"] = {{"*xs"}, [](Lowerer &L, Bound &a) {
                   size_t n = SIZE_MAX;
                   for (size_t i = 0; i < a.rest.size(); ++i) {
                     if (a.rest[i].kind != Val::Kind::Tuple)
                       L.fail(a.restLoc(i), "zip() needs tuples or lists, got " + describe(a.rest[i]));
                     n = std::min(n, a.rest[i].elems.size());
                   }
                   std::vector<Val> out;
                   for (size_t k = 0; k < n && !a.rest.empty(); ++k) {
                     std::vector<Val> row;
                     for (const Val &x : a.rest)
                       row.push_back(x.elems[k]);
                     out.push_back(Val::tuple(std::move(row)));
                   }
                   return Val::tuple(std::move(out));
                 }};
  t["py.print"] = {{"*args", "**"}, [devicePrint](Lowerer &L, Bound &a) {
                     bool allConst = true;
                     for (const Val &v : a.rest)
                       allConst &= isCompileTime(v);
                     if (allConst) {
                       std::string line;
                       for (size_t i = 0; i < a.rest.size(); ++i)
                         line += (i ? " " : "") + repr(a.rest[i]);
                       std::cerr << line << "\n";
                       return Val::none();
                     }
                     Bound b = a;
                     b.vals.assign(1, std::nullopt);
                     b.locs.assign(1, a.callLoc);
                     if (!b.rest.empty() && b.rest[0].kind == Val::Kind::Str) {
                       b.vals[0] = b.rest[0];
                       b.rest.erase(b.rest.begin());
                       b.restLocs.erase(b.restLocs.begin());
                     }
                     return devicePrint(L, b);
                   }};

  // ---- dtype methods ----
  auto dtypePred = [&t](const char *name, std::function<bool(const ir::Type *)> pred) {
    t[std::string("dtype.") + name] = {{"self"},
                                       [pred](Lowerer &, Bound &a) { return Val::boolean(pred(a[0].type)); }};
  };
  auto sc = [](const ir::Type *ty) { return ty->isScalar(); };
  dtypePred("is_floating", [sc](const ir::Type *ty) { return sc(ty) && ir::isFloat(ty->dtype()); });
  dtypePred("is_int", [sc](const ir::Type *ty) { return sc(ty) && ir::isInteger(ty->dtype()); });
  dtypePred("is_int_signed", [sc](const ir::Type *ty) { return sc(ty) && ir::isSigned(ty->dtype()); });
  dtypePred("is_int_unsigned", [sc](const ir::Type *ty) { return sc(ty) && ir::isUnsigned(ty->dtype()); });
  dtypePred("is_bool", [sc](const ir::Type *ty) { return sc(ty) && ty->dtype() == DType::I1; });
  dtypePred("is_int1", [sc](const ir::Type *ty) { return sc(ty) && ty->dtype() == DType::I1; });
  dtypePred("is_fp16", [sc](const ir::Type *ty) { return sc(ty) && ty->dtype() == DType::F16; });
  dtypePred("is_bf16", [sc](const ir::Type *ty) { return sc(ty) && ty->dtype() == DType::BF16; });
  dtypePred("is_fp32", [sc](const ir::Type *ty) { return sc(ty) && ty->dtype() == DType::F32; });
  dtypePred("is_fp64", [sc](const ir::Type *ty) { return sc(ty) && ty->dtype() == DType::F64; });
  dtypePred("is_ptr", [](const ir::Type *ty) { return ty->isPointer(); });
  dtypePred("is_block", [](const ir::Type *ty) { return ty->isBlock(); });

  // ---- Python's math module (compile-time) ----
  auto pyMath = [&t](const char *name, double (*fn)(double)) {
    t[std::string("py.math.") + name] = {{"x"}, [fn, name](Lowerer &L, Bound &a) {
                                           if (!a[0].isNumber())
                                             L.fail(a.loc(0), std::string("math.") + name +
                                                                  "() needs a compile-time number, got " +
                                                                  describe(a[0]));
                                           return Val::floating(fn(a[0].asDouble()));
                                         }};
  };
  pyMath("log2", [](double x) { return std::log2(x); });
  pyMath("log", [](double x) { return std::log(x); });
  pyMath("exp", [](double x) { return std::exp(x); });
  pyMath("sqrt", [](double x) { return std::sqrt(x); });
  t["py.math.ceil"] = {{"x"}, [](Lowerer &L, Bound &a) {
                         if (!a[0].isNumber())
                           L.fail(a.loc(0), "math.ceil() needs a compile-time number");
                         return Val::integer(int64_t(std::ceil(a[0].asDouble())));
                       }};
  t["py.math.floor"] = {{"x"}, [](Lowerer &L, Bound &a) {
                          if (!a[0].isNumber())
                            L.fail(a.loc(0), "math.floor() needs a compile-time number");
                          return Val::integer(int64_t(std::floor(a[0].asDouble())));
                        }};
}

} // namespace mt::lower
