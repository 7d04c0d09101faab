"""`python -m bench extrapolation`: which checkpoints it pairs, where it extrapolates to, and that the extrapolated
model is scored beside the real later checkpoint (the weights stand in for the scores here, so a wrong pairing or
target shows as a mismatch)."""
import shutil

import torch
from omegaconf import OmegaConf

import bench.extrapolation as study
from rlvr.config import compose
from rlvr.infra.hf_weights import load_state_dict, save_model_dir


def _run_dir(tmp_path, base, curve):
    """A run whose checkpoint at step s is base + curve(s) * direction (step 0: the model it started from)."""
    run = tmp_path / "run"
    cfg = compose([f"model.path={base}", "trainer.eval_size=4", "trainer.extrapolate_every=0"])
    (run / "checkpoints").mkdir(parents=True)
    OmegaConf.save(cfg, run / "config.yaml")
    sd = load_state_dict(base)
    torch.manual_seed(0)
    direction = {k: torch.randn_like(v) * 0.01 for k, v in sd.items()}
    for s in (10, 20, 30, 40):
        out = run / "checkpoints" / f"step_{s:06d}"
        save_model_dir({k: v + curve(s) * direction[k] for k, v in sd.items()}, base, out)
        (out / "trainer_state.json").write_text(f'{{"step": {s}}}')
    return run


def _fingerprint(model_dir, items, max_tokens):
    sd = load_state_dict(model_dir)
    return f"{float(sum(v.double().sum() for k, v in sd.items() if 'norm' not in k)):.3f}"


def test_a_linear_trajectory_is_extrapolated_onto_the_real_later_checkpoint(tmp_path, tiny_model_dir, monkeypatch):
    monkeypatch.setattr(study, "greedy_scores", _fingerprint)
    rows = study.analyse_run(_run_dir(tmp_path, tiny_model_dir, lambda s: s / 10), [10, 20], log=lambda *a: None)
    assert [(r["t"], r["delta"], r["target"]) for r in rows] == [(0, 10, 20), (10, 10, 30), (20, 10, 40),
                                                                  (0, 20, 40)]
    assert all(r["extrapolated"] == r["real"] != r["base"] for r in rows)


def test_a_bent_trajectory_is_not(tmp_path, tiny_model_dir, monkeypatch):
    monkeypatch.setattr(study, "greedy_scores", _fingerprint)
    rows = study.analyse_run(_run_dir(tmp_path, tiny_model_dir, lambda s: (s / 10) ** 0.5), [10],
                             log=lambda *a: None)
    assert rows and all(r["extrapolated"] != r["real"] for r in rows)


def test_the_summary_reports_differences_per_delta():
    rows = [{"delta": 10, "base": "0011", "extrapolated": "0111", "real": "1111"},
            {"delta": 10, "base": "0001", "extrapolated": "0011", "real": "0011"}]
    table = study.summary_table(rows)
    assert "| 10 | 2 | 37.5% | 62.5% | 75.0% | -12.5" in table


def test_logits_extrapolation_is_scored_from_the_same_pair(tmp_path, tiny_model_dir, monkeypatch):
    monkeypatch.setattr(study, "greedy_scores", lambda model, items, max_tokens: "0011")
    pairs = []
    monkeypatch.setattr(study, "logits_scores", lambda a, b, alpha, items, max_tokens: pairs.append(
        (a.name, b.name, alpha)) or "0111")
    rows = study.analyse_run(_run_dir(tmp_path, tiny_model_dir, lambda s: s / 10), [20], log=lambda *a: None,
                             logits=True)
    assert pairs == [(tiny_model_dir.name, "step_000020", 2.0)]   # 0 -> 20 -> 40 is the only pair with d = 20
    assert all(r["logits"] == "0111" for r in rows)
    assert "| 20 | 1 | 75.0% | +25.0" in study.summary_table(rows)
