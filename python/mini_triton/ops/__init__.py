"""Torch-facing kernel library (autograd functions and modules) over mini_triton.kernels.

Import the submodules: `from mini_triton.ops.scan import sequential_rnn_scan`,
`from mini_triton.ops.mingru import mingru_chunked, MinGRU`,
`from mini_triton.ops.attention import flash_attention, CausalSelfAttention`,
`from mini_triton.ops.muon import newton_schulz, Muon`,
`from mini_triton.ops.select import ModelConfig, auto_select_kernels, benchmark_rms_norm` (kernel selection),
`from mini_triton.ops import library` (the ops as torch custom ops, `torch.ops.mini_triton.*`, with fallback),
`from mini_triton.ops.model import TransformerLM, MinGRULM` (the LMs of examples/train_lm.py).
The names above are also importable from mini_triton.ops directly (loaded on first use).
"""

_LAZY = {"flash_attention": "attention", "FlashAttentionFunction": "attention", "CausalSelfAttention": "attention",
         "newton_schulz": "muon", "Muon": "muon",
         "ModelConfig": "select", "auto_select_kernels": "select", "benchmark_rms_norm": "select",
         "benchmark_rotary": "select", "benchmark_mlp": "select", "benchmark_attention": "select",
         "benchmark_newton_schulz": "select", "clear_benchmark_cache": "select",
         "TransformerLM": "model", "MinGRULM": "model", "build_model": "model"}


def __getattr__(name):
    """`mini_triton.ops.flash_attention` etc., imported on first use (importing torch only then)."""
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(f"mini_triton.ops.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'mini_triton.ops' has no attribute {name!r}")
