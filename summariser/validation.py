"""Claims against a source: a verdict for every figure of every claim.

Stage: pure core (no I/O). In: a source text and claims (free text, or a structured figure),
each with an optional verbatim quote. Out: a :class:`ClaimVerdict` per claim, holding a
:class:`FigureVerdict` per figure with its status, reason and the source spans behind it.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Any

from summariser.errors import ClaimsFormatError, EmptySourceError
from summariser.figures import Figure, FigureKind, find_figures
from summariser.support import (
    EPSILON,
    KEYED_KINDS,
    SKIPPED_KINDS,
    TRAILING,
    Reason,
    allowed_interval,
    half_width,
    incompatibility,
    is_bare,
    measure,
)


class Status(StrEnum):
    SUPPORTED = "supported"
    UNSUPPORTED = "unsupported"
    SKIPPED = "skipped"  # not a quantity (phone number, list marker): never a fact to check


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of the source: ``source[start:end] == text``."""

    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "text": self.text}


@dataclass(frozen=True, slots=True)
class Claim:
    """A free-text claim; every figure in ``text`` is checked. ``quote`` is an optional
    verbatim passage of the source that the claim's figures must lie in."""

    text: str
    id: str | None = None
    quote: str | None = None


@dataclass(frozen=True, slots=True)
class FigureClaim:
    """A structured figure (as a model's extraction gives it) to check against the source.

    ``text`` is the figure as written (``"8.971 billion yuan"``); when it is absent, ``value``
    (already normalised), ``unit`` and ``step`` (one unit of its last digit) describe it.
    """

    value: float | None = None
    unit: str | None = None
    text: str | None = None
    step: float | None = None
    hedge: str | None = None
    id: str | None = None
    quote: str | None = None


@dataclass(frozen=True, slots=True)
class FigureVerdict:
    """The verdict on one figure of a claim; ``figure`` offsets are into the claim text."""

    figure: Figure
    status: Status
    reason: Reason
    evidence: tuple[Span, ...] = ()  # source spans that support it
    hints: tuple[Span, ...] = ()  # the closest source figures, when unsupported

    def to_dict(self) -> dict[str, Any]:
        figure = self.figure
        return {
            "text": figure.text,
            "start": figure.start,
            "end": figure.end,
            "value": figure.value,
            "unit": figure.unit,
            "kind": figure.kind.value,
            "hedge": figure.hedge,
            "status": self.status.value,
            "reason": self.reason.value,
            "evidence": [span.to_dict() for span in self.evidence],
            "hints": [span.to_dict() for span in self.hints],
        }


@dataclass(frozen=True, slots=True)
class ClaimVerdict:
    text: str
    supported: bool  # True when no figure is unsupported
    figures: tuple[FigureVerdict, ...] = ()
    id: str | None = None
    quote_span: Span | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {} if self.id is None else {"id": self.id}
        out["text"] = self.text
        out["supported"] = self.supported
        if self.quote_span is not None:
            out["quote"] = self.quote_span.to_dict()
        out["figures"] = [verdict.to_dict() for verdict in self.figures]
        return out


def check_claims(source: str, claims: Iterable[str | Claim | FigureClaim]) -> list[ClaimVerdict]:
    """A verdict for every claim, in order. Raises EmptySourceError for an empty source."""
    if not source.strip():
        raise EmptySourceError("the source text is empty")
    index = _index_for(source)
    return [index.check(claim) for claim in claims]


def locate(source: str, quote: str) -> Span | None:
    """Where ``quote`` stands in ``source``: exact, then ignoring case and white space."""
    if not quote.strip():
        return None
    return _index_for(source).locate(quote)


@lru_cache(maxsize=8)
def _index_for(source: str) -> _SourceIndex:
    # Callers check many claim lists against the same article (a JSONL file with one line per
    # summary, the pipeline re-checking after a re-ask): parse each source once.
    return _SourceIndex(source)


class _SourceIndex:
    """The figures of one source, sorted by magnitude so that a claim costs a binary search."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.figures = [f for f in find_figures(source) if f.kind not in SKIPPED_KINDS]
        by_value = sorted(self.figures, key=lambda f: abs(measure(f)))
        self._by_value = by_value
        self._values = [abs(measure(f)) for f in by_value]
        scaled = sorted(
            (f for f in self.figures if f.scale != 1.0 or measure(f) != f.value),
            key=lambda f: abs(f.mantissa),
        )
        self._by_mantissa = scaled
        self._mantissas = [abs(f.mantissa) for f in scaled]
        self._keys: dict[str, list[Figure]] = {}
        for figure in self.figures:
            if figure.key is not None:
                self._keys.setdefault(figure.key, []).append(figure)
        self._folded: tuple[str, list[int]] | None = None

    # -- claims ---------------------------------------------------------------------------
    def check(self, claim: str | Claim | FigureClaim) -> ClaimVerdict:
        if isinstance(claim, str):
            claim = Claim(claim)
        quote_span: Span | None = None
        quote_missing = False
        if claim.quote is not None and claim.quote.strip():
            quote_span = self.locate(claim.quote)
            quote_missing = quote_span is None
        if isinstance(claim, FigureClaim):
            text, figures = _figure_claim_figures(claim)
        else:
            text, figures = claim.text, find_figures(claim.text)
        tail = len(text.rstrip(TRAILING))
        verdicts = tuple(
            self._judge(f, quote_span, quote_missing, f.end >= tail and f.scale == 1.0)
            for f in figures
        )
        supported = all(v.status is not Status.UNSUPPORTED for v in verdicts)
        return ClaimVerdict(
            text=text, supported=supported, figures=verdicts, id=claim.id, quote_span=quote_span
        )

    def _judge(
        self, figure: Figure, quote: Span | None, quote_missing: bool, truncated: bool
    ) -> FigureVerdict:
        if figure.kind in SKIPPED_KINDS:
            return FigureVerdict(figure, Status.SKIPPED, Reason.NOT_A_QUANTITY)
        if quote_missing:
            return FigureVerdict(figure, Status.UNSUPPORTED, Reason.QUOTE_NOT_FOUND)
        matches = self._matches(figure, truncated)
        inside = (
            matches if quote is None else [m for m in matches if quote.start <= m.start < quote.end]
        )
        if inside:
            evidence = tuple(Span(m.start, m.end, m.text) for m in inside[:3])
            return FigureVerdict(figure, Status.SUPPORTED, self._how(figure, inside[0]), evidence)
        if matches:
            hints = tuple(Span(m.start, m.end, m.text) for m in matches[:3])
            return FigureVerdict(figure, Status.UNSUPPORTED, Reason.OUTSIDE_QUOTE, hints=hints)
        reason, hints = self._why_not(figure)
        return FigureVerdict(figure, Status.UNSUPPORTED, reason, hints=hints)

    def _matches(self, figure: Figure, truncated: bool = False) -> list[Figure]:
        if figure.kind in KEYED_KINDS:
            return self._keyed_matches(figure, truncated)
        low, high = allowed_interval(figure, measure(figure))
        whole = figure.spelled or figure.step == 0 or figure.step >= figure.scale
        found = [
            s
            for s in self._within(low, high)
            if incompatibility(figure, s) is None and (whole or not s.spelled)
        ]
        if truncated and self._mantissas:
            # "2.74" at the end of a clause may be the "2.74 billion" of the source
            found += [
                s
                for s in self._by_mantissa[
                    bisect_left(self._mantissas, low) : bisect_right(self._mantissas, high)
                ]
                if is_bare(figure) or incompatibility(figure, s) is None
            ]
        if figure.kind is FigureKind.YEAR:
            found += self._keys.get(f"FY{figure.key}", [])
        if len(found) > 1:
            found.sort(key=_position)
        return found

    def _within(self, low: float, high: float) -> list[Figure]:
        """The source figures whose magnitude lies in [low, high]."""
        return self._by_value[bisect_left(self._values, low) : bisect_right(self._values, high)]

    def _keyed_matches(self, figure: Figure, truncated: bool) -> list[Figure]:
        assert figure.key is not None
        found = [s for s in self._keys.get(figure.key, []) if s.kind is figure.kind]
        if truncated and figure.kind is FigureKind.ORDINAL:
            # "... for the third" cut from "third quarter"
            number = figure.key.lstrip("#")
            found += self._keys.get(f"Q{number}", []) + self._keys.get(f"H{number}", [])
        if figure.kind is FigureKind.PERIOD and figure.key.startswith("FY"):
            found += self._keys.get(figure.key[2:], [])  # "FY2026" and "fiscal 2026"
        return found

    @staticmethod
    def _how(figure: Figure, source: Figure) -> Reason:
        if abs(abs(measure(figure)) - abs(measure(source))) <= EPSILON * max(
            abs(measure(figure)), 1.0
        ):
            return Reason.EXACT
        return Reason.ROUNDED if figure.hedge is None else Reason.HEDGED

    # -- why a figure is not supported ----------------------------------------------------
    def _why_not(self, figure: Figure) -> tuple[Reason, tuple[Span, ...]]:
        """The reason a figure found no support, and the closest source figures as hints."""
        if figure.kind in KEYED_KINDS:
            same_kind = [s for s in self.figures if s.kind is figure.kind][:3]
            return Reason.NOT_FOUND, tuple(Span(s.start, s.end, s.text) for s in same_kind)
        nearest = self._nearest(figure, 4)
        hints = tuple(Span(s.start, s.end, s.text) for s in nearest[:3])
        return self._reason(figure, nearest), hints

    def _reason(self, figure: Figure, nearest: list[Figure]) -> Reason:
        c = abs(measure(figure))
        low, high = allowed_interval(figure, c)
        for source in self._within(low, high):
            reason = incompatibility(figure, source)
            if reason is not None:
                return reason
        if figure.hedge is not None:
            half = half_width(figure) * _ratio(figure)
            window = self._within(c - half - EPSILON * c, c + half + EPSILON * c)
            if any(incompatibility(figure, s) is None for s in window):
                return Reason.HEDGE_DIRECTION
        if figure.scale != 1.0 and figure.kind in (FigureKind.MONEY, FigureKind.NUMBER):
            m = abs(figure.mantissa)
            half_m = figure.step / figure.scale / 2 + EPSILON * m
            same_digits = self._by_mantissa[
                bisect_left(self._mantissas, m - half_m) : bisect_right(self._mantissas, m + half_m)
            ]
            if any(
                s.scale != figure.scale and s.kind is not FigureKind.PERCENT for s in same_digits
            ):
                return Reason.SCALE_MISMATCH
        for source in nearest:
            # the claim lies within the source's own rounding, but says more than it
            source_half = source.step * _ratio(source) / 2
            if source.step > figure.step and abs(abs(measure(source)) - c) <= source_half:
                return Reason.MORE_PRECISE_THAN_SOURCE
        return Reason.NOT_FOUND

    def _nearest(self, figure: Figure, count: int) -> list[Figure]:
        """The compatible source figures closest to the claim's value, by ratio."""
        c = abs(measure(figure))
        at = bisect_left(self._values, c)
        window = self._by_value[max(0, at - 6) : at + 6]
        compatible = [s for s in window if incompatibility(figure, s) is None]
        compatible.sort(key=lambda s: _distance(c, abs(measure(s))))
        return compatible[:count]

    # -- quotes ---------------------------------------------------------------------------
    def locate(self, quote: str) -> Span | None:
        """Where the quote stands in the source: exact, then ignoring case and whitespace."""
        at = self.source.find(quote)
        if at >= 0:
            return Span(at, at + len(quote), quote)
        folded, offsets = self._folded_source()
        needle = _fold(quote)[0].strip()
        if not needle:
            return None
        at = folded.find(needle)
        if at < 0:
            return None
        start, end = offsets[at], offsets[at + len(needle) - 1] + 1
        return Span(start, end, self.source[start:end])

    def _folded_source(self) -> tuple[str, list[int]]:
        if self._folded is None:
            self._folded = _fold(self.source)
        return self._folded


def _fold(text: str) -> tuple[str, list[int]]:
    """Lower-cased text with whitespace runs as one space, and where each character came from."""
    chars: list[str] = []
    offsets: list[int] = []
    in_space = False
    for i, char in enumerate(text):
        if char.isspace():
            if not in_space:
                chars.append(" ")
                offsets.append(i)
            in_space = True
            continue
        in_space = False
        for lowered in char.lower():
            chars.append(lowered)
            offsets.append(i)
    return "".join(chars), offsets


def _position(figure: Figure) -> int:
    return figure.start


def _ratio(figure: Figure) -> float:
    """From a figure's value to its measure (basis points count as 1/100 of a point)."""
    return abs(measure(figure) / figure.value) if figure.value else 1.0


def _distance(a: float, b: float) -> float:
    if a <= 0 or b <= 0:
        return abs(a - b) + 1e9
    return abs(math.log(a / b))


def _figure_claim_figures(claim: FigureClaim) -> tuple[str, list[Figure]]:
    """The figures a structured claim states: parsed from its text, or built from its value."""
    if claim.text is not None and claim.text.strip():
        parsed = [f for f in find_figures(claim.text) if f.is_amount] or find_figures(claim.text)
        if parsed:
            if claim.hedge is not None:
                parsed = [f._replace(hedge=claim.hedge) for f in parsed]
            return claim.text, parsed
    name = f"claim {claim.id!r}" if claim.id is not None else "a structured claim"
    if claim.value is None:
        raise ClaimsFormatError(f"{name} has no figure in its text and no value")
    value = float(claim.value)
    if not math.isfinite(value):
        raise ClaimsFormatError(f"{name} has a value that is not a finite number")
    text = claim.text or repr(value)
    kind = _kind_of_unit(claim.unit)
    step = claim.step if claim.step is not None else _exact_step(value)
    figure = Figure(
        text=text,
        start=0,
        end=len(text),
        kind=kind,
        value=value,
        unit=claim.unit if kind is not FigureKind.NUMBER else None,
        step=step,
        hedge=claim.hedge,
    )
    return text, [figure]


def _kind_of_unit(unit: str | None) -> FigureKind:
    if unit is None or not unit.strip():
        return FigureKind.NUMBER
    if unit == "%":
        return FigureKind.PERCENT
    if unit in ("pp", "pts"):
        return FigureKind.POINTS
    if unit == "bp":
        return FigureKind.BASIS_POINTS
    if unit == "x":
        return FigureKind.MULTIPLE
    return FigureKind.MONEY


def _exact_step(value: float) -> float:
    """A structured value is as precise as its shortest decimal form (8.971e9 -> 1e6)."""
    exponent = Decimal(repr(abs(value))).normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # finite: NaN and infinity are refused before
    return 10.0**exponent
