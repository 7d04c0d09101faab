"""Problem and record files: the project's one JSONL/Parquet reader (every malformed line named by file:line) and
writers that replace a file atomically (temp file in the same directory, then os.replace)."""
from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Iterator

MAX_LINE_BYTES = 8 * 10**6   # one record; a problem, a sample or a metrics line is far smaller
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


class RecordError(ValueError):
    """A record file is missing or holds a line that is not a JSON object; str() is `path:line: what to do`."""

    def __init__(self, path: str | Path, line: int | None, message: str):
        self.path, self.line = str(path), line
        super().__init__(f"{path}:{line}: {message}" if line else f"{path}: {message}")


def iter_records(path: str | Path) -> Iterator[tuple[int, dict[str, Any] | RecordError]]:
    """(line number, record) for every non-blank line of a JSONL file, or of a Parquet file's rows (row i is line
    i + 1); a malformed line yields a RecordError in place of its record, so callers choose to stop or skip."""
    path = Path(path)
    if not path.is_file():
        raise RecordError(path, None, "no such file; check the path")
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        yield from enumerate(pq.read_table(path).to_pylist(), 1)
        return
    # Bytes, decoded line by line: a line that is not UTF-8 is named (file:line), never trained on as mojibake.
    with path.open("rb") as f:
        for lineno, raw in enumerate(f, 1):
            if len(raw) > MAX_LINE_BYTES:
                yield lineno, RecordError(path, lineno, f"a line of {len(raw) / 1e6:.0f} MB (the limit is "
                                                        f"{MAX_LINE_BYTES // 10**6} MB); split or remove that record")
                continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                yield lineno, RecordError(path, lineno, f"not UTF-8 (byte 0x{raw[e.start]:02x} at byte {e.start + 1} "
                                                        f"of the line); re-encode the file as UTF-8")
                continue
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                yield lineno, RecordError(path, lineno, f"not valid JSON ({e.msg} at column {e.colno}); fix or "
                                                        "delete that line")
                continue
            if not isinstance(rec, dict):
                yield lineno, RecordError(path, lineno, f"expected a JSON object, got {type(rec).__name__}")
                continue
            yield lineno, rec


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """Every record of a JSONL/Parquet file; the first malformed line raises a RecordError naming file and line."""
    return [rec for _, rec in read_numbered_records(path)]


def read_numbered_records(path: str | Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, record) pairs, so that later checks of a record's fields can name its line too."""
    out = []
    for lineno, rec in iter_records(path):
        if isinstance(rec, RecordError):
            raise rec
        out.append((lineno, rec))
    return out
