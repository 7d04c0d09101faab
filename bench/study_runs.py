"""`python -m bench study-runs SWEEP_DIR OUT_DIR`: keep the small per-run files a study's report is built from.

Copies, for each run of a sweep (multirun/<name>/<time>/<job>/), its config.yaml, .hydra/overrides.yaml,
metrics.jsonl, summary.json, passk/summary.json and problems.jsonl (not checkpoints, samples or wandb) into OUT_DIR/<job>/, and
the sweep's multirun.yaml (the report's header names the command from it), so that

    python -m rlvr.report OUT_DIR --by KEY --out DIR

rebuilds the report's tables and figures from committed files alone."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

FILES = ("config.yaml", ".hydra/overrides.yaml", "metrics.jsonl", "summary.json", "passk/summary.json",
         "problems.jsonl")


def copy_runs(sweep_dir: str | Path, out_dir: str | Path) -> list[Path]:
    """Copy each run's small files; returns the runs' new directories (in job order)."""
    from rlvr.tools.report import find_run_dirs

    sweep, out = Path(sweep_dir), Path(out_dir)
    copied = []
    for run in find_run_dirs([sweep]):
        target = out / run.relative_to(sweep)
        for name in FILES:
            if (run / name).is_file():
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(run / name, target / name)
        copied.append(target)
    if (sweep / "multirun.yaml").is_file():
        out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sweep / "multirun.yaml", out / "multirun.yaml")
    return copied


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] in ("-h", "--help"):
        print(__doc__, file=sys.stderr)
        return 2
    runs = copy_runs(argv[0], argv[1])
    print(f"copied the small files of {len(runs)} runs into {argv[1]}")
    return 0
