"""The learner: micro-batch accumulation is exact, mini-batches make several optimizer steps, OSFT trains at tau=1,
weights exported for sync include lm_head, the schedule is what the config says."""
import copy

import pytest
import torch

from rlvr.algorithms import build_objective
from rlvr.batch import TrainBatch
from rlvr.learner.learner import Learner, LearnerSettings
from rlvr.learner.schedule import lr_lambda
from rlvr.step import finish_batch


def _batch():
    return TrainBatch(prompt_ids=[[1, 20, 21, 22]] * 4 + [[1, 23]] * 4,
                      response_ids=[[30, 31, 2], [30, 32, 33, 2], [34], [35, 36]] * 2, group_ids=[0] * 4 + [1] * 4,
                      sampling_logprobs=[], truncated=[False] * 8, rewards=[1, 0, 0, 1, 0, 0, 0, 1.0],
                      correct=[True, False, False, True, False, False, False, True],
                      positive=[True, False, False, True, False, False, False, True])


def _learner(model_dir, algorithm="grpo", **kw):
    settings = LearnerSettings(lr=1e-3, **kw)
    cfg = {"max_response_length": 8} if algorithm in ("grpo", "dr_grpo", "siren") else {}
    return Learner(str(model_dir), build_objective(algorithm, **cfg), settings)


def update(learner, batch, step=0):
    """What rlvr.step does around the learner: score, advantages on the driver, then the update."""
    if learner.needs.data != "demonstrations":
        finish_batch(batch, learner.objective, learner.score_rollouts(batch))
    return learner.update(batch, step)


@pytest.mark.parametrize("algorithm", ["grpo", "dr_grpo", "sft", "siren", "nft", "w_reinforce"])
def test_micro_batch_accumulation_equals_full_batch(tiny_model_dir, algorithm):
    a = _learner(tiny_model_dir, algorithm, micro_batch_size=8)
    b = _learner(tiny_model_dir, algorithm, micro_batch_size=1)
    update(a, _batch())
    update(b, _batch())
    # Compare the accumulated gradients (Adam's first step is sign-like and would amplify float noise).
    for (k, pa), pb in zip(a.model.named_parameters(), b.model.parameters()):
        assert pa.grad is not None and pa.grad.abs().sum() > 0, k
        assert torch.allclose(pa.grad, pb.grad, atol=1e-6, rtol=1e-4), k


@pytest.mark.parametrize("padding_free", [False, True])
@pytest.mark.parametrize("algorithm", ["grpo", "dr_grpo", "nft", "w_reinforce"])
def test_a_one_step_update_takes_the_old_logprobs_from_its_own_forward_bit_for_bit(tiny_model_dir, algorithm,
                                                                                  padding_free):
    """Without the scoring pass (rlvr.step.scoring_pass_needed says it is redundant), the update's own forward
    gives the old log-probs and the importance weights: the same weights after the step as scoring first, and the
    same importance-weight metrics, with sampler log-probs far enough off that some weights are capped."""
    kw = dict(micro_batch_size=3, padding_free=padding_free, is_cap=1.5)
    scored, fused = _learner(tiny_model_dir, algorithm, **kw), _learner(tiny_model_dir, algorithm, **kw)
    own = scored.score_rollouts(_batch())["old_logprobs"]
    batches = _batch(), _batch()
    for batch in batches:
        batch.sampling_logprobs = [(own[i, :len(r)] - 0.9 * (i % 3 == 0) + 0.05 * i).tolist()
                                   for i, r in enumerate(batch.response_ids)]
    a, b = batches
    before = finish_batch(a, scored.objective, scored.score_rollouts(a), is_cap=1.5)
    got_a = {**before, **scored.update(a, 0)}
    assert finish_batch(b, fused.objective, {}, is_cap=1.5) == {} and b.old_logprobs is None
    got_b = fused.update(b, 0)
    for (k, pa), pb in zip(scored.model.named_parameters(), fused.model.parameters()):
        assert torch.equal(pa, pb), k
    keys = ["loss", "grad_norm", "rollout_learner_logprob_diff"]
    if scored.objective.importance_weighted:
        keys += ["is_weight_mean", "is_weight_capped_fraction"]
        assert 0 < got_a["is_weight_capped_fraction"] < 1
    else:
        assert "is_weight_mean" not in got_b
    for key in keys:
        assert got_b[key] == pytest.approx(got_a[key], rel=1e-6, abs=1e-9), key


def test_an_update_of_several_steps_refuses_a_batch_without_old_logprobs(tiny_model_dir):
    learner = _learner(tiny_model_dir, mini_batch_prompts=1)
    batch = _batch()
    finish_batch(batch, learner.objective, {})
    with pytest.raises(ValueError, match="several optimizer steps"):
        learner.update(batch, 0)


def test_mini_batches_make_several_optimizer_steps(tiny_model_dir):
    learner = _learner(tiny_model_dir, mini_batch_prompts=1, epochs=2)
    metrics = update(learner, _batch())
    assert metrics["optimizer_steps"] == 4  # 2 groups / 1 prompt per mini-batch x 2 epochs
    assert metrics["pg_clipfrac"] >= 0


def test_osft_trains_at_temperature_one_not_the_rollout_temperature(tiny_model_dir):
    learner = Learner(str(tiny_model_dir), build_objective("osft"), LearnerSettings(rollout_temperature=0.6))
    assert learner.train_temperature == 1.0
    grpo = _learner(tiny_model_dir, rollout_temperature=0.6)
    assert grpo.train_temperature == 0.6


def test_named_weights_include_lm_head_and_round_trip(tiny_model_dir):
    learner = _learner(tiny_model_dir)
    weights = learner.named_weights()
    assert "lm_head.weight" in weights
    assert torch.equal(weights["lm_head.weight"], weights["model.embed_tokens.weight"])
    update(learner, _batch())
    other = _learner(tiny_model_dir)
    other.load_weights(learner.named_weights())
    seq = [[1, 20, 21, 22, 30, 31, 2]]
    assert other.score(seq) == learner.score(seq)


def test_schedule_warmup_then_cosine():
    f = lr_lambda(warmup_steps=4, schedule="cosine", total_steps=14)
    assert [round(f(s), 4) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert abs(f(9) - 0.5) < 1e-9 and abs(f(14)) < 1e-9
    with pytest.raises(ValueError, match="optim.schedule"):
        lr_lambda(0, "bogus", 10)


def test_siren_entropy_penalty_is_micro_batch_invariant(tiny_model_dir):
    """The squared mini-batch statistic, with the anchor away from the current entropy so the penalty is active."""
    grads = {}
    for alpha, micro in [(1.0, 8), (1.0, 1), (1.0, 3), (0.0, 8)]:
        learner = Learner(str(tiny_model_dir), build_objective("siren", max_response_length=8, alpha=alpha),
                          LearnerSettings(lr=1e-3, micro_batch_size=micro))
        batch = _batch()
        finish_batch(batch, learner.objective, learner.score_rollouts(batch))
        learner.objective.anchor = 0.0
        learner.update(batch, 0)
        grads[(alpha, micro)] = torch.cat([p.grad.flatten() for p in learner.model.parameters()])
    assert torch.allclose(grads[(1.0, 8)], grads[(1.0, 1)], atol=1e-6, rtol=1e-4)
    assert torch.allclose(grads[(1.0, 8)], grads[(1.0, 3)], atol=1e-6, rtol=1e-4)
    assert not torch.allclose(grads[(1.0, 8)], grads[(0.0, 8)], atol=1e-4)  # the penalty contributes


def test_empty_responses_do_not_count_as_sequences(tiny_model_dir):
    """seq-mean-token-mean over a batch with an empty response equals the batch without it (§12b.6)."""
    full = TrainBatch(prompt_ids=[[1, 20]] * 3, response_ids=[[30, 31], [], [32]], group_ids=[0, 0, 0],
                      rewards=[1.0, 0.0, 0.0], positive=[True, False, False], truncated=[False] * 3)
    a, b = _learner(tiny_model_dir, "w_reinforce", micro_batch_size=8), _learner(tiny_model_dir, "w_reinforce")
    a.objective.loss_agg_mode = b.objective.loss_agg_mode = "seq-mean-token-mean"
    update(a, full)
    update(b, TrainBatch(prompt_ids=[[1, 20]] * 2, response_ids=[[30, 31], [32]], group_ids=[0, 0],
                         rewards=[1.0, 0.0], positive=[True, False], truncated=[False] * 2))
    for pa, pb in zip(a.model.parameters(), b.model.parameters()):
        assert torch.allclose(pa.grad, pb.grad, atol=1e-6, rtol=1e-4)


def _batch_with_equal_groups():
    """_batch's two mixed groups, plus a group of all-correct and a group of all-wrong samples (zero advantages)."""
    b = _batch()
    return TrainBatch(prompt_ids=b.prompt_ids + [[1, 24, 25]] * 4 + [[1, 26]] * 4,
                      response_ids=b.response_ids + [[37, 2], [38, 39], [40], [41, 42, 2]] * 2,
                      group_ids=b.group_ids + [2] * 4 + [3] * 4, sampling_logprobs=[], truncated=[False] * 16,
                      rewards=b.rewards + [1.0] * 4 + [0.0] * 4, correct=b.correct + [True] * 4 + [False] * 4,
                      positive=b.positive + [True] * 4 + [False] * 4)


def _rows_seen(learner) -> list[int]:
    """Records how many sequences each forward of the policy's backbone sees."""
    seen: list[int] = []
    learner.model.get_input_embeddings().register_forward_hook(lambda mod, inp, out: seen.append(out.shape[0]))
    return seen


@pytest.mark.parametrize("own_forward", [False, True])
@pytest.mark.parametrize("algorithm,cfg,skipped", [("grpo", {}, 8), ("dr_grpo", {}, 8), ("dapo", {}, 8),
                                                   ("psr", {"entropy_coeff": 0.0}, 9),
                                                   ("nsr", {"entropy_coeff": 0.0}, 7)])
def test_skipping_zero_advantage_rows_takes_the_same_step_on_fewer_rows(tiny_model_dir, algorithm, cfg, skipped,
                                                                         own_forward):
    """learner.skip_zero_advantage: the gradient is the one of the whole batch (the skipped rows' loss terms are
    exactly 0 and the normalisers stay the batch's), the backbone sees only the rows with signal, and a step whose
    rows all have zero advantages moves the weights exactly as the full update does (AdamW's momentum)."""
    cfg = {"max_response_length": 8, **cfg}
    full, skip = (Learner(str(tiny_model_dir), build_objective(algorithm, **cfg),
                          LearnerSettings(lr=1e-3, micro_batch_size=5, skip_zero_advantage=flag))
                  for flag in (False, True))
    seen = _rows_seen(skip)
    results = []
    for learner in (full, skip):
        batch = _batch_with_equal_groups()
        finish_batch(batch, learner.objective, {} if own_forward else learner.score_rollouts(batch))
        seen.clear()
        results.append(learner.update(batch, 0))
    assert sum(seen) == 16 - skipped
    assert results[1]["skipped_row_fraction"] == skipped / 16 and "skipped_row_fraction" not in results[0]
    for (k, pa), pb in zip(full.model.named_parameters(), skip.model.parameters()):
        assert pa.grad.abs().sum() > 0, k
        assert torch.allclose(pa.grad, pb.grad, atol=1e-7, rtol=1e-5), k
    # From the same state, a batch with no signal at all: one row runs (a zero gradient), the step is the same.
    skip.model.load_state_dict(full.model.state_dict())
    skip.optimizer.load_state_dict(copy.deepcopy(full.optimizer.state_dict()))  # load_state_dict would share
    for learner in (full, skip):
        batch = _batch_with_equal_groups()
        batch.rewards = [1.0] * 16 if algorithm != "psr" else [0.0] * 16
        batch.positive = batch.correct = [r > 0 for r in batch.rewards]
        finish_batch(batch, learner.objective, {} if own_forward else learner.score_rollouts(batch))
        seen.clear()
        learner.update(batch, 1)
    assert sum(seen) == 1
    for pa, pb in zip(full.model.parameters(), skip.model.parameters()):
        assert torch.equal(pb.grad, torch.zeros_like(pb.grad)) and torch.equal(pa, pb)


@pytest.mark.parametrize("algorithm,cfg,inert", [
    ("grpo", {}, True), ("dapo", {}, True), ("rloo", {}, True), ("psr", {"entropy_coeff": 0.0}, True),
    ("grpo", {"kl_loss_coef": 0.01}, False), ("grpo", {"entropy_coeff": 0.01}, False), ("psr", {}, False),
    ("ppo", {}, False), ("siren", {}, False), ("nft", {}, False), ("sft", {}, False)])
def test_only_objectives_whose_loss_is_advantage_times_ratio_are_inert_at_zero_advantage(algorithm, cfg, inert):
    """A KL or entropy term, a critic or a full-logit term acts on rows whose advantages are 0: those keep them."""
    if algorithm in ("grpo", "dapo", "siren"):
        cfg = {"max_response_length": 8, **cfg}
    assert build_objective(algorithm, **cfg).inert_at_zero_advantage is inert


def test_skip_zero_advantage_keeps_every_row_for_an_objective_that_is_not_inert(tiny_model_dir):
    learner = Learner(str(tiny_model_dir), build_objective("grpo", max_response_length=8, entropy_coeff=0.01),
                      LearnerSettings(lr=1e-3, skip_zero_advantage=True))
    seen = _rows_seen(learner)
    batch = _batch_with_equal_groups()
    finish_batch(batch, learner.objective, learner.score_rollouts(batch))
    seen.clear()
    assert "skipped_row_fraction" not in learner.update(batch, 0)
    assert sum(seen) == 16
