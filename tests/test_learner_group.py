"""Two learner ranks as Ray actors behind one handle (LearnerGroup): the driver's calls (score_rollouts, update,
named_weights, score) work unchanged and give what one in-process learner gives on the same batch."""
import pytest
import torch

from rlvr.algorithms import build_objective
from rlvr.batch import TrainBatch
from rlvr.learner.learner import Learner, LearnerSettings
from rlvr.step import finish_batch


@pytest.fixture(scope="module")
def ray_cluster():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"WANDB_MODE": "disabled"}})
    yield
    ray.shutdown()


def _batch():
    return TrainBatch(prompt_ids=[[1, 20, 21, 22]] * 4 + [[1, 23]] * 3,
                      response_ids=[[30, 31, 2], [30, 32, 33, 34, 35, 2], [34], [35, 36], [37, 2], [38, 39], [41]],
                      group_ids=[0] * 4 + [1] * 3, truncated=[False] * 7, rewards=[1, 0, 0, 1, 0, 1, 0.0])


@pytest.mark.slow
def test_two_ranks_behind_one_handle_equal_one_learner(ray_cluster, tiny_model_dir):
    import ray

    from rlvr.learner.group import LearnerGroup

    objective = build_objective("grpo", max_response_length=8)
    settings = LearnerSettings(lr=5e-4, micro_batch_size=2, num_threads=1)
    group = LearnerGroup(str(tiny_model_dir), objective, settings, world_size=2, options={"num_cpus": 1})
    single = Learner(str(tiny_model_dir), objective, settings)
    results = {}
    for name, score, update, weights in [
            ("group", lambda b: ray.get(group.score_rollouts.remote(b, objective)),
             lambda b: ray.get(group.update.remote(b, 0, objective)), lambda: ray.get(group.named_weights.remote())),
            ("single", single.score_rollouts, lambda b: single.update(b, 0), single.named_weights)]:
        batch = _batch()
        scores = score(batch)
        finish_batch(batch, objective, scores)
        metrics = update(batch)
        results[name] = (scores["old_logprobs"], metrics, {k: v.clone() for k, v in weights().items()})
    group.check()
    assert torch.allclose(results["group"][0], results["single"][0], atol=1e-6)
    assert results["group"][1]["loss"] == pytest.approx(results["single"][1]["loss"], abs=1e-6)
    assert results["group"][1]["grad_norm"] == pytest.approx(results["single"][1]["grad_norm"], rel=1e-4)
    for k, v in results["single"][2].items():
        assert float((results["group"][2][k] - v).abs().max()) <= 1e-5, k
    probe = [1, 20, 21, 22, 30, 31, 2]
    assert ray.get(group.score.remote([probe]))[0] == pytest.approx(single.score([probe])[0], abs=1e-5)
