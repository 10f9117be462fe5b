"""The backend seam: one small Protocol between the pipeline and whatever answers prompts.

A backend takes a :class:`CompletionRequest` (messages, the JSON Schema the answer must follow,
and the article data the messages carry) and returns a :class:`Completion` (the raw answer
text, why it stopped, token usage). It does not parse, validate or re-ask: the pipeline does.
Transport retries (connection errors, timeouts, 429 with Retry-After, 5xx) belong to the
backend; failures that retrying cannot fix raise :class:`~summariser.errors.BackendError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from summariser.schema import Usage

Role = Literal["system", "user", "assistant"]
Purpose = Literal["extract", "reduce"]


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class CompletionRequest:
    """One call to a model. ``messages`` is a tuple: nobody can append to the caller's list."""

    messages: tuple[Message, ...]
    schema_name: str  # "extraction" or "reduction"
    json_schema: dict[str, Any]  # strict JSON Schema of the expected answer
    purpose: Purpose
    data: str  # the article text (or chunk notes, for reduce) the messages carry
    max_tokens: int = 2048
    temperature: float = 0.0
    metadata: dict[str, str] = field(default_factory=dict)  # chunk index, attempt, ...


@dataclass(frozen=True, slots=True)
class Completion:
    content: str | None  # the answer text; None when the model refused or sent nothing
    finish_reason: str  # "stop", "length", "content_filter", ...
    usage: Usage
    model: str
    latency_s: float = 0.0
    refusal: str | None = None  # the model's refusal message, when it refused


@runtime_checkable
class Backend(Protocol):
    """Anything that answers a completion request."""

    name: str
    model: str

    async def complete(self, request: CompletionRequest) -> Completion: ...
