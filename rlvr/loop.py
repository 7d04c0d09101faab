"""The cadence around a Run (rlvr.run): resume, the held-out evaluation before RL and every `trainer.eval_every`
steps, checkpoints every `trainer.checkpoint_every`, RL-Extra every `trainer.extrapolate_every`, the metrics log and
the run's summary.json. One step's data path lives in rlvr/step.py.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass

from omegaconf import OmegaConf

from rlvr.run import Run

__all__ = ["HeldoutRecord", "train"]


@dataclass
class HeldoutRecord:
    """The held-out evaluations a run carries through its checkpoints into its summary: accuracy before RL and at
    the last evaluation, which problems were right (greedy, 0/1 per problem), and right samples per problem at the
    start and the end (trainer.eval_samples)."""
    initial_heldout_accuracy: float | None = None
    last_heldout_accuracy: float | None = None
    initial_heldout_correct: str | None = None
    last_heldout_correct: str | None = None
    initial_heldout_sampled: list[int] | None = None

    @classmethod
    def from_checkpoint(cls, state: dict) -> "HeldoutRecord":
        record = cls(**{k: state.get(k) for k in cls.__dataclass_fields__})
        record.last_heldout_accuracy = state.get("last_heldout_accuracy", record.initial_heldout_accuracy)
        record.last_heldout_correct = state.get("last_heldout_correct") or record.initial_heldout_correct
        return record

    def evaluate(self, run: Run, metrics: dict, sampled: int = 0, first: bool = False) -> list[int] | None:
        """Greedy accuracy into `metrics` and this record; with `sampled` = k, also the accuracy of k sampled
        responses per problem, whose right counts per problem come back."""
        started = time.perf_counter()
        acc, correct = run.heldout()
        metrics["heldout_accuracy"] = self.last_heldout_accuracy = acc
        self.last_heldout_correct = correct
        if first:
            self.initial_heldout_accuracy, self.initial_heldout_correct = acc, correct
        else:
            metrics["time/eval_s"] = time.perf_counter() - started
        if not sampled:
            return None
        metrics["heldout_sampled_accuracy"], counts = run.heldout_sampled(sampled)
        if first:
            self.initial_heldout_sampled = counts
        return counts


def train(run: Run, close: bool = True) -> dict:
    """Train `run` (started here, after its resume point is resolved) to trainer.steps; its summary back."""
    from rlvr.infra.checkpoint import resolve_resume
    from rlvr.infra.run_logging import RunLogger, plot_metrics

    cfg, t = run.cfg, run.cfg.trainer
    began = time.monotonic()
    # Before anything starts: a resume path that is missing or damaged is a one-line error, stale temporary
    # checkpoint dirs go, `auto` falls back past damaged checkpoints (saying so).
    checkpoint = resolve_resume(run.run_dir, t.resume, log=run.log)
    (run.run_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    logger = None
    try:
        run.start()
        state = run.restore(checkpoint) if checkpoint is not None else {"step": 0}
        start_step, record = int(state["step"]), HeldoutRecord.from_checkpoint(state)
        run.sync()
        logger = RunLogger(run.run_dir, project=cfg.logger.project, wandb_mode=cfg.logger.wandb_mode,
                           config=OmegaConf.to_container(cfg, resolve=True), total_steps=t.steps,
                           resume_step=start_step, console=cfg.logger.console)
        ready = time.monotonic()  # warm start, Ray, actors and the first sync are behind: training time starts here
        if record.initial_heldout_accuracy is None:
            run.log(f"evaluating: greedy accuracy on {len(run.parts.source.heldout)} held-out problems")
            record.evaluate(run, first := {}, t.eval_samples, first=True)
            logger.log(0, first)
            run.log(f"held-out accuracy before RL: {record.initial_heldout_accuracy:.1%}; training {t.steps} steps")
        anchor = run.weights() if t.extrapolate_every else None  # RL-Extra's window start (not kept on resume)
        final_sampled, step = None, start_step
        try:
            for step in range(start_step, t.steps):
                metrics, done = run.step(step), step + 1
                if t.extrapolate_every and done % t.extrapolate_every == 0:
                    anchor, metrics["rl_extra_applied"] = run.extrapolate_forward(anchor), 1.0
                if done % t.eval_every == 0 or done == t.steps:
                    final_sampled = record.evaluate(run, metrics, t.eval_samples if done == t.steps else 0)
                logger.log(done, metrics)
                if done % t.checkpoint_every == 0 or done == t.steps:
                    run.save(done, asdict(record))
        except KeyboardInterrupt:
            run.log(f"interrupted at step {step}: writing a final checkpoint of the {step} completed steps")
            if step > start_step:
                run.save(step, asdict(record))
            raise
    finally:
        if logger is not None:
            logger.close()
        if close:
            run.close()
    summary = run_summary(run, record, final_sampled, startup_s=ready - began, train_s=time.monotonic() - ready)
    (run.run_dir / "summary.json").write_text(json.dumps(summary, indent=1))
    plot_metrics(run.run_dir / "metrics.jsonl", run.run_dir / "curves.png")
    return summary


def run_summary(run: Run, record: HeldoutRecord, final_sampled: list[int] | None, startup_s: float,
                train_s: float) -> dict:
    """summary.json: held-out accuracy before and after (per problem too), the warm start, the run's counters, and
    the time to start (warm start, Ray, actors, first sync) apart from the time to train."""
    return {"run_dir": str(run.run_dir), "steps": run.cfg.trainer.steps,
            "initial_heldout_accuracy": record.initial_heldout_accuracy,
            "final_heldout_accuracy": record.last_heldout_accuracy, "warm_start": run.warm_report,
            "model_path": run.model_path, **{f"counter/{k}": v for k, v in run.counters.items()},
            "initial_heldout_correct": record.initial_heldout_correct,
            "final_heldout_correct": record.last_heldout_correct,
            "initial_heldout_sampled": record.initial_heldout_sampled, "final_heldout_sampled": final_sampled,
            "startup_s": round(startup_s, 1), "train_s": round(train_s, 1)}
