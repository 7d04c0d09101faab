"""`python -m rlvr.bench step [overrides]`: the step-time split (generate / verify / learn / sync) and tokens/s,
with the vLLM engine and the HF engine measured in the same run, on the same prompts and model.

`python -m rlvr.bench learner [--shape cpu|1.5b] ...`: the project's Learner update (fp32 master weights, bf16
compute on GPU, token-budget micro-batches, chunked log-probs) beside a plain transformers forward + backward +
AdamW (torch.compile and fused AdamW on GPU) over the same tokens in the same run: tokens/s, MFU (6N FLOPs per token,
attention's sequence term left out), peak memory. On CUDA it defaults to the Qwen2.5-Math-1.5B shape at the
experiment's batch (64 sequences, 200-token prompts, 500-3,000-token responses), randomly initialised.

Figures, not assertions: speed targets live here, never in timed unit tests.
"""
from __future__ import annotations

import sys
import tempfile

from rlvr.infra.env import apply_engine_env

apply_engine_env()

KEYS = ["time/generate_s", "time/verify_s", "time/learn_s", "time/sync_s", "time/step_s", "tokens_per_s"]


def bench_step(overrides: list[str], steps: int = 4, warmup: int = 1) -> dict[str, dict[str, float]]:
    import ray

    from rlvr.config import compose
    from rlvr.loop import Trainer

    results = {}
    for engine in ("vllm", "hf"):
        cfg = compose(["model.warm_start.enabled=false", f"rollout.engine={engine}", *overrides])
        trainer = Trainer(cfg, tempfile.mkdtemp(prefix=f"rlvr-bench-{engine}-"))
        trainer.setup()
        trainer.sync_weights()
        rows = [trainer.train_step(s) for s in range(warmup + steps)][warmup:]
        results[engine] = {k: sum(r.get(k, 0.0) for r in rows) / len(rows) for k in KEYS}
        ray.shutdown()
    return results


def print_table(results: dict[str, dict[str, float]]) -> None:
    engines = list(results)
    print(f"{'metric':<18}" + "".join(f"{e:>12}" for e in engines) + f"{'hf/vllm':>10}")
    for k in KEYS:
        vals = [results[e][k] for e in engines]
        ratio = vals[1] / vals[0] if vals[0] else float("nan")
        print(f"{k:<18}" + "".join(f"{v:>12.3f}" for v in vals) + f"{ratio:>10.2f}")


# ------------------------------------------------------------------------------------------------------ learner
SHAPES = {
    # Qwen2.5-Math-1.5B (config.json of the hub checkpoint), the experiment's batch.
    "1.5b": dict(hidden_size=1536, num_hidden_layers=28, num_attention_heads=12, num_key_value_heads=2,
                 intermediate_size=8960, vocab_size=151936, max_position_embeddings=4096, tie_word_embeddings=True,
                 batch=64, prompt=200, response=(500, 3000), max_tokens_per_micro_batch=16384),
    # Small enough for 2 CPU cores in seconds.
    "cpu": dict(hidden_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                intermediate_size=512, vocab_size=4096, max_position_embeddings=512, tie_word_embeddings=True,
                batch=8, prompt=16, response=(16, 96), max_tokens_per_micro_batch=512),
}
PEAK_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0}  # dense bf16


def random_batch(shape: dict, seed: int = 0):
    """A finished GRPO batch (old log-probs, advantages) with the shape's prompt and response lengths."""
    import torch

    from rlvr.batch import TrainBatch

    g = torch.Generator().manual_seed(seed)
    V, B, P = shape["vocab_size"], shape["batch"], shape["prompt"]
    lo, hi = shape["response"]
    lengths = torch.randint(lo, hi + 1, (B,), generator=g).tolist()
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


def bench_learner_update(model_dir: str, batch, shape: dict, device: str, steps: int, padding_free: bool = False
                         ) -> dict:
    import torch

    from rlvr.algorithms import build_objective
    from rlvr.learner.learner import Learner, LearnerSettings

    cuda = device == "cuda"
    settings = LearnerSettings(lr=1e-6, device=device, dtype="bfloat16" if cuda else "float32",
                               micro_batch_size=len(batch), gradient_checkpointing=cuda,
                               max_tokens_per_micro_batch=shape["max_tokens_per_micro_batch"],
                               padding_free=padding_free)
    learner = Learner(model_dir, build_objective("grpo", max_response_length=shape["response"][1]), settings)
    learner.update(batch, 0)  # warm-up (allocator, kernels)
    seconds, peak = _timed(lambda: [learner.update(batch, s + 1) for s in range(steps)], device)
    n_params = sum(p.numel() for p in learner.model.parameters())
    del learner
    if cuda:
        torch.cuda.empty_cache()
    return {"seconds": seconds / steps, "peak_gib": peak, "n_params": n_params}


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


def bench_learner(shape_name: str | None = None, steps: int = 2, peak_tflops: float | None = None,
                  compile_baseline: bool | None = None) -> list[dict]:
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    shape_name = shape_name or ("1.5b" if device == "cuda" else "cpu")
    shape = SHAPES[shape_name]
    if peak_tflops is None and device == "cuda":
        name = torch.cuda.get_device_name()
        peak_tflops = next((v for k, v in PEAK_TFLOPS.items() if k in name), None)
    from rlvr.tools.random_model import random_model_dir

    model_dir = random_model_dir(shape, tempfile.mkdtemp(prefix="rlvr-bench-learner-"))
    batch = random_batch(shape)
    tokens = sum(len(p) + len(r) for p, r in zip(batch.prompt_ids, batch.response_ids))
    ours = bench_learner_update(model_dir, batch, shape, device, steps)
    packed = bench_learner_update(model_dir, batch, shape, device, steps, padding_free=True)
    plain = bench_plain_update(model_dir, batch, shape, device, steps,
                               compile_=device == "cuda" if compile_baseline is None else compile_baseline)
    n = ours["n_params"]
    return [_figures("rlvr Learner.update", ours["seconds"], tokens, n, ours["peak_gib"], peak_tflops),
            _figures("rlvr, padding-free", packed["seconds"], tokens, n, packed["peak_gib"], peak_tflops),
            _figures("plain HF fwd+bwd+AdamW", plain["seconds"], tokens, n, plain["peak_gib"], peak_tflops),
            {"run": "shape", "device": device, "shape": shape_name, "params": n, "tokens_per_step": tokens}]


def print_learner_table(rows: list[dict]) -> None:
    info = rows[-1]
    print(f"device {info['device']}, shape {info['shape']} ({info['params'] / 1e6:.1f}M parameters), "
          f"{info['tokens_per_step']} tokens per update")
    print(f"{'run':<26}{'tokens/s':>12}{'TFLOP/s':>10}{'MFU':>8}{'peak GiB':>10}{'s/update':>10}")
    for r in rows[:-1]:
        print(f"{r['run']:<26}{r['tokens_per_s']:>12.1f}{r['tflops']:>10.3f}{r['mfu']:>8.3f}{r['peak_gib']:>10.2f}"
              f"{r['seconds']:>10.2f}")


USAGE = """usage: python -m rlvr.bench step [hydra overrides...]
       python -m rlvr.bench learner [--shape cpu|1.5b] [--steps N] [--peak-tflops X] [--compile|--no-compile]
       python -m rlvr.bench sync [--shape cpu|0.5b] [--engines N] [--repeats N] [--dtype D]
       python -m rlvr.bench engine [--shape cpu|0.5b] [--repeats N] [--bandwidth-gbps X]
       python -m rlvr.bench gpu-step [--shape cpu|0.5b] [--steps N] [--no-peer] [--sync ipc|object_store|collective]

step     the step-time split (generate / verify / learn / sync), vLLM and HF engines side by side
learner  the Learner's update (padded and padding-free micro-batches) beside a plain transformers fwd+bwd+AdamW:
         tokens/s and MFU on real (unpadded) tokens, peak memory (default shape: 1.5b on CUDA, cpu otherwise)
sync     weight-sync GB/s of every transport (object_store, collective) on the same model
engine   HF engine decode tokens/s (dynamic, static cache, compiled static) and the fraction of the bandwidth bound
gpu-step rlvr's whole step (HF engine) beside TRL's GRPOTrainer, same model, batch and lengths, in the same run"""


def _learner_args(argv: list[str]):
    import argparse

    p = argparse.ArgumentParser(prog="python -m rlvr.bench learner")
    p.add_argument("--shape", choices=sorted(SHAPES), default=None)
    p.add_argument("--steps", type=int, default=2)
    p.add_argument("--peak-tflops", type=float, default=None, help="the device's dense bf16 peak, for MFU")
    p.add_argument("--compile", dest="compile_", action=argparse.BooleanOptionalAction, default=None,
                   help="torch.compile the baseline (default: on CUDA)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    if not argv or argv[0] not in ("step", "learner", "sync", "engine", "gpu-step"):
        print(USAGE, file=sys.stderr)
        raise SystemExit(2)
    if argv[0] == "sync":
        from rlvr.tools.sync_bench import main as sync_main

        return sync_main(argv[1:])
    if argv[0] == "engine":
        from rlvr.tools.engine_bench import main as engine_main

        return engine_main(argv[1:])
    if argv[0] == "gpu-step":
        from rlvr.tools.gpu_step_bench import main as gpu_step_main

        return gpu_step_main(argv[1:])
    if argv[0] == "learner":
        a = _learner_args(argv[1:])
        print_learner_table(bench_learner(a.shape, a.steps, a.peak_tflops, a.compile_))
        return 0
    results = bench_step(argv[1:])
    print_table(results)
    return 0
