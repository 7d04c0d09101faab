"""The weight-sync transports (rlvr/weight_sync/): each one's pieces between real processes, the registry, and the
contract that a transport is one module with its driver, learner and engine sides."""
import pytest
import torch

def test_collective_weight_buckets_round_trip_between_two_processes():
    """The collective transport's pieces (bucketing, cast to the rollout dtype, broadcast, unflatten) over a real
    gloo group of two processes."""
    import multiprocessing as mp

    from rlvr.weight_sync.packing import buckets, tensor_meta

    state = {"a": torch.arange(6.0).view(2, 3), "b": torch.ones(4, dtype=torch.float64), "c": torch.arange(3)}
    meta = tensor_meta(state, "float32")
    assert [m[2] for m in meta] == ["float32", "float32", "int64"]
    assert buckets(meta, bucket_bytes=40) == [[0, 1], [2]] and buckets(meta, 8) == [[0], [1], [2]]
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    procs = [ctx.Process(target=_member, args=(rank, port, state, meta, queue)) for rank in (0, 1)]
    for p in procs:
        p.start()
    got = queue.get(timeout=120)
    for p in procs:
        p.join(timeout=60)
    assert got["a"] == (state["a"].tolist(), "torch.float32") and got["b"] == ([1.0] * 4, "torch.float32")
    assert got["c"] == ([0, 1, 2], "torch.int64")


def _member(rank, port, state, meta, queue):
    from rlvr.weight_sync.collective import join_group, receive_state, send_state

    group = join_group("127.0.0.1", port, rank, 2, "gloo", timeout_s=60)
    if rank == 0:
        send_state(group, state, meta, 40)
    else:
        queue.put({k: (v.tolist(), str(v.dtype)) for k, v in receive_state(group, meta, 40, "cpu")})


def test_nccl_groups_are_vllm_stateless_groups_with_a_pynccl_communicator(monkeypatch):
    """On GPUs the group is vLLM's StatelessProcessGroup at the sender's rendezvous address with a PyNccl
    communicator on the process's current GPU, and each bucket is broadcast on the current stream. (NCCL needs one
    GPU per member, so the transfer itself runs only on a machine with two or more GPUs.)"""
    import vllm.distributed.device_communicators.pynccl as pynccl
    import vllm.distributed.utils as vllm_utils

    from rlvr.weight_sync.collective import NcclGroup, join_group, send_state
    from rlvr.weight_sync.packing import tensor_meta

    calls = []

    class FakeComm:
        def __init__(self, group, device):
            calls.append(("comm", group, device))

        def broadcast(self, tensor, src, stream=None):
            calls.append(("broadcast", tensor.numel(), src, stream))

    monkeypatch.setattr(vllm_utils.StatelessProcessGroup, "create",
                        staticmethod(lambda **kw: calls.append(("create", kw)) or "the group"))
    monkeypatch.setattr(pynccl, "PyNcclCommunicator", FakeComm)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 3)
    monkeypatch.setattr(torch.cuda, "current_stream", lambda: "the stream")
    group = join_group("10.0.0.1", 29500, 1, 3, "nccl", timeout_s=60)
    assert isinstance(group, NcclGroup)
    assert calls == [("create", {"host": "10.0.0.1", "port": 29500, "rank": 1, "world_size": 3,
                                 "store_timeout": 60}), ("comm", "the group", 3)]
    state = {"a": torch.ones(6), "b": torch.ones(4)}
    send_state(group, state, tensor_meta(state, "float32"), bucket_bytes=24)
    assert calls[2:] == [("broadcast", 6, 0, "the stream"), ("broadcast", 4, 0, "the stream")]
    with pytest.raises(ValueError, match="use nccl"):
        join_group("10.0.0.1", 29500, 0, 2, "mpi")


def test_ipc_buckets_are_shared_not_copied_between_two_processes():
    """ipc's pieces: the learner packs buckets in the rollout dtype into shared memory, only the handles travel (a few
    hundred bytes, not the weights), and another process (not a child's inherited memory: spawned, handed the
    handles through a queue as bytes) maps the same memory: a write by the learner after sharing is visible to it."""
    import multiprocessing as mp

    from rlvr.weight_sync.ipc import share_state
    from rlvr.weight_sync.packing import tensor_meta

    state = {"a": torch.arange(6.0).view(2, 3), "b": torch.ones(4, dtype=torch.float64), "c": torch.arange(3),
             "big": torch.randn(64, 64)}
    meta = tensor_meta(state, "bfloat16")
    kept, shared = share_state(state, meta, bucket_bytes=64)
    assert len(kept) == 3 and all(t.is_shared() for t in kept)  # [a, b] in bf16, [c], [big]
    assert sum(len(handle) for handle, _ in shared) < 2000 < kept[2].numel() * 2
    ctx = mp.get_context("spawn")
    ask, answer = ctx.Queue(), ctx.Queue()
    proc = ctx.Process(target=_ipc_engine, args=(shared, ask, answer))
    proc.start()
    try:
        first = answer.get(timeout=120)
        kept[0][0] = 42.0  # the learner writes into its bucket; the engine's view must see it
        ask.put("again")
        second = answer.get(timeout=60)
    finally:
        ask.put("stop")
        proc.join(timeout=60)
    assert first["a"] == (state["a"].tolist(), "torch.bfloat16") and first["b"] == ([1.0] * 4, "torch.bfloat16")
    assert first["c"] == ([0, 1, 2], "torch.int64")
    assert first["big"][0] == state["big"].to(torch.bfloat16).tolist()
    assert second["a"][0][0][0] == 42.0


def _ipc_engine(shared, ask, answer):
    from rlvr.weight_sync.ipc import open_shared_state

    named = dict(open_shared_state(shared))
    while True:
        answer.put({k: (v.tolist(), str(v.dtype)) for k, v in named.items()})
        if ask.get(timeout=60) == "stop":
            return


def test_ipc_refuses_engines_away_from_the_learner():
    """ipc reaches only processes of the learner's node and GPU; the error names the field and the alternative."""
    from rlvr.weight_sync.ipc import check_colocated

    check_colocated(("node-a", None), [("node-a", None), ("node-a", None)])
    from rlvr.config_checks import ConfigError

    with pytest.raises(ConfigError, match=r"rollout worker 1 is on Ray node node-b.*weight_sync=collective"):
        check_colocated(("node-a", None), [("node-a", None), ("node-b", None)])
    with pytest.raises(ConfigError, match=r"rollout worker 0 is on GPU GPU-2.*learner_num_gpus=0.5"):
        check_colocated(("node-a", "GPU-1"), [("node-a", "GPU-2")])


def test_ipc_refills_the_previous_pushs_shared_memory_in_place():
    """On CPU the learner keeps its shared buckets between pushes and refills them (same memory, same handles), so
    an engine that kept its mapping sees the new weights; a changed layout allocates new buckets; GPU buckets are
    never kept (their memory belongs to the next phase)."""
    from rlvr.weight_sync.ipc import kept_after_push, open_shared_state, share_state
    from rlvr.weight_sync.packing import tensor_meta

    state = {"a": torch.zeros(3, 2), "b": torch.zeros(5)}
    meta = tensor_meta(state, "float32")
    kept, shared = share_state(state, meta, 1 << 20)
    views = dict(open_shared_state(shared))
    state["a"] += 7.0
    again, shared_again = share_state(state, meta, 1 << 20, reuse=kept_after_push(kept))
    assert again is kept and [h for h, _ in shared_again] == [h for h, _ in shared]
    assert views["a"].tolist() == [[7.0, 7.0]] * 3
    bigger = {**state, "c": torch.ones(4)}
    fresh, _ = share_state(bigger, tensor_meta(bigger, "float32"), 1 << 20, reuse=kept)
    assert fresh is not kept and fresh[0].numel() == 15
    assert kept_after_push(None) is None and kept_after_push([torch.zeros(1, device="meta")]) is None


def test_ipc_refuses_a_push_larger_than_the_free_shared_memory(monkeypatch):
    """Past /dev/shm's size a process touching the file dies of SIGBUS; ipc says so before and names the fixes."""
    import os

    from rlvr.weight_sync import ipc
    from rlvr.weight_sync.packing import tensor_meta

    class Tiny:
        f_bavail, f_frsize = 10, 4096  # 40 KB free

    monkeypatch.setattr(os, "statvfs", lambda path: Tiny())
    monkeypatch.setattr(os.path, "isdir", lambda path: True)
    state = {"w": torch.zeros(100_000)}
    with pytest.raises(RuntimeError, match=r"needs 0.4 MiB of shared memory \(/dev/shm\).*0.0 MiB are free.*"
                                           r"--shm-size.*weight_sync=collective"):
        ipc.share_state(state, tensor_meta(state, "float32"), 1 << 20)
    small = {"w": torch.zeros(100)}
    kept, _ = ipc.share_state(small, tensor_meta(small, "float32"), 1 << 20)
    assert kept[0].is_shared()


def test_the_registry_finds_every_transport_module_and_names_them_in_its_error():
    from rlvr.weight_sync import build_weight_sync, transport_names

    assert transport_names() == ["collective", "ipc", "object_store"]
    for name in transport_names():
        sync = build_weight_sync(name, "bfloat16")
        assert sync.name == name and callable(sync.push) and callable(sync.push_to)
    assert build_weight_sync("collective", on_gpu=True).backend == "nccl"
    with pytest.raises(ValueError, match=r"trainer.weight_sync='nccl' is not available; choose one of "
                                         r"\['collective', 'ipc', 'object_store'\]"):
        build_weight_sync("nccl")


class _Learner:
    """An in-process stand-in for the learner actor: its sender side over a two-tensor model."""

    class _Remote:
        def __init__(self, fn):
            self.fn = fn

        def remote(self, *args):
            return self.fn(*args)

    def __init__(self, state):
        from rlvr.weight_sync import SendsWeights

        host = type("Host", (SendsWeights,), {"weights_on_device": lambda self: state})()
        self.weight_sync_send = self._Remote(host.weight_sync_send)
        self.named_weights = self._Remote(lambda: dict(state))


def test_a_transport_moves_weights_between_the_generic_sides_in_one_process(monkeypatch):
    """object_store and ipc driven end to end through SendsWeights / ReceivesWeights in one process (ray.get and the
    engine group stand-ins pass values through): the receiver loads exactly the sender's tensors, cast to the
    rollout dtype for ipc, and records the version."""
    import ray

    from rlvr.weight_sync import ReceivesWeights, build_weight_sync

    monkeypatch.setattr(ray, "get", lambda x: x)
    state = {"w": torch.arange(6.0).view(2, 3), "step": torch.tensor(3)}

    class Engine(ReceivesWeights):
        loaded, version = {}, None

        def load_weights(self, named_tensors, version):
            self.loaded = {k: v.clone() for k, v in named_tensors}
            self.version = version

    class Engines:
        def __init__(self):
            self.actors = [Engine()]
            self.world_size = 1

        def call_all(self, method, *args):
            return [getattr(a, method)(*args) for a in self.actors]

    monkeypatch.setattr("rlvr.weight_sync.ipc.placement", lambda: ("node", None))
    for name, dtype in [("object_store", torch.float32), ("ipc", torch.bfloat16)]:
        engines = Engines()
        build_weight_sync(name, "bfloat16").push(_Learner(state), engines, version=5)
        got = engines.actors[0]
        assert got.version == 5 and got.loaded["w"].dtype == dtype and got.loaded["step"].tolist() == 3
        assert torch.equal(got.loaded["w"].float(), state["w"])
