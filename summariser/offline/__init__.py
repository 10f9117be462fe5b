"""The offline summariser: extract and reduce answers from the article's own text, no model.

Stage: pure core (no I/O, no network). In: an article chunk (extract) or the chunks' notes as
JSON (reduce). Out: an :class:`~summariser.schema.Extraction` or a
:class:`~summariser.schema.Reduction`, deterministic, whose every figure is the source's own.

Modules: ``sentences`` (sentences and clauses with offsets), ``entities`` (names and the main
company), ``metrics`` (key figures: name, entity, period, change, rank), ``sentiment`` (tone
from our finance word lists in ``lexicon``), ``extract`` and ``reduce`` (the two answers).
The backend that serves them is :mod:`summariser.backends.offline`.
"""

from summariser.offline.extract import extract
from summariser.offline.reduce import reduce_notes

__all__ = ["extract", "reduce_notes"]
