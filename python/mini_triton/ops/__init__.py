"""Torch-facing kernel library (autograd functions and modules) over mini_triton.kernels.

Import the submodules: `from mini_triton.ops.scan import sequential_rnn_scan`,
`from mini_triton.ops.mingru import mingru_chunked, MinGRU`,
`from mini_triton.ops.attention import flash_attention, CausalSelfAttention`.
"""

from mini_triton.ops.attention import CausalSelfAttention, FlashAttentionFunction, flash_attention  # noqa: F401
