"""Prompt sources: what the driver draws each step, the held-out set, and demonstrations for SFT-style objectives.

Every draw is a pure function of (seed, step), so a resumed run sees exactly the prompts an uninterrupted one would:
the data cursor is the step number.
"""
from __future__ import annotations

import functools
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

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
        self.heldout_note: str | None = None  # set where the held-out set is not disjoint from training (tiny data)

    def batch(self, step: int, size: int, round_: int = 0) -> list[PromptItem]:
        """Items for `step` (round_ > 0: the extra draws of dynamic sampling, disjoint from round 0)."""
        return self._items_for(step, size, round_)


def build_prompt_source(data_cfg, heldout_size: int = 200, model_path: str | None = None,
                        tokenizer=None) -> PromptSource:
    """The run's prompts, `heldout_size` of them held out (trainer.eval_size). `model_path` (or `tokenizer`) lets
    prompts go through the model's chat template (data.chat_template=auto uses it when the tokenizer has one)."""
    source = data_cfg.source
    formatter = PromptFormatter.from_config(data_cfg, tokenizer=tokenizer, model_path=model_path)
    if source == "random_calculation":
        return _random_calculation_source(data_cfg, heldout_size, formatter)
    if source in ("jsonl", "parquet", "hf"):
        return _file_source(data_cfg, heldout_size, formatter)
    raise DataError(f"data.source={source!r}; choose random_calculation, jsonl, parquet or hf")


_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")


def fill_template(template: str, fields: dict[str, Any], where: str = "the record",
                  what: str = "data.template") -> str:
    """Replace each `{name}` by its field; every other brace stays as written, so LaTeX such as `\\boxed{}` or
    `\\frac{1}{2}` needs no escaping (`{{`/`}}` still mean one literal brace, as in str.format).

    Why not str.format: it reads `\\boxed{}` as a positional field and fails with "Replacement index 0 out of range".
    """
    def substitute(m: re.Match) -> str:
        if m.group(1) is None:
            return m.group(0)[0]
        name = m.group(1)
        if name not in fields:
            raise DataError(f"{what} refers to {{{name}}}, which {where} does not have; available fields: "
                            f"{sorted(fields)} (write {{{{{name}}}}} for literal braces)")
        return str(fields[name])
    return _PLACEHOLDER.sub(substitute, template)


CHAT_MODES = {"auto": "auto", "always": "always", "true": "always", "never": "never", "false": "never"}


class PromptFormatter:
    """Turns a problem's fields into the prompt text: through the tokenizer's chat template (system prompt + the
    filled template as the user turn) when the model has one, else the filled template as plain text.

    Chat models (Qwen2.5-Math-Instruct, ...) answer far better inside their chat markup; a model without a chat
    template gets the plain text. The embedded tiny model's template passes the text through, so its prompts
    ("12+7=") are unchanged.
    """

    def __init__(self, template: str, system_prompt: str | None = None, mode: str = "auto", tokenizer=None):
        self.template, self.system_prompt = template, system_prompt or None
        has_chat = bool(tokenizer is not None and getattr(tokenizer, "chat_template", None))
        if mode == "always" and not has_chat:
            raise DataError("data.chat_template=always but the model's tokenizer has no chat_template; "
                            "set data.chat_template=auto (plain template) or use a chat model")
        self.tokenizer = tokenizer if has_chat and mode != "never" else None

    @classmethod
    def from_config(cls, data_cfg, tokenizer=None, model_path: str | None = None) -> "PromptFormatter":
        raw = str(data_cfg.get("chat_template", "auto")).lower()
        if raw not in CHAT_MODES:
            raise DataError(f"data.chat_template={raw!r}; choose auto, always or never")
        mode = CHAT_MODES[raw]
        if tokenizer is None and model_path and mode != "never":
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(model_path)
        return cls(data_cfg.template, data_cfg.get("system_prompt"), mode, tokenizer)

    def __call__(self, fields: dict[str, Any], where: str, messages: list[dict] | None = None) -> str:
        """`messages` (a record whose prompt is already a chat, as in verl's parquet files) bypasses the template."""
        if messages is None:
            user = fill_template(self.template, fields, where)
            messages = ([{"role": "system", "content": self.system_prompt}] if self.system_prompt else []) + [
                {"role": "user", "content": user}]
        if self.tokenizer is not None:
            return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return "\n\n".join(str(m["content"]) for m in messages)


MAX_ID_SCAN = 1_000_000  # problems of an endless training stream searched for data.train_problem_ids


def select_problems(items: Iterable[PromptItem], ids: Sequence[str], where: str) -> list[PromptItem]:
    """The problems named by data.train_problem_ids, in that order (read up to MAX_ID_SCAN items of `items`).

    One-shot RLVR trains on problems picked from a training run's record (`python -m bench one-shot`); an id that is
    not among the training problems is a one-line error before anything starts."""
    wanted = [str(i) for i in ids]
    wanted_set = set(wanted)
    found: dict[str, PromptItem] = {}
    scanned, items = 0, iter(items)
    while scanned < MAX_ID_SCAN and len(found) < len(wanted_set):
        try:
            it = next(items)
        except (StopIteration, RuntimeError):  # RandomCalculation raises RuntimeError once a small family runs out
            break
        scanned += 1
        if it.id in wanted_set:
            found.setdefault(it.id, it)
    missing = [i for i in wanted if i not in found]
    if missing:
        raise DataError(f"data.train_problem_ids: {missing[:3]} not among the training problems of {where} "
                        f"(searched {scanned:,}); ids come from the training run's problems.jsonl")
    return [found[i] for i in wanted]


def _random_calculation_source(cfg, heldout_size: int, formatter: PromptFormatter) -> PromptSource:
    from data_gen.random_calculation import RandomCalculationConfig, stream_problems

    rc = RandomCalculationConfig(family=cfg.family, max_int=cfg.max_operand, operators=cfg.operators)
    levels = list(cfg.levels)

    def to_item(p) -> PromptItem:
        fields = {"problem": p.problem, "problem_text": p.problem_text, "level": p.level}
        return PromptItem(id=p.id, prompt=formatter(fields, "a RandomCalculation problem"),
                          gold=p.answer, solution=p.solution, meta={"level": p.level})

    if cfg.get("val_path"):
        heldout = _validation_items(cfg, formatter, heldout_size)
    else:
        heldout_stream = stream_problems(cfg.seed, levels, rc, split="test")
        heldout = [to_item(next(heldout_stream)) for _ in range(heldout_size)]
    streams = {0: stream_problems(cfg.seed, levels, rc, split="train"),
               # Rounds > 0 (dynamic-sampling refills) use a separate stream so round 0 of every step is unchanged.
               1: stream_problems(cfg.seed + 1_000_003, levels, rc, split="train")}
    pools: dict[int, list[PromptItem]] = {0: [], 1: []}
    exhausted: dict[int, bool] = {0: False, 1: False}
    limit = int(cfg.get("train_problems") or 0)
    if cfg.get("train_problem_ids"):
        chosen = select_problems((to_item(p) for p in stream_problems(cfg.seed, levels, rc, split="train")),
                                 cfg.train_problem_ids, f"RandomCalculation {cfg.family} levels {levels}")
        pools[0] = chosen[:limit] if limit else chosen
        exhausted[0], limit = True, len(pools[0])

    def item(which: int, k: int) -> PromptItem:
        """Position k of an endless stream: fresh unique problems while the family has them, then epochs over
        the finite pool in a seeded order (small families, e.g. easy level 1, have ~14k train problems).
        data.train_problems=N makes the pool the stream's first N problems, for refills too."""
        if limit:
            which = 0
        pool = pools[which]
        while not exhausted[which] and len(pool) <= k:
            try:
                pool.append(to_item(next(streams[which])))
            except (RuntimeError, StopIteration):
                exhausted[which] = True
            if limit and len(pool) >= limit:
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


def load_records(path: str | Path, source: str = "jsonl", split: str = "train") -> list[dict[str, Any]]:
    """The problems of a file, each record with its `_line` (malformed lines: DataError at file:line).

    source jsonl/parquet: the project's own reader. source hf: `datasets` (a `save_to_disk` directory, a directory
    of data files, a .parquet/.jsonl/.json file, or a hub name where a hub is reachable), `_line` = row number.
    """
    if source == "hf":
        return _load_hf_records(str(path), split)
    if not Path(path).exists():
        raise DataError(f"data.path={str(path)!r} does not exist")
    try:
        return [{**rec, "_line": lineno} for lineno, rec in read_numbered_records(path)]
    except RecordError as e:
        raise DataError(str(e)) from None


HF_FILE_BUILDERS = {".parquet": "parquet", ".jsonl": "json", ".json": "json", ".csv": "csv"}


def _load_hf_records(path: str, split: str) -> list[dict[str, Any]]:
    try:
        import datasets
    except ImportError:
        raise DataError("data.source=hf needs the `datasets` package: pip install datasets "
                        "(or use data.source=jsonl / parquet for a single file)") from None
    local = Path(path)
    try:
        if local.is_dir() and ((local / "dataset_dict.json").exists() or (local / "state.json").exists()):
            ds = datasets.load_from_disk(str(local))            # written by Dataset(Dict).save_to_disk
            if isinstance(ds, datasets.DatasetDict):
                if split not in ds:
                    raise DataError(f"data.path={path!r} has splits {sorted(ds)}, not data.split={split!r}")
                ds = ds[split]
        elif local.is_file():
            builder = HF_FILE_BUILDERS.get(local.suffix)
            if builder is None:
                raise DataError(f"data.path={path!r}: data.source=hf reads {sorted(HF_FILE_BUILDERS)} files or a "
                                f"dataset directory")
            ds = datasets.load_dataset(builder, data_files=str(local), split="train")
        else:
            ds = datasets.load_dataset(path, split=split)       # a directory of data files, or a hub dataset
    except DataError:
        raise
    except Exception as e:  # datasets raises many types (FileNotFoundError, ValueError, DatasetNotFoundError...)
        raise DataError(f"data.path={path!r} (data.source=hf, data.split={split!r}) could not be loaded: "
                        f"{type(e).__name__}: {e}") from None
    return [{**row, "_line": i + 1} for i, row in enumerate(ds)]


def _lookup(rec: dict[str, Any], key: str) -> Any:
    """A field by name; `a.b` reaches into nested records (verl's parquet files keep the answer in
    reward_model.ground_truth). KeyError when absent."""
    if key in rec:
        return rec[key]
    value: Any = rec
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(key)
        value = value[part]
    return value


def _as_messages(value: Any) -> list[dict] | None:
    """A prompt that already is a chat (a list of {role, content}), or None."""
    if isinstance(value, (list, tuple)) and value and all(isinstance(m, dict) and "content" in m for m in value):
        return [{"role": m.get("role", "user"), "content": m["content"]} for m in value]
    return None


def _file_items(cfg, path: str, formatter: PromptFormatter, split: str = "train") -> list[PromptItem]:
    """Every record of `path` as a PromptItem; a missing field names file:line, the key and what is present."""
    source = cfg.source if cfg.source != "random_calculation" else ("hf" if Path(path).is_dir() else "jsonl")
    records = load_records(path, source, split)
    items = []
    for i, rec in enumerate(records):
        where = f"{path}:{rec.get('_line', i + 1)}"
        values = {}
        for name, key in (("prompt_key", cfg.prompt_key), ("answer_key", cfg.answer_key)):
            try:
                values[name] = _lookup(rec, key)
            except KeyError:
                raise DataError(f"{where}: missing field {key!r} (data.{name}); fields present: "
                                f"{sorted(k for k in rec if k != '_line')}") from None
        fields = {k: v for k, v in rec.items() if k != "_line"}
        prompt_value = values["prompt_key"]
        messages = _as_messages(prompt_value)
        fields.setdefault("problem", prompt_value)
        try:
            solution = _lookup(rec, cfg.solution_key)
        except KeyError:
            solution = None
        items.append(PromptItem(id=str(rec.get("id", rec.get("unique_id", i))),
                                prompt=formatter(fields, where, messages=messages),
                                gold=str(values["answer_key"]), solution=solution))
    return items


def _validation_items(cfg, formatter: PromptFormatter, heldout_size: int) -> list[PromptItem]:
    items = _file_items(cfg, cfg.val_path, formatter, cfg.get("val_split") or "test")[:heldout_size]
    if not items:
        raise DataError(f"data.val_path={cfg.val_path!r} has no problems")
    return items


def _file_source(cfg, heldout_size: int, formatter: PromptFormatter) -> PromptSource:
    if not cfg.path:
        raise DataError(f"data.path is required when data.source is {cfg.source}")
    items = _file_items(cfg, cfg.path, formatter, cfg.get("split") or "train")
    note = None
    if cfg.get("val_path"):
        # A separate validation file: train on every problem of data.path, hold out those of data.val_path.
        heldout, train = _validation_items(cfg, formatter, heldout_size), items
    else:
        rng = random.Random(cfg.seed)
        order = list(range(len(items)))
        rng.shuffle(order)
        n_held = min(heldout_size, len(items) // 5)
        heldout = [items[i] for i in order[:n_held]]
        train = [items[i] for i in order[n_held:]]
        if not heldout:
            # Fewer than 5 problems (one-shot RLVR trains on one): too few to split, so the run is evaluated on its
            # own training problems, and says so (PromptSource.heldout_note).
            heldout = train[:heldout_size]
            note = (f"data.path={cfg.path} has {len(items)} problem(s), too few to hold some out: held-out accuracy "
                    f"is measured on the training problems (give data.val_path= for a separate held-out set)")
    if not train:
        raise DataError(f"data.path={cfg.path!r} has {len(items)} problems: too few for a training split "
                        f"(add problems, or give the held-out set separately with data.val_path=)")
    if cfg.get("train_problem_ids"):
        train = select_problems(train, cfg.train_problem_ids, f"data.path={cfg.path}")
    if int(cfg.get("train_problems") or 0):
        train = train[:int(cfg.train_problems)]

    def items_for(step: int, size: int, round_: int) -> list[PromptItem]:
        # Epoch e is a seeded permutation; position k of the endless stream is (e, k mod len). Dynamic-sampling
        # refills (round_ > 0) read ahead of round 0 by a fixed offset per step.
        start = step * size + round_ * len(train) // 2
        out = []
        for k in range(start, start + size):
            epoch, pos = divmod(k, len(train))
            out.append(train[_permutation(len(train), cfg.seed * 7919 + epoch)[pos]])
        return out

    source = PromptSource(items_for, heldout, cfg.seed)
    source.heldout_note = note
    return source
