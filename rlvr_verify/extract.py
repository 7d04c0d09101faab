"""Answer extraction: find the final answer in a model response and say which rule found it."""
import re
from dataclasses import dataclass

MAX_RESPONSE_CHARS = 200_000  # scanning only looks at the tail; a 1 MB response is cut, not rejected


@dataclass(frozen=True)
class Extraction:
    text: str | None
    rule: str  # "boxed", "gsm8k", "final_answer", "answer_colon", "last_number", "none"


def _balanced_group(s: str, start: int) -> str | None:
    """Contents of the {...} group that opens at s[start], honoring nested braces."""
    if start >= len(s) or s[start] != "{":
        return None
    depth = 0
    for i in range(start, len(s)):
        if s[i] == "{":
            depth += 1
        elif s[i] == "}":
            depth -= 1
            if depth == 0:
                return s[start + 1:i]
    return None


def extract_boxed(s: str) -> str | None:
    """The last \\boxed{...} or \\fbox{...} with nested braces."""
    for m in reversed(list(re.finditer(r"\\(?:boxed|fbox)\s*", s))):
        group = _balanced_group(s, m.end())
        if group is not None:
            return group.strip()
    return None


def _line_after(s: str, marker: str) -> str | None:
    idx = s.lower().rfind(marker.lower())
    if idx < 0:
        return None
    rest = s[idx + len(marker):].lstrip(" :\t")
    line = rest.split("\n", 1)[0].strip()
    line = line.strip("$ ").rstrip(".").strip().strip("$").strip()
    return line or None


_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:\s*/\s*\d+)?")


def extract_last_number(s: str) -> str | None:
    found = _NUMBER.findall(s)
    return found[-1].replace(",", "").replace(" ", "") if found else None


RULES = {
    "boxed": extract_boxed,
    "gsm8k": lambda s: _line_after(s, "####"),
    "final_answer": lambda s: _line_after(s, "final answer is"),
    "answer_colon": lambda s: _line_after(s, "answer:"),
    "last_number": extract_last_number,
}
STRICTNESS = {
    "boxed": ["boxed"],
    "boxed_or_marker": ["boxed", "gsm8k", "final_answer", "answer_colon"],
    "any": ["boxed", "gsm8k", "final_answer", "answer_colon", "last_number"],
}


def extract_answer(response: str, extract: str = "any") -> Extraction:
    """Run the cascade for the strictness level `extract` (a key of STRICTNESS)."""
    if extract not in STRICTNESS:
        raise ValueError(f"extract={extract!r}: choose one of {sorted(STRICTNESS)}")
    s = response[-MAX_RESPONSE_CHARS:]
    for rule in STRICTNESS[extract]:
        text = RULES[rule](s)
        if text:
            return Extraction(text, rule)
    return Extraction(None, "none")
