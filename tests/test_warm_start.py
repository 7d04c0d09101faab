"""The warm start's cache key and its SFT-then-DFT schedule (model.warm_start.sft_steps_first): DFT weights each
token's loss by its own probability, ~1/V on the random tiny model, so a DFT warm start begins with SFT steps."""

from rlvr.config import compose
from rlvr.models.warm_start import train_warm_start, warm_start_key


def _key(tmp_path, *overrides):
    cfg = compose(list(overrides))
    return warm_start_key(tmp_path, cfg.model.warm_start, cfg.data)["warm"]


def test_sft_steps_first_enters_the_key_only_where_it_changes_the_model(tmp_path):
    assert "sft_steps_first" not in _key(tmp_path)  # so caches built before the field existed stay valid
    assert "sft_steps_first" not in _key(tmp_path, "model.warm_start.sft_steps_first=200")  # SFT then SFT
    dft = _key(tmp_path, "model.warm_start.objective=dft", "model.warm_start.sft_steps_first=200")
    assert dft["sft_steps_first"] == 200 and dft["objective"] == "dft"
    assert _key(tmp_path, "model.warm_start.objective=dft") != dft


def test_a_dft_warm_start_takes_its_first_steps_with_the_sft_objective(tiny_model_dir, monkeypatch):
    from rlvr.learner.learner import Learner

    used = []
    real_update = Learner.update

    def spy(self, batch, step, objective=None):
        used.append((objective or self.objective).name)
        return real_update(self, batch, step, objective)

    monkeypatch.setattr(Learner, "update", spy)
    cfg = compose(["model.warm_start.objective=dft", "model.warm_start.sft_steps_first=2", "model.warm_start.steps=4",
                   "model.warm_start.batch_size=4", "model.warm_start.eval_every=100", "model.warm_start.eval_size=4"])
    model, _, report = train_warm_start(tiny_model_dir, cfg.model.warm_start, cfg.data, "cpu", log=lambda *_: None)
    assert used == ["sft", "sft", "dft", "dft"]
    assert report["steps"] == 4 and 0.0 <= report["accuracy"] <= 1.0


def test_one_shot_runs_share_the_full_data_warm_start(tmp_path, monkeypatch):
    """data.train_problems limits RL's prompts, not the warm start's: same cache key, same demonstrations."""
    key = lambda *o: warm_start_key(tmp_path, compose(list(o)).model.warm_start, compose(list(o)).data)
    assert key("data.train_problems=1") == key() and "train_problems" not in key()["data"]
    import rlvr.data.prompts as prompts

    seen = []
    monkeypatch.setattr(prompts, "build_prompt_source", lambda data, **kw: seen.append(data) or (_ for _ in ()).throw(
        RuntimeError("stop")))
    cfg = compose(["data.train_problems=1"])
    try:
        train_warm_start(tmp_path, cfg.model.warm_start, cfg.data, "cpu", print)
    except RuntimeError:
        pass
    assert seen and "train_problems" not in seen[0]
