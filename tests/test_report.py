"""The sweep report (rlvr/tools/report.py): grouping runs by config, mean and spread over seeds, PNGs, the Markdown
table, the Hydra callback that ends every multirun with it, and wandb group/name of the runs of a real multirun."""
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from rlvr.tools.report import ReportCallback, find_run_dirs, load_run, main, swept_keys, write_report
from tests.conftest import offline_run_record

ROOT = Path(__file__).resolve().parent.parent


def _fake_run(path: Path, reward: str, seed: int, final: float, steps: int = 4) -> Path:
    """A run directory as the loop writes it: resolved config, Hydra's overrides, metrics.jsonl, summary.json."""
    (path / ".hydra").mkdir(parents=True)
    config = {"name": "study", "reward": {"name": reward}, "algorithm": {"name": "grpo"},
              "trainer": {"seed": seed, "steps": steps}}
    (path / "config.yaml").write_text(yaml.safe_dump(config))
    (path / ".hydra" / "config.yaml").write_text(yaml.safe_dump(config))
    (path / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(
        ["experiment=study", f"reward={reward}", f"trainer.seed={seed}"]))
    rows = [{"step": 0, "heldout_accuracy": 0.3}]
    for s in range(1, steps + 1):
        row = {"step": s, "reward_mean": 0.1 * s, "accuracy": 0.3 + 0.01 * s, "entropy": 1.0 - 0.1 * s,
               "response_length": 5.0 + s}
        if s == steps:
            row["heldout_accuracy"] = final
        rows.append(row)
    (path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (path / "summary.json").write_text("{}")
    return path


@pytest.fixture()
def sweep(tmp_path):
    finals = {("verified", 0): 0.5, ("verified", 1): 0.6, ("random", 0): 0.2, ("random", 1): 0.1}
    for job, ((reward, seed), final) in enumerate(finals.items()):
        _fake_run(tmp_path / "sweep" / f"{job}_reward={reward},trainer.seed={seed}", reward, seed, final)
    return tmp_path / "sweep"


def test_report_groups_seeds_and_writes_curves_and_table(sweep, tmp_path):
    report = write_report([sweep], tmp_path / "out", by=["reward"])
    text = report.read_text()
    for metric in ["heldout_accuracy", "reward_mean", "accuracy", "entropy", "response_length"]:
        assert (tmp_path / "out" / f"{metric}.png").stat().st_size > 5000, metric
    rows: dict[str, str] = {}
    for line in text.splitlines():  # the summary table's row (the differences table below repeats the label)
        if line.startswith("| "):
            rows.setdefault(line.split("|")[1].strip(), line)
    assert "55.0 ± 7.1% (50.0-60.0)" in rows["verified"] and "| 2 | 4 | 30.0% |" in rows["verified"]
    assert "15.0 ± 7.1% (10.0-20.0)" in rows["random"]
    assert "![heldout_accuracy](heldout_accuracy.png)" in text


def test_default_groups_are_the_swept_overrides_without_seeds(sweep):
    runs = [load_run(p) for p in find_run_dirs([sweep])]
    assert [r.path.name[0] for r in runs] == ["0", "1", "2", "3"]
    assert swept_keys(runs) == ["reward"]


def test_a_key_only_one_run_overrides_is_still_swept(tmp_path):
    """`python -m rlvr.train -m reward=random` beside a run at the default: the second run has no reward override,
    so its value is the default, which differs."""
    a = _fake_run(tmp_path / "s" / "0", "random", 0, 0.2)
    b = _fake_run(tmp_path / "s" / "1", "verified", 0, 0.5)
    (b / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(["experiment=study", "trainer.seed=0"]))
    assert swept_keys([load_run(a), load_run(b)]) == ["reward"]


def test_the_time_column_is_training_time_without_start_up(tmp_path):
    """summary.json's train_s (first step to the end): a multirun's first job no longer carries the Ray start-up."""
    run = _fake_run(tmp_path / "s" / "0", "random", 0, 0.2)
    (run / "summary.json").write_text(json.dumps({"train_s": 42.0, "startup_s": 30.0}))
    assert load_run(run).wall_s == 42.0
    text = write_report([tmp_path / "s"], tmp_path / "out", by=["reward"]).read_text()
    assert "training time per run" in text and "| 42 s | 42 s |" in text


def test_two_keys_label_each_group_with_both(sweep, tmp_path):
    text = write_report([sweep], tmp_path / "out", by=["reward", "algorithm"]).read_text()
    assert "| reward=verified, algorithm=grpo | 2 |" in text


def test_cli_errors_name_what_to_pass(sweep, tmp_path, capsys):
    assert main([str(tmp_path / "nothing_here")]) == 2
    assert "pass a sweep directory" in capsys.readouterr().out
    assert main([str(sweep), "--by", "rewardz", "--out", str(tmp_path / "o")]) == 2
    assert "--by rewardz: not a config key" in capsys.readouterr().out
    assert main([str(sweep)]) == 0 and (sweep / "report.md").exists()


def test_callback_only_warns_when_the_report_fails(tmp_path, caplog):
    from omegaconf import OmegaConf

    config = OmegaConf.create({"hydra": {"sweep": {"dir": str(tmp_path / "empty")}}})
    with caplog.at_level(logging.WARNING):
        ReportCallback().on_multirun_end(config)
    assert "could not write the sweep report" in caplog.text


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_two_run_multirun_ends_with_its_report_and_named_wandb_runs(tmp_path):
    """`python -m rlvr.train -m reward=verified,random` (2 steps each): the callback writes report.md with both
    groups and non-empty PNGs into the sweep dir; each offline wandb run carries the sweep as group and its swept
    override as name, and its id is the one stored in the run directory."""
    sweep_dir = tmp_path / "sweep"
    cmd = [sys.executable, "-m", "rlvr.train", "-m", "reward=verified,random", "trainer.steps=2",
           "model.warm_start.enabled=false", f"model.cache_dir={tmp_path / 'cache'}", "rollout.engine=hf",
           "rollout.prompts_per_step=4", "rollout.n=4", "rollout.max_tokens=8", "trainer.eval_size=8",
           "trainer.checkpoint_every=100", "reward.verifier.num_workers=0", "reward.verifier.use_ray_actor=false",
           "logger.wandb_mode=offline", "logger.console=false", f"hydra.sweep.dir={sweep_dir}"]
    env = {**os.environ, "WANDB_MODE": "offline"}
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=850)
    assert out.returncode == 0, out.stderr[-3000:]

    text = (sweep_dir / "report.md").read_text()
    assert "| verified | 1 | 2 |" in text and "| random | 1 | 2 |" in text
    assert (sweep_dir / "heldout_accuracy.png").stat().st_size > 5000

    for run_dir, reward in zip(find_run_dirs([sweep_dir]), ["verified", "random"]):
        run_id = (run_dir / "wandb_id.txt").read_text().strip()
        record = offline_run_record(run_dir, run_id)
        group = "/".join(sweep_dir.parts[-2:]).encode()
        assert group in record and f"reward={reward}".encode() in record and f"reward:{reward}".encode() in record




def test_passk_of_final_checkpoints_is_plotted_and_tabled(sweep, tmp_path):
    for job, run_dir in enumerate(find_run_dirs([sweep])):
        (run_dir / "passk").mkdir()
        overall = {f"pass@{k}": min(1.0, 0.1 * job + 0.05 * k ** 0.5) for k in (1, 2, 4, 8, 16, 32, 64)}
        (run_dir / "passk" / "summary.json").write_text(json.dumps({"overall": overall}))
    text = write_report([sweep], tmp_path / "out", by=["reward"]).read_text()
    assert (tmp_path / "out" / "passk.png").stat().st_size > 5000
    assert "pass@1 | pass@64 |" in text and "![passk](passk.png)" in text


def test_passk_needs_a_checkpoint_and_says_so(sweep):
    from rlvr.tools.report import PasskProtocol, passk_command

    with pytest.raises(FileNotFoundError, match="no complete checkpoint"):
        passk_command(load_run(find_run_dirs([sweep])[0]), PasskProtocol(n=64))


def test_passk_command_evaluates_the_runs_own_problems_at_the_chosen_protocol(sweep, monkeypatch):
    """run= carries the run's whole data node and template; temperature and top-p are the protocol's when given
    (the NSR paper's 0.6 / 0.95), else the run's rollout settings; k goes up to n (256 included)."""
    import rlvr.infra.checkpoint as checkpoint
    from rlvr.tools.report import PasskProtocol, passk_command

    run = load_run(find_run_dirs([sweep])[0])
    monkeypatch.setattr(checkpoint, "latest_checkpoint", lambda path: path / "checkpoints" / "step_000002")
    cmd = passk_command(run, PasskProtocol(n=256, temperature=0.6, top_p=0.95))
    assert f"run={run.path}" in cmd and "temperature=0.6" in cmd and "top_p=0.95" in cmd
    assert "k=[1,2,4,8,16,32,64,128,256]" in cmd and "n=256" in cmd
    assert not any(a.startswith(("data=", "template=", "level=")) for a in cmd)
    default = passk_command(run, PasskProtocol(n=8))
    assert f"temperature={run.config.get('rollout.temperature', 1.0)}" in default and "k=[1,2,4,8]" in default


def test_bootstrap_difference_by_hand_and_against_an_enumeration():
    """Constant groups: the interval is the point. Two runs a side: every resample is one of 4 x 4 equally likely
    pairs of (mean of b's draw) - (mean of a's draw); the bootstrap's quantiles match that exact distribution."""
    import itertools

    from rlvr.tools.report import bootstrap_difference

    assert bootstrap_difference([0.5] * 3, [0.6] * 3) == pytest.approx((0.1, 0.1, 0.1))
    a, b = [0.2, 0.4], [0.5, 0.9]
    diff, lo, hi = bootstrap_difference(a, b, reps=40_000)
    exact = sorted(sum(y) / 2 - sum(x) / 2 for x in itertools.product(a, repeat=2) for y in itertools.product(b, repeat=2))
    assert diff == pytest.approx(0.4) and lo == pytest.approx(exact[0]) and hi == pytest.approx(exact[-1])


def test_report_states_differences_with_an_interval(sweep, tmp_path):
    text = write_report([sweep], tmp_path / "out", by=["reward"]).read_text()
    assert "minus `verified`'s" in text and "| random | -40.0 |" in text and "| yes |" in text


def test_report_states_pass_at_k_differences_at_the_smallest_and_largest_k(sweep, tmp_path):
    for job, run_dir in enumerate(find_run_dirs([sweep])):  # jobs 0-1 verified, 2-3 random
        (run_dir / "passk").mkdir()
        overall = {f"pass@{k}": 0.1 * job + 0.05 * k ** 0.5 for k in (1, 4, 64)}
        (run_dir / "passk" / "summary.json").write_text(json.dumps({"overall": overall}))
    text = write_report([sweep], tmp_path / "out", by=["reward"]).read_text()
    assert "pass@1 minus `verified`'s" in text and "pass@64 minus `verified`'s" in text
    assert "pass@4 minus" not in text
    assert text.count("| random | +20.0 |") == 2
