"""@autotune / Config / @heuristics and mini_triton.testing."""

import numpy as np
import pytest

import mini_triton as triton
import mini_triton.language as tl


def _make_autotuned(configs, **kw):
    @triton.autotune(configs=configs, key=["n"], warmup=1, rep=2, **kw)
    @triton.jit
    def scale(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
        offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        mask = offs < n
        tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask) * 2.0, mask=mask)

    return scale


CONFIGS = [triton.Config({"BLOCK": 16}, num_warps=1), triton.Config({"BLOCK": 64}, num_warps=4),
           triton.Config({"BLOCK": 256}, num_warps=8, num_stages=2)]


def test_autotune_picks_a_config_and_caches_per_key(rng):
    scale = _make_autotuned(CONFIGS)
    grid = lambda meta: (triton.cdiv(meta["n"], meta["BLOCK"]),)
    for n in (100, 100, 1000):
        x = rng.standard_normal(n).astype(np.float32)
        out = np.zeros(n, dtype=np.float32)
        scale[grid](x, out, n)
        np.testing.assert_allclose(out, x * 2.0, rtol=1e-6)
        assert scale.best_config in CONFIGS
    assert len(scale.cache) == 2  # keys n=100 and n=1000
    assert sorted(k[0] for k in scale.cache) == [100, 1000]  # then the dtypes of the array arguments
    assert all(k[1:] == ("float32", "float32") for k in scale.cache)
    compiled = scale.base_fn.num_compilations
    x = rng.standard_normal(100).astype(np.float32)
    out = np.zeros(100, dtype=np.float32)
    scale[grid](x, out, 100)  # cached key: no benchmarking, no compilation
    assert scale.base_fn.num_compilations == compiled
    assert scale.configs_timings is not None and len(scale.configs_timings) == 3


def test_autotune_prints_choice(rng, capsys, monkeypatch):
    monkeypatch.setenv("TRITON_PRINT_AUTOTUNING", "1")
    scale = _make_autotuned(CONFIGS[:2])
    x = rng.standard_normal(50).astype(np.float32)
    out = np.zeros(50, dtype=np.float32)
    scale[lambda m: (triton.cdiv(50, m["BLOCK"]),)](x, out, 50)
    assert "best config selected" in capsys.readouterr().out


def test_autotune_reset_to_zero_and_restore_value(rng):
    @triton.autotune(configs=CONFIGS[:2], key=["n"], reset_to_zero=["acc_ptr"], restore_value=["x_ptr"], warmup=1,
                     rep=2)
    @triton.jit
    def accumulate(x_ptr, acc_ptr, n, BLOCK: tl.constexpr):
        offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        mask = offs < n
        x = tl.load(x_ptr + offs, mask=mask)
        tl.store(acc_ptr + offs, tl.load(acc_ptr + offs, mask=mask) + x, mask=mask)
        tl.store(x_ptr + offs, x + 1.0, mask=mask)  # in-place update: restored after benchmarking

    n = 90
    x = rng.standard_normal(n).astype(np.float32)
    x0 = x.copy()
    acc = np.zeros(n, dtype=np.float32)
    accumulate[lambda m: (triton.cdiv(n, m["BLOCK"]),)](x, acc, n)
    # benchmarking ran the kernel many times; the final run starts from restored x and zeroed acc
    np.testing.assert_allclose(acc, x0, rtol=1e-6)
    np.testing.assert_allclose(x, x0 + 1.0, rtol=1e-6)


def test_prune_configs_by(rng):
    seen = []

    def prune(configs, nargs, **kwargs):
        seen.append(len(configs))
        return [c for c in configs if c.kwargs["BLOCK"] <= 64]

    scale = _make_autotuned(CONFIGS, prune_configs_by={"early_config_prune": prune})
    x = rng.standard_normal(70).astype(np.float32)
    out = np.zeros(70, dtype=np.float32)
    scale[lambda m: (triton.cdiv(70, m["BLOCK"]),)](x, out, 70)
    assert seen == [3]
    assert scale.best_config.kwargs["BLOCK"] <= 64
    assert len(scale.configs_timings) == 2
    np.testing.assert_allclose(out, x * 2.0, rtol=1e-6)


def test_heuristics(rng):
    @triton.heuristics({"BLOCK": lambda args: triton.next_power_of_2(args["n"])})
    @triton.jit
    def row_sum(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
        offs = tl.arange(0, BLOCK)
        x = tl.load(x_ptr + offs, mask=offs < n, other=0.0)
        tl.store(out_ptr, tl.sum(x, axis=0))

    for n in (5, 40):
        x = rng.standard_normal(n).astype(np.float32)
        out = np.zeros(1, dtype=np.float32)
        row_sum[(1,)](x, out, n)
        np.testing.assert_allclose(out[0], x.astype(np.float64).sum(), rtol=1e-5)


def test_config_api():
    c = triton.Config({"BLOCK": 32}, num_warps=2, num_stages=4)
    assert c.kwargs == {"BLOCK": 32} and c.num_warps == 2 and c.num_stages == 4
    assert c.all_kwargs() == {"BLOCK": 32, "num_warps": 2, "num_stages": 4}
    assert "BLOCK: 32" in str(c)


def test_do_bench_and_assert_close():
    calls = []
    ms = triton.testing.do_bench(lambda: calls.append(1), warmup=1, rep=5)
    assert ms >= 0 and len(calls) > 2
    q = triton.testing.do_bench(lambda: None, warmup=1, rep=2, quantiles=[0.5, 0.2, 0.8])
    assert len(q) == 3 and q[1] <= q[0] <= q[2]
    med = triton.testing.do_bench(lambda: None, warmup=1, rep=2, return_mode="median")
    assert med >= 0
    triton.testing.assert_close(np.ones(3), np.ones(3) + 1e-4)
    with pytest.raises(AssertionError):
        triton.testing.assert_close(np.ones(3), np.ones(3) * 2, atol=1e-3, rtol=0)


def test_autotune_over_heuristics_with_config_pre_hook(rng):
    hooked = []

    @triton.autotune(configs=[triton.Config({"SCALE": 2.0}, pre_hook=lambda nargs: hooked.append(nargs["n"])),
                              triton.Config({"SCALE": 3.0})], key=["n"], warmup=1, rep=2)
    @triton.heuristics({"BLOCK": lambda args: triton.next_power_of_2(args["n"])})
    @triton.jit
    def scale(x_ptr, out_ptr, n, SCALE: tl.constexpr, BLOCK: tl.constexpr):
        offs = tl.arange(0, BLOCK)
        mask = offs < n
        tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask) * SCALE, mask=mask)

    n = 37
    x = rng.standard_normal(n).astype(np.float32)
    out = np.zeros(n, dtype=np.float32)
    scale[(1,)](x, out, n)
    best = scale.best_config.kwargs["SCALE"]
    np.testing.assert_allclose(out, x * best, rtol=1e-6)
    assert hooked and all(v == n for v in hooked)  # the config's pre_hook saw the arguments
    assert scale.base_fn.num_compilations == 2  # one per config; BLOCK came from the heuristic
