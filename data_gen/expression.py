"""Expression trees for RandomCalculation: exact values (Fraction) and LaTeX / plain-text rendering.

Parentheses are emitted only where precedence or left-associativity needs them, so the rendered string parses
back (by data_gen.check) to exactly the tree's value.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction

OPS = {"+": (1, " + ", " + "), "-": (1, " - ", " - "), "*": (2, " \\times ", " * "), "/": (2, " \\div ", " / ")}
ATOM = 9  # precedence of something that never needs parentheses


@dataclass(frozen=True)
class Leaf:
    """A basic element: kind is 'int' (n), 'frac' (a/b), 'square' (n^2) or 'cube' (n^3)."""
    kind: str
    a: int
    b: int = 1

    @property
    def value(self) -> Fraction:
        if self.kind == "frac":
            return Fraction(self.a, self.b)
        return Fraction(self.a ** {"int": 1, "square": 2, "cube": 3}[self.kind])


@dataclass(frozen=True)
class BinOp:
    op: str
    left: "Node"
    right: "Node"


Node = Leaf | BinOp


def evaluate(node: Node) -> Fraction:
    """Exact value; ZeroDivisionError on a division by zero."""
    if isinstance(node, Leaf):
        return node.value
    a, b = evaluate(node.left), evaluate(node.right)
    return {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "/": lambda: a / b}[node.op]()


def count_ops(node: Node) -> int:
    return 0 if isinstance(node, Leaf) else 1 + count_ops(node.left) + count_ops(node.right)


def _precedence(node: Node, latex: bool) -> int:
    if isinstance(node, BinOp):
        return OPS[node.op][0]
    # a plain-text fraction "3/4" is itself a division; \frac{3}{4} is atomic
    return 2 if (node.kind == "frac" and not latex) else ATOM


def _leaf(leaf: Leaf, latex: bool) -> str:
    if leaf.kind == "int":
        return str(leaf.a)
    if leaf.kind == "frac":
        return f"\\frac{{{leaf.a}}}{{{leaf.b}}}" if latex else f"{leaf.a}/{leaf.b}"
    power = 2 if leaf.kind == "square" else 3
    return f"{leaf.a}^{{{power}}}" if latex else f"{leaf.a}^{power}"


def render(node: Node, latex: bool = True) -> str:
    """LaTeX (\\frac, ^{2}, \\times, \\div) or plain text ('3/4 + 5^2) * 7' style)."""
    if isinstance(node, Leaf):
        return _leaf(node, latex)
    prec = OPS[node.op][0]
    left, right = render(node.left, latex), render(node.right, latex)
    if _precedence(node.left, latex) < prec:
        left = f"({left})"
    rp = _precedence(node.right, latex)
    if rp < prec or (rp == prec and node.op in "-/"):
        right = f"({right})"
    return left + OPS[node.op][1 if latex else 2] + right


def answer_text(x: Fraction) -> str:
    """Exact plain answer: '42', '-3/7'."""
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def answer_latex(x: Fraction) -> str:
    """Convention: the sign goes outside the fraction: '-\\frac{3}{7}'."""
    if x.denominator == 1:
        return str(x.numerator)
    sign = "-" if x < 0 else ""
    return f"{sign}\\frac{{{abs(x.numerator)}}}{{{x.denominator}}}"


def answer_decimal(x: Fraction, digits: int = 15) -> str:
    """Integers exactly; otherwise `digits` significant digits, positional, trailing zeros dropped."""
    if x.denominator == 1:
        return str(x.numerator)
    with localcontext() as ctx:
        ctx.prec = digits
        d = Decimal(x.numerator) / Decimal(x.denominator)
    s = format(d, "f")
    return s.rstrip("0").rstrip(".") if "." in s else s
