"""Tests of the cleaning stage (summariser.cleaning): furniture out, article text kept.

Fixtures are written for these tests (furniture modelled on what scraped pages carry); the one
test of a real page reads the shared seed article and is marked ``data``.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from summariser.cleaning import CleanedArticle, clean
from summariser.errors import EmptySourceError, NoArticleTextError
from summariser.figures import find_figures

PROPERTY_SETTINGS = settings(deadline=None, max_examples=300)

ARTICLE = (
    "Acme Corp posts record quarter\n\n"
    "Acme said revenue rose 18% to $1.2 billion in the fourth quarter.\n\n"
    "Cloud revenue reached 89.71亿元, up 40%, and margin was 32.8%."
)

TOP_AND_BOTTOM = (
    "• Like\n  • Comment\n  • Favorite\n\n"
    + ARTICLE
    + "\n\nDisclaimer: This is not investment advice. Do your own research.\n\n"
    "Report\n\nComment\n\nempty\nNo comments yet\n\u00a0\n\u00a0\n\n"
    "Most Discussed\n\n\u00a0\nAcme rivals slump as cloud war heats up\nWhy chip stocks fell\n"
)

HTML_PAGE = """<!DOCTYPE html>
<html><head><title>Acme posts record quarter | Example News</title>
<style>p { color: red }</style>
<script>var s = "<p>Revenue fell 99%</p>";</script></head>
<body>
<header><nav><a href="/">Home</a> <a href="/m">Markets</a></nav></header>
<div class="share-bar"><a>Share</a> <a>Tweet</a></div>
<main>
<article>
<h1>Acme posts   record quarter</h1>
<p>Acme said revenue rose <b>18%</b> to $1.2&nbsp;billion
   in the fourth quarter.</p>
<p>Cloud &amp; AI revenue reached 89.71亿元.<br>Margin was 32.8%.</p>
<table>
<tr><th>Segment</th><th>Revenue</th></tr>
<tr><td>Cloud</td><td><p>$400 million</p></td></tr>
</table>
<p>Advertisement</p>
<footer>Tags: earnings</footer>
</article>
<aside><h2>Most Read</h2><ul><li><a>Other story</a></li></ul></aside>
<article><p>Teaser of another story.</p></article>
</main>
<footer>© 2026 Example News</footer>
<div id="cookie-banner">We use cookies to improve your experience. Accept all?</div>
</body></html>"""

HTML_TEXT = (
    "Acme posts record quarter\n\n"
    "Acme said revenue rose 18% to $1.2\u00a0billion in the fourth quarter.\n\n"
    "Cloud & AI revenue reached 89.71亿元.\nMargin was 32.8%.\n\n"
    "Segment | Revenue\nCloud | $400 million"
)

MARKDOWN = """# Acme posts record quarter

**01 Revenue** rose _18%_ to [$1.2 billion](https://example.com/a_(b) "results") ![chart](c.png) in Q4.

| Segment | Revenue |
|---|---:|
| **Cloud** | $400 million |

> Margin was `32.8%`.

* first point
- second point, snake_case_name stays, 2*3*4 stays
[ref]: https://example.com

Share • Tweet • Email
"""

MARKDOWN_TEXT = (
    "Acme posts record quarter\n\n"
    "01 Revenue rose 18% to $1.2 billion in Q4.\n\n"
    "Segment | Revenue\nCloud | $400 million\n\n"
    "Margin was 32.8%.\n\n"
    "- first point\n- second point, snake_case_name stays, 2*3*4 stays"
)


def figures(text: str) -> Counter[tuple[str, float, str | None]]:
    return Counter((f.kind.value, f.value, f.unit) for f in find_figures(text))


def values(text: str) -> Counter[tuple[float, str | None]]:
    # Value and unit, not kind: the parser reads a lone "0 " opening a line as a list marker
    # and "0" as a number, so trailing white space, which cleaning strips, can change a kind.
    return Counter((f.value, f.unit) for f in find_figures(text))


@pytest.mark.parametrize(
    ("document", "fmt", "expected", "removed", "title"),
    [
        pytest.param(ARTICLE, "text", ARTICLE, 0, "Acme Corp posts record quarter", id="plain"),
        pytest.param(
            TOP_AND_BOTTOM,
            "text",
            ARTICLE,
            11,
            "Acme Corp posts record quarter",
            id="furniture-top-and-bottom",
        ),
        pytest.param(HTML_PAGE, "html", HTML_TEXT, 9, "Acme posts record quarter", id="html-page"),
        pytest.param(
            MARKDOWN, "markdown", MARKDOWN_TEXT, 1, "Acme posts record quarter", id="markdown"
        ),
        pytest.param(
            "Line one\r\nLine two\rLine three\n",
            "text",
            "Line one\nLine two\nLine three",
            0,
            None,
            id="crlf-and-cr",
        ),
        pytest.param(
            "Net\x07 rose\x1b to 5\x7f%.\x0cNext page",
            "text",
            "Net rose to 5%.\nNext page",
            0,
            None,
            id="control-characters",
        ),
        pytest.param(
            "  Revenue rose 5%.   \n\n\n\n   Net fell.\t\n\n",
            "text",
            "Revenue rose 5%.\n\nNet fell.",
            0,
            None,
            id="blank-lines-and-spaces",
        ),
        pytest.param(
            "\ufeffRevenue\u200b rose 5\u00ad%.",
            "text",
            "Revenue rose 5%.",
            0,
            None,
            id="invisible-characters",
        ),
        pytest.param(
            "Shr 34 cts vs 1.19 dlrs\n    Net 807,000 vs 2,858,000\n Reuter",
            "text",
            "Shr 34 cts vs 1.19 dlrs\nNet 807,000 vs 2,858,000",
            1,
            None,
            id="reuters-sign-off",
        ),
        pytest.param(
            "Profit rose to 57 mln dlrs.\nREUTER...^M",
            "text",
            "Profit rose to 57 mln dlrs.",
            1,
            None,
            id="reuters-sign-off-variant",
        ),
        pytest.param(
            "Confidence for the future. REUTER",
            "text",
            "Confidence for the future.",
            0,
            None,
            id="reuters-sign-off-inline",
        ),
        pytest.param(
            "Income includes a gain of 1.2 mln dlrs per\nshare.\n    Net 5 mln\n    related to the sale of 82 pct of\nits units.",
            "text",
            "Income includes a gain of 1.2 mln dlrs per\nshare.\nNet 5 mln\nrelated to the sale of 82 pct of\nits units.",
            0,
            None,
            id="wrapped-lines-are-not-furniture",
        ),
        pytest.param(
            "Sales rose 5%.\n\nRelated Articles\n\nRivals slip\nChips rally\n\nThe company also said margins held up well.",
            "text",
            "Sales rose 5%.\n\nThe company also said margins held up well.",
            3,
            None,
            id="related-list-mid-article",
        ),
        pytest.param(
            "Sales rose 5%.\n\nAdvertisement\n\nShare this article\n\n12 comments\n\nLog in to comment\n\nThe views expressed here are the author's own.",
            "text",
            "Sales rose 5%.",
            5,
            None,
            id="widgets-and-disclaimer",
        ),
        pytest.param(
            "We use cookies to give you the best experience. By continuing you accept our cookie policy.\n\nSales rose 5%.",
            "text",
            "Sales rose 5%.",
            1,
            None,
            id="cookie-banner",
        ),
        pytest.param(
            "Shares 1,234,567\nComments 1,000\n\nNet 57,000.\n23, 1986",
            "text",
            "Shares 1,234,567\n\nNet 57,000.\n23, 1986",
            1,
            None,
            id="numbers-are-not-furniture",
        ),
        pytest.param(
            "营收89.71亿元，同比增长４０％，１．０７５３。US$1.2bn (1,234) -3.5% 25bp",
            "text",
            "营收89.71亿元，同比增长４０％，１．０７５３。US$1.2bn (1,234) -3.5% 25bp",
            0,
            None,
            id="figures-unchanged",
        ),
        pytest.param(
            "<p>Revenue rose 5%.</p>", "html", "Revenue rose 5%.", 0, None, id="html-fragment"
        ),
        pytest.param(
            "Revenue was <b>up</b> 5%.",
            "text",
            "Revenue was <b>up</b> 5%.",
            0,
            None,
            id="one-tag-is-text",
        ),
        pytest.param(
            "<div><p>Shared &lt;b&gt; &#36;5 &eacute;</div>",
            "html",
            "Shared <b> $5 é",
            0,
            None,
            id="html-entities",
        ),
        pytest.param(
            "<html><body><p>Hello world.</p><p hidden>Secret</p><div aria-hidden=true>Icon</div><div role=navigation>Nav</div><div style='display: none'>x</div></body></html>",
            "html",
            "Hello world.",
            4,
            None,
            id="html-hidden-elements",
        ),
        pytest.param(
            "<html><body><div><p>Real text here.</p></div><article><p>Teaser.</p></article></body></html>",
            "html",
            "Real text here.\n\nTeaser.",
            0,
            None,
            id="small-article-is-not-preferred",
        ),
        pytest.param(
            "<html><head><title>Only title</title><body><p>Text.</p><pre>a  b\n c</pre><![foo[ bogus ]>Tail text.</body></html>",
            "html",
            "Text.\n\na b\nc\n\nTail text.",
            0,
            "Only title",
            id="html-head-unclosed-and-marked-section",
        ),
    ],
)
def test_clean(document: str, fmt: str, expected: str, removed: int, title: str | None) -> None:
    cleaned = clean(document)
    assert cleaned == CleanedArticle(text=expected, format=fmt, removed_lines=removed, title=title)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("document", "error", "message"),
    [
        pytest.param("", EmptySourceError, "empty", id="empty"),
        pytest.param(" \n\t\u00a0\n", EmptySourceError, "empty", id="whitespace"),
        pytest.param("PK\x03\x04\x00\x00binary", NoArticleTextError, "NUL", id="nul-bytes"),
        pytest.param(
            "\x89PNG\r\n\x1a\n" + "\x01\x02\x03\x04\x05\x06" * 20 + "text",
            NoArticleTextError,
            "non-printable",
            id="mostly-non-printable",
        ),
        pytest.param("\ufffd" * 50 + "abc", NoArticleTextError, "non-printable", id="undecodable"),
        pytest.param(
            "<html><head><title>T</title><script>x()</script></head><body>  </body></html>",
            NoArticleTextError,
            "the HTML holds no article text",
            id="empty-html",
        ),
        pytest.param(
            "<html><body><nav>Home</nav><p>Share</p></body></html>",
            NoArticleTextError,
            "the HTML holds no article text",
            id="html-all-furniture",
        ),
        pytest.param(
            "• Like\n• Comment\nShare",
            NoArticleTextError,
            "only page furniture",
            id="text-all-furniture",
        ),
    ],
)
def test_clean_refuses(document: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        clean(document)


def test_format_is_forced() -> None:
    assert clean("**5%** rose", format="text").text == "**5%** rose"
    assert clean("**5%** rose", format="markdown").text == "5% rose"
    assert clean("<p>a</p>", format="text").text == "<p>a</p>"
    with pytest.raises(ValueError, match="unknown format"):
        clean("text", format="pdf")  # type: ignore[arg-type]


def test_cleaned_article_is_frozen() -> None:
    cleaned = clean(ARTICLE)
    with pytest.raises(AttributeError):
        cleaned.text = "x"  # type: ignore[misc]


def test_large_document_is_linear() -> None:
    # 2 MB in well under a second or two; the benchmark is 20 MB in a few seconds.
    big = (TOP_AND_BOTTOM + "\n\n") * (2_000_000 // len(TOP_AND_BOTTOM))
    cleaned = clean(big)
    assert cleaned.text.count("89.71亿元") == big.count("89.71亿元")


# --- properties -----------------------------------------------------------------------------

# Text made of article-like pieces: figures in several styles, words, punctuation, breaks.
PIECES = st.sampled_from(
    [
        *"0123456789",
        ",",
        ".",
        " ",
        " ",
        "\n",
        "\n\n",
        "%",
        "$",
        "-",
        "(",
        ")",
        "\u00a0",
        "亿元",
        "４",
        "．",
        " million",
        " billion",
        " pct",
        " dlrs",
        " cts",
        "US$",
        "revenue",
        "Revenue ",
        "rose ",
        "Net ",
        "the ",
        "to ",
        "per share",
        "Q4 ",
        "2026",
        "about ",
        " vs ",
        "\t",
        "*",
        "#",
        "|",
    ]
)
ARTICLE_TEXT = st.lists(PIECES, min_size=1, max_size=60).map("".join)


@PROPERTY_SETTINGS
@given(st.text())
def test_never_raises_but_documented_errors(document: str) -> None:
    try:
        cleaned = clean(document)
    except (EmptySourceError, NoArticleTextError):
        return
    assert cleaned.text.strip()
    assert cleaned.format in ("text", "markdown", "html")


@PROPERTY_SETTINGS
@given(
    st.text(st.characters(codec="utf-8"), max_size=300) | ARTICLE_TEXT.map(lambda t: f"<p>{t}</p>")
)
def test_output_has_no_control_characters(document: str) -> None:
    try:
        cleaned = clean(document)
    except (EmptySourceError, NoArticleTextError):
        return
    text = cleaned.text
    assert not [c for c in text if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F]
    assert "\r" not in text
    assert "\n\n\n" not in text
    assert text == text.strip()
    assert all(line == line.rstrip() for line in text.split("\n"))


@PROPERTY_SETTINGS
@given(ARTICLE_TEXT)
def test_figures_of_plain_text_survive(document: str) -> None:
    try:
        cleaned = clean(document, format="text")
    except EmptySourceError:
        return
    assert values(cleaned.text) == values(document)


@PROPERTY_SETTINGS
@given(
    st.lists(
        st.sampled_from(
            [
                *"<>/&;#!-[]ab p=\"'\n",
                "<p>",
                "</p>",
                "<div>",
                "<![",
                "<!--",
                "<script>",
                "</table>",
                "<td>",
                "<tr>",
                "<br>",
                "&amp;",
                "<nav>",
                "<article>",
                "</article>",
                "<title>",
                "<h1>",
                "</h1>",
            ]
        ),
        max_size=80,
    ).map("".join)
)
def test_html_like_input_never_raises(document: str) -> None:
    with contextlib.suppress(EmptySourceError, NoArticleTextError):
        clean(document, format="html")


# --- the shared seed article ----------------------------------------------------------------


@pytest.mark.data
def test_seed_article(shared_dir: Path) -> None:
    source = (shared_dir / "data" / "seed" / "alibaba_fy2026_q4_article.txt").read_text("utf-8")
    cleaned = clean(source)
    lines = cleaned.text.split("\n")
    assert cleaned.format == "markdown"  # its section headings are **bold**
    assert cleaned.title is not None and cleaned.title == lines[0]
    for furniture in (
        "Like",
        "Comment",
        "Favorite",
        "Report",
        "empty",
        "No comments yet",
        "Most Discussed",
        "7x24",
    ):
        assert furniture not in lines, furniture
    assert not [line for line in lines if line.startswith(("Disclaimer", "• "))]
    assert "**" not in cleaned.text
    assert cleaned.removed_lines >= 9
    # The article itself: first and last paragraphs and the key figures are all there.
    assert lines[-1].startswith("Third, the group's valuation logic")
    for figure in ("8.971 billion yuan", "40%", "32.8%"):
        assert figure in cleaned.text
    found = figures(cleaned.text)
    assert found[("money", 8.971e9, "CNY")] >= 1
    assert found[("percent", 40.0, "%")] >= 1
    assert found[("percent", 32.8, "%")] >= 1
    # Every amount of the article body is kept: only furniture went.
    body_start = source.index("On May 13")
    body_end = source.index("Disclaimer:")
    body = Counter({k: v for k, v in figures(source[body_start:body_end]).items()})
    assert not body - figures(cleaned.text)
