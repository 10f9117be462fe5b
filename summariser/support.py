"""What supports what: the rules that decide whether a source figure backs a claim figure.

Stage: pure core. In: two :class:`~summariser.figures.Figure` values. Out: whether their units
can be compared (``incompatibility``) and the interval of source values a claim allows
(``allowed_interval``), following the hedge the claim is written with.
"""

from __future__ import annotations

from enum import StrEnum

from summariser.figures import Figure, FigureKind
from summariser.figures import lexicon as _lex


class Reason(StrEnum):
    # supported
    EXACT = "exact"  # same value after normalisation
    ROUNDED = "rounded"  # within half a unit of the claim's last written digit
    HEDGED = "hedged"  # within the tolerance and direction of the claim's hedge
    # unsupported
    NOT_FOUND = "not_found"  # no source figure of a compatible unit has that value
    SCALE_MISMATCH = "scale_mismatch"  # same digits, other scale (million vs billion)
    UNIT_MISMATCH = "unit_mismatch"  # same value, other kind of unit (count vs percent)
    CURRENCY_MISMATCH = "currency_mismatch"  # same value, other currency
    PERCENT_VS_POINTS = "percent_vs_points"  # percent where the source has points, or back
    MORE_PRECISE_THAN_SOURCE = "more_precise_than_source"  # 37.6 where the source says 38
    HEDGE_DIRECTION = "hedge_direction"  # "more than 10" where the source says 9.5
    QUOTE_NOT_FOUND = "quote_not_found"  # the claim's quote is not in the source
    OUTSIDE_QUOTE = "outside_quote"  # the value is in the source, but not inside the quote
    # skipped
    NOT_A_QUANTITY = "not_a_quantity"


# --- the rules ---------------------------------------------------------------------------
# A claim figure c is supported by a source figure s of a compatible unit when s lies in the
# interval the claim allows. Let step be one unit of the claim's last written digit, and sig
# one unit of its last significant digit (trailing zeros of a whole number do not count:
# "240" has sig 10, "9.0" has sig 0.1).
#   no hedge            |s - c| <= min(step/2, 10% of c)
#                       "$38 billion" allows 37.5..38.5bn, "37.6" 37.55..37.65; the cap keeps
#                       a one-digit figure honest: "EUR2bn" is not 2.3bn
#   about, around, ...  |s - c| <= h, h = max(step/2, min(sig/2, 2.5% of c))
#                       "about 240" allows 235..245, "about 300" 292.5..307.5, "about 10bn"
#                       9.75..10.25bn, "about $0.4" 0.35..0.45, "about 9.0 billion" 8.95..9.05
#   nearly, almost,     c - h <= s <= c        with h = max(step/2, min(sig/2, 5% of c)):
#   just under, less    the source lies on the side the hedge says, and near the bound:
#   than, up to         "nearly $54" is not 53.09, "nearly 400m" is 392.1m
#   more than, over,    c <= s <= c + h        (same h): "just over $100m" is 104m, "more than
#   at least, just over                        40,000" is not 36,000, "more than 10bn" not 11bn
# A value equal to the claim's always supports it. Signs are not compared: "fell 5%" and
# "-5%" state the same figure. Magnitudes are compared with a relative epsilon of 1e-9.

EPSILON = 1e-9
_ROUNDING_CAP = 0.10
_APPROXIMATE_CAP = 0.025
_BOUND_CAP = 0.05
KEYED_KINDS = frozenset({FigureKind.DATE, FigureKind.PERIOD, FigureKind.ORDINAL})
# Phone numbers and list markers are recognised so that they are never taken for amounts,
# and are not checked: they are not the facts a summary is about.
SKIPPED_KINDS = frozenset({FigureKind.PHONE, FigureKind.LIST_MARKER})
# A claim that stops right after a number ("... from 1.27 billion dlrs to 1.38") may have lost
# the scale word that followed it; such a last figure may match the source's digits.
TRAILING = " \t\n\r\u00a0.,;:)(\"'"
_POINTS_KINDS = frozenset({FigureKind.POINTS, FigureKind.BASIS_POINTS})


def significant_step(figure: Figure) -> float:
    step = figure.step
    if step <= 0 or step < figure.scale:
        return step  # exact, or written with decimals: every written decimal is significant
    mantissa = abs(figure.value) / step  # the written digits as a whole number
    rounded = round(mantissa)
    if rounded == 0 or abs(mantissa - rounded) > 1e-6:
        return step
    while rounded % 10 == 0:
        rounded //= 10
        step *= 10
    return step


def half_width(figure: Figure) -> float:
    """How far from the claim figure a source figure may lie (see the rules above)."""
    value = abs(figure.value)
    if figure.hedge is None:
        return min(figure.step / 2, _ROUNDING_CAP * value) if value else figure.step / 2
    cap = _BOUND_CAP if figure.hedge not in _lex.APPROXIMATE_HEDGES else _APPROXIMATE_CAP
    return max(figure.step / 2, min(significant_step(figure) / 2, cap * value))


def allowed_interval(figure: Figure, measure: float) -> tuple[float, float]:
    """The interval of source magnitudes that support the claim figure (in its measure)."""
    c = abs(measure)
    scale_to_measure = abs(measure / figure.value) if figure.value else 1.0
    epsilon = EPSILON * max(c, 1.0)
    hedge = figure.hedge
    half = half_width(figure) * scale_to_measure
    if hedge is None:
        return c - half - epsilon, c + half + epsilon
    if hedge in _lex.BELOW_HEDGES or hedge in _lex.AT_MOST_HEDGES:
        return c - half - epsilon, c + epsilon
    if hedge in _lex.ABOVE_HEDGES:
        return c - epsilon, c + half + epsilon
    return c - half - epsilon, c + half + epsilon


def measure(figure: Figure) -> float:
    """The value compared: basis points in percentage points, all else as normalised."""
    if figure.kind is FigureKind.BASIS_POINTS:
        return figure.value / 100
    return figure.value


def _currencies_agree(claim: str, source: str) -> bool:
    if claim == source:
        return True
    for open_symbol, members in _lex.OPEN_CURRENCIES.items():
        if (claim == open_symbol and source in members) or (
            source == open_symbol and claim in members
        ):
            return True
    return False


def is_bare(figure: Figure) -> bool:
    """A plain number with no unit and no scale word: it asserts only its digits."""
    return figure.kind is FigureKind.NUMBER and figure.scale == 1.0 and figure.unit is None


def incompatibility(claim: Figure, source: Figure) -> Reason | None:
    """None when the source figure's unit can support the claim's; else why not."""
    ck, sk = claim.kind, source.kind
    if is_bare(claim):
        return None if sk not in SKIPPED_KINDS else Reason.UNIT_MISMATCH
    if ck is FigureKind.MONEY:
        if sk is FigureKind.NUMBER:
            return None  # the currency was written once for several figures
        if sk is FigureKind.MONEY:
            assert claim.unit is not None and source.unit is not None
            return None if _currencies_agree(claim.unit, source.unit) else Reason.CURRENCY_MISMATCH
        return Reason.UNIT_MISMATCH
    if ck is FigureKind.NUMBER:  # scaled, no currency: "1.4 billion"
        return None if sk in (FigureKind.NUMBER, FigureKind.MONEY) else Reason.UNIT_MISMATCH
    if ck is FigureKind.PERCENT:
        if sk is FigureKind.PERCENT:
            return None
        return Reason.PERCENT_VS_POINTS if sk in _POINTS_KINDS else Reason.UNIT_MISMATCH
    if ck in _POINTS_KINDS:
        if sk in _POINTS_KINDS:
            return None
        return Reason.PERCENT_VS_POINTS if sk is FigureKind.PERCENT else Reason.UNIT_MISMATCH
    if ck is FigureKind.YEAR:
        ok = sk is FigureKind.YEAR or (sk is FigureKind.NUMBER and source.scale == 1.0)
        return None if ok else Reason.UNIT_MISMATCH
    return None if ck is sk else Reason.UNIT_MISMATCH
