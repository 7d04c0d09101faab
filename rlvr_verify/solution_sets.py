"""Linear relations in one variable, combined with 'and' / 'or' and parentheses, as the set of real numbers they
describe: '(x > 4 and x < 5) or (x < -4 and x > -5)' is (-5, -4) U (4, 5), 'x >= 1 and x <= 1' is {1}, 'x - 2 != 0'
is R less {2}. Two answers that describe the same set state the same answer, however they are written.

Nothing is solved beyond a linear relation: 'x^2 > 4' stays what it is (solving it is the question)."""
import re

import sympy as sp

from rlvr_verify.equivalence import equal
from rlvr_verify.normalize import top_level_split
from rlvr_verify.parse import parse_math

_OPS = re.compile(r"(<=|>=|≠|<|>|(?<![<>=!])=(?!=))")
_CONNECTIVE = re.compile(r"\s+(and|or)\s+|\\(land|lor|wedge|vee)(?![a-zA-Z])")
_MAX_ATOMS = 12  # relations in one answer; a longer formula is not an answer to compare this way


def _top_level(text: str, pattern: re.Pattern) -> list[tuple[int, int, str]]:
    """Matches of pattern outside (), [], {} as (start, end, word)."""
    depth, spans = [0] * (len(text) + 1), 0
    for i, ch in enumerate(text):
        spans += 1 if ch in "([{" else -1 if ch in ")]}" else 0
        depth[i + 1] = spans
    return [(m.start(), m.end(), m.group(1) or m.group(2)) for m in pattern.finditer(text) if depth[m.start()] == 0]


def _enclosed(text: str) -> bool:
    """'( ... )' whose parentheses hold the whole text."""
    if not (text.startswith("(") and text.endswith(")")):
        return False
    depth = 0
    for i, ch in enumerate(text):
        depth += 1 if ch == "(" else -1 if ch == ")" else 0
        if depth == 0 and i < len(text) - 1:
            return False
    return True


def _relation(left: str, op: str, right: str, found: set):
    """'L op R', both sides linear in one variable, as a set of reals; None for anything else."""
    a_side, b_side = parse_math(left), parse_math(right)
    if not (isinstance(a_side, sp.Expr) and isinstance(b_side, sp.Expr)):
        return None
    difference = sp.expand(a_side - b_side)
    symbols = difference.free_symbols
    if len(symbols) != 1:
        return None
    (x,) = symbols
    found.add(x)
    slope = difference.coeff(x, 1)
    rest = sp.expand(difference - slope * x)
    if rest.free_symbols or slope.free_symbols or not (slope.is_real and rest.is_real) or slope == 0:
        return None
    root = -rest / slope
    if op == "=":
        return sp.FiniteSet(root)
    if op == "≠":
        return sp.Complement(sp.S.Reals, sp.FiniteSet(root))
    if slope < 0:
        op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}[op]
    return {"<": sp.Interval.open(-sp.oo, root), "<=": sp.Interval(-sp.oo, root),
            ">": sp.Interval.open(root, sp.oo), ">=": sp.Interval(root, sp.oo)}[op]


def _formula(text: str, found: set, atoms: list):
    text = text.strip()
    while _enclosed(text):
        text = text[1:-1].strip()
    for word in ("or", "lor", "vee"), ("and", "land", "wedge"):
        cuts = [(s, e) for s, e, w in _top_level(text, _CONNECTIVE) if w in word]
        if cuts:
            ends = [0] + [p for s, e in cuts for p in (s, e)] + [len(text)]
            parts = [_formula(text[ends[i]:ends[i + 1]], found, atoms) for i in range(0, len(ends), 2)]
            if any(p is None for p in parts):
                return None
            return sp.Union(*parts) if word[0] == "or" else sp.Intersection(*parts)
    pieces = _OPS.split(text)
    terms, ops = [t.strip() for t in pieces[0::2]], pieces[1::2]
    if not ops or not all(terms):
        return None
    atoms.extend(ops)
    if len(atoms) > _MAX_ATOMS:
        return None
    sets = [_relation(terms[i], ops[i], terms[i + 1], found) for i in range(len(ops))]  # '1 < x <= 3': both
    return None if any(s is None for s in sets) else sp.Intersection(*sets)


def solution_set(text: str):
    """(variable, the set of reals it describes) for relations linear in one variable joined by and/or; else None."""
    found, atoms = set(), []
    try:
        described = _formula(text, found, atoms)
    except (ValueError, TypeError, ZeroDivisionError, RecursionError, AttributeError):
        return None
    if described is None or len(found) != 1:
        return None
    return found.pop(), described


def same_set(p, g) -> bool:
    """Two results of solution_set describe the same set of reals for the same variable."""
    if p is None or g is None or p[0] != g[0]:
        return False
    return sp.Complement(p[1], g[1]) == sp.S.EmptySet and sp.Complement(g[1], p[1]) == sp.S.EmptySet


_BRACKETS = {"[": "]", "\\{": "\\}", "{": "}"}


def _items(text: str):
    """'[a, b]', '\\{a, b\\}' or 'a, b' -> (opening bracket or '', items); None for anything else."""
    text = text.strip()
    for opening, closing in _BRACKETS.items():
        if text.startswith(opening) and text.endswith(closing) and len(text) > len(opening) + len(closing):
            inner = text[len(opening):-len(closing)]
            inner = inner.replace("\\{", "{").replace("\\}", "}")
            return ("{" if "{" in opening else opening), [t.strip() for t in top_level_split(inner)]
    items = top_level_split(text)
    return ("", [t.strip() for t in items]) if len(items) > 1 else None


def _same_item(p: str, g: str, rel_tol: float) -> bool:
    if bool(_OPS.search(p)) != bool(_OPS.search(g)):
        return False
    if _OPS.search(p):
        return same_set(solution_set(p), solution_set(g))
    try:
        return equal(parse_math(p), parse_math(g), rel_tol)
    except (ValueError, TypeError, ZeroDivisionError, RecursionError, AttributeError):
        return False


def same_relation_items(pred: str, gold: str, rel_tol: float) -> bool:
    """Lists and sets with relations among their items ('[1, x > 2]' and '[1, 2 < x]', '\\{x = 1, 1 < x < 5\\}'):
    item by item in order for [...], in any order for {...} and a bare 'a, b' (conditions that all hold)."""
    p, g = _items(pred), _items(gold)
    if p is None or g is None or p[0] != g[0] or len(p[1]) != len(g[1]) or len(g[1]) > 8:
        return False
    if not any(_OPS.search(t) for t in p[1] + g[1]) or not all(p[1] + g[1]):
        return False
    if p[0] == "[":
        return all(_same_item(a, b, rel_tol) for a, b in zip(p[1], g[1]))
    unmatched = list(g[1])
    for a in p[1]:
        match = next((i for i, b in enumerate(unmatched) if _same_item(a, b, rel_tol)), None)
        if match is None:
            return False
        unmatched.pop(match)
    return True
