"""Public API: verify(response, gold, **options) -> Verdict."""
import re
from dataclasses import dataclass

from rlvr_verify.equivalence import equal
from rlvr_verify.extract import extract_answer
from rlvr_verify.parse import CONSTANTS, FUNCS, ParseError, TooLarge, parse_math


@dataclass(frozen=True)
class Verdict:
    correct: bool
    score: float
    extracted: str | None
    reason: str  # equal, not_equal, no_answer, parse_error, too_large, timeout, error


_DROP = [r"\\\$", r"\\left", r"\\right", r"\\displaystyle", r"\\,", r"\\;", r"\\:", r"(?<!\\)\\ ", r"\$", r"\\quad",
          r"\^\s*\{\s*\}", r"\\dfrac", r"\\tfrac"]


def normalize(s: str, percent: str = "strip") -> str:
    """Strip presentation: \\text{} units, $, spacing, degrees, trailing period, 'x =' prefixes."""
    s = s.strip()
    s = re.sub(r"\\(?:text|textbf|mbox|mathrm)\{([^{}]*)\}", lambda m: " " + m.group(1) + " ", s)
    s = re.sub(r"\^\s*\{?\s*\\circ\s*\}?", " ", s).replace("°", "")
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    s = s.replace("\\!", "").replace("{,}", ",")
    for pat in _DROP:
        s = re.sub(pat, " ", s)
    s = s.replace("^\\circ", "").replace("^{\\circ}", "").replace("°", "")
    if percent == "fraction":
        s = re.sub(r"(\d+(?:\.\d+)?)\s*\\?%", r"(\1/100)", s)
    s = s.replace("\\%", "").replace("%", "")
    s = re.sub(r"_\{(\d+)\}", r"_\1", s)  # 4210_{5} -> 4210_5 (bases compare as text)
    s = re.sub(r"^\s*[a-zA-Z]\s*(?:=|\\in)\s*", "", s)  # x = 3  -> 3
    s = re.sub(r"^\s*-?\d{1,3}(,\d{3})+(\.\d+)?\s*$", lambda m: m.group(0).replace(",", ""), s)
    # units / words after a number: "18 dollars", "5 cm"
    m = re.fullmatch(r"(-?[\d.,/]+)\s+([a-zA-Z]{2,}(?: [a-zA-Z]+)*)", s.strip())
    if m and m.group(2).split()[0] not in FUNCS and m.group(2).split()[0] not in CONSTANTS:
        s = m.group(1)  # a unit word, not "2 x" or "3 pi"
    return s.strip().rstrip(".").strip()


def _pm_expand(s: str) -> str:
    """a \\pm b -> the two answers a+b, a-b (a list)."""
    if s.count("\\pm") == 1:
        left, right = s.split("\\pm")
        return f"{left}+{right}, {left}-{right}" if left.strip() else f"{right}, -{right}"
    return s


def parse_answer(s: str, percent: str = "strip"):
    """A union of intervals becomes an unordered list of its parts; everything else is one parse."""
    text = _pm_expand(normalize(s, percent))
    if "\\cup" in text:
        return [parse_math(part) for part in text.split("\\cup")]
    return parse_math(text)


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
    if normalize(found.text, percent) == normalize(gold, percent):
        return Verdict(True, 1.0, found.text, "equal")
    try:
        gold_obj = parse_answer(gold, percent)
    except TooLarge:
        return Verdict(False, 0.0, found.text, "too_large")
    except (ParseError, TypeError, ValueError, ZeroDivisionError, RecursionError):
        return Verdict(False, 0.0, found.text, "gold_parse_error")
    try:
        pred_obj = parse_answer(found.text, percent)
        ok = equal(pred_obj, gold_obj, rel_tol)
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
