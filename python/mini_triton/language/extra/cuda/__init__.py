"""`triton.language.extra.cuda`: `libdevice` (the same module as `triton.language.extra.libdevice`),
`num_warps()` / `num_threads()` (the launch's, compile-time values inside @jit functions) and `globaltimer()`
(nanoseconds, int64) / `smid()` (the SM, int32; 0 on the CPU)."""

from ...core import _builtin
from . import libdevice

num_warps = _builtin("num_warps")
num_threads = _builtin("num_threads")
globaltimer = _builtin("globaltimer")
smid = _builtin("smid")
for _f in (num_warps, num_threads, globaltimer, smid):
    _f.__triton_module__ = "triton.language.extra.cuda"
del _f

__all__ = ["libdevice", "num_warps", "num_threads", "globaltimer", "smid"]
