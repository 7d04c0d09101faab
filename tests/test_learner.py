"""The learner: micro-batch accumulation is exact, mini-batches make several optimizer steps, OSFT trains at tau=1,
weights exported for sync include lm_head, the schedule is what the config says."""
import pytest
import torch

from rlvr.batch import TrainBatch
from rlvr.learner.learner import Learner, LearnerSettings, lr_lambda


def _batch():
    return TrainBatch(prompt_ids=[[1, 20, 21, 22]] * 4 + [[1, 23]] * 4,
                      response_ids=[[30, 31, 2], [30, 32, 33, 2], [34], [35, 36]] * 2, group_ids=[0] * 4 + [1] * 4,
                      sampling_logprobs=[], truncated=[False] * 8, rewards=[1, 0, 0, 1, 0, 0, 0, 1.0],
                      correct=[True, False, False, True, False, False, False, True])


def _learner(model_dir, algorithm="grpo", **kw):
    settings = LearnerSettings(lr=1e-3, **kw)
    return Learner(str(model_dir), {"name": algorithm, "max_response_length": 8} if algorithm in (
        "grpo", "dr_grpo") else {"name": algorithm}, settings)


@pytest.mark.parametrize("algorithm", ["grpo", "dr_grpo", "sft"])
def test_micro_batch_accumulation_equals_full_batch(tiny_model_dir, algorithm):
    a = _learner(tiny_model_dir, algorithm, micro_batch_size=8)
    b = _learner(tiny_model_dir, algorithm, micro_batch_size=1)
    a.update(_batch(), 0)
    b.update(_batch(), 0)
    # Compare the accumulated gradients (Adam's first step is sign-like and would amplify float noise).
    for (k, pa), pb in zip(a.model.named_parameters(), b.model.parameters()):
        assert pa.grad is not None and pa.grad.abs().sum() > 0, k
        assert torch.allclose(pa.grad, pb.grad, atol=1e-6, rtol=1e-4), k


def test_mini_batches_make_several_optimizer_steps(tiny_model_dir):
    learner = _learner(tiny_model_dir, mini_batch_prompts=1, epochs=2)
    metrics = learner.update(_batch(), 0)
    assert metrics["optimizer_steps"] == 4  # 2 groups / 1 prompt per mini-batch x 2 epochs
    assert metrics["pg_clipfrac"] >= 0


def test_osft_trains_at_temperature_one_not_the_rollout_temperature(tiny_model_dir):
    learner = Learner(str(tiny_model_dir), {"name": "osft"}, LearnerSettings(rollout_temperature=0.6))
    assert learner.train_temperature == 1.0
    grpo = _learner(tiny_model_dir, rollout_temperature=0.6)
    assert grpo.train_temperature == 0.6


def test_named_weights_include_lm_head_and_round_trip(tiny_model_dir):
    learner = _learner(tiny_model_dir)
    weights = learner.named_weights()
    assert "lm_head.weight" in weights
    assert torch.equal(weights["lm_head.weight"], weights["model.embed_tokens.weight"])
    learner.update(_batch(), 0)
    other = _learner(tiny_model_dir)
    other.load_weights(learner.named_weights())
    seq = [[1, 20, 21, 22, 30, 31, 2]]
    assert other.score(seq) == learner.score(seq)


def test_schedule_warmup_then_cosine():
    f = lr_lambda(LearnerSettings(warmup_steps=4, schedule="cosine", total_steps=14))
    assert [round(f(s), 4) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert abs(f(9) - 0.5) < 1e-9 and abs(f(14)) < 1e-9
    with pytest.raises(ValueError, match="trainer.schedule"):
        lr_lambda(LearnerSettings(schedule="bogus"))(0)
