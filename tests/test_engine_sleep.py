"""The HF engine's sleep/wake (rollout.sleep_level, for an engine colocated with the learner on one GPU): what it
releases, that it cannot be used asleep or with dropped weights, and that after waking (and, at level 2, a weight
push) it samples exactly what it sampled before."""
import pytest
import torch

from rlvr.rollout.hf_engine import HFEngine

PROMPTS = ["12+7=", "3*4+25-1=", "9-8="]


def _weights(engine):
    return {k: v.detach().clone() for k, v in engine.model.state_dict().items()}


def _param_bytes(engine):
    return sum(p.numel() * p.element_size() for p in engine.model.parameters())


@pytest.mark.parametrize("decode", ["dynamic", "static"])
def test_level_two_drops_weights_and_cache_and_a_push_restores_the_engine(tiny_model_dir, decode):
    engine = HFEngine(str(tiny_model_dir), decode=decode)
    before = engine.generate(PROMPTS, n=2, temperature=1.0, max_tokens=12, seed=3)
    probe = [before[0][0].prompt_token_ids + before[0][0].token_ids]
    scored = engine.score(probe)
    state = _weights(engine)
    cache = engine.static.cache_bytes() if engine.static else 0
    assert decode == "dynamic" or cache > 0
    tied = engine.model.lm_head.weight is engine.model.model.embed_tokens.weight

    released = engine.sleep(level=2)
    assert released >= _param_bytes(engine.__class__(str(tiny_model_dir), decode="dynamic")) + cache
    assert _param_bytes(engine) == 0 and (engine.static is None or engine.static.cache_bytes() == 0)
    with pytest.raises(RuntimeError, match="asleep.*wake_up"):
        engine.generate(PROMPTS, max_tokens=4)
    with pytest.raises(RuntimeError, match="asleep"):
        engine.update_weights(state.items())

    engine.wake_up()
    assert (engine.model.lm_head.weight is engine.model.model.embed_tokens.weight) == tied
    with pytest.raises(RuntimeError, match="level-2 sleep.*push weights"):
        engine.score(probe)
    with pytest.raises(RuntimeError, match="every weight must be sent again"):
        engine.update_weights([(k, v) for k, v in state.items() if "layers.0." not in k])
    engine.update_weights(state.items())
    after = engine.generate(PROMPTS, n=2, temperature=1.0, max_tokens=12, seed=3)
    assert [[s.token_ids for s in g] for g in after] == [[s.token_ids for s in g] for g in before]
    assert engine.score(probe) == scored


def test_level_one_keeps_the_weights_in_host_memory_and_wakes_without_a_push(tiny_model_dir):
    engine = HFEngine(str(tiny_model_dir), decode="static")
    engine.generate(PROMPTS, max_tokens=8, temperature=0)
    state = _weights(engine)
    engine.sleep(level=1)
    assert engine.static.cache_bytes() == 0
    assert all(p.device.type == "cpu" for p in engine.model.parameters())
    engine.wake_up()
    assert all(torch.equal(v, state[k]) for k, v in engine.model.state_dict().items())
    assert engine.generate(PROMPTS, max_tokens=8, temperature=0)[0][0].token_ids


def test_sleep_level_must_be_one_or_two(tiny_model_dir):
    engine = HFEngine(str(tiny_model_dir), decode="dynamic")
    with pytest.raises(ValueError, match="rollout.sleep_level=3"):
        engine.sleep(level=3)
    engine.wake_up()  # awake already: nothing to do
    assert engine.generate(PROMPTS, max_tokens=4, temperature=0)
