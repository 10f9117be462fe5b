"""Sentences and clauses of an article, with offsets, for the offline backend.

Stage: pure core (no I/O). In: the article text. Out: :class:`Sentence` values in text order
with ``text[s.start:s.end] == s.text``; and verbatim clause trims of long sentences.
"""

# Article text is full of look-alike characters on purpose (curly quotes, en dashes, the
# full-width punctuation of Chinese): the patterns must spell them out.
# ruff: noqa: RUF001, RUF003

from __future__ import annotations

import re
from dataclasses import dataclass

# Abbreviations whose full stop ends no sentence ("Mr. Wu", "U.S. sales", "Inc. said").
_ABBREVIATIONS = frozenset(
    re.findall(
        r"\S+",
        "mr mrs ms dr prof sr jr st inc corp co ltd plc llc bros no nos vs etc approx est dept "
        "jan feb mar apr jun jul aug sep sept oct nov dec fig e.g i.e u.s u.k u.n a.m p.m "
        "gov sen rep gen col lt mt ave blvd",
    )
)
# A sentence ends at . ! ? (or the Chinese 。！？) and any closing quotes or brackets.
_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s)|[。！？]+[”’」』)]*")
_BLANK = re.compile(r"\n\s*\n|\n(?=\s*(?:[-•*·]|\d+[.)]\s))")
_WORD = re.compile(r"\S+")
# Clause boundaries inside a sentence: comma, semicolon, colon, dash set off by spaces.
_CLAUSE = re.compile(r"(?:[,;:](?=\s)|\s[-–—]\s|[，；：])\s*")


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence of the article; ``line`` is True for a line that stands alone (a title)."""

    start: int
    end: int
    text: str
    index: int
    line: bool = False

    @property
    def words(self) -> int:
        return len(self.text.split())


def split_sentences(text: str) -> list[Sentence]:
    """The article's sentences in order. Lines are split first: a line with no closing
    punctuation (a title, a list item, a transcript line) is a sentence of its own."""
    out: list[Sentence] = []
    for block_start, block_end in _blocks(text):
        for line_start, line_end in _lines(text, block_start, block_end):
            _split_line(text, line_start, line_end, out)
    return out


def _blocks(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    at = 0
    for match in _BLANK.finditer(text):
        spans.append((at, match.start()))
        at = match.end()
    spans.append((at, len(text)))
    return spans


def _lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Units of a block: a line that ends without punctuation stands alone (a title, a
    heading) only when it is short and the next line opens a sentence, so that hard-wrapped
    newswire paragraphs still join up."""
    units: list[tuple[int, int]] = []
    at = start
    line_start = start
    while line_start < end:
        newline = text.find("\n", line_start, end)
        if newline < 0:
            break
        line = text[line_start:newline].strip()
        closed = line.endswith((".", "!", "?", ":", '"', "”", "。", "！", "？"))
        if closed or not line or (len(line) < 50 and _starts_sentence(text, newline + 1, end)):
            units.append((at, newline))
            at = newline + 1
        line_start = newline + 1
    units.append((at, end))
    return units


def _split_line(text: str, start: int, end: int, out: list[Sentence]) -> None:
    at = start
    pieces: list[tuple[int, int]] = []
    for match in _END.finditer(text, start, end):
        stop = match.end()
        if match.group().startswith(".") and _is_abbreviation(text, at, match.start()):
            continue
        if stop < end and not _starts_sentence(text, stop, end):
            continue
        pieces.append((at, stop))
        at = stop
    pieces.append((at, end))
    single = len(pieces) == 1
    for piece_start, piece_end in pieces:
        s, e = _strip(text, piece_start, piece_end)
        if e > s:
            out.append(Sentence(s, e, text[s:e], len(out), single and not _closed(text[s:e])))


def _is_abbreviation(text: str, start: int, dot: int) -> bool:
    word_start = dot
    while word_start > start and not text[word_start - 1].isspace():
        word_start -= 1
    word = text[word_start:dot].lstrip("(\"'“").lower()
    if word in _ABBREVIATIONS:
        return True
    return len(word) == 1 and word.isalpha()  # an initial: "John F. Kennedy"


def _starts_sentence(text: str, at: int, end: int) -> bool:
    """A full stop ends a sentence when what follows opens one (capital, digit, quote)."""
    while at < end and text[at].isspace():
        at += 1
    return at >= end or not text[at].islower()


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and (text[start].isspace() or text[start] in "•*#>·"):
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _closed(sentence: str) -> bool:
    return sentence.rstrip("\"'”’)]*").endswith((".", "!", "?", "。", "！", "？"))


def trim(sentence: Sentence, start: int, end: int, max_words: int) -> tuple[int, int]:
    """The shortest run of whole clauses of ``sentence`` that covers ``[start, end)`` (article
    offsets), grown clause by clause while it stays within ``max_words``; article offsets.
    The whole sentence when it is short enough."""
    if sentence.words <= max_words:
        return sentence.start, sentence.end
    cuts = [sentence.start]
    cuts += [sentence.start + m.end() for m in _CLAUSE.finditer(sentence.text)]
    cuts.append(sentence.end)
    bounds = [(cuts[i], cuts[i + 1]) for i in range(len(cuts) - 1)]
    first = max(i for i, (s, _) in enumerate(bounds) if s <= start) if bounds else 0
    last = min((i for i, (_, e) in enumerate(bounds) if e >= end), default=len(bounds) - 1)
    last = max(last, first)

    def words(i: int, j: int) -> int:
        return len(
            sentence.text[bounds[i][0] - sentence.start : bounds[j][1] - sentence.start].split()
        )

    # grow forward first: the clause after a figure usually says what it is ("..., up 5%")
    while last + 1 < len(bounds) and words(first, last + 1) <= max_words:
        last += 1
    while first > 0 and words(first - 1, last) <= max_words:
        first -= 1
    s, e = bounds[first][0], bounds[last][1]
    if len(sentence.text[s - sentence.start : e - sentence.start].split()) > max_words:
        s, e = _word_window(sentence, start, end, max_words)
    return _tidy(sentence, s, e)


def _word_window(sentence: Sentence, start: int, end: int, max_words: int) -> tuple[int, int]:
    """A window of whole words around the figure, when even its clause is too long."""
    spans = [
        (sentence.start + m.start(), sentence.start + m.end())
        for m in _WORD.finditer(sentence.text)
    ]
    inside = [i for i, (s, e) in enumerate(spans) if e > start and s < end] or [0]
    lo = max(0, inside[0] - max_words // 3)
    hi = min(len(spans), max(inside[-1] + 1, lo + max_words))
    lo = max(0, min(lo, hi - max_words))
    return spans[lo][0], spans[hi - 1][1]


def _tidy(sentence: Sentence, start: int, end: int) -> tuple[int, int]:
    """Drop the clause separator left at the end of a trimmed clause."""
    text = sentence.text
    rel_end = end - sentence.start
    while rel_end > 0 and text[rel_end - 1] in " ,;:–—-，；：":
        rel_end -= 1
    return start, sentence.start + rel_end


def words_of(text: str) -> list[str]:
    return _WORD.findall(text)
