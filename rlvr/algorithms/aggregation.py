"""Loss aggregation modes (verl `loss_agg_mode`, docs/ALGORITHMS.md §0). Every mode divides by a mini-batch-wide or
constant denominator, so summing micro-batch losses gives exactly the mini-batch loss."""
from __future__ import annotations

import torch
from torch import Tensor

AGG_MODES = ("token-mean", "seq-mean-token-mean", "seq-mean-token-sum", "seq-mean-token-sum-norm")


def masked_zero(x: Tensor, mask: Tensor) -> Tensor:
    """x where mask is set, exact 0 elsewhere (a garbage or infinite pad value never leaks, not even as NaN grad)."""
    return torch.where(mask > 0, x, torch.zeros_like(x))


def aggregate(loss_mat: Tensor, mask: Tensor, mode: str, global_tokens: float | None = None,
              global_seqs: float | None = None, constant_len: float | None = None) -> Tensor:
    """Reduce a [B,T] per-token loss to a scalar.

    Without global_* the micro-batch is taken as the whole batch. seq-mean-token-mean drops responses with no
    valid token from the numerator (§12b.6); its denominator is global_seqs (or the local count of non-empty
    responses when global_seqs is None).
    """
    mask = mask.to(loss_mat.dtype)
    x = masked_zero(loss_mat, mask)
    if mode == "token-mean":
        n = float(mask.sum()) if global_tokens is None else float(global_tokens)
        return x.sum() / max(n, 1.0)
    lengths = mask.sum(-1)
    nonempty = lengths > 0
    if mode == "seq-mean-token-mean":
        per_seq = x.sum(-1) / lengths.clamp(min=1.0)
        n = float(nonempty.sum()) if global_seqs is None else float(global_seqs)
        return masked_zero(per_seq, nonempty).sum() / max(n, 1.0)
    n_seq = float(mask.shape[0]) if global_seqs is None else float(global_seqs)
    if mode == "seq-mean-token-sum":
        return x.sum() / max(n_seq, 1.0)
    if mode == "seq-mean-token-sum-norm":
        if constant_len is None or constant_len <= 0:
            raise ValueError("seq-mean-token-sum-norm needs a positive constant length: set "
                             "algorithm.max_response_length (Dr. GRPO's L, §12.1)")
        return x.sum() / (max(n_seq, 1.0) * float(constant_len))
    raise ValueError(f"unknown algorithm.loss_agg_mode '{mode}'; known: {', '.join(AGG_MODES)}")


def masked_mean(x: Tensor, mask: Tensor) -> Tensor:
    """Mean over valid positions (for metrics); 0 for an empty mask."""
    return masked_zero(x, mask).sum() / mask.sum().clamp(min=1.0)
