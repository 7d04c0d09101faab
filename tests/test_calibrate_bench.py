"""`python -m bench calibrate`: the warm start a seed's run starts from, sampled on that run's own held-out problems."""
import json

from bench.calibrate import calibrate_seed, format_rows, heldout_problems, main, run_config


def test_the_seed_draws_model_warm_start_and_data_as_in_a_seed_scope_run():
    cfg = run_config("harder_miniature", 2, [])
    assert cfg.trainer.seed_scope == "run"
    assert cfg.model.seed == cfg.model.warm_start.seed == cfg.data.seed == 2
    assert list(cfg.data.levels) == [1] and cfg.model.warm_start.target_accuracy == 0.15


def test_held_out_problems_follow_the_seed_and_the_runs_eval_size(tiny_model_dir):
    a = heldout_problems(run_config("harder_miniature", 0, ["trainer.eval_size=20"]), tiny_model_dir)
    b = heldout_problems(run_config("harder_miniature", 1, ["trainer.eval_size=20"]), tiny_model_dir)
    assert len(a) == len(b) == 20
    assert [p.question for p in a] != [p.question for p in b]
    assert all(p.question.endswith("=") for p in a)


def test_calibrate_writes_pass_at_k_per_seed(tmp_path, tiny_model_dir):
    cache = tiny_model_dir.parent.parent  # the session's model cache: no second build
    overrides = [f"model.cache_dir={cache}", "model.warm_start.enabled=false", "trainer.eval_size=3"]
    row = calibrate_seed(run_config("harder_miniature", 0, overrides), n=4, temperature=0.6, top_p=0.95,
                         out=tmp_path / "seed0")
    assert row["problems"] == 3 and row["n"] == 4 and sorted(row["pass_at"]) == [1, 2, 4]
    assert 0.0 <= row["pass_at"][1] <= row["pass_at"][4] <= 1.0
    assert (tmp_path / "seed0" / "samples.jsonl").read_text().count("\n") == 12
    assert "p@4" in format_rows([row])
    assert main(["--seeds", "0", "--n", "2", "--out", str(tmp_path / "all"), *overrides]) == 0
    saved = json.loads((tmp_path / "all" / "calibration.json").read_text())
    assert saved["experiment"] == "harder_miniature" and len(saved["rows"]) == 1


def test_study_runs_keeps_what_the_report_reads_and_nothing_else(tmp_path):
    from bench.study_runs import copy_runs
    from rlvr.tools.report import write_report

    sweep = tmp_path / "sweep"
    for job, (algo, acc) in enumerate([("grpo", 0.2), ("nsr", 0.3)]):
        run = sweep / str(job)
        (run / ".hydra").mkdir(parents=True)
        (run / "checkpoints").mkdir()
        (run / "checkpoints" / "model.safetensors").write_bytes(b"x")
        (run / "passk").mkdir()
        (run / "passk" / "samples.jsonl").write_text("{}\n")
        (run / "passk" / "summary.json").write_text(json.dumps({"overall": {"pass@1": acc, "pass@4": acc + 0.1}}))
        (run / "config.yaml").write_text(f"algorithm:\n  name: {algo}\ntrainer:\n  seed: 0\n")
        (run / ".hydra" / "overrides.yaml").write_text(f"- algorithm={algo}\n- trainer.seed=0\n")
        (run / "metrics.jsonl").write_text("".join(json.dumps({"step": s, "heldout_accuracy": acc}) + "\n"
                                                   for s in (0, 10)))
        (run / "summary.json").write_text(json.dumps({"train_s": 5.0}))
    (sweep / "multirun.yaml").write_text("hydra:\n  overrides:\n    task: [experiment=study_x]\n")
    out = tmp_path / "kept"
    assert [p.name for p in copy_runs(sweep, out)] == ["0", "1"]
    kept = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert kept == sorted(f"{j}/{f}" for j in "01" for f in ("config.yaml", ".hydra/overrides.yaml", "metrics.jsonl",
                                                              "summary.json", "passk/summary.json")) + ["multirun.yaml"]
    report = write_report([out], tmp_path / "report").read_text()
    assert "grpo" in report and "nsr" in report and "pass@4" in report


def test_the_harder_miniature_studies_compose_with_their_protocols():
    from omegaconf import OmegaConf

    from rlvr.config import CONF_DIR, compose

    for name in ("study_psr_nsr_hard", "study_spurious_clipping"):
        cfg = compose([f"experiment={name}"])
        assert cfg.name == name and cfg.trainer.seed_scope == "run" and cfg.model.warm_start.target_accuracy == 0.15
    sweep = OmegaConf.load(CONF_DIR / "experiment" / "study_psr_nsr_hard.yaml").hydra
    assert (sweep.callbacks.report.passk_n, sweep.callbacks.report.passk_temperature,
            sweep.callbacks.report.passk_top_p) == (256, 0.6, 0.95)
    assert OmegaConf.load(CONF_DIR / "experiment" / "study_spurious_clipping.yaml").hydra.sweeper.params[
        "learner.mini_batch_prompts"] == "16,4"
