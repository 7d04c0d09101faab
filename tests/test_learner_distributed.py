"""Two learner ranks (FSDP2 over gloo, two processes) equal one learner on the same global batch: the same summed
gradient and the same weights after each step, for GRPO (seq-mean-token-mean), W-REINFORCE (token-mean, with a
KL-to-reference loss so the reference is sharded too), PPO (the critic sharded too: its weights and the values it
gives the next step's advantages) and SIREN (its entropy anchor summed over ranks' micro-batches, its mini-batch
statistic likewise), and GRPO with learner.skip_zero_advantage, with one rank short of a micro-batch; and a 2-rank run resumed from its sharded checkpoint
(torch.distributed.checkpoint, beside full HF weights; the critic and its AdamW state in it) equals the
uninterrupted one."""
import pytest
import torch
import torch.multiprocessing as mp
from transformers import AutoModelForCausalLM

from rlvr.algorithms import build_objective
from rlvr.batch import TrainBatch
from rlvr.learner import distributed
from rlvr.learner.learner import Learner, LearnerSettings
from rlvr.learner.sharded_checkpoint import load_sharded_checkpoint, save_sharded_checkpoint
from rlvr.step import finish_batch

CASES = {"grpo": {"max_response_length": 8}, "w_reinforce": {"kl_loss_coef": 0.1}, "ppo": {},
         "siren": {"alpha": 0.5, "max_response_length": 8}}
# learner.skip_zero_advantage on two ranks: group 1 is all wrong in both steps, so its 3 rows are left out and the
# 4 trained rows split 2 / 2 (one micro-batch a rank); the same steps as one learner that skips nothing.
SKIP_CASE = "grpo+skip_zero_advantage"
CASES[SKIP_CASE] = CASES["grpo"]


def _batches(case: str = ""):
    """Two steps; 7 rows in 2 groups so that, at 3 rows per micro-batch, rank 0 runs 2 micro-batches, rank 1 one."""
    rewards = [1, 0, 0, 1, 0, 0, 0.0] if case == SKIP_CASE else [1, 0, 0, 1, 0, 1, 0.0]

    def batch(shift):
        return TrainBatch(prompt_ids=[[1, 20, 21, 22]] * 4 + [[1, 23]] * 3,
                          response_ids=[[30 + shift, 31, 2], [30, 32, 33, 34, 35, 2], [34], [35, 36 - shift],
                                        [37, 2], [38, 39, 40], [41]],
                          group_ids=[0] * 4 + [1] * 3, truncated=[False] * 7,
                          rewards=rewards, positive=[r > 0 for r in rewards])
    return [batch(0), batch(1)]


def _settings(**kw):
    # Adam's first steps are ~lr·sign(g): float noise in near-zero gradients moves a weight by up to ~lr/100.
    return LearnerSettings(lr=5e-4, micro_batch_size=3, **kw)


def _step(learner, batch, step):
    finish_batch(batch, learner.objective, learner.score_rollouts(batch))
    return learner.update(batch, step)


def _full_grads(learner):
    return torch.cat([(p.grad.full_tensor() if hasattr(p.grad, "full_tensor") else p.grad).flatten()
                      for p in learner.scorer.parameters()])


def _weights(learner):
    return {k: v.clone() for k, v in learner.named_weights().items()}  # one rank's are the live parameters


def _critic_weights(learner):
    if learner.critic is None:
        return {}
    if learner.dist.active:
        return distributed.full_state_dict(learner.critic.model, prefix="")  # rank 0's; the others get {}
    return {k: v.detach().clone() for k, v in learner.critic.model.state_dict().items()}


def _run(learner, run_dir=None, case=""):
    """Step 0, (checkpoint), step 1: the gradient and weights after each step."""
    batches = _batches(case)
    metrics0 = _step(learner, batches[0], 0)
    out = {"grads0": _full_grads(learner), "weights0": _weights(learner),
           "skipped0": metrics0.get("skipped_row_fraction"),
           "objective_state0": learner.objective.state_dict()}
    if run_dir is not None:
        # The loop keeps the objective's state (SIREN's anchor, PPO's KL) in the trainer state; so does this run.
        out["checkpoint"] = str(save_sharded_checkpoint(
            learner, run_dir, 1, {"data_cursor": 7, "objective": learner.objective.state_dict()}, keep_last=1))
    _step(learner, batches[1], 1)
    out.update(grads1=_full_grads(learner), weights1=_weights(learner), critic1=_critic_weights(learner))
    return out


def _rank_main(rank, world, model_dir, init_file, out_dir):
    results = {}
    for case, cfg in CASES.items():
        algorithm = case.split("+")[0]
        make = lambda: Learner(model_dir, build_objective(algorithm, **cfg), _settings(  # noqa: E731
            world_size=world, rank=rank, dist_init_method=f"file://{init_file}",
            skip_zero_advantage=case == SKIP_CASE))
        results[case] = _run(make(), run_dir=f"{out_dir}/run_{case}", case=case)
        resumed = make()
        state = load_sharded_checkpoint(resumed, results[case]["checkpoint"])
        assert state["data_cursor"] == 7 and state["step"] == 1
        resumed.objective.load_state_dict(state["objective"])
        _step(resumed, _batches(case)[1], 1)
        results[case]["resumed_weights1"] = resumed.named_weights()
    if rank == 0:
        torch.save(results, f"{out_dir}/results.pt")


def _same_state(a, b) -> bool:
    """Objective states (nested dicts of floats) equal up to float summation order."""
    if isinstance(a, dict):
        return isinstance(b, dict) and set(a) == set(b) and all(_same_state(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-6
    return a == b


def _close(a, b, atol):
    return float((a.float() - b.float()).abs().max()) <= atol


@pytest.mark.slow
def test_two_gloo_ranks_equal_one_learner_and_resume_exactly(tiny_model_dir, tmp_path):
    mp.start_processes(_rank_main, args=(2, str(tiny_model_dir), str(tmp_path / "init"), str(tmp_path)),
                       nprocs=2, start_method="spawn")
    dp = torch.load(tmp_path / "results.pt", weights_only=False)
    for algorithm, cfg in CASES.items():
        single = _run(Learner(str(tiny_model_dir), build_objective(algorithm.split("+")[0], **cfg), _settings()),
                      case=algorithm)
        got = dp[algorithm]
        assert got["skipped0"] == (3 / 7 if algorithm == SKIP_CASE else None) and single["skipped0"] is None
        assert single["grads0"].abs().sum() > 0
        assert any(not torch.equal(single["weights1"][k], v) for k, v in single["weights0"].items())
        for step in ("0", "1"):
            assert torch.allclose(got["grads" + step], single["grads" + step], atol=1e-6, rtol=1e-4), algorithm
            for k, v in single["weights" + step].items():
                assert _close(got["weights" + step][k], v, 1e-5), (algorithm, step, k)
        assert _same_state(got["objective_state0"], single["objective_state0"]), algorithm  # SIREN's anchor, PPO's KL
        assert set(got["critic1"]) == set(single["critic1"]) and (algorithm != "ppo" or single["critic1"])
        for k, v in single["critic1"].items():
            assert _close(got["critic1"][k], v, 1e-5), (algorithm, "critic", k)
        for k, v in got["weights1"].items():  # resumed from the sharded checkpoint == uninterrupted
            assert torch.equal(got["resumed_weights1"][k], v), (algorithm, k)
        hf = AutoModelForCausalLM.from_pretrained(got["checkpoint"]).state_dict()  # full HF weights beside the shards
        assert all(torch.equal(hf[k], got["weights0"][k]) for k in hf)
