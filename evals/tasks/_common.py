"""Helpers the tasks share: report excerpts, usage from provenance, the error-rate metric."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from evals.core import MetricValue, Sample
from evals.metrics import wilson_interval
from summariser.schema import Summary

AROUND = 300  # characters of context either side of a highlighted span


def highlight(
    text: str, spans: Sequence[dict[str, Any]], *, note: str = "", around: int = AROUND
) -> dict[str, Any] | None:
    """An excerpt of ``text`` around the first span given (``around`` characters either side:
    callers put the span that matters most first) with the spans that fall inside it, their
    offsets moved into the excerpt; None without spans.

    ``spans`` are ``{"start", "end", "status", "label"}`` with offsets into ``text``."""
    if not spans:
        return None
    first = spans[0]
    start = max(0, first["start"] - around)
    end = min(len(text), first["end"] + around)
    inside = [s for s in spans if s["start"] >= start and s["end"] <= end]
    moved = [
        {**s, "start": s["start"] - start, "end": s["end"] - start}
        for s in sorted(inside, key=lambda s: (s["start"], s["end"]))
    ]
    out: dict[str, Any] = {"text": text[start:end], "offset": start, "spans": moved}
    if note:
        out["note"] = note
    return out


def usage(summary: Summary) -> tuple[dict[str, int], float | None]:
    """The tokens of every attempt and the estimated cost, from the summary's provenance."""
    used = summary.provenance.usage
    tokens = {
        "prompt": used.prompt_tokens,
        "completion": used.completion_tokens,
        "cached": used.cached_tokens,
    }
    return tokens, summary.provenance.estimated_cost_usd


def ok_samples(samples: Iterable[Sample]) -> list[Sample]:
    return [s for s in samples if s.error is None]


def error_rate(samples: Sequence[Sample]) -> MetricValue:
    """The share of items whose run raised (lower is better)."""
    failed = sum(s.error is not None for s in samples)
    n = len(samples)
    low, high = wilson_interval(failed, n) if n else (None, None)
    return MetricValue(
        name="error_rate",
        value=failed / n if n else None,
        count=n,
        low=low,
        high=high,
        method="wilson",
        higher_is_better=False,
    )


def kinds(samples: Iterable[Sample]) -> list[str]:
    """The kinds present, in sorted order (one slice each)."""
    return sorted({s.kind for s in samples})
