"""Where metrics go: metrics.jsonl in the run directory (the source of truth; problems.jsonl beside it with
per-problem training accuracy when trainer.log_problems), wandb (offline by default) and a
console progress bar; and the PNG of the curves written at the end of a run."""
from __future__ import annotations

import json
import math
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from data_gen.io import read_records

CONSOLE_KEYS = {"reward_mean": "reward", "accuracy": "acc", "heldout_accuracy": "heldout", "time/step_s": "s/step"}
PLOT_KEYS = ("reward_mean", "accuracy", "heldout_accuracy", "entropy", "response_length", "kl_ref_k3",
             "pg_clipfrac", "grad_norm", "loss", "time/generate_s", "time/learn_s", "tokens_per_s")


class RunLog:
    """The run's human-readable log: each line printed (flushed, so a piped `make train` shows progress) and appended
    with a timestamp to `train.log` in the run directory."""

    def __init__(self, run_dir: str | Path, echo=print):
        self.path = Path(run_dir) / "train.log"
        self.echo = echo

    def __call__(self, message: str) -> None:
        if self.echo is print:
            print(f"[rlvr] {message}", flush=True)
        elif self.echo is not None:
            self.echo(message)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}\n")


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    path = Path(path)
    if not path.exists():
        return []
    return read_records(path)


def open_step_file(path: Path, resume_step: int):
    """A per-step jsonl file opened for appending; on resume, the lines past the checkpoint are dropped first so
    that the file equals an uninterrupted run's."""
    kept = [r for r in read_metrics(path) if r.get("step", 0) <= resume_step]
    path.write_text("".join(json.dumps(r) + "\n" for r in kept))
    return path.open("a")


class RunLogger:
    """Appends one JSON line per step to metrics.jsonl and mirrors it to wandb and a progress bar.

    The wandb run is named and grouped so that a sweep reads as one comparison in the wandb UI (see `wandb_identity`),
    and its id is kept in the run directory (WANDB_ID_FILE) so a resumed run continues the same wandb run."""

    def __init__(self, run_dir: str | Path, *, project: str = "rlvr", wandb_mode: str = "offline",
                 config: dict | None = None, total_steps: int = 0, resume_step: int = 0, console: bool = True,
                 group: str | None = None, name: str | None = None, job_type: str | None = None,
                 tags: list[str] | None = None):
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / "metrics.jsonl"
        self.file = open_step_file(self.path, resume_step)
        self.problems = None  # problems.jsonl, opened by the first step that has per-problem records
        self.resume_step = resume_step
        self.wandb = None
        if wandb_mode != "disabled":
            os.environ.setdefault("WANDB_SILENT", "true")
            import wandb

            ident = wandb_identity(config or {}, group=group, name=name, job_type=job_type, tags=tags)
            self.wandb = wandb.init(project=project, mode=wandb_mode, dir=str(self.run_dir), config=config,
                                    id=wandb_run_id(self.run_dir), resume="allow", reinit=True, **ident)
        self.bar = None
        if console:
            from tqdm import tqdm

            self.bar = tqdm(total=total_steps, initial=resume_step, desc="rlvr", dynamic_ncols=True,
                            mininterval=0.5 if sys.stderr.isatty() else 15)
        self.last_step = resume_step

    def log(self, step: int, metrics: dict[str, Any]) -> None:
        problems = metrics.pop("problems", None)
        if problems is not None:  # trainer.log_problems: per-problem training accuracy, one line per step
            if self.problems is None:
                self.problems = open_step_file(self.run_dir / "problems.jsonl", self.resume_step)
            self.problems.write(json.dumps({"step": step, "problems": problems}) + "\n")
            self.problems.flush()
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

    def close(self) -> None:
        self.file.close()
        if self.problems is not None:
            self.problems.close()
        if self.bar is not None:
            self.bar.close()
        if self.wandb is not None:
            self.wandb.finish()


# ------------------------------------------------------------------------------------------- wandb run identity
WANDB_ID_FILE = "wandb_id.txt"
# Overrides that never tell two runs of a sweep apart in a name: where the output goes and how it is logged.
_NOT_IN_NAME = ("hydra.", "logger", "trainer.run_dir")


def wandb_run_id(run_dir: Path) -> str:
    """The run's wandb id: read from the run directory, or made and stored there, so a resume (same directory)
    logs into the same wandb run instead of starting a second one."""
    path = Path(run_dir) / WANDB_ID_FILE
    if path.exists() and path.read_text().strip():
        return path.read_text().strip()
    run_id = uuid.uuid4().hex[:12]  # wandb's own ids are short lowercase alphanumerics too
    path.write_text(run_id + "\n")
    return run_id


def wandb_identity(config: dict, *, group: str | None = None, name: str | None = None, job_type: str | None = None,
                   tags: list[str] | None = None) -> dict[str, Any]:
    """group / name / job_type / tags of the wandb run: explicit arguments, then `logger.*` config fields, then what
    Hydra knows (the sweep directory is the group, the overrides that vary within the sweep are the name)."""
    logger_cfg = config.get("logger") or {}
    sweep = _hydra_sweep()
    group = group or logger_cfg.get("group") or (sweep["group"] if sweep else config.get("name"))
    name = name or logger_cfg.get("run_name") or (sweep["name"] if sweep else _single_run_name())
    job_type = job_type or logger_cfg.get("job_type") or "train"
    all_tags = [*config_tags(config), *(logger_cfg.get("tags") or []), *(tags or [])]
    return {"group": group, "name": name, "job_type": job_type, "tags": list(dict.fromkeys(all_tags))}


def config_tags(config: dict) -> list[str]:
    """Tags to filter runs by in wandb: the experiment and the option picked on each axis of an ablation."""
    picks = {"algorithm": (config.get("algorithm") or {}).get("name"),
             "reward": (config.get("reward") or {}).get("name"),
             "model": (config.get("model") or {}).get("path") or (config.get("model") or {}).get("preset"),
             "rollout": (config.get("rollout") or {}).get("engine")}
    tags = [str(config["name"])] if config.get("name") else []
    return tags + [f"{k}:{Path(str(v)).name}" for k, v in picks.items() if v]


def _hydra_sweep() -> dict[str, str] | None:
    """In a Hydra multirun: group = the sweep directory's last two parts (<name>/<time>), name = this job's values
    of the swept keys (e.g. `reward=random,trainer.seed=1`). None outside a multirun or outside Hydra."""
    hc = _hydra_config()
    if hc is None or str(hc.mode) != "RunMode.MULTIRUN":
        return None
    sweep_dir = Path(str(hc.sweep.dir))
    swept = _swept_keys(sweep_dir, dict(hc.sweeper.get("params") or {}))
    overrides = [str(o) for o in hc.overrides.task]
    picked = [o for o in overrides if _key(o) in swept] or [o for o in overrides if not _key(o).startswith(_NOT_IN_NAME)]
    return {"group": "/".join(sweep_dir.parts[-2:]), "name": ",".join(picked) or f"job{hc.job.num}"}


def _single_run_name() -> str | None:
    hc = _hydra_config()
    if hc is None:
        return None
    picked = [str(o) for o in hc.overrides.task if not _key(str(o)).startswith(_NOT_IN_NAME)]
    return ",".join(picked) or None


def _swept_keys(sweep_dir: Path, sweeper_params: dict) -> set[str]:
    """Keys swept by this multirun: its sweeper params plus command-line sweeps (`reward=a,b`) from multirun.yaml."""
    keys = {str(k) for k in sweeper_params}
    multirun_yaml = sweep_dir / "multirun.yaml"
    if multirun_yaml.exists():
        from hydra.core.override_parser.overrides_parser import OverridesParser
        from omegaconf import OmegaConf

        task = OmegaConf.load(multirun_yaml).hydra.overrides.task
        try:
            parsed = OverridesParser.create().parse_overrides([str(o) for o in task])
            keys |= {o.key_or_group for o in parsed if o.is_sweep_override()}
        except Exception:  # noqa: BLE001 -- a name is cosmetic; never stop a run for it
            pass
    return keys


def _key(override: str) -> str:
    return override.lstrip("+~").partition("=")[0]


def _hydra_config():
    try:
        from hydra.core.hydra_config import HydraConfig

        return HydraConfig.get() if HydraConfig.initialized() else None
    except ImportError:
        return None


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
