"""Chunks: pieces packed in order up to the budget, each chunk ended at its best cut.

Stage: chunking (pure core: no I/O, no tiktoken; the counter is passed in). In: the cleaned
text, a token budget, an overlap, a counting function. Out: :class:`Chunk` values in order,
each counted exactly once more before it is given out. The packer takes pieces from
:mod:`~summariser.chunking.pieces`, ends a chunk at the strongest cut that keeps at least half
the budget, moves a cut that would split a figure, and starts the next chunk with the repeated
end of the last one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate

from summariser.chunking.boundaries import (
    END,
    PARAGRAPH,
    SENTENCE,
    figure_across,
    sentence_cuts,
    word_cuts,
)
from summariser.chunking.pieces import Count, Piece, fit_pieces, split_pieces

__all__ = ["Chunk", "chunk_text", "iter_chunks"]


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
        self.pending: list[Piece] = []
        self.total = 0  # estimated tokens of the chunk being filled
        self.index = 0
        self.previous = (0, 0, 0)  # start, end and tokens of the chunk given out last

    def run(self) -> Iterator[Chunk]:
        text, budget = self.text, self.budget
        stream = fit_pieces(text, 0, len(text), END, 0, budget, self.count)
        returned: list[Piece] = []  # pieces cut finer, to be taken before the stream's next
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
                figure_start = figure_across(text, end)
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

    def _finer(self, piece: Piece) -> list[Piece]:
        """``piece`` cut at finer boundaries, for the room left beside the repeated text."""
        room = self.budget - self.head_tokens
        end, _, strength, depth = piece
        try:
            return list(split_pieces(self.text, self.head, end, strength, depth, room, self.count))
        except ValueError:
            return []  # the room is less than one character: no repeat for this chunk


def _strongest_cut(pending: list[Piece], sums: list[int], budget: int) -> int:
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
    for cut, _ in sentence_cuts(text, lo - 1, end):
        tokens = count(text[cut:end])
        if tokens <= overlap:
            # Later sentence starts keep even less: this one or none.
            if 2 * tokens >= overlap and figure_across(text, cut) is None:
                return cut, tokens
            break
    words = [cut for cut, _ in word_cuts(text, lo - 1, end)]
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
        if tokens <= overlap and figure_across(text, cut) is None:
            return cut, tokens
    return end, 0
