"""`python -m bench peer-trl` (rlvr beside TRL's GRPOTrainer, time to held-out accuracy): the settings map, the skip
note without TRL, the report rendered from stored results, and (TRL installed, slow) a one-step run of both."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def composed(algorithm: str, *extra: str):
    from bench.peer_trl import rlvr_overrides
    from rlvr.config import compose

    return compose(rlvr_overrides(algorithm, seed=3, steps=7, eval_size=20, model_dir="/m", extra=list(extra)))


def test_grpo_maps_to_trl_grpo_with_the_same_batch_lr_sampling_and_no_kl():
    from bench.peer_trl import map_settings

    cfg = composed("grpo", "optim.lr=3e-4", "rollout.temperature=0.7", "rollout.max_tokens=12", "rollout.n=4",
                   "rollout.prompts_per_step=5")
    kw, rows = map_settings(cfg)
    assert kw["loss_type"] == "grpo" and kw["scale_rewards"] == "group"
    assert kw["num_generations"] == 4 and kw["per_device_train_batch_size"] == 20
    assert kw["gradient_accumulation_steps"] == 1 and kw["num_iterations"] == 1
    assert kw["learning_rate"] == 3e-4 and kw["lr_scheduler_type"] == "constant" and kw["warmup_steps"] == 0
    assert kw["temperature"] == 0.7 and kw["max_completion_length"] == 12 and kw["top_k"] == 0
    assert kw["beta"] == 0.0 and kw["epsilon"] == kw["epsilon_high"] == 0.2 and kw["max_grad_norm"] == 1.0
    assert kw["seed"] == 3 and kw["shuffle_dataset"] is False and kw["use_vllm"] is False
    assert all(len(r) == 4 for r in rows)
    names = [r[0] for r in rows]
    assert len(names) == len(set(names))
    for needed in ("start weights", "prompt stream", "reward", "group size G", "prompts per step", "learning rate",
                   "sampling temperature", "max new tokens", "loss aggregation", "KL to a reference", "seed"):
        assert needed in names
    assert "dynamic sampling" not in names


def test_dr_grpo_and_dapo_map_their_aggregation_and_say_what_trl_cannot_express():
    from bench.peer_trl import map_settings

    kw, _ = map_settings(composed("dr_grpo"))
    assert kw["loss_type"] == "dr_grpo" and kw["scale_rewards"] == "none"
    kw, rows = map_settings(composed("dapo"))
    assert kw["loss_type"] == "dapo" and kw["scale_rewards"] == "group" and kw["epsilon_high"] == 0.28
    notes = {r[0]: r[3] for r in rows}
    assert "cannot be expressed" in notes["dynamic sampling"] and "cannot be expressed" in notes["overlong penalty"]


def test_other_algorithms_are_refused():
    from bench.peer_trl import map_settings

    with pytest.raises(ValueError, match="grpo, dr_grpo and dapo"):
        map_settings(composed("ppo"))


def test_without_trl_the_command_prints_the_skip_note_and_exits_0(tmp_path):
    code = ("import sys; sys.modules['trl'] = None; from bench.__main__ import main; "
            f"sys.exit(main(['peer-trl', '--steps', '1', '--seeds', '0', '--out', {str(tmp_path)!r}]))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "peer-trl skipped: TRL is not importable" in out.stdout and ".[peer]" in out.stdout
    assert not list(tmp_path.iterdir())


def fake_run(system: str, seed: int, accs: list[float], step_s: float) -> dict:
    evals = [{"step": 5 * i, "samples": 5 * i * 128, "train_s": 5 * i * step_s, "accuracy": a, "correct": ""}
             for i, a in enumerate(accs)]
    steps = [{"step": i + 1, "wall_s": step_s, "generate_s": step_s / 2, "verify_s": 0.01, "learn_s": step_s / 3,
              "sync_s": None if system == "trl" else 0.05} for i in range(5 * (len(accs) - 1))]
    return {"system": system, "seed": seed, "evals": evals, "steps": steps, "setup_s": 10.0,
            "train_s": evals[-1]["train_s"], "initial_accuracy": accs[0], "final_accuracy": accs[-1]}


def test_from_results_renders_the_report_and_both_plots(tmp_path):
    from bench.peer_trl import main

    meta = {"date": "2026-12-06 15:00 UTC", "commit": "abc1234", "machine": "2 cores", "command": "python -m bench "
            "peer-trl --seeds 0 1", "model_dir": "/m", "model_found": "given", "model_sha256": "0" * 64,
            "versions": {"trl": "1", "transformers": "5", "torch": "2"}, "algorithm": "grpo", "steps": 10,
            "eval_every": 5, "eval_size": 20, "seeds": [0, 1], "order": ["rlvr seed 0", "trl seed 0"],
            "settings": [["learning rate", "optim.lr = 1e-4", "learning_rate = 0.0001", ""]],
            "load": [{"before": "end", "loadavg": [1.0, 1.0, 1.0]}]}
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    for seed in (0, 1):
        (tmp_path / f"rlvr_seed{seed}.json").write_text(json.dumps(fake_run("rlvr", seed, [0.5, 0.6, 0.7], 0.4)))
        (tmp_path / f"trl_seed{seed}.json").write_text(json.dumps(fake_run("trl", seed, [0.5, 0.55, 0.65], 1.0)))
    report = tmp_path / "report.md"
    assert main(["--from-results", "--out", str(tmp_path), "--report", str(report)]) == 0
    text = report.read_text()
    assert "| learning rate | `optim.lr = 1e-4` | `learning_rate = 0.0001` |" in text
    assert "accuracy_vs_samples.png" in text and "accuracy_vs_time.png" in text
    assert "Target <= 0.5x: **met**" in text  # rlvr reaches 65% at step 10 (4 s) vs TRL's 10 s
    assert (tmp_path / "accuracy_vs_samples.png").stat().st_size > 0
    assert (tmp_path / "accuracy_vs_time.png").stat().st_size > 0


@pytest.mark.slow
def test_one_step_of_both_systems_runs_and_scores_the_same_heldout(tmp_path):
    pytest.importorskip("trl")
    from rlvr.models.tiny import ensure_tiny_model

    model_dir = str(ensure_tiny_model("tiny", 0, tmp_path / "cache"))  # the plumbing, not the warm start
    for system in ("rlvr", "trl"):
        out = tmp_path / f"{system}_seed0.json"
        proc = subprocess.run([sys.executable, "-m", "bench", "peer-trl", "--worker", system, "--seeds", "0",
                               "--steps", "1", "--eval-every", "1", "--eval-size", "8", "--model-dir", model_dir,
                               "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        r = json.loads(out.read_text())
        assert [e["step"] for e in r["evals"]] == [0, 1] and r["steps"][0]["wall_s"] > 0
        assert len(r["evals"][0]["correct"]) == 8
    first = [json.loads((tmp_path / f"{s}_seed0.json").read_text())["evals"][0]["correct"] for s in ("rlvr", "trl")]
    assert first[0] == first[1]  # the same start scored by the same code


def test_rlvr_side_overrides_reach_its_config_and_the_settings_map():
    """`--rlvr-set KEY=VALUE` (e.g. a colocated HF engine) changes the rlvr side's config, and the settings map
    shows it; TRL's side is unchanged."""
    from bench.peer_trl import main, map_settings

    kw, rows = map_settings(composed("grpo", "rollout.engine=hf", "trainer.sync_check_every=10"))
    engine = next(r for r in rows if r[0] == "rollout engine")
    assert "hf" in engine[1] and kw == map_settings(composed("grpo"))[0]
    with pytest.raises(SystemExit):
        main(["--rlvr-set"])  # a value is required
