"""The ``openai`` backend: OpenAI, or any server that speaks its chat completions API (vLLM,
llama.cpp, Ollama, LiteLLM, Azure through ``base_url``), through the official async SDK.

Stage: backends (the I/O seam). In: a :class:`CompletionRequest`. Out: a :class:`Completion`
holding the raw answer text; parsing, validation and re-asks are the pipeline's.

Retries. The SDK is the one retry layer for transport: connection errors, timeouts, 408,
409, 429 and 5xx are retried up to ``settings.max_retries`` times with exponential backoff
and jitter, honouring ``retry-after-ms`` / ``Retry-After`` (up to two minutes). Nothing here
retries on top of it. One 429 must not be retried: ``insufficient_quota`` (an account with no
credit), which only wastes the backoff. The SDK would retry every 429, so an httpx response
hook (:func:`no_retry_on_insufficient_quota`) marks that answer with ``x-should-retry:
false``, the header by which a server tells the SDK not to retry, and the SDK raises at once.

Errors. SDK errors are translated in one place, :func:`_translate`::

    openai.AuthenticationError (401), PermissionDeniedError (403)  -> AuthenticationError
    openai.RateLimitError with code insufficient_quota              -> QuotaExceededError
    any other openai error, after the SDK's retries                 -> BackendError

each with ``provider="openai"``, ``attempts`` (HTTP calls made, read from the SDK's
``x-stainless-retry-count`` request header) and ``original``.

Structured output. Requests ask for ``response_format`` ``json_schema`` with ``strict``. A
server that rejects it (an older model, a local server without grammar support) gets the
request again with ``json_object`` and the schema written into the last system message; the
backend remembers that and asks in the second form from then on.

Refusals are returned, not raised: a :class:`Completion` whose ``refusal`` is set (the
model's ``message.refusal``, or a note when ``finish_reason`` is ``content_filter``), so that
the pipeline records the attempt and its usage before raising ``RefusalError``. Likewise
``finish_reason == "length"`` is returned as it is, for the pipeline to re-chunk or re-ask.

Observers. ``observer=`` (or :meth:`OpenAIBackend.add_observer`) is called with the status and
headers of every HTTP response, retries included, from a response hook on the backend's HTTP
client: a client-side rate limiter reads ``x-ratelimit-*`` and ``Retry-After`` there, including
on the 429s the SDK retries by itself and the caller never sees.

Output length is sent as ``max_tokens``, which OpenAI's GPT-4-class models and every
compatible server accept. OpenAI's reasoning models (o-series, gpt-5) reject it, and a fixed
``temperature``, and want ``max_completion_tokens``: they are not supported here yet.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Self

import httpx2
import openai
from openai import AsyncOpenAI, DefaultAsyncHttpxClient
from openai.types.chat import (
    ChatCompletion,
    ChatCompletionAssistantMessageParam,
    ChatCompletionMessageParam,
    ChatCompletionSystemMessageParam,
    ChatCompletionUserMessageParam,
)
from openai.types.chat.completion_create_params import ResponseFormat
from openai.types.completion_usage import CompletionUsage

from summariser.backends.base import Completion, CompletionRequest, Message
from summariser.errors import (
    AuthenticationError,
    BackendError,
    ConfigurationError,
    QuotaExceededError,
)
from summariser.schema import Usage
from summariser.settings import Settings

log = logging.getLogger(__name__)

PROVIDER = "openai"

# Local servers ignore the Authorization header, but the SDK refuses to start without a key.
_PLACEHOLDER_KEY = "sk-no-key-required"

# The SDK numbers each attempt of a request in this header (0 for the first call).
_RETRY_COUNT_HEADER = "x-stainless-retry-count"

_CONTENT_FILTER_NOTE = "the provider's content filter stopped the answer (content_filter)"

# Called with the status code and headers of every HTTP response (retries included).
ResponseObserver = Callable[[int, Mapping[str, str]], None]


class OpenAIBackend:
    """A backend for OpenAI or any OpenAI-compatible server.

    By default it builds its own :class:`AsyncOpenAI` from ``settings`` (key, base URL,
    timeout, retries). ``http_client`` replaces the HTTP client under that SDK client (a test's
    ``httpx2.MockTransport``, a proxy); ``client`` replaces the SDK client itself (Azure, say),
    in which case build its HTTP client with :func:`no_retry_on_insufficient_quota` too, or an
    ``insufficient_quota`` answer is retried before it is reported, and add
    :meth:`response_hook` to its response hooks for observers to be called.

    ``observer`` is called with ``(status_code, headers)`` of every response, retries included.
    """

    name = "openai"

    def __init__(
        self,
        settings: Settings,
        *,
        client: AsyncOpenAI | None = None,
        http_client: httpx2.AsyncClient | None = None,
        observer: ResponseObserver | None = None,
    ) -> None:
        if client is not None and http_client is not None:
            raise ConfigurationError("pass an SDK client or an HTTP client, not both")
        self.model = settings.model
        self._owns_client = client is None
        self._observers: list[ResponseObserver] = [] if observer is None else [observer]
        if client is None:
            http_client = http_client or DefaultAsyncHttpxClient()
            _add_response_hook(http_client, self.response_hook)
        self.client = client if client is not None else _make_client(settings, http_client)
        # json_schema until a server rejects it, then json_object for this backend's lifetime.
        self._json_schema_supported = True

    def add_observer(self, observer: ResponseObserver) -> None:
        """Call ``observer`` with the status and headers of every response from now on."""
        self._observers.append(observer)

    async def response_hook(self, response: httpx2.Response) -> None:
        """The httpx2 response hook that calls the observers (installed on the HTTP client this
        backend builds or is given; add it yourself to a ``client=``'s HTTP client)."""
        for observer in self._observers:
            try:
                observer(response.status_code, response.headers)
            except Exception:
                # An observer is bookkeeping (a rate limiter): it must never fail a request.
                log.exception("response observer %r failed", observer)

    async def aclose(self) -> None:
        """Close the SDK client if this backend built it (with the HTTP client under it)."""
        if self._owns_client:
            await self.client.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def complete(self, request: CompletionRequest) -> Completion:
        """One chat completion for ``request``; ``latency_s`` includes the SDK's retries."""
        started = time.perf_counter()
        try:
            response = await self._create(request)
        except openai.OpenAIError as err:
            raise _translate(err) from err
        return _completion(response, time.perf_counter() - started, default_model=self.model)

    async def _create(self, request: CompletionRequest) -> ChatCompletion:
        if self._json_schema_supported:
            schema_format: ResponseFormat = {
                "type": "json_schema",
                "json_schema": {
                    "name": request.schema_name,
                    "schema": request.json_schema,
                    "strict": True,
                },
            }
            try:
                return await self._send(request, request.messages, schema_format)
            except (openai.BadRequestError, openai.UnprocessableEntityError) as err:
                if not _rejects_json_schema(err):
                    raise
                self._json_schema_supported = False
                log.warning(
                    "%s rejected response_format json_schema (%s); using json_object with the "
                    "schema in the system message from now on",
                    self.client.base_url,
                    err.message,
                )
        return await self._send(request, _with_schema_in_system(request), {"type": "json_object"})

    async def _send(
        self,
        request: CompletionRequest,
        messages: tuple[Message, ...],
        response_format: ResponseFormat,
    ) -> ChatCompletion:
        return await self.client.chat.completions.create(
            model=self.model,
            messages=[_message_param(message) for message in messages],
            temperature=request.temperature,
            max_tokens=request.max_tokens,
            response_format=response_format,
        )


def no_retry_on_insufficient_quota(http_client: httpx2.AsyncClient) -> httpx2.AsyncClient:
    """Add to ``http_client`` the response hook that stops the SDK retrying an
    ``insufficient_quota`` 429, and return it. Adding it twice is harmless."""
    _add_response_hook(http_client, _mark_insufficient_quota)
    return http_client


def _add_response_hook(
    http_client: httpx2.AsyncClient, hook: Callable[[httpx2.Response], object]
) -> None:
    hooks = http_client.event_hooks
    if hook not in hooks["response"]:
        http_client.event_hooks = {**hooks, "response": [*hooks["response"], hook]}


async def _mark_insufficient_quota(response: httpx2.Response) -> None:
    """Tell the SDK not to retry a 429 whose error code is ``insufficient_quota``.

    The SDK's retry decision reads ``x-should-retry`` before it looks at the status code, and
    this hook runs before the SDK sees the response. Only 429 bodies are read here (they are
    small); every other response streams on untouched.
    """
    if response.status_code != 429:
        return
    await response.aread()
    try:
        body = json.loads(response.content)
    except ValueError:
        return
    error = body.get("error", body) if isinstance(body, dict) else None
    if isinstance(error, dict) and _is_insufficient_quota(error.get("code"), error.get("type")):
        response.headers["x-should-retry"] = "false"


def _is_insufficient_quota(code: object, type_: object) -> bool:
    # OpenAI sets both to "insufficient_quota"; some proxies keep only one of them.
    return "insufficient_quota" in (code, type_)


def _make_client(settings: Settings, http_client: httpx2.AsyncClient | None) -> AsyncOpenAI:
    if not settings.api_key and not settings.base_url:
        raise ConfigurationError(
            "the openai backend needs an API key (or a base URL for a local server)"
        )
    return AsyncOpenAI(
        api_key=settings.api_key or _PLACEHOLDER_KEY,
        base_url=settings.base_url,
        timeout=settings.timeout_s,
        max_retries=settings.max_retries,
        # The SDK's own defaults (connection limits, redirects), plus the quota hook. The
        # observers' hook was added first, so observers see a 429 as the server sent it.
        http_client=no_retry_on_insufficient_quota(http_client or DefaultAsyncHttpxClient()),
    )


def _message_param(message: Message) -> ChatCompletionMessageParam:
    if message.role == "system":
        return ChatCompletionSystemMessageParam(role="system", content=message.content)
    if message.role == "user":
        return ChatCompletionUserMessageParam(role="user", content=message.content)
    return ChatCompletionAssistantMessageParam(role="assistant", content=message.content)


def _rejects_json_schema(err: openai.APIStatusError) -> bool:
    """Whether a 400 / 422 says the server cannot do ``response_format`` ``json_schema``.

    "not supported" alone is not enough: OpenAI answers ``max_tokens`` on a reasoning model
    with "Unsupported parameter: 'max_tokens' is not supported with this model", and
    json_object would not fix that. "Invalid schema" is excluded too: that server supports
    json_schema and rejects our schema, a defect that falling back would hide.
    """
    text = f"{err.param} {err.message} {err.body}".lower()
    if "invalid schema" in text or err.code == "invalid_json_schema":
        return False
    return "response_format" in text or "json_schema" in text


def _with_schema_in_system(request: CompletionRequest) -> tuple[Message, ...]:
    """The request's messages with the JSON Schema appended to the last system message (or
    in a new first system message if there is none). The request itself is left as it was."""
    note = (
        f"Answer with one JSON object that follows this JSON Schema "
        f"(named {request.schema_name!r}) exactly:\n"
        + json.dumps(request.json_schema, ensure_ascii=False)
    )
    messages = list(request.messages)
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].role == "system":
            messages[index] = Message("system", f"{messages[index].content}\n\n{note}")
            return tuple(messages)
    return (Message("system", note), *messages)


def _completion(response: ChatCompletion, latency_s: float, *, default_model: str) -> Completion:
    if not response.choices:
        raise BackendError("the server answered with no choices", provider=PROVIDER)
    choice = response.choices[0]
    refusal = choice.message.refusal
    if refusal is None and choice.finish_reason == "content_filter":
        refusal = _CONTENT_FILTER_NOTE
    return Completion(
        content=choice.message.content,
        finish_reason=choice.finish_reason,
        usage=_usage(response.usage),
        # Servers report the snapshot they ran ("gpt-4o-2024-08-06"); some report nothing.
        model=response.model or default_model,
        latency_s=latency_s,
        refusal=refusal,
    )


def _usage(usage: CompletionUsage | None) -> Usage:
    if usage is None:  # some compatible servers leave usage out
        return Usage()
    details = usage.prompt_tokens_details
    cached = details.cached_tokens if details is not None else None
    return Usage(
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        cached_tokens=cached or 0,
    )


def _translate(err: openai.OpenAIError) -> BackendError:
    """The one place where SDK errors become summariser errors."""
    attempts = _attempts(err)
    if isinstance(err, openai.AuthenticationError | openai.PermissionDeniedError):
        return AuthenticationError(
            f"the server refused the API key (HTTP {err.status_code}): {_server_message(err)}; "
            "check OPENAI_API_KEY and that the key may use this model",
            provider=PROVIDER,
            attempts=attempts,
            original=err,
        )
    if isinstance(err, openai.RateLimitError) and _is_insufficient_quota(err.code, err.type):
        return QuotaExceededError(
            f"the account has no quota left (insufficient_quota): {_server_message(err)}",
            provider=PROVIDER,
            attempts=attempts,
            original=err,
        )
    after = f" after {attempts} attempt{'s' if attempts != 1 else ''}" if attempts else ""
    if isinstance(err, openai.APIStatusError):
        message = f"HTTP {err.status_code}{after}: {_server_message(err)}"
    elif isinstance(err, openai.APITimeoutError):
        message = f"the request timed out{after}"
    elif isinstance(err, openai.APIConnectionError):
        message = f"could not connect to the server{after}: {err.__cause__ or err}"
    else:
        message = f"{type(err).__name__}{after}: {err}"
    return BackendError(message, provider=PROVIDER, attempts=attempts, original=err)


def _server_message(err: openai.APIStatusError) -> str:
    """The server's own error message, without the SDK's "Error code: 429 - " prefix."""
    message = err.body.get("message") if isinstance(err.body, dict) else None
    return message if isinstance(message, str) else err.message


def _attempts(err: openai.OpenAIError) -> int | None:
    """How many HTTP calls the SDK made: the last request's retry number, plus one."""
    if not isinstance(err, openai.APIError):
        return None
    count = err.request.headers.get(_RETRY_COUNT_HEADER, "")
    return int(count) + 1 if count.isdigit() else None
