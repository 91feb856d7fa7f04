"""The @jit front door: caching, specialisation, grids, argument checking and error reporting."""

import os
import textwrap

import numpy as np
import pytest

import mini_triton as triton
import mini_triton.language as tl
from kernels import add_kernel, fill_kernel, grid_2d_kernel, oob_kernel, round_trip_kernel, row_broadcast_load_kernel


def _add(n, block, rng, **kw):
    x = rng.standard_normal(n).astype(np.float32)
    y = rng.standard_normal(n).astype(np.float32)
    out = np.zeros(n, dtype=np.float32)
    add_kernel[(triton.cdiv(n, block),)](x, y, out, n, BLOCK_SIZE=block, **kw)
    np.testing.assert_allclose(out, x + y, rtol=1e-6)


def test_cache_reuse_per_constexpr_and_new_compile_for_new_value(rng):
    _add(100, 64, rng)  # warm the cache for this key
    before_py, before_cpp = add_kernel.num_compilations, triton.num_compilations()
    for n in (100, 101, 99):  # same specialisation: n is neither 1 nor a multiple of 16 each time
        _add(n, 64, rng)
    assert add_kernel.num_compilations == before_py
    assert triton.num_compilations() == before_cpp
    _add(100, 128, rng)  # a new BLOCK_SIZE value compiles once
    assert add_kernel.num_compilations == before_py + 1
    _add(100, 128, rng)
    assert add_kernel.num_compilations == before_py + 1


def test_integer_specialisations_compile_separately(rng):
    _add(33, 32, rng)
    base = add_kernel.num_compilations
    _add(48, 32, rng)  # n % 16 == 0: another specialisation
    assert add_kernel.num_compilations == base + 1
    _add(1, 32, rng)  # n == 1: another one
    assert add_kernel.num_compilations == base + 2
    _add(64, 32, rng)  # % 16 again: cached
    assert add_kernel.num_compilations == base + 2


def test_do_not_specialize(rng):
    @triton.jit(do_not_specialize=["n"])
    def fill(out_ptr, n, value, BLOCK: tl.constexpr):
        offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        tl.store(out_ptr + offs, tl.zeros((BLOCK,), dtype=tl.float32) + value, mask=offs < n)

    for n in (1, 16, 17, 32):
        out = np.zeros(40, dtype=np.float32)
        fill[(triton.cdiv(n, 16),)](out, n, 2.5, BLOCK=16)
        assert (out[:n] == 2.5).all() and (out[n:] == 0).all()
    assert fill.num_compilations == 1
    assert fill.do_not_specialize == ["n"]


@pytest.mark.parametrize("grid_kind", ["int", "tuple1", "tuple2", "lambda"])
def test_grid_forms(grid_kind):
    rows, cols = (1, 13) if grid_kind in ("int", "tuple1") else (5, 13)
    grid = {"int": cols, "tuple1": (cols,), "tuple2": (cols, rows),
            "lambda": lambda meta: (meta["n_cols"], rows)}[grid_kind]
    out = np.full((rows, cols), -1, dtype=np.int32)
    grid_2d_kernel[grid](out, cols)
    r, c = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    np.testing.assert_array_equal(out, r * 1000 + c)


def test_grid_lambda_sees_constexprs():
    seen = {}

    def grid(meta):
        seen.update(meta)
        return (triton.cdiv(meta["n"], meta["BLOCK"]),)

    out = np.zeros(50, dtype=np.float32)
    fill_kernel[grid](out, 50, 1.0, BLOCK=16)
    assert seen["BLOCK"] == 16 and seen["n"] == 50
    assert (out == 1.0).all()


def test_keyword_arguments_and_launch_options(rng):
    n = 70
    x = rng.standard_normal(n).astype(np.float32)
    y = rng.standard_normal(n).astype(np.float32)
    out = np.zeros(n, dtype=np.float32)
    add_kernel[(triton.cdiv(n, 32),)](x_ptr=x, y_ptr=y, out_ptr=out, n_elements=n, BLOCK_SIZE=32, num_warps=2,
                                      num_stages=1)
    np.testing.assert_allclose(out, x + y, rtol=1e-6)


def test_numpy_integer_scalar_arguments(rng):
    n = np.int64(45)
    out = np.zeros(45, dtype=np.float32)
    fill_kernel[(3,)](out, n, np.float32(0.5), BLOCK=16)
    assert (out == 0.5).all()


def test_calling_a_jit_function_directly_is_a_type_error():
    with pytest.raises(TypeError, match="add_kernel"):
        add_kernel(1, 2, 3, 4)


def test_missing_argument_names_the_parameter():
    x = np.zeros(4, dtype=np.float32)
    with pytest.raises(TypeError, match="n_elements"):
        add_kernel[(1,)](x, x, x, BLOCK_SIZE=4)
    with pytest.raises(TypeError, match="BLOCK_SIZE"):
        add_kernel[(1,)](x, x, x, 4)


def test_too_many_and_unknown_arguments():
    x = np.zeros(4, dtype=np.float32)
    with pytest.raises(TypeError, match="takes 5 arguments"):
        add_kernel[(1,)](x, x, x, 4, 4, 4)
    with pytest.raises(TypeError, match="bogus"):
        add_kernel[(1,)](x, x, x, 4, BLOCK_SIZE=4, bogus=1)


def test_unsupported_argument_type_names_the_parameter():
    x = np.zeros(4, dtype=np.float32)
    with pytest.raises(TypeError, match="'y_ptr'"):
        add_kernel[(1,)](x, [1.0, 2.0], x, 4, BLOCK_SIZE=4)
    with pytest.raises(TypeError, match="'x_ptr'.*complex"):
        add_kernel[(1,)](np.zeros(4, dtype=np.complex64), x, x, 4, BLOCK_SIZE=4)


def test_out_of_bounds_access_is_a_runtime_error():
    x = np.zeros(10, dtype=np.float32)
    with pytest.raises(RuntimeError) as info:
        oob_kernel[(1,)](x, 10, BLOCK=16)
    assert isinstance(info.value, triton.LaunchError)
    assert "kernels.py" in str(info.value)
    assert (x == 0).all()  # a failed store writes nothing


def _write_module(tmp_path, name, body):
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(body))
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod, str(path)


def test_type_error_in_kernel_points_into_the_users_file(tmp_path):
    mod, path = _write_module(tmp_path, "bad_type_kernel", """\
        import mini_triton as triton
        import mini_triton.language as tl

        # a comment line


        @triton.jit
        def bad(x_ptr, BLOCK: tl.constexpr):
            offs = tl.arange(0, BLOCK)
            x = tl.load(x_ptr + offs)
            y = x + tl.arange(0, BLOCK * 2)
            tl.store(x_ptr + offs, y)
        """)
    x = np.zeros(16, dtype=np.float32)
    with pytest.raises(triton.CompilationError) as info:
        mod.bad[(1,)](x, BLOCK=16)
    msg = str(info.value)
    assert path in msg
    assert f"{path}:11:" in msg, msg  # line 11 of the file: `y = x + tl.arange(...)`
    assert "^" in msg
    assert "y = x + tl.arange(0, BLOCK * 2)" in msg


def test_syntax_error_in_kernel_points_into_the_users_file(tmp_path):
    # Python accepts `x = 1 if` nowhere, so use a construct Python parses but the kernel language
    # rejects; a genuine Python syntax error fails at import, before mini_triton sees it.
    mod, path = _write_module(tmp_path, "bad_syntax_kernel", """\
        import mini_triton as triton
        import mini_triton.language as tl


        @triton.jit
        def bad(x_ptr):
            tl.store(x_ptr, 1.0)
            f = lambda v: v + 1
            tl.store(x_ptr, f(2.0))
        """)
    x = np.zeros(4, dtype=np.float32)
    with pytest.raises(triton.CompilationError) as info:
        mod.bad[(1,)](x)
    msg = str(info.value)
    assert f"{path}:8:" in msg, msg
    assert "^" in msg


def test_places_named_in_messages_are_the_users_file_lines(tmp_path):
    # A message that names a second place (the loop a variable was defined in, the if it was defined in
    # one branch of) numbers it as the file does, like the error's own location.
    mod, path = _write_module(tmp_path, "second_place_kernel", """\
        import mini_triton as triton
        import mini_triton.language as tl


        @triton.jit
        def in_loop(x_ptr, n):
            for i in range(n):
                t = i
            tl.store(x_ptr, t)


        @triton.jit
        def in_branch(x_ptr, n):
            if n > 0:
                y = 1
            tl.store(x_ptr, y)
        """)
    x = np.zeros(1, dtype=np.float32)
    with pytest.raises(triton.CompilationError) as info:
        mod.in_loop[(1,)](x, 3)
    assert f"{path}:9:" in str(info.value) and "defined inside the loop at 7:5" in str(info.value), info.value
    with pytest.raises(triton.CompilationError) as info:
        mod.in_branch[(1,)](x, 3)
    assert f"{path}:16:" in str(info.value) and "one branch of the if at 14:5" in str(info.value), info.value


def test_undefined_name_is_a_compilation_error(tmp_path):
    mod, path = _write_module(tmp_path, "undefined_name_kernel", """\
        import mini_triton as triton
        import mini_triton.language as tl

        @triton.jit
        def bad(x_ptr):
            tl.store(x_ptr, no_such_name)
        """)
    with pytest.raises(triton.CompilationError, match="no_such_name") as info:
        mod.bad[(1,)](np.zeros(1, dtype=np.float32))
    assert f"{path}:6:" in str(info.value)


def test_language_alias_and_globals_from_closure():
    import mini_triton.language as language  # any alias works

    FACTOR = 3  # closure constant
    BIAS = tl.constexpr(0.5)

    @triton.jit
    def k(out_ptr, n, BLOCK: language.constexpr):
        offs = language.program_id(0) * BLOCK + language.arange(0, BLOCK)
        v = offs.to(language.float32) * FACTOR + BIAS
        language.store(out_ptr + offs, v, mask=offs < n)

    out = np.zeros(20, dtype=np.float32)
    k[(2,)](out, 20, BLOCK=16)
    np.testing.assert_allclose(out, np.arange(20) * 3 + 0.5)


def test_builtins_outside_jit_raise():
    with pytest.raises(RuntimeError, match="inside a @jit function"):
        tl.program_id(0)
    with pytest.raises(RuntimeError, match="inside a @jit function"):
        tl.math.exp(1.0)


def test_language_dtypes():
    assert tl.float16.primitive_bitwidth == 16 and tl.float16.is_floating()
    assert tl.bfloat16.is_bf16() and tl.bfloat16.primitive_bitwidth == 16
    assert tl.int8.is_int_signed() and not tl.uint8.is_int_signed() and tl.uint64.is_int_unsigned()
    assert tl.int64.primitive_bitwidth == 64 and not tl.int64.is_floating()
    assert tl.float32 == tl.float32 and tl.float32 != tl.float64
    assert tl.pointer_type(tl.float32).is_ptr()
    assert tl.constexpr(4) == 4 and tl.constexpr(tl.constexpr(5)).value == 5


def test_helpers():
    assert triton.cdiv(10, 3) == 4 and triton.cdiv(9, 3) == 3
    assert [triton.next_power_of_2(v) for v in (0, 1, 2, 3, 17, 1024, 1025)] == [1, 1, 2, 4, 32, 1024, 2048]


def test_dtype_argument_is_a_compile_time_value(rng):
    @triton.jit
    def cast_copy(x_ptr, out_ptr, n, DT: tl.constexpr, BLOCK: tl.constexpr):
        offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        mask = offs < n
        tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask).to(DT), mask=mask)

    x = (rng.standard_normal(40) * 10).astype(np.float32)
    out = np.zeros(40, dtype=np.int32)
    cast_copy[(3,)](x, out, 40, DT=tl.int32, BLOCK=16)
    np.testing.assert_array_equal(out, x.astype(np.int32))
    out16 = np.zeros(40, dtype=np.float16)
    cast_copy[(3,)](x, out16, 40, DT=tl.float16, BLOCK=16)
    np.testing.assert_allclose(out16, x.astype(np.float16), rtol=0)
    assert cast_copy.num_compilations == 2


def test_warmup_compiles_without_running():
    out = np.zeros(16, dtype=np.float32)
    k = fill_kernel.warmup(out, 16, 3.0, BLOCK=16, grid=(1,))
    assert (out == 0).all()
    assert "fill_kernel" in k.name


def test_fast_and_python_argument_paths_share_compiled_kernels(rng):
    """Owning arrays take the C++ fast path, views and NumPy scalars the Python one: same kernel."""
    n = 64
    base = rng.standard_normal(2 * n).astype(np.float32)
    x = base[:n].copy()
    view = base[n:]  # a view (not owning its data), 16-byte aligned at offset 64 floats
    out = np.zeros(n, dtype=np.float32)
    add_kernel[(2,)](x, x, out, n, BLOCK_SIZE=32)
    compiled = add_kernel.num_compilations
    add_kernel[(2,)](view, x, out, np.int32(n), BLOCK_SIZE=32)
    np.testing.assert_allclose(out, view + x, rtol=1e-6)
    add_kernel[(2,)](x, view, out, n, BLOCK_SIZE=32)
    np.testing.assert_allclose(out, x + view, rtol=1e-6)
    assert add_kernel.num_compilations == compiled


def test_triton_api_names_exist():
    for name in ("jit", "autotune", "heuristics", "Config", "cdiv", "next_power_of_2", "constexpr", "language",
                 "testing", "CompilationError", "OutOfResources", "JITFunction", "KernelInterface", "runtime",
                 "compiler", "__version__"):
        assert hasattr(triton, name), name
    for name in ("do_bench", "do_bench_cudagraph", "assert_close", "perf_report", "Benchmark"):
        assert hasattr(triton.testing, name), name
    for name in ("program_id", "num_programs", "arange", "load", "store", "dot", "sum", "max", "where", "exp",
                 "associative_scan", "reduce", "static_range", "zeros", "full", "cdiv", "sigmoid", "atomic_add"):
        assert callable(getattr(tl, name)), name
    from mini_triton.compiler.errors import CompilationError
    from mini_triton.runtime import Autotuner, JITFunction  # noqa: F401
    assert CompilationError is triton.CompilationError
    assert issubclass(triton.LaunchError, RuntimeError)


def test_compiled_kernel_exposes_its_ir():
    out = np.zeros(16, dtype=np.float32)
    k = fill_kernel[(1,)](out, 16, 2.0, BLOCK=16)
    assert (out == 2.0).all()
    assert "fill_kernel" in k.ir and "store" in k.ir
    assert k.asm["ttir"] == k.ir
    assert list(k.runtime_params) == ["out_ptr", "n", "value"]


def test_dtype_constexprs_take_the_fast_path_with_one_key_per_dtype(rng):
    # A dtype constexpr (ACC=tl.float32 in the scan kernels) is classified in C++ (before, every launch of
    # such a kernel took the Python path), keyed by its value: launches with another dtype get their own
    # kernel, and equal dtypes share one.
    import sys
    from mini_triton import _ext
    _jit = sys.modules["mini_triton.jit"]  # the module (mini_triton.jit is also the decorator)
    x = rng.standard_normal(40).astype(np.float32)
    _jit._ir_dtype(x.dtype, "x", "k")  # fills the pointer key strings of f32
    keys = {}
    for dt in (tl.float32, tl.float16, tl.bfloat16, tl.float32):
        got = _ext._C.classify((x, x, 40, dt, 64), round_trip_kernel._kinds, _jit._ptr_keys, _jit._ndarray, None)
        assert got is not None, dt
        keys.setdefault(dt.name, got[0])
        assert got[0] == keys[dt.name]
    assert len(set(keys.values())) == 3
    for dt, ref in ((tl.float16, x.astype(np.float16)), (tl.float32, x), (tl.float16, x.astype(np.float16))):
        out = np.full(40, np.nan, np.float32)
        round_trip_kernel[(1,)](x, out, 40, DT=dt, BLOCK=64)
        np.testing.assert_array_equal(out, ref.astype(np.float32))


def test_num_warps_must_be_a_power_of_two(rng):
    # As in Triton: tiles are split over warps in powers of two; 3, 0 or 64 warps are a clear error.
    x = rng.standard_normal(16).astype(np.float32)
    out = np.zeros(16, np.float32)
    for w in (3, 0, 64):
        with pytest.raises(triton.CompilationError, match=rf"add_kernel: num_warps must be a power of 2 from 1 to "
                                                          rf"32, got {w}"):
            add_kernel[(1,)](x, x, out, 16, BLOCK_SIZE=16, num_warps=w)
    add_kernel[(1,)](x, x, out, 16, BLOCK_SIZE=16, num_warps=32)
    np.testing.assert_array_equal(out, x + x)


def test_load_broadcasts_pointers_to_the_mask_as_triton_does(rng):
    # tl.load: a tensor of pointers and its mask / other broadcast to a common shape (Triton 3's rule; tl.store
    # broadcasts value and mask to the pointer's shape only, tested in LowerErrors).
    x = rng.standard_normal(8).astype(np.float32)
    out = np.full(64, np.nan, np.float32)
    row_broadcast_load_kernel[(1,)](x, out, 8, BLOCK=8)
    i, j = np.meshgrid(np.arange(8), np.arange(8), indexing="ij")
    np.testing.assert_array_equal(out.reshape(8, 8), np.where(i + j < 8, x[j], -1.0).astype(np.float32))


@triton.jit
def persistent_rows(out_ptr, in_ptr, n_rows, n_cols, BLOCK: tl.constexpr, num_stages: tl.constexpr):
    # Triton's softmax tutorial: `num_stages` is both a launch option and a parameter of the kernel.
    for row in tl.range(tl.program_id(0), n_rows, tl.num_programs(0), num_stages=num_stages):
        offs = tl.arange(0, BLOCK)
        x = tl.load(in_ptr + row * n_cols + offs, mask=offs < n_cols, other=0.0)
        tl.store(out_ptr + row * n_cols + offs, x * num_stages, mask=offs < n_cols)


def test_launch_option_that_is_also_a_parameter(rng):
    x = rng.standard_normal((9, 20)).astype(np.float32)
    out = np.full_like(x, np.nan)
    k = persistent_rows.warmup(out, x, 9, 20, BLOCK=32, num_stages=2, num_warps=2, grid=(1,))
    k._init_handles()
    assert (k.metadata.num_stages, k.metadata.num_warps, k.metadata.target) == (2, 2, "cpu")
    assert (k.n_regs, k.n_spills, k.metadata.shared) == (0, 0, 0)  # the interpreter has none of these
    assert np.isnan(out).all()  # warmup compiles, it does not run
    persistent_rows[(4,)](out, x, 9, 20, BLOCK=32, num_stages=3)
    np.testing.assert_array_equal(out, x * 3)


def test_runtime_driver_on_the_cpu():
    torch = pytest.importorskip("torch")
    from mini_triton.runtime import driver
    d = driver.active
    if d.backend == "cuda":
        pytest.skip("a GPU is usable: test_gpu_runtime_driver")
    assert d.get_active_torch_device() == torch.device("cpu")
    assert d.get_current_target() == ("cpu", 0, 32)
    props = d.utils.get_device_properties(d.get_current_device())
    assert props["multiprocessor_count"] >= 1 and props["warpSize"] == 32
    assert d.get_benchmarker() is triton.testing.do_bench


@pytest.mark.gpu
def test_gpu_runtime_driver():
    torch = pytest.importorskip("torch")
    from mini_triton.runtime import driver
    d = driver.active
    assert d.get_active_torch_device() == torch.device("cuda", torch.cuda.current_device())
    major, minor = torch.cuda.get_device_capability()
    assert d.get_current_target() == ("cuda", major * 10 + minor, 32)
    props = d.utils.get_device_properties(0)
    assert props["multiprocessor_count"] == torch.cuda.get_device_properties(0).multi_processor_count
    assert props["max_shared_mem"] > 48 * 1024 and props["max_num_regs"] == 65536
    x = torch.randn(9, 20, device="cuda")
    out = torch.full_like(x, float("nan"))
    k = persistent_rows.warmup(out, x, 9, 20, BLOCK=32, num_stages=2, num_warps=2, grid=(1,))
    assert 0 < k.n_regs <= 255 and k.n_spills >= 0 and k.metadata.target == "cuda"
    persistent_rows[(4,)](out, x, 9, 20, BLOCK=32, num_stages=2)
    torch.testing.assert_close(out, x * 2)
