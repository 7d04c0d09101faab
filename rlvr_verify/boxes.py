"""Boxed answers: every \\boxed{...}/\\fbox{...} found in one linear pass; the box closed last is the answer, and
boxes written together at the end ('\\boxed{1}, \\boxed{2}') are one answer in parts. A box in a question ('Is it
$\\boxed{12}$?') states nothing; an empty or unfinished last box takes the earlier ones back."""
import re

from rlvr_verify.limits import MAX_RESPONSE_CHARS
from rlvr_verify.math_spans import math_spans


def matching_braces(s: str, start: int) -> dict[int, int]:
    """Index of each '{' at or after start -> index of its '}' (one linear pass; unclosed braces are absent)."""
    close_of, stack = {}, []
    for m in re.finditer(r"[{}]", s[start:]):
        i = start + m.start()
        if m.group(0) == "{":
            stack.append(i)
        elif stack:
            close_of[stack.pop()] = i
    return close_of


def box_spans(s: str) -> list[tuple[int, int, int, int]]:
    """Every complete \\boxed{...}/\\fbox{...} as index spans (content start, content end, start, end). Linear in
    len(s) in time and memory: ten thousand unclosed '\\boxed{' cost no more than one, and ten thousand nested ones
    are not copied out ten thousand times (slice only what is returned)."""
    opens = list(re.finditer(r"\\(?:boxed|fbox|box)\s*\{", s))  # \box{39}: a slip for \boxed
    if not opens:
        return []
    close_of = matching_braces(s, opens[0].end() - 1)
    out = []
    for m in opens:
        brace = m.end() - 1
        if brace in close_of:
            out.append((brace + 1, close_of[brace], m.start(), close_of[brace] + 1))
    return out


def last_box_and_after(s: str, chars: int = 40) -> tuple[str, str] | None:
    """The content of the box that closes last and the `chars` characters after it; None without a complete box."""
    boxes = box_spans(s[-MAX_RESPONSE_CHARS:])
    if not boxes:
        return None
    start, end, _, close = max(boxes, key=lambda b: b[3])
    tail = s[-MAX_RESPONSE_CHARS:]
    return tail[start:end], tail[close:close + chars]


def extract_last_boxes(s: str, n: int) -> str | None:
    """The contents of the last n boxes that do not nest, joined with ', ' (an answer in several parts, each boxed
    where it was found: '(a) ... \\boxed{3} ... (b) ... \\boxed{5}'); None when there are fewer than n."""
    boxes, out = box_spans(s[-MAX_RESPONSE_CHARS:]), []
    for b in reversed(boxes):
        if not out or b[3] <= out[-1][2]:
            out.append(b)
        if len(out) == n:
            text = s[-MAX_RESPONSE_CHARS:]
            return ", ".join(text[a:z].strip() for a, z, _, _ in reversed(out))
    return None


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
    boxes = box_spans(s)
    if not boxes:
        return None
    last = max(boxes, key=lambda b: b[3])  # the box closed last: around a box nested in it ('\\boxed{4 \\boxed{3}}')
    if _asked(s, last[2], last[3]):  # 'Could the answer be $\\boxed{12}$?': a question, not a statement
        return None
    group = [last]
    for prev in sorted((b for b in boxes if b[3] <= last[2]), key=lambda b: b[3], reverse=True):
        between = s[prev[3]:group[0][2]]
        if len(between) > 24 or not _BOX_JOINER.fullmatch(between) or ".." in between:  # '\\boxed{1} ... \\boxed{2}'
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


_BOX_OPEN = re.compile(r"\\(?:boxed|fbox|box)\s*\{")


def after_an_empty_last_box(s: str) -> str | None:
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
    close = matching_braces(s, brace).get(brace)
    if close is None:
        return ""
    return s[close + 1:] if not s[brace + 1:close].strip() else None


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
