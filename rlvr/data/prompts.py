"""Prompt sources: what the driver draws each step, the held-out set, and demonstrations for SFT-style objectives.

Every draw is a pure function of (seed, step), so a resumed run sees exactly the prompts an uninterrupted one would:
the data cursor is the step number.
"""
from __future__ import annotations

import functools
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from data_gen.io import RecordError, read_numbered_records


@dataclass(frozen=True)
class PromptItem:
    id: str
    prompt: str
    gold: str
    solution: str | None = None
    meta: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def demonstration(self, solution_format: str) -> str:
        """The target text an SFT-style objective learns (without EOS; the learner appends it)."""
        if solution_format == "answer":
            return "\\boxed{" + self.gold + "}"
        if self.solution is None:
            raise ValueError(f"item {self.id} has no solution; set data.solution_format=answer")
        return self.solution


class DataError(ValueError):
    pass


@functools.lru_cache(maxsize=8)
def _permutation(n: int, seed: int) -> list[int]:
    perm = list(range(n))
    random.Random(seed).shuffle(perm)
    return perm


class PromptSource:
    """Random access by step over an endless deterministic stream of training items, plus a disjoint held-out set."""

    def __init__(self, items_for: "callable", heldout: list[PromptItem], seed: int):
        self._items_for = items_for
        self.heldout = heldout
        self.seed = seed

    def batch(self, step: int, size: int, round_: int = 0) -> list[PromptItem]:
        """Items for `step` (round_ > 0: the extra draws of dynamic sampling, disjoint from round 0)."""
        return self._items_for(step, size, round_)


def build_prompt_source(data_cfg, heldout_size: int | None = None) -> PromptSource:
    source = data_cfg.source
    heldout_size = heldout_size or data_cfg.heldout_size
    if source == "random_calculation":
        return _random_calculation_source(data_cfg, heldout_size)
    if source in ("jsonl", "parquet"):
        return _file_source(data_cfg, heldout_size)
    raise DataError(f"data.source={source!r}; choose random_calculation, jsonl or parquet")


def _format(template: str, fields: dict[str, Any], where: str) -> str:
    try:
        return template.format(**fields)
    except KeyError as e:
        raise DataError(f"data.template refers to {{{e.args[0]}}}, which {where} does not have; "
                        f"available fields: {sorted(fields)}") from None


def _random_calculation_source(cfg, heldout_size: int) -> PromptSource:
    from data_gen.random_calculation import RandomCalculationConfig, stream_problems

    rc = RandomCalculationConfig(family=cfg.family, max_int=cfg.max_operand, operators=cfg.operators)
    levels = list(cfg.levels)

    def to_item(p) -> PromptItem:
        fields = {"problem": p.problem, "problem_text": p.problem_text, "level": p.level}
        return PromptItem(id=p.id, prompt=_format(cfg.template, fields, "a RandomCalculation problem"),
                          gold=p.answer, solution=p.solution, meta={"level": p.level})

    heldout_stream = stream_problems(cfg.seed, levels, rc, split="test")
    heldout = [to_item(next(heldout_stream)) for _ in range(heldout_size)]
    streams = {0: stream_problems(cfg.seed, levels, rc, split="train"),
               # Rounds > 0 (dynamic-sampling refills) use a separate stream so round 0 of every step is unchanged.
               1: stream_problems(cfg.seed + 1_000_003, levels, rc, split="train")}
    pools: dict[int, list[PromptItem]] = {0: [], 1: []}
    exhausted: dict[int, bool] = {0: False, 1: False}

    def item(which: int, k: int) -> PromptItem:
        """Position k of an endless stream: fresh unique problems while the family has them, then epochs over
        the finite pool in a seeded order (small families, e.g. easy level 1, have ~14k train problems)."""
        pool = pools[which]
        while not exhausted[which] and len(pool) <= k:
            try:
                pool.append(to_item(next(streams[which])))
            except (RuntimeError, StopIteration):
                exhausted[which] = True
        if k < len(pool):
            return pool[k]
        epoch, pos = divmod(k - len(pool), len(pool))
        return pool[_permutation(len(pool), cfg.seed * 7919 + epoch + which)[pos]]

    def items_for(step: int, size: int, round_: int) -> list[PromptItem]:
        which = 0 if round_ == 0 else 1
        # A fixed budget of refill slots per step keeps the mapping a pure function of (step, round).
        start = step * size if round_ == 0 else (step * 8 + round_ - 1) * size
        return [item(which, k) for k in range(start, start + size)]

    return PromptSource(items_for, heldout, cfg.seed)


def load_records(path: str | Path) -> list[dict[str, Any]]:
    """A JSONL or Parquet file of problems, each record with its `_line` (malformed lines: DataError at file:line)."""
    if not Path(path).exists():
        raise DataError(f"data.path={str(path)!r} does not exist")
    try:
        return [{**rec, "_line": lineno} for lineno, rec in read_numbered_records(path)]
    except RecordError as e:
        raise DataError(str(e)) from None


def _file_source(cfg, heldout_size: int) -> PromptSource:
    if not cfg.path:
        raise DataError("data.path is required when data.source is jsonl or parquet")
    records = load_records(cfg.path)
    items = []
    for i, rec in enumerate(records):
        for key in (cfg.prompt_key, cfg.answer_key):
            if key not in rec:
                where = f"{cfg.path}:{rec.get('_line', i + 1)}"
                raise DataError(f"{where}: missing field {key!r} (data.prompt_key/data.answer_key); "
                                f"fields present: {sorted(k for k in rec if k != '_line')}")
        fields = {k: v for k, v in rec.items() if k != "_line"}
        fields.setdefault("problem", rec[cfg.prompt_key])
        items.append(PromptItem(id=str(rec.get("id", rec.get("unique_id", i))),
                                prompt=_format(cfg.template, fields, f"{cfg.path}:{rec.get('_line', i + 1)}"),
                                gold=str(rec[cfg.answer_key]), solution=rec.get(cfg.solution_key)))
    rng = random.Random(cfg.seed)
    order = list(range(len(items)))
    rng.shuffle(order)
    n_held = min(heldout_size, len(items) // 5)
    heldout = [items[i] for i in order[:n_held]]
    train = [items[i] for i in order[n_held:]]
    if not train:
        raise DataError(f"data.path={cfg.path!r} has {len(items)} problems: too few for a training split")

    def items_for(step: int, size: int, round_: int) -> list[PromptItem]:
        # Epoch e is a seeded permutation; position k of the endless stream is (e, k mod len). Dynamic-sampling
        # refills (round_ > 0) read ahead of round 0 by a fixed offset per step.
        start = step * size + round_ * len(train) // 2
        out = []
        for k in range(start, start + size):
            epoch, pos = divmod(k, len(train))
            out.append(train[_permutation(len(train), cfg.seed * 7919 + epoch)[pos]])
        return out

    return PromptSource(items_for, heldout, cfg.seed)
