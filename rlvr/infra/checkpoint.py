"""Checkpoints that resume exactly: HF-loadable weights (safetensors, tokenizer) plus optimizer, scheduler, RNG
states, the data cursor and the step.

A checkpoint is written into a temporary sibling directory and renamed into place as the very last action, so a run
killed half-way never leaves a directory that `latest_checkpoint` would pick up.
"""
from __future__ import annotations

import json
import random
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rlvr.infra.atomic import atomic_directory
from rlvr.infra.hf_weights import read_safetensors, with_lm_head

STEP_DIR = re.compile(r"^step_(\d{6,})$")
TRAINER_STATE = "trainer_state.json"


def rng_state() -> dict[str, Any]:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def checkpoint_dir(run_dir: str | Path, step: int) -> Path:
    return Path(run_dir) / "checkpoints" / f"step_{step:06d}"


def save_checkpoint(run_dir: str | Path, step: int, *, model, tokenizer=None, optimizer=None, scheduler=None,
                    trainer_state: dict[str, Any], keep_last: int = 3, extra_state: dict[str, Any] | None = None
                    ) -> Path:
    """Write run_dir/checkpoints/step_NNNNNN atomically; prune to the newest `keep_last` complete ones."""
    final = checkpoint_dir(run_dir, step)
    with atomic_directory(final) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        if tokenizer is not None:
            tokenizer.save_pretrained(tmp)
        torch.save({"optimizer": optimizer.state_dict() if optimizer is not None else None,
                    "scheduler": scheduler.state_dict() if scheduler is not None else None,
                    "extra": extra_state or {}}, tmp / "optimizer.pt")
        torch.save(rng_state(), tmp / "rng_state.pt")
        (tmp / TRAINER_STATE).write_text(json.dumps({**trainer_state, "step": step}, indent=1))
    for old in complete_checkpoints(run_dir)[:-keep_last] if keep_last > 0 else []:
        if old != final:
            shutil.rmtree(old, ignore_errors=True)
    return final


def complete_checkpoints(run_dir: str | Path) -> list[Path]:
    """Complete checkpoints, oldest first (a temp dir or one without trainer_state.json is not complete)."""
    root = Path(run_dir) / "checkpoints"
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and STEP_DIR.match(p.name) and (p / TRAINER_STATE).is_file()]
    return sorted(found, key=lambda p: int(STEP_DIR.match(p.name).group(1)))


def latest_checkpoint(run_dir: str | Path) -> Path | None:
    found = complete_checkpoints(run_dir)
    return found[-1] if found else None


def load_checkpoint(path: str | Path, *, model, optimizer=None, scheduler=None) -> dict[str, Any]:
    """Restore weights, optimizer, scheduler and RNG states; return the trainer state (with `_extra_state`)."""
    path = Path(path)
    if not (path / TRAINER_STATE).is_file():
        raise FileNotFoundError(f"{path} is not a complete checkpoint (no {TRAINER_STATE}); "
                                f"pass trainer.resume=never or another checkpoint directory")
    weights = with_lm_head(read_safetensors(path))  # tied embeddings are saved once
    state_keys = model.state_dict().keys()
    missing = [k for k in state_keys if k not in weights]
    if missing:
        raise ValueError(f"{path}: checkpoint lacks {len(missing)} tensors of the model, e.g. {missing[:3]}")
    with torch.no_grad():
        for k, t in model.state_dict().items():
            t.copy_(weights[k].to(t.dtype))
    opt = torch.load(path / "optimizer.pt", weights_only=False)
    if optimizer is not None and opt["optimizer"] is not None:
        optimizer.load_state_dict(opt["optimizer"])
    if scheduler is not None and opt["scheduler"] is not None:
        scheduler.load_state_dict(opt["scheduler"])
    set_rng_state(torch.load(path / "rng_state.pt", weights_only=False))
    state = json.loads((path / TRAINER_STATE).read_text())
    state["_extra_state"] = opt.get("extra", {})
    return state
