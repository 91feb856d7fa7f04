"""triton.language.extra.libdevice (`from mini_triton.language.extra import libdevice`): every function on
fresh random inputs in its domain, against float64 references (numpy, Python's math, torch.special), in
fp32 and fp64 (fp16 / bf16 through fp32); the integer functions, predicates and conversions exactly; the
three import forms; source-located errors. The same kernels run on the GPU (marked test)."""

import math

import numpy as np
import pytest

import mini_triton as triton
import mini_triton.language as tl
from mini_triton.language.extra import libdevice
from mini_triton.language.extra.cuda import libdevice as cuda_libdevice
from mini_triton.language.extra.libdevice import erfinv as imported_erfinv

torch = pytest.importorskip("torch")
mpmath = pytest.importorskip("mpmath")  # torch's own dependency (through sympy); torch's Bessel functions are
                                        # accurate to about 1e-9 only


@triton.jit
def unary_kernel(x_ptr, out_ptr, N: tl.constexpr, FN: tl.constexpr):
    offs = tl.arange(0, N)
    x = tl.load(x_ptr + offs)
    if FN == "acos":
        r = libdevice.acos(x)
    elif FN == "acosh":
        r = libdevice.acosh(x)
    elif FN == "asin":
        r = libdevice.asin(x)
    elif FN == "asinh":
        r = libdevice.asinh(x)
    elif FN == "atan":
        r = libdevice.atan(x)
    elif FN == "atanh":
        r = libdevice.atanh(x)
    elif FN == "cbrt":
        r = libdevice.cbrt(x)
    elif FN == "ceil":
        r = libdevice.ceil(x)
    elif FN == "cos":
        r = libdevice.cos(x)
    elif FN == "cosh":
        r = libdevice.cosh(x)
    elif FN == "cospi":
        r = libdevice.cospi(x)
    elif FN == "erf":
        r = libdevice.erf(x)
    elif FN == "erfc":
        r = libdevice.erfc(x)
    elif FN == "erfcinv":
        r = libdevice.erfcinv(x)
    elif FN == "erfcx":
        r = libdevice.erfcx(x)
    elif FN == "erfinv":
        r = libdevice.erfinv(x)
    elif FN == "exp":
        r = libdevice.exp(x)
    elif FN == "exp10":
        r = libdevice.exp10(x)
    elif FN == "exp2":
        r = libdevice.exp2(x)
    elif FN == "expm1":
        r = libdevice.expm1(x)
    elif FN == "floor":
        r = libdevice.floor(x)
    elif FN == "j0":
        r = libdevice.j0(x)
    elif FN == "j1":
        r = libdevice.j1(x)
    elif FN == "lgamma":
        r = libdevice.lgamma(x)
    elif FN == "log":
        r = libdevice.log(x)
    elif FN == "log10":
        r = libdevice.log10(x)
    elif FN == "log1p":
        r = libdevice.log1p(x)
    elif FN == "log2":
        r = libdevice.log2(x)
    elif FN == "logb":
        r = libdevice.logb(x)
    elif FN == "nearbyint":
        r = libdevice.nearbyint(x)
    elif FN == "normcdf":
        r = libdevice.normcdf(x)
    elif FN == "normcdfinv":
        r = libdevice.normcdfinv(x)
    elif FN == "rcbrt":
        r = libdevice.rcbrt(x)
    elif FN == "rcp_rn":
        r = libdevice.rcp_rn(x)
    elif FN == "rint":
        r = libdevice.rint(x)
    elif FN == "round":
        r = libdevice.round(x)
    elif FN == "rsqrt":
        r = libdevice.rsqrt(x)
    elif FN == "sin":
        r = libdevice.sin(x)
    elif FN == "sinh":
        r = libdevice.sinh(x)
    elif FN == "sinpi":
        r = libdevice.sinpi(x)
    elif FN == "sqrt":
        r = libdevice.sqrt(x)
    elif FN == "sqrt_rn":
        r = libdevice.sqrt_rn(x)
    elif FN == "tan":
        r = libdevice.tan(x)
    elif FN == "tanh":
        r = libdevice.tanh(x)
    elif FN == "tgamma":
        r = libdevice.tgamma(x)
    elif FN == "trunc":
        r = libdevice.trunc(x)
    elif FN == "y0":
        r = libdevice.y0(x)
    elif FN == "y1":
        r = libdevice.y1(x)
    elif FN == "abs":
        r = libdevice.abs(x)
    elif FN == "fast_cosf":
        r = libdevice.fast_cosf(x)
    elif FN == "fast_exp10f":
        r = libdevice.fast_exp10f(x)
    elif FN == "fast_expf":
        r = libdevice.fast_expf(x)
    elif FN == "fast_log10f":
        r = libdevice.fast_log10f(x)
    elif FN == "fast_log2f":
        r = libdevice.fast_log2f(x)
    elif FN == "fast_logf":
        r = libdevice.fast_logf(x)
    elif FN == "fast_sinf":
        r = libdevice.fast_sinf(x)
    elif FN == "fast_tanf":
        r = libdevice.fast_tanf(x)
    else:
        tl.static_assert(FN == "saturatef")
        r = libdevice.saturatef(x)
    tl.store(out_ptr + offs, r)


@triton.jit
def binary_kernel(x_ptr, y_ptr, out_ptr, N: tl.constexpr, FN: tl.constexpr):
    offs = tl.arange(0, N)
    x = tl.load(x_ptr + offs)
    y = tl.load(y_ptr + offs)
    if FN == "add_rn":
        r = libdevice.add_rn(x, y)
    elif FN == "sub_rn":
        r = libdevice.sub_rn(x, y)
    elif FN == "mul_rn":
        r = libdevice.mul_rn(x, y)
    elif FN == "div_rn":
        r = libdevice.div_rn(x, y)
    elif FN == "atan2":
        r = libdevice.atan2(x, y)
    elif FN == "copysign":
        r = libdevice.copysign(x, y)
    elif FN == "fdim":
        r = libdevice.fdim(x, y)
    elif FN == "fmod":
        r = libdevice.fmod(x, y)
    elif FN == "hypot":
        r = libdevice.hypot(x, y)
    elif FN == "nextafter":
        r = libdevice.nextafter(x, y)
    elif FN == "pow":
        r = libdevice.pow(x, y)
    elif FN == "remainder":
        r = libdevice.remainder(x, y)
    elif FN == "fmax":
        r = libdevice.fmax(x, y)
    elif FN == "fmin":
        r = libdevice.fmin(x, y)
    elif FN == "fast_dividef":
        r = libdevice.fast_dividef(x, y)
    else:
        tl.static_assert(FN == "fast_powf")
        r = libdevice.fast_powf(x, y)
    tl.store(out_ptr + offs, r)


def _vec(f):
    return np.vectorize(f, otypes=[np.float64])


def _torch(f):
    return lambda x: f(torch.from_numpy(np.asarray(x, np.float64))).numpy()


def _round_half_away(x):
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


# name: (float64 reference, input range, (CPU rtol f32, atol f32)); the CPU computes in double and rounds once.
UNARY = {
    "acos": (np.arccos, (-0.99, 0.99)),
    "acosh": (np.arccosh, (1.01, 20.0)),
    "asin": (np.arcsin, (-0.99, 0.99)),
    "asinh": (np.arcsinh, (-20.0, 20.0)),
    "atan": (np.arctan, (-20.0, 20.0)),
    "atanh": (np.arctanh, (-0.99, 0.99)),
    "cbrt": (np.cbrt, (-30.0, 30.0)),
    "ceil": (np.ceil, (-30.0, 30.0)),
    "cos": (np.cos, (-10.0, 10.0)),
    "cosh": (np.cosh, (-6.0, 6.0)),
    "cospi": (lambda x: np.cos(np.pi * x), (-5.0, 5.0)),
    "erf": (_vec(math.erf), (-3.0, 3.0)),
    "erfc": (_vec(math.erfc), (-3.0, 8.0)),
    "erfcinv": (lambda y: -_torch(torch.special.ndtri)(y / 2) / math.sqrt(2), (0.001, 1.999)),
    "erfcx": (_torch(torch.special.erfcx), (-2.0, 30.0)),
    "erfinv": (_torch(torch.erfinv), (-0.999, 0.999)),
    "exp": (np.exp, (-20.0, 20.0)),
    "exp10": (lambda x: 10.0 ** x, (-8.0, 8.0)),
    "exp2": (np.exp2, (-30.0, 30.0)),
    "expm1": (np.expm1, (-3.0, 3.0)),
    "floor": (np.floor, (-30.0, 30.0)),
    "j0": (_vec(lambda v: float(mpmath.besselj(0, v))), (-20.0, 20.0)),
    "j1": (_vec(lambda v: float(mpmath.besselj(1, v))), (-20.0, 20.0)),
    "lgamma": (_vec(math.lgamma), (0.05, 30.0)),
    "log": (np.log, (0.001, 1000.0)),
    "log10": (np.log10, (0.001, 1000.0)),
    "log1p": (np.log1p, (-0.9, 10.0)),
    "log2": (np.log2, (0.001, 1000.0)),
    "logb": (_vec(lambda v: float(math.frexp(v)[1] - 1)), (0.001, 1000.0)),
    "nearbyint": (np.rint, (-30.0, 30.0)),
    "normcdf": (_torch(torch.special.ndtr), (-6.0, 6.0)),
    "normcdfinv": (_torch(torch.special.ndtri), (0.001, 0.999)),
    "rcbrt": (lambda x: 1 / np.cbrt(x), (0.01, 30.0)),
    "rcp_rn": (lambda x: 1 / x, (0.01, 30.0)),
    "rint": (np.rint, (-30.0, 30.0)),
    "round": (_round_half_away, (-30.0, 30.0)),
    "rsqrt": (lambda x: 1 / np.sqrt(x), (0.001, 1000.0)),
    "sin": (np.sin, (-10.0, 10.0)),
    "sinh": (np.sinh, (-6.0, 6.0)),
    "sinpi": (lambda x: np.sin(np.pi * x), (-5.0, 5.0)),
    "sqrt": (np.sqrt, (0.0, 1000.0)),
    "sqrt_rn": (np.sqrt, (0.0, 1000.0)),
    "tan": (np.tan, (-1.5, 1.5)),
    "tanh": (np.tanh, (-6.0, 6.0)),
    "tgamma": (_vec(math.gamma), (0.05, 12.0)),
    "trunc": (np.trunc, (-30.0, 30.0)),
    "y0": (_vec(lambda v: float(mpmath.bessely(0, v))), (0.1, 20.0)),
    "y1": (_vec(lambda v: float(mpmath.bessely(1, v))), (0.1, 20.0)),
    "abs": (np.abs, (-30.0, 30.0)),
}
FAST = {  # fp32 only: exact on the CPU, the GPU's approximations there
    "fast_cosf": (np.cos, (-3.0, 3.0)),
    "fast_exp10f": (lambda x: 10.0 ** x, (-3.0, 3.0)),
    "fast_expf": (np.exp, (-10.0, 10.0)),
    "fast_log10f": (np.log10, (0.01, 100.0)),
    "fast_log2f": (np.log2, (0.01, 100.0)),
    "fast_logf": (np.log, (0.01, 100.0)),
    "fast_sinf": (np.sin, (-3.0, 3.0)),
    "fast_tanf": (np.tan, (-1.0, 1.0)),
    "saturatef": (lambda x: np.clip(x, 0.0, 1.0), (-2.0, 2.0)),
}
BINARY = {
    "add_rn": (np.add, (-30.0, 30.0), (-30.0, 30.0)),
    "sub_rn": (np.subtract, (-30.0, 30.0), (-30.0, 30.0)),
    "mul_rn": (np.multiply, (-30.0, 30.0), (-30.0, 30.0)),
    "div_rn": (np.divide, (-30.0, 30.0), (0.1, 30.0)),
    "atan2": (np.arctan2, (-30.0, 30.0), (-30.0, 30.0)),
    "copysign": (np.copysign, (-30.0, 30.0), (-30.0, 30.0)),
    "fdim": (lambda x, y: np.maximum(x - y, 0.0), (-30.0, 30.0), (-30.0, 30.0)),
    "fmod": (np.fmod, (-30.0, 30.0), (0.5, 7.0)),
    "hypot": (np.hypot, (-30.0, 30.0), (-30.0, 30.0)),
    "pow": (np.power, (0.01, 10.0), (-5.0, 5.0)),
    "remainder": (_vec(math.remainder), (-30.0, 30.0), (0.5, 7.0)),
    "fmax": (np.fmax, (-30.0, 30.0), (-30.0, 30.0)),
    "fmin": (np.fmin, (-30.0, 30.0), (-30.0, 30.0)),
}
FAST_BINARY = {
    "fast_dividef": (np.divide, (-30.0, 30.0), (0.1, 30.0)),
    "fast_powf": (np.power, (0.1, 10.0), (-3.0, 3.0)),
}
# Values where the rounding functions must break ties as documented (rint / nearbyint to even, round away).
TIES = np.array([0.5, 1.5, 2.5, -0.5, -2.5, 3.5], np.float64)

TOL = {  # (rtol, atol) of the interpreter (double, rounded once) and of the GPU (the CUDA library's ulps)
    ("cpu", np.float32): (2e-7, 1e-30), ("cpu", np.float64): (1e-12, 1e-15),
    ("gpu", np.float32): (4e-6, 4e-6), ("gpu", np.float64): (1e-12, 1e-13),
    ("cpu", np.float16): (1e-3, 1e-4), ("gpu", np.float16): (2e-3, 2e-3),
}


def _inputs(rng, lo, hi, n, dtype):
    x = rng.uniform(lo, hi, n)
    return x.astype(dtype)


def _check(got, ref, dtype, where, name):
    rtol, atol = TOL[(where, dtype)]
    if where == "cpu" and dtype == np.float32:
        ref = ref.astype(np.float32).astype(np.float64)  # one rounding of the exact value: at most 1/2 ulp away
        atol = max(atol, 0.0)
    np.testing.assert_allclose(got.astype(np.float64), ref, rtol=rtol, atol=atol, err_msg=name)


def _run_unary(name, ref, rng, dtype, where="cpu", lo=None, hi=None, n=256):
    x = _inputs(rng, lo, hi, n, dtype)
    if name in ("rint", "nearbyint", "round"):
        x[: len(TIES)] = TIES
    out = np.full(n, np.nan, dtype)
    if where == "gpu":
        xt, ot = torch.from_numpy(x).cuda(), torch.from_numpy(out).cuda()
        unary_kernel[(1,)](xt, ot, N=n, FN=name)
        out = ot.cpu().numpy()
    else:
        unary_kernel[(1,)](x, out, N=n, FN=name)
    return x, out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary(rng, name, dtype):
    ref, (lo, hi) = UNARY[name]
    x, out = _run_unary(name, ref, rng, dtype, lo=lo, hi=hi)
    _check(out, ref(x.astype(np.float64)), dtype, "cpu", name)


@pytest.mark.parametrize("name", sorted(FAST))
def test_fast_f32(rng, name):
    ref, (lo, hi) = FAST[name]
    x, out = _run_unary(name, ref, rng, np.float32, lo=lo, hi=hi)
    _check(out, ref(x.astype(np.float64)), np.float32, "cpu", name)


def _run_binary(name, rng, dtype, spec, where="cpu", n=256):
    ref, (xlo, xhi), (ylo, yhi) = spec
    x, y = _inputs(rng, xlo, xhi, n, dtype), _inputs(rng, ylo, yhi, n, dtype)
    out = np.full(n, np.nan, dtype)
    if where == "gpu":
        ot = torch.from_numpy(out).cuda()
        binary_kernel[(1,)](torch.from_numpy(x).cuda(), torch.from_numpy(y).cuda(), ot, N=n, FN=name)
        out = ot.cpu().numpy()
    else:
        binary_kernel[(1,)](x, y, out, N=n, FN=name)
    return x, y, out, ref(x.astype(np.float64), y.astype(np.float64))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary(rng, name, dtype):
    x, y, out, ref = _run_binary(name, rng, dtype, BINARY[name])
    _check(out, ref, dtype, "cpu", name)


@pytest.mark.parametrize("name", sorted(FAST_BINARY))
def test_fast_binary_f32(rng, name):
    x, y, out, ref = _run_binary(name, rng, np.float32, FAST_BINARY[name])
    _check(out, ref, np.float32, "cpu", name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nextafter_steps_one_ulp_of_the_dtype(rng, dtype):
    x, y, out, _ = _run_binary("nextafter", rng, dtype, (np.nextafter, (-30.0, 30.0), (-30.0, 30.0)))
    np.testing.assert_array_equal(out, np.nextafter(x, y))


@pytest.mark.parametrize("name", ["log1p", "erfinv", "tanh", "normcdf"])
def test_half_precision_through_f32(rng, name):
    ref, (lo, hi) = UNARY[name]
    x, out = _run_unary(name, ref, rng, np.float16, lo=lo, hi=hi)
    _check(out, ref(x.astype(np.float64)), np.float16, "cpu", name)


@triton.jit
def int_kernel(x_ptr, y_ptr, out_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    x = tl.load(x_ptr + offs)
    y = tl.load(y_ptr + offs)
    tl.store(out_ptr + offs * 5, libdevice.clz(x).to(x.dtype))
    tl.store(out_ptr + offs * 5 + 1, libdevice.popc(x).to(x.dtype))
    tl.store(out_ptr + offs * 5 + 2, libdevice.ffs(x).to(x.dtype))
    tl.store(out_ptr + offs * 5 + 3, libdevice.brev(x))
    tl.store(out_ptr + offs * 5 + 4, libdevice.mulhi(x, y))


def _int_ref(x, y, bits, signed):
    mask = (1 << bits) - 1
    u = int(x) & mask
    clz = bits - u.bit_length()
    popc = bin(u).count("1")
    ffs = (u & -u).bit_length()
    brev = int(format(u, f"0{bits}b")[::-1], 2)
    hi = (int(x) * int(y)) >> bits  # Python ints: exact, arithmetic shift for signed operands
    vals = [clz, popc, ffs, brev, hi & mask]
    return [v - (1 << bits) if signed and v >> (bits - 1) else v for v in vals]


@pytest.mark.parametrize("dtype", [np.int32, np.uint32, np.int64, np.uint64])
def test_integer_functions(rng, dtype, where="cpu"):
    info = np.iinfo(dtype)
    n = 64
    x = rng.integers(info.min, info.max, n, dtype=dtype, endpoint=True)
    y = rng.integers(info.min, info.max, n, dtype=dtype, endpoint=True)
    x[:3] = [0, 1, info.max]
    out = np.full(5 * n, 7, dtype)
    if where == "gpu":
        ot = torch.from_numpy(out).cuda()
        int_kernel[(1,)](torch.from_numpy(x).cuda(), torch.from_numpy(y).cuda(), ot, N=n)
        out = ot.cpu().numpy()
    else:
        int_kernel[(1,)](x, y, out, N=n)
    bits, signed = 8 * np.dtype(dtype).itemsize, info.min < 0
    expect = np.array([_int_ref(a, b, bits, signed) for a, b in zip(x, y)], dtype=object).reshape(-1)
    np.testing.assert_array_equal(out.astype(object), expect)


@triton.jit
def predicates_kernel(x_ptr, out_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    x = tl.load(x_ptr + offs)
    tl.store(out_ptr + offs * 5, libdevice.isnan(x))
    tl.store(out_ptr + offs * 5 + 1, libdevice.isinf(x))
    tl.store(out_ptr + offs * 5 + 2, libdevice.isfinited(x))
    tl.store(out_ptr + offs * 5 + 3, libdevice.signbit(x))
    tl.store(out_ptr + offs * 5 + 4, libdevice.ilogb(x))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_predicates_and_ilogb(rng, dtype):
    n = 16
    x = (rng.standard_normal(n) * 100).astype(dtype)
    x[:6] = [np.nan, np.inf, -np.inf, -0.0, 0.0, -np.nan]
    out = np.full(5 * n, 7, np.int32)
    predicates_kernel[(1,)](x, out, N=n)
    out = out.reshape(n, 5)
    np.testing.assert_array_equal(out[:, 0], np.isnan(x))
    np.testing.assert_array_equal(out[:, 1], np.isinf(x))
    np.testing.assert_array_equal(out[:, 2], np.isfinite(x))
    np.testing.assert_array_equal(out[:, 3], np.signbit(x))
    finite = np.isfinite(x) & (x != 0)
    np.testing.assert_array_equal(out[finite, 4], [math.frexp(v)[1] - 1 for v in x[finite].astype(np.float64)])
    np.testing.assert_array_equal(out[[0, 3, 4], 4], [-2**31] * 3)  # ilogb(NaN), ilogb(0): INT_MIN
    np.testing.assert_array_equal(out[[1, 2], 4], [2**31 - 1] * 2)  # ilogb(+-inf): INT_MAX


@triton.jit
def conversion_kernel(x_ptr, d_ptr, i_ptr, f_ptr, out_i_ptr, out_f_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    x = tl.load(x_ptr + offs)
    d = tl.load(d_ptr + offs)
    i = tl.load(i_ptr + offs)
    tl.store(out_i_ptr + offs * 8, libdevice.float2int_rn(x))
    tl.store(out_i_ptr + offs * 8 + 1, libdevice.float2int_rz(x))
    tl.store(out_i_ptr + offs * 8 + 2, libdevice.float2int_rd(x))
    tl.store(out_i_ptr + offs * 8 + 3, libdevice.float2int_ru(x))
    tl.store(out_i_ptr + offs * 8 + 4, libdevice.double2int_rd(d))
    tl.store(out_i_ptr + offs * 8 + 5, libdevice.float_as_int(x))
    tl.store(out_i_ptr + offs * 8 + 6, libdevice.double2ll_ru(d).to(tl.int32))
    tl.store(out_i_ptr + offs * 8 + 7, libdevice.float2uint_rz(tl.abs(x)).to(tl.int32))
    tl.store(out_f_ptr + offs * 4, libdevice.int2float_rn(i))
    tl.store(out_f_ptr + offs * 4 + 1, libdevice.int_as_float(i))
    tl.store(out_f_ptr + offs * 4 + 2, libdevice.double2float_rn(d))
    tl.store(out_f_ptr + offs * 4 + 3, libdevice.ll2float_rn(i.to(tl.int64)))


def test_conversions(rng):
    n = 32
    x = (rng.standard_normal(n) * 50).astype(np.float32)
    x[:4] = [2.5, -2.5, 3.5, -0.5]
    d = rng.standard_normal(n) * 1e3
    i = rng.integers(-2**31, 2**31 - 1, n, dtype=np.int32)
    out_i = np.full(8 * n, 7, np.int32)
    out_f = np.full(4 * n, np.nan, np.float32)
    conversion_kernel[(1,)](x, d, i, np.zeros(1, np.float32), out_i, out_f, N=n)
    out_i, out_f = out_i.reshape(n, 8), out_f.reshape(n, 4)
    np.testing.assert_array_equal(out_i[:, 0], np.rint(x))
    np.testing.assert_array_equal(out_i[:, 1], np.trunc(x))
    np.testing.assert_array_equal(out_i[:, 2], np.floor(x))
    np.testing.assert_array_equal(out_i[:, 3], np.ceil(x))
    np.testing.assert_array_equal(out_i[:, 4], np.floor(d))
    np.testing.assert_array_equal(out_i[:, 5], x.view(np.int32))
    np.testing.assert_array_equal(out_i[:, 6], np.ceil(d))
    np.testing.assert_array_equal(out_i[:, 7], np.trunc(np.abs(x)))
    np.testing.assert_array_equal(out_f[:, 0], i.astype(np.float32))
    np.testing.assert_array_equal(out_f[:, 1], i.view(np.float32))
    np.testing.assert_array_equal(out_f[:, 2], d.astype(np.float32))
    np.testing.assert_array_equal(out_f[:, 3], i.astype(np.float32))


@triton.jit
def forms_kernel(x_ptr, out_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    x = tl.load(x_ptr + offs)
    a = libdevice.erfinv(x)
    b = cuda_libdevice.erfinv(x)
    c = imported_erfinv(x)
    d = tl.extra.cuda.libdevice.erfinv(x)
    e = libdevice.powi(x, 3) + libdevice.pow(x, 2) + libdevice.ldexp(x, offs % 5) + libdevice.scalbn(x, 2)
    tl.store(out_ptr + offs * 5, a)
    tl.store(out_ptr + offs * 5 + 1, b)
    tl.store(out_ptr + offs * 5 + 2, c)
    tl.store(out_ptr + offs * 5 + 3, d)
    tl.store(out_ptr + offs * 5 + 4, e)


def test_import_forms_and_integer_exponents(rng):
    n = 64
    x = rng.uniform(-0.9, 0.9, n).astype(np.float32)
    out = np.full(5 * n, np.nan, np.float32)
    forms_kernel[(1,)](x, out, N=n)
    out = out.reshape(n, 5)
    ref = torch.erfinv(torch.from_numpy(x.astype(np.float64))).numpy()
    for k in range(4):
        np.testing.assert_allclose(out[:, k], ref, rtol=2e-7, atol=1e-30)
    x64 = x.astype(np.float64)
    e = x64 ** 3 + x64 ** 2 + x64 * 2.0 ** (np.arange(n) % 5) + x64 * 4
    np.testing.assert_allclose(out[:, 4], e, rtol=1e-6, atol=1e-6)


@triton.jit
def bad_kernel(x_ptr, out_ptr, N: tl.constexpr, CASE: tl.constexpr):
    offs = tl.arange(0, N)
    x = tl.load(x_ptr + offs)
    if CASE == 0:
        r = libdevice.log1p(offs)
    elif CASE == 1:
        r = libdevice.fast_expf(x.to(tl.float64))
    elif CASE == 2:
        r = libdevice.clz(x)
    elif CASE == 3:
        r = libdevice.no_such_function(x)
    elif CASE == 4:
        r = libdevice.div_rz(x, x)
    else:
        r = libdevice.float2int_rn(x.to(tl.float64))
    tl.store(out_ptr + offs, r)


@pytest.mark.parametrize("case, message", [
    (0, r"libdevice.log1p\(\) expects a floating-point tensor, got tensor<16xi32>"),
    (1, r"libdevice.fast_expf\(\) expects an fp32 tensor, got tensor<16xf64>"),
    (2, r"libdevice.clz\(\) expects a 32- or 64-bit integer tensor, got tensor<16xf32>"),
    (3, r"'libdevice.no_such_function' is not supported"),
    (4, r"libdevice.div_rz\(\) is not supported: directed rounding \(rz\)"),
    (5, r"libdevice.float2int_rn\(\) expects fp32, got tensor<16xf64>"),
])
def test_errors_name_the_call(case, message):
    x = np.ones(16, np.float32)
    with pytest.raises(Exception, match=r"test_libdevice.py:\d+:\d+: error: " + message):
        bad_kernel[(1,)](x, np.zeros(16, np.float32), N=16, CASE=case)


def test_calling_outside_jit_is_an_error():
    with pytest.raises(RuntimeError, match="only be called inside a @jit function"):
        libdevice.tanh(1.0)


@pytest.mark.gpu
def test_gpu_every_function(rng):
    for name, (ref, (lo, hi)) in sorted(UNARY.items()):
        for dtype in (np.float32, np.float64):
            x, out = _run_unary(name, ref, rng, dtype, "gpu", lo, hi)
            _check(out, ref(x.astype(np.float64)), dtype, "gpu", name)
        x, out = _run_unary(name, ref, rng, np.float16, "gpu", lo, hi) if name in ("log1p", "erfinv") else (None, None)
        if x is not None:
            _check(out, ref(x.astype(np.float64)), np.float16, "gpu", name)
    for name, (ref, (lo, hi)) in sorted(FAST.items()):  # the MUFU approximations: a few ulp, absolute near 0
        x, out = _run_unary(name, ref, rng, np.float32, "gpu", lo, hi)
        np.testing.assert_allclose(out, ref(x.astype(np.float64)), rtol=2e-5, atol=2e-5, err_msg=name)
    for name, spec in sorted(BINARY.items()):
        for dtype in (np.float32, np.float64):
            x, y, out, ref = _run_binary(name, rng, dtype, spec, "gpu")
            _check(out, ref, dtype, "gpu", name)
    for name, spec in sorted(FAST_BINARY.items()):
        x, y, out, ref = _run_binary(name, rng, np.float32, spec, "gpu")
        np.testing.assert_allclose(out, ref, rtol=2e-5, atol=2e-5, err_msg=name)
    for dtype in (np.float32, np.float64):
        x, y, out, _ = _run_binary("nextafter", rng, dtype, (np.nextafter, (-30.0, 30.0), (-30.0, 30.0)), "gpu")
        np.testing.assert_array_equal(out, np.nextafter(x, y))
    for dtype in (np.int32, np.uint32, np.int64, np.uint64):
        test_integer_functions(rng, dtype, where="gpu")
