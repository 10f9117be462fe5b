"""Batch inputs: a JSONL file or a folder of articles, read as a stream of items.

Stage: edge (file I/O). In: a path, either a JSONL file whose lines are ``{"id", "text"}`` or
``{"id", "path"}`` (the path relative to the JSONL's folder; any other field is carried
through as ``metadata``), or a folder of ``.txt``/``.md``/``.html`` files (id = the path
relative to the folder, in sorted order, walked lazily). Out: an iterator of :class:`Article`
(text read, ready to summarise) and :class:`BadItem` (one input that cannot be used, with a
reason code and its line number): a bad line never stops the others. And the other way,
what each item becomes in the output: :func:`ok_record` and :func:`error_record`.

Nothing here holds the whole input in memory: :func:`iter_items` reads one line or one file
at a time. :func:`scan` is the cheap first pass (ids and line numbers only) that finds
duplicate ids before a job starts and counts the items for the progress bar.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal

from summariser.errors import (
    BackendError,
    InputError,
    InvalidOutputError,
    OutputTruncatedError,
    RefusalError,
)

__all__ = [
    "ARTICLE_SUFFIXES",
    "Article",
    "BadItem",
    "Item",
    "Reason",
    "Scan",
    "backend_reason",
    "error_record",
    "item_key",
    "iter_items",
    "ok_record",
    "read_article_file",
    "scan",
]

Reason = Literal[
    "invalid_json_line",
    "missing_id",
    "missing_text",
    "file_not_found",
    "not_utf8",
    "binary",
    "empty",
    "no_article_text",
    "backend_error",
    "invalid_output",
    "refusal",
    "truncated",
    "internal_error",
]
SourceFormat = Literal["auto", "text", "markdown", "html"]

#: The files a folder input takes, and the format each is read as.
ARTICLE_SUFFIXES: dict[str, SourceFormat] = {".txt": "text", ".md": "markdown", ".html": "html"}
_BINARY_SNIFF = 8192  # as ``summarise``: a NUL byte in the first 8 KiB means binary data
_BOM = b"\xef\xbb\xbf"

ArticleId = str | int


@dataclass(frozen=True, slots=True)
class Article:
    """One article to summarise. ``line`` is its JSONL line (None for a folder input)."""

    id: ArticleId
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    line: int | None = None
    source_format: SourceFormat = "auto"

    @property
    def key(self) -> str:
        return item_key(self.id, self.line)


@dataclass(frozen=True, slots=True)
class BadItem:
    """An input item that cannot be summarised; it becomes an error record in the output."""

    id: ArticleId | None
    reason: Reason
    message: str
    metadata: dict[str, Any] = field(default_factory=dict)
    line: int | None = None

    @property
    def key(self) -> str:
        return item_key(self.id, self.line)


Item = Article | BadItem


def item_key(item_id: ArticleId | None, line: int | None) -> str:
    """The key a job stores an item under: its id as text (so ``7`` and ``"7"`` are one id),
    or, for a line without a usable id, its line number (a NUL prefix keeps the two apart)."""
    if item_id is None:
        return f"\x00line {line}"
    return str(item_id)


@dataclass(frozen=True, slots=True)
class Scan:
    """The first pass over an input: how many items it holds and which lines repeat an id
    (``(id, first line, repeated line)``, in input order)."""

    items: int
    duplicates: list[tuple[str, int, int]]


def scan(source: Path) -> Scan:
    """Count the items of ``source`` and find repeated ids, reading ids only (streaming)."""
    if source.is_dir():
        return Scan(items=sum(1 for _ in _walk(source, source)), duplicates=[])
    seen: dict[str, int] = {}
    duplicates: list[tuple[str, int, int]] = []
    items = 0
    with _open_jsonl(source) as stream:
        for number, raw in enumerate(stream, start=1):
            if not raw.strip():
                continue
            items += 1
            item_id = _peek_id(raw)
            if item_id is None:
                continue
            key = str(item_id)
            first = seen.setdefault(key, number)
            if first != number:
                duplicates.append((key, first, number))
    return Scan(items=items, duplicates=duplicates)


def iter_items(source: Path, *, dedupe: bool = False) -> Iterator[Item]:
    """The items of ``source`` (a JSONL file or a folder), one at a time.

    With ``dedupe``, a JSONL line whose id came before is skipped (the first one is kept).
    A missing ``source`` is an :class:`InputError`; everything else is a :class:`BadItem`.
    """
    if source.is_dir():
        for path in _walk(source, source):
            item_id = path.relative_to(source).as_posix()
            yield _from_file(path, item_id, {}, None, ARTICLE_SUFFIXES[path.suffix.lower()])
        return
    seen: set[str] = set()
    base = source.parent
    with _open_jsonl(source) as stream:
        for number, raw in enumerate(stream, start=1):
            if not raw.strip():
                continue
            item = _parse_line(raw, number, base)
            if dedupe and item.id is not None:
                key = str(item.id)
                if key in seen:
                    continue
                seen.add(key)
            yield item


def read_article_file(path: Path) -> str | tuple[Reason, str]:
    """The text of the article in ``path``, or ``(reason, message)`` when it cannot be read:
    the same rules as ``summariser summarise`` (binary data, UTF-8 only, a BOM dropped)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return "file_not_found", f"{path}: no such file"
    except IsADirectoryError:
        return "file_not_found", f"{path}: is a directory, not a file"
    except OSError as err:
        return "file_not_found", f"{path}: cannot read: {err.strerror or err}"
    if b"\x00" in data[:_BINARY_SNIFF]:
        return "binary", f"{path}: a binary file, not an article"
    try:
        text = data.removeprefix(_BOM).decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        return "not_utf8", f"{path}:{line}: not UTF-8 text (byte 0x{data[err.start]:02x})"
    if not text.strip():
        return "empty", f"{path}: the article is empty"
    return text


def ok_record(article: Article, summary: dict[str, Any], *, cached: bool) -> dict[str, Any]:
    """The output record of a summarised article."""
    return {
        "id": article.id,
        "status": "ok",
        "summary": summary,
        "metadata": article.metadata,
        "cached": cached,
    }


def error_record(item: Item, reason: Reason, message: str) -> dict[str, Any]:
    """The output record of an item that gave no summary (``line`` for JSONL items)."""
    record: dict[str, Any] = {"id": item.id, "status": "error", "reason": reason}
    record["message"] = " ".join(message.splitlines())
    if item.line is not None:
        record["line"] = item.line
    record["metadata"] = item.metadata
    return record


def backend_reason(err: BackendError) -> Reason:
    """The reason code of an error record for a backend failure of one article."""
    if isinstance(err, InvalidOutputError):
        return "invalid_output"
    if isinstance(err, RefusalError):
        return "refusal"
    if isinstance(err, OutputTruncatedError):
        return "truncated"
    return "backend_error"


# --- internals ---------------------------------------------------------------------------------


def _open_jsonl(source: Path) -> BinaryIO:
    try:
        return source.open("rb")
    except FileNotFoundError as err:
        raise InputError("no such file or folder", path=str(source)) from err
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror or err}", path=str(source)) from err


def _walk(root: Path, folder: Path) -> Iterator[Path]:
    """The article files under ``folder``, depth first, each folder's entries sorted by name:
    the order of their relative paths, one folder listed at a time."""
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError as err:
        raise InputError(f"cannot list: {err.strerror or err}", path=str(folder)) from err
    for entry in entries:
        path = Path(entry.path)
        if entry.is_dir():
            yield from _walk(root, path)
        elif entry.is_file() and path.suffix.lower() in ARTICLE_SUFFIXES:
            yield path


def _peek_id(raw: bytes) -> ArticleId | None:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    return _valid_id(data.get("id"))


def _valid_id(value: object) -> ArticleId | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _parse_line(raw: bytes, number: int, base: Path) -> Item:
    try:
        data = json.loads(raw.removeprefix(_BOM).decode("utf-8"))
    except UnicodeDecodeError as err:
        return BadItem(None, "not_utf8", f"line {number}: not UTF-8 ({err.reason})", line=number)
    except (ValueError, RecursionError) as err:
        return BadItem(None, "invalid_json_line", f"line {number}: not JSON: {err}", line=number)
    if not isinstance(data, dict):
        message = f"line {number}: expected a JSON object, got {type(data).__name__}"
        return BadItem(None, "invalid_json_line", message, line=number)
    item_id = _valid_id(data.get("id"))
    metadata = {k: v for k, v in data.items() if k not in ("id", "text", "path")}
    if item_id is None:
        message = f'line {number}: no "id" (a non-empty string or an integer)'
        return BadItem(None, "missing_id", message, metadata, number)
    text, path = data.get("text"), data.get("path")
    if isinstance(text, str):
        if not text.strip():
            return BadItem(item_id, "empty", f"line {number}: the text is empty", metadata, number)
        return Article(item_id, text, metadata, number)
    if isinstance(path, str) and path:
        file = base / path
        suffix_format = ARTICLE_SUFFIXES.get(file.suffix.lower(), "auto")
        return _from_file(file, item_id, metadata, number, suffix_format)
    message = f'line {number}: needs "text" (a string) or "path" (a file name)'
    return BadItem(item_id, "missing_text", message, metadata, number)


def _from_file(
    path: Path,
    item_id: ArticleId,
    metadata: dict[str, Any],
    line: int | None,
    source_format: SourceFormat,
) -> Item:
    read = read_article_file(path)
    if isinstance(read, tuple):
        reason, message = read
        return BadItem(item_id, reason, message, metadata, line)
    return Article(item_id, read, metadata, line, source_format)
