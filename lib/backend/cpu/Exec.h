// Internals of the CPU interpreter shared by its files: the launch state, the per-program executor,
// and the op implementations grouped by topic (Elementwise.cpp, Shape.cpp, Memory.cpp, Reduce.cpp,
// Dot.cpp, Debug.cpp).
#pragma once

#include "backend/cpu/Tile.h"
#include "ir/Operation.h"
#include "mt/mt.h"

#include <array>
#include <atomic>
#include <mutex>
#include <span>
#include <string>
#include <vector>

namespace mt::cpu {

// ---- Execution plan: the function with every Value numbered into a slot ----------------------------
struct BlockPlan;
struct OpPlan {
  const ir::Operation *op;
  std::vector<uint32_t> operands;
  std::vector<uint32_t> results;
  std::vector<BlockPlan> regions;
};
struct BlockPlan {
  std::vector<uint32_t> args;
  std::vector<OpPlan> ops; // the last one is the terminator
};

/// One buffer argument of the launch.
struct BufferArg {
  uint8_t *data = nullptr;
  size_t bytes = 0;
  bool isNull = true;
};

/// The process's memory mappings (/proc/self/maps), read on first need and again when an address is not in
/// them: raw addresses (integers cast to pointers, e.g. a table of tensors' data_ptr()s) are checked against
/// them before they are touched, so a bad address is an error, not a crash.
class ProcessMaps {
public:
  /// Whether [addr, addr + n) lies in readable mappings (also writable when `write`).
  bool accessible(uint64_t addr, size_t n, bool write);

private:
  struct Range {
    uint64_t lo, hi;
    bool readable, writable;
  };
  const Range *find(uint64_t addr) const;
  void reload();
  std::mutex mu_;
  std::vector<Range> ranges_;
};

/// Shared by every program instance of a launch.
struct LaunchState {
  const ir::Function *func;
  Grid grid;
  std::vector<BufferArg> buffers; // parallel to the parameters (unused for scalars)
  std::vector<Tile> scalarArgs;   // parallel to the parameters (empty tiles for pointers)
  std::mutex atomicMutex;         // atomics are serialised across program instances
  ProcessMaps maps;               // for raw addresses
  std::mutex printMutex;
  std::atomic<bool> stop{false};

  const std::string &argName(size_t i) const;
};

/// Runs one program instance.
class Executor {
public:
  Executor(LaunchState &launch, size_t numSlots, std::array<uint32_t, 3> pid)
      : launch_(launch), slots_(numSlots), pid_(pid) {}

  LaunchState &launch() { return launch_; }
  const std::array<uint32_t, 3> &pid() const { return pid_; }
  /// "(program (x, y, z), lane i)" for messages; lane < 0 leaves it out.
  std::string where(int64_t lane = -1) const;

  /// Runs a block whose arguments are already set; returns its terminator.
  const OpPlan &runBlock(const BlockPlan &b);
  /// Sets a block's arguments, runs it, returns the terminator's operand tiles.
  void runRegion(const BlockPlan &b, std::span<const Tile> args, std::vector<Tile> &results);
  Tile &slot(uint32_t i) { return slots_[i]; }

private:
  void execOp(const OpPlan &p);
  void execFor(const OpPlan &p);
  void execWhile(const OpPlan &p);

  LaunchState &launch_;
  std::vector<Tile> slots_;
  std::array<uint32_t, 3> pid_;
};

[[noreturn]] void fail(std::string message);

// ---- Op implementations ------------------------------------------------------------------------
// Each takes the op, its operand tiles and produces result tiles (already shaped from the op's types).
using Operands = std::span<const Tile *const>;

// Elementwise.cpp
Tile evalConstant(const ir::Operation &op);
Tile evalBinary(const ir::Operation &op, const Tile &a, const Tile &b, Executor &ex);
Tile evalUnary(const ir::Operation &op, const Tile &a);
Tile evalCmp(const ir::Operation &op, const Tile &a, const Tile &b);
Tile evalSelect(const Tile &c, const Tile &a, const Tile &b);
Tile evalFma(const Tile &a, const Tile &b, const Tile &c);
/// A `mathfn` op: the library function {fn} (ir/MathFns.def), in double precision, rounded once.
Tile evalMathFn(const ir::Operation &op, Operands ins);
/// Also integer <-> pointer: an address inside a buffer argument becomes a pointer into that buffer (bounds
/// checked), any other a raw address (checked against the process's mappings); a pointer's integer is its
/// address.
Tile evalCast(const ir::Operation &op, const Tile &a, Executor &ex);
Tile evalBitcast(const ir::Operation &op, const Tile &a);
Tile evalAddPtr(const ir::Operation &op, const Tile &p, const Tile &off, Executor &ex);
/// True for the binary op kinds the reduce/scan fast path implements (add, mul, max, min).
bool isFastCombine(ir::OpKind k);

// Shape.cpp
Tile evalMakeRange(const ir::Operation &op);
Tile evalSplat(const ir::Operation &op, const Tile &a);
Tile evalBroadcast(const ir::Operation &op, const Tile &a);
Tile evalReshape(const ir::Operation &op, const Tile &a);
Tile evalTrans(const ir::Operation &op, const Tile &a);
/// tl.gather: an index outside the source along the axis is an error naming the lane.
Tile evalGather(const ir::Operation &op, const Tile &src, const Tile &index, Executor &ex);
Tile evalJoin(const ir::Operation &op, const Tile &a, const Tile &b);
void evalSplit(const ir::Operation &op, const Tile &a, Tile &lo, Tile &hi);

// Memory.cpp
Tile evalLoad(const ir::Operation &op, Operands in, Executor &ex);
void evalStore(const ir::Operation &op, Operands in, Executor &ex);
Tile evalAtomicRmw(const ir::Operation &op, Operands in, Executor &ex);
Tile evalAtomicCas(const ir::Operation &op, Operands in, Executor &ex);

// Reduce.cpp
void evalReduce(const OpPlan &p, Operands in, std::vector<Tile> &out, Executor &ex);
void evalScan(const OpPlan &p, Operands in, std::vector<Tile> &out, Executor &ex);

// Dot.cpp
Tile evalDot(const ir::Operation &op, const Tile &a, const Tile &b, const Tile &acc);

// Debug.cpp
void evalPrint(const ir::Operation &op, Operands in, Executor &ex);
void evalAssert(const ir::Operation &op, const Tile &cond, Executor &ex);

/// Runs `body` with `E` bound to a trivially copyable type of `size` bytes (1, 2, 4, 8; anything else is a
/// pointer element). Shape ops move elements with it without looking at them; loads and stores copy them.
#define MT_DISPATCH_SIZE(size, E, ...)                                                                       \
  switch (size) {                                                                                            \
  case 1: {                                                                                                  \
    using E = uint8_t;                                                                                       \
    __VA_ARGS__;                                                                                             \
  } break;                                                                                                   \
  case 2: {                                                                                                  \
    using E = uint16_t;                                                                                      \
    __VA_ARGS__;                                                                                             \
  } break;                                                                                                   \
  case 4: {                                                                                                  \
    using E = uint32_t;                                                                                      \
    __VA_ARGS__;                                                                                             \
  } break;                                                                                                   \
  case 8: {                                                                                                  \
    using E = uint64_t;                                                                                      \
    __VA_ARGS__;                                                                                             \
  } break;                                                                                                   \
  default: {                                                                                                 \
    using E = Ptr;                                                                                           \
    __VA_ARGS__;                                                                                             \
  } break;                                                                                                   \
  }

} // namespace mt::cpu
