"""Figures in text: find every number, with offsets, and normalise it to a value and a unit.

Stage: pure core (no I/O). In: any text. Out: a list of :class:`Figure`, ordered by position,
each with ``text[figure.start:figure.end] == figure.text``.

Modules: ``model`` (the value object), ``scan`` (one pass over the text), and the readers it
dispatches to: ``numbers`` (digits), ``words`` (English number words), ``chinese``
(Chinese numerals), ``calendar`` (dates, periods, times), with ``context`` (scale, currency,
unit and hedge written around a number) and ``lexicon`` (the vocabulary) beside them.
"""

from summariser.figures.model import AMOUNT_KINDS, Figure, FigureKind
from summariser.figures.scan import find_figures

__all__ = ["AMOUNT_KINDS", "Figure", "FigureKind", "find_figures"]
