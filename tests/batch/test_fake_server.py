"""The benchmarks' fake OpenAI server: real sockets on 127.0.0.1, tiny limits, short latency.

Through the real SDK (``OpenAIBackend``): answers parse as an ``Extraction``, usage is filled,
``x-ratelimit-*`` headers come on every response and a request past the limit gets a 429 with
``retry-after-ms``. The window arithmetic is tested on a fake clock.
"""

from __future__ import annotations

import asyncio
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from summariser.backends.base import Completion, CompletionRequest, Message
from summariser.backends.openai import OpenAIBackend
from summariser.batch.ratelimit import parse_duration
from summariser.errors import BackendError
from summariser.schema import Extraction, strict_json_schema
from summariser.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from fake_openai_server import (  # benchmarks/ is not a package
    FakeOpenAI,
    format_duration,
    start_server,
)

ARTICLE = "Northwind Foods said third-quarter revenue rose 12% to $4.2 billion. Shares fell 3%."
REQUEST = CompletionRequest(
    messages=(Message("system", "Extract."), Message("user", f"<article>\n{ARTICLE}\n</article>")),
    schema_name="extraction",
    json_schema=strict_json_schema(Extraction),
    purpose="extract",
    data=ARTICLE,
)


@pytest.fixture
def server() -> Iterator[str]:
    url, stop = start_server(latency=0.01, rpm=2, tpm=100_000)
    try:
        yield url
    finally:
        stop()


def stats(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url.removesuffix("/v1") + "/stats", timeout=5) as response:
        data = json.loads(response.read())
    assert isinstance(data, dict)
    return data


def test_answers_limits_and_counts(server: str) -> None:
    seen: list[tuple[int, dict[str, str]]] = []

    def observe(status: int, headers: Mapping[str, str]) -> None:
        seen.append((status, dict(headers)))

    settings = Settings(backend="openai", base_url=server, api_key="sk-local", max_retries=0)

    async def go() -> list[object]:
        outcomes: list[object] = []
        async with OpenAIBackend(settings, observer=observe) as backend:
            for _ in range(3):
                try:
                    outcomes.append(await backend.complete(REQUEST))
                except BackendError as err:
                    outcomes.append(err)
        return outcomes

    first, second, third = asyncio.run(go())
    assert isinstance(first, Completion)
    assert isinstance(second, Completion)
    assert isinstance(third, BackendError)  # rpm=2: the third is over the limit
    assert "429" in str(third)
    assert first.content is not None
    extraction = Extraction.model_validate_json(first.content)
    assert "12%" in extraction.headline
    assert first.usage.prompt_tokens > 0 and first.usage.completion_tokens > 0

    assert [status for status, _ in seen] == [200, 200, 429]
    for _, headers in seen:
        for kind in ("requests", "tokens"):
            assert f"x-ratelimit-limit-{kind}" in headers
            assert parse_duration(headers[f"x-ratelimit-reset-{kind}"]) is not None
    assert [headers["x-ratelimit-remaining-requests"] for _, headers in seen] == ["1", "0", "0"]
    retry_ms = int(seen[2][1]["retry-after-ms"])
    assert 50_000 < retry_ms <= 60_000  # the first request leaves the window in ~60 s
    assert int(seen[2][1]["retry-after"]) == -(-retry_ms // 1000)

    counts = stats(server)
    assert (counts["requests"], counts["ok"], counts["rate_limited"]) == (3, 2, 1)


def test_unknown_routes_and_bad_bodies(server: str) -> None:
    root = server.removesuffix("/v1")
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(root + "/nowhere", timeout=5)
    assert missing.value.code == 404
    missing.value.close()  # it holds the socket
    bad = urllib.request.Request(server + "/chat/completions", data=b"not json", method="POST")
    with pytest.raises(urllib.error.HTTPError) as invalid:
        urllib.request.urlopen(bad, timeout=5)
    assert invalid.value.code == 400
    invalid.value.close()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_window_slides_and_says_when_to_retry() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "x" * 2400}]}
    _, _, probe = asyncio.run(FakeOpenAI(latency=0.0).chat(body))
    per_request = probe["usage"]["total_tokens"]
    clock = Clock()
    # room for two and a half requests a minute: tokens bind, not requests
    fake = FakeOpenAI(latency=0.0, rpm=100, tpm=per_request * 5 // 2, clock=clock)

    async def go() -> list[tuple[int, dict[str, str]]]:
        out = []
        for at in (0.0, 1.0, 2.0, 3.0, 61.0):
            clock.now = 1000.0 + at
            status, headers, _ = await fake.chat(body)
            out.append((status, headers))
        return out

    results = asyncio.run(go())
    assert [status for status, _ in results] == [200, 200, 429, 429, 200]
    # At t=2 room comes when the first request leaves the window, at t=60.
    assert results[2][1]["retry-after-ms"] == "58000"
    assert results[2][1]["retry-after"] == "58"
    assert results[2][1]["x-ratelimit-remaining-tokens"] == str(per_request // 2)
    assert fake.stats.times_429 == [2.0, 3.0]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(360.0, "6m0s"), (1.5, "1.5s"), (0.25, "250ms"), (0.0, "0ms"), (61.25, "1m1.25s")],
    ids=["minutes", "seconds", "ms", "zero", "mixed"],
)
def test_durations_round_trip(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == pytest.approx(seconds)
