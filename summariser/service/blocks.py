"""Slack messages: a checked summary, or a failure, as Block Kit within Slack's limits.

Stage: output, pure (values in, JSON-ready dicts out; no I/O, no Slack SDK). In: a
:class:`~summariser.schema.Summary` (or a job's failure reason and reference id). Out:
``{"text": ..., "blocks": [...]}``, ready for ``chat.postMessage`` or a ``response_url``.

The message keeps the product's promise: a figure the validator could not support is never
shown as plain fact but as ``*:warning: unsupported: $5.9 billion*`` where it stands, with the
reason under it; the plain-text ``text`` fallback (notifications, screen readers) marks it too.
The sentiment's free-text rationale is left out, since its figures are not checked.

Slack's limits, from the Block Kit reference: at most 50 blocks a message, 150 characters in
a header, 3,000 in a section's text, 10 fields a section of at most 2,000 characters each,
10 elements in a context block. Long bullets are split between words, never inside a mark;
past the block budget whole bullets are left out and a line says how many.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from summariser.render import (
    change_unsupported,
    describe_reason,
    distinct_hints,
    segments,
    signed,
)
from summariser.schema import CheckedText, FigureCheck, Metric, Summary

__all__ = [
    "MAX_BLOCKS",
    "MAX_FIELDS",
    "MAX_FIELD_TEXT",
    "MAX_HEADER_TEXT",
    "MAX_METRICS",
    "MAX_SECTION_TEXT",
    "MAX_TEXT",
    "failure_message",
    "notice_message",
    "summary_message",
]

MAX_BLOCKS = 50
MAX_HEADER_TEXT = 150
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_METRICS = 10  # a compact table: the rest are counted, not shown
MAX_TEXT = 3000  # the fallback ``text``: Slack truncates at 40,000, notifications far sooner
WARNING = ":warning:"
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\S+\s*|\s+")
# Blocks other than bullets: header, headline notes, summary line, 2 metric sections, the
# "more metrics" line, footer, and one for "N bullets not shown".
_FIXED_BLOCKS = 8

Block = dict[str, Any]
Message = dict[str, Any]


def summary_message(summary: Summary, *, reference: str | None = None) -> Message:
    """The summary as a Slack message: headline, sentiment and validation line, bullets, a
    metrics table, and a footer with the backend and the job's ``reference``."""
    blocks: list[Block] = [_headline_block(summary.headline), _context([_overview(summary)])]
    notes = _notes(summary.headline)
    if notes:
        blocks += [_section(text.strip()) for text in _pack([notes], MAX_SECTION_TEXT)]
    blocks += _bullet_blocks(summary.summary, budget=MAX_BLOCKS - len(blocks) - _FIXED_BLOCKS)
    blocks += _metric_blocks(summary.metrics, change_unsupported(summary))
    run = summary.provenance
    footer = f"{_esc(run.backend)} / {_esc(run.model)}"
    if reference:
        footer += f" · ref `{_esc(reference)}`"
    blocks.append(_context([footer]))
    return {"text": _fallback(summary), "blocks": blocks[:MAX_BLOCKS]}


_FAILURES: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("no_link",),
        "I found no link to summarise there: mention me beside a link, or in its thread",
    ),
    (("thread_unreadable",), "I could not read that thread (am I in the channel?)"),
    (("article_too_long",), "that article is longer than I can summarise"),
    (("empty", "no_article_text", "bad_input", "content_type"), "I found no article text there"),
    (
        (
            "scheme",
            "invalid_url",
            "port",
            "dns",
            "blocked_address",
            "connect",
            "http_status",
            "too_many_redirects",
            "too_large",
        ),
        "I could not fetch that page",
    ),
    (
        ("backend_error", "backend_quota", "backend_authentication"),
        "the summarising model is unavailable right now; please try again later",
    ),
    (
        ("refusal", "truncated", "invalid_output"),
        "the model gave no answer I could check; please try again later",
    ),
    (("timeout", "interrupted"), "it took too long; please try again later"),
)


def failure_message(reason: str | None, reference_id: str | None) -> Message:
    """A short, polite message for a failed job, with the reference id the log knows it by."""
    why = "something went wrong on my side"
    for reasons, words in _FAILURES:
        if reason in reasons:
            why = words
            break
    ref = _esc(reference_id or "unknown")
    text = f"Sorry, I couldn't summarise that: {why}. (reference `{ref}`)"
    return notice_message(f":x: {text}", fallback=text)


def notice_message(mrkdwn: str, *, fallback: str | None = None) -> Message:
    """A one-section message (a notice, a hint): ``mrkdwn`` is used as it is (the caller
    escapes what came from outside)."""
    text = mrkdwn[: MAX_SECTION_TEXT - 1] + "…" if len(mrkdwn) > MAX_SECTION_TEXT else mrkdwn
    plain = fallback if fallback is not None else text
    return {"text": plain[:MAX_TEXT], "blocks": [_section(text)]}


# --- pieces --------------------------------------------------------------------------------


def _esc(text: str) -> str:
    """One line of text for mrkdwn: Slack's three control characters escaped, so model text
    cannot add links or mentions (``<!channel>``)."""
    one_line = _SPACE.sub(" ", text)
    return one_line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mark(text: str) -> str:
    return f"*{WARNING} unsupported: {_esc(text)}*"


def _plain_mark(text: str) -> str:
    return f"{WARNING} unsupported: {_SPACE.sub(' ', text)}"


def _atoms(item: CheckedText, *, header: bool = False) -> list[str]:
    """The sentence as unbreakable pieces: words, and each unsupported figure with its mark.
    ``header``: for a plain-text header (nothing escaped, the mark not bold)."""
    mark = _plain_mark if header else _mark
    escape = (lambda text: _SPACE.sub(" ", text)) if header else _esc
    pieces, missing = segments(item.text, item.figures)
    atoms: list[str] = []
    for text, figure in pieces:
        if figure is not None and figure.status == "unsupported":
            atoms.append(mark(text))
        else:
            atoms += _WORD.findall(escape(text))
    for figure in missing:  # read by the validator, spelt otherwise in the sentence
        if figure.status == "unsupported":
            atoms.append(f" ({mark(figure.text)})")
    return atoms


def _notes(item: CheckedText) -> list[str]:
    """One atom per unsupported figure of the item: why, and the closest source figures."""
    return [f"\n      {WARNING} {_why(f)}" for f in item.figures if f.status == "unsupported"]


def _why(figure: FigureCheck) -> str:
    line = f"_{_esc(figure.text)}: {_esc(describe_reason(figure.reason))}"
    hints = distinct_hints(figure)
    if hints:
        line += "; closest in the source: " + ", ".join(_esc(h.text) for h in hints[:3])
    return line + "_"


def _pack(lines: Iterable[Sequence[str]], limit: int) -> list[str]:
    """Lines of atoms joined with newlines into texts of at most ``limit`` characters: a line
    that does not fit starts a new text, and one longer than ``limit`` is cut between atoms
    (an atom longer than ``limit`` alone, only a freak word, is cut where it must)."""
    texts: list[str] = []
    current = ""
    for line in lines:
        sep = "\n" if current else ""
        joined = "".join(line)
        if len(current) + len(sep) + len(joined) <= limit:
            current += sep + joined
            continue
        if current:
            texts.append(current.rstrip())
            current = ""
        for atom in line:
            while len(atom) > limit:
                if current:
                    texts.append(current.rstrip())
                    current = ""
                texts.append(atom[:limit])
                atom = atom[limit:]
            if len(current) + len(atom) > limit:
                texts.append(current.rstrip())
                current = atom.lstrip()
            else:
                current += atom
    if current.strip():
        texts.append(current.rstrip())
    return [text for text in texts if text.strip()]


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(texts: Sequence[str]) -> Block:
    elements = [{"type": "mrkdwn", "text": t[:MAX_SECTION_TEXT]} for t in texts[:10]]
    return {"type": "context", "elements": elements}


def _headline_block(headline: CheckedText) -> Block:
    """A header block when the headline fits in one (plain text, emoji shown), else a bold
    section: never cut, so that no mark is lost."""
    plain = "".join(_atoms(headline, header=True)).strip()
    if plain and len(plain) <= MAX_HEADER_TEXT:
        return {"type": "header", "text": {"type": "plain_text", "text": plain, "emoji": True}}
    texts = _pack([_atoms(headline)], MAX_SECTION_TEXT)
    return _section(texts[0] if texts else "(no headline)")


def _overview(summary: Summary) -> str:
    sentiment = summary.sentiment
    report = summary.validation
    line = f"Sentiment: *{sentiment.label}* ({signed(sentiment.score)})"
    checked = report.figures_supported + report.figures_unsupported
    if report.figures_unsupported:
        line += (
            f" · {WARNING} {report.figures_unsupported} of {checked} figures are not supported "
            "by the source and are marked"
        )
    elif checked:
        line += f" · :white_check_mark: all {checked} figures checked against the source"
    if report.dropped:
        line += f" · {report.dropped} unsupported item{'s' if report.dropped != 1 else ''} left out"
    return line


def _bullet_blocks(bullets: Sequence[CheckedText], *, budget: int) -> list[Block]:
    """The bullets as sections of at most 3,000 characters, within ``budget`` blocks."""
    blocks: list[Block] = []
    for shown, bullet in enumerate(bullets):
        texts = _pack([["• ", *_atoms(bullet), *_notes(bullet)]], MAX_SECTION_TEXT)
        if len(blocks) + len(texts) > budget:
            left = len(bullets) - shown
            more = f"… {left} more point{'s' if left != 1 else ''} not shown (message size)"
            return [*_merge(blocks), _context([more])]
        blocks += [_section(text) for text in texts]
    return _merge(blocks)


def _merge(blocks: list[Block]) -> list[Block]:
    """Neighbouring bullet sections joined while they fit in one (fewer blocks to count)."""
    merged: list[Block] = []
    for block in blocks:
        text = block["text"]["text"]
        if merged and len(merged[-1]["text"]["text"]) + 1 + len(text) <= MAX_SECTION_TEXT:
            merged[-1]["text"]["text"] += "\n" + text
        else:
            merged.append(_section(text))
    return merged


_ARROWS = {"up": ":arrow_up:", "down": ":arrow_down:", "flat": ":left_right_arrow:"}


def _metric_blocks(metrics: Sequence[Metric], bad_changes: set[int]) -> list[Block]:
    """At most ten metrics, two fields each (what | value), five metrics a section."""
    fields: list[Block] = []
    for index, metric in enumerate(metrics[:MAX_METRICS]):
        label = f"*{_esc(_clip(metric.metric, 100))}*"
        details = [_clip(d, 100) for d in (metric.entity, metric.period) if d]
        if details:
            label += "\n" + _esc(" · ".join(details))
        fields.append(_field(label))
        fields.append(_field(_metric_value(metric, index in bad_changes)))
    blocks: list[Block] = [
        {"type": "section", "fields": fields[start : start + MAX_FIELDS]}
        for start in range(0, len(fields), MAX_FIELDS)
    ]
    if len(metrics) > MAX_METRICS:
        left = len(metrics) - MAX_METRICS
        blocks.append(_context([f"… and {left} more metric{'s' if left != 1 else ''}"]))
    return blocks


def _metric_value(metric: Metric, bad_change: bool) -> str:
    shown = _clip(metric.value_text, 100)
    if metric.status == "unsupported":
        value = f"{_mark(shown)} _({_esc(describe_reason(metric.reason))})_"
    elif metric.status == "skipped":
        value = f"{_esc(shown)} _(not checked)_"
    else:
        value = _esc(shown)
    if metric.change is not None:
        change = _clip(metric.change.text, 100)
        shown_change = _mark(change) if bad_change else _esc(change)
        value += f" {_ARROWS[metric.change.direction]} {shown_change}"
    return value


def _clip(text: str, limit: int) -> str:
    """Model text cut to ``limit`` characters with an ellipsis: each part of a field is
    clipped before escaping (which at most quintuples it), so a field stays under 2,000."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _field(text: str) -> Block:
    return {"type": "mrkdwn", "text": text}


def _fallback(summary: Summary) -> str:
    """The plain ``text`` of the message: the headline, marks kept, and the counts."""
    atoms = [a.replace("*", "") for a in _atoms(summary.headline)]  # marks kept, not bold
    unsupported = summary.validation.figures_unsupported
    if unsupported:
        plural = "s" if unsupported != 1 else ""
        atoms.append(f" ({WARNING} {unsupported} unsupported figure{plural})")
    packed = _pack([atoms], MAX_TEXT)
    return packed[0] if packed else "Summary"
