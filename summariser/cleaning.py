"""Cleaning: a document as fetched or pasted, turned into the article text every span refers to.

Stage: pure core (standard library only, no I/O). In: one ``str`` holding plain text, Markdown
or HTML. Out: a :class:`CleanedArticle` whose ``text`` is the article alone, in paragraphs
separated by one blank line. Every offset the rest of the pipeline records (chunks, quotes,
evidence spans) is an offset into that text, so it is the one copy of the article that counts.

What goes: markup (HTML tags, scripts, navigation; Markdown emphasis, links, images, heading
hashes), page furniture (share and like buttons, comment widgets, cookie banners, disclaimers,
"Most Read" and "Related Articles" link lists, "Advertisement", a wire service's sign-off) and
noise characters (control characters, zero-width spaces, ``\\r``). What stays, character for
character: the words and figures of the article (``89.71亿元``, ``$1.2bn``, full-width digits
and no-break spaces alike), since the validator reads figures exactly as written.

Errors: :class:`~summariser.errors.EmptySourceError` for an empty or blank document,
:class:`~summariser.errors.NoArticleTextError` for binary data or a document in which nothing
but furniture is left. Any other ``str`` is cleaned without raising, in linear time.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Literal

from summariser.errors import EmptySourceError, NoArticleTextError

__all__ = ["CleanedArticle", "DocumentFormat", "clean"]

DocumentFormat = Literal["text", "markdown", "html"]


def _words(text: str, sep: str | None = None) -> frozenset[str]:
    """A vocabulary written as one string, to keep the long lists below readable."""
    return frozenset(word.strip() for word in text.split(sep))


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
    _refuse_binary(document)
    text = _normalise_characters(document)
    detected: DocumentFormat = _detect_format(text) if format == "auto" else format
    title: str | None = None
    removed = 0
    if detected == "html":
        page = read_html(text)
        text, title, removed = page.text, page.title, page.removed_blocks
        if not text.strip():
            raise NoArticleTextError("the HTML holds no article text")
    elif detected == "markdown":
        text, title = _markdown_to_text(text)
    lines, furniture = _drop_furniture(text.split("\n"))
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


# --- characters -----------------------------------------------------------------------------

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


def _refuse_binary(document: str) -> None:
    # Text never holds NUL (git's test for binary files), and a tenth of control characters
    # in the first 64K means the bytes were an image, a PDF or a zip, not an article.
    if "\x00" in document:
        raise NoArticleTextError("the document holds NUL bytes: it is binary data, not text")
    sample = document[:_BINARY_SAMPLE]
    if len(_BINARY_MARKS.findall(sample)) * 10 > len(sample):
        raise NoArticleTextError(
            "the document is mostly non-printable characters: it is binary data, not text"
        )


def _normalise_characters(document: str) -> str:
    return _NOISE.sub("", _LINE_BREAKS.sub("\n", document))


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


# --- Markdown -------------------------------------------------------------------------------

_MD_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_MD_RULE = re.compile(r"^ {0,3}(?:([-*_=])[ \t]*)(?:\1[ \t]*){2,}$")  # --- *** === (setext too)
_MD_TABLE_RULE = re.compile(r"^[ \t]*\|?(?:[ \t]*:?-+:?[ \t]*\|)+[ \t]*(?::?-+:?[ \t]*)?$")
_MD_REFERENCE = re.compile(r"^ {0,3}\[[^\]\n]{1,300}\]:[ \t]+\S")
_MD_FENCE = re.compile(r"^ {0,3}(?:```|~~~)")
_MD_QUOTE = re.compile(r"^ {0,3}(?:>[ \t]?)+")
_INNER_SPACES = re.compile(r"(?<=\S) {2,}(?=\S)")
_MD_BULLET = re.compile(r"^([ \t]*)[*+-][ \t]+")
# One pass over a line: backslash escapes, images, links, code and emphasis. Every span is
# bounded, so a line of unmatched brackets costs a constant per character, not its length.
_MD_INLINE = re.compile(
    r"\\(?P<escaped>[!-/:-@\[-`{-~])"
    r"|!\[[^\]\n]{0,300}\](?:\((?:[^()\n]|\([^()\n]{0,300}\)){0,2000}\)|\[[^\]\n]{0,300}\])"
    r"|\[(?P<link>[^\]\n]{1,300})\](?:\((?:[^()\n]|\([^()\n]{0,300}\)){0,2000}\)|\[[^\]\n]{0,300}\])"
    r"|(?P<ticks>`+)(?P<code>[^`\n]{1,300}?)(?P=ticks)"
    r"|(?<!\w)(?P<mark>\*\*|__|~~|\*|_)(?=\S)(?P<emphasis>[^\n]{1,300}?)(?<=\S)(?P=mark)(?!\w)"
    r"|<(?P<autolink>https?://[^>\s]{1,2000})>"
)


def _markdown_inline(line: str, depth: int = 0) -> str:
    def replace(match: re.Match[str]) -> str:
        for group in ("escaped", "code", "autolink"):
            if match.group(group) is not None:
                return match.group(group)
        inner = match.group("link") or match.group("emphasis")
        if inner is None:
            return ""  # an image: its alt text describes a picture, not the news
        # Emphasis inside link text and the like; four levels is more than prose ever nests.
        return _markdown_inline(inner, depth + 1) if depth < 4 else inner

    return _MD_INLINE.sub(replace, line)


def _markdown_to_text(text: str) -> tuple[str, str | None]:
    """Markdown to plain text, one output line per input line (fences and rules dropped)."""
    out: list[str] = []
    title: str | None = None
    for line in text.split("\n"):
        if _MD_FENCE.match(line) or _MD_REFERENCE.match(line) or _MD_TABLE_RULE.match(line):
            continue
        if _MD_RULE.match(line):
            if title is None and line.lstrip().startswith("=") and out and out[-1].strip():
                title = out[-1].strip()  # a setext heading: the line above is the title
            out.append("")
            continue
        heading = _MD_HEADING.match(line)
        if heading:
            words = _markdown_inline(heading.group(2)).strip()
            title = title or words or None
            out.extend(("", words, ""))  # a heading is a paragraph of its own
            continue
        line = _MD_BULLET.sub(r"\1- ", _MD_QUOTE.sub("", line))
        stripped = line.strip()
        if stripped.startswith("|") and stripped.count("|") >= 2:
            cells = stripped.strip("|").split("|")
            line = " | ".join(_markdown_inline(cell.strip()) for cell in cells)
        else:
            inline = _markdown_inline(line)
            # A dropped image leaves its two neighbouring spaces behind.
            line = inline if inline == line else _INNER_SPACES.sub(" ", inline)
        out.append(line)
    return "\n".join(out), title


# --- page furniture -------------------------------------------------------------------------

# Whole lines that are buttons, widgets or labels, compared after _key().
_FURNITURE_LINES = _words(
    "like likes comment comments favorite favourite favorites share tweet email e-mail "
    "print report save saved bookmark follow following reply subscribe copy link facebook "
    "twitter linkedin whatsapp reddit telegram weibo wechat pinterest x empty advertisement "
    "advert ad ads sponsored listen more menu search login register home top"
) | _words(
    "share this | share this article | share this story | share this page | copy link | copy "
    "the link | log in to comment | sign in to comment | login to comment | no comments yet | "
    "be the first to comment | leave a comment | add a comment | post a comment | write a "
    "comment | view comments | show comments | load comments | load more | show more | see "
    "more | read more | view more | join the conversation | sponsored content | paid content "
    "| story continues below | story continues below advertisement | article continues below "
    "advertisement | scroll to continue | scroll to continue with content | continue reading "
    "| skip to content | skip to main content | back to top | listen to this article | font "
    "size | reading mode | accept | accept all | reject all | manage cookies | cookie "
    "settings | got it",
    sep="|",
)
# Headings of link lists and comment sections: the heading goes, and so do the short
# headline-like lines under it, up to the first line that reads as prose.
_SECTION_HEADINGS = _words(
    "most discussed | most read | most popular | most viewed | most shared | related | "
    "related articles | related stories | related news | related content | related coverage | "
    "related posts | related links | related topics | recommended | recommended for you | "
    "recommended stories | recommended articles | recommended reading | you may also like | "
    "you might also like | you may be interested in | more stories | more news | more on this "
    "story | read next | trending | trending now | top stories | latest news | latest stories "
    "| popular now | editor's picks | editors' picks | comments | reader comments | hot "
    "topics",
    sep="|",
)
_SECTION_PREFIX = re.compile(r"(?:more from|more on|also read)\b")
_COUNTED = re.compile(
    r"\(?\d[\d,.]*\s*[km]?\)?\s*(?:comments?|likes?|replies|reply|views|reads)"
    r"|(?:comments?|likes?|replies|views)\s*\(?\d[\d,.]*\s*[km]?\)?"
)
_FURNITURE_PHRASE = re.compile(
    r"disclaimer\b"
    r"|this (?:article|content|material|report|information|post|page) is (?:provided )?"
    r"(?:solely |only )?(?:for|intended for) (?:general )?information(?:al)? purposes"
    r"|the views (?:and opinions )?expressed\b"
    r"|(?:this is )?not (?:financial|investment) advice\b"
    r"|copyright (?:©|\(c\)|\d{4})|(?:©|\(c\)) ?\d{4}|all rights reserved"
    r"|(?:sign up|subscribe) (?:for|to) (?:our|the) (?:free )?(?:newsletter|daily|weekly)"
    r"|(?:log|sign) in (?:to|or register to) (?:comment|reply|post)"
    r"|follow us on\b"
    r"|share (?:on|via|to) (?:facebook|twitter|x|linkedin|whatsapp|email)\b"
)
_COOKIE = re.compile(r"cookie")
_COOKIE_CONTEXT = re.compile(r"accept|consent|we use|cookie (?:policy|settings|preferences)")
_SIGN_OFF = re.compile(r"(?i)reuters?\W*(?:\^m)?\W*")
_TRAILING_SIGN_OFF = re.compile(r"(?<=[.!?\"”])\s+REUTERS?$")
_FIRST_LETTER = re.compile(r"[^\W\d_]")
_KEY_EDGES = re.compile(r"^[\W_]+|[\W_]+$")
_TOKEN_SPLIT = re.compile(r"[\s•·|/]+")
_BUTTON_COUNT = re.compile(r"\(?\d{1,3}(?:\.\d)?[km]?\)?")  # "Like 12", "Comments (3)", "1.2k"
# Full stop, !, ?, and their full-width forms; closing quotes and brackets after them.
_SENTENCE_END = tuple('.!?\u3002\uff01\uff1f"\u201d\u2019)')
_LINK_TITLE_MAX = 150
_SHORT = 60


def _key(line: str) -> str:
    """A line as furniture is compared: bullets, icons and edge punctuation off, case folded."""
    return " ".join(_KEY_EDGES.sub("", line).casefold().split())


def _continues(line: str, previous: str) -> bool:
    """Whether the line goes on with the sentence of the kept line just above it, as hard-wrapped
    text does ("... 1.2 mln dlrs per" / "share."): such a line is never a button or a label."""
    first = _FIRST_LETTER.search(line)
    return (
        bool(previous)
        and not previous.endswith(_SENTENCE_END)
        and first is not None
        and first.group().islower()
    )


def _is_furniture(key: str, line: str) -> bool:
    if len(key) <= _SHORT:
        if key in _FURNITURE_LINES or _COUNTED.fullmatch(key):
            return True
        tokens = _TOKEN_SPLIT.split(key)
        # "Share • Tweet • Email", "Like 12 Comment": a row of buttons on one line.
        if (
            len(tokens) >= 2
            and any(t in _FURNITURE_LINES for t in tokens)
            and all(t in _FURNITURE_LINES or _BUTTON_COUNT.fullmatch(t) for t in tokens)
        ):
            return True
    # The key has lost a leading "©", so the line is read as written too.
    if _FURNITURE_PHRASE.match(key) or _FURNITURE_PHRASE.match(line.casefold()):
        return True
    return len(line) <= 600 and bool(_COOKIE.search(key)) and bool(_COOKIE_CONTEXT.search(key))


def _is_link_title(line: str) -> bool:
    # Headlines in a link list are short and end without a full stop; prose ends in one.
    return len(line) <= _LINK_TITLE_MAX and not line.endswith(_SENTENCE_END)


def _drop_furniture(lines: list[str]) -> tuple[list[str], int]:
    """The lines without furniture (stripped; blank lines kept), and how many were dropped."""
    kept: list[str] = []
    removed = 0
    in_link_list = False
    previous = ""  # the line just above, if it was kept; "" after a blank or a dropped line
    for raw in lines:
        line = raw.strip()
        if not line:
            kept.append("")
            previous = ""
            continue
        if _continues(line, previous):
            kept.append(line)
            previous = line
            continue
        previous = ""
        key = _key(line)
        if in_link_list:
            if _is_link_title(line) or _is_furniture(key, line):
                removed += 1
                continue
            in_link_list = False
        if key in _SECTION_HEADINGS or (
            len(key) <= _SHORT and _SECTION_PREFIX.match(key) and _is_link_title(line)
        ):
            in_link_list = True
            removed += 1
            continue
        if _is_furniture(key, line):
            removed += 1
            continue
        kept.append(line)
        previous = line
    # A wire story's sign-off ("Reuter", "REUTER...^M") closes the text: it is no sentence.
    last = next((i for i in range(len(kept) - 1, -1, -1) if kept[i]), None)
    if last is not None:
        if _SIGN_OFF.fullmatch(kept[last]) and any(kept[:last]):
            del kept[last]
            removed += 1
        else:
            kept[last] = _TRAILING_SIGN_OFF.sub("", kept[last])
    return kept, removed


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
        and len(first) <= _LINK_TITLE_MAX
        and sum(1 for word in first.split() if _FIRST_LETTER.search(word)) >= 3
        and not first.endswith((*_SENTENCE_END, ":", ";", ","))
    ):
        return first
    return None


# --- HTML -----------------------------------------------------------------------------------

# Dropped with their content, which is never prose (code, media, form controls): not counted.
_SILENT = _words(
    "script style noscript template svg math head object embed canvas audio video map select "
    "textarea iframe button"
)
# Dropped with their content, which is page furniture: counted in removed_lines. A <header>
# only outside <article> and <main>: inside them it holds the headline and the byline.
_FURNITURE_TAGS = frozenset(["nav", "footer", "aside", "form", "dialog", "menu"])
_VOID = _words("area base br col embed hr img input keygen link meta param source track wbr")
_BLOCKS = _words(
    "address article aside blockquote body caption center dd details dialog dir div dl dt "
    "fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup html legend li main "
    "nav ol p pre section summary ul"
)
_STRUCTURE = frozenset({"html", "body", "article", "main"})  # never dropped for a class name
_FURNITURE_ROLES = _words(
    "navigation banner contentinfo complementary search dialog alertdialog menu menubar toolbar"
)
# A class or id that names furniture as its first word: "share-bar", "related_posts", "ad".
_FURNITURE_CLASS = re.compile(
    r"(?:share|sharing|social|comments?|related|recommended|cookies?|consent|advert\w*|ads?"
    r"|newsletter|promo|sidebar|breadcrumbs?|paywall|subscribe)(?:[-_][\w-]*)?",
    re.IGNORECASE,
)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")  # HTML's white space; no-break spaces are text
_SPACES = re.compile(r" {2,}")


@dataclass(frozen=True, slots=True)
class _Page:
    text: str
    title: str | None
    removed_blocks: int


@dataclass(slots=True)
class _Block:
    text: str
    article: int | None  # which outermost <article> it stands in
    main: bool
    lines: int = 1


@dataclass(slots=True)
class _Heading:
    text: str
    article: int | None
    main: bool
    dropped: bool


class _PageReader(HTMLParser):
    """Reads a page into paragraphs, noting for each the <article> or <main> it stands in."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[_Block] = []
        self.headings: list[_Heading] = []
        self.title_parts: list[str] = []
        self.removed = 0
        # Open elements and what opening each changed, so that closing one undoes just that;
        # the counter makes a stray end tag cost O(1) instead of a search of the stack.
        self._stack: list[tuple[str, str]] = []
        self._open: Counter[str] = Counter()
        self._parts: list[str] = []
        self._drop = 0
        self._silent = 0
        self._dropped_text = False
        self._article: int | None = None
        self._articles = 0
        self._main = 0
        self._pre = 0
        self._title = 0
        self._h1 = 0
        self._h1_parts: list[str] = []
        self._table = 0
        self._in_cell = False
        self._cells: list[str] = []
        self._rows: list[str] = []

    # The parser's callbacks.

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body" and self._open["head"]:
            self._close_until("head")  # a page that never closes its <head>
        if tag in _VOID:
            if tag == "br":
                self._parts.append(" " if self._table else "\n")
            elif tag == "hr":
                self._boundary()
            return
        effect = self._effect(tag, dict(attrs))
        if effect in ("drop", "block") or tag in _BLOCKS:
            self._boundary()
        self._push(tag, effect)

    def handle_endtag(self, tag: str) -> None:
        if tag == "br":
            self._parts.append(" " if self._table else "\n")  # browsers read </br> as <br>
        elif self._open[tag]:
            self._close_until(tag)

    def handle_data(self, data: str) -> None:
        if self._title:
            self.title_parts.append(data)
        if self._silent or self._drop:
            self._dropped_text = self._dropped_text or bool(data.strip())
            return
        text = data if self._pre else _HTML_SPACE.sub(" ", data)
        self._parts.append(text)
        if self._h1:
            self._h1_parts.append(text)

    def parse_marked_section(self, i: int, report: bool = True) -> int:
        # The standard parser asserts on an SGML section it does not know ("<![foo["): read
        # it as a bogus comment, as browsers do, rather than fail on a page.
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:
            end = self.rawdata.find(">", i)
            return len(self.rawdata) if end < 0 else end + 1

    # What an element does to the reading.

    def _effect(self, tag: str, attrs: dict[str, str | None]) -> str:
        if tag in _SILENT:
            return "silent"
        if tag == "title":
            return "title"
        if tag in _FURNITURE_TAGS or (tag == "header" and self._article is None and not self._main):
            return "drop"
        if tag not in _STRUCTURE and _is_furniture_element(attrs):
            return "drop"
        if tag == "article" and self._article is None:
            return "article"
        if tag in ("main", "pre", "h1", "table"):
            return tag
        if self._table == 1 and tag in ("tr", "td", "th", "caption"):
            return tag
        return ""

    def _push(self, tag: str, effect: str) -> None:
        self._stack.append((tag, effect))
        self._open[tag] += 1
        if effect == "silent":
            self._silent += 1
        elif effect == "drop":
            self._drop += 1
        elif effect == "title":
            self._title += 1
        elif effect == "article":
            self._article = self._articles
            self._articles += 1
        elif effect == "main":
            self._main += 1
        elif effect == "pre":
            self._pre += 1
        elif effect == "h1":
            self._h1 += 1
        elif effect == "table":
            self._table += 1
            if self._table == 1:
                self._rows, self._cells, self._in_cell = [], [], False
            else:
                self._parts.append(" ")  # a table in a cell reads as words in that cell
        elif effect == "tr":
            self._end_row()
        elif effect in ("td", "th"):
            self._end_cell()
            self._in_cell = True
        elif effect == "caption":
            self._end_row()

    def _close_until(self, tag: str) -> None:
        while self._stack:
            name, effect = self._stack.pop()
            self._open[name] -= 1
            self._undo(name, effect)
            if name == tag:
                return

    def _undo(self, tag: str, effect: str) -> None:
        if effect == "silent":
            self._silent -= 1
            self._dropped_text = False  # code and media are not furniture lines
        elif effect == "drop":
            self._boundary()  # while still dropping, so that its text is counted, not kept
            self._drop -= 1
        elif effect == "title":
            self._title -= 1
        elif effect == "article":
            self._boundary()
            self._article = None
        elif effect == "main":
            self._boundary()
            self._main -= 1
        elif effect == "pre":
            self._boundary()
            self._pre -= 1
        elif effect == "h1":
            self._h1 -= 1
            text = _SPACES.sub(" ", " ".join("".join(self._h1_parts).split())).strip()
            self._h1_parts = []
            if text:
                dropped = bool(self._drop or self._silent)
                self.headings.append(_Heading(text, self._article, self._main > 0, dropped))
            self._boundary()
        elif effect == "table":
            self._table -= 1
            if self._table == 0:
                self._end_row()
                if self._rows:
                    self._emit("\n".join(self._rows), lines=len(self._rows))
                self._rows = []
            else:
                self._parts.append(" ")
        elif effect in ("td", "th"):
            self._end_cell()
        elif effect in ("tr", "caption"):
            self._end_row()
        elif tag in _BLOCKS:
            self._boundary()

    # Paragraphs, cells and rows.

    def _take(self) -> str:
        lines = "".join(self._parts).split("\n")
        self._parts = []
        kept = (_SPACES.sub(" ", line).strip() for line in lines)
        return ("\n" if not self._table else " ").join(line for line in kept if line)

    def _boundary(self) -> None:
        if self._table:
            self._parts.append(" ")  # blocks inside a cell are words of that cell
            return
        if self._drop or self._silent:
            if self._dropped_text and not self._silent:
                self.removed += 1
            self._dropped_text = False
            self._parts = []
            return
        text = self._take()
        if text:
            self._emit(text, lines=text.count("\n") + 1)

    def _emit(self, text: str, *, lines: int) -> None:
        if self._drop or self._silent:
            self.removed += lines if not self._silent else 0
            return
        self.blocks.append(_Block(text, self._article, self._main > 0, lines))

    def _end_cell(self) -> None:
        text = self._take()
        if self._in_cell or text:
            self._cells.append(text)
        self._in_cell = False

    def _end_row(self) -> None:
        self._end_cell()
        if any(self._cells):
            self._rows.append(" | ".join(self._cells))
        self._cells = []

    # The result.

    def page(self) -> _Page:
        self.close()
        self._close_until("")  # whatever the page left open
        self._boundary()
        keep = self._region()
        kept = [block for block in self.blocks if keep(block.article, block.main)]
        removed = self.removed + sum(b.lines for b in self.blocks) - sum(b.lines for b in kept)
        title = next(
            (h.text for h in self.headings if not h.dropped and keep(h.article, h.main)), None
        )
        title = title or next((h.text for h in self.headings if not h.dropped), None)
        return _Page(
            text="\n\n".join(block.text for block in kept),
            title=title or _page_title("".join(self.title_parts)),
            removed_blocks=removed,
        )

    def _region(self) -> Callable[[int | None, bool], bool]:
        # Prefer the largest <article>, else <main>: the rest of such a page is teasers and
        # chrome. Unless it holds under a third of the text, when the markup is misleading.
        total = sum(len(block.text) for block in self.blocks)
        sizes: Counter[int] = Counter()
        in_main = 0
        for block in self.blocks:
            if block.article is not None:
                sizes[block.article] += len(block.text)
            in_main += len(block.text) if block.main else 0
        if sizes:
            best, size = sizes.most_common(1)[0]
            if size * 3 >= total:
                return lambda article, main: article == best
        if in_main and in_main * 3 >= total:
            return lambda article, main: main
        return lambda article, main: True


def _is_furniture_element(attrs: dict[str, str | None]) -> bool:
    if "hidden" in attrs or (attrs.get("aria-hidden") or "").lower() == "true":
        return True
    if _HIDDEN_STYLE.search(attrs.get("style") or ""):
        return True
    if (attrs.get("role") or "").lower() in _FURNITURE_ROLES:
        return True
    names = (attrs.get("class") or "").split() + (attrs.get("id") or "").split()
    return any(_FURNITURE_CLASS.fullmatch(name) for name in names)


def _page_title(title: str) -> str | None:
    # "Alibaba profit dips as AI spending rises | Example News": the site's name goes when it
    # is a short last part after a separator.
    title = " ".join(title.split())
    for separator in (" | ", " - ", " \u2013 ", " \u2014 ", " :: "):
        head, sep, tail = title.rpartition(separator)
        if sep and head and len(tail.split()) <= 4:
            return head.strip()
    return title or None


def read_html(text: str) -> _Page:
    """A page's article text (paragraphs separated by a blank line), title and dropped blocks."""
    reader = _PageReader()
    reader.feed(text)
    return reader.page()
