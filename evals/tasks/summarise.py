"""The ``summarise`` task: the whole pipeline on an article, scored on its figures.

Stage: eval scoring. In: an item with payload ``{"text"}``; expected ``{}`` (BBC), ``{"gold":
[summary lines]}`` (ECTSum) or ``{"key_figures": [{"text", "value", "unit"}]}`` (the seed).
Out: a sample with the headline, bullets, metrics and validation counts, tokens, cost and
latency from the provenance, and these scores:

- ``figure_precision``: the share of the summary's checked figures (headline, bullets, metric
  values and their changes: the counts of ``summary.validation``) that the article supports,
  by the validator's verdict; None when the summary states no figure.
- ``unsupported_figures`` and ``unsupported_headline`` / ``_bullets`` / ``_metrics``: counts.
- ECTSum: ``gold_recall``, the share of the gold summary's figures that the summary shows as
  supported facts (headline, bullets or metrics), and ``gold_recall_at_5`` / ``_10`` / ``_15``
  over the first metrics only. Gold figures are the distinct amounts (kind, value, unit) of
  the gold lines that the transcript supports (``check_claims(transcript, [figure])``); about
  one in seven is not in the transcript (Reuters wrote from press releases) and is left out.
  A gold figure is found when one of ours lies in the interval the gold figure's precision and
  hedge allow, with a compatible unit: the validator's rules, not string equality.
- The seed: ``key_figures_found``, the share of the listed key figures among the supported
  metrics' values.

``loss`` is 1 - gold recall (ECTSum), 1 - key figures found (seed), else 1 - figure precision.

How this differs from ECTSum's own Num-Prec: ECTSum compares number strings (commas removed)
between the summary and the transcript and scores a document whose summary has no number as
-1 inside the average. Here a figure is compared as a value with a unit by the validator, so
``8,971 million`` for ``8.971 billion``, an honest rounding and a hedged figure all count as
supported and a scale or currency error does not; and a document whose summary states no figure
has no precision (None) and is left out of the mean instead of pulling it down.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from evals.core import Item, MetricValue, Sample, TaskName
from evals.metrics import mean_metric, rate, recall_at_k, wilson_interval
from evals.tasks._common import error_rate, highlight, ok_samples, usage
from summariser import check_claims, find_figures
from summariser.backends.base import Backend
from summariser.cleaning import clean
from summariser.figures import Figure
from summariser.pipeline import asummarise
from summariser.schema import Summary
from summariser.settings import Settings
from summariser.support import allowed_interval, incompatibility, measure

CUTOFFS = (5, 10, 15)


def amounts(text: str) -> list[Figure]:
    """The amounts (money, numbers, percentages, points, multiples) written in ``text``."""
    return [f for f in find_figures(text) if f.is_amount]


def figure_matches(gold: Figure, ours: Figure) -> bool:
    """``ours`` supports ``gold`` by the validator's rules: a compatible unit, and a value in
    the interval the gold figure's written precision and hedge allow."""
    if incompatibility(gold, ours) is not None:
        return False
    low, high = allowed_interval(gold, measure(gold))
    return low <= abs(measure(ours)) <= high


def gold_figures(source: str, gold_text: str) -> tuple[list[Figure], list[Figure]]:
    """The distinct amounts of ``gold_text`` (by kind, value and unit), split into those the
    source supports and those it does not."""
    distinct: dict[tuple[str, float, str | None], Figure] = {}
    for figure in amounts(gold_text):
        distinct.setdefault((figure.kind.value, figure.value, figure.unit), figure)
    figures = list(distinct.values())
    if not figures:
        return [], []
    verdicts = check_claims(source, [f.text for f in figures])
    supported = [f for f, v in zip(figures, verdicts, strict=True) if v.supported]
    absent = [f for f, v in zip(figures, verdicts, strict=True) if not v.supported]
    return supported, absent


def metric_figures(summary: Summary) -> list[list[Figure]]:
    """Each metric's value amounts, in the metrics' order ([] for an unsupported metric)."""
    return [[] if m.status == "unsupported" else amounts(m.value_text) for m in summary.metrics]


def text_figures(summary: Summary) -> list[Figure]:
    """The supported amounts of the headline and the bullets."""
    out: list[Figure] = []
    for checked in [summary.headline, *summary.summary]:
        status = {f.text: f.status for f in checked.figures}
        out.extend(f for f in amounts(checked.text) if status.get(f.text) == "supported")
    return out


def summary_output(summary: Summary) -> dict[str, Any]:
    return {
        "headline": summary.headline.text,
        "bullets": [b.text for b in summary.summary],
        "metrics": [
            {
                "metric": m.metric,
                "value_text": m.value_text,
                "value": m.value,
                "unit": m.unit,
                "status": m.status,
                "reason": m.reason,
            }
            for m in summary.metrics
        ],
        "sentiment": {"label": summary.sentiment.label, "score": summary.sentiment.score},
        "validation": {
            "figures_supported": summary.validation.figures_supported,
            "figures_unsupported": summary.validation.figures_unsupported,
            "unsupported": [u.model_dump() for u in summary.validation.unsupported],
        },
    }


def figure_scores(summary: Summary) -> dict[str, float | None]:
    report = summary.validation
    checked = report.figures_supported + report.figures_unsupported
    where = [u.where for u in report.unsupported]
    return {
        "figure_precision": report.figures_supported / checked if checked else None,
        "figures_checked": float(checked),
        "figures_supported": float(report.figures_supported),
        "unsupported_figures": float(report.figures_unsupported),
        "has_unsupported": float(report.figures_unsupported > 0),
        "unsupported_headline": float(sum(w == "headline" for w in where)),
        "unsupported_bullets": float(sum(w.startswith("summary[") for w in where)),
        "unsupported_metrics": float(sum(w.startswith("metrics[") for w in where)),
    }


def gold_scores(
    source: str, gold_lines: Sequence[str], summary: Summary
) -> tuple[dict[str, float | None], dict[str, Any]]:
    """ECTSum scores: recall of the supported gold figures, overall and at each cutoff."""
    supported, absent = gold_figures(source, "\n".join(gold_lines))
    per_metric = metric_figures(summary)
    everything = text_figures(summary) + [f for group in per_metric for f in group]

    def found_in(groups: Sequence[Sequence[Figure]]) -> list[bool]:
        ours = [f for group in groups for f in group]
        return [any(figure_matches(g, f) for f in ours) for g in supported]

    recalled = [any(figure_matches(g, f) for f in everything) for g in supported]
    scores: dict[str, float | None] = {
        "gold_recall": recall_at_k(supported, everything, None, figure_matches),
        "gold_figures": float(len(supported)),
        "gold_found": float(sum(recalled)),
    }
    for k in CUTOFFS:
        found = found_in(per_metric[:k])
        scores[f"gold_recall_at_{k}"] = sum(found) / len(found) if found else None
        scores[f"gold_found_at_{k}"] = float(sum(found))
    detail = {
        "gold_figures": [
            {"text": g.text, "found": hit} for g, hit in zip(supported, recalled, strict=True)
        ],
        "gold_not_in_source": [g.text for g in absent],
    }
    return scores, detail


def key_figures_found(summary: Summary, key_figures: Sequence[dict[str, Any]]) -> float | None:
    """The share of ``key_figures`` (``{"text"}``, as the article writes them) that some
    supported metric value matches."""
    ours = [f for group in metric_figures(summary) for f in group]
    wanted = [amounts(k["text"])[0] for k in key_figures]
    return recall_at_k(wanted, ours, None, figure_matches)


def summary_highlight(text: str, summary: Summary, missed: Sequence[str]) -> dict[str, Any] | None:
    """The article around the hints of the summary's unsupported figures (offsets into the
    cleaned article, which the pipeline checked against); else around missed gold figures."""
    spans: list[dict[str, Any]] = []
    for where, checked in [("headline", summary.headline)] + [
        (f"summary[{i}]", b) for i, b in enumerate(summary.summary)
    ]:
        for f in checked.figures:
            if f.status == "unsupported":
                spans.extend(
                    {
                        "start": h.start,
                        "end": h.end,
                        "status": "unsupported",
                        "label": f"{where}: {f.text} ({f.reason}); closest",
                    }
                    for h in f.hints
                )
    for i, m in enumerate(summary.metrics):
        if m.status == "unsupported" and m.span is not None:
            spans.append(
                {
                    "start": m.span.start,
                    "end": m.span.end,
                    "status": "unsupported",
                    "label": f"metrics[{i}]: {m.value_text} ({m.reason}); its quote",
                }
            )
    unsupported = [f"{u.where}: {u.text} ({u.reason})" for u in summary.validation.unsupported]
    if spans:
        return highlight(clean(text).text, spans, note="; ".join(unsupported))
    if unsupported:
        return {"text": "", "spans": [], "note": "; ".join(unsupported)}
    if not missed:
        return None
    spans = [
        {"start": e.start, "end": e.end, "status": "unsupported", "label": f"missed gold {v.text}"}
        for v in check_claims(text, list(missed))
        for fv in v.figures[:1]
        for e in fv.evidence[:1]
    ]
    return highlight(text, spans, note="gold figures not in the summary: " + ", ".join(missed))


class SummariseTask:
    name: TaskName = "summarise"

    def __init__(self, backend: Backend | None = None) -> None:
        self.backend = backend

    async def run(self, item: Item, settings: Settings) -> Sample:
        text = item.payload["text"]
        started = time.perf_counter()
        summary = await asummarise(text, settings=settings, backend=self.backend)
        latency = time.perf_counter() - started
        output = summary_output(summary)
        scores = figure_scores(summary)
        precision = scores["figure_precision"]
        loss = 1.0 - precision if precision is not None else 0.0
        missed: list[str] = []
        if "gold" in item.expected:
            gold, detail = gold_scores(text, item.expected["gold"], summary)
            scores.update(gold)
            output.update(detail)
            missed = [g["text"] for g in detail["gold_figures"] if not g["found"]]
            if gold["gold_recall"] is not None:
                loss = 1.0 - gold["gold_recall"]
        if "key_figures" in item.expected:
            found = key_figures_found(summary, item.expected["key_figures"])
            scores["key_figures_found"] = found
            loss = 1.0 - found if found is not None else loss
        tokens, cost = usage(summary)
        return Sample(
            id=item.id,
            kind=item.kind,
            input_ref=item.input_ref,
            output=output,
            expected=item.expected,
            scores=scores,
            loss=loss,
            latency_s=latency,
            tokens=tokens,
            cost_usd=cost,
            highlight=summary_highlight(text, summary, missed),
        )

    def aggregate(self, samples: list[Sample]) -> list[MetricValue]:
        ok = ok_samples(samples)
        out = [
            error_rate(samples),
            mean_metric(ok, "figure_precision"),
            _pooled(ok, "figure_precision_pooled", "figures_supported", "figures_checked"),
            rate(ok, "has_unsupported", name="summaries_with_unsupported", higher_is_better=False),
            mean_metric(ok, "unsupported_figures", higher_is_better=False),
        ]
        for where in ("headline", "bullets", "metrics"):
            out.append(mean_metric(ok, f"unsupported_{where}", higher_is_better=False))
        if any("gold_recall" in s.scores for s in ok):
            out.append(mean_metric(ok, "gold_recall"))
            out.append(_pooled(ok, "gold_recall_pooled", "gold_found", "gold_figures"))
            for k in CUTOFFS:
                out.append(mean_metric(ok, f"gold_recall_at_{k}"))
                out.append(
                    _pooled(ok, f"gold_recall_at_{k}_pooled", f"gold_found_at_{k}", "gold_figures")
                )
        if any("key_figures_found" in s.scores for s in ok):
            out.append(mean_metric(ok, "key_figures_found"))
        return out


def _pooled(samples: Sequence[Sample], name: str, part: str, whole: str) -> MetricValue:
    """Sum of ``part`` over sum of ``whole`` across samples (every figure weighs the same),
    with a Wilson interval (figures of one document are not independent: read it as rough)."""
    hits = sum(s.scores.get(part) or 0.0 for s in samples)
    n = int(sum(s.scores.get(whole) or 0.0 for s in samples))
    low, high = wilson_interval(hits, n) if n else (None, None)
    return MetricValue(
        name=name, value=hits / n if n else None, count=n, low=low, high=high, method="wilson"
    )
