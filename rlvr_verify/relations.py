"""The structure of a normalised answer: relations as the sets they describe ('-x > -1' is the interval x < 1,
'|z| < 3' and unions of intervals), answers joined by 'and' / 'or' / ';' as lists, 'a \\pm b' as two answers,
'x != a' as a set less a point, equations as Equation, ratios as numbers: parse_normalized, on top of parse_math."""
import re

import sympy as sp

from rlvr_verify.equivalence import real_set
from rlvr_verify.normalize import JOIN, normalize, pm_expand, top_level_split, whole_thousands
from rlvr_verify.parse import Bracketed, Equation, parse_math


_RELATION_OPS = re.compile(r"(<=|>=|<|>)")
# What an inequality bounds: x, x_1, f(x) (and |...| through _abs_relation).
_VARIABLE = re.compile(r"[a-zA-Z](?:_\{?\w+\}?)?(?:\(\s*[a-zA-Z]\s*\))?")
_ABS = re.compile(r"\|([^|]+)\|")
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _interval(lo, lo_closed, hi, hi_closed) -> Bracketed:
    return Bracketed("[" if lo_closed else "(", [lo, hi], "]" if hi_closed else ")")


def _linear(term: str):
    """'-x', '2x+3', 'x/2 - 1' -> (variable, a, b) with term = a*variable + b, a a non-zero number; else None."""
    expr = parse_math(term)
    if not isinstance(expr, sp.Basic) or len(expr.free_symbols) != 1:
        return None
    (v,) = expr.free_symbols
    a = sp.expand(expr).coeff(v, 1)
    b = sp.expand(expr - a * v)
    if a.free_symbols or b.free_symbols or not a.is_number or a == 0 or not a.is_real:
        return None
    return v, a, b


def relation_interval(text: str):
    """'a <= x < b', 'x >= 5', '5 > x', '-x > -1', '0 < f(x) < 1', '2 < 2x + 4 <= 6' -> the interval they describe,
    as the same Bracketed that '[a, b)' parses to, so an inequality and an interval compare directly (the same
    set, whatever side the variable is on and whatever the sign of its coefficient). None otherwise."""
    parts = _RELATION_OPS.split(text)
    terms, ops = [t.strip() for t in parts[0::2]], parts[1::2]
    if not all(terms):
        return None
    if any(_ABS.fullmatch(t) for t in terms):
        return _abs_relation(terms, ops)
    is_var = [bool(_VARIABLE.fullmatch(t)) for t in terms]
    if len(terms) == 2:
        if is_var.count(True) == 1:
            bound = parse_math(terms[1] if is_var[0] else terms[0])
            op = ops[0] if is_var[0] else _FLIP[ops[0]]
        else:  # one side linear in one variable, the other a number: a*x + b op c
            left, right = parse_math(terms[0]), parse_math(terms[1])
            if not (isinstance(left, sp.Basic) and isinstance(right, sp.Basic)):
                return None
            lin = _linear(terms[0] + "-(" + terms[1] + ")") if (left - right).free_symbols else None
            if lin is None:
                return None
            _, a, b = lin
            bound, op = -b / a, ops[0] if a > 0 else _FLIP[ops[0]]
        if op in ("<", "<="):
            return _interval(-sp.oo, False, bound, op == "<=")
        return _interval(bound, op == ">=", sp.oo, False)
    if len(terms) == 3:
        if all(op in ("<", "<=") for op in ops):
            lo, hi, lo_op, hi_op = terms[0], terms[2], ops[0], ops[1]
        elif all(op in (">", ">=") for op in ops):
            lo, hi, lo_op, hi_op = terms[2], terms[0], ops[1], ops[0]
        else:
            return None
        lo_v, hi_v = parse_math(lo), parse_math(hi)
        if is_var == [False, True, False]:
            return _interval(lo_v, "=" in lo_op, hi_v, "=" in hi_op)
        lin = _linear(terms[1])
        if lin is None or getattr(lo_v, "free_symbols", True) or getattr(hi_v, "free_symbols", True):
            return None
        _, a, b = lin
        ends = [((lo_v - b) / a, "=" in lo_op), ((hi_v - b) / a, "=" in hi_op)]
        if a < 0:
            ends.reverse()
        return _interval(ends[0][0], ends[0][1], ends[1][0], ends[1][1])
    return None


def _abs_relation(terms: list[str], ops: list[str]):
    """|L| < c -> the interval -c < L < c; |L| > c -> the two rays L < -c, L > c (a list: a union);
    a <= |L| <= b -> [-b, -a] and [a, b] (real numbers). None when the bounds are not non-negative numbers."""
    def number(t):
        v = parse_math(t)
        return v if isinstance(v, sp.Basic) and v.is_number and v.is_real and v >= 0 else None
    if len(terms) == 2:
        i = 0 if _ABS.fullmatch(terms[0]) else 1
        inner, c = _ABS.fullmatch(terms[i]).group(1), terms[1 - i]
        op = ops[0] if i == 0 else _FLIP[ops[0]]
        if _ABS.fullmatch(c) or number(c) is None:
            return None
        if op in ("<", "<="):
            return relation_interval(f"-({c}) {op} {inner} {op} {c}")
        low = {">": "<", ">=": "<="}[op]
        return [relation_interval(f"{inner} {low} -({c})"), relation_interval(f"{inner} {op} {c}")]
    if len(terms) == 3 and _ABS.fullmatch(terms[1]) and len(set(o.strip("=") for o in ops)) == 1:
        a, b, op_a, op_b = (terms[0], terms[2], ops[0], ops[1]) if ops[0] in ("<", "<=") else (
            terms[2], terms[0], _FLIP[ops[1]], _FLIP[ops[0]])
        inner = _ABS.fullmatch(terms[1]).group(1)
        a_v, b_v = number(a), number(b)
        if a_v is None or b_v is None:
            return None
        upper = relation_interval(f"{a} {op_a} {inner} {op_b} {b}")
        if a_v == 0 and op_a == "<=":
            return relation_interval(f"-({b}) {op_b} {inner} {op_b} {b}")
        return [relation_interval(f"-({b}) {op_b} {inner} {op_a} -({a})"), upper]
    return None


def _is_interval(x) -> bool:
    return isinstance(x, Bracketed) and x.open in "([" and x.close in ")]" and len(x.items) == 2


def _minus_points(interval: Bracketed, points: list):
    """An interval less finitely many real points -> the open-ended pieces that remain (a list: a union), or the
    interval itself when no point lies inside it. Raises TypeError for a point that is not a real number."""
    lo, hi = interval.items
    if not all(isinstance(p, sp.Basic) and p.is_number and p.is_real for p in points):
        raise TypeError("a removed point is not a real number")
    inside = sorted({p for p in points if lo < p < hi}, key=lambda p: float(p))
    lo_closed = interval.open == "[" and not any(p == lo for p in points)
    hi_closed = interval.close == "]" and not any(p == hi for p in points)
    ends = [(lo, lo_closed)] + [(p, False) for p in inside for _ in (0, 1)] + [(hi, hi_closed)]
    if not inside:
        return _interval(lo, lo_closed, hi, hi_closed)
    return [_interval(ends[i][0], ends[i][1], ends[i + 1][0], ends[i + 1][1]) for i in range(0, len(ends), 2)]


def _intersect(a: Bracketed, b: Bracketed):
    """Two intervals with numeric ends -> their intersection (for 'x > 1 and x < 3')."""
    (alo, ahi), (blo, bhi) = a.items, b.items
    lo, lo_closed = (alo, a.open == "[") if alo > blo else (blo, b.open == "[") if blo > alo else (
        alo, a.open == "[" and b.open == "[")
    hi, hi_closed = (ahi, a.close == "]") if ahi < bhi else (bhi, b.close == "]") if bhi < ahi else (
        ahi, a.close == "]" and b.close == "]")
    return _interval(lo, lo_closed, hi, hi_closed)


def equation_sides(text: str) -> list[str]:
    """Split on '=' outside braces (not <=, >=, ==; '2!=2' is a factorial, not 'not equal'; the '=' of
    '\\sum_{k=1}' is not an equation)."""
    if "{" not in text:
        return re.split(r"(?<![<>=])=(?!=)", text)
    parts, depth, start = [], 0, 0
    for m in re.finditer(r"[{}]|(?<![<>=])=(?!=)", text):
        ch = m.group(0)
        depth += 1 if ch == "{" else -1 if ch == "}" else 0
        if ch == "=" and depth <= 0:
            parts.append(text[start:m.start()])
            start = m.end()
    return parts + [text[start:]]


def align_equations(pred: str, gold: str) -> tuple[str, str]:
    """When only one side is an equation, compare its right-hand side with the other answer: a response's
    ('x + y = 7' states the value 7), a gold's only when its left side is arithmetic ('2 + 3 = 5', '555_{10} = ...')."""
    p_eq, g_eq = len(equation_sides(pred)) > 1, len(equation_sides(gold)) > 1
    if p_eq and not g_eq:
        pred = whole_thousands(equation_sides(pred)[-1].strip())
    elif g_eq and not p_eq and not re.search(r"[a-zA-Z]", re.sub(r"\\[a-zA-Z]+", "", equation_sides(gold)[0])):
        gold = whole_thousands(equation_sides(gold)[-1].strip())  # a gold that shows its arithmetic; a gold
    return pred, gold  # 'x^2 + y^2 = 25' is a curve, not the number 25 (its labels were stripped before this)


def _flatten(items):
    out = []
    for x in items:
        out.extend(x if isinstance(x, list) else [x])
    return out


def _set_operation(operation, operands):
    """Intervals (and unions of them) combined by a set operation, as intervals again (a list for a union); None
    when an operand is not such a set or the result is empty or has isolated points."""
    if all(isinstance(x, Bracketed) and x.open == "{" for x in operands):  # {1, 2, 3} \cap {2, 3, 4} is {2, 3}
        try:
            result = operation(*(sp.FiniteSet(*x.items) for x in operands))
        except (TypeError, ValueError):
            return None
        return Bracketed("{", list(result.args), "}") if isinstance(result, sp.FiniteSet) and result.args else None
    sets = [real_set(x) for x in operands]
    if any(s is None for s in sets):
        return None
    result = operation(*sets)
    parts = result.args if isinstance(result, sp.Union) else (result,)
    if not parts or not all(isinstance(p, sp.Interval) for p in parts):
        return None
    out = [Bracketed("(" if p.left_open else "[", [p.start, p.end], ")" if p.right_open else "]") for p in parts]
    return out if len(out) > 1 else out[0]


_GROUPED = re.compile(r"\s*(?<!\\)\{(.*\\(?:cup|cap|setminus).*)\}\s*", re.S)


def _balanced_braces(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += 1 if ch == "{" else -1 if ch == "}" else 0
        if depth < 0:
            return False
    return depth == 0


def parse_normalized(text: str):
    """A union of intervals becomes an unordered list of its parts; answers joined by 'and', 'or', ';' a list
    (relations joined by 'and' their intersection); a relation its interval; 'x != a' a not-equal relation; an
    equation an Equation; everything else is one parse."""
    text = pm_expand(text)
    group = _GROUPED.fullmatch(text)
    if group and _balanced_braces(group.group(1)) and len(top_level_split(group.group(1))) == 1:
        text = group.group(1)  # '{(0,9) \\cup (9,36)}': a LaTeX group around the answer, not a set of one element
    if text.count("\\setminus") == 1:  # R \ {a, b}: an interval less finitely many points
        whole, removed = (parse_normalized(t.strip()) for t in text.split("\\setminus"))
        points = removed.items if isinstance(removed, Bracketed) and removed.open == "{" else None
        if _is_interval(whole) and points is not None:
            return _minus_points(whole, points)
        computed = _set_operation(sp.Complement, [whole, removed])  # [0, 6] \ (1, 2) is [0, 1] U [2, 6]
        if computed is not None:
            return computed
    if "\\cap" in text and "\\cup" not in text and "\\setminus" not in text:
        computed = _set_operation(sp.Intersection, [parse_normalized(t.strip()) for t in text.split("\\cap")])
        if computed is not None:  # (1, 5] \cap [2, 7) is [2, 5]
            return computed
    if "\\cup" in text:
        parts = _flatten([parse_normalized(part) for part in text.split("\\cup")])
        if all(isinstance(p, Bracketed) and p.open == "{" for p in parts):  # {1} U {2, 3} is {1, 2, 3}
            return Bracketed("{", [x for p in parts for x in p.items], "}")
        return parts
    joined = JOIN.split(text)
    if len(joined) > 1:
        parts, joiners = [p.strip(" ,") for p in joined[0::2]], joined[1::2]
        if all(parts):
            objs = [parse_normalized(p) for p in parts]
            conjunction = any(j.strip() in ("and", "\\land", "\\wedge") for j in joiners)
            if (all(_is_interval(o) for o in objs) and conjunction
                    and all(("<" in p or ">" in p) for p in parts)):
                out = objs[0]
                for o in objs[1:]:
                    out = _intersect(out, o)
                return out
            intervals = [o for o in objs if _is_interval(o)]
            points = [o.items[0] for o in objs if isinstance(o, Bracketed) and o.open == "≠"]
            if conjunction and len(intervals) == 1 and len(intervals) + len(points) == len(objs):
                return _minus_points(intervals[0], points)  # 'x > -1 and x != 2'
            return _flatten(objs)
    if "≠" in text:
        sides = [t.strip() for t in text.split("≠")]
        if len(sides) == 2 and _VARIABLE.fullmatch(sides[0]):
            return Bracketed("≠", [parse_math(sides[1])], "")
    if "<" in text or ">" in text:
        interval = relation_interval(text)
        if interval is not None:
            return interval
    sides = equation_sides(text)
    if len(sides) == 2:
        return Equation(parse_math(sides[0]) - parse_math(sides[1]))
    if text.count(":") == 1:  # a ratio of two numbers, 7:32, is the number 7/32 (2:4 = 1:2)
        a, b = (parse_math(t) for t in text.split(":"))
        if all(isinstance(x, sp.Basic) and x.is_number for x in (a, b)) and b != 0:
            return a / b
    if 2 <= text.count(":") <= 8:  # a ratio of several numbers, scaled so that its first term is 1 (2:4:6 = 1:2:3)
        terms = [parse_math(t) for t in text.split(":")]
        if all(isinstance(x, sp.Basic) and x.is_number for x in terms) and terms[0] != 0:
            return Bracketed(":", [x / terms[0] for x in terms], ":")
    return parse_math(text)


def parse_answer(s: str, percent: str = "strip"):
    return parse_normalized(normalize(s, percent))
