"""bench/attention_bench.py, bench/newton_schulz_bench.py and bench/attention_ab.py: their --dry-run (mini_triton's
CPU interpreter on tiny bf16 shapes, plus the torch baseline) runs the kernel texts and the script logic end to end
and must match the float64 reference; without a GPU the real run prints {"skipped": ...} and exits 0."""

import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _cuda():
    try:
        import torch
        return torch.cuda.is_available()
    except ImportError:
        return False


def _run(script, *args):
    import mini_triton
    env = dict(os.environ)
    paths = [os.path.dirname(p) for p in mini_triton.__path__]
    env["PYTHONPATH"] = os.pathsep.join(paths + [env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, os.path.join(REPO, "bench", script), *args], env=env,
                          capture_output=True, text=True, timeout=900)


def _check(data, n_cases, libs):
    assert len(data["cases"]) == n_cases
    for case in data["cases"]:
        for lib in libs:
            e = case[lib]
            assert "error" not in e, (case["name"], lib, e)
            assert e["rel_err_ok"] and 0 < e["rel_err"] <= 1e-2, (case["name"], lib, e)
            assert e["ms"] > 0 and e["tflops"] > 0
        tried = case["mini_triton"]["configs"]
        assert len(tried) == 2 and all("ms" in v for v in tried.values()), tried


def test_attention_bench_dry_run(tmp_path):
    r = _run("attention_bench.py", "--dry-run", "--out", str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    data = json.loads((tmp_path / "attention_bf16_dry_run.json").read_text())
    _check(data, 3, ("mini_triton", "torch"))
    assert [c["causal"] for c in data["cases"]] == [False, True, True]
    # causal work is half of the full square
    assert data["cases"][1]["flops"] * 2 == data["cases"][0]["flops"]


def test_newton_schulz_bench_dry_run(tmp_path):
    r = _run("newton_schulz_bench.py", "--dry-run", "--out", str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    data = json.loads((tmp_path / "newton_schulz_bf16_dry_run.json").read_text())
    _check(data, 2, ("mini_triton", "torch"))
    assert [c["name"] for c in data["cases"]] == ["library", "tensor_core"]


@pytest.mark.skipif(_cuda(), reason="a GPU is present: the benches run for real")
@pytest.mark.parametrize("script,bench", [("attention_bench.py", "attention_bf16"),
                                          ("newton_schulz_bench.py", "newton_schulz_bf16")])
def test_bench_skips_without_gpu(tmp_path, script, bench):
    out = tmp_path / "results"
    r = _run(script, "--quick", "--out", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    data = json.loads(r.stdout)
    assert data["bench"] == bench and data["skipped"]
    assert not out.exists()


def test_scan_lookback_ab_dry_run(tmp_path):
    # bench/scan_lookback_ab.py (A/B of copies of kernels/scan.py): each variant checked against a float64 scan;
    # a copy whose carries are wrong (the chunk's own part dropped from the published state) fails the check.
    src = os.path.join(REPO, "python", "mini_triton", "kernels", "scan.py")
    with open(src) as f:
        text = f.read()
    published = "c + 1, _row(hs, rows, BLOCK_T - 1))"
    assert text.count(published) == 1
    broken = tmp_path / "scan_broken.py"
    broken.write_text(text.replace(published, "c + 1, _row(a_cum * h[None, :], rows, BLOCK_T - 1))"))
    r = _run("scan_lookback_ab.py", "--variant", f"a={src}", "--variant", f"b={src}", "--dtypes", "bf16",
             "--dry-run", "--rounds", "2", "--out", str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    lines = [json.loads(x) for x in (tmp_path / "scan_lookback_ab.jsonl").read_text().splitlines()]
    assert [(x["label"], x["case"]) for x in lines] == [
        (label, f"bf16 T{t} {d}") for t in (37, 64) for label in "ab" for d in ("fwd", "bwd")]
    for x in lines:
        assert 0 < x["rel_err"] <= 1e-2, x
        assert len(x["ms"]) == 2 and x["median_ms"] > 0 and x["gbps"] > 0 and x["device"] == "cpu", x
    r = _run("scan_lookback_ab.py", "--variant", f"broken={broken}", "--dtypes", "bf16", "--dry-run", "--rounds",
             "1", "--out", str(tmp_path))
    assert r.returncode == 1, r.stdout + r.stderr
    bad = [json.loads(x) for x in (tmp_path / "scan_lookback_ab.jsonl").read_text().splitlines()][len(lines):]
    assert max(x["rel_err"] for x in bad if x["case"].endswith("fwd")) > 0.1


def test_attention_ab_dry_run(tmp_path):
    # bench/attention_ab.py (per-config A/B timings): every case checked against float64, one JSON line each,
    # appended run after run.
    for label in ("a", "b"):
        r = _run("attention_ab.py", "--label", label, "--dry-run", "--cases", "D128,D64c", "--out", str(tmp_path))
        assert r.returncode == 0, r.stdout + r.stderr
    lines = [json.loads(x) for x in (tmp_path / "attention_ab.jsonl").read_text().splitlines()]
    assert [(x["label"], x["case"]) for x in lines] == [("a", "D128"), ("a", "D64c"), ("b", "D128"), ("b", "D64c")]
    for x in lines:
        assert 0 < x["rel_err"] <= 1e-2, x
        assert len(x["ms_rounds"]) == 3 and x["ms"] > 0 and x["tflops"] > 0, x
        assert x["device"] == "cpu" and x["compiler"] == "mini_triton"
    assert lines[1]["flops"] * 4 == lines[0]["flops"]  # D64c: half the head dim, causal: half the square
