"""Physical quantities: two answers that are each a value and a unit expression ('9.8 kg m / s^2' and '9.8 N',
'5000 mA' and '5 A', '0.2 g cm^-2' and '2 kg m^-2') compare in one unit. The units, their dimensions and the exact
factors between them come from pint (a maintained unit library, with its parser of unit expressions); what is ours
is splitting an answer into value and unit, and refusing the units that do not convert one way (ton, gallon, month:
their size depends on the country or the calendar; temperatures: an offset, not a factor). pint loads once per
process, and only when two answers both end in letters after a number."""
import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from rlvr_verify.qualifiers import canonical_unit

# 'N', '5000 mA', '9.8 kg m / s^2', '2 kg m^-2', '0.002 megametre/hour': a number, then letters
_QUANTITY = re.compile(r"\s*(?P<value>-?(?:\d+(?:\.\d+)?(?:[eE][-+]?\d{1,3}(?![A-Za-z]))?|\.\d+|\\[dt]?frac\{\d+\}\{\d+\})"
                       r"(?:\s*/\s*\d+)?"
                       r"(?:\s*(?:\\times|\*|×)\s*10\s*\^\s*\{?\s*-?\d+\s*\}?)?)"
                       r"\s*(?P<unit>[A-Za-zµμΩ][A-Za-zµμΩ0-9_/*^()\s.-]{0,60}?)\s*\.?\s*")
_WRAPPER = re.compile(r"\\(?:text|textnormal|textrm|mathrm|mbox|rm|operatorname)\s*\{([^{}]*)\}")
_SPACE = re.compile(r"\\[,;:! ]|~")
_SYMBOL = {"\\mu": "µ", "\\Omega": "Ω", "\\cdot": "*", "·": "*"}
# Tokens that are more often a letter of the answer than a unit, or units that do not convert one way.
_REFUSED = {"e", "c", "G", "a", "b", "t", "u", "d", "x", "y", "z", "n", "k", "r", "q", "p", "i", "j", "M", "R", "E",
            "ton", "tons", "gallon", "gallons", "gal", "quart", "quarts", "pint", "pints", "cup", "cups", "barrel",
            "barrels", "month", "months", "year", "years", "yr", "yrs", "percent", "pi", "degC", "degF", "degK",
            "celsius", "fahrenheit", "kelvin", "K", "are", "point", "points", "unit", "units"}


@dataclass(frozen=True)
class Conversion:
    """The pred's value, the gold's value, and the factor that takes the pred's unit to the gold's (None when the two
    units measure different dimensions)."""
    pred_value: str
    gold_value: str
    factor: Fraction | None


def split_quantity(text: str) -> tuple[str, str] | None:
    """'$9.8\\,\\mathrm{kg\\,m/s^2}$' -> ('9.8', 'kg m/s^2'); None when the text is not a number and a unit."""
    if len(text) > 200:
        return None
    text = text.replace("$", " ").replace("\\(", " ").replace("\\)", " ")
    text = _SPACE.sub(" ", re.sub(r"\^\s*\{\s*(-?\d+)\s*\}", r"^\1", text))  # m^{-2} -> m^-2
    text = _WRAPPER.sub(lambda m: " " + m.group(1) + " ", text)
    for latex, plain in _SYMBOL.items():
        text = text.replace(latex, plain)
    m = _QUANTITY.fullmatch(text)
    if not m or "\\" in m.group("unit"):
        return None
    if m.end("value") == m.start("unit") and not re.match(r"[A-Za-zµμΩ]{2}", m.group("unit")):
        return None  # '10m' may be 10 times m; '10 m', '5kg' are quantities
    return m.group("value"), re.sub(r"\s+", " ", m.group("unit")).strip()


@lru_cache(maxsize=1)
def _registry():
    import pint
    return pint.UnitRegistry(non_int_type=Fraction)


@lru_cache(maxsize=4096)
def _unit(text: str):
    """pint's unit for a unit expression, or None: unknown, refused, or no dimension (rad, %)."""
    if any(token in _REFUSED for token in re.findall(r"[A-Za-zµμΩ]+", text)) or re.search(r"\d\s*\d|\d\.", text):
        return None  # (a unit's power is one digit: km^99999999 against m^99999999 would be a factor of 10^(3*10^8))
    text = text.replace("μ", "µ")  # the Greek mu for the micro sign (pint knows the micro sign)
    text = re.sub(r"[A-Za-z]+", lambda m: canonical_unit(m.group(0)) or m.group(0), text)  # 'kmph' is km/h (to
    if not all(_plain_unit(token) for token in re.findall(r"[A-Za-zµμΩ]+", text)):        # pint, kilo-mph)
        return None
    try:
        unit = _registry().parse_units(text.replace("^", "**"))
    except Exception:  # pint's parser raises several kinds (undefined unit, syntax, tokenizer): none is an answer
        return None
    if unit.dimensionless or any("degree_" in name or name in ("kelvin", "degree_Rankine") for name in unit._units):
        return None
    return unit


# A prefix goes on these symbols only: 'mA', 'kN', 'MPa', 'µm'; pint would read 'pct' as a pico-carat
_PREFIXED_SYMBOLS = {"m", "g", "s", "A", "N", "J", "W", "V", "Pa", "Hz", "C", "L", "l", "Ω", "ohm", "mol", "eV", "T",
                     "F", "H", "Wb", "Wh", "Ah", "t", "cal",
                     "M"}  # 'mM', 'µM', 'nM': molar with a prefix ('M' alone is refused: '5M' is five million)
_PREFIX_SYMBOLS = {"p", "n", "µ", "μ", "u", "m", "c", "d", "k", "M", "G", "T"}


@lru_cache(maxsize=4096)
def _plain_unit(token: str) -> bool:
    """A unit as people write it: a unit's name or symbol (plural allowed), an SI prefix symbol on a symbol ('mA'),
    or a prefix name on a unit name ('megametre')."""
    if token in ("per", "mmHg"):  # (pint reads 'mmHg' as a milli-'meter_Hg'; people mean the millimetre of mercury)
        return True
    token = token.replace("μ", "µ")  # the Greek letter mu typed for the micro sign: 'μF' is a microfarad
    try:
        readings = _registry().parse_unit_name(token)
    except Exception:
        return False
    for prefix, _unit_name, _suffix in readings[:1]:
        if not prefix:
            return True
        if token.startswith(prefix):  # 'megametre', 'milliseconds'
            return len(token) - len(prefix) >= 3
        symbol = _registry()._prefixes[prefix].symbol
        return symbol in _PREFIX_SYMBOLS and token.startswith(symbol) and token[len(symbol):] in _PREFIXED_SYMBOLS
    return False


def conversion(pred: str, gold: str) -> Conversion | None:
    """Both answers as a value and a unit that pint knows: the factor between the units; None when either is not."""
    p, g = split_quantity(pred), split_quantity(gold)
    if p is None or g is None:
        return None
    p_unit, g_unit = _unit(p[1]), _unit(g[1])
    if p_unit is None or g_unit is None:
        return None
    if p_unit.dimensionality != g_unit.dimensionality:
        return Conversion(p[0], g[0], None)
    try:
        factor = _registry().Quantity(Fraction(1), p_unit).to(g_unit).magnitude
    except Exception:  # an offset unit pint will not scale: no conversion
        return None
    return Conversion(p[0], g[0], Fraction(factor))


def value_of(text: str) -> str | None:
    """The value of a number with a unit pint knows ('9.8 N' -> '9.8'); None for anything else."""
    split = split_quantity(text)
    return split[0] if split and _unit(split[1]) is not None else None


# A temperature: a value and its scale, the scale marked by a degree sign or named ('25 °C', '100^{\\circ}\\text{F}',
# '300 kelvin'); 'K' alone counts only beside a marked scale on the other side ('K' is also thousands: '500 K').
_SCALE_MARKED = re.compile(r"\s*(-?\d+(?:\.\d+)?)\s*(?:(?:°|\^\s*\{?\s*\\circ\s*\}?)\s*(?:\\(?:text|mathrm)\s*\{\s*)?([CFK])\s*\}?"
                           r"|\\?(?:text\s*\{\s*)?(celsius|fahrenheit|kelvin)s?\s*\}?)\s*\.?\s*", re.IGNORECASE)
_KELVIN_BARE = re.compile(r"\s*(-?\d+(?:\.\d+)?)\s*(?:\\(?:text|mathrm)\s*\{\s*)?K\s*\}?\s*\.?\s*")
_SCALE_HINT = re.compile(r"°|circ|celsius|fahrenheit|kelvin", re.IGNORECASE)  # else no scale is marked: done at once
_ZERO_CELSIUS = Fraction("273.15")


def _kelvin(value: str, scale: str) -> Fraction:
    v = Fraction(value)
    scale = scale[0].upper()
    return v + _ZERO_CELSIUS if scale == "C" else (v - 32) * Fraction(5, 9) + _ZERO_CELSIUS if scale == "F" else v


def temperatures(pred: str, gold: str) -> tuple[Fraction, Fraction] | None:
    """Both answers as temperatures in kelvin ('273.15 K' and '0 °C', '212 °F' and '100 °C'): the scales differ by an
    offset, which a unit factor cannot express (pint's offset units are refused in conversion). None unless both
    are temperatures and at least one scale is marked."""
    if len(pred) > 80 or len(gold) > 80 or not _SCALE_HINT.search(pred + gold):
        return None
    p, g = _SCALE_MARKED.fullmatch(pred), _SCALE_MARKED.fullmatch(gold)
    if not p and not g:
        return None
    p_scale = (p.group(2) or p.group(3)) if p else None
    g_scale = (g.group(2) or g.group(3)) if g else None
    if p is None:
        p = _KELVIN_BARE.fullmatch(pred)
        p_scale = "K"
    if g is None:
        g = _KELVIN_BARE.fullmatch(gold)
        g_scale = "K"
    if p is None or g is None:
        return None
    return _kelvin(p.group(1), p_scale), _kelvin(g.group(1), g_scale)
