"""The figure value object and its kinds (pure data)."""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class FigureKind(StrEnum):
    """What a figure is. Only the first group are quantities (metrics)."""

    MONEY = "money"  # a value with a currency: $1.2bn, 89.71亿元, 55 cts
    NUMBER = "number"  # a plain quantity or count: 8,971 / seven executives / 2.5 million people
    PERCENT = "percent"  # 40%, 40 per cent, 40 pct, half, a third, one in six (value in percent)
    POINTS = "points"  # percentage points or index points: 2.5 percentage points, 3 pts
    BASIS_POINTS = "basis_points"  # 25bp, 25 basis points
    MULTIPLE = "multiple"  # 24 times, 10x, tenfold, doubled
    # Not amounts: recognised so that they are never taken for metrics.
    YEAR = "year"  # 2026, fiscal 1986
    DATE = "date"  # May 13, 13/05/2026, 05-13
    PERIOD = "period"  # Q4, FY2026, 2005-06, first quarter, H1
    ORDINAL = "ordinal"  # 11th, eleventh, first
    TIME = "time"  # 10:30, 3 p.m.
    PHONE = "phone"  # +44 20 7946 0000
    LIST_MARKER = "list_marker"  # "1." / "2)" / "(3)" opening a line (letters are no figures)


AMOUNT_KINDS = frozenset(
    {
        FigureKind.MONEY,
        FigureKind.NUMBER,
        FigureKind.PERCENT,
        FigureKind.POINTS,
        FigureKind.BASIS_POINTS,
        FigureKind.MULTIPLE,
    }
)


class Figure(NamedTuple):
    """One figure found in a text.

    ``value`` is normalised: the scale word applied (``8.971 billion`` -> 8.971e9,
    ``89.71亿`` -> 8.971e9), cents and pence turned into their currency (``55 cts`` -> 0.55
    ``$``, ``25p`` -> 0.25 GBP), percent as the percent number (``40%`` -> 40.0), multiples as
    the factor (``doubled`` -> 2.0), years and ordinals as their number.

    ``step`` is one unit of the last written digit, in the same terms (``8.971 billion`` ->
    1e6, ``$38 billion`` -> 1e9); number words have the step of their last word (``seven`` ->
    1, ``three million`` -> 1e6); word multiples such as ``doubled`` are exact (0.0).

    ``unit`` is an ISO 4217 code for money (``$`` and ``¥`` when the symbol alone leaves the
    currency open), ``%``, ``pp``, ``pts``, ``bp``, ``x``, or None.

    An immutable value. It is a NamedTuple rather than a frozen dataclass because a long
    article has hundreds of thousands of figures and a frozen dataclass costs three times as
    much to build (1.5 us against 0.5 us); ``figure._replace(...)`` makes a changed copy.
    """

    text: str
    start: int
    end: int
    kind: FigureKind
    value: float
    unit: str | None = None
    scale: float = 1.0
    step: float = 1.0
    hedge: str | None = None  # canonical hedge written before it: "about", "more than", ...
    key: str | None = None  # normalised form of non-amounts: "Q4", "FY2026", "2026-05-13"
    spelled: bool = False  # written in words ("seven", "half"): a whole number, never "7.0"

    @property
    def is_amount(self) -> bool:
        return self.kind in AMOUNT_KINDS

    @property
    def mantissa(self) -> float:
        """The number as written, before its scale word (``8.971`` for ``8.971 billion``)."""
        return self.value / self.scale if self.scale else self.value
