// Shape ops: make_range, splat, broadcast, expand_dims/reshape (row-major), trans, join, split, gather.
// They move elements without looking at them, so they dispatch on the element size only.
#include "backend/cpu/Exec.h"

namespace mt::cpu {

namespace {

/// out[j] = in[sum_d j_d * strides[d]] over the output shape.
template <class E>
void gather(const E *in, E *out, const std::vector<int64_t> &shape, const std::vector<int64_t> &strides) {
  size_t rank = shape.size();
  if (rank == 0) {
    out[0] = in[0];
    return;
  }
  int64_t inner = shape[rank - 1], innerStride = strides[rank - 1];
  size_t outer = 1;
  for (size_t d = 0; d + 1 < rank; ++d)
    outer *= size_t(shape[d]);
  std::vector<int64_t> idx(rank, 0);
  int64_t base = 0;
  for (size_t o = 0; o < outer; ++o) {
    const E *src = in + base;
    if (innerStride == 1)
      std::copy(src, src + inner, out);
    else
      for (int64_t j = 0; j < inner; ++j)
        out[j] = src[j * innerStride];
    out += inner;
    // Advance the odometer over the outer dims.
    for (int64_t d = int64_t(rank) - 2; d >= 0; --d) {
      base += strides[d];
      if (++idx[d] < shape[d])
        break;
      base -= strides[d] * shape[d];
      idx[d] = 0;
    }
  }
}

std::vector<int64_t> rowMajorStrides(const std::vector<int64_t> &shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (int64_t d = int64_t(shape.size()) - 2; d >= 0; --d)
    s[d] = s[d + 1] * shape[d + 1];
  return s;
}

void gatherTile(const Tile &in, Tile &out, const std::vector<int64_t> &strides) {
  MT_DISPATCH_SIZE(in.elemSize(), E, gather(in.data<E>(), out.data<E>(), out.shape(), strides));
}

} // namespace

Tile evalMakeRange(const ir::Operation &op) {
  int64_t start = op.intAttr("start"), end = op.intAttr("end");
  Tile r = Tile::ofType(op.result()->type());
  if (end - start != int64_t(r.numel()) || r.rank() != 1 || r.isPtr())
    fail("make_range result does not match [start, end)");
  MT_DISPATCH_DTYPE(r.dtype(), T, {
    if constexpr (!IsFloatElem<T>) {
      T *o = r.data<T>();
      for (int64_t i = 0; i < end - start; ++i)
        o[i] = Num<T>::make(typename Num<T>::C(start + i));
    } else {
      fail("make_range must produce integers");
    }
  });
  return r;
}

Tile evalSplat(const ir::Operation &op, const Tile &a) {
  Tile r = Tile::ofType(op.result()->type());
  if (a.numel() != 1 || r.dtype() != a.dtype() || r.isPtr() != a.isPtr())
    fail("splat takes a scalar of the result's element type");
  MT_DISPATCH_SIZE(a.elemSize(), E, {
    E v = a.data<E>()[0];
    E *o = r.data<E>();
    std::fill(o, o + r.numel(), v);
  });
  return r;
}

Tile evalBroadcast(const ir::Operation &op, const Tile &a) {
  Tile r = Tile::ofType(op.result()->type());
  if (r.dtype() != a.dtype() || r.isPtr() != a.isPtr())
    fail("broadcast changes the element type");
  if (a.rank() > r.rank())
    fail("broadcast to a lower rank");
  std::vector<int64_t> inStrides = rowMajorStrides(a.shape());
  std::vector<int64_t> strides(r.rank(), 0);
  size_t lead = r.rank() - a.rank();
  for (size_t d = 0; d < a.rank(); ++d) {
    int64_t in = a.shape()[d], out = r.shape()[lead + d];
    if (in != out && in != 1)
      fail("cannot broadcast " + a.shapeStr() + " to " + r.shapeStr());
    strides[lead + d] = in == 1 ? 0 : inStrides[d];
  }
  gatherTile(a, r, strides);
  return r;
}

Tile evalReshape(const ir::Operation &op, const Tile &a) {
  Tile r = Tile::ofType(op.result()->type());
  if (r.numel() != a.numel() || r.dtype() != a.dtype() || r.isPtr() != a.isPtr())
    fail("cannot reshape " + a.shapeStr() + " to " + r.shapeStr());
  std::memcpy(r.raw(), a.raw(), a.numel() * a.elemSize());
  return r;
}

Tile evalTrans(const ir::Operation &op, const Tile &a) {
  Tile r = Tile::ofType(op.result()->type());
  std::vector<int64_t> order = op.intsAttr("order");
  if (order.empty() && a.rank() == 2)
    order = {1, 0};
  if (order.size() != a.rank() || r.rank() != a.rank() || r.dtype() != a.dtype())
    fail("trans: order does not match the operand's rank");
  std::vector<int64_t> inStrides = rowMajorStrides(a.shape());
  std::vector<int64_t> strides(a.rank());
  std::vector<bool> used(a.rank(), false);
  for (size_t i = 0; i < order.size(); ++i) {
    int64_t d = order[i];
    if (d < 0 || d >= int64_t(a.rank()) || used[d] || r.shape()[i] != a.shape()[d])
      fail("trans: bad order");
    used[d] = true;
    strides[i] = inStrides[d];
  }
  gatherTile(a, r, strides);
  return r;
}

Tile evalGather(const ir::Operation &op, const Tile &src, const Tile &index, Executor &ex) {
  Tile r = Tile::ofType(op.result()->type());
  int64_t axis = op.intAttr("axis");
  size_t rank = src.rank();
  if (index.rank() != rank || r.shape() != index.shape() || r.dtype() != src.dtype() || index.isPtr() ||
      axis < 0 || axis >= int64_t(rank))
    fail("gather: operands do not match (" + src.shapeStr() + ", " + index.shapeStr() + ")");
  for (size_t d = 0; d < rank; ++d)
    if (int64_t(d) != axis && index.shape()[d] != src.shape()[d])
      fail("gather: index dim " + std::to_string(d) + " must match the source");
  std::vector<int64_t> inStrides = rowMajorStrides(src.shape());
  std::vector<int64_t> coords(rank, 0);
  int64_t extent = src.shape()[axis];
  MT_DISPATCH_SIZE(src.elemSize(), E, {
    const E *in = src.data<E>();
    E *out = r.data<E>();
    for (size_t i = 0; i < r.numel(); ++i) {
      int64_t k = index.getInt(i);
      if (k < 0 || k >= extent)
        fail("tl.gather: index " + std::to_string(k) + " is outside [0, " + std::to_string(extent) +
             ") along axis " + std::to_string(axis) + " " + ex.where(int64_t(i)));
      int64_t at = 0;
      for (size_t d = 0; d < rank; ++d)
        at += (int64_t(d) == axis ? k : coords[d]) * inStrides[d];
      out[i] = in[at];
      for (int64_t d = int64_t(rank) - 1; d >= 0; --d) // the next coordinate of the result, row-major
        if (++coords[d] < r.shape()[d])
          break;
        else
          coords[d] = 0;
    }
  });
  return r;
}

Tile evalJoin(const ir::Operation &op, const Tile &a, const Tile &b) {
  Tile r = Tile::ofType(op.result()->type());
  if (!a.sameLayout(b) || r.numel() != 2 * a.numel())
    fail("join operands must have one type and shape");
  MT_DISPATCH_SIZE(a.elemSize(), E, {
    const E *x = a.data<E>(), *y = b.data<E>();
    E *o = r.data<E>();
    for (size_t i = 0; i < a.numel(); ++i) {
      o[2 * i] = x[i];
      o[2 * i + 1] = y[i];
    }
  });
  return r;
}

void evalSplit(const ir::Operation &op, const Tile &a, Tile &lo, Tile &hi) {
  lo = Tile::ofType(op.result(0)->type());
  hi = Tile::ofType(op.result(1)->type());
  if (a.rank() == 0 || a.shape().back() != 2 || lo.numel() * 2 != a.numel() || hi.numel() != lo.numel())
    fail("split takes a tile whose last dimension is 2");
  MT_DISPATCH_SIZE(a.elemSize(), E, {
    const E *x = a.data<E>();
    E *p = lo.data<E>(), *q = hi.data<E>();
    for (size_t i = 0; i < lo.numel(); ++i) {
      p[i] = x[2 * i];
      q[i] = x[2 * i + 1];
    }
  });
}

} // namespace mt::cpu
