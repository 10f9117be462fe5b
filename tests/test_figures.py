"""Table-driven tests of ``find_figures``: formats, units, scales, hedges, ranges, non-amounts.

Every fixture sentence here is written for this file. Each case names the text, a ``core``
substring that the wanted figure must overlap, and the fields that the conventions of
``summariser.figures`` fix: value, unit, kind, is_amount, hedge. Units are compared loosely
where the convention allows alternatives (``dlrs`` may be ``$`` or ``USD``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from summariser import Figure, FigureKind, find_figures

K = FigureKind
UnitSpec = str | frozenset[str] | None

DOLLAR_OR_USD = frozenset({"$", "USD"})
# Canonical hedge words that may stand for what is written, where the convention leaves room.
HEDGE_ALTERNATIVES: dict[str, frozenset[str]] = {
    "approximately": frozenset({"approximately", "about"}),
}


# --------------------------------------------------------------------------------------------
# helpers


def assert_offsets(text: str, figures: Sequence[Figure]) -> None:
    """Every figure slices back to its text, and the list is in order of position."""
    for fig in figures:
        assert 0 <= fig.start < fig.end <= len(text), fig
        assert text[fig.start : fig.end] == fig.text, fig
    starts = [fig.start for fig in figures]
    assert starts == sorted(starts), figures


def covering(text: str, figures: Sequence[Figure], core: str, occurrence: int = 0) -> Figure:
    """The figure whose span overlaps the ``occurrence``-th appearance of ``core`` in text."""
    pos = -1
    for _ in range(occurrence + 1):
        pos = text.index(core, pos + 1)
    end = pos + len(core)
    for fig in figures:
        if fig.start < end and pos < fig.end:
            return fig
    raise AssertionError(f"no figure overlaps {core!r} in {text!r}; found {list(figures)!r}")


def unit_matches(actual: str | None, expected: UnitSpec) -> bool:
    if isinstance(expected, frozenset):
        return actual in expected
    return actual == expected


def amounts(figures: Sequence[Figure]) -> list[Figure]:
    return [fig for fig in figures if fig.is_amount]


# --------------------------------------------------------------------------------------------
# amounts: one amount figure per sentence


@dataclass(frozen=True)
class AmountCase:
    id: str
    text: str
    core: str
    value: float
    unit: UnitSpec
    kind: FigureKind
    hedge: str | None = None  # the hedge as written in text (None: no hedge expected)


AMOUNT_CASES: list[AmountCase] = [
    # separators and plain numbers
    AmountCase("comma-thousands", "The plant shipped 8,971 crates.", "8,971", 8971, None, K.NUMBER),
    AmountCase(
        "comma-millions",
        "The plant shipped 12,345,678 crates.",
        "12,345,678",
        12345678,
        None,
        K.NUMBER,
    ),
    AmountCase(
        "decimal-point", "The cover ratio was 8.971 at the close.", "8.971", 8.971, None, K.NUMBER
    ),
    AmountCase(
        "comma-and-decimal",
        "The index closed at 1,234.56 on Friday.",
        "1,234.56",
        1234.56,
        None,
        K.NUMBER,
    ),
    # a comma never appears in a year: this is a count, not 2026 or 1900
    AmountCase(
        "comma-in-year-range", "The plant shipped 2,026 crates.", "2,026", 2026, None, K.NUMBER
    ),
    AmountCase("comma-1900", "Revenue was 1,900 last year.", "1,900", 1900, None, K.NUMBER),
    AmountCase("space-thousands", "The plant shipped 1 234 crates.", "1 234", 1234, None, K.NUMBER),
    AmountCase(
        "space-millions",
        "The plant shipped 12 345 678 crates.",
        "12 345 678",
        12345678,
        None,
        K.NUMBER,
    ),
    AmountCase("small-integer", "The fund holds 42 bonds.", "42", 42, None, K.NUMBER),
    AmountCase(
        "leading-zero-decimal", "The beta of the stock is 0.85 now.", "0.85", 0.85, None, K.NUMBER
    ),
    AmountCase("line-start-decimal", "1.5 million people attended.", "1.5", 1.5e6, None, K.NUMBER),
    # signs
    AmountCase(
        "negative-decimal", "The adjustment came to -42.5 overall.", "42.5", -42.5, None, K.NUMBER
    ),
    AmountCase(
        "negative-percent", "Margin moved -3.5% in the period.", "3.5", -3.5, "%", K.PERCENT
    ),
    AmountCase("plus-percent", "The shares closed +3.5% higher.", "3.5", 3.5, "%", K.PERCENT),
    AmountCase(
        "accounting-negative", "Net result for the year: (1,234)", "1,234", -1234, None, K.NUMBER
    ),
    AmountCase("accounting-negative-decimal", "Other items: (56.7)", "56.7", -56.7, None, K.NUMBER),
    # full-width digits (offsets slice to the full-width text)
    AmountCase("fullwidth-decimal", "汇率为１．０７５３。", "１．０７５３", 1.0753, None, K.NUMBER),
    AmountCase("fullwidth-integer", "库存共有１２３４５件。", "１２３４５", 12345, None, K.NUMBER),
    AmountCase("fullwidth-digits-percent", "毛利率为１２．５%。", "１２．５", 12.5, "%", K.PERCENT),
    # Chinese numerals and scales
    AmountCase("cn-numeral-fifteen", "共有十五家银行参与。", "十五", 15, None, K.NUMBER),
    AmountCase("cn-numeral-twenty", "已有二十家门店关闭。", "二十", 20, None, K.NUMBER),
    AmountCase("cn-numeral-1200", "公司裁员一千二百人。", "一千二百", 1200, None, K.NUMBER),
    AmountCase("cn-yi-yuan", "营业收入为89.71亿元。", "89.71", 8.971e9, "CNY", K.MONEY),
    AmountCase("cn-yi-yuan-small", "净利润为8.971亿元。", "8.971", 8.971e8, "CNY", K.MONEY),
    AmountCase("cn-wan-count", "销量达到3万辆。", "3", 3e4, None, K.NUMBER),
    AmountCase("cn-wanyi-yuan", "资产规模达到1.2万亿元。", "1.2", 1.2e12, "CNY", K.MONEY),
    AmountCase("cn-renminbi-yi-yuan", "项目投资人民币5亿元。", "5", 5e8, "CNY", K.MONEY),
    AmountCase("cn-yuan-no-scale", "每股派息0.35元。", "0.35", 0.35, "CNY", K.MONEY),
    AmountCase("cn-numeral-with-yi", "募集五亿元资金。", "五", 5e8, "CNY", K.MONEY),
    AmountCase("cn-percent", "营收同比增长12.5%。", "12.5", 12.5, "%", K.PERCENT),
    # scale words
    AmountCase("scale-thousand", "The town added 12 thousand jobs.", "12", 12e3, None, K.NUMBER),
    AmountCase("scale-k", "The channel has 12k subscribers.", "12k", 12e3, None, K.NUMBER),
    AmountCase("scale-k-dollar", "The bonus was $5k.", "5k", 5e3, "$", K.MONEY),
    AmountCase("scale-million", "The town has 2.5 million people.", "2.5", 2.5e6, None, K.NUMBER),
    AmountCase(
        "scale-m-dollar", "The startup raised $3m in seed funding.", "3m", 3e6, "$", K.MONEY
    ),
    AmountCase("scale-mn", "The fund took in $4.2mn.", "4.2", 4.2e6, "$", K.MONEY),
    AmountCase(
        "scale-mln-dlrs", "The unit earned 4.2 mln dlrs.", "4.2", 4.2e6, DOLLAR_OR_USD, K.MONEY
    ),
    AmountCase(
        "scale-billion-yuan", "Revenue was 8.971 billion yuan.", "8.971", 8.971e9, "CNY", K.MONEY
    ),
    AmountCase("scale-bn-euro", "The deal is worth €1.1bn.", "1.1", 1.1e9, "EUR", K.MONEY),
    AmountCase("scale-bln-dlrs", "The bank lent 3 bln dlrs.", "3", 3e9, DOLLAR_OR_USD, K.MONEY),
    AmountCase("scale-trillion", "The market is worth $1.3 trillion.", "1.3", 1.3e12, "$", K.MONEY),
    AmountCase("scale-tn", "Debt stands at $2tn.", "2", 2e12, "$", K.MONEY),
    # currencies before and after
    AmountCase("dollar-bare", "Capex was $38 billion.", "38", 3.8e10, "$", K.MONEY),
    AmountCase("dollar-us", "Capex was US$38 billion.", "38", 3.8e10, "USD", K.MONEY),
    AmountCase("dollar-hk", "The tower sold for HK$2.5 billion.", "2.5", 2.5e9, "HKD", K.MONEY),
    AmountCase("dollar-canadian", "The mine cost C$700 million.", "700", 7e8, "CAD", K.MONEY),
    AmountCase(
        "dollar-australian", "The port fetched A$1.5 billion.", "1.5", 1.5e9, "AUD", K.MONEY
    ),
    AmountCase("pound-symbol", "The club paid £150m.", "150", 1.5e8, "GBP", K.MONEY),
    AmountCase(
        "pound-stg-after", "The unit was sold for 150 mln stg.", "150", 1.5e8, "GBP", K.MONEY
    ),
    AmountCase(
        "pound-word-after", "The estate sold for 2 million pounds.", "2", 2e6, "GBP", K.MONEY
    ),
    AmountCase("euro-symbol", "Fines reached €40 million.", "40", 4e7, "EUR", K.MONEY),
    AmountCase("euro-word-after", "Fines reached 40 million euros.", "40", 4e7, "EUR", K.MONEY),
    AmountCase("rmb-before-spaced", "The plant cost RMB 200 million.", "200", 2e8, "CNY", K.MONEY),
    AmountCase("rmb-before-attached", "Revenue was RMB8.971bn.", "8.971", 8.971e9, "CNY", K.MONEY),
    AmountCase("rmb-after", "The plant cost 200 million RMB.", "200", 2e8, "CNY", K.MONEY),
    AmountCase("cny-before", "The bond raised CNY 3.2bn.", "3.2", 3.2e9, "CNY", K.MONEY),
    AmountCase("yuan-after", "The plant cost 200 million yuan.", "200", 2e8, "CNY", K.MONEY),
    AmountCase("dlrs-after", "Shares rose to 12 dlrs.", "12", 12, DOLLAR_OR_USD, K.MONEY),
    AmountCase("dollars-after", "Shares rose to 12 dollars.", "12", 12, DOLLAR_OR_USD, K.MONEY),
    AmountCase("yen-symbol", "The stake is worth ¥500 billion.", "500", 5e11, "¥", K.MONEY),
    # ISO 4217 codes before and after
    AmountCase("iso-usd-before", "The loan is USD 5m.", "5", 5e6, "USD", K.MONEY),
    AmountCase("iso-usd-after", "The loan is 5m USD.", "5", 5e6, "USD", K.MONEY),
    AmountCase("iso-eur-before", "The loan is EUR 2.5bn.", "2.5", 2.5e9, "EUR", K.MONEY),
    AmountCase("iso-gbp-after", "The loan is 300 million GBP.", "300", 3e8, "GBP", K.MONEY),
    AmountCase("iso-jpy-before", "The loan is JPY 12 billion.", "12", 1.2e10, "JPY", K.MONEY),
    # cents and pence
    # The conventions fix USD here ("`55 cts` -> 0.55 with unit USD"), unlike bare "$".
    # cents do not say which dollar: the unit stays open, as for "dlrs"
    AmountCase("cents-cts", "The dividend is 55 cts a share.", "55", 0.55, DOLLAR_OR_USD, K.MONEY),
    AmountCase(
        "cents-word", "The dividend is 55 cents a share.", "55", 0.55, DOLLAR_OR_USD, K.MONEY
    ),
    AmountCase("pence-p", "The dividend is 25p a share.", "25", 0.25, "GBP", K.MONEY),
    AmountCase("pence-word", "The dividend is 25 pence a share.", "25", 0.25, "GBP", K.MONEY),
    AmountCase("pence-decimal", "The dividend is 7.5p a share.", "7.5", 0.075, "GBP", K.MONEY),
    # percent styles, percentage points, basis points
    AmountCase("percent-sign", "Sales rose 40% in the period.", "40", 40, "%", K.PERCENT),
    AmountCase("percent-sign-spaced", "Sales rose 40 % in the period.", "40", 40, "%", K.PERCENT),
    AmountCase("percent-word", "Sales rose 40 percent in the period.", "40", 40, "%", K.PERCENT),
    AmountCase("per-cent-words", "Sales rose 40 per cent in the period.", "40", 40, "%", K.PERCENT),
    AmountCase("pct", "Sales rose 40 pct in the period.", "40", 40, "%", K.PERCENT),
    AmountCase("percent-decimal", "Sales rose 12.5% in the period.", "12.5", 12.5, "%", K.PERCENT),
    AmountCase("percent-small", "The yield stood at 0.25%.", "0.25", 0.25, "%", K.PERCENT),
    AmountCase("line-start-percent", "12% of staff left.", "12", 12, "%", K.PERCENT),
    AmountCase(
        "points-plural", "The margin widened 2.5 percentage points.", "2.5", 2.5, "pp", K.POINTS
    ),
    AmountCase(
        "points-singular", "The margin widened 0.5 percentage point.", "0.5", 0.5, "pp", K.POINTS
    ),
    AmountCase("bp-attached", "The bank cut rates by 25bp.", "25", 25, "bp", K.BASIS_POINTS),
    AmountCase(
        "bp-words", "The bank cut rates by 25 basis points.", "25", 25, "bp", K.BASIS_POINTS
    ),
    AmountCase("bps", "The bank cut rates by 50 bps.", "50", 50, "bp", K.BASIS_POINTS),
    AmountCase(
        "bp-adjective", "The bank made a 50 basis point cut.", "50", 50, "bp", K.BASIS_POINTS
    ),
    # fractions in words are percent
    AmountCase("fraction-half", "They sold half of the fleet.", "half", 50, "%", K.PERCENT),
    AmountCase(
        "fraction-a-third", "They closed a third of branches.", "third", 100 / 3, "%", K.PERCENT
    ),
    AmountCase(
        "fraction-one-in-six",
        "Now one in six workers is remote.",
        "one in six",
        100 / 6,
        "%",
        K.PERCENT,
    ),
    # multiples
    AmountCase(
        "multiple-times", "The shares trade at 24 times earnings.", "24", 24, "x", K.MULTIPLE
    ),
    AmountCase(
        "multiple-times-decimal", "Demand was 2.5 times supply.", "2.5", 2.5, "x", K.MULTIPLE
    ),
    AmountCase("multiple-x", "The shares trade at 10x earnings.", "10", 10, "x", K.MULTIPLE),
    AmountCase("multiple-tenfold", "Output rose tenfold.", "tenfold", 10, "x", K.MULTIPLE),
    AmountCase("multiple-threefold", "Output rose threefold.", "threefold", 3, "x", K.MULTIPLE),
    AmountCase("multiple-doubled", "Profit doubled.", "doubled", 2, "x", K.MULTIPLE),
    # English number words
    AmountCase("word-three", "The bank has three branches.", "three", 3, None, K.NUMBER),
    AmountCase("word-capitalised", "Three banks failed.", "Three", 3, None, K.NUMBER),
    AmountCase(
        "word-twenty-one", "The group owns twenty-one hotels.", "twenty-one", 21, None, K.NUMBER
    ),
    AmountCase(
        "word-forty-five", "The group owns forty-five hotels.", "forty-five", 45, None, K.NUMBER
    ),
    AmountCase(
        "word-seven-executives", "The firm hired seven executives.", "seven", 7, None, K.NUMBER
    ),
    AmountCase(
        "word-one-hundred", "The firm hired one hundred staff.", "hundred", 100, None, K.NUMBER
    ),
    AmountCase(
        "word-two-million", "The app reached two million users.", "two", 2e6, None, K.NUMBER
    ),
    AmountCase(
        "word-half-a-billion", "The app reached half a billion users.", "half", 5e8, None, K.NUMBER
    ),
    AmountCase(
        "word-half-a-billion-dollars",
        "The deal is worth half a billion dollars.",
        "half",
        5e8,
        DOLLAR_OR_USD,
        K.MONEY,
    ),
    AmountCase(
        "word-three-billion-dollars",
        "The deal is worth three billion dollars.",
        "three",
        3e9,
        DOLLAR_OR_USD,
        K.MONEY,
    ),
    # hedges: canonical word, and never inside the figure's span
    AmountCase("hedge-about", "Capex was about $38 billion.", "38", 3.8e10, "$", K.MONEY, "about"),
    AmountCase(
        "hedge-about-capitalised", "About 40% of staff left.", "40", 40, "%", K.PERCENT, "About"
    ),
    AmountCase("hedge-around", "Sales rose around 40%.", "40", 40, "%", K.PERCENT, "around"),
    AmountCase(
        "hedge-roughly",
        "The firm employs roughly 1,400 people.",
        "1,400",
        1400,
        None,
        K.NUMBER,
        "roughly",
    ),
    AmountCase("hedge-some", "The plan cuts some 300 jobs.", "300", 300, None, K.NUMBER, "some"),
    AmountCase(
        "hedge-approximately",
        "Debt is approximately $2 billion.",
        "2",
        2e9,
        "$",
        K.MONEY,
        "approximately",
    ),
    AmountCase(
        "hedge-nearly", "The app has nearly 5 million users.", "5", 5e6, None, K.NUMBER, "nearly"
    ),
    AmountCase(
        "hedge-almost", "The app has almost 5 million users.", "5", 5e6, None, K.NUMBER, "almost"
    ),
    AmountCase(
        "hedge-just-under",
        "The app has just under 5 million users.",
        "5",
        5e6,
        None,
        K.NUMBER,
        "just under",
    ),
    AmountCase(
        "hedge-more-than",
        "Sales were more than $10 billion.",
        "10",
        1e10,
        "$",
        K.MONEY,
        "more than",
    ),
    AmountCase("hedge-over", "Sales were over $10 billion.", "10", 1e10, "$", K.MONEY, "over"),
    AmountCase(
        "hedge-at-least",
        "The chain will open at least 12 stores.",
        "12",
        12,
        None,
        K.NUMBER,
        "at least",
    ),
    AmountCase(
        "hedge-just-over",
        "The app has just over 2 million users.",
        "2",
        2e6,
        None,
        K.NUMBER,
        "just over",
    ),
    AmountCase(
        "hedge-with-fraction", "Nearly half of staff left.", "half", 50, "%", K.PERCENT, "Nearly"
    ),
    # words that are hedges elsewhere, but not written before the figure here
    AmountCase(
        "no-hedge-some-elsewhere", "Some analysts expect 5% growth.", "5", 5, "%", K.PERCENT
    ),
    AmountCase(
        "no-hedge-over-elsewhere", "Over the year, revenue rose 5%.", "5", 5, "%", K.PERCENT
    ),
]


@pytest.mark.parametrize("case", AMOUNT_CASES, ids=[c.id for c in AMOUNT_CASES])
def test_amount(case: AmountCase) -> None:
    figures = find_figures(case.text)
    assert_offsets(case.text, figures)
    fig = covering(case.text, figures, case.core)
    assert fig.is_amount, fig
    assert fig.kind == case.kind, fig
    assert fig.value == pytest.approx(case.value, rel=1e-9), fig
    assert unit_matches(fig.unit, case.unit), fig
    found = amounts(figures)
    assert found == [fig], f"expected exactly one amount figure, got {found!r}"
    if case.hedge is None:
        assert fig.hedge is None, fig
    else:
        written = case.hedge.lower()
        allowed = HEDGE_ALTERNATIVES.get(written, frozenset({written}))
        assert fig.hedge in allowed, fig
        hedge_end = case.text.lower().index(written) + len(written)
        assert fig.start >= hedge_end, f"hedge inside the figure's span: {fig!r}"


# --------------------------------------------------------------------------------------------
# ranges: each end is its own figure; an end without scale/unit inherits them


@dataclass(frozen=True)
class End:
    core: str
    value: float
    unit: UnitSpec
    kind: FigureKind | None = None  # None: kind not fixed by the conventions


@dataclass(frozen=True)
class RangeCase:
    id: str
    text: str
    ends: tuple[End, End]


RANGE_CASES: list[RangeCase] = [
    RangeCase(
        "money-both-ends-written",
        "The company guided to $1.82 billion to $1.83 billion in sales.",
        (End("1.82", 1.82e9, "$", K.MONEY), End("1.83", 1.83e9, "$", K.MONEY)),
    ),
    RangeCase(
        "months",
        "The pilot will run for 3 to 12 months.",
        (End("3", 3, None), End("12", 12, None)),
    ),
    RangeCase(
        "percent-hyphen",
        "Analysts see a 5-7% rise in sales.",
        (End("5", 5, "%", K.PERCENT), End("7", 7, "%", K.PERCENT)),
    ),
    RangeCase(
        "percent-both-written",
        "Growth will be from 10% to 12% this year.",
        (End("10", 10, "%", K.PERCENT), End("12", 12, "%", K.PERCENT)),
    ),
    RangeCase(
        "between-and-million",
        "The city expects between 200 and 250 million visitors.",
        (End("200", 2e8, None, K.NUMBER), End("250", 2.5e8, None, K.NUMBER)),
    ),
    RangeCase(
        "scale-and-currency-inherited",
        "The unit could fetch 2 to 3 billion dollars.",
        (
            End("2", 2e9, DOLLAR_OR_USD, K.MONEY),
            End("3", 3e9, DOLLAR_OR_USD, K.MONEY),
        ),
    ),
    RangeCase(
        "euro-hyphen-both-written",
        "The unit could fetch €3bn-€4bn.",
        (End("3", 3e9, "EUR", K.MONEY), End("4", 4e9, "EUR", K.MONEY)),
    ),
    RangeCase(
        "euros-after-hyphen",
        "The fine will be 10-12 million euros.",
        (End("10", 1e7, "EUR", K.MONEY), End("12", 1.2e7, "EUR", K.MONEY)),
    ),
]


@pytest.mark.parametrize("case", RANGE_CASES, ids=[c.id for c in RANGE_CASES])
def test_range(case: RangeCase) -> None:
    figures = find_figures(case.text)
    assert_offsets(case.text, figures)
    low = covering(case.text, figures, case.ends[0].core)
    high = covering(case.text, figures, case.ends[1].core)
    assert low is not high, f"range ends merged into one figure: {low!r}"
    for fig, end in ((low, case.ends[0]), (high, case.ends[1])):
        assert fig.value == pytest.approx(end.value, rel=1e-9), fig
        assert unit_matches(fig.unit, end.unit), fig
        if end.kind is not None:
            assert fig.kind == end.kind, fig
            assert fig.is_amount, fig


# --------------------------------------------------------------------------------------------
# non-amounts: recognised, and never taken for a metric


@dataclass(frozen=True)
class NonAmountCase:
    id: str
    text: str
    core: str
    kinds: frozenset[FigureKind]
    occurrence: int = 0


def _kinds(*kinds: FigureKind) -> frozenset[FigureKind]:
    return frozenset(kinds)


NON_AMOUNT_CASES: list[NonAmountCase] = [
    NonAmountCase("year-in", "Revenue will grow in 2026.", "2026", _kinds(K.YEAR)),
    NonAmountCase("year-since", "Prices have risen since 1999.", "1999", _kinds(K.YEAR)),
    NonAmountCase("year-fiscal", "The rules date from fiscal 1986.", "1986", _kinds(K.YEAR)),
    NonAmountCase("date-month-day-year", "The deal closed on May 13, 2026.", "13", _kinds(K.DATE)),
    NonAmountCase(
        "date-month-day-year-year-part",
        "The deal closed on May 13, 2026.",
        "2026",
        _kinds(K.DATE, K.YEAR),
    ),
    NonAmountCase("date-day-month-year", "The deal closed on 13 May 2026.", "13", _kinds(K.DATE)),
    NonAmountCase("date-slashes", "The deal closed on 13/05/2026.", "13/05/2026", _kinds(K.DATE)),
    NonAmountCase("date-iso", "The deal closed on 2026-05-13.", "2026-05-13", _kinds(K.DATE)),
    NonAmountCase("period-q4", "Q4 sales were weak.", "Q4", _kinds(K.PERIOD)),
    NonAmountCase(
        "period-fourth-quarter", "Sales fell in the fourth quarter.", "fourth", _kinds(K.PERIOD)
    ),
    NonAmountCase(
        "period-first-quarter", "Sales fell in the first quarter.", "first", _kinds(K.PERIOD)
    ),
    NonAmountCase("period-fiscal-year", "Guidance for FY2026 was cut.", "FY2026", _kinds(K.PERIOD)),
    NonAmountCase("period-split-year", "Sales fell in 2005-06.", "2005-06", _kinds(K.PERIOD)),
    NonAmountCase("period-half-year", "Sales fell in H1.", "H1", _kinds(K.PERIOD)),
    NonAmountCase("ordinal-11th", "It was the 11th cut in a row.", "11th", _kinds(K.ORDINAL)),
    NonAmountCase("ordinal-21st", "It was the 21st cut in a row.", "21st", _kinds(K.ORDINAL)),
    NonAmountCase("ordinal-3rd", "It was the 3rd cut in a row.", "3rd", _kinds(K.ORDINAL)),
    NonAmountCase(
        "ordinal-word", "It was the eleventh cut in a row.", "eleventh", _kinds(K.ORDINAL)
    ),
    NonAmountCase("time-am", "Trading halted at 10:30 a.m. sharp.", "10:30", _kinds(K.TIME)),
    NonAmountCase("time-pm", "Trading resumed at 3 p.m. sharp.", "3", _kinds(K.TIME)),
    NonAmountCase("time-24h", "Trading resumed at 14:45 sharp.", "14:45", _kinds(K.TIME)),
    NonAmountCase("phone-us", "Call +1 212 555 0100 for details.", "212", _kinds(K.PHONE)),
    NonAmountCase("phone-uk", "Call +44 20 7946 0123 for details.", "7946", _kinds(K.PHONE)),
    NonAmountCase(
        "list-marker-first", "1. Revenue rose.\n2. Costs fell.\n", "1", _kinds(K.LIST_MARKER)
    ),
    NonAmountCase(
        "list-marker-second", "1. Revenue rose.\n2. Costs fell.\n", "2", _kinds(K.LIST_MARKER)
    ),
    NonAmountCase(
        "list-marker-paren-number",
        "1) Revenue rose.\n2) Costs fell.\n",
        "2)",
        _kinds(K.LIST_MARKER),
    ),
    NonAmountCase(
        "list-marker-parenthesised",
        "(1) Revenue rose.\n(2) Costs fell.\n",
        "2",
        _kinds(K.LIST_MARKER),
    ),
]


@pytest.mark.parametrize("case", NON_AMOUNT_CASES, ids=[c.id for c in NON_AMOUNT_CASES])
def test_non_amount(case: NonAmountCase) -> None:
    figures = find_figures(case.text)
    assert_offsets(case.text, figures)
    fig = covering(case.text, figures, case.core, case.occurrence)
    assert fig.kind in case.kinds, fig
    assert not fig.is_amount, fig
    assert amounts(figures) == [], f"no amount expected in {case.text!r}: {figures!r}"


# --------------------------------------------------------------------------------------------
# fields fixed by the docstrings: step, mantissa, key


STEP_CASES: list[tuple[str, str, str, float]] = [
    ("billion-three-decimals", "Revenue was 8.971 billion yuan.", "8.971", 1e6),
    ("billion-integer", "Capex was $38 billion.", "38", 1e9),
    ("comma-integer", "The plant shipped 1,234 crates.", "1,234", 1.0),
    ("yi-two-decimals", "营业收入为89.71亿元。", "89.71", 1e6),
    ("million-one-decimal", "The town has 2.5 million people.", "2.5", 1e5),
    ("percent-one-decimal", "Sales rose 12.5% in the period.", "12.5", 0.1),
    ("number-word-units", "The firm hired seven executives.", "seven", 1.0),
]


@pytest.mark.parametrize(
    ("text", "core", "step"), [c[1:] for c in STEP_CASES], ids=[c[0] for c in STEP_CASES]
)
def test_step(text: str, core: str, step: float) -> None:
    figures = find_figures(text)
    assert_offsets(text, figures)
    fig = covering(text, figures, core)
    assert fig.step == pytest.approx(step, rel=1e-9), fig


MANTISSA_CASES: list[tuple[str, str, str, float]] = [
    ("billion", "Revenue was 8.971 billion yuan.", "8.971", 8.971),
    ("yi", "营业收入为89.71亿元。", "89.71", 89.71),
    ("no-scale", "The plant shipped 8,971 crates.", "8,971", 8971),
]


@pytest.mark.parametrize(
    ("text", "core", "mantissa"),
    [c[1:] for c in MANTISSA_CASES],
    ids=[c[0] for c in MANTISSA_CASES],
)
def test_mantissa(text: str, core: str, mantissa: float) -> None:
    fig = covering(text, find_figures(text), core)
    assert fig.mantissa == pytest.approx(mantissa, rel=1e-9), fig


KEY_CASES: list[tuple[str, str, str, str]] = [
    ("quarter", "Q4 sales were weak.", "Q4", "Q4"),
    ("fiscal-year", "Guidance for FY2026 was cut.", "FY2026", "FY2026"),
    ("iso-date", "The deal closed on 2026-05-13.", "2026-05-13", "2026-05-13"),
]


@pytest.mark.parametrize(
    ("text", "core", "key"), [c[1:] for c in KEY_CASES], ids=[c[0] for c in KEY_CASES]
)
def test_key_of_non_amount(text: str, core: str, key: str) -> None:
    fig = covering(text, find_figures(text), core)
    assert fig.key == key, fig


# --------------------------------------------------------------------------------------------
# whole sentences


MIXED_CASES: list[tuple[str, str, list[tuple[float, str | None]]]] = [
    (
        "quarter-year-date-around-amounts",
        "In the fourth quarter of 2025, revenue rose 12% to $3.1 billion, the company said on"
        " May 13.",
        [(12, "%"), (3.1e9, "$")],
    ),
    (
        "q4-and-year",
        "Q4 revenue rose 12% to $3.1 billion in 2025.",
        [(12, "%"), (3.1e9, "$")],
    ),
    (
        "list-of-amounts",
        "1. Revenue rose 8% to RMB 5.2bn.\n2. Net profit fell to 300 million yuan.\n",
        [(8, "%"), (5.2e9, "CNY"), (3e8, "CNY")],
    ),
    (
        "chinese-report",
        "2025年公司营收89.71亿元，同比增长12.5%。",
        [(8.971e9, "CNY"), (12.5, "%")],
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"), [c[1:] for c in MIXED_CASES], ids=[c[0] for c in MIXED_CASES]
)
def test_amounts_in_a_sentence(text: str, expected: list[tuple[float, str | None]]) -> None:
    figures = find_figures(text)
    assert_offsets(text, figures)
    found = amounts(figures)
    assert len(found) == len(expected), found
    for fig, (value, unit) in zip(found, expected, strict=True):
        assert fig.value == pytest.approx(value, rel=1e-9), fig
        assert fig.unit == unit, fig


@pytest.mark.parametrize(
    "text",
    ["", "Revenue rose sharply.", "   \n\t", "营收大幅增长。"],
    ids=["empty", "words-only", "whitespace", "chinese-words-only"],
)
def test_no_figures(text: str) -> None:
    assert find_figures(text) == []
