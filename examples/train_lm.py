"""Train a small byte-level language model on Python's standard-library sources with mini_triton's LLM kernels.

    python3 examples/train_lm.py --model transformer --steps 300 --out runs/tf      # seed sizes (GPU)
    python3 examples/train_lm.py --tiny --steps 20 --out /tmp/tiny                  # CPU smoke run (interpreter)
    python3 examples/train_lm.py --compare --steps 300 --out runs/cmp              # ours vs pure PyTorch

Models (mini_triton.ops.model): a LLaMA-style transformer (RMSNorm, RoPE, causal flash attention, SwiGLU; seed
defaults d_model 384, 8 heads, 6 layers, d_ff 1536, seq 256, batch 16) or a MinGRU LM (the chunked-scan
recurrence of mini_triton.ops.mingru instead of attention). Muon (Newton-Schulz through our kernel) for the
blocks' 2-D matrices, AdamW for the embedding and norms. --use-triton (default) runs every op through our kernels
(torch custom ops, PyTorch fallback on a kernel error), --no-triton through pure PyTorch; --auto-select keeps only
the kernels that benchmark faster (mini_triton.ops.select.auto_select_kernels).

The corpus is built on the machine: the .py files of the running Python's standard library, concatenated in
sorted order (no download); bytes are the tokens (vocab 256); the last 10% is the validation split.

Writes into --out: log.csv (step, loss, val_loss, lr_scale, tokens_per_s, elapsed_s), summary.json (config,
final losses, tokens/s, peak memory, device, date) and loss.png (needs matplotlib; skipped with a notice). With
--compare: triton/ and pytorch/ runs with the same seed, plus compare.json (tokens/s, peak memory, final
validation loss of each and their relative difference, the issue's target being <= 2%) and compare.png.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import math
import os
import sys
import sysconfig
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "python"))  # the source tree's package, if not installed

import torch  # noqa: E402

from mini_triton.ops.model import build_model, make_optimizer  # noqa: E402
from mini_triton.ops.select import ModelConfig, auto_select_kernels  # noqa: E402

TINY = dict(d_model=32, n_heads=2, n_layers=2, d_ff=64, max_seq_len=32, batch_size=4, eval_steps=2,
            warmup_steps=2, eval_every=10)


# ---------------------------------------------------------------------------------------------------- corpus
def build_corpus(max_bytes: int) -> torch.Tensor:
    """The first max_bytes of the standard library's .py files (sorted paths, test suites skipped)."""
    root = sysconfig.get_paths()["stdlib"]
    chunks, total = [], 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in ("site-packages", "dist-packages", "test", "tests",
                                                             "__pycache__", "idlelib", "lib2to3"))
        for name in sorted(filenames):
            if not name.endswith(".py"):
                continue
            try:
                with open(os.path.join(dirpath, name), "rb") as f:
                    data = f.read()
            except OSError:
                continue
            chunks.append(data)
            total += len(data)
            if total >= max_bytes:
                return torch.frombuffer(bytearray(b"".join(chunks)[:max_bytes]), dtype=torch.uint8).long()
    if total < 4096:
        raise RuntimeError(f"found only {total} bytes of Python sources under {root}")
    return torch.frombuffer(bytearray(b"".join(chunks)), dtype=torch.uint8).long()


def get_batch(data: torch.Tensor, batch: int, seq: int, gen: torch.Generator, device):
    starts = torch.randint(0, data.numel() - seq - 1, (batch,), generator=gen)
    x = torch.stack([data[s:s + seq] for s in starts.tolist()])
    y = torch.stack([data[s + 1:s + seq + 1] for s in starts.tolist()])
    return x.to(device), y.to(device)


# ------------------------------------------------------------------------------------------------- utilities
class Progress:
    """A plain-text progress bar on stderr (one line per 10% when stderr is not a terminal)."""

    def __init__(self, total: int, label: str):
        self.total, self.label = total, label
        self.tty = sys.stderr.isatty()
        self.every = max(1, total // 10)

    def update(self, step: int, text: str):
        done = step + 1
        if not self.tty and done % self.every and done != self.total:
            return
        width = 30
        fill = int(width * done / self.total)
        line = f"{self.label} [{'#' * fill}{'.' * (width - fill)}] {done}/{self.total} {text}"
        sys.stderr.write(("\r" + line) if self.tty else line + "\n")
        if self.tty and done == self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def lr_scale(step: int, cfg: ModelConfig) -> float:
    """Linear warm-up, then cosine decay to 10%."""
    if step < cfg.warmup_steps:
        return (step + 1) / cfg.warmup_steps
    t = (step - cfg.warmup_steps) / max(1, cfg.max_steps - cfg.warmup_steps)
    return 0.1 + 0.45 * (1.0 + math.cos(math.pi * min(1.0, t)))


def all_groups(opt):
    groups = list(opt.param_groups)
    if getattr(opt, "adamw", None) is not None:
        groups += opt.adamw.param_groups
    return groups


def plot(path: str, curves: dict, title: str) -> bool:
    """curves: label -> (steps, losses, val_steps, val_losses). Returns False (with a notice) without
    matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"notice: matplotlib is not importable; {os.path.basename(path)} not written")
        return False
    fig, ax = plt.subplots(figsize=(7, 4))
    for i, (label, (steps, losses, vsteps, vlosses)) in enumerate(curves.items()):
        # the first curve wide and pale, so that an exact overlap still shows both
        line, = ax.plot(steps, losses, lw=3 if i == 0 and len(curves) > 1 else 1, alpha=0.45 if i == 0 else 0.9,
                        label=f"{label} train")
        if vsteps:
            ax.plot(vsteps, vlosses, "o--", color=line.get_color(), ms=3, label=f"{label} val")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (nats / byte)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


# ------------------------------------------------------------------------------------------------- training
def make_config(args, use_triton: bool) -> ModelConfig:
    kw = dict(TINY) if args.tiny else {}
    for field, value in (("d_model", args.d_model), ("n_heads", args.n_heads), ("n_layers", args.n_layers),
                         ("d_ff", args.d_ff), ("max_seq_len", args.seq_len), ("batch_size", args.batch_size)):
        if value is not None:
            kw[field] = value
    cfg = ModelConfig(vocab_size=256, max_steps=args.steps, device=args.device, use_amp=args.amp,
                      benchmark_kernels=args.auto_select, **kw)
    if args.eval_every:
        cfg.eval_every = args.eval_every
    if args.grad_accum:
        cfg.gradient_accumulation_steps = args.grad_accum
    cfg.set_all_kernels(use_triton)
    if args.muon_lr is not None:
        cfg.muon_lr = args.muon_lr
    return cfg


@torch.no_grad()
def evaluate(model, data, cfg, device, seed, autocast):
    model.eval()
    gen = torch.Generator().manual_seed(seed + 1)  # the same validation batches at every evaluation
    losses = []
    for _ in range(cfg.eval_steps):
        x, y = get_batch(data, cfg.batch_size, cfg.max_seq_len, gen, device)
        with autocast():
            losses.append(model.loss(x, y).item())
    model.train()
    return sum(losses) / len(losses)


def train(args, use_triton: bool, out_dir: str, label: str) -> dict:
    os.makedirs(out_dir, exist_ok=True)
    cfg = make_config(args, use_triton)
    device = cfg.resolved_device()
    selection = None
    if use_triton and cfg.benchmark_kernels:
        selection = auto_select_kernels(cfg)
        print(f"[{label}] selected kernels: { {k: v for k, v in selection.items() if k != 'results'} }")
    data = build_corpus(args.corpus_bytes)
    split = int(0.9 * data.numel())
    train_data, val_data = data[:split], data[split:]

    torch.manual_seed(args.seed)
    model = build_model(args.model, cfg).to(device)
    opt = make_optimizer(model, cfg)
    base_lrs = [g["lr"] for g in all_groups(opt)]
    step_fn_model = torch.compile(model) if args.compile else model
    use_amp = device.type == "cuda" and cfg.use_amp

    def autocast():
        return torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_amp)

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        torch.cuda.synchronize(device)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"[{label}] {args.model} {n_params / 1e6:.2f}M params on {device}, corpus {data.numel() / 1e6:.2f} MB, "
          f"kernels {cfg.kernel_flags()}")
    gen = torch.Generator().manual_seed(args.seed)
    accum = max(1, cfg.gradient_accumulation_steps)
    tokens_per_step = cfg.batch_size * cfg.max_seq_len * accum
    rows, progress = [], Progress(args.steps, label)
    t_start = time.perf_counter()
    t_timed, timed_tokens = None, 0
    for step in range(args.steps):
        scale = lr_scale(step, cfg)
        for g, lr in zip(all_groups(opt), base_lrs):
            g["lr"] = lr * scale
        loss_v = 0.0
        for _ in range(accum):
            x, y = get_batch(train_data, cfg.batch_size, cfg.max_seq_len, gen, device)
            with autocast():
                logits = step_fn_model(x)
                loss = torch.nn.functional.cross_entropy(logits.float().reshape(-1, logits.shape[-1]),
                                                         y.reshape(-1))
            (loss / accum).backward()
            loss_v += loss.item() / accum  # .item() synchronises
        if cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
        now = time.perf_counter()
        if step == 0:
            t_timed = now  # tokens/s from the second step on (the first compiles the kernels)
        else:
            timed_tokens += tokens_per_step
        tps = timed_tokens / (now - t_timed) if timed_tokens else float("nan")
        if not math.isfinite(loss_v):
            raise RuntimeError(f"[{label}] loss is {loss_v} at step {step}")
        row = {"step": step, "loss": loss_v, "val_loss": "", "lr_scale": scale, "tokens_per_s": tps,
               "elapsed_s": now - t_start}
        last = step == args.steps - 1
        if last or (cfg.eval_every and (step + 1) % cfg.eval_every == 0):
            row["val_loss"] = evaluate(model, val_data, cfg, device, args.seed, autocast)
        rows.append(row)
        progress.update(step, f"loss {loss_v:.3f} " + (f"{tps:,.0f} tok/s" if timed_tokens else "(compiling)"))

    peak_mb = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
    with open(os.path.join(out_dir, "log.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    tail = rows[-max(1, len(rows) // 10):]
    summary = {
        "label": label, "model": args.model, "use_triton": use_triton, "kernels": cfg.kernel_flags(),
        "steps": args.steps, "seed": args.seed, "tokens_per_step": tokens_per_step, "params": n_params,
        "first_loss": rows[0]["loss"], "final_train_loss": sum(r["loss"] for r in tail) / len(tail),
        "final_val_loss": rows[-1]["val_loss"], "tokens_per_s": rows[-1]["tokens_per_s"],
        "peak_memory_mb": peak_mb, "wall_s": time.perf_counter() - t_start, "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "amp": use_amp, "compile": args.compile, "torch": torch.__version__,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "config": cfg.to_dict(),
    }
    if selection is not None:
        summary["selection"] = selection.get("results", {})
    with open(os.path.join(out_dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1, default=str)
    summary["curve"] = ([r["step"] for r in rows], [r["loss"] for r in rows],
                        [r["step"] for r in rows if r["val_loss"] != ""],
                        [r["val_loss"] for r in rows if r["val_loss"] != ""])
    plot(os.path.join(out_dir, "loss.png"), {label: summary["curve"]}, f"{args.model} ({label})")
    print(f"[{label}] final train loss {summary['final_train_loss']:.4f}, val loss {summary['final_val_loss']:.4f}, "
          f"{summary['tokens_per_s']:,.0f} tokens/s" + (f", peak {peak_mb:.0f} MiB" if peak_mb else ""))
    return summary


def compare(args) -> dict:
    ours = train(args, True, os.path.join(args.out, "triton"), "mini_triton")
    ref = train(args, False, os.path.join(args.out, "pytorch"), "pytorch")
    diff = abs(ours["final_val_loss"] - ref["final_val_loss"]) / abs(ref["final_val_loss"])
    result = {
        "model": args.model, "steps": args.steps, "seed": args.seed, "device": ours["device_name"],
        "date": ours["date"],
        "mini_triton": {k: ours[k] for k in ("tokens_per_s", "peak_memory_mb", "final_val_loss", "final_train_loss",
                                             "kernels", "wall_s")},
        "pytorch": {k: ref[k] for k in ("tokens_per_s", "peak_memory_mb", "final_val_loss", "final_train_loss",
                                        "wall_s")},
        "speedup_tokens_per_s": ours["tokens_per_s"] / ref["tokens_per_s"],
        "final_val_loss_rel_diff": diff, "target_rel_diff": 0.02, "within_target": diff <= 0.02,
    }
    if ours["peak_memory_mb"] and ref["peak_memory_mb"]:
        result["peak_memory_ratio"] = ours["peak_memory_mb"] / ref["peak_memory_mb"]
    with open(os.path.join(args.out, "compare.json"), "w") as f:
        json.dump(result, f, indent=1, default=str)
    plot(os.path.join(args.out, "compare.png"), {"mini_triton": ours["curve"], "pytorch": ref["curve"]},
         f"{args.model}: mini_triton kernels vs PyTorch (seed {args.seed})")
    print(f"compare: tokens/s {ours['tokens_per_s']:,.0f} (mini_triton) vs {ref['tokens_per_s']:,.0f} (pytorch); "
          f"final val loss {ours['final_val_loss']:.4f} vs {ref['final_val_loss']:.4f} "
          f"(rel diff {100 * diff:.2f}%, target <= 2%: {'ok' if diff <= 0.02 else 'MISSED'})")
    return result


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", choices=("transformer", "mingru"), default="transformer")
    ap.add_argument("--steps", type=int, default=None, help="training steps (default 300; 20 with --tiny)")
    ap.add_argument("--tiny", action="store_true", help="CPU smoke size: d_model 32, 2 heads, 2 layers, seq 32")
    ap.add_argument("--use-triton", dest="use_triton", action="store_true", default=True,
                    help="all ops through mini_triton kernels (default)")
    ap.add_argument("--no-triton", dest="use_triton", action="store_false", help="pure PyTorch")
    ap.add_argument("--auto-select", action="store_true", help="benchmark the kernels first, keep the faster ones")
    ap.add_argument("--compare", action="store_true", help="run ours and pure PyTorch with the same seed")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="runs/train_lm")
    ap.add_argument("--device", default=None, help="cuda or cpu (default: cuda if available)")
    ap.add_argument("--amp", action=argparse.BooleanOptionalAction, default=True,
                    help="bfloat16 autocast on a GPU (default on)")
    ap.add_argument("--compile", action="store_true", help="torch.compile the model")
    ap.add_argument("--corpus-bytes", type=int, default=None, help="corpus size (default 8 MB; 256 KB with --tiny)")
    for name in ("d-model", "n-heads", "n-layers", "d-ff", "seq-len", "batch-size", "eval-every", "grad-accum"):
        ap.add_argument(f"--{name}", type=int, default=None)
    ap.add_argument("--muon-lr", type=float, default=None)
    args = ap.parse_args(argv)
    if args.steps is None:
        args.steps = 20 if args.tiny else 300
    if args.corpus_bytes is None:
        args.corpus_bytes = (256 << 10) if args.tiny else (8 << 20)
    if args.steps < 1:
        ap.error("--steps must be >= 1")
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    if args.compare:
        return compare(args)
    return train(args, args.use_triton, args.out, "mini_triton" if args.use_triton else "pytorch")


if __name__ == "__main__":
    main()
