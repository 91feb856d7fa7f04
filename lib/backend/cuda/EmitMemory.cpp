// Tile IR -> CUDA C++: loads, stores, atomics, print and assert.
//
// Tile memory ops run per element, masked by the op's mask and by `L < N` (padding elements of threads
// beyond the tile). Scalar loads are done by every thread (the value is uniform); scalar stores and
// atomics by thread 0 only, an atomic's old value then broadcast to all threads through shared memory.
#include "backend/cuda/EmitterImpl.h"

#include <cstdio>
#include <map>

namespace mt::cuda::detail {

using namespace ir;

namespace {

std::string cString(const std::string &s) {
  std::string r = "\"";
  for (char c : s) {
    switch (c) {
    case '"':
      r += "\\\"";
      break;
    case '\\':
      r += "\\\\";
      break;
    case '\n':
      r += "\\n";
      break;
    case '\t':
      r += "\\t";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\%03o", c);
        r += buf;
      } else {
        r += c;
      }
    }
  }
  return r + "\"";
}

void walkMemoryOps(const Block &b, size_t &narrowest) {
  for (const auto &op : b.operations()) {
    if ((op->kind() == OpKind::Load || op->kind() == OpKind::Store) && op->numOperands() > 0 &&
        op->operand(0)->type()->isBlock()) {
      if (size_t bytes = vecElemBytes(op->operand(0)->type()))
        narrowest = std::min(narrowest, bytes);
    }
    for (unsigned r = 0; r < op->numRegions(); ++r)
      walkMemoryOps(op->region(r).block(), narrowest);
  }
}

} // namespace

/// Byte width of a memory element that vector accesses may move, or 0 (pointers, i1, void).
size_t vecElemBytes(const Type *ptrType) {
  const Type *e = ptrType->scalarType();
  if (!e->isPointer() || e->element()->isPointer() || e->element()->isVoid())
    return 0;
  DType d = e->element()->dtype();
  if (d == DType::I1)
    return 0;
  return std::max(1u, bitWidth(d) / 8);
}

int64_t KernelEmitter::chooseVecElems(const Function &f) {
  size_t narrowest = 4;
  walkMemoryOps(f.body(), narrowest);
  return std::min<int64_t>(8, int64_t(16 / narrowest));
}

/// Emits, inside a group loop over `mt_g`, `mt_p0` (the group's first pointer) and `mt_vec` (whether the
/// group can be one vector access: aligned, consecutive pointers, unmasked, no padding), reading the
/// operands through at() so that lazy (never materialised) pointers and masks work too.
void KernelEmitter::emitVectorChecks(const Value *ptr, const Value *mask, int64_t p, int64_t v,
                                     int64_t numElements, size_t bytes, int layout) {
  std::string V = std::to_string(v), et = elemType(ptr->type(), nullptr);
  std::string linear = layout < 0 ? lin(p) : linIn(ptr->type(), layout);
  auto element = [&](const std::string &index, const std::string &body) {
    open("");
    line("const int i = " + index + ";");
    if (usesLinearIndex(body))
      lineL(linear);
    line(body);
    close();
  };
  line(et + " mt_p0;");
  line("bool mt_vec;");
  std::string first = "mt_p0 = " + at(ptr) + "; mt_vec = mt::aligned<" +
                      std::to_string(std::min<size_t>(16, bytes * size_t(v))) + ">(mt_p0)";
  if (p * threads_ > numElements)
    first += " && L + " + V + " <= " + std::to_string(numElements);
  // Pointers and masks that the axis analysis proves consecutive / uniform over the group need no
  // per-element check (EmitAxis.cpp).
  bool maskUniform = mask && mask->type()->isBlock() && axisInfo(mask, v).kind == AxisInfo::Uniform;
  if (maskUniform)
    first += " && " + at(mask);
  element("mt_g", first + ";");
  AxisInfo::Kind ptrKind = axisInfo(ptr, v).kind;
  if (ptrKind == AxisInfo::EndsContig) { // one comparison: the last element (EmitAxis.cpp)
    element("mt_g + " + std::to_string(v - 1),
            "mt_vec = mt_vec && " + at(ptr) + " == mt_p0 + " + std::to_string(v - 1) + ";");
  } else if (ptrKind != AxisInfo::Contig) {
    line("#pragma unroll");
    open("for (int mt_j = 1; mt_j < " + V + "; ++mt_j)");
    element("mt_g + mt_j", "mt_vec = mt_vec && " + at(ptr) + " == mt_p0 + mt_j;");
    close();
  }
  if (mask && mask->type()->isBlock() && !maskUniform) {
    line("#pragma unroll");
    open("for (int mt_j = 0; mt_j < " + V + "; ++mt_j)");
    element("mt_g + mt_j", "mt_vec = mt_vec && " + at(mask) + ";");
    close();
  } else if (mask && !mask->type()->isBlock()) {
    line("mt_vec = mt_vec && " + at(mask) + ";");
  }
}

void KernelEmitter::emitVectorGroups(const Value *ptr, const Value *mask, int64_t p, int64_t v,
                                     int64_t numElements, size_t bytes, const std::string &vectorStmt,
                                     const std::string &elementStmt, const std::string &maskedOffStmt,
                                     int layout) {
  std::string V = std::to_string(v);
  std::string linear = layout < 0 ? lin(p) : linIn(ptr->type(), layout);
  line("#pragma unroll");
  open("for (int mt_g = 0; mt_g < " + std::to_string(p) + "; mt_g += " + V + ")");
  // Proven at compile time (EmitAxis.cpp: the launch's 16-byte pointer hints, offsets' divisibility): no
  // alignment or contiguity check and no element path, as Triton's vectorisation.
  AxisInfo pi = axisInfo(ptr, v);
  bool blockMask = mask && mask->type()->isBlock();
  if (pi.kind == AxisInfo::Contig && pi.div >= int64_t(std::min<size_t>(16, bytes * size_t(v))) &&
      p * threads_ <= numElements && (!blockMask || axisInfo(mask, v).kind == AxisInfo::Uniform)) {
    std::string et = elemType(ptr->type(), nullptr);
    open("");
    line("const int i = mt_g;");
    std::string first = et + " const mt_p0 = " + at(ptr) + ";";
    std::string cond = mask ? at(mask) : "";
    if (usesLinearIndex(first + cond))
      lineL(linear);
    line(first);
    if (cond.empty()) {
      line(vectorStmt);
    } else {
      line("const bool mt_vec = " + cond + ";");
      open("if (mt_vec)");
      line(vectorStmt);
      if (!maskedOffStmt.empty()) {
        close(" else {");
        ++indent_;
        line("#pragma unroll");
        open("for (int mt_j = 0; mt_j < " + V + "; ++mt_j)");
        line("const int i = mt_g + mt_j;");
        if (usesLinearIndex(maskedOffStmt))
          lineL(linear);
        line(maskedOffStmt);
        close();
      }
      close();
    }
    close();
    close();
    return;
  }
  emitVectorChecks(ptr, mask, p, v, numElements, bytes, layout);
  open("if (mt_vec)");
  line(vectorStmt);
  close(" else {");
  ++indent_;
  line("#pragma unroll");
  open("for (int mt_j = 0; mt_j < " + V + "; ++mt_j)");
  line("const int i = mt_g + mt_j;");
  // In a loop, opaque to the optimiser: the rare element path's addresses are computed here, not hoisted
  // out of the loop into registers held across it (outside loops that would only cost common
  // subexpressions with the checks).
  lineL(loopDepth_ > 0 ? "mt::opaque(" + linear + ")" : linear);
  line(elementStmt);
  close();
  close();
  close();
}

std::optional<std::pair<int64_t, int64_t>> KernelEmitter::vectorGroupsIn(const Type *t, int layout) const {
  bool frag = layout >= 0 && !isStrip(layout);
  if (frag && (isFragRow(layout) || t->rank() != 2))
    return std::nullopt;
  int64_t p = perIn(t, layout), v = frag ? 2 : isStrip(layout) ? stripOf(layout).v : vecWidth(p);
  if (v < 2)
    return std::nullopt;
  return std::make_pair(p, v);
}

bool KernelEmitter::emitVectorLoad(const Operation &op, const std::string &dst) {
  const Value *ptr = op.operand(0);
  const Value *mask = op.numOperands() > 1 ? op.operand(1) : nullptr;
  const Value *other = op.numOperands() > 2 ? op.operand(2) : nullptr;
  const Type *rt = op.result()->type();
  if (!rt->isBlock() || !ptr->type()->isBlock())
    return false;
  int layout = layoutOf(op.result());
  auto groups = vectorGroupsIn(rt, layout);
  size_t bytes = vecElemBytes(ptr->type());
  if (!groups || bytes == 0)
    return false;
  auto [p, v] = *groups;
  std::string et = elemType(rt, &op);
  std::string r = dst.empty() ? declare(op.result(), &op) : dst;
  std::string n = std::to_string(rt->numElements());
  std::string otherExpr = other ? at(other) : "mt::zero<" + et + ">()";
  emitVectorGroups(ptr, mask, p, v, rt->numElements(), bytes,
                   "mt::loadVec<" + std::to_string(v) + ">(&" + r + "[mt_g], mt_p0);",
                   r + "[i] = (L < " + n + (mask ? " && " + at(mask) : std::string()) + ") ? *" + at(ptr) +
                       " : " + otherExpr + ";",
                   r + "[i] = " + otherExpr + ";", layout);
  return true;
}

bool KernelEmitter::emitVectorStore(const Operation &op) {
  const Value *ptr = op.operand(0), *val = op.operand(1);
  const Value *mask = op.numOperands() > 2 ? op.operand(2) : nullptr;
  const Type *pt = ptr->type();
  if (!pt->isBlock() || !val->type()->isBlock() || isLazy(val))
    return false;
  // val's own layout when the store reads it in place (else a blocked copy).
  int layout = layoutOf(val) >= 0 && layoutAware(op, val) ? layoutOf(val) : -1;
  bool frag = layout >= 0 && !isStrip(layout);
  auto groups = vectorGroupsIn(pt, layout);
  size_t bytes = vecElemBytes(pt);
  if (!groups || bytes == 0)
    return false;
  auto [p, v] = *groups;
  std::string n = std::to_string(pt->numElements());
  emitVectorGroups(ptr, mask, p, v, pt->numElements(), bytes,
                   frag ? "mt::storePair(mt_p0, " + name(val) + "[mt_g], " + name(val) + "[mt_g + 1]);"
                        : "mt::storeVec<" + std::to_string(v) + ">(mt_p0, &" + name(val) + "[mt_g]);",
                   "if (L < " + n + (mask ? " && " + at(mask) : std::string()) + ") *" + at(ptr) + " = " +
                       at(val) + ";",
                   "", layout);
  return true;
}

bool KernelEmitter::emitStagedFragStore(const Operation &op) {
  const Value *ptr = op.operand(0), *val = op.operand(1);
  const Value *mask = op.numOperands() > 2 ? op.operand(2) : nullptr;
  const Type *pt = ptr->type();
  int f = layoutOf(val);
  if (f < 0 || isStrip(f) || isFragRow(f) || isLazy(val) || pt->rank() != 2 || vecElemBytes(pt) != 2)
    return false;
  int64_t rows = pt->shape()[0], cols = pt->shape()[1], n = pt->numElements();
  int64_t p = per(pt), v = vecWidth(p), pf = perIn(pt, f);
  if (v < 4 || cols % v != 0 || p * threads_ != n || pf % 2 != 0)
    return false;
  AxisInfo::Kind k = axisInfo(ptr, v).kind;
  if (k != AxisInfo::Contig && k != AxisInfo::EndsContig)
    return false; // not row-contiguous: 16-byte groups would not pay for the round trip
  // Rows padded by 16 bytes: a warp's pair writes (8 rows x 4 columns of the fragments) then fall in 32
  // distinct banks, and the blocked 16-byte reads of a quarter warp in one row.
  int64_t ld = cols + 8;
  std::string et = elemType(val->type(), nullptr), s = fresh(val) + "_st";
  const SmemTile staged{rows, cols, ld}; // its index(): row-major with padded rows
  useScratch(align16(size_t(rows * ld) * 2));
  line("// fragments -> blocked through shared memory, stored 16 bytes a group (EmitMemory.cpp)");
  line("__syncthreads();");
  line(et + " *" + s + " = " + smemArray(et, 0) + ";");
  line("#pragma unroll");
  open("for (int mt_g = 0; mt_g < " + num(pf) + "; mt_g += 2)");
  line("const int i = mt_g;");
  // Row and column straight from the fragment's coordinates (fragIndex): constant offsets per pair.
  const FragLayout &l = frags_[size_t(f)];
  line("mt::storePair(&" + s + "[mt::fragIndex<" + num(l.m) + ", " + num(l.n) + ", " + num(l.wm) + ", " +
       num(l.wn) + ", " + num(ld) + ">(mt_tid, i)], " + name(val) + "[mt_g], " + name(val) + "[mt_g + 1]);");
  close();
  line("__syncthreads();");
  std::string V = num(v);
  emitVectorGroups(ptr, mask, p, v, n, 2,
                   "{ const int i = mt_g; const int L = mt::nonNeg(" + lin(p) + "); " + et + " mt_t[" + V +
                       "]; mt::loadVec<" + V + ">(mt_t, &" + s + "[" + staged.index("L") +
                       "]); mt::storeVec<" + V + ">(mt_p0, mt_t); }",
                   "if (L < " + num(n) + (mask ? " && " + at(mask) : std::string()) + ") *" + at(ptr) +
                       " = " + s + "[" + staged.index("L") + "];",
                   "", -1);
  return true;
}

void KernelEmitter::emitLoad(const Operation &op, const std::string &dst) {
  if (op.numOperands() < 1 || op.numOperands() > 3)
    unsupported(op, "expects ptr [, mask [, other]]");
  if (dst.empty() && emitPrefetchedLoad(op)) // loaded one iteration ahead (EmitPipeline.cpp)
    return;
  const Value *ptr = op.operand(0);
  const Value *mask = op.numOperands() > 1 ? op.operand(1) : nullptr;
  const Value *other = op.numOperands() > 2 ? op.operand(2) : nullptr;
  if (!ptr->type()->isPointerLike())
    unsupported(op, "operand 0 must be a pointer or a tile of pointers");
  const Type *rt = op.result()->type();
  std::string et = elemType(rt, &op);
  std::string otherExpr = other ? at(other) : "mt::zero<" + et + ">()";
  std::string deref = "*" + at(ptr);
  if (!rt->isBlock()) {
    std::string value = mask ? "(" + at(mask) + " ? " + deref + " : " + otherExpr + ")" : deref;
    if (dst.empty())
      declare(op.result(), &op, value);
    else
      line(dst + " = " + value + ";");
    return;
  }
  if (emitVectorLoad(op, dst))
    return;
  std::string guard = "L < " + std::to_string(rt->numElements()) + (mask ? " && " + at(mask) : "");
  forEach(rt, dst.empty() ? declare(op.result(), &op) : dst, "(" + guard + ") ? " + deref + " : " + otherExpr,
          layoutOf(op.result()));
}

void KernelEmitter::emitStore(const Operation &op) {
  if (op.numOperands() < 2 || op.numOperands() > 3)
    unsupported(op, "expects ptr, value [, mask]");
  const Value *ptr = op.operand(0), *val = op.operand(1);
  const Value *mask = op.numOperands() > 2 ? op.operand(2) : nullptr;
  if (!ptr->type()->isPointerLike())
    unsupported(op, "operand 0 must be a pointer or a tile of pointers");
  const Type *pt = ptr->type();
  if (!pt->isBlock()) {
    line("if (mt_tid == 0" + (mask ? " && " + at(mask) : std::string()) + ") *" + name(ptr) + " = " +
         at(val) + ";");
    return;
  }
  bool inPlace = layoutOf(val) >= 0 && layoutAware(op, val);
  if (inPlace && emitStagedFragStore(op))
    return;
  if (inPlace && emitVectorStore(op)) // a strip or fragment tile, vectorised (EmitStrip.cpp, EmitLayout.cpp)
    return;
  if (inPlace) { // a fragment or strip tile (EmitLayout.cpp, EmitStrip.cpp): its own indices
    int f = layoutOf(val);
    line("#pragma unroll");
    open("for (int i = 0; i < " + std::to_string(perIn(pt, f)) + "; ++i)");
    lineL(linIn(pt, f));
    std::string cond = isFragRow(f) ? fragRowOwner(f) : ""; // a row vector: each row once
    if (mask)
      cond += (cond.empty() ? "" : " && ") + at(mask);
    line((cond.empty() ? "" : "if (" + cond + ") ") + "*" + at(ptr) + " = " + at(val) + ";");
    close();
    return;
  }
  if (emitVectorStore(op))
    return;
  int64_t p = per(pt);
  line("#pragma unroll");
  open("for (int i = 0; i < " + std::to_string(p) + "; ++i)");
  lineL(lin(p));
  line("if (L < " + std::to_string(pt->numElements()) + (mask ? " && " + at(mask) : std::string()) + ") *" +
       at(ptr) + " = " + at(val) + ";");
  close();
}

void KernelEmitter::emitAtomic(const Operation &op) {
  bool cas = op.kind() == OpKind::AtomicCas;
  if (cas ? op.numOperands() != 3 : (op.numOperands() < 2 || op.numOperands() > 3))
    unsupported(op, cas ? "expects ptr, cmp, val" : "expects ptr, val [, mask]");
  const Value *ptr = op.operand(0);
  if (!ptr->type()->isPointerLike())
    unsupported(op, "operand 0 must be a pointer or a tile of pointers");
  const Type *rt = op.result()->type();
  size_t bytes = elemBytes(rt);
  if (bytes != 2 && bytes != 4 && bytes != 8)
    unsupported(op, "atomics need 16-, 32- or 64-bit elements, got " + rt->str());
  std::string call;
  const Value *mask = nullptr;
  if (cas) {
    call = "mt::atomicCas(" + at(ptr) + ", " + at(op.operand(1)) + ", " + at(op.operand(2)) + ")";
  } else {
    std::string kind = op.stringAttr("kind");
    static const std::map<std::string, std::string> kinds = {{"add", "Add"},   {"max", "Max"}, {"min", "Min"},
                                                             {"xchg", "Xchg"}, {"and", "And"}, {"or", "Or"},
                                                             {"xor", "Xor"}};
    auto it = kinds.find(kind);
    if (it == kinds.end())
      unsupported(op, "unknown atomic kind '" + kind + "'");
    if (rt->isFloatLike() && (kind == "and" || kind == "or" || kind == "xor"))
      unsupported(op, "bitwise atomics need integer elements");
    mask = op.numOperands() > 2 ? op.operand(2) : nullptr;
    call = "mt::atomicRmw<mt::Rmw::" + it->second + ">(" + at(ptr) + ", " + at(op.operand(1)) + ")";
  }
  std::string et = elemType(rt, &op);
  std::string zero = "mt::zero<" + et + ">()";
  if (rt->isBlock()) {
    std::string guard = "L < " + std::to_string(rt->numElements()) + (mask ? " && " + at(mask) : "");
    forEach(rt, declare(op.result(), &op), "(" + guard + ") ? " + call + " : " + zero);
    return;
  }
  // Scalar: one atomic per program (thread 0), its old value broadcast through shared memory.
  useScratch(16);
  std::string slot = "*reinterpret_cast<" + et + " *>(mt_smem)";
  line("__syncthreads();");
  open("if (mt_tid == 0)");
  line(slot + " = " + (mask ? "(" + name(mask) + ") ? " + call + " : " + zero : call) + ";");
  close();
  line("__syncthreads();");
  declare(op.result(), &op, slot);
}

void KernelEmitter::emitPrint(const Operation &op) {
  std::string prefix = cString(op.stringAttr("prefix"));
  for (const Value *v : op.operands()) {
    const Type *t = v->type();
    if (!t->isBlock()) {
      line("if (mt_tid == 0) mt::printValue(" + prefix + ", 0, " + name(v) + ");");
      continue;
    }
    int64_t p = per(t);
    open("for (int i = 0; i < " + std::to_string(p) + "; ++i)");
    lineL(lin(p));
    line("if (L < " + std::to_string(t->numElements()) + ") mt::printValue(" + prefix + ", L, " + at(v) +
         ");");
    close();
  }
}

void KernelEmitter::emitAssert(const Operation &op) {
  const Value *cond = op.operand(0);
  std::string where = diag_.sources() && op.loc().isValid() ? diag_.sources()->format(op.loc()) : fn_.name();
  std::string args = cString(where) + ", " + cString(op.stringAttr("message"));
  if (!cond->type()->isBlock()) {
    line("if (!" + name(cond) + ") mt::assertFail(" + args + ", 0);");
    return;
  }
  int64_t p = per(cond->type());
  line("#pragma unroll");
  open("for (int i = 0; i < " + std::to_string(p) + "; ++i)");
  lineL(lin(p));
  line("if (L < " + std::to_string(cond->type()->numElements()) + " && !" + at(cond) + ") mt::assertFail(" +
       args + ", L);");
  close();
}

} // namespace mt::cuda::detail
