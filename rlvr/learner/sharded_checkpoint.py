"""Checkpoints of a data-parallel learner (several FSDP2 ranks): same directory layout as rlvr.infra.checkpoint (HF
safetensors + tokenizer/config, rng_state.pt, trainer_state.json, manifest.json) plus `sharded/`, the model and AdamW
state as each rank holds it (torch.distributed.checkpoint: no rank ever gathers the optimizer state) and
`learner_state.pt`.

Every rank calls both functions at once (they are collectives). Every rank writes its shards into one temporary
directory; rank 0 adds the full HF weights (engines, evaluation), RNG and trainer state, then manifest.json (sizes and
sha256 of every file, sharded/ included) and renames the directory into place last, so a run killed half-way leaves
nothing `latest_checkpoint` would pick up, and a damaged file is found by `verify_checkpoint`.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import torch

from rlvr.infra.atomic import temp_prefix
from rlvr.infra.checkpoint import (TRAINER_STATE, CheckpointError, checkpoint_dir, checkpoint_problem,
                                   load_rng_state, prune_checkpoints, read_trainer_state, rng_state, set_rng_state,
                                   write_manifest)
from rlvr.infra.hf_weights import save_model_dir
from rlvr.learner import distributed


def save_sharded_checkpoint(learner, run_dir: str | Path, step: int, trainer_state: dict, keep_last: int) -> Path:
    rank = learner.dist.rank
    final = checkpoint_dir(run_dir, step)
    tmp = final.with_name(f"{temp_prefix(final)}sharded")
    if rank == 0:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    learner.dist.barrier()
    # Model and AdamW state as each rank holds it (no rank gathers the whole); the schedule and critic from rank 0.
    distributed.save_sharded(tmp / "sharded", learner.sharded_parts())
    if rank == 0:
        torch.save(learner.training_state(), tmp / "learner_state.pt")
    learner.dist.barrier()  # every rank's shards are written
    weights = learner.named_weights()  # a collective; rank 0 gets them
    if rank == 0:
        save_model_dir(weights, learner.model_path, tmp)
        torch.save(rng_state(), tmp / "rng_state.pt")
        (tmp / TRAINER_STATE).write_text(json.dumps({**trainer_state, "step": step}, indent=1))
        write_manifest(tmp)
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        prune_checkpoints(run_dir, step, keep_last)
    learner.dist.barrier()
    return final


def load_sharded_checkpoint(learner, path: str | Path) -> dict:
    """Restore model and AdamW shards, schedule, RNG; return the trainer state. Every rank checks the manifest first
    (same files, same answer, so all ranks raise together)."""
    path = Path(path)
    if not (path / "sharded").is_dir():
        raise FileNotFoundError(f"{path} has no sharded/ model and optimizer state (a 1-rank checkpoint?): resuming "
                                f"with cluster.learner_world_size > 1 needs a checkpoint written by a sharded run")
    problem, _ = checkpoint_problem(path)
    if problem:
        raise CheckpointError(problem)
    try:
        state = torch.load(path / "learner_state.pt", weights_only=True, map_location="cpu")
    except Exception as e:  # noqa: BLE001
        raise CheckpointError(f"{path / 'learner_state.pt'}: cannot be read with weights_only=True "
                              f"({type(e).__name__})") from e
    distributed.load_sharded(path / "sharded", learner.sharded_parts())
    learner.load_training_state(state)
    set_rng_state(load_rng_state(path / "rng_state.pt"))
    return read_trainer_state(path)
