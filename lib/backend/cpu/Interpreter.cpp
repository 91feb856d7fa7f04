// The interpreter's driver: argument validation, the execution plan, the per-program op dispatch and
// structured control flow (for, if, while).
#include "backend/cpu/Interpreter.h"

#include "backend/cpu/Exec.h"
#include "support/Diagnostics.h"

#include <chrono>
#include <unordered_map>

namespace mt::cpu {

using ir::OpKind;

void fail(std::string message) { throw KernelError{std::move(message)}; }

const std::string &LaunchState::argName(size_t i) const {
  static const std::string unnamed = "<arg>";
  return i < func->argNames().size() ? func->argNames()[i] : unnamed;
}

std::string Executor::where(int64_t lane) const {
  std::string s = "program (" + std::to_string(pid_[0]) + ", " + std::to_string(pid_[1]) + ", " +
                  std::to_string(pid_[2]) + ")";
  if (lane >= 0)
    s += ", lane " + std::to_string(lane);
  return "(" + s + ")";
}

// ---- Plan ---------------------------------------------------------------------------------------------
namespace {

class PlanBuilder {
public:
  std::unordered_map<const ir::Value *, uint32_t> ids;
  uint32_t number(const ir::Value *v) {
    auto [it, inserted] = ids.try_emplace(v, uint32_t(ids.size()));
    return it->second;
  }
  void build(const ir::Block &b, BlockPlan &out) {
    for (const auto &a : b.arguments())
      out.args.push_back(number(a.get()));
    for (const auto &op : b.operations()) {
      OpPlan p;
      p.op = op.get();
      for (const ir::Value *v : op->operands()) {
        auto it = ids.find(v);
        if (it == ids.end())
          throw KernelError{"operand of '" + std::string(op->name()) + "' is used before its definition",
                            op->loc(), true};
        p.operands.push_back(it->second);
      }
      for (const auto &r : op->results())
        p.results.push_back(number(r.get()));
      for (unsigned i = 0; i < op->numRegions(); ++i) {
        p.regions.emplace_back();
        build(op->region(i).block(), p.regions.back());
      }
      out.ops.push_back(std::move(p));
    }
    if (out.ops.empty() || !out.ops.back().op->hasTrait(ir::Terminator))
      throw KernelError{"a block does not end in a terminator",
                        b.parentOp() ? b.parentOp()->loc() : SourceLoc{}, true};
  }
};

} // namespace

// ---- Control flow -------------------------------------------------------------------------------------
const OpPlan &Executor::runBlock(const BlockPlan &b) {
  for (size_t i = 0; i + 1 < b.ops.size(); ++i)
    execOp(b.ops[i]);
  const OpPlan &term = b.ops.back();
  for (uint32_t o : term.operands)
    if (slots_[o].numel() == 0)
      throw KernelError{"'" + std::string(term.op->name()) +
                            "' uses a value that was not computed on this path",
                        term.op->loc(), true};
  return term;
}

void Executor::runRegion(const BlockPlan &b, std::span<const Tile> args, std::vector<Tile> &results) {
  if (args.size() != b.args.size())
    fail("region expects " + std::to_string(b.args.size()) + " arguments, got " +
         std::to_string(args.size()));
  for (size_t i = 0; i < args.size(); ++i)
    slots_[b.args[i]] = args[i];
  const OpPlan &term = runBlock(b);
  results.resize(term.operands.size());
  for (size_t i = 0; i < term.operands.size(); ++i)
    results[i] = slots_[term.operands[i]];
}

void Executor::execFor(const OpPlan &p) {
  if (p.operands.size() < 3 || p.regions.size() != 1)
    fail("malformed for");
  int64_t lb = slots_[p.operands[0]].getInt(0);
  int64_t ub = slots_[p.operands[1]].getInt(0);
  int64_t step = slots_[p.operands[2]].getInt(0);
  if (step == 0)
    fail("for loop with step 0 " + where());
  const BlockPlan &body = p.regions[0];
  size_t numIters = p.operands.size() - 3;
  if (body.args.size() != numIters + 1)
    fail("for body has the wrong number of arguments");
  for (size_t i = 0; i < numIters; ++i)
    slots_[body.args[i + 1]] = slots_[p.operands[i + 3]];
  const ir::Type *ivType = p.op->region(0).block().argument(0)->type();
  std::vector<Tile> next(numIters);
  for (int64_t iv = lb; step > 0 ? iv < ub : iv > ub;) {
    if (launch_.stop.load(std::memory_order_relaxed))
      fail("stopped");
    Tile ivTile = Tile::ofType(ivType);
    ivTile.fillInt(iv);
    slots_[body.args[0]] = std::move(ivTile);
    const OpPlan &term = runBlock(body);
    if (term.operands.size() != numIters)
      fail("for body yields " + std::to_string(term.operands.size()) + " values, expected " +
           std::to_string(numIters));
    for (size_t i = 0; i < numIters; ++i)
      next[i] = slots_[term.operands[i]];
    for (size_t i = 0; i < numIters; ++i)
      slots_[body.args[i + 1]] = std::move(next[i]);
    if (__builtin_add_overflow(iv, step, &iv))
      break;
  }
  for (size_t i = 0; i < numIters; ++i)
    slots_[p.results[i]] = slots_[body.args[i + 1]];
}

void Executor::execWhile(const OpPlan &p) {
  if (p.regions.size() != 2)
    fail("malformed while");
  const BlockPlan &before = p.regions[0], &after = p.regions[1];
  std::vector<Tile> vals(p.operands.size());
  for (size_t i = 0; i < p.operands.size(); ++i)
    vals[i] = slots_[p.operands[i]];
  std::vector<Tile> forwarded;
  for (;;) {
    if (launch_.stop.load(std::memory_order_relaxed))
      fail("stopped");
    runRegion(before, vals, forwarded);
    if (forwarded.empty() || before.ops.back().op->kind() != OpKind::Condition)
      fail("while: the before-region must end in 'condition'");
    bool cond = forwarded[0].getInt(0) != 0;
    forwarded.erase(forwarded.begin());
    if (!cond)
      break;
    runRegion(after, forwarded, vals);
  }
  if (forwarded.size() != p.results.size())
    fail("while: condition forwards " + std::to_string(forwarded.size()) + " values for " +
         std::to_string(p.results.size()) + " results");
  for (size_t i = 0; i < p.results.size(); ++i)
    slots_[p.results[i]] = std::move(forwarded[i]);
}

// ---- Dispatch -----------------------------------------------------------------------------------------
void Executor::execOp(const OpPlan &p) {
  const ir::Operation &op = *p.op;
  try {
    const Tile *in[8];
    std::vector<const Tile *> inVec;
    Operands ins;
    if (p.operands.size() <= 8) {
      for (size_t i = 0; i < p.operands.size(); ++i)
        in[i] = &slots_[p.operands[i]];
      ins = Operands(in, p.operands.size());
    } else {
      for (uint32_t o : p.operands)
        inVec.push_back(&slots_[o]);
      ins = Operands(inVec.data(), inVec.size());
    }
    for (const Tile *t : ins)
      if (t->numel() == 0)
        fail("'" + std::string(op.name()) + "' uses a value that was not computed on this path");
    auto need = [&](size_t n) {
      if (ins.size() < n || p.results.size() < (op.info().numResults > 0 ? size_t(op.info().numResults) : 0))
        fail("malformed '" + std::string(op.name()) + "'");
    };
    auto setResult = [&](Tile t) { slots_[p.results[0]] = std::move(t); };
    switch (op.kind()) {
    case OpKind::Constant:
      need(0);
      return setResult(evalConstant(op));
    case OpKind::ProgramId:
    case OpKind::NumPrograms: {
      need(0);
      int64_t axis = op.intAttr("axis");
      if (axis < 0 || axis > 2)
        fail("axis must be 0, 1 or 2");
      Tile t = Tile::ofType(op.result()->type());
      uint32_t grid[3] = {launch_.grid.x, launch_.grid.y, launch_.grid.z};
      t.fillInt(op.kind() == OpKind::ProgramId ? pid_[axis] : grid[axis]);
      return setResult(std::move(t));
    }
    case OpKind::ReadSreg: {
      // The CPU's "SM" is 0; its global timer, the system clock in nanoseconds (as the GPU's).
      need(0);
      Tile t = Tile::ofType(op.result()->type());
      bool timer = op.stringAttr("reg") == "globaltimer";
      t.fillInt(timer ? std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count()
                      : 0);
      return setResult(std::move(t));
    }
    case OpKind::MakeRange:
      need(0);
      return setResult(evalMakeRange(op));
    case OpKind::Splat:
      need(1);
      return setResult(evalSplat(op, *ins[0]));
    case OpKind::Broadcast:
      need(1);
      return setResult(evalBroadcast(op, *ins[0]));
    case OpKind::ExpandDims:
    case OpKind::Reshape:
      need(1);
      return setResult(evalReshape(op, *ins[0]));
    case OpKind::Trans:
      need(1);
      return setResult(evalTrans(op, *ins[0]));
    case OpKind::Gather:
      need(2);
      return setResult(evalGather(op, *ins[0], *ins[1], *this));
    case OpKind::Join:
      need(2);
      return setResult(evalJoin(op, *ins[0], *ins[1]));
    case OpKind::Split:
      need(1);
      if (p.results.size() != 2)
        fail("split must have two results");
      return evalSplit(op, *ins[0], slots_[p.results[0]], slots_[p.results[1]]);
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul:
    case OpKind::Div:
    case OpKind::Rem:
    case OpKind::And:
    case OpKind::Or:
    case OpKind::Xor:
    case OpKind::UMulHi:
    case OpKind::Shl:
    case OpKind::Shr:
    case OpKind::Max:
    case OpKind::Min:
      need(2);
      return setResult(evalBinary(op, *ins[0], *ins[1], *this));
    case OpKind::Fma:
      need(3);
      return setResult(evalFma(*ins[0], *ins[1], *ins[2]));
    case OpKind::Cmp:
      need(2);
      return setResult(evalCmp(op, *ins[0], *ins[1]));
    case OpKind::Select:
      need(3);
      return setResult(evalSelect(*ins[0], *ins[1], *ins[2]));
    case OpKind::AddPtr:
      need(2);
      return setResult(evalAddPtr(op, *ins[0], *ins[1], *this));
    case OpKind::Neg:
    case OpKind::Not:
    case OpKind::Exp:
    case OpKind::Exp2:
    case OpKind::Log:
    case OpKind::Log2:
    case OpKind::Sqrt:
    case OpKind::Rsqrt:
    case OpKind::Abs:
    case OpKind::Sin:
    case OpKind::Cos:
    case OpKind::Tanh:
    case OpKind::Erf:
    case OpKind::Floor:
    case OpKind::Ceil:
      need(1);
      return setResult(evalUnary(op, *ins[0]));
    case OpKind::Cast:
      need(1);
      return setResult(evalCast(op, *ins[0], *this));
    case OpKind::Bitcast:
      need(1);
      return setResult(evalBitcast(op, *ins[0]));
    case OpKind::Hint:
      need(1);
      return setResult(*ins[0]);
    case OpKind::MathFn:
      need(1);
      return setResult(evalMathFn(op, ins));
    case OpKind::Load:
      need(1);
      return setResult(evalLoad(op, ins, *this));
    case OpKind::Store:
      need(2);
      return evalStore(op, ins, *this);
    case OpKind::AtomicRmw:
      need(2);
      return setResult(evalAtomicRmw(op, ins, *this));
    case OpKind::AtomicCas:
      need(3);
      return setResult(evalAtomicCas(op, ins, *this));
    case OpKind::Dot:
      need(3);
      return setResult(evalDot(op, *ins[0], *ins[1], *ins[2]));
    case OpKind::Reduce:
    case OpKind::Scan: {
      std::vector<Tile> out;
      if (op.kind() == OpKind::Reduce)
        evalReduce(p, ins, out, *this);
      else
        evalScan(p, ins, out, *this);
      if (out.size() != p.results.size())
        fail("malformed '" + std::string(op.name()) + "'");
      for (size_t i = 0; i < out.size(); ++i)
        slots_[p.results[i]] = std::move(out[i]);
      return;
    }
    case OpKind::For:
      return execFor(p);
    case OpKind::If: {
      need(1);
      if (p.regions.size() != 2)
        fail("malformed if");
      const BlockPlan &b = ins[0]->getInt(0) != 0 ? p.regions[0] : p.regions[1];
      const OpPlan &term = runBlock(b);
      if (term.operands.size() != p.results.size())
        fail("if: a branch yields " + std::to_string(term.operands.size()) + " values for " +
             std::to_string(p.results.size()) + " results");
      for (size_t i = 0; i < p.results.size(); ++i)
        slots_[p.results[i]] = slots_[term.operands[i]];
      return;
    }
    case OpKind::While:
      return execWhile(p);
    case OpKind::Yield:
    case OpKind::Condition:
    case OpKind::Return:
      fail("'" + std::string(op.name()) + "' in the middle of a block");
    case OpKind::Print:
      return evalPrint(op, ins, *this);
    case OpKind::Assert:
      need(1);
      return evalAssert(op, *ins[0], *this);
    case OpKind::Barrier:
      return;
    case OpKind::InlineAsm:
      fail("tl.inline_asm_elementwise: inline PTX runs only on the GPU; the CPU interpreter cannot execute "
           "it");
    }
    fail("unsupported op '" + std::string(op.name()) + "'");
  } catch (KernelError &e) {
    if (!e.hasLoc) {
      e.loc = op.loc();
      e.hasLoc = true;
    }
    throw;
  }
}

// ---- Launch -------------------------------------------------------------------------------------------
namespace {

Status errorStatus(const SourceManager *sources, SourceLoc loc, const std::string &msg) {
  Diagnostics diag(sources);
  diag.error(loc, msg);
  return Error{diag.renderAll()};
}

std::string kindName(LaunchArg::Kind k) {
  switch (k) {
  case LaunchArg::Kind::Buffer:
    return "a buffer";
  case LaunchArg::Kind::Int:
    return "an integer";
  case LaunchArg::Kind::Float:
    return "a float";
  case LaunchArg::Kind::Null:
    return "None";
  case LaunchArg::Kind::Device:
    return "GPU memory (compile with Target::Cuda to run on the GPU)";
  }
  return "?";
}

/// Fills the launch state from the arguments; returns an error message or "".
std::string bindArgs(LaunchState &L, std::span<const LaunchArg> args) {
  const ir::Block &body = L.func->body();
  if (args.size() != body.numArguments())
    return "kernel '" + L.func->name() + "' takes " + std::to_string(body.numArguments()) +
           " arguments, got " + std::to_string(args.size());
  L.buffers.resize(args.size());
  L.scalarArgs.resize(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    const ir::Type *t = body.argument(unsigned(i))->type();
    const LaunchArg &a = args[i];
    std::string what = "argument '" + L.argName(i) + "' ";
    if (t->isBlock())
      return what + "has a tile type " + t->str() + ", which a launch cannot pass";
    if (t->isPointer()) {
      if (a.kind == LaunchArg::Kind::Null)
        continue;
      if (a.kind != LaunchArg::Kind::Buffer)
        return what + "is a pointer (" + t->str() + ") but got " + kindName(a.kind);
      if (!a.data && a.bytes != 0)
        return what + "is a buffer of " + std::to_string(a.bytes) + " bytes with no memory";
      L.buffers[i] = BufferArg{static_cast<uint8_t *>(a.data), a.bytes, false};
      continue;
    }
    DType d = t->dtype();
    Tile v(d, false, {});
    if (a.kind == LaunchArg::Kind::Int) {
      if (ir::isFloat(d)) {
        v.fillDouble(double(a.i));
      } else if (d != DType::I1 && d != DType::U64) {
        unsigned bits = ir::bitWidth(d);
        bool fits =
            ir::isUnsigned(d)
                ? (a.i >= 0 && (bits == 64 || a.i < (int64_t(1) << bits)))
                : (bits == 64 || (a.i >= -(int64_t(1) << (bits - 1)) && a.i < (int64_t(1) << (bits - 1))));
        if (!fits)
          return what + "= " + std::to_string(a.i) + " does not fit in " + std::string(ir::dtypeName(d));
        v.fillInt(a.i);
      } else {
        v.fillInt(a.i);
      }
    } else if (a.kind == LaunchArg::Kind::Float) {
      if (!ir::isFloat(d))
        return what + "is " + std::string(ir::dtypeName(d)) + " but got a float";
      v.fillDouble(a.f);
    } else {
      return what + "is a scalar (" + t->str() + ") but got " + kindName(a.kind);
    }
    L.scalarArgs[i] = std::move(v);
  }
  return "";
}

} // namespace

Status runKernel(const ir::Function &f, Grid grid, std::span<const LaunchArg> args,
                 const SourceManager *sources, ThreadPool &pool) {
  LaunchState L;
  L.func = &f;
  L.grid = grid;
  if (std::string err = bindArgs(L, args); !err.empty())
    return errorStatus(sources, f.loc(), err);
  PlanBuilder pb;
  BlockPlan body;
  try {
    pb.build(f.body(), body);
  } catch (KernelError &e) {
    return errorStatus(sources, e.loc, e.message);
  }
  size_t numSlots = pb.ids.size();
  uint64_t total = uint64_t(grid.x) * grid.y * grid.z;
  if (total == 0)
    return Status::ok();

  std::mutex errMutex;
  std::optional<KernelError> firstError;
  pool.parallelFor(size_t(total), [&](size_t i) {
    if (L.stop.load(std::memory_order_relaxed))
      return;
    std::array<uint32_t, 3> pid = {uint32_t(i % grid.x), uint32_t((i / grid.x) % grid.y),
                                   uint32_t(i / (uint64_t(grid.x) * grid.y))};
    try {
      Executor ex(L, numSlots, pid);
      for (size_t a = 0; a < body.args.size(); ++a) {
        if (f.body().argument(unsigned(a))->type()->isPointer()) {
          Tile p(f.body().argument(unsigned(a))->type()->dtype(), true, {});
          p.data<Ptr>()[0] = Ptr{0, int64_t(a)};
          ex.slot(body.args[a]) = std::move(p);
        } else {
          ex.slot(body.args[a]) = L.scalarArgs[a];
        }
      }
      ex.runBlock(body);
    } catch (KernelError &e) {
      std::lock_guard<std::mutex> lock(errMutex);
      if (!firstError && !L.stop.load())
        firstError = std::move(e);
      L.stop.store(true);
    } catch (std::exception &e) {
      std::lock_guard<std::mutex> lock(errMutex);
      if (!firstError && !L.stop.load())
        firstError =
            KernelError{std::string("internal error in the CPU interpreter: ") + e.what(), f.loc(), true};
      L.stop.store(true);
    }
  });
  if (firstError)
    return errorStatus(sources, firstError->loc, firstError->message);
  return Status::ok();
}

} // namespace mt::cpu
