"""The exception tree of summariser, drawn once.

    SummariserError                  base of everything this package raises on purpose
    ├── InputError                   the caller's input cannot be used (exit code 2)
    │   ├── EmptySourceError         a source text that is empty or only whitespace
    │   ├── ClaimsFormatError        claims that are not a list of strings / objects
    │   ├── NoArticleTextError       a document with no article text (binary, empty HTML)
    │   └── FetchError               a link that cannot be fetched as article text (in
    │                                summariser.service.fetch; carries ``reason``)
    ├── ConfigurationError           settings that cannot work together (exit code 2)
    ├── PromptError                  a prompt template that is missing, invalid or lacks a
    │                                variable (a defect of the installation, exit code 1)
    └── BackendError                 the backend failed after its retries (exit code 4);
        │                            carries ``provider``, ``attempts`` and ``original``
        ├── AuthenticationError      bad or missing API key: fail fast, never retried
        ├── QuotaExceededError       ``insufficient_quota``: fail fast, never retried
        ├── RefusalError             the model refused to answer
        ├── OutputTruncatedError     ``finish_reason == "length"`` even on the smallest chunk
        └── InvalidOutputError       no valid JSON for the schema after the re-asks;
                                     carries ``last_output``

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


class NoArticleTextError(InputError):
    """The document holds no article text: binary data, or HTML without a body."""


class PromptError(SummariserError):
    """A prompt template is missing, malformed, or rendered without one of its variables."""


class BackendError(SummariserError):
    """The backend failed in a way its retries could not fix."""

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        attempts: int | None = None,
        original: BaseException | None = None,
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.attempts = attempts
        self.original = original


class AuthenticationError(BackendError):
    """The API key is missing, wrong or not allowed to use the model."""


class QuotaExceededError(BackendError):
    """The account has no quota left (``insufficient_quota``): retrying cannot help."""


class RefusalError(BackendError):
    """The model refused to answer."""


class OutputTruncatedError(BackendError):
    """The answer was cut at the token limit even for the smallest chunk."""


class InvalidOutputError(BackendError):
    """The model gave no valid answer for the schema after the allowed re-asks."""

    def __init__(
        self,
        message: str,
        *,
        last_output: str | None = None,
        provider: str | None = None,
        attempts: int | None = None,
        original: BaseException | None = None,
    ) -> None:
        super().__init__(message, provider=provider, attempts=attempts, original=original)
        self.last_output = last_output
