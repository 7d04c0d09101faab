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
when the rest of the sentence is words ('Answer: 644 I hope this helps!' -> '644').

This module orders the rules and reads the reply's frame (thinking, comments, code, an invented next problem); the
rules themselves live by kind: boxes.py (boxed), markers.py (the marker phrases, answer_before, answer_heading,
gsm8k), closing_line.py (closing_count, closing_infinity, closing_bold), math_spans.py (last_math),
math_or_prose.py (whole), stated_numbers.py (last_number). answer_tag and answer_json are here: they read their
contents with the cascade itself."""
import json
import re
from dataclasses import dataclass

from rlvr_verify.boxes import after_an_empty_last_box, extract_boxed
from rlvr_verify.closing import closing_text
from rlvr_verify.closing_line import extract_closing_bold, extract_closing_count, extract_closing_infinity
from rlvr_verify.limits import ANSWER_LINE_CHARS, MAX_MARKER_ANSWER_CHARS, MAX_RESPONSE_CHARS
from rlvr_verify.markers import (END_OF_THINKING, MARKER_RULES, MARKERS, after_answer_is, after_marker,
                                 extract_answer_before, extract_answer_heading, final_answer_after_last_box,
                                 joined_spans, last_stated)
from rlvr_verify.math_or_prose import extract_whole, is_bare_answer
from rlvr_verify.math_spans import extract_last_math, math_spans
from rlvr_verify.stated_numbers import extract_last_number
from rlvr_verify.unanswered import hide_negated_answers, hide_unstated_boxes


@dataclass(frozen=True)
class Extraction:
    text: str | None
    rule: str  # a key of RULES, or "none"


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
    if spans and spans[0][1] == 0 and joined_spans(inner, spans):  # '<answer>$8$, $4$</answer>'
        return joined_spans(inner, spans)
    if is_bare_answer(inner):  # '<answer>1:58 am</answer>', '<answer>(8-r^2 sin(theta))</answer>': the tag holds it
        return inner.rstrip(".")
    if re.match(r"\(?[A-HJK][.)]\s|(?i:yes|no)\b[,.!]", inner) and len(inner) <= 2 * ANSWER_LINE_CHARS:
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


RULES = {
    "answer_tag": extract_answer_tag,
    "answer_json": extract_answer_json,
    "boxed": extract_boxed,
    "answer_heading": extract_answer_heading,
    "gsm8k": lambda s: after_marker(s, r"####"),
    "final_answer": lambda s: after_marker(s, r"final answer is\b"),  # the three marker rules: see last_stated
    "answer_before": extract_answer_before,
    "answer_is": after_answer_is,
    "answer_colon": lambda s: after_marker(s, MARKERS["answer_colon"].pattern),
    "solution_choice": lambda s: after_marker(s, r"\bsolution\s*:(?=\s*(?i:choice|option)[\s_\\]*\(?[A-HJK]\b)"),
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
    if "boxed{" in s:  # '\\[boxed{5}\\]': the backslash of \\boxed dropped (a few-shot prompt's typo, copied)
        s = re.sub(r"(?<![\\\w])boxed\s*\{", r"\\boxed{", s)
    if "\\boxed " in s:  # '\\boxed 5': a box without braces holds the one token after it
        s = re.sub(r"\\boxed\s+(-?\d+(?:\.\d+)?(?!\d|\.\d)|[^\s{}$.,;]+)", r"\\boxed{\1}", s)
    end_of_thinking = None
    for end_of_thinking in END_OF_THINKING.finditer(s):
        pass
    texts = [s[end_of_thinking.end():], s] if end_of_thinking else [s]
    rules = STRICTNESS[extract]
    if end_of_thinking is None and _START_OF_THINKING.search(s):  # cut off while thinking: the candidates it tried
        rules = [rule for rule in rules if rule == "answer_tag"]  # ('So the answer is 8. But what if') are not answers
    for text in texts:
        if not text.strip():
            continue
        after = after_an_empty_last_box(text)
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


def _first_rule(text: str, rules) -> Extraction | None:
    markers_tried, joint = False, all(r in rules for r in MARKER_RULES)
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
        if joint and rule in MARKER_RULES:  # the three marker phrases are one rule: the last stated answer wins
            if not markers_tried:
                markers_tried = True
                found = last_stated(text)
                if found:
                    return Extraction(*found)
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




_START_OF_THINKING = re.compile(r"<think>|<\|begin_of_thought\|>", re.IGNORECASE)


# The rules that take whatever an answer-shaped thing comes last, rather than an answer the text states as one.
_POSITIONAL = frozenset({"closing_count", "closing_infinity", "closing_bold", "last_math", "whole", "last_number"})
