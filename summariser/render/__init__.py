"""Reports: a checked :class:`~summariser.schema.Summary` as Markdown or as one HTML page.

Stage: output, pure (strings in, a string out; no I/O). In: a ``Summary``, and for the HTML
page the cleaned article its spans refer to. Out: ``render_markdown(summary)`` in
:mod:`summariser.render.markdown`, ``render_html(summary, article)`` in
:mod:`summariser.render.html`. Both keep the product's promise on the page: a figure the
source does not support is never shown as plain fact, but marked, with the reason.

This module holds what the two share: where each checked figure stands in its sentence, the
words for the validator's reasons, and the provenance line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from summariser.schema import FigureCheck, Summary, TextSpan

__all__ = [
    "Placed",
    "change_unsupported",
    "describe_reason",
    "distinct_hints",
    "place_figures",
    "provenance_parts",
    "signed",
    "where_label",
]

# The validator's reason codes (summariser.support.Reason, plus "no_figure" for a metric
# with no number in it), in words a reader of the report understands.
_REASONS = {
    "exact": "matches the source",
    "rounded": "the source figure, rounded",
    "hedged": "within the claim's hedge",
    "not_found": "not found in the source",
    "scale_mismatch": "the source has these digits at another scale",
    "unit_mismatch": "the source has this value as another kind of quantity",
    "currency_mismatch": "the source has this value in another currency",
    "percent_vs_points": "percent where the source has points, or the reverse",
    "more_precise_than_source": "more precise than the source",
    "hedge_direction": "the hedge points the wrong way",
    "quote_not_found": "the quoted passage is not in the source",
    "outside_quote": "not inside the quoted passage",
    "not_a_quantity": "not a quantity",
    "no_figure": "no figure to check",
}


def describe_reason(reason: str) -> str:
    """The reason code in words (an unknown code is shown as it is)."""
    return _REASONS.get(reason, reason.replace("_", " "))


@dataclass(frozen=True, slots=True)
class Placed:
    """A checked figure found in its headline or bullet: ``text[start:end] == figure.text``."""

    start: int
    end: int
    figure: FigureCheck


def place_figures(
    text: str, figures: Sequence[FigureCheck]
) -> tuple[list[Placed], list[FigureCheck]]:
    """Where each figure stands in ``text``, in order, and the figures that could not be found.

    A ``FigureCheck`` carries the figure as written but no offsets, so each is looked for
    after the previous one (figures come in reading order); one the text does not contain is
    returned apart, so that a report can still show it, beside the sentence.
    """
    placed: list[Placed] = []
    missing: list[FigureCheck] = []
    cursor = 0
    for figure in figures:
        start = text.find(figure.text, cursor) if figure.text else -1
        if start < 0:
            missing.append(figure)
            continue
        end = start + len(figure.text)
        placed.append(Placed(start, end, figure))
        cursor = end
    return placed, missing


def segments(
    text: str, figures: Sequence[FigureCheck]
) -> tuple[list[tuple[str, FigureCheck | None]], list[FigureCheck]]:
    """``text`` cut into pieces, each paired with the figure it is (or None for the words
    between), and the figures that could not be placed: what both renderers walk."""
    placed, missing = place_figures(text, figures)
    pieces: list[tuple[str, FigureCheck | None]] = []
    cursor = 0
    for mark in placed:
        pieces.append((text[cursor : mark.start], None))
        pieces.append((text[mark.start : mark.end], mark.figure))
        cursor = mark.end
    pieces.append((text[cursor:], None))
    return pieces, missing


def distinct_hints(figure: FigureCheck) -> list[TextSpan]:
    """The figure's hints, one per distinct text (the first place each stands in the source):
    the validator may offer the same "40%" at three places, which reads as a stutter."""
    seen: dict[str, TextSpan] = {}
    for hint in figure.hints:
        seen.setdefault(hint.text, hint)
    return list(seen.values())


def change_unsupported(summary: Summary) -> set[int]:
    """Indexes of the metrics whose change (``metrics[i].change``) the source does not support."""
    found: set[int] = set()
    for item in summary.validation.unsupported:
        where = item.where
        if where.startswith("metrics[") and where.endswith("].change"):
            index = where[len("metrics[") : -len("].change")]
            if index.isdigit():
                found.add(int(index))
    return found


def where_label(where: str) -> str:
    """A validation ``where`` in words: ``summary[2]`` -> ``bullet 3``, ``metrics[0].change``
    -> ``metric 1 (change)``; anything else as it is."""
    for prefix, noun in (("summary[", "bullet"), ("metrics[", "metric")):
        if where.startswith(prefix):
            index, _, rest = where[len(prefix) :].partition("]")
            if index.isdigit():
                return f"{noun} {int(index) + 1}" + (f" ({rest.lstrip('.')})" if rest else "")
    return where


def signed(score: float) -> str:
    """A sentiment score as the report shows it: ``+0.62``, ``-0.10``, ``0.00``."""
    return f"{score:+.2f}" if round(score, 2) else "0.00"


def provenance_parts(summary: Summary) -> list[str]:
    """The run's provenance as short labelled parts: backend, model, prompt, tokens, cost."""
    run = summary.provenance
    prompt = f"prompt {run.prompt.id} v{run.prompt.version} ({run.prompt.sha256[:12]})"
    if run.reduce_prompt is not None:
        reduce = run.reduce_prompt
        prompt += f", reduce {reduce.id} v{reduce.version} ({reduce.sha256[:12]})"
    usage = run.usage
    tokens = f"{usage.prompt_tokens:,} prompt + {usage.completion_tokens:,} completion tokens"
    if usage.cached_tokens:
        tokens += f" ({usage.cached_tokens:,} cached)"
    cost = "cost n/a" if run.estimated_cost_usd is None else f"~${run.estimated_cost_usd:.4f}"
    chunks = run.chunking.chunks
    return [
        f"backend {run.backend}",
        f"model {run.model}",
        prompt,
        tokens,
        cost,
        f"{len(run.attempts)} call{'s' if len(run.attempts) != 1 else ''}",
        f"{chunks} chunk{'s' if chunks != 1 else ''}",
        f"{run.latency_s:.1f} s",
        f"summariser {run.summariser_version}",
    ]
