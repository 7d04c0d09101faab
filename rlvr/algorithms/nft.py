"""NFT, negative-aware fine-tuning (docs/ALGORITHMS.md §4, NVlabs/NFT): likelihood on correct tokens, and on wrong
tokens the likelihood of the implicit negative policy (1 - r·R)/(1 - r), value-clipped at eps with its gradient
kept. On-policy (R = 1) its gradient is Dr. GRPO's (normalize=1) or population-std GRPO's (normalize=2)."""
from __future__ import annotations

import torch
from torch import Tensor

R_HAT_MIN, R_HAT_MAX = 0.02, 0.98
NFT_LOG_RATIO_MAX = 10.0


def clip_value_keep_grad(x: Tensor, eps: float) -> Tensor:
    """max_v(x, eps) = x + sg(max(x, eps) - x): the forward value is clipped, the gradient is x's."""
    return x + (torch.clamp(x, min=eps) - x).detach()


def prompt_weight(r_hat: Tensor, normalize: int) -> Tensor:
    """omega(q): 0 -> 1; 1 -> 1 - r (Dr. GRPO match); 2 -> sqrt((1-r)/r) (population-std GRPO match, the code)."""
    if normalize == 0:
        return torch.ones_like(r_hat)
    if normalize == 1:
        return 1.0 - r_hat
    if normalize == 2:
        return torch.sqrt((1.0 - r_hat) / r_hat)
    raise ValueError(f"algorithm.normalize must be 0, 1 or 2, got {normalize}")


def nft_token_loss(logprobs: Tensor, old_logprobs: Tensor, correct: Tensor, r_hat: Tensor, eps: float = 1.0,
                   neg_weight: float = 1.0, normalize: int = 1, clamp_r_hat: bool = True) -> Tensor:
    """Per-token NFT loss [B,T]: omega·(-log R) if correct else omega·neg_weight·(-log max_v((1 - r·R)/(1 - r), eps)).

    r_hat is clamped to [0.02, 0.98] before both uses (§12b.3; clamp_r_hat=False only for the weight)."""
    r_clamped = r_hat.clamp(R_HAT_MIN, R_HAT_MAX).to(logprobs.dtype)[:, None]
    r_for_weight = r_clamped if clamp_r_hat else r_hat.to(logprobs.dtype)[:, None]
    log_ratio = torch.clamp(logprobs - old_logprobs, max=NFT_LOG_RATIO_MAX)
    ratio = torch.exp(log_ratio)
    positive = -log_ratio
    negative_policy = (1.0 - r_clamped * ratio) / (1.0 - r_clamped)
    negative = -torch.log(clip_value_keep_grad(negative_policy, eps))
    per_token = torch.where(correct.bool()[:, None], positive, neg_weight * negative)
    return prompt_weight(r_for_weight, normalize) * per_token
