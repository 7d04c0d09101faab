"""Public API: verify(response, gold, **options) -> Verdict."""
import functools
import re
from dataclasses import dataclass

import sympy as sp

from rlvr_verify.equivalence import equal
from rlvr_verify.extract import (SHORT_TEXT, Extraction, extract_answer, extract_last_boxes, extract_last_number,
                                 extract_last_spans, last_choice_pick, number_word, prose_answer,
                                 unwrap_math)
from rlvr_verify.parse import (CONSTANTS, FUNCS, MAX_ANSWER_CHARS, Bracketed, Equation, ParseError, TooLarge,
                               parse_math)


@dataclass(frozen=True)
class Verdict:
    correct: bool
    score: float
    extracted: str | None
    reason: str  # equal, not_equal, no_answer, parse_error, too_large, timeout, error:<why>

    @property
    def error(self) -> bool:
        """The verifier failed on this item (a worker died twice, a verifier bug): no verdict, not a wrong answer.
        Rewards and group statistics should leave it out (rlvr.reward.signals marks it)."""
        return self.reason.startswith("error") or self.reason == "worker_crash"


_DROP = [r"\\\$", r"\\left", r"\\right", r"\\displaystyle", r"\\,", r"\\;", r"\\:", r"(?<!\\)\\ ", r"\$", r"\\quad",
          r"\^\s*\{\s*\}", r"\\dfrac", r"\\tfrac", r"[€£¥]"]
_RELATIONS = [(r"\\(?:leq?|leqslant)(?![a-zA-Z])|≤", "<="), (r"\\(?:geq?|geqslant)(?![a-zA-Z])|≥", ">="),
              (r"\\lt(?![a-zA-Z])", "<"), (r"\\gt(?![a-zA-Z])", ">"), (r"=<", "<="), (r"=>", ">=")]
# A name on the left of '=' that only labels the answer: x =, x_1 =, f(y) =, (p, q) =, x \in.
_LABEL = re.compile(r"^\s*(?:[a-zA-Z](?:_\{?\w+\}?)?(?:\s*\(\s*[a-zA-Z](?:\s*,\s*[a-zA-Z])*\s*\))?"
                    r"|\(\s*[a-zA-Z](?:\s*,\s*[a-zA-Z])*\s*\))\s*(?:=(?![=<>])|\\in(?![a-zA-Z]))\s*")


# A name that labels a value in a list of values: AB = 4, x_1 = 2, \\angle A = 30, f(2) = 5, S_1:S_2 = 7:32.
_NAME = r"(?:\\angle\s*)?[A-Za-z]+(?:_\{?\w+\}?)?(?:\(\s*\w+\s*\))?"
_ITEM_LABEL = re.compile(r"^\s*" + _NAME + r"(?:\s*:\s*" + _NAME + r")*\s*=(?![=<>])\s*(\S.*)$", re.S)


_REVERSED_LABEL = re.compile(r"\s*([^=<>]*[\d}])\s*=\s*[a-zA-Z](?:_\{?\w+\}?)?\s*")


def _strip_labels(s: str) -> str:
    """'x = 5' -> '5'; 'AB=4, CD=5' -> '4, 5' (every item labelled); 'S_1:S_2=7:32' -> '7:32'. A lone multi-letter
    name is a label only in upper case (AB = 4), not a product (ab = 4 stays an equation)."""
    braced = re.fullmatch(r"\s*\\\{(.*=.*)\\\}\s*", s, re.S)  # '\\{x=1, y=2\\}': a solution written as a set
    if braced:
        inner = _strip_labels(braced.group(1))
        if inner != braced.group(1) and "=" not in inner:
            return inner
    items = [part for item in _top_level_split(s) for part in _JOIN.split(item)[0::2]]
    if len(items) > 1:
        found = [_ITEM_LABEL.match(item) for item in items]
        if all(found) and not any("=" in m.group(1) for m in found):
            return ", ".join(m.group(1).strip() for m in found)
    stripped = _LABEL.sub("", s, count=1)
    if stripped != s:
        return stripped
    reversed_label = _REVERSED_LABEL.fullmatch(s)  # '2 = x': the value written first
    if reversed_label and not re.search(r"[a-zA-Z]", re.sub(r"\\[a-zA-Z]+", "", reversed_label.group(1))):
        return reversed_label.group(1)
    m = _ITEM_LABEL.match(s)
    if m and "=" not in m.group(1):
        name = s[:s.index("=")].strip()
        if re.fullmatch(r"(?:\\angle\s*)?[A-Z]{1,4}(?:_\{?\w+\}?)?", name) or ":" in name:
            return m.group(1)
    return s


def _mixed_latex(m) -> str:
    whole, num, den = m.groups()
    return f"({whole}+{num}/{den})" if int(num) < int(den) else m.group(0)


def _repeating(m) -> str:
    """0.\\overline{3} -> (1/3); 1.2\\overline{45} -> its fraction."""
    whole, fixed, rep = m.group(1) or "0", m.group(2) or "", m.group(3)
    den = 10 ** len(fixed) * (10 ** len(rep) - 1)
    num = (int(whole + fixed + rep) - int(whole + fixed or "0"))
    return f"({num}/{den})"


def _number_formats(s: str) -> str:
    """Thousands separators (1{,}000, 1\\,000, 1 000), LaTeX decimal commas (3{,}5) and mixed numbers
    (4\\frac{4}{9}, 4 4/9 -> (4+4/9)) become plain arithmetic the parser reads."""
    s = re.sub(r"(?<![\d.])(\d{0,30})\.(\d{0,30})\\overline\s*\{(\d{1,12})\}", _repeating, s)
    s = re.sub(r"(?<=\d)\{,\}(?=\d{3}(?!\d))", "", s)
    s = re.sub(r"(?<=\d)\{,\}(?=\d)", ".", s)
    s = re.sub(r"(?<=\d)(?:\\,|\\ |~|\\;|\\:|\\!)(?=\d{3}(?!\d))", "", s)
    s = re.sub(r"(?<=\d),\s*\\!\s*(?=\d{3}(?!\d))", "", s)  # 11,\!111 and 11,\! 111
    s = re.sub(r"(?<![\w.^_}{\\])(\d+)\s*\\frac\{(\d+)\}\{(\d+)\}", _mixed_latex, s)
    s = re.sub(r"(?<![\w./^_])(\d+) +(\d+)/(\d+)(?![\d.])", _mixed_latex, s)
    s = re.sub(r"(?<![\d.,])\d{1,3}(?: \d{3})+(?![\d/.])", lambda m: m.group(0).replace(" ", ""), s)
    return s


_INTEGER = re.compile(r"\s*-?\d{1,18}\s*")


def _whole_thousands(s: str) -> str:
    """'1,234,567' as the whole answer is one number, not a list (a list would have spaces or other lengths)."""
    return re.sub(r"^\s*-?\d{1,3}(,\d{3})+(\.\d+)?\s*$", lambda m: m.group(0).replace(",", ""), s)


def normalize(s: str, percent: str = "strip", labels: bool = True) -> str:
    """_normalize, remembered for short answers (a pure function; a group's samples share one gold)."""
    return _normalize_cached(s, percent, labels) if len(s) <= 2000 else _normalize(s, percent, labels)


@functools.lru_cache(maxsize=2048)
def _normalize_cached(s: str, percent: str, labels: bool) -> str:
    return _normalize(s, percent, labels)


def _normalize(s: str, percent: str = "strip", labels: bool = True) -> str:
    """Strip presentation: $...$ and \\boxed wrappers, \\text{} units, spacing, degrees, trailing punctuation,
    'x =' / 'f(y) =' / '(p,q) =' labels; spell relations one way; read number formats."""
    s = unwrap_math(s)
    if "\\begin" not in s:
        s = re.sub(r"\\\\(?=[a-zA-Z])", r"\\", s)  # '\\\\dfrac' typed for '\\dfrac' (not a matrix row break)
        s = s.replace("&", "")  # align's '&=' outside a matrix
    s = re.sub(r"(?<=\d)\\+\s*$", "", s)  # '185\\': a stray trailing backslash
    s = re.sub(r"(?<!\\)\\(?=\d)", "", s)  # '\\15': a backslash before a digit is no command (the '$' of '\\$15' lost)
    s = re.sub(r"\\[lr]?vert(?![a-zA-Z])", "|", s)
    s = s.replace("⌊", "\\lfloor ").replace("⌋", "\\rfloor ").replace("⌈", "\\lceil ").replace("⌉", "\\rceil ")
    s = _SUPERSCRIPTS.sub(lambda m: "^{" + m.group(0).translate(_SUPERSCRIPT_DIGITS) + "}", s)  # 'x⁴', '10⁻³'
    s = _unicode_math(s)
    qualifier = _FOR_ALL.search(s)
    if qualifier and "=" in s[:qualifier.start()]:  # 'f(x) = x \\text{ for all } x': the equation is the answer
        s = s[:qualifier.start()]
    s = _TEXT_UNIT.sub("", s)  # '100\\text{ km/h}', '4\\textnormal{ m}', '9.8\\,\\mathrm{m/s}^2': a unit after a value
    s = re.sub(r"\\(?:text|textbf|textnormal|textit|textrm|mbox|mathrm|mathbf|operatorname)\s*\{([^{}]*)\}",
               lambda m: " " + m.group(1) + " ", s)
    s = re.sub(r"\\[cdt]?frac\s*(\d)\s*(\d)", r"\\frac{\1}{\2}", s)  # \frac12 -> \frac{1}{2}
    s = re.sub(r"\\[cdt]?frac([a-zA-Z])([a-zA-Z\d])(?![a-zA-Z])", r"\\frac{\1}{\2}", s)  # \fracab -> \frac{a}{b}
    s = re.sub(r"\\[cdt]?frac\s*(\d)\s*(?=\{)", r"\\frac{\1}", s)  # \frac1{72}
    s = re.sub(r"\\[cdt]?frac\s*(\{[^{}]*\})\s*(\d)", r"\\frac\1{\2}", s)  # \frac{\sqrt3}2
    s = s.replace("\\cfrac", "\\frac")
    s = re.sub(r"\\neq?(?![a-zA-Z])|≠|(?<=[a-zA-Z)\s])!=", " ≠ ", s)
    s = re.sub(r"\\(?:emptyset|varnothing)(?![a-zA-Z])|∅|^\s*\\\{\s*\\\}\s*$", "∅", s)  # the empty set, one way
    s = re.sub(r"\\langle(?![a-zA-Z])", "(", s)
    s = re.sub(r"\\rangle(?![a-zA-Z])", ")", s)
    s = re.sub(r"\\mathbb\s*\{?R\}?|ℝ", r"(-\\infty, \\infty)", s)
    s = re.sub(r"(?:\s|\\[,;: ])*(?<!\\)[.,;:]+\s*$", "", s)  # trailing punctuation: 'is $\frac{1}{3}.$'

    if _TRIG.search(s):  # degrees inside a function are an angle: \sin(90^\circ - x) = \cos x
        s = re.sub(r"(\d+(?:\.\d+)?)\s*(?:\^\s*\{?\s*\\circ\s*\}?|°)", r"(\1\\pi/180)", s)
    s = re.sub(r"\^\s*\{?\s*\\circ\s*\}?", " ", s).replace("°", "")
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    for pat, rep in _RELATIONS:
        s = re.sub(pat, rep, s)
    s = re.sub(r"\\pmod\s*(?:\{[^{}]*\}|\d+)|\(\s*\\?mod\s*\{?\d+\}?\s*\)|\\(?:bmod|mod)\s*\{?\d+\}?", " ",
               s).replace("\\equiv", "=")  # 24 \equiv 3 \pmod 7, (mod 7), \pmod{7}: the residue is the answer
    s = re.sub(r"(?<![\w.])(\d+(?:\.\d+)?)[eE]([+-]?\d{1,3})(?![\w.])", r"(\1\\times 10^{\2})", s)  # 1.2e3
    s = _number_formats(s)
    s = s.replace("\\!", "").replace("{,}", ",")
    for pat in _DROP:
        s = re.sub(pat, " ", s)
    s = s.replace("^\\circ", "").replace("^{\\circ}", "").replace("°", "")
    if percent == "fraction":
        s = re.sub(r"(\([^()]*\)|\\frac\{[^{}]*\}\{[^{}]*\}|\d+(?:\.\d+)?)\s*\\?%", r"(\1/100)", s)  # '(4+1/2)%' too: a mixed percent
    s = s.replace("\\%", "").replace("%", "")
    s = re.sub(r"_\{(\d+)\}(?![\d.])", r"_\1", s)  # 4210_{5} -> 4210_5 (bases compare as text); not \log_{10}2
    s = re.sub(r"(?<![\d.])(\d+(?: \d+)+)(?=_\d)", lambda m: m.group(1).replace(" ", ""), s)  # 2\ 5\ 1\ 6_8 -> 2516_8
    s = _SET_BUILDER.sub(r"\2", s)  # '\\{x \\mid x > 2\\}' is the set 'x > 2' describes
    if labels:
        s = _strip_labels(s)
    s = _whole_thousands(s)
    # units / words after a number: "18 dollars", "5 cm", "\frac{270}{7} degrees", "12 cm^2"
    m = re.fullmatch(r"(.*?[\d}.)])(?:\s+([a-zA-Z]{2,}(?: [a-zA-Z]+)*)|(?<=\d)([a-zA-Z]{3,}|" + _GLUED_UNITS + r"))"
                     r"\s*(?:\^\s*\{?\d\}?)?", s.strip())
    # '18 dollars', '10weeks', '12cm' (a unit of 3+ letters, or a known two-letter one, may follow the digits directly;
    # '12ab' stays a product)
    unit = m and (m.group(2) or m.group(3))
    if unit and unit.split()[0] not in FUNCS and unit.split()[0] not in CONSTANTS and unit.split()[0] not in _MATH_TAIL:
        s = m.group(1)  # a unit word, not "2 x" or "3 pi"
    return s.strip().rstrip(".,;").strip()


_FOR_ALL = re.compile(r"\s*,?\s*(?:\\(?:text|textnormal|mbox|textrm)\s*\{\s*(?:for all|for every|for any|for each)\b"
                      r"|\\forall(?![a-zA-Z])|\bfor all\b)", re.IGNORECASE)
# A unit written in a text command after a value, at the end of the answer: '100\\text{ km/h}', '4\\textnormal{ m}',
# '9.8 \\, \\text{m/s}^2', '5\\,\\mathrm{cm}^2'. Not 'i', 'e' or 'j' alone (\\mathrm{i} is the imaginary unit).
_TEXT_UNIT = re.compile(r"(?<=[\w})])(?:\s|~|\\[,;: !])*\\(?:text|textnormal|textrm|mathrm|mbox|rm)\s*"
                        r"\{\s*~?\s*(?![ije]\s*\})[^\W\d_](?:[^\W\d_]|[/.\s]){0,20}(?:\^\s*\{?-?\d\}?)?\s*\}"
                        r"(?:\s*\^\s*\{?-?\d\}?)?\s*(?=$|[,;])")  # at the end, or of each item in a list
# Set-builder notation: '\\{x \\mid x > 2\\}', '\\{x | x > 2\\}', '\\{x : 1 <= x < 3\\}', '\\{x \\in R \\mid ...\\}'
# -> the relation it is built from (compared as the set that relation describes).
_SET_BUILDER = re.compile(r"^\s*\\\{\s*([a-zA-Z])\s*(?:\\in[^|:{}]{0,40}?)?\s*(?:\\mid|\||:)\s*"
                          r"((?=.*?(?:<|>|≠|\\in))(?!.*\\\}.*\\\}).*?\S)\s*\\\}\s*$")
_TRIG = re.compile(r"\\(?:sin|cos|tan|cot|sec|csc)(?![a-zA-Z])")
_MATH_TAIL = {"sqrt", "infty", "inf", "and", "or"}


def _pm_expand(s: str) -> str:
    """a \\pm b -> the two answers a+b, a-b (a list)."""
    if s.count("\\pm") == 1:
        left, right = s.split("\\pm")
        return f"{left}+{right}, {left}-{right}" if left.strip() else f"{right}, -{right}"
    return s


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


def _equation_sides(text: str) -> list[str]:
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
    """When only one side is an equation ('2 + 3 = 5', 'y = 2x + 1' with a non-label left side), compare its
    right-hand side with the other answer."""
    p_eq, g_eq = len(_equation_sides(pred)) > 1, len(_equation_sides(gold)) > 1
    if p_eq and not g_eq:
        pred = _whole_thousands(_equation_sides(pred)[-1].strip())
    elif g_eq and not p_eq:
        gold = _whole_thousands(_equation_sides(gold)[-1].strip())
    return pred, gold


_JOIN = re.compile(r"(\s+(?:and|or)\s+|\s*;\s*|\\lor(?![a-zA-Z])|\\vee(?![a-zA-Z])|\\land(?![a-zA-Z])"
                   r"|\\wedge(?![a-zA-Z]))")


def _top_level_split(text: str, sep: str = ",") -> list[str]:
    """Split on `sep` outside (), [], {} (linear)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return parts + [text[start:]]


def _flatten(items):
    out = []
    for x in items:
        out.extend(x if isinstance(x, list) else [x])
    return out


def parse_normalized(text: str):
    """A union of intervals becomes an unordered list of its parts; answers joined by 'and', 'or', ';' a list
    (relations joined by 'and' their intersection); a relation its interval; 'x != a' a not-equal relation; an
    equation an Equation; everything else is one parse."""
    text = _pm_expand(text)
    if text.count("\\setminus") == 1:  # R \ {a, b}: an interval less finitely many points
        whole, removed = (parse_normalized(t.strip()) for t in text.split("\\setminus"))
        points = removed.items if isinstance(removed, Bracketed) and removed.open == "{" else None
        if _is_interval(whole) and points is not None:
            return _minus_points(whole, points)
    if "\\cup" in text:
        parts = _flatten([parse_normalized(part) for part in text.split("\\cup")])
        if all(isinstance(p, Bracketed) and p.open == "{" for p in parts):  # {1} U {2, 3} is {1, 2, 3}
            return Bracketed("{", [x for p in parts for x in p.items], "}")
        return parts
    joined = _JOIN.split(text)
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
    sides = _equation_sides(text)
    if len(sides) == 2:
        return Equation(parse_math(sides[0]) - parse_math(sides[1]))
    if text.count(":") == 1:  # a ratio of two numbers, 7:32, is the number 7/32 (2:4 = 1:2)
        a, b = (parse_math(t) for t in text.split(":"))
        if all(isinstance(x, sp.Basic) and x.is_number for x in (a, b)) and b != 0:
            return a / b
    return parse_math(text)


def parse_answer(s: str, percent: str = "strip"):
    return parse_normalized(normalize(s, percent))


# A gold that is prose or a worked solution ('The final answer is (B) 1', a solution ending in \\boxed{}) is read
# the way a response is: its own final answer.
_GOLD_PROSE = re.compile(r"final answer|answer is|answers are|answer\s*:|####|\\boxed|\\fbox", re.IGNORECASE)
_GOLD_SENTENCE = re.compile(r"[A-Za-z]{2,}\s[^\n]{3,300}")
# A lettered option: A-E, and the F, G, H, J, K of tests that letter alternate questions that way (ACT, and the
# SAT/ACT items of GaoKao 2023 English); I is left out (a Roman numeral, a quadrant).
_CHOICE = re.compile(r"^\s*(?:\(([A-HJK])\)|([A-HJK])[.:)])\s*(\S.*)$", re.S)
_LETTER = re.compile(r"^\s*\(?([A-HJK])\)?[.:]?\s*$")
_CHOICE_WORD = re.compile(r"^\s*(?i:choice|option)[\s_\\]*\(?([A-HJK])\)?(?!\w)[\s.:)-]*(.*)$", re.S)
_APPROX = re.compile(r"\\approx(?![a-zA-Z])|≈")
_MIXED_PERCENT = re.compile(r"\d+\s*(?:\\[dtc]?frac\s*\{\d+\}\s*\{\d+\}|\\[dtc]?frac\d\d|\s\d+/\d+)\s*\\?%")
_BARE_FRACTION = re.compile(r"-?\s*(?:\\[dtc]?frac\s*\{\d+\}\s*\{\d+\}|\\[dtc]?frac\d\d|\d+\s*/\s*\d+)")
_DECIMAL_COMMA = re.compile(r"-?\d+,(?:\d{1,2}|\d{4,})")
_PERCENT_WORD = re.compile(r"(?<=[\d}])\s*(?:\\(?:text|textnormal|mbox|textrm)\s*\{\s*)?(?:per ?cent(?:age)?|pct)\.?"
                           r"(?:\s*\})?(?![A-Za-z])")
_CJK = {"，": ", ", "、": ", ", "；": "; ", "：": ": ", "（": "(", "）": ")", "或": " or "}
_CJK_PUNCTUATION = re.compile("[" + "".join(_CJK) + "]")  # full-width punctuation and 'or' in Chinese answers


def _ascii_punctuation(m) -> str:
    return _CJK[m.group(0)]


_GLUED_UNITS = r"(?:cm|mm|km|kg|mg|ml|mL|ft|yd|hr|lb|oz)(?![a-zA-Z])"
_VULGAR_FRACTIONS = {"½": (1, 2), "⅓": (1, 3), "⅔": (2, 3), "¼": (1, 4), "¾": (3, 4), "⅕": (1, 5), "⅖": (2, 5),
                     "⅗": (3, 5), "⅘": (4, 5), "⅙": (1, 6), "⅚": (5, 6), "⅛": (1, 8), "⅜": (3, 8), "⅝": (5, 8),
                     "⅞": (7, 8)}
_VULGAR = re.compile("[" + "".join(_VULGAR_FRACTIONS) + "]")
_UNICODE_SYMBOLS = {"π": "\\pi ", "∞": "\\infty ", "×": "\\times ", "÷": "\\div ", "·": "\\cdot "}
# '√3', '√12.5', '√x', '√(x+1)', '√{x+1}': the radicand is a number, one letter, or a bracketed group without nesting
_UNICODE_ROOT = re.compile(r"√\s*(?:(\d+(?:\.\d+)?|[a-zA-Z])|\(([^()]*)\)|\{([^{}]*)\})")
_UNICODE_MATH = re.compile("[√π∞×÷·" + "".join(_VULGAR_FRACTIONS) + "]")
_SUPERSCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_SUPERSCRIPTS = re.compile("[⁻⁺]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+")
_LONG_DECIMAL = re.compile(r"\s*-?\d*\.(\d{6,})\s*")
# A family of answers indexed by a parameter, qualified at its end: '2k\\pi + \\frac{\\pi}{2}, k \\in \\mathbb{Z}',
# '[k\\pi - 1, k\\pi + 1] (k \\in Z)', '3k, \\text{where } k \\in \\mathbb{Z}' (and set-builder '\\{x | x = 3k, k \\in Z\\}', which
# normalizes to '3k, k \\in Z'): the family before it, the parameter's letter and its domain (Z, N, Q). Possessive
# spacing keeps it linear on long runs of blanks.
_PARAMETER = re.compile(r"^(?P<family>.*?[^\s,;(])\s*+(?:[,;]\s*+)?(?:\\text\s*+\{\s*+(?:where|for|with)\s*+\}\s*+"
                        r"|(?:where|for|with)\s++)?(?P<open>\()?\s*+(?P<name>[a-zA-Z])\s*+(?:\\in(?![a-zA-Z])|∈)\s*+"
                        r"(?:\\mathbb|\\mathbf|\\Bbb)?\s*+\{?\s*+\\?(?P<domain>[ZNQ])\s*+\}?\s*+(?(open)\))\s*+$", re.S)
_ANSWER_WORDS = re.compile(r"answer\s*(?:is\b|:)", re.IGNORECASE)
_YES_NO = re.compile(r"\s*(yes|no|true|false)\s*[,;:!.]", re.IGNORECASE)
_WORDS_ONLY = re.compile(r"[A-Za-z]+(?:[ '-][A-Za-z]+)*")


def gold_answer(gold: str) -> str:
    """The gold's own final answer: a worked solution or a sentence is run through the same extraction as a
    response; a plain answer is returned unchanged."""
    if _GOLD_PROSE.search(gold) or (len(gold) > 200 and "\n" in gold):
        found = extract_answer(gold, "any")
        if found.text:
            return found.text
    if _GOLD_SENTENCE.fullmatch(gold.strip()) and "\\" not in gold:  # 'The number is 4.': a sentence, read for its value
        return prose_answer(gold.strip(), number_words=False) or gold
    return gold


def short_text_answer(response: str, gold: str) -> Extraction:
    """A response that is one to three words ('Yes', 'odd', 'no solution') is its answer when the gold is words
    too; against a numeric gold it stays 'no answer'."""
    text = response.strip()
    if len(text) <= 40 and SHORT_TEXT.fullmatch(text) and _WORDS_ONLY.fullmatch(_plain(gold_answer(gold)).strip(" .")):
        return Extraction(text.rstrip(".!"), "short_text")
    return Extraction(None, "none")


def _plain(text: str) -> str:
    text = unwrap_math(text)
    return re.sub(r"\\(?:text|textbf|textnormal|mathrm|mathbf)\s*\{([^{}]*)\}", r"\1", text).strip()


def _choice(text: str):
    """'(B) 1', 'C. x = 42', 'Choice_C: 3.82', 'Option (B)' -> ('B', '1'), ...; None when the answer is not a
    lettered option."""
    named = _CHOICE_WORD.match(_plain(text))
    if named:
        return named.group(1), named.group(2).strip().strip("()").strip()
    m = _CHOICE.match(_plain(text))
    if not m or re.match(r"[-+*/^=<>]", m.group(3)):
        return None
    return m.group(1) or m.group(2), m.group(3).strip()


def _options(text: str) -> set | None:
    """'A, C', 'AC', '(A) and (C)' -> {'A', 'C'}: the lettered options chosen; None when the answer is not that."""
    plain = _plain(text).strip().rstrip(".")
    return set(re.findall(r"[A-E]", plain)) if _LETTERS.fullmatch(plain) else None


def _letter(text: str):
    m = _LETTER.match(_plain(text))
    return m.group(1) if m else None


_MARKER_RULES = ("final_answer", "answer_is", "answer_colon")
_NUMBER_WORD_ANSWER = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)?\.?")


def verify(response: str, gold: str, extract: str = "any", rel_tol: float = 1e-9, percent: str = "strip",
           mode: str = "exact", _test_sleep: float = 0.0) -> Verdict:
    """Score one response against one gold answer; never runs model text as code."""
    if _test_sleep:
        import time
        time.sleep(_test_sleep)  # test-only hook: lets pool tests simulate a hanging item
    if isinstance(response, bytes):
        response = response.decode("utf-8", errors="replace")
    if "\u2212" in (response or "") or "\u2212" in gold:  # the Unicode minus sign
        response, gold = (response or "").replace("\u2212", "-"), gold.replace("\u2212", "-")
    if _CJK_PUNCTUATION.search(response or "") or _CJK_PUNCTUATION.search(gold):  # 'x=2 或 x=3', '1 、[-1,1]'
        response, gold = _CJK_PUNCTUATION.sub(_ascii_punctuation, response or ""), _CJK_PUNCTUATION.sub(
            _ascii_punctuation, gold)
    if _written_as_gold(response, gold):
        return Verdict(True, 1.0, response, "equal")
    found = extract_answer(response or "", extract)
    if found.rule == "boxed" and len(found.text) <= 300 and _ANSWER_WORDS.search(found.text):
        inner = extract_answer(_plain(found.text), "boxed_or_marker")  # \\boxed{\\text{The answer is } 42}
        if inner.text:
            found = Extraction(inner.text, "boxed")
    if found.text is None and mode == "exact" and extract == "any":
        found = short_text_answer(response or "", gold)
    if found.text is None:
        return _named_pick(response or "", gold) or Verdict(False, 0.0, None, "no_answer")
    if mode == "random_calculation":
        return _random_calculation(found.text, gold)
    if mode != "exact":
        raise ValueError(f"mode={mode!r}: choose 'exact' or 'random_calculation'")
    if _NUMBER_WORD_ANSWER.fullmatch(_plain(found.text)) and not _WORDS_ONLY.fullmatch(_plain(gold_answer(gold))):
        # 'The answer is three.' against a numeric gold: the number word is the number (against 'three' it stays text)
        value = number_word(_plain(found.text))
        found = Extraction(value, found.rule) if value else found
    if _INTEGER.fullmatch(found.text) and _INTEGER.fullmatch(gold):  # the common \boxed{12} case: no parsing
        ok = int(found.text) == int(gold)
        return Verdict(ok, float(ok), found.text, "equal" if ok else "not_equal")
    gold = gold_answer(gold)
    if len(found.text) > MAX_ANSWER_CHARS or len(gold) > 4 * MAX_ANSWER_CHARS:  # would be refused by the parser
        return Verdict(False, 0.0, found.text[:200], "too_large")
    try:
        verdict = compare(found.text, gold, rel_tol, percent)
        if verdict.reason == "parse_error" and found.rule in _MARKER_RULES:
            # 'So the answer is C(5,4) times C(10,8), which is ..., where ! means factorial.' and the value worked
            # out on the lines after it: words that do not read as an answer leave the later number to speak
            at = response.rfind(found.text)
            later = extract_last_number(response[at + len(found.text):]) if at >= 0 else None
            if later:
                again = compare(later, gold, rel_tol, percent)
                if again.reason != "parse_error":
                    return again
        if not verdict.correct:
            verdict = _named_pick(response, gold) or verdict
            if verdict.correct:
                return verdict
        if not verdict.correct and found.rule in ("boxed", "last_math"):  # a gold of n parts, each part boxed
            parts = len(_top_level_split(_pm_expand(normalize(gold, percent))))  # (or in math) where it was found;
            # a gold 'a \\pm b' is two answers: '$1 + \\sqrt{19}$ and $1 - \\sqrt{19}$' gives each in its own span
            several = None if not 1 < parts <= 8 else (
                extract_last_boxes(response, parts) if found.rule == "boxed" else extract_last_spans(response, parts))
            if several and several != found.text and len(several) <= MAX_ANSWER_CHARS:
                again = compare(several, gold, rel_tol, percent)
                if again.correct:
                    return again
        return verdict
    except RecursionError:
        return Verdict(False, 0.0, found.text[:200], "too_large")
    except Exception as exc:  # a verifier bug (sympy raising something unforeseen): no verdict, said so explicitly
        return Verdict(False, 0.0, found.text[:200], f"error:{type(exc).__name__}")


def _named_pick(response: str, gold: str) -> Verdict | None:
    """Against a multiple-choice gold (a letter), the option the response last picks by name ('Solution: Choice_B',
    'the only correct option is (C) Plane.'), whatever value extraction took; None when the gold is no letter or
    the response names no pick."""
    letter = _letter(gold)
    pick = last_choice_pick(response) if letter else None
    if not pick:
        return None
    return Verdict(pick == letter, float(pick == letter), pick, "equal" if pick == letter else "not_equal")


def _written_as_gold(response: str | None, gold: str) -> bool:
    """The response is the gold as written, up to spacing ('odd $n$' for 'odd $n$'): equal before any extraction,
    which would take a part of it ('n'). Only a response about as long as the gold is compared."""
    text = (response or "").strip()
    return bool(text) and len(text) <= 2 * len(gold) + 8 and _unspaced(text) == _unspaced(gold)


def compare(pred: str, gold: str, rel_tol: float = 1e-9, percent: str = "strip") -> Verdict:
    """Two extracted answers. Lettered options compare by letter (or the value against a bare value); an
    approximation 'a \\approx b' matches either side; the rest is _compare_values."""
    p_options, g_options = _options(pred), _options(gold)
    if p_options and g_options and max(len(p_options), len(g_options)) > 1:  # options chosen: 'A, C' is 'AC'
        ok = p_options == g_options
        return Verdict(ok, float(ok), pred, "equal" if ok else "not_equal")
    p_choice, g_choice = _choice(pred), _choice(gold)
    if p_choice or g_choice:
        p_letter = p_choice[0] if p_choice else _letter(pred)
        g_letter = g_choice[0] if g_choice else _letter(gold)
        if p_letter and g_letter:
            ok = p_letter == g_letter
            return Verdict(ok, float(ok), pred, "equal" if ok else "not_equal")
        pred, gold = (p_choice[1] if p_choice else pred), (g_choice[1] if g_choice else gold)
    first = None
    for p in _APPROX.split(pred) if _APPROX.search(pred) else [pred]:
        for g in _APPROX.split(gold) if _APPROX.search(gold) else [gold]:
            v = _compare_values(p, g, rel_tol, percent, pred)
            if v.correct:
                return v
            first = first or v
    return first


_LETTERS = re.compile(r"\(?[A-E]\)?(?:\s*(?:,|and|\s)?\s*\(?[A-E]\)?)*")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(?:([ap])\.?\s*m\.?)?", re.IGNORECASE)


def _clock(text: str):
    """'20:34', '08:34 P.M.', '20:34:00' -> (seconds after midnight, whether it is unmistakably a time: it has
    seconds or a.m./p.m.); None when the answer is not a time of day. A bare 'h:mm' alone stays a ratio."""
    m = _CLOCK.fullmatch(_plain(text).strip())
    if not m:
        return None
    hour, minute, second, half = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0), (m.group(4) or "").lower()
    if minute > 59 or second > 59 or hour > 23 or (half and not 1 <= hour <= 12):
        return None
    if half:
        hour = hour % 12 + (12 if half == "p" else 0)
    return hour * 3600 + minute * 60 + second, bool(half or m.group(3))


def _labelled_values(text: str, percent: str) -> dict[str, str] | None:
    """'a=2, b=3' -> {'a': '2', 'b': '3'}: every item of a list of two or more labelled by its own name; else None."""
    text = normalize(text, percent, labels=False)
    wrapped = re.fullmatch(r"\s*(?:\((.*)\)|\[(.*)\]|\\\{(.*)\\\})\s*", text, re.S)
    inner = wrapped and next(g for g in wrapped.groups() if g is not None)
    if inner and "=" in inner and _balanced(inner):  # '(f(n) = n, g(n) = 1)': the named values in one bracket
        text = inner
    items = [part for item in _top_level_split(text) for part in _JOIN.split(item)[0::2]]
    if len(items) < 2:
        return None
    out = {}
    for item in items:
        m = _ITEM_LABEL.match(item)
        if not m or "=" in m.group(1):
            return None
        name = re.sub(r"\s+", "", item[:m.start(1)]).rstrip("=")
        if name in out:
            return None
        out[name] = m.group(1).strip()
    return out


def _balanced(text: str) -> bool:
    """Every bracket in text closes inside it: 'f(n) = n, g(n) = 1' is, 'x=1), (y=2' is not."""
    depth = 0
    for ch in text:
        depth += (ch in "([{") - (ch in ")]}")
        if depth < 0:
            return False
    return depth == 0


def _compare_values(pred: str, gold: str, rel_tol: float, percent: str, shown: str) -> Verdict:
    pred, gold = _PERCENT_WORD.sub(r"\\%", pred), _PERCENT_WORD.sub(r"\\%", gold)  # '33.5 percent' is 33.5%
    pred_text, gold_text = normalize(pred, percent), normalize(gold, percent)
    if pred_text == gold_text or _unspaced(pred_text) == _unspaced(gold_text):
        return Verdict(True, 1.0, shown, "equal")  # the same text up to spacing: also where a value is too large
    p_family, g_family = _PARAMETER.match(pred_text), _PARAMETER.match(gold_text)
    if p_family and g_family:  # '2k\pi + \frac{\pi}{2}, k \in \mathbb{Z}' vs '\frac{\pi}{2}+2k\pi, k\in Z'
        return _compare_families(p_family, g_family, rel_tol, percent, shown)
    p_clock, g_clock = _clock(pred), _clock(gold)
    if p_clock and g_clock and (p_clock[1] or g_clock[1]):  # '20:34' and '08:34 P.M.', '20:34:00'
        ok = p_clock[0] == g_clock[0]
        return Verdict(ok, float(ok), shown, "equal" if ok else "not_equal")
    both_labelled = "=" in pred and "=" in gold
    p_named = both_labelled and _labelled_values(pred, percent)
    g_named = p_named and _labelled_values(gold, percent)
    if p_named and g_named and set(p_named) == set(g_named):  # 'b=3, a=2' is 'a=2, b=3'; 'a=3, b=2' is not
        ok = all(_compare_values(p_named[n], g_named[n], rel_tol, percent, shown).correct for n in g_named)
        return Verdict(ok, float(ok), shown, "equal" if ok else "not_equal")
    verdict_word = _YES_NO.match(pred_text)
    if verdict_word and gold_text.strip().casefold() in ("yes", "no", "true", "false"):  # 'Yes, it is possible'
        ok = verdict_word.group(1).casefold() == gold_text.strip().casefold()
        return Verdict(ok, float(ok), shown, "equal" if ok else "not_equal")
    if _WORDS_ONLY.fullmatch(pred_text) and _WORDS_ONLY.fullmatch(gold_text) and (
            max(len(w) for w in (pred_text + " " + gold_text).split()) >= 3 or pred_text.lower() == "no"):
        ok = pred_text.casefold().split() == gold_text.casefold().split()  # text answers: Yes/yes, True/true
        return Verdict(ok, float(ok), shown, "equal" if ok else "not_equal")
    if _relation_equations(pred, gold, percent, rel_tol):  # 2x+4y-3=0 vs y=-x/2+3/4
        return Verdict(True, 1.0, shown, "equal")
    pred_text, gold_text = align_equations(pred_text, gold_text)
    if pred_text == gold_text:  # '555_{10} = 4210_5' against '4210_5': the right-hand side is the gold as written
        return Verdict(True, 1.0, shown, "equal")
    try:
        gold_obj = parse_normalized(gold_text)
    except TooLarge:
        return Verdict(False, 0.0, shown, "too_large")
    except (ParseError, TypeError, ValueError, ZeroDivisionError, RecursionError, AttributeError):
        return Verdict(False, 0.0, shown, "gold_parse_error")
    try:
        pred_obj = parse_normalized(pred_text)
        ok = equal(pred_obj, gold_obj, rel_tol)
        if _MIXED_PERCENT.fullmatch(_plain(pred)) and _BARE_FRACTION.fullmatch(_plain(gold)) or (
                _MIXED_PERCENT.fullmatch(_plain(gold)) and _BARE_FRACTION.fullmatch(_plain(pred))):
            ok = False  # '4\\frac{1}{2}\\%' is 4.5 percent, not the fraction 9/2 (only 0.045 or 4.5% match it)
        if not ok and percent == "strip" and "%" in pred and "%" not in gold:
            ok = equal(parse_answer(pred, "fraction"), gold_obj, rel_tol)  # '37.5%' also reads as 0.375
        if not ok and percent == "strip" and "%" in gold and "%" not in pred:
            ok = equal(pred_obj, parse_answer(gold, "fraction"), rel_tol)  # 0.045 against '4.5%'
        if not ok:
            ok = _same_to_stated_places(pred_obj, gold_obj, pred_text, gold_text)
        if not ok and _DECIMAL_COMMA.fullmatch(pred_text) and not isinstance(gold_obj, (list, Bracketed)):
            ok = equal(parse_math(pred_text.replace(",", ".")), gold_obj, rel_tol)  # '0,5': a decimal comma
    except TooLarge:
        return Verdict(False, 0.0, shown, "too_large")
    except (ParseError, TypeError, ValueError, ZeroDivisionError, RecursionError, AttributeError):
        return Verdict(False, 0.0, shown, "parse_error")
    return Verdict(ok, 1.0 if ok else 0.0, shown, "equal" if ok else "not_equal")


def _unicode_math(s: str) -> str:
    """Math typed as Unicode, as models write it in prose: '√3', '2√(x+1)', '3π', '2×3', '6÷2', '2·3', '∞', '½'
    (after a whole number, a mixed number: '1½' is 3/2) -> the LaTeX the parser reads."""
    if not _UNICODE_MATH.search(s):
        return s
    s = _UNICODE_ROOT.sub(lambda m: "\\sqrt{" + (m.group(1) or m.group(2) or m.group(3)) + "}", s)
    s = _VULGAR.sub(lambda m: "\\frac{%s}{%s}" % _VULGAR_FRACTIONS[m.group(0)], s)
    for char, latex in _UNICODE_SYMBOLS.items():
        s = s.replace(char, latex)
    return s


def _unspaced(text: str) -> str:
    """Text without the spaces next to symbols ('4^{2017} - 2 \\cdot 3' is '4^{2017}-2\\cdot 3'); a space between two
    letters or digits stays, as it may separate two numbers or words."""
    return re.sub(r"\s*([^\w\s])\s*", r"\1", text).strip()


def _compare_families(p_family, g_family, rel_tol: float, percent: str, shown: str) -> Verdict:
    """Two answers indexed by a parameter ('3k, k \\in Z'): the same when the parameter ranges over the same domain
    and the families compare equal as expressions in it (the pred's letter renamed to the gold's: 3n, n \\in Z is
    3k, k \\in Z). A family written with another offset ('3k + 3') is the same set but is not recognised as such."""
    p_name, name, family = p_family["name"], g_family["name"], p_family["family"]
    if p_family["domain"] != g_family["domain"] or not _uses(p_name, family) or not _uses(name, g_family["family"]):
        return Verdict(False, 0.0, shown, "not_equal")
    if p_name != name:
        if _uses(name, family):  # the gold's letter already means something else in the pred
            return Verdict(False, 0.0, shown, "not_equal")
        family = re.sub(r"(?<![a-zA-Z\\])%s(?![a-zA-Z])" % p_name, name, family)
    return _compare_values(family, g_family["family"], rel_tol, percent, shown)


def _uses(letter: str, text: str) -> bool:
    """The single letter appears in text as a variable (not inside a word or a command: k in 2k\\pi, not in \\ker)."""
    return re.search(r"(?<![a-zA-Z\\])%s(?![a-zA-Z])" % letter, text) is not None


def _same_to_stated_places(pred_obj, gold_obj, pred_text: str, gold_text: str) -> bool:
    """A number written with six or more decimal places is an approximation: it matches a value that rounds to it
    at the places it states ('0.6666667' and 2/3; '0.0666668' and '0.066666793'). Shorter decimals are exact
    ('2.23' is not '2.232', '2.1569' is not 110/51)."""
    places = [len(m.group(1)) for m in (_LONG_DECIMAL.fullmatch(pred_text), _LONG_DECIMAL.fullmatch(gold_text)) if m]
    if not places or not all(isinstance(x, sp.Basic) and x.is_number and x.is_real for x in (pred_obj, gold_obj)):
        return False
    try:
        return abs(float(sp.N(pred_obj - gold_obj, 30))) <= 0.5 * 10.0 ** -min(places) * (1 + 1e-9)
    except (TypeError, ValueError, OverflowError):
        return False


def _relation_equations(pred: str, gold: str, percent: str, rel_tol: float) -> bool:
    """Both answers are equations (labels kept: 'y = ...' is a line here): equal when they are the same relation,
    lhs - rhs equal up to a non-zero factor. Chains 'a = b = c' are read as 'a = c'."""
    if "=" not in pred or "=" not in gold:
        return False
    pk, gk = normalize(pred, percent, labels=False), normalize(gold, percent, labels=False)
    p_sides, g_sides = _equation_sides(pk), _equation_sides(gk)
    if len(p_sides) < 2 or len(g_sides) < 2 or any(c in pk + gk for c in "<>≠,"):
        return False
    try:
        p_eq = Equation(parse_math(p_sides[0]) - parse_math(p_sides[-1]))
        g_eq = Equation(parse_math(g_sides[0]) - parse_math(g_sides[-1]))
        return equal(p_eq, g_eq, rel_tol)
    except (ParseError, TooLarge, TypeError, ValueError, ZeroDivisionError, RecursionError, AttributeError):
        return False


def _random_calculation(text: str, gold: str) -> Verdict:
    from data_gen.reward import continuous_reward
    if len(text) > 200 or re.search(r"e[+-]?\d{4,}", text, re.IGNORECASE):  # Fraction('1e999999') is huge
        return Verdict(False, 0.0, text, "too_large")
    try:
        score = float(continuous_reward(normalize(text), normalize(gold)))
    except (ValueError, TypeError, ZeroDivisionError, ArithmeticError):
        return Verdict(False, 0.0, text, "parse_error")
    try:
        ok = equal(parse_answer(text), parse_answer(gold), 0.0)
    except (ParseError, TooLarge, TypeError, ValueError):
        ok = False
    return Verdict(ok, score, text, "equal" if ok else "not_equal")


def verify_batch(responses, golds, **options) -> list[Verdict]:
    if len(responses) != len(golds):
        raise ValueError(f"verify_batch: {len(responses)} responses but {len(golds)} golds")
    return [verify(r, g, **options) for r, g in zip(responses, golds)]
