"""`python -m bench learning`: does "GRPO learns" hold on other machines? Reproduces other CPUs here.

A machine's float kernels decide the warm start's trajectory and every RL step after it. This bench reruns the
learning test's recipe (warm start, then GRPO on the default experiment) over model-init seeds, torch thread counts
and forced ATen CPU kernels (ATEN_CPU_CAPABILITY=default|avx2|avx512; `native` leaves the machine's choice), each cell
in its own process with its own model cache, and prints one row per cell: where the warm start landed, the held-out
accuracy before and after RL (greedy, and sampled: EVAL_SAMPLES per problem at the rollout temperature), the problems
whose sampled score rose and fell, and the sign test's p-value (rlvr.heldout), as tests/test_learning.py.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from rlvr.heldout import paired_sign_test

P_MAX = 1e-3  # the learning test's threshold and samples per held-out problem (tests/test_learning.py)
EVAL_SAMPLES = 8


def _args(argv: list[str]):
    p = argparse.ArgumentParser(prog="python -m bench learning", description=__doc__.splitlines()[0])
    p.add_argument("--model-seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--threads", type=int, nargs="+", default=[2], help="torch threads of the warm start")
    p.add_argument("--kernels", nargs="+", default=["native"], help="native | default | avx2 | avx512")
    p.add_argument("--steps", type=int, default=40, help="GRPO steps (the learning test's 40; make train's 100)")
    p.add_argument("--out", default=None, help="default: runs/bench_learning/<time>")
    p.add_argument("overrides", nargs="*", help="extra Hydra overrides for every cell")
    return p.parse_args(argv)


def run_cell(out: Path, kernel: str, threads: int, seed: int, steps: int, overrides: list[str]) -> dict:
    """One warm start + GRPO run in a fresh process; returns its row."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "WANDB_MODE": "disabled",
           "RLVR_CACHE_DIR": str(out / f"cache-{kernel}-t{threads}")}
    env.pop("ATEN_CPU_CAPABILITY", None)
    if kernel != "native":
        env["ATEN_CPU_CAPABILITY"] = kernel
    run_dir = out / f"{kernel}-t{threads}-seed{seed}"
    cmd = [sys.executable, "-m", "rlvr.train", f"model.seed={seed}", f"trainer.steps={steps}",
           f"trainer.eval_every={steps}", f"trainer.eval_samples={EVAL_SAMPLES}", "trainer.checkpoint_every=100000",
           "logger=none",
           f"trainer.run_dir={run_dir}", *overrides]
    start = time.monotonic()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    row = {"kernel": kernel, "threads": threads, "model_seed": seed, "seconds": round(time.monotonic() - start)}
    if proc.returncode != 0:
        lines = [x.strip() for x in proc.stderr.splitlines() if x.strip()]
        errors = [x for x in lines if "Error:" in x or x.startswith("rlvr.train: error")]  # the cause, not the hints
        return {**row, "error": (errors or lines or ["?"])[-1][:300]}
    s = json.loads((run_dir / "summary.json").read_text())
    warm = s.get("warm_start") or {}
    test = paired_sign_test(s["initial_heldout_sampled"], s["final_heldout_sampled"])
    greedy = paired_sign_test(s["initial_heldout_correct"], s["final_heldout_correct"])
    k = EVAL_SAMPLES * len(s["initial_heldout_sampled"])
    return {**row, "warm_steps": warm.get("steps"), "warm_accuracy": warm.get("accuracy"),
            "before": s["initial_heldout_accuracy"], "after": s["final_heldout_accuracy"],
            "greedy_p_value": greedy["p_value"], "sampled_before": sum(s["initial_heldout_sampled"]) / k,
            "sampled_after": sum(s["final_heldout_sampled"]) / k, **test, "passes": test["p_value"] < P_MAX}


HEADER = (f"{'kernel':>7} {'thr':>3} {'seed':>4} {'warm steps':>10} {'greedy':>15} "
          f"{f'sampled (x{EVAL_SAMPLES})':>15} "
          f"{'+/- problems':>12} {'p-value':>8} {'pass':>4} {'s':>5}")


def format_row(r: dict) -> str:
    if "error" in r:
        return f"{r['kernel']:>7} {r['threads']:>3} {r['model_seed']:>4}  FAILED: {r['error']}"
    greedy = f"{r['before']:.1%} -> {r['after']:.1%}"
    sampled = f"{r['sampled_before']:.1%} -> {r['sampled_after']:.1%}"
    return (f"{r['kernel']:>7} {r['threads']:>3} {r['model_seed']:>4} {r['warm_steps']:>10} {greedy:>15} {sampled:>15} "
            f"{'+' + str(r['gained']) + '/-' + str(r['lost']):>12} {r['p_value']:>8.1e} "
            f"{'yes' if r['passes'] else 'NO':>4} {r['seconds']:>5}")


def main(argv: list[str]) -> int:
    a = _args(argv)
    out = Path(a.out or f"runs/bench_learning/{time.strftime('%Y-%m-%d_%H-%M-%S')}")
    out.mkdir(parents=True, exist_ok=True)
    print(f"learning matrix: kernels {a.kernels} x threads {a.threads} x model seeds {a.model_seeds}, "
          f"{a.steps} GRPO steps; results in {out}/results.jsonl", flush=True)
    print(HEADER, flush=True)
    rows = []
    for kernel in a.kernels:
        for threads in a.threads:
            for seed in a.model_seeds:
                row = run_cell(out, kernel, threads, seed, a.steps, a.overrides)
                rows.append(row)
                with (out / "results.jsonl").open("a") as f:
                    f.write(json.dumps(row) + "\n")
                print(format_row(row), flush=True)
    ok = [r for r in rows if r.get("passes")]
    print(f"{len(ok)}/{len(rows)} cells pass (sign test p < {P_MAX:g})")
    return 0 if len(ok) == len(rows) else 1
