"""Block Kit rendering: marks on unsupported figures, Slack's limits, failure messages."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from summariser import Settings, summarise
from summariser.schema import (
    Change,
    CheckedText,
    FigureCheck,
    Metric,
    Summary,
    UnsupportedFigure,
    ValidationReport,
)
from summariser.service.blocks import (
    MAX_BLOCKS,
    MAX_TEXT,
    failure_message,
    summary_message,
)
from tests.service.fake_slack import block_problems

ARTICLE = (
    "Corvel Systems reported fourth-quarter revenue of $812 million, up 9% from a year earlier, "
    "and net income of $96 million. Shares rose 5% after the results."
)
MARK = ":warning: unsupported: "


@pytest.fixture(scope="module")
def base() -> Summary:
    return summarise(ARTICLE, settings=Settings(backend="offline"))


def figure(text: str, status: str = "unsupported", reason: str = "not_found") -> FigureCheck:
    return FigureCheck.model_validate(
        {
            "text": text,
            "value": 1.0,
            "unit": None,
            "kind": "money",
            "hedge": None,
            "status": status,
            "reason": reason,
            "evidence": [],
            "hints": [],
        }
    )


def checked(text: str, *figures: FigureCheck) -> CheckedText:
    supported = all(f.status != "unsupported" for f in figures)
    return CheckedText(text=text, supported=supported, figures=list(figures))


def metric(name: str, value: str, status: str = "supported", **changes: Any) -> Metric:
    data: dict[str, Any] = {
        "entity": "Corvel",
        "metric": name,
        "value": 1.0,
        "value_text": value,
        "unit": "$",
        "period": "Q4",
        "change": None,
        "quote": "",
        "span": None,
        "status": status,
        "reason": "exact" if status == "supported" else "not_found",
        "evidence": [],
    }
    return Metric.model_validate(data | changes)


def texts(message: dict[str, Any]) -> list[str]:
    """Every piece of text a reader sees: the fallback, and each block's text and fields."""
    found = [message["text"]]
    for block in message["blocks"]:
        if "text" in block:
            found.append(block["text"]["text"])
        found += [f["text"] for f in block.get("fields", [])]
        found += [e["text"] for e in block.get("elements", [])]
    return found


def unmarked(text: str, figure_text: str) -> list[int]:
    """Where ``figure_text`` stands in ``text`` neither marked nor in a note saying why."""
    bad = []
    for match in re.finditer(re.escape(figure_text), text):
        before = text[: match.start()]
        if not (before.endswith("unsupported: ") or before.endswith(":warning: _")):
            bad.append(match.start())
    return bad


def test_a_clean_summary_reads_as_header_overview_bullets_metrics_footer(base: Summary) -> None:
    message = summary_message(base, reference="job-1")
    kinds = [block["type"] for block in message["blocks"]]
    assert kinds[0] == "header" and kinds[1] == "context" and kinds[-1] == "context"
    assert "section" in kinds
    assert block_problems(message["blocks"]) == []
    everything = "\n".join(texts(message))
    assert "$812 million" in everything and "unsupported" not in everything
    assert "all" in message["blocks"][1]["elements"][0]["text"]  # all N figures checked
    assert "job-1" in message["blocks"][-1]["elements"][0]["text"]
    assert base.headline.text.split()[0] in message["text"]


def test_an_unsupported_figure_is_marked_everywhere_it_is_shown(base: Summary) -> None:
    bad = figure("$5.9 billion")
    summary = base.model_copy(
        update={
            "headline": checked("Corvel revenue hits $5.9 billion", bad),
            "summary": [checked("Revenue was $5.9 billion, it said.", bad)],
            "metrics": [
                metric(
                    "revenue",
                    "$5.9 billion",
                    "unsupported",
                    change=Change(value=40, unit="%", direction="up", text="40%"),
                )
            ],
            "validation": ValidationReport(
                figures_supported=0,
                figures_unsupported=3,
                unsupported=[
                    UnsupportedFigure(where="headline", text="$5.9 billion", reason="not_found"),
                    UnsupportedFigure(where="metrics[0].change", text="40%", reason="not_found"),
                ],
                dropped=0,
            ),
        }
    )
    message = summary_message(summary)
    header = message["blocks"][0]
    assert header["type"] == "header"
    assert header["text"]["text"] == f"Corvel revenue hits {MARK}$5.9 billion"
    assert MARK + "$5.9 billion" in message["text"]
    for text in texts(message):
        assert unmarked(text, "$5.9 billion") == [], text
        assert unmarked(text, "40%") == [], text
    bullets = [
        b["text"]["text"] for b in message["blocks"] if b["type"] == "section" and "text" in b
    ]
    assert any("*:warning: unsupported: $5.9 billion*" in t for t in bullets)
    assert any("not found in the source" in t for t in bullets)
    overview = message["blocks"][1]["elements"][0]["text"]
    assert "3 of 3 figures are not supported" in overview


def test_model_text_cannot_mention_or_link(base: Summary) -> None:
    summary = base.model_copy(
        update={"summary": [checked("Hi <!channel> see <https://evil.test|this> & more")]}
    )
    joined = "\n".join(texts(summary_message(summary)))
    assert "<!channel>" not in joined and "<https://evil" not in joined
    assert "&lt;!channel&gt;" in joined and "&amp; more" in joined


def test_a_long_summary_stays_within_slacks_limits(base: Summary) -> None:
    bad = figure("$7.7 billion")
    words = " ".join(["revenue grew strongly in every region"] * 120)  # ~4,600 characters
    bullets = [checked(f"{words} to $7.7 billion & beyond {words}", bad) for _ in range(120)]
    metrics = [metric("m" * 3000, "<$1 & >" * 400, "unsupported") for _ in range(25)]
    summary = base.model_copy(
        update={
            "headline": checked("A very long headline " * 30 + "of $7.7 billion", bad),
            "summary": bullets,
            "metrics": metrics,
        }
    )
    message = summary_message(summary)
    assert block_problems(message["blocks"]) == []
    assert len(message["blocks"]) <= MAX_BLOCKS and len(message["text"]) <= MAX_TEXT
    assert message["blocks"][0]["type"] == "section"  # too long for a header: never cut
    joined = "\n".join(texts(message))
    assert "more points not shown" in joined and "and 15 more metrics" in joined
    for text in texts(message):
        assert unmarked(text, "$7.7 billion") == [], text
    fields = [f for b in message["blocks"] for f in b.get("fields", [])]
    assert len(fields) == 20  # ten metrics, two fields each
    assert all(f["text"].startswith("*") for f in fields[::2])


def test_a_bullet_longer_than_a_section_is_split_between_words_not_inside_a_mark(
    base: Summary,
) -> None:
    figures = [figure(f"${n} million") for n in range(100, 160)]
    text = " ".join(f"segment {n} made ${n} million in sales this year" for n in range(100, 160))
    summary = base.model_copy(update={"summary": [checked(text * 1, *figures)], "metrics": []})
    message = summary_message(summary)
    assert block_problems(message["blocks"]) == []
    sections = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    assert len(sections) >= 2
    joined = "\n".join(sections)
    assert joined.count("*:warning: unsupported: $") == 60  # every mark whole
    for section in sections:
        assert section.count("*") % 2 == 0  # no bold left open by a split


@given(
    st.lists(st.tuples(st.text(min_size=0, max_size=400), st.booleans()), min_size=1, max_size=60),
    st.integers(min_value=0, max_value=30),
)
def test_any_summary_fits_slacks_limits(parts: list[tuple[str, bool]], n_metrics: int) -> None:
    base = summarise(ARTICLE, settings=Settings(backend="offline"))
    bullets = []
    for text, flagged in parts:
        figs = [figure("$1.5 billion")] if flagged else []
        bullets.append(checked(f"{text} $1.5 billion {text}" if flagged else text, *figs))
    metrics = [metric(f"metric {n}", "$1.5 billion", "unsupported") for n in range(n_metrics)]
    summary = base.model_copy(update={"summary": bullets, "metrics": metrics})
    message = summary_message(summary)
    assert block_problems(message["blocks"]) == []
    for text in texts(message):
        assert unmarked(text, "$1.5 billion") == []


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        ("backend_error", "model is unavailable"),
        ("http_status", "could not fetch that page"),
        ("no_article_text", "no article text"),
        ("no_link", "no link"),
        ("timeout", "took too long"),
        ("internal_error", "went wrong on my side"),
        (None, "went wrong on my side"),
    ],
)
def test_failures_are_short_polite_and_carry_the_reference(reason: str | None, words: str) -> None:
    message = failure_message(reason, "abc123")
    assert words in message["text"] and "abc123" in message["text"]
    assert message["text"].startswith("Sorry")
    assert len(message["blocks"]) == 1 and block_problems(message["blocks"]) == []
