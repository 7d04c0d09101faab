"""HF model directories as plain state dicts: read every *.safetensors file, fill a tied lm_head, write one back.

Tied embeddings are stored once by transformers, but engines (vLLM) and extrapolation need `lm_head.weight` as its
own key: `with_lm_head` is the one place that fills it.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Mapping

import torch

LM_HEAD, EMBED = "lm_head.weight", "model.embed_tokens.weight"


class CheckpointError(ValueError):
    """A model directory or its trainer_state.json is missing or malformed (the message says which and what to do)."""


def with_lm_head(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The state dict with `lm_head.weight` present: filled from the embedding when tied weights were saved once."""
    if LM_HEAD not in state and EMBED in state:
        state = {**state, LM_HEAD: state[EMBED]}
    return state


def is_tied(model_dir: str | Path) -> bool:
    cfg = Path(model_dir) / "config.json"
    return cfg.is_file() and bool(json.loads(cfg.read_text()).get("tie_word_embeddings", False))


def read_safetensors(model_dir: str | Path) -> dict[str, torch.Tensor]:
    """Every tensor of the directory's *.safetensors files (no lm_head fill)."""
    from safetensors.torch import load_file

    path = Path(model_dir)
    files = sorted(path.glob("*.safetensors"))
    if not files:
        raise CheckpointError(f"{path}: no *.safetensors file; pass an HF model directory saved with "
                              "save_pretrained(safe_serialization=True)")
    state: dict[str, torch.Tensor] = {}
    for f in files:
        state.update(load_file(str(f)))
    return state


def load_state_dict(model_dir: str | Path) -> dict[str, torch.Tensor]:
    """All tensors of an HF model dir; a tied lm_head is filled so that every checkpoint exposes the same keys."""
    state = read_safetensors(model_dir)
    return with_lm_head(state) if is_tied(model_dir) else state


def read_step(ckpt: str | Path, override: int | None, flag: str) -> int:
    """The training step of a checkpoint (its trainer_state.json), unless the user passed it as `flag`."""
    if override is not None:
        return override
    state = Path(ckpt) / "trainer_state.json"
    if not state.is_file():
        raise CheckpointError(f"{state} does not exist, so the step of {ckpt} is unknown; pass {flag} N")
    try:
        return int(json.loads(state.read_text())["step"])
    except (KeyError, ValueError, TypeError) as e:
        raise CheckpointError(f"{state}: expected {{\"step\": N}} ({e!r}); fix the file or pass {flag} N") from e


def save_model_dir(state: Mapping[str, torch.Tensor], template_dir: str | Path, out_dir: str | Path,
                   max_shard_size: int | str = "5GB") -> Path:
    """Write an HF-loadable dir: tensors in safetensors shards of at most `max_shard_size` (model.safetensors when
    one is enough, else model-0000i-of-0000n.safetensors and their index, as save_pretrained writes them: a 7B fp32
    extrapolation is not one 28 GB file), config/tokenizer files copied from template_dir.

    With tied embeddings the lm_head copy is dropped (transformers re-ties it on load), unless it differs from the
    embedding, in which case tying is switched off in the written config so the distinct lm_head is honoured.
    """
    from huggingface_hub import save_torch_state_dict

    src, out = Path(template_dir), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    skip = {"trainer_state.json", "model.safetensors.index.json"}
    for f in src.iterdir():
        if f.is_file() and f.suffix not in (".safetensors", ".bin", ".pt") and f.name not in skip \
                and not f.name.startswith("."):
            shutil.copy2(f, out / f.name)
    tensors = {k: v.contiguous() for k, v in state.items()}
    if is_tied(src) and LM_HEAD in tensors and EMBED in tensors:
        if torch.equal(tensors[LM_HEAD], tensors[EMBED]):
            del tensors[LM_HEAD]
        else:
            cfg = json.loads((out / "config.json").read_text())
            cfg["tie_word_embeddings"] = False
            (out / "config.json").write_text(json.dumps(cfg, indent=2))
    save_torch_state_dict(tensors, out, max_shard_size=max_shard_size, metadata={"format": "pt"})
    return out
