"""`python -m rlvr.train [overrides]`: the Hydra entry point. Builds the Ray actors from config and runs the loop.

Examples:
    python -m rlvr.train                                   # experiment=debug_cpu: tiny model, GRPO, vLLM on CPU
    python -m rlvr.train algorithm=dr_grpo reward=random   # an ablation
    python -m rlvr.train hydra.run.dir=runs/debug_cpu/X    # resume that run (trainer.resume=auto)
"""
from __future__ import annotations

from rlvr.infra.env import apply_engine_env

apply_engine_env()

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from rlvr.config import register_configs  # noqa: E402

register_configs()


def run(cfg: DictConfig, run_dir: str) -> dict:
    from rlvr.loop import Trainer

    summary = Trainer(cfg, run_dir).run()
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


@hydra.main(config_path="../conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig

    run_dir = cfg.trainer.run_dir or HydraConfig.get().runtime.output_dir
    run(cfg, run_dir)


if __name__ == "__main__":
    main()
