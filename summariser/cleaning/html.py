"""HTML to article text, with the standard library's ``html.parser``.

Stage: cleaning, the HTML reader (pure core, standard library only). In: the normalised text of
a document read as HTML. Out: a page with the article's text (one paragraph or table row per
line, paragraphs separated by a blank line), its title (an ``<h1>`` of the article, else the
``<title>`` without the site's name) and how many blocks were dropped. What goes: scripts,
media and form controls (silently), and navigation, headers and footers outside the article,
asides and elements whose class, id, role or style names furniture (counted). When a page has
an ``<article>`` or a ``<main>`` holding at least a third of its text, only that is kept.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser

from summariser.cleaning.furniture import vocabulary

# Dropped with their content, which is never prose (code, media, form controls): not counted.
_SILENT = vocabulary(
    "script style noscript template svg math head object embed canvas audio video map select "
    "textarea iframe button"
)
# Dropped with their content, which is page furniture: counted in removed_lines. A <header>
# only outside <article> and <main>: inside them it holds the headline and the byline.
_FURNITURE_TAGS = frozenset(["nav", "footer", "aside", "form", "dialog", "menu"])
_VOID = vocabulary("area base br col embed hr img input keygen link meta param source track wbr")
_BLOCKS = vocabulary(
    "address article aside blockquote body caption center dd details dialog dir div dl dt "
    "fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup html legend li main "
    "nav ol p pre section summary ul"
)
_STRUCTURE = frozenset({"html", "body", "article", "main"})  # never dropped for a class name
_FURNITURE_ROLES = vocabulary(
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
