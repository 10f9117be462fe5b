"""The text cut into pieces that each fit the budget, at the strongest boundaries that allow it.

Stage: chunking (pure core: no I/O, no tiktoken; the counter is passed in). In: a text, a
span of it, a budget and a counting function. Out: :data:`Piece` tuples in order, each
counted once on its own and within the budget: a span that fits is one piece; one that does
not is cut by the first finder of :data:`~summariser.chunking.boundaries.SPLITTERS` that finds
a boundary in it, and, when none does, into the longest prefixes that fit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import chain

from summariser.chunking.boundaries import CHAR, SPLITTERS, safe_cut

Count = Callable[[str], int]

# A span longer than this many characters per token of the budget is split without being
# counted first: English news averages about 4.5 characters per token, so counting such a
# span would almost always be wasted. Only speed depends on it, never correctness.
CHARS_PER_TOKEN = 6

# A piece of text as the packer sees it: (end offset, tokens, strength of the cut at its end,
# index of the splitter that would cut it finer). Its start is the end of the piece before it.
# Plain tuples: millions may pass through.
Piece = tuple[int, int, int, int]


def fit_pieces(
    text: str, s: int, e: int, strength: int, depth: int, budget: int, count: Count
) -> Iterator[Piece]:
    """``text[s:e]`` as one piece if it fits, else as pieces cut at finer boundaries."""
    if e - s <= budget * CHARS_PER_TOKEN:
        tokens = count(text[s:e])
        if tokens <= budget:
            yield e, tokens, strength, depth
            return
    yield from split_pieces(text, s, e, strength, depth, budget, count)


def split_pieces(
    text: str, s: int, e: int, strength: int, depth: int, budget: int, count: Count
) -> Iterator[Piece]:
    """``text[s:e]`` cut by the first splitter from ``depth`` on that finds a boundary in it,
    each part then fitted in turn; the last resort when none does."""
    limit = budget * CHARS_PER_TOKEN
    while depth < len(SPLITTERS):
        cuts = SPLITTERS[depth](text, s, e)
        first = next(cuts, None)
        depth += 1
        if first is not None:
            prev = s
            for cut, cut_strength in chain([first], cuts, [(e, strength)]):
                # fit_pieces inlined: this loop runs once per sentence of a long paragraph.
                tokens = count(text[prev:cut]) if cut - prev <= limit else budget + 1
                if tokens <= budget:
                    yield cut, tokens, cut_strength, depth
                else:
                    yield from split_pieces(text, prev, cut, cut_strength, depth, budget, count)
                prev = cut
            return
    yield from _hard_split(text, s, e, strength, budget, count)


def _hard_split(
    text: str, s: int, e: int, strength: int, budget: int, count: Count
) -> Iterator[Piece]:
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
            cut = safe_cut(text, pos, fits)
            # Counts of prefixes almost always grow with them; keep the tested cut if not.
            tokens = count(text[pos:cut]) if cut != fits else fits_tokens
            if tokens > budget:
                cut, tokens = fits, fits_tokens
        yield cut, tokens, strength if cut == e else CHAR, len(SPLITTERS)
        step = max(1, cut - pos)
        pos = cut
