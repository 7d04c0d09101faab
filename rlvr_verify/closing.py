"""What may follow a stated answer without being one: a closing offer or question ('Would you like ...?'), a short
check of the answer ('Check: 5(6) - 4 = 26 ✓'), an aside in parentheses, a clause that qualifies the value with
other numbers ('attained at x = 3', 'when divided by 7'). closing_text cuts them off, for the rules that take
whatever value comes last. Pure string functions, linear in the text."""
import re


# What may follow a stated answer without being one: a closing offer or question, a check of the answer, an aside.
_CHATTER = re.compile(r"(?:would you like|let me know|want me to|if you(?:'d| would)? like|if you want|i hope this helps|"
                      r"hope this helps|feel free|happy to help|💡|tip:|"
                      r"i hope (?:it|this|that|the answer|my answer)(?:'s| is) (?:correct|right))", re.IGNORECASE)
_CHECK = re.compile(r"(?:^|(?<=[\n.!。]))[-*#> \t]*(?:__)?(?:step\s*\d+\.?\s*)?(?:check(?:ing)?\b|verif(?:y|ication)\b|"
                    r"let(?:'s| us| me) (?:verify|check|double[- ]check)|double[- ]check|sanity check|as a (?:sanity )?check|"
                    r"经检验|检验|验证)", re.IGNORECASE)
# (A '!' after a digit or a bracket is a factorial, not the end of a sentence: '8!/(4!(8-4)!)'.)
_ASIDE = re.compile(r"(?:^|(?<=[\n.。])|(?<=[^\d!)]!))[ \t]*(?:\(|for reference\b|for what it'?s worth\b|note(?: that|:)|"
                    r"\(?as an aside\b)", re.IGNORECASE)


_CHECK_CHARS = 600  # a check longer than this is a step of the solution, not a check of its answer


def closing_text(s: str) -> str:
    """The text a positional rule (last math, last number) should read: without the closing lines that follow an
    answer but are not one ('Would you like ...?', 'Let me know ...', 'Check: 5(6) - 4 = 26 ✓', '(For reference,
    the line is y = 3x - 1.)'). Unchanged when nothing would be left."""
    text = s.rstrip()
    for _ in range(8):
        cut = _last_closing_cut(text)
        if cut is None or not re.search(r"\d", text[:cut]):
            break
        text = text[:cut].rstrip()
    sentence_start = max([m.end() for m in _SENTENCE_END.finditer(text[:max(0, len(text) - 1)])] or [0])
    for clause in _TRAILING_CLAUSE.finditer(text, sentence_start):  # the first after a value in the sentence
        if re.search(r"\d", text[sentence_start:clause.start()]):  # 'The minimum is $-4$, attained at $x = 3$.'
            if not _STATES.search(text, clause.end()):  # not '... when divided by 4, so the digit is 4.'
                text = text[:clause.start()].rstrip()
            break
    return text


# A word after the clause that states a value ('... when divided by 4, so the digit is 4.'); not a passive 'is divided by'
_STATES = re.compile(r"\b(?:(?:is|are)(?!\s+[a-z]+ed\s+by\b)|equals?|giv(?:es|ing)|so|leaving|thus|therefore|hence|makes?|"
                     r"total)\b", re.IGNORECASE)
# The end of a sentence: '.', '?', '。', or a '!' that is not a factorial ('$3! = 6$'), before a blank; or a line break
_SENTENCE_END = re.compile(r"(?:[.?。]|(?<![\d!)])!)(?=\s)|\n")
# A clause after the value in the closing sentence that qualifies it with other numbers: where it is attained, the
# base it is written in, the divisor of a remainder, what it is for ('16 years for the tree to be 36 feet tall', not
# '... to get 12'), what comes with it (', with 94% of schools'), an approximation or a variant in parentheses.
_TRAILING_CLAUSE = re.compile(r"(?:,[ \t]?|(?<!\s)\s)(?:attained|achieved|reached|obtained|occurring|which occurs|at which|"
                              r"when|where|namely|in base)\b|(?:,[ \t]?with\b|[ \t]to[ \t](?!(?:get|obtain|give|yield|find|arrive|"
                              r"reach|compute|calculate|determine|make|see|show|conclude|end)\b)(?-i:[a-z]{2,})\b)(?![^\n]*[=:])(?=[^\n$]*\d)|[，,]\s?此时|\((?:about|approximately|approx\.?|roughly|"
                              r"≈|that would be|which|since|as|each|from|when|where|for|if)\b[^()]*\)\s*\$*\.?\s*$",
                              re.IGNORECASE)


def _last_closing_cut(text: str) -> int | None:
    """Where the last sentence or paragraph starts, when it is chatter, a question, a check or an aside."""
    tail_start = max(text.rfind("\n", 0, max(0, len(text) - 1)), 0)
    sentence_start = max([m.end() for m in _SENTENCE_END.finditer(text[:len(text) - 1])] or [0])
    last = text[sentence_start:].strip()
    if not last:
        return None
    if last.endswith("?") or _CHATTER.match(last.lstrip("*_ #>-")) or re.search(r"(?:✓|✔️?|✅|\\checkmark)\s*\$*\.?$", last):
        return sentence_start
    check = None
    for check in _CHECK.finditer(text):
        pass
    if (check and len(text) - check.start() <= _CHECK_CHARS and check.start() > len(text) // 3
            and re.search(r"[\d}$)\]*][ \t]*[.!。]?[\s*$\\\])]*$", text[:check.start()].rstrip()[-200:])
            and not re.search(r"final answer|answer is", text[check.start():], re.I)):
        return check.start()  # a short check after a text that ends on a value
    aside = None
    for aside in _ASIDE.finditer(text, tail_start):
        pass
    if aside and aside.start() >= sentence_start - 1:
        return aside.start()
    return None
