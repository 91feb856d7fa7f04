"""Launch choices shared by the library's matmul-shaped kernels (Newton-Schulz, the fused SwiGLU matmul, flash
attention): which dtype their tl.dot operands take and which tiles they run with.

- dot_dtype: the inputs' dtype when they are all one 16-bit float dtype (the CUDA backend runs such a dot on the
  tensor cores, accumulating in f32), else the accumulator dtype (float32 / float64 inputs: an exact IEEE dot, as
  the ops document; float64 is what the gradient checks use). `lang` is the kernel language module the caller
  launches with (mini_triton.language, or triton.language when bench/llm_bench.py runs the same ops under Triton).
- tensor_cores: whether a launch should take the large-tile configurations (a CUDA tensor with a 16-bit dot); the
  CPU interpreter keeps small tiles (its cost grows with the tile, not with the work done).
- tuned: a cached autotune wrapper over a kernel with a small config list (mini_triton.autotune, or Triton's for a
  Triton-compiled twin of the kernel); the first launch of each key (shape, dtypes) benchmarks the configs that
  fit the shape and keeps the fastest.
"""

from __future__ import annotations

import torch

import mini_triton as triton
import mini_triton.language as tl

_DOT16 = {torch.bfloat16: "bfloat16", torch.float16: "float16"}


def dot_dtype(acc, *tensors, lang=tl):
    """dtype (of `lang`) of the tl.dot operands: a shared 16-bit storage dtype, else `acc`."""
    dtypes = {t.dtype for t in tensors if t is not None}
    if len(dtypes) == 1:
        d = next(iter(dtypes))
        if d in _DOT16:
            return getattr(lang, _DOT16[d])
    return acc


def tensor_cores(t: torch.Tensor, dot, acc) -> bool:
    """A CUDA launch whose dots take 16-bit operands (dot_dtype chose the storage dtype over `acc`)."""
    return t.device.type == "cuda" and dot is not acc


def config(bm, bn, bk, warps, stages=3, **extra):
    return triton.Config(dict(BLOCK_M=bm, BLOCK_N=bn, BLOCK_K=bk, **extra), num_warps=warps, num_stages=stages)


# Tensor-core tiles for a (M, N, K) matmul with one dot per K step: the 128x128x64 tile on 8 warps is the fastest
# measured for large bf16 matmuls (276 TFLOP/s at 4096^3); the narrower ones give more programs for small
# matrices (fewer tiles than the H100's 132 SMs).
MATMUL_CONFIGS = [
    config(128, 128, 64, 8),
    config(128, 128, 32, 8),
    config(128, 64, 64, 4),
    config(64, 64, 64, 4),
]


def prune_for_shape(configs, m, n):
    """Drop tiles much larger than the matrix (a 128-row tile over 40 rows wastes 2/3 of the work), keeping at
    least the smallest."""
    def bm(c):
        return c.kwargs["BLOCK_M"]

    def bn(c):
        return c.kwargs.get("BLOCK_N", c.kwargs["BLOCK_M"])  # the Gram kernel's tiles are square

    keep = [c for c in configs if bm(c) <= max(64, triton.next_power_of_2(m))
            and bn(c) <= max(64, triton.next_power_of_2(n))]
    return keep or [min(configs, key=lambda c: bm(c) * bn(c))]


# The fused SwiGLU matmul has two dots per K step (x @ W1, x @ W3: four cp.async rings), so its 128x128 tile
# takes BLOCK_K = 32 to keep three stages within the ring's shared memory.
SWIGLU_CONFIGS = [
    config(128, 128, 32, 8),
    config(128, 64, 64, 4),
    config(128, 64, 32, 4),
    config(64, 64, 64, 4),
]

GRAM_CONFIGS = [
    triton.Config(dict(BLOCK_M=128, BLOCK_K=64), num_warps=8, num_stages=3),
    triton.Config(dict(BLOCK_M=128, BLOCK_K=32), num_warps=8, num_stages=3),
    triton.Config(dict(BLOCK_M=64, BLOCK_K=64), num_warps=4, num_stages=3),
]

_TUNED: dict = {}


def tuned(kernel, configs, key, m_arg="M", n_arg="N"):
    """The autotuned wrapper of `kernel` over `configs` (cached per kernel and config list), pruned to the
    shape given by the launch arguments named m_arg / n_arg."""
    ident = (id(kernel), tuple(configs), tuple(key))
    if ident not in _TUNED:
        from mini_triton.jit import JITFunction
        if isinstance(kernel, JITFunction):
            autotune, cfgs = triton.autotune, configs
        else:  # a Triton-compiled twin (bench/llm_bench.py's triton column): Triton's autotuner and Configs
            import triton as real_triton
            autotune = real_triton.autotune
            cfgs = [real_triton.Config(dict(c.kwargs), num_warps=c.num_warps, num_stages=c.num_stages)
                    for c in configs]

        def prune(cfgs, nargs, **_):
            return prune_for_shape(cfgs, nargs[m_arg], nargs[n_arg])
        _TUNED[ident] = autotune(configs=cfgs, key=key, prune_configs_by={"early_config_prune": prune})(kernel)
    return _TUNED[ident]
