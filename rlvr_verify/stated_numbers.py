"""Numbers as prose states them: which numbers a sentence states rather than denies, hedges, bounds or asks
('isn't 12', 'maybe 12', 'at least 3', 'Is it 12?', 'not sure whether it is 12'); numbers in the formats prose
writes them (1,000; a decimal comma; a LaTeX fraction outside math; '-$40'); number words ('three boxes', 'one
hundred and five'). Pure string functions, linear in the text; the extraction cascade (extract.py) builds on them."""
import re
from fractions import Fraction

from rlvr_verify.limits import MAX_MARKER_ANSWER_CHARS

_MAX_SENTENCE_CHARS = MAX_MARKER_ANSWER_CHARS  # a longer 'sentence' is no statement of a count


# What follows a value that the text rejects rather than states: '$x = 15$ is not a solution', '15 doesn't work'.
REJECTED = re.compile(r"[*_]*\s*+(?:\$+|\\\)|\\\])?\s*+(?:(?:is|are|was|were)\s+(?:not|never|wrong|incorrect|just a guess)\b"
                      r"|(?:isn't|aren't|wasn't|weren't)\b"
                      r"|(?:does|do)\s+not\s+(?:work|satisfy|hold)\b|(?:doesn't|don't)\s+(?:work|satisfy|hold)\b)",
                      re.IGNORECASE)
# What before a value says it is not stated as the answer: 'cannot be 3', 'isn't 12', 'Not 12.', 'anything but 3',
# 'maybe 12', 'at least 3'.
DENIED = re.compile(r"(?:\b(?:not|never|cannot\s+be|can't\s+be|isn't|aren't|wasn't|anything\s+but|maybe|possibly|perhaps|"
                    r"at\s+least|at\s+most|more\s+than|less\s+than|greater\s+than|fewer\s+than)|n't\s+be)"
                    r"\s+(?:equal\s+to\s+|be\s+)?[$(\\\[*_]*\s*$", re.IGNORECASE)


# Uncertainty earlier in the sentence: 'I am not sure whether it is 12.', 'I don't know if it is 12'
UNSURE = re.compile(r"\b(?:not sure|unsure|uncertain|no idea|(?:don't|do not) know)\b", re.IGNORECASE)


def stated(s: str, start: int, end: int) -> bool:
    """The value at s[start:end] is stated, not denied, hedged, bounded or asked about ('Is it 12?')."""
    if REJECTED.match(s, end) or DENIED.search(s[max(0, start - 40):start]):
        return False
    opening = max(s.rfind(c, max(0, start - 200), start) for c in ".!?\n") + 1
    if UNSURE.search(s, opening, start):
        return False
    sentence_end = re.search(r"[.!?。\n]", s[end:end + 200])
    return not (sentence_end and sentence_end.group(0) == "?")


# 1,000 / 1 000 / 12.5 / 4 4/9 / 3/4, with an optional percent sign.
NUMBER = re.compile(r"-?(?:\d*√)?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d{1,3}(?: \d{3})+(?![\d/])|\d+|(?<![\w.])(?=\.\d))(?:\.\d+)?"
                    r"(?:[eE][+-]?\d{1,3}(?![\w.])|\s+\d+\s*/\s*\d+|\s*/\s*\d+)?(?:\s*\\?%)?")  # 6.02e23 too


DECIMAL_COMMA = re.compile(r"-?\d+,(?:\d{1,2}|\d{4,})(?!\d)")


# A decimal comma in prose ('2,5 Meter', 'is 3,14.'): not a thousands group, not part of a list '1,2,3'.
PROSE_DECIMAL_COMMA = re.compile(r"(?<![\d,.])-?\d+,(?:\d{1,2}|\d{4,})(?![\d,])")


def numbers_in(s: str) -> list[str]:
    """Every number written in s, in order, a thousands separator dropped ('1,000' is one number)."""
    return [m.group(0).replace(",", "") for m in NUMBER.finditer(s)]


def _cut_off_inside_brackets(s: str, number) -> bool:
    """The text ends with this number inside a bracket it never closes ('... - ky + (1/2'): a response cut off in
    the middle of an expression, whose last number is a fragment, not an answer."""
    if s[number.end():].strip():
        return False
    line = s[s.rfind("\n", 0, number.start()) + 1:number.start()]
    return line.count("(") > line.count(")") or line.count("[") > line.count("]")


# A LaTeX fraction written in prose outside math ('The probability is \frac{1}{6}.'): one value, not its last digit.
PROSE_FRACTION = re.compile(r"-?\\[dt]?frac\s*\{\s*-?[\d.]+\s*\}\s*\{\s*[\d.]+\s*\}")


_FRACTION = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")


def _symbolic_fractions(s: str) -> list[tuple[int, int]]:
    """Where fractions with a letter in them are ('\\frac{1}{1 - a}'): their numbers are parts of an expression, not
    values stated on their own."""
    if "frac" not in s:
        return []
    return [(m.start(), m.end()) for m in _FRACTION.finditer(s) if re.search(r"[a-zA-Z]", m.group(1) + m.group(2))]


# An arithmetic of factorials closing a sentence: '11!/(4!4!2!1!).', '2 x 5! x 5!.' ('x' between numbers is times)
_FACTORIAL_PRODUCT = re.compile(r"\(*\d+!*\)*(?:\s*(?:[/*×·^+-]|\\times|\\cdot|(?<=[\d!)] )x(?= ))?\s*\(*\d+!*\)*)*")


def _factorial_product(s: str, last) -> str | None:
    """The expression that the last number closes when it is an arithmetic of factorials ending the sentence
    ('The number of arrangements is 11!/(4!4!2!1!).'): its last number alone would be a fragment ('1')."""
    if not s.startswith("!", last.end()):
        return None
    for m in _FACTORIAL_PRODUCT.finditer(s, max(0, last.start() - _MAX_SENTENCE_CHARS), last.end() + 40):
        if m.start() <= last.start() < m.end():
            text = m.group(0)
            break
    else:
        return None
    if (not re.fullmatch(r"\s*\.?\s*", s[m.end():]) or text.count("(") != text.count(")")
            or not re.search(r"\d!(?:\s*(?:[/*×·^+-]|\\times|\\cdot|x)|\s*\(|\d)|[/*×·^+-]\s*\(*\d+!", text)):
        return None  # 'The answer is 12!': an excited 12, unless the text goes on as arithmetic
    return re.sub(r"(?<=[\d!)]) x (?=[\d(])", r" \\times ", text.strip())


def extract_last_number(s: str) -> str | None:
    """The last number that is not an exponent or an index in plain-text math ('V = s^3', 'a_1'); '.75' is 0.75,
    and a number that is the denominator of a LaTeX fraction in prose gives the fraction."""
    symbolic = _symbolic_fractions(s)
    found = [m for m in NUMBER.finditer(s) if not (m.start() and s[m.start() - 1] in "^_")
             and not any(a < m.start() < b for a, b in symbolic)]
    if len(found) > 1 and re.fullmatch(r"\s*,?\s*(?:but\s+)?not\s+", s[found[-2].end():found[-1].start()]):
        found = found[:-1]  # 'We get 12, not 13.': the value before the denied one
    if not found or _cut_off_inside_brackets(s, found[-1]) or not stated(s, found[-1].start(), found[-1].end()):
        return None
    clock = re.match(r"(\d{1,2}):(?=\d{2}\b)", s[max(0, found[-1].start() - 3):found[-1].start()])
    if clock and s[found[-1].start() - 1] == ":":  # '3:45 PM': the time, not its minutes
        return s[found[-1].start() - 1 - len(clock.group(1)):found[-1].end()]
    fraction = None
    for fraction in PROSE_FRACTION.finditer(s, max(0, found[-1].start() - 80)):
        pass
    if fraction and fraction.start() < found[-1].start() < fraction.end():
        return fraction.group(0)
    comma = None
    for comma in PROSE_DECIMAL_COMMA.finditer(s, max(0, found[-1].start() - 40)):
        pass
    if comma and comma.end() == found[-1].end():
        return comma.group(0)  # kept whole: the comparer reads it as a decimal against a single-number gold
    product = _factorial_product(s, found[-1])
    if product:
        return product
    value = found[-1].group(0).replace(",", "")
    if re.search(r"(?<![\w)])[-−]\s?(?:\\?\$|€|£)$", s[max(0, found[-1].start() - 3):found[-1].start()]):
        value = "-" + value  # '-$40', '−€5': the sign before the currency sign
    return value


_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
          "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
NUMBER_WORD_VALUE = {w: i for i, w in enumerate(_UNITS)}
NUMBER_WORD_VALUE.update({w: 20 + 10 * i for i, w in enumerate(_TENS)})
NUMBER_WORD = re.compile(r"(?<![\w\\-])(?:(" + "|".join(_TENS) + r")(?:[- ](" + "|".join(_UNITS[1:10]) + r"))?|("
                         + "|".join(_UNITS) + r"))(?![\w-])", re.IGNORECASE)
NOT_A_COUNT = re.compile(r"\bno one\b|\bone (?:of|another|by one)\b|\bthe one\b|\bthis one\b|\bthat one\b",
                         re.IGNORECASE)


def number_word(sentence: str) -> str | None:
    """A sentence that states its answer as a number word ('three boxes contain neither pens nor pencils', 'the
    graph has two $y$-intercepts') -> '3', '2'. Only when it names exactly one number: 'two or three' and 'one of
    the two roots' say nothing; 'one of', 'no one' are not counts."""
    if len(sentence) > _MAX_SENTENCE_CHARS or NOT_A_COUNT.search(sentence):
        return None
    found = list(NUMBER_WORD.finditer(sentence))
    if len(found) != 1:
        return None
    tens, unit, alone = found[0].groups()
    if alone:
        return str(NUMBER_WORD_VALUE[alone.lower()])
    return str(NUMBER_WORD_VALUE[tens.lower()] + (NUMBER_WORD_VALUE[unit.lower()] if unit else 0))


_SCALE_WORD_VALUE = {"hundred": 100, "thousand": 10 ** 3, "million": 10 ** 6, "billion": 10 ** 9, "trillion": 10 ** 12}


_PARTS = {"half": 2, "halves": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4, "fourth": 4, "fourths": 4,
          "fifth": 5, "fifths": 5, "sixth": 6, "sixths": 6, "seventh": 7, "sevenths": 7, "eighth": 8, "eighths": 8,
          "ninth": 9, "ninths": 9, "tenth": 10, "tenths": 10}
# 'one and a half', 'two and three quarters', 'a half', 'three quarters': a whole number (or none) and a fraction
_SPELLED_FRACTION = re.compile(r"(?:(.+?)\s+and\s+)?(an?|[a-z]+(?:[\s-][a-z]+)?)[\s-]+(%s)" % "|".join(_PARTS))


def spelled_number(text: str) -> int | Fraction | None:
    """A whole phrase that is a number in words ('seven', 'one hundred and five', 'three hundred twenty',
    'two thousand twenty-four', 'minus four', 'one and a half', 'three quarters') -> its value; None when any word is
    not part of a number."""
    fraction = _SPELLED_FRACTION.fullmatch(text.strip().rstrip(".").lower())
    if fraction:
        whole = _spelled_integer(fraction.group(1)) if fraction.group(1) else 0
        count = 1 if fraction.group(2) in ("a", "an") else _spelled_integer(fraction.group(2))
        if whole is None or count is None or count <= 0 or (count == 1) != (fraction.group(3) in _SINGULAR_PARTS):
            return None
        return whole + Fraction(count, _PARTS[fraction.group(3)])
    return _spelled_integer(text)


_SINGULAR_PARTS = {part for part in _PARTS if not part.endswith("s")}


def _spelled_integer(text: str) -> int | None:
    words = re.split(r"[\s-]+", text.strip().rstrip(".").lower().replace(",", " "))
    sign = -1 if words and words[0] in ("minus", "negative") else 1
    words = words[1:] if sign < 0 else words
    if not words or len(words) > 12 or words[0] == "and" or words[-1] == "and":
        return None
    total = current = 0
    seen = False
    for w in words:
        if w == "and":
            continue
        if w in NUMBER_WORD_VALUE:
            current += NUMBER_WORD_VALUE[w]
        elif w == "hundred":
            current = max(current, 1) * 100
        elif w in _SCALE_WORD_VALUE:
            total += max(current, 1) * _SCALE_WORD_VALUE[w]
            current = 0
        else:
            return None
        seen = True
    return sign * (total + current) if seen else None


def extract_last_numbers(s: str, n: int) -> str | None:
    """The last n numbers when they are written as one list at the end ('The possible values are 2, 3, and 5.'):
    only commas, 'and', 'or' between them, and nothing after the last but the end of the sentence."""
    found = [m for m in NUMBER.finditer(s[-2000:]) if not (m.start() and s[-2000:][m.start() - 1] in "^_")]
    if len(found) < n:
        return None
    tail = s[-2000:]
    last = found[-n:]
    if any(not re.fullmatch(r"\s*,?\s*(?:and|or)?\s*", tail[a.end():b.start()]) for a, b in zip(last, last[1:])):
        return None
    if not re.fullmatch(r"\s*[.!]?\s*", tail[last[-1].end():]):
        return None
    return ", ".join(m.group(0).replace(",", "") for m in last)
