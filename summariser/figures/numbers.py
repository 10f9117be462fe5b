"""Numbers written in digits, with everything written around them."""

from __future__ import annotations

import re

from summariser.figures import lexicon as _lex
from summariser.figures.context import (
    _CURRENCY_AFTER,
    _MINOR_AFTER,
    _SCALE_AFTER,
    _UNIT_AFTER,
    _hedge_before,
    _looks_like_year,
    _step_of,
    _unit_kind,
)
from summariser.figures.model import Figure, FigureKind

_CURRENCY_BEFORE = re.compile(
    r"(?:(?P<sign1>[-+\u2212])[ ]?)?(?P<cur>US\$|U\.S\.\$|HK\$|CA?\$|AU?\$|NZ\$|S\$|NT\$|R\$|\$"
    r"|£|€|¥|￥|₹|Rs\.?|RMB|CNY|USD|EUR|GBP|JPY|HKD|CAD|AUD|CHF|INR|SGD|NZD)"
    r"\s{0,3}(?P<sign2>[-+\u2212])?$"
)


_SIGNS = frozenset("-+\u2212")


_HYPHEN_WORD_BEFORE = re.compile(r"(?P<word>[A-Za-z]+)-$")


_YEAR_PREFIXES = frozenset({"mid", "end", "early", "late", "pre", "post", "year", "fiscal"})


_LINE_START_MARKUP = re.compile(r"(?:^|\n)[ \t>*#_(]*$")


_CURRENCY_HINT = re.compile("[$£€¥￥₹A-Z]|[Rr]s")


def _currency_before(before: str) -> re.Match[str] | None:
    """The currency written just before a number (``US$``, ``RMB``, ``€ -``), if any."""
    if _CURRENCY_HINT.search(before, len(before) - 5) is None:
        return None  # the common case, settled by one C-level scan of five characters
    return _CURRENCY_BEFORE.search(before)


def _read_number(text: str, scan: str, start: int, end: int) -> tuple[Figure | None, int]:
    digits = scan[start:end]
    before = scan[max(0, start - 12) : start]
    prev = scan[start - 1] if start else ""
    # A number glued to a word is an identifier (A380, G7, COVID-19), not a figure, unless
    # the word is a currency code (RMB8.971bn) or a year prefix (mid-2005).
    currency_match = _currency_before(before)
    if prev.isascii() and prev.isalpha() and currency_match is None:
        return None, _skip_token(scan, end)
    if prev == "-":
        hyphen_word = _HYPHEN_WORD_BEFORE.search(before)
        if hyphen_word and hyphen_word.group("word").lower() not in _YEAR_PREFIXES:
            return None, _skip_token(scan, end)
    if len(digits) <= 2 and _is_list_marker(scan, start, end):
        number = digits.lstrip("0") or "0"
        marker = Figure(text[start:end], start, end, FigureKind.LIST_MARKER, float(number))
        return marker, end
    clean = digits if digits.isdigit() else digits.translate(_DROP_SEPARATORS)
    mantissa = float(clean)
    step = _step_of(clean)
    fig_start = start
    unit: str | None = None
    negative = False
    if currency_match is not None:
        unit = _lex.CURRENCY_PREFIXES[currency_match.group("cur").lower()]
        fig_start = start - (len(before) - currency_match.start("cur"))
        sign = currency_match.group("sign1") or currency_match.group("sign2")
        if sign and _sign_is_free(scan, start - (len(before) - currency_match.start())):
            negative = sign != "+"
            if currency_match.group("sign1"):
                fig_start = start - (len(before) - currency_match.start())
    elif prev in _SIGNS and _sign_is_free(scan, start - 1):
        negative = prev != "+"
        fig_start = start - 1
    pos = end
    scale = 1.0
    scale_match = _SCALE_AFTER.match(scan, pos)
    if scale_match is not None:
        word = scale_match.group("word") or scale_match.group("letter")
        if word is not None:
            scale = _lex.SCALES[word.lower()]
        else:
            scale = _lex.CJK_SCALES[scale_match.group("cjk").strip()]
        pos = scale_match.end()
    currency_after = _CURRENCY_AFTER.match(scan, pos)
    if currency_after is not None:
        qualifier = currency_after.group("qual")
        code = _lex.currency_suffix(currency_after.group("cur"))
        if code == "$" and qualifier:
            code = _lex.DOLLAR_QUALIFIERS[" ".join(qualifier.split()).lower()]
        unit = code if unit is None or unit in _lex.OPEN_CURRENCIES else unit
        pos = currency_after.end()
    kind = FigureKind.MONEY if unit is not None else FigureKind.NUMBER
    if unit is None and scale == 1.0:
        minor = _MINOR_AFTER.match(scan, pos)
        if minor is not None:
            name = (minor.group("word") or minor.group("p") or "").lower()
            scale, unit = _lex.MINOR_UNITS[name]
            kind, pos = FigureKind.MONEY, minor.end()
    key: str | None = None
    if kind is FigureKind.NUMBER:
        unit_match = _UNIT_AFTER.match(scan, pos)
        if unit_match is not None:
            kind, unit, key = _unit_kind(unit_match, mantissa * scale, clean)
            pos = unit_match.end()
        if kind is FigureKind.NUMBER and scale == 1.0 and _looks_like_year(digits):
            kind, key = FigureKind.YEAR, clean
    glued = pos < len(scan) and scan[pos].isascii() and scan[pos].isalpha()
    if glued and kind in _GLUE_CHECKED and scale == 1.0 and currency_after is None:
        # digits glued to letters that are no unit we know (3G, 1980s): an identifier
        return None, _skip_token(scan, pos)
    value = mantissa * scale
    if kind in (FigureKind.NUMBER, FigureKind.MONEY) and _accounting_negative(
        scan, fig_start, pos, scale
    ):
        negative, fig_start, pos = True, fig_start - 1, pos + 1
    if negative:
        value = -value
    return (
        Figure(
            text=text[fig_start:pos],
            start=fig_start,
            end=pos,
            kind=kind,
            value=value,
            unit=unit,
            scale=scale,
            step=step * scale,
            hedge=_hedge_before(scan, fig_start),
            key=key,
        ),
        pos,
    )


_GLUE_CHECKED = frozenset({FigureKind.NUMBER, FigureKind.MONEY, FigureKind.YEAR})


_DROP_SEPARATORS = str.maketrans("", "", ", \u00a0\u2009\u202f")


def _is_list_marker(scan: str, start: int, end: int) -> bool:
    """``1.`` / ``2)`` / ``(3)`` / ``**01`` opening a line: an item number, not a figure."""
    after = scan[end : end + 2]
    shaped = (after[:1] in (".", ")") and after[1:2] in (" ", "\t")) or (
        end - start == 2 and scan[start] == "0" and after[:1] in (" ", "\t")
    )
    return shaped and _LINE_START_MARKUP.search(scan, max(0, start - 8), start) is not None


def _skip_token(scan: str, pos: int) -> int:
    """Past the rest of a glued token (``A380-800``, ``3G``), so its parts are not figures."""
    while pos < len(scan) and (scan[pos].isalnum() or scan[pos] in "-./_"):
        pos += 1
    return pos


def _sign_is_free(scan: str, sign_at: int) -> bool:
    """A sign counts only when it stands alone (``-3.5%``), not as a dash (``5-7``,
    ``5.10 -5.35``, ``Q3-4``)."""
    if sign_at == 0:
        return True
    if scan[sign_at - 1] not in " \t\n(\u00a0[:;=/":
        return False
    before = scan[max(0, sign_at - 8) : sign_at].rstrip()
    return not before or not (before[-1].isdigit() or before[-1] in "%$£€¥")


def _accounting_negative(scan: str, start: int, end: int, scale: float) -> bool:
    """``(1,234)`` in a table: a negative. ``($2.1bn)`` after a figure is a conversion."""
    return (
        scale == 1.0
        and start > 0
        and scan[start - 1] == "("
        and not (start > 1 and scan[start - 2].isalnum())  # alert(1), f(2): code, not accounts
        and end < len(scan)
        and scan[end] == ")"
        and not scan[start].isalpha()
        and scan[start] not in "$£€¥"
    )
