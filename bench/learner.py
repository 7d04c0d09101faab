"""`python -m bench learner [--shape cpu|1.5b] ...`: the project's Learner update (fp32 master weights, bf16
compute on GPU, token-budget micro-batches, chunked log-probs) beside a plain transformers forward + backward +
AdamW (torch.compile and fused AdamW on GPU) over the same tokens in the same run: tokens/s, MFU (6N FLOPs per token,
attention's sequence term left out), peak memory. On CUDA it defaults to the Qwen2.5-Math-1.5B shape at the
experiment's batch (64 sequences, 200-token prompts, 500-3,000-token responses), randomly initialised.

Figures, not assertions: speed targets live here, never in timed unit tests.
"""
from __future__ import annotations

import tempfile

from bench.learner_memory import QWEN25
from rlvr.infra.env import apply_engine_env

apply_engine_env()

SHAPES = {
    # Qwen2.5-Math-1.5B (its config.json is Qwen2.5-1.5B's with a 4,096-token context) at the 1.5B experiment's
    # batch; 0.5B at the same lengths is the shape `python -m bench memory` measures on CPU; with --budget-gib, do
    # 3B and 7B fit an 80 GB GPU?
    **{name: dict(QWEN25[f"Qwen2.5-{name.upper()}"], max_position_embeddings=4096, batch=64, prompt=200,
                  response=(500, 3000), max_tokens_per_micro_batch=16384) for name in ("1.5b", "0.5b", "3b", "7b")},
    # Small enough for 2 CPU cores in seconds.
    "cpu": dict(hidden_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                intermediate_size=512, vocab_size=4096, max_position_embeddings=512, tie_word_embeddings=True,
                batch=8, prompt=16, response=(16, 96), max_tokens_per_micro_batch=512),
}
PEAK_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0}  # dense bf16


def random_batch(shape: dict, seed: int = 0, lengths: list[int] | None = None):
    """A finished GRPO batch (old log-probs, advantages) with the shape's prompt and response lengths (`lengths`:
    these response lengths instead of `batch` draws from the shape's range)."""
    import torch

    from rlvr.batch import TrainBatch

    g = torch.Generator().manual_seed(seed)
    V, B, P = shape["vocab_size"], shape["batch"], shape["prompt"]
    lo, hi = shape["response"]
    if lengths is None:
        lengths = torch.randint(lo, hi + 1, (B,), generator=g).tolist()
    B = len(lengths)
    batch = TrainBatch(prompt_ids=[torch.randint(3, V, (P,), generator=g).tolist() for _ in range(B)],
                       response_ids=[torch.randint(3, V, (n,), generator=g).tolist() for n in lengths],
                       group_ids=[b // 8 for b in range(B)], rewards=[float(b % 2) for b in range(B)])
    T = max(lengths)
    mask = (torch.arange(T)[None] < torch.tensor(lengths)[:, None]).float()
    batch.old_logprobs = -3.0 * mask
    batch.advantages = torch.randn(B, 1, generator=g) * mask
    return batch


def _timed(fn, device: str) -> tuple[float, float]:
    """(seconds, peak GiB) of fn(); peak memory on CUDA only (NaN on CPU)."""
    import time

    import torch

    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    fn()
    if device == "cuda":
        torch.cuda.synchronize()
        return time.perf_counter() - t0, torch.cuda.max_memory_allocated() / 2**30
    return time.perf_counter() - t0, float("nan")


def _figures(name: str, seconds: float, tokens: int, n_params: int, peak_gib: float, peak_tflops: float | None
             ) -> dict[str, float | str]:
    achieved = 6.0 * n_params * tokens / seconds / 1e12
    return {"run": name, "tokens_per_s": tokens / seconds, "tflops": achieved,
            "mfu": achieved / peak_tflops if peak_tflops else float("nan"), "peak_gib": peak_gib, "seconds": seconds}


def bench_learner_update(model_dir: str, batch, shape: dict, device: str, steps: int, padding_free: bool = False,
                         compile_: bool = False) -> dict:
    import torch

    from rlvr.algorithms import build_objective
    from rlvr.learner.learner import Learner, LearnerSettings

    cuda = device == "cuda"
    settings = LearnerSettings(lr=1e-6, device=device, dtype="bfloat16" if cuda else "float32",
                               micro_batch_size=len(batch), gradient_checkpointing=cuda,
                               max_tokens_per_micro_batch=shape["max_tokens_per_micro_batch"],
                               padding_free=padding_free, compile=compile_)
    learner = Learner(model_dir, build_objective("grpo", max_response_length=shape["response"][1]), settings)
    learner.update(batch, 0)  # warm-up (allocator, kernels)
    seconds, peak = _timed(lambda: [learner.update(batch, s + 1) for s in range(steps)], device)
    del learner
    if cuda:
        torch.cuda.empty_cache()
    return {"seconds": seconds / steps, "peak_gib": peak}


def bench_scoring_pass(model_dir: str, batch, shape: dict, device: str, steps: int) -> dict[str, dict]:
    """What a GRPO step costs the learner with its no-grad scoring pass first and without it (one optimizer step
    per rollout: the update's own forward gives the old log-probs, learner.reuse_update_forward), two learners
    stepped alternately so that a noisy machine slows both alike; median seconds of each (FLOP figures in the table
    count the update's 6N per token only)."""
    import dataclasses
    import statistics

    import torch

    from rlvr.algorithms import build_objective
    from rlvr.learner.learner import Learner, LearnerSettings

    cuda = device == "cuda"
    settings = LearnerSettings(lr=1e-6, device=device, dtype="bfloat16" if cuda else "float32",
                               micro_batch_size=len(batch), gradient_checkpointing=cuda,
                               max_tokens_per_micro_batch=shape["max_tokens_per_micro_batch"])
    objective = build_objective("grpo", max_response_length=shape["response"][1])
    learners = {"rlvr scoring pass + update": Learner(model_dir, objective, settings),
                "rlvr update, own old log-probs": Learner(model_dir, objective, settings)}
    times: dict[str, list[float]] = {name: [] for name in learners}
    peaks: dict[str, float] = {}
    for step in range(steps + 1):  # step 0 warms up
        for name, learner in learners.items():
            b = dataclasses.replace(batch, old_logprobs=None)

            def one(learner=learner, b=b, score=name.startswith("rlvr scoring")):
                if score:
                    b.old_logprobs = learner.score_rollouts(b)["old_logprobs"].to(device)
                learner.update(b, step)

            seconds, peak = _timed(one, device)
            if step:
                times[name].append(seconds)
                peaks[name] = max(peaks.get(name, peak), peak)  # NaN on CPU (not measured)
    del learners
    if cuda:
        torch.cuda.empty_cache()
    return {name: {"seconds": statistics.median(t), "peak_gib": peaks[name]} for name, t in times.items()}


def bench_plain_update(model_dir: str, batch, shape: dict, device: str, steps: int, compile_: bool) -> dict:
    """The baseline: a bf16 (GPU) HF model, its own cross-entropy loss, the same token-budget micro-batches."""
    import torch
    from transformers import AutoModelForCausalLM

    from rlvr.learner.micro_batches import plan_micro_batches

    cuda = device == "cuda"
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.bfloat16 if cuda else torch.float32)
    model.to(device).train()
    model.config.use_cache = False
    if cuda:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    forward = torch.compile(model) if compile_ else model
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-6, **({"fused": True} if cuda else {}))
    seqs = [p + r for p, r in zip(batch.prompt_ids, batch.response_ids)]
    plan = plan_micro_batches(list(range(len(seqs))), [len(s) for s in seqs], len(seqs),
                              shape["max_tokens_per_micro_batch"])

    def step():
        optimizer.zero_grad(set_to_none=True)
        for rows in plan:
            L = max(len(seqs[r]) for r in rows)
            ids = torch.full((len(rows), L), 0, dtype=torch.long)
            for i, r in enumerate(rows):
                ids[i, :len(seqs[r])] = torch.tensor(seqs[r])
            labels = torch.where(ids == 0, -100, ids)
            attn = (ids != 0).long()
            forward(input_ids=ids.to(device), attention_mask=attn.to(device), labels=labels.to(device)).loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    step()
    seconds, peak = _timed(lambda: [step() for _ in range(steps)], device)
    del model, optimizer
    return {"seconds": seconds / steps, "peak_gib": peak}


def _or_oom(run) -> dict:
    """One bench run; out of GPU memory becomes a row that says so instead of ending the bench."""
    import torch

    try:
        return run()
    except torch.OutOfMemoryError:
        torch.cuda.empty_cache()
        return {"seconds": float("nan"), "peak_gib": float("inf")}


def bench_learner(shape_name: str | None = None, steps: int = 2, peak_tflops: float | None = None,
                  compile_baseline: bool | None = None, budget_gib: float | None = None) -> list[dict]:
    """The rows of the learner table. budget_gib (CUDA): cap this process's GPU memory there, so that a larger
    GPU answers "does it fit in budget_gib?" by measurement; a run that does not fit shows as OOM."""
    import torch

    from bench.learner_memory import param_count

    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and budget_gib:
        total = torch.cuda.get_device_properties(0).total_memory
        torch.cuda.set_per_process_memory_fraction(min(1.0, budget_gib * 2 ** 30 / total))
    shape_name = shape_name or ("1.5b" if device == "cuda" else "cpu")
    shape = SHAPES[shape_name]
    if peak_tflops is None and device == "cuda":
        name = torch.cuda.get_device_name()
        peak_tflops = next((v for k, v in PEAK_TFLOPS.items() if k in name), None)
    from bench.random_model import random_model_dir

    model_dir = random_model_dir(shape, tempfile.mkdtemp(prefix="rlvr-bench-learner-"))
    batch = random_batch(shape)
    tokens = sum(len(p) + len(r) for p, r in zip(batch.prompt_ids, batch.response_ids))
    compile_ = device == "cuda" if compile_baseline is None else compile_baseline
    runs = {"rlvr Learner.update": _or_oom(lambda: bench_learner_update(model_dir, batch, shape, device, steps)),
            "rlvr, padding-free": _or_oom(lambda: bench_learner_update(model_dir, batch, shape, device, steps,
                                                                       padding_free=True))}
    scoring = _or_oom(lambda: bench_scoring_pass(model_dir, batch, shape, device, steps))
    for name in ("rlvr scoring pass + update", "rlvr update, own old log-probs"):
        runs[name] = scoring.get(name, scoring)  # out of memory: both rows say so
    if compile_:  # model.compile=true: each decoder layer compiled, as the baseline is
        runs["rlvr, compiled layers"] = _or_oom(lambda: bench_learner_update(model_dir, batch, shape, device, steps,
                                                                             compile_=True))
    n = param_count(shape)
    runs["plain HF fwd+bwd+AdamW" + (", compiled" if compile_ else "")] = _or_oom(lambda: bench_plain_update(
        model_dir, batch, shape, device, steps, compile_=compile_))
    return [*(_figures(name, r["seconds"], tokens, n, r["peak_gib"], peak_tflops) for name, r in runs.items()),
            {"run": "shape", "device": device, "shape": shape_name, "params": n, "tokens_per_step": tokens}]


def print_learner_table(rows: list[dict]) -> None:
    info = rows[-1]
    print(f"device {info['device']}, shape {info['shape']} ({info['params'] / 1e6:.1f}M parameters), "
          f"{info['tokens_per_step']} tokens per update")
    print(f"{'run':<32}{'tokens/s':>12}{'TFLOP/s':>10}{'MFU':>8}{'peak GiB':>10}{'s/update':>10}")
    for r in rows[:-1]:
        if r["peak_gib"] == float("inf"):
            print(f"{r['run']:<32}  out of GPU memory")
            continue
        print(f"{r['run']:<32}{r['tokens_per_s']:>12.1f}{r['tflops']:>10.3f}{r['mfu']:>8.3f}{r['peak_gib']:>10.2f}"
              f"{r['seconds']:>10.2f}")


def _learner_args(argv: list[str]):
    import argparse

    p = argparse.ArgumentParser(prog="python -m bench learner")
    p.add_argument("--shape", choices=sorted(SHAPES), default=None)
    p.add_argument("--steps", type=int, default=2)
    p.add_argument("--peak-tflops", type=float, default=None, help="the device's dense bf16 peak, for MFU")
    p.add_argument("--compile", dest="compile_", action=argparse.BooleanOptionalAction, default=None,
                   help="torch.compile the baseline, and add a row for the learner with compiled layers "
                        "(default: on CUDA)")
    p.add_argument("--budget-gib", type=float, default=80.0,
                   help="CUDA: cap the process's GPU memory at this many GiB (an 80 GB GPU's answer on a larger one; "
                        "0 = no cap); the largest-model projection after the table uses it too")
    return p.parse_args(argv)


def main(argv: list[str]) -> int:
    a = _learner_args(argv)
    rows = bench_learner(a.shape, a.steps, a.peak_tflops, a.compile_, a.budget_gib)
    print_learner_table(rows)
    peak = rows[0]["peak_gib"]
    if peak == peak and peak != float("inf"):  # measured (CUDA): what it says about larger models
        from bench.learner_memory import print_projection

        print_projection(peak, SHAPES[rows[-1]["shape"]], a.budget_gib or 80.0)
    return 0
