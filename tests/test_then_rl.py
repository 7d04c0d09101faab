"""`python -m bench then-rl`: the second stage starts from each first-stage run's final checkpoint with that run's own
overrides (same experiment and seed, so the same held-out problems), only the algorithm, steps and name replaced."""
from pathlib import Path

from bench.then_rl import second_stage_command


def test_the_second_stage_keeps_the_runs_overrides_and_starts_from_its_last_checkpoint(tmp_path, tiny_model_dir):
    import shutil

    from rlvr.infra.checkpoint import write_manifest

    run = tmp_path / "3"
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "overrides.yaml").write_text("- trainer.seed=1\n- algorithm=dft\n- experiment=study_sft_family\n"
                                                  "- algorithm.aggregation=global\n- trainer.steps=60\n")
    for step in (30, 60):
        ckpt = shutil.copytree(tiny_model_dir, run / "checkpoints" / f"step_{step:06d}")
        (ckpt / "trainer_state.json").write_text(f'{{"step": {step}}}')
        write_manifest(ckpt)
    cmd = second_stage_command(run, "grpo", 40, tmp_path / "out", ["optim.lr=1e-4"])
    args = cmd[cmd.index("rlvr.train") + 1:]
    assert args[:2] == ["trainer.seed=1", "experiment=study_sft_family"]
    assert "algorithm=grpo" in args and not any(a.startswith(("algorithm=dft", "algorithm.")) for a in args)
    assert f"model.path={run / 'checkpoints' / 'step_000060'}" in args and "trainer.steps=40" in args
    assert "name=then_grpo_after_dft" in args and f"hydra.run.dir={tmp_path / 'out'}" in args
    assert args[-1] == "optim.lr=1e-4"
    assert Path(cmd[0]).name.startswith("python")
