"""Build (and cache) the embedded tiny Qwen2 model directory that both transformers and vLLM load.

The directory is rebuilt deterministically from (preset, seed) when it is missing or incomplete. It is written into
a temporary sibling and renamed into place only when complete, so a run killed half-way never leaves a directory
that a later run would trust.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from rlvr.infra.atomic import atomic_directory
from rlvr.models.tokenizer import build_char_tokenizer

COMPLETE_MARKER = ".rlvr_complete"


@dataclass(frozen=True)
class TinyPreset:
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    intermediate_size: int
    max_position_embeddings: int = 512


PRESETS: dict[str, TinyPreset] = {
    # ~1M parameters: learns two-operand arithmetic on 2 CPU cores in minutes (docs/DESIGN.md measurements).
    "tiny": TinyPreset(hidden_size=128, num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2,
                       intermediate_size=512),
    # ~31M parameters: for the GPU machine (bf16 learner checks, benchmarks).
    "small": TinyPreset(hidden_size=512, num_hidden_layers=8, num_attention_heads=8, num_key_value_heads=4,
                        intermediate_size=2048, max_position_embeddings=1024),
}


def default_cache_dir() -> Path:
    """$RLVR_CACHE_DIR, else $XDG_CACHE_HOME/rlvr, else ~/.cache/rlvr."""
    if os.environ.get("RLVR_CACHE_DIR"):
        return Path(os.environ["RLVR_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "rlvr"


def _spec(preset: str, seed: int) -> dict:
    if preset not in PRESETS:
        raise ValueError(f"model.preset={preset!r} is not a known tiny-model preset; choose one of {sorted(PRESETS)}")
    return {"preset": preset, "seed": seed, **asdict(PRESETS[preset]), "format": 1}


def _spec_hash(spec: dict) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]


def build_tiny_model_dir(out_dir: str | os.PathLike, preset: str = "tiny", seed: int = 0) -> Path:
    """Write the tokenizer and a randomly initialised Qwen2ForCausalLM (fp32) to `out_dir` (atomically)."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    spec = _spec(preset, seed)
    p = PRESETS[preset]
    tok = build_char_tokenizer()
    config = Qwen2Config(
        vocab_size=len(tok),
        hidden_size=p.hidden_size,
        intermediate_size=p.intermediate_size,
        num_hidden_layers=p.num_hidden_layers,
        num_attention_heads=p.num_attention_heads,
        num_key_value_heads=p.num_key_value_heads,
        max_position_embeddings=p.max_position_embeddings,
        tie_word_embeddings=True,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        torch_dtype="float32",
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = Qwen2ForCausalLM(config)
    out = Path(out_dir)
    with atomic_directory(out) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tok.save_pretrained(tmp)
        (tmp / COMPLETE_MARKER).write_text(json.dumps(spec, sort_keys=True))
    return out


def is_complete(model_dir: str | os.PathLike, spec: dict | None = None) -> bool:
    """True when the directory was fully written (and, if given, from the same spec)."""
    marker = Path(model_dir) / COMPLETE_MARKER
    if not marker.is_file():
        return False
    if spec is None:
        return True
    try:
        return json.loads(marker.read_text()) == spec
    except (OSError, json.JSONDecodeError):
        return False


def ensure_tiny_model(preset: str = "tiny", seed: int = 0, cache_dir: str | os.PathLike | None = None) -> Path:
    """Return the cached model directory for (preset, seed), building it if missing or incomplete."""
    spec = _spec(preset, seed)
    root = Path(cache_dir) if cache_dir else default_cache_dir()
    path = root / "models" / f"{preset}-seed{seed}-{_spec_hash(spec)}"
    if not is_complete(path, spec):
        build_tiny_model_dir(path, preset=preset, seed=seed)
    return path
