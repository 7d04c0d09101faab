"""Write a directory so that it either appears complete or not at all (model caches, warm starts, checkpoints)."""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

TEMP_MARK = ".tmp-"  # a temporary sibling of `final` is named f".{final.name}{TEMP_MARK}<random>"


def temp_prefix(final: str | os.PathLike) -> str:
    """The name prefix of `final`'s temporary siblings (hidden, so that globs of finished directories skip them)."""
    return f".{Path(final).name}{TEMP_MARK}"


@contextmanager
def atomic_directory(final: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary sibling of `final` to fill; on success it replaces `final` in one rename, on any error
    it is removed and `final` is untouched. A kill -9 leaves the temporary sibling behind: `remove_stale_temporaries`
    deletes such leftovers when their owner starts again."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(final), dir=final.parent))
    try:
        yield tmp
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def remove_stale_temporaries(parent: str | os.PathLike, final_name: str | re.Pattern) -> list[Path]:
    """Delete the temporary siblings left in `parent` by killed `atomic_directory` writes of directories whose final
    name matches `final_name` (a regex, matched in full); finished directories are never touched. Call it only when
    no other process can be writing there (its owner is starting). Returns what was removed."""
    parent = Path(parent)
    if not parent.is_dir():
        return []
    pattern = re.compile(final_name) if isinstance(final_name, str) else final_name
    removed = []
    for p in sorted(parent.iterdir()):
        if not (p.name.startswith(".") and TEMP_MARK in p.name):
            continue
        final, _, _ = p.name[1:].partition(TEMP_MARK)
        if pattern.fullmatch(final) and p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed
