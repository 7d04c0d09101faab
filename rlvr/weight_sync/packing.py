"""Tensors laid end to end in flat buckets, the unit that the collective and ipc transports move: what is sent
(name, shape, dtype in the rollout dtype), how it is grouped, and the inverse."""
from __future__ import annotations

import torch


def tensor_meta(state: dict[str, torch.Tensor], dtype: str) -> list[tuple[str, tuple[int, ...], str]]:
    """(name, shape, dtype) of every tensor as it will be sent: floating tensors in the rollout dtype."""
    return [(k, tuple(v.shape), dtype if v.is_floating_point() else str(v.dtype).removeprefix("torch."))
            for k, v in state.items()]


def numel(shape) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def buckets(meta, bucket_bytes: int) -> list[list[int]]:
    """Consecutive tensors of one dtype, up to bucket_bytes each (a larger tensor is a bucket of its own)."""
    out: list[list[int]] = []
    size = 0
    for i, (_, shape, dtype) in enumerate(meta):
        nbytes = numel(shape) * getattr(torch, dtype).itemsize
        if out and meta[out[-1][0]][2] == dtype and size + nbytes <= bucket_bytes:
            out[-1].append(i)
            size += nbytes
        else:
            out.append([i])
            size = nbytes
    return out


def flatten(state: dict[str, torch.Tensor], entries, out: torch.Tensor | None = None) -> torch.Tensor:
    """One bucket: the tensors `entries` ((name, shape, dtype) from tensor_meta) name, cast and laid end to end."""
    dtype = getattr(torch, entries[0][2])
    return torch.cat([state[name].detach().reshape(-1).to(dtype) for name, _, _ in entries], out=out)


def unflatten(flat: torch.Tensor, entries) -> list[tuple[str, torch.Tensor]]:
    """The inverse of flatten: (name, view into flat) for each entry."""
    out, offset = [], 0
    for name, shape, _ in entries:
        n = numel(shape)
        out.append((name, flat[offset:offset + n].view(shape)))
        offset += n
    return out
