"""mini_triton.language — import as `tl`, as with `triton.language`.

dtypes and `constexpr` are real objects; builtins (`tl.load`, `tl.dot`, ...) are stubs that only the C++
frontend gives meaning to, inside @jit functions.
"""

from . import core, extra, math
from .core import *  # noqa: F401,F403
from .core import (BUILTIN_NAMES, TRITON_MAX_TENSOR_NUMEL, block_type, constexpr, dtype, pointer_type, tensor, tensor_descriptor, float16, bfloat16,
                   float32, float64, float8e4nv, float8e5, int1, int8, int16, int32, int64, uint8, uint16, uint32, uint64)


__all__ = ["TRITON_MAX_TENSOR_NUMEL", "PropagateNan", "constexpr", "dtype", "pointer_type", "block_type", "tensor", "tensor_descriptor", "math", "extra", "float16", "bfloat16",
           "float32", "float64", "float8e4nv", "float8e5", "int1", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
           "uint64", *BUILTIN_NAMES]
