"""What the learner's measured peak memory at one model shape says about larger models: which fit one GPU.

The peak splits into a fixed part, 16 bytes per parameter (fp32 master weights, fp32 gradients, AdamW's two fp32
moments), and the rest: activations of one token-budget micro-batch, the lm_head chunk, allocator slack. With
activation checkpointing the kept layer inputs grow with hidden_size x layers, so the rest is scaled by that. It is a
projection from one measurement, printed as one, not a measured fit.
"""
from __future__ import annotations

GIB = 2 ** 30
FIXED_BYTES_PER_PARAM = 16  # fp32 weights + fp32 grads + AdamW exp_avg + exp_avg_sq

# The Qwen2.5 family's config.json values (the models the experiments train).
QWEN25 = {
    "Qwen2.5-1.5B": dict(hidden_size=1536, num_hidden_layers=28, num_attention_heads=12, num_key_value_heads=2,
                         intermediate_size=8960, vocab_size=151936, tie_word_embeddings=True),
    "Qwen2.5-3B": dict(hidden_size=2048, num_hidden_layers=36, num_attention_heads=16, num_key_value_heads=2,
                       intermediate_size=11008, vocab_size=151936, tie_word_embeddings=True),
    "Qwen2.5-7B": dict(hidden_size=3584, num_hidden_layers=28, num_attention_heads=28, num_key_value_heads=4,
                       intermediate_size=18944, vocab_size=152064, tie_word_embeddings=False),
    "Qwen2.5-14B": dict(hidden_size=5120, num_hidden_layers=48, num_attention_heads=40, num_key_value_heads=8,
                        intermediate_size=13824, vocab_size=152064, tie_word_embeddings=False),
}


def param_count(shape: dict) -> int:
    """Parameters of a Qwen2 causal LM of this shape (q/k/v biases, RMSNorm weights, lm_head unless tied)."""
    h, i, v = shape["hidden_size"], shape["intermediate_size"], shape["vocab_size"]
    kv = h // shape["num_attention_heads"] * shape["num_key_value_heads"]
    layer = (h * h + h) + 2 * (h * kv + kv) + h * h + 3 * h * i + 2 * h
    return v * h * (1 if shape.get("tie_word_embeddings", True) else 2) + shape["num_hidden_layers"] * layer + h


def project_peaks(peak_gib: float, measured: dict, budget_gib: float = 80.0) -> list[dict]:
    """Each QWEN25 model's projected peak from the peak measured at shape `measured`, and whether it fits."""
    fixed = param_count(measured) * FIXED_BYTES_PER_PARAM / GIB
    rest = max(peak_gib - fixed, 0.0)
    scale = measured["hidden_size"] * measured["num_hidden_layers"]
    rows = []
    for name, shape in QWEN25.items():
        n = param_count(shape)
        peak = n * FIXED_BYTES_PER_PARAM / GIB + rest * shape["hidden_size"] * shape["num_hidden_layers"] / scale
        rows.append({"model": name, "params": n, "projected_gib": peak, "fits": peak <= budget_gib})
    return rows


def print_projection(peak_gib: float, measured: dict, budget_gib: float = 80.0) -> None:
    rows = project_peaks(peak_gib, measured, budget_gib)
    fixed = param_count(measured) * FIXED_BYTES_PER_PARAM / GIB
    print(f"memory: peak {peak_gib:.1f} GiB = {fixed:.1f} GiB at 16 B/parameter + {peak_gib - fixed:.1f} GiB "
          f"activations and the rest; projected (not measured) on a {budget_gib:.0f} GiB GPU:")
    for r in rows:
        print(f"  {r['model']:<14}{r['params'] / 1e9:>6.2f}B  {r['projected_gib']:>7.1f} GiB  "
              f"{'fits' if r['fits'] else 'does not fit'}")
    fitting = [r["model"] for r in rows if r["fits"]]
    print(f"  largest that fits: {fitting[-1] if fitting else 'none'}")
