"""`python -m bench one-shot SWEEP_DIR`: one-shot RLVR on the problem each run selects (Wang et al.'s pi_1).

The paper trains on the whole set for some epochs, scores each problem by the variance of its training accuracy
across epochs (the historical variance score), and then trains on the top-ranked problem alone. Here each run of
SWEEP_DIR is the selection run: trained on a finite pool (data.train_problems=N, seen many times) with
trainer.log_problems=true. For each run this ranks the pool by the variance of the per-step training accuracy in
its problems.jsonl, writes the ranking to SWEEP_DIR/one_shot/<job>.selection.json, and trains on the top `--problems`
problems (data.train_problem_ids) with the run's own overrides (same experiment and seed: the same warm start and
held-out problems) for `--steps` steps, named `one_shot_selected`. The report goes to SWEEP_DIR/one_shot/report.md.
A job that already finished is skipped, so rerunning resumes.

    python -m rlvr.train -m experiment=study_one_shot data.train_problems=128 trainer.log_problems=true
    python -m bench one-shot multirun/study_one_shot/<time> [--steps 100] [--problems 1] [KEY=VALUE ...]
"""
from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from bench.stages import run_overrides, run_second_stage, train_command


def _args(argv: list[str]):
    p = argparse.ArgumentParser(prog="python -m bench one-shot", description=__doc__.splitlines()[0])
    p.add_argument("sweep", help="the selection runs' sweep dir (multirun/<name>/<time>)")
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--problems", type=int, default=1, help="train on this many top-ranked problems (1: one-shot)")
    p.add_argument("overrides", nargs="*", help="more Hydra overrides for every one-shot run")
    return p.parse_intermixed_args(argv)  # Hydra overrides may come after the options


def per_step_accuracy(problems_jsonl: Path) -> dict[str, list[float]]:
    """Each problem's training accuracy at each step it was drawn (refill rounds of a step pooled), in step order."""
    out: dict[str, list[float]] = {}
    for line in problems_jsonl.read_text().splitlines():
        row = json.loads(line)
        seen: dict[str, list[int]] = {}
        for p in row["problems"]:
            c = seen.setdefault(p["id"], [0, 0])
            c[0], c[1] = c[0] + p["correct"], c[1] + p["samples"]
        for pid, (correct, samples) in seen.items():
            out.setdefault(pid, []).append(correct / samples)
    return out


def rank_by_variance(accuracies: dict[str, list[float]], min_seen: int = 2) -> list[dict]:
    """Problems drawn at least `min_seen` times, by the population variance of their training accuracy, highest
    first (ties: the first-drawn first)."""
    rows = [{"id": pid, "variance": statistics.pvariance(acc), "mean": statistics.fmean(acc), "seen": len(acc),
             "order": i} for i, (pid, acc) in enumerate(accuracies.items()) if len(acc) >= min_seen]
    rows.sort(key=lambda r: (-r["variance"], r["order"]))
    return [{k: v for k, v in r.items() if k != "order"} for r in rows]


def select(run_dir: Path, problems: int) -> list[dict]:
    path = run_dir / "problems.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir}: no problems.jsonl; train the selection runs with "
                                "trainer.log_problems=true and a finite pool (data.train_problems=N)")
    ranking = rank_by_variance(per_step_accuracy(path))
    if len(ranking) < problems:
        raise ValueError(f"{path}: only {len(ranking)} problem(s) drawn twice or more; train longer or on a smaller "
                         "pool (data.train_problems)")
    return ranking


def one_shot_command(run_dir: Path, ids: list[str], steps: int, out_dir: Path, extra: list[str]) -> list[str]:
    kept = run_overrides(run_dir, drop=("data.train_problems=", "data.train_problem_ids=", "trainer.log_problems=",
                                        "name=", "trainer.steps="))
    listed = ",".join(json.dumps(i) for i in ids)
    return train_command([*kept, f"data.train_problem_ids=[{listed}]", f"trainer.steps={steps}",
                          "name=one_shot_selected"], out_dir, extra)


def main(argv: list[str]) -> int:
    a = _args(argv)

    def command(run: Path, out: Path) -> list[str]:
        ranking = select(run, a.problems)
        out.parent.mkdir(parents=True, exist_ok=True)
        (out.parent / f"{run.name}.selection.json").write_text(json.dumps(ranking[:20], indent=1))
        top = ranking[:a.problems]
        print(f"{run}: selected " + ", ".join(f"{r['id']} (variance {r['variance']:.3f}, mean {r['mean']:.2f}, "
                                              f"seen {r['seen']}x)" for r in top), flush=True)
        return one_shot_command(run, [r["id"] for r in top], a.steps, out, list(a.overrides))

    return run_second_stage(Path(a.sweep), "one_shot", command,
                            title=f"one-shot RLVR on the problem each run of {a.sweep} selects")
