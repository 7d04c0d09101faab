"""The learner at Qwen2.5's real vocabulary (151,936) and hidden size (896): chunked log-probs and entropy equal the
whole-matrix ones and the model's own logits, with the same lm_head gradients; the memory projection that
`python -m bench memory` checks against measurements counts what the real model holds. Full-depth, memory-heavy
runs live in the bench (docs/real_shape.md), not here: these use 2 decoder layers."""
import pytest
import torch

from bench.learner_memory import QWEN25, param_count, project_update_peak

REAL = QWEN25["Qwen2.5-0.5B"]
UNCHUNKED = 10 ** 9


@pytest.fixture(scope="module")
def real_vocab_model():
    """Qwen2.5-0.5B's shape cut to 2 decoder layers (166M parameters, 0.7 GB in fp32)."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = Qwen2ForCausalLM(Qwen2Config(**{**REAL, "num_hidden_layers": 2}, max_position_embeddings=512))
    return model.float().eval()


def _batch(V: int):
    """Two right-padded rows (prompt 6 / 9, response 150 / 60 tokens) of random ids over the whole vocabulary."""
    from rlvr.batch import TrainBatch, pad_batch

    g = torch.Generator().manual_seed(1)
    ids = lambda n: torch.randint(3, V, (n,), generator=g).tolist()  # noqa: E731
    batch = TrainBatch(prompt_ids=[ids(6), ids(9)], response_ids=[ids(150), ids(60)], group_ids=[0, 0])
    return pad_batch(batch, pad_id=0)


def _score(model, pb, chunk_tokens: int, grad: bool = False):
    from rlvr.learner.logprobs import ResponseScorer

    scorer = ResponseScorer(model)
    model.zero_grad(set_to_none=True)
    with torch.set_grad_enabled(grad):
        out = scorer(pb.input_ids, pb.attention_mask, pb.positions, pb.response_ids, pb.mask,
                     chunk_tokens=chunk_tokens, want_entropy=True)
    if grad:
        (out["logprobs"] * pb.mask).sum().backward()
        out["head_grad"] = model.lm_head.weight.grad.clone()
    return out


@pytest.mark.slow
def test_chunked_log_probs_and_entropy_equal_the_whole_matrix_at_the_real_vocabulary(real_vocab_model):
    """Chunks of 64 tokens (210 response tokens: 4 chunks, the last partial) against one chunk of all of them and
    against log_softmax of the model's own [B, L, V] logits. Tolerance: fp32 logits of ~|z| <= 10 summed over
    151,936 terms; the chunked and whole matmuls may block differently, which moves a log-prob by ~1e-6, so 1e-4
    absolute is 100x that and far below any real change (a 1e-6 learning-rate step moves log-probs by ~1e-3).
    Measured on the 2-core machine: chunked = unchunked bit for bit, 1.9e-6 from the model's own logits, lm_head
    gradients 2.1e-6 apart at a largest entry of 13 (summation order over chunks; atol 2e-5 is ~10x that)."""
    model = real_vocab_model
    pb = _batch(REAL["vocab_size"])
    chunked, whole = _score(model, pb, 64, grad=True), _score(model, pb, UNCHUNKED, grad=True)
    mask = pb.mask > 0
    assert int(mask.sum()) == 210
    for key in ("logprobs", "entropy"):
        assert torch.allclose(chunked[key][mask], whole[key][mask], atol=1e-4, rtol=0), key
    with torch.no_grad():
        logits = model(input_ids=pb.input_ids, attention_mask=pb.attention_mask).logits.float()
    logp = torch.log_softmax(logits, -1)
    rows = torch.arange(2)[:, None]
    direct = logp[rows, pb.positions].gather(-1, pb.response_ids[..., None]).squeeze(-1)
    assert torch.allclose(chunked["logprobs"][mask], direct[mask], atol=1e-4, rtol=0)
    entropy = -(logp.exp() * logp).sum(-1)[rows, pb.positions]
    assert torch.allclose(chunked["entropy"][mask], entropy[mask], atol=1e-4, rtol=0)
    assert float(chunked["entropy"][mask].detach().mean()) > 10  # near log V = 11.9 for a random model: the real vocabulary
    # Log-prob gradients reach the tied lm_head the same way (the checkpointed chunks' recompute included).
    g1, g2 = chunked["head_grad"], whole["head_grad"]
    assert torch.allclose(g1, g2, atol=2e-5, rtol=1e-4), float((g1 - g2).abs().max())
    assert float(g1.abs().max()) > 0


@pytest.mark.slow
def test_the_learners_backward_leaves_no_chunk_logits_alive(real_vocab_model):
    """ResponseScorer's entropy is a metric off the graph: after the backward of the log-probs, while the outputs
    are still held (as the learner holds them until the next micro-batch), no [chunk, V] logits survive. With the
    entropy on the graph, the checkpoint recomputed its never-run branch's tensors and kept 3 per chunk alive
    (1.8 GiB after the backward of a 2,000-token response at this vocabulary)."""
    import gc

    from rlvr.learner.logprobs import ResponseScorer

    V = REAL["vocab_size"]
    pb = _batch(V)
    out = ResponseScorer(real_vocab_model)(pb.input_ids, pb.attention_mask, pb.positions, pb.response_ids, pb.mask,
                                           chunk_tokens=64, want_entropy=True)
    (out["logprobs"] * pb.mask).sum().backward()
    gc.collect()
    alive = [tuple(t.shape) for t in gc.get_objects() if isinstance(t, torch.Tensor) and t.dim() == 2
             and t.shape[-1] == V]
    assert alive == [], alive
    assert out["entropy"].grad_fn is None and float(out["entropy"].sum()) > 0
    real_vocab_model.zero_grad(set_to_none=True)


def test_the_projection_counts_qwen25_05b_parameters_like_the_real_model():
    from transformers import Qwen2Config, Qwen2ForCausalLM

    with torch.device("meta"):
        model = Qwen2ForCausalLM(Qwen2Config(**REAL))
    assert param_count(REAL) == sum(p.numel() for p in model.parameters()) == 494_032_768


def test_the_projection_moves_the_way_each_memory_feature_does():
    """Each feature off raises the projected peak by its own term; FSDP shards it; bf16 adds autocast's copies."""
    mbs = [(3200, 3000), (700, 500)]

    def peak(mb=mbs, **kw):
        return project_update_peak(REAL, mb, **kw)["total_gib"]

    base = peak()
    states = param_count(REAL) * 16 / 2 ** 30
    assert states < base < states + 5
    # Unchunked: 5 [tokens, V] fp32 copies of 3,000 tokens instead of 1,024, and no second chunk's lm_head gradient.
    V, H = REAL["vocab_size"], REAL["hidden_size"]
    assert peak(chunk_tokens=None) - base == pytest.approx((5 * (3000 - 1024) * V * 4 - 4 * V * H) / 2 ** 30)
    assert peak(checkpointing=False) > base + 5          # 24 layers' activations of 3,200 tokens
    assert peak([(6400, 3500)]) > base                   # no token budget, padded: one micro-batch of both rows
    # 16 B/parameter halved (3.7 GiB), less the gathered root (embedding + its unsharded gradient, 1.1 GiB).
    assert peak(world_size=2) < base - 2
    assert peak(compute_bytes=2) > base - 1              # autocast's bf16 weight copies outweigh halved activations
    assert peak(runtime_gib=0.5) == pytest.approx(base + 0.5)


def test_a_cpu_learner_keeps_the_freed_gradients_under_the_mmap_threshold_resident():
    """On CPU the previous step's gradients, freed by zero_grad(set_to_none=True), stay resident when they came from
    glibc's heap (tensors under 32 MiB): every 0.5B decoder-layer weight, not the [V, H] embedding. FSDP2's sharded
    gradients are one reduce-scatter output per layer. Larger models' MLP weights are their own mmaps."""
    from bench.learner_memory import HOST_MMAP_THRESHOLD, host_retained_grad_bytes

    h, i, L = REAL["hidden_size"], REAL["intermediate_size"], REAL["num_hidden_layers"]
    kv = h // REAL["num_attention_heads"] * REAL["num_key_value_heads"]
    layer = 2 * h * h + 2 * kv * h + 3 * h * i + h + 2 * kv + 2 * h
    assert 4 * h * i < HOST_MMAP_THRESHOLD < 4 * REAL["vocab_size"] * h
    assert host_retained_grad_bytes(REAL) == 4 * (L * layer + h)                  # 1.33 GiB of 1.84
    assert host_retained_grad_bytes(REAL) / 2 ** 30 == pytest.approx(1.334, abs=1e-3)
    assert host_retained_grad_bytes(REAL, world_size=2) == L * (4 * layer // 2)
    big = QWEN25["Qwen2.5-1.5B"]                                                      # gate/up/down: 55 MB each
    h2, i2 = big["hidden_size"], big["intermediate_size"]
    assert 4 * h2 * i2 > HOST_MMAP_THRESHOLD
    assert host_retained_grad_bytes(big) < big["num_hidden_layers"] * 4 * 3 * h2 * i2 / 3
    peak = lambda **kw: project_update_peak(REAL, [(1400, 1000)], runtime_gib=0.39, **kw)  # noqa: E731
    on_cpu, on_gpu = peak(host=True, fused_adamw=True), peak()
    assert on_cpu["freed gradients kept resident"] * 2 ** 30 == host_retained_grad_bytes(REAL)
    assert on_cpu["total_gib"] - on_gpu["total_gib"] >= host_retained_grad_bytes(REAL) / 2 ** 30 - 1e-9


def test_the_projections_moments_term_by_term():
    """The three moments as measured per phase at the real width and vocabulary: the lm_head chunk's backward holds
    5 [chunk, V] fp32 and no [V, H] gradient with one chunk (one [V, H] more with several); the end of the backward
    holds every layer gradient and, tied, 3 [V, H] fp32 (the lm_head's gradient waiting for the embedding's dense
    one, and their sum); unfused AdamW two [V, H] temporaries (sqrt(v) and its quotient)."""
    V, H, L = REAL["vocab_size"], REAL["hidden_size"], REAL["num_hidden_layers"]
    E, GiB = V * H, 2 ** 30
    moments = lambda mb, **kw: project_update_peak(REAL, mb, **kw)["moments"]  # noqa: E731
    one, two = moments([(1400, 1000)]), moments([(1400, 2000)])
    hidden = lambda t, r: (2 * t * H * 4 + 2 * r * H * 4) / GiB  # noqa: E731
    assert one["start of backward"] == pytest.approx((1400 * H * 4 * L + 5 * 1000 * V * 4) / GiB + hidden(1400, 1000))
    assert two["start of backward"] == pytest.approx((1400 * H * 4 * L + 5 * 1024 * V * 4 + 4 * E) / GiB
                                                     + hidden(1400, 2000))
    n = param_count(REAL)
    layer_grads = 4 * (n - E - H)
    assert one["end of backward"] > (layer_grads + 3 * 4 * E) / GiB
    assert one["end of backward"] - (layer_grads + 3 * 4 * E) / GiB < 0.2  # + the last layer's recompute
    assert moments([(1400, 1000)], fused_adamw=False)["optimizer step"] == pytest.approx((4 * n + 8 * E) / GiB)
    assert one["optimizer step"] == pytest.approx(4 * n / GiB)  # fused (the GPU default): no temporaries
    # FSDP2, 2 ranks: sharded gradients, the gathered root given back before the step.
    fsdp = moments([(700, 500)], world_size=2, fused_adamw=False)
    assert fsdp["optimizer step"] == pytest.approx((4 * n / 2 - 4 * E + 8 * E / 2) / GiB)


# Peaks measured by `python -m bench memory --phases` on the 2-core machine (fp32 unless the configuration says bf16,
# 2 updates, Qwen2.5-0.5B's width and vocabulary cut to L layers; docs/real_shape.md): (configuration, ranks, layers,
# response lengths, token budget) -> per-rank peak GiB; the runtime measured before the model loaded was 0.39 GiB.
MEASURED = {("all on", 1, 2, (500, 500), 3300): 5.38, ("all on", 1, 4, (500, 500), 3300): 5.84,
            ("all on", 1, 24, (500, 500), 3300): 10.50, ("all on", 1, 24, (500, 3000), 3300): 11.17,
            ("all on", 2, 2, (500, 500), 3300): 3.77,
            ("all on", 2, 8, (500, 500), 3300): 4.64, ("all on", 2, 12, (500, 500), 3300): 5.31,
            ("all on", 2, 24, (500, 500), 3300): 7.02,
            # each memory feature off in turn (4 layers, responses 500 and 1,500, a budget that holds one row)
            ("all on", 1, 4, (500, 1500), 1700): 6.42, ("no chunked log-probs", 1, 4, (500, 1500), 1700): 7.26,
            ("no token budget", 1, 4, (500, 1500), 1700): 6.44,
            ("no token budget, no padding-free", 1, 4, (500, 1500), 1700): 6.48,
            ("no activation checkpointing", 1, 4, (500, 1500), 1700): 6.93,
            ("bf16 compute (fp32 masters)", 1, 4, (500, 1500), 1700): 6.73}


@pytest.mark.parametrize("config,ranks,layers,responses,budget", list(MEASURED))
def test_the_projection_is_within_15_percent_of_each_measured_peak(config, ranks, layers, responses, budget):
    from bench.learner import SHAPES
    from bench.memory import projection, settings_for

    shape = dict(SHAPES["0.5b"], num_hidden_layers=layers)
    p = projection(shape, 200, list(responses), settings_for(config, budget, ranks, 0), 0.39, ranks, 0, "cpu")
    measured = MEASURED[(config, ranks, layers, responses, budget)]
    assert abs(p["total_gib"] - measured) / measured < 0.15, (p["total_gib"], measured)


def test_a_big_vocabulary_model_dir_with_the_char_tokenizer_decodes_what_it_generates():
    """The real-shape loop runs the char tokenizer beside a 151,936-token vocabulary: ids beyond the tokenizer's
    100 decode to nothing instead of failing (the verifier then sees no answer)."""
    from rlvr.models.tokenizer import build_char_tokenizer

    tok = build_char_tokenizer()
    assert tok.decode([tok.convert_tokens_to_ids("7"), 151_000, 5_000]) == "7"


def test_bench_memory_measures_a_configuration_in_its_own_process(tmp_path):
    """`python -m bench memory` at the CPU shape: the child reports its runtime, load and update peaks, the parent
    sets the projection beside them."""
    from bench import memory
    from bench.learner import SHAPES
    from bench.random_model import random_model_dir

    model_dir = random_model_dir(SHAPES["cpu"], str(tmp_path / "model"))
    rows = memory.measure("cpu", 16, [16, 40], ["all on"], budget=64, steps=1, world_sizes=[1], cap_gib=8.0,
                          model_dir=model_dir)
    (row,) = rows
    assert "error" not in row, row
    assert 0 < row["runtime_gib"] <= row["load_gib"] <= row["peak_gib"] + 0.05
    assert row["tokens_per_s"] > 0 and row["projection"]["total_gib"] > row["runtime_gib"]
    assert row["micro_batches"] == [(56, 40), (32, 16)]


def test_the_80gb_projection_fits_3b_and_never_7b():
    """docs/real_shape.md's answer, from the corrected projection: 7B's fp32 states alone (16 B/parameter, 113 GiB)
    exceed one 80 GiB GPU at any batch; 3B fits at the experiment's lengths with a 16k-token budget."""
    from bench.learner_memory import gpu_fit_table

    rows = {(r["model"], r["budget"]): r for r in gpu_fit_table([3200, 16384])}
    assert rows[("Qwen2.5-3B", 16384)]["fits"] and rows[("Qwen2.5-1.5B", 16384)]["fits"]
    assert not rows[("Qwen2.5-7B", 3200)]["fits"]
    assert rows[("Qwen2.5-7B", 3200)]["projected_gib"] > param_count(QWEN25["Qwen2.5-7B"]) * 16 / 2 ** 30
