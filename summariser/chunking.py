"""Token-budget chunks of an article, with offsets into it.

Stage: chunking (pure core: no I/O, no tiktoken; the counter is passed in, usually
``summariser.tokens.encoding_for_model(model).count``). In: the cleaned text, a token budget,
an overlap, a counting function. Out: :class:`Chunk` values in order, each with
``text[chunk.start:chunk.end] == chunk.text`` and ``chunk.tokens <= budget`` as counted by the
same function.

How a text is cut, from the best boundary to the last resort: blank lines (paragraphs); line
ends after a sentence, and the rows of tables and lists; sentence ends (``. ! ?`` followed by a
capital or a digit, not after ``Inc.``, ``U.S.``, ``Mr.``...; the Chinese full stop,
exclamation and question marks with no space needed); hard line wraps, clauses (``, ; :`` and
their full-width Chinese forms); spaces between words; and, for a "word" longer than the budget
(a URL, a 10,000-digit string, Chinese without punctuation), the longest prefix that fits. A
finer boundary is looked for only inside a piece too long for the budget, so a chunk ends at a
paragraph or a sentence whenever the text allows. No cut falls inside a figure (``$1.2
billion``, ``89.71亿元``, ``40%``, as :func:`find_figures` reads them, checked in a window of
64 characters around each cut) unless the figure, with the space and stop around it, is alone
over the budget; nor inside a table row unless the row alone is.

Speed: each piece is counted once, on its own; a chunk's estimate is the sum of its pieces'
counts, and every chunk is counted exactly once more before it is given out (cuts are placed
before the space that starts a word, or after a line end, where tiktoken's counts of the parts
add up exactly, so the estimate is nearly always right). Memory: the text is walked with
generators, so only the current chunk's pieces are held beside the output.

The empty text gives no chunks; any other text, whitespace included, is covered.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import accumulate, chain

from summariser.figures import find_figures

__all__ = ["Chunk", "chunk_text", "iter_chunks"]

Count = Callable[[str], int]

# Boundary strengths, weakest first. A cut's strength is that of the boundary it ends at.
CHAR, WORD, CLAUSE, LINE, SENTENCE, PARAGRAPH, END = range(7)

# A span longer than this many characters per token of the budget is split without being
# counted first: English news averages about 4.5 characters per token, so counting such a
# span would almost always be wasted. Only speed depends on it, never correctness.
_CHARS_PER_TOKEN = 6
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
# inside a line (the cut goes before the spaces after it; abbreviations are no stops there),
# and Chinese stops, which need no space after them. Line ends without a stop are cuts only
# around table and list rows, so a second pattern looks for them where rows are.
_STOP_AT_LINE_END = rf"(?P<line>[.!?。！？][{_CLOSERS}]*[^\S\n]*\n\s*)"  # noqa: RUF001
_STOP_IN_LINE = rf"(?P<inline>(?:\.{_not_after_abbreviation()}|[!?])[{_CLOSERS}]*)(?=[^\S\n]+\S)"
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


@dataclass(frozen=True, slots=True)
class Chunk:
    """A span of the source: ``source[start:end] == text``; ``tokens`` counted exactly.

    With overlap, ``start`` is where the repeated text begins.
    """

    index: int
    start: int
    end: int
    text: str
    tokens: int


# A piece of text as the packer sees it: (end offset, tokens, strength of the cut at its end,
# index of the splitter that would cut it finer). Its start is the end of the piece before it.
# Plain tuples: millions may pass through.
_Piece = tuple[int, int, int, int]


def chunk_text(text: str, *, budget: int, overlap: int = 0, count: Count) -> list[Chunk]:
    """Cut ``text`` into chunks of at most ``budget`` tokens as ``count`` counts them.

    ``overlap``: up to this many tokens of the end of each chunk, from a sentence or word
    start, are repeated at the start of the next one (inside its budget). When the next
    paragraph needs the room, the overlap shrinks to what is left if that is at least half of
    it; otherwise the paragraph is cut finer to make room. Raises ValueError for a budget below
    1, an overlap not below the budget, or a budget smaller than a single character's count.
    """
    return list(iter_chunks(text, budget=budget, overlap=overlap, count=count))


def iter_chunks(text: str, *, budget: int, overlap: int = 0, count: Count) -> Iterator[Chunk]:
    """The chunks of :func:`chunk_text`, one at a time (for very long texts)."""
    if budget < 1:
        raise ValueError(f"budget must be at least 1 token, not {budget}")
    if not 0 <= overlap < budget:
        raise ValueError(f"overlap must be at least 0 and below the budget, not {overlap}")
    if text:
        yield from _Packer(text, budget, overlap, count).run()


class _Packer:
    """Fills chunks with pieces, in order, and decides where each chunk ends and the next
    begins (with its repeated text)."""

    def __init__(self, text: str, budget: int, overlap: int, count: Count) -> None:
        self.text, self.budget, self.overlap, self.count = text, budget, overlap, count
        self.start = self.head = 0  # the chunk being filled: text[start:head] is repeated,
        self.head_tokens = 0  # (that many tokens), then come the pending pieces
        self.pending: list[_Piece] = []
        self.total = 0  # estimated tokens of the chunk being filled
        self.index = 0
        self.previous = (0, 0, 0)  # start, end and tokens of the chunk given out last

    def run(self) -> Iterator[Chunk]:
        text, budget = self.text, self.budget
        stream = _fit(text, 0, len(text), END, 0, budget, self.count)
        returned: list[_Piece] = []  # pieces cut finer, to be taken before the stream's next
        piece = next(stream, None)
        while piece is not None or self.pending:
            if piece is not None and self.total + piece[1] <= budget:
                self.pending.append(piece)
                self.total += piece[1]
                piece = returned.pop() if returned else next(stream, None)
            elif self.pending:
                chunk = self._close()
                if chunk is not None:
                    yield chunk
            elif piece is not None:
                # Only the repeated text is in the chunk, and the next piece does not fit
                # beside it: shrink the repeat, or cut the piece finer for the room left.
                room = budget - piece[1]
                if 2 * room >= self.overlap:
                    self._repeat(room)
                else:
                    finer = self._finer(piece)
                    if finer:
                        returned.extend(reversed(finer[1:]))
                        piece = finer[0]
                    else:
                        self._repeat(0)

    def _close(self) -> Chunk | None:
        """Give out the chunk being filled, ended at the best cut among its pieces, and start
        the next one: the pieces not taken, after the repeated end of this one. None when the
        only cuts split a figure and the repeated text goes instead, to make room."""
        text, pending, count, budget = self.text, self.pending, self.count, self.budget
        sums = list(accumulate((p[1] for p in pending), initial=self.head_tokens))
        taken = _strongest_cut(pending, sums, budget)
        check_figures = True
        while True:
            end, _, strength, _ = pending[taken - 1]
            if check_figures and strength < PARAGRAPH and (taken > 1 or self.start < self.head):
                figure_start = _figure_across(text, end)
                if figure_start is not None:
                    earlier = [i for i in range(1, taken) if pending[i - 1][0] <= figure_start]
                    if earlier:
                        taken = earlier[-1]
                    elif self.start < self.head:
                        self._repeat(0)
                        return None
                    else:
                        check_figures = False  # nowhere else to cut: the figure is split
                    continue
            tokens = count(text[self.start : end])
            if tokens <= budget:
                break
            if taken > 1:
                taken -= 1  # the estimate was short (counts of the parts did not add up)
                check_figures = True
            elif self.start < self.head:
                self.start = self.head  # the one piece fits alone: drop the repeated text
            else:  # pragma: no cover - every piece was counted on its own and fits
                raise AssertionError("a piece over the budget")
        chunk = Chunk(self.index, self.start, end, text[self.start : end], tokens)
        self.index += 1
        del pending[:taken]
        self.previous = (self.start, end, tokens)
        self.start = self.head = end
        self.head_tokens = 0
        self.total = sum(p[1] for p in pending)
        if self.overlap and end < len(text):
            self._repeat(min(self.overlap, budget - self.total))
        return chunk

    def _repeat(self, tokens: int) -> None:
        """Begin the chunk being filled with up to ``tokens`` of the previous chunk's end."""
        self.total -= self.head_tokens
        self.start, self.head_tokens = self.head, 0
        if tokens > 0:
            start, end, chunk_tokens = self.previous
            self.start, self.head_tokens = _overlap_start(
                self.text, start, end, tokens, chunk_tokens, self.count
            )
        self.total += self.head_tokens

    def _finer(self, piece: _Piece) -> list[_Piece]:
        """``piece`` cut at finer boundaries, for the room left beside the repeated text."""
        room = self.budget - self.head_tokens
        end, _, strength, depth = piece
        try:
            return list(_split(self.text, self.head, end, strength, depth, room, self.count))
        except ValueError:
            return []  # the room is less than one character: no repeat for this chunk


def _strongest_cut(pending: list[_Piece], sums: list[int], budget: int) -> int:
    """How many pieces to take: all, unless they end at less than a sentence and a stronger
    boundary comes late enough to keep at least half the budget."""
    best = len(pending)
    best_strength = min(pending[-1][2], SENTENCE)
    if best_strength >= SENTENCE:
        return best
    for taken in range(len(pending) - 1, 0, -1):
        strength = min(pending[taken - 1][2], SENTENCE)
        if sums[taken] * 2 < budget:
            break
        if strength > best_strength:
            best, best_strength = taken, strength
    return best


def _overlap_start(
    text: str, start: int, end: int, overlap: int, chunk_tokens: int, count: Count
) -> tuple[int, int]:
    """Where the repeated end of ``text[start:end]`` begins, and its tokens: the earliest
    sentence start that fits if it keeps at least half of ``overlap``, else the earliest word
    start that fits; never inside a figure. ``(end, 0)`` when nothing fits."""
    # Look back about twice as far as the overlap needs, at this chunk's characters per token.
    reach = (end - start) * overlap * 2 // max(chunk_tokens, 1) + 32
    lo = max(start + 1, end - reach)
    for cut, _ in _sentences(text, lo - 1, end):
        tokens = count(text[cut:end])
        if tokens <= overlap:
            # Later sentence starts keep even less: this one or none.
            if 2 * tokens >= overlap and _figure_across(text, cut) is None:
                return cut, tokens
            break
    words = [cut for cut, _ in _words(text, lo - 1, end)]
    # Counts of suffixes shrink as the start moves right: search for the earliest that fits.
    first, past = 0, len(words)
    while first < past:
        mid = (first + past) // 2
        if count(text[words[mid] : end]) <= overlap:
            past = mid
        else:
            first = mid + 1
    for cut in words[first:]:
        tokens = count(text[cut:end])
        if tokens <= overlap and _figure_across(text, cut) is None:
            return cut, tokens
    return end, 0


# --- pieces: the text cut at the strongest boundaries that make each piece fit ------------


def _fit(
    text: str, s: int, e: int, strength: int, depth: int, budget: int, count: Count
) -> Iterator[_Piece]:
    """``text[s:e]`` as one piece if it fits, else as pieces cut at finer boundaries."""
    if e - s <= budget * _CHARS_PER_TOKEN:
        tokens = count(text[s:e])
        if tokens <= budget:
            yield e, tokens, strength, depth
            return
    yield from _split(text, s, e, strength, depth, budget, count)


def _split(
    text: str, s: int, e: int, strength: int, depth: int, budget: int, count: Count
) -> Iterator[_Piece]:
    """``text[s:e]`` cut by the first splitter from ``depth`` on that finds a boundary in it,
    each part then fitted in turn; the last resort when none does."""
    limit = budget * _CHARS_PER_TOKEN
    while depth < len(_SPLITTERS):
        cuts = _SPLITTERS[depth](text, s, e)
        first = next(cuts, None)
        depth += 1
        if first is not None:
            prev = s
            for cut, cut_strength in chain([first], cuts, [(e, strength)]):
                # _fit inlined: this loop runs once per sentence of a long paragraph.
                tokens = count(text[prev:cut]) if cut - prev <= limit else budget + 1
                if tokens <= budget:
                    yield cut, tokens, cut_strength, depth
                else:
                    yield from _split(text, prev, cut, cut_strength, depth, budget, count)
                prev = cut
            return
    yield from _hard_split(text, s, e, strength, budget, count)


def _paragraphs(text: str, s: int, e: int) -> Iterator[tuple[int, int]]:
    """Cuts after each run of blank lines."""
    for match in _PARAGRAPH.finditer(text, s, e):
        if match.end() < e:
            yield match.end(), PARAGRAPH


def _sentences(text: str, s: int, e: int) -> Iterator[tuple[int, int]]:
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
        elif kind != "inline" or not text[_SPACES.match(text, cut).end()].islower():  # type: ignore[union-attr]
            yield cut, SENTENCE


def _has_rows(text: str, s: int, e: int) -> bool:
    """True when ``text[s:e]`` holds a table or list row (cheap tests first)."""
    if _ROW.match(text, s, e) or _LIST_ITEM.search(text, s, e):
        return True
    return any(text.find(mark, s, e) >= 0 for mark in ("|", "\t", "  ")) and bool(
        _ANY_ROW.search(text, s, e)
    )


def _clauses(text: str, s: int, e: int) -> Iterator[tuple[int, int]]:
    """Cuts after hard line wraps and after clause marks (``, ; :``, also full-width)."""
    if _has_rows(text, s, e):
        return  # a table row: only words may split it, and only when it alone is too long
    for match in _CLAUSE.finditer(text, s, e):
        if match.end() < e:
            yield match.end(), LINE if text[match.start()] == "\n" else CLAUSE


def _words(text: str, s: int, e: int) -> Iterator[tuple[int, int]]:
    """Cuts before the spaces that start each word (after them when they hold a line end),
    except after a title such as ``Mr.`` or ``No.``."""
    for match in _SPACES.finditer(text, s, e):
        i, j = match.span()
        cut = j if "\n" in match.group() else i
        if s < cut < e and not (i > s and text[i - 1] == "." and _title(text, s, i - 1)):
            yield cut, WORD


_SPLITTERS = (_paragraphs, _sentences, _clauses, _words)


def _hard_split(
    text: str, s: int, e: int, strength: int, budget: int, count: Count
) -> Iterator[_Piece]:
    """The last resort for a span with no boundary: the longest prefixes that fit, moved back
    to a figure's start or a character's base when that is possible."""
    pos = s
    step = budget  # characters: at least one per token is the first guess
    while pos < e:
        fits, fits_tokens, over = pos, 0, e + 1
        probe = min(e, pos + step)
        while True:  # grow the probe until it is over the budget or reaches the end
            tokens = count(text[pos:probe])
            if tokens <= budget:
                fits, fits_tokens = probe, tokens
                if probe == e:
                    break
                probe = min(e, pos + 2 * (probe - pos))
            else:
                over = probe
                break
        while over - fits > 1:  # the longest prefix that fits lies in (fits, over)
            mid = (fits + over) // 2
            tokens = count(text[pos:mid])
            if tokens <= budget:
                fits, fits_tokens = mid, tokens
            else:
                over = mid
        if fits == pos:
            raise ValueError(
                f"a budget of {budget} tokens is less than one character: "
                f"{text[pos]!r} counts {count(text[pos])}"
            )
        cut, tokens = fits, fits_tokens
        if fits < e:
            cut = _safe_cut(text, pos, fits)
            # Counts of prefixes almost always grow with them; keep the tested cut if not.
            tokens = count(text[pos:cut]) if cut != fits else fits_tokens
            if tokens > budget:
                cut, tokens = fits, fits_tokens
        yield cut, tokens, strength if cut == e else CHAR, len(_SPLITTERS)
        step = max(1, cut - pos)
        pos = cut


def _safe_cut(text: str, lo: int, cut: int) -> int:
    """``cut`` moved back to the start of a figure or a character it would split, unless
    that leaves nothing before it."""
    figure_start = _figure_across(text, cut, lo)
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


def _figure_across(text: str, cut: int, lo: int | None = None) -> int | None:
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
