"""How linear is the RLVR trajectory? R^2 of weights and of token log-probs against the training step.

Following docs/ALGORITHMS.md section 9: sample 0.1% of the entries of every float tensor (at least 50, seeded), fit
w(t) = a + b t by least squares and report R^2 = squared Pearson r; the same for the teacher-forced log-probs of fixed
sequences. Entries that never change have no defined R^2 and are counted separately.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping, Sequence

import torch

R2_THRESHOLD = 0.7
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def r_squared(steps: Sequence[float], values: torch.Tensor) -> torch.Tensor:
    """values: [T, M] -> R^2 per column (NaN where a column is constant)."""
    t = torch.as_tensor(steps, dtype=torch.float64)[:, None]
    y = values.double()
    tc, yc = t - t.mean(), y - y.mean(0, keepdim=True)
    cov = (tc * yc).sum(0)
    var_t, var_y = (tc ** 2).sum(), (yc ** 2).sum(0)
    r2 = cov ** 2 / (var_t * var_y)
    return torch.where(var_y > 0, r2, torch.full_like(r2, float("nan")))


def sample_indices(state_dict: Mapping[str, torch.Tensor], fraction: float, min_per_tensor: int,
                   seed: int) -> dict[str, torch.Tensor]:
    """Flat indices per float tensor: max(min_per_tensor, fraction * numel) entries (all of a small tensor)."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for name in sorted(state_dict):
        w = state_dict[name]
        if not w.is_floating_point():
            continue
        k = min(w.numel(), max(min_per_tensor, int(round(fraction * w.numel()))))
        out[name] = torch.randperm(w.numel(), generator=g)[:k]
    return out


def weight_trajectories(state_dicts: Sequence[Mapping[str, torch.Tensor]],
                        indices: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """[T, M] values of the sampled entries at each checkpoint."""
    return torch.stack([torch.cat([sd[n].reshape(-1)[idx].double() for n, idx in indices.items()])
                        for sd in state_dicts])


def describe(r2: torch.Tensor) -> dict:
    defined = r2[~torch.isnan(r2)]
    out = {"count": int(r2.numel()), "constant": int(r2.numel() - defined.numel())}
    if defined.numel():
        out[f"fraction_r2_gt_{R2_THRESHOLD}"] = float((defined > R2_THRESHOLD).double().mean())
        out["mean"] = float(defined.mean())
        out["quantiles"] = {str(q): float(torch.quantile(defined, q)) for q in QUANTILES}
    return out


def _default_sequences(ckpt: str, data: str, template: str, num_texts: int, max_tokens: int, seed: int):
    """Responses the first checkpoint samples for the first benchmark questions (the paper used the base model)."""
    from rlvr.data.eval_sets import format_prompt, load_benchmark
    from rlvr.rollout.hf_engine import HFEngine

    engine = HFEngine(ckpt)
    problems = load_benchmark(data)[:num_texts]
    prompts = [format_prompt(p, template, engine.tokenizer) for p in problems]
    samples = [s[0] for s in engine.generate(prompts, n=1, temperature=1.0, max_tokens=max_tokens, seed=seed)]
    return [(s.prompt_token_ids, s.token_ids) for s in samples]


def logprob_trajectories(ckpts: Sequence[str], sequences) -> torch.Tensor:
    """[T, tokens] teacher-forced log-probs of every response token, one row per checkpoint."""
    from rlvr.rollout.hf_engine import HFEngine

    rows = []
    for ckpt in ckpts:
        engine = HFEngine(str(ckpt))
        scored = engine.score([p + r for p, r in sequences])
        rows.append(torch.tensor([lp for (p, r), s in zip(sequences, scored) for lp in s[len(p) - 1:]]))
    return torch.stack(rows)


def run_linearity(ckpts: Sequence[str], out_dir: str | Path, steps: Sequence[int] | None = None,
                  fraction: float = 0.001, min_per_tensor: int = 50, seed: int = 0, texts_file: str | None = None,
                  num_texts: int = 8, max_tokens: int = 64, data: str = "math500",
                  template: str = "qwen_boxed") -> dict:
    from rlvr.infra.hf_weights import load_state_dict, read_step

    if len(ckpts) < 3:
        raise ValueError(f"linearity needs at least 3 checkpoints (got {len(ckpts)}); R^2 of 2 points is always 1")
    steps = list(steps) if steps else [read_step(c, None, "--steps") for c in ckpts]
    first = load_state_dict(ckpts[0])
    idx = sample_indices(first, fraction, min_per_tensor, seed)
    weights = weight_trajectories([first] + [load_state_dict(c) for c in ckpts[1:]], idx)
    if texts_file:
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(ckpts[0])
        lines = [ln for ln in Path(texts_file).read_text(encoding="utf-8").splitlines() if ln.strip()]
        sequences = [(ids[:1], ids[1:]) for ids in (tok(ln)["input_ids"] for ln in lines) if len(ids) > 1]
    else:
        sequences = _default_sequences(str(ckpts[0]), data, template, num_texts, max_tokens, seed)
    logprobs = logprob_trajectories(ckpts, sequences)
    r2_w, r2_lp = r_squared(steps, weights), r_squared(steps, logprobs)
    summary = {"steps": steps, "checkpoints": [str(c) for c in ckpts], "weights": describe(r2_w),
               "token_logprobs": describe(r2_lp)}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "linearity.json").write_text(json.dumps(summary, indent=2))
    _histogram(r2_w, r2_lp, out / "linearity_r2.png")
    return summary


def _histogram(r2_w: torch.Tensor, r2_lp: torch.Tensor, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for ax, r2, title in zip(axes, (r2_w, r2_lp), ("weights", "token log-probs")):
        vals = r2[~torch.isnan(r2)].numpy()
        ax.hist(vals, bins=50, range=(0, 1))
        ax.axvline(R2_THRESHOLD, color="red", ls="--")
        ax.set_title(f"{title}: R² vs step (n={len(vals)})")
        ax.set_xlabel("R²")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
