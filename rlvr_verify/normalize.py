"""Normalisation: the presentation two ways of writing one answer differ in is stripped, so that they become one
text: math delimiters and boxes, \\text{} units, spacing, degrees, labels ('x =', 'AB = 4, CD = 5', '2 = x'), number
formats (thousands separators, decimal commas, mixed numbers, repeating decimals, e-notation), Unicode math and
punctuation, percents. Pure string functions; nothing here parses or evaluates."""
import functools
import re

from rlvr_verify.boxes import unwrap_math
from rlvr_verify.parse import CONSTANTS, FUNCS, GREEK


_COMPILED: dict = {}


def _sub(pattern, repl, s, count=0, flags=0):
    """re.sub with the compiled pattern kept in a dict (the normaliser makes ~60 substitutions per answer: re's own
    cache lookup was a tenth of the verifier's time)."""
    rx = _COMPILED.get((pattern, flags))
    if rx is None:
        rx = _COMPILED[(pattern, flags)] = re.compile(pattern, flags)
    return rx.sub(repl, s, count)


_DROP = [r"\\\$", r"\\left", r"\\right", r"\\displaystyle", r"\\,", r"\\;", r"\\:", r"(?<!\\)\\ ", r"\$", r"\\quad",
          r"\^\s*\{\s*\}", r"\\dfrac", r"\\tfrac", r"[€£¥₹]", r"\\[bB]igg?[lrm]?(?![a-zA-Z])"]  # \bigl( is (
_RELATIONS = [(r"\\(?:leq?|leqq|leqslant)(?![a-zA-Z])|≤", "<="), (r"\\(?:geq?|geqq|geqslant)(?![a-zA-Z])|≥", ">="),
              (r"\\lt(?![a-zA-Z])", "<"), (r"\\gt(?![a-zA-Z])", ">"), (r"=<", "<="), (r"=>", ">=")]
# A name on the left of '=' that only labels the answer: x =, x_1 =, f(y) =, (p, q) =, x \in.
_LABEL = re.compile(r"^\s*(?:[a-zA-Z](?:_\{?\\?\w+\}?)?(?:\s*\(\s*[a-zA-Z](?:\s*,\s*[a-zA-Z])*\s*\))?"
                    r"|\(\s*[a-zA-Z](?:\s*,\s*[a-zA-Z])*\s*\))\s*(?:=(?![=<>])|\\in(?![a-zA-Z]))\s*")
# A name that labels a value in a list of values: AB = 4, x_1 = 2, m_{\\max} = 5, \\angle A = 30, f(2) = 5, S_1:S_2 = 7:32.
_NAME = r"(?:\\angle\s*)?[A-Za-z]+(?:_\{?\\?\w+\}?)?(?:\(\s*\w+\s*\))?"
ITEM_LABEL = re.compile(r"^\s*" + _NAME + r"(?:\s*:\s*" + _NAME + r")*\s*=(?![=<>])\s*(\S.*)$", re.S)
_REVERSED_LABEL = re.compile(r"\s*([^=<>]*[\d}])\s*=\s*[a-zA-Z](?:_\{?\w+\}?)?\s*")


def _strip_labels(s: str) -> str:
    """'x = 5' -> '5'; 'AB=4, CD=5' -> '4, 5' (every item labelled); 'S_1:S_2=7:32' -> '7:32'. A lone multi-letter
    name is a label only in upper case (AB = 4), not a product (ab = 4 stays an equation)."""
    point = re.fullmatch(r"\s*[A-Z]'?(?:_\{?\w+\}?)?\s*(\([^()=]*,[^()=]*\))\s*", s)  # the point A(3, -4): (3, -4)
    if point:
        return point.group(1)
    braced = re.fullmatch(r"\s*\\\{(.*=.*)\\\}\s*", s, re.S)  # '\\{x=1, y=2\\}': a solution written as a set
    if braced:
        inner = _strip_labels(braced.group(1))
        if inner != braced.group(1) and "=" not in inner:
            return inner
    items = [part for item in top_level_split(s) for part in JOIN.split(item)[0::2]]
    if len(items) > 1:
        found = [ITEM_LABEL.match(item) for item in items]
        if all(found) and not any("=" in m.group(1) for m in found):
            names = [item[:item.index("=")].strip() for item in items]
            if len(set(names)) == len(names) and all(re.fullmatch(r"[a-z](?:_\{?\d+\}?)?", n) for n in names):
                found = [m for _, m in sorted(zip(names, found), key=lambda nm: nm[0])]  # 'y = 2, x = -1' is (-1, 2)
            return ", ".join(m.group(1).strip() for m in found)
    stripped = _LABEL.sub("", s, count=1)
    if stripped != s:
        return stripped
    reversed_label = _REVERSED_LABEL.fullmatch(s)  # '2 = x': the value written first
    if reversed_label and not re.search(r"[a-zA-Z]", _sub(r"\\[a-zA-Z]+", "", reversed_label.group(1))):
        return reversed_label.group(1)
    m = ITEM_LABEL.match(s)
    if m and "=" not in m.group(1):
        name = s[:s.index("=")].strip()
        if re.fullmatch(r"(?:\\angle\s*)?[A-Z]{1,4}(?:_\{?\w+\}?)?", name) or ":" in name:
            return m.group(1)
    return s


def _mixed_latex(m) -> str:
    whole, num, den = m.groups()
    return f"({whole}+{num}/{den})" if int(num) < int(den) else m.group(0)


def _repeating(m) -> str:
    """0.\\overline{3} -> (1/3); 1.2\\overline{45} -> its fraction."""
    whole, fixed, rep = m.group(1) or "0", m.group(2) or "", m.group(3)
    den = 10 ** len(fixed) * (10 ** len(rep) - 1)
    num = (int(whole + fixed + rep) - int(whole + fixed or "0"))
    return f"({num}/{den})"


def _trailing_dots(m) -> str:
    """'0.333...' -> 0.\\overline{3}: the shortest block that the digits repeat at least twice at their end (three
    times for a one-digit block); digits that repeat nothing stay as written."""
    whole, digits = m.group(1), m.group(2)
    for period in range(1, len(digits) // 2 + 1):
        block = digits[-period:]
        times = 3 if period == 1 else 2
        if len(digits) >= times * period and digits.endswith(block * times):
            head = digits[:-period]
            while head.endswith(block):
                head = head[:-period]
            return f"{whole}.{head}\\overline{{{block}}}"
    return m.group(0)


def _number_formats(s: str) -> str:
    """Thousands separators (1{,}000, 1\\,000, 1 000), LaTeX decimal commas (3{,}5) and mixed numbers
    (4\\frac{4}{9}, 4 4/9 -> (4+4/9)) become plain arithmetic the parser reads."""
    if "\\dot" in s:
        s = _sub(r"\.(\d*?)\\dot\s*\{?(\d)\}?(\d*?)\\dot\s*\{?(\d)\}?", r".\1\\overline{\2\3\4}", s)  # 0.\dot{1}4285\dot{7}
        s = _sub(r"\.(\d*?)\\dot\s*\{?(\d)\}?", r".\1\\overline{\2}", s)  # 0.\dot{3}
    if "..." in s or "dots" in s or "…" in s:
        s = _sub(r"(?<![\d.])(\d+)\.(\d+)\s*(?:\\ldots|\\cdots|\.\.\.|…)", _trailing_dots, s)  # 0.333..., 0.142857142857...
    if "\\overline" in s:
        s = _sub(r"(?<![\d.])(\d{0,30})\.(\d{0,30})\\overline\s*\{(\d{1,12})\}", _repeating, s)
    if "{,}" in s:
        s = _sub(r"(?<=\d)\{,\}(?=\d{3}(?!\d))", "", s)
        s = _sub(r"(?<=\d)\{,\}(?=\d)", ".", s)
    if "\\" in s or "~" in s:
        s = _sub(r"(?<=\d)(?:\\,|\\ |~|\\;|\\:|\\!)(?=\d{3}(?!\d))", "", s)
        s = _sub(r"(?<=\d),\s*\\!\s*(?=\d{3}(?!\d))", "", s)  # 11,\!111 and 11,\! 111
        s = _sub(r"(?<![\w.^_}{\\])(\d+)(?:\s|\\ )*\\frac\{(\d+)\}\{(\d+)\}", _mixed_latex, s)
    if "/" in s:
        s = _sub(r"(?<![\w./^_])(\d+)(?: |\\ )+(\d+)/(\d+)(?![\d.])", _mixed_latex, s)  # 5 3/8, 5\ 3/8
    if " " in s:
        s = _sub(r"(?<![\d.,])\d{1,3}(?: \d{3})+(?![\d/.])", lambda m: m.group(0).replace(" ", ""), s)
    return s


def whole_thousands(s: str) -> str:
    """'1,234,567' as the whole answer is one number, not a list (a list would have spaces or other lengths)."""
    return _sub(r"^\s*-?\d{1,3}(,\d{3})+(\.\d+)?\s*$", lambda m: m.group(0).replace(",", ""), s) if "," in s else s


def normalize(s: str, percent: str = "strip", labels: bool = True) -> str:
    """_normalize, remembered for short answers (a pure function; a group's samples share one gold)."""
    return _normalize_cached(s, percent, labels) if len(s) <= 2000 else _normalize(s, percent, labels)


@functools.lru_cache(maxsize=2048)
def _normalize_cached(s: str, percent: str, labels: bool) -> str:
    return _normalize(s, percent, labels)


_NEGATED = {"<=": ">", ">=": "<", "<": ">=", ">": "<=", "≠": "=", "=": "≠"}
_ONE_RELATION = re.compile(r"([^<>=≠]+)(<=|>=|<|>|≠|=)([^<>=≠]+)")


def _negated_conjunction(s: str) -> str:
    """'not (x<=2 and -2<=x)' (a logic-style answer) as what it says: 'x>2 or -2>x'; each part one relation."""
    m = re.fullmatch(r"\s*(?:not|\\neg|¬)\s*\((.*)\)\s*", s)
    if not m:
        return s
    parts = re.split(r"\s+(and|or)\s+", m.group(1))
    relations, joins = parts[0::2], parts[1::2]
    if len(set(joins)) != 1 or not all(_ONE_RELATION.fullmatch(r) for r in relations):
        return s
    negated = [_ONE_RELATION.sub(lambda r: r.group(1) + _NEGATED[r.group(2)] + r.group(3), r) for r in relations]
    return (" or " if joins[0] == "and" else " and ").join(negated)


_SYMPY_SUM = re.compile(r"(?<![\w\\])(?:summation|Sum|sum)\(")


def _sympy_sums(s: str) -> str:
    """A sum in SymPy's syntax, 'summation(2*k - 1, (k, 1, n))' (or sum(...)), as the LaTeX sum it is:
    '\\sum_{k=1}^{n}(2*k - 1)'. Anything else of that shape stays as written."""
    out, pos = [], 0
    for m in _SYMPY_SUM.finditer(s):
        if m.start() < pos:
            continue
        depth, end = 1, None
        for i in range(m.end(), min(len(s), m.end() + 2000)):
            depth += (s[i] == "(") - (s[i] == ")")
            if depth == 0:
                end = i
                break
        parts = top_level_split(s[m.end():end]) if end is not None else []
        limits = re.fullmatch(r"\s*\(\s*([a-zA-Z])\s*,([^,()]+),([^,()]+)\)\s*", parts[1]) if len(parts) == 2 else None
        if not limits:
            continue
        var, low, high = (x.strip() for x in limits.groups())
        out += [s[pos:m.start()], f"\\sum_{{{var}={low}}}^{{{high}}}({parts[0].strip()})"]
        pos = end + 1
    return "".join(out) + s[pos:] if out else s


def _normalize(s: str, percent: str = "strip", labels: bool = True) -> str:
    """Strip presentation: $...$ and \\boxed wrappers, \\text{} units, spacing, degrees, trailing punctuation,
    'x =' / 'f(y) =' / '(p,q) =' labels; spell relations one way; read number formats. (Most steps are skipped
    when the text lacks the character they act on: a plain number, the commonest answer, returns at once.)"""
    if _PLAIN_NUMBER.fullmatch(s):
        return s.strip()
    s = unwrap_math(s)
    if "sum" in s or "Sum" in s:
        s = _sympy_sums(s)
    if "==" in s:
        s = _sub(r"(?<![<>=!])==(?!=)", "=", s)  # Python's and SymPy's equality sign: 'x**2 + x + 1 == 0'
    if "\\begin" not in s:
        if "\\" in s:  # (each block that only rewrites commands is skipped for text with no backslash: speed)
            s = _sub(r"\\\\(?=[a-zA-Z])", r"\\", s)  # '\\\\dfrac' typed for '\\dfrac' (not a matrix row break)
        s = s.replace("&", "")  # align's '&=' outside a matrix
    if "\\" in s:
        s = _sub(r"(?<=\d)\\+\s*$", "", s)  # '185\\': a stray trailing backslash
        s = _sub(r"(?<!\\)\\(?=\d)", "", s)  # '\\15': a backslash before a digit is no command ('\\$15' lost its $)
        s = _sub(r"\\[lr]?vert(?![a-zA-Z])", "|", s)
    if "10" in s and ("x" in s or "X" in s):  # '4.2x10^1', '1 x 10**4': the letter x typed for the times sign
        s = _sub(r"(?<![\w.])(\d+(?:\.\d+)?)\s*[xX]\s*10\s*(?=\^|\*\*)", r"\1\\times 10", s)
    if not s.isascii():
        s = _sub(r"^\s*[△▲]\s*(?=\d)", "-", s)  # △10.5%: the minus sign of Japanese accounts
        s = s.replace("⌊", "\\lfloor ").replace("⌋", "\\rfloor ").replace("⌈", "\\lceil ").replace("⌉", "\\rceil ")
        s = _SUPERSCRIPTS.sub(lambda m: "^{" + m.group(0).translate(_SUPERSCRIPT_DIGITS) + "}", s)  # 'x⁴', '10⁻³'
        s = s.replace("根号", "√")  # '根号2': 'square root' in Chinese
        s = _SUBSCRIPTS.sub(lambda m: "_{" + m.group(0).translate(_SUBSCRIPT_DIGITS) + "}", s)  # 'v₀', 'x₁₂'
        s = s.replace("\u20d7", "")  # 'F⃗': a combining arrow marks a vector; the letter is the name
        s = _unicode_math(s)
    qualifier = _FOR_ALL.search(s)
    if qualifier and "=" in s[:qualifier.start()]:  # 'f(x) = x \\text{ for all } x': the equation is the answer
        s = s[:qualifier.start()]
    if "\\" in s or "~" in s:
        s = _sub(r"\\(?:displaystyle|textstyle|scriptstyle)(?![a-zA-Z])", " ", s)  # sizes, not values: before units
        s = _LAYOUT.sub(" ", s)  # \hspace{1mm}, \phantom{-}, \color{red}, \large: how it looks, not what it is
    if "\\" in s:
        s = _sub(r"\\(?:nicefrac|sfrac)(?![a-zA-Z])", r"\\frac", s)
        s = _sub(r"\{([^{}]*)\\(choose|over)(?![a-zA-Z])([^{}]*)\}", lambda m: (
            "\\binom{%s}{%s}" if m.group(2) == "choose" else "\\frac{%s}{%s}") % (m.group(1), m.group(3)), s)
        s = _sub(r"\^\s*\{?\s*\\prime\s*\}?", "'", s)  # f^{\prime}(x) is f'(x)
        s = _sub(r"\\(?:mathrm|operatorname|text)\s*\{\s*[Cc]hoose\s*\}\s*\(\s*([^(),]+?)\s*,\s*([^(),]+?)\s*\)",
                 r"\\binom{\1}{\2}", s)  # \mathrm{Choose}(35, 7), as a CAS prints the binomial
        s = _sub(r"\\\\\s*\[\s*-?\d*\.?\d+\s*(?:pt|em|ex|mm|cm)\s*\]", r"\\\\", s)  # '\\[8pt]': a row break's spacing
        s = _ONE_ROW_ENVIRONMENT.sub(lambda m: m.group(2).replace("&", " "), s)  # \begin{aligned} x &= 2 \end{aligned}
    if not s.isascii():
        s = _sub(r"(?<=\d)\s*(?:个|只|人|元|米|天|岁|次|种|条|本|张|件|辆|块|名|位|棵|头)(?![\u4e00-\u9fff])", "", s)  # 5个
    if "\\" in s:
        s = _sub(r"\\(?:boldsymbol|bm|pmb)(?![a-zA-Z])|\\mathbf(?=\s*\{[^{}]*\\)", " ", s)  # bold \frac: the value
    if "oo" in s:  # sympy prints infinity as oo: '(-oo, 2)'
        s = _sub(r"(?<![A-Za-z\\])oo(?![A-Za-z])", r"\\infty ", s)
    lower = s.lower()
    if "all real" in lower:
        s = _sub(r"^\s*(?:\\text\s*\{\s*)?all real numbers\s*\}?\s*$", r"(-\\infty, \\infty)", s, flags=re.I)
    if "infinitely" in lower:
        s = _sub(r"^\s*(?:\\text\s*\{\s*)?infinitely many(?: [a-z]+)?\s*\}?\s*$", r"\\infty", s, flags=re.I)
    s = _SCALED.sub(_scaled, s)  # '3 \\text{ million}', '1.5 million', '3 dozen': multipliers, not units
    if "Rs" in s:
        s = _sub(r"(?:\\text\s*\{\s*)?(?<![A-Za-z])Rs\.?\s*\}?\s*(?=[\d.])", "", s)  # Rs. 450, \text{Rs } 1200
    if "(" in s:
        s = _sub(r"(?<=\d)\s+\([a-zA-Z]{2,}[a-zA-Z .]{0,20}\)", "", s)  # ASDiv's '5 (apples)', '3:5 (ratio)'
    if "circ" in s or "°" in s:
        s = _TEMPERATURE.sub(" ", s)  # 25^\circ C, -5 °C: the scale after the degree sign is a unit, not a variable C
    if "\\" in s:
        s = _sub(r"\\(mathrm|text)\s*\{([^{}]*)\}\s*/\s*\\(?:mathrm|text)\s*\{([^{}]*)\}", r"\\\1{\2/\3}", s)  # km/h
        s = _TEXT_UNIT.sub(lambda m: m.group(0) if _OPERAND_AFTER.search(s, 0, m.start()) else "", s)  # '100\\text{ km/h}',
        # '4\\textnormal{ m}', '9.8\\,\\mathrm{m/s}^2': a unit after a value (not the operand of '\\text{ML} \\perp \\text{NK}')
        s = _sub(r"\\(?:text|textbf|textnormal|textit|textrm|mbox|mathrm|mathbf|operatorname)\s*\{([^{}]*)\}",
                   lambda m: " " + m.group(1) + " ", s)
    if "st" in s or "nd" in s or "rd" in s or "th" in s:
        s = _sub(r"(?<=\d)\s*\^\s*\{?\s*(?:st|nd|rd|th)\s*\}?|(?<=\d)(?:st|nd|rd|th)\b", "", s)  # 3^{rd}, 21st
    if ";" in s:
        s = _sub(r"^\s*\(([^(),;]*(?:;[^(),;]*)+)\)\s*$", lambda m: "(" + m.group(1).replace(";", ",") + ")", s)  # (1; 2)
    quoted = re.fullmatch(r"\s*(['\"`‘“])([^'\"`‘’“”]*)['\"’”]\s*", s)  # \text{'yes'}, "odd"
    if quoted:
        s = quoted.group(2)
    if "log" in s:
        s = _sub(r"(?<![\\a-zA-Z])log(10|2)\s*\(", r"\\log_{\1}(", s)  # log10(x), log2(x): NumPy's and calculators' names
    if "C_" in s and "^" in s:  # C_n^3, C_{5}^{2}: the combination count as Chinese textbooks write it
        s = _sub(r"(?<![A-Za-z\\])(?:\\mathrm\{C\}|C)_\{?([a-z0-9]+)\}?\^\{?([a-z0-9]+)\}?(?![\w{])", _combination, s)
    if "Fraction(" in s or "Rational(" in s:  # Python's Fraction(30, 1) and sympy's Rational(3, 4), printed by code
        s = _sub(r"(?<![\w.])(?:Fraction|Rational)\(\s*(-?\d+)\s*,\s*(-?\d+)\s*\)", r"(\1)/(\2)", s)
    if "frac" in s:
        s = _sub(r"\\[cdt]?frac\s*(\d)\s*(\d)", r"\\frac{\1}{\2}", s)  # \frac12 -> \frac{1}{2}
        s = _sub(r"\\[cdt]?frac([a-zA-Z])([a-zA-Z\d])(?![a-zA-Z])", r"\\frac{\1}{\2}", s)  # \fracab -> \frac{a}{b}
        s = _sub(r"\\[cdt]?frac\s*(\d)\s*(?=\{)", r"\\frac{\1}", s)  # \frac1{72}
        s = _sub(r"\\[cdt]?frac\s*(\{[^{}]*\})\s*(\d)", r"\\frac\1{\2}", s)  # \frac{\sqrt3}2
        s = _sub(r"\\[cdt]?frac\s*(\\(?:pi|e|infty|alpha|beta|gamma|theta)(?![a-zA-Z]))\s*(\d|\\[a-zA-Z]+)", r"\\frac{\1}{\2}", s)
        s = _sub(r"\\[cdt]?frac\s*(\d)\s*(\\(?:pi|e|infty|alpha|beta|gamma|theta)(?![a-zA-Z]))", r"\\frac{\1}{\2}", s)  # \frac\pi 2
        s = s.replace("\\cfrac", "\\frac")
    if "\\ne" in s or "≠" in s or "!=" in s or "=/=" in s:
        s = _sub(r"\\neq?(?![a-zA-Z])|≠|(?<=[a-zA-Z)\s])!=|=/=", " ≠ ", s)  # '=/=' as Khan's KAS writes it
    if "\\" in s or "∅" in s:
        s = _sub(r"\\(?:emptyset|varnothing)(?![a-zA-Z])|∅|^\s*\\\{\s*\\\}\s*$", "∅", s)  # the empty set, one way
    if "angle" in s:
        s = _sub(r"\\langle(?![a-zA-Z])", "(", s)
        s = _sub(r"\\rangle(?![a-zA-Z])", ")", s)
    if "\\mathbb" in s or "ℝ" in s:
        s = _sub(r"\\mathbb\s*\{?R\}?|ℝ", r"(-\\infty, \\infty)", s)
    if s.rstrip()[-1:] in (".", ",", ";", ":") and not re.search(r"\d\.\d+\s*\.{3}\s*$", s):  # not '0.333...'
        s = _sub(r"(?:\s|\\[,;: ])*(?<!\\)[.,;:]+\s*$", "", s)  # trailing punctuation: 'is $\frac{1}{3}.$'

    if _TRIG.search(s):  # degrees inside a function are an angle: \sin(90^\circ - x) = \cos x
        s = _sub(r"(\d+(?:\.\d+)?)\s*(?:\^\s*\{?\s*\\circ\s*\}?|°)", r"(\1\\pi/180)", s)
    if "circ" in s:
        s = _sub(r"\^\s*\{?\s*\\circ\s*\}?", " ", s)
    s = s.replace("°", "").replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    if "\\" in s or "=" in s or not s.isascii():
        for pat, rep in _RELATIONS:
            s = _sub(pat, rep, s)
    if "not" in s or "neg" in s or "¬" in s:
        s = _negated_conjunction(s)
    if "mod" in s:
        s = _sub(r"\\pmod\s*(?:\{[^{}]*\}|\d+)|\(\s*\\?mod\s*\{?\d+\}?\s*\)|\\(?:bmod|mod)\s*\{?\d+\}?", " ",
                 s)  # 24 \equiv 3 \pmod 7, (mod 7), \pmod{7}: the residue is the answer
    s = s.replace("\\equiv", "=")
    if "e" in s or "E" in s:
        s = _sub(r"(?<![\w.])(\d+(?:\.\d+)?)(?:[eE]| E(?=[+-]))([+-]?\d{1,3})(?![\w.])", r"(\1\\times 10^{\2})",
                 s)  # 1.2e3; 5.3\text{E-11}, its \text{} unwrapped to '5.3 E-11'
    s = _number_formats(s)
    s = s.replace("\\!", "").replace("{,}", ",")
    if "\\" in s or "$" in s or "^" in s or not s.isascii():
        for pat in _DROP:
            s = _sub(pat, " ", s)
    s = s.replace("^\\circ", "").replace("^{\\circ}", "").replace("°", "")
    if percent == "fraction":
        s = _sub(r"(\([^()]*\)|\\frac\{[^{}]*\}\{[^{}]*\}|\d+(?:\.\d+)?)\s*\\?%", r"(\1/100)", s)  # '(4+1/2)%' too: a mixed percent
    s = s.replace("\\%", "").replace("%", "")
    if "_" in s:
        s = _sub(r"_\{\s*(two|three|four|five|six|seven|eight|nine|ten|twelve|sixteen)\s*\}",
                 lambda m: "_{%d}" % _BASE_WORDS[m.group(1)], s)  # 1011_{\text{two}} (its \text{} unwrapped above)
        s = _sub(r"\(\s*([0-9A-Za-z]+)\s*\)(?=_)", r"\1", s)  # (1011)_2
        s = _sub(r"([0-9A-Z]+)\s+(?=_\{?\d)", r"\1", s)  # \text{A3}_{16} -> A3_{16}
        s = _sub(r"_\{(\d+)\}(?![\d.])", r"_\1", s)  # 4210_{5} -> 4210_5 (bases compare as text); not \log_{10}2
        s = _sub(r"(?<![\d.])(\d+(?: \d+)+)(?=_\d)", lambda m: m.group(1).replace(" ", ""), s)  # 2\ 5\ 1\ 6_8 -> 2516_8
    if "\\{" in s:
        s = _SET_BUILDER.sub(r"\2", s)  # '\\{x \\mid x > 2\\}' is the set 'x > 2' describes
    if labels and ("=" in s or "(" in s or "\\in" in s):  # every label form has one of these
        s = _strip_labels(s)
    s = whole_thousands(s)
    # units / words after a number: "18 dollars", "5 cm", "\frac{270}{7} degrees", "12 cm^2"
    m = re.fullmatch(r"(.*?[\d}.)])(?:\s+([a-zA-Z]{2,}(?:/[a-zA-Z]+)?(?: [a-zA-Z]+)*)|(?<=\d)([a-zA-Z]{3,}|"
                     + _GLUED_UNITS + r")|(?<=\d)\s+([mgshL](?:/[a-zA-Z]{1,3})?))\s*(?:\^\s*\{?\d\}?)?", s.strip())  # km/h; '3 m', '10 m/s'
    # '18 dollars', '10weeks', '12cm' (a unit of 3+ letters, or a known two-letter one, may follow the digits directly;
    # '12ab' stays a product)
    unit = m and (m.group(2) or (m.group(3) or m.group(4) if re.fullmatch(r"[\d.,\s]*", m.group(1)) else None))  # '10weeks'; not
    # the product '3abc' at the end of an expression
    if unit and unit.split()[0] not in FUNCS and unit.split()[0] not in CONSTANTS and unit.split()[0] not in _MATH_TAIL \
            and unit.split()[0] not in GREEK:
        s = m.group(1)  # a unit word, not "2 x" or "3 pi"
    elif not m:
        s = _FOREIGN_UNIT.sub("", s.strip())  # '95 минут', '40厘米', '3 个': a word in a script math is not written in
    return s.strip().rstrip(".,;").strip()


_PLAIN_NUMBER = re.compile(r"\s*-?\d+(?:\.\d+)?\s*")
_FOR_ALL = re.compile(r"\s*,?\s*(?:\\(?:text|textnormal|mbox|textrm)\s*\{\s*(?:for all|for every|for any|for each)\b"
                      r"|\\forall(?![a-zA-Z])|\bfor all\b)", re.IGNORECASE)
# A unit written in a text command after a value, at the end of the answer: '100\\text{ km/h}', '4\\textnormal{ m}',
# '9.8 \\, \\text{m/s}^2', '5\\,\\mathrm{cm}^2'. Not 'i', 'e' or 'j' alone (\\mathrm{i} is the imaginary unit).
_TEXT_UNIT = re.compile(r"(?<=[\w})])(?:\s|~|\\[,;: !])*\\(?:text|textnormal|textrm|mathrm|mbox|rm)\s*"
                        r"\{\s*~?\s*(?![ije]\s*\})[^\W\d_](?:[^\W\d_]|[/.\s]){0,20}(?:\^\s*\{?-?\d\}?)?\s*\}"
                        r"(?:\s*\^\s*\{?-?\d\}?)?\s*(?=$|[,;])")  # at the end, or of each item in a list
# A relation or operator written as a command right before a \\text{}: what follows it is its operand, not a unit.
_OPERAND_AFTER = re.compile(r"\\(?:perp|parallel|cdot|times|div|pm|mp|le|leq|ge|geq|neq|ne|cup|cap|to|rightarrow|"
                            r"Rightarrow|in|notin|subset|subseteq|supset|sim|cong|approx|equiv|mid|setminus)\s*$")
# Set-builder notation: '\\{x \\mid x > 2\\}', '\\{x | x > 2\\}', '\\{x : 1 <= x < 3\\}', '\\{x \\in R \\mid ...\\}'
# -> the relation it is built from (compared as the set that relation describes).
_SET_BUILDER = re.compile(r"^\s*\\\{\s*([a-zA-Z])\s*(?:\\in[^|:{}]{0,40}?)?\s*(?:\\mid|\||:)\s*"
                          r"((?=.*?(?:<|>|≠|\\in))(?!.*\\\}.*\\\}).*?\S)\s*\\\}\s*$")
_SCALED = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*(?:\\text\s*\{\s*)?(hundred|thousand|million|billion|trillion|dozen|lakh|crore)"
                     r"(?![a-zA-Z])\s*\}?", re.IGNORECASE)
_SCALE = {"hundred": "10^{2}", "thousand": "10^{3}", "million": "10^{6}", "billion": "10^{9}", "trillion": "10^{12}",
          "dozen": "12", "lakh": "10^{5}", "crore": "10^{7}"}


def _scaled(m) -> str:
    return f"({m.group(1)} \\times {_SCALE[m.group(2).lower()]})"


_BASE_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
               "twelve": 12, "sixteen": 16}
_LAYOUT = re.compile(r"\\(?:[hv]space\*?|phantom|hphantom|vphantom|color)\s*\{[^{}]*\}|\\textcolor\s*\{[^{}]*\}"
                     r"|\\[hv]?phantom\s*(?:\\[a-zA-Z]+|[^\s{}\\])"  # '\\phantom -1': one token, hidden (aligns a sign)
                     r"|\\(?:tiny|scriptsize|footnotesize|small|normalsize|large|Large|LARGE|huge|Huge)(?![a-zA-Z])|~")
_ONE_ROW_ENVIRONMENT = re.compile(r"\\begin\{(aligned|gathered|split|array|align\*?)\}(?:\{[^{}]*\})?((?:(?!\\\\|\\begin).)*)"
                                  r"\\end\{\1\}", re.S)
_TEMPERATURE = re.compile(r"(?:\^\s*\{?\s*\\circ\s*\}?|°)\s*(?:\\(?:text|mathrm)\s*\{\s*)?[CFK](?![a-zA-Z])\s*\}?")
_TRIG = re.compile(r"\\(?:sin|cos|tan|cot|sec|csc)(?![a-zA-Z])")
_MATH_TAIL = {"sqrt", "infty", "inf", "and", "or"}


def pm_expand(s: str) -> str:
    """a \\pm b -> the two answers a+b, a-b (a list); in a list, each item with one \\pm becomes two ('\\pm 2, 5' is
    2, -2, 5). The sign goes where \\pm stood, inside braces too: \\frac{1 \\pm \\sqrt{5}}{2}."""
    if "\\pm" not in s:
        return s
    braced = re.fullmatch(r"\s*\\\{(.*)\\\}\s*", s, re.S)  # \{\pm 1, \pm 2\}: the set of all four
    if braced:
        return "\\{" + pm_expand(braced.group(1)) + "\\}"
    items = top_level_split(s) if "," in s else [s]
    out = []
    for item in items:
        if item.count("\\pm") == 1:
            left, right = item.split("\\pm")
            out += [f"{left}+{right}", f"{left}-{right}"] if left.strip() else [right, f"-{right}"]
        else:
            out.append(item)
    return ", ".join(x.strip() for x in out)


JOIN = re.compile(r"(\s+(?:and|or)\s+|\s*;\s*|\\lor(?![a-zA-Z])|\\vee(?![a-zA-Z])|\\land(?![a-zA-Z])"
                   r"|\\wedge(?![a-zA-Z]))")


def top_level_split(text: str, sep: str = ",") -> list[str]:
    """Split on `sep` outside (), [], {} (linear)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return parts + [text[start:]]


# A unit or counted noun after a number, in a script that math is not written in (Cyrillic, kana, CJK, Hangul):
# '95 минут', '27 000 долларов', '40厘米', '5 个苹果'. Greek is left alone: '2π' is a number times pi.
_FOREIGN_UNIT = re.compile(r"(?<=[\d}.)])\s*[\u0400-\u04ff\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7a3]+"
                           r"(?:\s+[\u0400-\u04ff\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7a3]+)*\.?$")
_GLUED_UNITS = r"(?:cm|mm|km|kg|mg|ml|mL|ft|yd|hr|lb|oz)(?![a-zA-Z])"
_VULGAR_FRACTIONS = {"½": (1, 2), "⅓": (1, 3), "⅔": (2, 3), "¼": (1, 4), "¾": (3, 4), "⅕": (1, 5), "⅖": (2, 5),
                     "⅗": (3, 5), "⅘": (4, 5), "⅙": (1, 6), "⅚": (5, 6), "⅛": (1, 8), "⅜": (3, 8), "⅝": (5, 8),
                     "⅞": (7, 8)}
_VULGAR = re.compile("[" + "".join(_VULGAR_FRACTIONS) + "]")
_UNICODE_SYMBOLS = {"π": "\\pi ", "∞": "\\infty ", "∪": "\\cup ", "∩": "\\cap ", "×": "\\times ", "÷": "\\div ",
                    "·": "\\cdot ", "∶": ":", "–": "-", "±": "\\pm "}  # the ratio sign; an en dash typed for a minus
_GREEK = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta", "η": "eta", "θ": "theta",
          "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu", "ξ": "xi", "ρ": "rho", "σ": "sigma",
          "τ": "tau", "υ": "upsilon", "φ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega", "Γ": "Gamma", "Δ": "Delta",
          "Θ": "Theta", "Λ": "Lambda", "Σ": "Sigma", "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega"}
_UNICODE_SYMBOLS.update({letter: "\\%s " % name for letter, name in _GREEK.items()})  # 'ω*t + φ' is \\omega t + \\phi
# '√3', '√12.5', '√x', '√(x+1)', '√{x+1}': the radicand is a number, one letter, or a bracketed group without nesting
_UNICODE_ROOT = re.compile(r"[√∛∜]\s*(?:(\d+(?:\.\d+)?|[a-zA-Z])|\(([^()]*)\)|\{([^{}]*)\})")
_UNICODE_MATH = re.compile("[√∛∜π∞∪∩×÷·∶–—―±" + "".join(_VULGAR_FRACTIONS) + "".join(_GREEK) + "]")
_SUPERSCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_SUPERSCRIPTS = re.compile("[⁻⁺]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+")
_SUBSCRIPT_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_SUBSCRIPTS = re.compile("[₀₁₂₃₄₅₆₇₈₉]+")


def _unicode_math(s: str) -> str:
    """Math typed as Unicode, as models write it in prose: '√3', '2√(x+1)', '3π', '2×3', '6÷2', '2·3', '∞', '½'
    (after a whole number, a mixed number: '1½' is 3/2) -> the LaTeX the parser reads."""
    if not _UNICODE_MATH.search(s):
        return s
    s = _UNICODE_ROOT.sub(lambda m: ("\\sqrt" if m.group(0)[0] == "√" else "\\sqrt[%d]" % ("√∛∜".index(m.group(0)[0]) + 2))
                          + "{" + (m.group(1) or m.group(2) or m.group(3)) + "}", s)  # ∛8 is \\sqrt[3]{8}
    s = _VULGAR.sub(lambda m: "\\frac{%s}{%s}" % _VULGAR_FRACTIONS[m.group(0)], s)
    for char, latex in _UNICODE_SYMBOLS.items():
        s = s.replace(char, latex)
    if "—" in s or "―" in s:  # an em dash or a bar typed for a minus, set against a number ('—42'); not 'x—y'
        s = _sub(r"(?<![\w)\]}])[—―](?=\s?\d)", "-", s)
    return s


def _combination(m) -> str:
    """C_n^k as the number of combinations, unless it cannot be one: C_1^2 (k > n) is the square of a constant C_1."""
    n, k = m.group(1), m.group(2)
    if n.isdigit() and (not k.isdigit() or int(k) > int(n)):
        return m.group(0)
    return "\\binom{%s}{%s}" % (n, k)


def unspaced(text: str) -> str:
    """Text without the spaces next to symbols ('4^{2017} - 2 \\cdot 3' is '4^{2017}-2\\cdot 3'); a space between two
    letters or digits stays, as it may separate two numbers or words."""
    return _sub(r"\s+", " ", _sub(r"\s*([^\w\s])\s*", r"\1", text)).strip()  # (a run of spaces is one)
