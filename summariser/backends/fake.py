"""The ``fake`` backend: scripted answers for tests, with a record of every request.

Stage: backends (no I/O). In: :class:`CompletionRequest` values. Out: whatever was queued with
:meth:`FakeBackend.enqueue`, one item per call, in order:

- a ``str``: the answer content (``finish_reason="stop"``, usage counted from the text);
- a :class:`Completion`: returned as it is (to script ``"length"``, refusals, usage);
- an exception instance: raised when its turn comes (to script a ``BackendError``);
- a callable ``(CompletionRequest) -> str | Completion``: called with the request, for
  answers that depend on what was asked.

An empty queue raises :class:`FakeBackendExhausted`, an ``AssertionError``: a test that asks
more than it scripted has found a bug, not a backend failure the pipeline should handle.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TypeAlias

from summariser.backends.base import Completion, CompletionRequest
from summariser.schema import Usage

Responder: TypeAlias = Callable[[CompletionRequest], str | Completion]
Scripted: TypeAlias = str | Completion | BaseException | Responder

# Roughly four characters a token, as for English text with OpenAI's encodings: enough for
# usage to grow with the text, deterministic, and no tokenizer to load.
_CHARS_PER_TOKEN = 4


class FakeBackendExhausted(AssertionError):
    """The fake backend was asked more often than answers were queued."""


class FakeBackend:
    """A backend that answers from a queue and records every request in :attr:`history`."""

    name = "fake"

    def __init__(self, model: str = "fake-1") -> None:
        self.model = model
        self.history: list[CompletionRequest] = []
        self._queue: deque[Scripted] = deque()

    def enqueue(self, *items: Scripted) -> None:
        """Queue answers (strings, completions, exceptions or callables), one per call."""
        self._queue.extend(items)

    @property
    def pending(self) -> int:
        """How many queued items are still unanswered (a test can assert it reached 0)."""
        return len(self._queue)

    async def complete(self, request: CompletionRequest) -> Completion:
        """The next queued answer to ``request``; the request is recorded first, so it is in
        :attr:`history` even when the answer is an exception."""
        self.history.append(request)
        if not self._queue:
            raise FakeBackendExhausted(
                f"FakeBackend got request {len(self.history)} ({request.purpose}, "
                f"schema {request.schema_name!r}) but only {len(self.history) - 1} "
                "answers were enqueued"
            )
        item = self._queue.popleft()
        if isinstance(item, BaseException):
            raise item
        if callable(item):
            item = item(request)
        if isinstance(item, Completion):
            return item
        return Completion(
            content=item,
            finish_reason="stop",
            usage=Usage(
                prompt_tokens=_tokens(sum(len(m.content) for m in request.messages)),
                completion_tokens=_tokens(len(item)),
            ),
            model=self.model,
        )


def _tokens(chars: int) -> int:
    """A token count for ``chars`` characters: at least one for any text, like a tokenizer."""
    return -(-chars // _CHARS_PER_TOKEN)
