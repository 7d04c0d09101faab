import json

import numpy as np
import pytest
import torch

from rlvr.tools.extrapolate import extrapolate_checkpoints, main
from rlvr.tools.linearity import describe, r_squared, sample_indices


def test_r_squared_matches_numpy_corrcoef():
    g = torch.Generator().manual_seed(0)
    steps = [0, 10, 20, 35, 50]
    y = torch.randn(5, 7, generator=g) + torch.linspace(0, 3, 5)[:, None] * torch.rand(7, generator=g)
    r2 = r_squared(steps, y)
    for j in range(7):
        assert float(r2[j]) == pytest.approx(np.corrcoef(steps, y[:, j].numpy())[0, 1] ** 2, abs=1e-9)
    assert torch.isnan(r_squared(steps, torch.ones(5, 1)))[0]
    d = describe(torch.tensor([0.9, 0.1, float("nan"), 0.8]))
    assert d["count"] == 4 and d["constant"] == 1 and d["fraction_r2_gt_0.7"] == pytest.approx(2 / 3)


def test_sample_indices_sizes_and_seed():
    sd = {"big": torch.zeros(100_000), "small": torch.zeros(10), "ints": torch.zeros(5, dtype=torch.long)}
    idx = sample_indices(sd, 0.001, 50, seed=3)
    assert len(idx["big"]) == 100 and len(idx["small"]) == 10 and "ints" not in idx
    assert len(set(idx["big"].tolist())) == 100
    assert torch.equal(idx["big"], sample_indices(sd, 0.001, 50, seed=3)["big"])


def test_linearity_cli_on_an_exactly_linear_trajectory(tmp_path):
    from rlvr.models.tiny import build_tiny_model_dir

    a, b = build_tiny_model_dir(tmp_path / "a", seed=1), build_tiny_model_dir(tmp_path / "b", seed=2)
    c = extrapolate_checkpoints(a, b, 3, tmp_path / "c", step_a=0, step_b=1, norm_from="extrapolate")
    texts = tmp_path / "texts.txt"
    texts.write_text("12+7=19\n3*4=12\n")
    assert main(["mode=linearity", f"ckpts=[{a},{b},{c}]", "steps=[0,1,3]", f"out={tmp_path / 'lin'}",
                 f"texts={texts}"]) == 0
    summary = json.loads((tmp_path / "lin" / "linearity.json").read_text())
    assert summary["weights"]["fraction_r2_gt_0.7"] == 1.0 and summary["weights"]["quantiles"]["0.05"] > 0.999
    assert summary["token_logprobs"]["count"] == 7 + 6  # every token after BOS of "12+7=19" and "3*4=12"
    assert 0 <= summary["token_logprobs"]["fraction_r2_gt_0.7"] <= 1
    assert (tmp_path / "lin" / "linearity_r2.png").stat().st_size > 1000


def test_linearity_samples_its_texts_from_random_calculation(tmp_path):
    """data=random_calculation (the tiny model's own problems, template=equals) prompts the sampled sequences; it
    raised a TypeError (the generator's level had no default)."""
    from rlvr.models.tiny import build_tiny_model_dir

    a, b = build_tiny_model_dir(tmp_path / "a", seed=1), build_tiny_model_dir(tmp_path / "b", seed=2)
    c = extrapolate_checkpoints(a, b, 3, tmp_path / "c", step_a=0, step_b=1, norm_from="extrapolate")
    assert main(["mode=linearity", f"ckpts=[{a},{b},{c}]", "steps=[0,1,3]", f"out={tmp_path / 'lin'}",
                 "data=random_calculation", "template=equals", "num_texts=2", "max_tokens=4"]) == 0
    summary = json.loads((tmp_path / "lin" / "linearity.json").read_text())
    assert summary["token_logprobs"]["count"] > 0
