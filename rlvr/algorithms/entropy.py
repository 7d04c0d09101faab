"""Token entropy of [B,T,V] logits (entropy bonus, one-shot RLVR's c_H = 0.001)."""
from __future__ import annotations

import torch
from torch import Tensor


def token_entropy(logits: Tensor) -> Tensor:
    """H = -sum_v p log p per position, from log_softmax so large logits stay finite."""
    logp = torch.log_softmax(logits.float(), dim=-1)
    return -(logp.exp() * logp).sum(-1)
