"""Contamination audit: character n-gram overlap between a training and an evaluation problem set."""
from __future__ import annotations

from typing import Sequence


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
