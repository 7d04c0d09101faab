"""How a mini-batch is cut into micro-batches (forward/backward units), and which rows each data-parallel rank takes.

Fixed size (today's `trainer.micro_batch_size`) cuts consecutive rows. A token budget
(`trainer.max_tokens_per_micro_batch`, like verl's dynamic batch size) sorts the rows by length and packs them so
that rows x longest <= budget: long responses travel few to a micro-batch, short ones many, and right-padding wastes
little. Either way the losses use the mini-batch's global normalisers, so the summed gradient is the same.
"""
from __future__ import annotations


def plan_micro_batches(rows: list[int], lengths: list[int], micro_batch_size: int,
                       max_tokens: int | None = None) -> list[list[int]]:
    """Partition `rows` (indices into the batch, lengths[row] = prompt + response tokens) into micro-batches.

    With max_tokens, rows are taken longest first and a micro-batch grows while (rows + 1) x its longest row stays
    within the budget (a row longer than the budget goes alone); otherwise consecutive chunks of micro_batch_size."""
    if not max_tokens:
        step = max(1, micro_batch_size)
        return [rows[i:i + step] for i in range(0, len(rows), step)]
    ordered = sorted(rows, key=lambda r: (-lengths[r], r))
    plan: list[list[int]] = []
    for r in ordered:
        if plan and (len(plan[-1]) + 1) * lengths[plan[-1][0]] <= max_tokens:
            plan[-1].append(r)
        else:
            plan.append([r])
    return plan


def rank_rows(rows: list[int], rank: int, world_size: int) -> list[int]:
    """This rank's share of a mini-batch: round-robin, so shares differ by at most one row."""
    return rows[rank::world_size]


def padded_cost(plan: list[list[int]], lengths: list[int]) -> int:
    """Tokens the forward passes actually process (rows x longest, padding included)."""
    return sum(len(mb) * max(lengths[r] for r in mb) for mb in plan if mb)
