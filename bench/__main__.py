"""`python -m bench NAME`: the benchmarks. Each prints figures (speed, memory, learning on other kernels) measured
in one run beside a baseline from the same run; none asserts a target. Not part of the installed `rlvr` package:
it sits beside it, like the tests, and imports it, never the reverse."""
from __future__ import annotations

import importlib
import sys

USAGE = """usage: python -m bench step [hydra overrides...]
       python -m bench learner [--shape cpu|1.5b|3b|7b] [--steps N] [--peak-tflops X] [--compile|--no-compile]
                               [--budget-gib G]
       python -m bench sync [--shape cpu|0.5b] [--engines N] [--repeats N] [--dtype D]
       python -m bench engine [--shape cpu|0.5b] [--repeats N] [--bandwidth-gbps X]
       python -m bench gpu-step [--shape cpu|0.5b] [--steps N] [--no-peer] [--sync ipc|object_store|collective]
       python -m bench memory [--shape 0.5b] [--responses 500,3000] [--configs ...] [--ranks 1 2] [--cap-gib G]
       python -m bench real-loop [--shape 0.5b] [--steps N] [--prompts P] [--n N] [--max-tokens T] [--sync ipc]
       python -m bench learning [--model-seeds S ...] [--threads N ...] [--kernels native|default|avx2|avx512 ...]
       python -m bench peer-trl [--seeds 0 1 2] [--steps N] [--eval-every K] [--eval-size E] [--algorithm A]
                                [--model-dir DIR] [--from-results]
       python -m bench calibrate [--experiment harder_miniature] [--seeds 0 1 2] [--n 256] [overrides...]
       python -m bench study-runs SWEEP_DIR OUT_DIR
       python -m bench extrapolation SWEEP_DIR [--deltas 10 20] [--out DIR]
       python -m bench then-rl SWEEP_DIR [--algorithm grpo] [--steps 60] [overrides...]
       python -m bench one-shot SWEEP_DIR [--steps 100] [--problems 1] [overrides...]

step     the step-time split (generate / verify / learn / sync), vLLM and HF engines side by side
learner  the Learner's update (padded and padding-free micro-batches) beside a plain transformers fwd+bwd+AdamW:
         tokens/s and MFU on real (unpadded) tokens, peak memory (default shape: 1.5b on CUDA, cpu otherwise);
         on CUDA, the largest Qwen2.5 model that the measured peak projects to fit in --budget-gib
memory   the learner's peak memory at a real shape (CPU: resident set) beside its a-priori projection, each memory
         feature off in turn, one or two FSDP2 ranks; every configuration in its own subprocess
sync     weight-sync GB/s of every transport (object_store, collective, ipc) on the same model
engine   HF engine decode tokens/s (dynamic, static cache, compiled static) and the fraction of the bandwidth bound
gpu-step rlvr's whole step (HF engine) beside TRL's GRPOTrainer, same model, batch and lengths, in the same run
real-loop the whole loop (rollout, verify, learn, weight sync + its log-prob check) for a few steps on a random
         model of a real shape and vocabulary with the char tokenizer: each step's phase times
learning warm start + GRPO over model seeds, thread counts and forced CPU kernels: does the learning claim hold on
         another machine's kernels (the sign test of tests/test_learning.py per cell)
peer-trl time to held-out accuracy: rlvr's GRPO beside TRL's GRPOTrainer from the same warm start, same prompts,
         reward and settings, several seeds; writes docs/peer_trl.md with two plots (needs the `peer` extra)
calibrate where a study's warm start sits before RL: pass@1..256 at T=0.6, top-p 0.95 on each seed's held-out
         problems (the NSR paper's protocol), per seed
study-runs copy a sweep's small per-run files (config, overrides, metrics, summary, pass@k summary) into a folder
         from which `python -m rlvr.report` rebuilds the study's report
extrapolation from each run's checkpoints at t and t+d, extrapolate the weights to t+2d and score them beside the
         real checkpoint at t+2d (greedy, the run's held-out problems): the extrapolation study's table and plot
then-rl  the second stage of a two-stage study: RL from each run's final checkpoint, with that run's overrides
one-shot one-shot RLVR on the problem each run selects: the highest variance of per-step training accuracy in its
         problems.jsonl (trainer.log_problems), trained alone with that run's overrides"""

# name -> the module whose main(argv) runs it
COMMANDS = {"step": "bench.step", "learner": "bench.learner", "sync": "bench.sync", "engine": "bench.engine",
            "gpu-step": "bench.gpu_step", "learning": "bench.learning",
            "memory": "bench.memory", "real-loop": "bench.real_loop", "peer-trl": "bench.peer_trl",
            "calibrate": "bench.calibrate", "study-runs": "bench.study_runs",
            "extrapolation": "bench.extrapolation", "then-rl": "bench.then_rl",
            "one-shot": "bench.one_shot"}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    if not argv or argv[0] not in COMMANDS:
        print(USAGE, file=sys.stderr)
        return 2
    return importlib.import_module(COMMANDS[argv[0]]).main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
