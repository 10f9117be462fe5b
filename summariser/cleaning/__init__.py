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

Modules, in the order :func:`clean` runs them: ``normalise`` (line breaks, invisible
characters, binary data refused), ``markdown`` and ``html`` (the readers for those formats;
plain text needs none), ``furniture`` (lines that are page furniture), and ``article`` (the
entry point: format detection, the steps in order, paragraphs and title).
"""

from summariser.cleaning.article import CleanedArticle, DocumentFormat, clean

__all__ = ["CleanedArticle", "DocumentFormat", "clean"]
