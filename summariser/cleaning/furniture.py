"""Page furniture: the lines of a page that are buttons, widgets, banners and link lists.

Stage: cleaning, the last filter (pure core, standard library only). In: the lines of the
article as plain text (from the document itself, the Markdown reader or the HTML reader).
Out: those lines stripped, without share and like buttons, comment widgets, cookie banners,
disclaimers, "Most Read" and "Related Articles" link lists, "Advertisement" or a wire
service's sign-off, and how many lines were dropped. A line that carries on the sentence of
the line above it is never furniture.

Also the vocabulary helper and the sentence-end marks the HTML reader and the title finder
share with this module.
"""

from __future__ import annotations

import re


def vocabulary(text: str, sep: str | None = None) -> frozenset[str]:
    """A vocabulary written as one string, to keep the long lists below readable."""
    return frozenset(word.strip() for word in text.split(sep))


# Whole lines that are buttons, widgets or labels, compared after _key().
_FURNITURE_LINES = vocabulary(
    "like likes comment comments favorite favourite favorites share tweet email e-mail "
    "print report save saved bookmark follow following reply subscribe copy link facebook "
    "twitter linkedin whatsapp reddit telegram weibo wechat pinterest x empty advertisement "
    "advert ad ads sponsored listen more menu search login register home top"
) | vocabulary(
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
_SECTION_HEADINGS = vocabulary(
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
FIRST_LETTER = re.compile(r"[^\W\d_]")
_KEY_EDGES = re.compile(r"^[\W_]+|[\W_]+$")
_TOKEN_SPLIT = re.compile(r"[\s•·|/]+")
_BUTTON_COUNT = re.compile(r"\(?\d{1,3}(?:\.\d)?[km]?\)?")  # "Like 12", "Comments (3)", "1.2k"
# Full stop, !, ?, and their full-width forms; closing quotes and brackets after them.
SENTENCE_END = tuple('.!?\u3002\uff01\uff1f"\u201d\u2019)')
LINK_TITLE_MAX = 150
_SHORT = 60


def _key(line: str) -> str:
    """A line as furniture is compared: bullets, icons and edge punctuation off, case folded."""
    return " ".join(_KEY_EDGES.sub("", line).casefold().split())


def _continues(line: str, previous: str) -> bool:
    """Whether the line goes on with the sentence of the kept line just above it, as hard-wrapped
    text does ("... 1.2 mln dlrs per" / "share."): such a line is never a button or a label."""
    first = FIRST_LETTER.search(line)
    return (
        bool(previous)
        and not previous.endswith(SENTENCE_END)
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
    return len(line) <= LINK_TITLE_MAX and not line.endswith(SENTENCE_END)


def drop_furniture(lines: list[str]) -> tuple[list[str], int]:
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
