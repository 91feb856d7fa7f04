// tl.flip, tl.sort, tl.topk and tl.gather: element orders along one dim, from reshapes into dims of 2,
// transposes, and split / join pairs. Flipping complements each bit of the index (swap the halves of every
// dim of 2); sorting is Triton's bitonic network (compare-and-swap across one dim of 2 at a time), so that
// results, NaN placement and the order of equal keys match Triton's.
#include "frontend/LowerImpl.h"

namespace mt::lower {

using ir::DType;
using ir::OpKind;

ir::Value *permute(Lowerer &L, ir::Value *v, const std::vector<int64_t> &order) {
  std::vector<int64_t> shape;
  bool identity = true;
  for (size_t i = 0; i < order.size(); ++i) {
    shape.push_back(v->type()->shape()[order[i]]);
    identity = identity && order[i] == int64_t(i);
  }
  if (identity)
    return v;
  return L.builder().create1(OpKind::Trans, {v}, L.types().block(v->type()->scalarType(), shape),
                             {{"order", order}});
}

namespace {

/// The order that moves dim `p` of a rank-`r` tensor to the last place.
std::vector<int64_t> toLast(int64_t r, int64_t p) {
  std::vector<int64_t> o;
  for (int64_t i = 0; i < r; ++i)
    if (i != p)
      o.push_back(i);
  o.push_back(p);
  return o;
}

std::vector<int64_t> inverse(const std::vector<int64_t> &o) {
  std::vector<int64_t> inv(o.size());
  for (size_t i = 0; i < o.size(); ++i)
    inv[o[i]] = int64_t(i);
  return inv;
}

/// The two halves of dim `p` (of extent 2) of each tensor in `vs` (all of one shape), in lists `lo` and `hi`
/// (index k: the halves of vs[k]), which `fn` rewrites in place.
using HalvesFn = std::function<void(std::vector<ir::Value *> &lo, std::vector<ir::Value *> &hi)>;

/// Splits dim `p` of each tensor of `vs` into its halves, lets `fn` replace them, and joins them back.
std::vector<ir::Value *> acrossPair(Lowerer &L, const std::vector<ir::Value *> &vs, int64_t p,
                                    const HalvesFn &fn) {
  ir::Builder &b = L.builder();
  std::vector<int64_t> o = toLast(vs[0]->type()->rank(), p);
  std::vector<ir::Value *> lo, hi;
  std::vector<const ir::Type *> full;
  for (ir::Value *v : vs) {
    ir::Value *z = permute(L, v, o);
    full.push_back(z->type());
    std::vector<int64_t> half(z->type()->shape().begin(), z->type()->shape().end() - 1);
    const ir::Type *ht = L.types().shaped(z->type()->scalarType(), half);
    ir::Operation *sp = b.create(OpKind::Split, {z}, {ht, ht});
    lo.push_back(sp->result(0));
    hi.push_back(sp->result(1));
  }
  fn(lo, hi);
  std::vector<ir::Value *> out;
  for (size_t i = 0; i < vs.size(); ++i)
    out.push_back(permute(L, b.create1(OpKind::Join, {lo[i], hi[i]}, full[i]), inverse(o)));
  return out;
}

int64_t log2Of(int64_t n) {
  int64_t k = 0;
  while ((int64_t(1) << k) < n)
    ++k;
  return k;
}

/// The dim argument `i` (default: the last) of x, a tensor (tensorArg).
int64_t dimArg(Lowerer &L, Bound &a, size_t i, ir::Value *x) {
  int64_t rank = x->type()->rank();
  return a.has(i) ? L.axisArg(a[i], a.loc(i), rank, a.fname, "dim") : rank - 1;
}

ir::Value *tensorArg(Lowerer &L, Bound &a) {
  ir::Value *x = L.toIR(a[0], a.loc(0), "argument of " + a.fname);
  if (x->type()->isPointerLike() || x->type()->rank() == 0)
    L.fail(a.loc(0), a.fname + "() expects a tensor of numbers, got " + x->type()->str());
  return x;
}

/// x with its last dim of n = 2^k split into k dims of 2 (the most significant first).
ir::Value *bitsOfLast(Lowerer &L, ir::Value *x, SourceLoc loc) {
  std::vector<int64_t> s = x->type()->shape();
  int64_t k = log2Of(s.back());
  s.pop_back();
  s.insert(s.end(), size_t(k), 2);
  return L.reshape(x, s, loc);
}

/// x sorted along its last dim by Triton's bitonic network. Merge stage s (1..k) sorts runs of 2^s
/// alternately up and down (the last one in the requested direction) by compare-and-swap across bits
/// s-1 .. 0 of the index.
ir::Value *sortLast(Lowerer &L, ir::Value *x, bool descending, SourceLoc loc) {
  std::vector<int64_t> shape = x->type()->shape();
  int64_t rank = int64_t(shape.size());
  if (shape.back() == 1)
    return x;
  ir::Builder &b = L.builder();
  int64_t k = log2Of(shape.back());
  ir::Value *y = bitsOfLast(L, x, loc);
  // The index along the sorted dim, in the same dims of 2 (for each stage's direction).
  ir::Value *idx = bitsOfLast(L, indexAlong(L, shape, rank - 1, loc), loc);
  for (int64_t stage = 1; stage <= k; ++stage) {
    // Runs of 2^stage: descending where bit `stage` of the index is set (the last stage: none).
    ir::Value *down;
    if (stage < k)
      down = b.cmp("ne", b.binary(OpKind::And, idx, b.constInt(idx->type(), int64_t(1) << stage)),
                   b.constInt(idx->type(), 0));
    else
      down = b.constInt(L.types().withDType(idx->type(), DType::I1), descending ? 1 : 0);
    for (int64_t bit = stage - 1; bit >= 0; --bit) {
      int64_t p = rank - 1 + (k - 1 - bit); // the dim of index bit `bit`
      auto r = acrossPair(L, {y, down}, p, [&](auto &lo, auto &hi) {
        ir::Value *swap = b.cmp("ne", b.cmp("gt", lo[0], hi[0]), lo[1]);
        ir::Value *l = b.select(swap, hi[0], lo[0]), *h = b.select(swap, lo[0], hi[0]);
        lo[0] = l;
        hi[0] = h;
      });
      y = r[0];
    }
  }
  return L.reshape(y, shape, loc);
}

/// src with its coordinate along `axis` replaced by index's elements (the gather op; index's shape).
ir::Value *gatherAlong(Lowerer &L, ir::Value *src, ir::Value *index, int64_t axis) {
  return L.builder().create1(OpKind::Gather, {src, index},
                             L.types().block(src->type()->scalarType(), index->type()->shape()),
                             {{"axis", axis}});
}

} // namespace

void registerOrderBuiltins(BuiltinTable &t) {
  // tl.flip(x, dim=last): index i becomes n - 1 - i, which complements each of its bits: the dim, moved
  // last and split into dims of 2, has each of them reversed.
  t["flip"] = {{"x", "dim?"}, [](Lowerer &L, Bound &a) {
                 ir::Value *x = tensorArg(L, a);
                 int64_t rank = x->type()->rank(), dim = dimArg(L, a, 1, x);
                 if (x->type()->shape()[dim] == 1)
                   return Val::ir(x);
                 std::vector<int64_t> outer = toLast(rank, dim);
                 ir::Value *y = permute(L, x, outer);
                 std::vector<int64_t> moved = y->type()->shape();
                 y = bitsOfLast(L, y, a.callLoc);
                 for (int64_t p = rank - 1; p < y->type()->rank(); ++p)
                   y = acrossPair(L, {y}, p, [](auto &lo, auto &hi) { std::swap(lo[0], hi[0]); })[0];
                 return Val::ir(permute(L, L.reshape(y, moved, a.callLoc), inverse(outer)));
               }};
  // tl.sort(x, dim=last, descending=False): along the last dim only, as in Triton.
  t["sort"] = {{"x", "dim?", "descending?"}, [](Lowerer &L, Bound &a) {
                 ir::Value *x = tensorArg(L, a);
                 int64_t rank = x->type()->rank(), dim = dimArg(L, a, 1, x);
                 if (dim != rank - 1)
                   L.fail(a.loc(1), "tl.sort(): only the last dim can be sorted, as in Triton (got dim " +
                                        std::to_string(dim) + " of " + x->type()->str() + ")");
                 bool descending = a.has(2) && L.constBool(a[2], a.loc(2), "descending");
                 return Val::ir(sortLast(L, x, descending, a.callLoc));
               }};
  // tl.gather(src, index, axis): out[..., i, ...] = src[..., index[..., i, ...], ...] along axis; src and
  // index of one rank, equal extents on the other dims (Triton's rules). An index outside src is an error
  // on the CPU (undefined in Triton; the GPU reads the nearest edge).
  t["gather"] = {{"src", "index", "axis"}, [](Lowerer &L, Bound &a) {
                   ir::Value *src = tensorArg(L, a);
                   ir::Value *index = L.toIR(a[1], a.loc(1), "index of tl.gather");
                   const ir::Type *it = index->type();
                   if (it->isPointerLike() || !it->isIntLike() || it->dtype() == DType::I1)
                     L.fail(a.loc(1), "tl.gather(): index must be an integer tensor, got " + it->str());
                   int64_t rank = src->type()->rank();
                   if (it->rank() != rank)
                     L.fail(a.loc(1), "tl.gather(): source and index must have the same rank, got " +
                                          src->type()->str() + " and " + it->str());
                   int64_t axis = L.axisArg(a[2], a.loc(2), rank, a.fname, "axis");
                   for (int64_t d = 0; d < rank; ++d)
                     if (d != axis && it->shape()[d] != src->type()->shape()[d])
                       L.fail(a.loc(1), "tl.gather(): index dim " + std::to_string(d) + " (" + it->str() +
                                            ") must match the source's (" + src->type()->str() + ")");
                   return Val::ir(gatherAlong(L, src, index, axis));
                 }};
  // tl.topk(x, k, dim=last): the k largest elements along the last dim, largest first (Triton's order; k a
  // power of two); `descending=False` gives the k smallest, smallest first. The whole dim is sorted, then
  // its first k elements gathered.
  t["topk"] = {{"x", "k", "dim?", "descending?"}, [](Lowerer &L, Bound &a) {
                 ir::Value *x = tensorArg(L, a);
                 int64_t rank = x->type()->rank(), dim = dimArg(L, a, 2, x);
                 std::vector<int64_t> shape = x->type()->shape();
                 if (dim != rank - 1)
                   L.fail(a.loc(2), "tl.topk(): only the last dim is supported, as in Triton (got dim " +
                                        std::to_string(dim) + " of " + x->type()->str() + ")");
                 int64_t k = L.constInt(a[1], a.loc(1), "k");
                 if (k < 1 || k > shape.back() || (k & (k - 1)) != 0)
                   L.fail(a.loc(1), "tl.topk(): k must be a power of two from 1 to " +
                                        std::to_string(shape.back()) + ", got " + std::to_string(k));
                 bool descending = !a.has(3) || L.constBool(a[3], a.loc(3), "descending");
                 ir::Value *sorted = sortLast(L, x, descending, a.callLoc);
                 if (k == shape.back())
                   return Val::ir(sorted);
                 shape.back() = k;
                 return Val::ir(gatherAlong(L, sorted, indexAlong(L, shape, rank - 1, a.callLoc), rank - 1));
               }};
}

} // namespace mt::lower
