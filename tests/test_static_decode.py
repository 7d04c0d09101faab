"""The HF engine's static-KV-cache loop (the GPU fast path, rlvr.rollout.static_decode) against the plain dynamic
loop on CPU: the same greedy tokens and log-probs, sampled log-probs that are those of the distribution sampled from
(teacher-forced scores at the temperature), Gumbel-max draws with the right distribution, and the compiled step
giving the eager step's tokens."""
import pytest
import torch

from rlvr.rollout.hf_engine import HFEngine, sample_next
from rlvr.rollout.static_decode import gumbel_sample

PROMPTS = ["12+7=", "3*4+25-1=", "9-8=", "100+200+300="]  # different lengths: left padding, a bucket of 64


def _engines(model_dir, **static_kw):
    return HFEngine(str(model_dir), decode="dynamic"), HFEngine(str(model_dir), decode="static", **static_kw)


def _stop_at(engine, token_id):
    """Make token_id the engine's EOS (the random tiny model never emits the real one)."""
    engine.tokenizer.eos_token = engine.tokenizer.convert_ids_to_tokens(token_id)
    if engine.static is not None:
        engine.static.eos_id = token_id


def test_static_loop_greedy_equals_the_dynamic_loop(tiny_model_dir):
    dynamic, static = _engines(tiny_model_dir)
    assert static.static is not None and dynamic.static is None
    first = dynamic.generate(PROMPTS, temperature=0, max_tokens=20)
    stop = first[0][0].token_ids[3]  # some rows stop early on it, others run to the length limit
    for engine in (dynamic, static):
        _stop_at(engine, stop)
    a = dynamic.generate(PROMPTS, n=2, temperature=0, max_tokens=20)
    b = static.generate(PROMPTS, n=2, temperature=0, max_tokens=20)
    for ga, gb in zip(a, b):
        for sa, sb in zip(ga, gb):
            assert sa.token_ids == sb.token_ids and sa.finish_reason == sb.finish_reason
            assert sa.logprobs == pytest.approx(sb.logprobs, abs=1e-5)
    reasons = {s.finish_reason for g in b for s in g}
    assert reasons == {"stop", "length"}, reasons  # EOS and the length limit both handled
    b2 = static.generate(PROMPTS[::-1], n=2, temperature=0, max_tokens=20)  # the cache is reset between calls
    assert [s.token_ids for s in b2[-1]] == [s.token_ids for s in b[0]]


def test_static_loop_sampled_logprobs_are_the_sampling_distributions(tiny_model_dir):
    _, static = _engines(tiny_model_dir)
    temperature = 0.7
    groups = static.generate(PROMPTS, n=3, temperature=temperature, max_tokens=12, seed=5)
    model = static.model
    for prompt, group in zip(PROMPTS, groups):
        for s in group:
            seq = s.prompt_token_ids + s.token_ids
            with torch.no_grad():
                logits = model(input_ids=torch.tensor([seq])).logits[0].float() / temperature
            logp = torch.log_softmax(logits, -1)
            P = len(s.prompt_token_ids)
            want = [float(logp[P - 1 + i, t]) for i, t in enumerate(s.token_ids)]
            assert s.logprobs == pytest.approx(want, abs=1e-4), prompt
    again = static.generate(PROMPTS, n=3, temperature=temperature, max_tokens=12, seed=5)
    assert [[s.token_ids for s in g] for g in again] == [[s.token_ids for s in g] for g in groups]  # seeded


def test_gumbel_max_draws_follow_the_distribution():
    logp = torch.log_softmax(torch.tensor([[2.0, 1.0, 0.0, -1.0, float("-inf")]]), -1).expand(40_000, -1)
    draws = gumbel_sample(logp, torch.Generator().manual_seed(0))
    freq = torch.bincount(draws, minlength=5).float() / len(draws)
    assert freq[4] == 0  # filtered tokens are never drawn
    assert torch.allclose(freq, logp[0].exp(), atol=0.01), freq
    tok, lp = sample_next(torch.tensor([[5.0, 1.0, 0.0]]), 1.0, 0.5, torch.Generator().manual_seed(0), gumbel=True)
    assert int(tok) == 0 and torch.isinf(lp[0, 1:]).all()  # top-p keeps only the crossing token here


def test_unknown_decode_is_named():
    with pytest.raises(ValueError, match="rollout.hf_decode='fast'"):
        HFEngine.__new__(HFEngine)._set_decode("fast", None)


@pytest.mark.slow
def test_compiled_static_step_gives_the_eager_tokens(tiny_model_dir):
    """torch.compile of the decode step (CUDA graphs on a GPU; inductor here): traceable, and the same tokens."""
    _, eager = _engines(tiny_model_dir)
    compiled = HFEngine(str(tiny_model_dir), decode="static", compile=True)
    a = eager.generate(PROMPTS, n=2, temperature=0, max_tokens=12)
    b = compiled.generate(PROMPTS, n=2, temperature=0, max_tokens=12)
    assert [[s.token_ids for s in g] for g in a] == [[s.token_ids for s in g] for g in b]


@pytest.mark.slow
def test_engine_bench_runs_every_loop_on_cpu():
    """A smoke run of `python -m bench engine` (figures, not targets): every loop generates, and the slept row
    really released the weights before each call."""
    from bench.engine import bench_engine

    rows = bench_engine("cpu", repeats=1)
    loops = {r["run"]: r for r in rows[:-1]}
    assert set(loops) == {"dynamic", "static", "static compiled", "compiled, slept"}
    assert all(r["tokens_per_s"] > 0 for r in loops.values())
    assert loops["compiled, slept"]["released_gb"] > 0.01 and loops["dynamic"]["released_gb"] == 0
