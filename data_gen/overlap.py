"""Contamination audit: character n-gram overlap between a training and an evaluation problem set."""
from __future__ import annotations

from typing import Any, Sequence

# The problem text's name in the formats this project meets: RandomCalculation, MATH/AIME-style, GSM8K-style.
TEXT_FIELDS = ("problem_text", "problem", "question")


def problem_texts(records: Sequence[dict[str, Any]], path: str, field: str | None = None) -> list[str]:
    """The text of every record: `field` when given, else the first of TEXT_FIELDS the file has (RandomCalculation
    files have problem_text, the shipped benchmarks problem). A record without it: ValueError naming file:line."""
    if not records:
        return []
    chosen = field or next((f for f in TEXT_FIELDS if f in records[0]), None)
    if chosen is None:
        raise ValueError(f"{path}:1: none of the fields {list(TEXT_FIELDS)} is present (fields: "
                         f"{sorted(records[0])}); name the text field with --field")
    texts = []
    for line, rec in enumerate(records, start=1):
        if not isinstance(rec.get(chosen), str):
            raise ValueError(f"{path}:{line}: no string field {chosen!r} (fields: {sorted(rec)}); "
                             f"choose the text field with --field")
        texts.append(rec[chosen])
    return texts


def char_ngrams(text: str, n: int) -> set[str]:
    text = " ".join(text.split())
    return {text[i:i + n] for i in range(len(text) - n + 1)}


def ngram_overlap(train: Sequence[str], evals: Sequence[str], n: int = 8) -> dict:
    """fraction of eval problems sharing any n-gram with train; max per-problem fraction of its n-grams shared."""
    train_grams: set[str] = set()
    for t in train:
        train_grams |= char_ngrams(t, n)
    hit, worst = 0, 0.0
    for e in evals:
        grams = char_ngrams(e, n)
        shared = len(grams & train_grams)
        hit += shared > 0
        if grams:
            worst = max(worst, shared / len(grams))
    return {"n": n, "eval_problems": len(evals), "fraction_with_shared_ngram": hit / max(len(evals), 1),
            "max_overlap": worst}
