"""Checkpoints that resume exactly and prove they are whole: HF-loadable weights (safetensors, tokenizer) plus
optimizer, scheduler, RNG states, the data cursor and the step.

A checkpoint is written into a temporary sibling directory and renamed into place as the very last action, so a run
killed half-way never leaves a directory that `latest_checkpoint` would pick up. The last file written inside the
temporary directory is `manifest.json`: the size and sha256 of every other file (sharded/ included).
`verify_checkpoint` checks them; `latest_checkpoint` returns the newest checkpoint that verifies and says, one line
each, which newer ones are damaged (file, what is wrong) and that it falls back. Checkpoints written before manifests
existed load unverified (after cheap structural checks), with a one-line warning.

Everything is loaded without unpickling code: `torch.load(weights_only=True)`, safetensors and JSON.
"""
from __future__ import annotations

import hashlib
import json
import logging
import random
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from rlvr.infra.atomic import atomic_directory, remove_stale_temporaries
from rlvr.infra.hf_weights import CheckpointError, read_safetensors, with_lm_head

STEP_DIR = re.compile(r"^step_(\d{6,})$")
TRAINER_STATE = "trainer_state.json"
MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
RNG_FORMAT = 2
_CHUNK = 1 << 20

logger = logging.getLogger(__name__)
Log = Callable[[str], None]

__all__ = ["CheckpointError", "MANIFEST", "TRAINER_STATE", "checkpoint_dir", "checkpoint_problem",
           "complete_checkpoints", "latest_checkpoint", "load_checkpoint", "load_rng_state", "prune_checkpoints", "read_trainer_state",
           "remove_stale_checkpoint_temporaries", "resolve_resume", "rng_state", "save_checkpoint", "set_rng_state",
           "verify_checkpoint", "write_manifest"]


# --------------------------------------------------------------------------------------------------- RNG states
def rng_state() -> dict[str, Any]:
    """Python, numpy, torch (and CUDA) RNG states as tensors, ints, floats and strings only, so that
    `torch.load(weights_only=True)` reads them back."""
    py_version, py_internal, py_gauss = random.getstate()
    np_kind, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    state: dict[str, Any] = {
        "format": RNG_FORMAT,
        "python": {"version": int(py_version), "state": torch.tensor(py_internal, dtype=torch.int64),
                   "gauss_next": py_gauss},
        "numpy": {"kind": str(np_kind), "keys": torch.from_numpy(np.asarray(np_keys, dtype=np.int64)),
                  "pos": int(np_pos), "has_gauss": int(np_has_gauss), "cached_gaussian": float(np_gauss)},
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what `rng_state` returned (or the tuples of checkpoints written before RNG_FORMAT 2)."""
    if state.get("format") == RNG_FORMAT:
        py, nps = state["python"], state["numpy"]
        random.setstate((py["version"], tuple(int(x) for x in py["state"].tolist()), py["gauss_next"]))
        np.random.set_state((nps["kind"], nps["keys"].numpy().astype(np.uint32), nps["pos"], nps["has_gauss"],
                             nps["cached_gaussian"]))
    else:  # format 1: the tuples of random.getstate() / np.random.get_state()
        random.setstate(state["python"])
        np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _numpy_array_globals() -> list:
    """The globals a pickled numpy array needs (old rng_state.pt files): array reconstruction only, no code."""
    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct
    return [np.ndarray, np.dtype, (_reconstruct, "numpy.core.multiarray._reconstruct"),
            (_reconstruct, "numpy._core.multiarray._reconstruct"), *(type(np.dtype(t)) for t in ("uint32", "float64"))]


def load_rng_state(path: str | Path) -> dict[str, Any]:
    """rng_state.pt read with weights_only=True; files written before RNG_FORMAT 2 hold numpy arrays, which are
    allowed in (as arrays, nothing else)."""
    path = Path(path)
    try:
        return torch.load(path, weights_only=True)
    except Exception as first:  # noqa: BLE001 - retried below with numpy arrays allowed, else reported by file
        try:
            with torch.serialization.safe_globals(_numpy_array_globals()):
                return torch.load(path, weights_only=True)
        except Exception:  # noqa: BLE001
            raise CheckpointError(f"{path}: cannot be read ({_one_line(first)})") from first


# ----------------------------------------------------------------------------------------------------- manifests
def file_sha256(path: str | Path) -> str:
    """sha256 of a file, read in 1 MiB pieces (any size)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file() and p.relative_to(directory).as_posix() != MANIFEST)


def write_manifest(directory: str | Path) -> Path:
    """Write directory/manifest.json: relative path, size and sha256 of every other file under it. Call it last,
    when nothing else will be written."""
    directory = Path(directory)
    files = {p.relative_to(directory).as_posix(): {"size": p.stat().st_size, "sha256": file_sha256(p)}
             for p in _files(directory)}
    out = directory / MANIFEST
    tmp = directory / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps({"format": MANIFEST_FORMAT, "files": files}, indent=1))
    tmp.replace(out)
    return out


def _read_manifest(path: Path) -> tuple[dict[str, dict[str, Any]] | None, str | None]:
    """(files, None) or (None, one-line reason)."""
    mpath = path / MANIFEST
    if not mpath.is_file():
        return None, f"{mpath}: missing"
    try:
        manifest = json.loads(mpath.read_text())
        files = manifest["files"]
        if not isinstance(files, dict) or not files:
            raise ValueError("no files listed")
        for rel, entry in files.items():
            parts = Path(rel).parts
            if Path(rel).is_absolute() or ".." in parts or not parts:
                raise ValueError(f"path {rel!r} is outside the checkpoint")
            if not (isinstance(entry["size"], int) and isinstance(entry["sha256"], str)):
                raise ValueError(f"entry for {rel!r} lacks size/sha256")
    except Exception as e:  # noqa: BLE001 - any damage to the manifest is one reason
        return None, f"{mpath}: unreadable ({_one_line(e)})"
    return files, None


def verify_checkpoint(path: str | Path) -> str | None:
    """None if every file listed in manifest.json is there with its size and sha256; else one line naming the file
    and what is wrong (missing, size differs, content differs, manifest missing or unreadable). Sizes are checked for
    every file before any content is hashed."""
    path = Path(path)
    if not path.is_dir():
        return f"{path}: not a directory"
    files, problem = _read_manifest(path)
    if problem:
        return problem
    for rel, entry in files.items():
        f = path / rel
        if not f.is_file():
            return f"{f}: missing (listed in {MANIFEST})"
        size = f.stat().st_size
        if size != entry["size"]:
            return f"{f}: size {size} bytes, {MANIFEST} says {entry['size']} ({'truncated' if size < entry['size'] else 'grown'})"
    for rel, entry in files.items():
        if file_sha256(path / rel) != entry["sha256"]:
            return f"{path / rel}: content differs from its sha256 in {MANIFEST} (damaged or overwritten)"
    return None


def _legacy_problem(path: Path) -> str | None:
    """Cheap structural checks of a checkpoint without manifest.json (written before manifests): trainer_state.json
    parses, every safetensors file's header matches its size, every .pt file is a zip whose CRCs hold."""
    ts = path / TRAINER_STATE
    try:
        state = json.loads(ts.read_text())
        if not isinstance(state, dict):
            raise ValueError("not a JSON object")
    except Exception as e:  # noqa: BLE001
        return f"{ts}: unreadable ({_one_line(e)})"
    weights = sorted(path.glob("*.safetensors"))
    if not weights and not (path / "sharded").is_dir():
        return f"{path}: no *.safetensors file"
    for f in weights:
        problem = _safetensors_problem(f)
        if problem:
            return f"{f}: {problem}"
    for f in sorted(path.glob("*.pt")):
        try:
            with zipfile.ZipFile(f) as z:
                bad = z.testzip()
            if bad is not None:
                return f"{f}: damaged (CRC of {bad} fails)"
        except Exception as e:  # noqa: BLE001
            return f"{f}: unreadable ({_one_line(e)})"
    return None


def _safetensors_problem(f: Path) -> str | None:
    size = f.stat().st_size
    try:
        with open(f, "rb") as fh:
            n = int.from_bytes(fh.read(8), "little")
            if size < 8 or n > size - 8:
                return f"size {size} bytes is shorter than its header says (truncated)"
            header = json.loads(fh.read(n))
        end = max((int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__"), default=0)
    except Exception as e:  # noqa: BLE001
        return f"header unreadable ({_one_line(e)})"
    if 8 + n + end != size:
        return f"size {size} bytes, its header says {8 + n + end} ({'truncated' if size < 8 + n + end else 'grown'})"
    return None


def checkpoint_problem(path: str | Path) -> tuple[str | None, bool]:
    """(problem, verified): (None, True) when the manifest verifies; (None, False) for a checkpoint written before
    manifests that passes the structural checks; (reason, ...) when it must not be used."""
    path = Path(path)
    if not path.is_dir():
        return f"{path}: no such checkpoint directory", False
    if not (path / MANIFEST).exists():
        if not (path / TRAINER_STATE).is_file():
            return f"{path}: not a complete checkpoint (no {TRAINER_STATE}, no {MANIFEST})", False
        return _legacy_problem(path), False
    return verify_checkpoint(path), True


def _unverified_warning(path: Path) -> str:
    return (f"checkpoint {path}: no {MANIFEST} (written before manifests, or the manifest was deleted); "
            f"loading it unverified")


# ------------------------------------------------------------------------------------------------ save and find
def checkpoint_dir(run_dir: str | Path, step: int) -> Path:
    return Path(run_dir) / "checkpoints" / f"step_{step:06d}"


def _step(p: Path) -> int:
    return int(STEP_DIR.match(p.name).group(1))


def save_checkpoint(run_dir: str | Path, step: int, *, model, tokenizer=None, optimizer=None, scheduler=None,
                    trainer_state: dict[str, Any], keep_last: int = 3, extra_state: dict[str, Any] | None = None
                    ) -> Path:
    """Write run_dir/checkpoints/step_NNNNNN atomically, manifest.json last; prune to the newest `keep_last`."""
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
        write_manifest(tmp)
    prune_checkpoints(run_dir, step, keep_last)
    return final


def prune_checkpoints(run_dir: str | Path, step: int, keep_last: int) -> None:
    """Keep the newest `keep_last` checkpoints up to `step` (the one just written); newer ones (left by a run that
    resumed from an earlier step, e.g. after falling back from a damaged one) are overwritten as the run gets there."""
    if keep_last <= 0:
        return
    upto = [p for p in complete_checkpoints(run_dir) if _step(p) <= step]
    for old in upto[:-keep_last]:
        shutil.rmtree(old, ignore_errors=True)


def complete_checkpoints(run_dir: str | Path) -> list[Path]:
    """Finished checkpoint directories, oldest first (a temp dir or one without trainer_state.json is not finished;
    whether a finished one is whole is `verify_checkpoint`'s answer)."""
    root = Path(run_dir) / "checkpoints"
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and STEP_DIR.match(p.name) and (p / TRAINER_STATE).is_file()]
    return sorted(found, key=_step)


def latest_checkpoint(run_dir: str | Path, *, log: Log | None = None) -> Path | None:
    """The newest checkpoint that verifies (or, written before manifests, passes the structural checks). For each
    newer damaged one, one line through `log` (default: a logging warning) names the file, what is wrong and the
    step it falls back to."""
    log = log or logger.warning
    damaged: list[str] = []
    for path in reversed(complete_checkpoints(run_dir)):
        problem, verified = checkpoint_problem(path)
        if problem is None:
            for reason in damaged:
                log(f"damaged checkpoint: {reason}; falling back to step {_step(path)}")
            if not verified:
                log(_unverified_warning(path))
            return path
        damaged.append(problem)
    for reason in damaged:
        log(f"damaged checkpoint: {reason}; no earlier checkpoint verifies")
    return None


def remove_stale_checkpoint_temporaries(run_dir: str | Path, *, log: Log | None = None) -> list[Path]:
    """Delete the temporary directories killed checkpoint writes left in run_dir/checkpoints (never a finished
    checkpoint). Only for a run's start: no other process may be writing checkpoints of this run."""
    removed = remove_stale_temporaries(Path(run_dir) / "checkpoints", STEP_DIR)
    if removed:
        (log or logger.warning)(f"removed {len(removed)} unfinished checkpoint write(s): "
                                f"{', '.join(p.name for p in removed)}")
    return removed


def resolve_resume(run_dir: str | Path, resume: str | None, *, log: Log | None = None) -> Path | None:
    """The checkpoint a run starting in run_dir resumes from: `auto` -> the newest that verifies (None when the run
    has none), `never`/empty -> None, else the given directory, which must exist and verify. Removes the run's stale
    temporary checkpoint directories first. Raises CheckpointError (one line) rather than start afresh silently."""
    log = log or logger.warning
    remove_stale_checkpoint_temporaries(run_dir, log=log)
    if resume in ("never", "", None):
        return None
    if resume == "auto":
        ckpt = latest_checkpoint(run_dir, log=log)
        found = complete_checkpoints(run_dir)
        if ckpt is None and found:
            raise CheckpointError(f"{Path(run_dir) / 'checkpoints'}: none of its {len(found)} checkpoint(s) is whole "
                                  f"(newest: {checkpoint_problem(found[-1])[0]}); pass trainer.resume=never to start "
                                  f"afresh or trainer.resume=<checkpoint dir>")
        return ckpt
    path = Path(resume)
    if not path.exists():
        raise CheckpointError(f"trainer.resume={resume}: no such directory; pass trainer.resume=auto, never or an "
                              f"existing checkpoint directory (run_dir/checkpoints/step_NNNNNN)")
    problem, verified = checkpoint_problem(path)
    if problem:
        raise CheckpointError(f"trainer.resume={resume}: {problem}")
    if not verified:
        log(_unverified_warning(path))
    return path


# ---------------------------------------------------------------------------------------------------------- load
def load_checkpoint(path: str | Path, *, model, optimizer=None, scheduler=None, verify: bool = True
                    ) -> dict[str, Any]:
    """Restore weights, optimizer, scheduler and RNG states; return the trainer state (with `_extra_state`).
    With `verify`, the manifest is checked first; every failure is a one-line CheckpointError naming the file."""
    path = Path(path)
    if not (path / TRAINER_STATE).is_file():
        raise CheckpointError(f"{path} is not a complete checkpoint (no {TRAINER_STATE}); "
                              f"pass trainer.resume=never or another checkpoint directory")
    if verify:
        problem, verified = checkpoint_problem(path)
        if problem:
            raise CheckpointError(problem)
        if not verified:
            logger.warning(_unverified_warning(path))
    try:
        weights = with_lm_head(read_safetensors(path))  # tied embeddings are saved once
    except CheckpointError:
        raise
    except Exception as e:  # noqa: BLE001
        raise CheckpointError(f"{path}: its *.safetensors weights cannot be read ({_one_line(e)})") from e
    state_keys = model.state_dict().keys()
    missing = [k for k in state_keys if k not in weights]
    if missing:
        raise CheckpointError(f"{path}: checkpoint lacks {len(missing)} tensors of the model, e.g. {missing[:3]}")
    with torch.no_grad():
        for k, t in model.state_dict().items():
            t.copy_(weights[k].to(t.dtype))
    opt = _torch_load(path / "optimizer.pt")
    try:
        if optimizer is not None and opt["optimizer"] is not None:
            optimizer.load_state_dict(opt["optimizer"])
        if scheduler is not None and opt["scheduler"] is not None:
            scheduler.load_state_dict(opt["scheduler"])
    except Exception as e:  # noqa: BLE001
        raise CheckpointError(f"{path / 'optimizer.pt'}: does not fit this optimizer ({_one_line(e)})") from e
    set_rng_state(load_rng_state(path / "rng_state.pt"))
    state = read_trainer_state(path)
    state["_extra_state"] = opt.get("extra", {})
    return state


def read_trainer_state(path: str | Path) -> dict[str, Any]:
    f = Path(path) / TRAINER_STATE
    try:
        state = json.loads(f.read_text())
        if not isinstance(state, dict):
            raise ValueError("not a JSON object")
    except Exception as e:  # noqa: BLE001
        raise CheckpointError(f"{f}: unreadable ({_one_line(e)})") from e
    return state


def _torch_load(f: Path) -> Any:
    """torch.load with weights_only=True (tensors and plain containers, no code), failures named by file."""
    try:
        return torch.load(f, weights_only=True, map_location="cpu")
    except Exception as e:  # noqa: BLE001
        raise CheckpointError(f"{f}: cannot be read ({_one_line(e)})") from e


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0][:200]}" if text else type(e).__name__
