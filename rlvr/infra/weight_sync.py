"""How the learner's weights reach the rollout engines: one interface, one implementation per transport.

- `object_store` (works everywhere): the learner exports its state dict to CPU, Ray's object store carries it once,
  every engine loads it in place.
- `collective`: the learner (rank 0) and the engines form a torch.distributed group of their own (NCCL when they
  are on GPUs, gloo on CPU) and the learner broadcasts the weights in flat buckets, cast to the rollout dtype; on GPU
  nothing goes through the host or the object store.
- `ipc`: for engines on the learner's node (colocated). The learner packs the same flat buckets and hands the
  engines handles to its memory instead of the bytes: CUDA IPC handles on GPU (the engine copies straight from the
  learner's GPU memory), shared-memory files on CPU. Only the handles (a few hundred bytes a bucket) travel through
  Ray; NCCL, which cannot put two ranks on one GPU, is not needed.
Whatever the transport, the loop then proves the engines serve the new weights (the log-prob sync check) and each
engine records the policy_version it holds.
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


class IpcSync:
    """Handles to the learner's (rank 0's) flat buckets -> every engine copies from them -> the learner frees them.

    The first push checks that every engine is on the learner's node and, on GPU, on the learner's GPU (a CUDA IPC
    handle names a device by its index, which Ray renumbers per actor)."""
    name = "ipc"

    def __init__(self, dtype: str = "float32", bucket_mb: float = 1024.0):
        self.dtype = dtype
        self.bucket_bytes = int(bucket_mb * 2 ** 20)
        self.placement_checked = False

    def push(self, learner: Any, engines: Any, version: int) -> None:
        placements = None if self.placement_checked else engines.call_all("placement")
        self._send(learner, placements, lambda shared: engines.call_all("load_shared_weights", shared, version))
        self.placement_checked = True

    def push_to(self, learner: Any, engines: Any, rank: int, version: int) -> None:
        import ray

        actor = engines.actors[rank]
        self._send(learner, [ray.get(actor.placement.remote())],
                   lambda shared: ray.get(actor.load_shared_weights.remote(shared, version)))

    def _send(self, learner: Any, placements: list | None, load) -> None:
        """Check the engines' placements (when given), share, let `load(handles)` copy, free."""
        import ray

        if placements is not None:
            check_colocated(ray.get(learner.placement.remote()), placements)
        shared = ray.get(learner.share_weights.remote(self.dtype, self.bucket_bytes))
        try:
            load(shared)
        finally:
            ray.get(learner.release_shared_weights.remote())


WEIGHT_SYNCS = {"object_store": ObjectStoreSync, "collective": CollectiveSync, "ipc": IpcSync}


def build_weight_sync(name: str, rollout_dtype: str = "float32", on_gpu: bool = False) -> WeightSync:
    """`trainer.weight_sync` -> its implementation; the collective one sends in the rollout dtype over NCCL when
    learner and engines are on GPUs, gloo otherwise."""
    if name == "object_store":
        return ObjectStoreSync()
    if name == "collective":
        return CollectiveSync(dtype=rollout_dtype, backend="nccl" if on_gpu else "gloo")
    if name == "ipc":
        return IpcSync(dtype=rollout_dtype)
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


def flatten(state: dict[str, torch.Tensor], entries, out: torch.Tensor | None = None) -> torch.Tensor:
    """One bucket: the tensors `entries` ((name, shape, dtype) from tensor_meta) name, cast and laid end to end."""
    dtype = getattr(torch, entries[0][2])
    return torch.cat([state[name].detach().reshape(-1).to(dtype) for name, _, _ in entries], out=out)


def unflatten(flat: torch.Tensor, entries) -> list[tuple[str, torch.Tensor]]:
    """The inverse of flatten: (name, view into flat) for each entry."""
    out, offset = [], 0
    for name, shape, _ in entries:
        n = _numel(shape)
        out.append((name, flat[offset:offset + n].view(shape)))
        offset += n
    return out


def send_state(group, state: dict[str, torch.Tensor], meta, bucket_bytes: int) -> None:
    """Rank 0: broadcast every tensor of `state` (cast as `meta` says) bucket by bucket."""
    for bucket in buckets(meta, bucket_bytes):
        group.broadcast(flatten(state, [meta[i] for i in bucket]), 0).wait()


def receive_state(group, meta, bucket_bytes: int, device) -> list[tuple[str, torch.Tensor]]:
    """Ranks > 0: the tensors rank 0 sends, as (name, tensor) in `meta` order."""
    out = []
    for bucket in buckets(meta, bucket_bytes):
        entries = [meta[i] for i in bucket]
        flat = torch.empty(sum(_numel(shape) for _, shape, _ in entries), dtype=getattr(torch, entries[0][2]),
                           device=device)
        group.broadcast(flat, 0).wait()
        out += unflatten(flat, entries)
    return out


# ------------------------------------------------------------------------------------- the two sides of ipc
def share_state(state: dict[str, torch.Tensor], meta, bucket_bytes: int, reuse: list[torch.Tensor] | None = None
                ) -> tuple[list[torch.Tensor], list[tuple[bytes, list]]]:
    """The learner's side of ipc: each bucket packed once into memory another process on this node can map (the
    state's own GPU, or shared memory on CPU), and its handle. The caller keeps the buckets alive until every engine
    has copied from them. `reuse`: the buckets of the previous push, refilled in place when they still fit (on CPU
    that saves allocating and first touching new shared memory: most of the push's time), with the same handles."""
    from multiprocessing.reduction import ForkingPickler

    import torch.multiprocessing as mp

    # CPU tensors: a named shared-memory file any process on the node can open (the default, a file descriptor,
    # only passes to children of this process). torch registers both reductions with ForkingPickler.
    mp.set_sharing_strategy("file_system")
    plan = [[meta[i] for i in bucket] for bucket in buckets(meta, bucket_bytes)]
    wanted = [(sum(_numel(shape) for _, shape, _ in entries), getattr(torch, entries[0][2]),
               state[entries[0][0]].device) for entries in plan]
    if reuse is None or [(t.numel(), t.dtype, t.device) for t in reuse] != wanted:
        check_shared_memory(sum(n * d.itemsize for n, d, dev in wanted if dev.type == "cpu"))
        reuse = []
        for numel, dtype, device in wanted:
            flat = torch.empty(numel, dtype=dtype, device=device)
            reuse.append(flat.share_memory_() if device.type == "cpu" else flat)
    shared = []
    for flat, entries in zip(reuse, plan):
        flatten(state, entries, out=flat)
        shared.append((bytes(ForkingPickler.dumps(flat)), entries))
    return reuse, shared


def open_shared_state(shared: list[tuple[bytes, list]]) -> list[tuple[str, torch.Tensor]]:
    """An engine's side of ipc: (name, tensor) views into the learner's buckets. Copy from them before returning
    (and synchronise, on GPU): the learner frees or refills the buckets once every engine has answered. Holding
    CPU views until the next push keeps the mapping open, so reopening the same handle costs nothing."""
    import pickle

    import torch.multiprocessing  # noqa: F401  (registers the rebuild functions the handles name)

    out = []
    for handle, entries in shared:
        out += unflatten(pickle.loads(handle), entries)
    return out


def load_shared_state(shared: list[tuple[bytes, list]], load) -> list[torch.Tensor] | None:
    """An engine's whole ipc receive: `load(named views)` copies the weights, the copies finish (GPU), and what to
    hold on to until the next push comes back (kept_after_push)."""
    views = open_shared_state(shared)
    load(views)
    if torch.cuda.is_available():
        torch.cuda.synchronize()  # the copies must finish before the learner frees its buckets
    return kept_after_push([v for _, v in views])


def check_shared_memory(nbytes: int, path: str = "/dev/shm") -> None:
    """Refuse, with the fix, a CPU push that would not fit the node's shared memory: past its size a process that
    touches the file dies of SIGBUS instead of raising (containers often get 64 MB)."""
    import os

    if nbytes == 0 or not os.path.isdir(path):
        return
    st = os.statvfs(path)
    free = st.f_bavail * st.f_frsize
    if nbytes > free:
        raise RuntimeError(f"trainer.weight_sync=ipc needs {nbytes / 2**20:.1f} MiB of shared memory ({path}) for the "
                           f"weights, and {free / 2**20:.1f} MiB are free. Give the container more (docker run "
                           f"--shm-size=..., a Kubernetes emptyDir with medium: Memory) or use "
                           f"trainer.weight_sync=collective.")


def kept_after_push(tensors: list[torch.Tensor] | None) -> list[torch.Tensor] | None:
    """What either side of ipc holds on to once a push is done: CPU buckets and views (the learner refills the same
    shared memory next time and the engine's mapping stays open), never GPU ones (that memory is the other phase's,
    when engine and learner share the GPU)."""
    if tensors and all(t.device.type == "cpu" for t in tensors):
        return tensors
    return None


def placement() -> tuple[str, str | None]:
    """(Ray node id, UUID of this process's current GPU or None): where a process's memory lives, for ipc."""
    import ray

    gpu = None
    if torch.cuda.is_available():
        gpu = str(getattr(torch.cuda.get_device_properties(torch.cuda.current_device()), "uuid", "unknown"))
    return ray.get_runtime_context().get_node_id(), gpu


def check_colocated(learner_at: tuple[str, str | None], engines_at: list[tuple[str, str | None]]) -> None:
    """ipc needs every engine on the learner's node, and on its GPU when there is one."""
    for i, (node, gpu) in enumerate(engines_at):
        if node != learner_at[0]:
            raise RuntimeError(f"trainer.weight_sync=ipc: rollout worker {i} is on Ray node {node}, the learner on "
                               f"{learner_at[0]}; shared memory and CUDA IPC only reach processes of one node. Use "
                               f"trainer.weight_sync=collective (NCCL) for engines on other nodes.")
        if gpu != learner_at[1]:
            raise RuntimeError(f"trainer.weight_sync=ipc: rollout worker {i} is on GPU {gpu}, the learner on "
                               f"{learner_at[1]}; ipc is for an engine colocated on the learner's GPU (give both "
                               f"fractional GPUs, e.g. cluster.learner_num_gpus=0.5 rollout.num_gpus=0.5). Use "
                               f"trainer.weight_sync=collective for engines on their own GPUs.")


def _numel(shape) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n
