"""The config of a resumed run: the one saved in its run directory, changed only where the command line says.

Composing afresh would silently swap the saved experiment for today's defaults (a `reward=random` sweep cell resumed
as `reward: verified`). So a resumed run takes its saved config.yaml and, from the newly composed one, only the keys
given explicitly, each named in a warning (the previous file is kept as config.before-resume-<time>.yaml)."""
from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any, Callable

from omegaconf import DictConfig, OmegaConf

_ABSENT = object()


class ResumedConfigWarning(UserWarning):
    """A resumed run differs from its saved config in keys the user gave explicitly."""


def _leaves(cfg: DictConfig) -> dict[str, Any]:
    """{dotted.key: resolved leaf}; lists and empty dicts are leaves."""
    def walk(node: Any, prefix: str) -> dict[str, Any]:
        if isinstance(node, dict) and node:
            return {k: v for key, child in node.items() for k, v in walk(child, f"{prefix}{key}.").items()}
        return {prefix[:-1]: node}
    return walk(OmegaConf.to_container(cfg, resolve=True), "")


def override_keys(overrides: list[str]) -> list[str]:
    """The config paths named on the command line: `trainer.steps=5` -> trainer.steps, `reward=random` -> reward
    (a group: every key under it), `+algorithm.x=1` / `~key` -> algorithm.x / key."""
    return [o.split("=", 1)[0].lstrip("+~") for o in overrides if not o.startswith("hydra.")]


def resume_config(cfg: DictConfig, baseline: DictConfig, saved: DictConfig,
                  overrides: list[str] = ()) -> tuple[DictConfig, list[str]]:
    """`saved`, with the keys the command line set explicitly taken from `cfg`. A key is explicit when `overrides`
    names it or a group above it, or when `cfg` differs there from `baseline` (the config composed without
    overrides: how an `experiment=` preset's keys are found). Returns (config, one line per changed key)."""
    from rlvr.config import RLVRConfig

    now, base, old = _leaves(cfg), _leaves(baseline), _leaves(saved)
    named = override_keys(list(overrides))
    explicit = sorted({k for k in now.keys() | base.keys() if now.get(k, _ABSENT) != base.get(k, _ABSENT)}
                      | {k for k in now.keys() | base.keys() | old.keys()
                         for n in named if k == n or k.startswith(n + ".")})
    merged = OmegaConf.create(OmegaConf.to_container(saved, resolve=True))
    changes = []
    for key in explicit:
        if key in now:
            OmegaConf.update(merged, key, now[key], force_add=True)
        elif (parent := OmegaConf.select(merged, key.rpartition(".")[0]) if "." in key else merged) is not None:
            parent.pop(key.rpartition(".")[2], None)
        if old.get(key, _ABSENT) != now.get(key, _ABSENT):
            changes.append(f"{key}: {old.get(key, '<absent>')!r} -> {now.get(key, '<absent>')!r}")
    # The schema fills keys the saved config predates and keeps types; `algorithm` stays as saved (its objective
    # checks its keys when it is built).
    return OmegaConf.merge(OmegaConf.structured(RLVRConfig), merged), changes


def config_for_run_dir(cfg: DictConfig, run_dir: str | Path, baseline_fn: Callable[[], DictConfig],
                       overrides: list[str] = ()) -> DictConfig:
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
