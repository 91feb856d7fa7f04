"""`@jit` and the launch path: arguments → specialisation key → compiled kernel (cached) → launch.

    @triton.jit
    def add(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr): ...

    add[(triton.cdiv(n, 1024),)](x, y, out, n, BLOCK=1024)

Arguments follow Triton's specialisation rules: arrays/tensors are pointers to their dtype (16-byte
alignment recorded), Python ints are i32 when they fit, else i64 (u64 above that), and are specialised on
`== 1` and `% 16 == 0` unless listed in `do_not_specialize`; floats are f32, bools i1; `None` and dtypes are
compile-time values, as are parameters annotated `tl.constexpr`.
"""

from __future__ import annotations

import inspect
import sys
import types

import numpy as np

from . import _ext
from . import language as _lang
from ._source import closure_vars, function_source, module_path
from .language.core import constexpr, dtype as _tl_dtype
from .tools.tensor_descriptor import TensorDescriptor

_ndarray = np.ndarray
_data_ptr = _ext._C.data_ptr
_classify = _ext._C.classify
_ext._C.set_constexpr_types((_tl_dtype,))  # dtype constexprs (ACC=tl.float32) on the fast path too
# dtype object (NumPy or torch) → (fast key if 16-byte aligned, fast key otherwise); filled as dtypes are seen
_ptr_keys: dict = {}
_tensor_type = None  # torch.Tensor once torch has been imported


def _find_tensor_type():
    global _tensor_type
    torch = sys.modules.get("torch")
    if torch is not None:
        _tensor_type = getattr(torch, "Tensor", None)
    return _tensor_type

CompilationError = _ext._C.CompilationError
LaunchError = _ext._C.LaunchError

# Launch options Triton accepts as keyword arguments; those we do not model are accepted and ignored.
_LAUNCH_OPTIONS = ("num_warps", "num_stages", "num_ctas", "maxnreg", "enable_fp_fusion", "debug",
                   "enable_warp_specialization", "launch_cooperative_grid", "num_buffers_warp_spec",
                   "num_consumer_groups", "reg_dec_producer", "reg_inc_consumer", "stream", "extern_libs")

_DTYPE_NAMES = {
    "float32": "f32", "float": "f32", "float16": "f16", "half": "f16", "bfloat16": "bf16", "float64": "f64",
    "double": "f64", "int8": "i8", "int16": "i16", "short": "i16", "int32": "i32", "int": "i32", "int64": "i64",
    "long": "i64", "uint8": "u8", "uint16": "u16", "uint32": "u32", "uint64": "u64", "bool": "i1",
    "float8_e4m3fn": "f8e4m3", "float8_e5m2": "f8e5m2",
}
_dtype_cache: dict = {}  # array/tensor dtype object → IR dtype name


def _ir_dtype(dt, param: str, fn_name: str) -> str:
    try:
        return _dtype_cache[dt]
    except (KeyError, TypeError):
        pass
    name = getattr(dt, "name", None)
    if not isinstance(name, str):
        name = str(dt).rsplit(".", 1)[-1]
    ir = _DTYPE_NAMES.get(name)
    if ir is None:
        raise TypeError(f"{fn_name}: argument '{param}' has an unsupported element dtype {dt}")
    _dtype_cache[dt] = ir
    # (CPU 16-byte aligned, CPU, CUDA aligned, CUDA): classify() picks by device and alignment
    _ptr_keys[dt] = ("*" + ir + ":16", "*" + ir, "*" + ir + ":16:cuda", "*" + ir + ":cuda")
    return ir


def _int_spec(v: int, param: str, fn_name: str) -> str:
    if -(2**31) <= v < 2**31:
        return "i32"
    if -(2**63) <= v < 2**63:
        return "i64"
    if 0 <= v < 2**64:
        return "u64"
    raise TypeError(f"{fn_name}: integer argument '{param}' = {v} does not fit in 64 bits")


def _numpy_span(a, ptr):
    """Bytes from `ptr` (the view's data pointer) to the end of the allocation the view `a` lies in, so
    that strided access is bounds-checked against the real allocation."""
    root = a
    while isinstance(root.base, np.ndarray):
        root = root.base
    rptr = _data_ptr(root)
    if rptr is None:
        rptr = root.__array_interface__["data"][0]
    if root.size == 0:
        high = rptr
    else:
        high = rptr + root.itemsize + sum((n - 1) * s for n, s in zip(root.shape, root.strides) if s > 0)
    own_high = ptr + (a.nbytes if a.flags.c_contiguous else 0)
    return max(0, max(high, own_high) - ptr)


def _numpy_buffer(a):
    """(data pointer, bytes the kernel may reach) of a NumPy array or view: the launch argument."""
    ptr = _data_ptr(a)
    if ptr is None:
        ptr = a.__array_interface__["data"][0]
    return ptr, a.nbytes if a.base is None else _numpy_span(a, ptr)


_cuda_state = None  # (available, reason) once asked


def _cuda_available():
    global _cuda_state
    if _cuda_state is None:
        _cuda_state = tuple(_ext._C.cuda_available())
    return _cuda_state


def _torch_buffer(t, param: str, fn_name: str):
    """(data_ptr, bytes to the end of its storage) of a CPU tensor; (ptr, bytes, True) of a CUDA tensor."""
    dev = t.device.type
    if dev not in ("cpu", "cuda"):
        raise RuntimeError(f"{fn_name}: argument '{param}' is on device '{t.device}'; mini_triton runs kernels "
                           "on CPU tensors (interpreter) and CUDA tensors (GPU) only")
    if dev == "cuda":
        ok, why = _cuda_available()
        if not ok:
            raise RuntimeError(f"{fn_name}: argument '{param}' is on device '{t.device}', but mini_triton cannot "
                               f"use the GPU: {why}")
    ptr = t.data_ptr()
    storage = t.untyped_storage()
    span = storage.data_ptr() + storage.nbytes() - ptr
    return (ptr, span, True) if dev == "cuda" else (ptr, span)


_raw_stream = None  # torch's current CUDA stream getter, resolved on the first GPU launch


def _current_stream():
    """torch's current CUDA stream (a CUstream as an int; 0 = the legacy default stream)."""
    global _raw_stream
    if _raw_stream is None:
        _raw_stream = lambda: 0  # noqa: E731
        try:
            tc = sys.modules["torch"]._C
            get_stream, get_device = tc._cuda_getCurrentRawStream, tc._cuda_getDevice
            get_stream(get_device())  # works here: use it from now on
            _raw_stream = lambda: get_stream(get_device())  # noqa: E731
        except Exception:  # no torch, or a torch without these: the default stream
            pass
    return _raw_stream()


class KernelInterface:
    """`kernel[grid](*args, **kwargs)` for jit functions, autotuners and heuristics."""

    def __getitem__(self, grid):
        if not callable(grid):
            grid = _grid_tuple(grid, None)  # once here, not on every launch
        run = self.run

        def launcher(*args, **kwargs):
            return run(*args, grid=grid, warmup=False, **kwargs)

        return launcher

    def warmup(self, *args, grid, **kwargs):
        return self.run(*args, grid=grid, warmup=True, **kwargs)


def _grid_tuple(grid, meta):
    if callable(grid):
        grid = grid(meta)
    if isinstance(grid, tuple) or isinstance(grid, list):
        g = tuple(int(x) for x in grid)
        if not 1 <= len(g) <= 3:
            raise ValueError(f"grid must have 1 to 3 dimensions, got {len(g)}")
        return g + (1,) * (3 - len(g))
    return (int(grid), 1, 1)


class JITFunction(KernelInterface):
    """A kernel compiled from its Python source by the C++ compiler, cached per specialisation."""

    def __init__(self, fn, do_not_specialize=None, debug=None, noinline=None, repr=None, launch_metadata=None):
        self.fn = fn
        self.module = fn.__module__
        self.__name__ = fn.__name__
        self.__qualname__ = getattr(fn, "__qualname__", fn.__name__)
        self.__doc__ = fn.__doc__
        self.__module__ = fn.__module__
        self.__globals__ = fn.__globals__
        sig = inspect.signature(fn)
        self.signature = sig
        self.arg_names = list(sig.parameters)
        self.params = list(sig.parameters.values())
        self.constexprs = [i for i, p in enumerate(self.params) if _is_constexpr_annotation(p.annotation, fn)]
        self._is_constexpr = [i in self.constexprs for i in range(len(self.params))]
        dns = do_not_specialize or ()
        self.do_not_specialize = [self.arg_names[d] if isinstance(d, int) else d for d in dns]
        for d in self.do_not_specialize:
            if d not in self.arg_names:
                raise ValueError(f"do_not_specialize: {fn.__name__} has no parameter {d!r}")
        self._no_spec = [n in self.do_not_specialize for n in self.arg_names]
        self._kinds = bytes(ord("c") if c else ord("n") if ns else ord("s")
                            for c, ns in zip(self._is_constexpr, self._no_spec))
        self._defaults = [p.default for p in self.params]
        self._nparams = len(self.arg_names)
        self._tails = [tuple(self.arg_names[i:]) for i in range(self._nparams + 1)]
        # Launch options that are also parameters (Triton's softmax tutorial declares `num_stages:
        # tl.constexpr`): a keyword given at launch sets both.
        self._option_params = tuple(o for o in _LAUNCH_OPTIONS if o in self.arg_names)
        self.cache: dict = {}  # specialisation key → (kernel, runtime-arg selector or None, runs on the GPU)
        self.num_compilations = 0  # cache misses of this function's Python cache
        self._source = None
        self._deps = None  # (import lines, helpers, globals), resolved on first compile

    # ---- calls ------------------------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        raise TypeError(f"{self.__name__} is a @jit function: launch it as {self.__name__}[grid](...) "
                        "(it can be called directly only from inside another @jit function)")

    def __repr__(self):
        return f"JITFunction({self.module}:{self.__qualname__})"

    @property
    def src(self) -> str:
        return self.source.text

    @property
    def source(self):
        if self._source is None:
            self._source = function_source(self.fn)
        return self._source

    def _bind(self, args, kwargs):
        """Positional + keyword arguments → one value per parameter (defaults filled in)."""
        n = len(self.arg_names)
        if len(args) > n:
            raise TypeError(f"{self.__name__}() takes {n} arguments but {len(args)} were given")
        bound = list(args) + [inspect.Parameter.empty] * (n - len(args))
        for k, v in kwargs.items():
            try:
                i = self.arg_names.index(k)
            except ValueError:
                raise TypeError(f"{self.__name__}() got an unexpected keyword argument '{k}'") from None
            if i < len(args):
                raise TypeError(f"{self.__name__}() got multiple values for argument '{k}'")
            bound[i] = v
        for i, v in enumerate(bound):
            if v is inspect.Parameter.empty:
                d = self._defaults[i]
                if d is inspect.Parameter.empty:
                    raise TypeError(f"{self.__name__}() missing required argument: '{self.arg_names[i]}'")
                bound[i] = d
        return bound

    def run(self, *args, grid, warmup=False, **kwargs):
        num_warps = num_stages = None
        if kwargs:
            num_warps = kwargs.pop("num_warps", None)
            num_stages = kwargs.pop("num_stages", None)
            if self._option_params:
                for opt, v in (("num_warps", num_warps), ("num_stages", num_stages)):
                    if v is not None and opt in self._option_params:
                        kwargs[opt] = v
            nargs = len(args)
            if nargs + len(kwargs) == self._nparams and tuple(kwargs) == self._tails[nargs]:
                bound = args + tuple(kwargs.values())  # the usual call: positional, then constexprs by name
            else:
                for opt in _LAUNCH_OPTIONS:
                    if opt not in self._option_params:
                        kwargs.pop(opt, None)
                bound = self._bind(args, kwargs)
        elif len(args) == self._nparams:
            bound = args
        else:
            bound = self._bind(args, kwargs)
        num_warps = 4 if num_warps is None else num_warps  # 0 is an error (compile), not the default
        num_stages = num_stages or 3

        fast = _classify(bound, self._kinds, _ptr_keys, _ndarray, _tensor_type or _find_tensor_type())
        if fast is not None:
            key = (num_warps, num_stages, fast[0])
            launch = fast[1]
            entry = self.cache.get(key)
            if entry is None:  # first launch of this fast key: classify in Python, compile if new
                pykey, _, bound = self._classify_py(bound, num_warps, num_stages)
                entry = self.cache.get(pykey) or self._compile(pykey, bound, num_warps, num_stages)
                self.cache[key] = entry
        else:
            key, launch, bound = self._classify_py(bound, num_warps, num_stages)
            entry = self.cache.get(key)
            if entry is None:
                entry = self._compile(key, bound, num_warps, num_stages)
        kernel, select, on_gpu = entry
        if select is not None:
            launch = [launch[j] for j in select]
        if warmup:
            return kernel
        if type(grid) is not tuple or len(grid) != 3:
            grid = _grid_tuple(grid, dict(zip(self.arg_names, bound)) if callable(grid) else None)
        if on_gpu:
            kernel.launch(grid, launch, _current_stream())
        else:
            kernel.launch(grid, launch)
        return kernel

    def _classify_py(self, bound, num_warps, num_stages):
        """(specialisation key, launch arguments, bound arguments with NumPy scalars made Python numbers)."""
        key = [num_warps, num_stages]
        launch = []
        name = self.__name__
        is_constexpr = self._is_constexpr
        cpu_param = cuda_param = None  # the first host / GPU array argument
        i = 0
        while i < len(bound):
            a = bound[i]
            t = type(a)
            if is_constexpr[i]:
                key.append(_constexpr_key(a))
            elif t is _ndarray or isinstance(a, np.ndarray):
                a = a.view(np.ndarray) if t is not _ndarray else a
                buf = _numpy_buffer(a)
                dt = _ir_dtype(a.dtype, self.arg_names[i], name)
                cpu_param = cpu_param or self.arg_names[i]
                key.append(("p", dt, buf[0] % 16 == 0))
                launch.append(buf)
            elif t is int:
                ty = _int_spec(a, self.arg_names[i], name)
                key.append(ty if self._no_spec[i] else (ty, a % 16 == 0, a == 1))
                launch.append(a)
            elif t is float:
                key.append("f32")
                launch.append(a)
            elif t is bool:
                key.append("i1")
                launch.append(a)
            elif a is None:
                key.append(("c", None))
            elif hasattr(a, "data_ptr") and hasattr(a, "dtype"):
                buf = _torch_buffer(a, self.arg_names[i], name)
                part = ("p", _ir_dtype(a.dtype, self.arg_names[i], name), buf[0] % 16 == 0)
                if len(buf) == 3:
                    part += ("cuda",)
                    cuda_param = cuda_param or self.arg_names[i]
                else:
                    cpu_param = cpu_param or self.arg_names[i]
                key.append(part)
                launch.append(buf)
            elif isinstance(a, TensorDescriptor):  # base pointer, then shape and strides (mt.h ArgSpec)
                arg = self.arg_names[i]
                buf, dt = self._descriptor_base(a.base, arg)
                if len(buf) == 3:
                    cuda_param = cuda_param or arg
                else:
                    cpu_param = cpu_param or arg
                ints = a.shape + a.strides
                specs = tuple((_int_spec(v, arg, name), v % 16 == 0, v == 1) for v in ints)
                key.append(("d", dt, buf[0] % 16 == 0, tuple(a.block_shape), a.padding == "nan", specs,
                            len(buf) == 3))
                launch.append(buf)
                launch.extend(ints)
            elif isinstance(a, (constexpr, _tl_dtype)):
                key.append(_constexpr_key(a))
            elif isinstance(a, (np.generic, int, float)):  # NumPy scalars, IntEnum, float subclasses
                v = a.item() if isinstance(a, np.generic) else (int(a) if isinstance(a, int) else float(a))
                if type(v) not in (int, float, bool):
                    raise TypeError(f"{name}: argument '{self.arg_names[i]}' has unsupported type {t.__name__}")
                bound = _replace(bound, i, v)
                continue  # classify the converted value
            else:
                raise TypeError(f"{name}: argument '{self.arg_names[i]}' has unsupported type "
                                f"{t.__module__}.{t.__qualname__} (expected a tensor/array, int, float, bool or None)")
            i += 1
        if cpu_param and cuda_param:
            raise TypeError(f"{name}: argument '{cpu_param}' is in host memory (CPU) but argument '{cuda_param}' "
                            "is a CUDA tensor: pass all tensors of a launch on the same device")
        return tuple(key), launch, bound

    def _descriptor_base(self, base, arg):
        """(launch buffer, IR dtype) of a TensorDescriptor's base tensor or array."""
        if isinstance(base, np.ndarray):
            return _numpy_buffer(base.view(np.ndarray)), _ir_dtype(base.dtype, arg, self.__name__)
        if hasattr(base, "data_ptr") and hasattr(base, "dtype"):
            return _torch_buffer(base, arg, self.__name__), _ir_dtype(base.dtype, arg, self.__name__)
        raise TypeError(f"{self.__name__}: the TensorDescriptor of argument '{arg}' needs a tensor or array base, "
                        f"got {type(base).__name__}")

    # ---- compilation ----------------------------------------------------------------------------------
    def _compile(self, key, bound, num_warps, num_stages):
        specs = []
        runtime_names = []
        for i, (a, k) in enumerate(zip(bound, key[2:])):
            if self._is_constexpr[i] or (type(k) is tuple and k[0] == "c"):
                specs.append(("constexpr", _constexpr_value(a, self.arg_names[i], self.__name__)))
            elif type(k) is tuple and k[0] == "p":
                specs.append(("ptr", k[1], k[2]))
                runtime_names.append(self.arg_names[i])
            elif type(k) is tuple and k[0] == "d":  # a TensorDescriptor: base, shape, strides
                arg, rank = self.arg_names[i], len(k[3])
                specs.append(("desc", k[1], k[2], list(k[3]), k[4]))
                specs.extend(("scalar",) + s for s in k[5])
                runtime_names += [arg] + [f"{arg}.shape{d}" for d in range(rank)] + \
                    [f"{arg}.stride{d}" for d in range(rank)]
            elif type(k) is tuple:
                specs.append(("scalar", k[0], k[1], k[2]))
                runtime_names.append(self.arg_names[i])
            else:
                specs.append(("scalar", k))
                runtime_names.append(self.arg_names[i])
        import_lines, helpers, globs = self._dependencies()
        text, offset = self.source.with_imports(import_lines)
        on_gpu = any(type(k) is tuple and ((len(k) == 4 and k[0] == "p") or (k[0] == "d" and k[6])) for k in key[2:])
        kernel = _ext.context().compile(text, self.source.file_name, offset, self.__name__, specs, helpers, globs,
                                        num_warps=num_warps, num_stages=num_stages,
                                        target="cuda" if on_gpu else "cpu")
        self.num_compilations += 1
        got = list(kernel.runtime_params)
        select = None
        if got != runtime_names and len(got) != len(runtime_names):
            try:
                select = [runtime_names.index(n) for n in got]
            except ValueError:
                raise RuntimeError(f"mini_triton: compiled kernel parameters {got} do not match the runtime "
                                   f"arguments {runtime_names}") from None
        entry = (kernel, select, on_gpu)
        self.cache[key] = entry
        return entry

    def _dependencies(self):
        """Import lines for the language-module aliases, helper sources and module constants the
        kernel (and, recursively, its helpers) read."""
        if self._deps is None:
            import_lines = _import_lines(self)
            helpers, globs = [], {}
            _collect(self, helpers, globs, {id(self)})
            self._deps = (import_lines, helpers, globs)
        return self._deps

    def _names(self):
        """(name, value) of the globals and closure variables the body reads."""
        scope = closure_vars(self.fn)
        out = []
        for n in self.source.used_names:
            if n in scope:
                out.append((n, scope[n]))
            elif n in self.fn.__globals__:
                out.append((n, self.fn.__globals__[n]))
        return out


def _import_lines(jf) -> list[str]:
    mods = []
    froms = []
    for n, v in jf._names():
        if isinstance(v, types.ModuleType):
            path = module_path(v)
            if path is not None:
                mods.append(f"{path} as {n}")
        elif getattr(v, "__triton_builtin__", False):
            module = getattr(v, "__triton_module__", "triton.language")
            froms.append(f"from {module} import {v.__name__} as {n}")
    lines = ["import " + ", ".join(mods)] if mods else []
    return lines + froms


def _collect(jf, helpers, globs, seen):
    for n, v in jf._names():
        if isinstance(v, KernelInterface) and not isinstance(v, JITFunction):
            v = getattr(v, "base_fn", v)
        if isinstance(v, JITFunction):
            if id(v) in seen:
                continue
            seen.add(id(v))
            text, offset = v.source.with_imports(_import_lines(v))
            helpers.append((text, v.source.file_name, offset))
            _collect(v, helpers, globs, seen)
            continue
        value = _global_value(v)
        if value is not _NOT_CONST and n not in globs:
            globs[n] = value


_NOT_CONST = object()


def _global_value(v):
    if isinstance(v, constexpr):
        v = v.value
    if v is None or type(v) in (bool, int, float, str):
        return v
    if isinstance(v, _tl_dtype):
        return v.name
    return _NOT_CONST


def _constexpr_key(a):
    if isinstance(a, constexpr):
        a = a.value
    if isinstance(a, list):
        a = tuple(a)
    return ("c", a, type(a))  # the type keeps 1, 1.0 and True apart


def _constexpr_value(a, param, fn_name):
    v = _global_value(a)
    if v is _NOT_CONST:
        raise TypeError(f"{fn_name}: constexpr argument '{param}' must be None, bool, int, float, str or a "
                        f"tl.dtype, got {type(a).__name__}")
    return v


def _replace(seq, i, v):
    out = list(seq)
    out[i] = v
    return out


def _is_constexpr_annotation(ann, fn) -> bool:
    if ann is inspect.Parameter.empty:
        return False
    if ann is constexpr or isinstance(ann, constexpr):
        return True
    if isinstance(ann, str):  # `from __future__ import annotations`, or a quoted annotation
        return ann.split(".")[-1] == "constexpr"
    return getattr(ann, "__name__", None) == "constexpr"


def jit(fn=None, *, do_not_specialize=None, debug=None, noinline=None, repr=None, launch_metadata=None,
        do_not_specialize_on_alignment=None):
    """`@jit` or `@jit(do_not_specialize=[...])`: makes a kernel (or a helper callable from kernels)."""

    def decorator(f):
        return JITFunction(f, do_not_specialize=do_not_specialize, debug=debug, noinline=noinline)

    if fn is not None:
        return decorator(fn)
    return decorator
