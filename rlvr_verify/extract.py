"""Answer extraction: find the final answer in a model response and say which rule found it.

A reasoning trace ('<think> ... </think> answer', Sky-T1's '<|end_of_thought|>') is read from after its last
end-of-thinking tag first: the candidates tried along the way inside the thinking are not the answer; only when
nothing after the tag reads as an answer (or there is no tag: an unfinished trace) is the whole text read. A trace
that opened its thinking ('<think>', '<|begin_of_thought|>') and never closed it was cut off while thinking: it has
no answer but an '<answer>' tag; a box or an 'answer is' inside it is a candidate it was still weighing ('So the answer
is 8. ... But what if'), and its last number is where it stopped ('Similarly, for k=3,'). Positional rules (last math,
last number) read the text without its closing chatter, checks and asides (closing_text).

The cascade for extract='any' (first rule that finds something wins):
  answer_tag    the last '<answer>...</answer>' (R1-zero format), its contents read by the same rules
  answer_json   the last "answer" field of a JSON object (structured output), a string value read the same way
  boxed         the box closed last (\\boxed{...}/\\fbox{...}, not in a code block or comment); several boxes written
                together at the end are joined with ', ' (a long run of one value: the last one)
  answer_heading  a '# Answer' heading line (PRM800K style): the next non-empty line
  gsm8k         '#### 42'
  answer_before a closing 'and that is our (final) answer': the answer stated just before it
  final_answer  'final answer is ...'            } one rule: of the three, the answer stated last
  answer_is     'the answer is ...' (not the verb: 'he did not answer is ...'), 'the answers are ...', '答案是 ...',
                'Die Antwort ist', '故选'
  answer_colon  'Answer: ...', 'Answers:', 'Antwort:', 'Ответ:', '答：'
  solution_choice  'Solution: Choice_B' (a multiple-choice pick named as a choice or option)
  closing_count a last line that states a count in words ('There are two values of $x$ ...'): that number
  closing_infinity  'The limit is (negative) infinity.'
  closing_bold  a value in bold in the closing paragraph ('So it takes **8 hours**.'), not a bold heading or label
  last_math     the last $$...$$, \\[...\\], \\(...\\) or $...$ ('$x = 2$ or $x = 3$': both)
  whole         a short one-line response that is only math ('\\frac{3}{5}', 'x = 548')
  last_number   the last number in the text (a mixed number '4 4/9' and '1,000' stay whole) that is stated: not
                denied ('isn't 12'), hedged ('maybe 12'), bounded ('at least 3') or asked ('Is it 12?')
A new 'Problem:' / 'Question:' after an answer (a base model inventing the next few-shot problem) ends the response.
An empty or unfinished last box ('\\boxed{}', a '\\boxed{42' cut off) takes the earlier boxes back: only the text
after an empty one is read (by the rules after boxed), and nothing after an unfinished one.
After a marker, a math environment is taken whole; plain text is cut at the sentence end, or to its leading number
when the rest of the sentence is words ('Answer: 644 I hope this helps!' -> '644')."""
import json
import re
from dataclasses import dataclass
from fractions import Fraction

from rlvr_verify.closing import closing_text
from rlvr_verify.stated_numbers import DECIMAL_COMMA as _DECIMAL_COMMA
from rlvr_verify.stated_numbers import NUMBER as _NUMBER
from rlvr_verify.stated_numbers import NUMBER_WORD as _NUMBER_WORD
from rlvr_verify.stated_numbers import NOT_A_COUNT as _NOT_A_COUNT
from rlvr_verify.stated_numbers import extract_last_number, number_word, numbers_in, spelled_number
from rlvr_verify.stated_numbers import stated as _stated
from rlvr_verify.unanswered import hide_negated_answers, hide_unstated_boxes

MAX_RESPONSE_CHARS = 200_000  # scanning only looks at the tail; a 1 MB response is cut, not rejected
MAX_MARKER_ANSWER_CHARS = 300


@dataclass(frozen=True)
class Extraction:
    text: str | None
    rule: str  # a key of RULES, or "none"


def _matching_braces(s: str, start: int) -> dict[int, int]:
    """Index of each '{' at or after start -> index of its '}' (one linear pass; unclosed braces are absent)."""
    close_of, stack = {}, []
    for m in re.finditer(r"[{}]", s[start:]):
        i = start + m.start()
        if m.group(0) == "{":
            stack.append(i)
        elif stack:
            close_of[stack.pop()] = i
    return close_of


def _boxes(s: str) -> list[tuple[int, int, int, int]]:
    """Every complete \\boxed{...}/\\fbox{...} as index spans (content start, content end, start, end). Linear in
    len(s) in time and memory: ten thousand unclosed '\\boxed{' cost no more than one, and ten thousand nested ones
    are not copied out ten thousand times (slice only what is returned)."""
    opens = list(re.finditer(r"\\(?:boxed|fbox|box)\s*\{", s))  # \box{39}: a slip for \boxed
    if not opens:
        return []
    close_of = _matching_braces(s, opens[0].end() - 1)
    out = []
    for m in opens:
        brace = m.end() - 1
        if brace in close_of:
            out.append((brace + 1, close_of[brace], m.start(), close_of[brace] + 1))
    return out


def last_box_and_after(s: str, chars: int = 40) -> tuple[str, str] | None:
    """The content of the box that closes last and the `chars` characters after it; None without a complete box."""
    boxes = _boxes(s[-MAX_RESPONSE_CHARS:])
    if not boxes:
        return None
    start, end, _, close = max(boxes, key=lambda b: b[3])
    tail = s[-MAX_RESPONSE_CHARS:]
    return tail[start:end], tail[close:close + chars]


def extract_last_boxes(s: str, n: int) -> str | None:
    """The contents of the last n boxes that do not nest, joined with ', ' (an answer in several parts, each boxed
    where it was found: '(a) ... \\boxed{3} ... (b) ... \\boxed{5}'); None when there are fewer than n."""
    boxes, out = _boxes(s[-MAX_RESPONSE_CHARS:]), []
    for b in reversed(boxes):
        if not out or b[3] <= out[-1][2]:
            out.append(b)
        if len(out) == n:
            text = s[-MAX_RESPONSE_CHARS:]
            return ", ".join(text[a:z].strip() for a, z, _, _ in reversed(out))
    return None


def extract_last_spans(s: str, n: int) -> str | None:
    """The last n math environments, joined with ', ' ('the solutions are $x=2$ and $x=3$.')."""
    spans = [sp for sp in math_spans(s[-MAX_RESPONSE_CHARS:]) if sp[0]]
    if len(spans) < n:
        return None
    return ", ".join(text for text, _, _ in spans[-n:])


def extract_last_numbers(s: str, n: int) -> str | None:
    """The last n numbers when they are written as one list at the end ('The possible values are 2, 3, and 5.'):
    only commas, 'and', 'or' between them, and nothing after the last but the end of the sentence."""
    found = [m for m in _NUMBER.finditer(s[-2000:]) if not (m.start() and s[-2000:][m.start() - 1] in "^_")]
    if len(found) < n:
        return None
    tail = s[-2000:]
    last = found[-n:]
    if any(not re.fullmatch(r"\s*,?\s*(?:and|or)?\s*", tail[a.end():b.start()]) for a, b in zip(last, last[1:])):
        return None
    if not re.fullmatch(r"\s*[.!]?\s*", tail[last[-1].end():]):
        return None
    return ", ".join(m.group(0).replace(",", "") for m in last)


# Text allowed between two boxes that belong to one answer: '$\boxed{1}$, $\boxed{2}$', '\boxed{1} and \boxed{2}',
# '$x = \boxed{1}$ and $y = \boxed{2}$'.
_BOX_JOINER = re.compile(r"[\s$,;.]*(?:and|or|,|;|\\text\{\s*(?:and|or)\s*\}|(?:\\!)+)?[\s$,;]*(?:(?:\\text\{[^{}]{0,12}\}|[a-zA-Z](?:_\{?\w+\}?)?)\s*=\s*)?"
                         r"[\s$]*")


_MAX_BOX_GROUP = 8  # boxes written together as one answer in parts; more is a repetition (or a flood)


# A question's opening word: 'Is $\\boxed{12}$ correct?', 'Could the answer be \\boxed{12}?'
_QUESTION_OPENING = re.compile(r"(?:is|are|was|could|can|would|should|might|may|does|do|did|will|what|why|how|which|"
                               r"isn't|aren't)\b", re.IGNORECASE)


def _asked(s: str, start: int, end: int) -> bool:
    """The text at s[start:end] sits in a question: its sentence opens with a question word and ends with '?'."""
    after = re.search(r"[.!?。\n]", s[end:end + 200])
    if not (after and after.group(0) == "?"):
        return False
    opening = max(s.rfind(c, 0, start) for c in ".!?\n") + 1
    return bool(_QUESTION_OPENING.match(s[opening:start].lstrip(" *_>#-")))


def extract_boxed(s: str) -> str | None:
    """The last box; boxes written one after another at the end ('\\boxed{1}, \\boxed{2}') are one list answer.
    Only boxes that end before the group starts can join it (a box around the last one is not a second answer)."""
    boxes = _boxes(s)
    if not boxes:
        return None
    last = max(boxes, key=lambda b: b[3])  # the box closed last: around a box nested in it ('\\boxed{4 \\boxed{3}}')
    if _asked(s, last[2], last[3]):  # 'Could the answer be $\\boxed{12}$?': a question, not a statement
        return None
    group = [last]
    for prev in sorted((b for b in boxes if b[3] <= last[2]), key=lambda b: b[3], reverse=True):
        between = s[prev[3]:group[0][2]]
        if len(between) > 24 or not _BOX_JOINER.fullmatch(between):
            break
        group.insert(0, prev)
    answers = [_INNER_BOX.sub(r"\1", s[a:b].strip()) if "box" in s[a:b] else s[a:b].strip() for a, b, _, _ in group]
    if len(answers) > _MAX_BOX_GROUP and len(set(answers)) > _MAX_BOX_GROUP // 2:
        return ", ".join(answers[-4 * _MAX_BOX_GROUP:])  # a spray of different values is all of them, not its last
    if len(answers) == 1 and not re.search(r"[=,<>]|\\[lg]e", answers[0]) and _MINUS_BEFORE_BOX.search(
            s, max(0, last[2] - 8), last[2]):
        return "-(" + answers[0] + ")"  # '$-\\boxed{15}$': the sign written outside the box is the answer's
    if len(answers) > _MAX_BOX_GROUP or len(set(answers)) == 1:
        return answers[-1]  # a run of boxes repeated over and over is no list answer: the last one stands
    return ", ".join(answers)


# A minus sign just before a box, where nothing precedes it in its formula ('\\[-\\boxed{15}\\]', 'x = -\\boxed{3}'):
# the answer's sign; not the operator of 'a - \\boxed{3}'.
_MINUS_BEFORE_BOX = re.compile(r"(?:\\[\[(]|\$|=|\A|\n)\s*-\s*\Z")


_INNER_BOX = re.compile(r"\\(?:boxed|fbox)\s*\{([^{}]*)\}")  # a box inside the answer's box: its contents stand


_DELIMITER = re.compile(r"\\\[|\\\]|\\\(|\\\)|\$\$|(?<!\\)\$"
                        r"|\\(?:begin|end)\{(?:align|equation|gather|eqnarray)(?:\\?\*)?\}")  # align\* (markdown-escaped)
_CLOSER = {"\\[": "\\]", "\\(": "\\)", "$$": "$$", "$": "$"}
for _env in ("align", "equation", "gather", "eqnarray"):
    for _star in ("", "*", "\\*"):
        _CLOSER[f"\\begin{{{_env}{_star}}}"] = f"\\end{{{_env}{_star}}}"


def math_spans(s: str) -> list[tuple[str, int, int]]:
    """Every math environment $$...$$, \\[...\\], \\(...\\), $...$ as (contents, start, end), found in one linear
    scan (a regex would backtrack over every unclosed opener). An escaped \\$ is money, not math; inline $...$ does
    not span a blank line."""
    spans, opener, open_at, open_end = [], None, 0, 0
    for m in _DELIMITER.finditer(s):
        tok = m.group(0)
        if opener is None:
            if tok in _CLOSER:
                opener, open_at, open_end = tok, m.start(), m.end()
        elif tok == _CLOSER[opener]:
            content = s[open_end:m.start()]
            if opener == "$" and "\n\n" in content:  # not math: restart at this $
                open_at, open_end = m.start(), m.end()
                continue
            spans.append((_unwrap_aligned(content.strip()), open_at, m.end()))
            opener = None
    return spans


_ALIGNED = re.compile(r"\\begin\{(aligned|split|gathered)\}(?:\[[tcb]\])?(.*)\\end\{\1\}", re.DOTALL)


def _unwrap_aligned(content: str) -> str:
    """'\\[\\begin{aligned} x &= 1+2 \\\\ &= 3 \\end{aligned}\\]': the display's rows, read like an align environment."""
    if content.startswith("\\begin{") and content.endswith("}"):
        m = _ALIGNED.fullmatch(content)
        if m and "\\begin{" + m.group(1) + "}" not in m.group(2):
            return m.group(2).strip()
    return content


def _lone_inline_variable(s: str, span) -> bool:
    """'$x.$' inline in prose ('... possible values of $x.$') names a variable; a display '$$ y $$' is an answer."""
    text, start, _ = span
    return s.startswith("$", start) and not s.startswith("$$", start) and bool(re.fullmatch(r"[a-z][.,;:]?", text))


def extract_last_math(s: str) -> str | None:
    """Contents of the last math environment (the answer written as display or inline math, without a box),
    unless plain text after it has a number: then that number is the later, likelier answer ('the 7 people', a
    given quantity referred back to, does not count). A lone lower-case variable ('for a total of $6$ values of
    $x.$') is prose, not the answer."""
    spans = [sp for sp in math_spans(s) if not _lone_inline_variable(s, sp)]
    if not spans or any(not _GIVEN_QUANTITY.search(s, max(0, m.start() - 8), m.start())
                        for m in _NUMBER.finditer(s, spans[-1][2])):
        return None
    if not _stated(s, spans[-1][1], spans[-1][2]):  # '... \\( y = 15 \\) is not a solution.', 'Is it $12$?'
        return None
    alternatives = [spans[-1][0]]
    for prev, nxt in zip(reversed(spans[:-1]), reversed(spans[1:])):
        if not _ALTERNATIVE.fullmatch(s[prev[2]:nxt[1]]):
            break
        alternatives.insert(0, prev[0])  # '$x = 2$ or $x = 3$', '$x = 2$ 或 $x = 3$': both are the answer
    names = {m.group(1) if m else None for m in (re.match(r"\s*([a-zA-Z](?:_\{?\w+\}?)?)\s*=", a) for a in alternatives)}
    if len(alternatives) > 1 and len(names) == 1 and None not in names:  # roots of one unknown, not a restatement
        return ", ".join(alternatives)                                    # ('$\\frac{10^6}{800}$ or $1250$')
    values = [spans[-1][0]]  # 'The possible values are $3$ and $4$.': both, when they are bare numbers
    for prev, nxt in zip(reversed(spans[:-1]), reversed(spans[1:])):
        if not _LISTED.fullmatch(s[prev[2]:nxt[1]]) or not _NUMBER.fullmatch(prev[0].strip()):
            break
        values.insert(0, prev[0])
    if len(values) > 1 and _NUMBER.fullmatch(values[-1].strip()) and re.search(r"\b(?:values|solutions|roots|answers|are)\b",
                                                                                s[max(0, spans[-len(values)][1] - 60):spans[-len(values)][1]]):
        return ", ".join(values)
    return spans[-1][0] or None


_LISTED = re.compile(r"\s*(?:,\s*(?:and\s+)?|and\s+)")
_ALTERNATIVE = re.compile(r"\s*(?:,\s*)?(?:or|或|\\text\{\s*or\s*\})\s*")


# 'the 7 people', 'all 3 boxes': a number that refers back to a quantity given in the problem, not a result.
_GIVEN_QUANTITY = re.compile(r"\b(?:the|all)\s+$", re.IGNORECASE)


def _sentence(rest: str) -> str:
    """Text up to the end of the line or sentence (a '.' followed by a space or the end; not a decimal point)."""
    line = rest.split("\n", 1)[0]
    return re.split(r"\.(?=\s|$)|。", line, maxsplit=1)[0].strip()


_ANSWER_LINE_CHARS = 100  # a longer line after 'Answer:' and a line break is an explanation, not the answer


# What may open an answer before the answer itself: 'I think it is C', 'I believe that it's 42', 'probably 7'
_HEDGE_LEAD = re.compile(r"^(?:I\s+(?:think|believe|guess)|probably|likely)\s+(?:that\s+)?(?:(?:it\s+is|it's|the\s+answer\s+is)\s+)?",
                         re.IGNORECASE)


def _answer_at_start(rest: str) -> str | None:
    """The answer that opens `rest` (the text after a marker such as 'The answer is')."""
    rest = rest.lstrip(" \t:*_}")  # '**Answer:** 7', '\\textbf{Answer:} 7'
    if rest.startswith("\n"):  # 'Answer:' on a line of its own: the answer is the next line when that is short
        rest = rest.lstrip()
        if not rest[:1] in ("$", "\\") and len(rest.split("\n", 1)[0]) > _ANSWER_LINE_CHARS:
            return None
    if rest[:1] in ("$", "\\"):
        spans = math_spans(rest[:MAX_MARKER_ANSWER_CHARS * 4])
        if spans and spans[0][1] == 0:
            return _joined_spans(rest, spans) or spans[0][0] or None
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
        if (tail[:1] in tuple(",+-*/^(") or factorial or word and word.group(0) in _MATH_WORDS - {"and", "or"}) and (
                extract_whole(sentence)):
            return sentence
        if _COMPOUND_UNIT.fullmatch(sentence):  # '2 kg m^-2': the quantity whole (its units convert)
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


def _joined_spans(rest: str, spans) -> str | None:
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
_VERB = re.compile(r"(?:\s(?:is|are|equals|was|were|be|gives|makes)|=|:)\s+", re.IGNORECASE)


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
    words = [w for w in _WORD.findall(sentence) if w.lower() not in _MATH_WORDS]
    if len(words) < 2 or not re.match(r"[A-Za-z]{2,}\b", sentence):
        return None
    if not re.search(r"\d", sentence):
        return number_word(sentence) if number_words else None
    inside = [(start, end) for _, start, end in math_spans(sentence)]
    verb = None
    for found in _VERB.finditer(sentence):  # the last 'is'/'='/':' of the prose, not an '=' inside its math:
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


_WORD = re.compile(r"(?<![\\a-zA-Z])[a-zA-Z]{2,}")
_MATH_WORDS = {"sqrt", "pi", "infty", "inf", "and", "or",  # "x=2 or x=3"
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
_TEXT_CMD = re.compile(r"\\(?:text|textbf|textnormal|textit|textrm|mathrm|mathbf|mbox|operatorname)\s*\{[^{}]*\}")
SHORT_TEXT = re.compile(r"[A-Za-z]+(?: [A-Za-z]+){0,2}[.!]?")
_NUMBER_UNIT = re.compile(r"-?[\d.,/]+\s*(?!(?:is|are|was|were|or|and)\b)[A-Za-z]{2,}(?: [A-Za-z]+)?(?:\s*\^\s*\{?\d\}?)?\.?")
# A compound unit after a number: '9.8 kg m / s^2', '0.2 g cm^-2', '2000 meter/hour' (short symbols side by side, or
# names joined by '/', '*', '·'), not a sentence ('12 is a lot')
_UNIT_WORD = r"(?!(?:is|are|was|were|or|and|a|an|the|of|to|on|at|it|by|for|so)\b)[A-Za-zµμΩ]"
_COMPOUND_UNIT = re.compile(r"-?[\d.,/]+\s*%s{1,12}(?:\^-?\d)?(?:\s*[/*·]\s*%s{1,12}(?:\^-?\d)?|\s+%s{1,3}"
                            r"(?:\^-?\d)?(?![A-Za-z]))+\.?" % (_UNIT_WORD, _UNIT_WORD, _UNIT_WORD))


_BESIDE_WORD = set("*/^()[]_=+-")  # what touches a name written into plain-text math
_POINT_NAMES = re.compile(r"[A-Z]{2,3}")  # AB, PD, ABC: a segment, an angle or a triangle named by its points
_RELATION = re.compile(r"=|<|>|\\perp|\\parallel|⊥|∥|\\cong|\\sim")


def extract_whole(s: str) -> str | None:
    """A short one-line response that is only the answer is the answer itself: math ('\\frac{3}{5}', 'x = 548',
    a bare matrix, '7, -2, \\text{ and } -5') or a number with its unit ('10 square units'). Words inside \\text{}
    and environment names do not count as prose. (A bare word answer such as 'Yes' is taken only when the gold is
    a word too: see verify.short_text_answer.)"""
    text = s.strip()
    if not text or len(text) > 1000 or "\n" in text:
        return None
    core = _TEXT_CMD.sub(" ", _ENV_NAME.sub(" ", text))
    negated = re.fullmatch(r"(?:not|\\neg)\s*(\(.*\))", core)  # 'not (x<=2 and -2<=x)': a logic-style answer
    relation = _RELATION.search(core)
    if all(w in _MATH_WORDS or relation and _POINT_NAMES.fullmatch(w)  # 'AE + AP = PD': segments named by points
           for w in _WORD.findall(negated.group(1) if negated else core)):
        return text
    if re.search(r"[*/^]", core) and all(core[m.start() - 1:m.start()] in _BESIDE_WORD or core[m.end():m.end() + 1] in
                                         _BESIDE_WORD for m in _WORD.finditer(core)):
        return text  # '2*V*(h)/(dE) - (d)/(2)', 'W == (rho) * g*h*(DeltaV)': names set between operators, not prose
    if len(text) <= 60 and not re.search(r"\s|</?[A-Za-z]", text) and re.search(r"[-+*/^=()]|\\(?!text)[a-zA-Z]+\{", text):
        return text  # 'mx+b', '(ab)c': letters run together with operators and no space are a product, not prose
    if len(text) > 200:
        return None
    if _NUMBER_UNIT.fullmatch(text) or _COMPOUND_UNIT.fullmatch(text):
        return text.rstrip(".!")
    return None


def _after_marker(s: str, pattern: str) -> str | None:
    """The answer after the last occurrence of a marker phrase (case-insensitive)."""
    last = None
    for last in re.finditer(pattern, s, re.IGNORECASE):
        pass
    return _answer_at_start(s[last.end():]) if last else None


# 'answer' used as a verb before 'is' ('the number of questions he did not answer is 100 - 80') is not a marker.
# (The words come first and the verb checks after them: the engine tries the lookbehinds only where 'answer is' is.)
_ANSWER_IS = re.compile(r"\banswer is\b" + "".join(r"(?<!%s answer is)" % w for w in (
    r"\bnot", "n't", r"\bto", r"\bdid", r"\bwe", r"\bthey", r"\bhe", r"\bshe", r"\bI", r"\byou"))
                        + r"|\b(?:the|our|my|final) answers are\b|\bthe answer \([^()\n]{1,30}\) is\b"  # '(arabic numerals)'
                        + r"|答案(?:是|为|：|:)|故选|应选"
                        + r"|\bAntwort\s+(?:ist|lautet)\b|(?<!\w)ответ\s+(?:—|-|равен)", re.IGNORECASE)


def _after_answer_is(s: str) -> str | None:
    last = None
    for last in _ANSWER_IS.finditer(s):
        pass
    return _answer_at_start(s[last.end():]) if last else None


# The three marker phrases, by rule: 'final answer is', 'the answer is' (and its other languages), 'Answer:'.
_MARKERS = {
    "final_answer": re.compile(r"final answer is\b", re.IGNORECASE),
    "answer_is": _ANSWER_IS,
    "answer_colon": re.compile(r"\b(?:answers?|antwort|respuesta|r[ée]ponse|risposta|resposta)\s*(?:\}\s*)?:|(?<!\w)ответ\s*[:：]"
                               r"|(?<![\u4e00-\u9fff])(?:回)?答え?\s*[:：]"  # 答：, 回答： and 答え： (Chinese, Japanese)
                               r"|(?<![\uac00-\ud7a3])정?답\s*[:：]",  # 정답：, 답： (Korean)
                               re.IGNORECASE),
}
_MARKER_RULES = tuple(_MARKERS)


def _last_stated(s: str) -> Extraction | None:
    """Of the answers stated after 'final answer is', 'the answer is' and 'Answer:', the one stated last: a model
    that corrects itself ('The answer is 7. ... Final answer: 9') means its last word. A later marker followed by
    words that hold no value ('Answer: see above') does not override an earlier one that holds a value."""
    stated = []
    for rule, pattern in _MARKERS.items():
        last = None
        for last in pattern.finditer(s):
            pass
        text = _answer_at_start(s[last.end():]) if last else None
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
        second = _answer_at_start(s[other.end():]) if other else None
        if second:
            return Extraction(f"{text} or {second}", rule)
    return Extraction(_corrected(s, at + len(text), text) or text, rule)


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


_CLOSING_INFINITY = re.compile(r"\b(?:is|are|equals|be|to|approaches|goes to)\s+(?:(negative|minus)\s+|(-)\s*)?"
                               r"(?:positive\s+)?infinity\s*[.!]?\s*$", re.IGNORECASE)


def extract_closing_infinity(s: str) -> str | None:
    """'The limit is infinity.' / '... is negative infinity.' closing the response: the value written in words."""
    m = _CLOSING_INFINITY.search(s[-300:])
    return None if not m else ("-\\infty" if m.group(1) or m.group(2) else "\\infty")


def extract_answer_heading(s: str) -> str | None:
    """PRM800K-style '# Answer' heading: the answer is the next non-empty line."""
    last = None
    for last in re.finditer(r"^#{1,6}[ \t]*(?:final[ \t]+)?answer[ \t]*:?[ \t]*$", s, re.IGNORECASE | re.MULTILINE):
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
            return (_after_marker(line, r"answer is\b") or _after_marker(line, r"\banswer\s*:")
                    or extract_whole(line.rstrip(".")) or extract_last_math(line)
                    or (line.rstrip(".") if _is_bare_answer(line) else None))  # 'odd', '1:58 am
    return None


def _is_bare_answer(inner: str) -> bool:
    """A tag's contents that are the answer as they stand: one short line, no math delimiters or box, at most two
    words that are not math and no verb ('x is 5' and 'There are 5 apples' are sentences, read by the rules)."""
    if len(inner) > _ANSWER_LINE_CHARS or "\n" in inner or "$" in inner or "\\(" in inner or "\\boxed" in inner:
        return False
    words = [w for w in _WORD.findall(_TEXT_CMD.sub(" ", inner)) if w not in _MATH_WORDS]
    if _RELATION.search(inner) and all(_POINT_NAMES.fullmatch(w) for w in words):
        return True  # 'AE + AP = PD'
    return len(words) <= 2 and not _VERB.search(" " + inner + " ")


_JSON_ANSWER = re.compile(r'"(?:final_answer|answer)"\s*:\s*', re.IGNORECASE)


def extract_answer_json(s: str) -> str | None:
    """The value of the last "answer" (or "final_answer") field of a JSON object, as structured outputs give it
    ('{"reasoning": "...", "answer": 235}', '"answer": "B) infinite solutions"', '"answer": ["B", "F"]'): a number as
    written, a list joined with ', ', a string read by the rules below it (its LaTeX, its option letter)."""
    if '"' not in s:
        return None
    last = None
    for last in _JSON_ANSWER.finditer(s, max(0, len(s) - 20_000)):
        pass
    if last is None:
        return None
    field = s[last.end():last.end() + 4 * MAX_MARKER_ANSWER_CHARS]
    try:
        value, end = json.JSONDecoder().raw_decode(field)
        if field[end:].lstrip()[:1] not in ("", ",", "}", "]"):  # '"answer": 2e' read as far as 2
            raise ValueError(field)
    except ValueError:  # LaTeX written into a JSON string unescaped ('"Yes, \\( y = 0 \\)"'), or '"answer": 2e'
        quoted = re.match(r'"((?:[^"\\]|\\.)*)"', field)
        if quoted:
            try:
                value = json.loads('"' + re.sub(r'\\(?!["\\/bfnrtu])', r"\\\\", quoted.group(1)) + '"')
            except ValueError:
                return None
        else:
            raw = re.match(r"[^\s\"\[{][^,\n}]{0,100}", field)
            return raw.group(0).strip() if raw else None
    if isinstance(value, list) and value and all(isinstance(v, (str, int, float)) for v in value):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    if not isinstance(value, str):
        return str(value)
    value = value.strip()  # a field that states no value ('cannot be determined') is a text answer, not a miss
    return (_read_answer_text(value) or value[:MAX_MARKER_ANSWER_CHARS]) if value else None


def _read_answer_text(inner: str) -> str | None:
    """The answer that a tag or a field holds: its math spans joined, itself when it is a bare answer, else what the
    rules after answer_tag find in it."""
    spans = math_spans(inner) if inner[:1] in ("$", "\\") else None
    if spans and spans[0][1] == 0 and _joined_spans(inner, spans):  # '<answer>$8$, $4$</answer>'
        return _joined_spans(inner, spans)
    if _is_bare_answer(inner):  # '<answer>1:58 am</answer>', '<answer>(8-r^2 sin(theta))</answer>': the tag holds it
        return inner.rstrip(".")
    if re.match(r"\(?[A-HJK][.)]\s|(?i:yes|no)\b[,.!]", inner) and len(inner) <= 2 * _ANSWER_LINE_CHARS:
        return inner  # 'B) infinite solutions', 'Yes, y = 0 is ...': an option picked or a verdict, read first
    for rule in STRICTNESS["any"][2:]:
        text = RULES[rule](inner)
        if text:
            return text
    return None


def extract_answer_tag(s: str) -> str | None:
    """The contents of the last '<answer>...</answer>' (the R1-zero output format), read by the rules below it:
    '<answer>42</answer>', '<answer>The answer is $\\frac{1}{2}$.</answer>', '<answer>\\boxed{5}</answer>'."""
    lower = s.lower()
    close = lower.rfind("</answer>")  # two searches from the end: linear, however many unclosed tags there are
    open_ = lower.rfind("<answer>", 0, close) if close >= 0 else -1
    if open_ < 0 or close - open_ - len("<answer>") > 4 * MAX_MARKER_ANSWER_CHARS:
        return None
    inner = s[open_ + len("<answer>"):close].strip()
    return _read_answer_text(inner) if inner else None


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
    return _answer_at_start(last[equals[-1] + 1:] if equals else last)  # '**2.5 km = 2500 m**': the result


RULES = {
    "answer_tag": extract_answer_tag,
    "answer_json": extract_answer_json,
    "boxed": extract_boxed,
    "answer_heading": extract_answer_heading,
    "gsm8k": lambda s: _after_marker(s, r"####"),
    "final_answer": lambda s: _after_marker(s, r"final answer is\b"),  # the three marker rules: see _last_stated
    "answer_before": extract_answer_before,
    "answer_is": _after_answer_is,
    "answer_colon": lambda s: _after_marker(s, _MARKERS["answer_colon"].pattern),
    "solution_choice": lambda s: _after_marker(s, r"\bsolution\s*:(?=\s*(?i:choice|option)[\s_\\]*\(?[A-HJK]\b)"),
    "closing_count": extract_closing_count,
    "closing_infinity": extract_closing_infinity,
    "closing_bold": extract_closing_bold,
    "last_math": extract_last_math,
    "whole": extract_whole,
    "last_number": extract_last_number,
}
STRICTNESS = {
    "boxed": ["boxed"],
    "boxed_or_marker": ["answer_tag", "answer_json", "boxed", "answer_heading", "gsm8k", "answer_before", "final_answer", "answer_is",
                        "answer_colon", "solution_choice"],
    "any": ["answer_tag", "answer_json", "boxed", "answer_heading", "gsm8k", "answer_before", "final_answer", "answer_is", "answer_colon",
            "solution_choice", "closing_count", "closing_infinity", "closing_bold", "last_math", "whole",
            "last_number"],
}


_HIDDEN = re.compile(r"<!--.*?-->|```.*?```", re.S)


def extract_answer(response: str, extract: str = "any") -> Extraction:
    """Run the cascade for the strictness level `extract` (a key of STRICTNESS)."""
    if extract not in STRICTNESS:
        raise ValueError(f"extract={extract!r}: choose one of {sorted(STRICTNESS)}")
    s = response[-MAX_RESPONSE_CHARS:]
    if "<!--" in s or "```" in s:  # a box in an HTML comment or a code block is not stated to the reader
        s = _HIDDEN.sub(lambda m: " " * len(m.group(0)) if "box" in m.group(0) and not m.group(0).startswith(
            "```json") else m.group(0), s)  # (a JSON block is the reply's structured answer, not code)
    s = hide_negated_answers(hide_unstated_boxes(s))  # quoted, example and commented-out boxes; 'Wrong answer: 42'
    if "\\boxed " in s:  # '\\boxed 5': a box without braces holds the one token after it
        s = re.sub(r"\\boxed\s+(-?\d+(?:\.\d+)?(?!\d|\.\d)|[^\s{}$.,;]+)", r"\\boxed{\1}", s)
    end_of_thinking = None
    for end_of_thinking in _END_OF_THINKING.finditer(s):
        pass
    texts = [s[end_of_thinking.end():], s] if end_of_thinking else [s]
    rules = STRICTNESS[extract]
    if end_of_thinking is None and _START_OF_THINKING.search(s):  # cut off while thinking: the candidates it tried
        rules = [rule for rule in rules if rule == "answer_tag"]  # ('So the answer is 8. But what if') are not answers
    for text in texts:
        if not text.strip():
            continue
        after = _after_an_empty_last_box(text)
        if after is not None:  # the boxes before an empty or unfinished last box are not the answer
            found = _first_rule(after, [rule for rule in rules if rule != "boxed"]) if after.strip() else None
            return found or Extraction(None, "none")
        continuation = _NEXT_PROBLEM.search(text)
        if continuation:  # a base model that goes on to invent the next few-shot problem: its answer came before
            found = _first_rule(text[:continuation.start()], [rule for rule in rules if rule not in _POSITIONAL])
            if found:
                return found
        found = _first_rule(text, rules)
        if found:
            return found
    return Extraction(None, "none")


# A new problem after the answer, as in a few-shot prompt's format ('\n\nProblem:', '\nQuestion:', '\nQ:').
_NEXT_PROBLEM = re.compile(r"\n[ \t]*(?:#+[ \t]*)?(?:Problem|Question|Q|Human|User)[ \t]*\d*[ \t]*[:：]")


_BOX_OPEN = re.compile(r"\\(?:boxed|fbox|box)\s*\{")


def _after_an_empty_last_box(s: str) -> str | None:
    """When the last box opened is empty ('\\boxed{}') or never closed (cut off, or a brace missing), the text
    after it, where an answer may still be stated ('' when unclosed); None when the last box holds something (or
    there is none). Every such case in the development set is labelled wrong: 'that was wrong, actually \\boxed{}'
    takes the earlier box back."""
    start = max(s.rfind("\\box"), s.rfind("\\fbox"))  # '\\box' finds '\\boxed' too
    if start < 0:
        return None
    last = _BOX_OPEN.match(s, start)
    if last is None:
        return None
    brace = last.end() - 1
    close = _matching_braces(s, brace).get(brace)
    if close is None:
        return ""
    return s[close + 1:] if not s[brace + 1:close].strip() else None


def _first_rule(text: str, rules) -> Extraction | None:
    markers_tried, joint = False, all(r in rules for r in _MARKER_RULES)
    closing = None
    for rule in rules:
        if rule in _POSITIONAL:  # the positional rules read the text without its closing chatter, checks, asides
            if closing is None:
                closing = closing_text(text)
                if _undecided(closing):
                    return None
            found = RULES[rule](closing)
            if found:
                return Extraction(found, rule)
            continue
        if joint and rule in _MARKER_RULES:  # the three marker phrases are one rule: the last stated answer wins
            if not markers_tried:
                markers_tried = True
                found = _last_stated(text)
                if found:
                    return found
            continue
        found = RULES[rule](text)
        if found:
            if rule == "boxed":
                later = final_answer_after_last_box(text)
                if later:
                    return Extraction(later, "final_answer")
            return Extraction(found, rule)
    return None


# A closing line that gives a value under a condition: '- If the order matters, there are 20 ways.'
_CONDITIONAL_ITEM = re.compile(r"[ \t]*(?:[-*+]|\d+[.)])[ \t]+(?:\*\*)?(?:if|when|in case)\b[^\n]*\d[^\n]*", re.I)


def _undecided(text: str) -> bool:
    """The reply ends on a list of two or more answers under different conditions ('- If the order matters, there
    are 20 ways.\n- If it does not, there are 10 ways.') and picks none: no value is its answer (a positional rule
    would take the last). Steps that begin with 'If' ('If he threw 58 pieces, then ...') are not a list of cases."""
    lines = text[-2000:].rstrip().split("\n")
    cases = 0
    for line in reversed(lines):
        if not _CONDITIONAL_ITEM.fullmatch(line):
            break
        cases += 1
    return cases >= 2


_FINAL_ANSWER = re.compile(r"\bfinal\s+answer\s*(?:is\b|:)", re.IGNORECASE)


def final_answer_after_last_box(s: str) -> str | None:
    """A 'final answer is ...' / 'Final answer: ...' stated after the last box, whose value has a digit or math in
    it, overrides the box ('Candidate: \\boxed{4}. Final answer: 5'). A closing line that restates the boxed
    value changes nothing; one that points elsewhere ('The final answer is boxed above.') is no value. The boxes are
    only scanned again when the phrase appears after the last box command (most responses end at their box)."""
    if not _FINAL_ANSWER.search(s, max(0, s.rfind("\\box"))):
        return None
    boxes = _boxes(s)
    if not boxes:
        return None
    tail = s[max(b[3] for b in boxes):]
    last = None
    for last in _FINAL_ANSWER.finditer(tail):
        pass
    if last is None:
        return None
    found = _answer_at_start(tail[last.end():])
    return found if found and re.search(r"[\d\\^]", found) else None


# The end of a reasoning model's thinking: what follows is its reply, where the final answer is stated.
_END_OF_THINKING = re.compile(r"</think>|<\|end_of_thought\|>", re.IGNORECASE)
_START_OF_THINKING = re.compile(r"<think>|<\|begin_of_thought\|>", re.IGNORECASE)
# The rules that take whatever an answer-shaped thing comes last, rather than an answer the text states as one.
_POSITIONAL = frozenset({"closing_count", "closing_infinity", "closing_bold", "last_math", "whole", "last_number"})


def unwrap_math(s: str) -> str:
    """A gold (or extracted answer) written as '$...$', '\\(...\\)', '\\[...\\]' or '\\boxed{...}' -> its contents."""
    s = s.strip()
    if "\\boxed" in s or "\\fbox" in s:
        boxed = extract_boxed(s)
        if boxed:
            s = boxed
    spans = math_spans(s)
    if len(spans) == 1 and spans[0][1] == 0 and spans[0][2] == len(s):
        s = spans[0][0]
    return s
