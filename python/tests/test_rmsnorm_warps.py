"""RMSNorm's launch configuration: the num_warps rule of mini_triton.ops.llm and the bench/rmsnorm_warps.py
sweep (its CPU dry run: every configuration matches the float64 reference)."""

import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_row_warps_rule():
    from mini_triton.ops import llm
    # One warp per 256 columns, 1 to 8: a 4096-wide row is 16 values per thread, not 32.
    assert [llm._row_warps(n) for n in (16, 256, 512, 1024, 2048, 4096, 8192, 65536)] == [1, 1, 2, 4, 8, 8, 8, 8]


def test_rmsnorm_warps_dry_run(tmp_path):
    import mini_triton
    env = dict(os.environ)
    paths = [os.path.dirname(p) for p in mini_triton.__path__]
    env["PYTHONPATH"] = os.pathsep.join(paths + [env.get("PYTHONPATH", "")])
    r = subprocess.run([sys.executable, os.path.join(REPO, "bench", "rmsnorm_warps.py"), "--dry-run", "--out",
                        str(tmp_path)], env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    data = json.loads((tmp_path / "rmsnorm_warps_dry_run.json").read_text())
    assert len(data["rows"]) == 8  # 2 weight dtypes x (rule, 4, 8, 16)
    for row in data["rows"]:
        assert "error" not in row, row
        assert 0 < row["max_rel_err"] < 2e-2 and row["fwd_ms"] > 0 and row["fwd_bwd_ms"] > 0, row
