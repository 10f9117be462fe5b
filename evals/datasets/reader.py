"""Reading dataset files: checked, hashed, and every failure named as a :class:`DatasetError`.

Stage: eval input (file I/O only). In: a data folder (``root``) and paths under it. Out: text,
JSON and JSON-lines rows, each file read once into a running SHA-256 (relative path and bytes)
whose short digest becomes the dataset's ``version``. A missing, unreadable, non-UTF-8, empty
or malformed file raises :class:`DatasetError` naming it (and the line, for JSON lines); the
per-family loaders (:mod:`~evals.datasets.suites`, :mod:`~evals.datasets.news`,
:mod:`~evals.datasets.sentiment`) use :func:`checked_field` for the same on a row's fields.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from summariser.errors import SummariserError


class DatasetError(SummariserError):
    """A dataset file is missing, unreadable or not in the expected form."""

    def __init__(self, message: str, *, path: Path | str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {message}")
        self.path = str(path)
        self.line = line


class Reader:
    """Reads files under ``root``, checking them, and hashes what it read."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._hash = hashlib.sha256()

    @property
    def digest(self) -> str:
        return self._hash.hexdigest()[:12]

    def path(self, relative: str) -> Path:
        return self.root / relative

    def folder(self, relative: str) -> Path:
        path = self.root / relative
        if not path.is_dir():
            raise DatasetError("folder not found", path=path)
        return path

    def text(self, path: Path) -> str:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise DatasetError("file not found", path=path) from None
        except OSError as err:
            raise DatasetError(f"cannot read: {err}", path=path) from err
        self._hash.update(str(path.relative_to(self.root)).encode() + b"\0" + data + b"\0")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise DatasetError(f"not UTF-8 ({err})", path=path) from None
        if not text.strip():
            raise DatasetError("empty file", path=path)
        return text

    def json(self, path: Path) -> Any:
        try:
            return json.loads(self.text(path))
        except json.JSONDecodeError as err:
            raise DatasetError(f"not valid JSON ({err})", path=path, line=err.lineno) from None

    def jsonl(self, path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
        for number, line in enumerate(self.text(path).splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise DatasetError(f"not valid JSON ({err})", path=path, line=number) from None
            if not isinstance(row, dict):
                raise DatasetError("a line must be a JSON object", path=path, line=number)
            yield number, row


def checked_field(row: dict[str, Any], name: str, kind: type, path: Path, line: int | None) -> Any:
    """``row[name]``, which must be a ``kind`` (a bool is not an int), else a DatasetError."""
    value = row.get(name)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        got = "missing" if name not in row else f"a {type(value).__name__}"
        raise DatasetError(
            f"field {name!r} must be a {kind.__name__}, got {got}", path=path, line=line
        )
    return value


def relative_path(reader: Reader, path: Path) -> str:
    """``path`` relative to the data folder, as an item's ``input_ref`` names it."""
    return str(path.relative_to(reader.root))
