"""The pure parts of the offline summariser: sentences, names, tone, metric names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from summariser.figures import find_figures
from summariser.offline.entities import EntityIndex
from summariser.offline.metrics import find_metrics
from summariser.offline.sentences import split_sentences, trim
from summariser.offline.sentiment import judge, tone


def test_sentences_keep_offsets_and_skip_abbreviations() -> None:
    text = (
        "Title line here now\n\nMr. Wu said U.S. sales rose 2.5% to $1.2 billion. Costs fell. Done!"
    )
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == [
        "Title line here now",
        "Mr. Wu said U.S. sales rose 2.5% to $1.2 billion.",
        "Costs fell.",
        "Done!",
    ]
    assert sentences[0].line
    assert all(text[s.start : s.end] == s.text for s in sentences)


@given(st.text(alphabet=st.sampled_from(list("ab .,;!?\n$%0123456789ABC亿元。")), max_size=200))
def test_sentence_offsets_always_slice_back(text: str) -> None:
    for sentence in split_sentences(text):
        assert text[sentence.start : sentence.end] == sentence.text
        assert sentence.text.strip() == sentence.text


def test_trim_keeps_the_clause_with_the_figure() -> None:
    long = (
        "Over a long and eventful period that included many meetings, reviews, discussions, "
        "plans and forecasts made by a great number of people in many offices around the world, "
        "the group said revenue rose 7% to $3.1 billion, and it thanked its staff for their work."
    )
    (sentence,) = split_sentences(long)
    at = long.index("$3.1 billion")
    start, end = trim(sentence, at, at + len("$3.1 billion"), 20)
    piece = long[start:end]
    assert "$3.1 billion" in piece
    assert len(piece.split()) <= 20
    assert long.find(piece) == start


@pytest.mark.parametrize(
    ("sentence", "sign"),
    [
        ("Revenue grew strongly.", 1),
        ("Revenue did not grow.", -1),
        ("Profit plunged 40%.", -1),
        ("Costs declined.", 1),
        ("The board met on Tuesday.", 0),
    ],
    ids=["growth", "negated", "plunge", "costs-down", "bland"],
)
def test_tone_sign(sentence: str, sign: int) -> None:
    (s,) = split_sentences(sentence)
    net = tone(s).net
    assert (net > 0) - (net < 0) == sign


def test_judge_mixed() -> None:
    text = (
        "Sales grew strongly and profit rose to a record. "
        "But the company warned of weak demand, losses and layoffs ahead. "
        "Margins improved while debt and litigation risks increased."
    )
    verdict = judge([tone(s) for s in split_sentences(text)])
    assert verdict.label == "mixed"


def test_main_entity_and_possessive() -> None:
    text = (
        "Kestrel Motors said sales rose. Kestrel Motors's new plant opened. "
        "The Traditional view is that The Kestrel Motors plan works. Analysts agree."
    )
    names = EntityIndex(text)
    assert names.main == "Kestrel Motors"


@pytest.mark.parametrize(
    ("text", "value", "metric"),
    [
        ("Revenue rose 12% to $4.2 billion.", "$4.2 billion", "revenue"),
        ("Adjusted earnings were $1.43 per diluted share.", "$1.43", "adjusted EPS"),
        ("The net loss was $0.35 per share.", "$0.35", "loss per share"),
        ("Its market share increased to 32.8%.", "32.8%", "market share"),
        (
            "External commercial revenue grew 40% year-over-year.",
            "40%",
            "external commercial revenue growth",
        ),
        ("Gross margin fell 2 percentage points.", "2 percentage points", "gross margin decline"),
        ("AI products accounted for 30% of external revenue.", "30%", "share of external revenue"),
    ],
)
def test_metric_names(text: str, value: str, metric: str) -> None:
    found = find_metrics(text, split_sentences(text), find_figures(text), EntityIndex(text))
    by_value = {m.value: m.metric for m in found}
    assert by_value[value] == metric
