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
import time  # noqa: E402
from contextlib import contextmanager  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import hydra  # noqa: E402
from omegaconf import DictConfig, OmegaConf  # noqa: E402

from rlvr.config import CONF_DIR, register_configs  # noqa: E402

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


_ABSENT = object()


class ResumedConfigWarning(UserWarning):
    """A resumed run differs from its saved config in keys the user gave explicitly."""


def _flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """{dotted.key: leaf}; lists and empty dicts are leaves."""
    if isinstance(node, dict) and node:
        out = {}
        for k, v in node.items():
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: node}


def _set(tree: dict, dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    for p in parents:
        tree = tree.setdefault(p, {})
    tree[leaf] = value


def _delete(tree: dict, dotted: str) -> None:
    *parents, leaf = dotted.split(".")
    for p in parents:
        tree = tree.get(p, {})
    tree.pop(leaf, None)


def _override_keys(overrides: list[str]) -> list[str]:
    """The config paths named on the command line: `trainer.steps=5` -> trainer.steps, `reward=random` -> reward
    (a group: every key under it), `+algorithm.x=1` / `~key` -> algorithm.x / key."""
    return [o.split("=", 1)[0].lstrip("+~") for o in overrides if not o.startswith("hydra.")]


def resume_config(cfg: DictConfig, baseline: DictConfig, saved: DictConfig,
                  overrides: list[str] = ()) -> tuple[DictConfig, list[str]]:
    """The config of a resumed run: the saved one, with only the keys the command line set explicitly taken from
    `cfg`. A key is explicit when `overrides` names it or a group above it, or when `cfg` differs there from
    `baseline` (the config composed without overrides: how an `experiment=` preset's keys are found).

    Why: composing afresh would silently swap the saved experiment for today's defaults (a `reward=random` sweep
    cell resumed as `reward: verified`). Returns (config, one line per changed key).
    """
    now = _flatten(OmegaConf.to_container(cfg, resolve=True))
    base = _flatten(OmegaConf.to_container(baseline, resolve=True))
    merged = OmegaConf.to_container(saved, resolve=True)
    old = _flatten(merged)
    named = _override_keys(list(overrides))
    every = now.keys() | base.keys() | old.keys()
    explicit = sorted({k for k in now.keys() | base.keys() if now.get(k, _ABSENT) != base.get(k, _ABSENT)}
                      | {k for k in every for n in named if k == n or k.startswith(n + ".")})
    changes = []
    for key in explicit:
        if key in now:
            _set(merged, key, now[key])
        else:
            _delete(merged, key)
        if old.get(key, _ABSENT) != now.get(key, _ABSENT):
            changes.append(f"{key}: {old.get(key, '<absent>')!r} -> {now.get(key, '<absent>')!r}")
    # The schema fills keys the saved config predates and keeps types; `algorithm` stays as saved (untyped).
    structured = OmegaConf.merge(OmegaConf.structured(_schema()), merged)
    return structured, changes


def _schema():
    from rlvr.config import RLVRConfig

    return RLVRConfig


def config_for_run_dir(cfg: DictConfig, run_dir: str | Path, baseline_fn, overrides: list[str] = ()) -> DictConfig:
    """`cfg`, unless run_dir holds a run being resumed: then its saved config with the explicit overrides."""
    saved_path = Path(run_dir) / "config.yaml"
    if cfg.trainer.resume == "never" or not saved_path.is_file():
        return cfg
    try:
        resumed, changes = resume_config(cfg, baseline_fn(), OmegaConf.load(saved_path), overrides)
    except Exception as e:  # omegaconf's ConfigKeyError / ValidationError name the key
        from rlvr.config_checks import ConfigError

        raise ConfigError(f"cannot resume with {saved_path}: {e}. It was written by another version or edited by "
                         f"hand: fix or delete that key there, or start afresh with trainer.resume=never") from None
    if changes:
        backup = saved_path.with_name(f"config.before-resume-{time.strftime('%Y%m%d-%H%M%S')}.yaml")
        backup.write_text(saved_path.read_text())
        warnings.warn(f"resuming {run_dir} with its saved config.yaml, except for the keys given on the command "
                      f"line:\n  " + "\n  ".join(changes) + f"\n(previous config kept as {backup.name})",
                      ResumedConfigWarning, stacklevel=2)
    return resumed


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
