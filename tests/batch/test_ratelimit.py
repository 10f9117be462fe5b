"""The batch rate limiter on a fake clock: every wait is computed, none is slept.

``FakeTime.sleep`` moves the clock on and yields once, so a test that starts concurrent
acquisitions sees them granted at the virtual times a real clock would show.
"""

from __future__ import annotations

import asyncio
import contextvars
import heapq
import itertools
import json
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import anyio
import httpx2
import pytest

from summariser.backends.base import Completion, CompletionRequest, Message
from summariser.backends.fake import FakeBackend
from summariser.backends.openai import OpenAIBackend
from summariser.batch.ratelimit import (
    FALLBACK_LIMITS,
    MAX_RESET_HOLD_S,
    MIN_FACTOR,
    RateLimitedBackend,
    RateLimiter,
    default_limits,
    parse_duration,
    rate_limited,
    retry_after,
)
from summariser.schema import Usage
from summariser.settings import Settings
from tests.sliding_window import SlidingWindowServer

T = TypeVar("T")


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def limiter(fake_time: FakeTime, rpm: int = 60, tpm: int = 10**9) -> RateLimiter:
    return RateLimiter(rpm, tpm, clock=fake_time.clock, sleep=fake_time.sleep)


def run(make: Callable[[], Awaitable[T]]) -> T:
    async def go() -> T:
        return await make()

    return asyncio.run(go())


def grant_times(
    fake_time: FakeTime, make: Callable[[], RateLimiter], sizes: list[int]
) -> list[float]:
    """Acquire ``sizes`` one after another; the virtual time of each grant."""

    async def go() -> list[float]:
        rl = make()
        times = []
        for size in sizes:
            await rl.acquire(size)
            times.append(round(fake_time.now, 6))
        return times

    return asyncio.run(go())


# --- pacing ------------------------------------------------------------------------------------


def test_paces_to_the_rpm_after_a_sixth_of_a_minute_burst(fake_time: FakeTime) -> None:
    # 60 RPM: 10 at once (a sixth of a minute), then one a second.
    times = grant_times(fake_time, lambda: limiter(fake_time, rpm=60), [1] * 14)
    assert times == [0.0] * 10 + [1.0, 2.0, 3.0, 4.0]


def test_tpm_binds_first_with_large_requests(fake_time: FakeTime) -> None:
    # 6,000 RPM would allow 100/s; 60,000 TPM allows 1,000 tokens/s: 5,000-token requests go
    # two at once (the 10,000-token burst), then one every 5 s.
    times = grant_times(fake_time, lambda: limiter(fake_time, rpm=6000, tpm=60_000), [5000] * 5)
    assert times == [0.0, 0.0, 5.0, 10.0, 15.0]


def test_a_request_bigger_than_a_minute_waits_for_a_full_bucket_then_goes(
    fake_time: FakeTime,
) -> None:
    times = grant_times(fake_time, lambda: limiter(fake_time, rpm=600, tpm=6000), [10_000])
    assert times == [50.0]  # from 1,000 (the burst) to 6,000 at 100 tokens/s


def test_settle_refunds_and_charges(fake_time: FakeTime) -> None:
    async def go() -> list[float]:
        rl = limiter(fake_time, rpm=6000, tpm=60_000)  # 10,000 tokens at start, 1,000/s
        times = []
        (await rl.acquire(10_000)).settle(2_000)  # 8,000 refunded
        await rl.acquire(10_000)  # 2,000 short: 2 s
        times.append(fake_time.now)
        reservation = await rl.acquire(0)
        reservation.settle(5_000)  # charged after the fact: the bucket goes into debt
        reservation.settle(0)  # only the first settle counts
        await rl.acquire(1_000)  # 6,000 short
        times.append(fake_time.now)
        return times

    assert run(go) == [2.0, 8.0]


def test_a_refund_wakes_the_waiting_head_early() -> None:
    async def go() -> float:
        loop = asyncio.get_running_loop()
        rl = RateLimiter(6000, 60_000)  # real clock: 10,000 tokens at start, 1,000/s
        first = await rl.acquire(10_000)
        started = loop.time()
        waiting = asyncio.create_task(rl.acquire(5_000))  # would wait 5 s
        await asyncio.sleep(0.05)
        first.settle(1_000)
        await asyncio.wait_for(waiting, timeout=2)
        return loop.time() - started

    assert run(go) < 1.0


# --- fairness ----------------------------------------------------------------------------------


def test_fifo_a_small_request_does_not_overtake_a_large_one(fake_time: FakeTime) -> None:
    async def go() -> list[tuple[str, float]]:
        rl = limiter(fake_time, rpm=6000, tpm=60_000)
        granted: list[tuple[str, float]] = []

        async def one(name: str, size: int) -> None:
            await rl.acquire(size)
            granted.append((name, round(fake_time.now, 6)))

        await rl.acquire(9_000)  # leaves 1,000: enough for the small ones, not the big one
        tasks = [
            asyncio.create_task(one(name, size))
            for name, size in [("big", 5_000), ("small-1", 100), ("small-2", 100)]
        ]
        await asyncio.gather(*tasks)
        return granted

    # The small ones would fit at once; they wait their turn (and the big one empties the bucket).
    assert run(go) == [("big", 4.0), ("small-1", 4.1), ("small-2", 4.2)]


def test_fifo_order_among_many(fake_time: FakeTime) -> None:
    async def go() -> list[int]:
        rl = limiter(fake_time, rpm=60)
        order: list[int] = []

        async def one(index: int) -> None:
            await rl.acquire(1)
            order.append(index)

        await asyncio.gather(*(one(i) for i in range(30)))
        return order

    assert run(go) == list(range(30))


# --- 429 and Retry-After -------------------------------------------------------------------------


def test_429_with_retry_after_pauses_everyone(fake_time: FakeTime) -> None:
    async def go() -> list[float]:
        rl = limiter(fake_time, rpm=600)
        rl.observe(429, {"Retry-After": "5"})
        times: list[float] = []

        async def one() -> None:
            await rl.acquire(1)
            times.append(fake_time.now)

        await asyncio.gather(*(one() for _ in range(5)))
        return times

    times = run(go)
    assert len(times) == 5
    assert all(t >= 5.0 for t in times)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "250", "retry-after": "1"}, 0.25),
        ({"retry-after": "2"}, 2.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, None),
        ({"retry-after-ms": "soon", "retry-after": "3"}, 3.0),
        ({}, None),
    ],
    ids=["ms-wins", "seconds", "fractional", "http-date", "bad-ms", "absent"],
)
def test_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after(headers) == expected


def test_429_without_retry_after_backs_off_and_doubles(fake_time: FakeTime) -> None:
    rl = limiter(fake_time)
    rl.observe(429, {})
    assert rl.paused_until == 1.0
    fake_time.now = 1.0
    rl.observe(429, {})
    assert rl.paused_until == 3.0
    rl.observe(200, {})  # a success resets the backoff
    rl.observe(429, {})
    assert rl.paused_until == 3.0  # max(3.0, 1.0 + 1.0): a pause is never shortened
    assert rl.count_429 == 3


# --- headers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("6m0s", 360.0),
        ("1.5s", 1.5),
        ("250ms", 0.25),
        ("20ms", 0.02),
        ("1s", 1.0),
        ("1h2m3s", 3723.0),
        ("2m30.5s", 150.5),
        ("0.5", 0.5),
        ("  7s ", 7.0),
        ("", None),
        ("soon", None),
        ("5x", None),
        ("1s and more", None),
    ],
    ids=lambda value: repr(value),
)
def test_parse_duration(text: str, seconds: float | None) -> None:
    assert parse_duration(text) == (pytest.approx(seconds) if seconds is not None else None)


def test_remaining_clamps_the_buckets_and_never_raises_them(fake_time: FakeTime) -> None:
    async def go() -> list[float]:
        rl = limiter(fake_time, rpm=600)  # 100 requests at start, 10/s
        rl.observe(200, {"x-ratelimit-remaining-requests": "3"})
        rl.observe(200, {"x-ratelimit-remaining-requests": "500"})  # more than we have: ignored
        times = []
        for _ in range(5):
            await rl.acquire(1)
            times.append(round(fake_time.now, 6))
        return times

    assert run(go) == [0.0, 0.0, 0.0, 0.1, 0.2]


def test_remaining_tokens_clamps_the_token_bucket(fake_time: FakeTime) -> None:
    rl = limiter(fake_time, rpm=600, tpm=60_000)
    rl.observe(200, {"X-RateLimit-Remaining-Tokens": "1200"})
    assert rl.tokens.available() == 1200
    assert (
        rl.tokens.level == 10_000
    )  # the bucket itself keeps what it saved (the server gate binds)


def test_nothing_remaining_holds_until_the_reset(fake_time: FakeTime) -> None:
    async def go() -> float:
        rl = limiter(fake_time, rpm=600)
        rl.observe(
            200, {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "2.5s"}
        )
        await rl.acquire(1)
        return fake_time.now

    assert run(go) == 2.5


def test_a_long_reset_holds_at_most_the_cap(fake_time: FakeTime) -> None:
    async def go() -> float:
        rl = limiter(fake_time, rpm=600, tpm=10**6)
        rl.observe(200, {"x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "6m0s"})
        await rl.acquire(1)
        return fake_time.now

    assert run(go) == MAX_RESET_HOLD_S


def test_a_response_is_placed_among_the_grants_of_its_task(fake_time: FakeTime) -> None:
    # 60 RPM: a burst of 10. Three grants, then the server says 2 remain: it counts 55 beyond
    # our 3 (another client, or a lower limit). Heard from the task that took the grants, the
    # response answers the last of them, so the server has counted all three: 2 remain. Heard
    # from elsewhere, any of ours may be uncounted yet: none remains. The later grant's word
    # replaces the other.
    async def go() -> list[float]:
        rl = limiter(fake_time, rpm=60)
        for _ in range(3):
            await rl.acquire(1)
        headers = {"x-ratelimit-remaining-requests": "2"}
        asyncio.get_running_loop().call_soon(
            rl.observe, 200, headers, context=contextvars.Context()
        )
        await asyncio.sleep(0)
        seen = [rl.requests.available()]
        rl.observe(200, headers)
        return [*seen, rl.requests.available()]

    assert run(go) == [-1, 2]


def test_a_lower_server_limit_lowers_the_local_one(fake_time: FakeTime) -> None:
    rl = limiter(fake_time, rpm=600, tpm=10**6)
    rl.observe(200, {"x-ratelimit-limit-requests": "60", "x-ratelimit-limit-tokens": "junk"})
    assert rl.requests.limit == 60
    assert rl.requests.level == 60  # was 100 (a sixth of 600)
    assert rl.tokens.limit == 10**6


# --- AIMD ----------------------------------------------------------------------------------------


def test_aimd_decrease_once_per_burst_of_429s_then_additive_recovery(fake_time: FakeTime) -> None:
    rl = limiter(fake_time)
    rl.observe(429, {"retry-after": "2"})
    rl.observe(429, {"retry-after": "2"})  # the same burst: no second decrease
    assert rl.factor == pytest.approx(0.9)
    fake_time.now = 2.0  # the pause is over: the next 429 is news
    rl.observe(429, {"retry-after": "1"})
    assert rl.factor == pytest.approx(0.81)
    fake_time.now = 3.0 + 30.0  # 30 s after the pause: +0.1
    rl.observe(200, {})
    assert rl.factor == pytest.approx(0.91)
    fake_time.now = 3.0 + 300.0
    rl.observe(200, {})
    assert rl.factor == 1.0  # never above the limit


def test_aimd_slows_the_pacing_and_has_a_floor(fake_time: FakeTime) -> None:
    async def go() -> float:
        rl = limiter(fake_time, rpm=60)
        rl.requests.level = 0.0
        rl.observe(429, {"retry-after-ms": "0"})
        await rl.acquire(1)
        return fake_time.now

    # 0.9 of one a second; the recovery during the wait makes it a little faster.
    assert 1.0 < run(go) < 1 / 0.9 + 1e-9
    rl = limiter(fake_time)
    for step in range(100):
        fake_time.now = 1.0 * step
        rl.observe(429, {"retry-after-ms": "0"})
    assert rl.factor == MIN_FACTOR


# --- limits table --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "limits"),
    [
        ("gpt-4o-mini", (5_000, 2_000_000)),
        ("gpt-4o-mini-2024-07-18", (5_000, 2_000_000)),
        ("gpt-4o", (5_000, 450_000)),
        ("gpt-4o-2024-08-06", (5_000, 450_000)),
        ("llama-3.1-8b", FALLBACK_LIMITS),
    ],
    ids=["mini", "mini-snapshot", "4o", "4o-snapshot", "unknown"],
)
def test_default_limits(model: str, limits: tuple[int, int]) -> None:
    assert default_limits(model) == limits


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0, 100)
    with pytest.raises(ValueError):
        RateLimiter(10, 100, burst=0)


# --- the backend wrapper -------------------------------------------------------------------------

REQUEST = CompletionRequest(
    messages=(Message("system", "one two three"), Message("user", "four five")),
    schema_name="extraction",
    json_schema={},
    purpose="extract",
    data="four five",
    max_tokens=100,
)


def words(text: str) -> int:
    return len(text.split())


def test_rate_limited_backend_estimates_acquires_and_settles(fake_time: FakeTime) -> None:
    inner = FakeBackend()
    inner.enqueue(Completion("{}", "stop", Usage(prompt_tokens=20, completion_tokens=7), "fake-1"))
    rl = limiter(fake_time, tpm=60_000)
    backend = RateLimitedBackend(inner, rl, words)
    assert (backend.name, backend.model) == ("fake", "fake-1")
    # 5 words + 4 per message + 3 for the reply + max_tokens
    assert backend.estimate(REQUEST) == 5 + 8 + 3 + 100
    before = rl.tokens.level
    run(lambda: backend.complete(REQUEST))
    assert rl.tokens.level == pytest.approx(before - 27)
    assert rl.requests.level == pytest.approx(10 - 1)


def test_no_usage_keeps_the_estimate(fake_time: FakeTime) -> None:
    inner = FakeBackend()
    inner.enqueue(Completion("{}", "stop", Usage(), "fake-1"))
    rl = limiter(fake_time, tpm=60_000)
    backend = RateLimitedBackend(inner, rl, words)
    before = rl.tokens.level
    run(lambda: backend.complete(REQUEST))
    assert rl.tokens.level == pytest.approx(before - backend.estimate(REQUEST))


@pytest.fixture
def instant_sdk_retries(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    recorded: list[float] = []

    async def record(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(anyio, "sleep", record)  # openai 3.x waits between retries with it
    yield recorded


def _chat_reply() -> httpx2.Response:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_760_000_000,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "{}", "refusal": None},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 30, "completion_tokens": 5, "total_tokens": 35},
    }
    headers = {"x-ratelimit-remaining-requests": "4", "x-ratelimit-remaining-tokens": "900"}
    return httpx2.Response(200, json=body, headers=headers)


def test_rate_limited_openai_backend_observes_the_429s_the_sdk_retries(
    instant_sdk_retries: list[float],
) -> None:
    replies = [
        httpx2.Response(
            429,
            json={"error": {"message": "slow down", "type": "requests", "code": None}},
            headers={"retry-after-ms": "1500"},
        ),
        _chat_reply(),
    ]
    transport = httpx2.MockTransport(lambda request: replies.pop(0))
    settings = Settings(backend="openai", model="gpt-4o-mini", api_key="sk-test", max_retries=2)
    inner = OpenAIBackend(settings, http_client=httpx2.AsyncClient(transport=transport))
    rl = RateLimiter(600, 60_000)

    async def go() -> Completion:
        backend = rate_limited(inner, rl, "gpt-4o-mini")
        try:
            return await backend.complete(REQUEST)
        finally:
            await inner.aclose()

    completion = asyncio.run(go())
    assert completion.usage.prompt_tokens == 30
    assert instant_sdk_retries == [1.5]  # the SDK retried by itself...
    assert rl.count_429 == 1  # ...and the limiter saw the 429 all the same
    assert rl.requests.foreign_grant == 1  # the HTTP hook knew the grant it answered
    assert rl.factor < 1.0
    # the server gate set by the 200's headers (plus what refilled in the milliseconds since)
    assert rl.requests.available() < 4 + 1
    assert rl.tokens.available() < 900 + 100


def test_openai_backend_observer_sees_every_response(instant_sdk_retries: list[float]) -> None:
    replies = [httpx2.Response(503, json={"error": {"message": "busy"}}), _chat_reply()]
    transport = httpx2.MockTransport(lambda request: replies.pop(0))
    settings = Settings(backend="openai", model="gpt-4o-mini", api_key="sk-test", max_retries=2)
    seen: list[tuple[int, str | None]] = []

    def observer(status: int, headers: object) -> None:
        assert hasattr(headers, "get")
        seen.append((status, headers.get("x-ratelimit-remaining-requests")))

    def broken(status: int, headers: object) -> None:
        raise RuntimeError("an observer bug must not fail the request")

    backend = OpenAIBackend(
        settings, http_client=httpx2.AsyncClient(transport=transport), observer=observer
    )
    backend.add_observer(broken)

    async def go() -> None:
        try:
            await backend.complete(REQUEST)
        finally:
            await backend.aclose()

    asyncio.run(go())
    assert seen == [(503, None), (200, "4")]
    assert json.dumps(seen)  # plain values


# --- a simulated minute: a sliding-window server, concurrent requests, virtual time ------------


class VirtualTime:
    """A clock and a sleep for many concurrent tasks: time moves to the next wake-up only when
    every task is waiting (the limiter's own tasks included), so a run of minutes takes a
    moment and every wait is the limiter's."""

    QUIET = 30  # loop turns without a new sleeper before time moves on (there is no I/O)

    def __init__(self) -> None:
        self.now = 0.0
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._count = itertools.count()
        self._sleeps = 0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._timers, (self.now + max(seconds, 0.0), next(self._count), future))
        self._sleeps += 1
        await future

    async def run(self, until: float) -> None:
        while True:
            quiet = 0
            while quiet < self.QUIET:  # let every ready task run to its next sleep
                before = self._sleeps
                await asyncio.sleep(0)
                quiet = quiet + 1 if self._sleeps == before else 0
            while self._timers and self._timers[0][2].done():  # cancelled sleeps
                heapq.heappop(self._timers)
            if not self._timers or self._timers[0][0] > until:
                return
            self.now = self._timers[0][0]
            while self._timers and self._timers[0][0] <= self.now:
                future = heapq.heappop(self._timers)[2]
                if not future.done():
                    future.set_result(None)


async def simulate(
    make: Callable[[VirtualTime], RateLimiter],
    *,
    server_rpm: int,
    slots: int,
    seconds: float,
    latency: float = 0.5,
    says_limit: bool = True,
) -> SlidingWindowServer:
    """``slots`` callers, each sending one request at a time through the limiter ``make``
    builds (on the virtual clock) to a sliding-window server; a 429 is retried after its
    ``retry-after-ms`` without a new grant, as the SDK does."""
    vt = VirtualTime()
    limiter = make(vt)
    server = SlidingWindowServer(server_rpm, vt.clock, says_limit=says_limit)

    async def caller() -> None:
        while True:
            await limiter.acquire(1)
            while (refused := server.arrive()) is not None:
                limiter.observe(429, refused)
                await vt.sleep(int(refused["retry-after-ms"]) / 1000)
            await vt.sleep(latency)
            limiter.observe(200, server.headers())

    tasks = [asyncio.create_task(caller()) for _ in range(slots)]
    try:
        await vt.run(until=seconds)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return server


@pytest.mark.parametrize("slots", [4, 8, 64])
def test_a_sliding_window_is_used_to_its_limit_minute_after_minute(slots: int) -> None:
    # 300 requests over a sliding minute, 0.5 s a request. The opening burst fills the window
    # ten seconds early, and leaves it a minute after it went: over a few seconds when few
    # requests are in flight. The limiter must send what the server frees, as it frees it:
    # no 429, and hardly less. (Clamping the bucket to x-ratelimit-remaining threw away what
    # it had saved while the window was full: 0.85 of the limit in the second minute.)
    server = asyncio.run(
        simulate(
            lambda vt: RateLimiter(300, 10**9, clock=vt.clock, sleep=vt.sleep),
            server_rpm=300,
            slots=slots,
            seconds=200,
        )
    )
    assert server.rejected == 0
    assert min(server.per_minute(start) for start in (20, 80, 140)) >= 0.97 * 300


@pytest.mark.parametrize(("says_limit", "slots"), [(True, 8), (False, 4), (False, 8), (False, 64)])
def test_a_server_limit_below_the_configured_one_is_found_without_a_429_storm(
    says_limit: bool, slots: int
) -> None:
    # Configured for 600 a minute, the server allows 300. With x-ratelimit-limit the limiter
    # follows it; without, the remaining below its books is use it does not know of, and
    # binds. A 429 a minute is left: the reset a full window names is capped, and probed.
    server = asyncio.run(
        simulate(
            lambda vt: RateLimiter(600, 10**9, clock=vt.clock, sleep=vt.sleep),
            server_rpm=300,
            slots=slots,
            seconds=200,
            says_limit=says_limit,
        )
    )
    assert server.rejected <= 6
    assert min(server.per_minute(start) for start in (20, 80, 140)) >= 0.9 * 300
