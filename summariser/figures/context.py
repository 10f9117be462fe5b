"""The words around a number: scale, currency, unit and hedge (shared by every reader)."""

from __future__ import annotations

import re

from summariser.figures import lexicon as _lex
from summariser.figures.model import FigureKind

# Between a number and its unit: spaces, or one line break with its indentation (wrapped
# newswire: "1.4\n    billion dlrs"), never a blank line.
_GAP = r"[ \t\u00a0]{0,4}(?:\r?\n[ \t\u00a0]{0,8})?"


_SCALE_AFTER = re.compile(
    rf"(?:{_GAP}(?P<word>thousands?|millions?|billions?|trillions?|mln|bln|mn|bn|tn|trn"
    r"|lakhs?|crores?)|(?P<letter>[mMkKbB]|mm)(?![A-Za-z]))(?![\w])"
    r"|(?P<cjk>[ ]?(?:万亿|亿|万|千(?=[万亿元])))",
)


_CURRENCY_AFTER = re.compile(
    rf"{_GAP}(?:(?P<qual>U\.S\.|US|American|Canadian|Australian|Hong Kong|HK|New Zealand"
    r"|N\.Z\.|Singapore|Taiwan)\s)?"
    r"(?P<cur>(?i:dollars?|dlrs?|yuan|renminbi|rmb|euros?|pounds\ssterling|pounds?|sterling|stg"
    r"|yen|marks|swiss\sfrancs|francs|guilders|lire|lira|rupees|pesos|rand|won|crowns|kronor"
    r"|kroner|roubles|rubles|riyals|ringgit|baht)\b"
    r"|(?:USD|EUR|GBP|CNY|JPY|HKD|CAD|AUD|CHF|INR)\b|元|人民币|美元|港元|港币|欧元|英镑|日元)"
)


_MINOR_AFTER = re.compile(rf"(?:{_GAP}(?P<word>cts|ct|cents?|pence)\b|[ ]?(?P<p>p|¢)(?![\w]))")


_UNIT_AFTER = re.compile(
    rf"(?P<pp>{_GAP}-?(?i:percentage|pct|per\s?cent|%)[\s-]points?\b|{_GAP}(?:pp|ppts?)\b)"
    rf"|(?P<bp>{_GAP}-?(?:bps?\b|basis[\s-]points?\b))"
    rf"|(?P<pct>[ \u00a0]{{0,2}}%|{_GAP}-?(?i:percent|per\s?cent|pct)\b|[ ]?％)"
    rf"|(?P<pts>{_GAP}-?(?:points?|pts)\b)"
    rf"|(?P<x>x(?![\w])|{_GAP}(?:times)\b|-?fold\b|[ ]?倍)"
    r"|(?P<ord>(?:st|nd|rd|th)\b)"
    r"|(?P<cjkdate>[年月日])"
)


_HEDGE_BEFORE = re.compile(
    r"(?i)(?<![\w-])(?P<hedge>"
    + "|".join(re.escape(h) for h in sorted(_lex.HEDGES, key=len, reverse=True))
    + r")\s+(?:(?:the|a|an|some)\s)?$"
)


# The last word of every hedge phrase: the full pattern runs only after one of them.
_HEDGE_LAST_WORDS = frozenset(h.rsplit(" ", 1)[-1] for h in _lex.HEDGES) | {
    "the",
    "a",
    "an",
    "some",
}


_MOVED_UP = re.compile(r"(?i)\b(?:\w+ed|rose|grew|went|shot|came|crept|climbed)\s+$")


def _hedge_before(scan: str, start: int) -> str | None:
    window = scan[max(0, start - 28) : start]
    words = window.rsplit(None, 1)
    if not words or words[-1].lower() not in _HEDGE_LAST_WORDS:
        return None
    match = _HEDGE_BEFORE.search(window)
    if match is None:
        return None
    hedge = _lex.HEDGES[match.group("hedge").lower()]
    if hedge == "up to" and _MOVED_UP.search(window, 0, match.start()):
        return None  # "edged up to 0.25%" says where it went, not a bound
    return hedge


def _step_of(digits: str) -> float:
    """One unit of the last written digit of a plain number string (``"8.971"`` -> 0.001)."""
    point = digits.find(".")
    return 1.0 if point < 0 else 10.0 ** -(len(digits) - point - 1)


# The last word of every hedge phrase: the full pattern runs only after one of them.


def _looks_like_year(clean: str) -> bool:
    return len(clean) == 4 and clean.isdigit() and 1900 <= int(clean) <= 2099


def _unit_kind(
    match: re.Match[str], value: float, clean: str
) -> tuple[FigureKind, str | None, str | None]:
    group = match.lastgroup
    if group == "pct":
        return FigureKind.PERCENT, "%", None
    if group == "pp":
        return FigureKind.POINTS, "pp", None
    if group == "bp":
        return FigureKind.BASIS_POINTS, "bp", None
    if group == "pts":
        return FigureKind.POINTS, "pts", None
    if group == "x":
        return FigureKind.MULTIPLE, "x", None
    if group == "ord":
        return FigureKind.ORDINAL, None, f"#{clean}"
    char = match.group("cjkdate")
    if char == "年" and _looks_like_year(clean):
        return FigureKind.YEAR, None, clean
    if char in ("月", "日"):
        return FigureKind.DATE, None, f"{char}{clean}"
    return FigureKind.NUMBER, None, None
