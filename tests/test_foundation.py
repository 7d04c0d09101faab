"""Foundation: packages import, configs compose, the tiny model loads in transformers and vLLM and they agree."""
import importlib
from pathlib import Path

import pytest
import torch

from rlvr.config import CONF_DIR, compose
from tests.conftest import vllm_available

PROMPTS = ["12+34=", "7-3=", "99+1=", "50-75="]


@pytest.mark.parametrize("pkg", ["rlvr", "rlvr_verify", "data_gen", "rlvr.rollout", "rlvr.models", "rlvr.config"])
def test_packages_import(pkg):
    importlib.import_module(pkg)


@pytest.mark.parametrize("experiment", sorted(p.stem for p in (CONF_DIR / "experiment").glob("*.yaml")))
def test_every_experiment_composes(experiment):
    cfg = compose([f"experiment={experiment}"])
    assert cfg.name == experiment
    assert cfg.trainer.steps > 0


@pytest.mark.parametrize("group", ["model", "data", "algorithm", "reward", "rollout", "trainer", "logger", "cluster"])
def test_every_group_option_composes(group):
    for option in sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml")):
        cfg = compose([f"{group}={option}"])
        assert cfg[group] is not None


def test_default_is_debug_cpu():
    cfg = compose()
    assert cfg.name == "debug_cpu" and cfg.model.path is None and cfg.rollout.engine == "vllm"
    assert cfg.logger.wandb_mode == "offline" and cfg.cluster.address is None


def test_misspelled_override_names_the_key():
    with pytest.raises(Exception) as err:
        compose(["trainer.stepz=3"])
    assert "trainer.stepz" in str(err.value)


def test_wrong_type_fails_with_the_key():
    with pytest.raises(Exception) as err:
        compose(["trainer.steps=abc"])
    assert "trainer.steps" in str(err.value)


def test_tokenizer_round_trip_and_specials():
    from rlvr.models.tokenizer import build_char_tokenizer

    tok = build_char_tokenizer()
    text = "Evaluate \\frac{3}{4}+5^{2}: \\boxed{-3/7}\n"
    ids = tok(text)["input_ids"]
    assert ids[0] == tok.bos_token_id and len(ids) == len(text) + 1
    assert tok.decode(ids, skip_special_tokens=True) == text
    assert tok("é")["input_ids"][1] == tok.unk_token_id


def test_tiny_model_cache_is_deterministic_and_rebuilds_partial_dirs(tmp_path):
    from rlvr.models.tiny import COMPLETE_MARKER, ensure_tiny_model

    a = ensure_tiny_model("tiny", seed=3, cache_dir=tmp_path / "a")
    b = ensure_tiny_model("tiny", seed=3, cache_dir=tmp_path / "b")
    assert (a / "model.safetensors").read_bytes() == (b / "model.safetensors").read_bytes()
    # A half-written directory (no completion marker, e.g. a killed run) must be rebuilt, not trusted.
    (a / COMPLETE_MARKER).unlink()
    (a / "model.safetensors").write_bytes(b"garbage")
    again = ensure_tiny_model("tiny", seed=3, cache_dir=tmp_path / "a")
    assert (again / "model.safetensors").read_bytes() == (b / "model.safetensors").read_bytes()
    with pytest.raises(ValueError, match="model.preset"):
        ensure_tiny_model("huge", cache_dir=tmp_path)


def test_tiny_model_loads_in_transformers(tiny_model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    n_params = sum(p.numel() for p in model.parameters())
    assert 0.5e6 < n_params < 2e6
    out = model(**tok(PROMPTS[:1], return_tensors="pt"))
    assert out.logits.shape[-1] == len(tok)


def test_hf_engine_greedy_matches_transformers_generate(tiny_model_dir):
    from transformers import AutoModelForCausalLM

    from rlvr.rollout import build_engine

    engine = build_engine("hf", str(tiny_model_dir))
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    tok = engine.tokenizer
    ours = engine.generate(PROMPTS, n=1, temperature=0, max_tokens=10)
    for prompt, group in zip(PROMPTS, ours):
        ids = tok(prompt, return_tensors="pt")["input_ids"]
        ref = model.generate(ids, max_new_tokens=10, do_sample=False, eos_token_id=tok.eos_token_id,
                             pad_token_id=tok.pad_token_id)[0, ids.shape[1]:].tolist()
        if tok.eos_token_id in ref:
            ref = ref[:ref.index(tok.eos_token_id) + 1]
        assert group[0].token_ids == ref


def test_hf_engine_sampled_logprobs_equal_teacher_forced(tiny_model_dir):
    from rlvr.rollout import build_engine

    engine = build_engine("hf", str(tiny_model_dir))
    samples = engine.generate(PROMPTS, n=2, temperature=1.0, max_tokens=8, seed=0)
    for group in samples:
        for s in group:
            scored = engine.score([s.prompt_token_ids + s.token_ids])[0][-len(s.token_ids):]
            assert torch.allclose(torch.tensor(scored), torch.tensor(s.logprobs), atol=1e-5)


@pytest.mark.vllm
@pytest.mark.skipif(not vllm_available(), reason="vllm not installed")
def test_vllm_agrees_with_transformers(tiny_model_dir):
    """Greedy tokens agree one for one; vLLM's sampled logprobs equal transformers' within 1e-4; after a weight
    update (lm_head included) both still agree."""
    from rlvr.rollout import build_engine

    hf = build_engine("hf", str(tiny_model_dir))
    vl = build_engine("vllm", str(tiny_model_dir))
    g_hf = hf.generate(PROMPTS, n=1, temperature=0, max_tokens=12)
    g_vl = vl.generate(PROMPTS, n=1, temperature=0, max_tokens=12)
    assert [g[0].token_ids for g in g_hf] == [g[0].token_ids for g in g_vl]

    sampled = vl.generate(PROMPTS, n=4, temperature=1.0, max_tokens=12, seed=7)
    for group in sampled:
        for s in group:
            ref = hf.score([s.prompt_token_ids + s.token_ids])[0][-len(s.token_ids):]
            assert max(abs(a - b) for a, b in zip(ref, s.logprobs)) < 1e-4

    state = {k: v.clone() for k, v in hf.model.state_dict().items()}
    state["model.embed_tokens.weight"] *= 1.05
    state["lm_head.weight"] = state["model.embed_tokens.weight"]
    hf.update_weights(state.items())
    vl.update_weights(state.items())
    seq = sampled[0][0].prompt_token_ids + sampled[0][0].token_ids
    assert max(abs(a - b) for a, b in zip(hf.score([seq])[0], vl.score([seq])[0])) < 1e-4


_PLAIN_KERNELS_SCRIPT = """
import sys
from rlvr.rollout import build_engine
from rlvr.rollout.vllm_engine import eager_where_inductor_cannot_vectorise

hf = build_engine("hf", sys.argv[1])
vl = build_engine("vllm", sys.argv[1])
print("eager", eager_where_inductor_cannot_vectorise())
prompts = sys.argv[2:]
assert [g[0].token_ids for g in hf.generate(prompts, n=1, temperature=0, max_tokens=12)] == \\
    [g[0].token_ids for g in vl.generate(prompts, n=1, temperature=0, max_tokens=12)]
worst = 0.0
for group in vl.generate(prompts, n=4, temperature=1.0, max_tokens=12, seed=7):
    for s in group:
        ref = hf.score([s.prompt_token_ids + s.token_ids])[0][-len(s.token_ids):]
        worst = max([worst] + [abs(a - b) for a, b in zip(ref, s.logprobs)])
print("worst", worst)
"""


@pytest.mark.vllm
@pytest.mark.slow
@pytest.mark.skipif(not vllm_available(), reason="vllm not installed")
def test_vllm_runs_under_plain_kernels_and_agrees_with_transformers(tiny_model_dir):
    """Under ATEN_CPU_CAPABILITY=default (as on a CPU without AVX2) Inductor cannot build vLLM's compiled sampler
    functions; the engine then runs them eagerly, and its tokens and logprobs still equal transformers'."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "ATEN_CPU_CAPABILITY": "default"}
    out = subprocess.run([sys.executable, "-c", _PLAIN_KERNELS_SCRIPT, str(tiny_model_dir), *PROMPTS], env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines() if line.startswith(("eager ", "worst ")))
    assert lines["eager"] == "True"
    assert float(lines["worst"]) < 1e-4
