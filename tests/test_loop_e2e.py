"""The loop end to end on CPU: Ray actors, vLLM/HF engines, the verifier service, the learner.

- every objective runs 3 steps (smoke);
- after every sync the rollout engine's log-probs equal the learner's (and a stale engine aborts the run);
- a run stopped at step k and resumed equals the uninterrupted run at step n, in metrics and weights.
That GRPO learns is tests/test_learning.py.
"""
import json
import math
import os

import pytest
import torch

from rlvr.config import compose
from rlvr.loop import train

pytestmark = pytest.mark.e2e

SMALL = ["model.warm_start.enabled=false", "rollout.engine=hf", "rollout.prompts_per_step=4", "rollout.n=4",
         "rollout.max_tokens=8", "trainer.eval_size=8", "trainer.eval_every=100", "trainer.checkpoint_every=100",
         "logger.wandb_mode=disabled", "reward.verifier.num_workers=0", "reward.verifier.use_ray_actor=false"]

OBJECTIVES = ["grpo", "dr_grpo", "dapo", "ppo", "psr", "nsr", "w_reinforce", "nft", "sft", "dft", "asft", "osft",
              "siren"]


def _run(tmp_path, overrides, cache):
    from rlvr.run import Run

    cfg = compose([*SMALL, f"model.cache_dir={cache}", *overrides])
    return Run(cfg, tmp_path)


# GRPO's smoke run stays in the fast tier (make test); the other objectives run in make test-all.
@pytest.mark.parametrize("objective", [o if o == "grpo" else pytest.param(o, marks=pytest.mark.slow) for o in OBJECTIVES])
def test_every_objective_runs_three_steps(objective, tmp_path, ray_cluster, tiny_model_dir):
    run = _run(tmp_path, [f"algorithm={objective}", "trainer.steps=3", "trainer.eval_samples=2"],
                       tiny_model_dir.parent.parent)
    summary = train(run)
    # Held-out evaluation, problem by problem: greedy 0/1 and, with trainer.eval_samples=2, right samples of 2.
    for key, top in (("heldout_correct", 1), ("heldout_sampled", 2)):
        before, after = summary[f"initial_{key}"], summary[f"final_{key}"]
        assert len(before) == len(after) == 8 and all(0 <= int(x) <= top for x in [*before, *after]), key
    rows = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in rows if r.get("step", 0) > 0]
    assert [r["step"] for r in steps] == [1, 2, 3]
    for r in steps:
        if r.get("skipped"):
            continue
        assert math.isfinite(r["loss"]) and math.isfinite(r["grad_norm"])
        assert r["sync_max_logprob_error"] <= 1e-4
    assert (tmp_path / "curves.png").exists() and summary["steps"] == 3
    assert summary["startup_s"] > 0 and summary["train_s"] > 0  # the report's training-time column


@pytest.mark.slow
def test_stale_weights_abort_the_run(tmp_path, ray_cluster, tiny_model_dir):
    import ray

    from rlvr.step import StaleWeightsError

    run = _run(tmp_path, ["trainer.steps=1"], tiny_model_dir.parent.parent)
    run.start()
    run.sync()  # in sync: passes
    # Corrupt the learner's weights without telling the workers: the engine now serves stale weights.
    weights = ray.get(run.learner.named_weights.remote())
    weights["model.norm.weight"] = weights["model.norm.weight"] * 1.5
    ray.get(run.learner.load_weights.remote(weights))
    ref = ray.get(run.learner.score.remote([run.parts.sync_probe]))[0]
    got = ray.get(run.workers[0].score.remote([run.parts.sync_probe]))[0]
    assert max(abs(a - b) for a, b in zip(ref, got)) > 1e-3
    with pytest.raises(StaleWeightsError, match="stale"):
        run.check_sync()
    run.close()


@pytest.mark.slow
def test_resume_reproduces_uninterrupted_run(tmp_path, ray_cluster, tiny_model_dir):
    import ray

    cache = tiny_model_dir.parent.parent
    # reward=random gives every group a signal from step 1 (the untrained model is never right), and exercises
    # the resumability of the reward's own randomness.
    common = ["trainer.steps=4", "trainer.checkpoint_every=2", "trainer.eval_every=2", "algorithm=grpo", "reward=random"]
    full = _run(tmp_path / "full", common, cache)
    train(full, close=False)
    w_full = ray.get(full.learner.named_weights.remote())
    full.close()

    part = _run(tmp_path / "part", [*common, "trainer.steps=2"], cache)
    train(part)
    resumed = _run(tmp_path / "part", common, cache)
    train(resumed, close=False)
    w_res = ray.get(resumed.learner.named_weights.remote())
    resumed.close()
    for k in w_full:
        assert torch.equal(w_full[k], w_res[k]), k

    def rows(p):
        out = {}
        for line in (p / "metrics.jsonl").read_text().splitlines():
            r = json.loads(line)
            # Timings differ, and so do the verifier counters kept only on cache misses (its cache starts empty
            # after a restart); its cumulative verifier/items and verifier/correct continue from the checkpoint.
            out[r["step"]] = {k: v for k, v in r.items() if not k.startswith(("time/", "tokens_per_s", "verifier/"))
                              or k in ("verifier/items", "verifier/correct")}
        return out

    assert rows(tmp_path / "full") == rows(tmp_path / "part")
    assert any(r.get("grad_norm", 0) > 0 for r in rows(tmp_path / "full").values())  # it really learned


@pytest.mark.slow
def test_ctrl_c_writes_a_final_checkpoint(tmp_path, ray_cluster, tiny_model_dir, monkeypatch):
    from rlvr.infra.checkpoint import latest_checkpoint
    from rlvr.run import Run

    run = _run(tmp_path, ["trainer.steps=5", "reward=random"], tiny_model_dir.parent.parent)
    real_step = Run.step

    def interrupted(self, step):
        if step == 2:
            raise KeyboardInterrupt
        return real_step(self, step)

    monkeypatch.setattr(Run, "step", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train(run)
    assert latest_checkpoint(tmp_path).name == "step_000002"  # the two completed steps are kept


@pytest.mark.slow
def test_rl_extra_extrapolates_every_m_steps(tmp_path, ray_cluster, tiny_model_dir):
    run = _run(tmp_path, ["trainer.steps=4", "trainer.extrapolate_every=2", "reward=random"],
                       tiny_model_dir.parent.parent)
    train(run)
    rows = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    applied = [r["step"] for r in rows if r.get("rl_extra_applied")]
    assert applied == [2, 4]
    assert all(r["sync_max_logprob_error"] <= 1e-4 for r in rows if "sync_max_logprob_error" in r)


@pytest.mark.slow
def test_a_dead_rollout_worker_is_restarted_resynced_and_its_shard_retried(tmp_path, ray_cluster, tiny_model_dir):
    import ray

    run = _run(tmp_path, ["trainer.steps=1", "reward=random"], tiny_model_dir.parent.parent)
    run.start()
    run.step(0)  # the learner has moved away from the initial weights the restarted worker will load
    ray.kill(run.workers[0], no_restart=False)
    groups = run.generate(["12 + 3=", "7 - 1="], n=2, temperature=1.0, seed=0)
    assert run.counters["worker_restarts"] == 1
    assert all(len(g) == 2 for g in groups)
    run.check_sync()  # the restarted worker serves the learner's current weights, not the initial ones
    run.close()


@pytest.mark.slow
def test_async_one_step_off_policy_overlaps_and_corrects(tmp_path, ray_cluster, tiny_model_dir):
    """rollout.async_steps=1: every batch after the first was sampled one policy version back, its importance
    weights are logged, and each sync still leaves the engines equal to the learner."""
    run = _run(tmp_path, ["trainer.steps=3", "rollout.async_steps=1", "reward=random"],
                       tiny_model_dir.parent.parent)
    train(run)
    rows = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in rows if r.get("step", 0) > 0]
    assert [r["staleness"] for r in steps] == [0.0, 1.0, 1.0]
    assert [r["policy_version"] for r in steps] == [0.0, 0.0, 1.0]
    assert all(0 < r["is_weight_mean"] <= 2.0 and r["sync_max_logprob_error"] <= 1e-4 for r in steps)


@pytest.mark.slow
@pytest.mark.parametrize("sync,engine", [("collective", "hf"), ("collective", "vllm"), ("ipc", "hf"), ("ipc", "vllm")])
def test_weight_sync_leaves_engines_equal_to_the_learner(sync, engine, tmp_path, ray_cluster, tiny_model_dir):
    """trainer.weight_sync=collective (the learner broadcasts over a gloo group of its own with the engines; NCCL on
    GPUs) and ipc (the engines copy from the learner's shared memory; CUDA IPC on a GPU): after every step's sync the
    engines' log-probs equal the learner's, for the HF and the vLLM engine."""
    from tests.conftest import vllm_available

    if engine == "vllm" and not vllm_available():
        pytest.skip("vllm is not installed")
    run = _run(tmp_path, ["trainer.steps=2", f"trainer.weight_sync={sync}", f"rollout.engine={engine}",
                                  "rollout.num_workers=2", "rollout.num_cpus=0.5", "reward=random"],
                       tiny_model_dir.parent.parent)
    train(run)
    rows = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in rows if r.get("step", 0) > 0]
    assert len(steps) == 2 and all(r["sync_max_logprob_error"] <= 1e-4 for r in steps)
    assert any(r["grad_norm"] > 0 for r in steps)  # the weights really moved between syncs


@pytest.mark.slow
def test_two_data_parallel_learner_ranks_in_the_loop(tmp_path, ray_cluster, tiny_model_dir):
    """cluster.learner_world_size=2: the loop drives two FSDP2 ranks (gloo) like one learner; every weight-sync
    transport leaves the engine equal to the gathered weights."""
    for sync in ("object_store", "collective", "ipc"):
        run_dir = tmp_path / sync
        run = _run(run_dir, ["trainer.steps=2", "cluster.learner_world_size=2", "cluster.learner_num_cpus=0.5",
                                     f"trainer.weight_sync={sync}", "reward=random"], tiny_model_dir.parent.parent)
        train(run)
        rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
        steps = [r for r in rows if r.get("step", 0) > 0]
        assert len(steps) == 2 and all(r["sync_max_logprob_error"] <= 1e-4 for r in steps), sync


@pytest.mark.slow
def test_sleeping_engines_release_memory_and_change_nothing_else(tmp_path, ray_cluster, tiny_model_dir):
    """rollout.sleep_level=2 (an engine colocated with the learner): the engines drop weights and KV cache while the
    learner trains and the sync refills them; the run is the same run as with engines that stay awake."""
    runs = {}
    for level in (0, 2):
        run_dir = tmp_path / f"sleep{level}"
        train(_run(run_dir, ["trainer.steps=2", f"rollout.sleep_level={level}", "rollout.hf_decode=static"],
                 tiny_model_dir.parent.parent))
        rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
        runs[level] = [r for r in rows if r.get("step", 0) > 0]
    for awake, asleep in zip(runs[0], runs[2], strict=True):
        assert asleep["engine_released_gb"] > 0 and "engine_released_gb" not in awake
        assert asleep["sync_max_logprob_error"] <= 1e-4
        for key in ("loss", "grad_norm", "reward_mean"):
            assert asleep[key] == awake[key], key


def test_sleep_level_is_refused_before_any_actor_starts_where_it_cannot_work(tmp_path, tiny_model_dir):
    with pytest.raises(ValueError, match="rollout.sleep_level=1 needs rollout.async_steps=0"):
        _run(tmp_path, ["rollout.sleep_level=1", "rollout.async_steps=1"], tiny_model_dir.parent.parent).start()
    with pytest.raises(ValueError, match="rollout.sleep_level=2 is implemented for rollout.engine=hf only"):
        _run(tmp_path, ["rollout.sleep_level=2", "rollout.engine=vllm"], tiny_model_dir.parent.parent).start()
