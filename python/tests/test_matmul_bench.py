"""bench/matmul_bench.py without a GPU: prints {"skipped": ...} and exits 0, writing nothing."""

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


@pytest.mark.skipif(_cuda(), reason="a GPU is present: the bench runs for real (see bench/matmul_bench.py)")
def test_matmul_bench_skips_without_gpu(tmp_path):
    out = tmp_path / "results"
    r = subprocess.run([sys.executable, os.path.join(REPO, "bench", "matmul_bench.py"), "--out", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    data = json.loads(r.stdout)
    assert data["bench"] == "matmul_bf16"
    assert data["skipped"]
    assert not out.exists()
