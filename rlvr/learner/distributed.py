"""Data-parallel learner ranks: one torch.distributed process group (NCCL on GPU, gloo on CPU), the policy sharded
with FSDP2 `fully_shard` (each decoder layer, then the root), and the few collectives the update needs.

Why the update stays exact: every rank receives the whole (small: token ids and [B, T] floats) batch, so every rank
computes the same mini-batch order and the same global normalisers (global_tokens / global_seqs of the whole
mini-batch); each rank then takes its round-robin share of each mini-batch. Each rank's loss is its share of the
mini-batch loss, so gradients are *summed* over ranks (FSDP's divide factor is set to 1, not the world size).
FSDP's collectives need every rank to run the same number of forward/backward passes: a rank short of micro-batches
runs a zero-weight one (see Learner.update).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

PREFIX = "lm."  # the ResponseScorer wraps the HF model as `.lm`


@dataclass
class DistContext:
    rank: int = 0
    world_size: int = 1

    @property
    def active(self) -> bool:
        return self.world_size > 1

    def sum(self, values: list[float]) -> list[float]:
        """Element-wise sum over ranks (identity on one rank)."""
        if not self.active:
            return list(values)
        t = torch.tensor(values, dtype=torch.float64)
        dist.all_reduce(t)
        return t.tolist()

    def barrier(self) -> None:
        if self.active:
            dist.barrier()

    def gather(self, obj: Any) -> list[Any]:
        """Every rank's obj, in rank order (on every rank)."""
        if not self.active:
            return [obj]
        out: list[Any] = [None] * self.world_size
        dist.all_gather_object(out, obj)
        return out


def init_distributed(rank: int, world_size: int, init_method: str | None, backend: str | None,
                     device: torch.device) -> DistContext:
    """Join (or reuse) the default process group of the learner ranks."""
    if world_size <= 1:
        return DistContext()
    if not dist.is_initialized():
        backend = backend or ("nccl" if device.type == "cuda" else "gloo")
        if init_method is None:
            os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
            os.environ.setdefault("MASTER_PORT", "29511")
            init_method = "env://"
        dist.init_process_group(backend, init_method=init_method, rank=rank, world_size=world_size)
    return DistContext(dist.get_rank(), dist.get_world_size())


def decoder_layers(model: nn.Module) -> list[nn.Module]:
    """The transformer blocks (FSDP units, activation-checkpointing and compile units) of a causal LM or of a bare
    backbone (the critic's)."""
    decoder = model.get_decoder() if hasattr(model, "get_decoder") else model
    layers = getattr(decoder, "layers", None)
    if layers is None:
        raise ValueError(f"{type(model).__name__}: no decoder .layers to shard")
    return list(layers)


def shard(root: nn.Module, layers: list[nn.Module], compute_dtype: torch.dtype, master_dtype: torch.dtype,
          summed_grads: bool = True) -> None:
    """FSDP2: each decoder layer its own unit, the rest (embeddings, final norm, lm_head or value head) the root's;
    parameters stay sharded in master_dtype, gathered in compute_dtype, gradients reduced in fp32. Used for the
    policy (root: the ResponseScorer), the reference and the critic (root: the ValueModel)."""
    from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

    policy = MixedPrecisionPolicy(param_dtype=compute_dtype if compute_dtype != master_dtype else None,
                                  reduce_dtype=torch.float32)
    units = list(layers) + [root]
    for unit in units:
        fully_shard(unit, mp_policy=policy)
    if summed_grads:
        for unit in units:  # each FSDP unit reduces its own gradients
            unit.set_gradient_divide_factor(1.0)
            unit.set_force_sum_reduction_for_comms(True)  # a plain SUM (gloo has no PREMUL_SUM)


def full_state_dict(scorer: nn.Module, prefix: str = PREFIX) -> dict[str, torch.Tensor]:
    """The whole state dict on CPU, `prefix` stripped (HF names for the scorer). A collective: every rank calls it;
    rank 0 gets it (with cpu_offload the others get an empty dict)."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    sd = get_model_state_dict(scorer, options=StateDictOptions(full_state_dict=True, cpu_offload=True,
                                                               broadcast_from_rank0=False))
    return {k[len(prefix):]: v for k, v in sd.items()}


def load_full_state_dict(scorer: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Load HF-named full tensors into the shards (every rank passes the same dict)."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, set_model_state_dict

    own = get_keys(scorer)
    set_model_state_dict(scorer, {PREFIX + k: v for k, v in state.items() if PREFIX + k in own},
                         options=StateDictOptions(full_state_dict=True, strict=False))


def get_keys(module: nn.Module) -> set[str]:
    return set(module.state_dict().keys())


def save_sharded(directory: str | Path, parts: dict[str, tuple[nn.Module, torch.optim.Optimizer]]) -> None:
    """Model and AdamW state as each rank holds them (torch.distributed.checkpoint): no rank gathers the whole.
    `parts` names each (module, optimizer) pair: the policy, and the critic when there is one."""
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_state_dict

    state = {}
    for name, (module, optimizer) in parts.items():
        state[f"{name}_model"], state[f"{name}_optimizer"] = get_state_dict(module, optimizer)
    dcp.save(state, checkpoint_id=str(directory))


def load_sharded(directory: str | Path, parts: dict[str, tuple[nn.Module, torch.optim.Optimizer]]) -> None:
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict

    state = {}
    for name, (module, optimizer) in parts.items():
        state[f"{name}_model"], state[f"{name}_optimizer"] = get_state_dict(module, optimizer)
    dcp.load(state, checkpoint_id=str(directory))
    for name, (module, optimizer) in parts.items():
        set_state_dict(module, optimizer, model_state_dict=state[f"{name}_model"],
                       optim_state_dict=state[f"{name}_optimizer"])
