"""How the learner's weights reach the rollout engines: one module per transport, each holding its three sides.

- `Transport` runs on the driver: `push` sends the learner's current weights to every engine, `push_to` to one
  restarted engine.
- `Sender` (optional) lives in the learner actor, on every rank; the driver reaches it through the actor's one
  generic method `weight_sync_send(transport, op, *args)` (SendsWeights).
- `Receiver` lives in each rollout worker, reached through `weight_sync_receive(transport, op, *args)`
  (ReceivesWeights).

A transport is a module of this package that defines `Transport`; `trainer.weight_sync` names it. A new transport
(a shared file system, say) is one new file. Whatever the transport, the loop then proves the engines serve the new
weights (the log-prob sync check) and each engine records the policy_version it holds.
"""
from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType
from typing import Any, Protocol

import torch


class WeightSync(Protocol):
    name: str

    def push(self, learner: Any, engines: Any, version: int) -> None:
        """Send the learner's current weights to every engine (an ActorGroup) as `version`."""

    def push_to(self, learner: Any, engines: Any, rank: int, version: int) -> None:
        """Send them to one engine (one that was restarted and reloaded its initial weights)."""


def transport_names() -> list[str]:
    """The modules of this package that define a Transport."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__)
                  if hasattr(importlib.import_module(f"{__name__}.{m.name}"), "Transport"))


def transport_module(name: str) -> ModuleType:
    if name not in transport_names():
        raise ValueError(f"trainer.weight_sync={name!r} is not available; choose one of {transport_names()}")
    return importlib.import_module(f"{__name__}.{name}")


def build_weight_sync(name: str, rollout_dtype: str = "float32", on_gpu: bool = False) -> WeightSync:
    """`trainer.weight_sync` -> its driver side. Transports that pack tensors send them in the rollout dtype; those
    that use a process group take NCCL when learner and engines are on GPUs, gloo otherwise."""
    return transport_module(name).Transport(dtype=rollout_dtype, on_gpu=on_gpu)


class SendsWeights:
    """The learner actor's side. The host provides `weights_on_device()` (the full HF state dict, lm_head included:
    a collective every rank joins when the model is sharded) and `sends_weights()` (True on the one rank that
    sends)."""

    def weights_on_device(self) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def sends_weights(self) -> bool:
        return True

    def weight_sync_send(self, transport: str, op: str, *args):
        senders = self.__dict__.setdefault("_weight_senders", {})
        if transport not in senders:
            senders[transport] = transport_module(transport).Sender(self)
        return getattr(senders[transport], op)(*args)


class ReceivesWeights:
    """A rollout worker's side. The host provides `load_weights(named_tensors, version)`."""

    def load_weights(self, named_tensors, version: int) -> None:
        raise NotImplementedError

    def weight_sync_receive(self, transport: str, op: str, *args):
        receivers = self.__dict__.setdefault("_weight_receivers", {})
        if transport not in receivers:
            receivers[transport] = transport_module(transport).Receiver(self.load_weights)
        return getattr(receivers[transport], op)(*args)
