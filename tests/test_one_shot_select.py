"""`python -m bench one-shot`: the problem one-shot RLVR trains on is the one whose training accuracy varied most
across the selection run's steps (Wang et al.'s historical variance score), computed by hand here."""
import json

import pytest

from bench.one_shot import one_shot_command, per_step_accuracy, rank_by_variance, select


def _problems_jsonl(path, steps):
    path.write_text("".join(json.dumps({"step": s, "problems": [{"id": i, "round": r, "correct": c, "samples": n}
                                                                 for i, r, c, n in rows]}) + "\n"
                            for s, rows in enumerate(steps, 1)))
    return path


def test_variance_ranking_by_hand(tmp_path):
    path = _problems_jsonl(tmp_path / "problems.jsonl", [
        [("a", 0, 0, 4), ("b", 0, 2, 4), ("c", 0, 0, 4)],
        [("a", 0, 4, 4), ("b", 0, 2, 4), ("d", 0, 4, 4)],
        [("a", 0, 0, 4), ("b", 0, 1, 4), ("b", 1, 3, 4), ("c", 0, 1, 4)],  # b's two rounds pool to 4/8
        [("a", 0, 4, 4)],
    ])
    acc = per_step_accuracy(path)
    assert acc == {"a": [0, 1, 0, 1], "b": [0.5, 0.5, 0.5], "c": [0, 0.25], "d": [1.0]}
    ranking = rank_by_variance(acc)
    assert [r["id"] for r in ranking] == ["a", "c", "b"]          # d, seen once, has no variance
    assert ranking[0]["variance"] == 0.25 and ranking[1]["variance"] == 0.015625 and ranking[2]["variance"] == 0
    assert ranking[0]["mean"] == 0.5 and ranking[0]["seen"] == 4
    tie = rank_by_variance({"x": [0, 1], "y": [1, 0]})
    assert [r["id"] for r in tie] == ["x", "y"]


def test_selection_needs_the_per_problem_record(tmp_path):
    with pytest.raises(FileNotFoundError, match="trainer.log_problems=true"):
        select(tmp_path, 1)
    _problems_jsonl(tmp_path / "problems.jsonl", [[("a", 0, 1, 2)]])
    with pytest.raises(ValueError, match="drawn twice"):
        select(tmp_path, 1)


def test_the_one_shot_run_keeps_the_selection_runs_overrides_but_its_pool(tmp_path):
    run = tmp_path / "2"
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "overrides.yaml").write_text(
        "- trainer.seed=2\n- experiment=study_one_shot\n- data.train_problems=128\n- trainer.log_problems=true\n")
    cmd = one_shot_command(run, ["rc-easy-s2-l1-i40", "rc-easy-s2-l1-i3"], 100, tmp_path / "out", ["optim.lr=2e-4"])
    args = cmd[cmd.index("rlvr.train") + 1:]
    assert args[:2] == ["trainer.seed=2", "experiment=study_one_shot"]
    assert not any(a.startswith(("data.train_problems=", "trainer.log_problems")) for a in args)
    assert 'data.train_problem_ids=["rc-easy-s2-l1-i40","rc-easy-s2-l1-i3"]' in args
    assert "trainer.steps=100" in args and "name=one_shot_selected" in args and args[-1] == "optim.lr=2e-4"


def test_the_id_list_override_composes(tmp_path):
    """The override the command writes is one Hydra accepts, and it reaches data.train_problem_ids as strings."""
    from rlvr.config import compose

    cfg = compose(["experiment=study_one_shot", 'data.train_problem_ids=["rc-easy-s2-l1-i40","7"]'])
    assert list(cfg.data.train_problem_ids) == ["rc-easy-s2-l1-i40", "7"] and cfg.trainer.log_problems is False


def test_hydra_overrides_may_follow_the_options():
    from bench.one_shot import _args as one_shot_args
    from bench.then_rl import _args as then_rl_args

    assert one_shot_args(["sweep", "--steps", "2", "trainer.eval_every=2"]).overrides == ["trainer.eval_every=2"]
    assert then_rl_args(["sweep", "--steps", "2", "optim.lr=1e-4"]).overrides == ["optim.lr=1e-4"]
