"""SVG charts for the eval report: bars by slice, histograms, a confusion matrix, CI tracks.

Stage: evals, pure rendering. In: metric dicts (as written to ``summary.json``: ``value``,
``low``, ``high``, ``count``, ``method``, ``higher_is_better``), plain numbers, or samples with
expected and predicted labels. Out: inline ``<svg>`` strings with no script and no external
asset, every label from data escaped. :mod:`evals.report` lays them out on the page.
"""

from __future__ import annotations

from collections import Counter
from html import escape
from statistics import median
from typing import Any

from evals.core import Sample

_LABEL_ORDER = ("negative", "neutral", "positive")


# --- formatting ----------------------------------------------------------------------------


def _is_rate(metric: dict[str, Any]) -> bool:
    return metric.get("method") == "wilson"


def _fmt(value: float | None, rate: bool) -> str:
    if value is None:
        return "n/a"
    return f"{value * 100:.1f}%" if rate else f"{value:.3f}"


def _domain(values: list[float]) -> tuple[float, float]:
    """A scale for ``values``: [0, 1] for rates and scores, [-1, 1] for correlations."""
    low, high = min(values, default=0.0), max(values, default=1.0)
    if low >= 0 and high <= 1:
        return 0.0, 1.0
    if low >= -1 and high <= 1:
        return -1.0, 1.0
    return min(0.0, low), (high * 1.1 if high > 0 else 1.0)


def _numbers(metric: dict[str, Any]) -> list[float]:
    keys = ("value", "low", "high")
    return [float(metric[k]) for k in keys if isinstance(metric.get(k), int | float)]


# --- pieces of SVG -------------------------------------------------------------------------


def _ci_bar(metric: dict[str, Any], width: int = 196) -> str:
    """A thin track with the interval as a band and the value as a dot."""
    low_d, high_d = _domain(_numbers(metric))
    span = (high_d - low_d) or 1.0

    def x(v: float) -> float:
        return 4 + (v - low_d) / span * (width - 8)

    parts = [
        f'<svg width="{width}" height="18" role="img" aria-label="confidence interval">',
        f'<rect x="4" y="7" width="{width - 8}" height="4" rx="2" fill="#e5e7eb"/>',
    ]
    low, high, value = metric.get("low"), metric.get("high"), metric.get("value")
    colour = "#2563eb" if metric.get("higher_is_better", True) else "#d97706"
    if isinstance(low, int | float) and isinstance(high, int | float):
        parts.append(
            f'<rect x="{x(low):.1f}" y="4" width="{max(x(high) - x(low), 2):.1f}" '
            f'height="10" rx="3" fill="{colour}" opacity=".28"/>'
        )
    if isinstance(value, int | float):
        parts.append(f'<circle cx="{x(value):.1f}" cy="9" r="5" fill="{colour}"/>')
    return "".join(parts) + "</svg>"


def bar_chart(name: str, metrics: list[dict[str, Any]]) -> str:
    """Horizontal bars, one per slice, with the confidence interval as a whisker."""
    rows = [m for m in metrics if isinstance(m.get("value"), int | float)]
    low_d, high_d = _domain([v for m in rows for v in _numbers(m)])
    label_w, plot_w, row_h, top = 190, 400, 28, 22
    width, height = label_w + plot_w + 110, top + row_h * len(rows) + 26
    span = (high_d - low_d) or 1.0
    rate = bool(rows) and _is_rate(rows[0])
    colour = "#2563eb" if rows and rows[0].get("higher_is_better", True) else "#d97706"

    def x(v: float) -> float:
        return label_w + (v - low_d) / span * plot_w

    out = [
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(name)} by slice">'
    ]
    for i in range(5):  # grid lines and their labels
        v = low_d + span * i / 4
        out.append(
            f'<line x1="{x(v):.1f}" x2="{x(v):.1f}" y1="{top - 6}" y2="{height - 20}" '
            'stroke="#e5e7eb"/>'
        )
        out.append(
            f'<text x="{x(v):.1f}" y="{height - 6}" font-size="11" fill="#6b7280" '
            f'text-anchor="middle">{escape(_fmt(v, rate))}</text>'
        )
    for i, metric in enumerate(rows):
        y = top + i * row_h
        value = float(metric["value"])
        base = x(max(low_d, 0.0))
        left, right = sorted((base, x(value)))
        label = str(metric.get("slice") or "(all)")
        out.append(
            f'<text x="{label_w - 10}" y="{y + 15}" font-size="12" text-anchor="end" '
            f'fill="#1f2937">{escape(label[:28])}</text>'
        )
        out.append(
            f'<rect x="{left:.1f}" y="{y + 4}" width="{max(right - left, 1):.1f}" '
            f'height="{row_h - 10}" rx="3" fill="{colour}" opacity=".82"/>'
        )
        low, high = metric.get("low"), metric.get("high")
        if isinstance(low, int | float) and isinstance(high, int | float):
            yc = y + row_h / 2 - 1
            out.append(
                f'<path d="M{x(low):.1f} {yc}H{x(high):.1f}M{x(low):.1f} {yc - 5}V'
                f'{yc + 5}M{x(high):.1f} {yc - 5}V{yc + 5}" stroke="#111827" '
                'stroke-width="1.4" fill="none"/>'
            )
        out.append(
            f'<text x="{label_w + plot_w + 8}" y="{y + 15}" font-size="12" '
            f'fill="#1f2937">{escape(_fmt(value, rate))} '
            f'<tspan fill="#6b7280">n={int(metric.get("count") or 0)}</tspan></text>'
        )
    return "".join(out) + "</svg>"


def histogram(values: list[float], unit: str, bins: int = 20) -> str:
    """A histogram of ``values`` with the median and 95th percentile marked."""
    if not values:
        return '<p class="sub">no data</p>'
    low, high = min(values), max(values)
    step = (high - low) / bins or 1.0
    counts = Counter(min(int((v - low) / step), bins - 1) for v in values)
    tallest = max(counts.values())
    left, plot_w, plot_h, top = 44, 440, 150, 10
    width, height = left + plot_w + 16, top + plot_h + 34
    bar_w = plot_w / bins
    ordered = sorted(values)
    marks = {
        "median": median(ordered),
        "p95": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
    }

    def x(v: float) -> float:
        return left + (v - low) / (step * bins) * plot_w

    out = [
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="histogram">',
        f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" '
        'stroke="#9ca3af"/>',
        f'<text x="{left - 6}" y="{top + 10}" font-size="11" fill="#6b7280" '
        f'text-anchor="end">{tallest}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" font-size="11" fill="#6b7280" '
        'text-anchor="end">0</text>',
    ]
    for index, count in sorted(counts.items()):
        bar_h = count / tallest * plot_h
        out.append(
            f'<rect x="{left + index * bar_w + 1:.1f}" y="{top + plot_h - bar_h:.1f}" '
            f'width="{bar_w - 2:.1f}" height="{bar_h:.1f}" rx="2" fill="#6366f1" '
            f'opacity=".8"><title>{count}</title></rect>'
        )
    for name, v in marks.items():
        colour = "#111827" if name == "median" else "#d97706"
        out.append(
            f'<line x1="{x(v):.1f}" x2="{x(v):.1f}" y1="{top}" y2="{top + plot_h}" '
            f'stroke="{colour}" stroke-dasharray="4 3"/>'
        )
    for v, anchor in ((low, "start"), (high, "end")):
        out.append(
            f'<text x="{x(v):.1f}" y="{top + plot_h + 16}" font-size="11" '
            f'fill="#6b7280" text-anchor="{anchor}">{_num(v)}{escape(unit)}</text>'
        )
    caption = " · ".join(f"{name} {_num(v)}{unit}" for name, v in marks.items())
    out.append(
        f'<text x="{left + plot_w / 2}" y="{top + plot_h + 30}" font-size="11" '
        f'fill="#374151" text-anchor="middle">{escape(caption)} · n={len(values)}</text>'
    )
    return "".join(out) + "</svg>"


def _num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def confusion_matrix(samples: list[Sample]) -> str | None:
    """A heatmap of expected against predicted label (rows: expected), or None without labels."""
    pairs = Counter(
        (str(s.expected.get("label")), str(s.output.get("label")))
        for s in samples
        if s.error is None and "label" in s.expected and "label" in s.output
    )
    if not pairs:
        return None
    found = {label for pair in pairs for label in pair}
    if found <= set(_LABEL_ORDER):
        found = set(_LABEL_ORDER)  # show the empty rows too: a class never predicted matters
    labels = [x for x in _LABEL_ORDER if x in found] + sorted(found - set(_LABEL_ORDER))
    cell, left, top = 74, 110, 40
    size = len(labels) * cell
    out = [
        f'<svg viewBox="0 0 {left + size + 10} {top + size + 34}" width="{left + size + 10}" '
        'role="img" aria-label="confusion matrix">',
        f'<text x="{left + size / 2}" y="14" font-size="12" fill="#6b7280" '
        'text-anchor="middle">predicted</text>',
    ]
    for j, label in enumerate(labels):
        out.append(
            f'<text x="{left + j * cell + cell / 2}" y="{top - 8}" font-size="12" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    for i, truth in enumerate(labels):
        row_total = sum(pairs[(truth, p)] for p in labels) or 1
        out.append(
            f'<text x="{left - 8}" y="{top + i * cell + cell / 2 + 4}" font-size="12" '
            f'text-anchor="end">{escape(truth)}</text>'
        )
        for j, predicted in enumerate(labels):
            count = pairs[(truth, predicted)]
            share = count / row_total
            hue = "22,163,74" if i == j else "220,38,38"
            ink = "#fff" if share > 0.55 else "#1f2937"
            out.append(
                f'<rect x="{left + j * cell}" y="{top + i * cell}" width="{cell - 3}" '
                f'height="{cell - 3}" rx="6" fill="rgba({hue},{0.08 + 0.85 * share:.2f})"/>'
            )
            out.append(
                f'<text x="{left + j * cell + cell / 2 - 1}" y="{top + i * cell + 34}" '
                f'font-size="16" font-weight="700" text-anchor="middle" fill="{ink}">'
                f'{count}</text><text x="{left + j * cell + cell / 2 - 1}" '
                f'y="{top + i * cell + 52}" font-size="11" text-anchor="middle" '
                f'fill="{ink}">{share:.0%}</text>'
            )
    out.append(
        f'<text x="14" y="{top + size / 2}" font-size="12" fill="#6b7280" '
        f'transform="rotate(-90 14 {top + size / 2})" text-anchor="middle">expected</text>'
    )
    return "".join(out) + "</svg>"
