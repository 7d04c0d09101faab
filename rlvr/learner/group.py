"""The learner's ranks (one or more) behind the interface of one learner actor handle, so that the driver (rlvr.run,
rlvr.step, the weight sync) keeps calling `learner.update.remote(...)`, `learner.named_weights.remote()`, ... unchanged.

Every method of the learner is a collective across the ranks (FSDP2 gathers and reduces inside update, scoring,
weight export and checkpoints), so each call goes to every rank with the same arguments; the caller gets rank 0's
ObjectRef (its answer is the whole batch's). The others' refs are kept and checked on the next call, so a failure on
any rank surfaces instead of leaving rank 0 waiting forever.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from rlvr.infra.lazy_ray import lazy_ray


def free_tcp_address() -> str:
    """tcp://this-host:free-port for the ranks' rendezvous, on the node this runs on."""
    from rlvr.infra.net import free_port, node_address

    host = node_address()
    return f"tcp://{host}:{free_port(host)}"


def _rendezvous_here() -> tuple[str, str]:
    import ray

    return ray.get_runtime_context().get_node_id(), free_tcp_address()


def rendezvous_on_learner_node(options: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """The ranks' rendezvous address on a node that can hold a rank (`options`: one rank's Ray options, e.g. with
    cluster.learner_resources), and the options that put every rank on that node. On a cluster the learner's node
    need not be the driver's, and rank 0 must listen where the others connect."""
    ray = lazy_ray()
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    probe = {k: v for k, v in (options or {}).items() if k in ("num_cpus", "num_gpus", "resources")}
    node_id, address = ray.get(ray.remote(_rendezvous_here).options(**probe).remote())
    return address, {**(options or {}),
                     "scheduling_strategy": NodeAffinitySchedulingStrategy(node_id=node_id, soft=False)}


class _Method:
    def __init__(self, group: "LearnerGroup", name: str):
        self.group, self.name = group, name

    def remote(self, *args, **kwargs):
        return self.group.submit(self.name, *args, **kwargs)


class LearnerGroup:
    """`world_size` LearnerActor ranks forming one torch.distributed group (see rlvr.learner.distributed); the run's
    learner even with one rank, so the driver has one kind of learner handle."""

    def __init__(self, model_path: str, objective: Any, settings: Any, world_size: int,
                 options: dict[str, Any] | None = None):
        from rlvr.infra.actor_group import ActorGroup
        from rlvr.learner.actor import LearnerActor

        address = settings.dist_init_method
        if not address and world_size > 1:  # one rank forms no process group, so needs no rendezvous
            address, options = rendezvous_on_learner_node(options)

        def make_args(rank: int):
            ranked = dataclasses.replace(settings, rank=rank, world_size=world_size, dist_init_method=address)
            return (model_path, objective, ranked), {}

        self.actors = ActorGroup(LearnerActor, world_size, make_args, options=options, name="learner rank")
        self._pending: list = []

    @property
    def world_size(self) -> int:
        return self.actors.world_size

    def submit(self, method: str, *args, **kwargs):
        """The call on every rank; rank 0's ObjectRef back. Raises a failure of an earlier call on any rank."""
        self.check()
        refs = self.actors.submit_all(method, *args, **kwargs)
        self._pending = refs[1:]
        return refs[0]

    def check(self) -> None:
        """Wait for the other ranks' last call and re-raise its error, if any."""
        pending, self._pending = self._pending, []
        if pending:
            lazy_ray().get(pending)

    def __getattr__(self, name: str) -> _Method:
        if name.startswith("_"):
            raise AttributeError(name)
        return _Method(self, name)
