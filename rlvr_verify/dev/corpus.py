"""A seeded generator of (response, gold) pairs whose true verdict is known from how each pair is built.

Every pair renders one exact value (a Fraction, a tuple, an interval, ...) twice: once as the gold, once inside a
response. Rendering the same value two ways gives an equal pair; perturbing the value first gives an unequal one.
So both verifiers can be scored against ground truth, not only against each other (docs/verifier_differential.md).
"""
import json
import random
import re
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

EVAL_DIR = Path(__file__).resolve().parents[2] / "rlvr" / "data" / "eval"


@dataclass(frozen=True)
class Pair:
    cls: str        # answer class: integer, fraction, tuple, interval, ...
    form: str       # how the response presents the answer: boxed, inline, display, answer_is, text, ...
    response: str
    gold: str
    expected: bool  # the true verdict, known from construction

    def to_json(self) -> str:
        return json.dumps(asdict(self))


# ------------------------------------------------------------------------------------------------ numbers
def _terminates(x: Fraction) -> bool:
    q = x.denominator
    for p in (2, 5):
        while q % p == 0:
            q //= p
    return q == 1


def decimal_text(x: Fraction) -> str:
    """Exact decimal of a terminating fraction (caller checks _terminates)."""
    sign = "-" if x < 0 else ""
    x = abs(x)
    places = 0
    while (x * 10 ** places).denominator != 1:
        places += 1
    digits = str(int(x * 10 ** places)).rjust(places + 1, "0")
    return sign + (digits[:-places] + "." + digits[-places:] if places else digits)


def latex_frac(x: Fraction, cmd: str = "\\frac") -> str:
    if x.denominator == 1:
        return str(x.numerator)
    sign = "-" if x < 0 else ""
    return f"{sign}{cmd}{{{abs(x.numerator)}}}{{{x.denominator}}}"


def mixed_text(x: Fraction, style: str) -> str | None:
    """4 + 4/9 as '4 4/9' (text) or '4\\frac{4}{9}' (latex); None when x is not a proper mixed number."""
    if x < 1 or x.denominator == 1:
        return None
    whole, rest = divmod(x.numerator, x.denominator)
    if style == "text":
        return f"{whole} {rest}/{x.denominator}"
    return f"{whole}\\frac{{{rest}}}{{{x.denominator}}}"


def thousands(n: int, sep: str) -> str:
    sign, digits = ("-" if n < 0 else ""), str(abs(n))
    groups = []
    while digits:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    return sign + sep.join(groups)


def render_number(x: Fraction, rng: random.Random, latex: bool = True, mixed: bool = False) -> str:
    """One of the many correct spellings of x (latex=False: only spellings that read as plain text)."""
    styles = ["frac", "dfrac", "slash", "unreduced"] if latex else ["slash"]
    if x.denominator == 1:
        styles = ["int", "int", "point_zero"] + (["thousands"] if abs(x) >= 1000 else [])
    elif _terminates(x):
        styles += ["decimal", "decimal"]
    if mixed and latex and x > 1 and x.denominator != 1:
        styles.append("mixed_latex")
    style = rng.choice(styles)
    if style == "int":
        return str(x.numerator)
    if style == "point_zero":
        return f"{x.numerator}.0"
    if style == "thousands":
        return thousands(x.numerator, ",")
    if style == "decimal":
        return decimal_text(x)
    if style == "slash":
        return f"{x.numerator}/{x.denominator}"
    if style == "unreduced":
        k = rng.randint(2, 4)
        sign = "-" if x < 0 else ""
        return f"{sign}\\frac{{{abs(x.numerator) * k}}}{{{x.denominator * k}}}"
    if style == "mixed_latex":
        return mixed_text(x, "latex")
    return latex_frac(x, "\\dfrac" if style == "dfrac" else "\\frac")


def rand_fraction(rng: random.Random, small: bool = False) -> Fraction:
    top = 12 if small else 60
    while True:
        x = Fraction(rng.randint(-top, top), rng.choice([1, 2, 3, 4, 5, 6, 8, 9, 10, 12, 16, 25]))
        if x != 0 or rng.random() < 0.1:
            return x


def perturb_number(x: Fraction, rng: random.Random) -> Fraction:
    """A nearby different value of the kind a wrong solution produces."""
    choices = [x + 1, x - 1, -x if x else Fraction(1), x * 2, x + Fraction(1, x.denominator + 1)]
    if x.denominator != 1 and x.numerator != 0:
        choices.append(Fraction(x.denominator, x.numerator))
    return rng.choice([c for c in choices if c != x])


# ------------------------------------------------------------------------------------------------ classes
def _gold_number(x: Fraction) -> str:
    return latex_frac(x) if x.denominator != 1 else str(x.numerator)


def gen_integer(rng, equal):
    x = Fraction(rng.choice([rng.randint(-20, 20), rng.randint(0, 999), rng.randint(-999, 999)]))
    shown = x if equal else perturb_number(x, rng)
    return str(x.numerator), render_number(shown, rng), "number"


def gen_thousands(rng, equal):
    n = rng.randint(1000, 9_999_999) * rng.choice([1, 1, 1, -1])
    shown = n if equal else n + rng.choice([1, -1, 1000, -1000, 10])
    gold = rng.choice([str(n), thousands(n, ","), thousands(n, "{,}")])
    sep = rng.choice([",", " ", "\\,", "{,}", "", "\\ "])
    return gold, thousands(shown, sep), "number"


def gen_fraction(rng, equal):
    x = rand_fraction(rng)
    while x.denominator == 1:
        x = rand_fraction(rng)
    shown = x if equal else perturb_number(x, rng)
    gold = rng.choice([latex_frac(x), latex_frac(x, "\\dfrac"), f"{x.numerator}/{x.denominator}"])
    return gold, render_number(shown, rng, mixed=True), "number"


def gen_decimal(rng, equal):
    while True:
        x = Fraction(rng.randint(-9999, 9999), rng.choice([2, 4, 5, 8, 10, 20, 25, 100, 1000]))
        if x.denominator != 1:
            break
    shown = x if equal else perturb_number(x, rng)
    gold = rng.choice([decimal_text(x), latex_frac(x)])
    text = decimal_text(shown) if _terminates(shown) else render_number(shown, rng)
    if rng.random() < 0.3 and "." in text:
        text += "0"  # 4.50
    if rng.random() < 0.3 and _terminates(shown):
        text = render_number(shown, rng)
    return gold, text, "number"


def gen_mixed_number(rng, equal):
    whole, den = rng.randint(1, 30), rng.choice([2, 3, 4, 5, 6, 7, 8, 9, 12])
    x = whole + Fraction(rng.randint(1, den - 1), den)
    shown = x if equal else x + rng.choice([1, -1, Fraction(1, den), -Fraction(1, den)])
    if shown <= 1 or shown.denominator == 1:
        shown = x + 2
    gold = rng.choice([latex_frac(x), mixed_text(x, "latex"), mixed_text(x, "text")])
    return gold, mixed_text(shown, rng.choice(["latex", "text"])), "number"


def gen_percent(rng, equal):
    if rng.random() < 0.3:
        x = rng.randint(1, 30) + Fraction(rng.randint(1, 2), 3)
        render = lambda v: mixed_text(v, "latex") if v.denominator == 3 and v > 1 else render_number(v, rng)
    else:
        x = Fraction(rng.randint(1, 999), rng.choice([1, 1, 1, 2, 4, 10]))
        render = lambda v: decimal_text(v) if _terminates(v) else render_number(v, rng)
    shown = x if equal else x + rng.choice([1, -1, 10])
    gold = render(x) + rng.choice(["\\%", "\\%", ""])
    return gold, render(shown) + rng.choice(["\\%", "%", "\\%"]), "number"


def _items(rng, k):
    vals = []
    while len(vals) < k:
        v = rand_fraction(rng, small=True)
        if v not in vals:
            vals.append(v)
    return vals


def _perturb_one(vals, rng):
    out = list(vals)
    i = rng.randrange(len(out))
    new = perturb_number(out[i], rng)
    while new in out:
        new += 1
    out[i] = new
    return out


def gen_tuple(rng, equal):
    vals = _items(rng, rng.choice([2, 2, 3]))
    if equal:
        shown = vals
    elif rng.random() < 0.4:
        shown = vals[::-1]  # order matters in a tuple
    else:
        shown = _perturb_one(vals, rng)
    gold = "(" + ", ".join(_gold_number(v) for v in vals) + ")"
    sep = rng.choice([", ", ","])
    return gold, "(" + sep.join(render_number(v, rng) for v in shown) + ")", "list"


def gen_set(rng, equal):
    vals = _items(rng, rng.choice([2, 3, 4]))
    shown = rng.sample(vals, len(vals)) if equal else rng.choice([_perturb_one(vals, rng), vals[:-1]])
    gold = rng.choice(["\\{" + ", ".join(_gold_number(v) for v in vals) + "\\}",
                       ", ".join(_gold_number(v) for v in vals)])
    text = ", ".join(render_number(v, rng) for v in shown)
    return gold, rng.choice(["\\{" + text + "\\}", text]), "list"


def _interval_text(lo, hi, lo_closed, hi_closed, render):
    left = "(-\\infty" if lo is None else ("[" if lo_closed else "(") + render(lo)
    right = "\\infty)" if hi is None else render(hi) + ("]" if hi_closed else ")")
    return f"{left}, {right}"


def _inequality_text(lo, hi, lo_closed, hi_closed, render, var="x"):
    le = lambda closed: rng_choice_le(closed)
    if lo is None:
        return f"{var} {le(hi_closed)} {render(hi)}"
    if hi is None:
        return f"{var} {ge_sym(lo_closed)} {render(lo)}"
    return f"{render(lo)} {le(lo_closed)} {var} {le(hi_closed)} {render(hi)}"


_LE = {True: ["\\le", "\\leq", "<="], False: ["<", "\\lt"]}
_GE = {True: ["\\ge", "\\geq", ">="], False: [">", "\\gt"]}
_SYM_RNG = random.Random(0)


def rng_choice_le(closed):
    return _SYM_RNG.choice(_LE[closed])


def ge_sym(closed):
    return _SYM_RNG.choice(_GE[closed])


def _random_interval(rng):
    a, b = sorted(_items(rng, 2))
    kind = rng.choice(["finite", "finite", "left_inf", "right_inf"])
    lo, hi = (None if kind == "left_inf" else a), (None if kind == "right_inf" else b)
    return lo, hi, rng.random() < 0.5, rng.random() < 0.5


def _perturb_interval(iv, rng):
    lo, hi, lc, hc = iv
    if lo is not None and rng.random() < 0.5:
        return (lo, hi, not lc, hc) if rng.random() < 0.5 else (lo - 1, hi, lc, hc)
    if hi is not None:
        return (lo, hi, lc, not hc) if rng.random() < 0.5 else (lo, hi + 1, lc, hc)
    return lo, hi, not lc, hc


def gen_interval(rng, equal):
    iv = _random_interval(rng)
    shown = iv if equal else _perturb_interval(iv, rng)
    gold = _interval_text(*iv, _gold_number)
    return gold, _interval_text(*shown, lambda v: render_number(v, rng)), "math"


def gen_inequality(rng, equal):
    """Gold as an inequality (or interval), response as the other: intervals vs inequalities."""
    iv = _random_interval(rng)
    shown = iv if equal else _perturb_interval(iv, rng)
    if rng.random() < 0.5:
        gold = _inequality_text(*iv, _gold_number)
        text = rng.choice([_interval_text(*shown, lambda v: render_number(v, rng)),
                           _inequality_text(*shown, lambda v: render_number(v, rng)),
                           "x \\in " + _interval_text(*shown, lambda v: render_number(v, rng))])
    else:
        gold = rng.choice(["", "x \\in "]) + _interval_text(*iv, _gold_number)
        text = _inequality_text(*shown, lambda v: render_number(v, rng))
    return gold, text, "math"


def gen_matrix(rng, equal):
    rows, cols = rng.choice([(2, 2), (2, 1), (1, 2), (3, 3), (2, 3)])
    vals = [[rand_fraction(rng, small=True) for _ in range(cols)] for _ in range(rows)]
    shown = [list(r) for r in vals]
    if not equal:
        i, j = rng.randrange(rows), rng.randrange(cols)
        shown[i][j] = perturb_number(shown[i][j], rng)

    def mat(m, env, render):
        body = " \\\\ ".join(" & ".join(render(v) for v in row) for row in m)
        return f"\\begin{{{env}}} {body} \\end{{{env}}}"
    gold = mat(vals, "pmatrix", _gold_number)
    return gold, mat(shown, rng.choice(["pmatrix", "bmatrix"]), lambda v: render_number(v, rng)), "math"


def _expression_pair(rng):
    """(gold, equal rendering, unequal rendering) of one symbolic answer."""
    a, b = rng.randint(2, 9), rng.choice([2, 3, 5, 6, 7, 10, 11])
    c = rng.randint(1, 9)
    k = rng.randrange(8)
    if k == 0:
        return f"{a}\\sqrt{{{b}}}", f"\\sqrt{{{a * a * b}}}", f"{a + 1}\\sqrt{{{b}}}"
    if k == 1:
        return f"\\frac{{{a}\\pi}}{{{b}}}", f"\\frac{{{a}}}{{{b}}}\\pi", f"\\frac{{{a + 1}\\pi}}{{{b}}}"
    if k == 2:
        return (f"x^2 + {a + c}x + {a * c}", f"(x+{a})(x+{c})", f"(x+{a})(x-{c})")
    if k == 3:
        return (f"\\frac{{\\sqrt{{{b}}}}}{{{a}}}", f"\\frac{{1}}{{{a}}}\\sqrt{{{b}}}",
                f"\\frac{{\\sqrt{{{b}}}}}{{{a + 1}}}")
    if k == 4:
        return f"{a} + {c}i", f"{c}i + {a}", f"{a} - {c}i"
    if k == 5:
        return f"{a}\\pi", f"{a} \\pi", f"{a + 1}\\pi"
    if k == 6:
        return f"{a}x^{{{c}}}", f"{a} x^{c}", f"{a}x^{{{c + 1}}}"
    return (f"\\frac{{{a}}}{{\\sqrt{{{b}}}}}", f"\\frac{{{a}\\sqrt{{{b}}}}}{{{b}}}",
            f"\\frac{{{a}\\sqrt{{{b}}}}}{{{b + 1}}}")


def gen_expression(rng, equal):
    gold, same, other = _expression_pair(rng)
    return gold, same if equal else other, "math"


def gen_equation(rng, equal):
    """Golds given as equations: compare by the right-hand side (or both sides when both are equations)."""
    a, b = rng.randint(1, 9), rng.randint(-9, 9)
    k = rng.randrange(4)
    if k == 0:
        gold = f"y = {a}x + {b}" if b >= 0 else f"y = {a}x - {-b}"
        rhs_same = rng.choice([f"{a}x + {b}", f"{b} + {a}x"]).replace("+ -", "- ")
        rhs_other = f"{a + 1}x + {b}".replace("+ -", "- ")
        text = rhs_same if equal else rhs_other
        return gold, rng.choice([text, "y = " + text, "y=" + text]), "math"
    if k == 1:
        p, q = _items(rng, 2)
        gold = f"(p,q)=({_gold_number(p)},{_gold_number(q)})"
        shown = (p, q) if equal else (q, p)
        text = f"({render_number(shown[0], rng)}, {render_number(shown[1], rng)})"
        return gold, rng.choice([text, "(p, q) = " + text]), "math"
    if k == 2:
        gold = f"f(y) = {a}y" if a != 1 else "f(y) = y"
        text = (f"{a}y" if a != 1 else "y") if equal else f"{a + 1}y"
        return gold, rng.choice([text, "f(y) = " + text, "f(y)=" + text]), "math"
    x = rand_fraction(rng)
    shown = x if equal else perturb_number(x, rng)
    return f"x = {_gold_number(x)}", rng.choice(["x = ", "x=", ""]) + render_number(shown, rng), "math"


def gen_multi_boxed(rng, equal):
    """Several answers, each in its own \\boxed{} (handled by the 'multi' wrapper)."""
    vals = _items(rng, rng.choice([2, 3]))
    shown = rng.sample(vals, len(vals)) if equal else _perturb_one(vals, rng)
    gold = ", ".join(_gold_number(v) for v in vals)
    return gold, [render_number(v, rng) for v in shown], "multi"


def _eval_answers():
    answers = []
    for path in sorted(EVAL_DIR.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                ans = json.loads(line).get("answer")
                if isinstance(ans, str) and ans.strip():
                    answers.append((path.stem, ans.strip()))
    return answers


# ------------------------------------------------------------------------------------------------ wrappers
_PREFIX = [
    "Let $a = 7$ and note that $2 + 3 = 5$. ",
    "We first compute $\\frac{2}{7}$ of 21, which is 6, then continue.\n\n",
    "Step 1: 12 apples minus 4 apples leaves 8 apples. Step 2: multiply by 3.\n",
    "Using $x^2 - 4 = 0$ we find two candidates, $x = 2$ and $x = -2$, and check both.\n",
    "",
    "Consider the interval $(0, 1)$ and the point $(3, 4)$ first.\n",
]
_SUFFIX = ["", "", " I hope this helps!", "\n", " That completes the solution."]


def wrap(answer: str, form: str, rng: random.Random) -> str:
    """Put the answer into a response in the given presentation, with distracting text before it."""
    pre, post = rng.choice(_PREFIX), rng.choice(_SUFFIX)
    dot = rng.choice(["", ".", ""])
    body = {
        "boxed": f"Therefore the answer is $\\boxed{{{answer}}}$.",
        "inline": f"Putting it together, the result is ${answer}{dot}$",
        "paren": f"So we obtain \\({answer}\\){dot or '.'}",
        "display": f"Hence\n\\[\n{answer}{dot}\n\\]",
        "display_dollar": f"Hence $$ {answer} $${dot}",
        "answer_is": rng.choice([f"The answer is ${answer}${dot}", f"The final answer is ${answer}.$",
                                 f"Final answer: ${answer}$"]),
        "text": rng.choice([f"So the answer is {answer}.", f"The total comes to {answer}.", f"#### {answer}",
                            f"Answer: {answer}"]),
    }[form]
    return pre + body + post


def wrap_multi(answers: list[str], rng: random.Random) -> str:
    joiner = rng.choice([", ", " and ", "; "])
    return rng.choice(_PREFIX) + "The solutions are " + joiner.join(f"$\\boxed{{{a}}}$" for a in answers) + "."


GENERATORS = {
    "integer": gen_integer, "thousands": gen_thousands, "fraction": gen_fraction, "decimal": gen_decimal,
    "mixed_number": gen_mixed_number, "percent": gen_percent, "tuple": gen_tuple, "set": gen_set,
    "interval": gen_interval, "inequality": gen_inequality, "matrix": gen_matrix, "expression": gen_expression,
    "equation": gen_equation, "multi_boxed": gen_multi_boxed,
}
LATEX_FORMS = ["boxed", "inline", "paren", "display", "display_dollar", "answer_is"]


def _plain(text: str) -> bool:
    """Can this answer be written outside math mode (no LaTeX commands, braces or carets)?"""
    return not any(ch in text for ch in "\\{}^&")


def _gold_wrapper(gold: str, rng) -> str:
    return rng.choice([gold, gold, gold, f"${gold}$"])


_PHRASINGS = [
    "**Final Answer**\n\\[\n\\boxed{{{a}}}\n\\]",
    "The answer is: ${a}$",
    "**Answer:** ${a}$",
    "Therefore, $x = {a}$.",
    "The answer is **{plain}**.",
    "Final answer: {plain}",
    "We find that the value is\n$${a}$$\nwhich is the answer.",
    "${a}$ is the answer.",
    "{a}",
    "x = {a}",
    "She ends up with \\${plain} in total.",
    "The answer is ${a}$ (we double-checked by substituting back).",
]


def _latex_form(rng) -> tuple[str, str, str]:
    """(gold, the same value written another way, a different value) in LaTeX constructs a solution may use."""
    a, b, c = rng.randint(2, 9), rng.randint(2, 9), rng.randint(1, 5)
    k = rng.randrange(16)
    forms = [
        (f"{a * b}", f"{a} \\times {b}", f"{a} \\times {b + 1}"),
        (f"{a * b}", f"{a} \\cdot {b}", f"{a}\\cdot{b + 1}"),
        (f"{a}", f"{a * b} \\div {b}", f"{a * b + 1} \\div {b}"),
        (f"{a}", f"\\sqrt{{{a * a}}}", f"\\sqrt{{{a * a + 1}}}"),
        (f"{a}", f"\\sqrt[3]{{{a ** 3}}}", f"\\sqrt[3]{{{a ** 3 + 1}}}"),
        (f"{c}", f"\\log_2 {2 ** c}", f"\\log_2 {2 ** (c + 1)}"),
        (f"{2 ** (a + 3)}", f"2^{{{a + 3}}}", f"2^{{{a + 4}}}"),
        (f"{a}\\times 10^{{{c}}}", f"{a * 10 ** c}", f"{a * 10 ** c + 1}"),
        (f"{a} \\pm \\sqrt{{{b}}}", f"{a} + \\sqrt{{{b}}}, {a} - \\sqrt{{{b}}}", f"{a} + \\sqrt{{{b}}}"),
        (f"\\frac{{\\sqrt{{{b * 2}}}}}{{2}}", f"\\sqrt{{\\frac{{{b}}}{{2}}}}", f"\\sqrt{{\\frac{{{b + 1}}}{{2}}}}"),
        (f"{a}^\\circ", f"{a}", f"{a + 1}^\\circ"),
        (f"(-\\infty, {a}) \\cup ({a + b}, \\infty)", f"({a + b}, \\infty) \\cup (-\\infty, {a})",
         f"(-\\infty, {a}] \\cup ({a + b}, \\infty)"),
        (f"\\frac{{x+{a}}}{{x-{b}}}", f"(x+{a})/(x-{b})", f"(x+{b})/(x-{a})" if a != b else f"(x+{a})/(x+{b})"),
        (f"x^2-{a * a}", f"(x-{a})(x+{a})", f"(x-{a})^2"),
        (f"\\text{{{rng.choice(['Monday', 'Evelyn', 'even'])}}}", None, None),
        (f"{a}-{c}i", f"-{c}i+{a}", f"{a}+{c}i"),
    ]
    gold, same, other = forms[k]
    if same is None:
        word = gold[6:-1]
        return gold, word, rng.choice([w for w in ["Monday", "Evelyn", "even", "odd", "Tuesday"] if w != word])
    return gold, same, other


def _latex_form_pairs(n: int, seed: int) -> list[Pair]:
    """LaTeX constructs (operators, roots, logs, powers, \\pm, unions, degrees, text answers), own random stream."""
    rng = random.Random(seed + 2_000_003)
    out = []
    for _ in range(n):
        gold, same, other = _latex_form(rng)
        equal = rng.random() < 0.5
        form = rng.choice(LATEX_FORMS)
        response = wrap(same if equal else other, form, rng)
        out.append(Pair("latex_forms", form, response, _gold_wrapper(gold, rng), equal))
    return out


def _unboxed_solution(solution: str) -> str:
    """A reference solution with its final answer taken out of \\boxed{} (and out of '#### n' plus the <<a=b>>
    calculator notes for GSM8K): real prose where the answer is not marked."""
    from rlvr_verify.boxes import box_spans
    for a, b, start, end in reversed(box_spans(solution)):
        solution = solution[:start] + solution[a:b].strip() + solution[end:]
    solution = re.sub(r"<<[^>]*>>", "", solution)
    return re.sub(r"\n?####.*$", "", solution).rstrip()


def _solution_pairs(n: int, seed: int) -> list[Pair]:
    """Reference solutions of the eval sets without their answer markers; the gold is the problem's own answer
    (equal) or another problem's (unequal). Own random stream."""
    rng = random.Random(seed + 3_000_003)
    rows = []
    for path in sorted(EVAL_DIR.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            row = json.loads(line) if line.strip() else {}
            if isinstance(row.get("solution"), str) and isinstance(row.get("answer"), str) and row["answer"].strip():
                rows.append((path.stem, row["solution"], row["answer"].strip()))
    out = []
    for _ in range(n if rows else 0):
        source, solution, gold = rng.choice(rows)
        equal = rng.random() < 0.5
        if not equal:
            other = gold
            while _same_text(other, gold):
                other = rng.choice([a for s, _, a in rows if s == source])
            gold = other
        out.append(Pair(f"solution_{source}", "unboxed", _unboxed_solution(solution), gold, equal))
    return out


def _phrasing_pairs(n: int, seed: int) -> list[Pair]:
    """Phrasings of real completions, drawn from their own random stream so that adding them leaves the rest of
    the corpus (and math-verify's cached verdicts for it) unchanged."""
    rng = random.Random(seed + 1_000_003)
    out = []
    for i in range(n):
        template = _PHRASINGS[i % len(_PHRASINGS)]
        x = Fraction(rng.randint(-50, 500)) if ("plain" in template or rng.random() < 0.4) else rand_fraction(rng)
        if "\\$" in template:
            x = abs(x)
        equal = rng.random() < 0.5
        shown = x if equal else perturb_number(x, rng)
        if "\\$" in template and shown < 0:
            shown = x + 1
        plain = render_number(shown, rng, latex=False)
        body = template.format(a=render_number(shown, rng), plain=plain)
        pre = "" if template in ("{a}", "x = {a}") else rng.choice(_PREFIX)
        out.append(Pair("phrasing", "phrasing", pre + body, _gold_wrapper(_gold_number(x), rng), equal))
    return out


def generate(n: int = 20_000, seed: int = 0, eval_share: float = 0.15, phrasing_share: float = 0.05) -> list[Pair]:
    """n pairs (plus phrasing_share * n phrasings of real completions), half equal and half not, over every
    class and presentation; deterministic for a seed."""
    rng = random.Random(seed)
    _SYM_RNG.seed(seed)
    pairs = []
    n_eval = int(n * eval_share)
    names = sorted(GENERATORS)
    for i in range(n - n_eval):
        cls = names[i % len(names)]
        equal = rng.random() < 0.5
        gold, shown, kind = GENERATORS[cls](rng, equal)
        if kind == "multi":
            pairs.append(Pair(cls, "multi_boxed", wrap_multi(shown, rng), _gold_wrapper(gold, rng), equal))
            continue
        forms = LATEX_FORMS + (["text", "text"] if kind == "number" and _plain(shown) else [])
        form = rng.choice(forms)
        pairs.append(Pair(cls, form, wrap(shown, form, rng), _gold_wrapper(gold, rng), equal))
    pairs.extend(_eval_pairs(n_eval, rng))
    pairs.extend(_phrasing_pairs(int(n * phrasing_share), seed))
    pairs.extend(_latex_form_pairs(int(n * phrasing_share), seed))
    pairs.extend(_solution_pairs(int(n * phrasing_share * 0.6), seed))
    return pairs


def _eval_pairs(n: int, rng) -> list[Pair]:
    """The project's eval answers: shown as-is (equal) or swapped for another answer of the same set (unequal)."""
    answers = _eval_answers()
    if not answers:
        return []
    out = []
    for _ in range(n):
        source, gold = rng.choice(answers)
        equal = rng.random() < 0.5
        shown = gold
        if not equal:
            while _same_text(shown, gold):
                shown = rng.choice([a for s, a in answers if s == source] or [gold + "1"])
        forms = LATEX_FORMS + (["text"] if _plain(shown) and " " not in shown else [])
        form = rng.choice(forms)
        out.append(Pair(f"eval_{source}", form, wrap(shown, form, rng), gold, equal))
    return out


def _same_text(a: str, b: str) -> bool:
    squash = lambda s: "".join(s.split()).replace("\\dfrac", "\\frac").replace("\\left", "").replace("\\right", "")
    return squash(a) == squash(b)


def write_jsonl(pairs, path) -> None:
    Path(path).write_text("".join(p.to_json() + "\n" for p in pairs))
