"""Property tests (Hypothesis) of ``find_figures`` and ``check_claims``.

1. Offsets: every figure slices back to its text, in order, for any text.
2. Round trip: a value formatted in any supported style parses back to that value.
3. Robustness: no input makes ``find_figures`` or ``check_claims`` raise, except
   ``EmptySourceError`` for an empty or blank source.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from summariser import (
    Claim,
    EmptySourceError,
    FigureClaim,
    FigureKind,
    Status,
    check_claims,
    find_figures,
)

PROPERTY_SETTINGS = settings(deadline=None, max_examples=200)

# Pieces that figures are made of, to bias generated text towards the parser's hard cases.
TOKENS: list[str] = [
    *"0123456789",
    *"0123456789",
    ",",
    ".",
    " ",
    " ",
    "-",
    "(",
    ")",
    "+",
    ":",
    "/",
    "\n",
    "\u00a0",
    *"$£€¥%",
    "US$",
    "HK$",
    "C$",
    "A$",
    *"亿万元",
    "万亿",
    "人民币",
    *"一二三四五六七八九十百千",
    "两",
    "第",
    "年",
    *"０１２３４５６７８９",
    "．",
    "，",
    "％",
    " thousand",
    " million",
    " billion",
    " trillion",
    "k",
    "m",
    "mn",
    "mln",
    "bn",
    "bln",
    "tn",
    " USD",
    "USD ",
    " euros",
    " yuan",
    " dlrs",
    " stg",
    " pounds",
    "RMB",
    " cts",
    " cents",
    "p",
    " pence",
    " percent",
    " per cent",
    " pct",
    " percentage points",
    " basis points",
    "bp",
    "x",
    " times",
    "fold",
    "doubled",
    "half",
    "a third",
    "one in six",
    "one",
    "seven",
    "twenty-",
    "hundred",
    "about ",
    "nearly ",
    "more than ",
    "just under ",
    "over ",
    " to ",
    " and ",
    "between ",
    "Q",
    "FY",
    "H",
    "th",
    "st",
    " a.m.",
    " p.m.",
    "May ",
    "in ",
]
# Whole formats from the conventions, drawn often, so that their neighbours get exercised too.
FORMATS: list[str] = [
    "13/05/2026",
    "2026-05-13",
    "2005-06",
    "10:30",
    "+1 212 555 0100",
    "(1,234)",
    "8.971",
    "1 234",
    "１．０７５３",
    "89.71亿元",
    "(a) ",
    "$1.82 billion to $1.83 billion",
    "5-7%",
    "between 200 and 250 million",
    "half a billion",
    "twenty-one",
    "一千二百",
    "May 13, 2026",
    "Q4",
    "FY2026",
    "11th",
    "\n1. ",
]

biased_text = st.lists(
    st.one_of(st.sampled_from(FORMATS), st.sampled_from(TOKENS), st.text(max_size=3)),
    max_size=40,
).map("".join)
any_text = st.one_of(st.text(), biased_text)


# --------------------------------------------------------------------------------------------
# 1. offsets slice back


@PROPERTY_SETTINGS
@given(text=any_text)
def test_offsets_slice_back(text: str) -> None:
    figures = find_figures(text)
    for fig in figures:
        assert 0 <= fig.start < fig.end <= len(text), fig
        assert text[fig.start : fig.end] == fig.text, fig
    starts = [fig.start for fig in figures]
    assert starts == sorted(starts)


# --------------------------------------------------------------------------------------------
# 2. formatting a value and parsing it gives the value back


@dataclass(frozen=True)
class Scale:
    written: str  # appended to the mantissa as is (with its leading space, if any)
    factor: Decimal
    chinese: bool = False
    needs_currency: bool = False  # single letters ("5m") are only unambiguous with a currency


SCALES: list[Scale] = [
    Scale("", Decimal(1)),
    Scale(" thousand", Decimal(10) ** 3),
    Scale("k", Decimal(10) ** 3, needs_currency=True),
    Scale(" million", Decimal(10) ** 6),
    Scale("m", Decimal(10) ** 6, needs_currency=True),
    Scale("mn", Decimal(10) ** 6),
    Scale(" mln", Decimal(10) ** 6),
    Scale(" billion", Decimal(10) ** 9),
    Scale("bn", Decimal(10) ** 9),
    Scale(" bln", Decimal(10) ** 9),
    Scale(" trillion", Decimal(10) ** 12),
    Scale("tn", Decimal(10) ** 12),
    Scale("万", Decimal(10) ** 4, chinese=True),
    Scale("亿", Decimal(10) ** 8, chinese=True),
]


@dataclass(frozen=True)
class Currency:
    before: str
    after: str
    unit: str | None


CURRENCIES: list[Currency] = [
    Currency("$", "", "$"),
    Currency("", " USD", "USD"),
    Currency("", " euros", "EUR"),
    Currency("£", "", "GBP"),
    Currency("", "", None),
]
YUAN = Currency("", "元", "CNY")


@dataclass(frozen=True)
class Formatted:
    figure: str
    value: float
    unit: str | None


@st.composite
def formatted_amounts(draw: st.DrawFn) -> Formatted:
    places = draw(st.integers(min_value=0, max_value=3))
    if places == 0:
        int_part = draw(st.integers(min_value=1, max_value=999_999))
        frac = ""
    else:
        int_part = draw(st.integers(min_value=0, max_value=99_999))
        frac = f"{draw(st.integers(min_value=0, max_value=10**places - 1)):0{places}d}"
    commas = draw(st.booleans())
    int_str = f"{int_part:,}" if commas else str(int_part)
    mantissa = int_str + (f".{frac}" if frac else "")
    number = Decimal(mantissa.replace(",", ""))
    if number == 0:  # "0.00": make it non-zero in its last place
        mantissa = mantissa[:-1] + "5"
        number = Decimal(mantissa.replace(",", ""))

    scale = draw(st.sampled_from(SCALES))
    if scale.chinese:
        currency = YUAN
    elif scale.needs_currency:
        currency = draw(st.sampled_from([c for c in CURRENCIES if c.unit is not None]))
    else:
        currency = draw(st.sampled_from(CURRENCIES))
    # A bare four-digit integer with neither currency nor scale reads as a year.
    year_like = places == 0 and not commas and 1000 <= int_part <= 2999
    assume(not (year_like and currency.unit is None and scale.factor == 1))

    figure = f"{currency.before}{mantissa}{scale.written}{currency.after}"
    return Formatted(figure, float(number * scale.factor), currency.unit)


@PROPERTY_SETTINGS
@given(amount=formatted_amounts())
def test_formatted_value_parses_back(amount: Formatted) -> None:
    sentence = f"Revenue was {amount.figure} last year."
    figures = find_figures(sentence)
    found = [fig for fig in figures if fig.is_amount]
    assert len(found) == 1, (amount, figures)
    fig = found[0]
    assert fig.value == pytest.approx(amount.value, rel=1e-9), (amount, fig)
    assert fig.unit == amount.unit, (amount, fig)
    expected_kind = FigureKind.NUMBER if amount.unit is None else FigureKind.MONEY
    assert fig.kind == expected_kind, (amount, fig)
    assert sentence[fig.start : fig.end] == fig.text


# --------------------------------------------------------------------------------------------
# 3. nothing raises (but an empty source)


@PROPERTY_SETTINGS
@given(text=any_text)
def test_find_figures_never_raises(text: str) -> None:
    for fig in find_figures(text):
        assert isinstance(fig.is_amount, bool)


claims_strategy = st.lists(
    st.one_of(
        any_text,
        st.builds(
            Claim, text=any_text, id=st.none() | st.text(max_size=5), quote=st.none() | any_text
        ),
        # A structured claim is well formed with a value; its text may hold no figure at all.
        st.builds(
            FigureClaim,
            value=st.floats(allow_nan=False, allow_infinity=False),
            text=any_text,
            quote=st.none() | any_text,
        ),
        st.builds(
            FigureClaim,
            value=st.floats(allow_nan=False, allow_infinity=False),
            unit=st.sampled_from([None, "$", "USD", "CNY", "GBP", "%", "pp", "bp", "x", "XYZ"]),
            step=st.none() | st.floats(min_value=0.0, allow_nan=False, allow_infinity=False),
            hedge=st.sampled_from([None, "about", "nearly", "more than", "at least", "whatever"]),
        ),
    ),
    max_size=4,
)


@PROPERTY_SETTINGS
@given(source=any_text, claims=claims_strategy)
def test_check_claims_never_raises(source: str, claims: list[str | Claim | FigureClaim]) -> None:
    if not source.strip():
        with pytest.raises(EmptySourceError):
            check_claims(source, claims)
        return
    verdicts = check_claims(source, claims)
    assert len(verdicts) == len(claims)
    for verdict in verdicts:
        assert verdict.supported == all(
            fv.status is not Status.UNSUPPORTED for fv in verdict.figures
        )
        for fv in verdict.figures:
            for span in (*fv.evidence, *fv.hints):
                assert source[span.start : span.end] == span.text
        json.dumps(verdict.to_dict())
