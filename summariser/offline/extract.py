"""The offline answer to the extract prompt: an :class:`Extraction` built from the article's
own sentences, figures and words, with no model.

Stage: pure core (no I/O). In: one chunk of article text. Out: an ``Extraction`` whose
headline and bullets are verbatim (trimmed) sentences of the chunk and whose metric values and
quotes are the chunk's own text. Before answering, every item goes through the validator
(``check_claims``) and whatever it does not support is dropped: the offline backend never
states a figure its source does not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from summariser.figures import find_figures
from summariser.offline.entities import EntityIndex
from summariser.offline.metrics import MetricCandidate, find_metrics
from summariser.offline.sentences import Sentence, split_sentences, trim
from summariser.offline.sentiment import Tone, Verdict, judge, rationale, tone
from summariser.schema import (
    ExtractedChange,
    ExtractedEntitySentiment,
    ExtractedMetric,
    ExtractedSentiment,
    Extraction,
)
from summariser.validation import Claim, FigureClaim, check_claims

MAX_METRICS = 15
MAX_BULLETS = 6
MIN_BULLETS = 3
BULLET_WORDS = 40
HEADLINE_WORDS = 30
EVIDENCE_WORDS = 25
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class _Article:
    text: str
    sentences: list[Sentence]
    names: EntityIndex
    metrics: list[MetricCandidate]
    tones: list[Tone]


def extract(text: str) -> Extraction:
    """Headline, bullets, metrics, sentiment and per-entity tone of one chunk of text."""
    if not text.strip():
        neutral = ExtractedSentiment(
            label="neutral", score=0.0, rationale="empty text", evidence=[]
        )
        return Extraction(headline="", bullets=[], metrics=[], sentiment=neutral, entities=[])
    sentences = split_sentences(text)
    names = EntityIndex(text)
    # a few spare candidates: the self-check below may drop some
    candidates = find_metrics(text, sentences, find_figures(text), names, MAX_METRICS + 5)
    article = _Article(text, sentences, names, candidates, [tone(s) for s in sentences])
    metrics = _checked_metrics(text, candidates)[:MAX_METRICS]
    kept = [c for c, _ in metrics]
    headline, headline_sentence = _headline(article, kept)
    bullets = _bullets(article, kept, headline_sentence)
    verdict = judge(article.tones)
    return Extraction(
        headline=headline,
        bullets=bullets,
        metrics=[m for _, m in metrics],
        sentiment=ExtractedSentiment(
            label=verdict.label,
            score=verdict.score,
            rationale=rationale(verdict),
            evidence=_evidence(article, verdict),
        ),
        entities=_entities(article),
    )


# --- metrics ----------------------------------------------------------------------------------


def _checked_metrics(
    text: str, candidates: list[MetricCandidate]
) -> list[tuple[MetricCandidate, ExtractedMetric]]:
    """Each candidate as an ``ExtractedMetric``, kept only when the validator supports its
    value (and its change) inside its quote; a hedged value falls back to the bare figure."""
    out: list[tuple[MetricCandidate, ExtractedMetric]] = []
    for c in candidates:
        quote = _squash(c.sentence.text)
        values = [c.value] if c.value == c.figure.text else [c.value, c.figure.text]
        value = next(
            (v for v in values if _supported(text, FigureClaim(text=v, quote=quote))), None
        )
        if value is None:
            continue
        change = None
        if c.change is not None:
            figure, direction = c.change
            if _supported(text, FigureClaim(text=figure.text, quote=quote)):
                change = ExtractedChange(value=figure.text, direction=direction)
        metric = ExtractedMetric(
            entity=c.entity,
            metric=c.metric,
            value=value,
            period=_squash(c.period) if c.period else None,
            change=change,
            quote=quote,
        )
        out.append((c, metric))
    return out


def _supported(text: str, claim: str | Claim | FigureClaim) -> bool:
    return check_claims(text, [claim])[0].supported


# --- headline and bullets ---------------------------------------------------------------------


def _headline(article: _Article, metrics: list[MetricCandidate]) -> tuple[str, Sentence | None]:
    """The title when it states a key figure; else the first sentence stating one of the
    three key figures, trimmed; else the title or the first real sentence."""
    title = _title(article.sentences)
    key = metrics[:3]
    choices: list[tuple[str, Sentence]] = []
    if title is not None and any(m.sentence is title for m in metrics[:5]):
        choices.append((_squash(title.text), title))
    if key:
        first = min(key, key=lambda m: m.sentence.start)
        in_sentence = [m for m in key if m.sentence is first.sentence]
        choices.append((_cut(first.sentence, in_sentence, HEADLINE_WORDS), first.sentence))
    if title is not None:
        choices.append((_squash(title.text), title))
    lead = next((s for s in article.sentences if s.words >= 5 and not s.line), None)
    lead = lead or (article.sentences[0] if article.sentences else None)
    if lead is not None:
        start, end = trim(lead, lead.start, lead.start + 1, HEADLINE_WORDS)
        choices.append((_squash(article.text[start:end]), lead))
    for headline, sentence in choices:
        if _supported(article.text, headline):
            return headline, sentence
    return "", None


def _title(sentences: list[Sentence]) -> Sentence | None:
    """A title line near the top: a line of its own with 4-20 words (page furniture such as
    "Like" or "Comment" is shorter)."""
    for sentence in sentences[:8]:
        if sentence.line and 4 <= sentence.words <= 20:
            return sentence
        if not sentence.line and sentence.words >= 5:
            return None  # the body has begun
    return None


def _bullets(
    article: _Article, metrics: list[MetricCandidate], headline: Sentence | None
) -> list[str]:
    """3-6 sentences stating the key figures, in article order, each trimmed to its figures."""
    by_sentence: dict[int, list[MetricCandidate]] = {}
    for m in metrics:
        by_sentence.setdefault(m.sentence.index, []).append(m)
    ranked = sorted(
        by_sentence.values(),
        key=lambda ms: (-(max(m.score for m in ms) + 0.3 * (len(ms) - 1)), ms[0].sentence.start),
    )
    if len(ranked) > MIN_BULLETS:  # the headline's sentence need not be said twice
        ranked = [ms for ms in ranked if ms[0].sentence is not headline] or ranked
    chosen: dict[int, str] = {}
    for ms in ranked:
        if len(chosen) >= MAX_BULLETS:
            break
        bullet = _cut(ms[0].sentence, ms, BULLET_WORDS)
        if bullet not in chosen.values() and _supported(article.text, bullet):
            chosen[ms[0].sentence.start] = bullet
    for sentence in article.sentences:  # too few figures: the article's lead sentences
        if len(chosen) >= MIN_BULLETS:
            break
        if sentence.line or sentence.words < 6 or sentence is headline:
            continue
        if sentence.start in chosen:
            continue
        start, end = trim(sentence, sentence.start, sentence.start + 1, BULLET_WORDS)
        bullet = _squash(article.text[start:end])
        if bullet not in chosen.values() and _supported(article.text, bullet):
            chosen[sentence.start] = bullet
    return [chosen[at] for at in sorted(chosen)]


def _cut(sentence: Sentence, metrics: list[MetricCandidate], max_words: int) -> str:
    """The sentence trimmed to the clauses holding its metrics' figures (verbatim)."""
    starts = [m.figure.start for m in metrics] + [m.change[0].start for m in metrics if m.change]
    ends = [m.figure.end for m in metrics] + [m.change[0].end for m in metrics if m.change]
    start, end = trim(sentence, min(starts), max(ends), max_words)
    words = len(sentence.text[start - sentence.start : end - sentence.start].split())
    if words > max_words:  # the figures lie far apart: keep the first metric's clause
        start, end = trim(sentence, metrics[0].figure.start, metrics[0].figure.end, max_words)
    return _squash(sentence.text[start - sentence.start : end - sentence.start])


# --- sentiment --------------------------------------------------------------------------------


def _evidence(article: _Article, verdict: Verdict) -> list[str]:
    """Up to three short verbatim quotes, around the strongest term of each driving sentence."""
    quotes: list[str] = []
    sign = {"positive": 1.0, "negative": -1.0}.get(verdict.label, 0.0)
    for driver in verdict.drivers:
        terms = [t for t in driver.terms if not sign or t.weight * sign > 0]
        if not terms:
            continue
        term = max(terms, key=lambda t: abs(t.weight))
        s = driver.sentence
        start, end = trim(s, s.start + term.start, s.start + term.end, EVIDENCE_WORDS)
        quote = _squash(article.text[start:end])
        if quote not in quotes:
            quotes.append(quote)
    return quotes


def _entities(article: _Article) -> list[ExtractedEntitySentiment]:
    """The tone of each main company: the sentences that name it."""
    out: list[ExtractedEntitySentiment] = []
    for name in article.names.main_entities():
        tones = [
            t
            for t in article.tones
            if article.names.mentioned(name, t.sentence.start, t.sentence.end)
        ]
        verdict = judge(tones)
        out.append(ExtractedEntitySentiment(entity=name, label=verdict.label, score=verdict.score))
    return out


def _squash(text: str) -> str:
    """Whitespace runs as one space: wrapped newswire lines read as one line (the validator
    locates quotes ignoring whitespace, so they still point into the article)."""
    return _SPACES.sub(" ", text).strip()
