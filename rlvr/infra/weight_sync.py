"""How the learner's weights reach the rollout engines: one interface, one implementation per transport.

- `object_store` (works everywhere): the learner exports its state dict to CPU, Ray's object store carries it once,
  every engine loads it in place.
- `collective`: the learner (rank 0) and the engines form a torch.distributed group of their own (NCCL when they
  are on GPUs, gloo on CPU) and the learner broadcasts the weights in flat buckets, cast to the rollout dtype; on GPU
  nothing goes through the host or the object store.
CUDA IPC for a colocated engine would be a third implementation of the same two calls. Whatever the transport, the
loop then proves the engines serve the new weights (the log-prob sync check) and each engine records the
policy_version it holds.
"""
from __future__ import annotations

import socket
from datetime import timedelta
from typing import Any, Protocol

import torch


class WeightSync(Protocol):
    name: str

    def push(self, learner: Any, engines: Any, version: int) -> None:
        """Send the learner's current weights to every engine (an ActorGroup) as `version`."""

    def push_to(self, learner: Any, engines: Any, rank: int, version: int) -> None:
        """Send them to one engine (one that was restarted and reloaded its initial weights)."""


class ObjectStoreSync:
    """CPU state dict -> Ray object store -> `update_weights` on each engine (one copy shared by all engines)."""
    name = "object_store"

    def __init__(self):
        self._weights_ref = None
        self._version = -1

    def _export(self, learner: Any, version: int):
        if self._version != version or self._weights_ref is None:
            self._weights_ref = learner.named_weights.remote()
            self._version = version
        return self._weights_ref

    def push(self, learner: Any, engines: Any, version: int) -> None:
        engines.call_all("update_weights", self._export(learner, version), version)

    def push_to(self, learner: Any, engines: Any, rank: int, version: int) -> None:
        import ray

        ray.get(engines.actors[rank].update_weights.remote(self._export(learner, version), version))


class CollectiveSync:
    """Broadcast from the learner (rank 0) to every engine over a process group of their own, bucket by bucket.

    The group is built on first use and rebuilt when an engine was restarted (a gloo/NCCL group does not survive
    a dead member)."""
    name = "collective"

    def __init__(self, dtype: str = "float32", backend: str = "gloo", bucket_mb: float = 256.0):
        self.dtype, self.backend = dtype, backend
        self.bucket_bytes = int(bucket_mb * 2 ** 20)
        self.meta: list[tuple[str, tuple[int, ...], str]] | None = None

    def _build_group(self, learner: Any, engines: Any) -> None:
        import ray

        host, port = ray.get(learner.weight_group_address.remote())
        world = 1 + engines.world_size
        ray.get([learner.join_weight_group.remote(host, port, 0, world, self.backend)]
                + [a.join_weight_group.remote(host, port, r + 1, world, self.backend)
                   for r, a in enumerate(engines.actors)])
        self.meta = ray.get(learner.weight_meta.remote(self.dtype))

    def push(self, learner: Any, engines: Any, version: int) -> None:
        import ray

        if self.meta is None:
            self._build_group(learner, engines)
        ray.get([learner.broadcast_weights.remote(self.dtype, self.bucket_bytes)]
                + engines.submit_all("receive_weights", self.meta, version, self.bucket_bytes))

    def push_to(self, learner: Any, engines: Any, rank: int, version: int) -> None:
        self.meta = None  # the restarted engine is not in the old group: rebuild it with everyone
        self.push(learner, engines, version)


WEIGHT_SYNCS = {"object_store": ObjectStoreSync, "collective": CollectiveSync}


def build_weight_sync(name: str, rollout_dtype: str = "float32", on_gpu: bool = False) -> WeightSync:
    """`trainer.weight_sync` -> its implementation; the collective one sends in the rollout dtype over NCCL when
    learner and engines are on GPUs, gloo otherwise."""
    if name == "object_store":
        return ObjectStoreSync()
    if name == "collective":
        return CollectiveSync(dtype=rollout_dtype, backend="nccl" if on_gpu else "gloo")
    raise ValueError(f"trainer.weight_sync={name!r} is not available; choose one of {sorted(WEIGHT_SYNCS)}")


# ------------------------------------------------------------------- the member side of the collective transport
def free_address() -> tuple[str, int]:
    """This node's address and a free TCP port for the group's rendezvous (asked of the learner, rank 0)."""
    import ray

    host = ray.util.get_node_ip_address() if ray.is_initialized() else "127.0.0.1"
    with socket.socket() as sock:
        sock.bind(("", 0))
        return host, sock.getsockname()[1]


def join_group(host: str, port: int, rank: int, world_size: int, backend: str, timeout_s: float = 300.0):
    """A process group of exactly these members, apart from any default group the process has (vLLM's)."""
    import torch.distributed as dist

    store = dist.TCPStore(host, port, world_size, is_master=rank == 0, timeout=timedelta(seconds=timeout_s))
    if backend == "nccl":
        return dist.ProcessGroupNCCL(store, rank, world_size)
    if backend == "gloo":
        return dist.ProcessGroupGloo(store, rank, world_size)
    raise ValueError(f"weight-sync backend {backend!r}: use nccl (GPUs) or gloo (CPU)")


def tensor_meta(state: dict[str, torch.Tensor], dtype: str) -> list[tuple[str, tuple[int, ...], str]]:
    """(name, shape, dtype) of every tensor as it will be sent: floating tensors in the rollout dtype."""
    return [(k, tuple(v.shape), dtype if v.is_floating_point() else str(v.dtype).removeprefix("torch."))
            for k, v in state.items()]


def buckets(meta, bucket_bytes: int) -> list[list[int]]:
    """Consecutive tensors of one dtype, up to bucket_bytes each (a larger tensor is a bucket of its own)."""
    out: list[list[int]] = []
    size = 0
    for i, (_, shape, dtype) in enumerate(meta):
        nbytes = _numel(shape) * getattr(torch, dtype).itemsize
        if out and meta[out[-1][0]][2] == dtype and size + nbytes <= bucket_bytes:
            out[-1].append(i)
            size += nbytes
        else:
            out.append([i])
            size = nbytes
    return out


def send_state(group, state: dict[str, torch.Tensor], meta, bucket_bytes: int) -> None:
    """Rank 0: broadcast every tensor of `state` (cast as `meta` says) bucket by bucket."""
    for bucket in buckets(meta, bucket_bytes):
        dtype = getattr(torch, meta[bucket[0]][2])
        flat = torch.cat([state[meta[i][0]].detach().reshape(-1).to(dtype) for i in bucket])
        group.broadcast(flat, 0).wait()


def receive_state(group, meta, bucket_bytes: int, device) -> list[tuple[str, torch.Tensor]]:
    """Ranks > 0: the tensors rank 0 sends, as (name, tensor) in `meta` order."""
    out = []
    for bucket in buckets(meta, bucket_bytes):
        flat = torch.empty(sum(_numel(meta[i][1]) for i in bucket), dtype=getattr(torch, meta[bucket[0]][2]),
                           device=device)
        group.broadcast(flat, 0).wait()
        offset = 0
        for i in bucket:
            name, shape, _ = meta[i]
            n = _numel(shape)
            out.append((name, flat[offset:offset + n].view(shape)))
            offset += n
    return out


def _numel(shape) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n
