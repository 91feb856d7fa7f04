// mt/kernel.cuh — everything a generated kernel includes.
//
// Layout contract with lib/backend/cuda/Emitter: one program instance = one CUDA block of
// num_warps * 32 threads. A tile of N elements is "blocked": thread t holds PER = ceil(N / threads)
// elements in groups of V consecutive row-major linear indices (V = the kernel's vector width, 16 bytes
// of its narrowest memory element, at most PER), threads side by side: element i of thread t has index
// (i / V) * threads * V + t * V + i % V. Indices >= N are padding that memory ops mask off. Ops that move
// elements between threads (reduce, scan, shape ops, dot) go through the kernel's dynamic shared memory:
// write by linear index, barrier, read in the destination layout.
#pragma once

#include "mt/debug.cuh"
#include "mt/libm.cuh"
#include "mt/math.cuh"
#include "mt/memory.cuh"
#include "mt/mma.cuh"
#include "mt/wgmma.cuh"
#include "mt/types.cuh"
#include "mt/warp.cuh"
