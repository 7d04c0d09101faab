"""`python -m bench real-loop [--shape 0.5b] [--steps 2] ...`: the whole training loop (rollout, verify, learn, weight
sync with the log-prob check after it) for a few steps on a randomly initialised model of a real shape, with the
char tokenizer beside the real vocabulary (151,936 for Qwen2.5), so the sync check scores log-probs over the real
vocabulary. Prints each step's phase times (metrics.jsonl `time/*`) and the sync check's largest log-prob error.

The model is random, so no answer is right: the reward is `random` (a coin per response) to give GRPO non-zero
advantages, so that the weights really change before each sync and the check compares moved weights. Ids beyond
the char tokenizer's 100 decode to nothing. Figures, not assertions (the run itself fails if the sync check does).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def overrides(model_dir: str, run_dir: str, steps: int, prompts: int, n: int, max_tokens: int, sync: str,
              engine: str) -> list[str]:
    return [f"model.path={model_dir}", "model.lr=1e-6", f"rollout={engine}", f"rollout.prompts_per_step={prompts}",
            f"rollout.n={n}", f"rollout.max_tokens={max_tokens}", "rollout.max_model_len=512", "reward=random",
            f"trainer.steps={steps}", "trainer.eval_size=4", "trainer.eval_every=1000",
            "trainer.checkpoint_every=1000", f"trainer.weight_sync={sync}", "logger=none",
            f"trainer.run_dir={run_dir}", "trainer.resume=never"]


def run_loop(model_dir: str, run_dir: str, steps: int = 2, prompts: int = 2, n: int = 4, max_tokens: int = 32,
             sync: str = "ipc", engine: str = "hf") -> list[dict]:
    """rlvr.train as its own process; the metrics of its steps (step 0, the initial evaluation, left out)."""
    args = [sys.executable, "-m", "rlvr.train", *overrides(model_dir, run_dir, steps, prompts, n, max_tokens, sync,
                                                           engine)]
    subprocess.run(args, check=True, cwd=Path(__file__).resolve().parent.parent)
    rows = [json.loads(line) for line in Path(run_dir, "metrics.jsonl").read_text().splitlines() if line.strip()]
    return [r for r in rows if r.get("step", 0) > 0]


def print_phases(rows: list[dict]) -> None:
    keys = sorted({k for r in rows for k in r if k.startswith("time/")})
    print(f"{'step':>4}" + "".join(f"{k[5:]:>12}" for k in keys) + f"{'sync error':>12}{'grad_norm':>11}{'loss':>11}")
    for r in rows:
        print(f"{r['step']:>4}" + "".join(f"{r.get(k, float('nan')):>12.2f}" for k in keys)
              + f"{r.get('sync_max_logprob_error', float('nan')):>12.2e}{r.get('grad_norm', float('nan')):>11.3g}"
              f"{r.get('loss', float('nan')):>11.3g}")


def main(argv: list[str]) -> int:
    from bench.learner import SHAPES

    p = argparse.ArgumentParser(prog="python -m bench real-loop")
    p.add_argument("--shape", choices=sorted(SHAPES), default="0.5b")
    p.add_argument("--steps", type=int, default=2)
    p.add_argument("--prompts", type=int, default=2, help="rollout.prompts_per_step")
    p.add_argument("--n", type=int, default=4, help="rollout.n (samples per prompt)")
    p.add_argument("--max-tokens", type=int, default=32, help="rollout.max_tokens")
    p.add_argument("--sync", default="ipc", help="trainer.weight_sync")
    p.add_argument("--engine", default="hf", choices=["hf", "vllm_cpu"], help="the rollout config group")
    p.add_argument("--model-dir", default=None, help="a saved random model of the shape (default: build one)")
    p.add_argument("--run-dir", default=None)
    a = p.parse_args(argv)
    model_dir = a.model_dir
    if model_dir is None:
        from bench.random_model import random_model_dir

        model_dir = random_model_dir(SHAPES[a.shape], tempfile.mkdtemp(prefix="rlvr-bench-real-loop-"))
    run_dir = a.run_dir or os.path.join(tempfile.mkdtemp(prefix="rlvr-bench-real-loop-run-"), "run")
    t0 = time.perf_counter()
    rows = run_loop(model_dir, run_dir, a.steps, a.prompts, a.n, a.max_tokens, a.sync, a.engine)
    print(f"{a.shape}: {a.steps} steps of {a.prompts} prompts x {a.n} samples x <= {a.max_tokens} tokens, "
          f"{a.engine} engine, {a.sync} sync; {time.perf_counter() - t0:.0f} s in all; run dir {run_dir}")
    print_phases(rows)
    return 0
