"""Off the default path: your own data, every shipped data config, chat templates, a separate
validation file, HF datasets, resume keeping the saved experiment, and the GPU-facing defaults.

Each run here is one step of the real loop (Ray actors, HF engine, the tiny model without warm start), because the
failures this file guards against happened at start-up, before any step.
"""
import json
import shutil
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from rlvr.config import CONF_DIR, compose
from rlvr.data.prompts import DataError, PromptFormatter, build_prompt_source, fill_template

ONE_STEP = ["model.warm_start.enabled=false", "rollout.engine=hf", "rollout.prompts_per_step=2", "rollout.n=2",
            "rollout.max_tokens=4", "trainer.eval_size=2", "trainer.eval_every=100", "trainer.checkpoint_every=100",
            "trainer.steps=1", "logger.wandb_mode=disabled", "reward.verifier.num_workers=0",
            "reward.verifier.use_ray_actor=false"]
BOXED_TEMPLATE = "data.template='Solve: {problem}. Put the final answer in \\boxed{}.'"


def _problems(n: int, offset: int = 0) -> list[dict]:
    return [{"problem": f"{i}+{i}", "answer": str(2 * i), "id": f"p{i}"} for i in range(offset, offset + n)]


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _one_step(tmp_path, tiny_model_dir, overrides):
    from rlvr.loop import train
    from rlvr.run import Run

    cfg = compose([*ONE_STEP, f"model.cache_dir={tiny_model_dir.parent.parent}", *overrides])
    run = Run(cfg, tmp_path / "run")
    summary = train(run)
    assert summary["steps"] == 1
    return run


def _data_option_overrides(option: str, tmp_path) -> list[str]:
    """What a user adds to `data=OPTION` for it to have something to read."""
    if option in ("jsonl", "hf"):
        return [f"data.path={_write_jsonl(tmp_path / 'train.jsonl', _problems(20))}"]
    return []


@pytest.mark.slow
@pytest.mark.parametrize("option", sorted(p.stem for p in (CONF_DIR / "data").glob("*.yaml")))
def test_every_shipped_data_config_starts_a_one_step_run(option, tmp_path, ray_cluster, tiny_model_dir):
    _one_step(tmp_path, tiny_model_dir, [f"data={option}", *_data_option_overrides(option, tmp_path)])


def _chat_model(tmp_path, tiny_model_dir) -> Path:
    """The tiny model with a role-marking chat template, like a real chat model (its own passes text through)."""
    model = tmp_path / "chat_model"
    shutil.copytree(tiny_model_dir, model)
    (model / "chat_template.jinja").write_text("{% for m in messages %}[{{ m['role'] }}]{{ m['content'] }}{% endfor %}"
                                              "{% if add_generation_prompt %}[assistant]{% endif %}")
    return model


def _source(trainer):
    return getattr(trainer, "parts", trainer).source


@pytest.mark.slow
def test_user_jsonl_with_boxed_template_validation_file_and_chat_model(tmp_path, ray_cluster, tiny_model_dir):
    train = _write_jsonl(tmp_path / "train.jsonl", _problems(6))
    val = _write_jsonl(tmp_path / "val.jsonl", _problems(3, offset=100))
    trainer = _one_step(tmp_path, tiny_model_dir, [
        f"model.path={_chat_model(tmp_path, tiny_model_dir)}", "data=jsonl", f"data.path={train}",
        f"data.val_path={val}", "data.system_prompt=null", BOXED_TEMPLATE])
    source = _source(trainer)
    assert [it.id for it in source.heldout] == ["p100", "p101"]  # trainer.eval_size=2 of the val file
    assert source.heldout[0].prompt == "[user]Solve: 100+100. Put the final answer in \\boxed{}.[assistant]"
    assert {it.id for s in range(3) for it in source.batch(s, 2)} == {f"p{i}" for i in range(6)}


def test_fill_template_keeps_latex_braces_and_names_a_missing_field():
    fields = {"problem": "1+1"}
    assert fill_template("\\boxed{} \\frac{1}{2} {{x}} {problem}", fields) == "\\boxed{} \\frac{1}{2} {x} 1+1"
    with pytest.raises(DataError, match=r"\{question\}.*available fields: \['problem'\].*\{\{question\}\}"):
        fill_template("{question}", fields, "train.jsonl:3")


def test_validation_file_replaces_the_generated_heldout_set_of_random_calculation(tmp_path):
    val = _write_jsonl(tmp_path / "val.jsonl", [{"problem_text": "1 + 2", "problem": "1+2", "answer": "3"}])
    data = compose(["data=random_calculation_easy", f"data.val_path={val}", "data.prompt_key=problem_text"]).data
    source = build_prompt_source(data, heldout_size=5)
    assert [(it.prompt, it.gold) for it in source.heldout] == [("1 + 2=", "3")]


class _ChatTokenizer:
    chat_template = "fake"

    def apply_chat_template(self, messages, tokenize, add_generation_prompt):
        assert not tokenize and add_generation_prompt
        return "".join(f"<{m['role']}>{m['content']}" for m in messages) + "<assistant>"


def test_chat_template_is_used_when_the_model_has_one_and_plain_text_otherwise():
    chat = PromptFormatter("Q {problem}", "Use \\boxed{}.", "auto", _ChatTokenizer())
    assert chat({"problem": "1+1"}, "x") == "<system>Use \\boxed{}.<user>Q 1+1<assistant>"
    plain = PromptFormatter("Q {problem}", "Use \\boxed{}.", "auto", tokenizer=None)
    assert plain({"problem": "1+1"}, "x") == "Use \\boxed{}.\n\nQ 1+1"
    never = PromptFormatter("{problem}=", None, "never", _ChatTokenizer())
    assert never({"problem": "1+1"}, "x") == "1+1="
    with pytest.raises(DataError, match="data.chat_template=always"):
        PromptFormatter("{problem}", None, "always", tokenizer=None)


def test_chat_template_of_a_model_dir_reaches_the_prompts(tmp_path, tiny_model_dir):
    """model_path= loads the tokenizer, whose chat template wraps every prompt."""
    data = compose(["data=jsonl", f"data.path={_write_jsonl(tmp_path / 't.jsonl', _problems(10))}"]).data
    source = build_prompt_source(data, heldout_size=2, model_path=str(_chat_model(tmp_path, tiny_model_dir)))
    assert source.heldout[0].prompt.startswith("[system]Please reason step by step, and put your final answer "
                                               "within \\boxed{}.[user]")
    plain = build_prompt_source(compose(["data=random_calculation_easy"]).data, heldout_size=2,
                                model_path=str(tiny_model_dir))
    assert plain.heldout[0].prompt.endswith("=")  # the tiny model's template passes text through: unchanged


def test_hf_datasets_verl_style_parquet_and_save_to_disk_dir(tmp_path):
    datasets = pytest.importorskip("datasets")
    rows = [{"prompt": [{"role": "user", "content": f"{i}+1"}], "reward_model": {"ground_truth": str(i + 1)},
             "data_source": "toy"} for i in range(10)]
    parquet = tmp_path / "train.parquet"
    datasets.Dataset.from_list(rows).to_parquet(str(parquet))
    cfg = compose(["data=hf", f"data.path={parquet}", "data.prompt_key=prompt",
                   "data.answer_key=reward_model.ground_truth"]).data
    source = build_prompt_source(cfg, heldout_size=2)
    item = source.batch(0, 1)[0]
    assert item.prompt == f"{int(item.gold) - 1}+1"  # the chat messages' content, no template applied (no chat)
    saved = tmp_path / "saved"
    datasets.DatasetDict({"train": datasets.Dataset.from_list(_problems(8)),
                          "test": datasets.Dataset.from_list(_problems(3, offset=50))}).save_to_disk(str(saved))
    cfg = compose(["data=hf", f"data.path={saved}", f"data.val_path={saved}", "data.system_prompt=null"]).data
    source = build_prompt_source(cfg, heldout_size=5)
    assert [it.id for it in source.heldout] == ["p50", "p51", "p52"] and source.heldout[0].prompt == "50+50"
    with pytest.raises(DataError, match="data.split='nope'"):
        build_prompt_source(OmegaConf.merge(cfg, {"split": "nope"}), heldout_size=5)


def _saved_run(run_dir: Path, overrides: list[str]) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(compose(overrides), resolve=True))
    return run_dir


def test_resume_keeps_the_saved_reward_and_warns_on_a_changed_key(tmp_path):
    import warnings

    from rlvr.infra.resume import ResumedConfigWarning, config_for_run_dir

    run_dir = _saved_run(tmp_path / "0_reward=random", ["reward=random", "reward.params.gamma=0.3",
                                                        "algorithm=dr_grpo", "trainer.steps=5"])
    baseline = lambda: compose([])  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing explicit: no warning, the saved experiment unchanged
        cfg = config_for_run_dir(compose([]), run_dir, baseline)
    assert cfg.reward.name == "random" and cfg.reward.params.gamma == 0.3 and cfg.trainer.steps == 5
    assert cfg.algorithm.name == "dr_grpo"
    with pytest.warns(ResumedConfigWarning, match=r"trainer.steps: 5 -> 8") as caught:
        cfg = config_for_run_dir(compose(["trainer.steps=8"]), run_dir, baseline, ["trainer.steps=8"])
    assert cfg.reward.name == "random" and cfg.trainer.steps == 8
    message = str(caught[0].message)
    assert message.splitlines()[1:-1] == ["  trainer.steps: 5 -> 8"] and "config.before-resume-" in message
    assert list(run_dir.glob("config.before-resume-*.yaml"))
    # An explicit group choice replaces the whole group (no field of the old objective leaks into the new one).
    with pytest.warns(ResumedConfigWarning, match=r"algorithm.name: 'dr_grpo' -> 'grpo'"):
        cfg = config_for_run_dir(compose(["algorithm=grpo"]), run_dir, baseline, ["algorithm=grpo"])
    want = OmegaConf.to_container(compose(["algorithm=grpo"]).algorithm, resolve=True)
    assert OmegaConf.to_container(cfg.algorithm) == want
    never = config_for_run_dir(compose(["trainer.resume=never"]), run_dir, baseline, ["trainer.resume=never"])
    assert never.reward.name == "verified"  # not a resume: today's composition


def test_resume_from_the_command_line_loads_the_saved_config(tmp_path):
    """`python -m rlvr.train hydra.run.dir=RUN` reads RUN/config.yaml: a saved algorithm field that today's
    conf/ lacks reaches the objective (and stops it at start-up, before Ray, naming the field)."""
    import subprocess
    import sys

    run_dir = _saved_run(tmp_path / "run", ["algorithm=grpo", "+algorithm.saved_only_field=1"])
    out = subprocess.run([sys.executable, "-m", "rlvr.train", f"hydra.run.dir={run_dir}", "trainer.steps=3"],
                         cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, timeout=300)
    assert out.returncode != 0
    assert "saved_only_field" in out.stderr, out.stderr[-2000:]
    assert "trainer.steps: 100 -> 3" in out.stderr


def test_gpu_groups_without_experiment_take_gpu_facing_defaults():
    """lr comes from the model (model.lr), the device from the cluster (cluster.device), not from debug_cpu."""
    gpu = compose(["cluster=ray_gpu", "model=qwen2.5_math_1.5b"])
    assert (gpu.optim.lr, gpu.cluster.device, gpu.learner.dtype) == (1e-6, "cuda", "bfloat16")
    cpu = compose([])
    assert (cpu.optim.lr, cpu.cluster.device, cpu.learner.dtype) == (1e-4, "cpu", "float32")  # make train unchanged
    assert compose(["cluster=ray_gpu", "optim.lr=3e-6"]).optim.lr == 3e-6  # explicit still wins


PACKAGE_FILES = ["rlvr", "rlvr_verify", "data_gen", "hydra_plugins", "conf", "pyproject.toml", "setup.py", "README.md"]


def test_non_editable_install_ships_the_config_tree(tmp_path):
    """`pip install .` (not -e) then `python -m rlvr.train --cfg job` outside the checkout: conf/ travels as
    rlvr/conf. Installed with --target into a fresh directory, dependencies taken from this venv (no download)."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    src = tmp_path / "src"
    for name in PACKAGE_FILES:  # a copy, so the build leaves no build/ or egg-info in the checkout
        (shutil.copytree if (root / name).is_dir() else shutil.copy)(
            root / name, src / name, **({"ignore": shutil.ignore_patterns("__pycache__")}
                                        if (root / name).is_dir() else {}))
    site = tmp_path / "site"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                          "--no-index", "--target", str(site), str(src)], capture_output=True, text=True, timeout=300)
    assert pip.returncode == 0, pip.stderr[-2000:]
    assert (site / "rlvr" / "conf" / "config.yaml").is_file() and (site / "rlvr" / "conf" / "data" / "jsonl.yaml").is_file()
    assert (site / "rlvr" / "conf" / "evaluate" / "evaluate.yaml").is_file() and (site / "hydra_plugins").is_dir()
    env = {**__import__("os").environ, "PYTHONPATH": str(site)}
    run = subprocess.run([sys.executable, "-c", "import rlvr, runpy, sys; print('rlvr at', rlvr.__file__); "
                          "sys.argv = ['rlvr.train', '--cfg', 'job']; runpy.run_module('rlvr.train', run_name='__main__')"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert f"rlvr at {site}" in run.stdout and "name: debug_cpu" in run.stdout and "lr: ${model.lr}" in run.stdout
    evaluate = subprocess.run([sys.executable, "-m", "rlvr.evaluate", "--help"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300)
    assert evaluate.returncode == 0 and "usage: python -m rlvr.evaluate" in evaluate.stdout, evaluate.stderr[-2000:]


def test_seed_scope_run_draws_model_warm_start_and_prompts_from_the_seed():
    """trainer.seed_scope=run: different seeds get different model inits, warm starts, prompt streams and held-out
    problems; the default (sampling) keeps them shared, as the committed studies were measured."""
    from rlvr.config import apply_seed_scope
    from rlvr.data.prompts import build_prompt_source

    shared = compose(["trainer.seed=3"])
    apply_seed_scope(shared)
    assert (shared.model.seed, shared.model.warm_start.seed, shared.data.seed) == (0, 0, 0)
    sources = []
    for seed in (1, 2):
        cfg = compose([f"trainer.seed={seed}", "trainer.seed_scope=run"])
        apply_seed_scope(cfg)
        assert (cfg.model.seed, cfg.model.warm_start.seed, cfg.data.seed) == (seed, seed, seed)
        sources.append(build_prompt_source(cfg.data, heldout_size=20))
    assert [it.prompt for it in sources[0].batch(0, 8)] != [it.prompt for it in sources[1].batch(0, 8)]
    assert [it.prompt for it in sources[0].heldout] != [it.prompt for it in sources[1].heldout]
