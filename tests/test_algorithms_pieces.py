"""The pure pieces of rlvr.algorithms against hand-computed values or naive loops written here."""
import math
import statistics

import pytest
import torch

from rlvr.algorithms.advantages import (dr_grpo_scores, gae, group_mean_std, grpo_scores, rloo_scores, sign_scores,
                                        whiten)
from rlvr.algorithms.aggregation import aggregate
from rlvr.algorithms.entropy import token_entropy
from rlvr.algorithms.kl import k1, k2, k3, k3_plus, kl_penalty
from rlvr.algorithms.policy_loss import clipped_surrogate

LOSS = torch.tensor([[1.0, 2.0, 3.0, 99.0], [4.0, 5.0, -7.0, -7.0], [0.5, -8.0, 123.0, 1e9]])
MASK = torch.tensor([[1.0, 1, 1, 0], [1, 1, 0, 0], [1, 0, 0, 0]])
ROWS = [[1.0, 2.0, 3.0], [4.0, 5.0], [0.5]]


def test_aggregation_modes_equal_their_formulas_on_ragged_lengths():
    n_tok = sum(len(r) for r in ROWS)
    assert aggregate(LOSS, MASK, "token-mean").item() == pytest.approx(sum(map(sum, ROWS)) / n_tok)
    assert aggregate(LOSS, MASK, "seq-mean-token-mean").item() == pytest.approx(
        sum(sum(r) / len(r) for r in ROWS) / 3)
    assert aggregate(LOSS, MASK, "seq-mean-token-sum").item() == pytest.approx(sum(map(sum, ROWS)) / 3)
    assert aggregate(LOSS, MASK, "seq-mean-token-sum-norm", constant_len=10).item() == pytest.approx(
        sum(map(sum, ROWS)) / (3 * 10))
    # global denominators replace the local ones
    assert aggregate(LOSS, MASK, "token-mean", global_tokens=12).item() == pytest.approx(sum(map(sum, ROWS)) / 12)
    assert aggregate(LOSS, MASK, "seq-mean-token-sum", global_seqs=6).item() == pytest.approx(sum(map(sum, ROWS)) / 6)


def test_seq_mean_token_mean_drops_empty_responses_and_sum_norm_needs_L():
    mask = MASK.clone()
    mask[2] = 0
    assert aggregate(LOSS, mask, "seq-mean-token-mean").item() == pytest.approx((2.0 + 4.5) / 2)
    with pytest.raises(ValueError, match="max_response_length"):
        aggregate(LOSS, MASK, "seq-mean-token-sum-norm")
    with pytest.raises(ValueError, match="loss_agg_mode"):
        aggregate(LOSS, MASK, "bogus")


def test_aggregation_ignores_infinite_pad_values_in_grad():
    x = torch.tensor([[1.0, float("inf")]], requires_grad=True)
    out = aggregate(x * 2, torch.tensor([[1.0, 0.0]]), "token-mean")
    out.backward()
    assert out.item() == 2.0 and x.grad.tolist() == [[2.0, 0.0]]


def test_kl_estimators_hand_values_and_k3_plus_gradient():
    lp, ref = torch.tensor([-1.0]), torch.tensor([-1.5])
    d = -0.5  # log ref - log pi
    assert k1(lp, ref).item() == pytest.approx(0.5)
    assert k2(lp, ref).item() == pytest.approx(0.125)
    assert k3(lp, ref).item() == pytest.approx(math.exp(d) - d - 1)
    assert k3(torch.tensor([0.0]), torch.tensor([-1e4])).item() == 10.0  # e^-20 + 20 - 1 = 19, clamped to 10
    assert k3(torch.tensor([-1e4]), torch.tensor([0.0])).item() == 10.0  # output clamped
    x = torch.tensor([-1.0], requires_grad=True)
    v = k3_plus(x, ref)
    v.backward()
    assert v.item() == pytest.approx(math.exp(d) - d - 1)
    assert x.grad.item() == pytest.approx(0.5)  # d/dx ½(x - ref)² = x - ref
    with pytest.raises(ValueError, match="kl_loss_type"):
        kl_penalty(lp, ref, "k9")


def test_grpo_scores_match_statistics_stdev_and_singletons():
    r = torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0, 0.5, 0.25, 3.0])
    g = torch.tensor([7, 7, 7, 7, 3, 3, 3, 9])
    got = grpo_scores(r, g)
    groups = {7: [1.0, 0.0, 0.0, 1.0], 3: [1.0, 0.5, 0.25]}
    for i, gid in enumerate(g.tolist()):
        if gid == 9:
            assert got[i].item() == 0.0  # a group of one: no baseline, no signal (§12b.2)
        else:
            vals = groups[gid]
            assert got[i].item() == pytest.approx((r[i].item() - statistics.mean(vals)) /
                                                  (statistics.stdev(vals) + 1e-6), rel=1e-6)
    nostd = grpo_scores(r, g, norm_by_std=False)
    assert nostd[0].item() == pytest.approx(0.5) and nostd[7].item() == 0.0
    assert torch.equal(grpo_scores(torch.ones(4), torch.zeros(4, dtype=torch.long)), torch.zeros(4))
    _, pstd, _ = group_mean_std(torch.tensor([1.0, 0.0, 0.0, 0.0]), torch.zeros(4, dtype=torch.long), False)
    assert pstd[0].item() == pytest.approx(statistics.pstdev([1, 0, 0, 0]))


def test_dr_grpo_sign_and_rloo_scores():
    r = torch.tensor([1.0, 0.0, 0.0, 2.0])
    g = torch.tensor([0, 0, 0, 1])
    assert dr_grpo_scores(r, g).tolist() == pytest.approx([2 / 3, -1 / 3, -1 / 3, 0.0])
    assert dr_grpo_scores(r, g, singleton="reward").tolist() == pytest.approx([2 / 3, -1 / 3, -1 / 3, 2.0])
    c = torch.tensor([True, False, True])
    assert sign_scores(c, 1.0, 0.0).tolist() == [1.0, 0.0, 1.0]
    assert sign_scores(c, 0.0, 1.0).tolist() == [0.0, -1.0, 0.0]
    assert sign_scores(c, 0.1, 1.0).tolist() == pytest.approx([0.1, -1.0, 0.1])
    assert rloo_scores(r, g).tolist() == pytest.approx([1.0, -0.5, -0.5, 0.0])  # 1 - mean(0,0), 0 - mean(1,0)


def naive_gae(rewards, values, mask, gamma, lam):
    out = []
    for r, v, m in zip(rewards, values, mask):
        idx = [t for t in range(len(m)) if m[t]]
        adv = [0.0] * len(m)
        nxt_v, nxt_a = 0.0, 0.0
        for t in reversed(idx):
            delta = r[t] + gamma * nxt_v - v[t]
            nxt_a = delta + gamma * lam * nxt_a
            nxt_v = v[t]
            adv[t] = nxt_a
        out.append(adv)
    return out


def test_gae_skips_masked_positions_and_reduces_to_return_minus_value():
    rewards = torch.tensor([[0.0, 0.3, 0.0, 1.0, 0.0], [0.2, 0.0, -1.0, 0.0, 0.0]])
    values = torch.tensor([[0.5, 0.1, 9.0, 0.7, 5.0], [0.3, 0.2, 0.4, 8.0, 8.0]])
    mask = torch.tensor([[1.0, 1, 0, 1, 0], [1, 1, 1, 0, 0]])  # a hole at t=2 in row 0
    for gamma, lam in [(1.0, 1.0), (0.9, 0.8)]:
        adv, ret = gae(rewards, values, mask, gamma, lam)
        want = naive_gae(rewards.tolist(), values.tolist(), mask.tolist(), gamma, lam)
        assert adv.tolist() == [pytest.approx(w, abs=1e-6) for w in want]
        assert torch.allclose(ret, (adv + values) * mask)
    adv, _ = gae(rewards, values, mask, 1.0, 1.0)
    # gamma = lam = 1: A_t = (sum of rewards from t on) - V_t
    assert adv[0, 0].item() == pytest.approx(1.3 - 0.5) and adv[0, 3].item() == pytest.approx(1.0 - 0.7)


def test_whiten_unbiased_and_single_token_skipped():
    x = torch.tensor([[1.0, 2.0, 7.0], [3.0, 100.0, 100.0]])
    m = torch.tensor([[1.0, 1, 0], [1, 0, 0]])
    w = whiten(x, m)
    vals = [1.0, 2.0, 3.0]
    mu, sd = statistics.mean(vals), statistics.stdev(vals)
    assert w[0, 0].item() == pytest.approx((1 - mu) / math.sqrt(sd ** 2 + 1e-8))
    assert w[1, 0].item() == pytest.approx((3 - mu) / math.sqrt(sd ** 2 + 1e-8)) and w[0, 2].item() == 0
    one = torch.tensor([[5.0, 0.0]])
    assert whiten(one, torch.tensor([[1.0, 0.0]])).tolist() == [[5.0, 0.0]]


def test_clipped_surrogate_hand_cases_and_dual_clip():
    old = torch.zeros(1, 4)
    ratios = torch.tensor([[1.5, 0.5, 5.0, 1.1]])
    adv = torch.tensor([[1.0, -1.0, -1.0, 2.0]])
    mask = torch.ones(1, 4)
    loss, m = clipped_surrogate(ratios.log(), old, adv, mask, 0.2, 0.28)
    # A>0, rho 1.5: -min(1.5, 1.28) = -1.28 | A<0, rho 0.5: -min(-0.5, -0.8) = 0.8 | A<0, rho 5: 5 | rho 1.1: -2.2
    assert loss.tolist() == [pytest.approx([-1.28, 0.8, 5.0, -2.2])]
    assert m["pg_clipfrac"] == pytest.approx(0.5) and m["pg_clipfrac_lower"] == 0.0
    loss, m = clipped_surrogate(ratios.log(), old, adv, mask, 0.2, 0.28, dual_clip_c=3.0)
    assert loss.tolist() == [pytest.approx([-1.28, 0.8, 3.0, -2.2])]
    assert m["pg_clipfrac_lower"] == pytest.approx(0.25)
    assert m["ppo_kl"] == pytest.approx(-sum(math.log(r) for r in [1.5, 0.5, 5.0, 1.1]) / 4)


def test_token_entropy_matches_formula():
    logits = torch.tensor([[[0.0, 1.0, 2.0]]])
    p = [math.exp(v) for v in [0.0, 1.0, 2.0]]
    p = [v / sum(p) for v in p]
    assert token_entropy(logits).item() == pytest.approx(-sum(v * math.log(v) for v in p))
    assert torch.isfinite(token_entropy(torch.tensor([[[0.0, -1e4, 1e4]]]))).all()
