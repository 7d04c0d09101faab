"""The paper's continuous correct-reward (Wu et al. 2025, Eq. 2): mixes relative and absolute error because an
exact match on 15-digit decimals is almost never hit."""
from __future__ import annotations

import math
import re
from fractions import Fraction

_LATEX_FRAC = re.compile(r"^(-?)\\[dt]?frac\{(-?\d+)\}\{(-?\d+)\}$")


def parse_number(x) -> Fraction:
    """Fraction | int | float | str ('42', '-3/7', '6490.42', '1e-3', '-\\frac{3}{7}') -> exact Fraction; no eval.
    Raises ValueError when it is not a finite number."""
    if isinstance(x, Fraction):
        return x
    if isinstance(x, bool):
        raise ValueError(f"not a number: {x!r}")
    if isinstance(x, int):
        return Fraction(x)
    if isinstance(x, float):
        if not math.isfinite(x):
            raise ValueError(f"not a finite number: {x!r}")
        return Fraction(x)
    if isinstance(x, str):
        s = x.strip().replace(" ", "").replace(",", "")
        if len(s) > 400 or re.search(r"e[+-]?\d{4,}", s, re.IGNORECASE):  # '1e999999' would build a huge int
            raise ValueError(f"number too large to score: {x[:40]!r}")
        m = _LATEX_FRAC.match(s)
        if m:
            value = Fraction(int(m.group(2)), int(m.group(3)))
            return -value if m.group(1) else value
        try:
            return Fraction(s)
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"not a number: {x!r}") from None
    raise ValueError(f"unsupported type {type(x).__name__} for a number")


def continuous_reward(pred, gold, eps: float = 1e-6) -> float:
    """r = 1 - 0.5*min(|a-b|/(|b|+eps), 1) - 0.5*min(|a-b|, 1), in [0, 1]. An unparseable prediction scores 0;
    an unparseable gold answer raises ValueError (a data bug)."""
    b = parse_number(gold)
    try:
        a = parse_number(pred)
    except ValueError:
        return 0.0
    diff = abs(a - b)
    rel = min(diff / (abs(b) + Fraction(eps)), Fraction(1))
    return float(1 - rel / 2 - min(diff, Fraction(1)) / 2)
