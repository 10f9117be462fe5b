"""Characters: the document's line breaks and invisible noise normalised, binary data refused.

Stage: cleaning, first step (pure core, standard library only). In: the document as one
``str``. Out: the same text with every line break as ``\\n`` and control and zero-width
characters gone; every other character (full-width digits, no-break spaces, Chinese) is kept
as written. :func:`refuse_binary` raises
:class:`~summariser.errors.NoArticleTextError` for bytes decoded as text.
"""

from __future__ import annotations

import re

from summariser.errors import NoArticleTextError

# Every line break Python's str.splitlines knows becomes "\n", so that offsets and lines agree.
_LINE_BREAKS = re.compile("\r\n?|[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
# Control characters (but \t and \n), lone surrogates (unencodable) and invisible format
# characters that scraped pages scatter through words: soft hyphen, zero-width space, LRM/RLM,
# word joiner, BOM. Zero-width joiners stay: emoji and some scripts need them.
_NOISE = re.compile(
    "[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f\u00ad\u200b\u200e\u200f\u2060\ufeff\ud800-\udfff]"
)
# What marks bytes decoded as text: control characters other than the usual white space, and
# the replacement character a lenient decoder leaves for every byte it could not read.
_BINARY_MARKS = re.compile("[\x01-\x08\x0e-\x1a\x1c-\x1f\x7f\ufffd]")
_BINARY_SAMPLE = 65_536


def refuse_binary(document: str) -> None:
    # Text never holds NUL (git's test for binary files), and a tenth of control characters
    # in the first 64K means the bytes were an image, a PDF or a zip, not an article.
    if "\x00" in document:
        raise NoArticleTextError("the document holds NUL bytes: it is binary data, not text")
    sample = document[:_BINARY_SAMPLE]
    if len(_BINARY_MARKS.findall(sample)) * 10 > len(sample):
        raise NoArticleTextError(
            "the document is mostly non-printable characters: it is binary data, not text"
        )


def normalise_characters(document: str) -> str:
    return _NOISE.sub("", _LINE_BREAKS.sub("\n", document))
