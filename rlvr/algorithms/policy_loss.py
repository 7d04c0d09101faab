"""The clipped surrogate of PPO/GRPO/DAPO with verl's dual clip (docs/ALGORITHMS.md §0)."""
from __future__ import annotations

import torch
from torch import Tensor

from .aggregation import masked_mean

LOG_RATIO_CLAMP = 20.0


def clipped_surrogate(logprobs: Tensor, old_logprobs: Tensor, advantages: Tensor, mask: Tensor,
                      clip_low: float = 0.2, clip_high: float = 0.2, dual_clip_c: float | None = None
                      ) -> tuple[Tensor, dict[str, float]]:
    """Per-token -min(rho·A, clip(rho, 1-clip_low, 1+clip_high)·A); with dual_clip_c, negative-advantage tokens
    are capped at -c·A. Returns the [B,T] loss and metrics pg_clipfrac, pg_clipfrac_lower, ppo_kl."""
    if dual_clip_c is not None and dual_clip_c <= 1.0:
        raise ValueError(f"algorithm.clip_ratio_c must be > 1 (got {dual_clip_c})")
    log_ratio = torch.clamp(logprobs - old_logprobs, -LOG_RATIO_CLAMP, LOG_RATIO_CLAMP)
    ratio = torch.exp(log_ratio)
    unclipped = -advantages * ratio
    clipped = -advantages * torch.clamp(ratio, 1.0 - clip_low, 1.0 + clip_high)
    loss = torch.maximum(unclipped, clipped)
    lower_frac = torch.zeros_like(loss)
    if dual_clip_c is not None:
        cap = -advantages * dual_clip_c
        capped = torch.minimum(loss, cap)
        negative = advantages < 0
        lower_frac = ((loss > cap) & negative).to(loss.dtype)
        loss = torch.where(negative, capped, loss)
    with torch.no_grad():
        metrics = {"pg_clipfrac": float(masked_mean((clipped > unclipped).to(loss.dtype), mask)),
                   "pg_clipfrac_lower": float(masked_mean(lower_frac, mask)),
                   "ppo_kl": float(masked_mean(-log_ratio, mask))}
    return loss, metrics


def truncated_importance_weights(old_logprobs: Tensor, sampling_logprobs: Tensor, cap: float) -> Tensor:
    """Per-token min(pi_learner / pi_sampler, cap), no grad: corrects for rollouts sampled by a different policy
    than the learner's proximal one (an engine a step behind in async mode, or the engine's own numerics), as
    truncated importance sampling does in verl/AReaL. When the two log-probs agree the weight is 1."""
    log_w = torch.clamp(old_logprobs - sampling_logprobs, -LOG_RATIO_CLAMP, LOG_RATIO_CLAMP)
    return torch.clamp(torch.exp(log_w), max=float(cap)).detach()
