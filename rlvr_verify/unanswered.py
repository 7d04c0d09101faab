"""Responses that give no answer although a value can be read from them: a refusal ('I cannot solve this problem.
The number in the problem was 12.'), a closing sentence that restates the problem ('The problem asks for the sum of
5 and 12.'), a spray of numbers ('... 4997 4998 4999'); and boxes that are not stated as the answer: in a quoted
problem, given as an example of the format ('e.g. \\boxed{3}'), or in a LaTeX comment ('$4$ % \\boxed{3}'); and values
under a label that says they are not the answer ('Wrong answer: 42', 'This is not the final answer: 42'). A policy
rewarded for these would learn to write them. Pure string functions, linear in the text."""
import re

_TAIL_CHARS = 300  # a refusal further from the end than this is part of the working

_REFUSAL = re.compile(r"\b(?:there\s+is|there's|has|have)\s+no\s+(?:answer|solution)\b|\bno\s+solution\s+exists\b"
                      r"|\bI\s+(?:cannot|can't|could\s+not|couldn't|am\s+unable\s+to|was\s+unable\s+to)\s+"
                      r"(?:solve|answer|find|determine|work\s+out)\b|\bcannot\s+be\s+(?:determined|solved)\b",
                      re.IGNORECASE)
# A sentence that restates the task rather than answering it
_RESTATEMENT = re.compile(r"(?:Find|Compute|Calculate|Determine|Evaluate|Solve|Simplify"
                          r"|The\s+(?:problem|question)\s+(?:asks|says|is|wants)|Question\s*:|Problem\s*:"
                          r"|Let\s+\$?[A-Za-z]\s*=)\b")
_QUESTION = re.compile(r"(?:What|Which|How\s+many|How\s+much)\b.*\?\s*$", re.S)  # a question, not 'Which is just 5.'
_SPRAYED = 8  # numbers in a row at the end that are a spray, not a stated answer
_NUMBER_TOKEN = re.compile(r"\$?-?\d+(?:\.\d+)?\$?")
_WEAK_RULES = ("last_number", "last_math", "whole")  # where the value was only read off the text's end


def gives_no_answer(response: str, rule: str, value: str, parts) -> bool:
    """The value a positional rule read is not stated as an answer: the closing says there is none or that it could
    not be found, the closing sentence restates the problem or asks a question and holds the value, or the text
    ends in a run of eight or more numbers (for a gold of one part: `parts()` counts the gold's, asked only then)."""
    if rule not in _WEAK_RULES:
        return False
    tail = response.rstrip()[-_TAIL_CHARS:]
    if _REFUSAL.search(tail):
        return True
    last = re.split(r"(?<=[.!?])\s+|\n", tail.rstrip())[-1].lstrip(" >*#-")
    if (_RESTATEMENT.match(last) or _QUESTION.match(last)) and value in last:
        return True
    return _ends_in_a_spray(tail) and parts() == 1


def _ends_in_a_spray(tail: str) -> bool:
    """The text ends in eight or more numbers in a row, separated only by spaces or commas."""
    tokens = tail.rstrip(" .!\n").replace(",", " ").replace(";", " ").split()
    run = 0
    for token in reversed(tokens):
        if not _NUMBER_TOKEN.fullmatch(token):
            break
        run += 1
    return run >= _SPRAYED


_QUOTED_PROBLEM = re.compile(r"^[ \t]*>[ \t]*(?:\*\*)?(?:Problem|Question|Task)\b[^\n]*", re.MULTILINE)
_QUOTE_LINE = re.compile(r"^[ \t]*>[^\n]*", re.MULTILINE)
_EXAMPLE_BOX = re.compile(r"\b(?:e\.g\.|for\s+example|for\s+instance|such\s+as)[,:]?\s*\$?\\boxed\s*\{[^{}]*\}",
                          re.IGNORECASE)
_COMMENT_SIGN = re.compile(r"(?<![\\\d.])(?<![\d.]\s)%")  # not '\\%', not the percent of '50 %'


def _blank(m) -> str:
    return " " * len(m.group(0))


def hide_unstated_boxes(s: str) -> str:
    """s with the boxes that are not stated as its answer blanked out (same length): a quoted problem's, an
    example's, a LaTeX comment's, and a quoted line's when a box also stands outside the quotes."""
    if "box" not in s:
        return s
    if ">" in s:
        s = _QUOTED_PROBLEM.sub(lambda m: _blank(m) if "box" in m.group(0) else m.group(0), s)
        quoted = [m for m in _QUOTE_LINE.finditer(s) if "\\boxed" in m.group(0)]
        if quoted and s.count("\\boxed") > sum(m.group(0).count("\\boxed") for m in quoted):
            for m in quoted:
                s = s[:m.start()] + " " * (m.end() - m.start()) + s[m.end():]
    if "e.g." in s or "example" in s or "instance" in s or "such as" in s:
        s = _EXAMPLE_BOX.sub(_blank, s)
    if "%" in s:
        s = "\n".join(_uncommented(line) for line in s.split("\n"))
    return s


def _uncommented(line: str) -> str:
    """A line with a box after a LaTeX comment sign blanked from the sign on ('Answer: $4$ % \\boxed{3}')."""
    if "%" not in line or "\\boxed" not in line:
        return line
    sign = _COMMENT_SIGN.search(line)
    if sign is None or line.find("\\boxed", sign.end()) < 0:
        return line
    return line[:sign.start()] + " " * (len(line) - sign.start())


# A label that says the value after it is not the answer; what it labels runs to the end of its sentence, clause (';') or line
_NEGATED_LABEL = re.compile(
    r"(?:\b(?:wrong|false|fake|incorrect|example|sample|previous|old|rejected|candidate|tentative|non-final|draft)"
    r"\s+(?:final\s+)?answer|\b(?:not|never)\s+(?:the|my|a|an)\s+(?:final\s+|correct\s+)?answer"
    r"|n't\s+(?:the|my|a)\s+(?:final\s+|correct\s+)?answer|\b(?:do\s+not|don't|never)\s+use\s+this\s+answer"
    r"|\bignore\s+the\s+following\s+(?:final\s+)?answer|\b(?:possibly|maybe|perhaps)\s+the\s+answer"
    r"|错误答案|不是最终答案|不是正确答案)\s*[:：]"
    r"[^\n]*?(?=\.\s|[。;；]|\n|$)", re.IGNORECASE)


def hide_negated_answers(s: str) -> str:
    """s with each value stated under a label that denies it ('Wrong answer: 42', 'Not the answer: 42', 'Previous
    answer: 40.') blanked out (same length); a later stated answer still counts."""
    if "nswer" not in s and "答案" not in s:
        return s
    return _NEGATED_LABEL.sub(_blank, s)
