"""`triton.compiler` names that user code imports (`from triton.compiler import CompilationError`)."""

from .errors import CompilationError  # noqa: F401
