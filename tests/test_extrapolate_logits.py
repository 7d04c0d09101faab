import copy

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from rlvr.rollout.logits_engine import LogitsExtrapolationEngine


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    from rlvr.models.tiny import build_tiny_model_dir

    root = tmp_path_factory.mktemp("logits")
    a, b = build_tiny_model_dir(root / "a", seed=1), build_tiny_model_dir(root / "b", seed=2)
    load = lambda p: AutoModelForCausalLM.from_pretrained(p).eval()  # noqa: E731
    return load(a), load(b), AutoTokenizer.from_pretrained(b)


def naive_greedy(models_alpha, tok, prompt, max_tokens):
    """No cache, no padding: recompute the full forward each step."""
    (ma, mb, alpha) = models_alpha
    ids = tok(prompt, return_tensors="pt")["input_ids"]
    out, lps = [], []
    with torch.no_grad():
        for _ in range(max_tokens):
            za, zb = ma(input_ids=ids).logits[0, -1], mb(input_ids=ids).logits[0, -1]
            logp = torch.log_softmax(za + alpha * (zb - za), -1)
            t = int(logp.argmax())
            out.append(t)
            lps.append(float(logp[t]))
            if t == tok.eos_token_id:
                break
            ids = torch.cat([ids, torch.tensor([[t]])], 1)
    return out, lps


PROMPTS = ["12+7=", "What is 3*4? ", "9"]


def test_identical_models_equal_plain_greedy_decoding(pair):
    a, _, tok = pair
    engine = LogitsExtrapolationEngine(a, copy.deepcopy(a), alpha=1.7, tokenizer=tok)
    results = engine.generate(PROMPTS, n=1, temperature=0, max_tokens=12)
    for prompt, [s] in zip(PROMPTS, results):
        expect, _ = naive_greedy((a, a, 0.0), tok, prompt, 12)
        assert s.token_ids == expect
        ids = tok(prompt, return_tensors="pt")["input_ids"]
        ref = a.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=12, do_sample=False,
                         eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)[0, ids.shape[1]:].tolist()
        assert s.token_ids == ref[:len(s.token_ids)]


def test_extrapolated_greedy_and_logprobs_match_naive_loop(pair):
    a, b, tok = pair
    for alpha in (0.0, 1.0, 1.5, -0.5):
        engine = LogitsExtrapolationEngine(a, b, alpha=alpha, tokenizer=tok)
        for prompt, [s] in zip(PROMPTS, engine.generate(PROMPTS, temperature=0, max_tokens=10)):
            expect, lps = naive_greedy((a, b, alpha), tok, prompt, 10)
            assert s.token_ids == expect
            assert s.logprobs == pytest.approx(lps, abs=1e-4)
            assert s.finish_reason == ("stop" if expect[-1] == tok.eos_token_id else "length")


def test_sampling_is_seeded_and_logprobs_are_of_the_sampled_distribution(pair):
    a, b, tok = pair
    engine = LogitsExtrapolationEngine(a, b, alpha=1.5, tokenizer=tok)
    r1 = engine.generate(PROMPTS[:2], n=3, temperature=0.7, top_p=0.9, max_tokens=8, seed=3)
    r2 = engine.generate(PROMPTS[:2], n=3, temperature=0.7, top_p=0.9, max_tokens=8, seed=3)
    assert [[s.token_ids for s in p] for p in r1] == [[s.token_ids for s in p] for p in r2]
    s = r1[0][0]
    scored = engine.score([s.prompt_token_ids + s.token_ids])[0]
    # temperature-1 score at the first response token relates to the sampled logprob only via the same z:
    ids = torch.tensor([s.prompt_token_ids])
    with torch.no_grad():
        za, zb = a(input_ids=ids).logits[0, -1], b(input_ids=ids).logits[0, -1]
    z = za + 1.5 * (zb - za)
    assert scored[len(s.prompt_token_ids) - 1] == pytest.approx(float(torch.log_softmax(z, -1)[s.token_ids[0]]),
                                                                abs=1e-4)
    assert all(lp <= 0 for lp in s.logprobs)
