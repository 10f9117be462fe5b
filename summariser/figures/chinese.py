"""Chinese numerals and percentages: ``一千二百``, ``十五``, ``百分之四十``."""

from __future__ import annotations

from summariser.figures import lexicon as _lex
from summariser.figures.context import _CURRENCY_AFTER, _UNIT_AFTER, _unit_kind
from summariser.figures.model import Figure, FigureKind

_CJK_DIGITS = "零〇一二两三四五六七八九十百千万亿"


_CJK_VALUES = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}


_CJK_UNITS = {"十": 10, "百": 100, "千": 1000}


_CJK_BIG = {"万": 1e4, "亿": 1e8}


def _cjk_number(run: str) -> float:
    """Chinese numerals to a number: ``一千二百`` -> 1200, ``十五`` -> 15, ``三千万`` -> 3e7."""
    total, section, digit = 0.0, 0.0, 0.0
    for char in run:
        if char in _CJK_VALUES:
            digit = _CJK_VALUES[char]
        elif char in _CJK_UNITS:
            section += (digit or 1) * _CJK_UNITS[char]
            digit = 0
        else:
            big = _CJK_BIG[char]
            section += digit
            if big == 1e8:
                total = (total + section) * big
            else:
                total += section * big
            section, digit = 0.0, 0.0
    return total + section + digit


def _read_cjk(text: str, scan: str, start: int, end: int) -> tuple[Figure | None, int]:
    run = scan[start:end]
    if start and scan[start - 1] == "第":  # 第三: "third"
        value = _cjk_number(run)
        ordinal = Figure(text[start:end], start, end, FigureKind.ORDINAL, value)
        return ordinal._replace(key=f"#{int(value)}"), end
    if not _reads_as_number(run, scan[end : end + 1]):
        return None, end
    value = _cjk_number(run)
    pos = end
    kind, unit = FigureKind.NUMBER, None
    currency_after = _CURRENCY_AFTER.match(scan, pos)
    unit_match = _UNIT_AFTER.match(scan, pos)
    if currency_after is not None:
        kind, unit = FigureKind.MONEY, _lex.currency_suffix(currency_after.group("cur"))
        pos = currency_after.end()
    elif unit_match is not None and unit_match.lastgroup != "ord":
        kind, unit, _ = _unit_kind(unit_match, value, str(int(value)))
        pos = unit_match.end()
    # 三千万 is written to the ten million: its step is its smallest place word
    places = [_CJK_UNITS.get(c) or _CJK_BIG.get(c) or 1.0 for c in run]
    step = float(min(places)) if run[-1] in "十百千万亿" else 1.0
    return Figure(text[start:pos], start, pos, kind, value, unit, step=step), pos


def _reads_as_number(run: str, after: str) -> bool:
    """Chinese numeral characters also spell words (一些 "some", 十分 "very", 万一 "in case"):
    a run counts only when it has a place word or stands before a unit."""
    if run[0] in "万亿":
        return False
    has_place = any(c in "十百千万亿" for c in run)
    if len(run) == 1:
        return (has_place and after in _UNITS_AFTER) or after in _UNITS_AFTER
    if all(c in "十百千万亿" for c in run):
        return False
    # digits read one by one (二〇二六) are a year only before 年
    return has_place or after == "年"


_UNITS_AFTER = frozenset({"元", "%", "倍", "个", "年", "月", "日", "家", "名", "亿", "万"})


def _cjk_percent(text: str, start: int, end: int) -> Figure | None:
    digits = text[start + 3 : end]
    if "点" in digits:
        whole, _, frac = digits.partition("点")
        value = _cjk_number(whole) + float("0." + "".join(str(_CJK_VALUES.get(c, 0)) for c in frac))
        step = 10.0 ** -len(frac)
    else:
        value, step = _cjk_number(digits), 1.0
    return Figure(text[start:end], start, end, FigureKind.PERCENT, value, "%", step=step)
