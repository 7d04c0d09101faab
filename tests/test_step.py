"""One step's data path (rlvr.step) without Ray: fake engines, verifier and prompt source around the real reward
signals and objectives.

- the trained reward, not the true verdict, defines what is positive for every objective (NSR, W-REINFORCE, NFT,
  the group filter), while the verdict stays a metric;
- a continuous reward is refused for objectives that need a binary label;
- every rollout batch carries the policy_version of the engines that sampled it; engines that disagree abort.
"""
import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from rlvr.algorithms import AdvantageInputs, build_objective
from rlvr.batch import TrainBatch
from rlvr.data.prompts import PromptItem
from rlvr.infra.actor_group import ActorGroup
from rlvr.run import check_reward_fits_objective
from rlvr.reward.signals import RewardInputs, build_reward_signal
from rlvr.rollout.engine import Sample
from rlvr.step import StaleWeightsError, StepParts, StepRunner, finish_batch
from rlvr_verify.verify import Verdict


def _reward_labels(reward: str, verdicts: list[bool], truncated=None, **params):
    out = build_reward_signal(reward, **params)(RewardInputs(
        responses=["x"] * len(verdicts), golds=["1"] * len(verdicts), group_ids=[0] * len(verdicts),
        truncated=truncated or [False] * len(verdicts),
        verdicts=[Verdict(v, float(v), "1", "equal") for v in verdicts], step=0))
    return out


def _advantages(objective: str, positive: list[bool], rewards: list[float]) -> list[float]:
    obj = build_objective(objective)
    n = len(positive)
    mask = torch.ones(n, 2)
    adv, _ = obj.compute_advantages(AdvantageInputs(
        rewards=torch.tensor(rewards), positive=torch.tensor(positive), group_ids=torch.zeros(n, dtype=torch.long),
        mask=mask, response_lengths=torch.full((n,), 2), truncated=torch.zeros(n, dtype=torch.bool)))
    return adv[:, 0].tolist()


def test_inverted_reward_flips_the_labels_every_objective_trains_on():
    out = _reward_labels("inverted", [True, True, False, False])
    assert out.rewards.tolist() == [0, 0, 1, 1] and out.correct.tolist() == [True, True, False, False]
    positive = out.positive.tolist()
    assert positive == [False, False, True, True]
    # NSR: -1 on negatives, 0 on positives; under the inverted reward the truly correct samples are the negatives.
    assert _advantages("nsr", positive, out.rewards.tolist()) == [-1.0, -1.0, 0.0, 0.0]
    w = _advantages("w_reinforce", positive, out.rewards.tolist())
    assert w == pytest.approx([-1.0, -1.0, 0.1, 0.1])
    assert _advantages("psr", positive, out.rewards.tolist()) == [0.0, 0.0, 1.0, 1.0]


def test_nft_labels_and_group_rate_follow_the_reward(tiny_model_dir):
    from rlvr.batch import group_positive_rate

    # truncated_is_wrong: a truncated, truly correct answer is a negative for the trained signal.
    out = _reward_labels("verified", [True, True, True, False], truncated=[False, True, False, False],
                         truncated_is_wrong=True)
    assert out.positive.tolist() == [True, False, True, False] and out.correct.tolist() == [True, True, True, False]
    batch = TrainBatch(prompt_ids=[[1]] * 4, response_ids=[[2]] * 4, group_ids=[0] * 4,
                       positive=out.positive.tolist(), correct=out.correct.tolist())
    assert group_positive_rate(batch.group_ids, batch.positive).tolist() == [0.5] * 4  # r-hat from the reward, not 0.75 from verdicts


def test_continuous_rewards_are_refused_for_label_objectives():
    cont = build_reward_signal("continuous")
    assert _reward_labels("continuous", [True, False]).positive is None
    for name in ("psr", "nsr", "w_reinforce", "nft"):
        with pytest.raises(ValueError, match=f"algorithm={name} trains on a positive/negative label"):
            check_reward_fits_objective(build_objective(name), cont, "continuous")
    check_reward_fits_objective(build_objective("grpo"), cont, "continuous")  # GRPO uses the values


def test_random_rewards_of_refill_rounds_are_independent():
    sig = build_reward_signal("random", gamma=0.5)
    inp = dict(responses=["x"] * 64, golds=["1"] * 64, group_ids=list(range(64)), truncated=[False] * 64,
               verdicts=[Verdict(True, 1.0, "1", "equal")] * 64, step=3)
    first = sig(RewardInputs(**inp)).rewards
    assert np.array_equal(first, sig(RewardInputs(**inp)).rewards)  # reproducible
    assert not np.array_equal(first, sig(RewardInputs(**inp, draw=1)).rewards)


# ------------------------------------------------------------------------------------------- collect() with fakes
class FakeEngines:
    """Stands in for an ActorGroup of RolloutWorkers: every prompt's i-th sample answers answers[i]."""

    def __init__(self, answers, versions=(7,), repeat=None):
        self.answers, self.versions = answers, versions
        self.repeat = repeat or [1] * len(answers)   # sample i has 2 * repeat[i] tokens

    def submit_shards(self, method, items, kwargs_of=None):
        shards = ActorGroup.shards(len(items), len(self.versions))
        out = []
        for rank, shard in enumerate(shards):
            n = kwargs_of(rank)["n"]
            groups = [[Sample([5, 6] * self.repeat[i], f"\\boxed{{{self.answers[i]}}}", [-0.5, -0.25] * self.repeat[i],
                              "stop", [1, 2]) for i in range(n)] for _ in shard]
            out.append((rank, shard, {"groups": groups, "policy_version": self.versions[rank]}))
        return out

    def gather_shards(self, submitted, on_restart=None):
        return submitted


class FakeVerifier:
    def verify_batch(self, responses, golds):
        return [Verdict(r == f"\\boxed{{{g}}}", 1.0, None, "x") for r, g in zip(responses, golds)]

    def metrics(self):
        return {}


class FakeSource:
    def batch(self, step, n, round_=0):
        return [PromptItem(f"{step}-{round_}-{i}", "q=", "1") for i in range(n)]


def _runner(algorithm: str, reward: str, answers, versions=(7,), **reward_params):
    algo = {"max_response_length": 8} if algorithm == "dapo" else {}
    cfg = OmegaConf.create({
        "algorithm": {"name": algorithm, **algo}, "rollout": {"n": len(answers), "prompts_per_step": 2, "temperature": 1.0,
                                                      "top_p": 1.0, "max_tokens": 4},
        "trainer": {"seed": 0, "max_dynamic_sampling_rounds": 2, "sync_check": True, "sync_check_every": 1,
                    "sync_tolerance": 1e-4,
                    "steps": 10, "is_cap": 2.0, "log_problems": False}})
    parts = StepParts(cfg=cfg, objective=build_objective(algorithm, **algo), learner=None,
                      engines=FakeEngines(answers, versions), weight_sync=None, verifier=FakeVerifier(),
                      reward_signal=build_reward_signal(reward, **reward_params), source=FakeSource(), tokenizer=None,
                      sync_probe=[], log=lambda *a: None, policy_version=7)
    return StepRunner(parts)


def test_rollout_batch_carries_rewards_labels_verdicts_and_policy_version():
    batch, metrics, stats = _runner("grpo", "inverted", ["1", "1", "2", "3"]).collect(step=0)
    assert batch.policy_version == 7 and metrics["policy_version"] == 7.0
    assert batch.correct == [True, True, False, False] * 2
    assert batch.rewards == [0.0, 0.0, 1.0, 1.0] * 2 and batch.positive == [False, False, True, True] * 2
    assert metrics["accuracy"] == 0.5 and metrics["reward/agreement_with_correct"] == 0.0
    assert len(batch.sampling_logprobs) == 8 and stats["kept_groups"] == 2


def test_response_length_is_logged_apart_for_correct_and_incorrect_samples():
    runner = _runner("grpo", "verified", ["1", "1", "2", "3"])
    runner.p.engines.repeat = [1, 2, 3, 5]   # 2, 4 tokens right; 6, 10 wrong
    _, metrics, _ = runner.collect(step=0)
    assert metrics["response_length"] == 5.5
    assert metrics["response_length_correct"] == 3.0 and metrics["response_length_incorrect"] == 8.0
    _, metrics, _ = _runner("grpo", "verified", ["1", "1"]).collect(step=0)
    assert "response_length_incorrect" not in metrics   # no wrong sample: nothing to average


def test_log_problems_records_each_verified_groups_correct_count_filtered_groups_too():
    """trainer.log_problems: each prompt's id with its samples' correct count (one-shot RLVR selects by it), also
    for groups the filter drops; off by default."""
    runner = _runner("grpo", "verified", ["1", "1", "2", "3"])
    assert "problems" not in runner.collect(step=0)[2]
    runner.p.cfg.trainer.log_problems = True
    assert runner.collect(step=4)[2]["problems"] == [{"id": "4-0-0", "round": 0, "correct": 2, "samples": 4},
                                                     {"id": "4-0-1", "round": 0, "correct": 2, "samples": 4}]
    runner = _runner("dapo", "verified", ["1"] * 8)
    runner.p.cfg.trainer.log_problems = True
    batch, _, stats = runner.collect(step=0)
    assert batch is None and [(p["id"], p["correct"]) for p in stats["problems"]] == [
        (f"0-{r}-{i}", 8) for r in range(3) for i in range(2)]


def test_group_filter_keeps_groups_whose_rewards_differ_even_when_verdicts_agree():
    # Every sample is truly correct (verdicts all equal), but the random reward varies within groups: kept.
    batch, _, stats = _runner("dapo", "random", ["1"] * 8, gamma=0.5).collect(step=0)
    assert batch is not None and stats["kept_groups"] == 2 and all(batch.correct)
    # The verified reward is constant in every group: everything is filtered, over all refill rounds.
    batch, _, stats = _runner("dapo", "verified", ["1"] * 8).collect(step=0)
    assert batch is None and stats["generated_groups"] == 2 * 3


def test_engines_at_different_policy_versions_abort_the_step():
    with pytest.raises(StaleWeightsError, match="different policy versions"):
        _runner("grpo", "verified", ["1", "2"], versions=(3, 4)).collect(step=0)


def test_finish_batch_computes_advantages_on_the_driver():
    batch = TrainBatch(prompt_ids=[[1]] * 4, response_ids=[[2, 3], [2], [2, 3], [2]], group_ids=[0] * 4,
                       rewards=[1.0, 0.0, 0.0, 1.0], positive=[True, False, False, True], truncated=[False] * 4,
                       sampling_logprobs=[[-1.0, -1.0], [-1.0], [-1.0, -1.0], [-1.0]])
    old = torch.full((4, 2), -1.0) * torch.tensor([[1, 1], [1, 0], [1, 1], [1, 0]])
    obj = build_objective("grpo")
    metrics = finish_batch(batch, obj, {"old_logprobs": old, "objective_state": {}})
    # group mean 0.5, unbiased std sqrt(1/3): A = +-0.5/0.57735 = +-0.866, broadcast over each response's tokens.
    a = 0.5 / (1 / 3) ** 0.5
    assert batch.advantages[:, 0].tolist() == pytest.approx([a, -a, -a, a], rel=1e-5)
    assert batch.advantages[1, 1] == 0 and metrics["rollout_learner_logprob_diff"] == 0.0


def test_importance_weights_are_one_when_the_policy_has_not_moved_and_capped_when_it_has():
    batch = TrainBatch(prompt_ids=[[1]] * 2, response_ids=[[2, 3], [2]], group_ids=[0, 0], rewards=[1.0, 0.0],
                       positive=[True, False], truncated=[False] * 2, sampling_logprobs=[[-1.0, -2.0], [-0.5]])
    old = torch.tensor([[-1.0, -2.0], [-0.5, 0.0]])
    finish_batch(batch, build_objective("grpo"), {"old_logprobs": old, "objective_state": {}}, is_cap=2.0)
    assert batch.is_weights.tolist() == [[1.0, 1.0], [1.0, 0.0]]  # exactly 1 on tokens, 0 on the pad
    moved = torch.tensor([[-0.5, -3.0], [0.5, 0.0]])  # ratios e^0.5, e^-1, e^1 -> capped at 2
    metrics = finish_batch(batch, build_objective("grpo"), {"old_logprobs": moved, "objective_state": {}}, 2.0)
    assert batch.is_weights[0].tolist() == pytest.approx([np.exp(0.5), np.exp(-1.0)], rel=1e-6)
    assert batch.is_weights[1, 0].item() == 2.0 and metrics["is_weight_capped_fraction"] == pytest.approx(1 / 3)


def test_objectives_without_importance_weights_get_none_and_no_is_metrics():
    """NFT's and OSFT's losses take no importance weights: none are computed, and no is_weight_* metric claims a
    correction that does not happen; a sampler that returned the wrong number of log-probs is named."""
    batch = TrainBatch(prompt_ids=[[1]] * 2, response_ids=[[2, 3], [2]], group_ids=[0, 0], rewards=[1.0, 0.0],
                       positive=[True, False], truncated=[False] * 2, sampling_logprobs=[[-1.0, -2.0], [-0.5]])
    moved = torch.tensor([[-0.5, -3.0], [0.5, 0.0]])
    for name in ("nft", "osft"):
        metrics = finish_batch(batch, build_objective(name), {"old_logprobs": moved, "objective_state": {}}, 2.0)
        assert batch.is_weights is None and not any(k.startswith("is_weight") for k in metrics), name
    batch.sampling_logprobs = [[-1.0], [-0.5]]
    with pytest.raises(ValueError, match="rollout 0: the engine returned 1 sampling log-probs for a 2-token"):
        finish_batch(batch, build_objective("grpo"), {"old_logprobs": moved, "objective_state": {}}, 2.0)


def test_importance_weights_scale_the_policy_gradient_loss():
    from rlvr.algorithms import LossInputs

    obj = build_objective("grpo", loss_agg_mode="token-mean")
    lp = torch.tensor([[-1.0, -1.0]])
    base = dict(logprobs=lp, mask=torch.ones(1, 2), global_tokens=2.0, global_seqs=1.0, old_logprobs=lp,
                advantages=torch.ones(1, 2))
    plain, _ = obj.loss(LossInputs(**base))
    weighted, _ = obj.loss(LossInputs(**base, is_weights=torch.tensor([[0.5, 2.0]])))
    assert plain.item() == pytest.approx(-1.0) and weighted.item() == pytest.approx(-(0.5 + 2.0) / 2)


def test_async_prefetch_starts_the_next_steps_first_round_from_the_current_weights():
    runner = _runner("grpo", "verified", ["1", "2"])
    runner.async_steps = 1
    runner.prefetch(3)
    assert set(runner.prefetched) == {3}
    items, _, _ = runner.prefetched[3]
    assert [it.id for it in items] == ["3-0-0", "3-0-1"]  # the same prompts a synchronous step 3 would draw
    batch, _, _ = runner.collect(3, runner.prefetched.pop(3))
    assert batch.policy_version == 7 and len(batch) == 4
    runner.prefetch(10)  # past trainer.steps: nothing to start
    assert runner.prefetched == {}


@pytest.mark.parametrize("overrides,needed", [
    ([], False),                                                    # GRPO, one step per rollout: the update scores
    (["algorithm=nft"], False),
    (["algorithm=ppo"], True),                                      # the critic's values feed GAE
    (["algorithm.kl_loss_coef=0.1"], True),                         # reference log-probs
    (["algorithm=siren"], True),                                    # its rollout statistic (the entropy anchor)
    (["learner.epochs=2"], True),                                   # several optimizer steps: the ratio moves
    (["learner.mini_batch_prompts=4"], True),
    (["learner.mini_batch_prompts=16"], False),                     # one mini-batch of all 16 prompts
    (["learner.reuse_update_forward=false"], True),
])
def test_the_scoring_pass_runs_only_where_the_update_cannot_do_without_it(overrides, needed):
    from rlvr.config import compose
    from rlvr.run import build_run_objective
    from rlvr.step import scoring_pass_needed

    cfg = compose(overrides)
    assert scoring_pass_needed(build_run_objective(cfg), cfg) is needed


@pytest.mark.parametrize("every,checked", [(1, [1, 2, 3, 4, 5]), (2, [1, 3, 5]), (3, [1, 4])])
def test_the_sync_check_runs_on_the_first_sync_and_every_nth_after(every, checked):
    runner = _runner("grpo", "verified", ["1", "2"])
    runner.p.cfg.trainer.sync_check_every = every
    pushed, calls = [], []
    runner.p.weight_sync = type("Sync", (), {"push": lambda self, learner, engines, version: pushed.append(version)})()
    runner.check_sync = lambda: calls.append(runner.syncs) or 0.0
    errors = [runner.sync_weights() for _ in range(5)]
    assert len(pushed) == 5 and calls == checked
    assert [e == 0.0 for e in errors] == [i + 1 in checked for i in range(5)]  # NaN (dropped from metrics) otherwise
