"""Public API: verify(response, gold, **options) -> Verdict."""
import functools
import re
from dataclasses import dataclass

import sympy as sp

from rlvr_verify.equivalence import equal, proportional, real_set
from rlvr_verify.boxes import extract_last_boxes, last_box_and_after, unwrap_math
from rlvr_verify.extract import Extraction, extract_answer
from rlvr_verify.markers import prose_answer
from rlvr_verify.math_or_prose import SHORT_TEXT
from rlvr_verify.math_spans import extract_last_spans
from rlvr_verify import choices
from rlvr_verify.normalize import ITEM_LABEL, JOIN, normalize, pm_expand, top_level_split, unspaced
from rlvr_verify.parse import MAX_ANSWER_CHARS, Bracketed, Equation, ParseError, TooLarge, parse_math
from rlvr_verify.quantities import conversion, temperatures, value_of
from rlvr_verify.qualifiers import qualifiers_disagree
from rlvr_verify.relations import align_equations, equation_sides, parse_answer, parse_normalized
from rlvr_verify.solution_sets import same_relation_items, same_set, solution_set
from rlvr_verify.stated_numbers import NUMBER, REJECTED, extract_last_number, extract_last_numbers, numbers_in, spelled_number
from rlvr_verify.unanswered import gives_no_answer


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


_INTEGER = re.compile(r"\s*-?\d{1,18}\s*")
# A gold that is prose or a worked solution ('The final answer is (B) 1', a solution ending in \\boxed{}) is read
# the way a response is: its own final answer.
_GOLD_PROSE = re.compile(r"final answer|answer is|answers are|answer\s*:|####|\\boxed|\\fbox", re.IGNORECASE)
_GOLD_SENTENCE = re.compile(r"[A-Za-z]{2,}\s[^\n]{3,300}")
_APPROX = re.compile(r"\\approx(?![a-zA-Z])|≈")
_MIXED_PERCENT = re.compile(r"\d+\s*(?:\\[dtc]?frac\s*\{\d+\}\s*\{\d+\}|\\[dtc]?frac\d\d|\s\d+/\d+)\s*\\?%")
_BARE_FRACTION = re.compile(r"-?\s*(?:\\[dtc]?frac\s*\{\d+\}\s*\{\d+\}|\\[dtc]?frac\d\d|\d+\s*/\s*\d+)")
_DECIMAL_COMMA = re.compile(r"-?\d+,(?:\d{1,2}|\d{4,})")
_PERCENT_WORD = re.compile(r"(?<=[\d}])\s*(?:\\(?:text|textnormal|mbox|textrm)\s*\{\s*)?(?:per ?cent(?:age)?|pct)\.?"
                           r"(?:\s*\})?(?![A-Za-z])")
_CJK = {"，": ", ", "、": ", ", "；": "; ", "：": ": ", "（": "(", "）": ")", "或": " or "}
_CJK_PUNCTUATION = re.compile("[" + "".join(_CJK) + "]")  # full-width punctuation and 'or' in Chinese answers
_FULLWIDTH = re.compile("[\uff01-\uff5e]")  # the rest of the full-width ASCII block, one to one
_TO_ASCII = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}


def _ascii_punctuation(m) -> str:
    return _CJK[m.group(0)]


_LONG_DECIMAL = re.compile(r"\s*-?\d*\.(\d{6,})\s*")
# A family of answers indexed by a parameter, qualified at its end: '2k\\pi + \\frac{\\pi}{2}, k \\in \\mathbb{Z}',
# '[k\\pi - 1, k\\pi + 1] (k \\in Z)', '3k, \\text{where } k \\in \\mathbb{Z}' (and set-builder '\\{x | x = 3k, k \\in Z\\}', which
# normalizes to '3k, k \\in Z'): the family before it, the parameter's letter and its domain (Z, N, Q). Possessive
# spacing keeps it linear on long runs of blanks.
_PARAMETER = re.compile(r"^(?P<family>.*?[^\s,;(])\s*+(?:[,;]\s*+)?(?:\\text\s*+\{\s*+(?:where|for|with)\s*+\}\s*+"
                        r"|(?:where|for|with)\s++)?(?P<open>\()?\s*+(?P<name>[a-zA-Z])\s*+(?:\\in(?![a-zA-Z])|∈)\s*+"
                        r"(?:\\mathbb|\\mathbf|\\Bbb)?\s*+\{?\s*+\\?(?P<domain>[ZNQ])\s*+\}?\s*+(?(open)\))\s*+$", re.S)
_ANSWER_WORDS = re.compile(r"answer\s*(?:is\b|:)", re.IGNORECASE)
_SENTENCE_IN_BOX = re.compile(r"\s*\\text\s*\{[A-Za-z][^{}]*\s(?:is|are|equals|was)\s*\}|"  # a stated value inside
                              r"\s*\\text\s*\{[A-Z][a-z]*(?:\s+[A-Za-z]+)+\s+\d[^{}]*\}\s*$")  # 'Mike has 14 stickers.'
_YES_NO = re.compile(r"\s*(yes|no|true|false)\s*[,;:!.]", re.IGNORECASE)
_WORDS_ONLY = re.compile(r"[A-Za-z]+(?:[ '-][A-Za-z]+)*")


_GOLD_PARTS = re.compile(r"(?:^|\n)\s*(?:\*\*)?\(?(?:\d|[IVX]{1,3}|[a-e])\)(?:\*\*)?\s")  # '(1) ', 'a) ', '(II) '


def _stored_repr(gold: str) -> str | None:
    """A gold stored as Python's repr of what it was ("['$\\\\frac{1}{2}$']" from OlympiadBench's list field, "b'4\\\\n'" from
    an old mathematics-dataset export) -> the answer it holds; None otherwise. Read as text (nothing is evaluated)."""
    text = gold.strip()
    if not (re.fullmatch(r"\[\s*(['\"]).*\1\s*\]", text, re.S) or re.fullmatch(r"b(['\"]).*\1", text, re.S)):
        return None
    if text.startswith("b"):
        return text[2:-1].replace("\\n", "").strip()  # b'4\\n'
    items = [m.group(2).replace("\\\\", "\\") for m in re.finditer(r"(['\"])((?:[^\\]|\\.)*?)\1", text[1:-1])]
    return ", ".join(item.strip() for item in items) or None  # backslashes doubled by repr, or not


def gold_answer(gold: str) -> str:
    """The gold's own final answer: a worked solution or a sentence is run through the same extraction as a
    response; a plain answer is returned unchanged."""
    stored = _stored_repr(gold)
    if stored is not None:
        return stored
    if _GOLD_PROSE.search(gold) or (len(gold) > 200 and "\n" in gold):
        parts = len(_GOLD_PARTS.findall(gold))
        if parts > 1 and gold.count("\\boxed") == parts:  # '(1) ... \\boxed{2} (2) ... \\boxed{5}': both parts
            joined = extract_last_boxes(gold, parts)
            if joined:
                return joined
        found = extract_answer(gold, "any")
        if found.text:
            return found.text
    if _GOLD_SENTENCE.fullmatch(gold.strip()) and "\\" not in gold:  # 'The number is 4.': a sentence, read for its value
        return prose_answer(gold.strip(), number_words=False) or gold
    return gold


def short_text_answer(response: str, gold: str) -> Extraction:
    """A short bare reply that extraction leaves alone: one to three words ('Yes', 'odd', 'no solution') when the gold
    is words too; a verdict that opens a one-line reply ('No, it does not follow.') against a yes/no gold; a number
    in words ('one and a half'); a run of letters when the gold multiplies single letters. Anything else against a
    numeric gold stays 'no answer'."""
    text = response.strip()
    plain_gold = _plain(gold_answer(gold))
    if len(text) <= 40 and SHORT_TEXT.fullmatch(text) and _WORDS_ONLY.fullmatch(plain_gold.strip(" .")):
        return Extraction(text.rstrip(".!"), "short_text")
    verdict = _VERDICT_FIRST.fullmatch(text) if len(text) <= 120 and "\n" not in text else None
    if verdict and re.fullmatch(r"\s*(?i:yes|no)\s*\.?\s*", plain_gold) and not _ANOTHER_YES_NO.search(text, verdict.end(1)):
        return Extraction(verdict.group(1), "short_text")  # 'No, it does not follow.': the verdict, then its reason
    if len(text) <= 60 and _WORDS_ONLY.fullmatch(text.rstrip(".")) and spelled_number(text) is not None:
        return Extraction(text.rstrip("."), "short_text")  # 'one and a half', 'seven': a number in words, whole
    if _LETTER_RUN.fullmatch(text) and len(gold) <= 60 and _LETTER_PRODUCT.fullmatch(plain_gold):
        return Extraction("*".join(text), "short_text")  # 'xyz' for 'x*y*z': letters set side by side multiply
    return Extraction(None, "none")


# A one-line reply that opens with its verdict and gives the reason after it ('Yes, it is possible.'), and names no
# other yes or no ('No, wait: yes' is not a verdict of No)
_VERDICT_FIRST = re.compile(r"\s*((?i:yes|no))\s*[,.;:!]\s+[^\n]*")
_ANOTHER_YES_NO = re.compile(r"\b(?i:yes|no)\b")


# A bare run of a few letters, and a gold that multiplies single letters ('x * y * z', 'a b c'): the gold's variables
# are one letter each, so the run is their product, as math sets it ('ba' is b*a), not a word.
_LETTER_RUN = re.compile(r"[A-Za-z]{2,6}")
_LETTER_PRODUCT = re.compile(r"\s*[A-Za-z](?:\s*(?:(?:\*|\\cdot|\\times)\s*)?[A-Za-z](?![A-Za-z]))+\s*")


def _plain(text: str) -> str:
    return _plain_cached(text) if len(text) <= 2000 else _plain_uncached(text)


@functools.lru_cache(maxsize=4096)
def _plain_cached(text: str) -> str:  # asked of the same pred and gold by several rules of one comparison
    return _plain_uncached(text)


def _plain_uncached(text: str) -> str:
    text = unwrap_math(text)
    if "style" in text:
        text = re.sub(r"\\(?:displaystyle|textstyle)(?![a-zA-Z])\s*", "", text)  # how it is set, not what it says
    return re.sub(r"\\(?:text|textbf|textnormal|textrm|mathrm|mathbf|mbox)\s*\{([^{}]*)\}", r"\1", text).strip()


def _one_newline(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


_MARKER_RULES = ("final_answer", "answer_is", "answer_colon")


def verify(response: str, gold: str, extract: str = "any", rel_tol: float = 1e-9, percent: str = "strip",
           mode: str = "exact", _test_sleep: float = 0.0) -> Verdict:
    """Score one response against one gold answer; never runs model text as code."""
    if _test_sleep:
        import time
        time.sleep(_test_sleep)  # test-only hook: lets pool tests simulate a hanging item
    if isinstance(response, bytes):
        response = response.decode("utf-8", errors="replace")
    if "\r" in (response or "") or "\r" in gold:  # Windows and old Mac line endings: one line break, as '\n'
        response, gold = _one_newline(response or ""), _one_newline(gold)
    if _INVISIBLE.search(response or "") or _INVISIBLE.search(gold):  # zero-width and no-break spaces, soft hyphens
        response, gold = (_INVISIBLE.sub(_visible, response or ""), _INVISIBLE.sub(_visible, gold))
    if _MINUS_SIGNS.search(response or "") or _MINUS_SIGNS.search(gold):  # the Unicode minus sign, and hyphens
        response, gold = (response or "").translate(_TO_MINUS), gold.translate(_TO_MINUS)  # typed for one ('‐42')
    if _CJK_PUNCTUATION.search(response or "") or _CJK_PUNCTUATION.search(gold):  # 'x=2 或 x=3', '1 、[-1,1]'
        response, gold = _CJK_PUNCTUATION.sub(_ascii_punctuation, response or ""), _CJK_PUNCTUATION.sub(
            _ascii_punctuation, gold)
    if _FULLWIDTH.search(response or "") or _FULLWIDTH.search(gold):  # 'm ＋ n', '１２': full-width forms of ASCII
        response, gold = (response or "").translate(_TO_ASCII), gold.translate(_TO_ASCII)
    if _written_as_gold(response, gold):
        return Verdict(True, 1.0, response, "equal")
    found = extract_answer(response or "", extract)
    if found.rule == "boxed" and len(found.text) <= 300 and _ANSWER_WORDS.search(found.text):
        inner = extract_answer(_plain(found.text), "boxed_or_marker")  # \\boxed{\\text{The answer is } 42}
        if inner.text:
            found = Extraction(inner.text, "boxed")
    elif found.rule == "boxed" and len(found.text) <= 300 and _SENTENCE_IN_BOX.match(found.text):
        stated = prose_answer(_plain(found.text))  # \\boxed{\\text{The number of apples is } 42}
        if stated:
            found = Extraction(stated, "boxed")
    if found.text is None and mode == "exact" and extract == "any":
        found = short_text_answer(response or "", gold)
    if found.text is not None and (gives_no_answer(response or "", found.rule, found.text,
                                                   lambda: _answer_parts(gold, percent))
                                   or found.rule == "boxed" and _rejected_in_box(found.text, response or "")):
        found = Extraction(None, "none")  # 'I cannot solve this. The number was 12.', '\\boxed{12 \\text{ is wrong}}'
    if found.text is None:
        return _named_pick(response or "", gold) or Verdict(False, 0.0, None, "no_answer")
    if found.text[:2] in ("**", "__") and len(found.text) > 4 and found.text.endswith(found.text[:2]):
        found = Extraction(found.text[2:-2].strip() or found.text, found.rule)  # '**B**': markdown bold round it
    if found.text[-1:] in _QUOTES or found.text[:1] in _QUOTES:  # '“Answer: 400”': typographic quotes round it
        found = Extraction(found.text.strip("".join(_QUOTES)).strip() or found.text, found.rule)
    stored = _stored_repr(found.text) if found.text.startswith(("[", "b")) else None
    if stored:  # the same repr in a response: read as in a gold
        found = Extraction(stored, found.rule)
    if _written_as_gold(found.text, gold):  # the answer found is the gold as written: equal, whatever its parts
        return Verdict(True, 1.0, found.text, "equal")  # parse as ('\\boxed{2Na + Cl2 = 2NaCl}' for that gold)
    if mode == "random_calculation":
        return _random_calculation(found.text, gold)
    if mode != "exact":
        raise ValueError(f"mode={mode!r}: choose 'exact' or 'random_calculation'")
    pred_is_words = bool(_WORDS_ONLY.fullmatch(_plain(found.text).rstrip(".")))
    if pred_is_words and not _WORDS_ONLY.fullmatch(_plain(gold_answer(gold))):
        # 'The answer is three.', 'one hundred and five' against a numeric gold: the words are the number (against
        # 'three' they stay text)
        value = spelled_number(_plain(found.text))
        found = Extraction(str(value), found.rule) if value is not None else found
    elif not pred_is_words and _WORDS_ONLY.fullmatch(_plain(gold).rstrip(".")):
        gold_words = spelled_number(_plain(gold))
        gold = str(gold_words) if gold_words is not None else gold  # a gold 'seven' against the response '7'
    if _INTEGER.fullmatch(found.text) and _INTEGER.fullmatch(gold):  # the common \boxed{12} case: no parsing
        ok = int(found.text) == int(gold)
        if ok or found.rule == "boxed" or not _exclaimed(response, found.text):
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
        if not verdict.correct and re.fullmatch(r"-?\d+(?:/\d+)?", found.text) and _exclaimed(response, found.text):
            again = compare(found.text + "!", gold, rel_tol, percent)  # 'The answer is 100!': an excited 100 or
            if again.correct:                                          # the factorial; either reading may match
                return again
        if not verdict.correct and not (found.rule == "boxed" and choices.letter(_plain(found.text))):  # a boxed
            verdict = _named_pick(response, gold) or verdict  # letter is the pick, whatever the reply named before it
            if verdict.correct:
                return verdict
        if not verdict.correct and found.rule in ("boxed", "last_math", "last_number"):  # a gold of n parts, each boxed
            parts = _answer_parts(gold, percent)  # (or in math) where it was found; a gold 'a \\pm b' is two
            # answers: '$1 + \\sqrt{19}$ and $1 - \\sqrt{19}$' gives each in its own span
            several = None if not 1 < parts <= 8 else (
                extract_last_boxes(response, parts) if found.rule == "boxed" else extract_last_spans(response, parts)
                if found.rule == "last_math" else extract_last_numbers(response, parts))  # '2, 3, and 5.' in prose
            if several and several != found.text and len(several) <= MAX_ANSWER_CHARS:
                again = compare(several, gold, rel_tol, percent)
                if again.correct:
                    return again
        if not verdict.correct and found.rule in _MARKER_RULES:  # '答：鸡有 23 只，兔有 12 只' for a gold '23, 12':
            parts = _answer_parts(gold, percent)  # a stated answer holding exactly as many numbers as the gold has
            numbers = numbers_in(found.text.replace("$", " ")) if 1 < parts <= 8 else []
            if numbers and len(numbers) == parts and not re.search(r"[=<>^\\/*\[\]{}]|\(\s*-?\d|\d\s*\)", found.text):  # no
                # other math, no brackets round the numbers ('[-3, 11)' is an interval, not the two numbers)
                again = compare(", ".join(numbers), gold, rel_tol, percent)
                if again.correct:
                    return again
        return verdict
    except RecursionError:
        return Verdict(False, 0.0, found.text[:200], "too_large")
    except Exception as exc:  # a verifier bug (sympy raising something unforeseen): no verdict, said so explicitly
        return Verdict(False, 0.0, found.text[:200], f"error:{type(exc).__name__}")


def _exclaimed(response: str, number: str) -> bool:
    """The last time the response writes this number, an exclamation mark (or a factorial sign) follows it."""
    last = None
    for last in re.finditer(r"(?<![\d.])" + re.escape(number) + r"(?![\d.])", response):
        pass
    return bool(last) and response.startswith("!", last.end()) and not response.startswith("!=", last.end())


# What closes a box (or follows it) to say its value is wrong: '42 \\text{ wrong}', '42 is false', '42 (incorrect)'
_WRONG_TAIL = re.compile(r"\s*\$*\s*\(?\s*(?:(?:is|are)\s+)?(?:wrong|incorrect|false|not\s+(?:correct|right)|错误|不对)\s*\)?"
                         r"\s*[.!]?\s*$", re.IGNORECASE)


_QUOTES = "“”„«»"
_MINUS_SIGNS = re.compile("[\u2212\u2010\u2011\u2012]")  # minus, hyphen, non-breaking hyphen, figure dash
_TO_MINUS = str.maketrans({c: "-" for c in "\u2212\u2010\u2011\u2012"})


def _rejected_in_box(text: str, response: str) -> bool:
    """A box that holds a value and says it is wrong ('\\boxed{12 \\text{ is wrong}}', '\\boxed{42\\text{ false}}'),
    or the last box followed by words that say so ('\\boxed{42} is wrong', '\\boxed{42} (wrong)')."""
    plain = _plain(text).replace("\\ ", " ")  # '\\ ': a control space
    number = NUMBER.match(plain)
    if number and (REJECTED.match(plain, number.end()) or _WRONG_TAIL.fullmatch(plain[number.end():])):
        return True
    box = last_box_and_after(response)
    if box is None or text.strip() not in box[0]:
        return False
    return bool(REJECTED.match(box[1]) or _WRONG_TAIL.match(box[1].split("\n")[0]))


def _answer_parts(gold: str, percent: str) -> int:
    """How many answers the gold holds: list items, the elements of a set '\\{-1, 2\\}' or a point, the answers of
    'x = -1 or x = 2', the two of 'a \\pm b'."""
    text = pm_expand(normalize(gold, percent))
    braced = re.fullmatch(r"\s*\\\{(.*)\\\}\s*|\s*\((.*)\)\s*", text, re.S)  # a set, or a point written (2, -1)
    if braced and len(top_level_split(braced.group(1) or braced.group(2) or "")) > 1:
        text = braced.group(1) or braced.group(2)
    return len([p for item in top_level_split(text) for p in JOIN.split(item)[0::2] if p.strip(" ,")])


_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\u00a0\u202f]")


def _visible(m) -> str:
    return " " if m.group(0) in "\u00a0\u202f" else ""


def _named_pick(response: str, gold: str) -> Verdict | None:
    """Against a multiple-choice gold (a letter), the option the response last picks by name ('Solution: Choice_B',
    'the only correct option is (C) Plane.'), whatever value extraction took; None when the gold is no letter or
    the response names no pick."""
    letter = choices.letter(_plain(gold))
    pick = choices.last_pick(response) if letter else None
    if not pick:
        return None
    return Verdict(pick == letter, float(pick == letter), pick, "equal" if pick == letter else "not_equal")


def _written_as_gold(response: str | None, gold: str) -> bool:
    """The response is the gold as written, up to spacing ('odd $n$' for 'odd $n$'): equal before any extraction,
    which would take a part of it ('n'). Only a response about as long as the gold is compared."""
    text = (response or "").strip()
    return bool(text) and len(text) <= 2 * len(gold) + 8 and unspaced(text) == unspaced(gold)


def compare(pred: str, gold: str, rel_tol: float = 1e-9, percent: str = "strip") -> Verdict:
    """Two extracted answers. Lettered options compare by letter (or the value against a bare value); an
    approximation 'a \\approx b' matches either side; the rest is _compare_values."""
    picked = choices.TWO_OPTIONS.search(_plain(pred))
    if picked and picked.group(1) != picked.group(2) and not choices.TWO_OPTIONS.search(_plain(gold)):
        return Verdict(False, 0.0, pred, "not_equal")  # 'B) 5 or C) 6': two options offered, none chosen
    p_options, g_options = choices.listed(_plain(pred)), choices.listed(_plain(gold))
    if p_options and g_options and max(len(p_options), len(g_options)) > 1:  # options chosen: 'A, C' is 'AC'
        ok = p_options == g_options
        return Verdict(ok, float(ok), pred, "equal" if ok else "not_equal")
    p_choice, g_choice = choices.lettered_value(_plain(pred)), choices.lettered_value(_plain(gold))
    if p_choice or g_choice:
        p_letter = p_choice[0] if p_choice else choices.letter(_plain(pred))
        g_letter = g_choice[0] if g_choice else choices.letter(_plain(gold))
        if p_letter and g_letter:
            ok = p_letter == g_letter
            return Verdict(ok, float(ok), pred, "equal" if ok else "not_equal")
        pred, gold = (p_choice[1] if p_choice else pred), (g_choice[1] if g_choice else gold)
    else:
        p_letter, g_letter = choices.letter(_plain(pred)), choices.letter(_plain(gold))
        if p_letter and g_letter:  # two option letters, either case: MathQA's golds are 'a' .. 'e'
            ok = p_letter == g_letter
            return Verdict(ok, float(ok), pred, "equal" if ok else "not_equal")
    if _APPROX.search(pred) and not _consistent_approximation(_APPROX.split(unwrap_math(pred)), percent):
        return Verdict(False, 0.0, pred, "not_equal")  # '3 \\approx 4': a hedge, not an approximation
    first = None
    for p in _APPROX.split(unwrap_math(pred)) if _APPROX.search(pred) else [pred]:  # '\\(a \\approx b\\)' too
        for g in _APPROX.split(unwrap_math(gold)) if _APPROX.search(gold) else [gold]:
            v = _compare_values(p, g, rel_tol, percent, pred)
            if v.correct:
                return v
            first = first or v
    if _letters(pred) == {"j"} and _letters(gold) == {"i"}:  # '3+4j' for '3+4i': j, the engineers' and Python's
        as_i = _compare_values(re.sub(r"(?<![a-zA-Z\\])j(?![a-zA-Z])", "i", pred), gold, rel_tol, percent, pred)
        if as_i.correct:  # imaginary unit, where the gold's only letter is i and the response's only letter j
            return as_i
    if _BARE_LOG.search(pred + " " + gold):  # \log 100 is 2 where \log is base 10 (school and contest usage),
        ten = _compare_values(_BARE_LOG.sub(r"\\log_{10}", pred), _BARE_LOG.sub(r"\\log_{10}", gold), rel_tol,
                              percent, pred)  # ln where it is natural (calculus): either reading that matches
        if ten.correct:
            return ten
    return first


def _letters(text: str) -> set[str]:
    """The letters of an answer outside LaTeX commands ('\\frac{1}{2}i' -> {'i'})."""
    return set(re.findall(r"[a-zA-Z]", re.sub(r"\\[a-zA-Z]+", "", text)))


_BARE_LOG = re.compile(r"(?:\\|(?<![a-zA-Z]))log(?![_a-zA-Z])")


_BASE_NUMERAL = re.compile(r"([0-9A-Z]+)_\{?(\d{1,2})\}?")
def _false_arithmetic(text: str) -> bool:
    """Two numbers written equal that are not ('4 = 3'; a chain whose last side is the answer, 'x = 5+5+1 = 1/3',
    is read for that side, as the issue's real completions write it)."""
    sides = equation_sides(text) if "=" in text else []
    if len(sides) != 2 or not all(re.fullmatch(r"\s*-?\d+(?:\.\d+)?\s*", side) for side in sides):
        return False
    return sp.Rational(sides[0].strip()) != sp.Rational(sides[1].strip())


def _consistent_approximation(sides: list[str], percent: str) -> bool:
    """'\\frac{\\sqrt{3}}{3} \\approx 0.577' states one value twice; '3 \\approx 4' or a chain of different values
    states several: the sides that are numbers must agree within 1%; more than three sides is no approximation."""
    if len(sides) > 3:
        return False
    values = []
    for side in sides:
        try:
            v = parse_answer(side, "fraction" if "%" in side else percent)  # 1/6 \\approx 16.7%
            values.append(complex(sp.N(v, 15)) if isinstance(v, sp.Basic) and v.is_number else None)
        except (ParseError, TooLarge, TypeError, ValueError, ZeroDivisionError, RecursionError, AttributeError):
            values.append(None)  # a side that is no number (a label 'x'): nothing to check it against
    numbers = [v for v in values if v is not None]
    return all(abs(a - b) <= 0.01 * max(abs(a), abs(b)) + 1e-12 for a in numbers for b in numbers)


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
    items = [part for item in top_level_split(text) for part in JOIN.split(item)[0::2]]
    if len(items) < 2:
        return None
    out = {}
    for item in items:
        m = ITEM_LABEL.match(item)
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


def _truth(word: str) -> str:
    """A word case-folded, 'yes'/'no' as 'true'/'false': a yes-or-no question's gold may be written either way."""
    word = word.strip().casefold()
    return {"yes": "true", "no": "false"}.get(word, word)


_NUMBER_ONLY = re.compile(r"\s*\$?\s*-?(?:\d+(?:\.\d+)?|\.\d+)(?:\s*/\s*\d+)?\s*\$?\s*")
_UNIT_HINT = re.compile(r"\d[\s$~\\,;{}]*(?:\\(?:text|mathrm|textnormal|textrm|mbox|rm|mu|Omega)\b[\s{]*)?[A-Za-zµμΩ]")


def _compare_values(pred: str, gold: str, rel_tol: float, percent: str, shown: str) -> Verdict:
    kelvins = temperatures(pred, gold)
    if kelvins is not None:  # '273.15 K' and '0 °C': one temperature on two scales (an offset, not a factor)
        ok = kelvins[0] == kelvins[1]
        return Verdict(ok, float(ok), shown, "equal" if ok else "not_equal")
    quantity = conversion(pred, gold) if _UNIT_HINT.search(pred) and _UNIT_HINT.search(gold) else None
    if quantity is not None:  # '9.8 kg m / s^2' and '9.8 N', '5000 mA' and '5 A': the values in one unit
        if quantity.factor is None:
            return Verdict(False, 0.0, shown, "not_equal")  # 3 m is no 3 s
        factor = quantity.factor
        scaled = quantity.pred_value if factor == 1 else f"({quantity.pred_value})*{factor.numerator}/{factor.denominator}"
        return _compare_values(scaled, quantity.gold_value, rel_tol, percent, shown)
    bare_pred, bare_gold = _NUMBER_ONLY.fullmatch(pred), _NUMBER_ONLY.fullmatch(gold)
    if bool(bare_pred) != bool(bare_gold):  # '9.8' for '9.8 N': the unit left out, as for '10' and '10 m/s'
        value = value_of(gold if bare_pred else pred)
        if value is not None:
            return _compare_values(pred, value, rel_tol, percent, shown) if bare_pred else (
                _compare_values(value, gold, rel_tol, percent, shown))
    if "=" in pred and "=" in gold and _renamed_relation(pred, gold) and not _relation_equations(
            pred, gold, percent, rel_tol):
        return Verdict(False, 0.0, shown, "not_equal")  # 'a = b' is not 'c = b': an equation in letters, not a value
    if qualifiers_disagree(pred, gold):  # '12 km west' is not '12 km east', nor 3:45 AM 3:45 PM, nor 25°C 25°F
        return Verdict(False, 0.0, shown, "not_equal")
    pred, gold = _PERCENT_WORD.sub(r"\\%", pred), _PERCENT_WORD.sub(r"\\%", gold)  # '33.5 percent' is 33.5%
    pred_text, gold_text = normalize(pred, percent), normalize(gold, percent)
    if pred_text == gold_text or unspaced(pred_text) == unspaced(gold_text):
        return Verdict(True, 1.0, shown, "equal")  # the same text up to spacing: also where a value is too large
    p_base, g_base = _BASE_NUMERAL.fullmatch(pred_text), _BASE_NUMERAL.fullmatch(gold_text)
    if bool(p_base) != bool(g_base) and (p_base.group(1) if p_base else pred_text) == (
            g_base.group(1) if g_base else gold_text):
        return Verdict(True, 1.0, shown, "equal")  # '10110_2' for the gold '10110': the same numeral, its base named
    renamed = _renamed_argument(pred, gold)
    if renamed is not None:  # 'f(n) = n' for 'f(x) = x': the same function
        return _compare_values(renamed, gold, rel_tol, percent, shown)
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
    if verdict_word and re.fullmatch(r"\s*(?:yes|no|true|false)\s*(?:[,;/]|\band\b|\bor\b)\s*(?:yes|no|true|false)\s*",
                                     pred_text, re.I):
        verdict_word = None  # '\\boxed{Yes} \\boxed{No}': both, which is neither
    if verdict_word and gold_text.strip().casefold() in ("yes", "no", "true", "false"):  # 'Yes, it is possible'
        ok = _truth(verdict_word.group(1)) == _truth(gold_text)
        return Verdict(ok, float(ok), shown, "equal" if ok else "not_equal")
    if _WORDS_ONLY.fullmatch(pred_text) and _WORDS_ONLY.fullmatch(gold_text) and (
            max(len(w) for w in (pred_text + " " + gold_text).split()) >= 3 or pred_text.lower() == "no"):
        p_words, g_words = pred_text.casefold().split(), gold_text.casefold().split()  # text answers: Yes/yes
        ok = p_words == g_words or len(p_words) == len(g_words) == 1 and _truth(p_words[0]) == _truth(g_words[0])
        return Verdict(ok, float(ok), shown, "equal" if ok else "not_equal")
    if _relation_equations(pred, gold, percent, rel_tol) or _same_inequality(pred, gold, percent, rel_tol):
        return Verdict(True, 1.0, shown, "equal")  # 2x+4y-3=0 vs y=-x/2+3/4; a < b vs b > a; x-2 != 0 vs x != 2
    if _same_relation_set(pred, gold, percent, rel_tol):
        return Verdict(True, 1.0, shown, "equal")  # 'x >= 1 and x <= 1' vs 'x = 1'; '[1, x > 2]' vs '[1, 2 < x]'
    if "mod" not in pred and "equiv" not in pred and _false_arithmetic(pred_text):  # '4 = 3', 'x = 4 = 3': a chain of numbers that are not equal states nothing
        return Verdict(False, 0.0, shown, "not_equal")
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


_FUNCTION_OF = re.compile(r"^\s*([a-zA-Z])\s*\(\s*([a-zA-Z])\s*\)\s*=")


def _renamed_argument(pred: str, gold: str) -> str | None:
    """'f(n) = n' against 'f(x) = x': the pred with its argument renamed to the gold's; None when the two name the
    same argument, different functions, or the gold's letter already means something else in the pred."""
    p, g = _FUNCTION_OF.match(pred), _FUNCTION_OF.match(gold)
    if not p or not g or p.group(1) != g.group(1) or p.group(2) == g.group(2) or _uses(g.group(2), pred):
        return None
    return re.sub(r"(?<![a-zA-Z\\])%s(?![a-zA-Z])" % p.group(2), g.group(2), pred)


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
    at the places it states ('0.6666667' and 2/3; '0.0666668' and '0.066666793'); two of twelve places or more are
    floats printed in full and match within 1e-12 relative ('0.8333333333333333', '0.8333333333333334'). Shorter
    decimals are exact ('2.23' is not '2.232', '2.1569' is not 110/51)."""
    places = [len(m.group(1)) for m in (_LONG_DECIMAL.fullmatch(pred_text), _LONG_DECIMAL.fullmatch(gold_text)) if m]
    if not places or not all(isinstance(x, sp.Basic) and x.is_number and x.is_real for x in (pred_obj, gold_obj)):
        return False
    try:
        difference = abs(float(sp.N(pred_obj - gold_obj, 30)))
        if len(places) == 2 and min(places) >= 12:  # two floats' reprs, 0.8333333333333333 and 0.8333333333333334:
            return difference <= 1e-12 * max(abs(float(pred_obj)), abs(float(gold_obj)), 1e-300)  # rounding noise
        return difference <= 0.5 * 10.0 ** -min(places) * (1 + 1e-9)
    except (TypeError, ValueError, OverflowError):
        return False


_ONE_LETTER_LABEL = re.compile(r"\s*\$?\s*([A-Za-z])\s*=(?![=<>])\s*(.+?)\s*\$?\s*")


def _renamed_relation(pred: str, gold: str) -> bool:
    """Both are 'letter = expression in letters' with different letters on the left ('a = b', 'c = b'): two
    equations between variables, which the label stripping would read as one value."""
    p, g = _ONE_LETTER_LABEL.fullmatch(pred), _ONE_LETTER_LABEL.fullmatch(gold)
    if not p or not g or p.group(1) == g.group(1) or "," in p.group(2) + g.group(2) or "=" in p.group(2) + g.group(2):
        return False
    return all(re.search(r"[a-zA-Z]", re.sub(r"\\[a-zA-Z]+", "", side)) for side in (p.group(2), g.group(2)))


def _relation_equations(pred: str, gold: str, percent: str, rel_tol: float) -> bool:
    """Both answers are equations (labels kept: 'y = ...' is a line here): equal when they are the same relation,
    lhs - rhs equal up to a non-zero factor. Chains 'a = b = c' are read as 'a = c'."""
    if "=" not in pred or "=" not in gold:
        return False
    pk, gk = normalize(pred, percent, labels=False), normalize(gold, percent, labels=False)
    p_sides, g_sides = equation_sides(pk), equation_sides(gk)
    if len(p_sides) < 2 or len(g_sides) < 2 or any(c in pk + gk for c in "<>≠,") or JOIN.search(pk + " " + gk):
        return False  # 'x = -2 or x = 2' is two answers, not the chain x = (-2 or x) = 2
    try:
        p_eq = Equation(parse_math(p_sides[0]) - parse_math(p_sides[-1]))
        g_eq = Equation(parse_math(g_sides[0]) - parse_math(g_sides[-1]))
        return equal(p_eq, g_eq, rel_tol)
    except (ParseError, TooLarge, TypeError, ValueError, ZeroDivisionError, RecursionError, AttributeError):
        return False


_ONE_RELATION = re.compile(r"^([^<>≠=]+)(<=|>=|<|>|≠)([^<>≠=]+)$")


def _inequality(text: str):
    """'L op R' with one of <, <=, >, >=, != -> (D, kind) with the relation read as 'D > 0', 'D >= 0' or 'D != 0'."""
    m = _ONE_RELATION.match(text)
    if not m or "," in text:
        return None
    left, op, right = parse_math(m.group(1)), m.group(2), parse_math(m.group(3))
    if op in ("<", "<="):
        return right - left, ">" if op == "<" else ">="
    return left - right, op


_RELATION_HINT = re.compile(r"[<>≠≤≥]|\\(?:le|ge|ne|lt|gt)|!=")  # before normalising: could this be a relation?


def _same_inequality(pred: str, gold: str, percent: str, rel_tol: float) -> bool:
    """Two single inequalities (or not-equals) in any variables are one relation when, read as 'D > 0', their D
    differ by a positive factor (a not-equal: by any non-zero factor): 'a < b' and 'b > a', '3x^2 < 9a' and
    'x^2 - 3a < 0', 'x - 2 != 0' and 'x != 2'. Nothing is solved: 'x^2 > 4' is not 'x > 2 or x < -2' here."""
    if not _RELATION_HINT.search(pred) or not _RELATION_HINT.search(gold):
        return False
    pk, gk = normalize(pred, percent, labels=False), normalize(gold, percent, labels=False)
    if not any(c in pk for c in "<>≠") or not any(c in gk for c in "<>≠") or re.search(r"\b(?:and|or)\b", pk + gk):
        return False
    try:
        p, g = _inequality(pk), _inequality(gk)
        if not p or not g or p[1] != g[1]:
            return False
        return proportional(p[0], g[0], rel_tol, positive=p[1] != "≠")
    except (ParseError, TooLarge, TypeError, ValueError, ZeroDivisionError, RecursionError, AttributeError):
        return False


def _same_relation_set(pred: str, gold: str, percent: str, rel_tol: float) -> bool:
    """Linear relations in one variable joined by and/or describe the same set of reals, alone or as the items of a
    list or set (rlvr_verify.solution_sets)."""
    if not (_RELATION_HINT.search(pred) or _RELATION_HINT.search(gold)):
        return False
    pk, gk = normalize(pred, percent, labels=False), normalize(gold, percent, labels=False)
    if not any(op in pk + gk for op in "<>≠"):  # two equations are Equation's business
        return False
    p_set, g_set = solution_set(pk), solution_set(gk)
    if same_set(p_set, g_set) or same_relation_items(pk, gk, rel_tol):
        return True
    if (p_set is None) == (g_set is None):
        return False
    described, other = (p_set or g_set)[1], gk if p_set else pk  # '(x > 4 and x < 5) or x < -4' vs a union
    try:
        other_set = real_set(parse_normalized(other))
    except (ParseError, TooLarge, TypeError, ValueError, ZeroDivisionError, RecursionError, AttributeError):
        return False
    return other_set is not None and sp.Complement(described, other_set) == sp.Complement(other_set, described) == (
        sp.S.EmptySet)


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
