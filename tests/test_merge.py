"""Merging chunk extractions: duplicates collapse, conflicting values are kept and flagged."""

from __future__ import annotations

from summariser.merge import merge_metrics
from summariser.schema import (
    ExtractedMetric,
    ExtractedSentiment,
    Extraction,
)


def metric(
    value: str, *, entity: str = "Acme", name: str = "revenue", period: str | None = "Q4"
) -> ExtractedMetric:
    return ExtractedMetric(
        entity=entity, metric=name, value=value, period=period, change=None, quote="q"
    )


def extraction(*metrics: ExtractedMetric) -> Extraction:
    sentiment = ExtractedSentiment(label="neutral", score=0.0, rationale="", evidence=[])
    return Extraction(
        headline="h", bullets=[], metrics=list(metrics), sentiment=sentiment, entities=[]
    )


def test_the_same_figure_written_two_ways_is_one_metric() -> None:
    merged = merge_metrics(
        [extraction(metric("$1.2bn")), extraction(metric("$1,200 million", entity="ACME"))]
    )
    assert len(merged) == 1
    assert merged[0].chunk == 0 and not merged[0].conflict


def test_different_values_for_the_same_metric_are_kept_and_flagged() -> None:
    merged = merge_metrics([extraction(metric("$1.2bn")), extraction(metric("$1.3bn"))])
    assert [m.metric.value for m in merged] == ["$1.2bn", "$1.3bn"]
    assert all(m.conflict for m in merged)


def test_other_periods_and_entities_are_no_conflict() -> None:
    merged = merge_metrics(
        [extraction(metric("$1.2bn"), metric("$1.0bn", period="Q3"), metric("$5m", entity="Beta"))]
    )
    assert len(merged) == 3
    assert not any(m.conflict for m in merged)


def test_order_of_first_appearance_is_kept() -> None:
    merged = merge_metrics([extraction(metric("5%", name="margin")), extraction(metric("$2bn"))])
    assert [m.metric.metric for m in merged] == ["margin", "revenue"]
