"""Supervised objectives on demonstrations or own samples (docs/ALGORITHMS.md §5-7): NLL, DFT's -sg(p)·log p, and
ASFT's full-vocabulary KL(pi_ref || pi_theta) anchor."""
from __future__ import annotations

import torch
from torch import Tensor


def nll_tokens(logprobs: Tensor) -> Tensor:
    return -logprobs


def dft_tokens(logprobs: Tensor) -> Tensor:
    """-sg(p)·log p: SFT's gradient with the 1/p importance weight cancelled (its grad wrt log p is -p)."""
    return -torch.exp(logprobs).detach() * logprobs


def forward_kl_full(logits: Tensor, ref_logits: Tensor) -> Tensor:
    """KL(pi_ref || pi_theta) = sum_v p_ref (log p_ref - log p_theta) per position [B,T] (ASFT's direction,
    mode-covering; its gradient is -sum_v p_ref grad log p_theta)."""
    logp = torch.log_softmax(logits.float(), dim=-1)
    ref_logp = torch.log_softmax(ref_logits.float(), dim=-1).detach()
    return (ref_logp.exp() * (ref_logp - logp)).sum(-1)


def reverse_kl_full(logits: Tensor, ref_logits: Tensor) -> Tensor:
    """KL(pi_theta || pi_ref) per position, the direction ASFT's ablation found worse (for comparison)."""
    logp = torch.log_softmax(logits.float(), dim=-1)
    ref_logp = torch.log_softmax(ref_logits.float(), dim=-1).detach()
    return (logp.exp() * (logp - ref_logp)).sum(-1)
