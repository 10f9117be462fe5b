"""Where a text may be cut, and how good each cut is: the boundary finders of the chunker.

Stage: chunking (pure core: no I/O, no token counting). In: a text and a span of it
``[s, e)``. Out: cut offsets inside the span, each with a strength (``PARAGRAPH`` down to
``WORD``; ``CHAR`` for the last resort's cuts), from one finder per kind of boundary:
paragraphs, sentences (not after ``Inc.``, ``U.S.``, ``Mr.``...; none inside a table or list
row), clauses and hard line wraps, word starts. :data:`SPLITTERS` lists them from the
strongest boundary to the weakest. Also the checks that keep a cut out of a figure
(:func:`figure_across`) and out of one visible character (:func:`safe_cut`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from summariser.figures import find_figures

# Boundary strengths, weakest first. A cut's strength is that of the boundary it ends at.
CHAR, WORD, CLAUSE, LINE, SENTENCE, PARAGRAPH, END = range(7)
# How far around a cut the figure parser reads to see whether the cut splits a figure.
_FIGURE_REACH = 64

_PARAGRAPH = re.compile(r"\n[^\S\n]*\n\s*")
_CLOSERS = "\"'”’)\\]」』）"  # noqa: RUF001 - closing quotes and brackets, Chinese too
_OPENERS = "\"'“‘(["  # noqa: RUF001 - opening quotes and brackets
# Words whose period does not end a sentence inside a line (compared ignoring case).
_ABBREVIATIONS = (
    *("inc", "co", "corp", "ltd", "plc", "bros", "mr", "mrs", "ms", "dr", "prof", "sr", "jr"),
    *("st", "no", "nos", "vs", "approx", "est", "fig", "rs", "cf", "al", "gov", "sen", "rep"),
    *("jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"),
    *("gen", "lt", "col", "capt", "mt", "ave", "dept", "univ", "assn", "ft"),
)
# Titles that stay with the word after them even when a sentence is split into words.
_TITLES = frozenset({"mr", "mrs", "ms", "dr", "prof", "st", "no", "nos", "vs"})


def _not_after_abbreviation() -> str:
    """Look-behinds, placed after a period, that fail when the period ends an abbreviation:
    one of the words above, an initial (``F.``) or dotted letters (``U.S.``, ``e.g.``).
    Python wants each look-behind of one width, hence one per word length."""
    lengths = sorted({len(word) for word in _ABBREVIATIONS})
    by_length = [
        "|".join(word for word in _ABBREVIATIONS if len(word) == length) for length in lengths
    ]
    words = "".join(f"(?<!\\b(?i:{alternatives})\\.)" for alternatives in by_length)
    return words + r"(?<!\b[A-Z]\.)(?<![A-Za-z]\.[A-Za-z]\.)"


# A stop at a line end (the cut goes after the line end and the spaces that follow), a stop
# inside a line (the cut goes before the spaces after it; abbreviations are no stops there;
# its group, inside the look-ahead, is the first letter of the next word) and Chinese stops,
# which need no space after them. Line ends without a stop are cuts only around table and list
# rows, so a second pattern looks for them where rows are.
_STOP_AT_LINE_END = rf"(?P<line>[.!?。！？][{_CLOSERS}]*[^\S\n]*\n\s*)"  # noqa: RUF001
_STOP_IN_LINE = rf"(?:\.{_not_after_abbreviation()}|[!?])[{_CLOSERS}]*(?=[^\S\n]+(?P<inline>\S))"
_CHINESE_STOP = rf"[。！？][{_CLOSERS}]*(?![^\S\n]*\n)"  # noqa: RUF001
# The look-ahead on the first character lets the regex engine skip the rest at C speed
# (three times faster here).
_SENTENCE = re.compile(
    f"(?=[.!?。！？])(?:{_STOP_AT_LINE_END}|{_STOP_IN_LINE}|{_CHINESE_STOP})"  # noqa: RUF001
)
_SENTENCE_OR_LINE = re.compile(
    f"(?=[.!?。！？\\n])"  # noqa: RUF001
    f"(?:{_STOP_AT_LINE_END}|(?P<newline>\\n\\s*)|{_STOP_IN_LINE}|{_CHINESE_STOP})"
)
_CLAUSE = re.compile(r"\n\s*|[，；：]|[,;:](?=[^\S\n]+\S)")  # noqa: RUF001
_SPACES = re.compile(r"\s+")
# A table row (two pipes, or columns aligned with tabs or runs of spaces) or a list item, from
# the start of a line: each stays whole unless it alone is over the budget.
_ROW_BODY = (
    r"(?:[^\n|]*\|){2}"
    r"|[^\S\n]*(?:[-*•·▪\u2013]|\d{1,3}[.)])[^\S\n]"
    r"|(?:[^\n]*?\S(?:\t| {2,})){2}\S"
)
_ROW = re.compile(_ROW_BODY)  # matched at a line start
_ANY_ROW = re.compile(f"^(?:{_ROW_BODY})", re.MULTILINE)
_LIST_ITEM = re.compile(r"\n[^\S\n]*(?:[-*•·▪\u2013]|\d{1,3}[.)])[^\S\n]")
_GLUE = frozenset("\u200d\u2060")  # zero-width joiner, word joiner


def paragraph_cuts(text: str, s: int, e: int) -> Iterator[tuple[int, int]]:
    """Cuts after each run of blank lines."""
    for match in _PARAGRAPH.finditer(text, s, e):
        if match.end() < e:
            yield match.end(), PARAGRAPH


def sentence_cuts(text: str, s: int, e: int) -> Iterator[tuple[int, int]]:
    """Cuts at sentence ends (before the space after them; after a line end) and around the
    rows of tables and lists; none inside a row."""
    rows = _has_rows(text, s, e)
    row_line = (-1, False)  # the last line looked at: its start, and whether it is a row

    def is_row(i: int) -> bool:
        nonlocal row_line
        start = text.rfind("\n", s, i) + 1 or s
        if row_line[0] != start:
            row_line = (start, _ROW.match(text, start, e) is not None)
        return row_line[1]

    for match in (_SENTENCE_OR_LINE if rows else _SENTENCE).finditer(text, s, e):
        i, cut = match.span()
        if cut >= e:
            continue
        kind = match.lastgroup
        if kind == "line":
            # A lower-case word after it: a wrapped line ("Acme Corp.\nsaid"), not a stop.
            if not text[cut].islower() or (rows and (is_row(i) or is_row(cut))):
                yield cut, SENTENCE
        elif kind == "newline":
            if (i > s and is_row(i - 1)) or is_row(cut):
                yield cut, SENTENCE
        elif rows and is_row(i):
            continue  # no sentence ends inside a table row
        elif kind != "inline" or not text[match.start("inline")].islower():
            yield cut, SENTENCE


def _has_rows(text: str, s: int, e: int) -> bool:
    """True when ``text[s:e]`` holds a table or list row (cheap tests first)."""
    if _ROW.match(text, s, e) or _LIST_ITEM.search(text, s, e):
        return True
    return any(text.find(mark, s, e) >= 0 for mark in ("|", "\t", "  ")) and bool(
        _ANY_ROW.search(text, s, e)
    )


def clause_cuts(text: str, s: int, e: int) -> Iterator[tuple[int, int]]:
    """Cuts after hard line wraps and after clause marks (``, ; :``, also full-width)."""
    if _has_rows(text, s, e):
        return  # a table row: only words may split it, and only when it alone is too long
    for match in _CLAUSE.finditer(text, s, e):
        if match.end() < e:
            yield match.end(), LINE if text[match.start()] == "\n" else CLAUSE


def word_cuts(text: str, s: int, e: int) -> Iterator[tuple[int, int]]:
    """Cuts before the spaces that start each word (after them when they hold a line end),
    except after a title such as ``Mr.`` or ``No.``."""
    for match in _SPACES.finditer(text, s, e):
        i, j = match.span()
        cut = j if "\n" in match.group() else i
        if s < cut < e and not (i > s and text[i - 1] == "." and _title(text, s, i - 1)):
            yield cut, WORD


SPLITTERS = (paragraph_cuts, sentence_cuts, clause_cuts, word_cuts)


def safe_cut(text: str, lo: int, cut: int) -> int:
    """``cut`` moved back to the start of a figure or a character it would split, unless
    that leaves nothing before it."""
    figure_start = figure_across(text, cut, lo)
    if figure_start is not None and figure_start > lo:
        cut = figure_start
    while cut - 1 > lo and _joined(text[cut - 1], text[cut]):
        cut -= 1
    return cut


def _joined(before: str, after: str) -> bool:
    """True when a cut between these two code points would split one visible character."""
    return (
        unicodedata.category(after) in ("Mn", "Mc", "Me")  # combining accents, vowel signs
        or "\ufe00" <= after <= "\ufe0f"  # variation selectors (emoji presentation)
        or "\U0001f3fb" <= after <= "\U0001f3ff"  # skin-tone modifiers
        or after in _GLUE
        or before in _GLUE
        or (before == "\r" and after == "\n")
        or ("\ud800" <= before <= "\udbff" and "\udc00" <= after <= "\udfff")  # a pair
    )


# --- helpers for the cuts -------------------------------------------------------------------


def figure_across(text: str, cut: int, lo: int | None = None) -> int | None:
    """The start of a figure that ``cut`` would split, else None. The parser reads only a
    window around the cut (from ``lo`` when given, else from a word start before it)."""
    if lo is None:
        lo = max(0, cut - _FIGURE_REACH)
        space = text.find(" ", lo, cut)
        if lo > 0 and space >= 0:
            lo = space + 1
    hi = min(len(text), cut + _FIGURE_REACH)
    for figure in find_figures(text[lo:hi]):
        if lo + figure.start >= cut:
            break
        if cut < lo + figure.end:
            return lo + figure.start
    return None


def _word_before(text: str, s: int, period: int) -> str:
    """The word that ends with the period at ``period``, without it or opening marks."""
    lo = max(s, period - 8)
    start = max(text.rfind(" ", lo, period), text.rfind("\n", lo, period)) + 1
    return text[max(start, lo) : period].lstrip(_OPENERS)


def _title(text: str, s: int, period: int) -> bool:
    return _word_before(text, s, period).lower() in _TITLES
