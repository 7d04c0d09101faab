"""Math or prose: the word lists and patterns that tell a short answer written as math (or as a number and its unit)
from a sentence of words. extract_whole is the 'whole' rule (a one-line reply that is only math); is_bare_answer
says whether a tag's or field's contents are the answer as they stand."""
import re

from rlvr_verify.limits import ANSWER_LINE_CHARS


VERB = re.compile(r"(?:\s(?:is|are|equals|was|were|be|gives|makes)|=|:)\s+", re.IGNORECASE)


WORD = re.compile(r"(?<![\\a-zA-Z])[a-zA-Z]{2,}")


MATH_WORDS = {"sqrt", "pi", "infty", "inf", "and", "or",  # "x=2 or x=3"
               "sin", "cos", "tan", "cot", "sec", "csc", "arcsin", "arccos", "arctan", "asin", "acos", "atan", "sinh",
               "cosh", "tanh", "coth", "asinh", "acosh", "atanh", "ln", "log", "exp", "abs", "max", "min", "gcd", "lcm",
               "sech", "csch", "arcsec", "arccsc", "arccot", "asec", "acsc", "acot", "Abs", "factorial", "conjugate",
               "sum", "summation", "Sum", "sgn", "sign", "factorial2", "oo", "Sin", "Cos", "Tan", "Cot", "Sec", "Csc",
               "ArcSin", "ArcCos", "ArcTan", "Sinh", "Cosh", "Tanh", "Log", "Exp", "atan2", "arctan2", "binom", "nCr",
               "nPr", "dx", "dy", "dz", "dt",  # the differentials of \\frac{d}{dx}
               "Fraction", "Rational",  # Python's and sympy's exact fractions, as code prints them
               # Greek letters by name (parse.GREEK; not imported: extraction stays free of sympy)
               "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu",
               "nu", "xi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega"}


_ENV_NAME = re.compile(r"\\(?:begin|end)\s*\{[a-zA-Z*]+\}(?:\{[a-z|]*\})?")


TEXT_CMD = re.compile(r"\\(?:text|textbf|textnormal|textit|textrm|mathrm|mathbf|mbox|operatorname)\s*\{[^{}]*\}")


SHORT_TEXT = re.compile(r"[A-Za-z]+(?: [A-Za-z]+){0,2}[.!]?")


_NUMBER_UNIT = re.compile(r"-?[\d.,/]+\s*(?!(?:is|are|was|were|or|and)\b)[A-Za-z]{2,}(?: [A-Za-z]+)?(?:\s*\^\s*\{?\d\}?)?\.?")


# A compound unit after a number: '9.8 kg m / s^2', '0.2 g cm^-2', '2000 meter/hour' (short symbols side by side, or
# names joined by '/', '*', '·'), not a sentence ('12 is a lot')
_UNIT_WORD = r"(?!(?:is|are|was|were|or|and|a|an|the|of|to|on|at|it|by|for|so)\b)[A-Za-zµμΩ]"


COMPOUND_UNIT = re.compile(r"-?[\d.,/]+\s*%s{1,12}(?:\^-?\d)?(?:\s*[/*·]\s*%s{1,12}(?:\^-?\d)?|\s+%s{1,3}"
                            r"(?:\^-?\d)?(?![A-Za-z]))+\.?" % (_UNIT_WORD, _UNIT_WORD, _UNIT_WORD))


_BESIDE_WORD = set("*/^()[]_=+-")  # what touches a name written into plain-text math


_POINT_NAMES = re.compile(r"[A-Z]{2,3}")  # AB, PD, ABC: a segment, an angle or a triangle named by its points


_RELATION = re.compile(r"=|<|>|\\perp|\\parallel|⊥|∥|\\cong|\\sim")


def _set_apart(text: str, word) -> bool:
    """No other word stands next to this one ('u + at', not 'x = 5 at t = 2' or 'is the')."""
    before, after = text[:word.start()].rstrip()[-1:], text[word.end():].lstrip()[:1]
    return not (before.isalpha() or after.isalpha())


def extract_whole(s: str) -> str | None:
    """A short one-line response that is only the answer is the answer itself: math ('\\frac{3}{5}', 'x = 548',
    a bare matrix, '7, -2, \\text{ and } -5') or a number with its unit ('10 square units'). Words inside \\text{}
    and environment names do not count as prose. (A bare word answer such as 'Yes' is taken only when the gold is
    a word too: see verify.short_text_answer.)"""
    text = s.strip()
    if not text or len(text) > 1000 or "\n" in text:
        return None
    core = TEXT_CMD.sub(" ", _ENV_NAME.sub(" ", text))
    negated = re.fullmatch(r"(?:not|\\neg)\s*(\(.*\))", core)  # 'not (x<=2 and -2<=x)': a logic-style answer
    relation = _RELATION.search(core)
    if all(w in MATH_WORDS or relation and _POINT_NAMES.fullmatch(w)  # 'AE + AP = PD': segments named by points
           for w in WORD.findall(negated.group(1) if negated else core)):
        return text
    if re.search(r"[*/^]", core) and all(core[m.start() - 1:m.start()] in _BESIDE_WORD or core[m.end():m.end() + 1] in
                                         _BESIDE_WORD for m in WORD.finditer(core)):
        return text  # '2*V*(h)/(dE) - (d)/(2)', 'W == (rho) * g*h*(DeltaV)': names set between operators, not prose
    if len(text) <= 60 and not re.search(r"\s|</?[A-Za-z]", text) and re.search(r"[-+*/^=()]|\\(?!text)[a-zA-Z]+\{", text):
        return text  # 'mx+b', '(ab)c': letters run together with operators and no space are a product, not prose
    if relation and len(text) <= 60 and not re.search(r"<\||</?[A-Za-z]", text) and all(
            len(m.group(0)) <= 3 and _set_apart(core, m) for m in WORD.finditer(core) if m.group(0) not in MATH_WORDS):
        return text  # 'F = ma', 'v = u + at', 'E = mc²': one-letter names run together in an equation, not prose
    if len(text) > 200:
        return None
    if _NUMBER_UNIT.fullmatch(text) or COMPOUND_UNIT.fullmatch(text):
        return text.rstrip(".!")
    return None


def is_bare_answer(inner: str) -> bool:
    """A tag's contents that are the answer as they stand: one short line, no math delimiters or box, at most two
    words that are not math and no verb ('x is 5' and 'There are 5 apples' are sentences, read by the rules)."""
    if len(inner) > ANSWER_LINE_CHARS or "\n" in inner or "$" in inner or "\\(" in inner or "\\boxed" in inner:
        return False
    words = [w for w in WORD.findall(TEXT_CMD.sub(" ", inner)) if w not in MATH_WORDS]
    if _RELATION.search(inner) and all(_POINT_NAMES.fullmatch(w) for w in words):
        return True  # 'AE + AP = PD'
    return len(words) <= 2 and not VERB.search(" " + inner + " ")
