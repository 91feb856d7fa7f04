// The emitter's internal state, shared by Emitter.cpp (kernel skeleton, values, elementwise ops,
// control flow), EmitMemory.cpp (loads, stores, atomics, print, assert) and EmitTile.cpp (ops that go
// through shared memory: reduce, scan, shape ops, dot). Not part of the backend's interface.
#pragma once

#include "backend/cuda/Emitter.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace mt::cuda::detail {

/// Byte width of a memory element that vector accesses may move, or 0 (pointers, i1, void) (EmitMemory.cpp).
size_t vecElemBytes(const ir::Type *ptrType);

/// Row-major strides of `shape`, in elements.
inline std::vector<int64_t> stridesOf(const std::vector<int64_t> &shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (int d = int(shape.size()) - 2; d >= 0; --d)
    s[d] = s[d + 1] * shape[d + 1];
  return s;
}
inline std::string num(int64_t v) { return std::to_string(v); }
inline size_t align16(size_t n) { return (n + 15) / 16 * 16; }
/// `v` is a constant op's result (a tile constant is a splat: read through at() in any layout).
inline bool isConstant(const ir::Value *v) {
  const ir::Operation *d = v->definingOp();
  return d && d->kind() == ir::OpKind::Constant;
}
/// wgmma operand tiles start on 1024-byte boundaries (the period of the 128-byte swizzle).
inline size_t align1024(size_t n) { return (n + 1023) / 1024 * 1024; }
/// The largest power of 2 that is <= v (1 for v < 2).
inline int64_t pow2Floor(int64_t v) {
  int64_t p = 1;
  while (p * 2 <= v)
    p *= 2;
  return p;
}
/// True if `expr` names the linear index `L` (as a whole identifier, not the L of a `1LL` suffix).
bool usesLinearIndex(const std::string &expr);

/// How a `dot` runs on tensor cores (EmitDot.cpp): operand dtype, the mma's k (16 for f16/bf16, 8 for
/// tf32), the warp grid and the padded shared-memory row strides (elements) of A, B and C.
struct MmaPlan {
  ir::DType elem = ir::DType::F16;
  int64_t m = 0, n = 0, k = 0;
  int kStep = 16;
  int wm = 1, wn = 1;
  int64_t lda = 0, ldb = 0, ldc = 0;
  /// A warpgroup MMA (device/wgmma.cuh): warps M/16 x 1, A and B unpadded (lda = K, ldb = N) and swizzled
  /// in shared memory with the widths swA (A's rows of K) and swB (B's rows of N; a B read transposed from
  /// its N x K rows uses swizzleWidth(K)).
  bool wgmma = false;
  int swA = 0, swB = 0;
  /// m64 products per warpgroup and k-step (1, or 2 for M = 128 on one warpgroup): warp w's fragment rows
  /// fm * 16 .. of fragLinear<M, N, warps, 1> come from product fm, whose A rows sit at 64 * fm + 16 * w
  /// in shared memory (SmemTile::sub).
  int sub = 1;
};

/// The tensor-core plan for `op` (a dot) with `numWarps` warps, or nullopt when it takes the FMA path.
/// `wgmma`: use warpgroup MMAs where the tile allows.
std::optional<MmaPlan> planMma(const ir::Operation &op, int numWarps, bool wgmma = false);
/// The widest wgmma swizzle (128, 64 or 32 bytes) that divides a row of `cols` 16-bit elements; 0 if none.
int swizzleWidth(int64_t cols);
/// Where a staged dot operand lives in shared memory: rows x cols, row stride ld (padded, swz == 0) or
/// the swizzled layout of device/wgmma.cuh (swz = width in bytes).
struct SmemTile {
  int64_t rows = 0, cols = 0, ld = 0;
  int swz = 0;
  /// A of a warpgroup MMA with `sub` products per warpgroup: rows permuted so that each product reads 64
  /// consecutive rows (device/wgmma.cuh swizzled).
  int sub = 1;
  /// The C expression of element L's index in the shared array.
  std::string index(const std::string &L) const;
  /// index(L + step) - index(L) when it is the same for every L of the tile (whole rows, and for a
  /// swizzled tile whole 1024-byte swizzle periods): a thread's groups then sit at constant offsets from
  /// its first, which the CUDA compiler folds into the instructions' immediates.
  std::optional<int64_t> shift(int64_t step) const;
};
/// The shared-memory tile of operand `which` (0: A, 1: B) of plan `p`; `bTransposed`: B held as N rows of K.
SmemTile operandTile(const MmaPlan &p, int which, bool bTransposed);

/// True if `v` is defined in `loop`'s body or in a region nested in it (EmitDotPipeline.cpp).
bool inside(const ir::Value *v, const ir::Operation &loop);
/// How many operands of `b`'s ops (nested regions included) read `v`.
unsigned countUses(const ir::Block &b, const ir::Value *v);

class KernelEmitter {
public:
  KernelEmitter(const ir::Function &f, const EmitOptions &opts, Diagnostics &diag);
  /// Throws CompileAbort (after reporting to diag) on unsupported input.
  CudaKernel run();

private:
  // ---- Emitter.cpp: values, types, text ----
  [[noreturn]] void unsupported(const ir::Operation &op, const std::string &msg);
  std::string line(const std::string &text); // appends one indented line
  /// `const int L = mt::nonNeg(expr);`: a thread's linear tile index, which the CUDA compiler may then take
  /// as non-negative (signed division and remainder by powers of two become shifts and masks).
  void lineL(const std::string &expr);
  void open(const std::string &head);       // `head {` and indent
  void close(const std::string &tail = ""); // dedent and `}tail`
  std::string fresh(const ir::Value *hint = nullptr);
  /// The C element type of a value's type: "mt::f32", "mt::f32 *", "mt::i1".
  std::string elemType(const ir::Type *t, const ir::Operation *where);
  /// Elements each thread holds of a tile of type `t` (1 for scalars).
  int64_t per(const ir::Type *t) const;
  /// This thread's linear index of its element `i`: the blocked layout, `vecWidth(per)` consecutive
  /// elements per thread, threads side by side, repeated (see device/kernel.cuh).
  std::string lin(int64_t per) const;
  /// Consecutive elements a thread holds of a tile with `per` elements per thread (a power of 2).
  int64_t vecWidth(int64_t per) const;
  const std::string &name(const ir::Value *v) const;
  /// The element expression of `v` inside an element loop: `name[i]` for tiles, `name` for scalars.
  std::string at(const ir::Value *v) const;
  void bind(const ir::Value *v, std::string name) { names_[v] = std::move(name); }
  /// Declares a fresh variable for `v` (an array of per(v) for tiles) and binds it; returns the name.
  std::string declare(const ir::Value *v, const ir::Operation *where, const std::string &init = "");
  /// Emits `for (i...) dst[i] = expr;` (or `dst = expr;` for a scalar type); `expr` may use `i` and `L`.
  /// `frag`: the layout of dst (-1: blocked).
  void forEach(const ir::Type *t, const std::string &dst, const std::string &expr, int frag = -1);
  void assign(const ir::Type *t, const std::string &dst, const std::string &src, int frag = -1);
  std::string literal(const ir::Operation &op, const ir::Type *t);

  void emitBlock(const ir::Block &b, const std::function<void(const ir::Operation &)> &onTerminator);
  /// Emits `op` (reading fragment-layout operands through their blocked copies where needed).
  void emitOp(const ir::Operation &op);
  void emitOpIn(const ir::Operation &op);
  void emitElementwise(const ir::Operation &op);
  std::string elementwiseExpr(const ir::Operation &op);
  /// Assigns the terminator's operands [from, ...) to `targets` (through temporaries when several).
  /// `frags`: the targets' layouts (empty: all blocked).
  void assignYield(const ir::Operation &term, const std::vector<const ir::Value *> &srcs,
                   const std::vector<std::string> &targets, const std::vector<const ir::Type *> &types,
                   const std::vector<int> &frags = {});
  /// The terminator's operands from `from` on.
  static std::vector<const ir::Value *> operandsFrom(const ir::Operation &term, unsigned from);
  void emitFor(const ir::Operation &op);
  void emitIf(const ir::Operation &op);
  void emitWhile(const ir::Operation &op);

  // ---- EmitLineInfo.cpp ----
  /// Attributes the lines emitted from now on to `loc` (ops without a location keep the current one).
  friend class LocationScope;
  /// Called by line() before each generated line: writes a `#line` directive when the line would
  /// otherwise be attributed to another kernel-source line than the current location's (every line of
  /// a multi-line op keeps the op's line). Nothing while no location is known.
  void lineDirective(const std::string &text);

  // ---- EmitMemory.cpp ----
  /// Elements per thread-contiguous group for this kernel: 16 bytes of its narrowest loaded or stored
  /// element type (at most 8 elements), so that loads and stores can be 16-byte vectors.
  static int64_t chooseVecElems(const ir::Function &f);
  /// A tile load or store as groups of vecWidth(per) elements: one vector access when the group's
  /// pointers are consecutive, aligned and unmasked (checked at run time), elementwise otherwise.
  /// Returns false when the tile cannot be vectorised at all.
  /// `dst` (when not empty): the declared registers to load into instead of a new variable for the result.
  bool emitVectorLoad(const ir::Operation &op, const std::string &dst = "");
  bool emitVectorStore(const ir::Operation &op);
  /// A store of a 16-bit fragment tile (a matmul's epilogue) whose pointers are contiguous along rows:
  /// staged through shared memory into the blocked layout and stored 16 bytes a thread (as Triton's),
  /// instead of pairs of 4 bytes from the fragments. False when it does not apply.
  bool emitStagedFragStore(const ir::Operation &op);
  void emitVectorChecks(const ir::Value *ptr, const ir::Value *mask, int64_t per, int64_t width,
                        int64_t numElements, size_t elemBytes, int layout = -1);
  /// The group loop of a vector load/store: checks, then `vectorStmt` (may use mt_g, mt_p0) when
  /// mt_vec, else `elementStmt` for each element (may use i, L). Where the axis analysis proves every group
  /// aligned and consecutive, with a mask uniform over the group (or none) and no padding, there are no
  /// run-time checks: `vectorStmt` under the mask, else `maskedOffStmt` for each element (empty: nothing).
  void emitVectorGroups(const ir::Value *ptr, const ir::Value *mask, int64_t per, int64_t width,
                        int64_t numElements, size_t elemBytes, const std::string &vectorStmt,
                        const std::string &elementStmt, const std::string &maskedOffStmt, int layout = -1);
  /// The elements a thread holds of a tile of type `t` in `layout` (-1 blocked, a strip or a fragment
  /// layout) and how many consecutive ones a vector access moves: the blocked vector width, the strip's
  /// group, or 2 in a fragment tile (elements 2j and 2j + 1 are adjacent columns of a row, EmitLayout.cpp).
  /// None where there are no vector accesses (fragment rows, a width under 2).
  std::optional<std::pair<int64_t, int64_t>> vectorGroupsIn(const ir::Type *t, int layout) const;
  /// Loads into `dst` when it is not empty (registers already declared), else into a new variable bound to
  /// the result (or, for a prefetched load, from its prefetch registers: emitPrefetchedLoad).
  void emitLoad(const ir::Operation &op, const std::string &dst = "");
  void emitStore(const ir::Operation &op);
  void emitAtomic(const ir::Operation &op);
  void emitPrint(const ir::Operation &op);
  void emitAssert(const ir::Operation &op);
  void emitInlineAsm(const ir::Operation &op); // EmitInlineAsm.cpp

  // ---- EmitTile.cpp ----
  /// Reserves `bytes` of shared memory at 16-byte aligned `offset` (regions restart at 0 for each op).
  std::string smemArray(const std::string &elemType, size_t offset);
  size_t elemBytes(const ir::Type *t) const;
  /// `__syncthreads(); smem[L] = src[i] ...; __syncthreads();` for each source; returns the smem names.
  std::vector<std::string> spill(const std::vector<const ir::Value *> &srcs, const ir::Operation &op);
  // ---- EmitRemat.cpp ----
  /// Marks the tiles that are never materialised: index arithmetic (valueAt() can compute it) whose
  /// every user reads it element by element through at() (elementwise ops, loads, stores, atomics,
  /// shape ops, asserts). at() returns such a tile's expression at the consumer's linear index `L`;
  /// this keeps offsets, pointers and masks out of registers.
  void planLazyValues(const ir::Block &body);
  bool isLazy(const ir::Value *v) const { return lazy_.count(v) != 0; }
  /// The element of tile `v` at linear index `idx` as a C expression computed from scratch, when `v`
  /// depends only on make_range, constants, splats of scalars and pure elementwise/shape ops over those
  /// (offsets and masks built from aranges); nullopt otherwise. `budget` caps the ops it may re-emit.
  std::optional<std::string> valueAt(const ir::Value *v, const std::string &idx, int &budget);
  /// The source linear index of broadcast `op`'s result element `idx`.
  std::string broadcastSourceIndex(const ir::Operation &op, const std::string &idx);
  /// A broadcast whose source valueAt() can recompute: each thread evaluates its own elements, with no
  /// shared-memory round trip. Returns false when it does not apply.
  bool emitBroadcastInRegisters(const ir::Operation &op);

  // ---- EmitPipeline.cpp ----
  /// Register prefetch (software pipelining) of the loads at the top level of a `for` body whose operands
  /// are functions of the induction variable and of values defined outside the loop: iteration i + step's
  /// tile is loaded into registers while iteration i computes. Called by emitFor once the induction
  /// variable is bound and before the loop opens: picks the loads and loads iteration lb's tiles.
  void emitPrefetchPrologue(const ir::Operation &forOp);
  /// Called by emitLoad: for a prefetched load, binds the result to a copy of its registers and loads the
  /// next iteration's tile into them (if there is a next iteration). False for any other load.
  bool emitPrefetchedLoad(const ir::Operation &op);
  /// How many copies of `forOp`'s body emitFor emits per loop iteration (the prefetch depth; 1 without);
  /// setPrefetchCopy says which one comes next.
  int prefetchCopies(const ir::Operation &forOp) const;
  /// Called by emitFor at the end of each copy of the body: the loads deferred there (depth > 1).
  void emitPrefetchTail(const ir::Operation &forOp);
  /// The load of `op`'s tile `depth` iterations ahead into the current copy's registers, if the loop gets
  /// that far.
  void emitLoadAhead(const ir::Operation &op);
  void setPrefetchCopy(const ir::Operation &forOp, int copy);
  /// The value of a loop-body argument at the iteration an expression is rebuilt for, at linear index idx.
  using ArgExpr = std::function<std::optional<std::string>(const std::string &idx)>;
  using LoopArgs = std::map<const ir::Value *, ArgExpr>;
  /// `v` (element `idx` for tiles) as a C expression at another iteration of the loop whose body is `body`:
  /// values defined outside the loop are read as they are, the body's arguments through `args`, and the
  /// body's pure ops are recomputed. nullopt when `v` depends on anything else or exceeds `budget` ops.
  std::optional<std::string> rebuildAt(const ir::Value *v, const std::string &idx, const ir::Block &body,
                                       const LoopArgs &args, int &budget);
  /// The body's arguments one iteration after `prev`'s: the induction variable is the C variable `ivName`,
  /// a carried value what the body yields, rebuilt from `prev`.
  std::shared_ptr<LoopArgs> argsAfter(const ir::Operation &forOp, std::shared_ptr<LoopArgs> prev,
                                      const std::string &ivName);
  /// Emits `load` into `regs` with its operands rebuilt for the iteration `args` describe.
  void emitLoadFrom(const ir::Operation &load, const std::string &regs, const ir::Block &body,
                    const LoopArgs &args);
  struct PrefetchedLoad {
    const ir::Operation *loop = nullptr;
    std::vector<std::string> regs; // the prefetch registers: the tiles of the next `depth` iterations
  };
  struct PrefetchLoop {
    std::string ivType, ub, step;
    int depth = 1; // iterations loaded ahead; the body is emitted `depth` times, copy c using registers c
    int copy = 0;  // the copy being emitted
    std::vector<const ir::Operation *> pending; // loads of this copy to issue at the end of the body
    std::shared_ptr<LoopArgs> next;             // the body's arguments `depth` iterations ahead
  };
  std::map<const ir::Operation *, PrefetchedLoad> prefetch_;
  std::map<const ir::Operation *, PrefetchLoop> prefetchLoops_;

  // ---- EmitAxis.cpp ----
  struct AxisInfo {
    /// EndsContig: contiguous exactly when f(L0 + W - 1) == f(L0) + W - 1 (a `%` of a contiguous group
    /// may wrap inside it; one run-time comparison decides).
    enum Kind { Other, Uniform, Contig, EndsContig } kind = Other;
    int64_t div = 1;
  };
  /// What is known about lazy tile `v` over groups of `w` consecutive linear indices (EmitAxis.cpp).
  AxisInfo axisInfo(const ir::Value *v, int64_t w);
  AxisInfo computeAxisInfo(const ir::Value *v, int64_t w);
  /// A power of 2 that divides integer scalar `v` (from constants, multiple_of hints, products).
  int64_t scalarDivisibility(const ir::Value *v, int depth) const;

  /// Checks a reduce or scan (`what`: "reduces" / "scans"): as many results as operands, tiles of one
  /// shape, an axis in range. Returns the operands' type.
  const ir::Type *checkAxisOp(const ir::Operation &op, const char *what);

  // ---- EmitScan.cpp ----
  void emitScan(const ir::Operation &op);

  // ---- EmitReduce.cpp ----
  void emitReduce(const ir::Operation &op);
  /// Rank-1 tile -> scalar: each thread combines its elements in registers, then warp shuffles, then
  /// the warps' partials through shared memory.
  void emitReduceToScalar(const ir::Operation &op);
  /// Any axis: `lanes` threads per output combine strided slices of the spilled source, then shuffle.
  void emitReduceByGroups(const ir::Operation &op, const std::vector<std::string> &smem, int64_t lanes);
  /// One output per thread, combined sequentially from the spilled source.
  void emitReduceSequential(const ir::Operation &op, const std::vector<std::string> &smem);
  /// Names for one combine: `acc`/`rhs` variables per operand (declared by the caller) and a `has` flag.
  struct Partial {
    std::vector<std::string> acc, rhs, types;
    std::string has;
  };
  Partial declarePartial(const ir::Operation &op);
  /// `if (has_rhs) { acc = has ? combine(acc, rhs) : rhs; has = true; }` with rhs from `load(k)`.
  void emitFold(const ir::Operation &op, const Partial &p, const std::function<std::string(unsigned)> &load,
                const std::string &rhsValid);
  /// Butterfly over lanes `width/2 .. 1` of each warp: afterwards every lane of a `width`-group holds
  /// the group's combination.
  void emitButterfly(const ir::Operation &op, const Partial &p, int64_t width, bool dense);
  /// The warps' partials through shared memory (at `offset`, advanced): warp 0 lane of each warp writes,
  /// a barrier, then each thread folds the `count` partials from warp `firstWarp` on. `dense`: every
  /// warp has a value (no validity flags).
  void emitWarpPartials(const ir::Operation &op, const Partial &p, size_t &offset,
                        const std::string &firstWarp, int64_t count, bool dense);
  void emitCombine(const ir::Operation &op, const std::vector<std::string> &acc,
                   const std::vector<std::string> &rhs);
  void emitShapeOp(const ir::Operation &op);
  void emitDot(const ir::Operation &op);

  // ---- EmitDot.cpp ----
  /// planMma for this kernel's warps and options.
  std::optional<MmaPlan> mmaPlanFor(const ir::Operation &op) const {
    return planMma(op, opts_.numWarps, opts_.wgmma && opts_.tensorCores);
  }
  /// Emits `op` (a dot) on tensor cores if planMma accepts it; false (nothing emitted) otherwise.
  bool emitMmaDot(const ir::Operation &op);
  /// A tensor-core dot whose result is in fragment layout `frag`: A and B staged, the accumulator (the
  /// constant `init`, or operand 2 in the frag layout) updated in registers by mt::mmaAccumulate.
  void emitFragDot(const ir::Operation &op, const MmaPlan &p, int frag, std::optional<double> init,
                   size_t offB);
  /// Writes tile `v` (rows x cols, any layout) into shared array `dst` with row stride `ld`.
  void stageOperand(const ir::Operation &op, const ir::Value *v, const std::string &dst, const SmemTile &at);
  /// Copies tile elements between the blocked layout and a row-major shared array (row stride `ld`):
  /// `scalar(idx, i)` moves element i (at shared index idx, in terms of L); `vector(idx, i0, n)` moves the
  /// n elements from i0 (up to 16 bytes) where they are contiguous and aligned.
  void copyTile(const ir::Type *t,
                const std::function<std::string(const std::string &, const std::string &)> &scalar,
                const std::function<std::string(const std::string &, const std::string &, int)> &vector,
                const SmemTile &at);

  // ---- EmitWgmma.cpp ----
  /// The name of a generated device function running one wgmma.mma_async m64nNk16 (f32 accumulators,
  /// operands of dtype `elem` through descriptors; B K-major when `bKMajor`, else N-major), defined
  /// before the kernel (wgmmaHelpers_).
  std::string wgmmaInstruction(int64_t n, ir::DType elem, bool bKMajor, bool aRegs = false);
  /// The call of a warpgroup MMA with A from registers (`a`), B from shared memory at `b` (N-major unless
  /// `bT`), accumulating into `acc`; waitSub and turn: the template's wait and the call's turn, each with
  /// its leading ", " (or empty).
  std::string wgmmaRegACall(const MmaPlan &p, bool bT, const std::string &a, const std::string &b,
                            const std::string &acc, const std::string &waitSub, const std::string &turn);
  /// True if `a` (operand A of a dot planned as `p`) is held in the fragment layout a wgmma reads A from
  /// registers in: the accumulator layout of an M x K wgmma result (EmitDot.cpp).
  bool wgmmaRegisterA(const ir::Value *a, const MmaPlan &p) const;
  std::map<std::string, std::string> wgmmaHelpers_; // name -> definition
  bool usesWgmma_ = false;

  // ---- EmitLayout.cpp: the accumulator fragment layout of tensor-core dots ----
  /// A tile held as mma accumulator fragments (device/mma.cuh fragLinear): all warps, a WM x WN grid.
  /// With `row`: the row vectors of such a tile ([M] or [M, 1]; device/mma.cuh fragRow): each thread holds
  /// the rows its fragments cover, replicated over its quad and the warps of its warp row.
  struct FragLayout {
    int64_t m = 0, n = 0;
    int wm = 1, wn = 1;
    bool row = false;
  };
  /// Chooses the values held in a fragment layout instead of the blocked one: results of tensor-core
  /// dots, loop-carried values that a loop's yield gives them back, elementwise ops over them (other
  /// operands lazy), and marks those some user needs in the blocked layout (converted once, at their
  /// definition).
  void planFragLayouts(const ir::Block &body);
  void planFragBlock(const ir::Block &b);
  /// Row-vector layouts (FragLayout::row) for what flows from row reductions of fragment tiles to the
  /// broadcasts back over them (attention's m_i, l_i, alpha): loop-carried ones are tried in the layout
  /// and dropped when their yield does not end up in it.
  void planFragRows(const ir::Block &body);
  bool planFragRowBlock(const ir::Block &b);
  /// The row-vector layout of fragment layout `f` (created on first use).
  int fragRowOf(int f);
  bool isFragRow(int layout) const { return layout >= 0 && !isStrip(layout) && frags_[size_t(layout)].row; }
  /// The condition under which this thread is the first holder of its element L of row layout `f`
  /// (stores and conversions write each row once).
  std::string fragRowOwner(int f) const;
  std::map<const ir::Value *, const ir::Value *> rowGuess_; // carried argument -> its yielded value
  std::set<const ir::Value *> rowRejected_;
  /// The fragment layout of a dot's result, or -1 when it keeps the blocked layout.
  int fragForDot(const ir::Operation &op);
  /// True if `user` reads fragment-layout operand `v` in place (no conversion).
  bool fragAware(const ir::Operation &user, const ir::Value *v) const;
  /// The fragment layout of `v` (an index into frags_), or -1 for the blocked layout.
  int fragOf(const ir::Value *v) const {
    auto it = fragOf_.find(v);
    return it == fragOf_.end() ? -1 : it->second;
  }
  /// Elements per thread and the linear index (in terms of i) of element i in layout `frag` (-1: the
  /// blocked layout of tile type t).
  int64_t perIn(const ir::Type *t, int frag) const;
  std::string linIn(const ir::Type *t, int frag) const;
  int64_t perOf(const ir::Value *v) const { return perIn(v->type(), layoutOf(v)); }
  /// `src` (registers of `v`'s type in layout `from`) copied into fresh registers in layout `to`,
  /// through shared memory; returns their name.
  std::string convertLayout(const ir::Value *v, const std::string &src, int from, int to);
  /// The registers of `v` in layout `frag`: its own, its blocked copy, or a conversion emitted here.
  std::string valueIn(const ir::Value *v, int frag);
  /// After `v` is defined: its blocked copy, when some user needs one.
  void emitBlockedCopy(const ir::Value *v);
  // ---- EmitDotPipeline.cpp: a loop's dot operands loaded with cp.async, stages ahead ----
  /// One operand of a pipelined dot: copied by cp.async into a ring of `stages` slots (a load of the body),
  /// staged once before the loop (a value defined outside it), or staged from registers each iteration.
  struct PipeOperand {
    enum Kind { Ring, Invariant, Staged, Registers } kind = Staged; // Registers: wgmma's A, not staged
    const ir::Operation *load = nullptr;                            // Ring
    const ir::Operation *trans = nullptr; // Ring of B read through tl.trans: the ring holds B^T (N x K)
    const ir::Value *value = nullptr;
    size_t offset = 0; // in the pipeline region (Ring: slot 0; slots are slotBytes apart)
    size_t slotBytes = 0;
    SmemTile tile; // where the operand sits in its slot
    /// Ring of a load from an advanced pointer tile (`a_ptrs += ...`, a LazyIter) whose init the loop does
    /// not change: the init's pointer at each of the thread's groups, computed once before the loop, and
    /// whether every group is contiguous there (the running offset is uniform). Empty otherwise.
    mutable std::string groupBase, groupContig;
    /// With groupBase: the groups' pointers for the next copies in the loop (`distance` iterations ahead),
    /// set after the prologue's copies and advanced by the step after each iteration's (as Triton's
    /// advanced pointers: one 64-bit add a group, where base + running offset rematerialised a pointer).
    mutable std::string groupNext;
    /// groupContig is known true at compile time (EmitAxis.cpp): no check was emitted.
    mutable bool groupContigKnown = false;
    /// EmitOptions::affineRings, a Ring whose pointer tile is affine in the induction variable with one
    /// coefficient for every element (attention's k and v): the group pointers of the loop's copies, set
    /// after the prologue and advanced by `affineStep` (elements, the loop's step times the coefficient)
    /// after each iteration's copies, instead of recomputed from the induction variable.
    mutable std::string affineRun, affineStep;
  };
  struct PipedDot {
    const ir::Operation *dot = nullptr;
    MmaPlan plan;
    PipeOperand ops[2];
  };
  struct LoopPipe {
    const ir::Operation *loop = nullptr;
    std::vector<PipedDot> dots; // in program order; the first one waits and issues for all
    int stages = 3;
    std::string stage; // the loop's stage counter
    /// The loop's only dot is a wgmma whose accumulator is loop-carried and touched by nothing else: its
    /// products stay in flight into the next iteration (wait_group 1), the ring has one slot more (the
    /// one the in-flight products read), the wait for them comes after the loop.
    bool deferWait = false;
    /// EmitOptions::mbarrierRings applies: `full[s]` completes when slot s has landed (each thread arrives
    /// twice: once when its copies land, once after issuing them), `empty[s]` when every thread is done
    /// reading it; `iter` counts iterations (the phase parities). The ring has one slot more, so that a
    /// refill waits for the readers of the iteration before last, not the last.
    bool mbar = false;
    size_t barOffset = 0;
    std::string full, empty, iter;
    /// EmitOptions::pingPong applies (mbar, two warpgroups): the warpgroups take turns from the last dot's
    /// issue to the next iteration's first (named barriers 1 and 2). Its lines carry `turnMarker` until the
    /// loop is emitted; they stay only if the body has no block-wide barrier (finishTurns).
    bool pingPong = false;
    std::string turnMarker, warpgroup; // warpgroup: this thread's (0 or 1), warp-uniform
    std::string
        turn; // the named barrier of this warpgroup's turns (1 + warpgroup; 0 once the turns are dropped)
    /// EmitOptions::rotate applies (mbar; two wgmma dots, the second with A from registers and accumulating
    /// into a loop-carried value `accArg`, directly or through `rescale` = accArg * rescaleBy, that nothing
    /// else reads): the second dot of iteration i - 1 is issued in iteration i right after the first dot
    /// (no products at i = 0: an empty group), so that the softmax of iteration i runs while it does; its
    /// A (`pCarry`) and rescaleBy (`xCarry`) are carried from iteration i - 1, the rescale moves to the top
    /// of the body, and the last iteration's product is issued after the loop. Its slot is released one
    /// iteration later than without.
    bool rotate = false;
    /// With rotate, where the barriers fit: the first dot's ring operands (group 0: `full`, `empty`) and the
    /// second's (group 1: `fullB`, `emptyB`) are signalled apart. Group 0's slot is released once the first
    /// product is done and refilled right after it is issued; group 1's slot is released after the second
    /// product, an iteration later, and refilled then (with one set, the refill after the first dot would
    /// wait for the other warpgroup's second product of the iteration before).
    bool split = false;
    std::string fullB, emptyB;
    const ir::Value *accArg = nullptr, *rescaleBy = nullptr;
    std::string pCarry, xCarry;
    /// Iterations the copies run ahead.
    int distance() const { return stages - 1; }
    /// Slots of each ring.
    int slots() const { return deferWait || mbar ? stages + 1 : stages; }
  };
  /// Plans the pipeline of `loop` (a for): its top-level tensor-core dots (fragment results) whose
  /// operands are loads of the body from addresses later iterations can recompute (lazy tiles over the
  /// induction variable, the loop's advanced pointers and scalars, invariants) or values defined outside
  /// the loop; nothing in the body may store. Null when it does not apply.
  const LoopPipe *planDotPipeline(const ir::Operation &loop);
  /// Sets LoopPipe::rotate (and what it needs) where it applies.
  void planRotation(LoopPipe &lp);
  /// A rotated loop's second product (LoopPipe::rotate): the call, with A `a`, B from ring slot `slot` and
  /// the accumulator `acc` (waitSub, turn: the template's wait and the call's turn, each with its ", "); the
  /// B pointer's line is emitted first.
  std::string regAProduct(const LoopPipe &p, const std::string &a, const std::string &slot,
                          const std::string &acc, const std::string &waitSub, const std::string &turn);
  /// With LoopPipe::split, the wait for the second dot's ring slot of the iteration before.
  void emitSecondOperandsWait(const LoopPipe &p);
  /// The ring slot of the iteration before the current one.
  std::string previousSlot(const LoopPipe &p) const;
  /// Before a rotated loop: the carried A of its second product (zero) and rescale factor (one).
  void emitRotationCarries(const LoopPipe &p);
  /// At the top of a rotated loop's body (and in its epilogue): accArg *= the carried rescale factor.
  void emitRotatedRescale(const LoopPipe &p);
  /// After a rotated loop: the last iteration's second product, if the loop ran.
  void emitRotationEpilogue(const LoopPipe &p);
  /// True if `v` can be evaluated for a later iteration of `loop` (see planDotPipeline).
  bool pipelineable(const ir::Value *v, const ir::Operation &loop, int depth);
  /// Issues the cp.async copies of every ring operand of the pipe for the iteration whose induction
  /// variable is `iv`, `distance` iterations after the current one, into slot `stageExpr`.
  void emitPipeIssue(const LoopPipe &p, const std::string &iv, int distance, const std::string &stageExpr,
                     int group = -1);
  /// One ring operand's copies for this thread: its groups' pointers and checks first (alignment, contiguity,
  /// a non-uniform mask), then, when all pass, one cp.async per group with a group-uniform mask as the
  /// zero-fill predicate; else element by element (`elem`, a rolled loop).
  void emitRingCopy(const PipeOperand &po, const ir::Value *ptr, const ir::Value *mask, int64_t pe, int64_t w,
                    int64_t n, int64_t bytes, const std::string &dst, const std::string &idx,
                    const std::string &elem, bool wgmma);
  /// The copies `distance` iterations ahead into their slots, and the commit.
  void emitNextIssue(const LoopPipe &p, int group = -1);
  /// After the copies into `slot` are issued: with mbarrier rings, this thread's two arrivals on its `full`.
  void emitSlotFilled(const LoopPipe &p, const std::string &slot, int group = -1);
  /// After `dot`'s products: with mbarrier rings, the last dot of its loop releases the iteration's slot.
  void emitRingRelease(const ir::Operation &dot);
  /// A line of the warpgroups' turns (LoopPipe::pingPong): kept or dropped by finishTurns.
  void turnLine(const LoopPipe &p, const std::string &text);
  /// After the loop (its body is the emitted text from `bodyStart`): the turns stay only if the body has no
  /// block-wide barrier and no return.
  void finishTurns(const LoopPipe &p, size_t bodyStart);
  /// The generated body with the turn lines kept (markers removed) or dropped.
  std::string applyTurns(std::string body) const;
  std::map<std::string, bool> turns_; // LoopPipe::turnMarker -> kept
  /// After the prologue's copies: PipeOperand::groupNext, the group pointers of the copies for iteration `iv`
  /// (the loop's first, `distance` ahead).
  void emitRingGroupNext(const LoopPipe &p, const std::string &iv);
  /// d v / d iv of `loop`'s induction variable as a scalar C++ expression (elements for pointers), the same
  /// for every element of `v`; nullopt if `v` is not such an affine function (EmitOptions::affineRings).
  std::optional<std::string> affineCoefficient(const ir::Value *v, const ir::Operation &loop, int depth = 0);
  /// `dst[g] = expr()` for each group g of `w` of this thread's `pe` elements (expr() is called inside the
  /// loop: its text may use i and L, the group's first element).
  void emitGroupValues(const std::string &dst, int64_t pe, int64_t w,
                       const std::function<std::string()> &expr);
  /// Sets PipeOperand::affineRun / affineStep of `po` where its pointer tile is affine (emitRingGroupNext).
  void emitAffineRun(const LoopPipe &p, const PipeOperand &po);
  /// The uniform scalar an invariant tile holds (a splat of a value defined outside `loop`, a constant).
  std::optional<std::string> uniformScalar(const ir::Value *v, const ir::Operation &loop, int depth = 0);
  /// Before the loop: PipeOperand::groupBase / groupContig of the ring operands that have them.
  void emitRingGroupBases(const LoopPipe &p);
  /// The prologue (before the loop): the invariant operands, then slots 0 .. S-2.
  void emitPipePrologue(const LoopPipe &p, const std::string &lb, const std::string &ub,
                        const std::string &step, const std::string &ivType);
  /// After the loop: waits for the last copies; ends the mbarriers' life (the region is shared memory
  /// that later ops may use: useScratch).
  void emitPipeEpilogue(const LoopPipe &p);
  /// At a pipelined dot: (for the loop's first one) waits for this iteration's slot and issues the copies
  /// S-1 iterations ahead; stages the per-iteration operands; returns the shared-memory pointers of A and B.
  struct PipedOperands {
    std::string a, b;
    int64_t ldb = 0;
    bool bTransposed = false;
  };
  PipedOperands emitPipedOperands(const ir::Operation &dot, const std::string &et);
  /// The scalar `v` under pipeSubst_: recomputed for the later iteration when the loop body defines it.
  std::optional<std::string> scalarAt(const ir::Value *v);
  /// `(step > 0 ? x < ub : x > ub)` for the loop being emitted.
  static std::string inRange(const std::string &x, const std::string &ub, const std::string &step);
  std::map<const ir::Operation *, LoopPipe> loopPipes_;              // by loop
  std::map<const ir::Operation *, const ir::Operation *> pipedDots_; // dot -> its loop
  std::set<const ir::Operation *> pipedLoads_;
  /// Rescales (acc * x) of rotated loops, emitted at the top of the body: to the accumulator they read.
  std::map<const ir::Operation *, const ir::Value *> rotatedRescales_;
  size_t pipeBytes_ = 0;
  struct PipeSubst {
    const ir::Operation *loop = nullptr;
    std::string iv, distance;
  };
  std::optional<PipeSubst> pipeSubst_;
  bool nextIssue_ = false; // emitPipeIssue runs for emitNextIssue (PipeOperand::groupNext applies)
  struct LoopBounds {
    std::string ub, step, ivType;
  };
  std::map<const ir::Operation *, LoopBounds> loopBounds_;
  int loopDepth_ = 0; // loops around the op being emitted

  /// A reduce along axis 1 of fragment-layout operands (attention's row max and sum): no conversion of
  /// the tile; the [M] result in the blocked layout.
  bool fragRowReduce(const ir::Operation &op) const;
  void emitFragRowReduce(const ir::Operation &op);
  /// A broadcast of a small non-lazy tile (`alpha[:, None]`) that a fragment-layout elementwise op reads:
  /// emitted in that layout from the source in shared memory.
  bool fragBroadcastCandidate(const ir::Value *v) const;
  /// A tile read only by a fragment-layout elementwise op that can itself be computed in that layout: a
  /// load whose addresses and mask are lazy (a bias or residual tile in a matmul's epilogue), or an
  /// elementwise op of such tiles (`r.to(tl.float32) * BETA`), each with that one user. Appends them to
  /// `chain` (so no shared-memory conversion of the accumulator, as Triton loads them in its MMA layout).
  bool fragLoadChain(const ir::Value *v, std::vector<const ir::Value *> &chain, int depth = 0) const;
  void emitFragBroadcast(const ir::Operation &op);
  // ---- EmitStrip.cpp: the column-strip layout of tiles scanned or reduced along axis 0 ----
  /// A [R, C] tile (C contiguous) held as column strips: thread t owns `v` consecutive columns (column
  /// group t % cgp, and `reps` groups cgp apart) of the `s` consecutive rows of its row group t / cgp
  /// (rg row groups; cgp * rg = threads). Element i of a thread: rep i / (v s), row (i / v) % s, column
  /// i % v of the group. `vector`: the [C] / [1, C] column vectors of such tiles (axis-0 reductions, the
  /// rows that broadcasts spread over them): each thread holds its columns, replicated over row groups.
  struct StripLayout {
    int64_t rows = 0, cols = 0, v = 1, cgp = 1, reps = 1, rg = 1, s = 1;
    bool vector = false;
  };
  /// Strip layout ids are kStripBase + an index into strips_ (frag ids are small, blocked is -1).
  static constexpr int kStripBase = 1 << 16;
  static bool isStrip(int layout) { return layout >= kStripBase; }
  const StripLayout &stripOf(int layout) const { return strips_[size_t(layout - kStripBase)]; }
  /// The layout of `v`: -1 blocked, a frag id (EmitLayout.cpp) or a strip id.
  int layoutOf(const ir::Value *v) const {
    if (int f = fragOf(v); f >= 0)
      return f;
    auto it = stripOf_.find(v);
    return it == stripOf_.end() ? -1 : it->second;
  }
  /// True if `user` reads `v` in place in v's layout (frag or strip); false sends it a blocked copy.
  bool layoutAware(const ir::Operation &user, const ir::Value *v) const;
  /// Chooses strip layouts (heuristic in EmitStrip.cpp) and marks the values users need blocked.
  void planStripLayouts(const ir::Block &body);
  bool planStripBlock(const ir::Block &b);
  void markStripSources(const ir::Value *v, int layout, int depth);
  /// The strip layout (2-D, or its column vector with `vector`) for a [rows, cols] tile, or -1.
  int stripFor(int64_t rows, int64_t cols, bool vector);
  bool stripAware(const ir::Operation &user, const ir::Value *v) const;
  int64_t stripPer(const StripLayout &l) const { return l.reps * l.v * (l.vector ? 1 : l.s); }
  std::string stripLin(const StripLayout &l) const;
  /// A broadcast into a strip tile: from a strip column vector in registers, else recomputed or through
  /// shared memory.
  void emitStripBroadcast(const ir::Operation &op);
  /// A scan / reduce along axis 0 of strip tiles: sequential over each thread's rows, then warp shuffles
  /// over the row groups of a warp, then (row groups in several warps) the warps' totals in shared memory.
  bool stripAxis0(const ir::Operation &op) const;
  void emitStripScan(const ir::Operation &op);
  void emitStripReduce(const ir::Operation &op);
  /// Row-group warps of a column (> 1: totals through shared memory).
  static int64_t stripWarpGroups(const StripLayout &l) {
    int64_t gpw = l.cgp >= 32 ? 1 : std::min<int64_t>(l.rg, 32 / l.cgp);
    return l.rg / gpw;
  }
  /// The shared memory of strip op `op`'s warp totals: its own region (`bytes`, allocated once) in the strip
  /// area, which follows every other use of shared memory (@STRIP@, set by run()).
  std::string stripSmem(const ir::Operation &op, unsigned k, const std::string &elemType, size_t bytes);
  /// Whether `op` must wait before writing its region: only when it may run again while a thread still
  /// reads its last totals, i.e. inside a loop with no other such op in its block (whose barrier separates
  /// one run's reads from the next run's writes).
  bool stripLeadingBarrier(const ir::Operation &op) const;
  std::vector<StripLayout> strips_;
  std::map<const ir::Value *, int> stripOf_;
  std::map<std::pair<const ir::Operation *, unsigned>, size_t> stripRegion_;
  /// Loop-carried 2-D tiles tried in a strip layout before their yield is known to be one (body argument ->
  /// yielded value), and those whose yield turned out not to be (planned again without them).
  std::map<const ir::Value *, const ir::Value *> stripGuess_;
  std::set<const ir::Value *> stripRejected_;
  size_t stripBytes_ = 0;
  std::vector<FragLayout> frags_;
  std::map<const ir::Value *, int> fragOf_;
  std::set<const ir::Value *> needsBlocked_;
  /// Every op that reads each value (planFragLayouts).
  std::map<const ir::Value *, std::vector<const ir::Operation *>> users_;
  std::map<const ir::Value *, std::string> blockedCopy_;

  const ir::Function &fn_;
  EmitOptions opts_;
  Diagnostics &diag_;
  int64_t threads_;
  int64_t vecElems_ = 1;
  std::ostringstream out_;
  int indent_ = 1;
  unsigned counter_ = 0;
  /// Shared memory for transient uses (conversions, reductions, staged dot operands; each from offset 0)
  /// inside loops with cp.async rings: disjoint from the rings' region (@PIPE@).
  size_t smemBytes_ = 0;
  /// The same outside such loops, where the rings' region is free: it may overlap the rings (run()).
  size_t smemOuter_ = 0;
  /// Loops with rings (EmitDotPipeline.cpp) being emitted around the current op.
  int ringDepth_ = 0;
  /// A transient use of the first `bytes` bytes of shared memory at the current point of emission. Outside
  /// ring loops it may overlap a ring that other warps read until the loop's last barrier: the use must
  /// begin with a block-wide barrier (every user does: spills, conversions, staged operands, reductions).
  void useScratch(size_t bytes) {
    size_t &high = ringDepth_ > 0 ? smemBytes_ : smemOuter_;
    high = std::max(high, bytes);
  }
  std::map<const ir::Value *, std::string> names_;
  /// While valueAt() re-emits an op: its operands' expressions, which at() returns instead of `name[i]`.
  std::map<const ir::Value *, std::string> exprOverride_;
  std::set<const ir::Value *> lazy_;
  /// A loop-carried tile advanced by a uniform step each iteration (`a_ptrs += BLOCK_K * stride_ak`) whose
  /// init is lazy: lazy itself, the init's expression plus a scalar running offset (EmitRemat.cpp).
  struct LazyIter {
    const ir::Value *init = nullptr;
    const ir::Operation *advance = nullptr; // the addptr/add in the body that the yield gives back
    std::string offset;                     // its running offset, declared by emitFor
  };
  std::map<const ir::Value *, LazyIter> lazyIter_; // keyed by the body argument and the loop's result
  /// One iteration's step of a LazyIter: its advance's offset (a splat: element 0), as the loop adds it.
  std::optional<std::string> advanceStep(const LazyIter &li) {
    int budget = 4;
    return valueAt(li.advance->operand(1), "0", budget);
  }
  /// While a ring copy is emitted: a LazyIter init's expression replaced by its precomputed group base.
  std::map<const ir::Value *, std::string> lazyInitOverride_;
  /// Stores and atomics emitted so far, and the count when each tile load was emitted: a broadcast of
  /// a loaded tile may load again at its own indices when no store came in between (same block).
  unsigned sideEffects_ = 0;
  std::map<const ir::Value *, unsigned> loadEpoch_;
  const ir::Block *reloadBlock_ = nullptr; // set while emitBroadcastInRegisters may re-load
  /// A re-load reads elements other threads may store later: a barrier goes before the next op that
  /// may store (all re-loads are at the kernel's top level, so the barrier is uniform).
  bool reloadBarrierPending_ = false;
  bool reloaded_ = false;
  std::map<std::pair<const ir::Value *, int64_t>, AxisInfo> axisMemo_;
  /// Line info (EmitLineInfo.cpp): the location of the op being emitted, the last valid one (lines
  /// emitted between ops keep it), and where the compiler presumes the next output line to be.
  SourceLoc loc_, lastLoc_;
  uint32_t presumedFile_ = 0, presumedLine_ = 0;
};

/// Sets the emitter's current location for the lifetime of the scope (an op's lines), then restores it.
class LocationScope {
public:
  LocationScope(KernelEmitter &e, SourceLoc loc) : e_(e), saved_(e.loc_) {
    if (!loc.isValid())
      return;
    e.loc_ = loc;
    e.lastLoc_ = loc;
  }
  ~LocationScope() { e_.loc_ = saved_; }
  LocationScope(const LocationScope &) = delete;
  LocationScope &operator=(const LocationScope &) = delete;

private:
  KernelEmitter &e_;
  SourceLoc saved_;
};

} // namespace mt::cuda::detail
