"""Independent checker: a recursive-descent parser for the emitted LaTeX subset and the plain-text form, evaluating
with Fraction (never eval(), never the generator's tree), plus dataset audits (duplicates, split leaks)."""
from __future__ import annotations

import re
from fractions import Fraction
from typing import Iterable

_TOKEN = re.compile(r"\s*(\\frac|\\times|\\div|\d+|[-+*/^(){}])")


def tokenize(s: str) -> list[str]:
    tokens, pos = [], 0
    s = s.rstrip()
    while pos < len(s):
        m = _TOKEN.match(s, pos)
        if not m:
            raise ValueError(f"cannot parse at character {pos}: {s[pos:pos + 12]!r}")
        tokens.append(m.group(1))
        pos = m.end()
    return tokens


class _Parser:
    """expr := term (('+'|'-') term)* ; term := unary (('*'|'/'|\\times|\\div) unary)* ;
    unary := '-' unary | power ; power := atom ('^' exponent)? ; atom := int | '(' expr ')' | \\frac{expr}{expr}"""

    def __init__(self, tokens: list[str]):
        self.t, self.i = tokens, 0

    def peek(self) -> str | None:
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self, expected: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (expected is not None and tok != expected):
            raise ValueError(f"expected {expected or 'a token'} at token {self.i}, got {tok!r}")
        self.i += 1
        return tok

    def expr(self) -> Fraction:
        value = self.term()
        while self.peek() in ("+", "-"):
            value = value + self.term() if self.take() == "+" else value - self.term()
        return value

    def term(self) -> Fraction:
        value = self.unary()
        while self.peek() in ("*", "/", "\\times", "\\div"):
            op, rhs = self.take(), self.unary()
            if op in ("/", "\\div") and rhs == 0:
                raise ZeroDivisionError("division by zero in the expression")
            value = value * rhs if op in ("*", "\\times") else value / rhs
        return value

    def unary(self) -> Fraction:
        if self.peek() == "-":
            self.take()
            return -self.unary()
        return self.power()

    def power(self) -> Fraction:
        base = self.atom()
        if self.peek() == "^":
            self.take()
            if self.peek() == "{":
                self.take()
                exponent = int(self.take())
                self.take("}")
            else:
                exponent = int(self.take())
            return base ** exponent
        return base

    def atom(self) -> Fraction:
        tok = self.take()
        if tok.isdigit():
            return Fraction(int(tok))
        if tok == "(":
            value = self.expr()
            self.take(")")
            return value
        if tok == "\\frac":
            self.take("{"); num = self.expr(); self.take("}")
            self.take("{"); den = self.expr(); self.take("}")
            if den == 0:
                raise ZeroDivisionError("\\frac with a zero denominator")
            return num / den
        raise ValueError(f"unexpected token {tok!r} at token {self.i - 1}")


def evaluate_string(s: str) -> Fraction:
    """Exact value of an emitted LaTeX or plain-text expression."""
    p = _Parser(tokenize(s))
    value = p.expr()
    if p.peek() is not None:
        raise ValueError(f"trailing input at token {p.i}: {p.peek()!r}")
    return value


def check_records(records: Iterable[dict], digits: int = 15) -> list[str]:
    """Every problem in the records: answer recomputed from both renderings, duplicates, split leaks.
    Returns human-readable problems (empty list = clean)."""
    from data_gen.expression import answer_decimal, answer_text
    errors: list[str] = []
    first_seen: dict[str, tuple[str, str]] = {}
    for n, rec in enumerate(records, 1):
        where = f"record {n} (id={rec.get('id')!r})"
        try:
            latex_value = evaluate_string(rec["problem"])
            text_value = evaluate_string(rec["problem_text"])
        except (KeyError, ValueError, ZeroDivisionError) as e:
            errors.append(f"{where}: cannot evaluate: {e}")
            continue
        if latex_value != text_value:
            errors.append(f"{where}: LaTeX gives {latex_value}, plain text gives {text_value}")
        if str(rec.get("answer")) != answer_text(latex_value):
            errors.append(f"{where}: answer {rec.get('answer')!r} but the expression is {answer_text(latex_value)}")
        if "answer_decimal" in rec and str(rec["answer_decimal"]) != answer_decimal(latex_value, digits):
            errors.append(f"{where}: answer_decimal {rec['answer_decimal']!r}, expected "
                          f"{answer_decimal(latex_value, digits)}")
        canonical = " ".join(str(rec["problem_text"]).split())
        if canonical in first_seen:
            other_id, other_split = first_seen[canonical]
            kind = "split leak" if other_split != rec.get("split") else "duplicate"
            errors.append(f"{where}: {kind} of id={other_id!r} ({other_split} / {rec.get('split')})")
        else:
            first_seen[canonical] = (rec.get("id"), rec.get("split"))
    return errors


def splits_disjoint(records: Iterable[dict]) -> bool:
    """True when no canonical expression appears in two splits."""
    where: dict[str, str] = {}
    for rec in records:
        c = " ".join(str(rec["problem_text"]).split())
        if where.setdefault(c, rec["split"]) != rec["split"]:
            return False
    return True
