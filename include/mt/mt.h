// mini-triton's public C++ API: compile a Triton-language kernel for a specialisation, launch it.
//
//   mt::Context ctx;
//   auto k = ctx.compile(mt::KernelSource::fromFile("add.py", "add_kernel"),
//                        {mt::ArgSpec::pointer(mt::DType::F32), mt::ArgSpec::pointer(mt::DType::F32),
//                         mt::ArgSpec::pointer(mt::DType::F32), mt::ArgSpec::scalar(mt::DType::I32),
//                         mt::ArgSpec::constant(int64_t(1024))});
//   if (!k) { std::cerr << k.error(); return 1; }
//   auto st = (*k)->launch({cdiv(n, 1024)}, {mt::LaunchArg::buffer(x, n), ..., mt::LaunchArg::i32(n)});
#pragma once

#include "ir/Types.h"

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace mt {

using ir::DType;

/// An error: the rendered diagnostics (`file:line:col: error: …`, source line, caret).
struct Error {
  std::string message;
};
inline std::ostream &operator<<(std::ostream &os, const Error &e) { return os << e.message; }

/// Either a value or an Error.
template <typename T> class Expected {
public:
  Expected(T v) : v_(std::move(v)) {}
  Expected(Error e) : v_(std::move(e)) {}
  explicit operator bool() const { return v_.index() == 0; }
  T &operator*() { return std::get<0>(v_); }
  T *operator->() { return &std::get<0>(v_); }
  const Error &error() const { return std::get<1>(v_); }

private:
  std::variant<T, Error> v_;
};

/// Success or an Error.
class Status {
public:
  Status() = default;
  Status(Error e) : err_(std::move(e)) {}
  static Status ok() { return {}; }
  explicit operator bool() const { return !err_; }
  const Error &error() const { return *err_; }

private:
  std::optional<Error> err_;
};

/// A compile-time value: None, bool, int, float, or a string (also used for dtypes: "fp32").
using ConstexprValue = std::variant<std::monostate, bool, int64_t, double, std::string>;

/// What the compiler knows about one kernel parameter at compile time.
///
/// A host-side tensor descriptor (Triton's TensorDescriptor) is a TensorDesc spec followed by 2 * rank
/// Scalar specs, its shape and then its strides; at launch it is 1 + 2 * rank arguments: the base pointer,
/// then those integers. The kernel's parameter is the descriptor (desc.load / desc.store / desc.shape).
struct ArgSpec {
  enum class Kind { Pointer, Scalar, Constexpr, TensorDesc };
  Kind kind = Kind::Scalar;
  DType dtype = DType::I32;        // Pointer, TensorDesc: pointee dtype; Scalar: its dtype
  ConstexprValue value;            // Constexpr: the value
  bool divisibleBy16 = false;      // Pointer, TensorDesc: 16-byte aligned; integer Scalar: value % 16 == 0
  bool equalsOne = false;          // integer Scalar == 1 (Triton specialises it to a constant)
  std::vector<int64_t> blockShape; // TensorDesc: the block each load / store moves
  bool nanPadding = false;         // TensorDesc: elements outside the shape read as NaN (else zero)

  static ArgSpec pointer(DType d, bool aligned16 = true) {
    return {Kind::Pointer, d, {}, aligned16, false, {}, false};
  }
  static ArgSpec scalar(DType d) { return {Kind::Scalar, d, {}, false, false, {}, false}; }
  static ArgSpec constant(ConstexprValue v) {
    return {Kind::Constexpr, DType::I32, std::move(v), false, false, {}, false};
  }
  static ArgSpec tensorDesc(DType d, std::vector<int64_t> block, bool nanPadding = false,
                            bool aligned16 = true) {
    return {Kind::TensorDesc, d, {}, aligned16, false, std::move(block), nanPadding};
  }
  /// Triton's specialisation of an int argument from its value: i32 or i64, divisibility, == 1.
  static ArgSpec forInt(int64_t v);
};

/// Kernel source text and where it came from. `lineOffset` shifts reported line numbers (a function
/// taken from line 40 of a Python file passes 39). `helpers` are extra sources whose @jit functions
/// the kernel may call; `globals` are module-level constants the kernel may read by name.
struct KernelSource {
  std::string text;
  std::string fileName = "<kernel>";
  uint32_t lineOffset = 0;
  std::string functionName;
  struct Helper {
    std::string text;
    std::string fileName;
    uint32_t lineOffset = 0;
  };
  std::vector<Helper> helpers;
  std::map<std::string, ConstexprValue> globals;

  /// Reads a file; an unreadable file gives an Error.
  static Expected<KernelSource> fromFile(const std::string &path, std::string functionName);
};

/// Where a compiled kernel runs: the CPU interpreter, or an NVIDIA GPU (CUDA emitter → NVRTC → driver).
enum class Target { Cpu, Cuda };

struct CompileOptions {
  Target target = Target::Cpu; // part of the specialisation key
  int numWarps = 4;
  int numStages = 3;
  bool optimize = true;         // run the pass pipeline
  bool printIrAfterAll = false; // print IR after each pass to `irDump`
  std::ostream *irDump = nullptr;
  std::vector<std::string> passes; // empty: the default pipeline
  /// Cuda target: look up and store the compiled kernel in the Context's disk cache (see
  /// DiskCacheOptions). False compiles afresh and leaves the disk cache alone. Not part of the key.
  bool useDiskCache = true;
};

/// A run-time argument for a non-constexpr parameter, in parameter order (constexprs are skipped).
struct LaunchArg {
  enum class Kind { Buffer, Int, Float, Null, Device };
  Kind kind = Kind::Int;
  void *data = nullptr; // Buffer: host memory; Device: a CUdeviceptr (GPU kernels only)
  size_t bytes = 0;     // Buffer/Device: its size, for bounds checks
  int64_t i = 0;
  double f = 0.0;

  static LaunchArg buffer(void *p, size_t bytes) { return {Kind::Buffer, p, bytes, 0, 0.0}; }
  template <typename T> static LaunchArg buffer(T *p, size_t count) {
    return buffer((void *)p, count * sizeof(T));
  }
  static LaunchArg integer(int64_t v) { return {Kind::Int, nullptr, 0, v, 0.0}; }
  static LaunchArg floating(double v) { return {Kind::Float, nullptr, 0, 0, v}; }
  static LaunchArg null() { return {Kind::Null, nullptr, 0, 0, 0.0}; }
  /// GPU memory (a CUdeviceptr, e.g. torch's tensor.data_ptr()): passed to a Cuda-target kernel as is.
  static LaunchArg device(uint64_t ptr, size_t bytes) {
    return {Kind::Device, reinterpret_cast<void *>(static_cast<uintptr_t>(ptr)), bytes, 0, 0.0};
  }
};

struct Grid {
  uint32_t x = 1, y = 1, z = 1;
};

/// What a compiled kernel uses per program (Triton's CompiledKernel.n_regs / n_spills / metadata.shared).
/// GPU kernels: the driver's register count and local (spill) memory, and the dynamic shared memory each
/// launch passes. CPU kernels use none of these: all zero.
struct KernelInfo {
  int numRegs = 0;         // registers per thread
  int numSpills = 0;       // 4-byte words of local memory per thread (spills), as Triton counts them
  size_t sharedBytes = 0;  // shared memory per program
  unsigned numThreads = 0; // threads per program (GPU)
  bool gpu = false;
};

class Kernel {
public:
  virtual ~Kernel() = default;
  virtual KernelInfo info() const { return {}; }
  virtual const std::string &name() const = 0;
  /// The optimised tile IR, printed.
  virtual std::string irText() const = 0;
  /// Names of the parameters that take a LaunchArg, in order.
  virtual const std::vector<std::string> &runtimeParams() const = 0;
  /// Runs every program instance of the grid. Errors (out-of-bounds access, device_assert, bad
  /// arguments) come back with the kernel's source location; a failed store writes nothing.
  virtual Status launch(Grid grid, std::span<const LaunchArg> args) const = 0;
  /// Same on a CUDA stream (a CUstream; null: the legacy default stream). Cuda-target kernels with only
  /// Device/scalar arguments return without waiting for the GPU (as Triton does); CPU kernels ignore it.
  virtual Status launchOnStream(void *stream, Grid grid, std::span<const LaunchArg> args) const {
    (void)stream;
    return launch(grid, args);
  }
};

/// True when libcuda loads and a CUDA device exists; otherwise `why` (if given) says why not.
bool cudaAvailable(std::string *why = nullptr);

/// The on-disk cache of compiled GPU kernels (cubin + launch metadata), shared by processes. Keyed by a
/// SHA-256 of the kernel source, specialisation, options, GPU arch, NVRTC version and compiler build;
/// entries are written atomically, and a corrupt entry is recompiled and rewritten.
struct DiskCacheOptions {
  /// Empty: $MINI_TRITON_CACHE_DIR, else $XDG_CACHE_HOME/mini_triton, else $HOME/.cache/mini_triton.
  std::string dir;
  /// Off when false, or when the environment sets MINI_TRITON_CACHE_DISABLE (to anything but "" or "0").
  bool enabled = true;
  /// One line per GPU compile on stderr (disk hit/miss, milliseconds); also on with MINI_TRITON_CACHE_LOG=1.
  bool log = false;
};

struct ContextOptions {
  unsigned numThreads = 0; // CPU worker threads; 0 = hardware concurrency
  DiskCacheOptions diskCache{};
  /// Compile every Target::Cpu kernel for the GPU instead (host buffers are copied to the device and
  /// back around each launch): runs a CPU test suite or program on the GPU unchanged. Defaults to the
  /// environment variable MINI_TRITON_FORCE_GPU=1. Bounds checks, overflow reports and device_print's
  /// exact output are the interpreter's alone.
  bool forceGpu = false;
};

/// Counters of a Context's kernel caches (Context::cacheStats).
struct CacheStats {
  size_t memoryHits = 0;          // compile() answered from the Context's in-memory cache
  size_t diskHits = 0;            // GPU kernels loaded from the disk cache (no frontend, no NVRTC)
  size_t diskMisses = 0;          // GPU kernels compiled because the disk cache had no usable entry
  size_t diskCorrupt = 0;         // entries found unreadable or rejected by the driver (then recompiled)
  size_t diskWrites = 0;          // entries stored
  double lastGpuCompileMs = 0.0;  // time of the last GPU compile() that missed the memory cache
  bool lastGpuCompileHit = false; // whether that one was a disk hit
  std::string diskDir;            // the disk cache's directory; empty when disabled
};

/// Owns types, sources, the compiled-kernel cache and worker threads. Thread-safe.
class Context {
public:
  explicit Context(ContextOptions opts = {});
  ~Context();
  Context(const Context &) = delete;
  Context &operator=(const Context &) = delete;

  /// Compiles (or returns the cached) kernel for this source, specialisation and options.
  Expected<std::shared_ptr<const Kernel>> compile(const KernelSource &src, const std::vector<ArgSpec> &args,
                                                  const CompileOptions &opts = {});
  /// Number of compilations that missed the cache so far.
  size_t numCompilations() const;
  /// Memory- and disk-cache counters.
  CacheStats cacheStats() const;

  struct Impl;

private:
  std::unique_ptr<Impl> impl_;
};

} // namespace mt
