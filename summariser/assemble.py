"""Assemble the checked summary: every figure of the answer checked against the article.

Stage: pure core. In: the cleaned article, the answer (headline, bullets, merged metrics,
sentiment) and the run's provenance. Out: a :class:`~summariser.schema.Summary` in which every
figure carries the validator's verdict. Unsupported figures stay, marked, unless the caller
asks to drop them; they are never presented as fact.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from summariser.figures import find_figures
from summariser.merge import MergedMetric
from summariser.schema import (
    Change,
    CheckedText,
    Direction,
    EntitySentiment,
    ExtractedEntitySentiment,
    ExtractedSentiment,
    FigureCheck,
    FigureStatus,
    Metric,
    Provenance,
    Sentiment,
    SourceFormat,
    SourceInfo,
    Summary,
    TextSpan,
    UnsupportedFigure,
    ValidationReport,
)
from summariser.validation import (
    Claim,
    ClaimVerdict,
    FigureClaim,
    FigureVerdict,
    Span,
    Status,
    check_claims,
    locate,
)


@dataclass(frozen=True, slots=True)
class Answer:
    """What the backend said about the whole article, before checking."""

    headline: str
    bullets: Sequence[str]
    metrics: Sequence[MergedMetric]
    sentiment: ExtractedSentiment
    entities: Sequence[ExtractedEntitySentiment]


def build_summary(
    article: str,
    answer: Answer,
    provenance: Provenance,
    *,
    source_format: SourceFormat,
    removed_lines: int,
    drop_unsupported: bool = False,
) -> Summary:
    headline = check_text(article, answer.headline)
    bullets = [check_text(article, bullet) for bullet in answer.bullets]
    metrics = [check_metric(article, merged) for merged in answer.metrics]
    report = _report(headline, bullets, metrics, article)
    dropped = 0
    if drop_unsupported:
        kept_bullets = [b for b in bullets if b.supported]
        kept_metrics = [m for m in metrics if m.status != "unsupported"]
        dropped = len(bullets) - len(kept_bullets) + len(metrics) - len(kept_metrics)
        if not headline.supported:
            dropped += 1
            headline = (
                kept_bullets[0]
                if kept_bullets
                else CheckedText(text="", supported=True, figures=[])
            )
        bullets, metrics = kept_bullets, kept_metrics
    return Summary(
        headline=headline,
        summary=bullets,
        metrics=metrics,
        sentiment=_sentiment(article, answer.sentiment, answer.entities),
        validation=report.model_copy(update={"dropped": dropped}),
        provenance=provenance,
        source=SourceInfo(
            format=source_format,
            chars=len(article),
            sha256=hashlib.sha256(article.encode("utf-8")).hexdigest(),
            removed_lines=removed_lines,
        ),
    )


def check_text(article: str, text: str) -> CheckedText:
    verdict = check_claims(article, [Claim(text)])[0]
    return CheckedText(
        text=text, supported=verdict.supported, figures=[_figure_check(f) for f in verdict.figures]
    )


def check_metric(article: str, merged: MergedMetric) -> Metric:
    extracted = merged.metric
    quote = extracted.quote if extracted.quote.strip() else None
    verdict = check_claims(article, [FigureClaim(text=extracted.value, quote=quote)])[0]
    amounts = [f for f in verdict.figures if f.figure.is_amount] or list(verdict.figures)
    main = amounts[0] if amounts else None
    status, reason = _status(main)
    span = verdict.quote_span
    return Metric(
        entity=extracted.entity,
        metric=extracted.metric,
        value=main.figure.value if main else None,
        value_text=extracted.value,
        unit=main.figure.unit if main else None,
        period=extracted.period,
        change=_change(extracted.change.value, extracted.change.direction)
        if extracted.change
        else None,
        quote=extracted.quote,
        span=TextSpan(start=span.start, end=span.end, text=span.text) if span else None,
        status=status,
        reason=reason,
        evidence=[_span(e) for e in main.evidence] if main else [],
        conflict=merged.conflict,
    )


_STATUS: dict[Status, FigureStatus] = {
    Status.SUPPORTED: "supported",
    Status.UNSUPPORTED: "unsupported",
    Status.SKIPPED: "skipped",
}


def _status(verdict: FigureVerdict | None) -> tuple[FigureStatus, str]:
    if verdict is None:
        return "skipped", "no_figure"  # a "metric" with no number in it states no figure
    return _STATUS[verdict.status], verdict.reason.value


def _change(text: str, direction: Direction) -> Change:
    figures = [f for f in find_figures(text) if f.is_amount]
    value = abs(figures[0].value) if figures else None
    unit = figures[0].unit if figures else None
    return Change(value=value, unit=unit, direction=direction, text=text)


def _report(
    headline: CheckedText, bullets: list[CheckedText], metrics: list[Metric], article: str
) -> ValidationReport:
    supported = unsupported = 0
    listed: list[UnsupportedFigure] = []
    for where, checked in [
        ("headline", headline),
        *((f"summary[{i}]", b) for i, b in enumerate(bullets)),
    ]:
        for figure in checked.figures:
            if figure.status == "supported":
                supported += 1
            elif figure.status == "unsupported":
                unsupported += 1
                listed.append(
                    UnsupportedFigure(where=where, text=figure.text, reason=figure.reason)
                )
    for i, metric in enumerate(metrics):
        if metric.status == "supported":
            supported += 1
        elif metric.status == "unsupported":
            unsupported += 1
            listed.append(
                UnsupportedFigure(
                    where=f"metrics[{i}]", text=metric.value_text, reason=metric.reason
                )
            )
        if metric.change is not None:
            ok = _change_supported(article, metric)
            supported += ok
            unsupported += not ok
            if not ok:
                listed.append(
                    UnsupportedFigure(
                        where=f"metrics[{i}].change", text=metric.change.text, reason="not_found"
                    )
                )
    return ValidationReport(
        figures_supported=supported, figures_unsupported=unsupported, unsupported=listed, dropped=0
    )


def _change_supported(article: str, metric: Metric) -> bool:
    assert metric.change is not None
    if metric.change.value is None:
        return True  # "flat", "unchanged": no figure to check
    quote = metric.quote if metric.quote.strip() else None
    verdict: ClaimVerdict = check_claims(
        article, [FigureClaim(text=metric.change.text, quote=quote)]
    )[0]
    return verdict.supported


def _sentiment(
    article: str, sentiment: ExtractedSentiment, entities: Sequence[ExtractedEntitySentiment]
) -> Sentiment:
    evidence = []
    for quote in sentiment.evidence:
        span = locate(article, quote)
        if span is not None:  # evidence that is not in the article is no evidence
            evidence.append(_span(span))
    return Sentiment(
        label=sentiment.label,
        score=_clamp(sentiment.score),
        rationale=sentiment.rationale,
        evidence=evidence,
        entities=[
            EntitySentiment(entity=e.entity, label=e.label, score=_clamp(e.score)) for e in entities
        ],
    )


def _clamp(score: float) -> float:
    return max(-1.0, min(1.0, score))


def _span(span: Span) -> TextSpan:
    return TextSpan(start=span.start, end=span.end, text=span.text)


def _figure_check(verdict: FigureVerdict) -> FigureCheck:
    figure = verdict.figure
    return FigureCheck(
        text=figure.text,
        value=figure.value,
        unit=figure.unit,
        kind=figure.kind.value,
        hedge=figure.hedge,
        status=_STATUS[verdict.status],
        reason=verdict.reason.value,
        evidence=[_span(e) for e in verdict.evidence],
        hints=[_span(h) for h in verdict.hints],
    )


def unsupported_in(source: str, texts: Sequence[str]) -> list[tuple[str, list[Span]]]:
    """The figures of ``texts`` that ``source`` does not support, with their nearest source
    figures: what a targeted re-ask names."""
    found: list[tuple[str, list[Span]]] = []
    for verdict in check_claims(source, [Claim(t) for t in texts]):
        for figure in verdict.figures:
            if figure.status is Status.UNSUPPORTED:
                found.append((figure.figure.text, list(figure.hints)))
    return found
