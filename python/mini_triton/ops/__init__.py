"""Torch-facing kernel library (autograd functions and modules) over mini_triton.kernels.

Import the submodules: `from mini_triton.ops.scan import sequential_rnn_scan`,
`from mini_triton.ops.mingru import mingru_chunked, MinGRU`,
`from mini_triton.ops.attention import flash_attention, CausalSelfAttention`,
`from mini_triton.ops.muon import newton_schulz, Muon`.
"""

_LAZY = {"flash_attention": "attention", "FlashAttentionFunction": "attention", "CausalSelfAttention": "attention",
         "newton_schulz": "muon", "Muon": "muon"}


def __getattr__(name):
    """`mini_triton.ops.flash_attention` etc., imported on first use (importing torch only then)."""
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(f"mini_triton.ops.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'mini_triton.ops' has no attribute {name!r}")
