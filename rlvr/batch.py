"""The record that flows through one training step, and its conversion to padded tensors for the learner.

The driver fills it in stages: the rollout (token ids, sampling log-probs, the policy_version that sampled them),
the reward (rewards, the reward's positive label, the true verdict as a metric), the learner's no-grad scoring pass
(old/reference log-probs, values), then the advantages, computed once on the driver; learner ranks receive it finished.

A sequence is prompt + response. The learner only scores response tokens: response token j of sequence b sits at
input position P_b + j and is predicted by the logits at position P_b + j - 1, where P_b is the prompt length.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class TrainBatch:
    prompt_ids: list[list[int]]
    response_ids: list[list[int]]
    group_ids: list[int]
    # Filled for rollouts (empty for demonstrations):
    sampling_logprobs: list[list[float]] = field(default_factory=list)
    truncated: list[bool] = field(default_factory=list)
    rewards: list[float] = field(default_factory=list)
    correct: list[bool] = field(default_factory=list)    # the verifier's verdict: logged, never trained on
    positive: list[bool] = field(default_factory=list)   # the trained reward's binary label (empty if continuous)
    policy_version: int = 0                              # weight syncs the sampling engine had received
    # Filled on the driver before the update, [B, T] over response tokens:
    old_logprobs: torch.Tensor | None = None
    ref_logprobs: torch.Tensor | None = None
    values: torch.Tensor | None = None
    advantages: torch.Tensor | None = None
    returns: torch.Tensor | None = None
    is_weights: torch.Tensor | None = None  # truncated importance weights pi_learner / pi_sampler
    group_accuracy: torch.Tensor | None = None  # [B] each sample's group's positive rate (NFT's r-hat)

    def __len__(self) -> int:
        return len(self.response_ids)


@dataclass
class PaddedBatch:
    input_ids: torch.Tensor       # [B, L] prompt + response, right-padded
    attention_mask: torch.Tensor  # [B, L]
    positions: torch.Tensor       # [B, T] index into the logits sequence dim that predicts response token j
    response_ids: torch.Tensor    # [B, T] response tokens, 0 at pads
    mask: torch.Tensor            # [B, T] float, 1 on real response tokens

    def to(self, device) -> "PaddedBatch":
        return PaddedBatch(*(t.to(device) for t in (self.input_ids, self.attention_mask, self.positions,
                                                    self.response_ids, self.mask)))


def group_positive_rate(group_ids: list[int], positive: list[bool]) -> torch.Tensor:
    """[B] each sample's group's fraction of positive samples, under the trained reward's label."""
    by_group: dict[int, list[bool]] = {}
    for g, c in zip(group_ids, positive):
        by_group.setdefault(g, []).append(c)
    rate = {g: sum(v) / len(v) for g, v in by_group.items()}
    return torch.tensor([rate[g] for g in group_ids], dtype=torch.float32)


def response_columns(batch: TrainBatch) -> int:
    """T of the batch's [B, T] response tensors: the longest response (at least 1)."""
    return max(1, max(len(r) for r in batch.response_ids))


def padded_sampling_logprobs(batch: TrainBatch, width: int | None = None) -> torch.Tensor | None:
    """The sampler's log-prob of each response token as [B, T] (0 at padding); None for a batch without them. One
    per token, or the importance weights against the learner's would be misaligned."""
    if not batch.sampling_logprobs:
        return None
    out = torch.zeros(len(batch), width or response_columns(batch))
    for b, lp in enumerate(batch.sampling_logprobs):
        if len(lp) != len(batch.response_ids[b]):
            raise ValueError(f"rollout {b}: the engine returned {len(lp)} sampling log-probs for a "
                             f"{len(batch.response_ids[b])}-token response; importance weights need one per token")
        out[b, :len(lp)] = torch.tensor(lp, dtype=out.dtype)
    return out


def pad_batch(batch: TrainBatch, pad_id: int, response_width: int | None = None) -> PaddedBatch:
    """Right-pad prompt+response sequences; response tensors are [B, T] with T = longest response (or given)."""
    B = len(batch)
    seqs = [p + r for p, r in zip(batch.prompt_ids, batch.response_ids)]
    L = max(len(s) for s in seqs)
    T = response_width or response_columns(batch)
    input_ids = torch.full((B, L), pad_id, dtype=torch.long)
    attention = torch.zeros((B, L), dtype=torch.long)
    positions = torch.zeros((B, T), dtype=torch.long)
    response = torch.zeros((B, T), dtype=torch.long)
    mask = torch.zeros((B, T), dtype=torch.float32)
    for b, (p, r) in enumerate(zip(batch.prompt_ids, batch.response_ids)):
        s = p + r
        input_ids[b, :len(s)] = torch.tensor(s)
        attention[b, :len(s)] = 1
        n = len(r)
        if n:
            response[b, :n] = torch.tensor(r)
            positions[b, :n] = torch.arange(len(p) - 1, len(p) - 1 + n)
            mask[b, :n] = 1.0
    return PaddedBatch(input_ids, attention, positions, response, mask)


def response_logits(logits: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """[B, L, V] logits -> [B, T, V] logits at the positions that predict each response token."""
    return logits.gather(1, positions[:, :, None].expand(-1, -1, logits.shape[-1]))


def token_logprobs(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """log softmax(logits)[token] for [B, T, V] logits and [B, T] tokens (fp32 math)."""
    logits = logits.float()
    return logits.gather(-1, tokens[..., None]).squeeze(-1) - torch.logsumexp(logits, dim=-1)
