"""A small recursive-descent parser from LaTeX / plain-text answers to sympy objects.

It builds sympy objects from tokens directly; model text is never handed to sympify, parse_expr, eval or exec.
Sizes are guarded before anything is evaluated: input length, nesting depth, exponent and factorial magnitude.
"""
import math
import re

import sympy as sp

MAX_ANSWER_CHARS = 2000
MAX_DEPTH = 50
MAX_RESULT_DIGITS = 2000  # refuse to build numbers with more digits than this


class ParseError(ValueError):
    pass


class TooLarge(ValueError):
    pass


FUNCS = {
    "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "cot": sp.cot, "sec": sp.sec, "csc": sp.csc,
    "arcsin": sp.asin, "arccos": sp.acos, "arctan": sp.atan, "sinh": sp.sinh, "cosh": sp.cosh,
    "tanh": sp.tanh, "ln": sp.log, "log": sp.log, "exp": sp.exp,
    # as written in plain text: abs(x), asin(x), asinh(x) (read letter by letter they were the product a*b*s*x)
    "abs": sp.Abs, "asin": sp.asin, "acos": sp.acos, "atan": sp.atan, "asinh": sp.asinh, "acosh": sp.acosh,
    "atanh": sp.atanh, "arcsinh": sp.asinh, "arccosh": sp.acosh, "arctanh": sp.atanh, "coth": sp.coth,
    "sech": sp.sech, "csch": sp.csch, "arcsec": sp.asec, "arccsc": sp.acsc, "arccot": sp.acot, "asec": sp.asec,
    "acsc": sp.acsc, "acot": sp.acot,
    # SymPy's own spelling, as answers written in its syntax use it: Abs(x), factorial(n), conjugate(z)
    "Abs": sp.Abs, "factorial": lambda x: safe_factorial(x), "conjugate": sp.conjugate, "sign": sp.sign,
    "sgn": sp.sign, "re": sp.re, "im": sp.im, "factorial2": lambda x: safe_factorial(x, double=True),
    # capitalised, as Mathematica and some checkers write them: Sin(x), ArcTan(x), Log(x)
    "Sin": sp.sin, "Cos": sp.cos, "Tan": sp.tan, "Cot": sp.cot, "Sec": sp.sec, "Csc": sp.csc, "ArcSin": sp.asin,
    "ArcCos": sp.acos, "ArcTan": sp.atan, "Sinh": sp.sinh, "Cosh": sp.cosh, "Tanh": sp.tanh, "Log": sp.log,
    "Exp": sp.exp,
}
_INVERSE = {"sin": sp.asin, "cos": sp.acos, "tan": sp.atan}
CONSTANTS = {"pi": sp.pi, "infty": sp.oo, "infinity": sp.oo, "inf": sp.oo, "oo": sp.oo,  # oo: SymPy's spelling
             "nan": sp.nan}  # not a number: equal to nothing (3 + 0 \\cdot \\text{nan} is no 3)
# \\max(a, b), gcd(12, 18), \\operatorname{lcm}(4, 6); binom(5, 3), nCr(5, 3), nPr(5, 3) as calculators write them
_OPERATORS = ("max", "min", "gcd", "lcm", "atan2", "arctan2", "binom", "nCr", "nPr")
# Greek letters by name, as \\alpha or in plain text ('alpha + beta', 'omega*t + phi'): one symbol each
GREEK = ("alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta", "iota", "kappa",
         "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma",
         "Delta", "Theta", "Lambda", "Xi", "Sigma", "Phi", "Psi", "Omega")
_WORDS = sorted(list(FUNCS) + ["sqrt", "pi", "infty", "inf", "infinity", "oo", "nan"] + list(_OPERATORS) + list(GREEK), key=len,
                reverse=True)
_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d*)?|\.\d+)|(\\[a-zA-Z]+|\\.)|(" + "|".join(_WORDS) + r")(?![a-zA-Z])|(\*\*|.))")


def tokenize(s: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(s):
        m = _TOKEN.match(s, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
        num, cmd, word, ch = m.groups()
        if num is not None:
            tokens.append(("num", num))
        elif cmd is not None:
            tokens.append(("cmd", cmd[1:]))
        elif word is not None:
            tokens.append(("cmd", word))
        elif ch is not None and not ch.isspace():
            tokens.append(("op", ch))
    return tokens


def number(text: str) -> sp.Rational:
    """Decimal string -> exact Rational built from ints (no string parsing by sympy)."""
    if "." in text:
        whole, frac = text.split(".")
        frac = frac or "0"
        return sp.Rational(int(whole or "0") * 10 ** len(frac) + int(frac), 10 ** len(frac))
    if len(text) > MAX_RESULT_DIGITS:
        raise TooLarge("number literal too long")
    return sp.Integer(int(text))


def _digits(x) -> float:
    """log10 of |x| for a number, or 0 when it is not a plain number."""
    try:
        if x.is_Integer or x.is_Rational:
            p, q = abs(int(x.p)), abs(int(x.q))
            big = max(p, q)
            if big.bit_length() > 3000:  # str() of an int over 4,300 digits raises; estimate from its bit length
                return big.bit_length() * 0.30103 + 1
            return math.log10(big) if big else 0.0  # 2^2020 has 609 digits: the base's log, not its digit count
        if x.is_number and not x.free_symbols:
            v = abs(complex(sp.N(x, 15)))
            return math.log10(v) if v > 0 else 0.0
    except (TypeError, ValueError, OverflowError):
        return 0.0
    return 0.0


def safe_pow(base, exp):
    """Refuse powers whose value would have more than MAX_RESULT_DIGITS digits, and the indeterminate oo^0."""
    if exp == 0 and getattr(base, "is_infinite", False):
        raise ParseError("infinity to the power 0")
    if exp.is_number and base.is_number and not exp.free_symbols and not base.free_symbols:
        if _digits(exp) > 6:
            if base in (0, 1, -1) or not (abs(sp.N(base, 15)) != 1):
                return sp.Pow(base, exp)
            raise TooLarge("exponent too large")
        try:
            digits = abs(float(sp.N(exp, 15))) * max(_digits(base), 1e-3)
        except (TypeError, ValueError):
            digits = 0.0
        if digits > MAX_RESULT_DIGITS:
            raise TooLarge("power too large")
    return sp.Pow(base, exp)


def _matrix_power(matrix, exp):
    """A^T is the transpose; A^{-1} the inverse, A^2 a small integer power of a square matrix (at most 6x6)."""
    if exp == sp.Symbol("T"):
        return matrix.T
    if not (exp.is_Integer and abs(int(exp)) <= 10 and matrix.rows == matrix.cols <= 6):
        raise ParseError("matrix power")
    if exp < 0 and matrix.det(method="berkowitz") == 0:
        raise ParseError("inverse of a singular matrix")
    return sp.ImmutableMatrix(matrix ** int(exp))


_EVALUATED_FACTORIAL = 500  # up to here n! is a number; beyond, n! stays a symbol for its value (1/2004! against
_SYMBOLIC_FACTORIAL = 10_000  # \frac{1}{2004!}: the same tree, or compared in floating point by evalf), up to here


def safe_factorial(x, double: bool = False):
    if x.is_Integer and int(x) > _EVALUATED_FACTORIAL:
        if int(x) > _SYMBOLIC_FACTORIAL:
            raise TooLarge("factorial too large")
        return sp.factorial2(x, evaluate=False) if double else sp.factorial(x, evaluate=False)
    if not x.is_Integer and x.is_number:
        raise ParseError("factorial of a non-integer")
    return sp.factorial2(x) if double else sp.factorial(x)


def safe_binomial(n, k):
    """\\binom{n}{k}; refused when n is an integer too large to evaluate cheaply."""
    if n.is_Integer and abs(int(n)) > 5000:
        raise TooLarge("binomial too large")
    return sp.binomial(n, k)


def _operator(name: str, args: list):
    """max/min of any expressions; gcd/lcm of integers (or polynomials); atan2(y, x), the angle of the point (x, y)."""
    if len(args) < 2 and name in ("gcd", "lcm") or len(args) != 2 and name in ("atan2", "arctan2", "binom", "nCr", "nPr"):
        raise ParseError(f"{name} of {len(args)} arguments")
    if name in ("atan2", "arctan2"):
        return sp.atan2(*args)
    if name in ("binom", "nCr", "nPr"):
        if len(args) != 2:
            raise ParseError(f"{name} of {len(args)} arguments")
        combinations = safe_binomial(*args)
        return combinations if name != "nPr" else combinations * safe_factorial(args[1])
    if name == "max":
        return sp.Max(*args)
    if name == "min":
        return sp.Min(*args)
    if any(_digits(a) > 100 for a in args):
        raise TooLarge(f"{name} of huge numbers")
    value = args[0]
    for a in args[1:]:
        value = sp.gcd(value, a) if name == "gcd" else sp.lcm(value, a)
    return value


IMPLICIT_CMDS = set(FUNCS) | set(_OPERATORS) | set(CONSTANTS) | set(GREEK) | {"frac", "dfrac", "tfrac", "sqrt", "left",
                                                                         "binom", "dbinom", "tbinom"}
OPEN = {"(": ")", "[": "]", "{": "}"}
_ARGUMENT_CMDS = set(CONSTANTS) | set(GREEK)  # letters a bare argument runs on


class Parser:
    def __init__(self, tokens, plain: bool = False):
        self.t, self.i, self.depth = tokens, 0, 0
        self.plain = plain  # the answer is plain text, no LaTeX command in it
        self.abs_depth = 0  # inside |...|: a '|' closes it rather than opening another
        self.bound = set()  # index letters of a sum or product being read ('i' there is not the imaginary unit)

    def peek(self, k=0):
        j = self.i + k
        return self.t[j] if j < len(self.t) else ("end", "")

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def expect(self, value):
        kind, v = self.take()
        if v != value:
            raise ParseError(f"expected {value!r}, found {v!r}")

    def enter(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise TooLarge("nesting too deep")

    # list := expr (',' expr)*
    def parse_list(self, closers):
        items = [self.parse_sum()]
        while self.peek()[1] == ",":
            self.take()
            items.append(self.parse_sum())
        if self.peek()[1] not in closers:
            raise ParseError(f"unexpected {self.peek()[1]!r}")
        return items

    def parse_sum(self):
        self.enter()
        kind, v = self.peek()
        sign = 1
        if v in ("+", "-"):
            self.take()
            sign = -1 if v == "-" else 1
        value = self.parse_term()
        if sign < 0:
            value = -value
        while self.peek()[1] in ("+", "-"):
            op = self.take()[1]
            rhs = self.parse_term()
            value = value + rhs if op == "+" else value - rhs
        self.depth -= 1
        return value

    def parse_term(self):
        value = self.parse_unary()
        while True:
            kind, v = self.peek()
            if v in ("*", "cdot", "times"):
                self.take()
                value = value * self.parse_unary()
            elif v in ("/", "div"):
                self.take()
                value = value / self.parse_unary()
            elif kind == "num" or (kind == "cmd" and v in IMPLICIT_CMDS) or v == "(" or (
                    kind == "op" and v.isalpha()) or (v == "|" and self.abs_depth == 0):
                value = value * self.parse_unary()  # implicit multiplication: 2x, 3\sqrt{2}, 2(x+1)
            else:
                return value

    def parse_unary(self):
        if self.peek()[1] == "-":
            self.take()
            return -self.parse_unary()
        if self.peek()[1] == "+":
            self.take()
            return self.parse_unary()
        return self.parse_power()

    def parse_power(self):
        base = self.parse_postfix()
        if self.peek()[1] in ("^", "**"):
            self.take()
            if self.peek()[1] == "circ" or self.peek(1)[1] == "circ":  # degrees are stripped
                self.take()
                if self.peek()[1] == "}":
                    self.take()
                return base
            self.enter()
            exp = self.parse_group_or_unary()
            self.depth -= 1
            if isinstance(base, sp.MatrixBase):
                return _matrix_power(base, exp)
            return safe_pow(base, exp)
        return base

    def parse_group_or_unary(self):
        if self.peek()[1] == "{":
            self.take()
            value = self.parse_sum()
            self.expect("}")
            return value
        return self.parse_unary()

    def parse_postfix(self):
        value = self.parse_atom()
        while self.peek()[1] == "!":
            self.take()
            if self.peek()[1] == "!":  # n!! is the double factorial n(n-2)(n-4)..., not (n!)!
                self.take()
                value = safe_factorial(value, double=True)
            else:
                value = safe_factorial(value)
        return value

    def subscript(self) -> str:
        """The text of a subscript after '_': one digit run, one letter, or {letters and digits}."""
        self.take()
        kind, v = self.take()
        if v != "{":
            if kind == "num" or (kind == "op" and v.isalnum()):
                return v
            raise ParseError(f"bad subscript {v!r}")
        parts = []
        while self.peek()[1] != "}":
            kind, v = self.take()
            if not (kind == "num" or (kind == "op" and v.isalnum())) or len(parts) > 8:
                raise ParseError(f"bad subscript {v!r}")
            parts.append(v)
        self.take()
        return "".join(parts)

    def parse_brace_arg(self):
        kind, v = self.take()
        if v == "{":
            value = self.parse_sum()
            self.expect("}")
            return value
        if kind == "num":
            if len(v) > 1 and v.isdigit():  # \frac12: a bare digit argument takes one digit only
                self.t = self.t[:self.i] + [("num", v[1:])] + self.t[self.i:]
                return number(v[0])
            return number(v)
        if kind == "op" and v.isalpha():
            return sp.Symbol(v)
        raise ParseError(f"bad argument {v!r}")

    def parse_atom(self):
        self.enter()
        try:
            kind, v = self.take()
            if kind == "num":
                return number(v)
            if kind == "op" and v.isalpha():
                if self.peek()[1] == "_":  # v_0, r_{0}, a_{12}: one named symbol
                    return sp.Symbol(f"{v}_{self.subscript()}")
                if v in self.bound:
                    return sp.Symbol(v)
                if v == "i" or v == "I" and self.plain:  # i, and I in plain text (SymPy's spelling): the imaginary
                    return sp.I                             # unit; in LaTeX, I stays a letter
                return sp.E if v == "e" else sp.Symbol(v)
            if v in OPEN and kind == "op":  # '\\{' (a set, even of one element) is a command
                closer = OPEN[v]
                items = self.parse_list([closer] + ([")", "]"] if v in "([" else []))
                close = self.take()[1]
                if len(items) == 1 and close == closer:
                    return items[0]
                return Bracketed(v, items, close)
            if v == "|" and self.abs_depth == 0:  # |x|: the absolute value
                self.abs_depth += 1
                value = self.parse_sum()
                self.abs_depth -= 1
                self.expect("|")
                return sp.Abs(value)
            if kind == "cmd" and v in ("lfloor", "lceil"):  # \\lfloor x \\rfloor, \\lceil x \\rceil
                value = self.parse_sum()
                self.expect("rfloor" if v == "lfloor" else "rceil")
                return sp.floor(value) if v == "lfloor" else sp.ceiling(value)
            if kind == "cmd":
                return self.parse_command(v)
            raise ParseError(f"unexpected {v!r}")
        finally:
            self.depth -= 1

    def parse_command(self, name):
        if name in ("frac", "dfrac", "tfrac"):
            num, den = self.parse_brace_arg(), self.parse_brace_arg()
            return num / den
        if name in ("binom", "dbinom", "tbinom") and self.peek()[1] != "(":  # binom(5, 3): an operator, below
            return safe_binomial(self.parse_brace_arg(), self.parse_brace_arg())
        if name == "sqrt":
            if self.peek()[1] == "[":
                self.take()
                index = self.parse_sum()
                self.expect("]")
                radicand = self.parse_brace_arg()
                if index.is_Integer and index % 2 == 1 and radicand.is_number and radicand.is_negative:
                    return -safe_pow(-radicand, 1 / index)  # \sqrt[3]{-27} is the real root -3
                return safe_pow(radicand, 1 / index)
            return sp.sqrt(self.parse_brace_arg() if self.peek()[1] == "{" else self.parse_unary())
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name == "log" and self.peek()[1] == "_":  # \log_2 8, \log_{10} x
            self.take()
            base = self.parse_group_or_unary()
            arg = self.parse_brace_arg() if self.peek()[1] == "{" else self.parse_unary()
            return sp.log(arg, base)
        if name in FUNCS:
            power = None
            if self.peek()[1] == "^":
                self.take()
                power = self.parse_group_or_unary()
            if self.peek()[1] == "{":
                arg = self.parse_brace_arg()
            elif self.peek()[1] in ("(", "left"):  # cos(x)^2 is (cos x)^2: the power after ')' is the value's
                arg = self.parse_atom()
            else:
                arg = self.parse_unary()  # \sin x^2 is sin(x^2)
                while self.peek()[0] == "op" and self.peek()[1].isalpha() or (
                        self.peek()[0] == "cmd" and self.peek()[1] in _ARGUMENT_CMDS):
                    arg = arg * self.parse_power()  # \sin 2x is sin(2x), \cos 2\theta cos(2 theta); \sin x \cos x stops
            if power == -1 and name in _INVERSE:  # \tan^{-1} x is arctan x, not 1/tan x
                return _INVERSE[name](arg)
            if (name in ("log", "Log") and isinstance(arg, Bracketed) and arg.open == "(" and len(arg.items) == 2
                    and all(isinstance(x, sp.Basic) for x in arg.items)):
                value = sp.log(*arg.items)  # SymPy's log(x, 10): the logarithm of x to base 10
            else:
                value = FUNCS[name](arg)
            return safe_pow(value, power) if power is not None else value
        if name == "det":  # \det A of a matrix written out: the number
            matrix = self.parse_power()
            if not isinstance(matrix, sp.MatrixBase) or matrix.rows != matrix.cols or matrix.rows > 6:
                raise ParseError("\\det of no small square matrix")
            return matrix.det(method="berkowitz")
        if name in ("sum", "prod"):
            return self.parse_sum_or_product(name)
        if name in _OPERATORS:
            self.expect("(")
            args = self.parse_list([")"])
            self.expect(")")
            return _operator(name, args)
        if name == "left":
            return self.parse_atom()
        if name == "{":  # \{ a, b \}
            items = self.parse_list(["}"])  # the closing \} tokenizes as cmd "}"
            self.take()
            return Bracketed("{", items, "}")
        if name in ("begin",):
            return self.parse_matrix()
        if name in GREEK:
            return sp.Symbol(name.replace("var", ""))  # \\varphi is the letter phi
        raise ParseError(f"unsupported command \\{name}")

    def parse_sum_or_product(self, name):
        """\\sum_{k=a}^{b} body (body: one term, as usual): summed term by term when a and b are integers at most
        2,000 apart; a polynomial body of degree <= 10 with symbolic bounds is summed in closed form; else refused."""
        self.expect("_")
        self.expect("{")
        kind, var = self.take()
        if not (kind == "op" and var.isalpha()):
            raise ParseError("bad index of a sum")
        self.expect("=")
        lower = self.parse_sum()
        self.expect("}")
        self.expect("^")
        upper = self.parse_group_or_unary()
        self.bound.add(var)
        body = self.parse_term()
        self.bound.discard(var)
        k = sp.Symbol(var)
        if lower.is_Integer and upper.is_Integer and 0 <= int(upper) - int(lower) <= (2000 if name == "sum" else 200):
            terms = [body.subs(k, i) for i in range(int(lower), int(upper) + 1)]
            value = sp.Add(*terms) if name == "sum" else sp.Mul(*terms)
            if _digits(value) > MAX_RESULT_DIGITS:
                raise TooLarge(f"\\{name} too large")
            return value
        if name == "sum" and body.is_polynomial(k) and sp.degree(body, k) <= 10 and not (
                lower.free_symbols | upper.free_symbols) & {k}:
            value = sp.expand(sp.summation(body, (k, lower, upper)))
            if _digits(value) > MAX_RESULT_DIGITS:
                raise TooLarge("sum too large")
            return value
        raise ParseError(f"\\{name} not evaluated")

    def parse_matrix(self):
        self.expect("{")
        env = []
        while self.peek()[1] != "}":
            env.append(self.take()[1])
        self.take()
        if "".join(env) == "array" and self.peek()[1] == "{":  # \begin{array}{cc}: skip the column spec
            while self.take()[1] != "}":
                pass
        rows, row = [], [self.parse_sum()]
        while True:
            kind, v = self.take()
            if v == "&":
                row.append(self.parse_sum())
            elif v == "\\":
                rows.append(row)
                row = [self.parse_sum()]
            elif v == "end":
                rows.append(row)
                self.expect("{")
                while self.take()[1] != "}":
                    pass
                if len({len(r) for r in rows}) != 1:
                    raise ParseError("ragged matrix")
                matrix = sp.ImmutableMatrix(rows)
                if "".join(env) == "vmatrix":  # |...| is the determinant, a number, not the matrix
                    if matrix.rows != matrix.cols or matrix.rows > 4:
                        raise ParseError("determinant of a non-square or large matrix")
                    return matrix.det(method="berkowitz")
                return matrix
            else:
                raise ParseError(f"unexpected {v!r} in matrix")


class Bracketed:
    """A bracketed list: a tuple, an interval or a point, decided by the comparer."""

    def __init__(self, open_, items, close):
        self.open, self.items, self.close = open_, items, close

    def __repr__(self):
        return f"Bracketed({self.open}{self.items}{self.close})"


class Equation:
    """lhs = rhs kept as lhs - rhs, so two equations compare as relations (equal up to the sign)."""

    def __init__(self, difference):
        self.difference = difference


def check_size(s: str):
    if len(s) > MAX_ANSWER_CHARS:
        raise TooLarge(f"answer longer than {MAX_ANSWER_CHARS} chars")
    depth = peak = 0
    for ch in s:
        if ch in "({[":
            depth += 1
            peak = max(peak, depth)
        elif ch in ")}]":
            depth -= 1
    if peak > MAX_DEPTH:
        raise TooLarge(f"nesting deeper than {MAX_DEPTH}")


# One letter with digits written right after it, not part of a word, a command or a number: a name with an index
_INDEXED_LETTER = re.compile(r"(?<![A-Za-z\\\d.'_^])([A-Za-z])(\d+)(?![\d.^])")  # (not 'N2^{-N}', N times 2^-N)


def parse_math(s: str):
    """Parse one normalized answer into a sympy object, a Bracketed list, or a Python list (bare commas)."""
    check_size(s)
    if _INDEXED_LETTER.search(s):
        s = _INDEXED_LETTER.sub(r"\1_{\2}", s)  # 'x1 + x2' is x_1 + x_2, 'A1' is no option A: an index, not a factor
    tokens = tokenize(s)
    if not tokens:
        raise ParseError("empty answer")
    p = Parser(tokens, plain="\\" not in s)
    items = p.parse_list([""])
    if p.peek()[0] != "end":
        raise ParseError(f"trailing input at {p.peek()[1]!r}")
    return items[0] if len(items) == 1 else list(items)
