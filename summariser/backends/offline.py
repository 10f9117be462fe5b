"""The ``offline`` backend: answers the extract and reduce prompts without a model or network.

Stage: backend (the I/O seam), though it does no I/O. In: a :class:`CompletionRequest`
(``purpose`` picks the answer; ``data`` holds the article chunk or the chunks' notes). Out: a
:class:`Completion` whose content is JSON for ``Extraction`` or ``Reduction``, built by
:mod:`summariser.offline` from the source's own sentences and figures. Deterministic: the same
request gives the same content. It is what the product falls back to when no API key or base
URL is configured.
"""

from __future__ import annotations

import asyncio
import time

from summariser.backends.base import Completion, CompletionRequest
from summariser.errors import BackendError
from summariser.offline import extract, reduce_notes
from summariser.schema import Usage

# Below this many characters the work takes a few milliseconds: a worker thread would cost more
# than it spares the event loop.
_INLINE_CHARS = 20_000


class OfflineBackend:
    """A deterministic backend that summarises extractively, from the article's own words."""

    name = "offline"

    def __init__(self, model: str = "offline-v1") -> None:
        self.model = model

    async def complete(self, request: CompletionRequest) -> Completion:
        started = time.perf_counter()
        if request.purpose not in ("extract", "reduce"):
            raise BackendError(f"unknown purpose {request.purpose!r}", provider=self.name)
        if len(request.data) < _INLINE_CHARS:
            content = _answer(request)
        else:  # a long transcript: keep the event loop free for other jobs meanwhile
            content = await asyncio.to_thread(_answer, request)
        prompt = "".join(message.content for message in request.messages) or request.data
        return Completion(
            content=content,
            finish_reason="stop",
            usage=Usage(prompt_tokens=len(prompt) // 4, completion_tokens=len(content) // 4),
            model=self.model,
            latency_s=time.perf_counter() - started,
        )


def _answer(request: CompletionRequest) -> str:
    if request.purpose == "extract":
        return extract(request.data).model_dump_json()
    return reduce_notes(request.data).model_dump_json()
