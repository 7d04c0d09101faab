"""Is a parsed answer equal to a parsed gold? Exact first, then bounded numeric checks."""
import cmath
import random

import sympy as sp

from rlvr_verify.parse import Bracketed, Equation


def _is_plain_number(x) -> bool:
    return isinstance(x, sp.Basic) and not isinstance(x, sp.MatrixBase) and x.is_number and not x.free_symbols


DEFAULT_REL_TOL = 1e-9  # float noise: the tolerance for values that are not exact (irrationals, long decimals)


def _decimal_places(r) -> int | None:
    """The places of a rational written as a decimal (3/8 = 0.375: 3), None when it has no finite decimal (1/3)."""
    q, places = int(r.q), 0
    while q % 10 == 0:
        q, places = q // 10, places + 1
    while q % 2 == 0 or q % 5 == 0:
        if places > 60:
            return None
        q, places = (q // 2 if q % 2 == 0 else q // 5), places + 1
    return places if q == 1 else None


_EXACT_BITS = 300_000  # values up to about 90,000 digits are worked out exactly; (10000!)^150 is not


def _small_enough(x) -> bool:
    """The size of x, read from a 15-digit evaluation, allows working it out exactly."""
    try:
        value = x.evalf(15)
    except (TypeError, ValueError, OverflowError, ZeroDivisionError):
        return False
    return isinstance(value, sp.Float) and (value == 0 or abs(value._mpf_[2] + value._mpf_[3]) <= _EXACT_BITS)


def _evaluated_factorials(x):
    """x with the factorials the parser left unevaluated (n > 500, see parse.safe_factorial) worked out exactly."""
    return x.xreplace({f: f.func(*f.args) for f in x.atoms(sp.factorial, sp.factorial2)})


def numbers_equal(a, b, rel_tol: float) -> bool:
    if a.is_infinite or b.is_infinite or a.has(sp.zoo, sp.nan) or b.has(sp.zoo, sp.nan):
        return a == b  # tolerance would call -oo and oo equal
    if a.is_Rational and b.is_Rational:  # exact values compare exactly (1.000000001 is not 1, 10^30 + 1 not 10^30);
        if a == b:                        # a decimal of 6+ places stands for a fraction it rounds to (0.6666667, 2/3)
            return True
        if rel_tol > DEFAULT_REL_TOL:  # a grader that asked for a looser tolerance gets it for exact values too
            return bool(abs(a - b) <= sp.Rational(rel_tol) * max(abs(a), abs(b)))
        for dec, other in ((a, b), (b, a)):
            places = _decimal_places(dec)
            if places is not None and places >= 6 and _decimal_places(other) is None and rel_tol > 0:
                return bool(abs(a - b) <= sp.Rational(1, 2) * sp.Rational(1, 10 ** places) * (1 + sp.Rational(1, 10 ** 9)))
        return False
    if (a.has(sp.factorial, sp.factorial2) or b.has(sp.factorial, sp.factorial2)) and _small_enough(a) and _small_enough(b):
        ea, eb = _evaluated_factorials(a), _evaluated_factorials(b)  # 1000! + 1 is not 1000!: exact where it can be
        if ea.is_Rational and eb.is_Rational:
            return numbers_equal(ea, eb, rel_tol)
    try:
        va, vb = complex(sp.N(a, 30)), complex(sp.N(b, 30))
    except (TypeError, ValueError, OverflowError):
        return sp.simplify(a - b) == 0
    if min(abs(va), abs(vb)) < 1e-280 and not (a.is_zero and b.is_zero):
        va = complex("inf")  # below a float (1/2004! is 0.0 as a float): compared in mpmath's range below
    if not (cmath.isfinite(va) and cmath.isfinite(vb)):  # beyond a float (2^1300): compare in mpmath's range,
        try:                                             # never as inf against inf
            return abs(complex(sp.N((a - b) / (sp.Abs(a) + sp.Abs(b)), 30))) <= rel_tol
        except (TypeError, ValueError, OverflowError, ZeroDivisionError):
            return False
    close = va == vb or abs(va - vb) <= rel_tol * max(abs(va), abs(vb), 1e-300)
    if close and a != b and rel_tol <= DEFAULT_REL_TOL and not any(x.is_Rational and not x.is_Integer or x.atoms(sp.Float)
                                                         for x in (a, b)):
        return not _differ_exactly(a, b)  # two exact values that floats cannot tell apart: sqrt(N) and sqrt(N + 1)
    return close  # (a decimal against an irrational is a rounding of it, to float precision: 1.4142135623730951)


def _differ_exactly(a, b) -> bool:
    """Two exact constants truly differ (e^(pi sqrt 163) is not 640320^3 + 744, though they agree to 12 places):
    evalf of their difference raises its precision through the cancellation and comes back with its digits; an
    exact cancellation comes back as a zero of no precision."""
    try:
        d = (a - b).evalf(30)
        return bool(d != 0 and getattr(d, "_prec", 0) > 10)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError, AttributeError):
        return False


def _sample(rng: random.Random, k: int, positive: bool):
    """The k-th sample point of a variable: small values first (most answers live there), then wide ones up to 10^3
    in size, so that a difference far out (|x + 100| - 100 against x) is seen."""
    if k < 6:
        return sp.Rational(rng.randint(0 if positive else -30, 30), rng.randint(1, 7)) + sp.Rational(1, 97)
    size = sp.Rational(rng.randint(100, 1_000), rng.randint(1, 2)) + sp.Rational(1, 97)
    return size if positive or rng.random() < 0.5 else -size


_EXACT_DEGREE = 40  # polynomials up to this degree are compared by expanding their difference


def _degree_bound(e) -> float:
    """An upper bound of a polynomial's total degree read from its tree, without expanding it."""
    if e.is_Symbol:
        return 1
    if e.is_Number:
        return 0
    if e.is_Add:
        return max(_degree_bound(t) for t in e.args)
    if e.is_Mul:
        return sum(_degree_bound(t) for t in e.args)
    if e.is_Pow and e.exp.is_Integer and e.exp >= 0:
        return int(e.exp) * _degree_bound(e.base)
    return float("inf")


def _exact_numbers(a, b) -> bool:
    """Every number in a and b is rational, and no long decimal stands for a fraction with no finite decimal beside
    it (0.3333333x for x/3: that pair is compared within the tolerance)."""
    numbers = [n for e in (a, b) for n in e.atoms(sp.Number)]
    if any(not n.is_Rational for n in numbers):
        return False
    return not (any(not n.is_Integer and n.q % 10 == 0 and n.q > 10 ** 6 for n in numbers)
                and any(_decimal_places(n) is None for n in numbers))


def _polynomial_pair(a, b):
    """The symbols of a and b when both are polynomials with rational coefficients that may be compared exactly (no
    long decimal standing for a fraction beside it, degree at most _EXACT_DEGREE); None otherwise."""
    symbols = a.free_symbols | b.free_symbols
    if not symbols or len(symbols) > 3 or not (a.is_polynomial(*symbols) and b.is_polynomial(*symbols)):
        return None
    if not _exact_numbers(a, b):
        return None
    if max(_degree_bound(a), _degree_bound(b)) > _EXACT_DEGREE:  # before anything expands (x - a)^5999
        return None
    return sorted(symbols, key=str)


def _exact_proportional(a, b, positive: bool) -> bool | None:
    """Whether a = k*b for a non-zero rational k (k > 0 with positive), decided exactly for polynomials (Delta -
    3*10^-11 is not a multiple of Delta - 3.63*10^-11, though their values agree to 12 places); None when that does
    not apply."""
    try:
        symbols = _polynomial_pair(a, b)
        if symbols is None:
            return None
        pa, pb = sp.Poly(a, *symbols), sp.Poly(b, *symbols)
        if pa.is_zero or pb.is_zero:
            return pa.is_zero and pb.is_zero
        k = pa.LC() / pb.LC()
        return (pa - pb * k).is_zero and (k > 0 or not positive)
    except (sp.PolynomialError, TypeError, ValueError):
        return None


def _exact_polynomials(a, b) -> bool | None:
    """Polynomials with rational coefficients compare exactly: their difference expanded is 0 or it is not; at random
    points a small coefficient difference in a huge value looks like rounding (x^2 + 1.0000000001 is not x^2 + 1,
    as 1.0000000001 is not 1). A long decimal beside a fraction that has no finite decimal may stand for it (0.3333333x
    and x/3), as for plain numbers: None then, and when this does not apply."""
    try:
        if _polynomial_pair(a, b) is None:
            return None
        return sp.expand(a - b) == 0
    except (sp.PolynomialError, TypeError, ValueError):
        return None


def _exact_at_points(a, b, symbols) -> bool:
    """Rational functions with rational coefficients are evaluated exactly at rational points: a small term beside
    a huge one is not lost to rounding (y - (a - x)^5999 against y - (x - a)^5999 differ by 2y)."""
    return (len(symbols) <= 3 and a.is_rational_function(*symbols) and b.is_rational_function(*symbols)
            and _exact_numbers(a, b) and all(abs(p.exp) <= _EXACT_POWER for e in (a, b) for p in e.atoms(sp.Pow)
                                             if p.exp.is_Integer))


_EXACT_POWER = 10_000  # at a point of 4 digits, x^10000 has 40,000: exact; m^99999999 is left to floating point


def _differs_below_one(a, b, subs, va: complex, vb: complex, tol: float) -> bool:
    """Two values under 1 that agree within the absolute floor but not relatively: whether they truly differ
    (10^-50 sin x against 10^-50 cos x) rather than being one value with rounding noise (sin^2 x + cos^2 x - 1
    against 0). evalf of the difference raises its precision through cancellation: a true difference comes back
    with its digits, an exact cancellation as a zero of no precision."""
    if max(abs(va), abs(vb)) >= 1.0 or abs(va - vb) <= tol * max(abs(va), abs(vb)):
        return False
    try:
        d = (a - b).evalf(30, subs=subs)
        return bool(d != 0 and getattr(d, "_prec", 0) > 10 and abs(complex(d)) > tol * max(abs(va), abs(vb)))
    except (TypeError, ValueError, ZeroDivisionError, OverflowError, AttributeError):
        return False


def expressions_equal(a, b, rel_tol: float, points: int = 10, positive: bool = False, real: bool = False) -> bool:
    """Expressions with symbols: equal at random points (bounded effort, no simplify on big trees). With real,
    only the points where both are real count, and at least _REAL_POINTS of them must (ln((x+1)/(1-x)) and
    -ln((1-x)/(x+1)) are one function on (-1, 1), and two branches of the complex logarithm elsewhere)."""
    exact = _exact_polynomials(a, b)
    if exact is not None:
        return exact
    symbols = sorted(a.free_symbols | b.free_symbols, key=str)
    rng = random.Random(0)
    exact_points = _exact_at_points(a, b, symbols)
    compared = 0
    samples = [{s: (sp.Rational(rng.randint(-99, 99), 100) + sp.Rational(1, 997) if real and k % 2 else
                    _sample(rng, k // 2 if real else k, positive)) for s in symbols}  # real: half of them in (-1, 1)
               for k in range(2 * points if real else points)]
    for subs in samples + _beyond_every_kink(a, b, symbols, positive):
        if exact_points:
            try:
                ea, eb = a.xreplace(subs), b.xreplace(subs)
            except ZeroDivisionError:
                continue
            if ea.has(sp.zoo, sp.nan) or eb.has(sp.zoo, sp.nan):
                continue  # a pole of either: another point decides
            if ea.is_Rational and eb.is_Rational:
                if ea != eb:
                    return False
                continue
            exact_points = False  # irrational or complex constants ((x - sqrt 2)(x + sqrt 2)): in floating point
        try:
            na, nb = a.evalf(30, subs=subs), b.evalf(30, subs=subs)
            va, vb = complex(na), complex(nb)
            if not (cmath.isfinite(va) and cmath.isfinite(vb)):  # past a float (C(4025, 2013)): in sympy's range,
                if not (na.is_finite and nb.is_finite):            # never inf against anything
                    return False
                if abs(na - nb) > max(rel_tol, 1e-12) * sp.Max(abs(na), abs(nb), 1):
                    return False
                continue
        except (TypeError, ValueError, ZeroDivisionError, OverflowError):
            return False
        if real and (abs(va.imag) > 1e-12 * max(abs(va), 1.0) or abs(vb.imag) > 1e-12 * max(abs(vb), 1.0)):
            continue  # outside the real domain of one of them
        if abs(va - vb) > max(rel_tol, 1e-12) * max(abs(va), abs(vb), 1.0):
            return False
        if _differs_below_one(a, b, subs, va, vb, max(rel_tol, 1e-12)):
            return False
        compared += 1
    return compared >= _REAL_POINTS if real else True


_REAL_POINTS = 4  # points inside the real domain that a comparison on it needs
_KINKED = (sp.Abs, sp.floor, sp.ceiling, sp.sign, sp.Max, sp.Min, sp.Piecewise, sp.frac, sp.Heaviside)


def _beyond_every_kink(a, b, symbols, positive: bool) -> list[dict]:
    """Two more points for functions with kinks or jumps (|x|, floor, max, ...): two such functions can agree on every
    sampled point and differ past a kink far out (|x + 1000| - 1000 against |x + 1001| - 1001). A kink of a linear
    argument lies within max|number| / min|number| of 0 (1 among the numbers: x's coefficient in x + 1000), so every variable at +-2 (that bound + 1) is past all of
    them; what is polynomial there agrees at two such points only by chance."""
    if not (a.has(*_KINKED) or b.has(*_KINKED)):
        return []
    sizes = [sp.Integer(1)] + [abs(n) for e in (a, b) for n in e.atoms(sp.Number) if n.is_Rational and n != 0]
    far = min(2 * (max(sizes) / min(sizes) + 1), sp.Integer(10) ** 12) + sp.Rational(1, 97)
    return [{s: far for s in symbols}] + ([] if positive else [{s: -far for s in symbols}])


def _monomial(x) -> bool:
    """A non-zero number times powers of variables: 2*m, -m*c, 3/(m*c)."""
    coeff, rest = x.as_coeff_Mul()
    return coeff != 0 and coeff.is_finite and all(
        f.is_Symbol or f.is_Pow and f.base.is_Symbol and f.exp.is_Integer for f in sp.Mul.make_args(rest))


_SOLVED_ALIKE_OPS = 60  # bigger equations are left to proportional: cancel() grows with the expression
_SOLVED_ALIKE_POWER = 12  # and so do powers


def solved_alike(a, b) -> bool:
    """Two equations (as lhs - rhs) that say the same of a variable one of them is solved for: 'a = F/m' and 'F = ma'
    (a - F/m and F - m*a differ by the factor -m, free of a), 'v = p/m' and 'p = mv'. The factor must be a number times
    powers of the variables that the solved form divides by (so cannot be zero there): 'x = 1' and 'x^2 = x' differ by
    the factor x, which is not free of x, and 'y = x' and 'y^2 = xy' by the factor y, which 'y = x' never divides by:
    both pairs stay different (x = 0, y = 0 solve one of each pair only)."""
    if not (isinstance(a, sp.Basic) and isinstance(b, sp.Basic)) or sp.count_ops(a) + sp.count_ops(b) > _SOLVED_ALIKE_OPS:
        return False
    if any(not (p.exp.is_Rational and abs(p.exp) <= _SOLVED_ALIKE_POWER) for x in (a, b) for p in x.atoms(sp.Pow)):
        return False  # cancel() expands: (x-a)^6000 against (x-a)^5999 would not finish
    for solved, other in ((a, b), (b, a)):
        for s in sorted(solved.free_symbols, key=str):
            slope = sp.diff(solved, s)
            if not slope.is_number or slope == 0:  # solved = c*s - (something free of s): s is solved for
                continue
            ratio = sp.cancel(other / solved)
            if not ratio.has(s) and _monomial(ratio) and ratio.free_symbols <= sp.denom(sp.together(solved)).free_symbols:
                return True  # the factor only clears the solved form's denominators (m in F/m: m is not 0 there)
    return False


def proportional(a, b, rel_tol: float, points: int = 6, positive: bool = False, _exact: bool = True) -> bool:
    """a = k*b for one non-zero number k (two equations of one line or curve: 2x+4y-3 and y+x/2-3/4), judged at
    random points with bounded effort; with positive, k > 0 (two inequalities: a > 0 and b > 0 are one relation)."""
    if not (isinstance(a, sp.Basic) and isinstance(b, sp.Basic)) or not (a.free_symbols or b.free_symbols):
        return False
    exact = _exact_proportional(a, b, positive)
    if exact is not None:
        return exact
    symbols = sorted(a.free_symbols | b.free_symbols, key=str)
    rng, ratio, seen = random.Random(1), None, 0
    exact_points = _exact and _exact_at_points(a, b, symbols)
    for _ in range(points):
        subs = {s: sp.Rational(rng.randint(-30, 30), rng.randint(1, 7)) + sp.Rational(1, 89) for s in symbols}
        if exact_points:  # the ratio at each point exactly (see _exact_at_points)
            ea, eb = a.xreplace(subs), b.xreplace(subs)
            if ea.has(sp.zoo, sp.nan) or eb.has(sp.zoo, sp.nan):
                continue
            if not (ea.is_Rational and eb.is_Rational):
                return proportional(a, b, rel_tol, points, positive, _exact=False)
            if ea == 0 or eb == 0:
                if ea != eb:
                    return False
                continue
            if ratio is not None and ea / eb != ratio:
                return False
            ratio, seen = ea / eb, seen + 1
            continue
        try:
            va, vb = complex(a.evalf(30, subs=subs)), complex(b.evalf(30, subs=subs))
        except (TypeError, ValueError, ZeroDivisionError, OverflowError):
            return False
        if not (cmath.isfinite(va) and cmath.isfinite(vb)):
            return False
        if abs(vb) < 1e-12 or abs(va) < 1e-12:
            if max(abs(va), abs(vb)) > 1e-9:
                return False
            continue
        r = va / vb
        if ratio is None:
            ratio = r
        elif abs(r - ratio) > max(rel_tol, 1e-10) * max(abs(r), abs(ratio)):
            return False
        seen += 1
    if exact_points and ratio is not None:
        return seen >= 3 and (ratio > 0 or not positive)
    if positive and ratio is not None and not (ratio.real > 0 and abs(ratio.imag) <= 1e-9 * abs(ratio)):
        return False
    return seen >= 3 and ratio is not None and abs(ratio) > 1e-12


def _has_fractional_power(x) -> bool:
    return any(p.exp.is_Rational and not p.exp.is_integer for p in x.atoms(sp.Pow))


def _as_union(x):
    """'x != a' as the set it describes, (-oo, a) U (a, oo), to compare with a union of intervals."""
    if isinstance(x, Bracketed) and x.open == "≠" and len(x.items) == 1 and _is_plain_number(x.items[0]):
        a = x.items[0]
        return [Bracketed("(", [-sp.oo, a], ")"), Bracketed("(", [a, sp.oo], ")")]
    return x


def real_set(x):
    """An interval with real ends, or a list of them (a union), as the sympy set it is; None for anything else."""
    if isinstance(x, list):
        parts = [real_set(item) for item in x]
        return sp.Union(*parts) if parts and all(p is not None for p in parts) else None
    if not (isinstance(x, Bracketed) and x.open in "([" and x.close in ")]" and len(x.items) == 2):
        return None
    lo, hi = x.items
    if not all(isinstance(e, sp.Basic) and e.is_number and e.is_extended_real for e in (lo, hi)):
        return None
    if (lo < hi) != sp.true:
        return None
    return sp.Interval(lo, hi, left_open=x.open == "(", right_open=x.close == ")")


def equal(pred, gold, rel_tol: float = 1e-9) -> bool:
    """Structural comparison: lists/sets order-insensitive, tuples/intervals ordered, matrices elementwise; unions
    of intervals as the sets they are."""
    if isinstance(pred, list) or isinstance(gold, list):
        pred, gold = _as_union(pred), _as_union(gold)
        p_set, g_set = real_set(pred), real_set(gold)
        if p_set is not None and g_set is not None:  # 'x >= 1 or 1 <= x' is [1, oo); overlapping parts merge
            return p_set == g_set
    if isinstance(pred, sp.MatrixBase) != isinstance(gold, sp.MatrixBase):  # a row or column vector and a tuple
        vector, other = (pred, gold) if isinstance(pred, sp.MatrixBase) else (gold, pred)
        if (1 in vector.shape and isinstance(other, Bracketed) and other.open in "(["
                and len(other.items) == len(vector)):
            return all(equal(a, b, rel_tol) for a, b in zip(list(vector), other.items))
        rows = other.items if isinstance(other, Bracketed) and other.open == "[" else None
        if (rows and len(rows) == vector.rows and all(isinstance(r, Bracketed) and r.open == "[" and len(r.items) ==
                                                       vector.cols for r in rows)):  # [[1, 2], [3, 4]]: rows
            return all(equal(vector[i, j], rows[i].items[j], rel_tol) for i in range(vector.rows)
                       for j in range(vector.cols))
    if isinstance(gold, Equation) or isinstance(pred, Equation):
        if not (isinstance(gold, Equation) and isinstance(pred, Equation)):
            return False
        return (equal(pred.difference, gold.difference, rel_tol) or equal(pred.difference, -gold.difference, rel_tol)
                or proportional(pred.difference, gold.difference, rel_tol)
                or solved_alike(pred.difference, gold.difference))
    if (isinstance(gold, list) and isinstance(pred, Bracketed) and (pred.open, pred.close) in (("(", ")"), ("[", "]"))
            and len(gold) == len(pred.items) > 1 and not _could_be_interval(pred)):
        # '(1000, 10)' for the bare list '10^3, 10': a bracketed list that cannot be an interval is the list written
        # in brackets, read in order; '(1, 2)' for '1, 2' stays unequal (it may be the open interval).
        return all(equal(p, g, rel_tol) for p, g in zip(pred.items, gold))
    if (isinstance(pred, list) and isinstance(gold, Bracketed) and (gold.open, gold.close) == ("[", "]")
            and len(pred) == len(gold.items) > 1 and not _could_be_interval(gold)):
        return all(equal(p, g, rel_tol) for p, g in zip(pred, gold.items))  # '1, 2, 3' for the list '[1, 2, 3]'
    if isinstance(pred, Bracketed) and pred.open == "{" and not isinstance(gold, (list, Bracketed)):
        pred, gold = gold, pred  # a set of one element against a value: as symmetric as the other way round
    if isinstance(gold, list) or (isinstance(gold, Bracketed) and gold.open == "{"):
        g_items = gold if isinstance(gold, list) else gold.items
        if isinstance(pred, list):
            p_items = pred
        elif isinstance(pred, Bracketed) and pred.open == "{":
            p_items = pred.items
        else:
            p_items = [pred]
        return _multiset_equal(p_items, g_items, rel_tol)
    if isinstance(gold, Bracketed) and isinstance(pred, list) and (gold.open, gold.close) == ("(", ")"):
        pred = Bracketed("(", pred, ")")  # 'x = 1, y = 2' (labels dropped) against the tuple (1, 2)
    if isinstance(gold, Bracketed):
        if not isinstance(pred, Bracketed) or len(pred.items) != len(gold.items):
            return False
        ordered = {("(", ")"), ("[", "]")}
        if (pred.open, pred.close) != (gold.open, gold.close) and not (  # (1, 2, 3) is the list [1, 2, 3]; with two
                len(gold.items) > 2 and {(pred.open, pred.close), (gold.open, gold.close)} <= ordered):  # an interval
            return False
        return all(equal(p, g, rel_tol) for p, g in zip(pred.items, gold.items))
    if isinstance(pred, (list, Bracketed)):
        return False
    if isinstance(gold, sp.MatrixBase) or isinstance(pred, sp.MatrixBase):
        if not (isinstance(gold, sp.MatrixBase) and isinstance(pred, sp.MatrixBase)) or gold.shape != pred.shape:
            return False
        return all(equal(p, g, rel_tol) for p, g in zip(pred, gold))
    if pred == gold:
        return True
    if _is_plain_number(pred) and _is_plain_number(gold):
        return numbers_equal(pred, gold, rel_tol)
    if isinstance(pred, sp.Basic) and isinstance(gold, sp.Basic):
        if expressions_equal(pred, gold, rel_tol):
            return True
        # \\sqrt[3]{x^2} and x^{2/3} differ only on the principal branch for x < 0: compare them for x > 0 (both
        # sides with fractional powers: \\sqrt{x^2} is |x|, not x).
        if (_has_fractional_power(pred) and _has_fractional_power(gold)) and not (pred.has(sp.Abs) or gold.has(sp.Abs)):
            return expressions_equal(pred, gold, rel_tol, positive=True)
        if pred.has(sp.log) and gold.has(sp.log) and pred.free_symbols:  # the log laws hold for positive arguments:
            return (expressions_equal(pred, gold, rel_tol, positive=True)  # ln(a^2 b) = 2 ln a + ln b; where both
                    or not (pred.has(sp.I) or gold.has(sp.I)) and expressions_equal(pred, gold, rel_tol, real=True))
        return False
    return False


def _could_be_interval(b: Bracketed) -> bool:
    """Two ends that are real numbers (or infinities) in increasing order, or symbols whose order is unknown."""
    if len(b.items) != 2 or not all(isinstance(x, sp.Basic) and not isinstance(x, sp.MatrixBase) for x in b.items):
        return False
    lo, hi = b.items
    if lo.free_symbols or hi.free_symbols:
        return True
    try:
        return bool(lo.is_extended_real and hi.is_extended_real and (lo < hi) == sp.true)
    except TypeError:
        return False


def _multiset_equal(p_items, g_items, rel_tol) -> bool:
    if len(p_items) != len(g_items):
        return False
    unused = list(g_items)
    for p in p_items:
        for k, g in enumerate(unused):
            if equal(p, g, rel_tol):
                del unused[k]
                break
        else:
            return False
    return True
