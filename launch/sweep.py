"""Reward-signal ablation sweep (docs/ALGORITHMS.md 10.2-10.3): reward x seed, as Hydra multirun or `ray job submit` commands.

    python launch/sweep.py --dry-run                                   # print the commands
    python launch/sweep.py --rewards verified random format incorrect --seeds 0 1 2 -- experiment=qwen_math_1.5b_grpo
    python launch/sweep.py --mode ray --dry-run                        # one ray job per cell
"""
from __future__ import annotations

import argparse
import itertools
import shlex
import subprocess
import sys

DEFAULT_REWARDS = ["verified", "random", "incorrect", "format"]


def commands(rewards: list[str], seeds: list[int], mode: str, extra: list[str]) -> list[list[str]]:
    if mode == "multirun":
        return [[sys.executable, "-m", "rlvr.train", "--multirun", f"reward={','.join(rewards)}",
                 f"trainer.seed={','.join(map(str, seeds))}", *extra]]
    return [["launch/submit.sh", f"reward={r}", f"trainer.seed={s}", f"name=sweep_{r}_s{s}", *extra]
            for r, s in itertools.product(rewards, seeds)]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rewards", nargs="+", default=DEFAULT_REWARDS)
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--mode", choices=["multirun", "ray"], default="multirun")
    p.add_argument("--dry-run", action="store_true")
    a = p.parse_args(argv)
    from pathlib import Path

    known = {f.stem for f in (Path(__file__).resolve().parent.parent / "conf" / "reward").glob("*.yaml")}
    unknown = [r for r in a.rewards if r not in known]
    if unknown:
        p.error(f"--rewards: {unknown} not in conf/reward ({sorted(known)})")
    cmds = commands(a.rewards, a.seeds, a.mode, extra)
    for c in cmds:
        print(shlex.join(c))
        if not a.dry_run:
            subprocess.run(c, check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
