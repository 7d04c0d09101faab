"""Schulman's KL estimators on sampled tokens (docs/ALGORITHMS.md §0). Only k1 is fit for KL-in-reward; as a loss,
k3's gradient estimates KL(ref||pi) and k2's (and k3+'s) KL(pi||ref)."""
from __future__ import annotations

import torch
from torch import Tensor


def k1(logprob: Tensor, ref_logprob: Tensor) -> Tensor:
    return logprob - ref_logprob


def k2(logprob: Tensor, ref_logprob: Tensor) -> Tensor:
    return 0.5 * (logprob - ref_logprob) ** 2


def k3(logprob: Tensor, ref_logprob: Tensor) -> Tensor:
    """e^d - d - 1 with d = log ref - log pi; verl's clamps (d to ±20, output to ±10) keep it finite."""
    d = torch.clamp(ref_logprob - logprob, -20.0, 20.0)
    return torch.clamp(torch.exp(d) - d - 1.0, -10.0, 10.0)


def k3_plus(logprob: Tensor, ref_logprob: Tensor) -> Tensor:
    """k3's value with k2's gradient (straight-through), i.e. an unbiased reverse-KL gradient."""
    grad_part = k2(logprob, ref_logprob)
    return grad_part + (k3(logprob, ref_logprob) - grad_part).detach()


KL_ESTIMATORS = {"k1": k1, "kl": k1, "k2": k2, "mse": k2, "k3": k3, "low_var_kl": k3, "k3+": k3_plus}


def kl_penalty(logprob: Tensor, ref_logprob: Tensor, kind: str) -> Tensor:
    if kind not in KL_ESTIMATORS:
        raise ValueError(f"unknown KL estimator algorithm.kl_loss_type='{kind}'; known: {', '.join(KL_ESTIMATORS)}")
    return KL_ESTIMATORS[kind](logprob, ref_logprob)
