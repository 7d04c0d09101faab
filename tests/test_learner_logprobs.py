"""The chunked log-prob/entropy path equals the naive full-logits one (values and gradients, to 1e-5) and its peak
memory is about (tokens / chunk) times smaller, measured by torch's own CPU allocation records (the profiler)."""
import pytest
import torch
from torch.profiler import ProfilerActivity, profile

from rlvr.algorithms.entropy import token_entropy
from rlvr.algorithms.sft import forward_kl_full
from rlvr.algorithms.siren import top_p_entropy
from rlvr.batch import pad_batch, response_logits, token_logprobs, TrainBatch
from rlvr.learner.logprobs import ResponseScorer, token_stats


def _problem(n=300, h=16, v=512, seed=0):
    g = torch.Generator().manual_seed(seed)
    hidden = torch.randn(n, h, generator=g, requires_grad=True)
    weight = (0.5 * torch.randn(v, h, generator=g)).requires_grad_(True)
    tokens = torch.randint(0, v, (n,), generator=g)
    return hidden, weight, tokens


def _naive(hidden, weight, tokens, temperature):
    z = (hidden @ weight.t()).float() / temperature
    logp = torch.log_softmax(z, -1)
    return logp.gather(-1, tokens[:, None]).squeeze(-1), token_entropy(z)


def _grads(outputs, inputs):
    return torch.autograd.grad(sum(o.sum() * c for o, c in zip(outputs, (1.0, 0.3, -0.7))), inputs)


def test_chunked_logprobs_and_entropy_equal_the_full_matrix_values_and_gradients():
    hidden, weight, tokens = _problem()
    lp_ref, ent_ref = _naive(hidden, weight, tokens, 0.7)
    got = token_stats(hidden, weight, tokens, temperature=0.7, chunk_tokens=64, want_entropy=True)  # 300 % 64 != 0
    assert torch.allclose(got["logprobs"], lp_ref, atol=1e-5) and torch.allclose(got["entropy"], ent_ref, atol=1e-5)
    for a, b in zip(_grads([got["logprobs"], got["entropy"]], [hidden, weight]),
                    _grads([lp_ref, ent_ref], [hidden, weight])):
        assert torch.allclose(a, b, atol=1e-5), float((a - b).abs().max())


def test_full_logits_quantities_ride_the_same_chunked_loop():
    """SIREN's top-p entropy and ASFT's full-vocabulary KL, as per-chunk extras, equal the whole-matrix ones."""
    hidden, weight, tokens = _problem(n=130, v=256)
    ref_hidden = hidden.detach() + 0.1
    ref_weight = weight.detach().flip(0)
    extras = {"top_p": lambda z, ref: top_p_entropy(z, 0.8, 50),
              "kl": lambda z, ref: forward_kl_full(z, ref)}
    got = token_stats(hidden, weight, tokens, chunk_tokens=32, extras=extras, ref_hidden=ref_hidden,
                      ref_weight=ref_weight)
    z = hidden @ weight.t()
    want_top_p = top_p_entropy(z, 0.8, 50)
    want_kl = forward_kl_full(z, ref_hidden @ ref_weight.t())
    assert torch.allclose(got["top_p"], want_top_p, atol=1e-5) and torch.allclose(got["kl"], want_kl, atol=1e-5)
    for a, b in zip(_grads([got["top_p"], got["kl"]], [hidden, weight]), _grads([want_top_p, want_kl],
                                                                                [hidden, weight])):
        assert torch.allclose(a, b, atol=1e-5)


def _peak_bytes(fn) -> int:
    """Peak live bytes of CPU tensors allocated inside fn (forward and backward), from the profiler's records."""
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    live = peak = 0
    for event in sorted(prof.events(), key=lambda e: e.time_range.start):
        live += event.self_cpu_memory_usage
        peak = max(peak, live)
    return peak


def test_chunked_path_peak_memory_is_tokens_over_chunk_times_smaller():
    n, v, chunk = 512, 8192, 32
    hidden, weight, tokens = _problem(n=n, h=8, v=v)

    def naive():
        lp, ent = _naive(hidden, weight, tokens, 1.0)
        (lp.sum() + ent.sum()).backward()

    def chunked():
        out = token_stats(hidden, weight, tokens, chunk_tokens=chunk, want_entropy=True)
        (out["logprobs"].sum() + out["entropy"].sum()).backward()

    full_matrix = n * v * 4
    naive_peak, chunked_peak = _peak_bytes(naive), _peak_bytes(chunked)
    assert naive_peak >= full_matrix                       # the [N, V] fp32 logits exist at once
    assert chunked_peak < full_matrix / 2                  # they never do here
    print(f"peak bytes: naive {naive_peak}, chunked {chunked_peak}, ratio {naive_peak / chunked_peak:.1f}")
    assert naive_peak / chunked_peak > (n / chunk) / 2, (naive_peak, chunked_peak)  # ~n/chunk (16) less


def test_response_scorer_equals_the_models_own_logits(tiny_model_dir):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(tiny_model_dir), dtype=torch.float32)
    batch = TrainBatch(prompt_ids=[[1, 20, 21, 22], [1, 23]], response_ids=[[30, 31, 2], [34]], group_ids=[0, 0])
    pb = pad_batch(batch, 0)
    naive = token_logprobs(response_logits(model(input_ids=pb.input_ids, attention_mask=pb.attention_mask).logits,
                                           pb.positions).float() / 0.6, pb.response_ids) * pb.mask
    out = ResponseScorer(model)(pb.input_ids, pb.attention_mask, pb.positions, pb.response_ids, pb.mask,
                                temperature=0.6, chunk_tokens=2, full_logits=True)
    assert torch.allclose(out["logprobs"], naive, atol=1e-5)
    assert out["logits"].shape == (2, 3, model.config.vocab_size)


@pytest.mark.parametrize("n", [0, 1])
def test_degenerate_sizes(n):
    hidden, weight, tokens = _problem(n=n)
    out = token_stats(hidden, weight, tokens, chunk_tokens=8, want_entropy=True)
    assert out["logprobs"].shape == (n,) and out["entropy"].shape == (n,)
