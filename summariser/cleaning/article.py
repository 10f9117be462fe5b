"""The cleaning stage's entry point: detect the format, read it, drop furniture, tidy.

Stage: cleaning (pure core, standard library only). In: one ``str`` holding plain text,
Markdown or HTML. Out: a :class:`CleanedArticle`. It runs the other modules of the package in
order: :mod:`~summariser.cleaning.normalise` (characters), the reader for the format
(:mod:`~summariser.cleaning.markdown` or :mod:`~summariser.cleaning.html`; plain text needs
none), :mod:`~summariser.cleaning.furniture` (lines), then joins the paragraphs and finds a
title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from summariser.cleaning.furniture import (
    FIRST_LETTER,
    LINK_TITLE_MAX,
    SENTENCE_END,
    drop_furniture,
)
from summariser.cleaning.html import read_html
from summariser.cleaning.markdown import markdown_to_text
from summariser.cleaning.normalise import normalise_characters, refuse_binary
from summariser.errors import EmptySourceError, NoArticleTextError

__all__ = ["CleanedArticle", "DocumentFormat", "clean"]

DocumentFormat = Literal["text", "markdown", "html"]


@dataclass(frozen=True, slots=True)
class CleanedArticle:
    """The article as the rest of the pipeline sees it.

    ``text`` is the cleaned article; ``format`` the format it was read as; ``removed_lines``
    how many lines (HTML: blocks) of page furniture were dropped; ``title`` the headline when
    the document makes it obvious (``<h1>``, ``<title>``, a first Markdown heading, or a short
    first line standing alone), else None.
    """

    text: str
    format: DocumentFormat
    removed_lines: int
    title: str | None


def clean(
    document: str, *, format: Literal["auto", "text", "markdown", "html"] = "auto"
) -> CleanedArticle:
    """Clean ``document`` (plain text, Markdown or HTML; ``auto`` detects which).

    Raises EmptySourceError for an empty or blank document and NoArticleTextError for binary
    data, HTML without body text, or a document that is all page furniture.
    """
    if format not in ("auto", "text", "markdown", "html"):
        raise ValueError(f"unknown format {format!r}: expected auto, text, markdown or html")
    if not document.strip():
        raise EmptySourceError("the document is empty")
    refuse_binary(document)
    text = normalise_characters(document)
    detected: DocumentFormat = _detect_format(text) if format == "auto" else format
    title: str | None = None
    removed = 0
    if detected == "html":
        page = read_html(text)
        text, title, removed = page.text, page.title, page.removed_blocks
        if not text.strip():
            raise NoArticleTextError("the HTML holds no article text")
    elif detected == "markdown":
        text, title = markdown_to_text(text)
    lines, furniture = drop_furniture(text.split("\n"))
    cleaned = _tidy(lines)
    if not cleaned:
        what = "the HTML" if detected == "html" else "the document"
        raise NoArticleTextError(f"{what} holds no article text, only page furniture")
    return CleanedArticle(
        text=cleaned,
        format=detected,
        removed_lines=removed + furniture,
        title=title if title else _first_line_title(cleaned),
    )


# --- format ---------------------------------------------------------------------------------

_HTML_DOCUMENT = re.compile(r"<!doctype\s+html|<html[\s>]|<body[\s>]|<head[\s>]", re.IGNORECASE)
_HTML_TAG = re.compile(
    r"</?(?:p|div|span|a|article|main|section|table|tr|td|th|h[1-6]|ul|ol|li|br|img|script"
    r"|style|strong|em|b|i|nav|header|footer)(?:\s[^<>]{0,500})?/?>",
    re.IGNORECASE,
)
_MARKDOWN_SIGNS = re.compile(
    r"^ {0,3}#{1,6}[ \t]+\S"  # an ATX heading
    r"|(?<!\w)(\*\*|__)\S[^\n]{0,300}?\S\1(?!\w)"  # strong emphasis
    r"|!?\[[^\]\n]{1,300}\]\([^)\s]{1,2000}\)"  # a link or an image
    r"|^[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*\|",  # a table's separator row
    re.MULTILINE,
)


def _detect_format(text: str) -> DocumentFormat:
    head = text[:100_000]
    if _HTML_DOCUMENT.search(head[:4096]):
        return "html"
    for tags, _ in enumerate(_HTML_TAG.finditer(head), start=1):
        # A stray "<b>" in an article about HTML is text; three tags are a page.
        if tags >= 3 or head.lstrip().startswith("<"):
            return "html"
    if _MARKDOWN_SIGNS.search(text):
        return "markdown"
    return "text"


# --- paragraphs and title -------------------------------------------------------------------


def _tidy(lines: list[str]) -> str:
    """Lines joined with at most one blank line between paragraphs, none at either end."""
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


def _first_line_title(text: str) -> str | None:
    # Plain text has a title only when it is obvious: a short first line, standing alone as a
    # paragraph, that does not end like a sentence (a BBC story's first line, say).
    first, sep, rest = text.partition("\n\n")
    if (
        sep
        and rest.strip()
        and "\n" not in first
        and len(first) <= LINK_TITLE_MAX
        and sum(1 for word in first.split() if FIRST_LETTER.search(word)) >= 3
        and not first.endswith((*SENTENCE_END, ":", ";", ","))
    ):
        return first
    return None
