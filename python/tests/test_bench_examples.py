"""Smoke tests: the examples pass their own checks and the launch-overhead bench prints its JSON."""

import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _env():
    import mini_triton
    env = dict(os.environ)
    paths = [os.path.dirname(p) for p in mini_triton.__path__]  # source tree and extension dir
    env["PYTHONPATH"] = os.pathsep.join(paths + [env.get("PYTHONPATH", "")])
    return env


@pytest.mark.parametrize("name", ["vector_add", "softmax", "dropout", "matmul", "attention", "mingru"])
def test_example(name):
    r = subprocess.run([sys.executable, os.path.join(REPO, "examples", f"{name}.py")], env=_env(),
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "PASS" in r.stdout and "FAIL" not in r.stdout


def test_launch_overhead_bench_prints_json():
    r = subprocess.run([sys.executable, os.path.join(REPO, "bench", "launch_overhead.py"), "--iters", "20"],
                       env=_env(), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["benchmark"] == "launch_overhead"
    assert all(v > 0 for v in data["us_per_launch"].values())
