"""Table-driven tests of ``check_claims``: supported and unsupported figures, reasons, evidence,
quotes, structured claims, serialisation and the empty-source error.

Every source and claim here is written for this file. Reasons are asserted only where the
specification makes them unmistakable (scale, currency, percent vs points, not found, and the
two quote reasons); elsewhere only the status is.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from summariser import (
    Claim,
    ClaimVerdict,
    EmptySourceError,
    FigureClaim,
    FigureVerdict,
    InputError,
    Reason,
    Span,
    Status,
    SummariserError,
    check_claims,
    find_figures,
)

SUPPORTING_REASONS = frozenset({Reason.EXACT, Reason.ROUNDED, Reason.HEDGED})
UNSUPPORTING_REASONS = frozenset(
    {
        Reason.NOT_FOUND,
        Reason.SCALE_MISMATCH,
        Reason.UNIT_MISMATCH,
        Reason.CURRENCY_MISMATCH,
        Reason.PERCENT_VS_POINTS,
        Reason.MORE_PRECISE_THAN_SOURCE,
        Reason.HEDGE_DIRECTION,
        Reason.QUOTE_NOT_FOUND,
        Reason.OUTSIDE_QUOTE,
    }
)

# --------------------------------------------------------------------------------------------
# sources (all written for these tests)

SRC_CNY = "Jade River Holdings said revenue for the year reached 8.971 billion yuan."
SRC_CNY_YI = "公司全年净利润为8.971亿元。"
SRC_USD_376 = "Northwind Power reported revenue of $37.6 billion for the year."
SRC_USD_38 = "Northwind Power expects capital spending of $38 billion next year."
SRC_RATIO = "The cover ratio stood at 8.971 at the end of March."
SRC_STAFF = "The lender employs 1,370 people across the region."
SRC_SHARE = "Its market share was 30% in the period."
SRC_USERS_48 = "The app now has 4.8 million users."
SRC_USERS_53 = "The app now has 5.3 million users."
SRC_SALES_104 = "Sales came to $10.4 billion."
SRC_SALES_96 = "Sales came to $9.6 billion."
SRC_EXECS_DIGITS = "The board dismissed 7 executives."
SRC_EXECS_WORDS = "The board dismissed seven executives."
SRC_HALF_PERCENT = "Of the staff, 50% work remotely."
SRC_HALF_WORD = "Half of the staff work remotely."
SRC_THIRD = "A third of the branches were closed."
SRC_HALF_BILLION = "The buyer paid half a billion dollars for the stake."
SRC_SMALL_DEAL = "The deal was valued at $1.5 million."
SRC_GBP = "The club paid £150m for the striker."
SRC_POINTS = "The jobless rate rose 2 percentage points over the year."
SRC_PERCENT = "The jobless rate rose 2% over the year."
SRC_STORES = "The chain closed 42 stores."
SRC_TWO_FIGURES = "Revenue climbed 12% to $3.1 billion in the quarter."
SRC_YEAR = "Revenue climbed 12% in 2025."


# --------------------------------------------------------------------------------------------
# helpers


def amount_verdicts(verdict: ClaimVerdict) -> list[FigureVerdict]:
    return [fv for fv in verdict.figures if fv.figure.is_amount]


def only_amount_verdict(verdict: ClaimVerdict) -> FigureVerdict:
    found = amount_verdicts(verdict)
    assert len(found) == 1, f"expected one amount verdict, got {found!r}"
    return found[0]


def assert_span_in(source: str, span: Span) -> None:
    assert 0 <= span.start <= span.end <= len(source), span
    assert source[span.start : span.end] == span.text, span


def assert_well_formed(source: str, claim_text: str | None, verdict: ClaimVerdict) -> None:
    """Invariants that hold for every verdict, whatever its status."""
    for fv in verdict.figures:
        if claim_text is not None:
            assert claim_text[fv.figure.start : fv.figure.end] == fv.figure.text, fv
        for span in (*fv.evidence, *fv.hints):
            assert_span_in(source, span)
        if fv.status is Status.SUPPORTED:
            assert fv.reason in SUPPORTING_REASONS, fv
            assert fv.evidence, f"a supported figure needs evidence: {fv!r}"
        elif fv.status is Status.UNSUPPORTED:
            assert fv.reason in UNSUPPORTING_REASONS, fv
    assert verdict.supported == all(fv.status is not Status.UNSUPPORTED for fv in verdict.figures)
    if verdict.quote_span is not None:
        assert_span_in(source, verdict.quote_span)


def check_one(source: str, claim: str | Claim | FigureClaim) -> ClaimVerdict:
    verdicts = check_claims(source, [claim])
    assert len(verdicts) == 1
    if isinstance(claim, str):
        text: str | None = claim
    else:
        text = claim.text
    assert_well_formed(source, text, verdicts[0])
    return verdicts[0]


# --------------------------------------------------------------------------------------------
# one figure per claim: supported or not, and the reason where it is clear


@dataclass(frozen=True)
class Case:
    id: str
    source: str
    claim: str
    supported: bool
    reason: Reason | None = None  # asserted only when set


CASES: list[Case] = [
    # same value after normalisation
    Case("cny-same-text", SRC_CNY, "Revenue was 8.971 billion yuan.", True),
    Case("cny-millions", SRC_CNY, "Revenue was 8,971 million yuan.", True),
    Case("cny-rmb-bn", SRC_CNY, "Revenue was RMB8.971bn.", True),
    Case("cny-yi", SRC_CNY, "营收为89.71亿元。", True),
    Case("yi-in-millions", SRC_CNY_YI, "Net profit was 897.1 million yuan.", True),
    Case("usd-same", SRC_USD_376, "Revenue was $37.6 billion.", True),
    Case("usd-full-digits", SRC_SMALL_DEAL, "The deal was worth $1,500,000.", True),
    Case("gbp-words", SRC_GBP, "The club spent 150 million pounds.", True),
    Case("gbp-stg", SRC_GBP, "The club spent 150 mln stg.", True),
    Case("stores-same", SRC_STORES, "The chain shut 42 stores.", True),
    # within half a unit of the claim's last written digit
    Case("rounded-to-billion", SRC_USD_376, "Revenue was $38 billion.", True),
    Case("rounded-hedged", SRC_USD_376, "Revenue was about $38 billion.", True),
    Case("rounded-one-decimal", SRC_CNY, "Revenue was about 9.0 billion yuan.", True),
    Case("rounded-integer", SRC_CNY, "Revenue was 9 billion yuan.", True),
    Case("rounded-two-decimals", SRC_CNY, "Revenue was 8.97 billion yuan.", True),
    Case("third-as-33-percent", SRC_THIRD, "Of the branches, 33% were closed.", True),
    # not by a relative tolerance alone; more precise than the source
    Case("off-by-a-tenth", SRC_USD_376, "Revenue was $37.5 billion.", False),
    Case("off-by-more-than-half-unit", SRC_CNY, "Revenue was 8.98 billion yuan.", False),
    Case("trailing-zero-is-a-digit", SRC_USD_376, "Revenue was $40 billion.", False),
    Case("transposed-digits", SRC_RATIO, "The cover ratio was 8.917.", False),
    Case("transposed-digits-yuan", SRC_CNY, "Revenue was 8.917 billion yuan.", False),
    Case("more-precise-than-source", SRC_USD_38, "Capital spending will be $37.6 billion.", False),
    Case("unhedged-round-number", SRC_STAFF, "The lender employs 1,400 people.", False),
    # hedges
    Case("about-close", SRC_STAFF, "The lender employs about 1,400 people.", True),
    Case("about-far", SRC_SHARE, "Its market share was about 40%.", False),
    Case("about-exact", SRC_SHARE, "Its market share was about 30%.", True),
    Case("nearly-below", SRC_USERS_48, "The app has nearly 5 million users.", True),
    Case("almost-below", SRC_USERS_48, "The app has almost 5 million users.", True),
    Case("just-under-below", SRC_USERS_48, "The app has just under 5 million users.", True),
    Case("nearly-but-above", SRC_USERS_53, "The app has nearly 5 million users.", False),
    Case("more-than-below", SRC_USERS_48, "The app has more than 5 million users.", False),
    Case("more-than-above", SRC_USERS_53, "The app has more than 5 million users.", True),
    Case("more-than-above-money", SRC_SALES_104, "Sales were more than $10 billion.", True),
    Case("over-above-money", SRC_SALES_104, "Sales were over $10 billion.", True),
    Case("at-least-above-money", SRC_SALES_104, "Sales were at least $10 billion.", True),
    Case("more-than-but-below", SRC_SALES_96, "Sales were more than $10 billion.", False),
    Case("nearly-below-money", SRC_SALES_96, "Sales were nearly $10 billion.", True),
    # number words and fractions are figures like others
    Case("word-claim-digit-source", SRC_EXECS_DIGITS, "Seven executives were dismissed.", True),
    Case("digit-claim-word-source", SRC_EXECS_WORDS, "The board fired 7 executives.", True),
    Case("word-wrong-count", SRC_EXECS_DIGITS, "Eight executives were dismissed.", False),
    Case("half-claim-percent-source", SRC_HALF_PERCENT, "Half of the staff work remotely.", True),
    Case("percent-claim-half-source", SRC_HALF_WORD, "Of the staff, 50% work remotely.", True),
    Case("money-claim-words-source", SRC_HALF_BILLION, "The buyer paid $500 million.", True),
    # clear reasons
    Case(
        "scale-million-vs-billion",
        SRC_SMALL_DEAL,
        "The deal was worth $1.5 billion.",
        False,
        Reason.SCALE_MISMATCH,
    ),
    Case(
        "scale-yi-is-hundred-million",
        SRC_CNY_YI,
        "Net profit was 8.971 billion yuan.",
        False,
        Reason.SCALE_MISMATCH,
    ),
    Case(
        "scale-billion-vs-million",
        SRC_CNY,
        "Revenue was 8.971 million yuan.",
        False,
        Reason.SCALE_MISMATCH,
    ),
    Case(
        "currency-pound-vs-dollar", SRC_GBP, "The club paid $150m.", False, Reason.CURRENCY_MISMATCH
    ),
    Case(
        "currency-yuan-vs-euro",
        SRC_CNY,
        "Revenue was 8.971 billion euros.",
        False,
        Reason.CURRENCY_MISMATCH,
    ),
    Case(
        "percent-for-points",
        SRC_POINTS,
        "The jobless rate rose 2%.",
        False,
        Reason.PERCENT_VS_POINTS,
    ),
    Case(
        "points-for-percent",
        SRC_PERCENT,
        "The jobless rate rose 2 percentage points.",
        False,
        Reason.PERCENT_VS_POINTS,
    ),
    Case("not-found-money", SRC_SALES_104, "Sales were $7 billion.", False, Reason.NOT_FOUND),
    Case("not-found-count", SRC_STORES, "The chain closed 17 stores.", False, Reason.NOT_FOUND),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_single_figure_claim(case: Case) -> None:
    verdict = check_one(case.source, case.claim)
    fv = only_amount_verdict(verdict)
    assert verdict.supported is case.supported, fv
    expected = Status.SUPPORTED if case.supported else Status.UNSUPPORTED
    assert fv.status is expected, fv
    if case.reason is not None:
        assert fv.reason is case.reason, fv


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_evidence_slices_back(case: Case) -> None:
    verdict = check_one(case.source, case.claim)
    for fv in verdict.figures:
        if fv.status is Status.SUPPORTED:
            assert fv.evidence
            for span in fv.evidence:
                assert case.source[span.start : span.end] == span.text


def test_hints_point_at_the_closest_source_figure() -> None:
    fv = only_amount_verdict(check_one(SRC_USD_376, "Revenue was $37.5 billion."))
    assert fv.status is Status.UNSUPPORTED
    assert fv.hints, "an unsupported figure with a near source figure should get hints"
    assert any("37.6" in span.text for span in fv.hints), fv.hints


# --------------------------------------------------------------------------------------------
# claims with several figures, none, or non-amounts


MULTI_CASES: list[tuple[str, str, str, list[Status]]] = [
    (
        "both-supported",
        SRC_TWO_FIGURES,
        "Revenue rose 12% to $3.1 billion.",
        [Status.SUPPORTED, Status.SUPPORTED],
    ),
    (
        "percent-wrong",
        SRC_TWO_FIGURES,
        "Revenue rose 15% to $3.1 billion.",
        [Status.UNSUPPORTED, Status.SUPPORTED],
    ),
    (
        "money-wrong",
        SRC_TWO_FIGURES,
        "Revenue rose 12% to $3.4 billion.",
        [Status.SUPPORTED, Status.UNSUPPORTED],
    ),
]


@pytest.mark.parametrize(
    ("source", "claim", "statuses"),
    [c[1:] for c in MULTI_CASES],
    ids=[c[0] for c in MULTI_CASES],
)
def test_every_amount_gets_its_own_verdict(source: str, claim: str, statuses: list[Status]) -> None:
    verdict = check_one(source, claim)
    assert [fv.status for fv in amount_verdicts(verdict)] == statuses
    assert verdict.supported is all(s is not Status.UNSUPPORTED for s in statuses)


VERDICT_COUNT_CLAIMS: list[tuple[str, str]] = [
    ("no-figures", "Revenue rose."),
    ("one-figure", "Revenue rose 12%."),
    ("two-figures", "Revenue rose 12% to $3.1 billion."),
    ("with-year", "In 2025 revenue rose 12% to $3.1 billion."),
    ("with-quarter", "Q4 revenue rose 12% to $3.1 billion."),
    ("with-list-marker", "1. Revenue rose 12% to $3.1 billion."),
    ("with-phone", "Call +1 212 555 0100 about the $3.1 billion."),
    ("range", "Revenue will be $3 billion to $3.2 billion."),
    ("number-words", "Seven executives left and half the staff moved."),
    ("chinese", "营收89.71亿元，增长12%。"),
]


@pytest.mark.parametrize(
    "claim", [c[1] for c in VERDICT_COUNT_CLAIMS], ids=[c[0] for c in VERDICT_COUNT_CLAIMS]
)
def test_one_verdict_per_figure_found(claim: str) -> None:
    verdict = check_one(SRC_TWO_FIGURES, claim)
    assert len(verdict.figures) == len(find_figures(claim))


def test_claim_without_figures_is_supported() -> None:
    verdict = check_one(SRC_TWO_FIGURES, "Revenue rose sharply.")
    assert verdict.supported is True
    assert verdict.figures == ()


def test_year_in_claim_and_source() -> None:
    verdict = check_one(SRC_YEAR, "In 2025 revenue climbed 12%.")
    assert verdict.supported is True
    assert only_amount_verdict(verdict).status is Status.SUPPORTED


@pytest.mark.parametrize(
    ("claim", "core"),
    [
        ("1. Revenue climbed 12% to $3.1 billion.", "1."),
        ("Revenue climbed 12% to $3.1 billion; call +1 212 555 0100.", "212"),
    ],
    ids=["list-marker", "phone"],
)
def test_non_quantities_are_never_unsupported(claim: str, core: str) -> None:
    """List markers and phone numbers are not facts to check (Status.SKIPPED's docstring)."""
    verdict = check_one(SRC_TWO_FIGURES, claim)
    pos = claim.index(core)
    marker = [fv for fv in verdict.figures if fv.figure.start <= pos < fv.figure.end]
    assert len(marker) == 1, verdict.figures
    assert not marker[0].figure.is_amount
    assert marker[0].status is not Status.UNSUPPORTED
    assert verdict.supported is True


# --------------------------------------------------------------------------------------------
# several claims: order, ids, claim kinds, iterables


def test_verdicts_in_order_with_ids() -> None:
    claims: list[str | Claim | FigureClaim] = [
        "Revenue rose 12%.",
        Claim("Revenue reached $3.1 billion.", id="c-2"),
        FigureClaim(text="$3.4 billion", id="f-3"),
        Claim("Revenue rose 15%.", id="c-4"),
    ]
    verdicts = check_claims(SRC_TWO_FIGURES, claims)
    assert len(verdicts) == 4
    assert verdicts[0].text == "Revenue rose 12%."
    assert verdicts[1].text == "Revenue reached $3.1 billion."
    assert [v.id for v in verdicts[1:]] == ["c-2", "f-3", "c-4"]
    assert [v.supported for v in verdicts] == [True, True, False, False]


def test_claims_may_be_any_iterable() -> None:
    def claims() -> Iterator[str]:
        yield "Revenue rose 12%."
        yield "Revenue rose 15%."

    verdicts = check_claims(SRC_TWO_FIGURES, claims())
    assert [v.supported for v in verdicts] == [True, False]


def test_no_claims_gives_no_verdicts() -> None:
    assert check_claims(SRC_TWO_FIGURES, []) == []


# --------------------------------------------------------------------------------------------
# structured figure claims


@dataclass(frozen=True)
class StructuredCase:
    id: str
    source: str
    claim: FigureClaim
    supported: bool
    reason: Reason | None = None


STRUCTURED_CASES: list[StructuredCase] = [
    StructuredCase("text-other-notation", SRC_CNY, FigureClaim(text="89.71亿元"), True),
    StructuredCase("text-millions", SRC_CNY, FigureClaim(text="8,971 million yuan"), True),
    StructuredCase("value-exact", SRC_CNY, FigureClaim(value=8.971e9, unit="CNY", step=1e6), True),
    StructuredCase(
        "value-rounded", SRC_USD_376, FigureClaim(value=3.8e10, unit="$", step=1e9), True
    ),
    StructuredCase("value-off", SRC_USD_376, FigureClaim(value=3.75e10, unit="$", step=1e8), False),
    StructuredCase(
        "value-hedged-nearly",
        SRC_USERS_48,
        FigureClaim(value=5e6, step=1e6, hedge="nearly"),
        True,
    ),
    StructuredCase(
        "value-hedged-more-than-wrong-side",
        SRC_USERS_48,
        FigureClaim(value=5e6, step=1e6, hedge="more than"),
        False,
    ),
    StructuredCase(
        "value-currency",
        SRC_CNY,
        FigureClaim(value=8.971e9, unit="EUR", step=1e6),
        False,
        Reason.CURRENCY_MISMATCH,
    ),
    StructuredCase(
        "text-currency", SRC_GBP, FigureClaim(text="$150m"), False, Reason.CURRENCY_MISMATCH
    ),
    StructuredCase(
        "text-scale",
        SRC_SMALL_DEAL,
        FigureClaim(text="$1.5 billion"),
        False,
        Reason.SCALE_MISMATCH,
    ),
    StructuredCase(
        "text-points", SRC_POINTS, FigureClaim(text="2%"), False, Reason.PERCENT_VS_POINTS
    ),
    StructuredCase("value-points", SRC_POINTS, FigureClaim(value=2.0, unit="pp", step=1.0), True),
    StructuredCase(
        "value-not-found",
        SRC_STORES,
        FigureClaim(value=17.0, step=1.0),
        False,
        Reason.NOT_FOUND,
    ),
]


@pytest.mark.parametrize("case", STRUCTURED_CASES, ids=[c.id for c in STRUCTURED_CASES])
def test_figure_claim(case: StructuredCase) -> None:
    verdict = check_one(case.source, case.claim)
    assert len(verdict.figures) == 1, verdict.figures
    fv = verdict.figures[0]
    assert verdict.supported is case.supported, fv
    assert fv.status is (Status.SUPPORTED if case.supported else Status.UNSUPPORTED), fv
    if case.reason is not None:
        assert fv.reason is case.reason, fv


# --------------------------------------------------------------------------------------------
# quotes

SRC_QUOTES = (
    "Revenue was $5 billion in 2024. Costs were $3 billion.\n"
    "Revenue was $5 billion again in 2025, the chairman said."
)


def test_quote_containing_the_figure() -> None:
    quote = "Costs were $3 billion."
    verdict = check_one(SRC_QUOTES, Claim("Costs reached $3 billion.", quote=quote))
    assert verdict.supported is True
    assert verdict.quote_span is not None
    assert verdict.quote_span.text == quote
    assert verdict.quote_span.start == SRC_QUOTES.index(quote)
    fv = only_amount_verdict(verdict)
    for span in fv.evidence:
        assert verdict.quote_span.start <= span.start <= span.end <= verdict.quote_span.end


def test_quote_picks_the_occurrence_inside_it() -> None:
    quote = "Revenue was $5 billion again in 2025"
    verdict = check_one(SRC_QUOTES, Claim("Revenue was $5 billion.", quote=quote))
    assert verdict.supported is True
    fv = only_amount_verdict(verdict)
    assert fv.evidence
    assert all(span.start >= SRC_QUOTES.index(quote) for span in fv.evidence), fv.evidence


def test_quote_matched_ignoring_whitespace_and_case() -> None:
    quote = "costs  WERE\n$3   billion"
    verdict = check_one(SRC_QUOTES, Claim("Costs reached $3 billion.", quote=quote))
    assert verdict.quote_span is not None
    assert verdict.quote_span.text.lower().startswith("costs were")
    assert verdict.supported is True


def test_value_outside_the_quote() -> None:
    verdict = check_one(
        SRC_QUOTES, Claim("Revenue was $5 billion.", quote="Costs were $3 billion.")
    )
    fv = only_amount_verdict(verdict)
    assert verdict.supported is False
    assert fv.status is Status.UNSUPPORTED
    assert fv.reason is Reason.OUTSIDE_QUOTE


def test_quote_not_in_source() -> None:
    verdict = check_one(SRC_QUOTES, Claim("Profit was $3 billion.", quote="Profit was $3 billion."))
    fv = only_amount_verdict(verdict)
    assert verdict.supported is False
    assert verdict.quote_span is None
    assert fv.status is Status.UNSUPPORTED
    assert fv.reason is Reason.QUOTE_NOT_FOUND


@pytest.mark.parametrize(
    ("claim", "supported", "reason"),
    [
        (FigureClaim(text="$3 billion", quote="Costs were $3 billion."), True, None),
        (
            FigureClaim(text="$5 billion", quote="Costs were $3 billion."),
            False,
            Reason.OUTSIDE_QUOTE,
        ),
        (
            FigureClaim(value=3e9, unit="$", step=1e9, quote="Costs were $3 billion."),
            True,
            None,
        ),
    ],
    ids=["text-inside", "text-outside", "value-inside"],
)
def test_figure_claim_with_quote(
    claim: FigureClaim, supported: bool, reason: Reason | None
) -> None:
    verdict = check_one(SRC_QUOTES, claim)
    assert verdict.supported is supported
    assert verdict.quote_span is not None
    if reason is not None:
        assert verdict.figures[0].reason is reason


# --------------------------------------------------------------------------------------------
# serialisation

FIGURE_VERDICT_KEYS = {"text", "start", "end", "value", "unit", "status", "reason", "evidence"}


def _dicts_with(obj: Any, keys: set[str]) -> list[dict[str, Any]]:
    """Every dict inside a JSON structure that has all of ``keys``."""
    found: list[dict[str, Any]] = []
    if isinstance(obj, dict):
        if keys <= obj.keys():
            found.append(obj)
        for value in obj.values():
            found.extend(_dicts_with(value, keys))
    elif isinstance(obj, list):
        for item in obj:
            found.extend(_dicts_with(item, keys))
    return found


@pytest.mark.parametrize(
    ("claim", "status"),
    [
        ("Capital spending will be $38 billion.", "supported"),
        ("Capital spending will be $39 billion.", "unsupported"),
    ],
    ids=["supported", "unsupported"],
)
def test_figure_verdict_to_dict(claim: str, status: str) -> None:
    fv = only_amount_verdict(check_one(SRC_USD_38, claim))
    data = json.loads(json.dumps(fv.to_dict()))
    assert data.keys() >= FIGURE_VERDICT_KEYS
    assert data["status"] == status
    assert data["reason"] in {r.value for r in Reason}
    assert claim[data["start"] : data["end"]] == data["text"]
    assert data["value"] == pytest.approx(fv.figure.value, rel=1e-9)
    assert data["unit"] == fv.figure.unit
    assert isinstance(data["evidence"], list)
    for span in data["evidence"]:
        assert SRC_USD_38[span["start"] : span["end"]] == span["text"]
    if status == "supported":
        assert data["evidence"]


def test_claim_verdict_to_dict() -> None:
    verdict = check_one(
        SRC_QUOTES, Claim("Costs rose to $3 billion.", id="k1", quote="Costs were $3 billion.")
    )
    data = json.loads(json.dumps(verdict.to_dict()))
    assert isinstance(data, dict)
    assert data["text"] == "Costs rose to $3 billion."
    assert data["supported"] is True
    assert len(_dicts_with(data, {"status", "reason"})) == len(verdict.figures)
    assert len(_dicts_with(data, FIGURE_VERDICT_KEYS)) == len(verdict.figures)


def test_unsupported_claim_verdict_to_dict() -> None:
    verdict = check_one(SRC_GBP, "The club paid $150m for the striker.")
    data = json.loads(json.dumps(verdict.to_dict()))
    assert data["supported"] is False
    figure_dicts = _dicts_with(data, FIGURE_VERDICT_KEYS)
    assert [d["reason"] for d in figure_dicts] == ["currency_mismatch"]


# --------------------------------------------------------------------------------------------
# empty source


@pytest.mark.parametrize(
    "source",
    ["", " ", "\n\t  \n", "\u3000", "\u00a0 \r\n"],
    ids=["empty", "space", "newlines-tabs", "ideographic-space", "nbsp-crlf"],
)
@pytest.mark.parametrize(
    "claims",
    [["Revenue rose 12%."], [], [FigureClaim(value=1.0)]],
    ids=["one-claim", "no-claims", "figure-claim"],
)
def test_empty_source_raises(source: str, claims: list[str | FigureClaim]) -> None:
    with pytest.raises(EmptySourceError) as info:
        check_claims(source, claims)
    assert isinstance(info.value, InputError)
    assert isinstance(info.value, SummariserError)
