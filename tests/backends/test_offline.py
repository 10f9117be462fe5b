"""The offline backend: valid answers, every figure supported, sensible names and tone."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from summariser.backends.base import Backend, CompletionRequest, Message
from summariser.backends.offline import OfflineBackend
from summariser.errors import BackendError
from summariser.schema import Extraction, Reduction
from summariser.validation import FigureClaim, check_claims

POSITIVE = """Northwind Foods posts record quarter

Northwind Foods said on Tuesday that third-quarter revenue rose 12% to $4.2 billion, beating analysts' expectations.
Net profit climbed 18% to $610 million, or $1.35 per share, as demand stayed strong in every region.
Operating margin improved to 14.5% from 13.1% a year earlier. The company raised its full-year guidance and now expects sales of about $16.5 billion.
Chief executive Maria Lopez said Northwind Foods had gained market share and that the board approved a $500 million share buyback.
"""

NEGATIVE = """Harbor Steel swings to a loss as demand slumps

Harbor Steel reported a net loss of $230 million for the second quarter, compared with a profit of $45 million a year earlier.
Revenue fell 22% to $1.1 billion as orders declined sharply. Harbor Steel cut its annual forecast and said it would eliminate 1,200 jobs.
Shares plunged 15% in early trading after the results missed expectations. Analysts warned that weak demand and rising costs would pressure margins, and a lawsuit over a plant closure adds to the risks.
"""

BLAND = """Meridian Utilities sets date for annual meeting

Meridian Utilities will hold its annual shareholder meeting in Denver on June 4.
The company operates power plants in three states. The board consists of nine directors.
Meridian Utilities said the agenda would be published on its website before the meeting.
"""

NO_FIGURES = """Lakeside Bank names a new chief executive

Lakeside Bank has appointed Sarah Chen as its chief executive, the lender said on Monday.
Ms. Chen joins from a rival bank, where she ran the retail division.
She replaces Tom Baker, who is retiring after a long career at Lakeside Bank.
The board said the search had been thorough and thanked Mr. Baker for his service.
"""

WIRE = """ACME CORP <ACM> SEES LOWER FIRST QUARTER NET

Acme Corp said its first
quarter profits may be below the 2.4 mln
dlrs, or 15 cts a share, earned in the first quarter of fiscal
1986.
    The company said sales rose 8.5 pct to 67.1 mln dlrs in the
latest quarter, while costs fell.
"""

CHINESE = "阿里巴巴集团公布2026财年第四季度业绩。阿里云AI相关产品收入达到89.71亿元，同比增长40%。管理层表示，未来一年AI收入占比将超过50%。"

ARTICLES = {
    "positive": POSITIVE,
    "negative": NEGATIVE,
    "bland": BLAND,
    "no_figures": NO_FIGURES,
    "wire": WIRE,
}


def ask(data: str, purpose: str = "extract") -> str:
    request = CompletionRequest(
        messages=(Message("system", "be brief"), Message("user", data)),
        schema_name="extraction" if purpose == "extract" else "reduction",
        json_schema={},
        purpose=purpose,  # type: ignore[arg-type]
        data=data,
    )
    completion = asyncio.run(OfflineBackend().complete(request))
    assert completion.content is not None
    return completion.content


def extraction(text: str) -> Extraction:
    return Extraction.model_validate_json(ask(text))


def assert_all_supported(article: str, found: Extraction) -> None:
    texts = [found.headline, *found.bullets]
    for verdict in check_claims(article, texts):
        assert verdict.supported, verdict.to_dict()
    claims: list[FigureClaim] = []
    for metric in found.metrics:
        claims.append(FigureClaim(text=metric.value, quote=metric.quote))
        if metric.change is not None:
            claims.append(FigureClaim(text=metric.change.value, quote=metric.quote))
    for verdict in check_claims(article, claims):
        assert verdict.supported, verdict.to_dict()


# --- the backend --------------------------------------------------------------------------


def test_backend_satisfies_the_protocol() -> None:
    backend = OfflineBackend()
    assert isinstance(backend, Backend)
    assert backend.name == "offline"
    assert backend.model == "offline-v1"
    assert OfflineBackend(model="offline-test").model == "offline-test"


def test_completion_fields() -> None:
    request = CompletionRequest(
        messages=(Message("user", "x" * 400),),
        schema_name="extraction",
        json_schema={},
        purpose="extract",
        data=POSITIVE,
    )
    completion = asyncio.run(OfflineBackend().complete(request))
    assert completion.finish_reason == "stop"
    assert completion.model == "offline-v1"
    assert completion.refusal is None
    assert completion.usage.prompt_tokens == 100
    assert completion.content is not None
    assert completion.usage.completion_tokens == len(completion.content) // 4
    assert completion.latency_s >= 0


def test_unknown_purpose_is_a_backend_error() -> None:
    with pytest.raises(BackendError):
        ask(POSITIVE, purpose="translate")


@pytest.mark.parametrize("name", sorted(ARTICLES))
def test_answers_validate_and_every_figure_is_supported(name: str) -> None:
    article = ARTICLES[name]
    found = extraction(article)
    assert found.headline
    assert 1 <= len(found.bullets) <= 6
    assert len(found.metrics) <= 15
    assert -1.0 <= found.sentiment.score <= 1.0
    assert_all_supported(article, found)
    for metric in found.metrics:
        assert metric.quote in " ".join(article.split())


@pytest.mark.parametrize("name", sorted(ARTICLES))
def test_deterministic(name: str) -> None:
    assert ask(ARTICLES[name]) == ask(ARTICLES[name])


_COMPANIES = st.sampled_from(["Orion Labs", "Bluefin Energy", "Kestrel Motors", "Vega Retail"])
_METRICS = st.sampled_from(["revenue", "net profit", "operating income", "sales", "free cash flow"])
_VERBS = st.sampled_from(["rose", "fell", "grew", "declined", "jumped", "slipped"])
_SCALES = st.sampled_from(["million", "billion", "mln", "bn"])


@st.composite
def articles(draw: st.DrawFn) -> str:
    """Short results articles built from templates, with random figures."""
    lines = []
    for _ in range(draw(st.integers(1, 6))):
        company, metric, verb = draw(_COMPANIES), draw(_METRICS), draw(_VERBS)
        pct = draw(st.integers(1, 99))
        amount = draw(st.decimals("0.1", "999.9", places=draw(st.integers(0, 2))))
        template = draw(st.integers(0, 2))
        if template == 0:
            lines.append(f"{company} said {metric} {verb} {pct}% to ${amount} {draw(_SCALES)}.")
        elif template == 1:
            lines.append(
                f"{company}'s {metric} was about ${amount} {draw(_SCALES)}, {verb} {pct}% from a year earlier."
            )
        else:
            lines.append(
                f"Its {metric} {verb} to {amount} percent in the quarter, the company said."
            )
    return "Results roundup\n\n" + " ".join(lines)


@settings(max_examples=40, deadline=None)
@given(articles())
def test_every_figure_of_a_generated_article_is_supported(article: str) -> None:
    assert_all_supported(article, extraction(article))


# --- what it finds ------------------------------------------------------------------------


def test_metric_name_value_and_change() -> None:
    found = extraction(POSITIVE)
    by_value = {m.value: m for m in found.metrics}
    revenue = by_value["$4.2 billion"]
    assert revenue.metric == "revenue"
    assert revenue.entity == "Northwind Foods"
    assert revenue.change is not None
    assert (revenue.change.value, revenue.change.direction) == ("12%", "up")
    assert revenue.period is not None and "third-quarter" in revenue.period
    assert by_value["$610 million"].metric == "net profit"
    assert by_value["$1.35"].metric == "EPS"
    assert by_value["14.5%"].metric == "operating margin"
    assert by_value["about $16.5 billion"].metric == "sales"
    assert "12%" not in by_value  # stated as the change of revenue, not on its own


def test_money_with_scale_ranks_first() -> None:
    found = extraction(POSITIVE)
    assert found.metrics[0].value == "$4.2 billion"


def test_decline_direction() -> None:
    found = extraction(NEGATIVE)
    revenue = next(m for m in found.metrics if m.value == "$1.1 billion")
    assert revenue.change is not None
    assert (revenue.change.value, revenue.change.direction) == ("22%", "down")


def test_headline_and_bullets_state_key_figures() -> None:
    found = extraction(POSITIVE)
    assert "$4.2 billion" in found.headline
    assert 3 <= len(found.bullets) <= 6
    assert all(len(b.split()) <= 40 for b in found.bullets)


def test_sentiment_labels() -> None:
    assert extraction(POSITIVE).sentiment.label == "positive"
    assert extraction(NEGATIVE).sentiment.label == "negative"
    bland = extraction(BLAND).sentiment
    assert bland.label == "neutral"
    assert abs(bland.score) < 0.2


def test_sentiment_evidence_is_verbatim() -> None:
    article = POSITIVE
    found = extraction(article)
    assert 1 <= len(found.sentiment.evidence) <= 3
    flat = " ".join(article.split())
    assert all(quote in flat for quote in found.sentiment.evidence)
    assert "positive vs" in found.sentiment.rationale


def test_negation_flips() -> None:
    grew = "Revenue grew in the quarter and the company beat expectations.\n"
    did_not = "Revenue did not grow in the quarter and the company did not beat expectations.\n"
    assert extraction(grew).sentiment.score > 0
    assert extraction(did_not).sentiment.score < 0


def test_falling_costs_read_as_good_news() -> None:
    assert extraction("Costs fell sharply and losses narrowed.\n").sentiment.score > 0


def test_entity_sentiment() -> None:
    entities = {e.entity: e for e in extraction(NEGATIVE).entities}
    assert entities["Harbor Steel"].label == "negative"


def test_no_figures_gives_no_metrics_but_a_summary() -> None:
    found = extraction(NO_FIGURES)
    assert found.metrics == []
    assert found.headline == "Lakeside Bank names a new chief executive"
    assert len(found.bullets) >= 3


def test_bland_article_has_no_small_counts_as_metrics() -> None:
    assert extraction(BLAND).metrics == []  # "three states", "nine directors", "June 4"


def test_wrapped_newswire() -> None:
    found = extraction(WIRE)
    values = {m.value for m in found.metrics}
    assert {"2.4 mln\ndlrs", "67.1 mln dlrs"} & values or {"2.4 mln dlrs"} & values
    assert all("\n" not in b for b in found.bullets)


def test_chinese_text_does_not_crash() -> None:
    found = extraction(CHINESE)
    assert found.headline
    assert_all_supported(CHINESE, found)
    assert any(m.value == "89.71亿元" for m in found.metrics)


def test_empty_text() -> None:
    found = extraction("   \n")
    assert (found.headline, found.bullets, found.metrics) == ("", [], [])
    assert found.sentiment.label == "neutral"


# --- reduce -------------------------------------------------------------------------------

NOTES: dict[str, Any] = {
    "headlines": ["Northwind Foods revenue rises 12% to $4.2 billion", "Northwind cuts 300 jobs"],
    "bullets": [
        "Third-quarter revenue rose 12% to $4.2 billion.",
        "Northwind will cut 300 jobs at its Ohio plant.",
        "third-quarter revenue rose 12% to $4.2 billion",
        "The company is based in Ohio.",
        "Net profit was $610 million.",
        "Margins improved to 14.5%.",
        "It raised guidance to $16.5 billion.",
    ],
    "sentiments": [
        {
            "label": "positive",
            "score": 0.6,
            "rationale": "revenue beat",
            "evidence": ["revenue rose 12%"],
        },
        {"label": "negative", "score": -0.4, "rationale": "job cuts", "evidence": ["cut 300 jobs"]},
    ],
    "entities": [
        {"entity": "Northwind Foods", "label": "positive", "score": 0.6},
        {"entity": "northwind foods", "label": "negative", "score": -0.4},
    ],
}


def test_reduce_combines_notes() -> None:
    found = Reduction.model_validate_json(ask(json.dumps(NOTES), purpose="reduce"))
    assert found.headline == NOTES["headlines"][0]
    assert len(found.bullets) == 5
    assert found.bullets[0] == "Third-quarter revenue rose 12% to $4.2 billion."
    assert "third-quarter revenue rose 12% to $4.2 billion" not in found.bullets
    assert "The company is based in Ohio." not in found.bullets  # states nothing
    assert found.sentiment.label == "mixed"
    assert 0 < found.sentiment.score < 0.3
    assert found.sentiment.evidence == ["revenue rose 12%", "cut 300 jobs"]
    assert [e.entity for e in found.entities] == ["Northwind Foods"]
    assert found.entities[0].label == "mixed"


def test_reduce_one_sided_notes() -> None:
    notes = {
        "headlines": ["A"],
        "bullets": ["Sales rose 5%."],
        "sentiments": [
            {"label": "negative", "score": -0.7, "rationale": "x", "evidence": ["fell"]},
            {"label": "neutral", "score": 0.0, "rationale": "y", "evidence": []},
        ],
        "entities": [],
    }
    found = Reduction.model_validate_json(ask(json.dumps(notes), purpose="reduce"))
    assert found.sentiment.label == "negative"
    assert found.entities == []


def test_reduce_reads_plain_text_notes() -> None:
    found = Reduction.model_validate_json(ask(POSITIVE, purpose="reduce"))
    assert "$4.2 billion" in found.headline


# --- the seed article ---------------------------------------------------------------------


@pytest.mark.data
def test_seed_article(shared_dir: Path) -> None:
    article = (shared_dir / "data" / "seed" / "alibaba_fy2026_q4_article.txt").read_text(
        encoding="utf-8"
    )
    found = extraction(article)
    assert_all_supported(article, found)
    values = {m.value: m for m in found.metrics}
    assert values["8.971 billion yuan"].metric == "AI-related product revenue"
    assert values["8.971 billion yuan"].entity == "Alibaba Cloud"
    assert {"40%", "35%", "30%", "32.8%"} <= set(values)
    assert "growth" in values["40%"].metric
    assert values["32.8%"].metric == "market share"
    assert {"8 billion yuan", "10 billion yuan", "30 billion yuan"} <= set(values)
    assert all(
        values[v].metric == "ARR" for v in ("8 billion yuan", "10 billion yuan", "30 billion yuan")
    )
    assert found.sentiment.label == "positive"
