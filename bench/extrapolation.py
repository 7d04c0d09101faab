"""`python -m bench extrapolation SWEEP_DIR`: does weight extrapolation reach a later checkpoint?

"Not All Steps are Informative" (docs/ALGORITHMS.md section 9) finds RLVR moves most weights nearly linearly in the
step count, so W(t+2d) ~ W(t+d) + (W(t+d) - W(t)). For every run of the sweep that trained without RL-Extra
(trainer.extrapolate_every=0) and kept its checkpoints (trainer.keep_checkpoints=0), this takes each pair of
checkpoints t, t+d (t = 0 is the run's warm start), extrapolates to t+2d (rlvr.tools.extrapolate, norms from the
later point as the paper does) and scores the extrapolated model, the real checkpoint at t+2d and the one at t+d
by greedy accuracy on the run's own held-out problems, all three with the same HF engine. Writes extrapolation.json
(one row per run, t and d, with the per-problem 0/1 strings) and prints the table per d.

    python -m bench extrapolation multirun/study_extrapolation/<time> [--deltas 10 20] [--out DIR]
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path


def _args(argv: list[str]):
    p = argparse.ArgumentParser(prog="python -m bench extrapolation", description=__doc__.splitlines()[0])
    p.add_argument("paths", nargs="+", help="sweep dirs or run dirs")
    p.add_argument("--deltas", type=int, nargs="+", default=[10, 20], help="steps between the two points")
    p.add_argument("--out", default=None, help="default: the first path")
    p.add_argument("--logits", action="store_true", help="also decode from the extrapolated logits, z_A + 2 (z_B - z_A)")
    return p.parse_args(argv)


def run_checkpoints(run_dir: Path, cfg) -> dict[int, Path]:
    """step -> model dir: every complete checkpoint of the run, and step 0 = the model the run started from."""
    from bench.calibrate import warm_start_dir
    from rlvr.infra.checkpoint import complete_checkpoints

    out = {int(d.name.split("_")[1]): d for d in complete_checkpoints(run_dir)}
    out[0] = Path(cfg.model.path) if cfg.model.path else warm_start_dir(cfg)[0]
    return out


def greedy_scores(model_dir: Path, items, max_tokens: int) -> str:
    """'0'/'1' per held-out problem: greedy decoding with the HF engine, verified against the gold."""
    from rlvr.heldout import score_heldout
    from rlvr.rollout.hf_engine import HFEngine
    from rlvr_verify import verify_batch

    engine = HFEngine(str(model_dir), device="cpu")
    generate = lambda prompts, n, temperature, seed: engine.generate(prompts, n=1, temperature=0.0,  # noqa: E731
                                                                     max_tokens=max_tokens)
    return "".join(str(c) for c in score_heldout(generate, verify_batch, items))


def logits_scores(model_a: Path, model_b: Path, alpha: float, items, max_tokens: int) -> str:
    """The same greedy scoring, decoding from z_A + alpha (z_B - z_A) (logits extrapolation, no new weights)."""
    from rlvr.heldout import score_heldout
    from rlvr.rollout.logits_engine import LogitsExtrapolationEngine
    from rlvr_verify import verify_batch

    engine = LogitsExtrapolationEngine.from_paths(str(model_a), str(model_b), alpha, device="cpu")
    generate = lambda prompts, n, temperature, seed: engine.generate(prompts, n=1, temperature=0.0,  # noqa: E731
                                                                     top_p=1.0, max_tokens=max_tokens, seed=0)
    return "".join(str(c) for c in score_heldout(generate, verify_batch, items))


def analyse_run(run_dir: Path, deltas: list[int], log=print, logits: bool = False) -> list[dict]:
    from omegaconf import OmegaConf

    from rlvr.config import apply_seed_scope
    from rlvr.data.prompts import build_prompt_source
    from rlvr.tools.extrapolate import extrapolate_checkpoints

    cfg = OmegaConf.load(run_dir / "config.yaml")
    apply_seed_scope(cfg)
    ckpts = run_checkpoints(run_dir, cfg)
    items = build_prompt_source(cfg.data, heldout_size=int(cfg.trainer.eval_size),
                                model_path=str(ckpts[0])).heldout
    max_tokens = int(cfg.rollout.max_tokens)
    real: dict[int, str] = {}

    def score_real(step: int) -> str:
        if step not in real:
            real[step] = greedy_scores(ckpts[step], items, max_tokens)
        return real[step]

    rows = []
    for d in deltas:
        for t in sorted(ckpts):
            if t + d not in ckpts or t + 2 * d not in ckpts:
                continue
            with tempfile.TemporaryDirectory() as tmp:
                model = extrapolate_checkpoints(ckpts[t], ckpts[t + d], t + 2 * d, Path(tmp) / "model", step_a=t,
                                                step_b=t + d)
                extrapolated = greedy_scores(model, items, max_tokens)
            row = {"run": str(run_dir), "seed": int(cfg.trainer.seed), "t": t, "delta": d, "target": t + 2 * d,
                   "base": score_real(t + d), "real": score_real(t + 2 * d), "extrapolated": extrapolated}
            if logits:
                row["logits"] = logits_scores(ckpts[t], ckpts[t + d], 2.0, items, max_tokens)
            rows.append(row)
            log(f"{run_dir.name} seed {row['seed']}: {t} -> {t + d} -> {t + 2 * d}: "
                f"base {_acc(row['base']):.1%}, real {_acc(row['real']):.1%}, extrapolated {_acc(extrapolated):.1%}")
    return rows


def _acc(scores: str) -> float:
    return scores.count("1") / max(1, len(scores))


def _interval(values: list[float]) -> tuple[float, float]:
    """95% bootstrap interval of the mean of paired differences (the report's resampling, against a constant 0)."""
    from rlvr.tools.report import bootstrap_difference

    return bootstrap_difference([0.0], values)[1:]


def summary_table(rows: list[dict]) -> str:
    """Per d: mean accuracy of the point reached from (base), the extrapolation and the real later checkpoint, and
    the differences with a 95% bootstrap interval over the (run, t) pairs."""
    lines = ["| d | pairs | at t+d | extrapolated to t+2d | real t+2d | extrapolated - real [95%] | "
             "extrapolated - at t+d [95%] |", "|---|---:|---:|---:|---:|---|---|"]
    for d in sorted({r["delta"] for r in rows}):
        rs = [r for r in rows if r["delta"] == d]
        base, ext, real = ([_acc(r[k]) * 100 for r in rs] for k in ("base", "extrapolated", "real"))
        vs_real = [e - r for e, r in zip(ext, real)]
        vs_base = [e - b for e, b in zip(ext, base)]
        mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
        (lr, hr), (lb, hb) = _interval(vs_real), _interval(vs_base)
        lines.append(f"| {d} | {len(rs)} | {mean(base):.1f}% | {mean(ext):.1f}% | {mean(real):.1f}% | "
                     f"{mean(vs_real):+.1f} [{lr:+.1f}, {hr:+.1f}] | {mean(vs_base):+.1f} [{lb:+.1f}, {hb:+.1f}] |")
    if any("logits" in r for r in rows):
        lines += ["", "Logits extrapolation (decoding from z_(t+d) + (z_(t+d) - z_t), no new weights):", "",
                  "| d | pairs | logits-extrapolated | - real t+2d [95%] | - at t+d [95%] |", "|---|---:|---:|---|---|"]
        for d in sorted({r["delta"] for r in rows if "logits" in r}):
            rs = [r for r in rows if r["delta"] == d and "logits" in r]
            lg = [_acc(r["logits"]) * 100 for r in rs]
            vs_real = [x - _acc(r["real"]) * 100 for x, r in zip(lg, rs)]
            vs_base = [x - _acc(r["base"]) * 100 for x, r in zip(lg, rs)]
            (lr, hr), (lb, hb) = _interval(vs_real), _interval(vs_base)
            lines.append(f"| {d} | {len(rs)} | {sum(lg) / len(lg):.1f}% | {sum(vs_real) / len(rs):+.1f} [{lr:+.1f}, "
                         f"{hr:+.1f}] | {sum(vs_base) / len(rs):+.1f} [{lb:+.1f}, {hb:+.1f}] |")
    return "\n".join(lines)


def plot(rows: list[dict], out_png: Path) -> Path:
    """One panel per seed: the real checkpoints' accuracy by step, and each extrapolation as an arrow from t+d."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seeds = sorted({r["seed"] for r in rows})
    fig, axes = plt.subplots(1, len(seeds), figsize=(4.2 * len(seeds), 3.4), squeeze=False, sharey=True)
    colors = {d: c for d, c in zip(sorted({r["delta"] for r in rows}), ("tab:orange", "tab:green", "tab:red"))}
    for ax, seed in zip(axes[0], seeds):
        rs = [r for r in rows if r["seed"] == seed]
        points = {}
        for r in rs:
            points[r["target"]] = _acc(r["real"]) * 100
            points[r["target"] - r["delta"]] = _acc(r["base"]) * 100
        steps = sorted(points)
        ax.plot(steps, [points[s] for s in steps], "o-", color="tab:blue", label="real checkpoints")
        for r in rs:
            start = r["target"] - r["delta"]
            ax.annotate("", xy=(r["target"], _acc(r["extrapolated"]) * 100), xytext=(start, _acc(r["base"]) * 100),
                        arrowprops={"arrowstyle": "->", "color": colors[r["delta"]], "alpha": 0.8})
            ax.plot([r["target"]], [_acc(r["extrapolated"]) * 100], "x", color=colors[r["delta"]])
        ax.set_title(f"seed {seed}")
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("held-out greedy accuracy (%)")
    for d, c in colors.items():
        axes[0][0].plot([], [], "x-", color=c, label=f"extrapolated, d = {d}")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out_png, dpi=90)
    plt.close(fig)
    return out_png


def main(argv: list[str]) -> int:
    from omegaconf import OmegaConf

    from rlvr.tools.report import find_run_dirs

    a = _args(argv)
    runs = [r for r in find_run_dirs([Path(p) for p in a.paths])
            if not OmegaConf.load(r / "config.yaml").trainer.get("extrapolate_every")]
    if not runs:
        print("no run without RL-Extra (trainer.extrapolate_every=0) under", a.paths)
        return 2
    rows = [row for run in runs for row in analyse_run(run, a.deltas, logits=a.logits)]
    out = Path(a.out or a.paths[0])
    out.mkdir(parents=True, exist_ok=True)
    (out / "extrapolation.json").write_text(json.dumps({"deltas": a.deltas, "rows": rows}, indent=1))
    table = summary_table(rows)
    (out / "extrapolation.md").write_text(table + "\n")
    plot(rows, out / "extrapolation.png")
    print(table)
    print(f"wrote {out / 'extrapolation.json'}, extrapolation.md, extrapolation.png")
    return 0
