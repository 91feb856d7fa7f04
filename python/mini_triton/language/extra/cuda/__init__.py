"""`triton.language.extra.cuda`: `libdevice` (the same module as `triton.language.extra.libdevice`) and
`num_warps()` / `num_threads()` (the launch's, compile-time values inside @jit functions)."""

from ...core import _builtin
from . import libdevice

num_warps = _builtin("num_warps")
num_threads = _builtin("num_threads")
for _f in (num_warps, num_threads):
    _f.__triton_module__ = "triton.language.extra.cuda"
del _f

__all__ = ["libdevice", "num_warps", "num_threads"]
