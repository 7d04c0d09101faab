"""Metrics over n sampled answers per problem: unbiased pass@k, maj@k, avg@k.

pass@k follows Chen et al. (2021): the probability that at least one of k samples drawn without replacement from
the n generated ones is correct, 1 - C(n-c, k)/C(n, k). It is computed as a product so that large n does not
overflow and small probabilities keep their precision.
"""
from __future__ import annotations

from typing import Hashable, Sequence

from rlvr.reward.majority import majority_answer


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples of which c are correct: 1 - prod_{i=n-c+1}^{n} (1 - k/i)."""
    if not 0 <= c <= n:
        raise ValueError(f"pass_at_k: need 0 <= c <= n, got n={n}, c={c}")
    if not 1 <= k <= n:
        raise ValueError(f"pass_at_k: k={k} must lie in [1, n={n}]; sample at least k responses per problem")
    if n - c < k:
        return 1.0
    miss = 1.0
    for i in range(n - c + 1, n + 1):
        miss *= 1.0 - k / i
    return 1.0 - miss


def avg_at_k(correct: Sequence[bool | float], k: int) -> float:
    """Mean correctness of the first k samples (avg@32 in the papers: accuracy averaged over 32 samples)."""
    if not 1 <= k <= len(correct):
        raise ValueError(f"avg_at_k: k={k} must lie in [1, {len(correct)}]")
    return float(sum(float(x) for x in correct[:k]) / k)


def maj_at_k(answers: Sequence[Hashable | None], correct: Sequence[bool], k: int) -> float:
    """1.0 if the majority answer among the first k samples is a correct one, else 0.0.

    `answers` are the extracted, normalised answers (None when nothing was extracted); `correct[i]` is the verdict of
    sample i, so the majority answer is judged by the verdict of its first occurrence.
    """
    if len(answers) != len(correct):
        raise ValueError(f"maj_at_k: {len(answers)} answers but {len(correct)} verdicts")
    if not 1 <= k <= len(answers):
        raise ValueError(f"maj_at_k: k={k} must lie in [1, {len(answers)}]")
    winner = majority_answer(answers[:k])
    if winner is None:
        return 0.0
    first = next(i for i in range(k) if answers[i] == winner)
    return float(bool(correct[first]))


def aggregate(per_problem_correct: Sequence[Sequence[bool]], ks: Sequence[int]) -> dict[str, float]:
    """Mean pass@k and avg@k over problems, for each k that does not exceed the sample count."""
    out: dict[str, float] = {}
    if not per_problem_correct:
        return out
    n = min(len(c) for c in per_problem_correct)
    for k in ks:
        if k > n:
            continue
        out[f"pass@{k}"] = sum(pass_at_k(len(c), sum(map(bool, c)), k) for c in per_problem_correct) / len(
            per_problem_correct)
        out[f"avg@{k}"] = sum(avg_at_k(c, k) for c in per_problem_correct) / len(per_problem_correct)
    return out
