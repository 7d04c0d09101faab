"""Reward signals, chosen by `reward=NAME`: the true verified reward and the spurious ones of the ablations
(docs/ALGORITHMS.md 10.2-10.3). Every signal also reports the TRUE verdict, so accuracy is always measured honestly.

| name          | reward of a response                                                                      |
|---------------|-------------------------------------------------------------------------------------------|
| verified      | 1 if the verifier says it equals the gold, else 0 (values configurable, e.g. (1, -1))     |
| continuous    | the verdict's score: Wu et al.'s Eq. 2 with reward.verifier.mode=random_calculation        |
| random        | Bernoulli(gamma), independent of the response (Spurious Rewards; seeded by step and index) |
| inverted      | 1 - correct (Wu et al.)                                                                   |
| format        | 1 iff a non-empty, brace-balanced \\boxed{...} is present (Spurious Rewards box_only_format) |
| majority_vote | 1 iff it equals its group's most frequent extracted answer (online pseudo-label, TTRL)    |
| incorrect     | 1 iff it equals its group's majority answer AND that answer is wrong (mv-incorrect)       |

Deviation, named: the Spurious-Rewards paper labels each question once, offline, with the majority of 64 samples from
the pre-RL model; here `majority_vote` and `incorrect` use the current group's samples (TTRL-style, online). The
paper's offline form is a data file (data=jsonl) whose answers are those labels, trained with reward=verified.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from rlvr.reward.majority import majority_answer
from rlvr_verify.boxes import extract_boxed


@dataclass
class RewardInputs:
    responses: list[str]
    golds: list[str]
    group_ids: list[int]
    truncated: list[bool]
    verdicts: list  # verifiers.Verdict: .correct .score .extracted .reason
    step: int
    verify_fn: Callable[[list[str], list[str]], list] | None = None
    draw: int = 0  # which rollout round of the step (dynamic sampling refills): keeps random rewards independent


@dataclass
class RewardOutput:
    rewards: np.ndarray          # [B] float32
    correct: np.ndarray          # [B] bool, the true verdict against the gold (a metric, never a training label)
    positive: np.ndarray | None  # [B] bool, what the trained signal calls a success; None for continuous signals
    metrics: dict[str, float] = field(default_factory=dict)
    # [B] bool, False where the verifier gave no verdict (Verdict.error: a worker died twice, a verifier bug). Such a
    # sample's reward is not a measurement: leave it out of the reward and the group statistics.
    valid: np.ndarray | None = None


class RewardSignal:
    """Maps verdicts to rewards. A binary signal also says which samples it treats as positive: objectives that
    need a label (PSR/NSR/W-REINFORCE, NFT, group filtering) train on that label, so a spurious reward is what they
    follow, exactly as GRPO follows the reward; the true verdict stays a logged metric."""
    name = "base"
    binary = True

    def __call__(self, inp: RewardInputs) -> RewardOutput:
        correct = np.array([bool(v.correct) for v in inp.verdicts], dtype=bool)
        valid = np.array([not getattr(v, "error", False) for v in inp.verdicts], dtype=bool)
        self.last_metrics: dict[str, float] = {}
        rewards = self.rewards(inp, correct).astype(np.float32)
        positive = self.positive(rewards) if self.binary else None
        # How far the trained signal departs from the truth: 1.0 for `verified`, ~0.5 for `random`.
        agree = positive if positive is not None else rewards > 0
        metrics = {"agreement_with_correct": float(np.mean(agree == correct)) if len(correct) else 0.0,
                   "verifier_errors": float(np.sum(~valid)), **self.last_metrics}
        return RewardOutput(rewards, correct, positive, metrics, valid)

    def rewards(self, inp: RewardInputs, correct: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def positive(self, rewards: np.ndarray) -> np.ndarray:
        """The binary label of each reward: 1 -> positive, 0 -> negative."""
        return rewards > 0.5


REWARD_SIGNALS: dict[str, type[RewardSignal]] = {}


def register(cls):
    REWARD_SIGNALS[cls.name] = cls
    return cls


@register
class Verified(RewardSignal):
    name = "verified"

    def __init__(self, values=(1.0, 0.0), truncated_is_wrong: bool = False):
        self.right, self.wrong = float(values[0]), float(values[1])
        self.truncated_is_wrong = truncated_is_wrong

    def rewards(self, inp, correct):
        ok = correct & ~np.array(inp.truncated, dtype=bool) if self.truncated_is_wrong else correct
        return np.where(ok, self.right, self.wrong)

    def positive(self, rewards):
        return rewards == np.float32(self.right)


@register
class Continuous(RewardSignal):
    name = "continuous"
    binary = False

    def rewards(self, inp, correct):
        return np.array([float(v.score) for v in inp.verdicts])


@register
class RandomReward(RewardSignal):
    name = "random"

    def __init__(self, gamma: float = 0.5, seed: int = 0):
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f"reward.params.gamma={gamma} must be in [0, 1]")
        self.gamma, self.seed = gamma, seed

    def rewards(self, inp, correct):
        # A pure function of (seed, step, index): reproducible and identical after a resume.
        key = f"{self.seed}:{inp.step}" + (f":{inp.draw}" if inp.draw else "")
        return np.array([float(random.Random(f"{key}:{i}").random() < self.gamma)
                         for i in range(len(inp.responses))])


@register
class Inverted(RewardSignal):
    name = "inverted"

    def rewards(self, inp, correct):
        return 1.0 - correct.astype(np.float64)


@register
class FormatReward(RewardSignal):
    name = "format"

    def rewards(self, inp, correct):
        return np.array([float(bool((extract_boxed(r) or "").strip())) for r in inp.responses])


def group_majority(inp: RewardInputs) -> dict[int, str | None]:
    """The most frequent extracted answer of each group (ties: first occurrence; no answer never wins)."""
    answers: dict[int, list[str]] = {}
    for g, v in zip(inp.group_ids, inp.verdicts):
        if v.extracted is not None and str(v.extracted).strip():
            answers.setdefault(g, []).append(str(v.extracted).strip())
    return {g: majority_answer(answers.get(g, [])) for g in inp.group_ids}


def _matches_label(inp: RewardInputs, labels: dict[int, str | None]) -> np.ndarray:
    if inp.verify_fn is None:
        raise ValueError("this reward signal needs RewardInputs.verify_fn to compare responses with pseudo-labels")
    idx = [i for i, g in enumerate(inp.group_ids) if labels[g] is not None]
    out = np.zeros(len(inp.responses))
    verdicts = inp.verify_fn([inp.responses[i] for i in idx], [labels[inp.group_ids[i]] for i in idx])
    for i, v in zip(idx, verdicts):
        out[i] = float(v.correct)
    return out


@register
class MajorityVote(RewardSignal):
    name = "majority_vote"

    def rewards(self, inp, correct):
        return _matches_label(inp, group_majority(inp))


@register
class Incorrect(RewardSignal):
    name = "incorrect"

    def rewards(self, inp, correct):
        labels = group_majority(inp)
        # A group whose majority label is right gives no reward: only wrong majority labels are trained toward.
        gold_of = {g: gold for g, gold in zip(inp.group_ids, inp.golds)}
        if inp.verify_fn is None:
            raise ValueError("reward=incorrect needs RewardInputs.verify_fn")
        groups = [g for g, lab in labels.items() if lab is not None]
        checks = inp.verify_fn([f"\\boxed{{{labels[g]}}}" for g in groups], [gold_of[g] for g in groups])
        label_ok = {g: bool(v.correct) for g, v in zip(groups, checks)}
        wrong_labels = {g: (lab if lab is not None and not label_ok[g] else None) for g, lab in labels.items()}
        self.last_metrics = {"wrong_label_group_frac": sum(lab is not None for lab in wrong_labels.values())
                             / max(len(labels), 1)}
        return _matches_label(inp, wrong_labels)


def build_reward_signal(name: str, **params) -> RewardSignal:
    if name not in REWARD_SIGNALS:
        raise ValueError(f"reward={name!r} is not a reward signal; choose one of {sorted(REWARD_SIGNALS)}")
    try:
        return REWARD_SIGNALS[name](**params)
    except TypeError as e:
        raise ValueError(f"reward={name}: bad reward.params ({e})") from None
