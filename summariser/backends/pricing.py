"""What a call cost: list prices per million tokens and the estimate made from a ``Usage``.

Stage: backends (pure arithmetic, no I/O). In: a model name as the server reports it (often
a dated snapshot such as ``gpt-4o-mini-2024-07-18``) and the call's :class:`Usage`. Out: an
estimated cost in US dollars, or ``None`` for a model the table does not know (a local
server's model, say), so that nobody mistakes "unknown" for "free".

The prices are OpenAI's list prices as of 2025, standard tier; they change. Callers with
other prices (a newer list, a negotiated rate, Azure) pass their own table to
:func:`estimate_cost` (a settings field can carry it) rather than editing this one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from summariser.schema import Usage

#: (input, cached input, output) in US dollars per million tokens. As of 2025; override it.
PRICES_PER_MTOK: dict[str, tuple[float, float, float]] = {
    "gpt-4o": (2.50, 1.25, 10.00),
    "gpt-4o-mini": (0.15, 0.075, 0.60),
    "gpt-4.1": (2.00, 0.50, 8.00),
    "gpt-4.1-mini": (0.40, 0.10, 1.60),
    "gpt-4.1-nano": (0.10, 0.025, 0.40),
    "gpt-5": (1.25, 0.125, 10.00),
    "gpt-5-mini": (0.25, 0.025, 2.00),
    "gpt-5-nano": (0.05, 0.005, 0.40),
    "o1": (15.00, 7.50, 60.00),
    "o3": (2.00, 0.50, 8.00),
    "o3-mini": (1.10, 0.55, 4.40),
    "o4-mini": (1.10, 0.275, 4.40),
}

# Servers answer with the snapshot they ran ("gpt-4o-2024-08-06"); the table is keyed by the
# model family, so the date is dropped before the lookup.
_SNAPSHOT_DATE = re.compile(r"-\d{4}-\d{2}-\d{2}$")


def estimate_cost(
    model: str,
    usage: Usage,
    prices: Mapping[str, tuple[float, float, float]] = PRICES_PER_MTOK,
) -> float | None:
    """The estimated cost of ``usage`` on ``model`` in US dollars; ``None`` if the model is not
    in ``prices``.

    Cached tokens are part of ``prompt_tokens`` (as OpenAI counts them), so they are billed
    at the cached rate and the rest of the prompt at the full rate.
    """
    price = prices.get(model) or prices.get(_SNAPSHOT_DATE.sub("", model))
    if price is None:
        return None
    input_rate, cached_rate, output_rate = price
    cached = min(usage.cached_tokens, usage.prompt_tokens)
    return (
        (usage.prompt_tokens - cached) * input_rate
        + cached * cached_rate
        + usage.completion_tokens * output_rate
    ) / 1_000_000
