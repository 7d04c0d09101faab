"""Multiple-choice answers: the option letter an answer is ('(B)'), the letter and value it gives ('C. x = 42'), the
letters it lists ('A, C'), and the option a whole reply picks by name ('I would pick B', a letter alone on its last
line). Pure string functions; the answer-level ones read text already stripped of math delimiters and \\text{}."""
import re

# A lettered option: A-E, and the F, G, H, J, K of tests that letter alternate questions that way (ACT, and the
# SAT/ACT items of GaoKao 2023 English); I is left out (a Roman numeral, a quadrant).
_CHOICE = re.compile(r"^\s*(?:\(([A-HJK])\)|([A-HJK])[.:)])\s*(\S.*)$", re.S)
_LETTER = re.compile(r"^\s*\(?([A-HJK]|[a-e](?=\)|\s*$))\)?[.:]?\s*$")  # 'B', '(C)'; MathQA's golds: 'a'..'e'
_MATHQA_OPTION = re.compile(r"^\s*\(?([a-e])\s*\)\s*(\S.*)$", re.S)  # 'a ) 21', 'c ) rs . 1200'
_CHOICE_WORD = re.compile(r"^\s*(?i:choice|option)[\s_\\]*\(?([A-HJK])\)?(?!\w)[\s.:)-]*(.*)$", re.S)
_OPERATOR_NEXT = re.compile(r"[+*/^=<>]|-(?![\d\\a-zA-Z])")
_LETTERS = re.compile(r"\(?[A-E]\)?(?:\s*(?:,|and|\s)?\s*\(?[A-E]\)?)*")
# Two options offered as alternatives: '(A) ... or (C)'
TWO_OPTIONS = re.compile(r"(?<![A-Za-z])\(?([A-HJK])\)[^()]{0,40}?\bor\s+\(?([A-HJK])\)")


def letter(plain: str) -> str | None:
    """'B', '(C)', MathQA's 'a' -> the option letter (upper case); None when the answer is not a bare option."""
    m = _LETTER.match(plain)
    return m.group(1).upper() if m else None


def lettered_value(plain: str) -> tuple[str, str] | None:
    """'(B) 1', 'C. x = 42', 'Choice_C: 3.82', 'Option (B)' -> ('B', '1'), ...; None when the answer is not a
    lettered option."""
    named = _CHOICE_WORD.match(plain)
    if named:
        return named.group(1), named.group(2).strip().strip("()").strip()
    m = _CHOICE.match(plain)
    if not m:
        mathqa = _MATHQA_OPTION.match(plain)
        if not mathqa or _OPERATOR_NEXT.match(mathqa.group(2)):  # '(a)^(2) + (b)^(2)': math, not option a
            return None
        return mathqa.group(1).upper(), mathqa.group(2).strip()
    if _OPERATOR_NEXT.match(m.group(3)):  # an operator, not an option's value ('D) -3')
        return None
    return m.group(1) or m.group(2), m.group(3).strip()


def listed(plain: str) -> set | None:
    """'A, C', 'AC', '(A) and (C)' -> {'A', 'C'}: the lettered options chosen; None when the answer is not that."""
    plain = plain.strip().rstrip(".")
    return set(re.findall(r"[A-E]", plain)) if _LETTERS.fullmatch(plain) else None


# A pick named as an option: 'Solution: Choice_B', 'the answer is Option (C)', 'the correct choice is D: 2/3'; or
# said to be right, or chosen: 'I think D is correct.', 'I choose C'; or a short reply that opens with it.
_CHOICE_PICK = re.compile(r"\b(?i:solution|answer)\s*(?:is\b|:)\s*(?i:choice|option)[\s_\\]*\(?([A-HJK])\)?(?!\w)"
                          r"|\b(?i:choice|option)\s+is\s*(?:(?i:choice|option)[\s_\\]*)?\(?([A-HJK])\)?(?!\w)"
                          # 'I think D is correct.', '(B) is the right answer', 'I choose C', 'C. the third one'
                          r"|(?<![\w(])\(?([A-HJK])\)?\s+(?i:is\s+(?:the\s+)?(?:correct|right)\b)(?!\s+(?i:if|when))"
                          r"|\b(?i:i(?:\s+(?:would|will)|'d|'ll)?\s+(?:choose|pick|select|go\s+with)|my\s+(?:choice|pick)\s+is)"
                          r"\s+(?:(?i:option|choice)\s+)?\(?([A-HJK])\)?(?!\w)(?![,;]?\s+(?i:but|or)\b)"  # 'I would pick
                          # B', 'I choose option B' (not '..., but C'); a reply that ends 'so B.' ('..., so B.')
                          r"|\b(?i:so|thus|hence|therefore)[,\s]+\(?([A-HJK])\)?[.!]?\s*\Z"
                          # 'C. the third one', 'B. \\(6x^2\\)', 'B. 42', and on one line 'C. A pretty girl'
                          r"|\A\s*\(?([A-HJK])[.)]\s+(?=[a-z\\$\d(-]|[A-Z][^\n]*\s*\Z)"
                          r"|\A\s*选项\s*\(?([A-HJK])\)?\s*[。.]?\s*\Z"  # '选项B' (option B) as the whole reply
                          r"|\n[ \t]*[*_]*\(?([A-HJK])\)?[*_]*[ \t]*\.?\s*\Z")  # a last line that is the letter alone


def last_pick(s: str) -> str | None:
    """The option letter of the last pick named as a choice or option, within the response's last 2,000 characters."""
    last = None
    for last in _CHOICE_PICK.finditer(s, max(0, len(s) - 2000)):  # (from an offset, not a slice: '\\A' is the
        pass                                                       # reply's start, never where the window cuts)
    return next(g for g in last.groups() if g) if last else None
