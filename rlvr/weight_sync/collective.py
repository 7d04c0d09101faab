"""`trainer.weight_sync=collective`: the learner (rank 0) and the engines form a torch.distributed group of their
own (NCCL through vLLM's PyNccl when they are on GPUs, gloo on CPU) and the learner broadcasts the weights in flat buckets, cast to the
rollout dtype; on GPU nothing goes through the host or the object store. Works across nodes.

The group is built on first use and rebuilt when an engine was restarted (a gloo/NCCL group does not survive a dead
member)."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import torch

from rlvr.weight_sync.packing import buckets, flatten, numel, tensor_meta, unflatten


class Transport:
    name = "collective"

    def __init__(self, dtype: str = "float32", on_gpu: bool = False, bucket_mb: float = 256.0):
        self.dtype, self.backend = dtype, "nccl" if on_gpu else "gloo"
        self.bucket_bytes = int(bucket_mb * 2 ** 20)
        self.meta: list[tuple[str, tuple[int, ...], str]] | None = None

    def _build_group(self, learner: Any, engines: Any) -> None:
        import ray

        host, port = ray.get(learner.weight_sync_send.remote(self.name, "address"))
        world = 1 + engines.world_size
        ray.get([learner.weight_sync_send.remote(self.name, "join", host, port, 0, world, self.backend)]
                + [a.weight_sync_receive.remote(self.name, "join", host, port, r + 1, world, self.backend)
                   for r, a in enumerate(engines.actors)])
        self.meta = ray.get(learner.weight_sync_send.remote(self.name, "meta", self.dtype))

    def push(self, learner: Any, engines: Any, version: int) -> None:
        import ray

        if self.meta is None:
            self._build_group(learner, engines)
        ray.get([learner.weight_sync_send.remote(self.name, "broadcast", self.dtype, self.bucket_bytes)]
                + engines.submit_all("weight_sync_receive", self.name, "receive", self.meta, version,
                                     self.bucket_bytes))

    def push_to(self, learner: Any, engines: Any, rank: int, version: int) -> None:
        self.meta = None  # the restarted engine is not in the old group: rebuild it with everyone
        self.push(learner, engines, version)


class Sender:
    """In the learner actor: only the sending rank joins the group; the other ranks help gather the weights."""

    def __init__(self, host):
        self.host, self.group = host, None

    def address(self) -> tuple[str, int]:
        """This node's address and a free port for the group's rendezvous (the sending rank is its master)."""
        from rlvr.infra.net import free_port, node_address

        host = node_address()
        return host, free_port(host)

    def join(self, host: str, port: int, rank: int, world_size: int, backend: str) -> None:
        if self.host.sends_weights():
            self.group = join_group(host, port, rank, world_size, backend)

    def meta(self, dtype: str) -> list:
        return tensor_meta(self.host.weights_on_device(), dtype)

    def broadcast(self, dtype: str, bucket_bytes: int) -> None:
        state = self.host.weights_on_device()
        if self.host.sends_weights():
            send_state(self.group, state, tensor_meta(state, dtype), bucket_bytes)


class Receiver:
    def __init__(self, load):
        self.load_weights, self.group, self.device = load, None, "cpu"

    def join(self, host: str, port: int, rank: int, world_size: int, backend: str) -> None:
        self.group = join_group(host, port, rank, world_size, backend)
        self.device = "cuda" if backend == "nccl" else "cpu"

    def receive(self, meta, version: int, bucket_bytes: int) -> None:
        self.load_weights(receive_state(self.group, meta, bucket_bytes, self.device), version)


def join_group(host: str, port: int, rank: int, world_size: int, backend: str, timeout_s: float = 300.0):
    """A group of exactly these members, apart from any default group the process has (vLLM's own): on GPUs vLLM's
    StatelessProcessGroup with its PyNccl communicator (what verl and OpenRLHF use), on CPU a gloo group on a
    TCPStore. Either has `broadcast(tensor, src)`, which returns once the tensor may be used."""
    if backend == "nccl":
        return NcclGroup(host, port, rank, world_size, timeout_s)
    if backend == "gloo":
        return GlooGroup(host, port, rank, world_size, timeout_s)
    raise ValueError(f"weight-sync backend {backend!r}: use nccl (GPUs) or gloo (CPU)")


class GlooGroup:
    def __init__(self, host: str, port: int, rank: int, world_size: int, timeout_s: float):
        import torch.distributed as dist

        store = dist.TCPStore(host, port, world_size, is_master=rank == 0, timeout=timedelta(seconds=timeout_s))
        self.group = dist.ProcessGroupGloo(store, rank, world_size)

    def broadcast(self, tensor: torch.Tensor, src: int) -> None:
        self.group.broadcast(tensor, src).wait()


class NcclGroup:
    """NCCL through vLLM's PyNcclCommunicator on this process's current GPU. Its broadcast is enqueued on the
    current stream, so the copies into the engine's parameters that follow on that stream see the whole bucket."""

    def __init__(self, host: str, port: int, rank: int, world_size: int, timeout_s: float):
        from vllm.distributed.device_communicators.pynccl import PyNcclCommunicator
        from vllm.distributed.utils import StatelessProcessGroup

        group = StatelessProcessGroup.create(host=host, port=port, rank=rank, world_size=world_size,
                                             store_timeout=int(timeout_s))
        self.comm = PyNcclCommunicator(group, device=torch.cuda.current_device())

    def broadcast(self, tensor: torch.Tensor, src: int) -> None:
        self.comm.broadcast(tensor, src=src, stream=torch.cuda.current_stream())


def send_state(group, state: dict[str, torch.Tensor], meta, bucket_bytes: int) -> None:
    """Rank 0: broadcast every tensor of `state` (cast as `meta` says) bucket by bucket."""
    for bucket in buckets(meta, bucket_bytes):
        group.broadcast(flatten(state, [meta[i] for i in bucket]), 0)


def receive_state(group, meta, bucket_bytes: int, device) -> list[tuple[str, torch.Tensor]]:
    """Ranks > 0: the tensors rank 0 sends, as (name, tensor) in `meta` order."""
    out = []
    for bucket in buckets(meta, bucket_bytes):
        entries = [meta[i] for i in bucket]
        flat = torch.empty(sum(numel(shape) for _, shape, _ in entries), dtype=getattr(torch, entries[0][2]),
                           device=device)
        group.broadcast(flat, 0)
        out += unflatten(flat, entries)
    return out
