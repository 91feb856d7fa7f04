"""mini_triton: Triton's user API over mini-triton's C++ compiler.

A kernel module written for Triton runs after `import triton` → `import mini_triton as triton` and
`triton.language` → `mini_triton.language`:

    import mini_triton as triton
    import mini_triton.language as tl

    @triton.jit
    def add_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
        pid = tl.program_id(0)
        offs = pid * BLOCK + tl.arange(0, BLOCK)
        mask = offs < n
        tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask) + tl.load(y_ptr + offs, mask=mask), mask=mask)

    add_kernel[(triton.cdiv(n, 1024),)](x, y, out, n, BLOCK=1024)
"""

from pkgutil import extend_path as _extend_path

__path__ = _extend_path(__path__, __name__)  # the extension may live in a build tree (PYTHONPATH=python:build/python)

__version__ = "0.1.0"

from . import language  # noqa: E402
from ._ext import num_compilations  # noqa: E402
from .jit import CompilationError, JITFunction, KernelInterface, LaunchError, jit  # noqa: E402
from .language.core import constexpr  # noqa: E402
from .autotuner import Autotuner, Config, Heuristics, autotune, heuristics  # noqa: E402
from . import testing  # noqa: E402
from . import compiler, runtime, tools  # noqa: E402
from .runtime import OutOfResources  # noqa: E402


def cdiv(x, y):
    """Ceiling division: (x + y - 1) // y."""
    return (x + y - 1) // y


def next_power_of_2(n: int) -> int:
    """The smallest power of two >= n (1 for n <= 1)."""
    n = int(n)
    return 1 if n <= 1 else 1 << (n - 1).bit_length()


_allocator = None


def set_allocator(allocator):
    """Triton's hook for the global scratch memory that device-side tensor descriptors (TMA) need. Kept for
    source compatibility: mini_triton's descriptors are block loads and stores, which need no scratch."""
    global _allocator
    _allocator = allocator


__all__ = ["jit", "JITFunction", "KernelInterface", "autotune", "Autotuner", "Config", "heuristics", "Heuristics",
           "cdiv", "next_power_of_2", "constexpr", "language", "testing", "CompilationError", "LaunchError",
           "OutOfResources", "num_compilations", "compiler", "runtime", "tools", "set_allocator", "__version__"]
