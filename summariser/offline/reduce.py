"""The offline answer to the reduce prompt: the chunks' notes combined into one
:class:`Reduction`, with no model.

Stage: pure core (no I/O). In: the notes as JSON, ``{"headlines": [...], "bullets": [...],
"sentiments": [{"label", "score", "rationale", "evidence"}], "entities": [{"entity", "label",
"score"}]}``. Out: the first chunk's headline, the best five bullets (deduplicated, in their
order), the sentiments combined with strong chunks weighing more, and entities merged by name.
Notes that are not such JSON are read as plain text and summarised like an article.
"""

from __future__ import annotations

import json
from typing import Any

from summariser.figures import FigureKind, find_figures
from summariser.offline.extract import extract
from summariser.schema import (
    ExtractedEntitySentiment,
    ExtractedSentiment,
    Reduction,
    SentimentLabel,
)

MAX_BULLETS = 5
_CLEAR = 0.2  # a chunk whose |score| reaches this has a clear tone


def reduce_notes(data: str) -> Reduction:
    """One summary of the whole article from the notes of its chunks."""
    try:
        notes = json.loads(data)
    except ValueError:
        notes = None
    if not isinstance(notes, dict):
        found = extract(data)
        return Reduction(
            headline=found.headline,
            bullets=found.bullets,
            sentiment=found.sentiment,
            entities=found.entities,
        )
    headlines = [h.strip() for h in _strings(notes.get("headlines")) if h.strip()]
    bullets = _best_bullets(_strings(notes.get("bullets")))
    return Reduction(
        headline=headlines[0] if headlines else (bullets[0] if bullets else ""),
        bullets=bullets,
        sentiment=_combined(_dicts(notes.get("sentiments"))),
        entities=_merged(_dicts(notes.get("entities"))),
    )


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _dicts(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        return []
    flat: list[dict[str, Any]] = []
    for item in value:  # a list per chunk, or one flat list
        if isinstance(item, list):
            flat += [i for i in item if isinstance(i, dict)]
        elif isinstance(item, dict):
            flat.append(item)
    return flat


def _best_bullets(bullets: list[str]) -> list[str]:
    """The bullets that state the most (money with a scale word, then rates), deduplicated by
    their words, in the order the chunks gave them."""
    seen: set[str] = set()
    unique: list[tuple[int, str]] = []
    for at, bullet in enumerate(bullets):
        key = " ".join(bullet.lower().split()).rstrip(".")
        if key and key not in seen:
            seen.add(key)
            unique.append((at, bullet.strip()))
    weight = {FigureKind.MONEY: 3.0, FigureKind.PERCENT: 2.0}
    scored = []
    for at, bullet in unique:
        figures = [f for f in find_figures(bullet) if f.is_amount]
        score = sum(weight.get(f.kind, 1.0) + (1.0 if f.scale >= 1e6 else 0.0) for f in figures)
        scored.append((-min(score, 8.0), at, bullet))
    best = sorted(scored)[:MAX_BULLETS]
    return [bullet for _, _, bullet in sorted(best, key=lambda item: item[1])]


def _score(item: dict[str, Any]) -> float:
    value = item.get("score")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return max(-1.0, min(1.0, float(value)))


def _label(score: float, scores: list[float]) -> SentimentLabel:
    """Positive or negative past the threshold; mixed when clear tones both ways nearly
    cancel; else neutral."""
    both = any(s >= _CLEAR for s in scores) and any(s <= -_CLEAR for s in scores)
    if both and abs(score) < 0.3:
        return "mixed"
    if score >= _CLEAR:
        return "positive"
    if score <= -_CLEAR:
        return "negative"
    return "neutral"


def _weighted(scores: list[float]) -> float:
    # a chunk with a clear tone counts for more than a bland one
    weights = [0.25 + abs(s) for s in scores]
    return round(sum(s * w for s, w in zip(scores, weights, strict=True)) / sum(weights), 3)


def _combined(sentiments: list[dict[str, Any]]) -> ExtractedSentiment:
    if not sentiments:
        return ExtractedSentiment(label="neutral", score=0.0, rationale="no notes", evidence=[])
    scores = [_score(s) for s in sentiments]
    score = _weighted(scores)
    label = _label(score, scores)
    counts = {
        name: sum(1 for s in sentiments if s.get("label") == name)
        for name in ("positive", "negative", "neutral", "mixed")
    }
    parts = ", ".join(f"{n} {name}" for name, n in counts.items() if n)
    order = sorted(range(len(scores)), key=lambda i: -abs(scores[i]))
    strongest = sentiments[order[0]].get("rationale")
    rationale = f"{len(sentiments)} parts ({parts})"
    if isinstance(strongest, str) and strongest.strip():
        rationale += f"; strongest: {strongest.strip()}"
    evidence: list[str] = []
    sign = {"positive": 1.0, "negative": -1.0}.get(label, 0.0)
    for i in order:
        if sign and scores[i] * sign <= 0:
            continue
        for quote in _strings(sentiments[i].get("evidence")):
            if quote.strip() and quote.strip() not in evidence and len(evidence) < 3:
                evidence.append(quote.strip())
    return ExtractedSentiment(label=label, score=score, rationale=rationale, evidence=evidence)


def _merged(entities: list[dict[str, Any]]) -> list[ExtractedEntitySentiment]:
    """Entities merged by name (case-insensitive), in first-seen order, tones combined."""
    groups: dict[str, tuple[str, list[float]]] = {}
    for item in entities:
        name = item.get("entity")
        if not isinstance(name, str) or not name.strip():
            continue
        key = " ".join(name.lower().split())
        groups.setdefault(key, (name.strip(), []))[1].append(_score(item))
    out = []
    for name, scores in groups.values():
        score = _weighted(scores)
        out.append(ExtractedEntitySentiment(entity=name, label=_label(score, scores), score=score))
    return out
