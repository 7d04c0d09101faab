"""`trainer.weight_sync=ipc`: for engines on the learner's node (colocated). The learner packs the weights in flat
buckets (cast to the rollout dtype) and hands the engines handles to its memory instead of the bytes: CUDA IPC
handles on GPU (the engine copies straight from the learner's GPU memory), shared-memory files on CPU. Only the
handles (a few hundred bytes a bucket) travel through Ray; NCCL, which cannot put two ranks on one GPU, is not
needed.

The first push checks that every engine is on the learner's node and, on GPU, on the learner's GPU (a CUDA IPC
handle names a device by its index, which Ray renumbers per actor)."""
from __future__ import annotations

import os
from typing import Any

import torch

from rlvr.weight_sync.packing import buckets, flatten, numel, tensor_meta, unflatten


class Transport:
    name = "ipc"

    def __init__(self, dtype: str = "float32", on_gpu: bool = False, bucket_mb: float = 1024.0):
        self.dtype = dtype
        self.bucket_bytes = int(bucket_mb * 2 ** 20)
        self.placement_checked = False

    def push(self, learner: Any, engines: Any, version: int) -> None:
        placements = None if self.placement_checked else engines.call_all("weight_sync_receive", self.name,
                                                                          "placement")
        self._send(learner, placements,
                   lambda shared: engines.call_all("weight_sync_receive", self.name, "load", shared, version))
        self.placement_checked = True

    def push_to(self, learner: Any, engines: Any, rank: int, version: int) -> None:
        import ray

        actor = engines.actors[rank]
        self._send(learner, [ray.get(actor.weight_sync_receive.remote(self.name, "placement"))],
                   lambda shared: ray.get(actor.weight_sync_receive.remote(self.name, "load", shared, version)))

    def _send(self, learner: Any, placements: list | None, load) -> None:
        """Check the engines' placements (when given), share, let `load(handles)` copy, free."""
        import ray

        if placements is not None:
            check_colocated(ray.get(learner.weight_sync_send.remote(self.name, "placement")), placements)
        shared = ray.get(learner.weight_sync_send.remote(self.name, "share", self.dtype, self.bucket_bytes))
        try:
            load(shared)
        finally:
            ray.get(learner.weight_sync_send.remote(self.name, "release"))


class Sender:
    """In the learner actor: the packed weights the engines copy from, kept between pushes on CPU."""

    def __init__(self, host):
        self.host, self.buckets = host, None

    def placement(self):
        return placement()

    def share(self, dtype: str, bucket_bytes: int):
        """Handles to the sending rank's weights packed in `dtype` (the other ranks only join the gather). The
        buckets stay alive until `release`."""
        state = self.host.weights_on_device()
        if not self.host.sends_weights():
            return None
        self.buckets, shared = share_state(state, tensor_meta(state, dtype), bucket_bytes, reuse=self.buckets)
        return shared

    def release(self) -> None:
        """GPU buckets are freed (the memory is the learner's, or a colocated engine's, next phase); CPU ones are kept
        for the next push to refill."""
        self.buckets = kept_after_push(self.buckets)


class Receiver:
    def __init__(self, load):
        self.load_weights, self.views = load, None

    def placement(self):
        return placement()

    def load(self, shared, version: int) -> None:
        """Copy the learner's weights from the memory it shares."""
        views = open_shared_state(shared)
        self.load_weights(views, version)
        if torch.cuda.is_available():
            torch.cuda.synchronize()  # the copies must finish before the learner frees its buckets
        self.views = kept_after_push([v for _, v in views])


def share_state(state: dict[str, torch.Tensor], meta, bucket_bytes: int, reuse: list[torch.Tensor] | None = None
                ) -> tuple[list[torch.Tensor], list[tuple[bytes, list]]]:
    """The learner's side: each bucket packed once into memory another process on this node can map (the state's
    own GPU, or shared memory on CPU), and its handle. The caller keeps the buckets alive until every engine has
    copied from them. `reuse`: the buckets of the previous push, refilled in place when they still fit (on CPU that
    saves allocating and first touching new shared memory: most of the push's time), with the same handles."""
    from multiprocessing.reduction import ForkingPickler

    import torch.multiprocessing as mp

    # CPU tensors: a named shared-memory file any process on the node can open (the default, a file descriptor,
    # only passes to children of this process). torch registers both reductions with ForkingPickler.
    mp.set_sharing_strategy("file_system")
    plan = [[meta[i] for i in bucket] for bucket in buckets(meta, bucket_bytes)]
    wanted = [(sum(numel(shape) for _, shape, _ in entries), getattr(torch, entries[0][2]),
               state[entries[0][0]].device) for entries in plan]
    if reuse is None or [(t.numel(), t.dtype, t.device) for t in reuse] != wanted:
        check_shared_memory(sum(n * d.itemsize for n, d, dev in wanted if dev.type == "cpu"))
        reuse = []
        for n, dtype, device in wanted:
            flat = torch.empty(n, dtype=dtype, device=device)
            reuse.append(flat.share_memory_() if device.type == "cpu" else flat)
    shared = []
    for flat, entries in zip(reuse, plan):
        flatten(state, entries, out=flat)
        shared.append((bytes(ForkingPickler.dumps(flat)), entries))
    return reuse, shared


def open_shared_state(shared: list[tuple[bytes, list]]) -> list[tuple[str, torch.Tensor]]:
    """An engine's side: (name, tensor) views into the learner's buckets. Copy from them before returning (and
    synchronise, on GPU): the learner frees or refills the buckets once every engine has answered. Holding CPU views
    until the next push keeps the mapping open, so reopening the same handle costs nothing."""
    import pickle

    import torch.multiprocessing  # noqa: F401  (registers the rebuild functions the handles name)

    out = []
    for handle, entries in shared:
        out += unflatten(pickle.loads(handle), entries)
    return out


def check_shared_memory(nbytes: int, path: str = "/dev/shm") -> None:
    """Refuse, with the fix, a CPU push that would not fit the node's shared memory: past its size a process that
    touches the file dies of SIGBUS instead of raising (containers often get 64 MB)."""
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
    """What either side holds on to once a push is done: CPU buckets and views (the learner refills the same shared
    memory next time and the engine's mapping stays open), never GPU ones (that memory is the other phase's, when
    engine and learner share the GPU)."""
    if tensors and all(t.device.type == "cpu" for t in tensors):
        return tensors
    return None


def placement() -> tuple[str, str | None]:
    """(Ray node id, UUID of this process's current GPU or None): where a process's memory lives."""
    import ray

    gpu = None
    if torch.cuda.is_available():
        gpu = str(getattr(torch.cuda.get_device_properties(torch.cuda.current_device()), "uuid", "unknown"))
    return ray.get_runtime_context().get_node_id(), gpu


def check_colocated(learner_at: tuple[str, str | None], engines_at: list[tuple[str, str | None]]) -> None:
    """ipc needs every engine on the learner's node, and on its GPU when there is one: otherwise a configuration
    error (one line from the command line, at the first sync, before any step)."""
    from rlvr.config_checks import ConfigError

    for i, (node, gpu) in enumerate(engines_at):
        if node != learner_at[0]:
            raise ConfigError(f"trainer.weight_sync=ipc: rollout worker {i} is on Ray node {node}, the learner on "
                               f"{learner_at[0]}; shared memory and CUDA IPC only reach processes of one node. Use "
                               f"trainer.weight_sync=collective (NCCL) for engines on other nodes.")
        if gpu != learner_at[1]:
            raise ConfigError(f"trainer.weight_sync=ipc: rollout worker {i} is on GPU {gpu}, the learner on "
                               f"{learner_at[1]}; ipc is for an engine colocated on the learner's GPU (give both "
                               f"fractional GPUs, e.g. cluster.learner_num_gpus=0.5 rollout.num_gpus=0.5). Use "
                               f"trainer.weight_sync=collective for engines on their own GPUs.")
