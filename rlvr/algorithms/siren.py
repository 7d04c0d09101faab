"""SIREN's selective entropy (docs/ALGORITHMS.md §8, Linn3a/siren): top-p nucleus entropy at each position, kept only at
each response's peak-entropy positions (strictly above its 80th percentile), averaged per sequence then over
sequences that have a selected token."""
from __future__ import annotations

import torch
from torch import Tensor


def top_p_entropy(logits: Tensor, top_p: float = 0.8, top_k: int = 10000, softmax_over: str = "vocab") -> Tensor:
    """Entropy of the renormalised nucleus: the top-K prefix whose cumulative probability is < top_p (the token
    that crosses top_p is excluded; if the top-1 token alone reaches top_p the set is empty and H = 0).
    softmax_over='vocab' takes probabilities from the whole vocabulary (default §12b.1), 'topk' from the top-K."""
    k = min(int(top_k), logits.shape[-1])
    if softmax_over == "vocab":
        probs = torch.softmax(logits.float(), dim=-1).topk(k, dim=-1).values
    elif softmax_over == "topk":
        probs = torch.softmax(logits.float().topk(k, dim=-1).values, dim=-1)
    else:
        raise ValueError(f"algorithm.entropy_softmax_over must be 'vocab' or 'topk', got '{softmax_over}'")
    with torch.no_grad():
        keep = torch.cumsum(probs, dim=-1) < top_p
    kept = torch.where(keep, probs, torch.zeros_like(probs))
    total = kept.sum(-1, keepdim=True)
    renorm = kept / total.clamp(min=1e-30)
    safe = torch.where(keep, renorm, torch.ones_like(renorm))
    ent = -(torch.where(keep, renorm * torch.log(safe), torch.zeros_like(renorm))).sum(-1)
    return torch.where(total.squeeze(-1) > 0, ent, torch.zeros_like(ent))


def peak_entropy_mask(entropy: Tensor, mask: Tensor, quantile: float = 0.8) -> Tensor:
    """Positions strictly above the per-sequence quantile of entropy over its valid tokens (nanquantile)."""
    with torch.no_grad():
        valid = mask > 0
        masked = torch.where(valid, entropy.detach().float(), torch.full_like(entropy.float(), float("nan")))
        q = torch.nanquantile(masked, quantile, dim=-1, keepdim=True)
        return (masked > q) & valid


def selected_entropy_sum(entropy: Tensor, selected: Tensor) -> tuple[Tensor, int]:
    """Sum over sequences of each one's mean entropy at its selected positions, and how many sequences have one.
    Selection is per sequence, so these add up over micro-batches: the mini-batch statistic is sum / count."""
    sel = selected.to(entropy.dtype)
    count = sel.sum(-1)
    has = count > 0
    per_seq = torch.where(sel > 0, entropy, torch.zeros_like(entropy)).sum(-1) / count.clamp(min=1.0)
    return torch.where(has, per_seq, torch.zeros_like(per_seq)).sum(), int(has.sum())


def selected_entropy(entropy: Tensor, selected: Tensor) -> tuple[Tensor, int]:
    """Seq-mean-token-mean of entropy over selected positions; sequences without one are left out (§12b.1).
    Returns (statistic, number of sequences counted); 0 when no sequence counts."""
    total, n = selected_entropy_sum(entropy, selected)
    return (total / n if n else total * 0.0), n
