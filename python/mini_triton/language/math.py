"""`tl.math`: elementwise math builtins (stubs; compiled by the C++ frontend inside @jit functions)."""

from .core import _builtin

NAMES = ("exp", "exp2", "log", "log2", "log1p", "sqrt", "rsqrt", "sin", "cos", "tan", "tanh", "erf", "floor",
         "ceil", "abs", "fma", "pow", "div_rn", "fdiv", "sqrt_rn", "umulhi", "max", "min", "sigmoid")
for _n in NAMES:
    globals()[_n] = _builtin(_n)
del _n
