"""Randomly initialised Qwen2 models of a given shape, saved with the embedded tokenizer: what the benchmarks time
(speed does not depend on the weights' values, and no model hub is needed)."""
from __future__ import annotations


def random_model_dir(shape: dict, out: str, dtype: str = "float32") -> str:
    """A randomly initialised Qwen2 of `shape` (Qwen2Config keys; absent ones keep their defaults) with the embedded
    tokenizer, saved in `dtype` (the learner reads only its pad id)."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from rlvr.models.tokenizer import build_char_tokenizer

    tok = build_char_tokenizer()
    keys = ("hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "intermediate_size",
            "vocab_size", "max_position_embeddings", "tie_word_embeddings")
    config = Qwen2Config(**{k: shape[k] for k in keys if k in shape}, pad_token_id=tok.pad_token_id,
                         bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    torch.manual_seed(0)
    Qwen2ForCausalLM(config).to(getattr(torch, dtype)).save_pretrained(out, safe_serialization=True)
    tok.save_pretrained(out)
    return out
