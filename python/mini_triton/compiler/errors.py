"""`triton.compiler.errors`: the compile error type (raised with the rendered diagnostics as message)."""

from .._ext import _C

CompilationError = _C.CompilationError
