"""``summariser summarise``: the main job, one article in, one checked summary out.

Stage: edge (I/O). In: a file path (or ``-`` for stdin) and the settings the CLI built. Out:
the summary as JSON (or Markdown) on stdout or ``-o``, an optional HTML report, one-line
messages on stderr, and an exit code: 0 ok, 3 when unsupported figures remain, 2 bad input,
4 backend failure after retries (the CLI's ``_guarded`` maps the errors).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Literal

from summariser.errors import InputError, NoArticleTextError
from summariser.pipeline import SourceFormatOption, summarise
from summariser.render.html import render_html
from summariser.render.markdown import render_markdown
from summariser.schema import Summary
from summariser.settings import Settings

OutputFormat = Literal["json", "markdown"]
_BINARY_SNIFF = 8192


def read_article(name: str) -> str:
    """The article in file ``name`` (``-`` for stdin) as text; binary data is refused."""
    try:
        data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    except IsADirectoryError as err:
        raise InputError("is a directory, not a file", path=name) from err
    except FileNotFoundError as err:
        raise InputError("no such file", path=name) from err
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror or err}", path=name) from err
    shown = "<stdin>" if name == "-" else name
    if b"\x00" in data[:_BINARY_SNIFF]:
        raise NoArticleTextError("a binary file, not an article", path=shown)
    try:
        text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise InputError(
            f"not UTF-8 text (byte 0x{data[err.start]:02x})", path=shown, line=line
        ) from err
    if not text.strip():
        raise InputError("the article is empty", path=shown)
    return text


def summarise_file(
    name: str,
    settings: Settings,
    *,
    output_format: OutputFormat = "json",
    output: str | None = None,
    html: str | None = None,
    input_format: SourceFormatOption = "auto",
) -> tuple[Summary, int]:
    """Summarise the article in ``name``, write the results, and return the exit code."""
    text = read_article(name)
    try:
        summary = summarise(text, settings=settings, source_format=input_format)
    except InputError as err:
        if err.path is None:
            raise type(err)(str(err), path="<stdin>" if name == "-" else name) from err
        raise
    document = (
        render_markdown(summary)
        if output_format == "markdown"
        else json.dumps(summary.model_dump(mode="json"), ensure_ascii=False, indent=2)
    )
    _write_text(output, document + "\n")
    if html is not None:
        from summariser.cleaning import clean

        article = clean(text, format=input_format).text  # the text every span refers to
        _write_text(html, render_html(summary, article))
    return summary, 3 if summary.validation.figures_unsupported else 0


def _write_text(name: str | None, content: str) -> None:
    if name is None or name == "-":
        sys.stdout.write(content)
        sys.stdout.flush()
        return
    try:
        Path(name).write_text(content, encoding="utf-8")
    except OSError as err:
        raise InputError(f"cannot write: {err.strerror or err}", path=name) from err
