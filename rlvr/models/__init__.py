"""The embedded tiny model: a char-level tokenizer and a small Qwen2, built locally (no model hub needed)."""
from rlvr.models.tiny import PRESETS, build_tiny_model_dir, ensure_tiny_model

__all__ = ["PRESETS", "build_tiny_model_dir", "ensure_tiny_model"]
