"""The scanner: one pass of one compiled pattern over the text, dispatching to the readers."""

from __future__ import annotations

import math
import re
from typing import Any

from summariser.figures.calendar import _MONTHS, _read_fixed
from summariser.figures.chinese import _CJK_DIGITS, _cjk_percent, _read_cjk
from summariser.figures.model import Figure, FigureKind
from summariser.figures.numbers import _read_number
from summariser.figures.words import _A_WORDS, _WORDS, _read_words

_SPACE = " \u00a0\u2009\u202f"


def _trie_pattern(words: set[str] | list[str]) -> str:
    """An alternation of ``words`` as a prefix tree: ``t(?:en|hree|wo)``. Python's regex
    engine tries alternatives one by one; the tree makes each position cost one branch."""
    tree: dict[str, dict[str, Any]] = {}
    for word in words:
        node = tree
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        branches = [re.escape(char) + emit(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = "(?:" + "|".join(branches) + ")"
        return body + "?" if "" in node else body

    return emit(tree)


_WORD_FORMS = sorted(
    {form for word in _WORDS for form in (word, word.capitalize(), word.upper())},
    key=len,
    reverse=True,
)


_PERIOD_WORDS = "|".join(
    form
    for word in ("first", "second", "third", "fourth")
    for form in (word, word.capitalize(), word.upper())
)
# Every alternative starts with a character of this class; the look-ahead lets the regex
# engine skip the rest of the text at C speed (a 4x speed-up over a bare alternation).


# Every alternative starts with a character of this class; the look-ahead lets the regex
# engine skip the rest of the text at C speed (a 4x speed-up over a bare alternation).
_STARTS = "".join(
    sorted({form[0] for form in _WORD_FORMS} | set("JFMASONDQqH+Aaf") | set(_CJK_DIGITS))
)


_SCAN = re.compile(
    rf"""
    (?=[\d{_STARTS}])
    (?:(?<![A-Za-z])(?=[A-Za-z])(?:
        (?P<date1>(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?![\d%.,]\d|\d|[ ]?%))
        |(?P<period1>(?:[Qq][1-4]|H[12])\b
            |FY[ ]?'?(?:\d{{4}}|\d{{2}})\b(?!-\d)
            |(?:{_PERIOD_WORDS})(?:\s+|-)(?i:quarter|qtr|half)\b)
        |(?P<word>{_trie_pattern(_WORD_FORMS)}\b)
        |(?P<aword>(?:[Aa]n?)[ ](?={_trie_pattern(_A_WORDS)}\b)))
    |(?<![\d.,])(?=[\d+])(?:
        (?P<phone>\+\d{{1,3}}[ .-]?\(?\d{{1,4}}\)?(?:[ .-]\d{{2,4}}){{2,4}}(?!\d)
            |(?<![\d-])\d{{3}}-\d{{3}}-\d{{4}}(?!\d))
        |(?P<date2>(?<![\w])\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})\b
            |(?<![\w/])\d{{1,2}}/\d{{1,2}}/(?:\d{{4}}|\d{{2}})(?![\d/])
            |(?<![\w-])(?:19|20)\d{{2}}-\d{{2}}-\d{{2}}(?!\d))
        |(?P<time>(?<![\w:])\d{{1,2}}:\d{{2}}(?::\d{{2}})?(?:[ ]?[ap]\.?m\.?(?!\w))?(?![\d:])
            |(?<![\w])\d{{1,2}}(?:\.\d{{1,2}})?[ ]?(?:[ap]\.m\.|[ap]m\b)
            |(?<![\w])[012]\d[0-5]\d[ ]?(?:GMT|BST|EST|EDT|CET|CST|PST|HKT|local[ ]time)\b)
        |(?P<period2>(?<![\w])(?:[1-4]Q|[12]H)\b
            |(?<![\w-])(?:19|20)\d{{2}}[-/]\d{{2}}(?![\d/-]|\.\d))
        |(?P<num>(?:\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?
            |\d{{1,3}}(?:[{_SPACE}]\d{{3}})+(?!\d|[.,]\d)
            |\d+(?:\.\d+)?)(?![.,]?\d))
        |(?P<junk>[\d.,]+))
    |(?=[{_CJK_DIGITS}])(?P<cjkpct>百分之[{_CJK_DIGITS}点]+)
    |(?P<cjk>[{_CJK_DIGITS}]+))
    """,
    re.VERBOSE,
)


_GROUPS = {"date1": "date", "date2": "date", "period1": "period", "period2": "period"}


def find_figures(text: str) -> list[Figure]:
    """Every figure in ``text``, in order of position, with offsets into ``text``."""
    # Full-width digits and signs map one character to one character, so offsets into the
    # mapped text are offsets into the original.
    scan = text.translate(_FULLWIDTH) if _HAS_FULLWIDTH.search(text) else text
    found: list[Figure] = []
    resume = 0
    for match in _SCAN.finditer(scan):
        start, end = match.span()
        if start < resume:
            continue  # inside what a reader already took ("billion yuan" after "8.971")
        group = match.lastgroup
        figure: Figure | None = None
        resume = end
        if group == "num":
            figure, resume = _read_number(text, scan, start, end)
        elif group == "word":
            figure, resume = _read_words(text, scan, start, end)
        elif group == "aword":
            figure, resume = _read_words(text, scan, start, end - 1)
        elif group == "cjk":
            figure, resume = _read_cjk(text, scan, start, end)
        elif group == "cjkpct":
            figure = _cjk_percent(text, start, end)
        elif group == "junk":
            pass  # digits and separators that form no number ("1,2,3", "1,000,00"): one step
        elif group is not None:
            figure = _read_fixed(text, scan, _GROUPS.get(group, group), match)
        if figure is not None:
            found.append(figure)
    return _link_ranges(scan, found)


_HAS_FULLWIDTH = re.compile("[\uff04-\uff19]")


_FULLWIDTH = str.maketrans(
    {chr(0xFF10 + i): str(i) for i in range(10)}
    | {"．": ".", "，": ",", "％": "%", "＄": "$", "－": "-", "＋": "+", "（": "(", "）": ")"}
)


_RANGE_BETWEEN = re.compile(r"[ \u00a0]*(?:-|–|—|to|and|through|until)[ \u00a0]*$")


_BETWEEN_BEFORE = re.compile(r"(?i)\b(?:between|from)[ \u00a0]+(?:[^\W\d_]+[ ])?$")


def _link_ranges(scan: str, figures: list[Figure]) -> list[Figure]:
    """Give the bare end of a range the scale and unit of the other end.

    ``5-7%`` -> 5% and 7%; ``between 200 and 250 million`` -> 2e8 and 2.5e8;
    ``$5 to 6 million`` -> $5 million and $6 million. "to" also joins a change ("rose 32 pct
    to 1.03 billion"), so only an end with no unit and no scale of its own takes them over.
    """
    linked = list(figures)
    for i in range(len(linked) - 1):
        left, right = linked[i], linked[i + 1]
        if not (left.is_amount and right.is_amount):
            continue
        gap = scan[left.end : right.start]
        if len(gap) > 9 or not _RANGE_BETWEEN.match(gap):
            continue
        if "and" in gap and not _BETWEEN_BEFORE.search(scan, max(0, left.start - 24), left.start):
            continue
        linked[i], linked[i + 1] = _share_unit(left, right), _share_unit(right, left)
    return linked


_CURRENCY_SIGNS = frozenset("$£€¥￥₹-+UHCANSRE")


def _share_unit(figure: Figure, other: Figure) -> Figure:
    """``figure`` with the scale and unit of ``other`` where it has none of its own."""
    amounts = (FigureKind.NUMBER, FigureKind.MONEY)
    scale, unit, kind = figure.scale, figure.unit, figure.kind
    left_end = figure.start < other.start
    if left_end and scale == 1.0 and kind in amounts and other.kind in amounts and other.scale > 1:
        # The end takes the scale that puts it nearest the other end: "2.8 to 2,900 million"
        # is 2.8 billion, "20-30,000 million" 20 billion, "440,000 to 2.2 million" 440,000.
        target = abs(other.value) or 1.0
        candidates = [1.0] + [10.0**k for k in range(3, 13, 3) if 10.0**k <= other.scale * 1e3]
        scale = min(
            candidates, key=lambda s: abs(math.log((abs(figure.value) * s or 1.0) / target))
        )
    # Units written after the figure (%, bp, "dlrs") pass to the left end only; a currency
    # sign passes both ways ("$5 to 6 million"): "rose 42.9 pct to 11.0" is no range of percents.
    passes_left = left_end and (figure.scale == 1.0 or other.kind is FigureKind.MONEY)
    passes_right = other.kind is FigureKind.MONEY and other.text[:1] in _CURRENCY_SIGNS
    takes_unit = unit is None and other.unit is not None and kind is FigureKind.NUMBER
    if takes_unit and (passes_left or passes_right):
        unit, kind = other.unit, other.kind
    if scale == figure.scale and unit == figure.unit:
        return figure
    return figure._replace(
        kind=kind,
        value=figure.value * scale / figure.scale,
        unit=unit,
        scale=scale,
        step=figure.step * scale / figure.scale,
    )
