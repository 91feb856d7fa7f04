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

} // namespace

void KernelEmitter::emitLoad(const Operation &op) {
  if (op.numOperands() < 1 || op.numOperands() > 3)
    unsupported(op, "expects ptr [, mask [, other]]");
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
    declare(op.result(), &op, mask ? "(" + name(mask) + " ? " + deref + " : " + otherExpr + ")" : deref);
    return;
  }
  std::string guard = "L < " + std::to_string(rt->numElements()) + (mask ? " && " + at(mask) : "");
  forEach(rt, declare(op.result(), &op), "(" + guard + ") ? " + deref + " : " + otherExpr);
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
  int64_t p = per(pt);
  line("#pragma unroll");
  open("for (int i = 0; i < " + std::to_string(p) + "; ++i)");
  line("const int L = " + lin(p) + ";");
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
  smemBytes_ = std::max<size_t>(smemBytes_, 16);
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
    line("const int L = " + lin(p) + ";");
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
  line("const int L = " + lin(p) + ";");
  line("if (L < " + std::to_string(cond->type()->numElements()) + " && !" + at(cond) + ") mt::assertFail(" +
       args + ", L);");
  close();
}

} // namespace mt::cuda::detail
