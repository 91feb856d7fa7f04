"""examples/train_lm.py (tiny CPU runs through the interpreter), mini_triton.ops.model and bench/llm_bench.py's
dry run."""

import csv
import importlib.util
import json
import os
import sys

import pytest

torch = pytest.importorskip("torch")

from mini_triton.ops import model as M  # noqa: E402
from mini_triton.ops.select import ModelConfig  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load(rel, name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(REPO, rel))
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def train_lm():
    return load("examples/train_lm.py", "mt_example_train_lm")


def tiny_cfg(**kw):
    return ModelConfig(vocab_size=256, d_model=32, n_heads=2, n_layers=1, d_ff=48, max_seq_len=16, **kw)


@pytest.mark.parametrize("kind", ["transformer", "mingru"])
def test_models_match_with_and_without_kernels(kind):
    """One seed, one initialisation: our kernels and pure PyTorch give the same loss and gradients."""
    tokens = torch.randint(0, 256, (2, 12), generator=torch.Generator().manual_seed(1))
    results = []
    for use in (True, False):
        cfg = tiny_cfg().set_all_kernels(use)
        torch.manual_seed(0)
        model = M.build_model(kind, cfg)
        loss = model.loss(tokens[:, :-1], tokens[:, 1:])
        loss.backward()
        results.append((loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters()}))
    (l1, g1), (l2, g2) = results
    torch.testing.assert_close(l1, l2, rtol=1e-5, atol=1e-5)
    assert g1.keys() == g2.keys()
    for n in g1:
        torch.testing.assert_close(g1[n], g2[n], rtol=1e-3, atol=1e-5, msg=n)


def test_optimizer_split():
    cfg = tiny_cfg()
    model = M.TransformerLM(cfg)
    opt = M.make_optimizer(model, cfg)
    muon = {id(p) for g in opt.param_groups for p in g["params"]}
    adamw = {id(p) for g in opt.adamw.param_groups for p in g["params"]}
    assert not muon & adamw and muon | adamw == {id(p) for p in model.parameters()}
    assert id(model.embed.weight) in adamw and id(model.blocks[0].attn.w_qkv) in muon
    assert all(p.dim() == 2 for g in opt.param_groups for p in g["params"])


def test_tiny_training_run_writes_the_log_and_learns(train_lm, tmp_path):
    out = tmp_path / "run"
    summary = train_lm.main(["--tiny", "--steps", "8", "--n-layers", "1", "--corpus-bytes", "65536",
                             "--eval-every", "4", "--out", str(out)])
    with open(out / "log.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows] == list(range(8))
    losses = [float(r["loss"]) for r in rows]
    assert 4.5 < losses[0] < 6.5  # ~ln(256) at the start
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3 - 0.3, losses
    assert rows[3]["val_loss"] and rows[7]["val_loss"] and not rows[2]["val_loss"]
    with open(out / "summary.json") as f:
        saved = json.load(f)
    assert saved["use_triton"] is True and all(saved["kernels"].values())
    assert saved["final_val_loss"] == pytest.approx(summary["final_val_loss"])
    assert saved["tokens_per_s"] > 0 and saved["config"]["d_model"] == 32
    import importlib.util as ilu
    assert (out / "loss.png").exists() == (ilu.find_spec("matplotlib") is not None)


def test_tiny_compare_mingru(train_lm, tmp_path):
    result = train_lm.main(["--tiny", "--model", "mingru", "--compare", "--steps", "3", "--n-layers", "1",
                            "--corpus-bytes", "32768", "--out", str(tmp_path)])
    assert (tmp_path / "triton" / "log.csv").exists() and (tmp_path / "pytorch" / "log.csv").exists()
    with open(tmp_path / "compare.json") as f:
        saved = json.load(f)
    assert saved["final_val_loss_rel_diff"] == pytest.approx(result["final_val_loss_rel_diff"])
    assert saved["final_val_loss_rel_diff"] < 0.02 and saved["within_target"]
    assert saved["mini_triton"]["tokens_per_s"] > 0 and saved["pytorch"]["tokens_per_s"] > 0


def test_corpus_is_local_python_source(train_lm):
    data = train_lm.build_corpus(10000)
    assert data.numel() == 10000 and data.dtype == torch.int64
    text = bytes(data.to(torch.uint8).tolist()).decode("utf-8", "replace")
    assert "def " in text or "import " in text


def test_llm_bench_dry_run(tmp_path):
    """bench/llm_bench.py --dry-run (CPU, tiny shapes): the eager and mini_triton columns, and the Triton column
    when Triton is installed, run by its interpreter (TRITON_INTERPRET=1; compiled on a GPU): the same kernel
    sources under real Triton agree with PyTorch, which checks the import rewrite and the ops' switch to
    Triton's modules and dtypes."""
    import importlib.util as ilu
    import subprocess
    env = dict(os.environ, TRITON_INTERPRET="1", PYTHONPATH=os.pathsep.join(
        [os.path.join(REPO, "python")] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    proc = subprocess.run([sys.executable, os.path.join(REPO, "bench", "llm_bench.py"), "--dry-run", "--out",
                           str(tmp_path)], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    with open(tmp_path / "llm_bench_dry_run.json") as f:
        result = json.load(f)
    assert result["dry_run"] and result["date"] and result["device"]
    assert {e["op"] for e in result["cases"]} == {"rms_norm", "rope", "swiglu_matmul", "attention", "newton_schulz"}
    has_triton = ilu.find_spec("triton") is not None and "triton" in result
    for e in result["cases"]:
        assert e["columns"]["eager"]["ms"] > 0
        for col in ("mini_triton", "triton") if has_triton else ("mini_triton",):
            assert e["columns"][col] is not None, e["skipped"]
            assert e["columns"][col]["max_abs_err"] < 1e-3, e
        if not has_triton:
            assert e["columns"]["triton"] is None and e["skipped"]["triton"]
        assert e["columns"]["compile"] is None and e["skipped"]["compile"]
