import json

import pytest
import torch

from rlvr.algorithms.extrapolation import (MismatchedCheckpoints, alpha_for, extrapolate_state_dicts,
                                          least_squares_extrapolate)
from rlvr.tools.extrapolate import extrapolate_checkpoints, fit_checkpoints, load_state_dict, main


def _sd(seed, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return {
        "model.layers.0.mlp.up_proj.weight": torch.randn(4, 3, generator=g).to(dtype),
        "model.layers.0.input_layernorm.weight": torch.randn(3, generator=g).to(dtype),
        "model.norm.weight": torch.randn(3, generator=g).to(dtype),
        "model.steps_buffer": torch.tensor([seed, seed + 1]),  # non-float: copied
    }


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_alpha_endpoints_are_bit_exact(dtype):
    a, b = _sd(1, dtype), _sd(2, dtype)
    for name, t in extrapolate_state_dicts(a, b, 1.0).items():
        assert t.dtype == b[name].dtype and torch.equal(t, b[name]), name
    at0 = extrapolate_state_dicts(a, b, 0.0)
    assert torch.equal(at0["model.layers.0.mlp.up_proj.weight"], a["model.layers.0.mlp.up_proj.weight"])
    at0_all = extrapolate_state_dicts(a, b, 0.0, norm_from="extrapolate")
    assert torch.equal(at0_all["model.norm.weight"], a["model.norm.weight"])


def test_alpha_formula_and_norm_policy():
    a, b = _sd(1), _sd(2)
    out = extrapolate_state_dicts(a, b, 1.5)
    w = "model.layers.0.mlp.up_proj.weight"
    assert torch.allclose(out[w], a[w] + 1.5 * (b[w] - a[w]), atol=1e-6)
    assert torch.equal(out["model.norm.weight"], b["model.norm.weight"])
    assert torch.equal(out["model.layers.0.input_layernorm.weight"], b["model.layers.0.input_layernorm.weight"])
    assert torch.equal(out["model.steps_buffer"], b["model.steps_buffer"])
    ext = extrapolate_state_dicts(a, b, 1.5, norm_from="extrapolate")
    n = "model.norm.weight"
    assert torch.allclose(ext[n], a[n] + 1.5 * (b[n] - a[n]), atol=1e-6)
    assert alpha_for(200, 1400, 2000) == pytest.approx(1.5)
    with pytest.raises(MismatchedCheckpoints, match="shape"):
        extrapolate_state_dicts({w: torch.zeros(2)}, {w: torch.zeros(3)}, 1.0)


def test_least_squares_recovers_planted_line_and_point_beyond():
    g = torch.Generator().manual_seed(0)
    a, slope = torch.randn(5, 4, generator=g), torch.randn(5, 4, generator=g)
    steps = [0.0, 10.0, 25.0, 40.0]
    sds = [{"w": a + slope * t, "model.norm.weight": torch.full((2,), t)} for t in steps]
    out = least_squares_extrapolate(iter(sds), steps, 100.0)
    assert torch.allclose(out["w"], a + slope * 100.0, atol=1e-4)
    assert torch.equal(out["model.norm.weight"], sds[-1]["model.norm.weight"])
    # with noise, equals a naive per-entry numpy-free OLS
    noisy = [{"w": a + slope * t + 0.1 * torch.randn(5, 4, generator=g)} for t in steps]
    ts = torch.tensor(steps)
    ys = torch.stack([s["w"] for s in noisy])  # [T, 5, 4]
    X = torch.stack([torch.ones_like(ts), ts], 1).double()
    coef = torch.linalg.lstsq(X, ys.reshape(len(steps), -1).double()).solution
    expect = (coef[0] + coef[1] * 60.0).reshape(5, 4).float()
    assert torch.allclose(least_squares_extrapolate(noisy, steps, 60.0)["w"], expect, atol=1e-5)


def _tiny_ckpt(tmp_path, name, seed, step=None):
    from rlvr.models.tiny import build_tiny_model_dir

    d = build_tiny_model_dir(tmp_path / name, preset="tiny", seed=seed)
    if step is not None:
        (d / "trainer_state.json").write_text(json.dumps({"step": step}))
    return d


def test_checkpoint_cli_writes_loadable_model(tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    a, b = _tiny_ckpt(tmp_path, "step_000010", 1, 10), _tiny_ckpt(tmp_path, "step_000020", 2, 20)
    assert main(["mode=weights", f"a={a}", f"b={b}", "target_step=20", f"out={tmp_path / 'x20'}"]) == 0
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "x20")
    sd_b = load_state_dict(b)
    for k, v in model.state_dict().items():
        assert torch.equal(v, sd_b[k]), k  # alpha = 1: B exactly, lm_head tied to the embedding included
    AutoTokenizer.from_pretrained(tmp_path / "x20")
    out = extrapolate_checkpoints(a, b, 30, tmp_path / "x30")
    prov = json.loads((out / "extrapolation.json").read_text())
    assert prov["alpha"] == pytest.approx(2.0)
    sd_a, sd_x = load_state_dict(a), load_state_dict(out)
    k = "model.layers.0.self_attn.q_proj.weight"
    assert torch.allclose(sd_x[k], 2 * sd_b[k] - sd_a[k], atol=1e-6)
    lm = AutoModelForCausalLM.from_pretrained(out)
    assert torch.equal(lm.lm_head.weight, lm.model.embed_tokens.weight)
    # three points on a line: fit at T equals the two-point extrapolation
    fitted = fit_checkpoints([a, b, out], 40, tmp_path / "fit40", steps=[10, 20, 30])
    assert main(["mode=fit", f"ckpts=[{a},{b},{out}]", "steps=[10,20,30]", "target_step=40",
                 f"out={tmp_path / 'fit40_cli'}"]) == 0
    assert torch.equal(load_state_dict(tmp_path / "fit40_cli")[k], load_state_dict(fitted)[k])
    assert torch.allclose(load_state_dict(fitted)[k], 3 * sd_b[k] - 2 * sd_a[k], atol=1e-5)


def test_large_weights_are_written_in_shards_that_load_back(tmp_path):
    """save_model_dir shards like save_pretrained (a 7B fp32 extrapolation is not one 28 GB file): with a small
    shard size the tiny model is several files plus an index, and both transformers and our reader get every
    tensor back exactly."""
    from transformers import AutoModelForCausalLM

    from rlvr.infra.hf_weights import save_model_dir

    b = _tiny_ckpt(tmp_path, "b", 2)
    state = load_state_dict(b)
    out = save_model_dir(state, b, tmp_path / "sharded", max_shard_size="200KB")
    shards = sorted(p.name for p in out.glob("*.safetensors"))
    assert len(shards) > 1 and (out / "model.safetensors.index.json").is_file(), shards
    assert all(torch.equal(v, state[k]) for k, v in load_state_dict(out).items())
    model = AutoModelForCausalLM.from_pretrained(out)
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
    single = save_model_dir(state, b, tmp_path / "single")
    assert [p.name for p in single.glob("*.safetensors")] == ["model.safetensors"]


def test_missing_step_is_reported_with_the_flag(tmp_path, capsys):
    a, b = _tiny_ckpt(tmp_path, "a", 1), _tiny_ckpt(tmp_path, "b", 2)
    assert main(["mode=weights", f"a={a}", f"b={b}", "target_step=5", f"out={tmp_path / 'o'}"]) == 2
    err = capsys.readouterr().err
    assert "trainer_state.json" in err and "steps=[A,B]" in err
    assert main(["mode=weights", f"a={a}", f"b={b}", "target_step=5", f"out={tmp_path / 'o'}", "steps=[0,5]"]) == 0


def test_cli_names_the_missing_key_and_the_bad_value(tmp_path, capsys):
    a = _tiny_ckpt(tmp_path, "a", 1)
    assert main(["mode=fit", f"ckpts=[{a}]", "target_step=3"]) == 2
    assert "mode=fit needs out=" in capsys.readouterr().err
    assert main(["mode=weights", f"a={a}", f"b={a}", "target_step=3", "out=o", "steps=[1,2,3]"]) == 2
    assert "steps= has 3 values for 2 checkpoints" in capsys.readouterr().err
    assert main(["mode=sideways"]) == 2
    assert "mode='sideways'" in capsys.readouterr().err
    assert main(["nonsense_key=1"]) == 2
    assert "nonsense_key" in capsys.readouterr().err
