"""Prompt sources: what the driver draws each step, the held-out set, and demonstrations for SFT-style objectives.

Every draw is a pure function of (seed, step), so a resumed run sees exactly the prompts an uninterrupted one would:
the data cursor is the step number.
"""
from __future__ import annotations

import functools
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


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
    train_stream = stream_problems(cfg.seed, levels, rc, split="train")
    cache: list[PromptItem] = []
    # Rounds > 0 (dynamic sampling refills) come from a separate stream so round 0 of every step is unchanged.
    extra_stream = stream_problems(cfg.seed + 1_000_003, levels, rc, split="train")
    extra_cache: list[PromptItem] = []

    def items_for(step: int, size: int, round_: int) -> list[PromptItem]:
        stream, store = (train_stream, cache) if round_ == 0 else (extra_stream, extra_cache)
        if round_ == 0:
            start = step * size
        else:  # a fixed budget of refill slots per step keeps the mapping pure in (step, round)
            start = (step * 8 + round_ - 1) * size
        while len(store) < start + size:
            store.append(to_item(next(stream)))
        return store[start:start + size]

    return PromptSource(items_for, heldout, cfg.seed)


def load_records(path: str | Path, source: str = "jsonl") -> list[dict[str, Any]]:
    """Read a JSONL or Parquet file of problems; a malformed line is reported with its file and line number."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"data.path={str(path)!r} does not exist")
    if source == "parquet" or path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    records = []
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataError(f"{path}:{lineno}: not valid JSON ({e.msg}); fix or delete that line") from None
            if not isinstance(rec, dict):
                raise DataError(f"{path}:{lineno}: expected a JSON object, got {type(rec).__name__}")
            records.append({**rec, "_line": lineno})
    return records


def _file_source(cfg, heldout_size: int) -> PromptSource:
    if not cfg.path:
        raise DataError("data.path is required when data.source is jsonl or parquet")
    records = load_records(cfg.path, cfg.source)
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

    @functools.lru_cache(maxsize=4)
    def permutation(epoch: int) -> list[int]:
        perm = list(range(len(train)))
        random.Random(cfg.seed * 7919 + epoch).shuffle(perm)
        return perm

    def items_for(step: int, size: int, round_: int) -> list[PromptItem]:
        # Epoch e is a seeded permutation; position k of the endless stream is (e, k mod len). Dynamic-sampling
        # refills (round_ > 0) read ahead of round 0 by a fixed offset per step.
        start = step * size + round_ * len(train) // 2
        out = []
        for k in range(start, start + size):
            epoch, pos = divmod(k, len(train))
            out.append(train[permutation(epoch)[pos]])
        return out

    return PromptSource(items_for, heldout, cfg.seed)
