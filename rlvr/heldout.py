"""Held-out scoring, one way for every caller (the training loop, the warm start, the learning tests and bench):
sample k responses per held-out problem, verify them against the golds, count the right ones per problem. Kept per
problem so that two scorings of the same problems can be compared problem by problem (`paired_sign_test`)."""
from __future__ import annotations

import math
from typing import Callable, Sequence

from rlvr.data.prompts import PromptItem


def score_heldout(generate: Callable, verify: Callable, items: Sequence[PromptItem], k: int = 1,
                  temperature: float = 0.0, seed: int = 0) -> list[int]:
    """The number of right responses out of k for each problem, in order. `generate(prompts, n, temperature, seed)`
    returns one group of outputs (each with `.text`) per prompt; `verify(responses, golds)` returns verdicts (each
    with `.correct`). k=1 at temperature 0 is greedy accuracy."""
    groups = generate([it.prompt for it in items], k, temperature, seed)
    verdicts = verify([o.text for g in groups for o in g], [it.gold for it in items for _ in range(k)])
    return [sum(v.correct for v in verdicts[i * k:(i + 1) * k]) for i in range(len(items))]


def mean_accuracy(counts: Sequence[int], k: int = 1) -> float:
    return sum(counts) / max(1, k * len(counts))


def paired_sign_test(before, after) -> dict:
    """Did `after` get more of the same problems right than `before`? Each is one score per held-out problem, in
    the same order: a 0/1 string (rlvr.run.Run.heldout, greedy) or a list of counts of k samples right
    (Run.heldout_sampled). Only the problems whose score changed carry evidence: `gained` went up, `lost` went
    down. Under "no change in skill" each change is a fair coin, so the exact one-sided p-value is P(X >= gained)
    for X ~ Binomial(gained + lost, 1/2) (the sign test; McNemar's exact test for 0/1 scores). A learning claim
    stated this way does not depend on where the start happened to land, only on the evidence of the changes."""
    if len(before) != len(after):
        raise ValueError(f"compare evaluations of the same problems: {len(before)} vs {len(after)} scores")
    pairs = [(int(b), int(a)) for b, a in zip(before, after)]
    gained = sum(a > b for b, a in pairs)
    lost = sum(a < b for b, a in pairs)
    n = gained + lost
    p = sum(math.comb(n, k) for k in range(gained, n + 1)) / 2 ** n if n else 1.0
    return {"gained": gained, "lost": lost, "net": gained - lost, "p_value": p}
