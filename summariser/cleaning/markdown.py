"""Markdown to plain text: markup off, words kept, one output line per input line.

Stage: cleaning, the Markdown reader (pure core, standard library only). In: the normalised
text of a document read as Markdown. Out: plain text in which headings, emphasis, links,
code spans, quotes, bullets and table cells are reduced to their words (images, fences,
reference definitions and rules dropped), and the title (the first heading), if any. Page
furniture is left for :mod:`summariser.cleaning.furniture`.
"""

from __future__ import annotations

import re

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


def markdown_to_text(text: str) -> tuple[str, str | None]:
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
