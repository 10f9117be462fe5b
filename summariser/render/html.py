"""The HTML report: one self-contained page with the summary beside the article it came from.

Stage: output, pure. In: a :class:`~summariser.schema.Summary` and the cleaned article its spans
refer to (``article[span.start:span.end] == span.text``). Out: one HTML page, with inline CSS,
no external assets and no script. On the article side every amount is highlighted: green
when it is the evidence of a supported figure of the summary, amber when it is one of the
closest source figures to an unsupported one, grey when it backs nothing. On the summary side
each figure is coloured by its verdict; a supported one links to its evidence, an unsupported
one is red, with the reason and links to the closest source figures.

Everything from the article and the model is escaped: the article is untrusted, and a
``<script>`` in it is shown as text. A span that does not slice back to its text in the given
article (the page was given another article than the one checked) is not highlighted, and the
page says how many there were.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

from summariser.figures import find_figures
from summariser.render import (
    change_unsupported,
    describe_reason,
    distinct_hints,
    provenance_parts,
    segments,
    signed,
    where_label,
)
from summariser.schema import CheckedText, FigureCheck, Metric, Summary, TextSpan

__all__ = ["render_html"]


def render_html(summary: Summary, article: str) -> str:
    """The report page for ``summary``, with ``article`` (the cleaned text) highlighted."""
    marks, mismatched = _article_marks(summary, article)
    title = summary.headline.text.strip() or "Summary"
    return "".join(
        [
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
            f"<title>{_e(title)} \N{MIDDLE DOT} summary</title>\n<style>{_CSS}</style>\n",
            '</head>\n<body>\n<div class="page">\n',
            _LEGEND,
            _mismatch_warning(mismatched),
            '<div class="grid">\n<section class="card summary" aria-label="Summary">\n',
            _summary_side(summary),
            "</section>\n",
            '<section class="card article" aria-label="Source article">\n',
            '<h2>Source article</h2>\n<div class="text">',
            _marked_article(article, marks),
            "</div>\n</section>\n</div>\n",
            f'<footer class="provenance">{_provenance(summary)}</footer>\n',
            "</div>\n</body>\n</html>\n",
        ]
    )


def _e(text: str) -> str:
    return escape(text, quote=True)


# --- the article side -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Mark:
    start: int
    end: int
    kind: str  # "ev" (evidence), "hint" (close to an unsupported figure), "fig" (backs nothing)
    note: str


def _article_marks(summary: Summary, article: str) -> tuple[list[_Mark], int]:
    """Non-overlapping marks in article order, and how many spans did not match the article."""
    uses: dict[tuple[int, int], list[str]] = {}
    hints: dict[tuple[int, int], list[str]] = {}
    mismatched = 0

    def note(spans: Iterable[TextSpan], into: dict[tuple[int, int], list[str]], why: str) -> None:
        nonlocal mismatched
        for span in spans:
            if 0 <= span.start < span.end <= len(article) and (
                article[span.start : span.end] == span.text
            ):
                into.setdefault((span.start, span.end), []).append(why)
            else:
                mismatched += 1

    for where, item in _checked_items(summary):
        for figure in item.figures:
            if figure.status == "supported":
                note(figure.evidence, uses, f"supports {where}: {figure.text}")
            elif figure.status == "unsupported":
                note(figure.hints, hints, f"closest to unsupported {figure.text} ({where})")
    for index, metric in enumerate(summary.metrics):
        if metric.status == "supported":
            note(metric.evidence, uses, f"supports metric {index + 1}: {metric.value_text}")

    # Evidence first, then hints, then every other amount, each where nothing is yet.
    taken: list[_Mark] = []
    for table, kind, label in ((uses, "ev", "evidence"), (hints, "hint", "hint")):
        for (start, end), whys in sorted(table.items()):
            text = f"{label}: " + "; ".join(dict.fromkeys(whys))
            _place(taken, _Mark(start, end, kind, text))
    marks: list[_Mark] = []
    next_taken = 0
    for found in find_figures(article):  # in order and without overlaps: one sweep
        while next_taken < len(taken) and taken[next_taken].end <= found.start:
            marks.append(taken[next_taken])
            next_taken += 1
        if not found.is_amount or (marks and marks[-1].end > found.start):
            continue
        if next_taken < len(taken) and taken[next_taken].start < found.end:
            continue
        marks.append(_Mark(found.start, found.end, "fig", "a figure that backs nothing"))
    return marks + taken[next_taken:], mismatched


def _place(taken: list[_Mark], mark: _Mark) -> None:
    # `taken` stays sorted by start and free of overlaps: a mark goes in only where free.
    index = bisect_right([m.start for m in taken], mark.start)
    if index and taken[index - 1].end > mark.start:
        return
    if index < len(taken) and taken[index].start < mark.end:
        return
    taken.insert(index, mark)


def _marked_article(article: str, marks: Sequence[_Mark]) -> str:
    parts: list[str] = []
    cursor = 0
    for mark in marks:
        parts.append(_e(article[cursor : mark.start]))
        anchor = f' id="src-{mark.start}"' if mark.kind != "fig" else ""
        parts.append(
            f'<mark class="{mark.kind}"{anchor} title="{_e(mark.note)}">'
            f"{_e(article[mark.start : mark.end])}</mark>"
        )
        cursor = mark.end
    parts.append(_e(article[cursor:]))
    return "".join(parts)


def _mismatch_warning(mismatched: int) -> str:
    if not mismatched:
        return ""
    return (
        f'<p class="warn">\N{WARNING SIGN} {mismatched} span{"s" if mismatched != 1 else ""} of '
        "the summary do not match this article text, and are not highlighted: the page was "
        "given another article than the one that was checked.</p>\n"
    )


# --- the summary side -----------------------------------------------------------------------


def _checked_items(summary: Summary) -> list[tuple[str, CheckedText]]:
    return [
        ("the headline", summary.headline),
        *((f"bullet {i + 1}", bullet) for i, bullet in enumerate(summary.summary)),
    ]


def _summary_side(summary: Summary) -> str:
    parts = [f'<h1 class="headline">{_checked(summary.headline)}</h1>\n']
    parts.append(_notes(summary.headline))
    parts.append('<h2>Key points</h2>\n<ul class="bullets">\n')
    for bullet in summary.summary:
        parts.append(f"<li>{_checked(bullet)}{_notes(bullet)}</li>\n")
    parts.append("</ul>\n<h2>Metrics</h2>\n")
    parts.append(_metrics(summary.metrics, change_unsupported(summary)))
    parts.append(_sentiment(summary))
    parts.append(_validation(summary))
    return "".join(parts)


def _figure(text: str, figure: FigureCheck) -> str:
    """One figure of a sentence, coloured by its verdict; a supported one links to its evidence."""
    why = f"{figure.status}: {describe_reason(figure.reason)}"
    if figure.status == "supported" and figure.evidence:
        href = f"#src-{figure.evidence[0].start}"
        return f'<a class="f f-ok" href="{href}" title="{_e(why)}">{_e(text)}</a>'
    if figure.status == "unsupported":
        return f'<span class="f f-bad" title="{_e(why)}">\N{WARNING SIGN} {_e(text)}</span>'
    css = "f-ok" if figure.status == "supported" else "f-skip"
    return f'<span class="f {css}" title="{_e(why)}">{_e(text)}</span>'


def _checked(item: CheckedText) -> str:
    pieces, missing = segments(item.text, item.figures)
    parts = [_e(text) if figure is None else _figure(text, figure) for text, figure in pieces]
    parts += [" " + _figure(f.text, f) for f in missing if f.status == "unsupported"]
    return "".join(parts)


def _notes(item: CheckedText) -> str:
    """Why each unsupported figure is unsupported, with links to the closest source figures."""
    notes = []
    for figure in item.figures:
        if figure.status != "unsupported":
            continue
        line = (
            f"\N{WARNING SIGN} <b>{_e(figure.text)}</b> is not supported: "
            f"{_e(describe_reason(figure.reason))}."
        )
        if figure.hints:
            links = ", ".join(
                f'<a class="f f-hint" href="#src-{h.start}">{_e(h.text)}</a>'
                for h in distinct_hints(figure)
            )
            line += f" Closest in the source: {links}."
        notes.append(f'<div class="why">{line}</div>')
    return "\n".join(notes)


def _status_badge(status: str, reason: str) -> str:
    css = {"supported": "ok", "unsupported": "bad"}.get(status, "skip")
    icon = {"supported": "\N{CHECK MARK} ", "unsupported": "\N{WARNING SIGN} "}.get(status, "")
    return (
        f'<span class="badge b-{css}" title="{_e(describe_reason(reason))}">'
        f"{icon}{_e(status)}</span>"
    )


def _metrics(metrics: Sequence[Metric], bad_changes: set[int]) -> str:
    if not metrics:
        return '<p class="muted">No metrics.</p>\n'
    rows = []
    arrows = {"up": "\N{UPWARDS ARROW}", "down": "\N{DOWNWARDS ARROW}", "flat": "="}
    for index, metric in enumerate(metrics):
        check = FigureCheck(
            text=metric.value_text,
            value=metric.value or 0.0,
            unit=metric.unit,
            kind="metric",
            hedge=None,
            status=metric.status,
            reason=metric.reason,
            evidence=metric.evidence,
            hints=[],
        )
        change = ""
        if metric.change is not None:
            text = f"{arrows[metric.change.direction]} {metric.change.text}"
            change = (
                f'<span class="f f-bad" title="unsupported: not found in the source">'
                f"\N{WARNING SIGN} {_e(text)}</span>"
                if index in bad_changes
                else _e(text)
            )
        quote = f' title="{_e(metric.quote)}"' if metric.quote else ""
        rows.append(
            f"<tr><td>{_e(metric.entity)}</td><td{quote}>{_e(metric.metric)}</td>"
            f'<td class="num">{_figure(metric.value_text, check)}</td>'
            f"<td>{_e(metric.period or '')}</td><td>{change}</td>"
            f"<td>{_status_badge(metric.status, metric.reason)}</td></tr>\n"
        )
    return (
        '<div class="table-wrap"><table class="metrics">\n<thead><tr><th>Entity</th>'
        "<th>Metric</th><th>Value</th><th>Period</th><th>Change</th><th>Status</th></tr>"
        "</thead>\n<tbody>\n" + "".join(rows) + "</tbody></table></div>\n"
    )


def _sentiment(summary: Summary) -> str:
    sentiment = summary.sentiment
    parts = [
        "<h2>Sentiment</h2>\n",
        f'<p><span class="badge s-{_e(sentiment.label)}">{_e(sentiment.label)}</span> ',
        f'<span class="score">{signed(sentiment.score)}</span> {_e(sentiment.rationale)}</p>\n',
    ]
    if sentiment.entities:
        parts.append('<ul class="entities">')
        parts += [
            f'<li>{_e(e.entity)}: <span class="badge s-{_e(e.label)}">{_e(e.label)}</span> '
            f"{signed(e.score)}</li>"
            for e in sentiment.entities
        ]
        parts.append("</ul>\n")
    parts += [f"<blockquote>{_e(span.text)}</blockquote>\n" for span in sentiment.evidence]
    return "".join(parts)


def _validation(summary: Summary) -> str:
    report = summary.validation
    parts = [
        "<h2>Validation</h2>\n<p>",
        f'<span class="badge b-ok">{report.figures_supported} supported</span> ',
        f'<span class="badge b-{"bad" if report.figures_unsupported else "skip"}">'
        f"{report.figures_unsupported} unsupported</span>",
    ]
    if report.dropped:
        parts.append(f' <span class="badge b-skip">{report.dropped} dropped</span>')
    parts.append("</p>\n")
    if report.unsupported:
        parts.append('<ul class="unsupported">')
        parts += [
            f"<li>{_e(where_label(item.where))}: <b>{_e(item.text)}</b> "
            f"({_e(describe_reason(item.reason))})</li>"
            for item in report.unsupported
        ]
        parts.append("</ul>\n")
    return "".join(parts)


def _provenance(summary: Summary) -> str:
    source = summary.source
    cleaned = (
        f"source {source.format}, {source.chars:,} characters, sha256 {source.sha256[:12]}, "
        f"{source.removed_lines} furniture lines removed"
    )
    return " \N{MIDDLE DOT} ".join(_e(part) for part in [*provenance_parts(summary), cleaned])


_LEGEND = """<div class="legend" aria-label="Legend">
<span><mark class="ev">1.2bn</mark> evidence: backs a figure of the summary</span>
<span><mark class="fig">1.2bn</mark> a figure of the article that backs nothing</span>
<span><mark class="hint">1.2bn</mark> closest to an unsupported figure</span>
<span><span class="f f-ok">1.2bn</span> supported</span>
<span><span class="f f-bad">\N{WARNING SIGN} 1.2bn</span> unsupported: not a fact</span>
</div>
"""

_CSS = """
:root{--ink:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#f6f8fa;--ok:#1a7f37;--ok-bg:#dafbe1;
--bad:#cf222e;--bad-bg:#ffebe9;--hint:#9a6700;--hint-bg:#fff8c5;--fig-bg:#eaeef2;--link:#0969da}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:16px/1.55 system-ui,-apple-system,
"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC","PingFang SC",sans-serif}
.page{max-width:1440px;margin:0 auto;padding:20px}
.grid{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:20px;align-items:start}
.card{background:#fff;border:1px solid var(--line);border-radius:10px;padding:20px 24px}
.summary{position:sticky;top:12px;max-height:calc(100vh - 24px);overflow:auto}
@media (max-width:960px){.grid{grid-template-columns:minmax(0,1fr)}
.summary{position:static;max-height:none}}
h1.headline{font-size:1.45rem;line-height:1.3;margin:0 0 .6rem}
h2{font-size:.85rem;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);
margin:1.4rem 0 .5rem}
.article h2{margin-top:0}
.article .text{white-space:pre-wrap;overflow-wrap:anywhere;font-family:Georgia,"Noto Serif",
"Noto Serif CJK SC",serif;font-size:1.02rem;line-height:1.7;max-width:75ch}
ul{padding-left:1.2rem}li{margin:.35rem 0}
mark{color:inherit;border-radius:3px;padding:0 2px}
mark.ev{background:var(--ok-bg);box-shadow:inset 0 -2px 0 var(--ok)}
mark.fig{background:var(--fig-bg)}
mark.hint{background:var(--hint-bg);outline:1px dashed var(--hint)}
mark:target{outline:3px solid var(--link);outline-offset:1px}
.f{border-radius:3px;padding:0 3px;text-decoration:none;white-space:nowrap}
.f-ok{color:var(--ok);background:var(--ok-bg)}
a.f-ok:hover,a.f-hint:hover{text-decoration:underline}
.f-bad{color:var(--bad);background:var(--bad-bg);font-weight:600}
.f-skip{background:var(--fig-bg)}
.f-hint{color:var(--hint);background:var(--hint-bg)}
.why{font-size:.88rem;color:var(--bad);background:var(--bad-bg);border-left:3px solid var(--bad);
padding:4px 8px;margin:.3rem 0;border-radius:0 4px 4px 0}
.why b{white-space:nowrap}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.88rem}
th,td{text-align:left;padding:4px 6px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600}
td.num{font-variant-numeric:tabular-nums}
.badge{display:inline-block;border-radius:999px;padding:0 8px;font-size:.8rem;font-weight:600;
background:var(--fig-bg);white-space:nowrap}
.b-ok,.s-positive{color:var(--ok);background:var(--ok-bg)}
.b-bad,.s-negative{color:var(--bad);background:var(--bad-bg)}
.s-mixed{color:var(--hint);background:var(--hint-bg)}
.score{font-variant-numeric:tabular-nums;color:var(--muted)}
blockquote{margin:.4rem 0;padding:2px 10px;border-left:3px solid var(--line);color:var(--muted);
font-size:.9rem}
.legend{display:flex;flex-wrap:wrap;gap:6px 18px;font-size:.85rem;color:var(--muted);
margin:0 0 14px}
.warn{background:var(--hint-bg);border:1px solid var(--hint);padding:8px 12px;border-radius:6px}
.muted{color:var(--muted)}
.provenance{font-size:.8rem;color:var(--muted);margin-top:16px;overflow-wrap:anywhere}
"""
