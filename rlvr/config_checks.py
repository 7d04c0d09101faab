"""Checks of a composed run config that Hydra's types cannot express, made before anything expensive starts.

Hydra already rejects a misspelled key or a wrong type. What is left is a value of the right type that cannot work
(`rollout.n=0`, a negative learning rate, a model directory that is not there, an output directory under a file):
each is reported as one ConfigError line naming the key, its value and what to do, before the warm start, Ray or
any engine starts.
"""
from __future__ import annotations

import os
from pathlib import Path

from omegaconf import OmegaConf


class ConfigError(ValueError):
    """A config value that cannot work; str() is one line: `key=value: what is wrong; what to do`."""


# (key, lowest allowed value, what the key means): integers or floats that must not go below the bound.
MINIMUMS = [
    ("rollout.n", 1, "samples per prompt (group-relative objectives need 2 or more)"),
    ("rollout.prompts_per_step", 1, "prompts per step"),
    ("rollout.max_tokens", 1, "tokens per response"),
    ("rollout.num_workers", 1, "rollout workers"),
    ("rollout.temperature", 0.0, "sampling temperature (0 = greedy)"),
    ("rollout.async_steps", 0, "rollout steps that overlap learning"),
    ("trainer.steps", 0, "training steps"),
    ("optim.lr", 0.0, "learning rate (0 keeps the weights: a control run)"),
    ("optim.warmup_steps", 0, "warm-up steps"),
    ("learner.micro_batch_size", 1, "sequences per forward/backward"),
    ("learner.epochs", 1, "passes over each rollout batch"),
    ("trainer.eval_every", 1, "steps between held-out evaluations"),
    ("trainer.sync_check_every", 1, "weight syncs between log-prob checks"),
    ("trainer.eval_size", 1, "held-out problems"),
    ("trainer.checkpoint_every", 1, "steps between checkpoints"),
    ("trainer.keep_checkpoints", 0, "checkpoints kept (0 = all)"),
    ("data.train_problems", 0, "training problems (0 = all)"),
    ("cluster.learner_world_size", 1, "learner ranks"),
]


def check_run_config(cfg) -> None:
    """Raise ConfigError on the first value that cannot work (see the module docstring)."""
    for key, low, meaning in MINIMUMS:
        value = OmegaConf.select(cfg, key)
        if value is not None and value < low:
            raise ConfigError(f"{key}={value}: must be >= {low} ({meaning})")
    mini = OmegaConf.select(cfg, "learner.mini_batch_prompts")
    if mini is not None and not 1 <= mini <= cfg.rollout.prompts_per_step:
        raise ConfigError(f"learner.mini_batch_prompts={mini}: must be between 1 and rollout.prompts_per_step="
                          f"{cfg.rollout.prompts_per_step} (or null: one optimizer step per rollout batch)")
    scope = OmegaConf.select(cfg, "trainer.seed_scope")
    if scope not in (None, "sampling", "run"):
        raise ConfigError(f"trainer.seed_scope={scope}: choose sampling (the seed draws rollouts only) or run (also "
                          f"the model's init, warm start, prompt stream and held-out problems)")
    backend = OmegaConf.select(cfg, "reward.verifier.backend")
    if backend in ("math_verify", "cascade"):
        from rlvr_verify.mv_backend import math_verify_missing

        missing = math_verify_missing(f"reward.verifier.backend={backend}")
        if missing:
            raise ConfigError(missing)
    check_model_path(cfg.model.get("path"))


def check_model_path(path: str | None) -> None:
    """A local model directory must exist and hold config.json. A name like `Qwen/Qwen2.5-Math-1.5B` (one slash,
    not a path on this machine) is left to transformers, which may find it in the hub's cache."""
    if not path:
        return
    p = Path(os.path.expanduser(path))
    looks_local = p.is_absolute() or path.startswith((".", "~")) or path.count("/") != 1
    if p.exists():
        if not p.is_dir() or not (p / "config.json").is_file():
            raise ConfigError(f"model.path={path}: not a Hugging Face model directory (no config.json in it); "
                              f"point it at the directory that holds config.json and the weights")
    elif looks_local:
        raise ConfigError(f"model.path={path}: no such directory; check the path (or leave model.path unset for "
                          f"the embedded tiny model)")


def check_run_dir(run_dir: str | Path) -> Path:
    """Create the run directory, or say in one line why it cannot be (under a file, no permission)."""
    path = Path(run_dir)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".rlvr_write_test"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise ConfigError(f"run directory {path}: cannot write there ({e.strerror or e}); pass another "
                          f"hydra.run.dir=... or trainer.run_dir=...") from None
    return path
