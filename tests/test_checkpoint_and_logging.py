"""Checkpoints resume bit-exactly (weights, optimizer, scheduler, RNG); partial checkpoints are never picked up;
metrics.jsonl on resume equals the uninterrupted run's; the curves PNG is written."""
import json
import random

import numpy as np
import torch

from rlvr.infra.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from rlvr.infra.run_logging import RunLogger, plot_metrics, read_metrics
from tests.conftest import offline_run_record


def _setup(model_dir):
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0 / (1 + s))
    return model, opt, sched


def _train(model, opt, sched, steps):
    losses = []
    for _ in range(steps):
        x = torch.randint(4, 90, (2, 6))  # random draws: the RNG must be restored for equality
        loss = model(input_ids=x, labels=x).loss + 0 * random.random() + 0 * float(np.random.rand())
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
    return losses


def test_resume_is_bit_exact(tiny_model_dir, tmp_path):
    model, opt, sched = _setup(tiny_model_dir)
    full = _train(model, opt, sched, 4)
    w_full = {k: v.clone() for k, v in model.state_dict().items()}

    model, opt, sched = _setup(tiny_model_dir)
    part = _train(model, opt, sched, 2)
    path = save_checkpoint(tmp_path, 2, model=model, optimizer=opt, scheduler=sched,
                           trainer_state={"data_cursor": 2}, extra_state={"anchor": 1.5})
    _train(model, opt, sched, 1)  # diverge, then resume from the checkpoint into a fresh model
    model, opt, sched = _setup(tiny_model_dir)
    state = load_checkpoint(path, model=model, optimizer=opt, scheduler=sched)
    assert state["step"] == 2 and state["data_cursor"] == 2 and state["_extra_state"] == {"anchor": 1.5}
    rest = _train(model, opt, sched, 2)
    assert part + rest == full
    for k, v in model.state_dict().items():
        assert torch.equal(v, w_full[k]), k


def test_checkpoint_is_hf_loadable_and_partial_dirs_are_ignored(tiny_model_dir, tmp_path):
    from transformers import AutoModelForCausalLM

    model, opt, _ = _setup(tiny_model_dir)
    for step in (1, 2, 3, 4):
        save_checkpoint(tmp_path, step, model=model, optimizer=opt, trainer_state={}, keep_last=2)
    names = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert names == ["step_000003", "step_000004"]
    # A killed run's leftovers: a temp dir and a step dir without trainer_state.json.
    (tmp_path / "checkpoints" / ".step_000005.tmp-x").mkdir()
    (tmp_path / "checkpoints" / "step_000006").mkdir()
    assert latest_checkpoint(tmp_path).name == "step_000004"
    loaded = AutoModelForCausalLM.from_pretrained(latest_checkpoint(tmp_path))
    for k, v in model.state_dict().items():
        assert torch.equal(v, loaded.state_dict()[k]), k


def test_logger_drops_lines_past_the_resume_step_and_plots(tmp_path):
    log = RunLogger(tmp_path, wandb_mode="disabled", total_steps=4, console=False)
    for s in range(1, 5):
        log.log(s, {"reward_mean": s / 10, "nan_is_dropped": float("nan"),
                    "problems": [{"id": f"p{s}", "correct": 1, "samples": 2}]})
    log.close()
    log = RunLogger(tmp_path, wandb_mode="disabled", total_steps=4, resume_step=2, console=False)
    log.log(3, {"reward_mean": 0.3, "problems": [{"id": "again", "correct": 0, "samples": 2}]})
    log.close()
    rows = read_metrics(tmp_path / "metrics.jsonl")
    assert [r["step"] for r in rows] == [1, 2, 3] and "nan_is_dropped" not in rows[0]
    assert not any("problems" in r for r in rows)  # per-problem records go to problems.jsonl, truncated alike
    problems = read_metrics(tmp_path / "problems.jsonl")
    assert [(r["step"], r["problems"][0]["id"]) for r in problems] == [(1, "p1"), (2, "p2"), (3, "again")]
    assert plot_metrics(tmp_path / "metrics.jsonl", tmp_path / "c.png").stat().st_size > 1000


def test_wandb_offline_writes_a_local_run(tmp_path):
    log = RunLogger(tmp_path, wandb_mode="offline", config={"a": 1}, total_steps=1, console=False)
    log.log(1, {"reward_mean": 1.0})
    log.close()
    assert list((tmp_path / "wandb").glob("offline-run-*"))
    assert json.loads((tmp_path / "metrics.jsonl").read_text().splitlines()[0])["reward_mean"] == 1.0


def test_wandb_run_is_named_grouped_and_resumed_under_the_same_id(tmp_path, monkeypatch):
    """group/name/job_type/tags reach the offline run file; a resume in the same run dir reuses the stored id."""
    from rlvr.infra.run_logging import WANDB_ID_FILE

    monkeypatch.setenv("WANDB_MODE", "offline")

    config = {"name": "study", "algorithm": {"name": "grpo"}, "reward": {"name": "random"},
              "logger": {"group": "study/sweep1", "run_name": "reward=random,trainer.seed=1", "job_type": "train",
                         "tags": ["ablation"]}}
    log = RunLogger(tmp_path, wandb_mode="offline", config=config, total_steps=2, console=False)
    log.log(1, {"reward_mean": 1.0})
    log.close()
    run_id = (tmp_path / WANDB_ID_FILE).read_text().strip()
    record = offline_run_record(tmp_path, run_id)
    for text in ["study/sweep1", "reward=random,trainer.seed=1", "reward:random", "algorithm:grpo", "ablation"]:
        assert text.encode() in record, text
    log = RunLogger(tmp_path, wandb_mode="offline", config=config, total_steps=2, resume_step=1, console=False)
    log.close()
    runs = list((tmp_path / "wandb").glob("offline-run-*"))  # wandb adds "-1" to a dir name taken this second
    assert len(runs) == 2 and all((p / f"run-{run_id}.wandb").exists() for p in runs)


