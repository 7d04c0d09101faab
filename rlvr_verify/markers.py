"""Answers stated after a marker: 'The answer is', 'Answer:', 'final answer is' (of the three, the one stated last),
'####', a '# Answer' heading, a closing '... and that is our final answer' that points back. Where the marker is,
how much of the text after it is the answer (a math span, a number and its unit, a list, a sentence's value), and a
later retraction that replaces it."""
import re
from fractions import Fraction

from rlvr_verify.boxes import box_spans
from rlvr_verify.closing import closing_text
from rlvr_verify.limits import ANSWER_LINE_CHARS, MAX_MARKER_ANSWER_CHARS
from rlvr_verify.math_or_prose import COMPOUND_UNIT, MATH_WORDS, VERB, WORD, extract_whole, is_bare_answer
from rlvr_verify.math_spans import extract_last_math, math_spans
from rlvr_verify.stated_numbers import DECIMAL_COMMA as _DECIMAL_COMMA
from rlvr_verify.stated_numbers import NUMBER as _NUMBER
from rlvr_verify.stated_numbers import extract_last_number, number_word, numbers_in, spelled_number
from rlvr_verify.stated_numbers import stated as _stated

# The end of a reasoning model's thinking: what follows is its reply, where the final answer is stated.
END_OF_THINKING = re.compile(r"</think>|<\|end_of_thought\|>", re.IGNORECASE)


def _sentence(rest: str) -> str:
    """Text up to the end of the line or sentence (a '.' followed by a space or the end; not a decimal point)."""
    line = rest.split("\n", 1)[0]
    return re.split(r"\.(?=\s|$)|。", line, maxsplit=1)[0].strip()


# What may open an answer before the answer itself: 'I think it is C', 'I believe that it's 42', 'probably 7'
_HEDGE_LEAD = re.compile(r"^(?:I\s+(?:think|believe|guess)|probably|likely)\s+(?:that\s+)?(?:(?:it\s+is|it's|the\s+answer\s+is)\s+)?",
                         re.IGNORECASE)


def answer_at_start(rest: str) -> str | None:
    """The answer that opens `rest` (the text after a marker such as 'The answer is')."""
    rest = rest.lstrip(" \t:*_}")  # '**Answer:** 7', '\\textbf{Answer:} 7'
    if "</" in rest[:MAX_MARKER_ANSWER_CHARS * 4]:  # '#### 4</think>': the end of the thinking ends the answer
        rest = END_OF_THINKING.split(rest, maxsplit=1)[0]
    if rest.startswith("\n"):  # 'Answer:' on a line of its own: the answer is the next line when that is short
        rest = rest.lstrip()
        if not rest[:1] in ("$", "\\") and len(rest.split("\n", 1)[0]) > ANSWER_LINE_CHARS:
            return None
    if rest[:1] in ("$", "\\"):
        spans = math_spans(rest[:MAX_MARKER_ANSWER_CHARS * 4])
        if spans and spans[0][1] == 0:
            return joined_spans(rest, spans) or spans[0][0] or None
    sentence = _sentence(rest)[:MAX_MARKER_ANSWER_CHARS].strip("*_ ")  # **18** (markdown bold)
    if sentence[:1] in ("$", "€", "£") and sentence.count("$") == 1:
        sentence = sentence[1:].lstrip()  # '#### $168 for 2 weeks': a currency sign, not a math delimiter
    comma = _DECIMAL_COMMA.match(sentence)  # '0,5' or '12,5 cm': a decimal comma, kept whole (the comparer decides)
    if comma and not re.match(r"\s*[,\d]", sentence[comma.end():]):
        return comma.group(0)
    sentence = re.sub(r"\s*(?:\((?:not|rather than)\b[^()]*\)|[,;]\s*(?:not|rather than)\s[^,;]{1,40})\s*$", "",
                      sentence)  # 'Answer: 7 (not 6)', 'Answer: D, not B'
    sentence = _HEDGE_LEAD.sub("", sentence, count=1) or sentence  # 'Answer: I think it is C'
    if "because" in sentence or "since" in sentence:  # 'The answer is C because I computed ...': the reason after it
        sentence = re.split(r",?\s+because\b|,\s*since\b", sentence, maxsplit=1)[0].rstrip() or sentence
    if " and a" in sentence or re.search(r"(?:half|halves|thirds?|quarters?|fourths?|fifths?|ths)\b", sentence):
        if isinstance(spelled_number(sentence), Fraction):  # 'one and a half', 'two thirds': the whole phrase
            return sentence.rstrip(".").strip()
    number = _NUMBER.match(sentence)
    if number:
        tail = sentence[number.end():].strip()
        hedge = re.match(r",?\s*or\s+(?:maybe|perhaps|possibly)\s+(-?\d+(?:\.\d+)?)", tail)
        if hedge:  # 'The final answer is 15, or maybe 16': two answers, not 15
            return number.group(0) + " or " + hedge.group(1)
        if re.match(r"or\s+(?:more|less|fewer|greater|higher|lower|above|below)\b", tail):
            return sentence  # '3 or more': a bound, not a value
        if _MORE_NUMBERS.fullmatch(tail):  # '12, 15' and '3 and 5': a list of numbers, kept whole
            return sentence
        word = re.match(r"[A-Za-z]+", tail)  # '1,-1,-3i', '-2 sin(t^2)/t + ...': math goes on after the number
        factorial = re.match(r"!+(?:[/*^()\d]|\s*(?:[*/×·+-]|\\times|\\cdot)\s*\(*\d)", tail)  # '11!/(4!4!2!1!)'
        if (tail[:1] in tuple(",+-*/^(") or factorial or word and word.group(0) in MATH_WORDS - {"and", "or"}) and (
                extract_whole(sentence)):
            return sentence
        if COMPOUND_UNIT.fullmatch(sentence):  # '2 kg m^-2': the quantity whole (its units convert)
            return sentence
        scale = re.match(r"(?:thousand|million|billion|trillion|dozen)(?![a-zA-Z])", tail, re.IGNORECASE)
        if scale:  # '2.5 billion' is the number 2,500,000,000
            return number.group(0) + " " + scale.group(0)
        if not tail or re.match(r"[A-Za-z]{2,}|I\b|[!?,;]", tail):  # words after a number: units or chatter
            return number.group(0)
    if not re.search(r"\s", sentence) and extract_whole(sentence):
        return sentence  # 'yz=2xz-5z': math run together, not a sentence of words to read a value from
    labelled = _labelled_list(sentence)
    return labelled or prose_answer(sentence, first=True) or sentence.strip("$ ").rstrip(".").strip() or None


# 'mean $= 6$', 'x_1 = 2', 'AB = 4.5': one name, then a value with a digit in it
_LABELLED_VALUE = re.compile(r"\s*[A-Za-z]+(?:_\{?\w+\}?)?\s*=\s*([^=]*\d[^=]*?)\s*")


def _labelled_list(sentence: str) -> str | None:
    """'mean $= 6$, variance $= 8$' after a marker: every item of the list names its value, so the answer is the
    list ('mean = 6, variance = 8', whose labels the normaliser strips), not the value of the last '='."""
    plain = sentence.replace("$", "")
    if plain.count("=") < 2:
        return None
    items = [item for item in re.split(r"\s*(?:[,;]|\band\b)\s*", plain) if item.strip()]
    if len(items) < 2 or not all(_LABELLED_VALUE.fullmatch(item) for item in items):
        return None
    return ", ".join(item.strip() for item in items)


_SPAN_JOINER = re.compile(r"\s*(?:,|;|\band\b|\bor\b|、)\s*(?:\band\b|\bor\b)?\s*")


def joined_spans(rest: str, spans) -> str | None:
    """'$8$, $4$' or '$0.05$ and $0.6$' after a marker: one answer in several math spans, joined as one list (only
    separators between them, nothing after the last but the end of the sentence)."""
    parts, end = [spans[0][0]], spans[0][2]
    for content, start, stop in spans[1:]:
        joiner = _SPAN_JOINER.fullmatch(rest[end:start])
        if not joiner or "\n" in rest[end:start]:
            break
        parts.append(content)
        end = stop
    after = rest[end:].lstrip(" \t")
    if len(parts) < 2 or not (not after or after[0] == "\n" or after[0] in ".!" and (len(after) == 1 or after[1].isspace())):
        return None  # nothing after the last span but the end of the sentence
    return ", ".join(parts)


_MORE_NUMBERS = re.compile(r"(?:\s*(?:,|;|\band\b|\bor\b)\s*-?\d+(?:\.\d+)?(?:\s*/\s*\d+)?)+")


# A phrase opening the sentence that sets the scene with a number of its own: 'In 3 years, ...', 'After 2 hours, ...'
_LEADING_PHRASE = re.compile(r"\s*(?:in|after|for|at|on|by|with|within|over|during|from|since|before|of|if)\b[^,]{0,60},",
                             re.IGNORECASE)


_RESULT_WORD = re.compile(r"\b(?:so|thus|hence|total|in all|altogether|gives|makes)\b", re.IGNORECASE)  # ', so 12 in all'


def prose_answer(sentence: str, number_words: bool = True, first: bool = False) -> str | None:
    """A final answer written as a sentence of words ('The probability is 0.25', 'The value is \\frac{1}{4}',
    'There are 5 red and 7 blue, so 12 in all'): the math after its last 'is'/'='/':' when that is all math (or a
    number and its unit), else its last number. A sentence with no digit gives the one number word it names ('three
    boxes contain neither'), or None (a text answer stays whole); number_words=False: None (a gold's words). With
    first (the sentence after a marker), a sentence with no math gives its first stated number after any opening
    scene-setting phrase, or after its last 'is'/'was' when prose follows that ('Wendy earns 30 more badges than Amber
    in a 1 year time frame': 30; 'Faraday was able to sell 291 sunflowers after 3 days': 291)."""
    words = [w for w in WORD.findall(sentence) if w.lower() not in MATH_WORDS]
    if len(words) < 2 or not re.match(r"[A-Za-z]{2,}\b", sentence):
        return None
    if not re.search(r"\d", sentence):
        return number_word(sentence) if number_words else None
    inside = [(start, end) for _, start, end in math_spans(sentence)]
    verb = None
    for found in VERB.finditer(sentence):  # the last 'is'/'='/':' of the prose, not an '=' inside its math:
        if not any(start < found.start() < end for start, end in inside):  # '... is \\(n = 10\\).' reads n = 10
            verb = found
    if verb:
        rest = sentence[verb.end():].strip().rstrip(".")
        spans = math_spans(rest)
        if spans and spans[0][1] == 0 and spans[0][2] == len(rest):
            return spans[0][0] or None
        if extract_whole(rest):
            return rest
    if first and not math_spans(sentence) and not _RESULT_WORD.search(sentence):
        scene = _LEADING_PHRASE.match(sentence)  # after a marker, a sentence with no math or result word names its
        # answer first: 'Mark needs 23 pounds of stuffing to make 4 beds' (23), not its last number; after its verb
        # when prose follows it: 'Faraday was able to sell 291 sunflowers after 3 days' (291)
        for number in _NUMBER.finditer(sentence, verb.end() if verb else scene.end() if scene else 0):
            if _stated(sentence, number.start(), number.end()):
                alternative = re.match(r"\s*,?\s*or\b\s*(-?\d[\d,.]*)?", sentence[number.end():])
                if alternative:  # 'approximately 3 or 4 hours': both, a hedge; 'either 12 or not 12': as before
                    if not alternative.group(1):
                        break
                    return f"{number.group(0)} or {alternative.group(1).rstrip('.,')}"
                return number.group(0).replace(",", "") if re.fullmatch(r"-?[\d,]+(?:\.\d+)?", number.group(0)) else None
    return extract_last_number(sentence)


def after_marker(s: str, pattern: str) -> str | None:
    """The answer after the last occurrence of a marker phrase (case-insensitive)."""
    last = None
    for last in re.finditer(pattern, s, re.IGNORECASE):
        pass
    return answer_at_start(s[last.end():]) if last else None


# 'answer' used as a verb before 'is' ('the number of questions he did not answer is 100 - 80') is not a marker.
# (The words come first and the verb checks after them: the engine tries the lookbehinds only where 'answer is' is.)
_ANSWER_IS = re.compile(r"\banswer is\b" + "".join(r"(?<!%s answer is)" % w for w in (
    r"\bnot", "n't", r"\bto", r"\bdid", r"\bwe", r"\bthey", r"\bhe", r"\bshe", r"\bI", r"\byou"))
                        + r"|\b(?:the|our|my|final) answers are\b|\bthe answer \([^()\n]{1,30}\) is\b"  # '(arabic numerals)'
                        + r"|答案(?:是|为|：|:)|故选|应选"
                        + r"|\bAntwort\s+(?:ist|lautet)\b|(?<!\w)ответ\s+(?:—|-|равен)", re.IGNORECASE)


def after_answer_is(s: str) -> str | None:
    last = None
    for last in _ANSWER_IS.finditer(s):
        pass
    return answer_at_start(s[last.end():]) if last else None


# The three marker phrases, by rule: 'final answer is', 'the answer is' (and its other languages), 'Answer:'.
MARKERS = {
    "final_answer": re.compile(r"final answer is\b", re.IGNORECASE),
    "answer_is": _ANSWER_IS,
    "answer_colon": re.compile(r"\b(?:answers?|antwort|respuesta|r[ée]ponse|risposta|resposta)\s*(?:\}\s*)?:|(?<!\w)ответ\s*[:：]"
                               r"|(?<![\u4e00-\u9fff])(?:回)?答え?\s*[:：]"  # 答：, 回答： and 答え： (Chinese, Japanese)
                               r"|(?<![\uac00-\ud7a3])정?답\s*[:：]",  # 정답：, 답： (Korean)
                               re.IGNORECASE),
}


MARKER_RULES = tuple(MARKERS)


def last_stated(s: str) -> tuple[str, str] | None:
    """Of the answers stated after 'final answer is', 'the answer is' and 'Answer:', the one stated last: a model
    that corrects itself ('The answer is 7. ... Final answer: 9') means its last word. A later marker followed by
    words that hold no value ('Answer: see above') does not override an earlier one that holds a value."""
    stated = []
    for rule, pattern in MARKERS.items():
        last = None
        for last in pattern.finditer(s):
            pass
        text = answer_at_start(s[last.end():]) if last else None
        if text and re.match(r"[^.!?\n]*\?", s[last.end():]):  # 'The answer is 12? No, ...': asked, not stated
            text = None
        if text:  # where the phrase ends ('final answer is' holds 'answer is': the longer phrase names the rule)
            stated.append((_holds_value(text), last.end(), -len(stated), text, rule))
    if not stated:
        return None
    valued = [x for x in stated if x[0]] or stated
    _, at, _, text, rule = max(valued)
    sentence_end = re.search(r"[.!\n]", s[at:at + 4 * MAX_MARKER_ANSWER_CHARS])
    if sentence_end:  # 'The answer is A. Or maybe B.': a second answer offered is a hedge, both are stated
        other = _OR_MAYBE.match(s, at + sentence_end.end())
        second = answer_at_start(s[other.end():]) if other else None
        if second:
            return f"{text} or {second}", rule
    return _corrected(s, at + len(text), text) or text, rule


_OR_MAYBE = re.compile(r"\s*(?:or|but)\s+(?:maybe|perhaps|possibly)\b\s*(?:it(?:'s|\s+is)\s+)?|\s*or\s+(?=\S+\s*[.!?]?\s*$)",
                       re.IGNORECASE)


# A retraction of the answer just stated: 'Wait, I made an error above: ... the total should be 14, not 12.',
# '$x = 5$ is wrong. Correct: ... x = 6'.
_RETRACTION = re.compile(r"\b(?:I made an? (?:error|mistake)|(?:is|was|'s) (?:wrong|incorrect)|should (?:be|have been))\b",
                         re.IGNORECASE)


def _corrected(s: str, after: int, stated: str) -> str | None:
    """The value a later retraction puts in place of the stated answer: the last value stated after the retraction,
    when the retracting sentence names the stated value ('so $x = 5$ is wrong'), denies it ('should be 14, not 12')
    or owns to an error ('I made an error'). A cue about something else ('option B is wrong', 'it should be clear
    that 12 = 3 * 4') leaves the answer as it was."""
    cue = _RETRACTION.search(s, after)
    if cue is None or len(s) - cue.start() > _CHECK_TAIL_CHARS:
        return None
    start = max(s.rfind(c, after, cue.start()) for c in ".!?\n") + 1 or after
    end = min([k for k in (s.find(c, cue.end()) for c in ".!?\n") if k >= 0] or [len(s)])
    old, cue_words, sentence = numbers_in(stated.replace("$", " ")), cue.group(0).lower(), s[start:end]
    names_old = len(old) == 1 and (old[0] in numbers_in(sentence) if not cue_words.startswith("should") else
                                   re.search(r"\bnot\s+\$?" + re.escape(old[0]) + r"(?!\d)", sentence))
    if not (cue_words.startswith("i made") or names_old):  # 'should be 14, not 12': the old value denied
        return None
    tail = closing_text(s[cue.start():])
    new = extract_last_math(tail) or extract_last_number(tail)
    return new if new and numbers_in(new)[-1:] != old[-1:] else None


_CHECK_TAIL_CHARS = 600  # a retraction further from the end than this is part of the working, not a correction


def _holds_value(text: str) -> bool:
    return bool(re.search(r"[\d\\]", text)) or len(text.split()) == 1


# A closing sentence that points back at the answer stated just before it: 'So $m+n=29$. And that is our final
# answer.', '..., and that is our final answer.', '$1440$ is the larger number, so that must be the answer'.
_BACK_REFERENCE = re.compile(r"(?:\b(?:that|this|which|it)(?:'s|\s+is|\s+was|\s+must\s+be|\s+will\s+be)|\bis)\s+"
                             r"(?:our|the|my)\s+(?:final\s+)?answer\s*[.!]*\s*$", re.IGNORECASE)


def extract_answer_before(s: str) -> str | None:
    """The answer stated just before a closing back-reference ('So $m+n=29$.\\nAnd that is our final answer.'): the
    math, or else the number, of the text before the phrase on its line, or of the line before it when the phrase
    opens its line."""
    tail = s.rstrip()[-MAX_MARKER_ANSWER_CHARS * 2:]
    m = _BACK_REFERENCE.search(tail)
    if not m:
        return None
    lines = tail[:m.start()].rstrip().split("\n")
    segment = lines[-1]
    if not re.search(r"[\d$\\]", segment) and len(lines) > 1:
        segment = lines[-2]
    segment = segment.strip()
    if not segment or len(segment) > MAX_MARKER_ANSWER_CHARS:
        return None
    return (extract_last_math(segment) or extract_whole(segment.rstrip(",.; ")) or prose_answer(segment)
            or extract_last_number(segment))


def extract_answer_heading(s: str) -> str | None:
    """PRM800K-style '# Answer' heading: the answer is the next non-empty line."""
    last = None
    for last in re.finditer(r"^[ \t]*#{1,6}[ \t]*(?:final[ \t]+)?answer[ \t]*:?[ \t]*$", s, re.IGNORECASE | re.MULTILINE):
        pass
    if last is None:
        return None
    after = s[last.end():last.end() + 4 * MAX_MARKER_ANSWER_CHARS]
    display = re.match(r"\s*(\\\[|\$\$)", after)
    if display:  # '### Answer\n\\[\nx > 5\n\\]': the display that follows, not its opening line
        spans = math_spans(after[display.start(1):])
        return (spans[0][0] or None) if spans and spans[0][1] == 0 else None
    for line in after.splitlines():
        line = line.strip().strip("*_ ")
        if line:
            if len(line) > MAX_MARKER_ANSWER_CHARS:
                return None
            return (after_marker(line, r"answer is\b") or after_marker(line, r"\banswer\s*:")
                    or extract_whole(line.rstrip(".")) or extract_last_math(line)
                    or (line.rstrip(".") if is_bare_answer(line) else None))  # 'odd', '1:58 am
    return None


_FINAL_ANSWER = re.compile(r"\bfinal\s+answer\s*(?:is\b|:)", re.IGNORECASE)


def final_answer_after_last_box(s: str) -> str | None:
    """A 'final answer is ...' / 'Final answer: ...' stated after the last box, whose value has a digit or math in
    it, overrides the box ('Candidate: \\boxed{4}. Final answer: 5'). A closing line that restates the boxed
    value changes nothing; one that points elsewhere ('The final answer is boxed above.') is no value. The boxes are
    only scanned again when the phrase appears after the last box command (most responses end at their box)."""
    if not _FINAL_ANSWER.search(s, max(0, s.rfind("\\box"))):
        return None
    boxes = box_spans(s)
    if not boxes:
        return None
    tail = s[max(b[3] for b in boxes):]
    last = None
    for last in _FINAL_ANSWER.finditer(tail):
        pass
    if last is None:
        return None
    found = answer_at_start(tail[last.end():])
    return found if found and re.search(r"[\d\\^]", found) else None
