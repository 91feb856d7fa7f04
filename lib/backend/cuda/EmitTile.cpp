// Tile IR -> CUDA C++: ops that move elements between threads, through the kernel's dynamic shared
// memory. Each op: __syncthreads (earlier readers are done), write the source tiles by linear index,
// __syncthreads, read in the destination layout. Simple and correct; faster layouts are a later issue.
//
//   broadcast / trans / join / split: a gather from the source's linear index
//   gather  (tl.gather): the same, the coordinate along the axis read from the index tile (in registers,
//           in the result's layout); an index outside the source reads its nearest edge (the interpreter
//           reports it as an error)
//   dot     r[m, n] = acc[m, n] + sum_k a[m, k] * b[k, n], accumulated in f32 (f64, or the integer type);
//           f16/bf16 and tf32 dots of fitting shapes run on tensor cores instead (EmitDot.cpp)
#include "backend/cuda/EmitterImpl.h"

namespace mt::cuda::detail {

using namespace ir;

namespace {

/// Coordinate `d` of linear index `L` in `shape`: "((L / stride) % extent)" without the trivial parts.
std::string coord(const std::vector<int64_t> &shape, unsigned d) {
  std::vector<int64_t> st = stridesOf(shape);
  std::string e = st[d] == 1 ? "L" : "(L / " + num(st[d]) + ")";
  if (d != 0)
    e = "(" + e + " % " + num(shape[d]) + ")";
  return e;
}

} // namespace

size_t KernelEmitter::elemBytes(const Type *t) const {
  const Type *s = t->scalarType();
  if (s->isPointer())
    return 8;
  return std::max(1u, bitWidth(s->dtype()) / 8);
}

std::string KernelEmitter::smemArray(const std::string &et, size_t offset) {
  return "reinterpret_cast<" + et + " *>(mt_smem + " + std::to_string(offset) + ")";
}

std::vector<std::string> KernelEmitter::spill(const std::vector<const Value *> &srcs, const Operation &op) {
  std::vector<std::string> names;
  size_t offset = 0;
  line("__syncthreads();");
  for (const Value *v : srcs) {
    const Type *t = v->type();
    if (!t->isBlock())
      unsupported(op, "expects tile operands");
    std::string et = elemType(t, &op);
    std::string n = "v" + std::to_string(counter_++) + "_smem";
    line(et + " *" + n + " = " + smemArray(et, offset) + ";");
    int64_t p = per(t);
    line("#pragma unroll");
    open("for (int i = 0; i < " + num(p) + "; ++i)");
    lineL(lin(p));
    line("if (L < " + num(t->numElements()) + ") " + n + "[L] = " + at(v) + ";");
    close();
    offset = align16(offset + size_t(t->numElements()) * elemBytes(t));
    names.push_back(n);
  }
  useScratch(offset);
  line("__syncthreads();");
  return names;
}

void KernelEmitter::emitCombine(const Operation &op, const std::vector<std::string> &acc,
                                const std::vector<std::string> &rhs) {
  Block &body = const_cast<Operation &>(op).body(0);
  unsigned n = unsigned(acc.size());
  if (body.numArguments() != 2 * n)
    unsupported(op, "the combine region needs " + std::to_string(2 * n) + " arguments");
  for (unsigned k = 0; k < n; ++k) {
    bind(body.argument(k), acc[k]);
    bind(body.argument(n + k), rhs[k]);
  }
  std::vector<const Type *> types;
  for (unsigned k = 0; k < n; ++k)
    types.push_back(body.argument(k)->type());
  open("");
  // Scalar code without memory effects; structured control flow (a combine_fn's `if`) included.
  for (const auto &top : body.operations())
    top->walk([&](Operation *inner) {
      for (const auto &r : inner->results())
        if (r->type()->isBlock())
          unsupported(*inner, "combine regions must compute on scalars");
      if (inner->hasTrait(MemRead) || inner->hasTrait(MemWrite))
        unsupported(*inner, "combine regions must be free of side effects");
    });
  emitBlock(body, [&](const Operation &term) {
    if (term.kind() != OpKind::Yield)
      unsupported(term, "a combine region must end in yield");
    assignYield(term, operandsFrom(term, 0), acc, types);
  });
  close();
}

void KernelEmitter::emitShapeOp(const Operation &op) {
  std::vector<const Value *> srcs(op.operands().begin(), op.operands().end());
  if (op.kind() == OpKind::Gather)
    srcs.pop_back(); // the index stays in registers
  std::vector<std::string> smem = spill(srcs, op);
  const Type *src = srcs[0]->type();
  const std::vector<int64_t> &ss = src->shape();
  std::vector<int64_t> sst = stridesOf(ss);

  // For each result: the source element (by smem array and linear index) of result element L.
  auto gather = [&](const Value *result, const std::string &expr) {
    const Type *rt = result->type();
    forEach(rt, declare(result, &op),
            "(L < " + num(rt->numElements()) + ") ? " + expr + " : mt::zero<" + elemType(rt, &op) + ">()");
  };
  switch (op.kind()) {
  case OpKind::Broadcast:
  case OpKind::ExpandDims:
  case OpKind::Reshape: {
    // Reshape and expand_dims keep the element count and never get here; broadcast aligns shapes on
    // the right (NumPy) and reads coordinate 0 along stretched dims.
    const std::vector<int64_t> &ds = op.result()->type()->shape();
    if (op.kind() != OpKind::Broadcast || ds.size() < ss.size())
      unsupported(op, "cannot map " + src->str() + " to " + op.result()->type()->str());
    size_t lead = ds.size() - ss.size();
    std::string idx;
    for (size_t d = 0; d < ss.size(); ++d) {
      if (ss[d] == 1)
        continue;
      if (ss[d] != ds[d + lead])
        unsupported(op, "cannot broadcast " + src->str() + " to " + op.result()->type()->str());
      idx += (idx.empty() ? "" : " + ") + coord(ds, unsigned(d + lead)) +
             (sst[d] == 1 ? "" : " * " + num(sst[d]));
    }
    gather(op.result(), smem[0] + "[" + (idx.empty() ? "0" : idx) + "]");
    return;
  }
  case OpKind::Trans: {
    std::vector<int64_t> order = op.intsAttr("order");
    const std::vector<int64_t> &ds = op.result()->type()->shape();
    if (order.size() != ss.size() || ds.size() != ss.size())
      unsupported(op, "order must name every dimension");
    std::string idx;
    for (size_t i = 0; i < order.size(); ++i) {
      if (order[i] < 0 || order[i] >= int64_t(ss.size()) || ds[i] != ss[order[i]])
        unsupported(op, "order does not match the shapes");
      idx += (idx.empty() ? "" : " + ") + coord(ds, unsigned(i)) +
             (sst[order[i]] == 1 ? "" : " * " + num(sst[order[i]]));
    }
    gather(op.result(), smem[0] + "[" + idx + "]");
    return;
  }
  case OpKind::Gather: {
    const Value *index = op.operand(1);
    int64_t axis = op.intAttr("axis");
    const std::vector<int64_t> &ds = op.result()->type()->shape();
    std::string k = "mt::gatherIndex(" + at(index) + ", " + num(ss[axis]) + ")", idx;
    for (size_t d = 0; d < ss.size(); ++d)
      idx += (idx.empty() ? "" : " + ") + (int64_t(d) == axis ? k : coord(ds, unsigned(d))) +
             (sst[d] == 1 ? "" : " * " + num(sst[d]));
    gather(op.result(), smem[0] + "[" + idx + "]");
    return;
  }
  case OpKind::Join:
    // Result S x 2: element L is a[L / 2] for even L, b[L / 2] for odd L.
    gather(op.result(), "((L & 1) ? " + smem[1] + "[L >> 1] : " + smem[0] + "[L >> 1])");
    return;
  case OpKind::Split:
    if (ss.empty() || ss.back() != 2)
      unsupported(op, "the last dimension must be 2");
    gather(op.result(0), smem[0] + "[2 * L]");
    gather(op.result(1), smem[0] + "[2 * L + 1]");
    return;
  default:
    unsupported(op, "not a shape op");
  }
}

void KernelEmitter::emitDot(const Operation &op) {
  const Value *a = op.operand(0), *b = op.operand(1), *acc = op.operand(2);
  const Type *at_ = a->type(), *bt = b->type(), *rt = op.result()->type();
  if (at_->rank() != 2 || bt->rank() != 2 || rt->rank() != 2)
    unsupported(op, "only 2-D dot is supported, got " + at_->str() + " x " + bt->str());
  int64_t m = at_->shape()[0], k = at_->shape()[1], n = bt->shape()[1];
  if (bt->shape()[0] != k || rt->shape()[0] != m || rt->shape()[1] != n || acc->type() != rt)
    unsupported(op, "shapes do not match: " + at_->str() + " x " + bt->str() + " + " + acc->type()->str());
  if (at_->isPointerLike() || bt->isPointerLike())
    unsupported(op, "pointer operands");
  if (emitMmaDot(op))
    return;
  std::vector<std::string> smem = spill({a, b}, op);
  DType rd = rt->dtype();
  std::string accT = isFloat(rd) ? (rd == DType::F64 ? "mt::f64" : "mt::f32") : cudaTypeName(rd);
  std::string r = declare(op.result(), &op);
  int64_t p = per(rt);
  line("#pragma unroll");
  open("for (int i = 0; i < " + num(p) + "; ++i)");
  lineL(lin(p));
  open("if (L < " + num(m * n) + ")");
  line("const int mt_m = L / " + num(n) + ", mt_n = L % " + num(n) + ";");
  line(accT + " mt_s = mt::cvt<" + accT + ">(" + at(acc) + ");");
  open("for (int mt_k = 0; mt_k < " + num(k) + "; ++mt_k)");
  line("mt_s = mt::fma(mt::cvt<" + accT + ">(" + smem[0] + "[mt_m * " + num(k) + " + mt_k]), mt::cvt<" +
       accT + ">(" + smem[1] + "[mt_k * " + num(n) + " + mt_n]), mt_s);");
  close();
  line(r + "[i] = mt::cvt<" + cudaTypeName(rd) + ">(mt_s);");
  close(" else {");
  ++indent_;
  line(r + "[i] = mt::zero<" + cudaTypeName(rd) + ">();");
  close();
  close();
}

} // namespace mt::cuda::detail
