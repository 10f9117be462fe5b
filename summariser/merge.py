"""Merge the extractions of a long article's chunks into one list of metrics.

Stage: pure core. In: one :class:`~summariser.schema.Extraction` per chunk, in order. Out: the
metrics of the whole article, where the same figure reported by two chunks (same entity,
metric, period and value: chunks overlap, and articles repeat their key figures) appears once,
and different values for the same entity, metric and period are all kept and flagged as a
conflict, for a person to look at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from summariser.figures import find_figures
from summariser.schema import ExtractedMetric, Extraction


@dataclass(frozen=True, slots=True)
class MergedMetric:
    metric: ExtractedMetric
    chunk: int
    conflict: bool


def merge_metrics(extractions: list[Extraction]) -> list[MergedMetric]:
    """Every distinct metric once, in order of first appearance, conflicts flagged."""
    seen: dict[tuple[str, str, str, str], int] = {}
    values_by_key: dict[tuple[str, str, str], set[str]] = {}
    merged: list[tuple[ExtractedMetric, int]] = []
    for chunk, extraction in enumerate(extractions):
        for metric in extraction.metrics:
            key = _key(metric)
            value = _value_key(metric.value)
            if (*key, value) in seen:
                continue
            seen[(*key, value)] = len(merged)
            values_by_key.setdefault(key, set()).add(value)
            merged.append((metric, chunk))
    return [
        MergedMetric(metric, chunk, conflict=len(values_by_key[_key(metric)]) > 1)
        for metric, chunk in merged
    ]


def _key(metric: ExtractedMetric) -> tuple[str, str, str]:
    return (_norm(metric.entity), _norm(metric.metric), _norm(metric.period or ""))


def _norm(text: str) -> str:
    return re.sub(r"[\W_]+", " ", text.lower()).strip()


def _value_key(value: str) -> str:
    """Equal values written differently ("$1.2bn", "$1,200 million") are one value."""
    figures = [f for f in find_figures(value) if f.is_amount]
    if not figures:
        return _norm(value)
    first = figures[0]
    return f"{abs(first.value):.9g} {first.unit or ''}"
