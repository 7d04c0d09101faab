import json
import re
from dataclasses import dataclass

import pytest

from rlvr.data.eval_sets import BenchmarkError, Problem, format_prompt, load_benchmark, load_jsonl_benchmark
from rlvr.rollout.engine import Sample
from rlvr.tools.evaluate import (EvalError, EvalSettings, compose_evaluate, main, plot_runs, run_evaluation,
                                 settings_from)
from rlvr.tools.passk import pass_at_k
from tests.conftest import vllm_available


@dataclass
class Verdict:
    correct: bool
    score: float
    extracted: str | None
    reason: str


def boxed_verify(response, gold):
    """Test-only verifier: exact match of the last \\boxed{...}."""
    found = re.findall(r"\\boxed\{([^}]*)\}", response)
    ext = found[-1].strip() if found else None
    return Verdict(ext == gold, float(ext == gold), ext, "ok" if found else "no boxed")


class ScriptedEngine:
    """Answers from a script keyed by question: answers[q][i] is the boxed answer of sample i."""

    tokenizer = None

    def __init__(self, script, fail_after_calls=None):
        self.script, self.calls, self.fail_after = script, [], fail_after_calls

    def generate(self, prompts, *, n=1, temperature=1.0, top_p=1.0, max_tokens=64, seed=None):
        if self.fail_after is not None and len(self.calls) >= self.fail_after:
            raise RuntimeError("simulated crash")
        self.calls.append(list(prompts))
        out = []
        for p in prompts:
            q = p.split("Q:")[1].split("<|im_end|>")[0]
            out.append([Sample(token_ids=[1, 2], text=f"so \\boxed{{{a}}}", logprobs=[-1.0, -1.0],
                               finish_reason="stop") for a in self.script[q][:n]])
        return out


PROBLEMS = [Problem("p1", "Q:a", "1", {"level": 1}), Problem("p2", "Q:b", "2", {"level": 2}),
            Problem("p3", "Q:c", "3", {"level": 2})]
SCRIPT = {"a": ["1", "9", "1", "9"], "b": ["7", "7", "2", "2"], "c": ["5", "5", "5", "5"]}


def test_metrics_match_hand_computation_and_files(tmp_path):
    s = EvalSettings(n=4, ks=[1, 2, 4], temperature=0.6, top_p=0.95, max_tokens=8, seed=0, batch=2)
    summary = run_evaluation(ScriptedEngine(SCRIPT), PROBLEMS, s, boxed_verify, out_dir=tmp_path)
    o = summary["overall"]
    assert o["pass@1"] == pytest.approx((0.5 + 0.5 + 0) / 3)
    assert o["pass@2"] == pytest.approx((pass_at_k(4, 2, 2) * 2) / 3)
    assert o["avg@2"] == pytest.approx((0.5 + 0 + 0) / 3)
    # maj@4: p1 tie 1/9 -> first "1" correct; p2 tie 7/2 -> first "7" wrong; p3 wrong
    assert o["maj@4"] == pytest.approx(1 / 3)
    assert o["maj@1"] == pytest.approx(1 / 3)
    assert summary["by_level"]["2"]["num_problems"] == 2
    assert summary["by_level"]["1"]["pass@4"] == 1.0
    rows = [json.loads(line) for line in (tmp_path / "samples.jsonl").read_text().splitlines()]
    assert len(rows) == 12 and rows[0]["problem_id"] == "p1" and rows[1]["extracted"] == "9"
    assert json.loads((tmp_path / "summary.json").read_text())["overall"] == o
    png = plot_runs([tmp_path], tmp_path / "fig.png")
    assert png.stat().st_size > 1000


def test_interrupted_run_resumes_without_redoing_finished_problems(tmp_path):
    s = EvalSettings(n=2, ks=[1, 2], temperature=1.0, top_p=1.0, max_tokens=8, seed=0, batch=1)
    with pytest.raises(RuntimeError):
        run_evaluation(ScriptedEngine(SCRIPT, fail_after_calls=2), PROBLEMS, s, boxed_verify, out_dir=tmp_path)
    assert len((tmp_path / "samples.jsonl").read_text().splitlines()) == 4  # two problems x two samples kept
    engine = ScriptedEngine(SCRIPT)
    summary = run_evaluation(engine, PROBLEMS, s, boxed_verify, out_dir=tmp_path)
    assert len(engine.calls) == 1 and "Q:c" in engine.calls[0][0]
    assert summary["overall"]["num_problems"] == 3
    assert len((tmp_path / "samples.jsonl").read_text().splitlines()) == 6
    with pytest.raises(EvalError, match="different settings"):
        run_evaluation(engine, PROBLEMS, EvalSettings(3, [1], 1.0, 1.0, 8, 0, 1), boxed_verify, out_dir=tmp_path)


def test_malformed_line_reported_with_file_and_line_number(tmp_path, capsys):
    path = tmp_path / "bench.jsonl"
    path.write_text('{"id": "a", "problem": "1+1", "answer": "2"}\n\n{"id": "b", "problem": "2+2"\n'
                    '{"id": "c", "answer": "3"}\n')
    with pytest.raises(BenchmarkError) as err:
        load_jsonl_benchmark(path)
    assert f"{path}:3: not valid JSON" in str(err.value) and f"{path}:4: no string field 'problem'" in str(err.value)
    assert main([f"data={path}", "model=unused"]) == 2
    assert "bench.jsonl:3" in capsys.readouterr().err


def test_shipped_benchmarks_and_templates():
    math500 = load_benchmark("math500")
    assert len(math500) == 500 and {"subject", "level"} <= set(math500[0].meta)
    assert len(load_benchmark("gsm8k")) == 1319
    for name, rows in (("aime24", 30), ("amc23", 40)):  # not shipped (MAA texts): found beside, or a clear error
        try:
            assert len(load_benchmark(name)) == rows
        except BenchmarkError as e:
            assert "RLVR_EVAL_DIR" in str(e)
    prompt = format_prompt(Problem("x", "What is 2+2?", "4"), "qwen_boxed")
    assert prompt == ("<|im_start|>system\nPlease reason step by step, and put your final answer within \\boxed{}."
                      "<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n")
    assert format_prompt(Problem("x", "12+7", "19"), "equals") == "12+7="
    with pytest.raises(BenchmarkError, match="template"):
        format_prompt(Problem("x", "q", "a"), "nope")


def test_override_parsing():
    cfg = compose_evaluate(["model=m", "n=8", "k=1,4,16", "greedy=true"])
    s = settings_from(cfg)
    assert (s.n, s.ks, s.temperature, s.top_p) == (1, [1], 0.0, 1.0)
    s = settings_from(compose_evaluate(["n=8", "k=[1,4,16]"]))
    assert (s.n, s.ks) == (8, [1, 4])
    assert settings_from(compose_evaluate(["k=4", "n=4"])).ks == [4]
    assert compose_evaluate([]).out.startswith("evals/")  # a timestamped directory unless out= is given
    with pytest.raises(EvalError, match="nn"):
        compose_evaluate(["nn=3"])


def test_cli_help_and_errors_without_traceback(tmp_path):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "rlvr.evaluate", "--help"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0 and "usage: python -m rlvr.evaluate model=PATH" in out.stdout
    assert "max_tokens: 1024" in out.stdout  # the keys with their defaults
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{oops\n")
    out = subprocess.run([sys.executable, "-m", "rlvr.evaluate", "model=unused", f"data={bad}",
                          f"out={tmp_path / 'o'}"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "bad.jsonl:1" in out.stderr and "Traceback" not in out.stderr


def test_real_engines_end_to_end(tmp_path):
    """HF engine and logits engine on a tiny random model: plumbing, files, greedy identical for alpha=1."""
    from rlvr.rollout.hf_engine import HFEngine
    from rlvr.rollout.logits_engine import LogitsExtrapolationEngine
    from rlvr.models.tiny import build_tiny_model_dir

    m = build_tiny_model_dir(tmp_path / "m", seed=0)
    probs = [Problem("1", "12+7", "19"), Problem("2", "3*4", "12")]
    s = EvalSettings(n=1, ks=[1], temperature=0.0, top_p=1.0, max_tokens=6, seed=0, batch=2)
    hf = run_evaluation(HFEngine(str(m)), probs, s, boxed_verify, template="equals", out_dir=tmp_path / "hf")
    lg = run_evaluation(LogitsExtrapolationEngine.from_paths(str(m), str(m), 1.0), probs, s, boxed_verify,
                        template="equals", out_dir=tmp_path / "lg")
    assert hf["overall"]["num_problems"] == 2
    read = lambda d: [json.loads(x)["response"] for x in (tmp_path / d / "samples.jsonl").read_text().splitlines()]  # noqa
    assert read("hf") == read("lg")


def test_cli_main_with_tiny_model(tmp_path, monkeypatch, capsys):
    import rlvr.tools.evaluate as ev
    from rlvr.tools.extrapolate import main as extrapolate_main
    from rlvr.models.tiny import build_tiny_model_dir

    m = build_tiny_model_dir(tmp_path / "m", seed=0)
    bench = tmp_path / "b.jsonl"
    bench.write_text('{"id": "1", "problem": "12+7", "answer": "19", "level": 1}\n'
                     '{"id": "2", "problem": "3*4", "answer": "12", "level": 2}\n')
    monkeypatch.setattr(ev, "default_verifier", lambda: boxed_verify)
    for name, extra in (("hf", []), ("logits", ["engine=logits", f"model_a={m}", "alpha=1.5"])):
        assert ev.main([f"model={m}", f"data={bench}", "n=2", "k=1,2", "max_tokens=4", "template=equals",
                        "device=cpu", f"out={tmp_path / name}", *extra]) == 0
        summary = json.loads((tmp_path / name / "summary.json").read_text())
        assert summary["overall"]["num_problems"] == 2 and set(summary["by_level"]) == {"1", "2"}
    assert ev.main(["plot", "--runs", str(tmp_path / "hf"), str(tmp_path / "logits"), "--out",
                    str(tmp_path / "f.png")]) == 0
    assert (tmp_path / "f.png").is_file()
    assert extrapolate_main(["mode=logits", f"a={m}", f"b={m}", "alpha=1.5", "prompts=['1+1=']",
                             "max_tokens=4"]) == 0
    assert '"prompt": "1+1="' in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.skipif(not vllm_available(), reason="vllm is not installed")
def test_vllm_engine_from_the_command_line(tmp_path, monkeypatch):
    """engine=vllm takes the evaluator's device= (it used to reach vLLM's EngineArgs and raise TypeError); the
    default out= is a timestamped directory; a device the installed vLLM cannot serve is named."""
    import rlvr.tools.evaluate as ev
    from rlvr.models.tiny import build_tiny_model_dir

    m = build_tiny_model_dir(tmp_path / "m", seed=0)
    bench = tmp_path / "b.jsonl"
    bench.write_text('{"id": "1", "problem": "12+7", "answer": "19"}\n{"id": "2", "problem": "3+4", "answer": "7"}\n')
    monkeypatch.setattr(ev, "default_verifier", lambda: boxed_verify)
    monkeypatch.chdir(tmp_path)
    assert ev.main([f"model={m}", f"data={bench}", "engine=vllm", "n=2", "k=1,2", "max_tokens=4",
                    "template=equals", "max_model_len=64"]) == 0
    (out,) = (tmp_path / "evals").iterdir()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["overall"]["num_problems"] == 2 and summary["n"] == 2
    from rlvr.rollout.vllm_engine import check_device
    from vllm.platforms import current_platform

    other = "cuda" if current_platform.device_type == "cpu" else "cpu"
    with pytest.raises(ValueError, match=f"device='{other}'"):
        check_device(other)


def _record_prompts(monkeypatch, ev) -> list[str]:
    """Replace the evaluator's engine by one that records the prompts it is given (and answers 0)."""
    seen: list[str] = []

    class Recorder:
        tokenizer = None

        def generate(self, prompts, *, n=1, **kw):
            seen.extend(prompts)
            return [[Sample(token_ids=[1], text="\\boxed{0}", logprobs=[-1.0], finish_reason="stop")] * n
                    for _ in prompts]

    monkeypatch.setattr(ev, "build_eval_engine", lambda cfg: Recorder())
    monkeypatch.setattr(ev, "default_verifier", lambda: boxed_verify)
    return seen


def _saved_run(tmp_path, overrides):
    """A training run directory as far as evaluation is concerned: its composed config.yaml."""
    from omegaconf import OmegaConf

    from rlvr.config import compose

    run = tmp_path / "run"
    run.mkdir()
    OmegaConf.save(compose(overrides), run / "config.yaml", resolve=True)
    return run


def test_run_evaluates_the_runs_own_heldout_problems_with_its_template(tmp_path, monkeypatch, tiny_model_dir):
    """run=DIR: the held-out problems of that run's data node (a JSONL file with a custom template here; every key,
    not a reconstruction), prompted exactly as the loop prompted them, trainer.eval_size of them."""
    import rlvr.tools.evaluate as ev
    from rlvr.config import compose
    from rlvr.data.prompts import build_prompt_source

    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps({"problem": f"{i}+{i}", "answer": str(2 * i)}) + "\n" for i in range(30)))
    overrides = ["data=jsonl", f"data.path={data}", "data.template='Q: {problem} A:'", "trainer.eval_size=3"]
    run = _saved_run(tmp_path, overrides)
    # As the loop builds them: with the model's tokenizer (its chat template, where data.chat_template=auto uses it).
    problems = ev.run_heldout_problems(run, str(tiny_model_dir))
    expected = build_prompt_source(compose(overrides).data, heldout_size=3, model_path=str(tiny_model_dir)).heldout
    assert [(p.id, p.question, p.answer) for p in problems] == [(it.id, it.prompt, it.gold) for it in expected]
    assert problems[0].question.endswith("Q: 3+3 A:")  # the custom template

    seen = _record_prompts(monkeypatch, ev)
    assert ev.main([f"run={run}", f"model={tiny_model_dir}", "n=1", "k=[1]", f"out={tmp_path / 'e'}"]) == 0
    assert seen == [p.question for p in problems]  # template=plain: the run's prompts, untouched
    assert json.loads((tmp_path / "e" / "summary.json").read_text())["run"]["run"] == str(run)


def test_run_carries_every_random_calculation_key(tmp_path):
    """Levels, operand range and operators of the training data reach the evaluation (a reconstruction from a few
    keys dropped max_operand and operators)."""
    import rlvr.tools.evaluate as ev

    run = _saved_run(tmp_path, ["data.max_operand=30", "data.operators='*'", "trainer.eval_size=20"])
    problems = ev.run_heldout_problems(run)
    assert len(problems) == 20 and all("*" in p.question and "+" not in p.question for p in problems)
    assert all(int(x) <= 30 for p in problems for x in re.findall(r"\d+", p.question))


def test_run_without_a_checkpoint_or_config_is_one_line(tmp_path, capsys):
    import rlvr.tools.evaluate as ev

    assert ev.main([f"run={tmp_path}", f"out={tmp_path / 'e'}"]) == 2
    assert "no complete checkpoint" in capsys.readouterr().err
    assert ev.main([f"run={tmp_path}", "model=m", f"out={tmp_path / 'e2'}"]) == 2
    assert "no config.yaml" in capsys.readouterr().err


def test_vllm_context_is_capped_at_the_models_own(tmp_path):
    """max_model_len=4096 on the 512-position tiny model: vLLM would refuse it, so it is capped."""
    from rlvr.tools.evaluate import model_context

    (tmp_path / "config.json").write_text(json.dumps({"max_position_embeddings": 512}))
    assert model_context(str(tmp_path), 4096) == 512 and model_context(str(tmp_path), 256) == 256
    assert model_context(str(tmp_path / "absent"), 4096) == 4096


def test_train_data_evaluates_a_training_data_group_with_its_template(tmp_path, monkeypatch, tiny_model_dir):
    """train_data=jsonl train_data_keys={...}: the held-out problems and prompts that `python -m rlvr.train
    data=jsonl data.path=... data.template=...` would evaluate on (hf's group builds on jsonl's, as in training)."""
    import rlvr.tools.evaluate as ev
    from rlvr.config import compose
    from rlvr.data.prompts import build_prompt_source

    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps({"problem": f"{i}*3", "answer": str(3 * i)}) + "\n" for i in range(40)))
    expected = build_prompt_source(compose(["data=jsonl", f"data.path={data}", "data.template='Q: {problem} A:'"]).data,
                                   heldout_size=4, model_path=str(tiny_model_dir)).heldout
    seen = _record_prompts(monkeypatch, ev)
    assert ev.main([f"model={tiny_model_dir}", "train_data=jsonl", "count=4", "n=1", "k=[1]",
                    f"+train_data_keys.path={data}", "+train_data_keys.template='Q: {problem} A:'",
                    f"out={tmp_path / 'e'}"]) == 0
    assert seen == [it.prompt for it in expected] and seen[0].endswith(" A:")
    assert ev.training_data_node("hf", {"path": str(data)}).source == "hf"
    assert ev.training_data_node("random_calculation_easy", {"operators": "*"}).operators == "*"
    with pytest.raises(EvalError, match="train_data=nope: no conf/data/nope.yaml"):
        ev.training_data_node("nope")
    with pytest.raises(EvalError, match="train_data_keys.pathz"):
        ev.training_data_node("jsonl", {"pathz": "x"})
