"""Where metrics go: metrics.jsonl in the run directory (the source of truth), wandb (offline by default) and a
console progress bar; and the PNG of the curves written at the end of a run."""
from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path
from typing import Any

from data_gen.io import read_records

CONSOLE_KEYS = {"reward_mean": "reward", "accuracy": "acc", "heldout_accuracy": "heldout", "time/step_s": "s/step"}
PLOT_KEYS = ("reward_mean", "accuracy", "heldout_accuracy", "entropy", "response_length", "kl_ref_k3",
             "pg_clipfrac", "grad_norm", "loss", "time/generate_s", "time/learn_s", "tokens_per_s")


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    path = Path(path)
    if not path.exists():
        return []
    return read_records(path)


class RunLogger:
    def __init__(self, run_dir: str | Path, *, project: str = "rlvr", wandb_mode: str = "offline",
                 config: dict | None = None, total_steps: int = 0, resume_step: int = 0, console: bool = True):
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / "metrics.jsonl"
        # On resume, drop lines past the checkpoint so the file equals an uninterrupted run's.
        kept = [r for r in read_metrics(self.path) if r.get("step", 0) <= resume_step]
        self.path.write_text("".join(json.dumps(r) + "\n" for r in kept))
        self.file = self.path.open("a")
        self.wandb = None
        if wandb_mode != "disabled":
            os.environ.setdefault("WANDB_SILENT", "true")
            import wandb

            self.wandb = wandb.init(project=project, mode=wandb_mode, dir=str(self.run_dir), config=config,
                                    resume="allow", reinit=True)
        self.bar = None
        if console:
            from tqdm import tqdm

            self.bar = tqdm(total=total_steps, initial=resume_step, desc="rlvr", dynamic_ncols=True,
                            mininterval=0.5 if sys.stderr.isatty() else 15)
        self.last_step = resume_step

    def log(self, step: int, metrics: dict[str, Any]) -> None:
        row = {"step": step, **{k: v for k, v in metrics.items() if _jsonable(v)}}
        self.file.write(json.dumps(row) + "\n")
        self.file.flush()
        if self.wandb is not None:
            self.wandb.log(row, step=step)
        if self.bar is not None:
            shown = {short: f"{metrics[k]:.3g}" for k, short in CONSOLE_KEYS.items() if k in metrics}
            self.bar.set_postfix(shown, refresh=False)
            self.bar.update(max(0, step - self.last_step))
        self.last_step = max(self.last_step, step)

    def summary(self, values: dict[str, Any]) -> None:
        if self.wandb is not None:
            self.wandb.summary.update(values)

    def close(self) -> None:
        self.file.close()
        if self.bar is not None:
            self.bar.close()
        if self.wandb is not None:
            self.wandb.finish()


def _jsonable(v: Any) -> bool:
    return isinstance(v, (int, str, bool)) or (isinstance(v, float) and math.isfinite(v))


def plot_metrics(metrics_jsonl: str | Path, out_png: str | Path, keys: tuple[str, ...] = PLOT_KEYS) -> Path | None:
    """A grid of the run's curves (missing keys skipped)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_metrics(metrics_jsonl)
    series = {k: [(r["step"], r[k]) for r in rows if k in r] for k in keys}
    series = {k: v for k, v in series.items() if v}
    if not series:
        return None
    cols = 3
    nrows = math.ceil(len(series) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(4 * cols, 2.8 * nrows), squeeze=False)
    for ax, (k, pts) in zip(axes.flat, series.items()):
        xs, ys = zip(*pts)
        ax.plot(xs, ys, marker="o" if len(xs) < 30 else None, markersize=3)
        ax.set_title(k)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(series):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(out_png, dpi=90)
    plt.close(fig)
    return Path(out_png)
