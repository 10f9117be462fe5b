"""The shared (Redis) rate limiter against a real Redis: pacing across workers and processes,
tokens, settle, 429 pauses, remaining headers, atomicity of the Lua script, and minutes of
workers against a sliding-window server on a virtual clock.

Uses the Redis on 127.0.0.1:6379 when it answers, else starts a throw-away ``redis-server``
on a free port (no persistence), else skips. Every test has its own key and deletes it after;
nothing else in the database is touched. These tests run in real time, a few seconds each,
but for the simulated minutes (a second or two).
"""

from __future__ import annotations

import asyncio
import contextvars
import heapq
import itertools
import multiprocessing
import time
import uuid
from collections.abc import Iterator

import pytest

redis = pytest.importorskip("redis")

from summariser.workers.ratelimit import RedisRateLimiter  # noqa: E402
from tests.sliding_window import SlidingWindowServer  # noqa: E402

LOCAL_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def key(redis_url: str) -> Iterator[str]:
    """A key of this test's own, deleted afterwards (the buckets, the pause key, the books)."""
    name = f"summariser-test:ratelimit:{uuid.uuid4().hex}"
    yield name
    client = redis.Redis.from_url(redis_url)
    try:
        client.delete(f"{{{name}}}:buckets", f"{{{name}}}:pause", f"{{{name}}}:books")
    finally:
        client.close()


async def _worker(limiter: RedisRateLimiter, tokens: int, until: float, sent: list[float]) -> None:
    """Acquire in a loop until ``until`` (monotonic), recording when each grant was given."""
    while time.monotonic() < until:
        await limiter.acquire(tokens)
        sent.append(time.monotonic())


def _run_workers(
    url: str, key: str, *, rpm: int, tpm: int, tokens: int, workers: int, seconds: float
) -> tuple[float, list[float]]:
    async def go() -> tuple[float, list[float]]:
        limiters = [RedisRateLimiter(url, rpm=rpm, tpm=tpm, key=key) for _ in range(workers)]
        sent: list[float] = []
        start = time.monotonic()
        tasks = [
            asyncio.create_task(_worker(limiter, tokens, start + seconds, sent))
            for limiter in limiters
        ]
        # Stop at the deadline rather than wait out grants reserved beyond it: cancelling
        # gives those back (and exercises that path).
        await asyncio.wait(tasks, timeout=seconds + 0.1)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for limiter in limiters:
            await limiter.aclose()
        return start, sent

    return asyncio.run(go())


def test_three_workers_pace_to_the_rpm_after_a_sixth_of_a_minute_burst(
    redis_url: str, key: str
) -> None:
    # 120 rpm: a burst of 20 at once, then one every 0.5 s, however many workers ask.
    start, sent = _run_workers(redis_url, key, rpm=120, tpm=10**9, tokens=1, workers=3, seconds=3.0)
    in_window = [t - start for t in sent if t - start <= 3.0]
    assert sum(1 for t in in_window if t < 0.2) == 20  # the opening burst, no more
    # 20 + 2/s over 3 s = 26; never more than that (+1 for timing at the edge), and not far less.
    assert 24 <= len(in_window) <= 27
    steady = sorted(t for t in in_window if t >= 0.2)
    gaps = [b - a for a, b in itertools.pairwise(steady)]
    assert all(gap >= 0.45 for gap in gaps), gaps


def _process_worker(url: str, key: str, start: float, seconds: float, out: object) -> None:
    """One worker process: wait for the common start, acquire until the end, report times."""

    async def go() -> list[float]:
        sent: list[float] = []
        async with RedisRateLimiter(url, rpm=120, tpm=10**9, key=key) as limiter:
            await asyncio.sleep(max(start - time.time(), 0))
            while time.time() < start + seconds:
                await limiter.acquire(1)
                sent.append(time.time())
        return sent

    out.put(asyncio.run(go()))  # type: ignore[attr-defined]


def test_two_processes_share_one_limit(redis_url: str, key: str) -> None:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    start = time.time() + 2.0  # time for both processes to import and connect
    processes = [
        context.Process(target=_process_worker, args=(redis_url, key, start, 3.0, queue))
        for _ in range(2)
    ]
    for process in processes:
        process.start()
    results = [queue.get(timeout=30) for _ in processes]
    for process in processes:
        process.join(timeout=10)
    sent = [t - start for times in results for t in times if t - start <= 3.0]
    assert all(times for times in results), "both processes got grants"
    assert 24 <= len(sent) <= 27  # as one process would: 20 + 2/s over 3 s


def test_tokens_bind_first_with_large_requests(redis_url: str, key: str) -> None:
    # 60k tpm = 1000 tokens/s and a burst of 10k; requests of 2000 tokens: five at once, then
    # one every 2 s. The request limit (6000 rpm) is nowhere near.
    start, sent = _run_workers(
        redis_url, key, rpm=6000, tpm=60_000, tokens=2000, workers=3, seconds=2.5
    )
    in_window = [t - start for t in sent if t - start <= 2.5]
    assert sum(1 for t in in_window if t < 0.2) == 5
    assert len(in_window) * 2000 <= 10_000 + 1000 * 2.5
    assert len(in_window) == 6


def test_settle_refunds_and_charges(redis_url: str, key: str) -> None:
    async def go() -> tuple[float, float]:
        # A frozen clock: no refill, so the levels are exact.
        async with RedisRateLimiter(
            redis_url, rpm=600, tpm=6000, key=key, clock=lambda: 1000.0
        ) as limiter:
            reservation = await limiter.acquire(800)  # of the 1000-token burst
            reservation.settle(300)  # used less: 500 back
            reservation.settle(0)  # only the first settle counts
            await limiter.flush()
            refunded = (await limiter.state())["tokens"]
            (await limiter.acquire(500)).settle(1200)  # used more: 700 charged
            await limiter.flush()
            return refunded, (await limiter.state())["tokens"]

    refunded, charged = asyncio.run(go())
    assert refunded == pytest.approx(700)
    assert charged == pytest.approx(-500)  # in debt: later requests wait it out


def test_a_429_seen_by_one_worker_pauses_the_others(redis_url: str, key: str) -> None:
    async def go() -> tuple[float, float, float]:
        async with (
            RedisRateLimiter(redis_url, rpm=600, tpm=10**6, key=key) as one,
            RedisRateLimiter(redis_url, rpm=600, tpm=10**6, key=key) as other,
        ):
            await other.acquire(1)  # plenty in the buckets: no wait
            one.observe(429, {"Retry-After-Ms": "800"})
            await one.flush()
            started = time.monotonic()
            await other.acquire(1)
            waited = time.monotonic() - started
            state = await other.state()
            return waited, state["factor"], state["pause"]

    waited, factor, pause_left = asyncio.run(go())
    assert 0.75 <= waited <= 1.5
    assert factor == pytest.approx(0.9, abs=0.01)  # the shared rate decreased, once
    assert pause_left == 0


def test_remaining_headers_below_the_books_bind_every_worker(redis_url: str, key: str) -> None:
    async def go() -> dict[str, float]:
        async with (
            RedisRateLimiter(redis_url, rpm=600, tpm=60_000, key=key, clock=lambda: 5.0) as one,
            RedisRateLimiter(redis_url, rpm=600, tpm=60_000, key=key, clock=lambda: 5.0) as two,
        ):
            # Nothing granted yet, so the server counts use that is not ours: it binds.
            one.observe(
                200, {"x-ratelimit-remaining-requests": "3", "x-ratelimit-remaining-tokens": "50"}
            )
            one.observe(200, {"x-ratelimit-remaining-requests": "500"})  # may be older: ignored
            await one.flush()
            return await two.state()  # the other worker sees it

    clamped = asyncio.run(go())
    assert clamped["requests"] == pytest.approx(3)
    assert clamped["tokens"] == pytest.approx(50)


def test_nothing_remaining_holds_every_worker_until_the_reset(redis_url: str, key: str) -> None:
    async def go() -> float:
        async with (
            RedisRateLimiter(redis_url, rpm=600, tpm=60_000, key=key) as one,
            RedisRateLimiter(redis_url, rpm=600, tpm=60_000, key=key) as two,
        ):
            one.observe(
                200, {"x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "600ms"}
            )
            await one.flush()
            started = time.monotonic()
            await two.acquire(1)  # the one request the reset lets through
            waited = time.monotonic() - started
            # Then nothing more until a response says there is room (or a minute passes).
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(one.acquire(1), timeout=1.0)
            return waited

    assert 0.55 <= asyncio.run(go()) <= 0.9


def test_a_response_is_placed_among_the_grants_of_its_task(redis_url: str, key: str) -> None:
    # 60 RPM: a burst of 10. Three grants, then the server says 2 remain: it counts 55 beyond
    # the books' 3. Heard from the task that took the grants (the HTTP hook runs there), the
    # response answers the last of them, which the server has counted, and those before it: 2
    # remain. Heard from elsewhere, any of the three may be uncounted yet: none remains. The
    # later grant's word replaces the other.
    async def go() -> list[float]:
        async with RedisRateLimiter(
            redis_url, rpm=60, tpm=10**6, key=key, clock=lambda: 9.0
        ) as limiter:
            for _ in range(3):
                await limiter.acquire(1)
            headers = {"x-ratelimit-remaining-requests": "2"}
            asyncio.get_running_loop().call_soon(
                limiter.observe, 200, headers, context=contextvars.Context()
            )
            await asyncio.sleep(0)
            await limiter.flush()
            seen = [(await limiter.state())["requests"]]
            limiter.observe(200, headers)
            await limiter.flush()
            return [*seen, (await limiter.state())["requests"]]

    assert asyncio.run(go()) == [pytest.approx(-1), pytest.approx(2)]


class _Refused(Exception):
    """Raised by the test's sleep: the limiter asked this acquirer to wait."""


def test_no_over_grant_under_many_concurrent_acquirers(redis_url: str, key: str) -> None:
    async def refuse(_seconds: float) -> None:
        raise _Refused

    async def go() -> tuple[int, float]:
        # A frozen clock, so nothing refills: exactly the burst (100 requests) may go now, and
        # one more may reserve ahead; everyone else must be told to wait.
        limiters = [
            RedisRateLimiter(
                redis_url, rpm=600, tpm=10**9, key=key, clock=lambda: 7.0, sleep=refuse
            )
            for _ in range(10)
        ]
        try:
            outcomes = await asyncio.gather(
                *(limiters[i % 10].acquire(1) for i in range(400)), return_exceptions=True
            )
            state = await limiters[0].state()
        finally:
            for limiter in limiters:
                await limiter.aclose()
        for outcome in outcomes:
            if isinstance(outcome, BaseException) and not isinstance(outcome, _Refused):
                raise outcome
        return sum(1 for outcome in outcomes if not isinstance(outcome, BaseException)), state[
            "requests"
        ]

    granted, level = asyncio.run(go())
    assert granted == 100
    assert level == pytest.approx(-1)  # the one reserve-ahead grant, and nothing else taken


def test_a_large_request_is_not_starved_by_small_ones(redis_url: str, key: str) -> None:
    # 600k tpm = 10k tokens/s. Three workers keep asking for 500 tokens each; a request for
    # 20k (two seconds' worth) still goes within about its own two seconds: it needs only a
    # bucket out of debt, as the small ones do, and then reserves ahead.
    async def go() -> float:
        limiters = [RedisRateLimiter(redis_url, rpm=10**5, tpm=600_000, key=key) for _ in range(4)]
        until = time.monotonic() + 6.0
        small = [asyncio.create_task(_worker(limiter, 500, until, [])) for limiter in limiters[:3]]
        try:
            await asyncio.sleep(0.5)  # the burst is gone; the small ones drain every refill
            started = time.monotonic()
            await limiters[3].acquire(20_000)
            return time.monotonic() - started
        finally:
            for task in small:
                task.cancel()
            await asyncio.gather(*small, return_exceptions=True)
            for limiter in limiters:
                await limiter.aclose()

    waited = asyncio.run(go())
    assert waited < 4.0


def test_rate_limited_backend_takes_the_shared_limiter(redis_url: str, key: str) -> None:
    from summariser.backends.base import CompletionRequest, Message
    from summariser.backends.fake import FakeBackend
    from summariser.batch.ratelimit import RateLimitedBackend

    async def go() -> float:
        backend = FakeBackend()
        backend.enqueue("x" * 40)  # 10 completion tokens; the prompt below is 25
        async with RedisRateLimiter(
            redis_url, rpm=600, tpm=60_000, key=key, clock=lambda: 3.0
        ) as limiter:
            # Annotated with the in-process RateLimiter, it needs only the Limiter protocol.
            paced = RateLimitedBackend(backend, limiter, lambda text: len(text) // 4)
            request = CompletionRequest(
                messages=(Message("user", "y" * 100),),
                schema_name="extraction",
                json_schema={},
                purpose="extract",
                data="",
                max_tokens=500,
            )
            await paced.complete(request)
            await limiter.flush()
            return (await limiter.state())["tokens"]

    # Burst 10_000; the estimate (25 + 4 + 3 + 500) was taken, then settled to the 35 used.
    assert asyncio.run(go()) == pytest.approx(10_000 - 35)


# --- simulated minutes: workers, a sliding-window server, virtual time -------------------------


class VirtualTime:
    """A clock and a sleep for the simulated callers: time moves to the next wake-up only when
    every caller sleeps (not while one waits for Redis), so minutes take a second or two and
    every wait is the limiter's."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.active = 0  # callers not asleep
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._count = itertools.count()
        self._idle = asyncio.Event()

    def clock(self) -> float:
        return self.now

    def leave(self) -> None:
        self.active -= 1
        if self.active == 0:
            self._idle.set()

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._timers, (self.now + max(seconds, 0.0), next(self._count), future))
        self.leave()
        await future

    async def run(self, until: float) -> None:
        while True:
            await self._idle.wait()
            self._idle.clear()
            if not self._timers or self._timers[0][0] > until:
                return
            self.now = self._timers[0][0]
            while self._timers and self._timers[0][0] <= self.now:
                self.active += 1
                heapq.heappop(self._timers)[2].set_result(None)


def _simulate(
    url: str, key: str, *, rpm: int, server_rpm: int, workers: int, slots: int, seconds: float
) -> SlidingWindowServer:
    """``workers`` limiters on one key (the worker processes), each with ``slots`` callers
    sending one request at a time (0.5 s each) to a sliding-window server; a 429 is retried
    after its ``retry-after-ms`` without a new grant, as the SDK does."""

    async def go() -> SlidingWindowServer:
        vt = VirtualTime()
        server = SlidingWindowServer(server_rpm, vt.clock, says_limit=False, origin=vt.now)
        limiters = [
            RedisRateLimiter(url, rpm=rpm, tpm=10**9, key=key, clock=vt.clock, sleep=vt.sleep)
            for _ in range(workers)
        ]
        for seed, limiter in enumerate(limiters):
            limiter._random.seed(seed)

        async def caller(limiter: RedisRateLimiter) -> None:
            try:
                while True:
                    await limiter.acquire(1)
                    while (refused := server.arrive()) is not None:
                        limiter.observe(429, refused)
                        await limiter.flush()
                        await vt.sleep(int(refused["retry-after-ms"]) / 1000)
                    await vt.sleep(0.5)
                    limiter.observe(200, server.headers())
                    await limiter.flush()
            finally:
                vt.leave()

        vt.active = workers * slots
        tasks = [asyncio.create_task(caller(limiter)) for limiter in limiters for _ in range(slots)]
        try:
            await vt.run(until=1000.0 + seconds)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for limiter in limiters:
                await limiter.aclose()
        return server

    return asyncio.run(go())


@pytest.mark.parametrize("workers", [2, 4])
def test_workers_use_a_sliding_window_to_its_limit_minute_after_minute(
    redis_url: str, key: str, workers: int
) -> None:
    # benchmarks/workers_throughput.py on a virtual clock: workers of two jobs at a time,
    # 300 requests over a sliding minute, 0.5 s a request. The opening burst fills the window
    # ten seconds early and leaves it, a minute after, over the seconds it took to send. The
    # workers must send what the server frees as it frees it: no 429, and hardly less.
    # (Clamping the shared buckets to x-ratelimit-remaining, and pausing every worker at zero,
    # held them to 0.84 of the limit.)
    server = _simulate(
        redis_url, key, rpm=300, server_rpm=300, workers=workers, slots=2, seconds=200
    )
    assert server.rejected == 0
    assert min(server.per_minute(start) for start in (20, 80, 140)) >= 0.97 * 300


def test_workers_find_a_server_limit_below_the_configured_one_without_a_429_storm(
    redis_url: str, key: str
) -> None:
    # Configured for 600 a minute, the server allows 300 and does not say so: its remaining,
    # below the books, is use they do not know of, and binds every worker. A 429 a minute is
    # left: the reset a full window names is capped, and probed.
    server = _simulate(redis_url, key, rpm=600, server_rpm=300, workers=4, slots=2, seconds=200)
    assert server.rejected <= 6
    assert min(server.per_minute(start) for start in (20, 80, 140)) >= 0.9 * 300
