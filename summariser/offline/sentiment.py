"""The tone of an article from finance terms, for the offline backend.

Stage: pure core (no I/O). In: the article's sentences. Out: a :class:`Tone` per sentence
(the terms found, signed and weighted) and their sum over a text (:class:`Verdict`: label,
score in [-1, 1], counts, the strongest term and the sentences that drove it).

Rules, in order: phrases before words; a negator in the three words before a term flips it
("did not grow"); an intensifier next to it scales it ("rose sharply"); a direction word after
something bad reverses ("costs fell" is good news); a change word next to a figure weighs
more ("rose 40%").
"""

# Article text is full of look-alike characters on purpose (curly quotes, en dashes, the
# full-width punctuation of Chinese): the patterns must spell them out.
# ruff: noqa: RUF001

from __future__ import annotations

import re
from dataclasses import dataclass

from summariser.offline import lexicon as lex
from summariser.offline.sentences import Sentence
from summariser.schema import SentimentLabel

_TOKEN = re.compile(r"[a-z][a-z'’-]*|\d[\d.,]*\s?%?")
_LONGEST = max(len(p.split()) for p in (*lex.POSITIVE, *lex.NEGATIVE))
# Below this |score| an article reads as neutral; the denominator's constant keeps a single
# stray term from making a bland article "positive".
_THRESHOLD = 0.2
_DAMPING = 3.0


@dataclass(frozen=True, slots=True)
class Term:
    phrase: str  # as matched, lower case
    weight: float  # signed
    start: int  # offsets in the sentence's text
    end: int


@dataclass(frozen=True, slots=True)
class Tone:
    sentence: Sentence
    terms: tuple[Term, ...]

    @property
    def positive(self) -> float:
        return sum(t.weight for t in self.terms if t.weight > 0)

    @property
    def negative(self) -> float:
        return -sum(t.weight for t in self.terms if t.weight < 0)

    @property
    def net(self) -> float:
        return self.positive - self.negative


@dataclass(frozen=True, slots=True)
class Verdict:
    label: SentimentLabel
    score: float
    positives: int
    negatives: int
    strongest: Term | None
    drivers: tuple[Tone, ...]  # the sentences that carry the label, strongest first


def tone(sentence: Sentence) -> Tone:
    """The finance terms of one sentence, each signed and weighted."""
    spans = [(m.start(), m.end()) for m in _TOKEN.finditer(sentence.text.lower())]
    tokens = [sentence.text[s:e].lower() for s, e in spans]
    terms: list[Term] = []
    i = 0
    while i < len(tokens):
        matched = _match(tokens, i)
        if matched is None:
            i += 1
            continue
        phrase, weight, size = matched
        weight *= _context(tokens, i, size, phrase)
        if weight:
            terms.append(Term(phrase, weight, spans[i][0], spans[i + size - 1][1]))
        i += size
    return Tone(sentence, tuple(terms))


def _match(tokens: list[str], i: int) -> tuple[str, float, int] | None:
    for size in range(min(_LONGEST, len(tokens) - i), 0, -1):
        phrase = " ".join(tokens[i : i + size])
        if phrase in lex.POSITIVE:
            return phrase, lex.POSITIVE[phrase], size
        if phrase in lex.NEGATIVE:
            return phrase, -lex.NEGATIVE[phrase], size
    return None


def _context(tokens: list[str], i: int, size: int, phrase: str) -> float:
    """How the words around a term change it: negation, intensity, bad things, figures."""
    factor = 1.0
    before = tokens[max(0, i - 3) : i]
    if any(w in lex.NEGATORS or w.endswith(("n't", "n’t")) for w in before):
        factor = -0.8
    for word in (tokens[i - 1] if i else "", tokens[i + size] if i + size < len(tokens) else ""):
        factor *= lex.INTENSIFIERS.get(word, 1.0)
    is_direction = phrase in lex.UP_WORDS or phrase in lex.DOWN_WORDS
    if is_direction and any(w in lex.BAD_THINGS for w in before):
        factor = -factor  # "costs are declining", "losses rose"
    if phrase in lex.BAD_THINGS and any(
        w in lex.DOWN_WORDS for w in tokens[i + size : i + size + 3]
    ):
        return 0.0  # "losses narrowed": the direction word carries it, reversed
    if is_direction and any(t[:1].isdigit() for t in tokens[i + size : i + size + 3]):
        factor *= 1.5  # "rose 40%": a measured move
    return factor


def judge(tones: list[Tone]) -> Verdict:
    """The overall label and score of a set of sentences."""
    positive = sum(t.positive for t in tones)
    negative = sum(t.negative for t in tones)
    positives = sum(1 for t in tones for term in t.terms if term.weight > 0)
    negatives = sum(1 for t in tones for term in t.terms if term.weight < 0)
    score = (positive - negative) / (positive + negative + _DAMPING)
    label: SentimentLabel
    if (
        positives >= 3
        and negatives >= 3
        and min(positive, negative) / max(positive, negative) >= 0.6
    ):
        label = "mixed"
    elif score >= _THRESHOLD:
        label = "positive"
    elif score <= -_THRESHOLD:
        label = "negative"
    else:
        label = "neutral"
    sign = {"positive": 1.0, "negative": -1.0}.get(label, 0.0)
    if sign:
        drivers = sorted((t for t in tones if t.net * sign > 0), key=lambda t: -t.net * sign)
    else:  # mixed or neutral: the strongest sentences either way
        drivers = sorted((t for t in tones if t.terms), key=lambda t: -abs(t.net))
    terms = [term for t in tones for term in t.terms if not sign or term.weight * sign > 0]
    strongest = max(terms, key=lambda term: abs(term.weight), default=None)
    return Verdict(
        label=label,
        score=round(max(-1.0, min(1.0, score)), 3),
        positives=positives,
        negatives=negatives,
        strongest=strongest,
        drivers=tuple(drivers[:3]),
    )


def rationale(verdict: Verdict) -> str:
    line = f"{verdict.positives} positive vs {verdict.negatives} negative finance terms"
    if verdict.strongest is not None:
        line += f"; strongest: '{verdict.strongest.phrase}'"
    return line
