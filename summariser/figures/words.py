"""Numbers in English words: ``twenty-one``, ``half a billion``, ``a third``, ``tenfold``."""

from __future__ import annotations

import re

from summariser.figures import lexicon as _lex
from summariser.figures.context import _CURRENCY_AFTER, _UNIT_AFTER, _hedge_before, _unit_kind
from summariser.figures.model import Figure, FigureKind

# Words that can open a figure. Fractions that need a number before them ("two-thirds",
# "three quarters") are read from that number; "first"/"second" only open periods.
_WORDS = sorted(
    (set(_lex.UNITS_WORDS) | set(_lex.ORDINAL_WORDS) | set(_lex.MULTIPLE_WORDS) | {"half"})
    - {"first", "second", "fourth"},
    key=len,
    reverse=True,
)


_A_WORDS = set(_lex.FRACTION_WORDS) | set(_lex.WORD_MULTIPLIERS)


_FRACTION_AFTER_WORD = re.compile(r"(?i)[ -](?P<den>" + "|".join(_lex.FRACTION_WORDS) + r")\b")


_ONE_IN = re.compile(r"(?i)[ ]in[ ](?P<n>\d{1,3}|" + "|".join(_lex.UNITS_WORDS) + r")\b")


_A_SCALE = re.compile(r"(?i)[ ]a[ ](?P<scale>hundred|thousand|million|billion|trillion)\b")


def _read_words(text: str, scan: str, start: int, end: int) -> tuple[Figure | None, int]:
    """Numbers in English words: ``twenty-one``, ``half a billion``, ``a third``, ``tenfold``."""
    word = scan[start:end].lower()
    if word in _lex.MULTIPLE_WORDS:
        value = float(_lex.MULTIPLE_WORDS[word])
        return _word_figure(text, scan, start, end, FigureKind.MULTIPLE, value, "x", 0.0), end
    if word in ("a", "an"):
        fraction = _FRACTION_AFTER_WORD.match(scan, end)
        if fraction is not None and _fraction_context(scan, fraction.end(), fraction):
            value = 100.0 / _lex.FRACTION_WORDS[fraction.group("den").lower()]
            return _percent_fraction(text, scan, start, fraction.end(), value), fraction.end()
        scaled = _A_SCALE.match(scan, end)
        if scaled is not None:
            return _cardinal(text, scan, start, end, 1.0)
        return None, end
    if word in _lex.FRACTION_WORDS and word not in _lex.ORDINAL_WORDS:
        # half, halves, quarters, thirds: "half of", "half a billion", "by half"
        return _bare_fraction(text, scan, start, end, word)
    if word in _lex.ORDINAL_WORDS and word not in _lex.UNITS_WORDS:
        return _ordinal(text, scan, start, end, word)
    if word == "dozen":
        return None, end
    if word == "hundred":
        return None, end
    return _cardinal(text, scan, start, end, float(_lex.UNITS_WORDS[word]))


_OF_AFTER = re.compile(r"\s+of\b", re.IGNORECASE)


_PERIOD_OR_POINT_AFTER = re.compile(r"(?:\s+|-)(?:quarter|qtr|half|point)", re.IGNORECASE)


def _fraction_context(scan: str, end: int, fraction: re.Match[str]) -> bool:
    """``a quarter`` is a fraction only before ``of`` (else it is a period of time);
    ``a third quarter`` is a period and ``a half-point`` a size in points."""
    if _PERIOD_OR_POINT_AFTER.match(scan, end):
        return False
    if fraction.group("den").lower() not in ("quarter", "quarters", "fourth"):
        return True
    return _OF_AFTER.match(scan, end) is not None


def _percent_fraction(text: str, scan: str, start: int, end: int, value: float) -> Figure:
    # A fraction in words is as precise as a whole percent ("one in six" is 16.7%, "17%").
    return _word_figure(text, scan, start, end, FigureKind.PERCENT, value, "%", 1.0)


def _bare_fraction(
    text: str, scan: str, start: int, end: int, word: str
) -> tuple[Figure | None, int]:
    after = scan[end : end + 24].lower()
    if word == "half":
        scaled = _A_SCALE.match(scan, end)
        if scaled is not None:
            scale = _lex.WORD_MULTIPLIERS[scaled.group("scale").lower()]
            return _amount_from_words(
                text, scan, start, scaled.end(), 0.5 * scale, scale / 10, scale
            )
        if after.startswith((" of ", " the ", " its ", " their ", " his ", " her ", " a ")) or (
            scan[max(0, start - 3) : start].lower() == "by "
        ):
            return _percent_fraction(text, scan, start, end, 50.0), end
    return None, end


def _ordinal(text: str, scan: str, start: int, end: int, word: str) -> tuple[Figure | None, int]:
    after = re.match(r"(?:\s+|-)(quarter|qtr|half)\b", scan[end : end + 12], re.IGNORECASE)
    if after is not None:
        # "first quarter" is a period; the scanner reads most of them, this catches the rest
        return None, end
    if word in ("first", "second"):
        return None, end  # "first time", "per second": too common to mean a rank
    value = float(_lex.ORDINAL_WORDS[word])
    figure = _word_figure(text, scan, start, end, FigureKind.ORDINAL, value, None, 0.0)
    return figure._replace(key=f"#{int(value)}"), end


def _cardinal(
    text: str, scan: str, start: int, end: int, first: float
) -> tuple[Figure | None, int]:
    """``twenty-one``, ``two hundred``, ``three million``, ``one in six``, ``two-thirds``."""
    word = scan[start:end].lower()
    total, current, pos = 0.0, first, end
    scale_seen = 1.0
    words_read = 1
    while True:
        match = re.compile(r"(?:[ -]|[ ]and[ ])([A-Za-z]+)\b").match(scan, pos)
        if match is None:
            break
        nxt = match.group(1).lower()
        if (
            nxt in _lex.UNITS_WORDS
            and _lex.UNITS_WORDS[nxt] < 10
            and current % 100 >= 20
            and (current % 10 == 0)
        ) or (nxt in _lex.UNITS_WORDS and current % 100 == 0 and current >= 100):
            current += _lex.UNITS_WORDS[nxt]
        elif nxt == "hundred":
            current *= 100
        elif nxt in _lex.WORD_MULTIPLIERS:
            multiplier = _lex.WORD_MULTIPLIERS[nxt]
            total += current * multiplier
            current = 0.0
            scale_seen = multiplier
        else:
            break
        pos = match.end()
        words_read += 1
    value = total + current
    if words_read == 1:
        fraction = _FRACTION_AFTER_WORD.match(scan, end)
        if fraction is not None and value >= 1 and scan[end] in " -":
            denominator = _lex.FRACTION_WORDS[fraction.group("den").lower()]
            if value < denominator and _fraction_context(scan, fraction.end(), fraction):
                pct = 100.0 * value / denominator
                return _percent_fraction(text, scan, start, fraction.end(), pct), fraction.end()
        one_in = _ONE_IN.match(scan, end)
        if one_in is not None and value >= 1:
            n = one_in.group("n").lower()
            denominator_value = float(n) if n.isdigit() else float(_lex.UNITS_WORDS[n])
            if denominator_value > value:
                pct = 100.0 * value / denominator_value
                return _percent_fraction(text, scan, start, one_in.end(), pct), one_in.end()
        if word in ("one", "a", "an") or word == "zero":
            return None, end  # "one of the", "a": too common alone to be a figure
    return _amount_from_words(text, scan, start, pos, value, scale_seen, scale_seen)


def _amount_from_words(
    text: str, scan: str, start: int, end: int, value: float, step: float, scale: float
) -> tuple[Figure | None, int]:
    """A number in words, read on like a digit number (currency, percent, times after it)."""
    pos = end
    kind, unit, scale_unit = FigureKind.NUMBER, None, None
    currency_after = _CURRENCY_AFTER.match(scan, pos)
    if currency_after is not None and not currency_after.group("cur")[0].isupper():
        code = _lex.currency_suffix(currency_after.group("cur"))
        qualifier = currency_after.group("qual")
        if code == "$" and qualifier:
            code = _lex.DOLLAR_QUALIFIERS[" ".join(qualifier.split()).lower()]
        kind, unit, pos = FigureKind.MONEY, code, currency_after.end()
    else:
        unit_match = _UNIT_AFTER.match(scan, pos)
        if unit_match is not None and unit_match.lastgroup in ("pct", "pp", "bp", "x", "pts"):
            kind, unit, _ = _unit_kind(unit_match, value, "")
            pos = unit_match.end()
    del scale_unit
    figure = _word_figure(text, scan, start, pos, kind, value, unit, step)
    return (figure._replace(scale=scale) if scale != 1.0 else figure), pos


def _word_figure(
    text: str,
    scan: str,
    start: int,
    end: int,
    kind: FigureKind,
    value: float,
    unit: str | None,
    step: float,
) -> Figure:
    return Figure(
        text=text[start:end],
        start=start,
        end=end,
        kind=kind,
        value=value,
        unit=unit,
        step=step,
        hedge=_hedge_before(scan, start),
        spelled=True,
    )
