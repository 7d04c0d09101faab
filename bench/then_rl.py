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
from pathlib import Path

from bench.stages import override_value, run_overrides, run_second_stage, train_command


def _args(argv: list[str]):
    p = argparse.ArgumentParser(prog="python -m bench then-rl", description=__doc__.splitlines()[0])
    p.add_argument("sweep", help="the first stage's sweep dir (multirun/<name>/<time>)")
    p.add_argument("--algorithm", default="grpo")
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("overrides", nargs="*", help="more Hydra overrides for every second-stage run")
    return p.parse_intermixed_args(argv)  # Hydra overrides may come after the options


def second_stage_command(run_dir: Path, algorithm: str, steps: int, out_dir: Path, extra: list[str]) -> list[str]:
    """The training command of the RL stage: the first run's overrides with its algorithm replaced, starting from
    its final checkpoint (model.path: no warm start), into out_dir."""
    from rlvr.infra.checkpoint import latest_checkpoint

    ckpt = latest_checkpoint(run_dir)
    if ckpt is None:
        raise FileNotFoundError(f"{run_dir}: no finished checkpoint to start the second stage from "
                                "(trainer.checkpoint_every)")
    first = override_value(run_dir, "algorithm", "the_default")
    kept = run_overrides(run_dir, drop=("algorithm=", "algorithm.", "name=", "model.path=", "trainer.steps="))
    return train_command([*kept, f"algorithm={algorithm}", f"model.path={ckpt}", f"trainer.steps={steps}",
                          f"name=then_{algorithm}_after_{first}"], out_dir, extra)


def main(argv: list[str]) -> int:
    a = _args(argv)
    return run_second_stage(Path(a.sweep), "then_rl",
                            lambda run, out: second_stage_command(run, a.algorithm, a.steps, out, list(a.overrides)),
                            title=f"{a.algorithm} after each run of {a.sweep}")
