"""Benchmarks for evaluation: the JSONL files shipped in rlvr/data/eval (see SOURCES.md there), any JSONL file given
by path, and RandomCalculation splits generated on the fly. Also the prompt templates that wrap a question."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from data_gen.io import RecordError, iter_records
from rlvr.data.prompts import fill_template

EVAL_DIR = Path(__file__).parent / "eval"
# AIME/AMC problem texts are MAA's and carry no open license, so they are not shipped: they are looked up in
# $RLVR_EVAL_DIR, then in a checkout's sibling shared/data/eval (see rlvr/data/eval/SOURCES.md).
EXTRA_EVAL_DIRS = [Path(p) for p in (os.environ.get("RLVR_EVAL_DIR"),) if p] + [
    Path(__file__).resolve().parents[3] / "shared" / "data" / "eval"]
BENCHMARK_FILES = {"math500": "math500.jsonl", "gsm8k": "gsm8k_test.jsonl", "aime24": "aime24.jsonl",
                   "amc23": "amc23.jsonl"}
BREAKDOWN_FIELDS = ("subject", "level")

# {question} is the one placeholder; every other brace is literal (rlvr.data.prompts.fill_template).
TEMPLATES = {
    "qwen_boxed": ("<|im_start|>system\nPlease reason step by step, and put your final answer within \\boxed{}."
                   "<|im_end|>\n<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n"),
    "plain": "{question}",
    "random_calculation": ("Evaluate this LaTeX numerical expression step-by-step and give the final value within "
                           "\\boxed{}: {question}"),
    "equals": "{question}=",  # the tiny models' RandomCalculation easy format: "12+7="
}


class BenchmarkError(ValueError):
    pass


@dataclass
class Problem:
    id: str
    question: str
    answer: str
    meta: dict[str, Any] = field(default_factory=dict)  # subject / level etc., for breakdowns


def load_jsonl_benchmark(path: str | Path) -> list[Problem]:
    """Every line must be a JSON object with an answer and a problem (or question); every bad line is reported with
    file:line, all at once, before any generation starts."""
    path = Path(path)
    if not path.is_file():
        raise BenchmarkError(f"benchmark file {path} does not exist; use one of {sorted(BENCHMARK_FILES)} or a path")
    problems, errors = [], []
    for lineno, rec in iter_records(path):
        try:
            if isinstance(rec, RecordError):
                raise rec
            problems.append(_problem(rec, lineno))
        except (BenchmarkError, RecordError) as e:
            errors.append(str(e) if isinstance(e, RecordError) else f"{path}:{lineno}: {e}")
    if errors:
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise BenchmarkError("malformed benchmark lines; fix or delete them:\n  " + "\n  ".join(errors[:5]) + more)
    ids = [p.id for p in problems]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise BenchmarkError(f"{path}: problem id {dup!r} occurs more than once; ids must be unique")
    return problems


def _problem(rec: dict, lineno: int) -> Problem:
    question = rec.get("problem", rec.get("question"))
    if not isinstance(question, str):
        raise BenchmarkError("no string field 'problem' (or 'question')")
    if "answer" not in rec or rec["answer"] is None:
        raise BenchmarkError("no field 'answer'")
    meta = {k: rec[k] for k in BREAKDOWN_FIELDS if k in rec}
    return Problem(id=str(rec.get("id", rec.get("unique_id", f"line{lineno}"))), question=question,
                   answer=str(rec["answer"]), meta=meta)


def random_calculation_problems(level: int = 1, family: str = "easy", split: str = "test", count: int = 200,
                                seed: int = 0) -> list[Problem]:
    """A RandomCalculation split from data_gen (the same generator the training loop uses)."""
    try:
        from data_gen.random_calculation import RandomCalculationConfig, stream_problems
    except ImportError as e:
        raise BenchmarkError(f"data=random_calculation needs data_gen.random_calculation ({e})") from None
    stream = stream_problems(seed, [int(level)], RandomCalculationConfig(family=family), split=split)
    out = []
    for _ in range(count):
        p = next(stream)
        out.append(Problem(id=str(p.id), question=p.problem_text if family == "easy" else p.problem,
                           answer=str(p.answer), meta={"level": p.level}))
    return out


def benchmark_path(name: str) -> Path:
    """The file of a named benchmark: shipped (MIT: math500, gsm8k) or from RLVR_EVAL_DIR / shared/data/eval."""
    for d in [EVAL_DIR, *EXTRA_EVAL_DIRS]:
        if (d / BENCHMARK_FILES[name]).is_file():
            return d / BENCHMARK_FILES[name]
    raise BenchmarkError(f"data={name}: {BENCHMARK_FILES[name]} is not shipped (its problem texts have no open "
                         f"license); put it in a directory and set RLVR_EVAL_DIR to that directory")


def load_benchmark(data: str, **options) -> list[Problem]:
    """`data` is a shipped benchmark name, `random_calculation` (options: level, family, split, count, seed) or a
    path to a JSONL file."""
    if data == "random_calculation":
        return random_calculation_problems(**options)
    if data in BENCHMARK_FILES:
        return load_jsonl_benchmark(benchmark_path(data))
    if data.endswith(".jsonl") or Path(data).is_file():
        return load_jsonl_benchmark(data)
    raise BenchmarkError(f"data={data!r}: choose one of {sorted(BENCHMARK_FILES) + ['random_calculation']} "
                         "or give a .jsonl path")


def format_prompt(problem: Problem, template: str, tokenizer=None) -> str:
    """Wrap the question by template name; `chat` uses the tokenizer's own chat template."""
    if template == "chat":
        if tokenizer is None or not getattr(tokenizer, "chat_template", None):
            raise BenchmarkError("template=chat needs a tokenizer with a chat_template; use template=qwen_boxed")
        return tokenizer.apply_chat_template([{"role": "user", "content": problem.question}], tokenize=False,
                                             add_generation_prompt=True)
    if template not in TEMPLATES:
        raise BenchmarkError(f"template={template!r}: choose one of {sorted(TEMPLATES) + ['chat']}")
    return fill_template(TEMPLATES[template], {"question": problem.question}, "an evaluation problem", "template")
