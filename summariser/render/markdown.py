"""The Markdown report: a checked summary as text a person reads, in a terminal or a wiki.

Stage: output, pure. In: a :class:`~summariser.schema.Summary`. Out: Markdown with the headline,
the bullets, a metrics table, the sentiment, the validation counts with every unsupported
figure, and a provenance line. A figure the source does not support is never written as plain
fact: it reads ``**⚠ unsupported: $5.9 billion**`` where it stands, with the reason below.
Text that came from the model is escaped, so that it cannot add markup (or HTML) of its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from summariser.render import (
    change_unsupported,
    describe_reason,
    distinct_hints,
    provenance_parts,
    segments,
    signed,
    where_label,
)
from summariser.schema import CheckedText, FigureCheck, Metric, Summary

__all__ = ["render_markdown"]

WARNING = "\N{WARNING SIGN}"
_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~])")
_SPACE = re.compile(r"\s+")


def render_markdown(summary: Summary) -> str:
    """The summary as a Markdown document (ending in a newline)."""
    out = [f"# {_checked(summary.headline)}", ""]
    out += _notes(summary.headline, indent="")
    out += ["## Summary", ""]
    for bullet in summary.summary:
        out.append(f"- {_checked(bullet)}")
        out += _notes(bullet, indent="  ")
    out += ["", "## Metrics", ""]
    out += _metrics_table(summary.metrics, change_unsupported(summary))
    out += ["", "## Sentiment", "", _sentiment(summary), ""]
    out += _validation(summary)
    out += ["", "---", "", _provenance(summary)]
    return "\n".join(out) + "\n"


def _escape(text: str) -> str:
    # One line, with Markdown's active characters escaped; "<" too, so no raw HTML gets in.
    return _SPECIAL.sub(r"\\\1", _SPACE.sub(" ", text))


def _unsupported(text: str) -> str:
    return f"**{WARNING} unsupported: {_escape(text)}**"


def _mark(text: str, figure: FigureCheck | None) -> str:
    unsupported = figure is not None and figure.status == "unsupported"
    return _unsupported(text) if unsupported else _escape(text)


def _checked(item: CheckedText) -> str:
    """The sentence with each unsupported figure marked where it stands."""
    pieces, missing = segments(item.text, item.figures)
    parts = [_mark(text, figure) for text, figure in pieces]
    # A figure the validator read but the sentence does not spell the same way: say so beside.
    parts += [f" ({_unsupported(f.text)})" for f in missing if f.status == "unsupported"]
    return "".join(parts).strip()


def _notes(item: CheckedText, *, indent: str) -> list[str]:
    """One line per unsupported figure: why, and the closest figures of the source."""
    return [f"{indent}- {_why(f)}" for f in item.figures if f.status == "unsupported"]


def _why(figure: FigureCheck) -> str:
    line = f"{WARNING} {_escape(figure.text)}: {describe_reason(figure.reason)}"
    if figure.hints:
        hints = distinct_hints(figure)
        line += "; closest in the source: " + ", ".join(_escape(h.text) for h in hints)
    return line


def _metrics_table(metrics: Sequence[Metric], bad_changes: set[int]) -> list[str]:
    if not metrics:
        return ["No metrics."]
    rows = [
        "| Entity | Metric | Value | Period | Change | Status |",
        "|---|---|---|---|---|---|",
    ]
    for index, metric in enumerate(metrics):
        value = metric.value_text
        shown = _unsupported(value) if metric.status == "unsupported" else _escape(value)
        change = ""
        if metric.change is not None:
            arrow = {"up": "\N{UPWARDS ARROW}", "down": "\N{DOWNWARDS ARROW}", "flat": "="}
            text = f"{arrow[metric.change.direction]} {metric.change.text}"
            change = _unsupported(text) if index in bad_changes else _escape(text)
        cells = [
            _escape(metric.entity),
            _escape(metric.metric),
            shown,
            _escape(metric.period or ""),
            change,
            _status(metric.status, metric.reason),
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def _status(status: str, reason: str) -> str:
    if status == "supported":
        return f"\N{CHECK MARK} supported ({describe_reason(reason)})"
    if status == "unsupported":
        return f"{WARNING} unsupported ({describe_reason(reason)})"
    return f"skipped ({describe_reason(reason)})"


def _sentiment(summary: Summary) -> str:
    sentiment = summary.sentiment
    lines = [f"**{sentiment.label}** ({signed(sentiment.score)}): {_escape(sentiment.rationale)}"]
    if sentiment.entities:
        lines.append("")
        lines += [
            f"- {_escape(e.entity)}: {e.label} ({signed(e.score)})" for e in sentiment.entities
        ]
    if sentiment.evidence:
        lines.append("")
        lines += [f"> {_escape(span.text)}" for span in sentiment.evidence]
    return "\n".join(lines)


def _validation(summary: Summary) -> list[str]:
    report = summary.validation
    counts = (
        f"{report.figures_supported} figure{'s' if report.figures_supported != 1 else ''} "
        f"supported, {report.figures_unsupported} unsupported"
    )
    if report.dropped:
        counts += f", {report.dropped} unsupported item{'s' if report.dropped != 1 else ''} dropped"
    lines = ["## Validation", "", counts + "."]
    if report.unsupported:
        lines.append("")
        lines += [
            f"- {WARNING} {where_label(item.where)}: {_escape(item.text)} "
            f"({describe_reason(item.reason)})"
            for item in report.unsupported
        ]
    return lines


def _provenance(summary: Summary) -> str:
    source = summary.source
    cleaned = (
        f"source {source.format}, {source.chars:,} characters, sha256 {source.sha256[:12]}, "
        f"{source.removed_lines} furniture line{'s' if source.removed_lines != 1 else ''} removed"
    )
    return "_" + _escape(" · ".join([*provenance_parts(summary), cleaned])) + "_"
