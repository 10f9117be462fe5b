"""Who an article is about: capitalised name sequences, counted, for the offline backend.

Stage: pure core (no I/O). In: the article text. Out: an :class:`EntityIndex` with every name
mention (offsets, canonical name) and the names ranked by how often they occur; the main
company is the first of them.
"""

# Article text is full of look-alike characters on purpose (curly quotes, en dashes, the
# full-width punctuation of Chinese): the patterns must spell them out.
# ruff: noqa: RUF001

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass

from summariser.offline.lexicon import NOT_ALONE, NOT_ENTITIES

# A run of capitalised words ("Alibaba Cloud", "Bank of America", "AT&T", "T-Head"), joined by
# single spaces, "of", "&" or "and" between capitalised words. Possessive 's is left outside.
_NAME = re.compile(
    r"(?<![\w'’])(?:[A-Z][\w&.\-]*[A-Za-z0-9&]|[A-Z])"
    r"(?:(?:[ ]|[ ](?:of|and|&|de|du|la)[ ])(?:[A-Z][\w&.\-]*[A-Za-z0-9&]|[A-Z]))*"
)


_LOWER_WORD = re.compile(r"(?<![\w-])[a-z][\w-]*")


@dataclass(frozen=True, slots=True)
class Mention:
    start: int
    end: int
    name: str  # the canonical name it counts for ("Alibaba Cloud IaaS" -> "Alibaba Cloud")
    possessive: bool


class EntityIndex:
    """The names of one article: mentions in order and names ranked by frequency."""

    def __init__(self, text: str) -> None:
        raw: list[tuple[int, int, str, bool]] = []
        inside: Counter[str] = Counter()  # mentions that do not open a sentence
        for match in _NAME.finditer(text):
            for start, end, name in _clean(match.start(), match.group()):
                after = text[end : end + 2]
                raw.append((start, end, name, after in ("'s", "’s")))
                if not _opens_sentence(text, start):
                    inside[name] += 1
        lower = Counter(w for w in _LOWER_WORD.findall(text))
        # A single word also written in lower case, and more often so or only ever opening
        # a sentence as a capital ("Model", "Traditional"), is an ordinary word, not a name.
        # A word that only ever opens a sentence, once ("Reporting", "Turnover"), is too.
        seen = Counter(r[2] for r in raw)
        raw = [
            r
            for r in raw
            if " " in r[2]
            or (inside[r[2]] > 0 and lower[r[2].lower()] <= inside[r[2]])
            or (not lower[r[2].lower()] and (seen[r[2]] >= 2 or r[2].isupper() or r[3]))
        ]
        counts = Counter(name for _, _, name, _ in raw)
        frequent = {name for name, n in counts.items() if n >= 2}
        self.mentions: list[Mention] = []
        for start, end, name, possessive in raw:
            canonical = _longest_frequent_prefix(name, frequent)
            self.mentions.append(Mention(start, end, canonical, possessive))
        self.counts = Counter(m.name for m in self.mentions)
        self._starts = [m.start for m in self.mentions]
        # rank: frequency, then first appearance (a tie goes to the name the article opens with)
        first: dict[str, int] = {}
        for m in self.mentions:
            first.setdefault(m.name, m.start)
        self.ranked = sorted(self.counts, key=lambda name: (-self.counts[name], first[name]))

    @property
    def main(self) -> str | None:
        """The article's main company: its most frequent name, when it occurs twice or more."""
        top = [name for name in self.ranked if self.counts[name] >= 2]
        return top[0] if top else (self.ranked[0] if self.ranked else None)

    def main_entities(self, limit: int = 4) -> list[str]:
        """The names the article is about: the most frequent ones (twice or more)."""
        return [name for name in self.ranked if self.counts[name] >= 2][:limit]

    def near(self, start: int, end: int, position: int) -> str | None:
        """The name a figure at ``position`` is about, looking in ``[start, position)`` (its
        clause or sentence): the closest name before it, preferring frequent names."""
        lo = bisect_left(self._starts, start)
        hi = bisect_left(self._starts, position)
        candidates = self.mentions[lo:hi]
        if not candidates:
            return None
        frequent = [m for m in candidates if self.counts[m.name] >= 2]
        chosen = (frequent or candidates)[-1]
        return chosen.name

    def mentioned(self, name: str, start: int, end: int) -> bool:
        lo = bisect_left(self._starts, start)
        hi = bisect_left(self._starts, end)
        return any(m.name == name for m in self.mentions[lo:hi])


def _clean(start: int, run: str) -> list[tuple[int, int, str]]:
    """Split a capitalised run into names: words that name nothing ("The", "According", "CEO",
    "May") are cut off, and a run broken by them yields the pieces on either side."""
    out: list[tuple[int, int, str]] = []
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", run)]
    piece: list[tuple[int, int]] = []

    def flush() -> None:
        while piece and piece[-1][0] >= 0 and _joiner(run[piece[-1][0] : piece[-1][1]]):
            piece.pop()
        if piece:
            s, e = piece[0][0], piece[-1][1]
            name = run[s:e].rstrip(".")
            alone = " " not in name
            if alone and (name.lower() in NOT_ALONE or _adjectival(name)):
                pass
            elif any(c.isalpha() for c in name) and not any(c.isdigit() for c in name):
                out.append((start + s, start + s + len(name), name))
        piece.clear()

    for s, e in words:
        word = run[s:e]
        if word.lower().rstrip(".") in NOT_ENTITIES or (not piece and _joiner(word)):
            flush()
            continue
        piece.append((s, e))
    flush()
    return out


def _opens_sentence(text: str, at: int) -> bool:
    before = text[max(0, at - 3) : at].rstrip(" \t\"'“‘(*#•")
    return not before or before[-1] in ".!?:\n"


def _joiner(word: str) -> bool:
    return word in ("of", "and", "&", "de", "du", "la")


def _adjectival(word: str) -> bool:
    """``AI-related``, ``Lobster-like``: a hyphenated word ending in lower case describes."""
    return "-" in word and word.rsplit("-", 1)[1].islower()


def _longest_frequent_prefix(name: str, frequent: set[str]) -> str:
    """``"Alibaba Cloud IaaS"`` counts for ``"Alibaba Cloud"`` when that occurs on its own."""
    if name in frequent:
        return name
    words = name.split(" ")
    for cut in range(len(words) - 1, 0, -1):
        prefix = " ".join(words[:cut])
        if prefix in frequent:
            return prefix
    return name
