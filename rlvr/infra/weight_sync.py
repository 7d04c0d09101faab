"""How the learner's weights reach the rollout engines: one interface, one implementation per transport.

`object_store` (today's, works everywhere incl. CPU): the learner exports its state dict to CPU, Ray's object store
carries it once, every engine loads it in place. GPU transports (CUDA IPC when colocated, an NCCL broadcast group
when not) implement the same two calls. Whatever the transport, the loop then proves the engines serve the new
weights (the log-prob sync check) and each engine records the policy_version it holds.
"""
from __future__ import annotations

from typing import Any, Protocol


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


WEIGHT_SYNCS = {"object_store": ObjectStoreSync}


def build_weight_sync(name: str) -> WeightSync:
    if name not in WEIGHT_SYNCS:
        raise ValueError(f"trainer.weight_sync={name!r} is not available; choose one of {sorted(WEIGHT_SYNCS)}")
    return WEIGHT_SYNCS[name]()
