"""Reward signals: each ablation's definition on a hand-built batch; the true verdict always reported."""
import re
from dataclasses import dataclass

import numpy as np
import pytest

from rlvr.reward.signals import RewardInputs, build_reward_signal
from rlvr_verify.boxes import extract_boxed as last_boxed_content


@dataclass
class V:
    correct: bool
    score: float
    extracted: str | None
    reason: str = ""


def fake_verify(responses, golds):
    out = []
    for r, g in zip(responses, golds):
        ex = last_boxed_content(r)
        out.append(V(ex is not None and ex.strip() == g, 0.0, ex))
    return out


RESPONSES = ["\\boxed{3}", "\\boxed{4}", "\\boxed{4}", "no box", "\\boxed{}", "\\boxed{7}", "\\boxed{7}", "\\boxed{8"]
GOLDS = ["3"] * 4 + ["7"] * 4
GROUPS = [0, 0, 0, 0, 1, 1, 1, 1]


def _inp(step=0):
    return RewardInputs(responses=RESPONSES, golds=GOLDS, group_ids=GROUPS, truncated=[False] * 7 + [True],
                        verdicts=fake_verify(RESPONSES, GOLDS), step=step, verify_fn=fake_verify)


TRUE = [1, 0, 0, 0, 0, 1, 1, 0]


@pytest.mark.parametrize("name,params,expected", [
    ("verified", {}, TRUE),
    ("verified", {"values": [1, -1]}, [1, -1, -1, -1, -1, 1, 1, -1]),
    ("inverted", {}, [0, 1, 1, 1, 1, 0, 0, 1]),
    ("format", {}, [1, 1, 1, 0, 0, 1, 1, 0]),             # empty and unbalanced boxes do not count
    ("majority_vote", {}, [0, 1, 1, 0, 0, 1, 1, 0]),      # group 0's majority is "4", group 1's is "7"
    ("incorrect", {}, [0, 1, 1, 0, 0, 0, 0, 0]),          # only group 0's majority ("4") is wrong
])
def test_signal_values(name, params, expected):
    out = build_reward_signal(name, **params)(_inp())
    assert out.rewards.tolist() == expected
    assert out.correct.tolist() == [bool(x) for x in TRUE]
    assert out.rewards.dtype == np.float32


def test_truncated_is_wrong_option():
    resp = ["\\boxed{3}"] * 2
    inp = RewardInputs(resp, ["3", "3"], [0, 0], [False, True], fake_verify(resp, ["3", "3"]), 0, fake_verify)
    assert build_reward_signal("verified", truncated_is_wrong=True)(inp).rewards.tolist() == [1, 0]


def test_random_reward_is_reproducible_and_has_rate_gamma():
    sig = build_reward_signal("random", gamma=0.3)
    many = RewardInputs(["x"] * 4000, ["1"] * 4000, list(range(4000)), [False] * 4000,
                        [V(False, 0, None)] * 4000, step=5)
    a, b = sig(many).rewards, sig(many).rewards
    assert np.array_equal(a, b) and abs(a.mean() - 0.3) < 0.03
    many.step = 6
    assert not np.array_equal(a, sig(many).rewards)
    assert build_reward_signal("random", gamma=0.0)(many).rewards.sum() == 0


def test_continuous_uses_the_verdict_score():
    verdicts = [V(False, 0.25, "1"), V(True, 1.0, "2")]
    inp = RewardInputs(["a", "b"], ["2", "2"], [0, 0], [False, False], verdicts, 0)
    assert build_reward_signal("continuous")(inp).rewards.tolist() == [0.25, 1.0]


def test_unknown_signal_and_bad_params_are_named():
    with pytest.raises(ValueError, match="choose one of"):
        build_reward_signal("nope")
    with pytest.raises(ValueError, match="gamma"):
        build_reward_signal("random", gamma=2)
    with pytest.raises(ValueError, match="reward.params"):
        build_reward_signal("verified", bogus=1)


def test_last_boxed_content_nested_and_unbalanced():
    assert last_boxed_content("a \\boxed{1} b \\boxed{\\frac{1}{2}}") == "\\frac{1}{2}"
    assert last_boxed_content("\\boxed{1") is None and last_boxed_content("none") is None


def test_incorrect_reward_reports_its_wrong_label_fraction():
    verdicts = fake_verify(RESPONSES, GOLDS)
    inp = RewardInputs(RESPONSES, GOLDS, GROUPS, [False] * 8, verdicts, step=0, verify_fn=fake_verify)
    # group 0: majority "4" vs gold "3" -> wrong label; group 1: majority "7" == gold -> right label.
    out = build_reward_signal("incorrect")(inp)
    assert out.metrics["wrong_label_group_frac"] == 0.5
    # verified agrees with the truth by construction; inverted never does.
    assert build_reward_signal("verified")(inp).metrics["agreement_with_correct"] == 1.0
    assert build_reward_signal("inverted")(inp).metrics["agreement_with_correct"] == 0.0
