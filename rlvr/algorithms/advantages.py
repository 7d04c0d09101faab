"""Advantage estimators (docs/ALGORITHMS.md §1-3), each returning a per-response score [B] or per-token [B,T].
Outcome estimators are broadcast over the response mask by `broadcast`."""
from __future__ import annotations

import torch
from torch import Tensor


def broadcast(scores: Tensor, mask: Tensor) -> Tensor:
    """[B] -> [B,T], zero on pads."""
    return scores[:, None].to(mask.dtype) * mask


def group_mean_std(values: Tensor, group_ids: Tensor, unbiased: bool = True) -> tuple[Tensor, Tensor, Tensor]:
    """Per-sample group mean, std and group size. verl: a group of size 1 gets mean 0, std 1."""
    _, inverse = torch.unique(group_ids, return_inverse=True)
    n_groups = int(inverse.max()) + 1 if inverse.numel() else 0
    v = values.double()
    count = torch.zeros(n_groups, dtype=torch.float64, device=v.device).index_add_(0, inverse, torch.ones_like(v))
    total = torch.zeros_like(count).index_add_(0, inverse, v)
    mean = total / count
    sq = torch.zeros_like(count).index_add_(0, inverse, (v - mean[inverse]) ** 2)
    dof = (count - 1.0) if unbiased else count
    std = torch.sqrt(sq / dof.clamp(min=1.0))
    single = count == 1
    mean = torch.where(single, torch.zeros_like(mean), mean)
    std = torch.where(single, torch.ones_like(std), std)
    return mean[inverse].to(values.dtype), std[inverse].to(values.dtype), count[inverse].to(values.dtype)


def grpo_scores(rewards: Tensor, group_ids: Tensor, norm_by_std: bool = True, eps: float = 1e-6,
                unbiased_std: bool = True) -> Tensor:
    """(R - mean_group) / (std_group + eps) with torch's unbiased std (verl); without std if norm_by_std=False.
    A group of one has no baseline: its advantage is 0 (no signal, as §12b.2 chooses for Dr. GRPO; verl's mean 0,
    std 1 would give A = R)."""
    mean, std, count = group_mean_std(rewards, group_ids, unbiased=unbiased_std)
    centred = rewards - mean
    scores = centred / (std + eps) if norm_by_std else centred
    return torch.where(count > 1, scores, torch.zeros_like(scores))


def dr_grpo_scores(rewards: Tensor, group_ids: Tensor, singleton: str = "zero") -> Tensor:
    """R - mean_group (no std). A group of one: 'zero' (oat's group mean, no signal; default §12b.2) or
    'reward' (verl's mean 0 gives A = R)."""
    mean, _, count = group_mean_std(rewards, group_ids)
    scores = rewards - mean
    if singleton == "zero":
        return torch.where(count == 1, torch.zeros_like(scores), scores)
    if singleton == "reward":
        return scores
    raise ValueError(f"algorithm.singleton_group must be 'zero' or 'reward', got '{singleton}'")


def sign_scores(positive: Tensor, positive_weight: float, negative_weight: float) -> Tensor:
    """PSR/NSR/W-REINFORCE (§3 table): +positive_weight on a positive sample, else -negative_weight; no baseline.
    Split on the trained reward's binary label (AdvantageInputs.positive: with reward=verified the verifier's
    verdict, with reward=random a coin), never on a shaped reward's value (§12b.7)."""
    pos = torch.full(positive.shape, float(positive_weight), device=positive.device)
    neg = torch.full(positive.shape, -float(negative_weight), device=positive.device)
    return torch.where(positive.bool(), pos, neg)


def reinforce_scores(rewards: Tensor) -> Tensor:
    """Plain REINFORCE: the return itself, no baseline."""
    return rewards.clone()


def rloo_scores(rewards: Tensor, group_ids: Tensor) -> Tensor:
    """R_i minus the mean of the other responses of its group: G/(G-1)·(R - mean). A group of one gets 0."""
    mean, _, count = group_mean_std(rewards, group_ids)
    scale = count / (count - 1.0).clamp(min=1.0)
    return torch.where(count > 1, scale * (rewards - mean), torch.zeros_like(rewards))


def gae(token_rewards: Tensor, values: Tensor, mask: Tensor, gamma: float = 1.0, lam: float = 1.0
        ) -> tuple[Tensor, Tensor]:
    """Generalised advantage estimation, backwards over valid positions only: a masked position carries the next
    value and advantage across it (current verl). Returns (advantages, returns = A + V), 0 on masked positions."""
    B, T = mask.shape
    next_value = torch.zeros(B, dtype=values.dtype, device=values.device)
    next_adv = torch.zeros_like(next_value)
    adv = torch.zeros_like(values)
    for t in reversed(range(T)):
        valid = mask[:, t] > 0
        delta = token_rewards[:, t] + gamma * next_value - values[:, t]
        a = delta + gamma * lam * next_adv
        next_adv = torch.where(valid, a, next_adv)
        next_value = torch.where(valid, values[:, t], next_value)
        adv[:, t] = torch.where(valid, a, torch.zeros_like(a))
    returns = (adv + values) * mask
    return adv, returns


def whiten(x: Tensor, mask: Tensor, eps: float = 1e-8) -> Tensor:
    """(x - mean)/sqrt(var + eps) over valid tokens, unbiased variance; a single valid token is left as is."""
    m = mask > 0
    n = int(m.sum())
    if n <= 1:
        return x * mask
    vals = x[m]
    mean = vals.mean()
    var = ((vals - mean) ** 2).sum() / (n - 1)
    return (x - mean) * torch.rsqrt(var + eps) * mask
