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
    "Qwen2.5-0.5B": dict(hidden_size=896, num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2,
                         intermediate_size=4864, vocab_size=151936, tie_word_embeddings=True),
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


# ---------------------------------------------------------------------------------------------- a-priori projection
# The peak of one learner update from the model's shape, the micro-batches' token counts and the memory settings,
# term by term, without a measurement (what `python -m bench memory` sets beside the measured peak).

# Elements one decoder layer keeps for its backward, per token (transformers' Qwen2 layer, eager autograd): the two
# RMSNorms' normalised and weighted outputs (4h), q/k/v (h + 2kv), rotary's rotate_half copies and results
# (2h + 2kv), the sdpa inputs after repeat_kv (2h), the attention output and its contiguous copy (2h), the residual
# sums (2h), the MLP's gate, up, silu(gate) and their product (4i).
def layer_activation_elements(shape: dict) -> int:
    h, i = shape["hidden_size"], shape["intermediate_size"]
    kv = h // shape["num_attention_heads"] * shape["num_key_value_heads"]
    return 13 * h + 4 * kv + 4 * i


# [chunk, V] fp32 tensors alive at once in the backward of one checkpointed log-prob chunk: the recomputed logits z
# and z / T, the gradients of z from the gather and the logsumexp, their sum. Measured inside the learner at
# V = 151,936 on CPU (one chunk of 1,000 or 500 response tokens, 2 to 24 decoder layers, 1 and 2 ranks): the resident
# set rises by 5.0 [chunk, V] fp32 at the lm_head chunk's backward, the same at every depth. The chunk's [V, H] lm_head
# gradient appears after these are freed; with several chunks the earlier chunks' summed [V, H] gradient waits in
# autograd's input buffer beside the next chunk's copies (measured in isolation: +0.9 [chunk, V] with two chunks).
LOGIT_COPIES = 5

# glibc's largest dynamic mmap threshold (DEFAULT_MMAP_THRESHOLD_MAX on 64-bit): a CPU tensor of at least this many
# bytes is its own mmap, returned to the kernel when freed; a smaller one comes from the heap, and its pages stay
# resident after it is freed while later allocations (AdamW's moments, created after the first gradients) sit above
# them.
HOST_MMAP_THRESHOLD = 32 * 2 ** 20


def _layer_tensor_numels(shape: dict) -> list[int]:
    """Elements of each parameter tensor of one Qwen2 decoder layer: q/k/v weights and biases, o, gate/up/down,
    the two RMSNorm weights."""
    h, i = shape["hidden_size"], shape["intermediate_size"]
    kv = h // shape["num_attention_heads"] * shape["num_key_value_heads"]
    return [h * h, h, kv * h, kv, kv * h, kv, h * h, i * h, i * h, h * i, h, h]


def _layer_params(shape: dict) -> int:
    return sum(_layer_tensor_numels(shape))


def host_retained_grad_bytes(shape: dict, world_size: int = 1) -> int:
    """Gradient bytes that stay resident on a CPU learner between the optimizer step and the next backward, though
    `zero_grad(set_to_none=True)` freed them: the gradient tensors under glibc's mmap threshold. One rank: each
    decoder layer's weight gradients are their own tensors (for Qwen2.5-0.5B all under 32 MiB: 1.33 GiB of its
    1.84 GiB of gradients; the [V, H] embedding gradient is an mmap and goes back). FSDP2: each unit's sharded
    gradients are views of one reduce-scatter output, 4 x layer parameters / world size bytes per layer.

    Measured (Qwen2.5-0.5B's width and vocabulary, 24 layers, one rank): the heap's free bytes after the second
    update's forward were 1.56 GiB (1.33 of them the freed layer gradients), and the new gradients reused about a
    third of them, the rest coming from fresh pages; with MALLOC_MMAP_THRESHOLD_=1 MiB (every gradient its own mmap)
    the term disappears. The projection takes the upper bound: the freed pages stay and the new gradients take
    fresh ones."""
    L = shape["num_hidden_layers"]
    if world_size > 1:
        unit = 4 * _layer_params(shape) // world_size
        return L * unit if unit < HOST_MMAP_THRESHOLD else 0
    small = sum(4 * x for x in _layer_tensor_numels(shape) if 4 * x < HOST_MMAP_THRESHOLD)
    return L * small + 4 * shape["hidden_size"]  # + the final norm's


def project_update_peak(shape: dict, micro_batches: list[tuple[int, int]], compute_bytes: int = 4,
                        checkpointing: bool = True, chunk_tokens: int | None = 1024, world_size: int = 1,
                        runtime_gib: float = 0.0, host: bool = False,
                        fused_adamw: bool | None = None) -> dict[str, float]:
    """Projected peak (GiB) of a learner update from the second optimizer step on (AdamW state exists).

    micro_batches: (tokens the forward processes: rows x longest padded, the sum when packed; response tokens
    scored) per micro-batch of this rank. compute_bytes: 2 for bf16 compute over fp32 masters (one rank: autocast
    keeps a bf16 copy of every weight it casts until the forward's graph is freed), 4 for fp32. chunk_tokens: the
    log-prob chunk (None = all the micro-batch's response tokens at once). world_size > 1: FSDP2 shards the 16 B per
    parameter; the root unit (embedding = tied lm_head, final norm) stays gathered in the compute dtype through the
    forward and backward. runtime_gib: what the process holds before the model loads (Python, torch, transformers;
    0 on a GPU, whose allocator does not see it). host: a CPU learner, whose peak is the resident set: the freed
    gradients of the previous step stay resident (host_retained_grad_bytes). fused_adamw: AdamW's fused kernel
    (no temporaries; the learner's default on CUDA); None = fused unless host.

    The peak is the largest of three moments: the start of the backward (every layer's checkpointed input, the
    logit chunk's backward, no gradient yet), the end of the backward (every layer's gradient, and for a tied
    embedding its dense [V, H] gradient beside the lm_head's, held in autograd's input buffer, and their sum) and
    AdamW's step (every gradient; unfused, two temporaries the size of the largest parameter: sqrt(v) and its
    quotient)."""
    n = param_count(shape)
    h, v, L = shape["hidden_size"], shape["vocab_size"], shape["num_hidden_layers"]
    tied = shape.get("tie_word_embeddings", True)
    embed = v * h
    if fused_adamw is None:
        fused_adamw = not host
    states_no_grads = 12 * n / world_size                 # fp32 masters + AdamW's two moments
    grads = 4 * n / world_size
    layer_grads = 4 * L * _layer_params(shape) / world_size
    layer_act = layer_activation_elements(shape) * compute_bytes
    terms = {"runtime": runtime_gib * GIB, "fp32 masters + AdamW": states_no_grads}
    if host:
        terms["freed gradients kept resident"] = host_retained_grad_bytes(shape, world_size)
    gathered = 0.0
    if world_size > 1:
        gathered = embed * compute_bytes * (1 if tied else 2)
        terms["fsdp_gathered_root"] = gathered
    elif compute_bytes < 4:
        terms["autocast_weight_copies"] = n * compute_bytes
    # The end of the backward: a tied embedding's dense gradient, the lm_head's waiting beside it, their sum (3 [V, H]
    # fp32 at once); untied, the lm_head's and the embedding's own gradients.
    head_end = (3 if tied else 2) * 4 * embed
    start = end = 0.0
    for tokens, response in micro_batches:
        c = response if chunk_tokens is None else min(chunk_tokens, response)
        logits = LOGIT_COPIES * c * v * 4
        if c < response:  # the earlier chunks' summed [V, H] lm_head gradient beside the next chunk's backward
            logits += 4 * embed
        saved = tokens * h * compute_bytes * L if checkpointing else tokens * layer_act * L
        hidden = 2 * tokens * h * 4 + 2 * response * h * 4   # final hidden states, response rows, their gradients
        start = max(start, saved + logits + hidden)
        end = max(end, tokens * (layer_act + h * compute_bytes) + hidden + layer_grads + head_end)
    optimizer = grads - gathered + (0 if fused_adamw else 2 * 4 * embed / world_size)
    moment = max(start, end, optimizer)
    terms["peak moment"] = moment
    out = {k: x / GIB for k, x in terms.items()}
    out["which"] = ("start of backward" if moment == start else "end of backward" if moment == end
                    else "optimizer step")
    out["moments"] = {"start of backward": start / GIB, "end of backward": end / GIB, "optimizer step": optimizer / GIB}
    out["total_gib"] = sum(x for x in terms.values()) / GIB
    return out


def gpu_fit_table(budgets: list[int], prompt: int = 200, response: int = 3000, gpu_gib: float = 80.0,
                  cuda_context_gib: float = 0.5) -> list[dict]:
    """Each QWEN25 model's projected peak on one GPU at the memory plan's settings (bf16 compute over fp32 masters,
    activation checkpointing, 1,024-token log-prob chunks, padding-free micro-batches) for each token budget, at its
    worst micro-batch: as many of the longest sequences (prompt + response tokens) as the budget packs (at least
    one). The number of sequences per step does not enter: micro-batches accumulate gradients."""
    rows = []
    for name, shape in QWEN25.items():
        for budget in budgets:
            k = max(1, budget // (prompt + response))
            peak = project_update_peak(shape, [(k * (prompt + response), k * response)], compute_bytes=2,
                                       runtime_gib=cuda_context_gib)
            rows.append({"model": name, "budget": budget, "sequences": k, "projected_gib": peak["total_gib"],
                         "fits": peak["total_gib"] <= gpu_gib})
    return rows
