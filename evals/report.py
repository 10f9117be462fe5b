"""The HTML report of one eval run: one self-contained page, inline CSS and inline SVG.

Stage: evals, pure rendering. In: the run's summary (as written to ``summary.json``) and its
samples. Out: an HTML document, with no script and no external asset, that shows the headline
metrics as cards with their confidence intervals, each metric by slice (bars with interval
whiskers, and a table), the sentiment confusion matrix (sentiment runs), latency and token
histograms, and the worst items with their highlighted excerpts. Everything that comes from
data is escaped.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from html import escape
from statistics import median
from typing import Any

from evals.core import Sample

_WORST = 15
_LABEL_ORDER = ("negative", "neutral", "positive")
_SPAN_CLASSES = {"supported": "ok", "unsupported": "bad", "hint": "hint", "hints": "hint"}

_CSS = """
:root{--ink:#1f2937;--mute:#6b7280;--line:#e5e7eb;--bg:#f6f7fb;--card:#fff;--blue:#2563eb;
--amber:#d97706;--green:#16a34a;--red:#dc2626}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--ink);
font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:1280px;margin:0 auto;padding:28px 32px 48px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:18px;margin:34px 0 12px}
h3{font-size:14px;margin:0 0 8px;color:var(--mute);font-weight:600}
.sub{color:var(--mute)}.meta{display:flex;flex-wrap:wrap;gap:6px 18px;margin-top:12px;
font-size:13px}.meta b{color:var(--mute);font-weight:500;margin-right:4px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;background:#e0e7ff;
color:#3730a3;font-size:12px;font-weight:600;vertical-align:middle}
.badge.err{background:#fee2e2;color:#991b1b}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:14px;
margin-top:22px}.card,.panel{background:var(--card);border:1px solid var(--line);
border-radius:12px;padding:14px 16px;box-shadow:0 1px 2px rgba(0,0,0,.04)}
.card .name{color:var(--mute);font-size:13px}.card .value{font-size:30px;font-weight:700;
letter-spacing:-.5px}.card .ci{color:var(--mute);font-size:12px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:14px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{padding:6px 10px;
border-bottom:1px solid var(--line);text-align:right}th:first-child,td:first-child{
text-align:left}th{color:var(--mute);font-weight:600}td small{color:var(--mute)}
.item{background:var(--card);border:1px solid var(--line);border-left:4px solid var(--red);
border-radius:10px;padding:12px 16px;margin-bottom:10px}
.item .head{display:flex;gap:12px;align-items:baseline;flex-wrap:wrap}
.item code{font-size:12px}.excerpt{margin-top:8px;white-space:pre-wrap;line-height:1.7}
mark{padding:1px 2px;border-radius:3px}mark.ok{background:#dcfce7;
box-shadow:inset 0 -2px 0 var(--green)}mark.bad{background:#fee2e2;
box-shadow:inset 0 -2px 0 var(--red)}mark.hint{background:#fef3c7;
box-shadow:inset 0 -2px 0 var(--amber)}mark.other{background:#e5e7eb}
.error{color:var(--red);font-family:ui-monospace,monospace;font-size:12px;margin-top:6px}
details{margin-top:6px;font-size:12px}summary{cursor:pointer;color:var(--mute)}
pre{background:#f3f4f6;padding:8px;border-radius:6px;overflow:auto;white-space:pre-wrap}
.legend{font-size:12px;color:var(--mute);margin:4px 0 10px}
.legend mark{margin:0 4px}svg text{font-family:inherit}
"""


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


# --- HTML sections -------------------------------------------------------------------------


def highlight_html(highlight: dict[str, Any] | None) -> str:
    """The excerpt with its spans marked (supported green, unsupported red, hints amber)."""
    if not highlight or not isinstance(highlight.get("text"), str):
        return ""
    text: str = highlight["text"]
    spans = [s for s in highlight.get("spans") or [] if isinstance(s, dict)]
    spans = [s for s in spans if isinstance(s.get("start"), int) and isinstance(s.get("end"), int)]
    out, at = [], 0
    for span in sorted(spans, key=lambda s: (s["start"], -s["end"])):
        start, end = max(span["start"], at), min(span["end"], len(text))
        if start >= end:
            continue  # overlaps the previous span, or lies outside the text
        css = _SPAN_CLASSES.get(str(span.get("status", "")), "other")
        out.append(escape(text[at:start]))
        title = escape(str(span.get("label") or span.get("status") or ""), quote=True)
        out.append(f'<mark class="{css}" title="{title}">{escape(text[start:end])}</mark>')
        at = end
    out.append(escape(text[at:]))
    return f'<div class="excerpt">{"".join(out)}</div>'


def _worst_items(samples: list[Sample]) -> str:
    worst = sorted((s for s in samples if s.loss > 0), key=lambda s: (-s.loss, s.id))[:_WORST]
    if not worst:
        return '<p class="sub">No item lost anything.</p>'
    parts = [
        '<p class="legend">Figures in excerpts: <mark class="ok">supported</mark>'
        '<mark class="bad">unsupported</mark><mark class="hint">hint</mark></p>'
    ]
    for s in worst:
        kind = f'<span class="badge">{escape(s.kind)}</span>' if s.kind else ""
        error = f'<div class="error">{escape(s.error)}</div>' if s.error else ""
        excerpt = highlight_html(s.highlight)
        if not excerpt and isinstance(s.output.get("text"), str):
            got = f"expected {s.expected.get('label')}, got {s.output.get('label')}: "
            excerpt = f'<div class="excerpt"><b>{escape(got)}</b>{escape(s.output["text"])}</div>'

        detail = escape(
            json.dumps(
                {"expected": s.expected, "output": s.output},
                ensure_ascii=False,
                indent=1,
                default=str,
            )[:3000]
        )
        parts.append(
            f'<div class="item"><div class="head"><b>{escape(s.id)}</b>{kind}'
            f'<span class="sub">loss {s.loss:.2f}</span><code class="sub">'
            f"{escape(s.input_ref)}</code></div>{error}{excerpt}"
            f"<details><summary>expected and output</summary><pre>{detail}</pre></details></div>"
        )
    return "".join(parts)


def _cards(metrics: list[dict[str, Any]]) -> str:
    cards = []
    for m in metrics:
        rate = _is_rate(m)
        way = "higher is better" if m.get("higher_is_better", True) else "lower is better"
        ci = ""
        if m.get("low") is not None and m.get("high") is not None:
            ci = f"{_fmt(m['low'], rate)} \u2013 {_fmt(m['high'], rate)} · "
        cards.append(
            f'<div class="card"><div class="name">{escape(str(m.get("name")))}</div>'
            f'<div class="value">{_fmt(m.get("value"), rate)}</div>{_ci_bar(m)}'
            f'<div class="ci">{escape(ci)}n={int(m.get("count") or 0)} · {way}</div></div>'
        )
    return f'<section class="cards">{"".join(cards)}</section>'


def _slices(slices: dict[str, list[dict[str, Any]]]) -> str:
    by_name: dict[str, list[dict[str, Any]]] = {}
    for kind, values in sorted(slices.items(), key=lambda pair: _natural(pair[0])):
        for m in values:
            by_name.setdefault(str(m.get("name")), []).append({**m, "slice": kind})
    if not by_name:
        return ""
    charts = [
        f'<div class="panel"><h3>{escape(name)} by slice</h3>{bar_chart(name, rows)}</div>'
        for name, rows in by_name.items()
        if sum(isinstance(m.get("value"), int | float) for m in rows) >= 1
    ]
    names = list(by_name)
    head = "".join(f"<th>{escape(n)}</th>" for n in names)
    body = []
    for kind, values in sorted(slices.items(), key=lambda pair: _natural(pair[0])):
        found = {str(m.get("name")): m for m in values}
        cells = []
        for n in names:
            cell = found.get(n)
            if cell is None:
                cells.append("<td></td>")
                continue
            rate = _is_rate(cell)
            ci = (
                f" [{_fmt(cell['low'], rate)}\u2013{_fmt(cell['high'], rate)}]"
                if cell.get("low") is not None and cell.get("high") is not None
                else ""
            )
            cells.append(
                f"<td>{_fmt(cell.get('value'), rate)}<small>{escape(ci)} "
                f"n={int(cell.get('count') or 0)}</small></td>"
            )
        body.append(f"<tr><td>{escape(kind or '(none)')}</td>{''.join(cells)}</tr>")
    table = f'<div class="panel"><table><tr><th>slice</th>{head}</tr>{"".join(body)}</table></div>'
    return f'<h2>By slice</h2><div class="grid">{"".join(charts)}</div><br>{table}'


def _natural(text: str) -> tuple[Any, ...]:
    """A sort key that puts "66" before "100"."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text))


def _header(summary: dict[str, Any]) -> str:
    h = summary.get("header") or {}
    data = h.get("dataset") or {}
    totals = summary.get("totals") or {}
    prompt = h.get("prompt") or {}
    tokens = sum(int(v) for k, v in (totals.get("tokens") or {}).items() if k != "cached")
    cost = totals.get("cost_usd")
    facts = {
        "run": h.get("run_id"),
        "created": h.get("created"),
        "backend": f"{h.get('backend')} / {h.get('model')}" if h.get("backend") else None,
        "prompt": f"{prompt.get('id')} v{prompt.get('version')} ({str(prompt.get('sha256'))[:10]})"
        if prompt
        else None,
        "dataset version": str(data.get("version"))[:12],
        "commit": str(h.get("git_commit"))[:10] if h.get("git_commit") else None,
        "package": h.get("package_version"),
        "items": totals.get("items"),
        "tokens": f"{tokens:,}",
        "cost": f"${cost:.4f}" if isinstance(cost, int | float) else None,
        "wall": f"{float(totals.get('wall_s') or 0):.1f}s",
    }
    meta = "".join(
        f"<span><b>{escape(k)}</b>{escape(str(v))}</span>"
        for k, v in facts.items()
        if v not in (None, "None")
    )
    errors = int(summary.get("errors") or 0)
    badge = f' <span class="badge err">{errors} errors</span>' if errors else ""
    return (
        f"<header><h1>{escape(str(data.get('name', 'eval run')))} "
        f'<span class="badge">{escape(str(h.get("task", "")))}</span>{badge}</h1>'
        f'<div class="sub">{escape(str(data.get("root") or ""))}</div>'
        f'<div class="meta">{meta}</div></header>'
    )


def render_report(summary: dict[str, Any], samples: list[Sample]) -> str:
    """The report page of a run, as one HTML document."""
    data = (summary.get("header") or {}).get("dataset") or {}
    parts = [_header(summary), _cards(summary.get("metrics") or [])]
    parts.append(_slices(summary.get("slices") or {}))
    matrix = confusion_matrix(samples)
    if matrix is not None:
        parts.append(
            f'<h2>Sentiment: expected against predicted</h2><div class="panel">{matrix}</div>'
        )
    latency = [s.latency_s for s in samples if s.error is None]
    tokens = [float(sum(v for k, v in s.tokens.items() if k != "cached")) for s in samples]
    token_chart = (
        histogram([t for t in tokens if t > 0], " tok")
        if any(tokens)
        else '<p class="sub">No tokens used (no model was called).</p>'
    )
    parts.append(
        '<h2>Distributions</h2><div class="grid">'
        f'<div class="panel"><h3>latency per item</h3>{histogram(latency, "s")}</div>'
        f'<div class="panel"><h3>tokens per item</h3>{token_chart}</div></div>'
    )
    parts.append(f"<h2>Worst items</h2>{_worst_items(samples)}")
    title = escape(f"Eval: {data.get('name', 'run')}")
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<style>{_CSS}</style></head><body><main>{''.join(parts)}</main></body></html>\n"
    )
