"""JSONL / Parquet output, written atomically (temp file in the same directory, then os.replace)."""
from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from pathlib import Path
from typing import Iterable

FIELDS = ("id", "level", "problem", "problem_text", "answer", "answer_decimal", "solution", "split")


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file ordinary permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def as_records(problems: Iterable) -> list[dict]:
    return [dataclasses.asdict(p) if dataclasses.is_dataclass(p) else dict(p) for p in problems]


def write_jsonl(problems: Iterable, path: str | Path) -> None:
    records = as_records(problems)

    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as f:
            for r in records:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    _atomic_write(Path(path), write)


def write_parquet(problems: Iterable, path: str | Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    records = as_records(problems)
    table = pa.table({k: [r[k] for r in records] for k in FIELDS})
    _atomic_write(Path(path), lambda tmp: pq.write_table(table, tmp))


def read_records(path: str | Path) -> list[dict]:
    path = Path(path)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq
        return pq.read_table(path).to_pylist()
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
