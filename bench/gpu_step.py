"""`python -m bench gpu-step`: rlvr's whole GRPO step (HF engine, verifier, learner, weight sync, under Ray)
beside TRL's GRPOTrainer on the same model, prompts, batch and lengths, in the same run: seconds per step (median),
rlvr's split, and the ratio. The peer is skipped with a note when TRL is not importable.

Both sides get the same randomly initialised Qwen2 of the shape (0.5B on CUDA, a small one on CPU), prompts from
the same RandomCalculation source and the same verifier, G samples per prompt at temperature 1, exactly `tokens` new tokens at most, one optimizer
step per batch at lr 1e-6, no reference model (TRL's default beta=0; rlvr's GRPO has no KL by default), bf16 on
CUDA. rlvr runs engine and learner on one GPU (Ray fractions of 0.5 each) with the object-store weight sync: NCCL
cannot join two processes on one device.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from bench.engine import model_dir as random_model

RUNS = {"cpu": dict(prompts=4, n=4, tokens=32), "0.5b": dict(prompts=8, n=8, tokens=256)}
SPLIT = ("time/generate_s", "time/verify_s", "time/learn_s", "time/sync_s")


def rlvr_steps(model_dir: str, run: dict, steps: int, warmup: int, cuda: bool, sync: str = "ipc") -> dict:
    from rlvr.config import compose
    from rlvr.run import build_run

    overrides = [f"model.path={model_dir}", "model.warm_start.enabled=false", "rollout=hf", "logger=none",
                 f"rollout.prompts_per_step={run['prompts']}", f"rollout.n={run['n']}",
                 f"rollout.max_tokens={run['tokens']}", f"rollout.max_model_len={run['tokens'] + 256}",
                 "rollout.temperature=1.0", "optim.lr=1e-6", f"trainer.steps={warmup + steps}",
                 f"trainer.weight_sync={sync}"]
    if cuda:
        overrides += ["cluster.num_gpus=1", "cluster.device=cuda", "cluster.learner_num_gpus=0.5",
                      "rollout.num_gpus=0.5", "learner.dtype=bfloat16", "rollout.dtype=bfloat16"]
    cfg = compose(overrides)
    with build_run(cfg, tempfile.mkdtemp(prefix="rlvr-bench-gpu-step-")) as run:
        run.sync()
        rows = [run.step(s) for s in range(warmup + steps)][warmup:]
    out = {"step_s": statistics.median(r["time/step_s"] for r in rows)}
    out.update({k.split("/")[1]: statistics.median(r.get(k, 0.0) for r in rows) for k in SPLIT})
    return out


def prompt_rows(model_dir: str, count: int) -> list[dict]:
    """RandomCalculation prompts and their answers as rlvr renders them (the default training data)."""
    from rlvr.config import compose
    from rlvr.data.prompts import build_prompt_source

    source = build_prompt_source(compose([]).data, model_path=model_dir)
    return data_rows(source.batch(0, count))


def data_rows(items) -> list[dict]:
    """TRL dataset rows of rlvr prompt items: the prompt as rlvr renders it and its gold answer (`answer`)."""
    return [{"prompt": it.prompt, "answer": it.gold} for it in items]


def verified_reward(prompts, completions, answer, **_) -> list[float]:
    """TRL reward function: rlvr's verifier on each completion against its row's gold, 1.0 right and 0.0 wrong
    (rlvr's `verified` reward signal; verify_batch is the function the verifier service's workers run)."""
    from rlvr_verify import verify_batch

    return [float(v.correct) for v in verify_batch(list(completions), list(answer))]


def trl_config(output_dir: str, run: dict, steps: int, cuda: bool, lr: float = 1e-6, seed: int = 0, **extra):
    """GRPOConfig for `run` (prompts x n samples x tokens): one generation batch per optimizer step (the whole
    batch at once, no accumulation), no reference model (beta 0), no checkpoints or reporting; `extra` overrides."""
    from trl import GRPOConfig

    kwargs = dict(output_dir=output_dir, per_device_train_batch_size=run["prompts"] * run["n"],
                  num_generations=run["n"], max_completion_length=run["tokens"], temperature=1.0,
                  learning_rate=lr, max_steps=steps, logging_steps=1, report_to=[], save_strategy="no",
                  bf16=cuda, use_cpu=not cuda, beta=0.0, seed=seed, gradient_checkpointing=False,
                  dataloader_num_workers=0)
    kwargs.update(extra)
    return GRPOConfig(**kwargs)


def trl_steps(model_dir: str, run: dict, steps: int, warmup: int, cuda: bool) -> dict | str:
    """TRL's GRPOTrainer on the same batch: seconds per optimizer step (median), or why it was skipped."""
    try:
        from datasets import Dataset
        from transformers import TrainerCallback
        from trl import GRPOTrainer
    except ImportError as e:
        return f"skipped: TRL is not importable ({e}); pip install trl (or WITH_TRL=1 ../shared/tools/gpu-wheels.sh)"

    class StepClock(TrainerCallback):
        def __init__(self):
            self.times: list[float] = []
            self.t0 = 0.0

        def on_step_begin(self, args, state, control, **kw):
            self.t0 = time.perf_counter()

        def on_step_end(self, args, state, control, **kw):
            if cuda:
                import torch

                torch.cuda.synchronize()
            self.times.append(time.perf_counter() - self.t0)

    args = trl_config(tempfile.mkdtemp(prefix="trl-bench-"), run, warmup + steps, cuda)
    clock = StepClock()
    data = Dataset.from_list(prompt_rows(model_dir, 64))
    trainer = GRPOTrainer(model=model_dir, reward_funcs=verified_reward, args=args, train_dataset=data, callbacks=[clock])
    trainer.train()
    return {"step_s": statistics.median(clock.times[warmup:])}


def bench_gpu_step(shape: str | None = None, steps: int = 5, warmup: int = 1, peer: bool = True, sync: str = "ipc"
                   ) -> dict:
    import torch

    cuda = torch.cuda.is_available()
    shape = shape or ("0.5b" if cuda else "cpu")
    run = RUNS[shape]
    path = random_model(shape, "bfloat16" if cuda else "float32")
    ours = rlvr_steps(path, run, steps, warmup, cuda, sync)
    theirs = trl_steps(path, run, steps, warmup, cuda) if peer else "skipped: --no-peer"
    return {"shape": shape, "device": "cuda" if cuda else "cpu", **run, "steps": steps, "sync": sync, "rlvr": ours,
            "trl": theirs}


def print_gpu_step(result: dict) -> None:
    r = result
    print(f"device {r['device']}, shape {r['shape']}: {r['prompts']} prompts x {r['n']} samples x {r['tokens']} "
          f"tokens, median of {r['steps']} steps, weight sync {r['sync']}")
    ours = r["rlvr"]
    print(f"rlvr  {ours['step_s']:.3f} s/step  (generate {ours['generate_s']:.3f}, verify {ours['verify_s']:.3f}, "
          f"learn {ours['learn_s']:.3f}, sync {ours['sync_s']:.3f})")
    if isinstance(r["trl"], str):
        print(f"trl   {r['trl']}")
    else:
        print(f"trl   {r['trl']['step_s']:.3f} s/step  (GRPOTrainer)")
        print(f"trl / rlvr = {r['trl']['step_s'] / ours['step_s']:.2f}x")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench gpu-step",
                                description="rlvr's GRPO step beside TRL's GRPOTrainer, same model/batch/lengths")
    p.add_argument("--shape", choices=sorted(RUNS), default=None, help="default: 0.5b on CUDA, cpu otherwise")
    p.add_argument("--steps", type=int, default=5, help="timed steps (median) after the warm-up")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--no-peer", dest="peer", action="store_false", help="skip TRL")
    p.add_argument("--sync", default="ipc", choices=["ipc", "object_store", "collective"],
                   help="trainer.weight_sync (ipc: the engine shares the learner's GPU; collective needs two GPUs)")
    a = p.parse_args(argv)
    print_gpu_step(bench_gpu_step(a.shape, a.steps, a.warmup, a.peer, a.sync))
    return 0
