"""The openai backend through the real SDK over an ``httpx2.MockTransport``: never the network.

The SDK (openai 3.x) sends through ``httpx2``, so the mock transport is httpx2's, handed to the
backend as its ``http_client``. The SDK's retry sleep is replaced by a recorder, so retries
are instant and their delays can be checked.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import httpx2
import openai
import pytest

from summariser.backends.base import Backend, Completion, CompletionRequest, Message
from summariser.backends.openai import OpenAIBackend, no_retry_on_insufficient_quota
from summariser.errors import (
    AuthenticationError,
    BackendError,
    ConfigurationError,
    QuotaExceededError,
)
from summariser.schema import Extraction, Usage, strict_json_schema
from summariser.settings import Settings

SCHEMA = strict_json_schema(Extraction)
ANSWER = '{"headline": "Harbour Freight lifts revenue 12%"}'
MAX_RETRIES = 2
SETTINGS = Settings(
    backend="openai", model="gpt-4o-mini", api_key="sk-test", max_retries=MAX_RETRIES
)
REQUEST = CompletionRequest(
    messages=(
        Message("system", "You extract figures from financial news."),
        Message("user", "Article: Harbour Freight's revenue rose 12% to $8.9bn."),
    ),
    schema_name="extraction",
    json_schema=SCHEMA,
    purpose="extract",
    data="Harbour Freight's revenue rose 12% to $8.9bn.",
    max_tokens=900,
    temperature=0.2,
)

Reply = Callable[[httpx2.Request], httpx2.Response]


# --- a scripted server ---------------------------------------------------------------------


def ok(
    content: str | None = ANSWER,
    *,
    finish_reason: str = "stop",
    refusal: str | None = None,
    usage: dict[str, Any] | None = None,
    model: str = "gpt-4o-mini-2024-07-18",
) -> Reply:
    """A chat completion, as OpenAI sends it."""
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_760_000_000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal},
                "finish_reason": finish_reason,
                "logprobs": None,
            }
        ],
        "usage": usage
        if usage is not None
        else {
            "prompt_tokens": 120,
            "completion_tokens": 30,
            "total_tokens": 150,
            "prompt_tokens_details": {"cached_tokens": 64},
        },
    }
    return lambda request: httpx2.Response(200, json=body)


def error(
    status: int,
    message: str = "boom",
    *,
    code: str | None = None,
    type_: str | None = None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """An error answer in OpenAI's shape: ``{"error": {message, type, param, code}}``."""
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    return lambda request: httpx2.Response(status, json=body, headers=headers)


def raises(exc_type: type[httpx2.TransportError]) -> Reply:
    """A transport failure: a timeout or a refused connection."""

    def reply(request: httpx2.Request) -> httpx2.Response:
        raise exc_type("scripted failure", request=request)

    return reply


class Server:
    """Answers each request with the next scripted reply; the last one repeats for ever."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[httpx2.Request] = []

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        return reply(request)

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(request.content) for request in self.requests]

    @property
    def retry_counts(self) -> list[str | None]:
        return [request.headers.get("x-stainless-retry-count") for request in self.requests]

    def http_client(self) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(transport=httpx2.MockTransport(self.handle))


def backend_for(server: Server, settings: Settings = SETTINGS) -> OpenAIBackend:
    return OpenAIBackend(settings, http_client=server.http_client())


def run(backend: OpenAIBackend, *requests: CompletionRequest) -> list[Completion]:
    """Send ``requests`` one after another on one event loop, then close the backend."""

    async def go() -> list[Completion]:
        try:
            return [await backend.complete(request) for request in requests]
        finally:
            await backend.aclose()

    return asyncio.run(go())


def complete(server: Server, request: CompletionRequest = REQUEST) -> Completion:
    return run(backend_for(server), request)[0]


@pytest.fixture(autouse=True)
def sleeps(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """The SDK's retry delays, recorded instead of slept."""
    recorded: list[float] = []

    async def record(seconds: float) -> None:
        recorded.append(seconds)

    # openai 3.x waits between retries with `await anyio.sleep(...)` (AsyncAPIClient).
    monkeypatch.setattr(anyio, "sleep", record)
    yield recorded


# --- the request ---------------------------------------------------------------------------


def test_request_shape() -> None:
    server = Server(ok())
    complete(server)
    (request,) = server.requests
    assert request.method == "POST"
    assert request.url == "https://api.openai.com/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test"
    assert server.bodies[0] == {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "You extract figures from financial news."},
            {"role": "user", "content": "Article: Harbour Freight's revenue rose 12% to $8.9bn."},
        ],
        "temperature": 0.2,
        "max_tokens": 900,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "extraction", "schema": SCHEMA, "strict": True},
        },
    }


def test_settings_configure_the_sdk_client() -> None:
    settings = Settings(
        backend="openai",
        model="m",
        api_key="sk-x",
        timeout_s=7.5,
        max_retries=3,
        base_url="https://llm.example/v1",
    )
    backend = OpenAIBackend(settings)
    try:
        assert backend.client.api_key == "sk-x"
        assert backend.client.timeout == 7.5
        assert backend.client.max_retries == 3
        assert str(backend.client.base_url) == "https://llm.example/v1/"
        assert isinstance(backend, Backend)
        assert (backend.name, backend.model) == ("openai", "m")
    finally:
        asyncio.run(backend.aclose())
    assert backend.client.is_closed()


def test_used_as_a_context_manager_it_closes_its_client() -> None:
    server = Server(ok())

    async def go() -> OpenAIBackend:
        async with backend_for(server) as backend:
            await backend.complete(REQUEST)
        return backend

    assert asyncio.run(go()).client.is_closed()


def test_local_server_needs_no_key() -> None:
    server = Server(ok())
    settings = Settings(backend="openai", model="llama3.1", base_url="http://localhost:8000/v1")
    run(backend_for(server, settings), REQUEST)
    assert server.requests[0].url == "http://localhost:8000/v1/chat/completions"
    assert server.bodies[0]["model"] == "llama3.1"


def test_no_key_and_no_base_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="API key"):
        OpenAIBackend(Settings(backend="openai"))


def test_client_and_http_client_together_are_refused() -> None:
    client = openai.AsyncOpenAI(api_key="sk-x", http_client=Server(ok()).http_client())
    with pytest.raises(ConfigurationError):
        OpenAIBackend(SETTINGS, client=client, http_client=Server(ok()).http_client())
    asyncio.run(client.close())


def test_an_injected_client_is_used_and_left_open() -> None:
    server = Server(ok())
    client = openai.AsyncOpenAI(
        api_key="sk-x",
        max_retries=0,
        http_client=no_retry_on_insufficient_quota(server.http_client()),
    )
    run(OpenAIBackend(SETTINGS, client=client), REQUEST)
    assert len(server.requests) == 1
    assert not client.is_closed()  # its owner closes it
    asyncio.run(client.close())


# --- the answer ----------------------------------------------------------------------------


def test_answer_usage_and_model_come_from_the_response() -> None:
    completion = complete(Server(ok()))
    assert completion.content == ANSWER
    assert completion.finish_reason == "stop"
    assert completion.usage == Usage(prompt_tokens=120, completion_tokens=30, cached_tokens=64)
    assert completion.model == "gpt-4o-mini-2024-07-18"
    assert completion.refusal is None
    assert completion.latency_s >= 0


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        (
            {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12},
            Usage(prompt_tokens=10, completion_tokens=2),
        ),
        (
            {
                "prompt_tokens": 10,
                "completion_tokens": 2,
                "total_tokens": 12,
                "prompt_tokens_details": {"cached_tokens": None},
            },
            Usage(prompt_tokens=10, completion_tokens=2),
        ),
    ],
    ids=["no-details", "cached-null"],
)
def test_cached_tokens_default_to_zero(usage: dict[str, Any], expected: Usage) -> None:
    assert complete(Server(ok(usage=usage))).usage == expected


def test_a_server_without_usage_or_model_name() -> None:
    body = json.loads(ok()(httpx2.Request("POST", "http://x")).content)
    del body["usage"]
    body["model"] = ""
    completion = complete(Server(lambda request: httpx2.Response(200, json=body)))
    assert completion.usage == Usage()
    assert completion.model == "gpt-4o-mini"  # the model asked for


@pytest.mark.parametrize(
    "content",
    [
        '{"headline": "x",,}',
        '{"headline": "Harbour Freight lifts reven',
        "Sure! Here is the JSON you asked for: {}",
        '{"headline": "营收增长 5%", "bullets": []}',
        "",
    ],
    ids=["malformed", "truncated", "prose", "unicode", "empty"],
)
def test_content_is_passed_through_unchanged(content: str) -> None:
    assert complete(Server(ok(content))).content == content


def test_finish_reason_length_is_returned() -> None:
    completion = complete(Server(ok('{"headline": "Harb', finish_reason="length")))
    assert (completion.finish_reason, completion.content) == ("length", '{"headline": "Harb')


def test_refusal_is_returned_not_raised() -> None:
    completion = complete(Server(ok(None, refusal="I can't help with that.")))
    assert completion.refusal == "I can't help with that."
    assert completion.content is None
    assert completion.usage.prompt_tokens == 120  # the attempt still cost tokens


def test_content_filter_counts_as_a_refusal() -> None:
    completion = complete(Server(ok(None, finish_reason="content_filter")))
    assert completion.finish_reason == "content_filter"
    assert completion.refusal is not None and "content_filter" in completion.refusal


def test_no_choices_is_a_backend_error() -> None:
    body = json.loads(ok()(httpx2.Request("POST", "http://x")).content)
    body["choices"] = []
    with pytest.raises(BackendError, match="no choices"):
        complete(Server(lambda request: httpx2.Response(200, json=body)))


# --- retries: the SDK's, and only where retrying can help ---------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        error(429, "Rate limit reached", code="rate_limit_exceeded", headers={"Retry-After": "0"}),
        error(500, "The server had an error"),
        error(503, "Overloaded"),
        raises(httpx2.ReadTimeout),
        raises(httpx2.ConnectError),
    ],
    ids=["429-retry-after-0", "500", "503", "read-timeout", "connect-error"],
)
def test_a_transient_failure_is_retried_by_the_sdk(failure: Reply) -> None:
    server = Server(failure, ok())
    assert complete(server).content == ANSWER
    assert server.retry_counts == ["0", "1"]


def test_retry_after_ms_is_honoured(sleeps: list[float]) -> None:
    server = Server(error(429, "slow down", headers={"retry-after-ms": "250"}), ok())
    complete(server)
    assert sleeps == [0.25]


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        (
            error(500, "The server had an error"),
            "HTTP 500 after 3 attempts: The server had an error",
        ),
        (error(429, "Rate limit reached", code="rate_limit_exceeded"), "HTTP 429 after 3 attempts"),
        (raises(httpx2.ReadTimeout), "timed out after 3 attempts"),
        (raises(httpx2.ConnectError), "could not connect to the server after 3 attempts"),
    ],
    ids=["500", "429-rate-limit", "timeout", "connect-error"],
)
def test_a_persistent_failure_is_a_backend_error_after_the_retries(
    failure: Reply, message: str
) -> None:
    server = Server(failure)
    with pytest.raises(BackendError) as caught:
        complete(server)
    assert type(caught.value) is BackendError
    assert message in str(caught.value)
    assert len(server.requests) == MAX_RETRIES + 1
    assert caught.value.attempts == MAX_RETRIES + 1
    assert caught.value.provider == "openai"
    assert isinstance(caught.value.original, openai.APIError)
    assert caught.value.__cause__ is caught.value.original


@pytest.mark.parametrize(
    ("failure", "expected", "original"),
    [
        (
            error(401, "Incorrect API key provided: sk-te**t.", code="invalid_api_key"),
            AuthenticationError,
            openai.AuthenticationError,
        ),
        (
            error(403, "You are not allowed to sample from this model"),
            AuthenticationError,
            openai.PermissionDeniedError,
        ),
        (
            error(
                429,
                "You exceeded your current quota.",
                code="insufficient_quota",
                type_="insufficient_quota",
            ),
            QuotaExceededError,
            openai.RateLimitError,
        ),
        (
            error(429, "You exceeded your current quota.", type_="insufficient_quota"),
            QuotaExceededError,
            openai.RateLimitError,
        ),
    ],
    ids=["401", "403", "insufficient-quota", "insufficient-quota-type-only"],
)
def test_what_retrying_cannot_fix_fails_after_one_call(
    failure: Reply, expected: type[BackendError], original: type[openai.APIError]
) -> None:
    server = Server(failure)
    with pytest.raises(expected) as caught:
        complete(server)
    assert len(server.requests) == 1
    assert caught.value.attempts == 1
    assert isinstance(caught.value.original, original)
    assert "sk-test" not in str(caught.value)


def test_insufficient_quota_through_a_client_without_the_hook_is_still_reported() -> None:
    """The hook is what saves the retries: without it the SDK retries, but the error is the
    same."""
    server = Server(error(429, "You exceeded your current quota.", code="insufficient_quota"))
    client = openai.AsyncOpenAI(
        api_key="sk-x", max_retries=MAX_RETRIES, http_client=server.http_client()
    )
    with pytest.raises(QuotaExceededError):
        run(OpenAIBackend(SETTINGS, client=client), REQUEST)
    assert len(server.requests) == MAX_RETRIES + 1
    asyncio.run(client.close())


def test_the_quota_hook_is_added_once_and_keeps_other_hooks() -> None:
    async def other(response: httpx2.Response) -> None:
        return None

    client = httpx2.AsyncClient(event_hooks={"response": [other]})
    no_retry_on_insufficient_quota(no_retry_on_insufficient_quota(client))
    assert len(client.event_hooks["response"]) == 2
    assert client.event_hooks["response"][0] is other
    asyncio.run(client.aclose())


# --- structured output, and the fallback for servers without json_schema -------------------

REJECTED = error(
    400,
    "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model.",
    type_="invalid_request_error",
    param="response_format",
)


def test_json_schema_rejected_falls_back_to_json_object_and_remembers() -> None:
    server = Server(REJECTED, ok(), ok())
    messages_before = REQUEST.messages
    first, second = run(backend_for(server), REQUEST, REQUEST)
    assert first.content == second.content == ANSWER
    assert len(server.requests) == 3  # rejected, fallback, then straight to json_object
    rejected, fallback, later = server.bodies
    assert rejected["response_format"]["type"] == "json_schema"
    assert fallback["response_format"] == later["response_format"] == {"type": "json_object"}
    system = fallback["messages"][0]
    assert system["role"] == "system"
    assert system["content"].startswith("You extract figures from financial news.\n\n")
    assert system["content"].endswith(json.dumps(SCHEMA, ensure_ascii=False))
    assert fallback["messages"][1:] == rejected["messages"][1:]
    assert later["messages"] == fallback["messages"]
    assert REQUEST.messages == messages_before  # the request is not touched
    assert REQUEST.messages[0].content == "You extract figures from financial news."


def test_fallback_schema_goes_in_the_last_system_message_or_a_new_first_one() -> None:
    request = CompletionRequest(
        messages=(
            Message("user", "Article: ..."),
            Message("assistant", "{}"),
            Message("user", "Again"),
        ),
        schema_name="reduction",
        json_schema={"type": "object"},
        purpose="reduce",
        data="...",
    )
    server = Server(REJECTED, ok())
    run(backend_for(server), request)
    messages = server.bodies[1]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert "'reduction'" in messages[0]["content"]
    assert messages[0]["content"].endswith('{"type": "object"}')

    two_systems = CompletionRequest(
        messages=(Message("system", "A"), Message("user", "B"), Message("system", "C")),
        schema_name="extraction",
        json_schema={"type": "object"},
        purpose="extract",
        data="B",
    )
    server = Server(REJECTED, ok())
    run(backend_for(server), two_systems)
    contents = [m["content"] for m in server.bodies[1]["messages"]]
    assert contents[:2] == ["A", "B"]
    assert contents[2].startswith("C\n\n")


@pytest.mark.parametrize(
    "rejection",
    [
        error(
            400,
            "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
            type_="invalid_request_error",
            param="max_tokens",
            code="unsupported_parameter",
        ),
        error(
            400,
            "Invalid schema for response_format 'extraction': In context=(), 'required' is required to be supplied.",
            type_="invalid_request_error",
            param="response_format",
        ),
        error(404, "The model 'gpt-9' does not exist", code="model_not_found"),
    ],
    ids=["other-unsupported-parameter", "our-schema-is-invalid", "404"],
)
def test_other_client_errors_do_not_fall_back(rejection: Reply) -> None:
    server = Server(rejection, ok())
    with pytest.raises(BackendError) as caught:
        complete(server)
    assert type(caught.value) is BackendError
    assert len(server.requests) == 1
    assert caught.value.attempts == 1
