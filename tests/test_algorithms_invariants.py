"""Invariants every objective must keep: pad columns change nothing, micro-batch gradients sum to the
mini-batch gradient, and losses/gradients stay finite on extreme inputs (hypothesis)."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rlvr.algorithms import OBJECTIVES, AdvantageInputs, LossInputs, build_objective

V = 7
EXTRA = {"dr_grpo": {"max_response_length": 8}, "siren": {"max_response_length": 8},
         "dapo": {"max_response_length": 8}, "grpo": {"kl_loss_coef": 0.04, "entropy_coeff": 0.001},
         "ppo": {"entropy_coeff": 0.001, "kl_loss_coef": 0.01}}
NAMES = sorted(OBJECTIVES)


def make_batch(seed=0, B=6, T=5, lengths=None):
    g = torch.Generator().manual_seed(seed)
    lengths = lengths or [5, 3, 1, 4, 2, 5][:B]
    mask = torch.tensor([[1.0] * n + [0.0] * (T - n) for n in lengths])
    return {
        "logits": torch.randn(B, T, V, generator=g) * 1.5,
        "old_logits": torch.randn(B, T, V, generator=g),
        "ref_logits": torch.randn(B, T, V, generator=g),
        "tokens": torch.randint(0, V, (B, T), generator=g),
        "mask": mask,
        "values": torch.randn(B, T, generator=g),
        "rewards": torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0, 0.0][:B]),
        "correct": torch.tensor([True, False, False, True, True, False][:B]),
        "group_ids": torch.tensor([0, 0, 0, 1, 1, 1][:B]),
    }


def gather(logits, tokens):
    return torch.log_softmax(logits, -1).gather(-1, tokens[..., None])[..., 0]


def prepare(name, b):
    """Build the objective, run its advantage and rollout hooks on the whole batch (as the loop does)."""
    obj = build_objective(name, **EXTRA.get(name, {}))
    old_lp, ref_lp = gather(b["old_logits"], b["tokens"]), gather(b["ref_logits"], b["tokens"])
    acc = torch.tensor([(b["correct"][b["group_ids"] == gi]).float().mean().item() for gi in b["group_ids"].tolist()])
    adv = ret = None
    if obj.needs.data != "demonstrations":
        adv, ret = obj.compute_advantages(AdvantageInputs(
            rewards=b["rewards"], positive=b["correct"], group_ids=b["group_ids"], mask=b["mask"],
            response_lengths=b["mask"].sum(-1).long(), truncated=torch.zeros_like(b["correct"]),
            old_logprobs=old_lp, ref_logprobs=ref_lp, values=b["values"]))
    full = LossInputs(logprobs=old_lp, mask=b["mask"], global_tokens=float(b["mask"].sum()),
                      global_seqs=float(len(b["mask"])), old_logprobs=old_lp, advantages=adv, ref_logprobs=ref_lp,
                      logits=b["old_logits"], ref_logits=b["ref_logits"], positive=b["correct"], group_accuracy=acc)
    obj.on_rollout(full)
    if obj.wants_rollout_statistic():  # SIREN's anchor, as the learner's scoring pass measures it
        obj.on_rollout_statistic(*obj.statistic_part(full.logits, full.mask))
    return obj, full, ret


def run_loss(obj, full, ret, logits, rows, mask=None, tokens=None):
    """Loss and grads for the micro-batch `rows` with the whole batch's denominators."""
    logits = logits.detach().clone().requires_grad_()
    mask = full.mask if mask is None else mask
    if obj.needs.minibatch_statistic:  # measured over the whole mini-batch first, as the learner does
        obj.begin_minibatch(*obj.statistic_part(logits.detach(), mask))

    def pick(x):
        return None if x is None else x[rows]
    li = LossInputs(logprobs=gather(logits, tokens)[rows], mask=mask[rows], global_tokens=full.global_tokens,
                    global_seqs=full.global_seqs, old_logprobs=pick(full.old_logprobs),
                    advantages=pick(full.advantages), ref_logprobs=pick(full.ref_logprobs),
                    logits=logits[rows], ref_logits=pick(full.ref_logits), positive=pick(full.positive),
                    group_accuracy=pick(full.group_accuracy))
    loss, metrics = obj.loss(li)
    loss.backward()
    return loss.detach(), logits.grad, metrics


@pytest.mark.parametrize("name", NAMES)
def test_micro_batch_split_sums_to_full_batch(name):
    b = make_batch(1)
    obj, full, ret = prepare(name, b)
    logits = b["old_logits"] + 0.3 * b["logits"]  # off-policy, so clipping paths are exercised
    all_rows = torch.arange(6)
    loss_full, grad_full, metrics = run_loss(obj, full, ret, logits, all_rows, tokens=b["tokens"])
    # SIREN's squared mini-batch statistic included: measured over the mini-batch first, it splits exactly.
    parts = [run_loss(obj, full, ret, logits, r, tokens=b["tokens"]) for r in (torch.arange(0, 2), torch.arange(2, 6))]
    assert torch.isfinite(loss_full) and loss_full.abs() > 0
    assert sum(p[0] for p in parts).item() == pytest.approx(loss_full.item(), rel=1e-5, abs=1e-7)
    assert torch.allclose(parts[0][1] + parts[1][1], grad_full, atol=1e-7, rtol=1e-5)
    assert all(isinstance(v, float) for v in metrics.values())


@pytest.mark.parametrize("name", NAMES)
def test_pad_columns_change_nothing(name):
    b = make_batch(2)
    obj, full, ret = prepare(name, b)
    obj2, _, _ = prepare(name, b)
    logits = b["old_logits"] + 0.3 * b["logits"]
    loss, grad, _ = run_loss(obj, full, ret, logits, torch.arange(6), tokens=b["tokens"])
    # append 2 pad columns holding garbage (huge logits, garbage old/ref/advantages) with mask 0
    g = torch.Generator().manual_seed(9)

    def pad(x, fill_scale=1e3):
        if x is None:
            return None
        shape = list(x.shape)
        shape[1] = 2
        junk = torch.randn(*shape, generator=g) * fill_scale if x.dtype.is_floating_point else torch.zeros(
            shape, dtype=x.dtype)
        return torch.cat([x, junk.to(x.dtype)], 1)
    padded = LossInputs(logprobs=pad(full.logprobs), mask=torch.cat([full.mask, torch.zeros(6, 2)], 1),
                        global_tokens=full.global_tokens, global_seqs=full.global_seqs,
                        old_logprobs=pad(full.old_logprobs), advantages=pad(full.advantages),
                        ref_logprobs=pad(full.ref_logprobs), logits=pad(full.logits), ref_logits=pad(full.ref_logits),
                        positive=full.positive, group_accuracy=full.group_accuracy)
    tokens = torch.cat([b["tokens"], torch.randint(0, V, (6, 2), generator=g)], 1)
    loss_p, grad_p, _ = run_loss(obj2 if name != "siren" else obj, padded, ret, pad(logits), torch.arange(6),
                                 tokens=tokens)
    assert loss_p.item() == pytest.approx(loss.item(), rel=1e-6, abs=1e-8)
    assert torch.allclose(grad_p[:, :5], grad, atol=1e-7, rtol=1e-5)
    assert grad_p[:, 5:].abs().max().item() == 0.0


@pytest.mark.parametrize("name", NAMES)
def test_every_objective_runs_its_own_tiny_batch(name):
    """Sanity: a nonzero, finite loss whose gradient is nonzero on valid tokens only."""
    b = make_batch(3)
    obj, full, ret = prepare(name, b)
    loss, grad, _ = run_loss(obj, full, ret, b["old_logits"] + 0.2 * b["logits"], torch.arange(6), tokens=b["tokens"])
    assert torch.isfinite(loss) and torch.isfinite(grad).all()
    assert grad.abs().sum() > 0 and (grad * (1 - b["mask"])[..., None]).abs().max() == 0


extreme = st.sampled_from([-1e4, -50.0, -1.0, 0.0])


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(NAMES), lp_vals=st.lists(extreme, min_size=8, max_size=8),
       old_vals=st.lists(extreme, min_size=8, max_size=8), equal_rewards=st.booleans(),
       empty_rows=st.lists(st.booleans(), min_size=4, max_size=4), logit_scale=st.sampled_from([1.0, 1e4]))
def test_losses_and_grads_finite_on_extreme_inputs(name, lp_vals, old_vals, equal_rewards, empty_rows, logit_scale):
    B, T = 4, 2
    mask = torch.ones(B, T)
    for i, e in enumerate(empty_rows):
        if e:
            mask[i] = 0
    lp = torch.tensor(lp_vals).reshape(B, T).requires_grad_()
    old = torch.tensor(old_vals).reshape(B, T)
    logits = (torch.randn(B, T, V, generator=torch.Generator().manual_seed(0)) * logit_scale).requires_grad_()
    correct = torch.tensor([True] * 4) if equal_rewards else torch.tensor([True, False, True, False])
    rewards = correct.float()
    groups = torch.tensor([0, 0, 1, 1])
    obj = build_objective(name, **EXTRA.get(name, {}))
    adv = ret = None
    if obj.needs.data != "demonstrations":
        adv, ret = obj.compute_advantages(AdvantageInputs(
            rewards=rewards, positive=correct, group_ids=groups, mask=mask, response_lengths=mask.sum(-1).long(),
            truncated=torch.zeros(B, dtype=torch.bool), old_logprobs=old, ref_logprobs=old.flip(0),
            values=torch.zeros(B, T)))
        if adv is not None:
            assert torch.isfinite(adv).all()
    acc = torch.tensor([correct[:2].float().mean(), correct[:2].float().mean(), correct[2:].float().mean(),
                        correct[2:].float().mean()])
    li = LossInputs(logprobs=lp, mask=mask, global_tokens=float(mask.sum()), global_seqs=float(B), old_logprobs=old,
                    advantages=adv, ref_logprobs=old.flip(0), logits=logits, ref_logits=logits.detach().flip(0),
                    positive=correct, group_accuracy=acc)
    obj.on_rollout(LossInputs(logprobs=old, mask=mask, global_tokens=li.global_tokens, global_seqs=4.0,
                              logits=logits.detach()))
    if obj.needs.minibatch_statistic:
        obj.on_rollout_statistic(*obj.statistic_part(logits.detach(), mask))
        obj.begin_minibatch(*obj.statistic_part(logits.detach(), mask))
    loss, metrics = obj.loss(li)
    loss.backward()
    assert torch.isfinite(loss)
    assert lp.grad is not None or logits.grad is not None
    for grad in (lp.grad, logits.grad):
        assert grad is None or torch.isfinite(grad).all()
    assert all(v == v for v in metrics.values())  # no NaN metric


def test_ppo_critic_loss_micro_batch_split_and_padding():
    b = make_batch(4)
    obj, full, ret = prepare("ppo", b)

    def critic(rows, values, mask, returns, old_values):
        v = values.detach().clone().requires_grad_()
        li = LossInputs(logprobs=full.logprobs[rows], mask=mask[rows], global_tokens=full.global_tokens,
                        global_seqs=full.global_seqs, values=v[rows], old_values=old_values[rows],
                        returns=returns[rows])
        loss, _ = obj.critic_loss(li)
        loss.backward()
        return loss.detach(), v.grad

    new_values = b["values"] + torch.randn(6, 5, generator=torch.Generator().manual_seed(5))
    lf, gf = critic(torch.arange(6), new_values, b["mask"], ret, b["values"])
    l1, g1 = critic(torch.arange(0, 3), new_values, b["mask"], ret, b["values"])
    l2, g2 = critic(torch.arange(3, 6), new_values, b["mask"], ret, b["values"])
    assert (l1 + l2).item() == pytest.approx(lf.item(), rel=1e-6) and torch.allclose(g1 + g2, gf)
    junk = torch.full((6, 2), 1e6)
    lp_, gp = critic(torch.arange(6), torch.cat([new_values, junk], 1), torch.cat([b["mask"], torch.zeros(6, 2)], 1),
                     torch.cat([ret, -junk], 1), torch.cat([b["values"], junk], 1))
    assert lp_.item() == pytest.approx(lf.item(), rel=1e-6) and torch.allclose(gp[:, :5], gf)
