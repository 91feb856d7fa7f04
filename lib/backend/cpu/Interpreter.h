// The CPU backend: a bounds-checked interpreter for the tile IR.
//
// runKernel runs every program instance of `grid` on `pool`. `args` are parallel to the function's
// parameters (f.body().arguments()): a Buffer for a pointer parameter (host memory and its size in
// bytes), Int/Float for a scalar parameter, Null for a pointer passed as None. Errors — bad arguments,
// an out-of-bounds or None access, integer overflow or division by zero, a failed device_assert — come
// back rendered through mt::Diagnostics (`file:line:col: error: …`, source line, caret) using
// `sources` (may be null). On the first error the other workers stop early; a store that fails writes
// nothing.
//
// Semantics follow what Triton's compiled kernel computes on an NVIDIA GPU: f16/bf16 math in float,
// rounded to the dtype after every op; signed i32/i64 add/sub/mul overflow and integer division by
// zero are errors (i8/i16 and unsigned wrap); float→int casts truncate and saturate (NaN → 0);
// atomics are atomic across program instances. `print` writes one line per element to stdout,
// `pid (x, y, z) idx (i, j) <prefix><value>` (floats shortest round-trip), serialised per launch.
#pragma once

#include "backend/cpu/ThreadPool.h"
#include "ir/Operation.h"
#include "mt/mt.h"

#include <span>

namespace mt {
class SourceManager;
}

namespace mt::cpu {

Status runKernel(const ir::Function &f, Grid grid, std::span<const LaunchArg> args,
                 const SourceManager *sources, ThreadPool &pool);

} // namespace mt::cpu
