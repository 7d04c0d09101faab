"""Words that change what a value means, which normalising would otherwise strip: a direction (12 km west), a half
of the day (3:45 PM), a temperature scale (25°C), a unit and its power (3 cm, 12 cm^2). Two answers whose values
are equal still disagree when both name one of these and not the same one (units that convert are compared by
quantities.py first). Pure string functions."""
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


def canonical_unit(name: str) -> str | None:
    """One spelling of a unit this table knows ('kmph' and 'km/hr' are km/h, 'metres' m); None for any other."""
    if len(name) < 2:
        return None
    return _UNIT_NAMES.get(name) or (_UNIT_NAMES.get(name.lower()) if len(name) > 3 else None)  # 'Mm' is no mm
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
