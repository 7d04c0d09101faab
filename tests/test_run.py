"""rlvr.run.Run owns what it starts: a run that started Ray stops it (and its watchdog) on close; a run that joined a
Ray already running leaves it up. What a Run does between (step, sync, held-out) is driven here as a bench would."""
import pytest

from rlvr.config import compose

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SMALL = ["model.warm_start.enabled=false", "rollout.engine=hf", "rollout.prompts_per_step=2", "rollout.n=2",
         "rollout.max_tokens=4", "trainer.eval_size=4", "logger.wandb_mode=disabled", "cluster.num_cpus=2",
         "reward.verifier.num_workers=0", "reward.verifier.use_ray_actor=false"]


def test_a_run_stops_the_ray_it_started_and_leaves_a_joined_one(tmp_path, tiny_model_dir):
    import ray

    from rlvr.infra import ray_start
    from rlvr.run import build_run

    if ray.is_initialized():
        pytest.skip("another test left Ray running in this process")
    cfg = compose([*SMALL, f"model.cache_dir={tiny_model_dir.parent.parent}"])
    with build_run(cfg, tmp_path / "own") as run:
        assert run.owns_ray and ray.is_initialized()
        assert run.sync() >= 0.0
        metrics = run.step(0)
        accuracy, per_problem = run.heldout()
    assert "loss" in metrics or metrics.get("skipped")
    assert 0.0 <= accuracy <= 1.0 and len(per_problem) == 4 and set(per_problem) <= {"0", "1"}
    assert not ray.is_initialized() and ray_start._watchdog is None  # stopped with the run

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        with build_run(compose([*SMALL, f"model.cache_dir={tiny_model_dir.parent.parent}"]), tmp_path / "joined") as run:
            assert not run.owns_ray
            run.sync()
        assert ray.is_initialized()  # the Ray this process started before the run is still up
    finally:
        ray.shutdown()
