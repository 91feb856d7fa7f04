"""`triton.runtime` names that user code imports (`from triton.runtime import Autotuner, JITFunction`)."""

from ._driver import GPUTarget, driver  # noqa: F401
from .autotuner import Autotuner, Config, Heuristics, autotune, heuristics  # noqa: F401
from .jit import JITFunction, KernelInterface, LaunchError, jit  # noqa: F401


class OutOfResources(Exception):
    """Kept for API compatibility: the CPU backend never raises it."""
