"""Compare runs of a sweep: `python -m rlvr.report SWEEP_DIR_or_RUN_DIRS... --by reward --out DIR`.

An ablation is only answered once its runs sit side by side, so this reads each run's metrics.jsonl, groups the runs
by config keys (seeds of one setting fall into one group), and writes one PNG per curve (mean over seeds, min-max
band) and report.md (final held-out accuracy mean +- spread per group, steps, wall time). A Hydra multirun writes
this report into its sweep directory by itself (`ReportCallback`, registered in conf/hydra/callbacks/report.yaml).
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import re
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from data_gen.io import read_records

log = logging.getLogger(__name__)

# (metrics.jsonl key, plot title): the curves an ablation is judged by.
CURVES = (
    ("heldout_accuracy", "held-out accuracy (greedy)"),
    ("reward_mean", "train reward (the trained signal)"),
    ("accuracy", "true accuracy of the samples (verifier)"),
    ("entropy", "policy entropy per token"),
    ("response_length", "response length (tokens)"),
    ("response_length_incorrect", "length of the incorrect responses (tokens)"),
    ("entropy_selected", "SIREN's selected-token entropy (its anchor: the first step's)"),
)
PASSK_DIR = "passk"   # <run>/passk/summary.json: `python -m rlvr.evaluate` of the run's last checkpoint
PASSK_KS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


@dataclass
class PasskProtocol:
    """How each run's final checkpoint is sampled for pass@k: n samples per held-out problem at `temperature` and
    `top_p` (None: as the run sampled its rollouts). The NSR paper's protocol is n=256, T=0.6, top-p 0.95."""
    n: int = 0
    temperature: float | None = None
    top_p: float | None = None
# Keys that vary between seeds of one setting, or per run, and so never define a group.
NOT_A_GROUP = re.compile(r"(^|\.)(seed|run_dir)$|^hydra\.|^logger\.")


@dataclass
class Run:
    """One run directory: its resolved config (flattened to dotted keys), metric rows and wall time."""
    path: Path
    config: dict[str, Any]
    rows: list[dict[str, Any]]
    overrides: list[str] = field(default_factory=list)
    wall_s: float | None = None

    def series(self, key: str) -> list[tuple[int, float]]:
        return [(int(r["step"]), float(r[key])) for r in self.rows if key in r and r[key] is not None]

    def final(self, key: str) -> float | None:
        pts = self.series(key)
        return pts[-1][1] if pts else None

    def passk(self) -> dict[int, float]:
        """pass@k of the run's final checkpoint on held-out problems, when evaluated (see evaluate_passk)."""
        f = self.path / PASSK_DIR / "summary.json"
        if not f.exists():
            return {}
        overall = json.loads(f.read_text()).get("overall", {})
        return {int(k.split("@")[1]): float(v) for k, v in overall.items() if k.startswith("pass@")}

    @property
    def last_step(self) -> int:
        return max((int(r.get("step", 0)) for r in self.rows), default=0)


# --------------------------------------------------------------------------------------------------- reading runs
def find_run_dirs(paths: Sequence[str | Path]) -> list[Path]:
    """Each path is a run directory (holds metrics.jsonl) or a folder above runs (a sweep directory)."""
    found: list[Path] = []
    for p in map(Path, paths):
        if not p.exists():
            raise FileNotFoundError(f"{p}: no such directory (pass a sweep directory or run directories)")
        if (p / "metrics.jsonl").exists():
            found.append(p)
        else:
            found.extend(sorted((m.parent for m in p.rglob("metrics.jsonl")), key=_natural_key))
    if not found:
        raise FileNotFoundError(f"no metrics.jsonl under {', '.join(map(str, paths))}: pass a sweep directory "
                                "(multirun/<name>/<time>) or run directories (runs/<name>/<time>)")
    return list(dict.fromkeys(found))


def _natural_key(path: Path) -> list:
    """Sort job 10 after job 9, so groups appear in the order the sweep ran them."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(path))]


def load_run(path: Path) -> Run:
    import yaml

    cfg_file = next((f for f in (path / "config.yaml", path / ".hydra" / "config.yaml") if f.exists()), None)
    config = flatten(yaml.safe_load(cfg_file.read_text()) or {}) if cfg_file else {}
    over_file = path / ".hydra" / "overrides.yaml"
    overrides = list(yaml.safe_load(over_file.read_text()) or []) if over_file.exists() else []
    return Run(path, config, read_records(path / "metrics.jsonl"), overrides, _wall_time(path))


def _wall_time(path: Path) -> float | None:
    """The run's training time from its summary.json (train_s: first step to the end, so the Ray start-up that a
    multirun's first job pays, the actors' start and the warm start are not charged to one run); for runs written
    before summary.json had it, job start (Hydra's .hydra/ or config.yaml) to the end of the run."""
    end = path / "summary.json"
    if not end.exists():
        return None
    try:
        train_s = json.loads(end.read_text()).get("train_s")
    except ValueError:
        train_s = None
    if train_s is not None:
        return float(train_s)
    start = next((f for f in (path / ".hydra" / "config.yaml", path / "config.yaml") if f.exists()), None)
    return None if start is None else max(0.0, end.stat().st_mtime - start.stat().st_mtime)


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(tree, dict):
        return {prefix: tree}
    out: dict[str, Any] = {}
    for k, v in tree.items():
        out.update(flatten(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
    return out


# -------------------------------------------------------------------------------------------------------- grouping
def config_value(run: Run, key: str) -> Any:
    """`reward` names the group `reward.name`: config groups are compared by the option that was picked (the option's
    file name where the command line picked one: `algorithm=dr_grpo_entropy_bonus` is a Dr. GRPO of its own)."""
    if "." not in key:
        for o in run.overrides:
            if o.lstrip("+~").partition("=")[0] == key:
                return o.partition("=")[2]
    for k in (key, f"{key}.name"):
        if k in run.config:
            return run.config[k]
    for o in run.overrides:  # a group without a `name` field (model=small): the option picked on the command line
        if o.lstrip("+~").partition("=")[0] == key:
            return o.partition("=")[2]
    raise KeyError(f"--by {key}: not a config key of {run.path} (e.g. reward, algorithm, optim.lr, "
                   "model.warm_start.objective)")


def swept_keys(runs: Sequence[Run]) -> list[str]:
    """The override keys whose values differ between runs, seeds excluded: what the sweep compared. A run that does
    not override a key has that key's default, which differs from the runs that do."""
    per_run = [dict(o.lstrip("+~").partition("=")[::2] for o in run.overrides) for run in runs]
    keys = dict.fromkeys(k for overrides in per_run for k in overrides)
    keys = [k for k in keys if len({overrides.get(k) for overrides in per_run}) > 1 and not NOT_A_GROUP.search(k)]
    return keys or ["name"]


def group_runs(runs: Sequence[Run], by: Sequence[str]) -> dict[str, list[Run]]:
    groups: dict[str, list[Run]] = {}
    for run in runs:
        label = ", ".join(f"{k}={config_value(run, k)}" if len(by) > 1 else str(config_value(run, k)) for k in by)
        groups.setdefault(label, []).append(run)
    return groups


# ------------------------------------------------------------------------------------------------------ statistics
def band(runs: Sequence[Run], key: str) -> tuple[list[int], list[float], list[float], list[float]]:
    """Mean, min and max over the runs at each step any of them logged `key`."""
    by_step: dict[int, list[float]] = {}
    for run in runs:
        for step, value in run.series(key):
            by_step.setdefault(step, []).append(value)
    steps = sorted(by_step)
    return (steps, [statistics.fmean(by_step[s]) for s in steps], [min(by_step[s]) for s in steps],
            [max(by_step[s]) for s in steps])


@dataclass
class GroupSummary:
    label: str
    seeds: int
    steps: int
    start: float | None        # held-out accuracy at step 0 (mean)
    final: list[float]         # final held-out accuracy of each run
    wall_s: list[float]
    passk: dict[int, list[float]] = field(default_factory=dict)   # k -> pass@k of each evaluated run

    def cell(self, values: list[float], pct: bool = True) -> str:
        if not values:
            return "-"
        scale, unit = (100.0, "%") if pct else (1.0, "")
        mean = statistics.fmean(values) * scale
        if len(values) == 1:
            return f"{mean:.1f}{unit}"
        sd = statistics.stdev(values) * scale
        return f"{mean:.1f} ± {sd:.1f}{unit} ({min(values) * scale:.1f}-{max(values) * scale:.1f})"


def summarize(label: str, runs: Sequence[Run]) -> GroupSummary:
    starts = [pts[0][1] for r in runs if (pts := r.series("heldout_accuracy")) and pts[0][0] == 0]
    passk: dict[int, list[float]] = {}
    for run in runs:
        for k, v in run.passk().items():
            passk.setdefault(k, []).append(v)
    return GroupSummary(label=label, seeds=len(runs), steps=max(r.last_step for r in runs),
                        start=statistics.fmean(starts) if starts else None,
                        final=[v for r in runs if (v := r.final("heldout_accuracy")) is not None],
                        wall_s=[r.wall_s for r in runs if r.wall_s is not None], passk=passk)


def markdown_table(summaries: Sequence[GroupSummary], by: Sequence[str]) -> str:
    head = (f"| {' / '.join(by)} | runs | steps | held-out start | final held-out accuracy: mean ± sd (min-max) "
            "| training time per run | training time, all runs |")
    ks = sorted({k for s in summaries for k in s.passk} & {1, max((k for s in summaries for k in s.passk), default=1)})
    head += "".join(f" pass@{k} |" for k in ks)
    lines = [head, "|---|---|---|---|---|---|---|" + "---|" * len(ks)]
    for s in summaries:
        start = f"{s.start:.1%}" if s.start is not None else "-"
        per_run = f"{statistics.fmean(s.wall_s):.0f} s" if s.wall_s else "-"
        total = _duration(sum(s.wall_s)) if s.wall_s else "-"
        passk = "".join(f" {s.cell(s.passk.get(k, []))} |" for k in ks)
        lines.append(f"| {s.label} | {s.seeds} | {s.steps} | {start} | {s.cell(s.final)} | {per_run} | {total} |"
                     + passk)
    return "\n".join(lines) + "\n"


def bootstrap_difference(a: Sequence[float], b: Sequence[float], reps: int = 10_000, level: float = 0.95,
                         seed: int = 0) -> tuple[float, float, float]:
    """mean(b) - mean(a) and its percentile bootstrap interval: each group's runs resampled with replacement,
    `reps` times (seeded, so a report is reproducible). With 3 runs a side the interval is coarse and tends to be
    too narrow; it still says more than "the bands do not overlap"."""
    import random

    rng = random.Random(seed)
    diffs = sorted(statistics.fmean(rng.choices(b, k=len(b))) - statistics.fmean(rng.choices(a, k=len(a)))
                   for _ in range(reps))
    tail = (1.0 - level) / 2
    lo, hi = diffs[int(tail * reps)], diffs[min(reps - 1, int((1.0 - tail) * reps))]
    return statistics.fmean(b) - statistics.fmean(a), lo, hi


def differences_table(summaries: Sequence[GroupSummary], metric: str = "Final held-out accuracy",
                      values: Callable[[GroupSummary], list[float]] = lambda s: s.final) -> str:
    """Each group's `metric` (by default its final held-out accuracy; `values` gives a group's per-run values) minus
    the first group's, with a 95% bootstrap interval over runs."""
    base = summaries[0] if summaries else None
    rows = [s for s in summaries[1:] if len(values(s)) >= 2] if base and len(values(base)) >= 2 else []
    if not rows:
        return ""
    lines = [f"{metric} minus `{base.label}`'s (points; 95% bootstrap interval over runs):\n",
             "| group | difference | 95% interval | interval excludes 0 |", "|---|---|---|---|"]
    for s in rows:
        diff, lo, hi = bootstrap_difference(values(base), values(s))
        lines.append(f"| {s.label} | {100 * diff:+.1f} | [{100 * lo:+.1f}, {100 * hi:+.1f}] | "
                     f"{'yes' if lo > 0 or hi < 0 else 'no'} |")
    return "\n".join(lines) + "\n"


def _duration(seconds: float) -> str:
    minutes, sec = divmod(int(round(seconds)), 60)
    return f"{minutes} min {sec:02d} s" if minutes else f"{sec} s"


# -------------------------------------------------------------------------------------------------------- plotting
def plot_curve(groups: dict[str, list[Run]], key: str, title: str, out_png: Path) -> Path | None:
    """One line per group (mean over its runs) with the min-max band; None when no run logged `key`."""
    curves = {label: band(runs, key) for label, runs in groups.items()}
    curves = {label: c for label, c in curves.items() if c[0]}
    return _band_figure(curves, groups, title, "step", out_png) if curves else None


def _band_figure(curves: dict, groups: dict[str, list[Run]], title: str, xlabel: str, out_png: Path,
                 log2_x: bool = False) -> Path:
    """Mean line and min-max band per group: curves[label] = (xs, mean, lo, hi)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for label, (xs, mean, lo, hi) in curves.items():
        (line,) = ax.plot(xs, mean, label=f"{label} (n={len(groups[label])})",
                          marker="o" if len(xs) < 20 else None, markersize=3)
        ax.fill_between(xs, lo, hi, color=line.get_color(), alpha=0.18, linewidth=0)
    if log2_x:
        ax.set_xscale("log", base=2)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_png, dpi=90)
    plt.close(fig)
    return out_png


def plot_passk(groups: dict[str, list[Run]], out_png: Path) -> Path | None:
    """pass@k vs k (log2 axis) per group: where a method keeps or loses coverage at large k (the NSR paper)."""
    curves = {}
    for label, runs in groups.items():
        per_k: dict[int, list[float]] = {}
        for run in runs:
            for k, v in run.passk().items():
                per_k.setdefault(k, []).append(v)
        if per_k:
            ks = sorted(per_k)
            curves[label] = (ks, [statistics.fmean(per_k[k]) for k in ks], [min(per_k[k]) for k in ks],
                             [max(per_k[k]) for k in ks])
    if not curves:
        return None
    return _band_figure(curves, groups, "pass@k on held-out problems (final checkpoint)", "k", out_png, log2_x=True)


def passk_command(run: Run, protocol: PasskProtocol, python: str = sys.executable) -> list[str]:
    """`python -m rlvr.evaluate` of the run's newest checkpoint on the run's own held-out problems (run=: every data
    key and the prompt template as in training), n samples per problem at the protocol's temperature and top-p
    (default: the run's rollout settings) and the run's max tokens."""
    from rlvr.infra.checkpoint import latest_checkpoint

    ckpt = latest_checkpoint(run.path)
    if ckpt is None:
        raise FileNotFoundError(f"{run.path}: no complete checkpoint to evaluate (trainer.checkpoint_every)")
    n = protocol.n
    ks = [k for k in PASSK_KS if k <= n]
    temperature = run.config.get("rollout.temperature", 1.0) if protocol.temperature is None else protocol.temperature
    top_p = run.config.get("rollout.top_p", 1.0) if protocol.top_p is None else protocol.top_p
    return [python, "-m", "rlvr.evaluate", f"run={run.path}", f"model={ckpt}", "engine=hf", f"n={n}",
            f"k=[{','.join(map(str, ks))}]", f"temperature={temperature}", f"top_p={top_p}",
            f"max_tokens={run.config.get('rollout.max_tokens', 16)}", "device=cpu", f"out={run.path / PASSK_DIR}"]


def evaluate_passk(runs: Sequence[Run], protocol: PasskProtocol) -> None:
    """Fill <run>/passk/ for every run that lacks it (rerunning resumes; a finished one is skipped)."""
    for run in runs:
        if run.passk():
            continue
        cmd = passk_command(run, protocol)
        print("pass@k:", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True)


# ---------------------------------------------------------------------------------------------------------- report
def write_report(paths: Sequence[str | Path], out_dir: str | Path, by: Sequence[str] | None = None,
                 title: str | None = None, command: str | None = None,
                 passk: PasskProtocol | None = None) -> Path:
    """Read the runs under `paths`, write the PNGs and report.md into `out_dir`; returns report.md's path.
    With passk.n > 0, first evaluates pass@k (k <= n) of each run's final checkpoint (see evaluate_passk)."""
    runs = [load_run(p) for p in find_run_dirs(paths)]
    if passk and passk.n:
        evaluate_passk(runs, passk)
    by = list(by) if by else swept_keys(runs)
    groups = group_runs(runs, by)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pngs = [p for key, label in CURVES if (p := plot_curve(groups, key, label, out / f"{key}.png"))]
    pngs += [p for p in [plot_passk(groups, out / "passk.png")] if p]
    summaries = [summarize(label, rs) for label, rs in groups.items()]
    text = [f"# {title or 'Run comparison'}\n", f"{len(runs)} runs grouped by `{', '.join(by)}`; "
            "curves are the mean over a group's runs with the min-max band.\n"]
    if command:
        text.append(f"```bash\n{command}\n```\n")
    text.append(markdown_table(summaries, by))
    if differences := differences_table(summaries):
        text.append(differences)
    ks = sorted({k for s in summaries for k in s.passk})
    for k in sorted({ks[0], ks[-1]}) if ks else []:
        if differences := differences_table(summaries, f"pass@{k}", lambda s, k=k: s.passk.get(k, [])):
            text.append(differences)
    text.extend(f"![{p.stem}]({p.name})\n" for p in pngs)
    text.append("Runs:\n\n" + "".join(f"- `{r.path}`\n" for r in runs))
    report = out / "report.md"
    report.write_text("\n".join(text))
    return report


def sweep_command(sweep_dir: Path) -> str | None:
    """The command line that started a multirun, rebuilt from its multirun.yaml (for the report's header)."""
    import yaml

    f = sweep_dir / "multirun.yaml"
    if not f.exists():
        return None
    hydra = (yaml.safe_load(f.read_text()) or {}).get("hydra", {})
    task = hydra.get("overrides", {}).get("task", [])
    return " ".join(["python -m rlvr.train -m", *task])


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m rlvr.report", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="+", help="a sweep directory (multirun/<name>/<time>) or run directories")
    p.add_argument("--by", action="append", metavar="KEY",
                   help="config key to group by, repeatable (reward, algorithm, optim.lr, ...); default: the "
                        "overrides that differ between runs, seeds excluded")
    p.add_argument("--out", help="output folder (default: the sweep directory when one is given, else ./report)")
    p.add_argument("--title", help="heading of report.md")
    p.add_argument("--passk", type=int, default=0, metavar="N",
                   help="first evaluate pass@k (k = 1, 2, 4, ... <= N) of each run's last checkpoint with N samples "
                        "per held-out problem into <run>/passk/ (skipped where done)")
    p.add_argument("--passk-temperature", type=float, default=None, metavar="T",
                   help="sampling temperature for pass@k (default: the run's rollout.temperature; the NSR paper: 0.6)")
    p.add_argument("--passk-top-p", type=float, default=None, metavar="P",
                   help="top-p for pass@k (default: the run's rollout.top_p; the NSR paper: 0.95)")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    a = _parse_args(argv)
    single = Path(a.paths[0]) if len(a.paths) == 1 else None
    out = a.out or (str(single) if single and not (single / "metrics.jsonl").exists() else "report")
    try:
        report = write_report(a.paths, out, a.by, a.title,
                              sweep_command(single) if single else None,
                              passk=PasskProtocol(a.passk, a.passk_temperature, a.passk_top_p))
    except (FileNotFoundError, KeyError, subprocess.CalledProcessError) as e:
        print(f"rlvr.report: {e.args[0] if e.args else e}")
        return 2
    print(report.read_text().split("![")[0].rstrip())
    print(f"\nreport: {report}  (PNGs beside it)")
    return 0


# ------------------------------------------------------------------------------------------------- Hydra callback
try:
    from hydra.experimental.callback import Callback as _HydraCallback
except ImportError:  # Hydra is a core dependency; this keeps the report usable without it
    _HydraCallback = object


class ReportCallback(_HydraCallback):
    """Ends every multirun with its report in the sweep directory; a failing report only logs a warning, since
    the runs themselves succeeded and must not be reported as a failed sweep."""

    def __init__(self, by: Iterable[str] | None = None, enabled: bool = True, passk_n: int = 0,
                 passk_temperature: float | None = None, passk_top_p: float | None = None):
        self.by = list(by) if by else None
        self.enabled = enabled
        self.passk = PasskProtocol(passk_n, passk_temperature, passk_top_p)

    def on_multirun_end(self, config: Any, **kwargs: Any) -> None:
        if not self.enabled:
            return
        sweep_dir = Path(str(config.hydra.sweep.dir))
        try:
            report = write_report([sweep_dir], sweep_dir, self.by, title=f"Sweep {sweep_dir}",
                                  command=sweep_command(sweep_dir), passk=self.passk)
            log.info("sweep report: %s", report)
            print(f"sweep report: {report}")
        except Exception as e:  # noqa: BLE001 -- see the docstring
            log.warning("could not write the sweep report into %s: %s: %s", sweep_dir, type(e).__name__, e)
