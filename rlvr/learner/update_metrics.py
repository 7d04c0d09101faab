"""What one update reports: the objective's metrics averaged over micro-batches (and ranks), the loss per
mini-batch, gradient norms, token-weighted entropy."""
from __future__ import annotations

import math

import torch


class UpdateMetrics:
    def __init__(self, dist):
        self.dist = dist
        self.sums: dict[str, float] = {}
        self.counts: dict[str, int] = {}
        self.losses: list[float] = []
        self.grad_norms: list[float] = []
        self.entropy_sum = self.entropy_tokens = 0.0
        self.token_sums: dict[str, list[float]] = {}  # name -> [sum over tokens, tokens]

    def add_micro_batch(self, metrics: dict, entropy: torch.Tensor, mask: torch.Tensor) -> None:
        for k, v in metrics.items():
            if isinstance(v, torch.Tensor):
                v = float(v.detach())
            if isinstance(v, (int, float)) and math.isfinite(v):
                self.sums[k] = self.sums.get(k, 0.0) + v
                self.counts[k] = self.counts.get(k, 0) + 1
        self.entropy_sum += float((entropy.detach() * mask).sum())
        self.entropy_tokens += float(mask.sum())

    def add_token_sum(self, name: str, total: torch.Tensor, tokens: torch.Tensor) -> None:
        """A per-token quantity reported as its mean over every token of the update (all micro-batches, all
        ranks), not as a mean of micro-batch means."""
        acc = self.token_sums.setdefault(name, [0.0, 0.0])
        acc[0] += float(total)
        acc[1] += float(tokens)

    def add_optimizer_step(self, loss: float, grad_norm: torch.Tensor) -> None:
        """`loss`: this rank's sum of the mini-batch's micro-batch losses (partial sums of the mini-batch loss)."""
        self.losses.append(self.dist.sum([loss])[0])
        # clip_grad_norm_'s result is a DTensor under FSDP
        self.grad_norms.append(float(grad_norm.full_tensor() if hasattr(grad_norm, "full_tensor") else grad_norm))

    def result(self, lr: float) -> dict[str, float]:
        merged_sums: dict[str, float] = {}
        merged_counts: dict[str, int] = {}
        for s, c in self.dist.gather((self.sums, self.counts)):
            for k, v in s.items():
                merged_sums[k] = merged_sums.get(k, 0.0) + v
                merged_counts[k] = merged_counts.get(k, 0) + c[k]
        out = {k: v / merged_counts[k] for k, v in merged_sums.items()}
        names = sorted(self.token_sums)
        if names:  # every rank reports the same names: the same objective and batch fields
            sums = self.dist.sum([x for n in names for x in self.token_sums[n]])
            out.update({n: sums[2 * i] / max(1.0, sums[2 * i + 1]) for i, n in enumerate(names)})
        entropy_sum, entropy_tokens = self.dist.sum([self.entropy_sum, self.entropy_tokens])
        out.update(entropy=entropy_sum / max(1.0, entropy_tokens), loss=sum(self.losses) / max(1, len(self.losses)),
                   grad_norm=sum(self.grad_norms) / max(1, len(self.grad_norms)),
                   optimizer_steps=float(len(self.losses)), lr=lr)
        return out
