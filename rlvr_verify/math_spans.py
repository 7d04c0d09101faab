"""Math environments in a reply ($...$, $$...$$, \\[...\\], \\(...\\), align and equation), found in one linear scan;
the last one as the answer when the reply has no box or marker (the 'last_math' rule), the last n as a list."""
import re

from rlvr_verify.limits import MAX_RESPONSE_CHARS
from rlvr_verify.stated_numbers import NUMBER as _NUMBER
from rlvr_verify.stated_numbers import stated as _stated


def extract_last_spans(s: str, n: int) -> str | None:
    """The last n math environments, joined with ', ' ('the solutions are $x=2$ and $x=3$.')."""
    spans = [sp for sp in math_spans(s[-MAX_RESPONSE_CHARS:]) if sp[0]]
    if len(spans) < n:
        return None
    return ", ".join(text for text, _, _ in spans[-n:])


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
