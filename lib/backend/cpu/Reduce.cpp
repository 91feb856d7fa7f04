// reduce and scan over one axis, with N operands and a combine region.
//
// The region is interpreted for every combine. When it is a single add/mul/max/min of its two
// arguments (the common case: tl.sum, tl.max, tl.cumsum, ...) a typed loop does the same arithmetic
// (rounded to the dtype after every step, as the region would) without interpreting anything.
// Reductions fold left to right; a reverse scan runs from the end (as flip → scan → flip).
#include "backend/cpu/Exec.h"

#include <cmath>

namespace mt::cpu {

using ir::OpKind;

namespace {

struct AxisSplit {
  size_t outer = 1, len = 1, inner = 1;
  unsigned axis = 0;
};

AxisSplit splitAxis(const ir::Operation &op, const Tile &t) {
  int64_t axis = op.intAttr("axis");
  int64_t rank = int64_t(t.rank());
  if (axis < 0)
    axis += rank;
  if (rank == 0 || axis < 0 || axis >= rank)
    fail("'" + std::string(op.name()) + "' axis " + std::to_string(op.intAttr("axis")) +
         " is out of range for " + t.shapeStr());
  AxisSplit s;
  s.axis = unsigned(axis);
  for (int64_t d = 0; d < rank; ++d) {
    size_t e = size_t(t.shape()[d]);
    if (d < axis)
      s.outer *= e;
    else if (d == axis)
      s.len = e;
    else
      s.inner *= e;
  }
  return s;
}

/// The op kind of a combine region that is `yield op(arg0, arg1)` (either argument order), or nothing.
std::optional<OpKind> fastCombine(const OpPlan &p) {
  if (p.regions.size() != 1 || p.operands.size() != 1)
    return std::nullopt;
  const BlockPlan &b = p.regions[0];
  if (b.args.size() != 2 || b.ops.size() != 2)
    return std::nullopt;
  const OpPlan &c = b.ops[0], &y = b.ops[1];
  OpKind k = c.op->kind();
  if (!isFastCombine(k) || c.operands.size() != 2 || y.operands.size() != 1 || y.operands[0] != c.results[0])
    return std::nullopt;
  bool direct = c.operands[0] == b.args[0] && c.operands[1] == b.args[1];
  bool swapped = c.operands[0] == b.args[1] && c.operands[1] == b.args[0];
  if (!direct && !swapped)
    return std::nullopt;
  return k;
}

/// One step of the fast path. Signed i32/i64 add/mul overflow is an error, as in the region.
template <class T> struct Combiner {
  using C = typename Num<T>::C;
  static constexpr bool Checked = std::is_same_v<T, int32_t> || std::is_same_v<T, int64_t>;
  OpKind k;
  [[noreturn]] static void overflow(const char *what, C x, C y) {
    fail("integer overflow in " + std::string(sizeof(T) == 4 ? "i32 " : "i64 ") + what + " (" +
         std::to_string(x) + ", " + std::to_string(y) + ") while combining");
  }
  T operator()(T a, T b) const {
    C x = Num<T>::get(a), y = Num<T>::get(b);
    switch (k) {
    case OpKind::Add:
      if constexpr (std::is_floating_point_v<C>)
        return Num<T>::make(x + y);
      else if constexpr (Checked) {
        T r;
        if (__builtin_add_overflow(a, b, &r))
          overflow("add", x, y);
        return r;
      } else
        return Num<T>::make(C(uint64_t(x) + uint64_t(y)));
    case OpKind::Mul:
      if constexpr (std::is_floating_point_v<C>)
        return Num<T>::make(x * y);
      else if constexpr (Checked) {
        T r;
        if (__builtin_mul_overflow(a, b, &r))
          overflow("mul", x, y);
        return r;
      } else
        return Num<T>::make(C(uint64_t(x) * uint64_t(y)));
    case OpKind::Max:
      if constexpr (std::is_floating_point_v<C>)
        return Num<T>::make(std::fmax(x, y));
      else
        return Num<T>::make(x < y ? y : x);
    default:
      if constexpr (std::is_floating_point_v<C>)
        return Num<T>::make(std::fmin(x, y));
      else
        return Num<T>::make(y < x ? y : x);
    }
  }
};

template <class T, class F> void fastReduce(const T *x, T *out, const AxisSplit &s, F f) {
  for (size_t o = 0; o < s.outer; ++o) {
    const T *src = x + o * s.len * s.inner;
    T *dst = out + o * s.inner;
    std::copy(src, src + s.inner, dst);
    for (size_t k = 1; k < s.len; ++k) {
      const T *row = src + k * s.inner;
      for (size_t i = 0; i < s.inner; ++i)
        dst[i] = f(dst[i], row[i]);
    }
  }
}

template <class T, class F> void fastScan(const T *x, T *out, const AxisSplit &s, bool reverse, F f) {
  for (size_t o = 0; o < s.outer; ++o) {
    const T *src = x + o * s.len * s.inner;
    T *dst = out + o * s.len * s.inner;
    for (size_t step = 0; step < s.len; ++step) {
      size_t k = reverse ? s.len - 1 - step : step;
      const T *row = src + k * s.inner;
      T *outRow = dst + k * s.inner;
      if (step == 0) {
        std::copy(row, row + s.inner, outRow);
        continue;
      }
      const T *prev = reverse ? outRow + s.inner : outRow - s.inner;
      for (size_t i = 0; i < s.inner; ++i)
        outRow[i] = f(prev[i], row[i]);
    }
  }
}

void checkOperands(const OpPlan &p, Operands in) {
  if (in.empty() || p.regions.size() != 1 || p.regions[0].args.size() != 2 * in.size())
    fail("'" + std::string(p.op->name()) + "' needs N operands and a combine region of 2N arguments");
  for (const Tile *t : in)
    if (t->shape() != in[0]->shape())
      fail("'" + std::string(p.op->name()) + "' operands differ in shape");
  if (p.results.size() != in.size())
    fail("'" + std::string(p.op->name()) + "' must have one result per operand");
}

/// Interprets the combine region: acc = combine(acc, elements at index `at` of the operands).
void combineSlow(const OpPlan &p, std::vector<Tile> &acc, Operands in, size_t at, Executor &ex,
                 std::vector<Tile> &args) {
  size_t n = in.size();
  args.resize(2 * n);
  for (size_t j = 0; j < n; ++j) {
    args[j] = std::move(acc[j]);
    args[n + j] = in[j]->element(at);
  }
  ex.runRegion(p.regions[0], args, acc);
  if (acc.size() != n)
    fail("combine region yields " + std::to_string(acc.size()) + " values, expected " + std::to_string(n));
  for (size_t j = 0; j < n; ++j)
    if (acc[j].numel() != 1 || acc[j].elemSize() != in[j]->elemSize())
      fail("combine region must yield scalars of the operands' types");
}

} // namespace

void evalReduce(const OpPlan &p, Operands in, std::vector<Tile> &out, Executor &ex) {
  checkOperands(p, in);
  AxisSplit s = splitAxis(*p.op, *in[0]);
  out.clear();
  for (size_t j = 0; j < in.size(); ++j) {
    out.push_back(Tile::ofType(p.op->result(unsigned(j))->type()));
    if (out[j].numel() != s.outer * s.inner || out[j].elemSize() != in[j]->elemSize())
      fail("reduce result " + out[j].shapeStr() + " does not match the operand without axis " +
           std::to_string(s.axis));
  }
  if (auto k = fastCombine(p); k && !in[0]->isPtr() && out[0].dtype() == in[0]->dtype()) {
    MT_DISPATCH_DTYPE(in[0]->dtype(), T, fastReduce(in[0]->data<T>(), out[0].data<T>(), s, Combiner<T>{*k}));
    return;
  }
  std::vector<Tile> acc, args;
  for (size_t o = 0; o < s.outer; ++o)
    for (size_t i = 0; i < s.inner; ++i) {
      size_t base = o * s.len * s.inner + i;
      acc.clear();
      for (size_t j = 0; j < in.size(); ++j)
        acc.push_back(in[j]->element(base));
      for (size_t k = 1; k < s.len; ++k)
        combineSlow(p, acc, in, base + k * s.inner, ex, args);
      for (size_t j = 0; j < in.size(); ++j)
        out[j].setElement(o * s.inner + i, acc[j]);
    }
}

void evalScan(const OpPlan &p, Operands in, std::vector<Tile> &out, Executor &ex) {
  checkOperands(p, in);
  AxisSplit s = splitAxis(*p.op, *in[0]);
  bool reverse = p.op->intAttr("reverse") != 0;
  out.clear();
  for (size_t j = 0; j < in.size(); ++j) {
    out.push_back(Tile::ofType(p.op->result(unsigned(j))->type()));
    if (out[j].numel() != in[j]->numel() || out[j].elemSize() != in[j]->elemSize())
      fail("scan result must have the operand's shape");
  }
  if (auto k = fastCombine(p); k && !in[0]->isPtr() && out[0].dtype() == in[0]->dtype()) {
    MT_DISPATCH_DTYPE(in[0]->dtype(), T,
                      fastScan(in[0]->data<T>(), out[0].data<T>(), s, reverse, Combiner<T>{*k}));
    return;
  }
  std::vector<Tile> acc, args;
  for (size_t o = 0; o < s.outer; ++o)
    for (size_t i = 0; i < s.inner; ++i) {
      size_t base = o * s.len * s.inner + i;
      for (size_t step = 0; step < s.len; ++step) {
        size_t at = base + (reverse ? s.len - 1 - step : step) * s.inner;
        if (step == 0) {
          acc.clear();
          for (size_t j = 0; j < in.size(); ++j)
            acc.push_back(in[j]->element(at));
        } else {
          combineSlow(p, acc, in, at, ex, args);
        }
        for (size_t j = 0; j < in.size(); ++j)
          out[j].setElement(at, acc[j]);
      }
    }
}

} // namespace mt::cpu
