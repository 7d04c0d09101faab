"""Weight extrapolation along the RLVR trajectory ("Not All Steps are Informative", docs/ALGORITHMS.md section 9).

RLVR moves most weights nearly linearly in the step count, so a checkpoint at a later step can be guessed from two
earlier ones (W = W_A + alpha (W_B - W_A)) or from a least-squares line through several. Norm layers and non-float
tensors are not extrapolated by default: the paper copies them from the later checkpoint.

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
from typing import Iterable, Mapping

import torch

from rlvr.infra.hf_weights import CheckpointError, load_state_dict, read_step, save_model_dir

NORM_MARKERS = ("norm", "ln_")  # covers layernorm / rmsnorm / input_layernorm / ln_f
NORM_FROM = ("b", "extrapolate")



def is_norm(name: str) -> bool:
    lowered = name.lower()
    return any(m in lowered for m in NORM_MARKERS)


def _extrapolated(name: str, tensor: torch.Tensor, norm_from: str) -> bool:
    return tensor.is_floating_point() and (norm_from == "extrapolate" or not is_norm(name))


def extrapolate_state_dicts(sd_a: Mapping[str, torch.Tensor], sd_b: Mapping[str, torch.Tensor], alpha: float,
                            norm_from: str = "b") -> dict[str, torch.Tensor]:
    """W = (1 - alpha) W_A + alpha W_B in fp32 (exactly A at alpha=0, exactly B at alpha=1), cast to B's dtype.

    Norm tensors and non-float tensors are copied from B unless norm_from="extrapolate". Keys follow B; a key only in
    B is an error because there is nothing to extrapolate from.
    """
    if norm_from not in NORM_FROM:
        raise ValueError(f"norm_from={norm_from!r}: choose one of {list(NORM_FROM)}")
    missing = [k for k in sd_b if k not in sd_a]
    if missing:
        raise CheckpointError(f"checkpoint A lacks {len(missing)} tensors that B has (first: {missing[0]!r}); "
                              "both checkpoints must come from the same architecture")
    out = {}
    for name, b in sd_b.items():
        a = sd_a[name]
        if a.shape != b.shape:
            raise CheckpointError(f"tensor {name!r} has shape {tuple(a.shape)} in A but {tuple(b.shape)} in B")
        if not _extrapolated(name, b, norm_from):
            out[name] = b.clone()
            continue
        w = (1.0 - alpha) * a.float() + alpha * b.float()
        out[name] = w.to(b.dtype)
    return out


def alpha_for(step_a: float, step_b: float, target: float) -> float:
    if step_a == step_b:
        raise ValueError(f"the two checkpoints have the same step ({step_a}); extrapolation needs distinct steps")
    return (target - step_a) / (step_b - step_a)


def least_squares_extrapolate(state_dicts: Iterable[Mapping[str, torch.Tensor]], steps: list[float], target: float,
                              norm_from: str = "b") -> dict[str, torch.Tensor]:
    """Per-entry OLS line w(t) = a + b t through the checkpoints, evaluated at `target`.

    Streams the checkpoints (two passes are avoided by accumulating sum w and sum (t - mean t) w), so memory stays at
    about two state dicts. Norm and non-float tensors come from the last checkpoint unless norm_from="extrapolate".
    """
    if len(steps) < 2:
        raise ValueError("least-squares extrapolation needs at least 2 checkpoints (3+ to be a real fit)")
    t = torch.tensor(steps, dtype=torch.float64)
    t_mean = t.mean()
    s_tt = float(((t - t_mean) ** 2).sum())
    if s_tt == 0:
        raise ValueError(f"all checkpoints have the same step {steps[0]}; a fit needs distinct steps")
    sum_w: dict[str, torch.Tensor] = {}
    sum_tw: dict[str, torch.Tensor] = {}
    last: Mapping[str, torch.Tensor] = {}
    count = 0
    for sd, ti in zip(state_dicts, steps):
        centred = float(ti - t_mean)
        for name, w in sd.items():
            w64 = w.double() if w.is_floating_point() else w
            if name not in sum_w:
                sum_w[name], sum_tw[name] = torch.zeros_like(w64), torch.zeros_like(w64)
            if w.is_floating_point():
                sum_w[name] += w64
                sum_tw[name] += centred * w64
        last = sd
        count += 1
    if count != len(steps):
        raise ValueError(f"got {count} checkpoints but {len(steps)} steps")
    out = {}
    for name, w_last in last.items():
        if not _extrapolated(name, w_last, norm_from):
            out[name] = w_last.clone()
            continue
        slope = sum_tw[name] / s_tt
        out[name] = (sum_w[name] / count + slope * float(target - t_mean)).to(w_last.dtype)
    return out


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


def _legacy_form(argv) -> str | None:
    """The argparse form before Hydra (`weights --from A --to B ...`): say what to type instead of failing obscurely."""
    if argv and argv[0] in MODES:
        return (f"the subcommand form `{argv[0]} --flag ...` became Hydra keys: python -m rlvr.extrapolate "
                f"mode={argv[0]} a=... b=... target_step=... out=... (see --help)")
    return None


def main(argv=None) -> int:
    """In-process entry (tests, notebooks): KEY=VALUE overrides. The command line goes through cli() (Hydra)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        legacy = _legacy_form(argv)
        if legacy:
            raise ExtrapolateError(legacy)
        extrapolate(compose_extrapolate(argv))
    except (CheckpointError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


def cli() -> int:
    """`python -m rlvr.extrapolate`: Hydra over conf/extrapolate/extrapolate.yaml (--help, --cfg job, --multirun)."""
    legacy = _legacy_form(sys.argv[1:])
    if legacy:
        print(f"error: {legacy}", file=sys.stderr)
        return 2
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
