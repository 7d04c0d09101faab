"""`python -m bench engine`: decode throughput of the HF engine's loops in the same run, on the same randomly
initialised model: the dynamic loop (growing cache, a host check per token), the static-cache loop, and the static
loop with its decode step compiled (CUDA graphs on a GPU), and that compiled loop again with the engine put to sleep
(level 2, rollout.sleep_level) and woken and refilled before every call, as a colocated run does each step: the
weights and KV cache come back at new addresses, which CUDA graphs must re-record; the row shows what that costs.

Each is also given as a fraction of the memory-bandwidth bound: a decode step must read every weight once, so
tokens/s <= batch x bandwidth / weight bytes (the KV cache reads are left out, so the bound is a little generous).
The target: the engine at >= 30% of that bound for 64 sequences x 256 new tokens on the 0.5B shape.
"""
from __future__ import annotations

import argparse
import tempfile
import time

from bench.sync import SHAPES as MODEL_SHAPES

RUNS = {"cpu": dict(batch=8, prompt=16, tokens=32), "0.5b": dict(batch=64, prompt=64, tokens=256)}
HBM_GBPS = {"H100": 3350.0, "H200": 4800.0, "A100": 2039.0}


def model_dir(shape: str, dtype: str) -> str:
    """A randomly initialised Qwen2 of one of sync_bench's shapes, in `dtype`, in a fresh temporary directory."""
    from bench.random_model import random_model_dir

    return random_model_dir(MODEL_SHAPES[shape], tempfile.mkdtemp(prefix="rlvr-bench-engine-"), dtype)


def bench_engine(shape: str | None = None, repeats: int = 2, bandwidth_gbps: float | None = None) -> list[dict]:
    import torch

    from rlvr.rollout.hf_engine import HFEngine

    cuda = torch.cuda.is_available()
    device, dtype = ("cuda", "bfloat16") if cuda else ("cpu", "float32")
    shape = shape or ("0.5b" if cuda else "cpu")
    run = RUNS[shape]
    if bandwidth_gbps is None and cuda:
        name = torch.cuda.get_device_name()
        bandwidth_gbps = next((v for k, v in HBM_GBPS.items() if k in name), None)
    path = model_dir(shape, dtype)
    prompts = [("1234567890+-*=" * 64)[i % 7:i % 7 + run["prompt"]] for i in range(run["batch"])]
    rows = []
    static_compiled = {"decode": "static", "compile": True}
    for name, kwargs, sleep in (("dynamic", {"decode": "dynamic"}, 0),
                                ("static", {"decode": "static", "compile": False}, 0),
                                ("static compiled", static_compiled, 0),
                                ("compiled, slept", static_compiled, 2)):
        engine = HFEngine(path, device=device, dtype=dtype, batch_size=run["batch"], **kwargs)
        weight_bytes = sum(p.numel() * p.element_size() for p in engine.model.parameters())
        state = {k: v.clone() for k, v in engine.model.state_dict().items()} if sleep else None
        engine.generate(prompts, temperature=1.0, max_tokens=run["tokens"], seed=0)  # warm-up / compile
        seconds = cycle_seconds = released = 0.0
        generated = 0
        for r in range(repeats):
            if sleep:  # not in the generation time: reported on its own
                t0 = time.perf_counter()
                released = engine.sleep(sleep)
                engine.wake_up()
                engine.update_weights(state.items())
                _sync(cuda)
                cycle_seconds += time.perf_counter() - t0
            _sync(cuda)
            t0 = time.perf_counter()
            groups = engine.generate(prompts, temperature=1.0, max_tokens=run["tokens"], seed=r + 1)
            _sync(cuda)
            seconds += time.perf_counter() - t0
            generated += sum(len(s.token_ids) for g in groups for s in g)
        tokens_per_s = generated / seconds
        bound = run["batch"] * bandwidth_gbps * 1e9 / weight_bytes if bandwidth_gbps else float("nan")
        rows.append({"run": name, "tokens_per_s": tokens_per_s, "bound_tokens_per_s": bound,
                     "fraction_of_bound": tokens_per_s / bound, "seconds_per_generate": seconds / repeats,
                     "released_gb": released / 1e9, "sleep_wake_s": cycle_seconds / repeats})
        del engine
        if cuda:
            torch.cuda.empty_cache()
    rows.append({"run": "shape", "device": device, "shape": shape, **run})
    return rows


def _sync(cuda: bool) -> None:
    if cuda:
        import torch

        torch.cuda.synchronize()


def print_engine_table(rows: list[dict]) -> None:
    info = rows[-1]
    print(f"device {info['device']}, shape {info['shape']}: {info['batch']} sequences x {info['tokens']} new tokens")
    print(f"{'loop':<18}{'tokens/s':>12}{'bound':>12}{'of bound':>10}{'s/generate':>12}{'released GB':>13}"
          f"{'sleep+wake s':>14}")
    for r in rows[:-1]:
        print(f"{r['run']:<18}{r['tokens_per_s']:>12.1f}{r['bound_tokens_per_s']:>12.1f}"
              f"{r['fraction_of_bound']:>10.3f}{r['seconds_per_generate']:>12.3f}{r['released_gb']:>13.3f}"
              f"{r['sleep_wake_s']:>14.3f}")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench engine",
                                description="HF engine decode tokens/s: dynamic vs static vs compiled static loop")
    p.add_argument("--shape", choices=sorted(RUNS), default=None, help="default: 0.5b on CUDA, cpu otherwise")
    p.add_argument("--repeats", type=int, default=2, help="timed generate calls after one warm-up")
    p.add_argument("--bandwidth-gbps", type=float, default=None,
                   help="the device's memory bandwidth in GB/s, for the bound (default: known GPUs)")
    a = p.parse_args(argv)
    print_engine_table(bench_engine(a.shape, a.repeats, a.bandwidth_gbps))
    return 0
