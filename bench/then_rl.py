"""`python -m bench then-rl SWEEP_DIR`: RL from the end of each run of a sweep (the second stage of a two-stage study).

For each run of the sweep (e.g. study_sft_family: SFT / DFT / ASFT / OSFT from one start), trains `--algorithm`
(default grpo) for `--steps` steps from that run's final checkpoint with the run's own overrides (the same
experiment, seed and so the same held-out problems), into SWEEP_DIR/then_rl/<job>, named
`then_<algorithm>_after_<first algorithm>`; then writes SWEEP_DIR/then_rl/report.md grouped by that name. A job
that already finished is skipped, so rerunning resumes.

    python -m bench then-rl multirun/study_sft_family/<time> [--algorithm grpo] [--steps 60] [KEY=VALUE ...]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path


def _args(argv: list[str]):
    p = argparse.ArgumentParser(prog="python -m bench then-rl", description=__doc__.splitlines()[0])
    p.add_argument("sweep", help="the first stage's sweep dir (multirun/<name>/<time>)")
    p.add_argument("--algorithm", default="grpo")
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("overrides", nargs="*", help="more Hydra overrides for every second-stage run")
    return p.parse_args(argv)


def second_stage_command(run_dir: Path, algorithm: str, steps: int, out_dir: Path, extra: list[str]) -> list[str]:
    """The training command of the RL stage: the first run's overrides with its algorithm replaced, starting from
    its final checkpoint (model.path: no warm start), into out_dir."""
    import yaml

    from rlvr.infra.checkpoint import latest_checkpoint

    ckpt = latest_checkpoint(run_dir)
    if ckpt is None:
        raise FileNotFoundError(f"{run_dir}: no finished checkpoint to start the second stage from "
                                "(trainer.checkpoint_every)")
    overrides = yaml.safe_load((run_dir / ".hydra" / "overrides.yaml").read_text()) or []
    first = next((o.partition("=")[2] for o in overrides if o.startswith("algorithm=")), "the_default")
    kept = [o for o in overrides if not o.lstrip("+~").startswith(("algorithm=", "algorithm.", "name=",
                                                                     "model.path=", "trainer.steps="))]
    return [sys.executable, "-m", "rlvr.train", *kept, f"algorithm={algorithm}", f"model.path={ckpt}",
            f"trainer.steps={steps}", f"name=then_{algorithm}_after_{first}", f"hydra.run.dir={out_dir}", *extra]


def main(argv: list[str]) -> int:
    from rlvr.tools.report import find_run_dirs, write_report

    a = _args(argv)
    sweep = Path(a.sweep)
    out_root = sweep / "then_rl"
    runs = [r for r in find_run_dirs([sweep]) if out_root not in r.parents]
    if not runs:
        print(f"{sweep}: no runs found")
        return 2
    for run in runs:
        out = out_root / run.name
        if (out / "summary.json").is_file():
            print(f"{out}: done, skipped")
            continue
        cmd = second_stage_command(run, a.algorithm, a.steps, out, list(a.overrides))
        print("then-rl:", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True)
    report = write_report([out_root], out_root, by=["name"], title=f"{a.algorithm} after each run of {sweep}")
    print(f"report: {report}")
    return 0
