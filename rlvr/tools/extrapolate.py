"""Weight extrapolation along the RLVR trajectory ("Not All Steps are Informative", docs/ALGORITHMS.md section 9).

RLVR moves most weights nearly linearly in the step count, so a checkpoint at a later step can be guessed from two
earlier ones (W = W_A + alpha (W_B - W_A)) or from a least-squares line through several. Norm layers and non-float
tensors are not extrapolated by default: the paper copies them from the later checkpoint.

CLI:
  python -m rlvr.extrapolate weights --from CKPT_A --to CKPT_B --target-step T --out DIR [--step-a N --step-b M]
  python -m rlvr.extrapolate fit --ckpts A B C ... --target-step T --out DIR
  python -m rlvr.extrapolate linearity --ckpts A B C ... --out DIR
  python -m rlvr.extrapolate logits --model-a A --model-b B --alpha 1.5 --prompt "..."
"""
from __future__ import annotations

import argparse
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
    ta, tb = read_step(ckpt_a, step_a, "--step-a"), read_step(ckpt_b, step_b, "--step-b")
    alpha = alpha_for(ta, tb, target_step)
    sd = extrapolate_state_dicts(load_state_dict(ckpt_a), load_state_dict(ckpt_b), alpha, norm_from)
    return save_extrapolated(sd, ckpt_b, out_dir, {"mode": "two-point", "from": str(ckpt_a), "to": str(ckpt_b),
                                                  "step_a": ta, "step_b": tb, "target_step": target_step,
                                                  "alpha": alpha, "norm_from": norm_from})


def fit_checkpoints(ckpts: list, target_step: float, out_dir, steps: list[int] | None = None,
                    norm_from: str = "b") -> Path:
    steps = steps or [read_step(c, None, "--steps") for c in ckpts]
    if len(steps) != len(ckpts):
        raise ValueError(f"--steps has {len(steps)} values for {len(ckpts)} checkpoints")
    sd = least_squares_extrapolate((load_state_dict(c) for c in ckpts), [float(s) for s in steps], target_step,
                                   norm_from)
    return save_extrapolated(sd, ckpts[-1], out_dir, {"mode": "least-squares", "ckpts": [str(c) for c in ckpts],
                                                     "steps": steps, "target_step": target_step,
                                                     "norm_from": norm_from})


# ---------------------------------------------------------------- CLI
def _parser() -> argparse.ArgumentParser:
    """argparse, not Hydra: each subcommand is a small utility over checkpoint paths (issue 10's convention)."""
    p = argparse.ArgumentParser(prog="python -m rlvr.extrapolate", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    ckpt = "an HF checkpoint dir (runs/<name>/<time>/checkpoints/step_NNNNNN)"
    norm = "b: copy the norm tensors from B (default); extrapolate: extrapolate them like the other weights"
    w = sub.add_parser("weights", help="two-checkpoint linear extrapolation")
    w.add_argument("--from", dest="ckpt_a", required=True, help=f"the earlier checkpoint A: {ckpt}")
    w.add_argument("--to", dest="ckpt_b", required=True, help="the later checkpoint B")
    w.add_argument("--target-step", type=float, required=True, help="the step to extrapolate to")
    w.add_argument("--out", required=True, help="directory for the extrapolated checkpoint")
    w.add_argument("--step-a", type=int, help="A's step (default: its trainer_state.json)")
    w.add_argument("--step-b", type=int, help="B's step (default: its trainer_state.json)")
    w.add_argument("--norm-from", choices=NORM_FROM, default="b", help=norm)
    f = sub.add_parser("fit", help="least-squares line through 3+ checkpoints")
    f.add_argument("--ckpts", nargs="+", required=True, help=f"three or more checkpoints: {ckpt}")
    f.add_argument("--steps", nargs="+", type=int, help="their steps (default: their trainer_state.json)")
    f.add_argument("--target-step", type=float, required=True, help="the step to extrapolate to")
    f.add_argument("--out", required=True, help="directory for the extrapolated checkpoint")
    f.add_argument("--norm-from", choices=NORM_FROM, default="b", help=norm)
    lin = sub.add_parser("linearity", help="R^2 of weights and token log-probs vs step")
    lin.add_argument("--ckpts", nargs="+", required=True, help=f"three or more checkpoints: {ckpt}")
    lin.add_argument("--steps", nargs="+", type=int, help="their steps (default: their trainer_state.json)")
    lin.add_argument("--out", required=True, help="directory for the R^2 histograms and linearity.json")
    lin.add_argument("--fraction", type=float, default=0.001, help="fraction of each tensor's weights sampled")
    lin.add_argument("--min-per-tensor", type=int, default=50, help="at least this many weights per tensor")
    lin.add_argument("--seed", type=int, default=0, help="seed of the weight sample")
    lin.add_argument("--texts", help="file with one sequence per line to teacher-force (default: samples of the "
                                     "first checkpoint on --data prompts)")
    lin.add_argument("--num-texts", type=int, default=8, help="sequences sampled when --texts is not given")
    lin.add_argument("--max-tokens", type=int, default=64, help="tokens per sampled sequence")
    lin.add_argument("--data", default="math500",
                     help="benchmark whose questions prompt the default sequences (shipped: math500, gsm8k; or a "
                          ".jsonl path)")
    lin.add_argument("--template", default="qwen_boxed", help="prompt template (rlvr.data.eval_sets.TEMPLATES)")
    lo = sub.add_parser("logits", help="decode with z = z_A + alpha (z_B - z_A)")
    lo.add_argument("--model-a", required=True, help=f"the earlier checkpoint A: {ckpt}")
    lo.add_argument("--model-b", required=True, help="the later checkpoint B")
    lo.add_argument("--alpha", type=float, required=True, help="1 = B; > 1 extrapolates past B")
    lo.add_argument("--prompt", action="append", required=True, help="a prompt (repeat for several)")
    lo.add_argument("--n", type=int, default=1, help="samples per prompt")
    lo.add_argument("--temperature", type=float, default=0.6, help="0 = greedy")
    lo.add_argument("--top-p", type=float, default=0.95, help="nucleus sampling mass")
    lo.add_argument("--max-tokens", type=int, default=256, help="tokens per sample")
    lo.add_argument("--seed", type=int, default=0, help="sampling seed")
    lo.add_argument("--device", default="cpu", help="cpu | cuda")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.cmd == "weights":
            out = extrapolate_checkpoints(args.ckpt_a, args.ckpt_b, args.target_step, args.out, args.step_a,
                                          args.step_b, args.norm_from)
            print(json.dumps(json.loads((out / "extrapolation.json").read_text())))
        elif args.cmd == "fit":
            out = fit_checkpoints(args.ckpts, args.target_step, args.out, args.steps, args.norm_from)
            print(f"wrote {out}")
        elif args.cmd == "linearity":
            from rlvr.tools.linearity import run_linearity

            summary = run_linearity(args.ckpts, args.out, steps=args.steps, fraction=args.fraction,
                                    min_per_tensor=args.min_per_tensor, seed=args.seed, texts_file=args.texts,
                                    num_texts=args.num_texts, max_tokens=args.max_tokens, data=args.data,
                                    template=args.template)
            print(json.dumps(summary, indent=2))
        elif args.cmd == "logits":
            from rlvr.rollout.logits_engine import LogitsExtrapolationEngine

            engine = LogitsExtrapolationEngine.from_paths(args.model_a, args.model_b, args.alpha, device=args.device)
            results = engine.generate(args.prompt, n=args.n, temperature=args.temperature, top_p=args.top_p,
                                      max_tokens=args.max_tokens, seed=args.seed)
            for prompt, samples in zip(args.prompt, results):
                for s in samples:
                    print(json.dumps({"prompt": prompt, "response": s.text, "finish_reason": s.finish_reason}))
    except (CheckpointError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0

