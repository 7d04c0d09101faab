"""`trainer.weight_sync=object_store` (works everywhere): the learner exports its state dict to CPU, Ray's object
store carries it once, every engine loads it in place."""
from __future__ import annotations

from typing import Any


class Transport:
    name = "object_store"

    def __init__(self, dtype: str = "float32", on_gpu: bool = False):
        self._weights_ref = None  # one export shared by every engine of a version (and by a restarted one)
        self._version = -1

    def _export(self, learner: Any, version: int):
        if self._version != version or self._weights_ref is None:
            self._weights_ref = learner.named_weights.remote()
            self._version = version
        return self._weights_ref

    def push(self, learner: Any, engines: Any, version: int) -> None:
        engines.call_all("weight_sync_receive", self.name, "load", self._export(learner, version), version)

    def push_to(self, learner: Any, engines: Any, rank: int, version: int) -> None:
        import ray

        actor = engines.actors[rank]
        ray.get(actor.weight_sync_receive.remote(self.name, "load", self._export(learner, version), version))


class Receiver:
    def __init__(self, load):
        self.load_weights = load

    def load(self, state: dict, version: int) -> None:
        self.load_weights(state.items(), version)
