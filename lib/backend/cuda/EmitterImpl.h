// The emitter's internal state, shared by Emitter.cpp (kernel skeleton, values, elementwise ops,
// control flow), EmitMemory.cpp (loads, stores, atomics, print, assert) and EmitTile.cpp (ops that go
// through shared memory: reduce, scan, shape ops, dot). Not part of the backend's interface.
#pragma once

#include "backend/cuda/Emitter.h"

#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace mt::cuda::detail {

/// How a `dot` runs on tensor cores (EmitDot.cpp): operand dtype, the mma's k (16 for f16/bf16, 8 for
/// tf32), the warp grid and the padded shared-memory row strides (elements) of A, B and C.
struct MmaPlan {
  ir::DType elem = ir::DType::F16;
  int64_t m = 0, n = 0, k = 0;
  int kStep = 16;
  int wm = 1, wn = 1;
  int64_t lda = 0, ldb = 0, ldc = 0;
};

/// The tensor-core plan for `op` (a dot) with `numWarps` warps, or nullopt when it takes the FMA path.
std::optional<MmaPlan> planMma(const ir::Operation &op, int numWarps);

class KernelEmitter {
public:
  KernelEmitter(const ir::Function &f, const EmitOptions &opts, Diagnostics &diag);
  /// Throws CompileAbort (after reporting to diag) on unsupported input.
  CudaKernel run();

private:
  // ---- Emitter.cpp: values, types, text ----
  [[noreturn]] void unsupported(const ir::Operation &op, const std::string &msg);
  std::string line(const std::string &text); // appends one indented line
  void open(const std::string &head);        // `head {` and indent
  void close(const std::string &tail = "");  // dedent and `}tail`
  std::string fresh(const ir::Value *hint = nullptr);
  /// The C element type of a value's type: "mt::f32", "mt::f32 *", "mt::i1".
  std::string elemType(const ir::Type *t, const ir::Operation *where);
  /// Elements each thread holds of a tile of type `t` (1 for scalars).
  int64_t per(const ir::Type *t) const;
  std::string lin(int64_t per) const; // this thread's linear index of element `i`
  const std::string &name(const ir::Value *v) const;
  /// The element expression of `v` inside an element loop: `name[i]` for tiles, `name` for scalars.
  std::string at(const ir::Value *v) const;
  void bind(const ir::Value *v, std::string name) { names_[v] = std::move(name); }
  /// Declares a fresh variable for `v` (an array of per(v) for tiles) and binds it; returns the name.
  std::string declare(const ir::Value *v, const ir::Operation *where, const std::string &init = "");
  /// Emits `for (i...) dst[i] = expr;` (or `dst = expr;` for a scalar type); `expr` may use `i` and `L`.
  void forEach(const ir::Type *t, const std::string &dst, const std::string &expr);
  void assign(const ir::Type *t, const std::string &dst, const std::string &src);
  std::string literal(const ir::Operation &op, const ir::Type *t);

  void emitBlock(const ir::Block &b, const std::function<void(const ir::Operation &)> &onTerminator);
  void emitOp(const ir::Operation &op);
  void emitElementwise(const ir::Operation &op);
  std::string elementwiseExpr(const ir::Operation &op);
  /// Assigns the terminator's operands [from, ...) to `targets` (through temporaries when several).
  void assignYield(const ir::Operation &term, unsigned from, const std::vector<std::string> &targets,
                   const std::vector<const ir::Type *> &types);
  void emitFor(const ir::Operation &op);
  void emitIf(const ir::Operation &op);
  void emitWhile(const ir::Operation &op);

  // ---- EmitMemory.cpp ----
  void emitLoad(const ir::Operation &op);
  void emitStore(const ir::Operation &op);
  void emitAtomic(const ir::Operation &op);
  void emitPrint(const ir::Operation &op);
  void emitAssert(const ir::Operation &op);

  // ---- EmitTile.cpp ----
  /// Reserves `bytes` of shared memory at 16-byte aligned `offset` (regions restart at 0 for each op).
  std::string smemArray(const std::string &elemType, size_t offset);
  size_t elemBytes(const ir::Type *t) const;
  /// `__syncthreads(); smem[L] = src[i] ...; __syncthreads();` for each source; returns the smem names.
  std::vector<std::string> spill(const std::vector<const ir::Value *> &srcs, const ir::Operation &op);
  void emitReduce(const ir::Operation &op);
  void emitScan(const ir::Operation &op);
  void emitCombine(const ir::Operation &op, const std::vector<std::string> &acc,
                   const std::vector<std::string> &rhs);
  void emitShapeOp(const ir::Operation &op);
  void emitDot(const ir::Operation &op);

  // ---- EmitDot.cpp ----
  /// Emits `op` (a dot) on tensor cores if planMma accepts it; false (nothing emitted) otherwise.
  bool emitMmaDot(const ir::Operation &op);
  /// Copies tile elements between the blocked layout and a row-major shared array (row stride `ld`):
  /// `scalar(idx, i)` moves element i (at shared index idx, in terms of L); `vector(idx, i0, n)` moves the
  /// n elements from i0 (16 bytes) where they are contiguous and aligned.
  void copyTile(const ir::Type *t,
                const std::function<std::string(const std::string &, const std::string &)> &scalar,
                const std::function<std::string(const std::string &, const std::string &, int)> &vector,
                int64_t cols, int64_t ld);

  const ir::Function &fn_;
  EmitOptions opts_;
  Diagnostics &diag_;
  int64_t threads_;
  std::ostringstream out_;
  int indent_ = 1;
  unsigned counter_ = 0;
  size_t smemBytes_ = 0;
  std::map<const ir::Value *, std::string> names_;
};

} // namespace mt::cuda::detail
