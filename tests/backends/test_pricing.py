"""Cost estimates: list prices per million tokens, cached input at its own rate."""

from __future__ import annotations

import pytest

from summariser.backends.pricing import PRICES_PER_MTOK, estimate_cost
from summariser.schema import Usage


@pytest.mark.parametrize(
    ("model", "usage", "expected"),
    [
        ("gpt-4o-mini", Usage(prompt_tokens=1_000_000), 0.15),
        ("gpt-4o-mini", Usage(completion_tokens=1_000_000), 0.60),
        ("gpt-4o-mini", Usage(prompt_tokens=1_000_000, cached_tokens=1_000_000), 0.075),
        ("gpt-4o", Usage(prompt_tokens=2000, completion_tokens=500, cached_tokens=1000), 0.00875),
        ("gpt-4o-mini-2024-07-18", Usage(prompt_tokens=1_000_000), 0.15),
        ("gpt-4.1-nano", Usage(), 0.0),
    ],
    ids=["input", "output", "all-cached", "mixed", "dated-snapshot", "nothing-used"],
)
def test_estimate_cost(model: str, usage: Usage, expected: float) -> None:
    assert estimate_cost(model, usage) == pytest.approx(expected)


@pytest.mark.parametrize("model", ["llama3.1:8b", "offline-v1", "fake-1", "gpt-4o-mini-custom"])
def test_unknown_models_have_no_estimate(model: str) -> None:
    assert estimate_cost(model, Usage(prompt_tokens=1000)) is None


def test_a_price_table_can_be_passed_in() -> None:
    prices = {"llama3.1:8b": (1.0, 0.5, 2.0)}
    assert estimate_cost("llama3.1:8b", Usage(prompt_tokens=1_000_000), prices) == 1.0
    assert estimate_cost("gpt-4o", Usage(prompt_tokens=1), prices) is None


def test_cached_tokens_beyond_the_prompt_are_not_billed_twice() -> None:
    odd = Usage(prompt_tokens=10, cached_tokens=50)
    assert estimate_cost("gpt-4o", odd) == pytest.approx(10 * 1.25 / 1_000_000)


def test_every_price_is_positive_and_cached_input_is_cheaper() -> None:
    for model, (input_rate, cached_rate, output_rate) in PRICES_PER_MTOK.items():
        assert 0 < cached_rate <= input_rate <= output_rate, model
