"""Reward-signal ablations as one Hydra multirun (docs/ALGORITHMS.md 10.2-10.3): a thin convenience that spells the
command; the sweep itself is Hydra's (`python -m rlvr.train -m ...`), and it ends with report.md + PNGs in the sweep
directory (rlvr/tools/report.py).

    python launch/sweep.py --dry-run                              # print the command
    python launch/sweep.py --rewards verified random --seeds 0 1 2 -- trainer.steps=60
    python launch/sweep.py --launcher slurm -- experiment=qwen_math_1.5b_grpo   # one SLURM job per cell (submitit)
    python launch/sweep.py --launcher ray --dry-run               # one Ray job per cell on a running Ray cluster

The ready-made studies are experiments: `python -m rlvr.train -m experiment=study_reward_signals`.
"""
from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

DEFAULT_REWARDS = ["verified", "random", "incorrect", "format"]
CONF = Path(__file__).resolve().parent.parent / "conf"
# --launcher NAME -> the hydra/launcher option (conf/hydra/launcher/*.yaml; see launch/README.md)
LAUNCHERS = {"local": None, "slurm": "slurm_gpu", "ray": "ray_jobs"}


def command(rewards: list[str], seeds: list[int], launcher: str, extra: list[str]) -> list[str]:
    cmd = [sys.executable, "-m", "rlvr.train", "--multirun", f"reward={','.join(rewards)}",
           f"trainer.seed={','.join(map(str, seeds))}"]
    if LAUNCHERS[launcher]:
        cmd.append(f"hydra/launcher={LAUNCHERS[launcher]}")
    return cmd + extra


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
        # Hydra overrides never start with "--": such an item after "--" is this script's own flag (--dry-run).
        argv += [x for x in extra if x.startswith("--")]
        extra = [x for x in extra if not x.startswith("--")]
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rewards", nargs="+", default=DEFAULT_REWARDS, help="conf/reward options to compare")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2], help="trainer.seed values per reward")
    p.add_argument("--launcher", choices=sorted(LAUNCHERS), default="local",
                   help="local: jobs one after another here; slurm: submitit (pip install -e '.[cluster]'); "
                        "ray: Ray jobs on the cluster of launch/ray_head.sh")
    p.add_argument("--dry-run", action="store_true", help="print the command, run nothing")
    a = p.parse_args(argv)
    known = {f.stem for f in (CONF / "reward").glob("*.yaml")}
    unknown = [r for r in a.rewards if r not in known]
    if unknown:
        p.error(f"--rewards: {unknown} not in conf/reward ({sorted(known)})")
    cmd = command(a.rewards, a.seeds, a.launcher, extra)
    print(shlex.join(cmd))
    return 0 if a.dry_run else subprocess.run(cmd).returncode


if __name__ == "__main__":
    raise SystemExit(main())
