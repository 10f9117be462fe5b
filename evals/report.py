"""The HTML report of one eval run: one self-contained page, inline CSS and inline SVG.

Stage: evals, pure rendering. In: the run's summary (as written to ``summary.json``) and its
samples. Out: an HTML document, with no script and no external asset, that shows the headline
metrics as cards with their confidence intervals, each metric by slice (bars with interval
whiskers, and a table), the sentiment confusion matrix (sentiment runs), latency and token
histograms, and the worst items with their highlighted excerpts. Everything that comes from
data is escaped. The SVG charts are drawn by :mod:`evals.charts` (re-exported here); this
module assembles the page.
"""

from __future__ import annotations

import json
import re
from html import escape
from typing import Any

from evals.charts import _ci_bar, _fmt, _is_rate, bar_chart, confusion_matrix, histogram
from evals.core import Sample

__all__ = ["bar_chart", "confusion_matrix", "highlight_html", "histogram", "render_report"]

_WORST = 15
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
