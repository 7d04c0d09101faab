import itertools
import math

import pytest

from rlvr.tools.passk import aggregate, avg_at_k, maj_at_k, majority_answer, pass_at_k


def brute_force_pass_at_k(correct, k):
    subsets = list(itertools.combinations(range(len(correct)), k))
    return sum(any(correct[i] for i in s) for s in subsets) / len(subsets)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
def test_pass_at_k_equals_enumeration_over_subsets(n):
    for c in range(n + 1):
        correct = [True] * c + [False] * (n - c)
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(brute_force_pass_at_k(correct, k), abs=1e-12)


def test_pass_at_k_hand_values_and_large_n():
    assert pass_at_k(4, 1, 2) == pytest.approx(0.5)  # 3 of 6 pairs contain the correct one
    assert pass_at_k(10, 0, 5) == 0.0
    assert pass_at_k(10, 6, 5) == 1.0
    # large n: product form agrees with exact rational combinatorics
    exact = 1 - math.comb(1000 - 3, 16) / math.comb(1000, 16)
    assert pass_at_k(1000, 3, 16) == pytest.approx(exact, rel=1e-12)
    with pytest.raises(ValueError, match="k=5"):
        pass_at_k(4, 1, 5)


def test_majority_ties_go_to_first_occurrence():
    assert majority_answer(["3", "4", "4", "3"]) == "3"
    assert majority_answer(["4", "3", "3", "4"]) == "4"
    assert majority_answer([None, None, "7"]) == "7"
    assert majority_answer([None]) is None
    # maj@k uses only the first k samples
    answers = ["1", "2", "2", "1", "1"]
    correct = [True, False, False, True, True]
    assert maj_at_k(answers, correct, 3) == 0.0
    assert maj_at_k(answers, correct, 5) == 1.0
    assert maj_at_k(answers, correct, 4) == 1.0  # tie 2-2, "1" occurred first


def test_avg_and_aggregate():
    assert avg_at_k([True, False, True, True], 4) == 0.75
    assert avg_at_k([True, False, True, True], 2) == 0.5
    agg = aggregate([[True, False], [False, False]], [1, 2, 4])
    assert agg == {"pass@1": pytest.approx(0.25), "avg@1": 0.5, "pass@2": 0.5, "avg@2": 0.25}
