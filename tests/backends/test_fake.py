"""The fake backend: answers in order, a record of every request, loud when it runs out."""

from __future__ import annotations

import asyncio

import pytest

from summariser.backends.base import Backend, Completion, CompletionRequest, Message
from summariser.backends.fake import FakeBackend, FakeBackendExhausted
from summariser.errors import QuotaExceededError
from summariser.schema import Usage


def request(text: str = "Article: revenue rose 12%.") -> CompletionRequest:
    return CompletionRequest(
        messages=(Message("system", "Extract figures."), Message("user", text)),
        schema_name="extraction",
        json_schema={"type": "object"},
        purpose="extract",
        data=text,
    )


def ask(backend: FakeBackend, *requests: CompletionRequest) -> list[Completion]:
    async def go() -> list[Completion]:
        return [await backend.complete(r) for r in requests]

    return asyncio.run(go())


def test_is_a_backend() -> None:
    backend = FakeBackend()
    assert isinstance(backend, Backend)
    assert (backend.name, backend.model) == ("fake", "fake-1")
    assert FakeBackend("scripted").model == "scripted"


def test_answers_in_order_and_records_every_request() -> None:
    backend = FakeBackend()
    backend.enqueue("first", "second")
    backend.enqueue("third")
    first, second, third = request("a"), request("b"), request("c")
    answers = ask(backend, first, second, third)
    assert [a.content for a in answers] == ["first", "second", "third"]
    assert backend.history == [first, second, third]
    assert backend.pending == 0


def test_a_string_answer_has_deterministic_usage_from_text_lengths() -> None:
    backend = FakeBackend()
    backend.enqueue("x" * 40, "x" * 40)
    short, long = ask(backend, request("y"), request("y" * 400))
    assert short.finish_reason == "stop"
    assert short.model == "fake-1"
    assert short.usage.completion_tokens == 10
    assert long.usage.completion_tokens == 10
    assert long.usage.prompt_tokens > short.usage.prompt_tokens > 0
    assert short.usage.cached_tokens == 0
    backend.enqueue("x" * 40)
    assert ask(backend, request("y"))[0].usage == short.usage


def test_a_completion_is_returned_as_it_is() -> None:
    truncated = Completion('{"head', "length", Usage(completion_tokens=2048), "m", refusal=None)
    backend = FakeBackend()
    backend.enqueue(truncated)
    assert ask(backend, request()) == [truncated]


def test_an_exception_is_raised_when_its_turn_comes_and_the_request_is_recorded() -> None:
    backend = FakeBackend()
    failure = QuotaExceededError("no credit", provider="fake", attempts=1)
    backend.enqueue(failure, "after")
    with pytest.raises(QuotaExceededError) as caught:
        ask(backend, request())
    assert caught.value is failure
    assert len(backend.history) == 1
    assert ask(backend, request())[0].content == "after"


def test_a_callable_answers_from_the_request() -> None:
    def echo(req: CompletionRequest) -> str:
        return req.data.upper()

    def refuse(req: CompletionRequest) -> Completion:
        return Completion(None, "stop", Usage(), "m", refusal=f"no to {req.purpose}")

    backend = FakeBackend()
    backend.enqueue(echo, refuse)
    echoed, refused = ask(backend, request("abc"), request())
    assert echoed.content == "ABC"
    assert echoed.usage.completion_tokens == 1
    assert refused.refusal == "no to extract"


def test_an_empty_queue_fails_loudly() -> None:
    backend = FakeBackend()
    backend.enqueue("only")
    with pytest.raises(FakeBackendExhausted, match=r"request 2 \(extract.*only 1 answers"):
        ask(backend, request(), request())
    assert issubclass(FakeBackendExhausted, AssertionError)
    assert len(backend.history) == 2
