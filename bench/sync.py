"""`python -m bench sync`: weight-sync throughput of every weight-sync transport, in the same run, on the same
model shape: GB/s from the learner's state dict to the engines' loaded weights (what the loop waits for).

The sender and receivers are minimal Ray actors with the weight-sync sides of LearnerActor and RolloutWorker
(rlvr.weight_sync.SendsWeights / ReceivesWeights), so the real transports run unchanged; receivers load into a model
of the same shape. Two layouts on GPU:
- colocated: the sender and every receiver share GPU 0 (fractional GPUs): object_store and ipc (CUDA IPC);
- split: one GPU each, when there are engines + 1 GPUs: object_store and collective (NCCL cannot put two ranks on one
  GPU).
On CPU all three transports run between the same processes.
"""
from __future__ import annotations

import argparse
import time

from bench.learner_memory import QWEN25
from rlvr.weight_sync import ReceivesWeights, SendsWeights

SHAPES = {
    # Qwen2.5-0.5B (the shape of the weight-sync target).
    "0.5b": QWEN25["Qwen2.5-0.5B"],
    # Seconds on 2 CPU cores.
    "cpu": dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2,
                intermediate_size=1024, vocab_size=8192, tie_word_embeddings=True),
}


def _model(shape: str, dtype: str, device: str):
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    return Qwen2ForCausalLM(Qwen2Config(**SHAPES[shape])).to(getattr(torch, dtype)).to(device)


class Sender(SendsWeights):
    """The learner's side: a model of the shape, its weights exported like LearnerActor's."""

    def __init__(self, shape: str, dtype: str, device: str):
        self.model = _model(shape, dtype, device)

    def weights_on_device(self):
        from rlvr.infra.hf_weights import with_lm_head

        return with_lm_head({k: v.detach() for k, v in self.model.state_dict().items()})

    def nbytes(self) -> int:
        return sum(v.numel() * v.element_size() for v in self.weights_on_device().values())

    def named_weights(self):
        return {k: v.to("cpu") for k, v in self.weights_on_device().items()}


class Receiver(ReceivesWeights):
    """An engine's side: loads what arrives into a model of the same shape."""

    def __init__(self, shape: str, dtype: str, device: str):
        self.model = _model(shape, dtype, device)

    def ping(self) -> int:
        return 0

    def load_weights(self, named_tensors, version: int) -> None:
        self.model.load_state_dict(dict(named_tensors), strict=False)


def layouts(engines: int) -> list[tuple[str, str, float, tuple[str, ...]]]:
    """(layout, device, GPUs per actor, transports) that this machine can run."""
    import torch

    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if gpus == 0:
        return [("cpu", "cpu", 0.0, ("object_store", "collective", "ipc"))]
    out = [("colocated", "cuda", 1.0 / (engines + 1), ("object_store", "ipc"))]
    if gpus > engines:
        out.append(("split", "cuda", 1.0, ("object_store", "collective")))
    return out


def bench_sync(shape: str, engines: int, repeats: int, dtype: str) -> dict[str, dict[str, float]]:
    """{"<transport> (<layout>)": {GB, seconds, GB/s}}: the best of `repeats` timed pushes after a warm-up push."""
    import ray

    from rlvr.infra.actor_group import ActorGroup
    from rlvr.weight_sync import build_weight_sync

    if not ray.is_initialized():
        ray.init(include_dashboard=False, log_to_driver=False)
    results = {}
    for layout, device, gpus, transports in layouts(engines):
        sender = ray.remote(Sender).options(num_cpus=0, num_gpus=gpus).remote(shape, dtype, device)
        group = ActorGroup(Receiver, engines, lambda r: ((shape, dtype, device), {}),
                           options={"num_cpus": 0, "num_gpus": gpus}, name="receiver")
        group.call_all("ping")
        gigabytes = ray.get(sender.nbytes.remote()) / 1e9
        for name in transports:
            sync = build_weight_sync(name, dtype, on_gpu=device == "cuda")
            sync.push(sender, group, 0)  # warm-up: group set-up, first allocations
            times = []
            for version in range(1, repeats + 1):
                start = time.perf_counter()
                sync.push(sender, group, version)
                times.append(time.perf_counter() - start)
            best = min(times)
            results[f"{name} ({layout})"] = {"GB": gigabytes, "seconds": best, "GB/s": gigabytes / best}
        group.kill()
        ray.kill(sender)
    return results


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench sync",
                                description="Weight-sync throughput of each transport, same model, same run.")
    p.add_argument("--shape", choices=sorted(SHAPES), default="cpu")
    p.add_argument("--engines", type=int, default=1, help="receiving engines (actors)")
    p.add_argument("--repeats", type=int, default=3, help="timed pushes per transport (the best is reported)")
    p.add_argument("--dtype", default="float32", help="weights dtype (bfloat16 on GPU)")
    a = p.parse_args(argv)
    results = bench_sync(a.shape, a.engines, a.repeats, a.dtype)
    print(f"{'transport (layout)':<26}{'GB':>8}{'seconds':>10}{'GB/s':>8}")
    for name, r in results.items():
        print(f"{name:<26}{r['GB']:>8.3f}{r['seconds']:>10.3f}{r['GB/s']:>8.2f}")
    return 0
