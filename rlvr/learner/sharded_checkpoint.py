"""Checkpoints of a data-parallel learner (several FSDP2 ranks): same directory layout as rlvr.infra.checkpoint (HF
safetensors + tokenizer/config, rng_state.pt, trainer_state.json) plus `sharded/`, the model and AdamW state as each
rank holds it (torch.distributed.checkpoint: no rank ever gathers the optimizer state) and `learner_state.pt`.

Every rank calls both functions at once (they are collectives). Every rank writes its shards into one temporary
directory; rank 0 adds the full HF weights (engines, evaluation), RNG and trainer state and renames the directory into
place last, so a run killed half-way leaves nothing `latest_checkpoint` would pick up.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import torch

from rlvr.infra.checkpoint import TRAINER_STATE, checkpoint_dir, complete_checkpoints, rng_state, set_rng_state
from rlvr.infra.hf_weights import save_model_dir


def save_sharded_checkpoint(learner, run_dir: str | Path, step: int, trainer_state: dict, keep_last: int) -> Path:
    rank = learner.dist.rank
    final = checkpoint_dir(run_dir, step)
    tmp = final.with_name(f".{final.name}.tmp-sharded")
    if rank == 0:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    learner.dist.barrier()
    learner.save_sharded(tmp)
    weights = learner.named_weights()  # a collective; rank 0 gets them
    if rank == 0:
        save_model_dir(weights, learner.model_path, tmp)
        torch.save(rng_state(), tmp / "rng_state.pt")
        (tmp / TRAINER_STATE).write_text(json.dumps({**trainer_state, "step": step}, indent=1))
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        for old in complete_checkpoints(run_dir)[:-keep_last] if keep_last > 0 else []:
            if old != final:
                shutil.rmtree(old, ignore_errors=True)
    learner.dist.barrier()
    return final


def load_sharded_checkpoint(learner, path: str | Path) -> dict:
    """Restore model and AdamW shards, schedule, RNG; return the trainer state."""
    path = Path(path)
    if not (path / "sharded").is_dir():
        raise FileNotFoundError(f"{path} has no sharded/ model and optimizer state (a 1-rank checkpoint?): resuming "
                                f"with cluster.learner_world_size > 1 needs a checkpoint written by a sharded run")
    learner.load_sharded(path)
    set_rng_state(torch.load(path / "rng_state.pt", weights_only=False))
    return json.loads((path / TRAINER_STATE).read_text())
