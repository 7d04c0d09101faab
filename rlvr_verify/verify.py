"""Public API: verify(response, gold, **options) -> Verdict."""
import re
from dataclasses import dataclass

import sympy as sp

from rlvr_verify.equivalence import equal
from rlvr_verify.extract import extract_answer, unwrap_math
from rlvr_verify.parse import (CONSTANTS, FUNCS, MAX_ANSWER_CHARS, Bracketed, Equation, ParseError, TooLarge,
                               parse_math)


@dataclass(frozen=True)
class Verdict:
    correct: bool
    score: float
    extracted: str | None
    reason: str  # equal, not_equal, no_answer, parse_error, too_large, timeout, error


_DROP = [r"\\\$", r"\\left", r"\\right", r"\\displaystyle", r"\\,", r"\\;", r"\\:", r"(?<!\\)\\ ", r"\$", r"\\quad",
          r"\^\s*\{\s*\}", r"\\dfrac", r"\\tfrac"]
_RELATIONS = [(r"\\(?:leq?|leqslant)(?![a-zA-Z])|≤", "<="), (r"\\(?:geq?|geqslant)(?![a-zA-Z])|≥", ">="),
              (r"\\lt(?![a-zA-Z])", "<"), (r"\\gt(?![a-zA-Z])", ">"), (r"=<", "<="), (r"=>", ">=")]
# A name on the left of '=' that only labels the answer: x =, x_1 =, f(y) =, (p, q) =, x \in.
_LABEL = re.compile(r"^\s*(?:[a-zA-Z](?:_\{?\w+\}?)?(?:\s*\(\s*[a-zA-Z](?:\s*,\s*[a-zA-Z])*\s*\))?"
                    r"|\(\s*[a-zA-Z](?:\s*,\s*[a-zA-Z])*\s*\))\s*(?:=(?![=<>])|\\in(?![a-zA-Z]))\s*")


def _mixed_latex(m) -> str:
    whole, num, den = m.groups()
    return f"({whole}+{num}/{den})" if int(num) < int(den) else m.group(0)


def _number_formats(s: str) -> str:
    """Thousands separators (1{,}000, 1\\,000, 1 000), LaTeX decimal commas (3{,}5) and mixed numbers
    (4\\frac{4}{9}, 4 4/9 -> (4+4/9)) become plain arithmetic the parser reads."""
    s = re.sub(r"(?<=\d)\{,\}(?=\d{3}(?!\d))", "", s)
    s = re.sub(r"(?<=\d)\{,\}(?=\d)", ".", s)
    s = re.sub(r"(?<=\d)(?:\\,|\\ |~|\\;|\\:|\\!)(?=\d{3}(?!\d))", "", s)
    s = re.sub(r"(?<![\w.^_}{\\])(\d+)\s*\\frac\{(\d+)\}\{(\d+)\}", _mixed_latex, s)
    s = re.sub(r"(?<![\w./^_])(\d+) +(\d+)/(\d+)(?![\d.])", _mixed_latex, s)
    s = re.sub(r"(?<![\d.,])\d{1,3}(?: \d{3})+(?![\d/.])", lambda m: m.group(0).replace(" ", ""), s)
    return s


_INTEGER = re.compile(r"\s*-?\d{1,18}\s*")


def _whole_thousands(s: str) -> str:
    """'1,234,567' as the whole answer is one number, not a list (a list would have spaces or other lengths)."""
    return re.sub(r"^\s*-?\d{1,3}(,\d{3})+(\.\d+)?\s*$", lambda m: m.group(0).replace(",", ""), s)


def normalize(s: str, percent: str = "strip") -> str:
    """Strip presentation: $...$ and \\boxed wrappers, \\text{} units, spacing, degrees, trailing punctuation,
    'x =' / 'f(y) =' / '(p,q) =' labels; spell relations one way; read number formats."""
    s = unwrap_math(s)
    s = re.sub(r"\\(?:text|textbf|mbox|mathrm|textrm)\{([^{}]*)\}", lambda m: " " + m.group(1) + " ", s)
    s = re.sub(r"(?:\s|\\[,;: ])*[.,;:]+\s*$", "", s)  # trailing punctuation: 'is $\frac{1}{3}.$'

    s = re.sub(r"\^\s*\{?\s*\\circ\s*\}?", " ", s).replace("°", "")
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    for pat, rep in _RELATIONS:
        s = re.sub(pat, rep, s)
    s = re.sub(r"\\pmod\s*\{[^{}]*\}|\\(?:bmod|mod)\s*\{?\d+\}?", " ", s).replace("\\equiv", "=")  # 24 \equiv 3 (mod 7)
    s = _number_formats(s)
    s = s.replace("\\!", "").replace("{,}", ",")
    for pat in _DROP:
        s = re.sub(pat, " ", s)
    s = s.replace("^\\circ", "").replace("^{\\circ}", "").replace("°", "")
    if percent == "fraction":
        s = re.sub(r"(\d+(?:\.\d+)?)\s*\\?%", r"(\1/100)", s)
    s = s.replace("\\%", "").replace("%", "")
    s = re.sub(r"_\{(\d+)\}", r"_\1", s)  # 4210_{5} -> 4210_5 (bases compare as text)
    s = _LABEL.sub("", s, count=1)
    s = _whole_thousands(s)
    # units / words after a number: "18 dollars", "5 cm", "\frac{270}{7} degrees", "12 cm^2"
    m = re.fullmatch(r"(.*?[\d}.)])\s+([a-zA-Z]{2,}(?: [a-zA-Z]+)*)\s*(?:\^\s*\{?\d\}?)?", s.strip())
    if m and m.group(2).split()[0] not in FUNCS and m.group(2).split()[0] not in CONSTANTS:
        s = m.group(1)  # a unit word, not "2 x" or "3 pi"
    return s.strip().rstrip(".,;").strip()


def _pm_expand(s: str) -> str:
    """a \\pm b -> the two answers a+b, a-b (a list)."""
    if s.count("\\pm") == 1:
        left, right = s.split("\\pm")
        return f"{left}+{right}, {left}-{right}" if left.strip() else f"{right}, -{right}"
    return s


_RELATION_OPS = re.compile(r"(<=|>=|<|>)")
_VARIABLE = re.compile(r"[a-zA-Z](?:_\{?\w+\}?)?")


def relation_interval(text: str):
    """'a <= x < b', 'x >= 5', '5 > x' -> the interval they describe, as the same Bracketed that '[a, b)' parses
    to, so an inequality and an interval compare directly. None when text is not such a relation."""
    parts = _RELATION_OPS.split(text)
    terms, ops = [t.strip() for t in parts[0::2]], parts[1::2]
    is_var = [bool(_VARIABLE.fullmatch(t)) for t in terms]
    if len(terms) == 2 and is_var.count(True) == 1:
        bound = parse_math(terms[1] if is_var[0] else terms[0])
        op = ops[0] if is_var[0] else {"<": ">", "<=": ">=", ">": "<", ">=": "<="}[ops[0]]
        if op in ("<", "<="):
            return Bracketed("(", [-sp.oo, bound], "]" if op == "<=" else ")")
        return Bracketed("[" if op == ">=" else "(", [bound, sp.oo], ")")
    if len(terms) == 3 and is_var == [False, True, False]:
        if all(op in ("<", "<=") for op in ops):
            lo, hi, lo_op, hi_op = terms[0], terms[2], ops[0], ops[1]
        elif all(op in (">", ">=") for op in ops):
            lo, hi, lo_op, hi_op = terms[2], terms[0], ops[1], ops[0]
        else:
            return None
        return Bracketed("[" if "=" in lo_op else "(", [parse_math(lo), parse_math(hi)], "]" if "=" in hi_op else ")")
    return None


def _equation_sides(text: str) -> list[str]:
    """Split on top-level '=' (not <=, >=, ==; '2!=2' is a factorial, not 'not equal')."""
    return re.split(r"(?<![<>=])=(?!=)", text)


def align_equations(pred: str, gold: str) -> tuple[str, str]:
    """When only one side is an equation ('2 + 3 = 5', 'y = 2x + 1' with a non-label left side), compare its
    right-hand side with the other answer."""
    p_eq, g_eq = len(_equation_sides(pred)) > 1, len(_equation_sides(gold)) > 1
    if p_eq and not g_eq:
        pred = _whole_thousands(_equation_sides(pred)[-1].strip())
    elif g_eq and not p_eq:
        gold = _whole_thousands(_equation_sides(gold)[-1].strip())
    return pred, gold


def parse_normalized(text: str):
    """A union of intervals becomes an unordered list of its parts; a relation becomes its interval; an equation
    an Equation; everything else is one parse."""
    text = _pm_expand(text)
    if "\\cup" in text:
        return [parse_normalized(part) for part in text.split("\\cup")]
    if "<" in text or ">" in text:
        interval = relation_interval(text)
        if interval is not None:
            return interval
    sides = _equation_sides(text)
    if len(sides) == 2:
        return Equation(parse_math(sides[0]) - parse_math(sides[1]))
    return parse_math(text)


def parse_answer(s: str, percent: str = "strip"):
    return parse_normalized(normalize(s, percent))


def verify(response: str, gold: str, extract: str = "any", rel_tol: float = 1e-9, percent: str = "strip",
           mode: str = "exact", _test_sleep: float = 0.0) -> Verdict:
    """Score one response against one gold answer; never runs model text as code."""
    if _test_sleep:
        import time
        time.sleep(_test_sleep)  # test-only hook: lets pool tests simulate a hanging item
    if isinstance(response, bytes):
        response = response.decode("utf-8", errors="replace")
    found = extract_answer(response or "", extract)
    if found.text is None:
        return Verdict(False, 0.0, None, "no_answer")
    if mode == "random_calculation":
        return _random_calculation(found.text, gold)
    if mode != "exact":
        raise ValueError(f"mode={mode!r}: choose 'exact' or 'random_calculation'")
    if len(found.text) > MAX_ANSWER_CHARS or len(gold) > 4 * MAX_ANSWER_CHARS:  # would be refused by the parser
        return Verdict(False, 0.0, found.text[:200], "too_large")
    if _INTEGER.fullmatch(found.text) and _INTEGER.fullmatch(gold):  # the common \boxed{12} case: no parsing
        ok = int(found.text) == int(gold)
        return Verdict(ok, float(ok), found.text, "equal" if ok else "not_equal")
    pred_text, gold_text = normalize(found.text, percent), normalize(gold, percent)
    if pred_text == gold_text:
        return Verdict(True, 1.0, found.text, "equal")
    pred_text, gold_text = align_equations(pred_text, gold_text)
    try:
        gold_obj = parse_normalized(gold_text)
    except TooLarge:
        return Verdict(False, 0.0, found.text, "too_large")
    except (ParseError, TypeError, ValueError, ZeroDivisionError, RecursionError):
        return Verdict(False, 0.0, found.text, "gold_parse_error")
    try:
        pred_obj = parse_normalized(pred_text)
        ok = equal(pred_obj, gold_obj, rel_tol)
        if not ok and percent == "strip" and "%" in found.text and "%" not in gold:
            ok = equal(parse_answer(found.text, "fraction"), gold_obj, rel_tol)  # '37.5%' also reads as 0.375
    except TooLarge:
        return Verdict(False, 0.0, found.text, "too_large")
    except (ParseError, TypeError, ValueError, ZeroDivisionError, RecursionError, AttributeError):
        return Verdict(False, 0.0, found.text, "parse_error")
    return Verdict(ok, 1.0 if ok else 0.0, found.text, "equal" if ok else "not_equal")


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
