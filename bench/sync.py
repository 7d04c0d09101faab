"""`python -m bench sync`: weight-sync throughput of every WeightSync transport, in the same run, on the same
model shape: GB/s from the learner's state dict to the engines' loaded weights (what the loop waits for).

The sender and receivers are minimal Ray actors with the method names of LearnerActor and RolloutWorker, so the real
WeightSync classes run unchanged; receivers load into a model of the same shape. Two layouts on GPU:
- colocated: the sender and every receiver share GPU 0 (fractional GPUs): object_store and ipc (CUDA IPC);
- split: one GPU each, when there are engines + 1 GPUs: object_store and collective (NCCL cannot put two ranks on one
  GPU).
On CPU all three transports run between the same processes.
"""
from __future__ import annotations

import argparse
import time

SHAPES = {
    # Qwen2.5-0.5B (the shape of the weight-sync target).
    "0.5b": dict(hidden_size=896, num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2,
                 intermediate_size=4864, vocab_size=151936, tie_word_embeddings=True),
    # Seconds on 2 CPU cores.
    "cpu": dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2,
                intermediate_size=1024, vocab_size=8192, tie_word_embeddings=True),
}


def _model(shape: str, dtype: str, device: str):
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    return Qwen2ForCausalLM(Qwen2Config(**SHAPES[shape])).to(getattr(torch, dtype)).to(device)


class Sender:
    """The learner's side: named_weights for the object store, the broadcast group for the collective."""

    def __init__(self, shape: str, dtype: str, device: str):
        self.model = _model(shape, dtype, device)

    def _state(self):
        from rlvr.infra.hf_weights import with_lm_head

        return with_lm_head({k: v.detach() for k, v in self.model.state_dict().items()})

    def nbytes(self) -> int:
        return sum(v.numel() * v.element_size() for v in self._state().values())

    def named_weights(self):
        return {k: v.to("cpu") for k, v in self._state().items()}

    def weight_group_address(self):
        from rlvr.infra.weight_sync import free_address

        return free_address()

    def join_weight_group(self, host, port, rank, world_size, backend):
        from rlvr.infra.weight_sync import join_group

        self.group = join_group(host, port, rank, world_size, backend)

    def weight_meta(self, dtype):
        from rlvr.infra.weight_sync import tensor_meta

        return tensor_meta(self._state(), dtype)

    def broadcast_weights(self, dtype, bucket_bytes):
        from rlvr.infra.weight_sync import send_state, tensor_meta

        state = self._state()
        send_state(self.group, state, tensor_meta(state, dtype), bucket_bytes)

    def placement(self):
        from rlvr.infra.weight_sync import placement

        return placement()

    def share_weights(self, dtype, bucket_bytes):
        from rlvr.infra.weight_sync import share_state, tensor_meta

        state = self._state()
        self.buckets, shared = share_state(state, tensor_meta(state, dtype), bucket_bytes,
                                           reuse=getattr(self, "buckets", None))
        return shared

    def release_shared_weights(self):
        from rlvr.infra.weight_sync import kept_after_push

        self.buckets = kept_after_push(self.buckets)


class Receiver:
    """An engine's side: loads what arrives into a model of the same shape."""

    def __init__(self, shape: str, dtype: str, device: str):
        self.model, self.device = _model(shape, dtype, device), device

    def ping(self) -> int:
        return 0

    def _load(self, named) -> None:
        self.model.load_state_dict(dict(named), strict=False)

    def update_weights(self, state, version):
        self._load(state.items())

    def join_weight_group(self, host, port, rank, world_size, backend):
        from rlvr.infra.weight_sync import join_group

        self.group = join_group(host, port, rank, world_size, backend)

    def receive_weights(self, meta, version, bucket_bytes):
        from rlvr.infra.weight_sync import receive_state

        self._load(receive_state(self.group, meta, bucket_bytes, self.device))

    def placement(self):
        from rlvr.infra.weight_sync import placement

        return placement()

    def load_shared_weights(self, shared, version):
        from rlvr.infra.weight_sync import load_shared_state

        self.views = load_shared_state(shared, self._load)


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
    from rlvr.infra.weight_sync import build_weight_sync

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
