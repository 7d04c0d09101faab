"""`python -m rlvr.extrapolate`: weight extrapolation applied to saved checkpoints (two-point, least-squares fit,
the linearity check, logits extrapolation at decode time). The rule itself is rlvr/algorithms/extrapolation.py.

CLI (a Hydra app over conf/extrapolate/extrapolate.yaml, typed by rlvr.config.ExtrapolateConfig):
  python -m rlvr.extrapolate mode=weights a=CKPT_A b=CKPT_B target_step=T out=DIR [steps=[N,M]]
  python -m rlvr.extrapolate mode=fit ckpts=[A,B,C] target_step=T out=DIR
  python -m rlvr.extrapolate mode=linearity ckpts=[A,B,C] out=DIR
  python -m rlvr.extrapolate mode=logits a=A b=B alpha=1.5 prompts=['1+1=']
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Mapping

import torch

from rlvr.algorithms.extrapolation import alpha_for, extrapolate_state_dicts, least_squares_extrapolate
from rlvr.infra.hf_weights import CheckpointError, load_state_dict, read_step, save_model_dir


def save_extrapolated(state: Mapping[str, torch.Tensor], template_dir, out_dir, provenance: dict) -> Path:
    """An HF-loadable dir of the extrapolated weights, with how they were made in extrapolation.json."""
    out = save_model_dir(state, template_dir, out_dir)
    (out / "extrapolation.json").write_text(json.dumps(provenance, indent=2))
    return out


def extrapolate_checkpoints(ckpt_a, ckpt_b, target_step: float, out_dir, step_a: int | None = None,
                            step_b: int | None = None, norm_from: str = "b") -> Path:
    ta, tb = read_step(ckpt_a, step_a, "steps=[A,B]"), read_step(ckpt_b, step_b, "steps=[A,B]")
    alpha = alpha_for(ta, tb, target_step)
    sd = extrapolate_state_dicts(load_state_dict(ckpt_a), load_state_dict(ckpt_b), alpha, norm_from)
    return save_extrapolated(sd, ckpt_b, out_dir, {"mode": "two-point", "from": str(ckpt_a), "to": str(ckpt_b),
                                                  "step_a": ta, "step_b": tb, "target_step": target_step,
                                                  "alpha": alpha, "norm_from": norm_from})


def fit_checkpoints(ckpts: list, target_step: float, out_dir, steps: list[int] | None = None,
                    norm_from: str = "b") -> Path:
    steps = steps or [read_step(c, None, "steps=[...]") for c in ckpts]
    if len(steps) != len(ckpts):
        raise ValueError(f"steps= has {len(steps)} values for {len(ckpts)} checkpoints")
    sd = least_squares_extrapolate((load_state_dict(c) for c in ckpts), [float(s) for s in steps], target_step,
                                   norm_from)
    return save_extrapolated(sd, ckpts[-1], out_dir, {"mode": "least-squares", "ckpts": [str(c) for c in ckpts],
                                                     "steps": steps, "target_step": target_step,
                                                     "norm_from": norm_from})


# ---------------------------------------------------------------- CLI
MODES = ("weights", "fit", "linearity", "logits")


class ExtrapolateError(ValueError):
    pass


def _require(cfg, key: str, why: str):
    value = cfg[key]
    if value is None or (isinstance(value, str) and not value) or (not isinstance(value, (str, int, float))
                                                                   and len(value) == 0):
        raise ExtrapolateError(f"mode={cfg.mode} needs {key}= ({why}); see python -m rlvr.extrapolate --help")
    return value


def _steps(cfg, count: int) -> list[int] | None:
    steps = [int(s) for s in cfg.steps or []]
    if steps and len(steps) != count:
        raise ExtrapolateError(f"steps= has {len(steps)} values for {count} checkpoints; give one step per checkpoint "
                               "or none (each checkpoint's trainer_state.json is read)")
    return steps or None


def _max_tokens(cfg, default: int) -> int:
    return default if cfg.max_tokens is None else int(cfg.max_tokens)


def extrapolate(cfg) -> dict:
    """One run of the tool from a composed config; prints and returns what it wrote or generated."""
    mode = str(cfg.mode)
    if mode not in MODES:
        raise ExtrapolateError(f"mode={mode!r}: choose one of {list(MODES)}")
    ckpt = "an HF checkpoint dir such as runs/<name>/<time>/checkpoints/step_NNNNNN"
    if mode == "weights":
        a, b = _require(cfg, "a", f"the earlier checkpoint, {ckpt}"), _require(cfg, "b", "the later checkpoint")
        steps = _steps(cfg, 2) or [None, None]
        out = extrapolate_checkpoints(a, b, float(_require(cfg, "target_step", "the step to extrapolate to")),
                                      _require(cfg, "out", "the directory to write"), steps[0], steps[1],
                                      str(cfg.norm_from))
        result = json.loads((out / "extrapolation.json").read_text())
    elif mode == "fit":
        ckpts = list(_require(cfg, "ckpts", f"two or more checkpoints in step order, {ckpt}"))
        out = fit_checkpoints(ckpts, float(_require(cfg, "target_step", "the step to extrapolate to")),
                              _require(cfg, "out", "the directory to write"), _steps(cfg, len(ckpts)),
                              str(cfg.norm_from))
        result = {"wrote": str(out)}
    elif mode == "linearity":
        from rlvr.tools.linearity import run_linearity

        ckpts = list(_require(cfg, "ckpts", f"three or more checkpoints in step order, {ckpt}"))
        result = run_linearity(ckpts, _require(cfg, "out", "the directory for the R^2 histograms"),
                               steps=_steps(cfg, len(ckpts)), fraction=float(cfg.fraction),
                               min_per_tensor=int(cfg.min_per_tensor), seed=int(cfg.seed), texts_file=cfg.texts,
                               num_texts=int(cfg.num_texts), max_tokens=_max_tokens(cfg, 64), data=str(cfg.data),
                               template=str(cfg.template))
    else:
        from rlvr.rollout.logits_engine import LogitsExtrapolationEngine

        prompts = [str(p) for p in _require(cfg, "prompts", "a list of prompts, e.g. prompts=['1+1=']")]
        engine = LogitsExtrapolationEngine.from_paths(_require(cfg, "a", f"the earlier checkpoint, {ckpt}"),
                                                      _require(cfg, "b", "the later checkpoint"), float(cfg.alpha),
                                                      device=str(cfg.device))
        samples = engine.generate(prompts, n=int(cfg.n), temperature=float(cfg.temperature), top_p=float(cfg.top_p),
                                  max_tokens=_max_tokens(cfg, 256), seed=int(cfg.seed))
        result = {"samples": [{"prompt": p, "response": s.text, "finish_reason": s.finish_reason}
                              for p, group in zip(prompts, samples) for s in group]}
        for row in result["samples"]:
            print(json.dumps(row))
        return result
    print(json.dumps(result, indent=2))
    return result


def compose_extrapolate(overrides):
    """The tool's config from KEY=VALUE overrides (the in-process twin of the Hydra command line)."""
    from rlvr.config import EXTRAPOLATE_CONF_DIR, compose

    try:
        return compose(list(overrides), config_name="extrapolate", config_dir=EXTRAPOLATE_CONF_DIR)
    except Exception as e:  # hydra's ConfigCompositionException / OverrideParseException name the key
        raise ExtrapolateError(f"{e}. Keys: python -m rlvr.extrapolate --help") from None


def main(argv=None) -> int:
    """In-process entry (tests, notebooks): KEY=VALUE overrides. The command line goes through cli() (Hydra)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        extrapolate(compose_extrapolate(argv))
    except (CheckpointError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


def cli() -> int:
    """`python -m rlvr.extrapolate`: Hydra over conf/extrapolate/extrapolate.yaml (--help, --cfg job, --multirun)."""
    import hydra

    from rlvr.config import EXTRAPOLATE_CONF_DIR, register_extrapolate_config

    register_extrapolate_config()  # only this tool's schema: data= is a plain key here
    status = {"rc": 0}

    @hydra.main(config_path=str(EXTRAPOLATE_CONF_DIR), config_name="extrapolate", version_base="1.3")
    def app(cfg) -> None:
        try:
            extrapolate(cfg)
        except (CheckpointError, ValueError) as e:  # a message the user can act on, no traceback
            print(f"error: {e}", file=sys.stderr)
            status["rc"] = 2

    app()
    return status["rc"]
