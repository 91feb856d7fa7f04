// Tile IR -> CUDA C++: the kernel skeleton, values and their layout, elementwise ops, control flow.
// Memory ops are in EmitMemory.cpp, shared-memory ops (reduce, scan, shape ops, dot) in EmitTile.cpp.
#include "backend/cuda/EmitterImpl.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <set>

namespace mt::cuda {

using namespace ir;

std::string cudaTypeName(DType d) { return "mt::" + std::string(dtypeName(d)); }

namespace detail {

namespace {

bool isIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

/// A C identifier made of `s`'s letters, digits and underscores.
std::string sanitize(const std::string &s) {
  std::string r;
  for (char c : s)
    r += isIdentChar(c) ? c : '_';
  if (r.empty() || std::isdigit(static_cast<unsigned char>(r[0])))
    r = "_" + r;
  return r;
}

/// Parameter names must not collide with C++ keywords or the emitter's own names (v<N>, i, j, L, mt_*).
std::string paramName(const std::string &hint, unsigned index) {
  static const std::set<std::string> reserved = {
      "i",        "j",         "L",      "int",      "float",  "double",    "char",     "short",
      "long",     "unsigned",  "signed", "bool",     "void",   "auto",      "const",    "return",
      "if",       "else",      "for",    "while",    "do",     "break",     "continue", "switch",
      "case",     "default",   "struct", "class",    "union",  "enum",      "new",      "delete",
      "this",     "true",      "false",  "static",   "extern", "register",  "volatile", "template",
      "typename", "namespace", "using",  "operator", "sizeof", "goto",      "inline",   "private",
      "public",   "protected", "friend", "virtual",  "mt",     "asm",       "export",   "restrict",
      "typedef",  "and",       "or",     "not",      "xor",    "threadIdx", "blockIdx", "gridDim",
      "blockDim"};
  std::string n = hint.empty() ? "arg" + std::to_string(index) : sanitize(hint);
  bool clash = reserved.count(n) || n.rfind("mt_", 0) == 0 || n.rfind("__", 0) == 0 ||
               (n.size() > 1 && n[0] == 'v' && std::isdigit(static_cast<unsigned char>(n[1])));
  return clash ? n + "_" : n;
}

} // namespace

KernelEmitter::KernelEmitter(const Function &f, const EmitOptions &opts, Diagnostics &diag)
    : fn_(f), opts_(opts), diag_(diag), threads_(int64_t(opts.numWarps) * 32) {}

void KernelEmitter::unsupported(const Operation &op, const std::string &msg) {
  diag_.fatal(op.loc(), "CUDA backend: '" + std::string(op.name()) + "': " + msg);
}

std::string KernelEmitter::line(const std::string &text) {
  lineDirective(text);
  out_ << std::string(size_t(indent_) * 2, ' ') << text << "\n";
  return text;
}

void KernelEmitter::lineL(const std::string &expr) { line("const int L = mt::nonNeg(" + expr + ");"); }

void KernelEmitter::open(const std::string &head) {
  line(head + (head.empty() ? "{" : " {"));
  ++indent_;
}

void KernelEmitter::close(const std::string &tail) {
  --indent_;
  line("}" + tail);
}

bool usesLinearIndex(const std::string &expr) {
  for (size_t p = expr.find('L'); p != std::string::npos; p = expr.find('L', p + 1)) {
    bool before = p > 0 && isIdentChar(expr[p - 1]);
    bool after = p + 1 < expr.size() && isIdentChar(expr[p + 1]);
    if (!before && !after)
      return true;
  }
  return false;
}

std::string KernelEmitter::fresh(const Value *hint) {
  std::string n = "v" + std::to_string(counter_++);
  if (hint && !hint->nameHint().empty())
    n += "_" + sanitize(hint->nameHint());
  return n;
}

std::string KernelEmitter::elemType(const Type *t, const Operation *where) {
  const Type *s = t->scalarType();
  if (s->isPointer()) {
    if (s->element()->isPointer()) {
      if (where)
        unsupported(*where, "pointers to pointers are not supported");
      diag_.fatal(fn_.loc(), "CUDA backend: pointers to pointers are not supported");
    }
    return cudaTypeName(s->dtype()) + " *";
  }
  if (s->isVoid()) {
    if (where)
      unsupported(*where, "a void value");
    diag_.fatal(fn_.loc(), "CUDA backend: a void value");
  }
  return cudaTypeName(s->dtype());
}

int64_t KernelEmitter::per(const Type *t) const {
  if (!t->isBlock())
    return 1;
  return std::max<int64_t>(1, (t->numElements() + threads_ - 1) / threads_);
}

int64_t KernelEmitter::vecWidth(int64_t p) const {
  int64_t v = 1;
  while (v < vecElems_ && p % (2 * v) == 0)
    v *= 2;
  return v;
}

std::string KernelEmitter::lin(int64_t p) const {
  if (p == 1)
    return "mt_tid";
  int64_t v = vecWidth(p);
  if (v == p)
    return "(mt_tid * " + std::to_string(p) + " + i)";
  if (v == 1)
    return "(i * " + std::to_string(threads_) + " + mt_tid)";
  return "((i / " + std::to_string(v) + ") * " + std::to_string(threads_ * v) + " + mt_tid * " +
         std::to_string(v) + " + i % " + std::to_string(v) + ")";
}

const std::string &KernelEmitter::name(const Value *v) const {
  auto it = names_.find(v);
  MT_ASSERT(it != names_.end()) << "CUDA emitter: value used before its definition";
  return it->second;
}

std::string KernelEmitter::at(const Value *v) const {
  if (!exprOverride_.empty())
    if (auto it = exprOverride_.find(v); it != exprOverride_.end())
      return it->second;
  if (isLazy(v)) {
    int budget = 0;
    auto e = const_cast<KernelEmitter *>(this)->valueAt(v, "L", budget);
    MT_ASSERT(e) << "CUDA emitter: a lazy tile that cannot be recomputed";
    return "(" + *e + ")";
  }
  // A tile constant is a splat: its literal, in any layout.
  if (const Operation *def = v->definingOp(); def && def->kind() == OpKind::Constant && v->type()->isBlock())
    return "(" + const_cast<KernelEmitter *>(this)->literal(*def, v->type()) + ")";
  return v->type()->isBlock() ? name(v) + "[i]" : name(v);
}

std::string KernelEmitter::declare(const Value *v, const Operation *where, const std::string &init) {
  std::string n = fresh(v);
  std::string t = elemType(v->type(), where);
  if (v->type()->isBlock())
    line(t + " " + n + "[" + std::to_string(perOf(v)) + "];");
  else
    line(t + " " + n + (init.empty() ? "" : " = " + init) + ";");
  bind(v, n);
  return n;
}

void KernelEmitter::forEach(const Type *t, const std::string &dst, const std::string &expr, int frag) {
  if (!t->isBlock()) {
    line(dst + " = " + expr + ";");
    return;
  }
  int64_t p = perIn(t, frag);
  line("#pragma unroll");
  open("for (int i = 0; i < " + std::to_string(p) + "; ++i)");
  if (usesLinearIndex(expr))
    lineL(linIn(t, frag));
  line(dst + "[i] = " + expr + ";");
  close();
}

void KernelEmitter::assign(const Type *t, const std::string &dst, const std::string &src, int frag) {
  forEach(t, dst, t->isBlock() ? src + "[i]" : src, frag);
}

std::string KernelEmitter::literal(const Operation &op, const Type *t) {
  const Type *s = t->scalarType();
  const AttrValue *v = op.attr("value");
  if (!v)
    unsupported(op, "constant without a value");
  if (s->isPointer()) {
    if (op.floatAttr("value") != 0.0)
      unsupported(op, "a pointer constant other than null");
    return "(" + elemType(s, &op) + ")nullptr";
  }
  DType d = s->dtype();
  if (isFloat(d)) {
    double x = op.floatAttr("value");
    std::string lit;
    if (std::isnan(x))
      lit = "mt::quietNan()";
    else if (std::isinf(x))
      lit = x > 0 ? "mt::infinity()" : "(-mt::infinity())";
    else {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%a", x); // exact: hexadecimal floating literal
      lit = buf;
    }
    return d == DType::F64 ? lit : "mt::cvt<" + cudaTypeName(d) + ">(" + lit + ")";
  }
  int64_t x = std::holds_alternative<double>(*v) ? int64_t(std::get<double>(*v)) : op.intAttr("value");
  if (d == DType::I1)
    return x ? "true" : "false";
  std::string lit = x == INT64_MIN ? "(-9223372036854775807LL - 1)" : std::to_string(x) + "LL";
  if (isUnsigned(d))
    lit = std::to_string(uint64_t(x)) + "ULL";
  return "(" + cudaTypeName(d) + ")" + lit;
}

// ---- Blocks and ops ----------------------------------------------------------------------------------

void KernelEmitter::emitBlock(const Block &b, const std::function<void(const Operation &)> &onTerminator) {
  for (const auto &opPtr : b.operations()) {
    const Operation &op = *opPtr;
    LocationScope scope(*this, op.loc()); // its lines map to its kernel-source line (EmitLineInfo.cpp)
    if (op.hasTrait(Terminator)) {
      onTerminator(op);
      continue;
    }
    emitOp(op);
  }
}

void KernelEmitter::emitOp(const Operation &op) {
  if (op.numResults() == 1 && op.numRegions() == 0 && isLazy(op.result()))
    return; // computed where it is read (EmitRemat.cpp)
  if (pipedLoads_.count(&op))
    return; // copied into shared memory stages ahead by its loop (EmitDotPipeline.cpp)
  if (auto it = rotatedRescales_.find(&op); it != rotatedRescales_.end()) {
    bind(op.result(), name(it->second)); // done in place at the top of the body (LoopPipe::rotate)
    return;
  }
  // Operands in a fragment layout that this op cannot read in place: their blocked copies (EmitLayout.cpp).
  // Loops convert their inits themselves; an if has no tile operands.
  std::vector<std::pair<const Value *, std::string>> rebound;
  if ((!fragOf_.empty() || !stripOf_.empty()) && op.kind() != OpKind::For && op.kind() != OpKind::While) {
    for (const Value *o : op.operands())
      if (layoutOf(o) >= 0 && !layoutAware(op, o)) {
        auto it = blockedCopy_.find(o);
        MT_ASSERT(it != blockedCopy_.end()) << "CUDA emitter: a frag value without its blocked copy";
        rebound.emplace_back(o, name(o));
        bind(o, it->second);
      }
  }
  emitOpIn(op);
  for (auto &[v, n] : rebound)
    bind(v, n);
  for (unsigned r = 0; r < op.numResults(); ++r)
    emitBlockedCopy(op.result(r));
}

void KernelEmitter::emitOpIn(const Operation &op) {
  if (reloadBarrierPending_ && (op.kind() == OpKind::Store || op.kind() == OpKind::AtomicRmw ||
                                op.kind() == OpKind::AtomicCas || op.numRegions() > 0)) {
    line("__syncthreads(); // re-loaded broadcasts (EmitRemat.cpp) before any later store");
    reloadBarrierPending_ = false;
  }
  switch (op.kind()) {
  case OpKind::Constant: {
    std::string lit = literal(op, op.result()->type());
    if (!op.result()->type()->isBlock()) {
      declare(op.result(), &op, lit);
      return;
    }
    forEach(op.result()->type(), declare(op.result(), &op), lit, layoutOf(op.result()));
    return;
  }
  case OpKind::ProgramId:
  case OpKind::NumPrograms: {
    int64_t axis = op.intAttr("axis");
    if (axis < 0 || axis > 2)
      unsupported(op, "axis must be 0, 1 or 2");
    std::string base = op.kind() == OpKind::ProgramId ? "blockIdx." : "gridDim.";
    declare(op.result(), &op, "(mt::i32)" + base + "xyz"[axis]);
    return;
  }
  case OpKind::ReadSreg:
    declare(op.result(), &op, op.stringAttr("reg") == "globaltimer" ? "mt::globaltimer()" : "mt::smid()");
    return;
  case OpKind::MakeRange: {
    const Type *t = op.result()->type();
    if (!t->isBlock())
      unsupported(op, "make_range must produce a tile");
    forEach(t, declare(op.result(), &op), "(mt::i32)(" + std::to_string(op.intAttr("start")) + " + L)");
    return;
  }
  case OpKind::Splat:
    forEach(op.result()->type(), declare(op.result(), &op), name(op.operand(0)));
    return;
  case OpKind::ExpandDims:
  case OpKind::Reshape:
  case OpKind::Broadcast: {
    const Value *src = op.operand(0);
    const Type *rt = op.result()->type();
    if (!src->type()->isBlock()) { // a scalar operand: a splat
      forEach(rt, declare(op.result(), &op), name(src), layoutOf(op.result()));
      return;
    }
    if (op.kind() == OpKind::Broadcast && fragOf(op.result()) >= 0) { // EmitLayout.cpp
      emitFragBroadcast(op);
      return;
    }
    if (isLazy(src)) { // index arithmetic, read here by something that needs it in registers
      int budget = 1000;
      forEach(rt, declare(op.result(), &op), *valueAt(op.result(), "L", budget), layoutOf(op.result()));
      return;
    }
    if (isStrip(layoutOf(op.result())) && src->type()->numElements() != rt->numElements()) { // EmitStrip.cpp
      emitStripBroadcast(op);
      return;
    }
    // Same number of elements: the row-major linear index, hence the blocked layout, is unchanged.
    if (src->type()->numElements() == rt->numElements()) {
      bind(op.result(), name(src));
      return;
    }
    if (op.kind() == OpKind::Broadcast && emitBroadcastInRegisters(op))
      return;
    emitShapeOp(op);
    return;
  }
  case OpKind::Trans:
  case OpKind::Join:
  case OpKind::Split:
  case OpKind::Gather:
    emitShapeOp(op);
    return;
  case OpKind::Hint:
    if (isLazy(op.operand(0)))
      forEach(op.result()->type(), declare(op.result(), &op), at(op.operand(0)));
    else
      bind(op.result(), name(op.operand(0)));
    return;
  case OpKind::Load:
    emitLoad(op);
    loadEpoch_[op.result()] = sideEffects_;
    return;
  case OpKind::Store:
    emitStore(op);
    ++sideEffects_;
    return;
  case OpKind::AtomicRmw:
  case OpKind::AtomicCas:
    emitAtomic(op);
    ++sideEffects_;
    return;
  case OpKind::Dot:
    emitDot(op);
    return;
  case OpKind::Reduce:
    emitReduce(op);
    return;
  case OpKind::Scan:
    emitScan(op);
    return;
  case OpKind::For:
    emitFor(op);
    return;
  case OpKind::If:
    emitIf(op);
    return;
  case OpKind::While:
    emitWhile(op);
    return;
  case OpKind::Print:
    emitPrint(op);
    return;
  case OpKind::Assert:
    emitAssert(op);
    return;
  case OpKind::Barrier:
    line("__syncthreads();");
    return;
  case OpKind::InlineAsm:
    emitInlineAsm(op);
    return;
  case OpKind::Yield:
  case OpKind::Condition:
  case OpKind::Return:
    unsupported(op, "terminator in the middle of a block");
  default:
    break;
  }
  if (op.hasTrait(Elementwise)) {
    emitElementwise(op);
    return;
  }
  unsupported(op, "op not supported yet");
}

std::string KernelEmitter::elementwiseExpr(const Operation &op) {
  auto a = [&](unsigned k) { return at(op.operand(k)); };
  auto call = [&](const char *fnName) {
    std::string s = std::string("mt::") + fnName + "(";
    for (unsigned k = 0; k < op.numOperands(); ++k)
      s += (k ? ", " : "") + a(k);
    return s + ")";
  };
  const Type *rt = op.result()->type();
  const Type *in = op.operand(0)->type();
  bool ptrIn = in->isPointerLike();
  auto needInt = [&] {
    if (!in->isIntLike())
      unsupported(op, "needs integer operands, got " + in->str());
  };
  auto needFloat = [&] {
    if (!in->isFloatLike())
      unsupported(op, "needs floating-point operands, got " + in->str());
  };
  if (ptrIn && op.kind() != OpKind::AddPtr && op.kind() != OpKind::Cmp && op.kind() != OpKind::Select &&
      op.kind() != OpKind::Cast && op.kind() != OpKind::Bitcast)
    unsupported(op, "pointer operands are only valid in addptr, cmp, select, cast and bitcast");
  switch (op.kind()) {
  case OpKind::Add:
    return call("add");
  case OpKind::Sub:
    return call("sub");
  case OpKind::Mul:
    return call("mul");
  case OpKind::Div: {
    // Triton's `/` on f32 (and f16/bf16 through f32) is the fast full-range division; {rounding = "rn"}
    // (tl.div_rn, fdiv(ieee_rounding=True)) and f64 are IEEE.
    const AttrValue *r = op.attr("rounding");
    bool ieee = r && std::holds_alternative<std::string>(*r) && std::get<std::string>(*r) == "rn";
    if (!ieee && in->isFloatLike() && in->dtype() != DType::F64)
      return call("divFull");
    return call("div");
  }
  case OpKind::Rem:
    return call("rem");
  case OpKind::Max:
    return call("max");
  case OpKind::Min:
    return call("min");
  case OpKind::Fma:
    return call("fma");
  case OpKind::And:
    needInt();
    return call("bitAnd");
  case OpKind::Or:
    needInt();
    return call("bitOr");
  case OpKind::Xor:
    needInt();
    return call("bitXor");
  case OpKind::UMulHi:
    needInt();
    return call("umulhi");
  case OpKind::Shl:
    needInt();
    return call("shl");
  case OpKind::Shr:
    needInt();
    return call("shr");
  case OpKind::Not:
    needInt();
    return call("bitNot");
  case OpKind::Neg:
    return call("neg");
  case OpKind::Abs:
    return call("abs");
  case OpKind::Exp:
    needFloat();
    return call("exp");
  case OpKind::Exp2:
    needFloat();
    return call("exp2");
  case OpKind::Log:
    needFloat();
    return call("log");
  case OpKind::Log2:
    needFloat();
    return call("log2");
  case OpKind::Sqrt:
    needFloat();
    return call("sqrt");
  case OpKind::Rsqrt:
    needFloat();
    return call("rsqrt");
  case OpKind::Sin:
    needFloat();
    return call("sin");
  case OpKind::Cos:
    needFloat();
    return call("cos");
  case OpKind::Tanh:
    needFloat();
    return call("tanh");
  case OpKind::Erf:
    needFloat();
    return call("erf");
  case OpKind::Floor:
    needFloat();
    return call("floor");
  case OpKind::Ceil:
    needFloat();
    return call("ceil");
  case OpKind::MathFn: { // mt::lib::<fn> (device/libm.cuh); the verifier checked the name and the types
    std::string s = "mt::lib::" + op.stringAttr("fn") + "(";
    for (unsigned k = 0; k < op.numOperands(); ++k)
      s += (k ? ", " : "") + a(k);
    return s + ")";
  }
  case OpKind::Cmp: {
    std::string pred = op.stringAttr("pred");
    static const std::set<std::string> preds = {"eq", "ne", "lt", "le", "gt", "ge"};
    if (!preds.count(pred))
      unsupported(op, "unknown predicate '" + pred + "'");
    if (ptrIn)
      return "(" + a(0) + " " +
             (pred == "eq"   ? "=="
              : pred == "ne" ? "!="
              : pred == "lt" ? "<"
              : pred == "le" ? "<="
              : pred == "gt" ? ">"
                             : ">=") +
             " " + a(1) + ")";
    return call(pred.c_str());
  }
  case OpKind::Select:
    return "(" + a(0) + " ? " + a(1) + " : " + a(2) + ")";
  case OpKind::AddPtr:
    return "(" + a(0) + " + (mt::i64)" + a(1) + ")";
  case OpKind::Cast: {
    std::string to = elemType(rt, &op);
    bool ptrOut = rt->isPointerLike();
    if (ptrIn && ptrOut)
      return "reinterpret_cast<" + to + ">(" + a(0) + ")";
    if (ptrOut)
      return "reinterpret_cast<" + to + ">((mt::u64)" + a(0) + ")";
    if (ptrIn)
      return "(" + to + ")reinterpret_cast<mt::u64>(" + a(0) + ")";
    return "mt::cvt<" + to + ">(" + a(0) + ")";
  }
  case OpKind::Bitcast: {
    std::string to = elemType(rt, &op);
    if (ptrIn || rt->isPointerLike())
      return "mt::bits<" + to + ">(" + a(0) + ")";
    if (bitWidth(in->dtype()) != bitWidth(rt->dtype()))
      unsupported(op, "bitcast between types of different widths");
    return "mt::bits<" + to + ">(" + a(0) + ")";
  }
  default:
    break;
  }
  unsupported(op, "elementwise op not supported yet");
}

void KernelEmitter::emitElementwise(const Operation &op) {
  const Type *t = op.result()->type();
  const Value *src = op.numOperands() == 1 ? op.operand(0) : nullptr;
  int64_t p = perIn(t, layoutOf(op.result()));
  if (op.kind() == OpKind::Cast && t->isBlock() && src->type()->dtype() == DType::F32 &&
      (t->dtype() == DType::BF16 || t->dtype() == DType::F16) && p % 2 == 0 && !isLazy(src) &&
      layoutOf(src) == layoutOf(op.result())) { // f32 -> 16 bits two at a time (types.cuh cvtPair)
    std::string d = declare(op.result(), &op), s = name(src);
    line("#pragma unroll");
    open("for (int i = 0; i < " + num(p) + "; i += 2)");
    line("mt::cvtPair(" + d + "[i], " + d + "[i + 1], " + s + "[i], " + s + "[i + 1]);");
    close();
    return;
  }
  std::string expr = elementwiseExpr(op);
  if (!t->isBlock()) {
    declare(op.result(), &op, expr);
    return;
  }
  forEach(t, declare(op.result(), &op), expr, layoutOf(op.result()));
}

// ---- Control flow ----------------------------------------------------------------------------------

std::vector<const Value *> KernelEmitter::operandsFrom(const Operation &term, unsigned from) {
  std::vector<const Value *> r;
  for (unsigned k = from; k < term.numOperands(); ++k)
    r.push_back(term.operand(k));
  return r;
}

void KernelEmitter::assignYield(const Operation &term, const std::vector<const Value *> &srcs,
                                const std::vector<std::string> &targets,
                                const std::vector<const Type *> &types, const std::vector<int> &frags) {
  unsigned n = unsigned(srcs.size());
  if (n != targets.size())
    unsupported(term, "yields " + std::to_string(n) + " values, expected " + std::to_string(targets.size()));
  auto fragAt = [&](unsigned k) { return k < frags.size() ? frags[k] : -1; };
  // A value updated in place (a wgmma accumulator in flight, EmitDot.cpp) is its target already.
  auto inPlace = [&](unsigned k) { return names_.count(srcs[k]) && name(srcs[k]) == targets[k]; };
  if (n == 1) {
    if (!inPlace(0))
      assign(types[0], targets[0], valueIn(srcs[0], fragAt(0)), fragAt(0));
    return;
  }
  // Several values: read all before writing any (`yield %b, %a` swaps loop-carried values).
  std::vector<std::string> tmps(n);
  for (unsigned k = 0; k < n; ++k) {
    if (inPlace(k))
      continue;
    std::string tmp = "v" + std::to_string(counter_++) + "_next";
    const Type *t = types[k];
    line(elemType(t, &term) + " " + tmp +
         (t->isBlock() ? "[" + std::to_string(perIn(t, fragAt(k))) + "]" : "") + ";");
    assign(t, tmp, valueIn(srcs[k], fragAt(k)), fragAt(k));
    tmps[k] = tmp;
  }
  for (unsigned k = 0; k < n; ++k)
    if (!tmps[k].empty())
      assign(types[k], targets[k], tmps[k], fragAt(k));
}

void KernelEmitter::emitFor(const Operation &op) {
  if (op.numOperands() < 3)
    unsupported(op, "needs lb, ub and step");
  Block &body = const_cast<Operation &>(op).body(0);
  unsigned nIter = op.numOperands() - 3;
  if (body.numArguments() != nIter + 1 || op.numResults() != nIter)
    unsupported(op, "loop-carried values do not match the body's arguments");
  const LoopPipe *pipe = planDotPipeline(op);
  std::vector<std::string> carried;
  std::vector<const Type *> types;
  std::vector<int> frags;
  std::vector<unsigned> lazyArgs;
  for (unsigned k = 0; k < nIter; ++k) {
    const Value *init = op.operand(3 + k);
    if (isLazy(body.argument(k + 1))) { // init + a running offset (EmitRemat.cpp)
      const Type *st = init->type()->scalarType();
      std::string offType = st->isPointer() ? "mt::i64" : elemType(st, &op);
      std::string off = fresh(body.argument(k + 1)) + "_off";
      line(offType + " " + off + " = 0;");
      lazyIter_[body.argument(k + 1)].offset = off;
      lazyIter_[op.result(k)].offset = off;
      lazyArgs.push_back(k);
      continue;
    }
    int f = layoutOf(op.result(k));
    std::string c = declare(op.result(k), &op, init->type()->isBlock() ? "" : name(init));
    if (init->type()->isBlock())
      assign(init->type(), c, valueIn(init, f), f);
    carried.push_back(c);
    types.push_back(op.result(k)->type());
    frags.push_back(f);
    bind(body.argument(k + 1), c);
  }
  const Value *lb = op.operand(0), *ub = op.operand(1), *step = op.operand(2);
  if (lb->type()->isBlock())
    unsupported(op, "loop bounds must be scalars");
  std::string ivType = elemType(lb->type(), &op);
  std::string iv = fresh(body.argument(0));
  bind(body.argument(0), iv);
  emitPrefetchPrologue(op); // loads of the first iteration, when they can run ahead (EmitPipeline.cpp)
  const std::string &s = name(step);
  loopBounds_[&op] = {name(ub), s, ivType};
  if (pipe) {
    ++ringDepth_; // the rings' region is taken until the loop's end
    emitPipePrologue(*pipe, name(lb), name(ub), s, ivType);
  }
  if (pipe && pipe->rotate)
    emitRotationCarries(*pipe);
  size_t bodyStart = size_t(out_.tellp());
  open("for (" + ivType + " " + iv + " = " + name(lb) + "; " + s + " > 0 ? " + iv + " < " + name(ub) + " : " +
       iv + " > " + name(ub) + "; " + iv + " = mt::add(" + iv + ", (" + ivType + ")" + s + "))");
  ++loopDepth_;
  // Loops whose loads run several iterations ahead are unrolled by that depth (EmitPipeline.cpp).
  for (int copy = 0; copy < prefetchCopies(op); ++copy) {
    if (copy > 0) {
      line(iv + " = mt::add(" + iv + ", (" + ivType + ")" + s + ");");
      line("if (!(" + s + " > 0 ? " + iv + " < " + name(ub) + " : " + iv + " > " + name(ub) + ")) break;");
    }
    setPrefetchCopy(op, copy);
    if (pipe && pipe->rotate)
      emitRotatedRescale(*pipe);
    for (unsigned k = 0; k < nIter; ++k)
      emitBlockedCopy(body.argument(k + 1));
    emitBlock(body, [&](const Operation &term) {
      if (term.kind() != OpKind::Yield)
        unsupported(term, "a for body must end in yield");
      if (term.numOperands() != nIter)
        unsupported(term, "yields " + std::to_string(term.numOperands()) + " values, expected " +
                              std::to_string(nIter));
      emitPrefetchTail(op);
      std::vector<const Value *> srcs;
      for (unsigned k = 0; k < nIter; ++k)
        if (!isLazy(body.argument(k + 1)))
          srcs.push_back(term.operand(k));
      assignYield(term, srcs, carried, types, frags);
      for (unsigned k : lazyArgs) {
        const LazyIter &li = lazyIter_.at(body.argument(k + 1));
        std::string step = *advanceStep(li);
        if (li.advance->kind() == OpKind::AddPtr)
          line(li.offset + " += (mt::i64)(" + step + ");");
        else
          line(li.offset + " = mt::add(" + li.offset + ", " + step + ");");
      }
      if (pipe)
        line(pipe->stage + " = " + pipe->stage + " + 1 == " + num(pipe->slots()) + " ? 0 : " + pipe->stage +
             " + 1;");
      if (pipe && pipe->mbar)
        line(pipe->iter + " += 1;");
    });
  }
  close();
  --loopDepth_;
  if (pipe && pipe->rotate)
    emitRotationEpilogue(*pipe);
  if (pipe)
    finishTurns(*pipe, bodyStart);
  if (pipe && pipe->deferWait) {
    line("mt::wgmmaWait<0>(); // the last products, still in flight");
    for (size_t k = 0; k < carried.size(); ++k) // their accumulators: read only from here on
      if (frags[k] >= 0 && !isStrip(frags[k]) && !frags_[size_t(frags[k])].row && types[k]->isBlock() &&
          types[k]->dtype() == DType::F32)
        line("mt::fenceOperands(" + carried[k] + ");");
  }
  if (pipe) {
    emitPipeEpilogue(*pipe);
    --ringDepth_;
  }
}

void KernelEmitter::emitIf(const Operation &op) {
  const Value *cond = op.operand(0);
  if (cond->type()->isBlock())
    unsupported(op, "the condition must be a scalar (a uniform branch)");
  std::vector<std::string> results;
  std::vector<const Type *> types;
  for (unsigned k = 0; k < op.numResults(); ++k) {
    const Value *r = op.result(k);
    std::string n = fresh(r);
    line(elemType(r->type(), &op) + " " + n +
         (r->type()->isBlock() ? "[" + std::to_string(per(r->type())) + "]" : "") + ";");
    results.push_back(n);
    types.push_back(r->type());
  }
  auto onYield = [&](const Operation &term) {
    if (term.kind() != OpKind::Yield)
      unsupported(term, "an if region must end in yield");
    if (!results.empty())
      assignYield(term, operandsFrom(term, 0), results, types);
  };
  open("if (" + name(cond) + ")");
  emitBlock(const_cast<Operation &>(op).body(0), onYield);
  if (op.numRegions() > 1 && !const_cast<Operation &>(op).body(1).empty()) {
    close(" else {");
    ++indent_;
    emitBlock(const_cast<Operation &>(op).body(1), onYield);
  } else if (!results.empty()) {
    unsupported(op, "an if with results needs an else region");
  }
  close();
  for (unsigned k = 0; k < op.numResults(); ++k)
    bind(op.result(k), results[k]);
}

void KernelEmitter::emitWhile(const Operation &op) {
  Block &before = const_cast<Operation &>(op).body(0);
  Block &after = const_cast<Operation &>(op).body(1);
  if (before.numArguments() != op.numOperands())
    unsupported(op, "the before-region's arguments do not match the inits");
  std::vector<std::string> carried, results;
  std::vector<const Type *> carriedTypes, resultTypes;
  for (unsigned k = 0; k < op.numOperands(); ++k) {
    const Value *init = op.operand(k);
    const Value *arg = before.argument(k);
    std::string c = declare(arg, &op, init->type()->isBlock() ? "" : name(init));
    if (init->type()->isBlock())
      assign(init->type(), c, valueIn(init, -1));
    carried.push_back(c);
    carriedTypes.push_back(arg->type());
  }
  for (unsigned k = 0; k < op.numResults(); ++k) {
    const Value *r = op.result(k);
    std::string n = fresh(r);
    line(elemType(r->type(), &op) + " " + n +
         (r->type()->isBlock() ? "[" + std::to_string(per(r->type())) + "]" : "") + ";");
    results.push_back(n);
    resultTypes.push_back(r->type());
  }
  open("while (true)");
  ++loopDepth_;
  emitBlock(before, [&](const Operation &term) {
    if (term.kind() != OpKind::Condition || term.numOperands() < 1)
      unsupported(term, "a while's before-region must end in condition");
    if (term.operand(0)->type()->isBlock())
      unsupported(term, "the condition must be a scalar (a uniform loop)");
    open("if (!" + name(term.operand(0)) + ")");
    if (!results.empty())
      assignYield(term, operandsFrom(term, 1), results, resultTypes);
    line("break;");
    close();
    if (after.numArguments() != term.numOperands() - 1)
      unsupported(op, "the after-region's arguments do not match the forwarded values");
    for (unsigned k = 0; k < after.numArguments(); ++k)
      bind(after.argument(k), valueIn(term.operand(k + 1), -1));
  });
  emitBlock(after, [&](const Operation &term) {
    if (term.kind() != OpKind::Yield)
      unsupported(term, "a while's after-region must end in yield");
    assignYield(term, operandsFrom(term, 0), carried, carriedTypes);
  });
  close();
  --loopDepth_;
  for (unsigned k = 0; k < op.numResults(); ++k)
    bind(op.result(k), results[k]);
}

// ---- The kernel ------------------------------------------------------------------------------------

CudaKernel KernelEmitter::run() {
  CudaKernel k;
  k.name = sanitize(fn_.name());
  k.numThreads = unsigned(threads_);
  vecElems_ = chooseVecElems(fn_);
  planLazyValues(fn_.body());
  planFragLayouts(fn_.body());
  planStripLayouts(fn_.body());
  if (opts_.numWarps < 1 || opts_.numWarps > 32)
    diag_.fatal(fn_.loc(), "CUDA backend: num_warps must be in 1..32, got " + std::to_string(opts_.numWarps));

  std::string sig;
  const Block &body = fn_.body();
  for (unsigned a = 0; a < body.numArguments(); ++a) {
    const Value *arg = body.argument(a);
    const Type *t = arg->type();
    if (t->isBlock())
      diag_.fatal(fn_.loc(), "CUDA backend: kernel parameter " + std::to_string(a) + " is a tile (" +
                                 t->str() + "); parameters must be scalars or pointers");
    std::string hint = a < fn_.argNames().size() ? fn_.argNames()[a] : arg->nameHint();
    std::string n = paramName(hint, a);
    bind(arg, n);
    k.params.push_back({n, t->isPointer(), t->dtype()});
    sig += (a ? ", " : "") + elemType(t, nullptr) + " " + n;
  }

  emitBlock(body, [&](const Operation &term) {
    if (term.kind() != OpKind::Return)
      unsupported(term, "a function must end in return");
    if (term.numOperands() != 0)
      unsupported(term, "kernels return nothing");
  });
  // The strip ops' regions (EmitStrip.cpp), then the cp.async stages (EmitDotPipeline.cpp), after the
  // transient uses of shared memory inside loops with rings (wgmma operand tiles start 1024-byte aligned).
  // Transient uses outside such loops overlap the rings (a barrier precedes both, and a ring's loop waits
  // for its last copies and products), but not the strip regions, which some ops keep across loops.
  if (stripBytes_ > 0)
    smemBytes_ = std::max(smemBytes_, smemOuter_);
  size_t stripBase = align16(smemBytes_);
  if (stripBytes_ > 0)
    smemBytes_ = stripBase + stripBytes_;
  size_t pipeBase = usesWgmma_ ? align1024(smemBytes_) : align16(smemBytes_);
  if (pipeBytes_ > 0)
    smemBytes_ = pipeBase + pipeBytes_;
  smemBytes_ = std::max(smemBytes_, smemOuter_);
  indent_ = 0;
  line("}"); // through line(): the kernel's end keeps the last op's line
  k.sharedBytes = smemBytes_;

  std::ostringstream src;
  src << "// Generated by mini-triton from tile IR function @" << fn_.name() << "; " << threads_
      << " threads per program, blocked layout in groups of up to " << vecElems_ << " elements.\n";
  src << "#include \"mt/kernel.cuh\"\n\n";
  for (const auto &[helper, definition] : wgmmaHelpers_)
    src << definition << "\n";
  src << "extern \"C\" __global__ void __launch_bounds__(" << threads_ << ") " << k.name << "(" << sig
      << ") {\n";
  src << "  const int mt_tid = threadIdx.x;\n";
  if (usesWgmma_) // once: a warp-uniform value for the products' descriptors (device/wgmma.cuh)
    src << "  const int mt_wg = mt::wgmma_detail::warpgroup(mt_tid);\n";
  if (smemBytes_ > 0)
    src << "  extern __shared__ __align__(" << (usesWgmma_ ? 1024 : 16) << ") unsigned char mt_smem[]; // "
        << smemBytes_ << " bytes\n";
  std::string body_ = applyTurns(out_.str());
  for (size_t at = body_.find("@PIPE@"); at != std::string::npos; at = body_.find("@PIPE@", at))
    body_.replace(at, 6, std::to_string(pipeBase));
  for (size_t at = body_.find("@STRIP@"); at != std::string::npos; at = body_.find("@STRIP@", at))
    body_.replace(at, 7, std::to_string(stripBase));
  src << body_;
  k.source = src.str();
  return k;
}

} // namespace detail

std::optional<CudaKernel> emitCuda(const ir::Function &f, const EmitOptions &opts, Diagnostics &diag) {
  EmitOptions o = opts;
  for (int attempt = 0;; ++attempt) {
    std::optional<CudaKernel> k;
    try {
      detail::KernelEmitter e(f, o, diag);
      k = e.run();
    } catch (const CompileAbort &) {
      return std::nullopt;
    }
    // The rings are sized against maxPipeBytes alone; with the kernel's other shared memory (a reduction's
    // scratch in a ring's loop) they can pass the block's limit: fewer stages then, not a failed launch.
    if (!o.maxSharedBytes || k->sharedBytes <= o.maxSharedBytes || attempt == 3)
      return k;
    size_t over = (k->sharedBytes - o.maxSharedBytes + 1023) / 1024 * 1024;
    if (over >= o.maxPipeBytes)
      return k; // the launch reports it, with the bytes the kernel needs
    o.maxPipeBytes -= over;
  }
}

} // namespace mt::cuda
