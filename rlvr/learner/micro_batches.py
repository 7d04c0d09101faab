"""How a mini-batch is cut into micro-batches (forward/backward units), and which rows each data-parallel rank takes.

Fixed size (today's `learner.micro_batch_size`) cuts consecutive rows. A token budget
(`learner.max_tokens_per_micro_batch`, like verl's dynamic batch size) sorts the rows by length and packs them so
that rows x longest <= budget: long responses travel few to a micro-batch, short ones many, and right-padding wastes
little. Padding-free micro-batches (`learner.padding_free`) run as one packed row, so their cost is the sum of their lengths,
not rows x longest, and the budget is on that sum. Either way the losses use the mini-batch's global normalisers, so
the summed gradient is the same.
"""
from __future__ import annotations

from typing import Iterator

import torch


def plan_micro_batches(rows: list[int], lengths: list[int], micro_batch_size: int,
                       max_tokens: int | None = None, packed: bool = False) -> list[list[int]]:
    """Partition `rows` (indices into the batch, lengths[row] = prompt + response tokens) into micro-batches.

    With max_tokens, rows are taken longest first and each goes into a micro-batch whose cost with it stays within
    the budget ((rows + 1) x its longest row; packed: the sum of lengths, first fit); a row longer than the budget
    goes alone. Otherwise consecutive chunks of micro_batch_size."""
    if not max_tokens:
        step = max(1, micro_batch_size)
        return [rows[i:i + step] for i in range(0, len(rows), step)]
    ordered = sorted(rows, key=lambda r: (-lengths[r], r))
    plan: list[list[int]] = []
    for r in ordered:
        # Packed: first fit (a short row fills the room a long one left). Padded: the current micro-batch only,
        # since adding a row to an earlier one costs that one's longest row, not this row's length.
        candidates = plan if packed else plan[-1:]
        home = next((mb for mb in candidates if _cost(mb + [r], lengths, packed) <= max_tokens), None)
        if home is None:
            plan.append([r])
        else:
            home.append(r)
    return plan


def _cost(micro_batch: list[int], lengths: list[int], packed: bool) -> int:
    """Tokens one forward pass processes: rows x longest when right-padded, the sum of lengths when packed."""
    if packed:
        return sum(lengths[r] for r in micro_batch)
    return len(micro_batch) * max(lengths[r] for r in micro_batch)


def rank_rows(rows: list[int], rank: int, world_size: int) -> list[int]:
    """This rank's share of a mini-batch: round-robin, so shares differ by at most one row."""
    return rows[rank::world_size]


def padded_cost(plan: list[list[int]], lengths: list[int], packed: bool = False) -> int:
    """Tokens the forward passes actually process (rows x longest, padding included; packed: the real tokens)."""
    return sum(_cost(mb, lengths, packed) for mb in plan if mb)


def minibatches(group_ids: list[int], prompts_per_minibatch: int | None, epochs: int, generator: torch.Generator
                ) -> Iterator[list[int]]:
    """The rows of each optimizer step of one update, epoch by epoch: whole groups (a group's advantages are
    relative to each other), `prompts_per_minibatch` groups at a time (None: all), in a fresh random order each
    epoch when there is more than one mini-batch or epoch."""
    groups = list(dict.fromkeys(group_ids))
    per_mb = prompts_per_minibatch or len(groups)
    for _ in range(epochs):
        order = [groups[i] for i in torch.randperm(len(groups), generator=generator).tolist()] if (
            epochs > 1 or per_mb < len(groups)) else groups
        for start in range(0, len(order), per_mb):
            chosen = set(order[start:start + per_mb])
            yield [i for i, g in enumerate(group_ids) if g in chosen]


def rank_plan(rows: list[int], lengths: list[int], rank: int, world_size: int, micro_batch_size: int,
              max_tokens: int | None = None, packed: bool = False) -> list[list[int]]:
    """This rank's micro-batches of `rows`, padded with empty ones to the most any rank has, so that every rank
    runs the same number of forward/backward passes (FSDP's collectives stay in step)."""
    plans = [plan_micro_batches(rank_rows(rows, r, world_size), lengths, micro_batch_size, max_tokens, packed)
             for r in range(world_size)]
    mine = plans[rank]
    return mine + [[] for _ in range(max(len(p) for p in plans) - len(mine))]
