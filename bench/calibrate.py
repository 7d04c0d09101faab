"""`python -m bench calibrate`: where a study's warm start sits before RL, at the NSR paper's pass@k protocol.

For each seed, builds (or loads from the cache) the warm start that `python -m rlvr.train experiment=EXP
trainer.seed=S trainer.seed_scope=run` would start from, then samples it N times (default 256) at temperature 0.6,
top-p 0.95 on that run's own held-out problems (the same data keys, seed and count the run evaluates) and prints
pass@1 ... pass@N per seed. The samples and summary of each seed go to OUT/seed<S>/ (rerunning resumes), and every
seed's row to OUT/calibration.json. A task is in range for the NSR study when pass@1 is ~10-25% and pass@N 60-90%:
low enough that RL can move pass@1, and far enough from 100% that pass@N can rise or fall.

    python -m bench calibrate                                  # experiment=harder_miniature, seeds 0 1 2
    python -m bench calibrate --seeds 0 data.levels=[3] model.warm_start.target_accuracy=0.1
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

KS = [1, 2, 4, 8, 16, 32, 64, 128, 256]


def _args(argv: list[str]):
    p = argparse.ArgumentParser(prog="python -m bench calibrate", description=__doc__.splitlines()[0])
    p.add_argument("--experiment", default="harder_miniature", help="conf/experiment/NAME.yaml the runs use")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--n", type=int, default=256, help="samples per held-out problem")
    p.add_argument("--temperature", type=float, default=0.6)
    p.add_argument("--top-p", type=float, default=0.95)
    p.add_argument("--out", default=None, help="default: runs/calibrate/<time>")
    p.add_argument("overrides", nargs="*", help="extra Hydra overrides, as for the training runs")
    return p.parse_args(argv)


def run_config(experiment: str, seed: int, overrides: list[str]):
    """The training config of `python -m rlvr.train experiment=EXP trainer.seed=S trainer.seed_scope=run ...`, with
    the seed applied to model init, warm start and data as the loop applies it."""
    from rlvr.config import apply_seed_scope, compose

    cfg = compose([f"experiment={experiment}", f"trainer.seed={seed}", "trainer.seed_scope=run", *overrides])
    apply_seed_scope(cfg)
    return cfg


def warm_start_dir(cfg) -> tuple[Path, dict]:
    """The run's starting model: the embedded tiny model, warm-started (trained and cached when missing)."""
    from rlvr.models.tiny import default_cache_dir, ensure_tiny_model
    from rlvr.models.warm_start import ensure_warm_start

    cache = Path(cfg.model.cache_dir) if cfg.model.cache_dir else default_cache_dir()
    base = ensure_tiny_model(cfg.model.preset, cfg.model.seed, cache)
    if not cfg.model.warm_start.enabled:
        return base, {}
    return ensure_warm_start(base, cfg.model.warm_start, cfg.data, cache, device="cpu")


def heldout_problems(cfg, model_dir: Path):
    """The held-out problems the run's loop evaluates (rlvr.loop builds them the same way)."""
    from rlvr.data.eval_sets import Problem
    from rlvr.data.prompts import build_prompt_source

    source = build_prompt_source(cfg.data, heldout_size=cfg.trainer.eval_size, model_path=str(model_dir))
    return [Problem(id=it.id, question=it.prompt, answer=it.gold) for it in source.heldout]


def calibrate_seed(cfg, n: int, temperature: float, top_p: float, out: Path) -> dict:
    from rlvr.tools.evaluate import (EvalSettings, build_eval_engine, compose_evaluate, default_verifier,
                                     run_evaluation)

    model_dir, warm = warm_start_dir(cfg)
    problems = heldout_problems(cfg, model_dir)
    max_tokens = int(cfg.rollout.max_tokens)
    engine = build_eval_engine(compose_evaluate([f"model={model_dir}", "engine=hf", "device=cpu"]))
    settings = EvalSettings(n=n, ks=[k for k in KS if k <= n], temperature=temperature, top_p=top_p,
                            max_tokens=max_tokens, seed=0, batch=32)
    start = time.monotonic()
    summary = run_evaluation(engine, problems, settings, default_verifier(), "plain", out,
                             {"model": str(model_dir), "engine": "hf", "template": "plain"})
    overall = summary["overall"]
    return {"seed": int(cfg.trainer.seed), "warm_start": str(model_dir), "warm_steps": warm.get("steps"),
            "warm_greedy_accuracy": warm.get("accuracy"), "problems": len(problems), "n": n,
            "temperature": temperature, "top_p": top_p, "max_tokens": max_tokens,
            "pass_at": {k: overall[f"pass@{k}"] for k in settings.ks if f"pass@{k}" in overall},
            "truncated_fraction": summary.get("truncated_fraction"), "eval_s": round(time.monotonic() - start, 1)}


def format_rows(rows: list[dict]) -> str:
    ks = sorted({int(k) for r in rows for k in r["pass_at"]})
    head = f"{'seed':>4} {'warm steps':>10} {'greedy':>7} " + " ".join(f"{'p@' + str(k):>6}" for k in ks)
    lines = [head]
    for r in rows:
        cells = " ".join(f"{r['pass_at'].get(k, r['pass_at'].get(str(k), float('nan'))):>6.1%}" for k in ks)
        greedy = "-" if r["warm_greedy_accuracy"] is None else f"{r['warm_greedy_accuracy']:.1%}"
        lines.append(f"{r['seed']:>4} {r['warm_steps']!s:>10} {greedy:>7} {cells}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    a = _args(argv)
    out = Path(a.out or f"runs/calibrate/{time.strftime('%Y-%m-%d_%H-%M-%S')}")
    rows = []
    for seed in a.seeds:
        cfg = run_config(a.experiment, seed, list(a.overrides))
        rows.append(calibrate_seed(cfg, a.n, a.temperature, a.top_p, out / f"seed{seed}"))
        print(format_rows(rows[-1:]), flush=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / "calibration.json").write_text(json.dumps({"experiment": a.experiment, "overrides": list(a.overrides),
                                                      "rows": rows}, indent=1))
    print(f"\nexperiment={a.experiment} {' '.join(a.overrides)}: warm start at T={a.temperature}, top-p {a.top_p}, "
          f"n={a.n}\n{format_rows(rows)}\nwrote {out / 'calibration.json'}")
    return 0
