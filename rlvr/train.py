"""`python -m rlvr.train [overrides]`: the Hydra entry point. Builds the Ray actors from config and runs the loop.

Examples:
    python -m rlvr.train                                   # experiment=debug_cpu: tiny model, GRPO, vLLM on CPU
    python -m rlvr.train algorithm=dr_grpo reward=random   # an ablation
    python -m rlvr.train hydra.run.dir=runs/debug_cpu/X    # resume that run (trainer.resume=auto)

Resuming a run directory reuses the experiment saved in its config.yaml: only the keys given explicitly on the command
line change, each named in a warning (and the previous config is kept as config.before-resume-<time>.yaml).
"""
from __future__ import annotations

from rlvr.infra.env import apply_engine_env

apply_engine_env()

import os  # noqa: E402
import sys  # noqa: E402
from contextlib import contextmanager  # noqa: E402

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from rlvr.config import CONF_DIR, register_configs  # noqa: E402
from rlvr.infra.resume import config_for_run_dir  # noqa: E402

register_configs()


def run(cfg: DictConfig, run_dir: str) -> dict:
    from rlvr.loop import train
    from rlvr.run import Run

    summary = train(Run(cfg, run_dir))
    print_summary(summary)
    return summary


def print_summary(summary: dict) -> None:
    before, after = summary["initial_heldout_accuracy"], summary["final_heldout_accuracy"]
    print("\n== rlvr run summary ==")
    if summary.get("warm_start"):
        print(f"warm start held-out accuracy:  {summary['warm_start']['accuracy']:.1%}")
    print(f"held-out accuracy before RL:   {before:.1%}")
    print(f"held-out accuracy after {summary['steps']} steps: {after:.1%}  ({after - before:+.1%})")
    print(f"run directory:                 {summary['run_dir']}  (metrics.jsonl, curves.png, checkpoints/)")


def _baseline_config() -> DictConfig:
    """The config this app composes with no command-line override (inside @hydra.main, Hydra is initialized)."""
    from hydra import compose
    from hydra.core.hydra_config import HydraConfig

    return compose(config_name=HydraConfig.get().job.config_name, overrides=[])


@hydra.main(config_path=str(CONF_DIR), config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig

    run_dir = cfg.trainer.run_dir or HydraConfig.get().runtime.output_dir
    overrides = list(HydraConfig.get().overrides.task)
    with one_line_errors():
        run(config_for_run_dir(cfg, run_dir, _baseline_config, overrides), run_dir)


@contextmanager
def one_line_errors():
    """Errors in what the user gave (config values, data files, model and run directories, checkpoints) end the run
    with one line on stderr and exit status 2, not a traceback; RLVR_DEBUG=1 shows the traceback too."""
    from data_gen.io import RecordError
    from rlvr.config_checks import ConfigError
    from rlvr.data.prompts import DataError
    from rlvr.infra.hf_weights import CheckpointError

    try:
        yield
    except (ConfigError, DataError, RecordError, CheckpointError) as e:
        if os.environ.get("RLVR_DEBUG"):
            raise
        print(f"rlvr.train: error: {e}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
