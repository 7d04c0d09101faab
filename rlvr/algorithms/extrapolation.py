"""Weight extrapolation as an update rule ("Not All Steps are Informative", docs/ALGORITHMS.md section 9): RLVR moves
most weights nearly linearly in the step count, so a later checkpoint can be guessed from two earlier ones
(W = W_A + alpha (W_B - W_A)) or from a least-squares line through several. Norm layers and non-float tensors are not
extrapolated by default: the paper copies them from the later checkpoint. The training loop applies it every M steps
(RL-Extra); `python -m rlvr.extrapolate` applies it to saved checkpoints."""
from __future__ import annotations

from typing import Iterable, Mapping

import torch


class MismatchedCheckpoints(ValueError):
    """The checkpoints do not come from one architecture (a tensor missing or of another shape)."""

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
        raise MismatchedCheckpoints(f"checkpoint A lacks {len(missing)} tensors that B has (first: {missing[0]!r}); "
                              "both checkpoints must come from the same architecture")
    out = {}
    for name, b in sd_b.items():
        a = sd_a[name]
        if a.shape != b.shape:
            raise MismatchedCheckpoints(f"tensor {name!r} has shape {tuple(a.shape)} in A but {tuple(b.shape)} in B")
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
