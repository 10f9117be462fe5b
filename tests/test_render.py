"""Tests of the report renderers (summariser.render): Markdown and the self-contained HTML page.

Summaries are built by hand from the pydantic models, with spans found in a fixture article, so
that each test says exactly which figure is supported, which is not, and where its evidence is.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from summariser.render import change_unsupported, place_figures, where_label
from summariser.render.html import render_html
from summariser.render.markdown import render_markdown
from summariser.schema import (
    Change,
    CheckedText,
    ChunkingInfo,
    EntitySentiment,
    FigureCheck,
    Metric,
    PromptRef,
    Provenance,
    Sentiment,
    SourceInfo,
    Summary,
    TextSpan,
    UnsupportedFigure,
    Usage,
    ValidationReport,
)

ARTICLE = (
    "Acme Corp results\n\n"
    "Acme said revenue rose 18% to $1.2 billion in the quarter, against $1.02 billion a year "
    "earlier. Revenue for the year is seen between $4.2 billion and $4.9 billion.\n\n"
    "云业务收入达到89.71亿元，同比增长40%。 Margin was 32.8%.\n\n"
    "<script>alert(1)</script> appeared in a comment & was quoted."
)


def span(article: str, text: str, occurrence: int = 0) -> TextSpan:
    """The span of the n-th occurrence of ``text`` in ``article``."""
    start = -1
    for _ in range(occurrence + 1):
        start = article.index(text, start + 1)
    return TextSpan(start=start, end=start + len(text), text=text)


def check(
    text: str,
    status: str = "supported",
    *,
    evidence: list[TextSpan] | None = None,
    hints: list[TextSpan] | None = None,
    reason: str | None = None,
) -> FigureCheck:
    default_reason = {"supported": "exact", "unsupported": "not_found"}.get(status, "skipped")
    return FigureCheck(
        text=text,
        value=1.0,
        unit=None,
        kind="money",
        hedge=None,
        status=status,  # type: ignore[arg-type]
        reason=reason or default_reason,
        evidence=evidence or [],
        hints=hints or [],
    )


def build_summary(article: str = ARTICLE, **overrides: object) -> Summary:
    """A summary of ARTICLE: one headline, three bullets (one with an unsupported figure), two
    metrics (one unsupported, with an unsupported change), sentiment and provenance."""
    headline = CheckedText(
        text="Acme revenue rises 18% to $1.2 billion",
        supported=True,
        figures=[
            check("18%", evidence=[span(article, "18%")]),
            check("$1.2 billion", evidence=[span(article, "$1.2 billion")]),
        ],
    )
    bullets = [
        CheckedText(
            text="Revenue for the year is seen between $4.2 billion and $5.9 billion.",
            supported=False,
            figures=[
                check("$4.2 billion", evidence=[span(article, "$4.2 billion")]),
                check(
                    "$5.9 billion",
                    "unsupported",
                    hints=[span(article, "$4.9 billion"), span(article, "$4.2 billion")],
                ),
            ],
        ),
        CheckedText(
            text="Cloud revenue reached 89.71亿元, up 40%.",
            supported=True,
            figures=[
                check("89.71亿元", evidence=[span(article, "89.71亿元")]),
                check("40%", evidence=[span(article, "40%")]),
            ],
        ),
        CheckedText(text="A comment quoted <b>markup</b> & *stars*.", supported=True, figures=[]),
    ]
    metrics = [
        Metric(
            entity="Acme",
            metric="revenue",
            value=1.2e9,
            value_text="$1.2 billion",
            unit="$",
            period="Q4",
            change=Change(value=18.0, unit="%", direction="up", text="18%"),
            quote="revenue rose 18% to $1.2 billion",
            span=span(article, "revenue rose 18% to $1.2 billion"),
            status="supported",
            reason="exact",
            evidence=[span(article, "$1.2 billion")],
        ),
        Metric(
            entity="Acme | Cloud",
            metric="margin",
            value=35.0,
            value_text="35%",
            unit="%",
            period=None,
            change=Change(value=3.0, unit="pp", direction="down", text="3 points"),
            quote="Margin was 32.8%.",
            span=span(article, "Margin was 32.8%."),
            status="unsupported",
            reason="not_found",
            evidence=[],
        ),
    ]
    fields: dict[str, object] = {
        "headline": headline,
        "summary": bullets,
        "metrics": metrics,
        "sentiment": Sentiment(
            label="positive",
            score=0.62,
            rationale="Revenue grew & the outlook was raised.",
            evidence=[span(article, "Acme said revenue rose 18%")],
            entities=[EntitySentiment(entity="Acme", label="positive", score=0.7)],
        ),
        "validation": ValidationReport(
            figures_supported=6,
            figures_unsupported=3,
            unsupported=[
                UnsupportedFigure(where="summary[0]", text="$5.9 billion", reason="not_found"),
                UnsupportedFigure(where="metrics[1]", text="35%", reason="not_found"),
                UnsupportedFigure(where="metrics[1].change", text="3 points", reason="not_found"),
            ],
            dropped=0,
        ),
        "provenance": Provenance(
            backend="fake",
            model="test-model",
            prompt=PromptRef(id="extract", version="1", sha256="ab" * 32),
            reduce_prompt=None,
            chunking=ChunkingInfo(
                encoding="o200k_base", budget_tokens=6000, overlap_tokens=200, chunks=1
            ),
            attempts=[],
            usage=Usage(prompt_tokens=1234, completion_tokens=321),
            estimated_cost_usd=0.0012,
            latency_s=1.5,
            summariser_version="0.1.0",
        ),
        "source": SourceInfo(format="text", chars=len(article), sha256="cd" * 32, removed_lines=3),
    }
    fields.update(overrides)
    return Summary.model_validate(fields)


@pytest.fixture
def summary() -> Summary:
    return build_summary()


# --- shared helpers -------------------------------------------------------------------------


def test_place_figures_in_order_and_missing() -> None:
    figures = [check("5%"), check("5%"), check("$9bn")]
    placed, missing = place_figures("up 5% then 5% again", figures)
    assert [(p.start, p.end) for p in placed] == [(3, 5), (11, 13)]
    assert [f.text for f in missing] == ["$9bn"]


@pytest.mark.parametrize(
    ("where", "label"),
    [
        ("headline", "headline"),
        ("summary[2]", "bullet 3"),
        ("metrics[0]", "metric 1"),
        ("metrics[0].change", "metric 1 (change)"),
        ("summary[x]", "summary[x]"),
    ],
)
def test_where_label(where: str, label: str) -> None:
    assert where_label(where) == label


def test_change_unsupported(summary: Summary) -> None:
    assert change_unsupported(summary) == {1}


# --- Markdown -------------------------------------------------------------------------------


def test_markdown_marks_unsupported_figures_and_never_states_them_plainly(
    summary: Summary,
) -> None:
    text = render_markdown(summary)
    assert "**⚠ unsupported: $5.9 billion**" in text
    assert "closest in the source: $4.9 billion, $4.2 billion" in text
    # Outside a warning, the unsupported figure does not appear at all.
    assert all("⚠" in line for line in text.splitlines() if "$5.9 billion" in line)
    assert all("⚠" in line for line in text.splitlines() if "35%" in line)


def test_markdown_sections_and_table(summary: Summary) -> None:
    text = render_markdown(summary)
    assert text.startswith("# Acme revenue rises 18% to $1.2 billion\n")
    for heading in ("## Summary", "## Metrics", "## Sentiment", "## Validation"):
        assert heading in text
    assert "| Entity | Metric | Value | Period | Change | Status |" in text
    assert (
        "| Acme | revenue | $1.2 billion | Q4 | ↑ 18% | ✓ supported (matches the source) |" in text
    )
    # A "|" from the model is escaped so that it cannot split a cell.
    assert "Acme \\| Cloud" in text
    assert "**⚠ unsupported: ↓ 3 points**" in text
    assert "**positive** (+0.62): Revenue grew & the outlook was raised." in text
    assert "6 figures supported, 3 unsupported." in text
    assert "- ⚠ metric 2 (change): 3 points (not found in the source)" in text


def test_markdown_provenance_line(summary: Summary) -> None:
    last = render_markdown(summary).rstrip("\n").splitlines()[-1]
    for part in (
        "backend fake",
        "model test-model",
        "prompt extract v1 (abababababab)",
        "1,234 prompt + 321 completion tokens",
        "~$0.0012",
        "3 furniture lines removed",
    ):
        assert part in last


def test_markdown_escapes_model_markup(summary: Summary) -> None:
    text = render_markdown(summary)
    assert "A comment quoted \\<b\\>markup\\</b\\> & \\*stars\\*." in text
    assert "<b>" not in text


def test_markdown_without_metrics_or_cost() -> None:
    base = build_summary()
    provenance = base.provenance.model_copy(update={"estimated_cost_usd": None})
    text = render_markdown(build_summary(metrics=[], provenance=provenance))
    assert "No metrics." in text
    assert "cost n/a" in text


# --- HTML -----------------------------------------------------------------------------------


class _Collector(HTMLParser):
    """Parses the page, keeping what the tests look at: tags, marks, script, external refs."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.marks: list[tuple[str, str]] = []  # (class, text)
        self.links: list[str] = []
        self._mark: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        found = dict(attrs)
        for name in ("src", "href"):
            if found.get(name):
                self.links.append(found[name] or "")
        if tag == "mark":
            self._mark, self._text = found.get("class") or "", []

    def handle_endtag(self, tag: str) -> None:
        if tag == "mark" and self._mark is not None:
            self.marks.append((self._mark, "".join(self._text)))
            self._mark = None

    def handle_data(self, data: str) -> None:
        if self._mark is not None:
            self._text.append(data)


def parse(page: str) -> _Collector:
    collector = _Collector()
    collector.feed(page)
    collector.close()
    return collector


def test_html_is_one_self_contained_page_without_script(summary: Summary) -> None:
    page = render_html(summary, ARTICLE)
    seen = parse(page)
    assert page.startswith("<!DOCTYPE html>")
    assert "script" not in seen.tags
    assert all(link.startswith("#src-") for link in seen.links)  # no external assets
    assert "<style>" in page
    assert "<title>Acme revenue rises 18% to $1.2 billion · summary</title>" in page


def test_html_escapes_the_article(summary: Summary) -> None:
    page = render_html(summary, ARTICLE)
    # "(1)" in alert(1) reads as an amount, so it is marked; the tags around it are text.
    assert "&lt;script&gt;alert" in page
    assert "&lt;/script&gt; appeared" in page
    assert "<script" not in page
    assert "comment &amp; was quoted" in page
    assert "A comment quoted &lt;b&gt;markup&lt;/b&gt; &amp; *stars*." in page


def test_html_highlights_evidence_hints_and_other_figures(summary: Summary) -> None:
    marks = parse(render_html(summary, ARTICLE)).marks
    article_marks = [m for m in marks if m[1] != "1.2bn"]  # "1.2bn": the legend's samples
    assert ("ev", "$1.2 billion") in article_marks
    assert ("ev", "89.71亿元") in article_marks
    assert ("ev", "40%") in article_marks
    assert ("hint", "$4.9 billion") in article_marks
    # $4.2 billion is evidence of a supported figure and a hint: evidence wins.
    assert ("ev", "$4.2 billion") in article_marks
    assert ("hint", "$4.2 billion") not in article_marks
    # Amounts that back nothing are neutral.
    assert ("fig", "$1.02 billion") in article_marks
    assert ("fig", "32.8%") in article_marks


def test_html_marks_slice_back_at_multibyte_offsets(summary: Summary) -> None:
    page = render_html(summary, ARTICLE)
    start = ARTICLE.index("89.71亿元")
    assert f'<mark class="ev" id="src-{start}"' in page
    # The text of the article survives whole, in order, once the marks are taken out.
    text = re.search(r'<div class="text">(.*?)</div>', page, re.DOTALL)
    assert text is not None
    plain = re.sub(r"</?mark[^>]*>", "", text.group(1))
    assert plain == ARTICLE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def test_html_summary_side_colours_figures_by_status(summary: Summary) -> None:
    page = render_html(summary, ARTICLE)
    start = ARTICLE.index("$1.2 billion")
    assert f'<a class="f f-ok" href="#src-{start}"' in page
    assert (
        '<span class="f f-bad" title="unsupported: not found in the source">⚠ $5.9 billion' in page
    )
    assert "<b>$5.9 billion</b> is not supported: not found in the source." in page
    hint = ARTICLE.index("$4.9 billion")
    assert f'<a class="f f-hint" href="#src-{hint}">$4.9 billion</a>' in page
    assert "⚠ ↓ 3 points" in page  # the unsupported change of a metric
    assert '<span class="badge b-bad" title="not found in the source">⚠ unsupported</span>' in page


def test_html_spans_that_do_not_match_the_article_are_not_highlighted(summary: Summary) -> None:
    other = "X" * 5 + ARTICLE  # every span is now five characters off
    page = render_html(summary, other)
    assert 'class="ev"' not in page.split('<div class="text">', 1)[1]
    assert "do not match this article text" in page


def test_html_with_figure_missing_from_its_sentence() -> None:
    bullet = CheckedText(
        text="Sales were nine billion.",
        supported=False,
        figures=[check("$9bn", "unsupported")],
    )
    page = render_html(build_summary(summary=[bullet]), ARTICLE)
    assert 'Sales were nine billion. <span class="f f-bad"' in page
    text = render_markdown(build_summary(summary=[bullet]))
    assert "- Sales were nine billion. (**⚠ unsupported: $9bn**)" in text


def test_hints_are_shown_once_per_text() -> None:
    article = "Margin was 40%, then 40%, then 40%."
    hints = [span(article, "40%", n) for n in range(3)]
    bullet = CheckedText(
        text="Margin was 45%.", supported=False, figures=[check("45%", "unsupported", hints=hints)]
    )
    summary = build_summary(summary=[bullet])
    assert "closest in the source: 40%\n" in render_markdown(summary)
    page = render_html(summary, article)
    assert page.count('class="f f-hint"') == 1
    assert f'href="#src-{hints[0].start}"' in page
