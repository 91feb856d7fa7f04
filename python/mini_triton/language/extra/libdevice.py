"""`triton.language.extra.libdevice`: Triton's names for the CUDA math library (stubs; compiled by the C++
frontend inside @jit functions, on the CPU interpreter and the GPU alike).

Import it as in Triton, with mini_triton for triton: `from mini_triton.language.extra import libdevice`
(or `...extra.cuda import libdevice`, or `from mini_triton.language.extra.libdevice import tanh`). Float
functions take fp32 and fp64 (fp16 / bf16 too, computed through fp32); fast_* and saturatef take fp32;
clz / popc / ffs / brev / mulhi take 32- and 64-bit integers. Names not listed here still import; a kernel
that calls one gets a source-located "not supported" error.
"""

from ..core import _builtin

NAMES = (
    # float -> float
    "abs", "acos", "acosh", "asin", "asinh", "atan", "atanh", "cbrt", "ceil", "cos", "cosh", "cospi", "erf",
    "erfc", "erfcinv", "erfcx", "erfinv", "exp", "exp10", "exp2", "expm1", "floor", "j0", "j1", "lgamma",
    "log", "log10", "log1p", "log2", "logb", "nearbyint", "normcdf", "normcdfinv", "rcbrt", "rcp_rn", "rint",
    "round", "rsqrt", "sin", "sinh", "sinpi", "sqrt", "sqrt_rn", "tan", "tanh", "tgamma", "trunc", "y0", "y1",
    "ilogb",
    # two operands
    "add_rn", "sub_rn", "mul_rn", "div_rn", "atan2", "copysign", "fdim", "fmod", "hypot", "nextafter", "pow",
    "powi", "remainder", "ldexp", "scalbn", "fma", "fma_rn", "max", "min", "fmax", "fmin",
    # fp32 only
    "fast_cosf", "fast_exp10f", "fast_expf", "fast_log10f", "fast_log2f", "fast_logf", "fast_sinf",
    "fast_tanf", "saturatef", "fast_dividef", "fast_powf",
    # predicates (int32 0 / 1)
    "isnan", "isinf", "isfinited", "finitef", "signbit",
    # integers
    "brev", "clz", "ffs", "popc", "mulhi", "umulhi",
    # bit reinterpretations
    "float_as_int", "int_as_float", "float_as_uint", "uint_as_float", "double_as_longlong",
    "longlong_as_double",
)

_KINDS = ("float", "double", "int", "uint", "ll", "ull")
CONVERSIONS = tuple(f"{a}2{b}_{m}" for a in _KINDS for b in _KINDS for m in ("rn", "rz", "rd", "ru")
                    if a != b and (a in ("float", "double") or b in ("float", "double"))
                    and not (a == "float" and b == "double"))

_MODULE = "triton.language.extra.libdevice"


def _stub(name):
    s = _builtin(name)
    s.__triton_module__ = _MODULE
    s.__doc__ = f"libdevice `{name}`: compiled by the C++ frontend; callable only inside @jit."
    return s


for _n in NAMES + CONVERSIONS:
    globals()[_n] = _stub(_n)
del _n


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    return _stub(name)  # unknown to us: the compiler reports it where the kernel calls it
