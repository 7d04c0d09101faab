"""Each objective on a tiny batch against values or gradients written out here (by hand or by a naive loop)."""
import math

import pytest
import torch

from rlvr.algorithms import AdvantageInputs, LossInputs, build_objective, overlong_penalty
from rlvr.algorithms.siren import peak_entropy_mask, selected_entropy, top_p_entropy
from rlvr.algorithms.sft import forward_kl_full, reverse_kl_full


def adv_inputs(rewards, correct, groups, mask, **kw):
    mask = torch.as_tensor(mask, dtype=torch.float32)
    return AdvantageInputs(rewards=torch.tensor(rewards, dtype=torch.float32), positive=torch.tensor(correct),
                           group_ids=torch.tensor(groups), mask=mask, response_lengths=mask.sum(-1).long(),
                           truncated=torch.zeros(len(rewards), dtype=torch.bool), **kw)


def on_policy(lp, mask, adv, **kw):
    mask = torch.as_tensor(mask, dtype=torch.float32)
    return LossInputs(logprobs=lp, mask=mask, global_tokens=float(mask.sum()), global_seqs=float(mask.shape[0]),
                      old_logprobs=lp.detach(), advantages=adv, **kw)


def test_unknown_name_and_key_errors_are_actionable():
    with pytest.raises(ValueError, match="known: .*grpo"):
        build_objective("grpo2")
    with pytest.raises(ValueError, match="algorithm.clip_ratio "):
        build_objective("grpo", clip_ratio=0.3)
    with pytest.raises(ValueError, match="max_response_length"):
        build_objective("dr_grpo")


def test_grpo_loss_is_seq_mean_token_mean_on_policy():
    obj = build_objective("grpo")
    mask = [[1, 1, 1], [1, 0, 0], [1, 1, 0]]
    a = obj.compute_advantages(adv_inputs([1.0, 0.0, 0.0], [True, False, False], [0, 0, 0], mask))[0]
    # group [1,0,0]: mean 1/3, unbiased std sqrt(1/3)
    s = math.sqrt(1 / 3) + 1e-6
    want = [(1 - 1 / 3) / s, (-1 / 3) / s, (-1 / 3) / s]
    assert a[:, 0].tolist() == pytest.approx(want, rel=1e-6) and a[1, 1].item() == 0
    lp = torch.log(torch.tensor([[0.5, 0.4, 0.3], [0.2, 0.9, 0.9], [0.6, 0.7, 0.9]])).requires_grad_()
    loss, _ = obj.loss(on_policy(lp, mask, a))
    # on-policy rho = 1: loss = -(1/B) Σ_i A_i (Σ_t 1)/|o_i| = -(1/3) Σ A_i
    assert loss.item() == pytest.approx(-sum(want) / 3, abs=1e-6)
    loss.backward()
    assert lp.grad[0].tolist() == pytest.approx([-want[0] / 9] * 3, rel=1e-5)  # -A/(B·|o|)
    assert lp.grad[2, :2].tolist() == pytest.approx([-want[2] / 6] * 2, rel=1e-5)


def test_grpo_kl_loss_and_entropy_bonus_terms():
    obj = build_objective("grpo", kl_loss_coef=0.04, entropy_coeff=0.001)
    assert obj.needs.reference_model and obj.needs.full_logits
    mask = [[1, 1], [1, 0]]
    logits = torch.tensor([[[0.0, 1.0], [2.0, 0.0]], [[1.0, 1.0], [5.0, 5.0]]])
    lp = torch.log_softmax(logits, -1)[..., 0]
    ref = torch.tensor([[-1.0, -0.5], [-0.2, -9.0]])
    adv = torch.zeros(2, 2)
    loss, _ = obj.loss(on_policy(lp, mask, adv, ref_logprobs=ref, logits=logits))
    k3 = lambda a, b: math.exp(b - a) - (b - a) - 1  # noqa: E731
    lpl = lp.tolist()
    kl = ((k3(lpl[0][0], -1.0) + k3(lpl[0][1], -0.5)) / 2 + k3(lpl[1][0], -0.2)) / 2
    H = lambda z: -sum(p * math.log(p) for p in torch.softmax(torch.tensor(z), -1).tolist())  # noqa: E731
    ent = ((H([0.0, 1.0]) + H([2.0, 0.0])) / 2 + H([1.0, 1.0])) / 2
    assert loss.item() == pytest.approx(0.04 * kl - 0.001 * ent, rel=1e-5)


def test_dr_grpo_no_std_and_constant_L():
    obj = build_objective("dr_grpo", max_response_length=10)
    mask = [[1, 1, 1], [1, 0, 0]]
    a = obj.compute_advantages(adv_inputs([1.0, 0.0], [True, False], [4, 4], mask))[0]
    assert a.tolist() == [[0.5, 0.5, 0.5], [-0.5, 0, 0]]
    lp = torch.full((2, 3), -1.0, requires_grad=True)
    loss, _ = obj.loss(on_policy(lp, mask, a))
    assert loss.item() == pytest.approx(-(3 * 0.5 - 0.5) / (2 * 10))
    loss.backward()
    assert lp.grad.flatten().tolist() == pytest.approx([-0.025] * 3 + [0.025, 0, 0])


def test_dapo_overlong_penalty_and_reward_shaping():
    lengths = torch.tensor([10, 16, 18, 20, 22])
    assert overlong_penalty(lengths, 20, 4).tolist() == pytest.approx([0, 0, -0.5, -1, -1])
    assert overlong_penalty(lengths, 20, 4, floor=False).tolist() == pytest.approx([0, 0, -0.5, -1, -1.5])
    obj = build_objective("dapo", max_response_length=20, overlong_buffer_len=4)
    assert obj.needs.filter_groups and obj.clip_ratio_high == 0.28 and obj.clip_ratio_c == 10.0
    assert obj.shape_rewards([1.0, 0.0, 1.0], [10, 18, 20], [False, False, True]) == pytest.approx([1, -1.5, 0])
    default_cache = build_objective("dapo", max_response_length=20)  # 0.2 · 20 = 4
    assert default_cache.shape_rewards([1.0], [19], [False]) == pytest.approx([0.25])
    mask = [[1, 1, 1], [1, 0, 0]]
    a = obj.compute_advantages(adv_inputs([1.0, -1.0], [True, False], [0, 0], mask))[0]
    lp = torch.zeros(2, 3, requires_grad=True)
    loss, _ = obj.loss(on_policy(lp, mask, a))  # token-mean: -(3·A0 + A1)/4
    assert loss.item() == pytest.approx(-(3 * a[0, 0].item() + a[1, 0].item()) / 4)


@pytest.mark.parametrize("name,pos,neg", [("psr", 1.0, 0.0), ("nsr", 0.0, -1.0), ("w_reinforce", 0.1, -1.0)])
def test_signed_reinforce_advantages_and_token_mean_over_all_tokens(name, pos, neg):
    obj = build_objective(name, entropy_coeff=0.0)
    assert build_objective(name).entropy_coeff == 1e-4  # the paper (its repo yaml: 0.001)
    mask = [[1, 1, 0], [1, 1, 1]]
    # a shaped reward that disagrees with the verdict must not matter (§12b.7)
    a = obj.compute_advantages(adv_inputs([0.3, 0.9], [True, False], [0, 0], mask))[0]
    assert a.tolist() == [pytest.approx([pos, pos, 0]), pytest.approx([neg, neg, neg])]
    lp = torch.zeros(2, 3, requires_grad=True)
    loss, _ = obj.loss(on_policy(lp, mask, a))
    assert loss.item() == pytest.approx(-(2 * pos + 3 * neg) / 5, abs=1e-6)  # 5 tokens, zero-A ones included


@pytest.mark.parametrize("name,sign", [("psr", 1.0), ("nsr", -1.0)])
def test_psr_nsr_logit_gradients_match_the_paper(name, sign):
    obj = build_objective(name, entropy_coeff=0.0)
    z = torch.tensor([0.3, -1.0, 1.2, 0.1], requires_grad=True)
    y = 2
    pi = torch.softmax(z, -1).detach()
    lp = torch.log_softmax(z, -1)[y].reshape(1, 1)
    a = obj.compute_advantages(adv_inputs([1.0], [sign > 0], [0], [[1]]))[0]
    loss, _ = obj.loss(on_policy(lp, [[1]], a))
    loss.backward()
    descent = -z.grad * pi[y]  # undo rho = pi/pi_old: the update direction on the logits ∝ grad pi_y
    want = [(pi[v] * (1 - pi[v])).item() if v == y else (-pi[y] * pi[v]).item() for v in range(4)]
    assert descent.tolist() == pytest.approx([sign * w for w in want], rel=1e-5)


def test_ppo_advantages_with_kl_in_reward_critic_loss_and_adaptive_state():
    obj = build_objective("ppo", kl_coef=0.1, whiten_advantages=False)
    assert obj.needs.critic and obj.needs.reference_model
    mask = [[1, 1, 0], [1, 1, 1]]
    old = torch.tensor([[-1.0, -2.0, 0.0], [-0.5, -0.5, -0.5]])
    ref = torch.tensor([[-1.5, -1.0, 0.0], [-0.5, -1.0, -0.5]])
    values = torch.tensor([[0.2, 0.4, 7.0], [0.1, 0.3, 0.5]])
    adv, ret = obj.compute_advantages(adv_inputs([1.0, 0.0], [True, False], [0, 0], mask, old_logprobs=old,
                                                 ref_logprobs=ref, values=values))
    # token rewards: row0 [-0.1·0.5, 1 - 0.1·(-1.0)] = [-0.05, 1.1]; row1 [0, -0.1·0.5, 0]
    # gamma = lam = 1: A_t = Σ_{s>=t} r_s - V_t
    assert adv[0].tolist() == pytest.approx([1.05 - 0.2, 1.1 - 0.4, 0.0])
    assert adv[1].tolist() == pytest.approx([-0.05 - 0.1, -0.05 - 0.3, 0.0 - 0.5])
    assert ret[0].tolist() == pytest.approx([1.05, 1.1, 0.0])
    v = torch.tensor([[0.0, 2.0, 0.0], [1.0, 1.0, 1.0]], requires_grad=True)
    closs, cm = obj.critic_loss(LossInputs(logprobs=old, mask=torch.tensor(mask, dtype=torch.float32),
                                           global_tokens=5.0, global_seqs=2.0, values=v, old_values=values,
                                           returns=ret))
    # per token ½·max((v-G)², (clip(v, V_old ± 0.5) - G)²)
    terms = []
    for vv, vo, g in [(0.0, 0.2, 1.05), (2.0, 0.4, 1.1), (1.0, 0.1, ret[1, 0].item()), (1.0, 0.3, ret[1, 1].item()),
                      (1.0, 0.5, ret[1, 2].item())]:
        vc = min(max(vv, vo - 0.5), vo + 0.5)
        terms.append(0.5 * max((vv - g) ** 2, (vc - g) ** 2))
    assert closs.item() == pytest.approx(sum(terms) / 5)
    seq = build_objective("ppo", kl_coef=0.1, whiten_advantages=False, loss_agg_mode="seq-mean-token-mean")
    closs_seq, _ = seq.critic_loss(LossInputs(logprobs=old, mask=torch.tensor(mask, dtype=torch.float32),
                                              global_tokens=5.0, global_seqs=2.0, values=v, old_values=values,
                                              returns=ret))
    assert closs_seq.item() == pytest.approx((sum(terms[:2]) / 2 + sum(terms[2:]) / 3) / 2)  # the critic follows it
    ada = build_objective("ppo", kl_coef=0.1, kl_ctrl="adaptive", kl_target=0.1, kl_horizon=100.0)
    ada.compute_advantages(adv_inputs([1.0, 0.0], [True, False], [0, 0], mask, old_logprobs=old,
                                      ref_logprobs=ref, values=values))
    # mean per-seq KL = ((0.5 - 1)/2 + (0 + 0.5 + 0)/3)/2 = -1/24 -> error clipped to -0.2; n_steps = 2
    assert ada.controller.value == pytest.approx(0.1 * (1 - 0.2 * 2 / 100))
    fresh = build_objective("ppo", kl_coef=0.1, kl_ctrl="adaptive", kl_target=0.1, kl_horizon=100.0)
    fresh.load_state_dict(ada.state_dict())
    assert fresh.controller.value == ada.controller.value


def naive_nft_token(logp, old, correct, r, eps=1.0, normalize=1, neg_weight=1.0):
    r = min(max(r, 0.02), 0.98)
    w = {0: 1.0, 1: 1 - r, 2: math.sqrt((1 - r) / r)}[normalize]
    lr = min(logp - old, 10.0)
    if correct:
        return -w * lr
    x = (1 - r * math.exp(lr)) / (1 - r)
    return -w * neg_weight * math.log(max(x, eps))


def test_nft_loss_hand_values_and_constant_normaliser():
    obj = build_objective("nft")
    lp = torch.tensor([[-0.5, -1.0], [-2.0, -0.1], [-0.3, -0.3]], requires_grad=True)
    old = torch.tensor([[-0.7, -1.0], [-2.5, -0.2], [-0.3, -0.1]])
    mask = torch.tensor([[1.0, 1.0], [1.0, 1.0], [1.0, 0.0]])
    correct = torch.tensor([True, False, False])
    r = torch.tensor([0.5, 0.5, 0.01])
    li = LossInputs(logprobs=lp, mask=mask, global_tokens=5.0, global_seqs=3.0, old_logprobs=old, positive=correct,
                    group_accuracy=r)
    loss, _ = obj.loss(li)
    want = sum(naive_nft_token(lp[i, t].item(), old[i, t].item(), bool(correct[i]), r[i].item())
               for i in range(3) for t in range(2) if mask[i, t]) / 1000
    assert loss.item() == pytest.approx(want, rel=1e-6)
    loss.backward()
    # negative token with R > 1 (row 1, t=0: clip active): grad = +w·r·R/((1-r)·max(x, eps)) / 1000, eps = 1
    R = math.exp(0.5)
    assert lp.grad[1, 0].item() == pytest.approx(0.5 * 0.5 * R / 0.5 / 1000, rel=1e-5)
    assert lp.grad[0, 0].item() == pytest.approx(-0.5 / 1000)  # positive: -w


def test_nft_options_rft_and_unclamped_weight():
    lp = torch.tensor([[-0.5], [-0.4]], requires_grad=True)
    old = torch.tensor([[-0.6], [-0.6]])
    base = dict(mask=torch.ones(2, 1), global_tokens=2.0, global_seqs=2.0, old_logprobs=old,
                positive=torch.tensor([True, False]), group_accuracy=torch.tensor([0.01, 0.01]))
    loss, _ = build_objective("nft", neg_weight=0.0).loss(LossInputs(logprobs=lp, **base))
    loss.backward()
    assert lp.grad[1].item() == 0.0 and lp.grad[0].item() == pytest.approx(-(1 - 0.02) / 1000)
    loss, _ = build_objective("nft", clamp_r_hat_weight=False).loss(LossInputs(logprobs=lp.detach(), **base))
    x = (1 - 0.02 * math.exp(0.2)) / 0.98  # the negative policy always uses the clamped r-hat
    want = (1 - 0.01) * (-0.1) - (1 - 0.01) * math.log(max(x, 1.0))
    assert loss.item() == pytest.approx(want / 1000)


def test_nft_on_policy_gradient_equals_grpo_and_dr_grpo():
    correct = torch.tensor([True, False, False, False, True, True, False])
    groups = torch.tensor([0, 0, 0, 0, 1, 1, 1])
    r_hat = torch.tensor([0.25] * 4 + [2 / 3] * 3)
    mask = torch.tensor([[1.0, 1, 1], [1, 1, 0], [1, 0, 0], [1, 1, 1], [1, 1, 0], [1, 1, 1], [1, 0, 0]])
    lp0 = -torch.rand(7, 3) - 0.1
    for normalize in (1, 2):
        lp = lp0.clone().requires_grad_()
        obj = build_objective("nft", normalize=normalize)
        loss, _ = obj.loss(LossInputs(logprobs=lp, mask=mask, global_tokens=float(mask.sum()), global_seqs=7.0,
                                      old_logprobs=lp0, positive=correct, group_accuracy=r_hat))
        loss.backward()
        rewards = correct.float().tolist()
        want = []
        for i in range(7):
            g = [rewards[j] for j in range(7) if groups[j] == groups[i]]
            mean = sum(g) / len(g)
            a = rewards[i] - mean
            if normalize == 2:  # GRPO with the population std
                a /= math.sqrt(sum((x - mean) ** 2 for x in g) / len(g))
            want.append([-a / 1000 * m for m in mask[i].tolist()])
        assert lp.grad.tolist() == [pytest.approx(w, rel=1e-5, abs=1e-9) for w in want]


def test_sft_and_dft_values_and_dft_weight():
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    lp = torch.log(torch.tensor([[0.5, 0.25, 0.9], [0.8, 0.1, 0.1]])).requires_grad_()
    li = LossInputs(logprobs=lp, mask=mask, global_tokens=3.0, global_seqs=2.0)
    loss, _ = build_objective("sft").loss(li)
    assert loss.item() == pytest.approx(-(math.log(0.5) + math.log(0.25) + math.log(0.8)) / 3)
    loss, _ = build_objective("dft").loss(li)
    assert loss.item() == pytest.approx(-(0.5 * math.log(0.5) + 0.25 * math.log(0.25) + 0.8 * math.log(0.8)) / 3)
    loss.backward()
    assert lp.grad.tolist() == [pytest.approx([-0.5 / 3, -0.25 / 3, 0.0]), pytest.approx([-0.8 / 3, 0.0, 0.0])]
    # the code's option: token-mean per micro-batch, averaged over micro-batches (2 micro-batches of 1 here)
    code = build_objective("dft", aggregation="micro_batch")
    total = sum(code.loss(LossInputs(logprobs=lp[i:i + 1], mask=mask[i:i + 1], global_tokens=3.0,
                                     global_seqs=2.0))[0].item() for i in range(2))
    assert total == pytest.approx((-(0.5 * math.log(0.5) + 0.25 * math.log(0.25)) / 2 - 0.8 * math.log(0.8)) / 2)


def test_asft_forward_kl_value_and_gradient_direction():
    z = torch.tensor([[[0.2, -0.4, 1.0, 0.0]]], requires_grad=True)
    zr = torch.tensor([[[1.0, 0.0, -1.0, 0.5]]])
    p, pr = torch.softmax(z, -1).detach()[0, 0], torch.softmax(zr, -1)[0, 0]
    kl = forward_kl_full(z, zr)
    assert kl.item() == pytest.approx(sum(pr[v] * math.log(pr[v] / p[v]) for v in range(4)).item(), rel=1e-6)
    kl.sum().backward()
    # -Σ_v p_ref ∇_z log p_θ(v) = -Σ_v p_ref (e_v - p_θ) = p_θ - p_ref
    assert z.grad[0, 0].tolist() == pytest.approx((p - pr).tolist(), abs=1e-6)
    z2 = z.detach().clone().requires_grad_()
    reverse_kl_full(z2, zr).sum().backward()
    assert not torch.allclose(z2.grad, z.grad, atol=1e-3)
    obj = build_objective("asft")
    assert obj.needs.reference_model and obj.needs.full_logits and obj.needs.data == "demonstrations"
    y = 2
    lp = torch.log_softmax(z, -1)[..., y]
    loss, _ = obj.loss(LossInputs(logprobs=lp, mask=torch.ones(1, 1), global_tokens=1.0, global_seqs=1.0,
                                  logits=z, ref_logits=zr))
    assert loss.item() == pytest.approx(-p[y].item() * math.log(p[y].item()) + 0.05 * kl.item(), rel=1e-6)


@pytest.mark.parametrize("tau_s,zero", [(1.0, True), (0.6, False)])
def test_osft_expected_update_zero_only_when_temperatures_match(tau_s, zero):
    obj = build_objective("osft")
    assert obj.needs.data == "rollouts" and obj.needs.samples_per_prompt == 1 and obj.needs.train_temperature == 1.0
    z = torch.tensor([1.5, 0.2, -0.3, -1.0, 0.0], dtype=torch.float64, requires_grad=True)
    pi_s = torch.softmax(z.detach() / tau_s, -1)
    expected = 0.0
    for y in range(5):  # exact expectation over the vocabulary of the loss of one sampled token
        lp = torch.log_softmax(z / obj.train_temperature, -1)[y].reshape(1, 1)
        expected = expected + pi_s[y] * obj.loss(LossInputs(logprobs=lp, mask=torch.ones(1, 1, dtype=torch.float64),
                                                            global_tokens=1.0, global_seqs=1.0))[0]
    expected.backward()
    if zero:
        assert z.grad.abs().max().item() < 1e-12
    else:
        assert z.grad.abs().max().item() > 1e-2
        assert z.grad[0].item() < 0  # descent raises the top logit: sharpening toward pi(.; tau_s)


def test_siren_top_p_entropy_hand_cases():
    probs = torch.tensor([0.5, 0.2, 0.15, 0.1, 0.05])
    logits = probs.log().reshape(1, 1, 5)
    q = [5 / 7, 2 / 7]  # cumulative 0.5, 0.7 < 0.8; 0.85 crosses and is excluded
    assert top_p_entropy(logits).item() == pytest.approx(-sum(v * math.log(v) for v in q), rel=1e-5)
    peaked = torch.tensor([0.85, 0.1, 0.05]).log().reshape(1, 1, 3)
    assert top_p_entropy(peaked).item() == 0.0
    # top-K softmax option: K = 3 renormalises [0.5, 0.2, 0.15] -> cumulative 0.588, 0.824: keeps one token
    assert top_p_entropy(logits, top_k=3, softmax_over="topk").item() == pytest.approx(0.0, abs=1e-7)
    assert top_p_entropy(logits, top_k=3, softmax_over="vocab").item() == pytest.approx(
        -sum(v * math.log(v) for v in q), rel=1e-5)


def test_siren_peak_mask_selection_and_anchor():
    ent = torch.tensor([[0.1, 0.5, 0.3, 0.9, 0.2, 7.0], [0.4, 0.4, 0.4, 0.0, 0.0, 0.0], [1.0] * 6])
    mask = torch.tensor([[1.0, 1, 1, 1, 1, 0], [1, 1, 1, 0, 0, 0], [0.0] * 6])
    sel = peak_entropy_mask(ent, mask, 0.8)
    # row0 valid [0.1,0.5,0.3,0.9,0.2]: 80th pct (linear) = 0.5 + 0.2·(0.9-0.5) = 0.58 -> only 0.9
    assert sel[0].tolist() == [False, False, False, True, False, False]
    assert not sel[1].any() and not sel[2].any()  # all equal: nothing strictly above; empty row
    h, n = selected_entropy(ent, sel)
    assert n == 1 and h.item() == pytest.approx(0.9)
    obj = build_objective("siren", max_response_length=4, alpha=0.5)
    assert obj.needs.full_logits
    logits = torch.randn(2, 4, 6, generator=torch.Generator().manual_seed(0)) * 2
    m = torch.ones(2, 4)
    lp = torch.log_softmax(logits, -1)[..., 0]
    assert obj.wants_rollout_statistic()
    obj.on_rollout_statistic(*obj.statistic_part(logits, m))  # the learner's scoring pass, summed over micro-batches
    anchor = obj.anchor
    e = top_p_entropy(logits)
    want, _ = selected_entropy(e, peak_entropy_mask(e, m))
    assert anchor == pytest.approx(want.item()) and not obj.wants_rollout_statistic()
    obj.on_rollout_statistic(*obj.statistic_part(logits * 3, m))
    assert obj.anchor == anchor  # fixed after the first rollout step
    shifted = on_policy(lp, m, torch.zeros(2, 4), logits=logits * 0.5)
    with pytest.raises(RuntimeError, match="begin_minibatch"):
        obj.loss(shifted)
    obj.begin_minibatch(*obj.statistic_part(logits * 0.5, m))  # the whole mini-batch's H_sel
    loss, met = obj.loss(shifted)
    e2 = top_p_entropy(logits * 0.5)
    h2, n2 = selected_entropy(e2, peak_entropy_mask(e2, m))
    assert loss.item() == pytest.approx(0.5 * (h2.item() - anchor) ** 2, rel=1e-5)
    # a micro-batch carries its sequences' share of the mini-batch's penalty (the mini-batch's H_sel, not its own)
    half = LossInputs(logprobs=lp[:1], mask=m[:1], global_tokens=8.0, global_seqs=2.0, old_logprobs=lp[:1],
                      advantages=torch.zeros(1, 4), logits=logits[:1] * 0.5)
    _, n_half = selected_entropy(e2[:1], peak_entropy_mask(e2[:1], m[:1]))
    assert obj.loss(half)[0].item() == pytest.approx(0.5 * (h2.item() - anchor) ** 2 * n_half / n2, rel=1e-5)
    other = build_objective("siren", max_response_length=4)
    other.load_state_dict(obj.state_dict())
    assert other.anchor == anchor


def test_every_algorithm_yaml_composes_and_builds():
    import pathlib

    from omegaconf import OmegaConf

    from rlvr.algorithms import OBJECTIVES
    from rlvr.config import compose
    names = sorted(p.stem for p in (pathlib.Path(__file__).parents[1] / "conf" / "algorithm").glob("*.yaml"))
    assert set(OBJECTIVES) <= set(names)   # every objective has its yaml; other yamls are variants of one
    for option in names:
        node = OmegaConf.to_container(compose([f"algorithm={option}"]).algorithm, resolve=True)
        name = node.pop("name")
        assert name == option or (name in OBJECTIVES and option.startswith(name + "_")), option
        obj = build_objective(name, **node)
        assert set(node) <= set(obj.defaults) | {"rollout_temperature", "critic_lr"}
    assert build_objective("osft", **{"rollout_temperature": 0.6}).rollout_temperature == 0.6
