// Tile IR function -> CUDA C++ kernel source (compiled by Nvrtc.h, launched through Driver.h).
//
// Layout: one program instance is one CUDA block of numWarps * 32 threads, program_id(axis) =
// blockIdx.{x,y,z}. A tile of N elements is distributed "blocked" over the threads: thread t holds
// PER = ceil(N / threads) elements in a register array `T v[PER]` indexed only by unrolled constants,
// in groups of V consecutive row-major indices (V: 16 bytes of the kernel's narrowest memory element,
// at most 8 and at most PER), the threads' groups side by side: element i of thread t has linear index
// (i / V) * threads * V + t * V + i % V. Indices >= N are padding that memory ops mask off. Scalars
// are uniform C variables computed redundantly by every thread; a scalar store or atomic is done by
// thread 0. Elementwise ops, splat, make_range, reshape and expand_dims stay in registers; reduce,
// scan, broadcast, trans, join, split and dot exchange data through dynamic shared memory (write the
// source tile by linear index, __syncthreads, read in the destination layout).
//
//   Diagnostics diag(&sources);
//   std::optional<CudaKernel> k = emitCuda(fn, {.numWarps = 4}, diag);   // null: see diag
//   auto cubin = compileCuda(k->source, k->name + ".cu", "sm_90a");
#pragma once

#include "ir/Operation.h"
#include "support/Diagnostics.h"

#include <optional>
#include <string>
#include <vector>

namespace mt::cuda {

struct EmitOptions {
  int numWarps = 4;
  /// `dot` on tensor cores (mma.sync, guarded by __CUDA_ARCH__ >= 800 in the generated code) where the
  /// dtypes and shapes allow; false keeps every dot on the FMA loop.
  bool tensorCores = true;
  /// Pipeline depth of loops that feed a tensor-core dot from loads (cp.async, EmitDotPipeline.cpp);
  /// below 2, no pipelining.
  int numStages = 3;
  /// `#line N "kernel.py"` directives (ops with a known location, names from the Diagnostics'
  /// SourceManager), so that NVRTC's -lineinfo maps the code to kernel-source lines for profilers and
  /// compute-sanitizer (and NVRTC's own errors name kernel lines). False: plain generated lines.
  bool lineDirectives = true;
  /// Software-pipeline loads in `for` loops: the next iteration's tile is loaded into registers while the
  /// current one computes (EmitPipeline.cpp). false: every load is issued where it stands.
  bool prefetchLoads = true;
  /// Iterations loaded ahead, at most (fewer where the registers do not allow).
  int prefetchDepth = 2;
  /// Tensor-core dots as sm_90a warpgroup MMAs (wgmma.mma_async, device/wgmma.cuh) where the tile fits
  /// (f16/bf16, M = 16 * numWarps, numWarps a multiple of 4, N a multiple of 16 up to 256): operands in
  /// swizzled shared memory read through descriptors. The generated code then needs sm_90a (elsewhere
  /// it falls back to a slow emulation); the runtime sets it when it compiles for sm_90a.
  bool wgmma = false;
  /// Column-strip layouts for tiles scanned or reduced along axis 0 (EmitStrip.cpp); false: blocked.
  bool stripLayouts = true;
  /// Rings of loops whose dots are all synchronous warpgroup MMAs (attention) signal their slots through
  /// mbarriers instead of a block-wide barrier per iteration (EmitDotPipeline.cpp): a warp waits for its
  /// data and for the slot it refills, not for every other warp, so the two warpgroups of a program can
  /// drift apart and one's softmax overlap the other's MMAs. Loops of two dots or more on two warpgroups or
  /// more only. On by default with wgmma in the runtime (MINI_TRITON_MBARRIER=0 turns it off).
  bool mbarrierRings = false;
  /// In such loops on exactly two warpgroups whose bodies have no block-wide barrier (attention), the
  /// warpgroups take turns at the tensor cores (EmitDotPipeline.cpp, FlashAttention-3's ping-pong): a
  /// warpgroup issues the loop's last dot and then the first dot of its next iteration, then hands the turn
  /// to the other through a named barrier, so that one's softmax runs under the other's products. On by
  /// default with mbarrierRings in the runtime (MINI_TRITON_PINGPONG=0 turns it off).
  bool pingPong = false;
  /// In such loops of two dots where the second takes its A from the registers and accumulates into a
  /// loop-carried value (attention: S = Q K^T; acc = acc * alpha + P V), that product is issued one iteration
  /// late, together with the next iteration's first (FlashAttention-3's intra-warpgroup overlap): the
  /// softmax of iteration i runs while P_{i-1} V_{i-1} does (EmitDotPipeline.cpp, LoopPipe::rotate). Off by
  /// default in the runtime (MINI_TRITON_ROTATE=1 turns it on): slower on the H100 so far (CudaTarget.cpp).
  bool rotate = false;
  /// Ring copies whose pointer tile is affine in the loop's induction variable (attention's k and v) read
  /// running group pointers advanced by a constant step (PipeOperand::affineRun) instead of recomputing the
  /// address every iteration (exact unless the kernel's 32-bit offsets overflow). Off by default in the
  /// runtime (MINI_TRITON_AFFINE_RINGS=1 turns it on): no faster on the H100 (CudaTarget.cpp).
  bool affineRings = false;
  /// In loops whose products stay in flight across iterations (matmul: one dot accumulating into a
  /// loop-carried value), the wait for the iteration before's products comes before the next copies are
  /// issued (Triton's order) instead of after them. Off by default in the runtime (MINI_TRITON_WAIT_FIRST=1
  /// turns it on): no difference on the H100 matmul (CudaTarget.cpp).
  bool waitFirst = false;
  /// Shared memory the rings of one pipelined loop may take (EmitDotPipeline.cpp): a loop gets fewer stages
  /// (down to 2) until its rings fit. The runtime may raise it where the device allows more (sm_90: 227 KiB
  /// per block); the other shared memory of a kernel aliases the same region (offset 0).
  size_t maxPipeBytes = 192 * 1024;
  /// The block's shared-memory limit (0: none known): a kernel whose rings and other shared memory together
  /// pass it is emitted again with maxPipeBytes lowered by the excess (emitCuda).
  size_t maxSharedBytes = 0;
};

/// One kernel parameter (the IR function's arguments, in order).
struct KernelParam {
  std::string name;
  bool isPointer = false;
  ir::DType dtype = ir::DType::I32; // pointee dtype for pointers
};

struct CudaKernel {
  std::string name;   // the `extern "C"` symbol
  std::string source; // CUDA C++; includes "mt/kernel.cuh" (Nvrtc.h supplies it)
  unsigned numThreads = 128;
  size_t sharedBytes = 0; // dynamic shared memory to pass at launch (raise the limit above 48 KiB)
  std::vector<KernelParam> params;
};

/// Emits `f` as a CUDA kernel. Unsupported ops or types are reported to `diag` at the op's location
/// and give nullopt.
std::optional<CudaKernel> emitCuda(const ir::Function &f, const EmitOptions &opts, Diagnostics &diag);

/// The C++ spelling of a dtype in generated code: "mt::f32", "mt::i64", ...
std::string cudaTypeName(ir::DType d);

} // namespace mt::cuda
