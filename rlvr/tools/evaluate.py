"""Evaluate a model on a benchmark: unbiased pass@k, maj@k, avg@k, with per-subject/level breakdowns.

    python -m rlvr.evaluate model=PATH data=math500 n=16 k=[1,8,16] [engine=hf|vllm|logits] [temperature=0.6]
        [top_p=0.95] [max_tokens=1024] [greedy=true] [limit=N] [out=DIR] [template=qwen_boxed|plain|...|chat]
        [seed=0] [device=auto] [batch=32]
    python -m rlvr.evaluate model_a=A model=B alpha=1.5 engine=logits data=aime24 ...
    python -m rlvr.evaluate data=random_calculation level=1 family=easy split=test count=200 template=equals ...
    python -m rlvr.evaluate plot --runs DIR1 DIR2 --out fig.png

A Hydra app (conf/evaluate/evaluate.yaml, typed by rlvr.config.EvaluateConfig): `--help`, `--cfg job` and
`--multirun` work as for training. samples.jsonl is appended batch by batch into out= (default evals/<time>);
rerunning with the same out= and settings resumes after the last finished problem instead of starting over.
"""
from __future__ import annotations

import json
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from data_gen.io import RecordError, iter_records
from rlvr.data.eval_sets import Problem, format_prompt, load_benchmark
from rlvr.tools.passk import aggregate, maj_at_k

class EvalError(ValueError):
    pass


@dataclass
class EvalSettings:
    n: int
    ks: list[int]
    temperature: float
    top_p: float
    max_tokens: int
    seed: int
    batch: int


def compose_evaluate(overrides: Sequence[str]):
    """The evaluator's config from KEY=VALUE overrides (the in-process twin of the Hydra command line)."""
    from rlvr.config import EVAL_CONF_DIR, compose

    try:
        return compose(list_friendly(overrides), config_name="evaluate", config_dir=EVAL_CONF_DIR)
    except Exception as e:  # hydra's ConfigCompositionException / OverrideParseException name the key
        raise EvalError(f"{e}. Keys: python -m rlvr.evaluate --help") from None


def list_friendly(argv: Sequence[str]) -> list[str]:
    """`k=1,8,16` (the documented form before Hydra) and `k=4` mean the list k=[1,8,16] / k=[4]; Hydra would read
    the first as a sweep and refuse the second for a list field."""
    out = []
    for arg in argv:
        key, sep, value = arg.partition("=")
        if sep and key == "k" and value and not value.startswith("["):
            arg = f"k=[{value}]"
        out.append(arg)
    return out


def settings_from(cfg) -> EvalSettings:
    greedy = bool(cfg.greedy)
    n = 1 if greedy else int(cfg.n)
    ks = sorted({int(k) for k in cfg.k})
    ks = [k for k in ks if k <= n] or [1]
    return EvalSettings(n=n, ks=ks, temperature=0.0 if greedy else float(cfg.temperature),
                        top_p=1.0 if greedy else float(cfg.top_p), max_tokens=int(cfg.max_tokens),
                        seed=int(cfg.seed), batch=max(1, int(cfg.batch)))


def default_verifier() -> Callable:
    try:
        from rlvr_verify import verify
    except ImportError as e:
        raise EvalError(f"the verifier package is not importable ({e}); it provides verify(response, gold)") from None
    return verify


def normalize_answer(extracted: str | None) -> str | None:
    """Key for maj@k: the verifier's extracted answer with whitespace removed (None when nothing was extracted)."""
    if extracted is None:
        return None
    key = "".join(str(extracted).split())
    return key or None


def run_evaluation(engine, problems: Sequence[Problem], settings: EvalSettings, verify: Callable,
                   template: str = "qwen_boxed", out_dir: str | Path | None = None,
                   run_info: dict | None = None) -> dict:
    """Generate n samples per problem, verify them, write samples.jsonl (incrementally) and summary.json."""
    out = Path(out_dir) if out_dir else None
    records: dict[str, list[dict]] = {}
    if out:
        out.mkdir(parents=True, exist_ok=True)
        _check_resume(out, settings, run_info or {})
        _keep_complete_records(out / "samples.jsonl", records, settings.n)
    todo = [p for p in problems if p.id not in records]
    bar = _progress(len(problems), len(problems) - len(todo))
    for start in range(0, len(todo), settings.batch):
        chunk = todo[start:start + settings.batch]
        prompts = [format_prompt(p, template, getattr(engine, "tokenizer", None)) for p in chunk]
        results = engine.generate(prompts, n=settings.n, temperature=settings.temperature, top_p=settings.top_p,
                                  max_tokens=settings.max_tokens, seed=settings.seed + start)
        lines = []
        for problem, samples in zip(chunk, results):
            rows = []
            for i, s in enumerate(samples):
                v = verify(s.text, problem.answer)
                rows.append({"problem_id": problem.id, "sample": i, "response": s.text, "extracted": v.extracted,
                             "correct": bool(v.correct), "score": float(v.score), "reason": v.reason,
                             "finish_reason": s.finish_reason, "num_tokens": len(s.token_ids), "gold": problem.answer})
            records[problem.id] = rows
            lines += [json.dumps(r, ensure_ascii=False) for r in rows]
        if out:
            with (out / "samples.jsonl").open("a", encoding="utf-8") as f:
                f.write("".join(line + "\n" for line in lines))
        bar.update(len(chunk))
    bar.close()
    summary = summarize(problems, records, settings)
    summary["run"] = run_info or {}
    if out:
        (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def _progress(total: int, done: int):
    """A progress bar over problems on stderr (a generation of 500 problems x 16 samples takes a while)."""
    from tqdm import tqdm

    return tqdm(total=total, initial=done, desc="evaluate", unit="problem", dynamic_ncols=True,
                mininterval=0.5 if sys.stderr.isatty() else 15)


def _check_resume(out: Path, settings: EvalSettings, run_info: dict) -> None:
    meta = {"settings": settings.__dict__, "run": run_info}
    path = out / "run.json"
    if path.is_file() and (out / "samples.jsonl").is_file():
        old = json.loads(path.read_text())
        if old != json.loads(json.dumps(meta)):
            raise EvalError(f"{out} holds samples from different settings ({path}); use another out= or delete it")
    path.write_text(json.dumps(meta, indent=2))


def _keep_complete_records(samples_path: Path, records: dict, n: int) -> None:
    """Reload the problems an earlier run finished (all n samples); a half-written last line from an interrupted run,
    anything after it and a problem it left short are dropped, so the file stays valid JSONL and those are redone."""
    if not samples_path.is_file():
        return
    rows: dict[str, list[dict]] = {}
    for _, row in iter_records(samples_path):
        if isinstance(row, RecordError) or "problem_id" not in row:
            break
        rows.setdefault(row["problem_id"], []).append(row)
    records.update({pid: r for pid, r in rows.items() if len(r) >= n})
    samples_path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for rs in records.values() for r in rs))


def summarize(problems: Sequence[Problem], records: dict[str, list[dict]], settings: EvalSettings) -> dict:
    def metrics(subset: Sequence[Problem]) -> dict:
        correct = [[r["correct"] for r in records[p.id]] for p in subset]
        m = aggregate(correct, settings.ks)
        for k in settings.ks:
            m[f"maj@{k}"] = sum(maj_at_k([normalize_answer(r["extracted"]) for r in records[p.id]],
                                         [r["correct"] for r in records[p.id]], k) for p in subset) / len(subset)
        m["num_problems"] = len(subset)
        return m

    rows = [r for p in problems for r in records[p.id]]
    summary = {"n": settings.n, "ks": settings.ks, "temperature": settings.temperature, "top_p": settings.top_p,
               "max_tokens": settings.max_tokens, "overall": metrics(problems),
               "truncated_fraction": sum(r["finish_reason"] == "length" for r in rows) / max(1, len(rows)),
               "mean_response_tokens": sum(r["num_tokens"] for r in rows) / max(1, len(rows))}
    for field in ("subject", "level"):
        groups = defaultdict(list)
        for p in problems:
            if field in p.meta:
                groups[str(p.meta[field])].append(p)
        if groups:
            summary[f"by_{field}"] = {g: metrics(ps) for g, ps in sorted(groups.items())}
    return summary


def resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def model_context(model_dir: str, wanted: int) -> int:
    """max_model_len= capped at the model's own context (config.json max_position_embeddings): vLLM refuses a
    longer one, and the embedded tiny model has 512 positions."""
    path = Path(model_dir) / "config.json"
    if not path.is_file():
        return wanted
    limit = json.loads(path.read_text()).get("max_position_embeddings")
    return min(wanted, int(limit)) if limit else wanted


def build_eval_engine(cfg):
    if not cfg.model:
        raise EvalError("model=PATH is required (an HF model directory)")
    device = resolve_device(cfg.device)
    if cfg.engine == "logits":
        from rlvr.rollout.logits_engine import LogitsExtrapolationEngine

        if not cfg.model_a:
            raise EvalError("engine=logits needs model_a=PATH (the earlier checkpoint) and alpha=; model= is B")
        return LogitsExtrapolationEngine.from_paths(cfg.model_a, cfg.model, float(cfg.alpha), device=device)
    from rlvr.rollout import build_engine

    options = {"device": device, "dtype": cfg.dtype}
    if cfg.engine == "vllm":
        options.update(seed=int(cfg.seed), max_model_len=model_context(cfg.model, int(cfg.max_model_len)),
                       gpu_memory_utilization=float(cfg.gpu_memory_utilization))
    return build_engine(cfg.engine, cfg.model, **options)


def plot_runs(run_dirs: Sequence[str | Path], out_png: str | Path) -> Path:
    """pass@k vs k (log-x) for several evaluation dirs, the figure of the NSR paper."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4))
    for d in run_dirs:
        path = Path(d) / "summary.json"
        if not path.is_file():
            raise EvalError(f"{path} does not exist; run python -m rlvr.evaluate ... out={d} first")
        summary = json.loads(path.read_text())
        if "ks" not in summary:
            raise EvalError(f"{d} is not an evaluation directory (its summary.json has no pass@k): for training "
                            f"runs use python -m rlvr.report {d} ... (curves, tables, --passk N)")
        ks = [k for k in summary["ks"] if f"pass@{k}" in summary["overall"]]
        ax.plot(ks, [100 * summary["overall"][f"pass@{k}"] for k in ks], marker="o", label=Path(d).name)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("k")
    ax.set_ylabel("pass@k (%)")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out_png, dpi=120)
    plt.close(fig)
    return Path(out_png)


def run_heldout_problems(run_dir: str | Path, model_path: str | None = None) -> list[Problem]:
    """A training run's held-out problems as its loop evaluated them: built from the run's saved data node (levels,
    operands, operators, files, template, chat template) with trainer.eval_size, each prompt already formatted (so
    evaluate them with template=plain)."""
    from omegaconf import OmegaConf

    from rlvr.data.prompts import build_prompt_source

    path = Path(run_dir) / "config.yaml"
    if not path.is_file():
        raise EvalError(f"run={run_dir}: no config.yaml there (a training run directory has one)")
    saved = OmegaConf.load(path)
    source = build_prompt_source(saved.data, heldout_size=int(saved.trainer.eval_size), model_path=model_path)
    return [Problem(id=it.id, question=it.prompt, answer=it.gold) for it in source.heldout]


def training_data_node(name: str, keys: dict | None = None):
    """The `data` node that `python -m rlvr.train data=NAME data.KEY=VALUE ...` composes: conf/data/NAME.yaml over
    the groups its defaults list names, typed by rlvr.config.DataConfig, then the keys."""
    from omegaconf import OmegaConf

    from rlvr.config import CONF_DIR, DataConfig

    def layers(group: str) -> list:
        path = CONF_DIR / "data" / f"{group}.yaml"
        if not path.is_file():
            known = sorted(p.stem for p in (CONF_DIR / "data").glob("*.yaml"))
            raise EvalError(f"train_data={group}: no conf/data/{group}.yaml; choose one of {known}")
        node = OmegaConf.load(path)
        parents = [d for d in node.pop("defaults", []) if isinstance(d, str) and d not in ("data_schema", "_self_")]
        return [layer for parent in parents for layer in layers(parent)] + [node]

    data = OmegaConf.merge(OmegaConf.structured(DataConfig), *layers(name))
    for key, value in (keys or {}).items():
        try:
            OmegaConf.update(data, key, value, merge=False)
        except Exception as e:  # omegaconf names the key
            raise EvalError(f"train_data_keys.{key}: {e}") from None
    return data


def _with_run_defaults(cfg):
    """run=DIR: model= defaults to the run's newest complete checkpoint; the prompts are the run's own."""
    if not cfg.run:
        return cfg
    if not cfg.model:
        from rlvr.infra.checkpoint import latest_checkpoint

        ckpt = latest_checkpoint(cfg.run)
        if ckpt is None:
            raise EvalError(f"run={cfg.run} has no complete checkpoint; give model=PATH")
        cfg.model = str(ckpt)
    cfg.template = "plain"
    return cfg


def evaluate(cfg) -> dict:
    """One evaluation from a composed config; prints the overall metrics and where the files are."""
    cfg = _with_run_defaults(cfg)
    settings = settings_from(cfg)
    if cfg.run:
        problems = run_heldout_problems(cfg.run, cfg.model)
    elif cfg.train_data:
        from rlvr.data.prompts import build_prompt_source

        cfg.template = "plain"  # the prompts below are formatted already, as training formats them
        source = build_prompt_source(training_data_node(cfg.train_data, cfg.train_data_keys),
                                     heldout_size=int(cfg.count), model_path=cfg.model)
        problems = [Problem(id=it.id, question=it.prompt, answer=it.gold) for it in source.heldout]
    else:
        options = ({"level": int(cfg.level), "family": cfg.family, "split": cfg.split, "count": int(cfg.count),
                    "seed": int(cfg.seed)} if cfg.data == "random_calculation" else {})
        problems = load_benchmark(cfg.data, **options)
    if int(cfg.limit) > 0:
        problems = problems[:int(cfg.limit)]
    verify = default_verifier()
    engine = build_eval_engine(cfg)
    # Strings as the key=value parser wrote them before Hydra ("" for unset), so older out= dirs still resume.
    run_info = {k: ("" if cfg[k] is None else str(cfg[k])) for k in ("model", "model_a", "alpha", "engine", "data",
                                                                     "template")}
    if cfg.run:
        run_info["run"] = str(cfg.run)
    if cfg.train_data:
        run_info["train_data"] = f"{cfg.train_data} {dict(cfg.train_data_keys)}"
    out = str(cfg.out)
    summary = run_evaluation(engine, problems, settings, verify, cfg.template, out, run_info)
    print(json.dumps({"overall": summary["overall"], "truncated_fraction": summary["truncated_fraction"]},
                     indent=2))
    print(f"wrote {Path(out) / 'samples.jsonl'} and {Path(out) / 'summary.json'}")
    return summary


def plot_main(argv: Sequence[str]) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m rlvr.evaluate plot",
                                description="pass@k vs k (log-x) for several evaluation directories")
    p.add_argument("--runs", nargs="+", required=True, help="out= directories of earlier evaluations")
    p.add_argument("--out", required=True, help="the PNG to write")
    a = p.parse_args(list(argv))
    try:
        print(f"wrote {plot_runs(a.runs, a.out)}")
    except EvalError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """In-process entry (tests, notebooks): KEY=VALUE overrides, or `plot ...`. The command line goes through
    cli() (Hydra) instead, for --help, --cfg and --multirun."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "plot":
        return plot_main(argv[1:])
    try:
        evaluate(compose_evaluate(argv))
    except ValueError as e:  # EvalError, BenchmarkError
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


def _remove_if_empty(directory: Path) -> None:
    """Hydra creates out= before the evaluation starts; a run that failed at once should not leave it behind."""
    try:
        directory.rmdir()
    except OSError:
        pass


def cli() -> int:
    """`python -m rlvr.evaluate`: Hydra over conf/evaluate/evaluate.yaml; `plot` is a small argparse utility."""
    if len(sys.argv) > 1 and sys.argv[1] == "plot":
        return plot_main(sys.argv[2:])
    import hydra

    from rlvr.config import EVAL_CONF_DIR, register_evaluate_config

    register_evaluate_config()  # only the evaluator's schema: model= and data= are plain keys here
    sys.argv[1:] = list_friendly(sys.argv[1:])
    status = {"rc": 0}

    @hydra.main(config_path=str(EVAL_CONF_DIR), config_name="evaluate", version_base="1.3")
    def app(cfg) -> None:
        try:
            evaluate(cfg)
        except ValueError as e:  # EvalError, BenchmarkError: a message the user can act on, no traceback
            print(f"error: {e}", file=sys.stderr)
            status["rc"] = 2
            _remove_if_empty(Path(str(cfg.out)))

    app()
    return status["rc"]
