"""The majority answer of a set of samples: maj@k in evaluation and the pseudo-labels of the majority-vote and
incorrect-label reward signals (Spurious Rewards, TTRL) all use this one rule."""
from __future__ import annotations

from collections import Counter
from typing import Hashable, Sequence


def majority_answer(answers: Sequence[Hashable | None]) -> Hashable | None:
    """Most frequent non-None answer; ties go to the answer that occurred first (deterministic, order-based)."""
    counts = Counter(a for a in answers if a is not None)
    if not counts:
        return None
    best = max(counts.values())
    return next(a for a in answers if a is not None and counts[a] == best)
