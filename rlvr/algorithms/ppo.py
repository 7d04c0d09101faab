"""PPO pieces (docs/ALGORITHMS.md §2): KL-in-reward token rewards, fixed/adaptive KL controllers, the clipped value loss."""
from __future__ import annotations

import torch
from torch import Tensor

from .kl import k1


def kl_in_reward(scores: Tensor, old_logprobs: Tensor, ref_logprobs: Tensor | None, mask: Tensor,
                 beta: float) -> tuple[Tensor, Tensor]:
    """r_t = score·1[t = last valid] - beta·k1_t. Returns (token rewards [B,T], per-token k1 [B,T])."""
    B, T = mask.shape
    rewards = torch.zeros_like(mask, dtype=old_logprobs.dtype)
    lengths = mask.sum(-1).long()
    positions = torch.arange(T, device=mask.device).expand(B, T)
    last = torch.where(mask > 0, positions, torch.full_like(positions, -1)).max(-1).values
    has = lengths > 0
    rows = torch.arange(B, device=mask.device)[has]
    rewards[rows, last[has]] = scores[has].to(rewards.dtype)
    kl = torch.zeros_like(rewards) if ref_logprobs is None else k1(old_logprobs, ref_logprobs) * mask
    return rewards - beta * kl, kl


class FixedKLController:
    def __init__(self, value: float):
        self.value = float(value)

    def update(self, current_kl: float, n_steps: int) -> None:
        pass

    def state_dict(self) -> dict:
        return {"value": self.value}

    def load_state_dict(self, d: dict) -> None:
        self.value = float(d["value"])


class AdaptiveKLController(FixedKLController):
    """beta <- beta·(1 + clip(KL/target - 1, -0.2, 0.2)·n_steps/horizon) (Ziegler et al., verl)."""

    def __init__(self, value: float, target: float, horizon: float):
        if target <= 0 or horizon <= 0:
            raise ValueError("algorithm.kl_target and algorithm.kl_horizon must be > 0 for kl_ctrl=adaptive")
        super().__init__(value)
        self.target, self.horizon = float(target), float(horizon)

    def update(self, current_kl: float, n_steps: int) -> None:
        error = min(max(current_kl / self.target - 1.0, -0.2), 0.2)
        self.value *= 1.0 + error * n_steps / self.horizon


def value_loss_matrix(values: Tensor, old_values: Tensor, returns: Tensor, clip: float | None
                      ) -> tuple[Tensor, Tensor]:
    """½·max((V-G)², (clip(V, V_old±eps)-G)²) per token, and where the clipped branch was taken."""
    unclipped = (values - returns) ** 2
    if clip is None:
        return 0.5 * unclipped, torch.zeros_like(unclipped)
    v_clipped = old_values + torch.clamp(values - old_values, -clip, clip)
    clipped = (v_clipped - returns) ** 2
    return 0.5 * torch.maximum(unclipped, clipped), (clipped > unclipped).to(values.dtype)
