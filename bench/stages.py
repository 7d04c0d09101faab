"""The second stage of a two-stage study: one training run per first-stage run, with that run's own overrides (same
experiment and seed, so the same warm start and held-out problems), then a report over the second stage.
Used by `bench then-rl` (RL after each run) and `bench one-shot` (one-shot RLVR on each run's selected problem)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Callable, Sequence


def run_overrides(run_dir: Path, drop: Sequence[str] = ()) -> list[str]:
    """The command-line overrides a run was started with (its .hydra/overrides.yaml), less those whose key starts
    with one of `drop` (e.g. "algorithm=", "algorithm.")."""
    import yaml

    overrides = yaml.safe_load((run_dir / ".hydra" / "overrides.yaml").read_text()) or []
    return [o for o in overrides if not o.lstrip("+~").startswith(tuple(drop))]


def override_value(run_dir: Path, key: str, default: str) -> str:
    """The value a run's command line gave `key` (e.g. "algorithm"), or `default`."""
    return next((o.partition("=")[2] for o in run_overrides(run_dir) if o.lstrip("+~").startswith(f"{key}=")),
                default)


def train_command(overrides: Sequence[str], out_dir: Path, extra: Sequence[str] = ()) -> list[str]:
    """`python -m rlvr.train` with `overrides`, into out_dir, then `extra` (the user's, so they win)."""
    return [sys.executable, "-m", "rlvr.train", *overrides, f"hydra.run.dir={out_dir}", *extra]


def run_second_stage(sweep: Path, out_name: str, command_for: Callable[[Path, Path], list[str]], title: str) -> int:
    """For each run under `sweep` (not under sweep/out_name), run command_for(run, out_dir) into
    sweep/out_name/<job> (a job that already finished is skipped, so rerunning resumes); then write the report there,
    grouped by `name`."""
    from rlvr.tools.report import find_run_dirs, write_report

    out_root = sweep / out_name
    runs = [r for r in find_run_dirs([sweep]) if out_root not in r.parents]
    if not runs:
        print(f"{sweep}: no runs found")
        return 2
    for run in runs:
        out = out_root / run.name
        if (out / "summary.json").is_file():
            print(f"{out}: done, skipped")
            continue
        cmd = command_for(run, out)
        print(f"{out_name}:", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True)
    report = write_report([out_root], out_root, by=["name"], title=title)
    print(f"report: {report}")
    return 0
