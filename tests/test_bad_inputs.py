"""Bad input stops a run with one line naming the problem, before the warm start, Ray or any engine starts, and
leaves existing runs untouched (rlvr.config_checks, data_gen.io, rlvr.data.prompts, rlvr.train.one_line_errors)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from rlvr.config import compose

ROOT = Path(__file__).resolve().parents[1]
GOOD = [{"problem": "1 + 1", "answer": "2"}, {"problem": "2 + 3", "answer": "5"}] * 5


def _jsonl(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def _good(n=10) -> list[bytes]:
    return [json.dumps(r).encode() for r in GOOD[:n]]


def _data(tmp_path, kind):
    """(overrides, expected message fragment) of one bad data file."""
    f = tmp_path / "train.jsonl"
    if kind == "malformed line":
        _jsonl(f, [*_good(), b'{"problem": "1 + 2", "answer": '])
        return f, "train.jsonl:11: not valid JSON"
    if kind == "missing field":
        _jsonl(f, [*_good(), b'{"problem": "1 + 2"}'])
        return f, "missing field 'answer'"
    if kind == "empty file":
        _jsonl(f, [])
        return f, "has 0 problems"
    if kind == "non-UTF-8":
        _jsonl(f, [*_good(), '{"problem": "caf\u00e9 + 1", "answer": "2"}'.encode("latin-1")])
        return f, "train.jsonl:11: not UTF-8"
    if kind == "50 MB line":
        _jsonl(f, [*_good(), b'{"problem": "' + b"1" * 50_000_000 + b'", "answer": "2"}'])
        return f, "train.jsonl:11: a line of 50 MB"
    raise AssertionError(kind)


BASE = ["model.warm_start.enabled=false", "logger.wandb_mode=disabled"]
CASES = {  # name -> (overrides, expected fragment); "{data}" is replaced by a bad data file's path
    "malformed line": (["data=jsonl", "data.path={data}"], None),
    "missing field": (["data=jsonl", "data.path={data}"], None),
    "empty file": (["data=jsonl", "data.path={data}"], None),
    "non-UTF-8": (["data=jsonl", "data.path={data}"], None),
    "50 MB line": (["data=jsonl", "data.path={data}"], None),
    "missing model dir": (["model.path=/no/such/model"], "model.path=/no/such/model: no such directory"),
    "model dir without config.json": (["model.path={tmp}"], "no config.json"),
    "rollout.n=0": (["rollout.n=0"], "rollout.n=0: must be >= 1"),
    "prompts_per_step=0": (["rollout.prompts_per_step=0"], "rollout.prompts_per_step=0: must be >= 1"),
    "lr < 0": (["optim.lr=-0.001"], "optim.lr=-0.001: must be >= 0"),
    "mini-batch above the batch": (["learner.mini_batch_prompts=99"], "learner.mini_batch_prompts=99"),
    "unknown seed scope": (["trainer.seed_scope=everything"], "trainer.seed_scope=everything: choose sampling"),
    "sync check every 0": (["trainer.sync_check_every=0"], "trainer.sync_check_every=0: must be >= 1"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_one_line_before_anything_starts(name, tmp_path, tiny_model_dir):
    import ray

    from rlvr.config_checks import ConfigError
    from rlvr.data.prompts import DataError
    from rlvr.run import build_run

    overrides, expected = CASES[name]
    if expected is None:
        data, expected = _data(tmp_path, name)
        overrides = [o.replace("{data}", str(data)) for o in overrides]
    overrides = [o.replace("{tmp}", str(tmp_path)) for o in overrides]
    cfg = compose([*BASE, f"model.cache_dir={tiny_model_dir.parent.parent}", *overrides])
    with pytest.raises((ConfigError, DataError)) as err:
        build_run(cfg, tmp_path / "run")
    message = str(err.value)
    assert expected in message and "\n" not in message, message
    assert not ray.is_initialized()  # nothing expensive started


def test_an_output_dir_under_a_file_is_one_line(tmp_path):
    from rlvr.config_checks import ConfigError
    from rlvr.run import Run

    (tmp_path / "afile").write_text("x")
    with pytest.raises(ConfigError, match=r"run directory .*afile/run: cannot write there"):
        Run(compose(BASE), tmp_path / "afile" / "run")


def test_a_dataset_too_small_to_split_is_evaluated_on_its_training_problems(tmp_path, tiny_model_dir):
    from rlvr.data.prompts import build_prompt_source

    f = _jsonl(tmp_path / "four.jsonl", _good(4))
    cfg = compose([*BASE, "data=jsonl", f"data.path={f}"])
    source = build_prompt_source(cfg.data, heldout_size=200)
    assert len(source.heldout) == 4 and "too few to hold some out" in source.heldout_note
    assert {it.prompt for it in source.batch(0, 4)} == {it.prompt for it in source.heldout}
    big = build_prompt_source(compose([*BASE, "data=jsonl", f"data.path={_jsonl(tmp_path / 'ten.jsonl', _good())}"])
                              .data, heldout_size=200)
    assert big.heldout_note is None


def _cli(args, tmp_path):
    env_cmd = [sys.executable, "-m", "rlvr.train", *BASE, f"trainer.run_dir={tmp_path / 'run'}", *args]
    return subprocess.run(env_cmd, cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "WANDB_MODE": "disabled"})


@pytest.mark.slow
@pytest.mark.parametrize("args,expected", [
    (["rollout.n=0"], "rollout.n=0: must be >= 1"),
    (["model.path=/no/such/model"], "no such directory"),
    (["algorithm=no_such_algorithm"], "no_such_algorithm"),
    (["trainer.stepz=3"], "trainer.stepz"),
])
def test_the_command_line_prints_one_line_and_no_traceback(args, expected, tmp_path):
    """Through `python -m rlvr.train`: exit status non-zero, the problem named, no traceback, within 15 s of work
    (the timeout here also covers a loaded CI machine's imports)."""
    proc = _cli(args, tmp_path)
    assert proc.returncode != 0
    assert expected in proc.stderr and "Traceback" not in proc.stderr, proc.stderr[-2000:]


@pytest.mark.slow
def test_a_four_problem_dataset_trains(tmp_path, tiny_model_dir):
    f = _jsonl(tmp_path / "four.jsonl", _good(4))
    proc = _cli(["data=jsonl", f"data.path={f}", f"model.cache_dir={tiny_model_dir.parent.parent}", "rollout.engine=hf",
                 "trainer.steps=2", "rollout.prompts_per_step=2", "rollout.n=2", "reward.verifier.num_workers=0",
                 "reward.verifier.use_ray_actor=false"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "too few to hold some out" in (tmp_path / "run" / "train.log").read_text()


def test_a_math_verify_backend_without_math_verify_is_one_line_before_anything_starts(monkeypatch, capsys):
    """Inside the verifier pool a missing math-verify would only turn every item into an error verdict: the run and
    the verifier bench refuse it first, naming the key (or the command) and the install."""
    import importlib.util

    from rlvr.config_checks import ConfigError, check_run_config
    from rlvr_verify.__main__ import main as verify_cli

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "math_verify" else real(name, *a))
    check_run_config(compose([*BASE, "reward.verifier.backend=rlvr"]))  # ours needs nothing more
    with pytest.raises(ConfigError, match=r"reward.verifier.backend=cascade needs math-verify.*pip install") as e:
        check_run_config(compose([*BASE, "reward.verifier.backend=cascade"]))
    assert "\n" not in str(e.value)
    assert verify_cli(["bench", "--n", "0"]) == 2
    assert "needs math-verify" in capsys.readouterr().err
