"""The scan benchmarks (bench/scan_bench.py, scan_precision.py, mingru_bench.py) run end to end in their CPU
--smoke mode at the smallest sizes, in this process (no second torch import), and write their JSON."""

import importlib.util
import json
import os
import sys

import pytest

pytest.importorskip("torch")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(REPO, "bench")


def run_main(name, argv, monkeypatch):
    monkeypatch.syspath_prepend(BENCH)
    spec = importlib.util.spec_from_file_location(f"_smoke_{name}", os.path.join(BENCH, name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.setattr(sys, "argv", [name] + argv)
    return mod.main()


@pytest.mark.parametrize("name,argv,key", [
    ("scan_bench", ["--tmax", "16", "--dtypes", "bf16", "--no-tune"], "rows"),
    ("scan_precision", ["--tmax", "16", "--dtypes", "fp16"], "rows"),
    ("mingru_bench", ["--tmax", "16", "--dtypes", "fp32"], "rows"),
])
def test_bench_smoke(name, argv, key, tmp_path, monkeypatch):
    assert run_main(name, ["--smoke", "--out", str(tmp_path)] + argv, monkeypatch) == 0
    with open(tmp_path / f"{name}_smoke.json") as f:
        data = json.load(f)
    assert data["device_type"] == "cpu" and data["date"] and data["versions"]["torch"]
    assert data[key] and not data["errors"]
    if name == "scan_bench":
        impls = {(r["impl"], r["mode"], r["direction"]) for r in data["rows"]}
        assert ("mini_triton", "chunked", "bwd") in impls and ("torch", "reference", "fwd") in impls
        assert all(r["gbps"] > 0 for r in data["rows"])
    if name == "scan_precision":  # fp16 storage: errors of the order of fp16 rounding, and not zero
        assert all(0 < r["max_abs_err"] < 0.05 for r in data["rows"])
    if name == "mingru_bench":  # every implementation computes the same states
        assert all(r["max_abs_diff_vs_fp64"] < 1e-4 for r in data["rows"])
