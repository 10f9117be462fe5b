"""The exception tree of summariser, drawn once.

    SummariserError                  base of everything this package raises on purpose
    ├── InputError                   the caller's input cannot be used (exit code 2)
    │   ├── EmptySourceError         a source text that is empty or only whitespace
    │   └── ClaimsFormatError        claims that are not a list of strings / objects
    └── ConfigurationError           settings that cannot work together (exit code 2)

Lower-level errors (JSON decoding, UnicodeDecodeError, OSError) are translated into these in
exactly one place, the CLI edge, with ``raise ... from err``.
"""

from __future__ import annotations


class SummariserError(Exception):
    """Base class of every error summariser raises on purpose."""


class InputError(SummariserError):
    """The input (a file, a claim, a request line) cannot be used as given."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(f"{where}{message}")
        self.path = path
        self.line = line


class EmptySourceError(InputError):
    """The source text is empty or holds only whitespace."""


class ClaimsFormatError(InputError):
    """Claims are not a list of strings or of objects with a text (or value) field."""


class ConfigurationError(SummariserError):
    """Settings that cannot work together."""
