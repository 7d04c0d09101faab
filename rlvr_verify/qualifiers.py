"""Words that change what a value means, which normalising would otherwise strip: a direction (12 km west), a half
of the day (3:45 PM), a temperature scale (25°C), a unit and its power (3 cm, 12 cm^2). Two answers whose values
are equal still disagree when both name one of these and not the same one; units of one dimension convert
(unit_scales). Pure string functions."""
import re


# Words that change what a value means, which unit stripping would otherwise drop: each kind, its spellings.
_QUALIFIERS = [
    {"east": r"east(?:ward)?", "west": r"west(?:ward)?", "north": r"north(?:ward)?", "south": r"south(?:ward)?",
     "northeast": r"north-?east", "northwest": r"north-?west", "southeast": r"south-?east",
     "southwest": r"south-?west"},
    {"counterclockwise": r"(?:counter|anti)-?clockwise", "clockwise": r"(?<![-a-z])clockwise"},
    {"am": r"a\.?\s?m\.?", "pm": r"p\.?\s?m\.?"},
    {"C": r"(?:°|\\circ\s*\}?)\s*(?:\\(?:text|mathrm)\s*\{\s*)?C(?![a-zA-Z])|celsius",
     "F": r"(?:°|\\circ\s*\}?)\s*(?:\\(?:text|mathrm)\s*\{\s*)?F(?![a-zA-Z])|fahrenheit",
     "K": r"(?:°|\\circ\s*\}?)\s*(?:\\(?:text|mathrm)\s*\{\s*)?K(?![a-zA-Z])|kelvin"},
]
_QUALIFIER_RES = [{name: re.compile(r"(?<![a-zA-Z])(?:%s)(?![a-zA-Z])" % pattern, re.IGNORECASE if name not in "CFK"
                                    else 0) for name, pattern in kind.items()} for kind in _QUALIFIERS]


_QUALIFIER_HINT = re.compile(r"[a-zA-Z]|°|\\circ|\^|\$|¢")  # a word, a degree sign or a power: else nothing to compare


def qualifiers_disagree(pred: str, gold: str) -> bool:
    """Both answers name a direction, a half of the day or a temperature scale, and not the same one."""
    if len(pred) > 200 or len(gold) > 200 or not (_QUALIFIER_HINT.search(pred) and _QUALIFIER_HINT.search(gold)):
        return False
    return _words_disagree(pred, gold)


def _words_disagree(pred: str, gold: str) -> bool:
    for kind in _QUALIFIER_RES:
        p = {name for name, rx in kind.items() if rx.search(pred)}
        g = {name for name, rx in kind.items() if rx.search(gold)}
        if p and g and p != g:
            return True
    p_power, g_power = _unit_power(pred), _unit_power(gold)
    if p_power is not None and g_power is not None and p_power != g_power:  # 12 cm^3 is no area of 12 cm^2
        return True
    p_unit, g_unit = _unit(pred), _unit(gold)
    return p_unit is not None and g_unit is not None and p_unit != g_unit  # 3 cm is not 3 m, 5 g not 5 kg


def _canonical_units() -> dict[str, str]:
    names = {
        "mm": "mm millimeter millimetre", "cm": "cm centimeter centimetre", "m": "m meter metre",
        "km": "km kilometer kilometre", "in": "in inch inche", "ft": "ft foot feet", "yd": "yd yard",
        "mi": "mi mile", "mg": "mg milligram", "g": "g gram", "kg": "kg kilogram kilo", "lb": "lb lbs pound",
        "oz": "oz ounce", "ton": "ton tonne", "ms": "ms millisecond", "s": "s sec second", "min": "min minute",
        "h": "h hr hour", "day": "day", "week": "week wk", "month": "month", "year": "year yr",
        "ml": "ml milliliter millilitre", "l": "l liter litre", "gallon": "gallon gal", "m/s": "m/s",
        "km/h": "km/h kmph kph km/hr", "mph": "mph", "$": "$ dollar usd", "cent": "cent ¢", "rs": "rs rupee ₹",
        "eur": "euro eur €", "deg": "degree deg °", "rad": "radian rad"}
    table = {}
    for canon, spellings in names.items():
        for name in spellings.split():
            table[name] = canon
    table.update({"miles per hour": "mph", "kilometers per hour": "km/h", "kilometres per hour": "km/h",
                  "meters per second": "m/s", "metres per second": "m/s"})
    return table


_UNIT_NAMES = _canonical_units()
_UNIT_AT_END = re.compile(r"(?:\\(?:text|mathrm|mbox|textrm|textnormal)\s*\{\s*~?\s*([^{}]+?)\s*\}|(?<=[\d\s}])([a-zA-Z][a-zA-Z/]*"
                          r"(?: per [a-zA-Z]+)?)|\(\s*([a-zA-Z][a-zA-Z/]*)\s*\))\s*(?:\^\s*\{?\s*\d\s*\}?)?\s*\.?\s*\$?\s*$")


def _unit(text: str) -> str | None:
    """The unit an answer ends with, spelled one way ('km/hr' and 'kmph' are km/h, 'metres' m); None when it has
    none, or one this table does not know ('apples')."""
    if re.match(r"\s*\$?\s*\\\$", text) or re.match(r"\s*\$\s*\d", text) and text.count("$") == 1:
        return "$"  # '\\$5', '$5' (one dollar sign: not the delimiters of '$12$')
    text = re.sub(r"\\(?:mathrm|text)\s*\{\s*~?\s*([^{}]*?)\s*\}\s*/\s*\\(?:mathrm|text)\s*\{\s*([^{}]*?)\s*\}",
                  r"\\text{\1/\2}", text)  # \mathrm{~m} / \mathrm{s} is m/s
    m = _UNIT_AT_END.search(text[-60:])
    if not m:
        return None
    name = (m.group(1) or m.group(2) or m.group(3)).strip().lower().replace(" / ", "/")
    if name in _UNIT_NAMES:
        return _UNIT_NAMES[name]
    return _UNIT_NAMES.get(name[:-1]) if name.endswith("s") and len(name) > 3 else None


# Each unit's size in its dimension's base (m, kg, s, L, m/s), exactly: a unit converts only within its dimension.
# Units whose size depends on the country (ton, gallon) or the calendar (month, year) do not convert.
_SCALE = {"mm": ("length", "1/1000"), "cm": ("length", "1/100"), "m": ("length", "1"), "km": ("length", "1000"),
          "in": ("length", "127/5000"), "ft": ("length", "381/1250"), "yd": ("length", "1143/1250"),
          "mi": ("length", "201168/125"), "mg": ("mass", "1/1000000"), "g": ("mass", "1/1000"), "kg": ("mass", "1"),
          "lb": ("mass", "45359237/100000000"), "oz": ("mass", "45359237/1600000000"), "ms": ("time", "1/1000"),
          "s": ("time", "1"), "min": ("time", "60"), "h": ("time", "3600"), "day": ("time", "86400"),
          "week": ("time", "604800"), "ml": ("volume", "1/1000"), "l": ("volume", "1"), "m/s": ("speed", "1"),
          "km/h": ("speed", "5/18"), "mph": ("speed", "1397/3125")}


def unit_scales(pred: str, gold: str) -> tuple[str, str] | None:
    """When both answers end with a unit of one dimension but not the same unit (300 cm and 3 m, 10 g and 0.01 kg),
    the size of each in the dimension's base, as exact fractions; None otherwise (no unit, the same unit, another
    dimension, or one that does not convert)."""
    if len(pred) > 200 or len(gold) > 200 or _unit_power(pred) != _unit_power(gold):
        return None
    p_unit, g_unit = _unit(pred), _unit(gold)
    if p_unit is None or g_unit is None or p_unit == g_unit or p_unit not in _SCALE or g_unit not in _SCALE:
        return None
    (p_kind, p_size), (g_kind, g_size) = _SCALE[p_unit], _SCALE[g_unit]
    if p_kind != g_kind or (_unit_power(pred) is not None and p_kind != "length"):
        return None
    power = int(_unit_power(pred) or 1)  # 2 m^2 is 20000 cm^2
    return f"({p_size})^{power}", f"({g_size})^{power}"


_UNIT_POWER = re.compile(r"\\(?:text|mbox|mathrm|textrm)\s*\{[^{}]*[a-zA-Z][^{}]*\}\s*\^\s*\{?\s*(\d)|"
                         r"(?<![a-zA-Z\\])(?:cm|mm|km|m|in|inches|ft|feet|yd|units?|meters?)\s*\^\s*\{?\s*(\d)|"
                         r"\b(square|cubic)\s+[a-z]", re.IGNORECASE)


def _unit_power(text: str) -> str | None:
    """The power of the unit an answer carries: '12 cm^2', '15\\mbox{ cm}^3', '36 square units'; None without one."""
    m = _UNIT_POWER.search(text)
    if not m:
        return None
    word = (m.group(3) or "").lower()
    return m.group(1) or m.group(2) or ("2" if word == "square" else "3")
