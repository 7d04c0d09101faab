"""Rules that read the reply's closing line or paragraph when no box or marker states the answer: a count stated
after 'there are' ('There are two values of $x$ ...'), 'The limit is infinity.', a value set in bold ('So it takes
**8 hours**.')."""
import re

from rlvr_verify.limits import MAX_MARKER_ANSWER_CHARS
from rlvr_verify.markers import answer_at_start
from rlvr_verify.math_spans import math_spans
from rlvr_verify.stated_numbers import NOT_A_COUNT as _NOT_A_COUNT
from rlvr_verify.stated_numbers import NUMBER_WORD as _NUMBER_WORD
from rlvr_verify.stated_numbers import number_word
from rlvr_verify.stated_numbers import stated as _stated


_CLOSING_INFINITY = re.compile(r"\b(?:is|are|equals|be|to|approaches|goes to)\s+(?:(negative|minus)\s+|(-)\s*)?"
                               r"(?:positive\s+)?infinity\s*[.!]?\s*$", re.IGNORECASE)


def extract_closing_infinity(s: str) -> str | None:
    """'The limit is infinity.' / '... is negative infinity.' closing the response: the value written in words."""
    m = _CLOSING_INFINITY.search(s[-300:])
    return None if not m else ("-\\infty" if m.group(1) or m.group(2) else "\\infty")


_THERE_ARE = re.compile(r"\bthere\s+(?:are|is|were|was)\s+(?:exactly\s+|only\s+|just\s+)?", re.IGNORECASE)


# 'there are **19** integers ...': the number, then (after any bold) a word, not an operator
_COUNT_DIGITS = re.compile(r"(?:[\d\s()*×·x+-]+=\s*)?"  # '125 * 100 = 12,500 five-digit codes': the result
                           r"[*_]*(\d{1,3}(?:,\d{3})+|\d+)[*_]*\s+[*_]*[A-Za-z]")


_COMPUTATION = re.compile(r"\d\s*=|=\s*\d")  # '24*2=48' after the count: the count was a step, not the answer


# what may open a line before its main-clause 'there are' ('Thus, there are ...'; not 'Since there are 24 hours ...')
_COUNT_LEAD = re.compile(r"\s*(?:(?:thus|therefore|so|hence|in total|in all|altogether|finally|overall)\b[\s,]*)?",
                         re.IGNORECASE)


def extract_closing_count(s: str) -> str | None:
    """A last line that states a count: in words with no digit anywhere ('There are two values of $x$ that make the
    expression undefined.', 'There are twelve ways.'), or in digits right after a main-clause 'there are' and before
    a word, with no computation after it ('Thus, there are **19** integers from 1 to 100 ...', 'There are 1164 times
    ...'; not 'Since there are 24 hours in a day, ... 24*2=48 hours'): the number it names."""
    line = s.rstrip()[-MAX_MARKER_ANSWER_CHARS:].rsplit("\n", 1)[-1].strip()
    m = _THERE_ARE.search(line)
    if not m:
        return None
    count = _COUNT_DIGITS.match(line, m.end())
    sentence_start = re.split(r"(?:[.!?:]|\\\])\s+", line[:m.start()])[-1]  # '... = 19 \] Thus, there are'
    if count and _COUNT_LEAD.fullmatch(sentence_start) and not _COMPUTATION.search(line, count.end()):
        return count.group(1)
    if re.search(r"\d", line):
        return None
    word = _NUMBER_WORD.match(line, m.end())  # the count right after 'there are' ('... the denominator zero' is not)
    return number_word(word.group(0)) if word and not _NOT_A_COUNT.search(line) else None


# Markdown bold in the closing paragraph: '**8 hours**', '__45__'; a bold label ('**Step 2:**', '**Part 1.**', '**(i)**')
# is a heading, not a value.
_BOLD = re.compile(r"(?<![\w)\]}*])\*\*(?=\S)([^*\n]{1,80}?)(?<=\S)\*\*(?![\w(*])"  # not x**2 (a power)
                   r"|(?<!\w)__(?=\S)([^_\n]{1,80}?)(?<=\S)__(?!\w)")


_BOLD_LABEL = re.compile(r"(?:part|step|case|method|option|question|problem|solution|example|note)\b[\s\w().]{0,6}"
                         r"[.:)]?|\(?[0-9ivxIVX]{1,4}[a-z]?[.:)]", re.IGNORECASE)  # heading words; '1.', '(ii)', 'a)'


_LINE_START = re.compile(r"(?:^|\n)[ \t>#*+-]*$")


def extract_closing_bold(s: str) -> str | None:
    """A value set in bold in the closing paragraph of a markdown reply with no box and no marker ('So it takes
    **8 hours**.', 'The sum is **5050**. ... making 50 pairs of 101.', '**Area = 24 cm²**'): the reader is pointed
    at it, so it is the answer rather than whatever number comes after it. The last such bold span of the paragraph
    wins; a bold heading or label ('**Step 3: Solve**', '**Part 1.**') and a bold run of words with no value are
    skipped. Its value is read as after a marker ('**8 buses**' is 8), right of its last '=' ('**2.5 km = 2500 m**')."""
    paragraph = s.rstrip()[-4 * MAX_MARKER_ANSWER_CHARS:].rsplit("\n\n", 1)[-1]
    if "**" not in paragraph and "__" not in paragraph:
        return None
    last = None
    for m in _BOLD.finditer(paragraph):
        inner = (m.group(1) or m.group(2)).strip()
        if (inner.endswith(":") or not re.search(r"[\d$\\]", inner) or _BOLD_LABEL.fullmatch(inner) and (
                _LINE_START.search(paragraph, 0, m.start()) or not inner[:1].isdigit())):  # '1.' opening a line
            continue
        last = inner if _stated(paragraph, m.start(), m.end()) else None  # not 'Is it **4**?', 'not **4**'
    if last is None:
        return None
    inside = [(start, end) for _, start, end in math_spans(last)]
    equals = [k for k, c in enumerate(last) if c == "=" and not any(a < k < b for a, b in inside)]
    return answer_at_start(last[equals[-1] + 1:] if equals else last)  # '**2.5 km = 2500 m**': the result
