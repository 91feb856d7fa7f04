"""Triton's language names as Python objects.

The kernel body is compiled by the C++ frontend from its source text; nothing here runs inside a kernel.
These objects exist so that kernel modules import and annotate as they do with Triton
(`tl.constexpr` annotations, `tl.float16` passed as an argument, `BLOCK: tl.constexpr = 128`), and so
that calling a builtin outside a @jit function fails with a clear message.
"""

from __future__ import annotations


class constexpr:
    """A compile-time value; also the annotation that makes a kernel parameter compile-time."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value.value if isinstance(value, constexpr) else value

    def __repr__(self):
        return f"constexpr[{self.value!r}]"

    def __index__(self):
        return self.value.__index__()

    def __int__(self):
        return int(self.value)

    def __float__(self):
        return float(self.value)

    def __bool__(self):
        return bool(self.value)

    def __eq__(self, other):
        return self.value == (other.value if isinstance(other, constexpr) else other)

    def __hash__(self):
        return hash(self.value)

    def __call__(self, *args, **kwargs):
        return self.value(*args, **kwargs)


class dtype:
    """A scalar element type (`tl.float32`, `tl.int8`, ...)."""

    SINT_TYPES = ("int8", "int16", "int32", "int64")
    UINT_TYPES = ("int1", "uint8", "uint16", "uint32", "uint64")
    FP_TYPES = ("fp8e4nv", "fp8e5", "fp16", "bf16", "fp32", "fp64")
    _BITS = {"int1": 1, "int8": 8, "int16": 16, "int32": 32, "int64": 64, "uint8": 8, "uint16": 16,
             "uint32": 32, "uint64": 64, "fp8e4nv": 8, "fp8e5": 8, "fp16": 16, "bf16": 16, "fp32": 32, "fp64": 64}
    _IR = {"int1": "i1", "int8": "i8", "int16": "i16", "int32": "i32", "int64": "i64", "uint8": "u8",
           "uint16": "u16", "uint32": "u32", "uint64": "u64", "fp8e4nv": "f8e4m3", "fp8e5": "f8e5m2",
           "fp16": "f16", "bf16": "bf16", "fp32": "f32", "fp64": "f64"}

    def __init__(self, name: str):
        if name not in self._BITS:
            raise ValueError(f"unknown dtype {name!r}")
        self.name = name
        self.primitive_bitwidth = self._BITS[name]
        self.int_bitwidth = self.primitive_bitwidth if not self.is_floating() else 0
        self.int_signedness = "signed" if name in self.SINT_TYPES else "unsigned"
        if name == "fp16":
            self.fp_mantissa_width, self.exponent_bias = 10, 15
        elif name == "bf16":
            self.fp_mantissa_width, self.exponent_bias = 7, 127
        elif name == "fp32":
            self.fp_mantissa_width, self.exponent_bias = 23, 127
        elif name == "fp64":
            self.fp_mantissa_width, self.exponent_bias = 52, 1023
        elif name == "fp8e4nv":
            self.fp_mantissa_width, self.exponent_bias = 3, 7
        elif name == "fp8e5":
            self.fp_mantissa_width, self.exponent_bias = 2, 15

    # Predicates, as in Triton.
    def is_fp16(self): return self.name == "fp16"
    def is_bf16(self): return self.name == "bf16"
    def is_fp8(self): return self.name in ("fp8e4nv", "fp8e5")
    def is_fp8e4nv(self): return self.name == "fp8e4nv"
    def is_fp8e5(self): return self.name == "fp8e5"
    def is_fp32(self): return self.name == "fp32"
    def is_fp64(self): return self.name == "fp64"
    def is_int1(self): return self.name == "int1"
    def is_int8(self): return self.name == "int8"
    def is_int16(self): return self.name == "int16"
    def is_int32(self): return self.name == "int32"
    def is_int64(self): return self.name == "int64"
    def is_uint8(self): return self.name == "uint8"
    def is_uint16(self): return self.name == "uint16"
    def is_uint32(self): return self.name == "uint32"
    def is_uint64(self): return self.name == "uint64"
    def is_floating(self): return self.name in self.FP_TYPES
    def is_standard_floating(self): return self.name in ("fp16", "fp32", "fp64")
    def is_int_signed(self): return self.name in self.SINT_TYPES
    def is_int_unsigned(self): return self.name in self.UINT_TYPES
    def is_int(self): return not self.is_floating()
    def is_bool(self): return self.name == "int1"
    def is_ptr(self): return False
    def is_block(self): return False
    def is_void(self): return False

    @property
    def scalar(self):
        return self

    @property
    def ir_name(self) -> str:
        """The C++ IR spelling (f32, i32, bf16, ...)."""
        return self._IR[self.name]

    def to_ir(self, builder=None):
        raise RuntimeError("mini_triton: dtype.to_ir is not available (the C++ frontend builds IR)")

    def __eq__(self, other):
        return isinstance(other, dtype) and not isinstance(other, pointer_type) and self.name == other.name

    def __hash__(self):
        return hash(("dtype", self.name))

    def __str__(self):
        return self.name

    def __repr__(self):
        return f"triton.language.{self.codegen_name()}"

    def codegen_name(self):
        return {"fp16": "float16", "bf16": "bfloat16", "fp32": "float32", "fp64": "float64",
                "fp8e4nv": "float8e4nv", "fp8e5": "float8e5", "int1": "int1"}.get(self.name, self.name)


class pointer_type(dtype):
    """`tl.pointer_type(tl.float32)`: a pointer to an element type."""

    def __init__(self, element_ty: dtype, address_space: int = 1, const: bool = False):
        self.element_ty = element_ty
        self.address_space = address_space
        self.const = const
        self.name = f"pointer<{element_ty}>"
        self.primitive_bitwidth = 64

    def is_ptr(self): return True
    def is_floating(self): return False
    def is_int(self): return False

    def __eq__(self, other):
        return isinstance(other, pointer_type) and self.element_ty == other.element_ty

    def __hash__(self):
        return hash(("ptr", self.element_ty.name))

    def __repr__(self):
        return f"pointer_type({self.element_ty!r})"


class block_type(dtype):
    """`tl.block_type(tl.float32, [128])`: a tile type."""

    def __init__(self, element_ty: dtype, shape):
        self.element_ty = element_ty
        self.shape = tuple(int(s) for s in shape)
        self.name = f"<{self.shape}, {element_ty}>"
        self.primitive_bitwidth = element_ty.primitive_bitwidth

    def is_block(self): return True

    @property
    def scalar(self):
        return self.element_ty

    def __eq__(self, other):
        return isinstance(other, block_type) and (self.element_ty, self.shape) == (other.element_ty, other.shape)

    def __hash__(self):
        return hash(("block", self.element_ty.name, self.shape))


int1 = dtype("int1")
int8 = dtype("int8")
int16 = dtype("int16")
int32 = dtype("int32")
int64 = dtype("int64")
uint8 = dtype("uint8")
uint16 = dtype("uint16")
uint32 = dtype("uint32")
uint64 = dtype("uint64")
float16 = dtype("fp16")
bfloat16 = dtype("bf16")
float32 = dtype("fp32")
float64 = dtype("fp64")
float8e4nv = dtype("fp8e4nv")
float8e5 = dtype("fp8e5")
pi32_t = pointer_type(int32)

TRITON_MAX_TENSOR_NUMEL = 1048576  # Triton's bound on the elements of one tile


class tensor:
    """Stands for a tile in annotations (`x: tl.tensor`); tiles exist only inside compiled kernels."""

    def __init__(self, *args, **kwargs):
        raise RuntimeError("mini_triton: tl.tensor values exist only inside a @jit function")


class tensor_descriptor:
    """Stands for a device-side tensor descriptor (`isinstance(d, tl.tensor_descriptor)` inside a kernel)."""

    def __init__(self, *args, **kwargs):
        raise RuntimeError("mini_triton: tl.tensor_descriptor values exist only inside a @jit function; "
                           "use triton.tools.tensor_descriptor.TensorDescriptor on the host")


def _builtin(name: str):
    def stub(*args, **kwargs):
        raise RuntimeError(f"tl.{name} can only be called inside a @jit function")

    stub.__name__ = name
    stub.__qualname__ = name
    stub.__doc__ = f"Triton builtin `{name}`: compiled by the C++ frontend; callable only inside @jit."
    stub.__triton_builtin__ = True
    return stub


# The builtins a kernel may call as tl.<name>. Which of them the C++ frontend implements is its business;
# the names exist here so that kernel modules import and so that a call outside @jit is a clear error.
BUILTIN_NAMES = (
    # programming model
    "program_id", "num_programs", "arange", "full", "zeros", "zeros_like", "ones", "ones_like", "cast",
    "static_range", "range", "static_assert", "static_print", "device_print", "device_assert",
    "multiple_of", "max_contiguous", "max_constancy", "debug_barrier", "assume",
    # memory
    "load", "store", "make_block_ptr", "advance", "atomic_add", "atomic_max", "atomic_min", "atomic_and",
    "atomic_or", "atomic_xor", "atomic_xchg", "atomic_cas",
    # shape
    "broadcast", "broadcast_to", "reshape", "view", "expand_dims", "trans", "permute", "ravel", "split",
    "join", "cat", "interleave", "flip",
    # math
    "dot", "where", "maximum", "minimum", "clamp", "abs", "exp", "exp2", "log", "log2", "sqrt", "sqrt_rn",
    "rsqrt", "sin", "cos", "tanh", "sigmoid", "softmax", "erf", "floor", "ceil", "fma", "fdiv", "div_rn",
    "umulhi", "cdiv", "log1p", "pow",
    # reductions and scans
    "sum", "max", "min", "argmax", "argmin", "reduce", "xor_sum", "associative_scan", "cumsum", "cumprod",
    "histogram", "sort", "topk", "gather", "make_tensor_descriptor", "load_tensor_descriptor",
    "store_tensor_descriptor",
    # random
    "rand", "rand4x", "randn", "randn4x", "randint", "randint4x", "philox", "uint_to_uniform_float",
    "pair_uniform_to_normal",
    # misc
    "inline_asm_elementwise", "map_elementwise", "swizzle2d",
)


class PropagateNan:
    """tl.minimum / tl.maximum / tl.clamp's propagate_nan values (Triton's enum)."""
    NONE = 0
    ALL = 0xFFFF

for _n in BUILTIN_NAMES:
    globals()[_n] = _builtin(_n)
del _n
