"""Client-side pacing of batch jobs: requests per minute and tokens per minute, adapted to what
the server says.

Stage: batch (asyncio I/O path). In: a request's estimated token count, and the status and
headers of every HTTP response. Out: permission to send (a :class:`Reservation`, settled with
the usage the server reported), and a :class:`RateLimitedBackend` that wraps any backend.

Model. Two token buckets, one counting requests and one counting tokens, each refilled
continuously at ``limit / 60`` per second up to ``limit`` (one minute's worth). A request goes
when both buckets hold what it needs; requests go strictly in arrival order (FIFO), so a large
request at the head is not starved by small ones behind it.

The server's books. Beside each bucket the limiter keeps the books a server keeps: what it
granted over the last minute (:data:`WINDOW_S`, plus :data:`WINDOW_MARGIN_S` for the time a
request takes to reach the server). A request also needs room there: the limit less the
minute's grants, less what the server is known to count beyond them (below). A server that
counts over a sliding minute has exactly that room; one that refills a bucket at the limit's
rate has at least that much. So the buckets pace, and the books keep a burst the buckets
allowed from running into a sliding window a minute later, while letting the bucket's savings
go as fast as the window frees room.

Opening burst. The buckets start at ``burst`` (1/6) of a minute's worth, not full: a job that
opened with a full minute in one go would spend that minute's quota in the first second and,
against a server that counts over a sliding minute, would meet a wall of 429s fifty seconds
later. A sixth (ten seconds' worth) gets a job going at once without that.

Adaptation, from :meth:`RateLimiter.observe` (wired to every HTTP response, the SDK's own
retries included):

* 429: every acquisition pauses until ``retry-after-ms`` / ``retry-after`` says (else a short
  backoff that doubles while 429s keep coming without one), and the effective rate shrinks by
  :data:`DECREASE` (at most once per pause, as one burst of 429s is one signal), then recovers
  additively by :data:`RECOVERY_PER_S` per second: AIMD, as TCP does.
* ``x-ratelimit-remaining-{requests,tokens}`` are compared with the books, not obeyed. A
  server alone with this limiter, at the configured limit, counts no more than the books, so
  it has at least the room they say; a remaining within that changes nothing. At full use a
  sliding-window server says about zero on nearly every response, as of a moment ago, while
  the books know what was granted since and what has left the window since. (Clamping the
  buckets to it, as this limiter once did, threw away what a bucket had saved while the
  server was full, then refilled at the steady rate while the server freed room as fast as
  it had been used a minute before: with a few requests in flight, a job ran at 0.84 of the
  limit in the minute after its first full window.)
* A remaining *below* the books' room means the server counts use they do not: another
  client of the account, or a limit lower than configured. The books take it in as
  *foreign* use, and from then on also count as not yet seen by the server what was granted
  after the request the response answers (the response hook runs in the task that acquired,
  so :meth:`RateLimiter.observe` knows which grant that was), and the request itself if it
  was refused. A response to a later grant replaces the figure; any other only raises it,
  as it may be older. Foreign use lasts a minute at most (by then a server has forgotten or
  refilled all of it). Until a later response says more it holds; when the server named no
  ``x-ratelimit-reset-*`` it wanes at the limit's rate; and when nothing was in flight to
  say more, one request may go at the reset (OpenAI durations such as ``6m0s``, ``1s``,
  ``20ms``; capped at :data:`MAX_RESET_HOLD_S` because OpenAI's reset is the time until the
  quota is *full* again, far longer than the wait for one more request).
* ``x-ratelimit-limit-*`` lower than the configured limit lowers it: the server knows the
  account's tier better than a default table.

Retries. Nothing here retries; the SDK does transport retries (and honours the same
Retry-After). The limiter paces first attempts and sees the SDK's 429s through the observer.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import logging
import math
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from summariser.backends.base import Backend, Completion, CompletionRequest

__all__ = [
    "Limiter",
    "RateLimitedBackend",
    "RateLimiter",
    "Reservation",
    "default_limits",
    "parse_duration",
    "rate_limited",
]

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

BURST = 1 / 6  # of a minute's worth, in the buckets at start
DECREASE = 0.9  # multiplicative decrease of the effective rate on a 429
RECOVERY_PER_S = 0.1 / 30  # additive recovery: +10 points of the limit per 30 s without a 429
MIN_FACTOR = 0.25  # the rate never shrinks below a quarter of the limit
BACKOFF_S = 1.0  # first pause on a 429 without Retry-After; doubles up to MAX_BACKOFF_S
MAX_BACKOFF_S = 30.0
MAX_RESET_HOLD_S = 10.0
WINDOW_S = 60.0  # a per-minute limit: servers count the last minute, or refill over one
# The books keep a grant this much longer than the server does: a request reaches the server
# a little after its grant (a few ms from a warm client; 0.1-0.3 s for a worker's first request,
# its client cold, or over the internet), and must not find the entry it replaces still counted.
# It costs margin / 60 of the limit (under 1%) while the books bind.
WINDOW_MARGIN_S = 0.5
# Chat formatting adds a few tokens per message and to prime the answer (OpenAI's cookbook).
TOKENS_PER_MESSAGE = 4
TOKENS_PER_REPLY = 3

# Conservative tier figures (about OpenAI's usage tier 2), as (RPM, TPM), matched by the longest
# prefix of the model name. Override with --rpm / --tpm: an account's real limits are in its
# dashboard and in the x-ratelimit-limit-* headers, which the limiter also follows.
_DEFAULT_LIMITS: dict[str, tuple[int, int]] = {
    "gpt-4o-mini": (5_000, 2_000_000),
    "gpt-4o": (5_000, 450_000),
    "gpt-4.1-nano": (5_000, 2_000_000),
    "gpt-4.1-mini": (5_000, 2_000_000),
    "gpt-4.1": (5_000, 450_000),
    "gpt-4-turbo": (5_000, 450_000),
    "gpt-4": (5_000, 40_000),
    "gpt-3.5-turbo": (3_500, 2_000_000),
}
FALLBACK_LIMITS = (500, 200_000)

_EPSILON_S = 1e-6
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


def default_limits(model: str) -> tuple[int, int]:
    """``(rpm, tpm)`` for ``model``: conservative tier figures, override with --rpm / --tpm.

    A dated snapshot matches its family (``gpt-4o-mini-2024-07-18`` is ``gpt-4o-mini``); an
    unknown model gets :data:`FALLBACK_LIMITS`.
    """
    matches = [prefix for prefix in _DEFAULT_LIMITS if model.startswith(prefix)]
    if not matches:
        return FALLBACK_LIMITS
    return _DEFAULT_LIMITS[max(matches, key=len)]


def parse_duration(text: str) -> float | None:
    """Seconds in an OpenAI reset duration (``6m0s``, ``1.5s``, ``250ms``, ``1h2m``) or a
    plain number of seconds; None when it is neither."""
    text = text.strip().lower()
    try:
        return max(float(text), 0.0)
    except ValueError:
        pass
    if not text or _DURATION_PART.sub("", text):
        return None  # empty, or something besides number+unit pairs
    scale = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    return sum(float(number) * scale[unit] for number, unit in _DURATION_PART.findall(text))


def retry_after(headers: Mapping[str, str]) -> float | None:
    """The delay a 429 asks for: ``retry-after-ms``, else ``retry-after`` in seconds (an HTTP
    date is not supported: OpenAI sends seconds)."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) * scale
        except ValueError:
            continue
        if seconds >= 0:
            return seconds
    return None


@dataclass(slots=True)
class _Bucket:
    """One limit: the token bucket that paces, and the books the server keeps.

    ``level`` may go negative when a settle charges more than reserved. ``sent`` holds
    ``[time, amount, grant]`` of each grant of the last minute (and :data:`WINDOW_MARGIN_S`),
    oldest first, ``grant`` numbering the limiter's grants; ``used`` is their sum.
    ``foreign`` is what the server counts beyond them, as the response to grant
    ``foreign_grant`` said at ``foreign_seen``. It holds until a later grant's response says
    otherwise, for a minute at most (a server has forgotten or refilled all of it by then);
    meanwhile, when it named no reset, it wanes at the limit's rate (``waning``), and when
    nothing was in flight to tell more, one request may go at the reset (``probe_at``).
    """

    limit: float
    level: float
    sent: deque[list[float]] = field(default_factory=deque)
    used: float = 0.0
    foreign: float = 0.0
    foreign_grant: float = -1.0
    foreign_seen: float = -math.inf
    probe_at: float = math.inf
    waning: bool = False

    def rate(self, factor: float = 1.0) -> float:
        return self.limit / 60.0 * factor

    def room(self) -> float:
        """The room the server has, by the books."""
        return self.limit - self.used - self.foreign

    def available(self) -> float:
        """What may be taken now: the bucket's level, or the books' room when that is less."""
        return min(self.level, self.room())

    def refill(self, last: float, now: float, factor: float) -> None:
        """Refill the bucket, strike off grants older than the window, wane foreign use."""
        self.level = min(self.limit, self.level + max(now - last, 0.0) * self.rate(factor))
        while self.sent and self.sent[0][0] <= now - WINDOW_S - WINDOW_MARGIN_S:
            self.used -= self.sent.popleft()[1]
        if not self.sent:
            self.used = 0.0  # no float residue
        if self.foreign and now >= self.foreign_seen + WINDOW_S:
            self.foreign, self.probe_at, self.waning = 0.0, math.inf, False
        if self.waning:
            self.foreign = max(0.0, self.foreign - max(now - last, 0.0) * self.rate())

    def take(self, amount: float, now: float, grant: int) -> list[float]:
        """Take ``amount`` from the bucket and enter it in the books; the entry."""
        if amount > self.room() + _EPSILON_S and self.probe_at <= now:
            self.probe_at = math.inf  # the one request the reset let through
        self.level -= amount
        entry = [now, amount, grant]
        self.sent.append(entry)
        self.used += amount
        return entry

    def correct(self, entry: list[float], amount: float, now: float) -> None:
        """Enter ``amount`` instead of what ``entry`` said, if it is still in the books."""
        if entry[0] > now - WINDOW_S - WINDOW_MARGIN_S:
            self.used += amount - entry[1]
            entry[1] = amount

    def wait(self, need: float, now: float, factor: float) -> float:
        """Seconds until ``need`` is in the bucket and the books have room for it."""
        # A request bigger than a minute's worth waits for a full bucket (and empty books),
        # then goes: the server judges it, the limiter must not block forever.
        need = min(need, self.limit)
        deficit = max(need - self.level, 0.0) / self.rate(factor)
        return max(deficit, self._room_wait(need - self.room(), now))

    def _room_wait(self, short: float, now: float) -> float:
        """Seconds until the books have ``short`` more room (grants leave the window, foreign
        use wanes, or both), or until the probe the reset allows."""
        if short <= _EPSILON_S:
            return 0.0
        best = max(self.probe_at - now, 0.0)
        if self.foreign:  # all of it is gone a minute after it was seen
            best = min(best, max(self.foreign_seen + WINDOW_S - now, 0.0))
        best = min(best, self._wane_wait(short))
        freed = 0.0
        for at, amount, _grant in self.sent:
            leaves = at + WINDOW_S + WINDOW_MARGIN_S - now
            if leaves >= best:
                break
            freed += amount
            best = min(best, max(leaves, self._wane_wait(short - freed)))
        return best

    def _wane_wait(self, short: float) -> float:
        if short <= _EPSILON_S:
            return 0.0
        if not self.waning or short > self.foreign + _EPSILON_S:
            return math.inf
        return short / self.rate()

    def follow(
        self, remaining: float, reset: float | None, grant: int | None, refused: bool, now: float
    ) -> None:
        """Take in a response's ``remaining``: the response to grant ``grant`` (None: not
        known), ``refused`` (a 429) or not. Only use beyond the books is foreign; once there is
        some, the grants the server may not have counted (those after ``grant``, and ``grant``
        itself when refused) are taken as not counted. A response to a later grant than the
        last one's replaces what that said; any other may only raise it."""
        # What the server can still count of ours: the books without their margin.
        forgotten = itertools.takewhile(lambda e: e[0] <= now - WINDOW_S, self.sent)
        beyond = self.limit - remaining - (self.used - sum(e[1] for e in forgotten))
        later = self.used  # grant not known: any of ours may be unseen
        if grant is not None:
            later = 0.0
            for _at, amount, number in reversed(self.sent):
                if number < grant or (number == grant and not refused):
                    break
                later += amount
        seen = 0.0 if beyond <= 0 else min(beyond + later, self.limit)
        if grant is not None and grant >= self.foreign_grant:
            self.foreign_grant = grant
        elif seen <= self.foreign:
            return
        self.foreign, self.foreign_seen = seen, now
        self.probe_at, self.waning = math.inf, False
        if not seen:
            return
        if reset is None:
            self.waning = True  # no word on when room comes back: at the limit's rate
        elif not refused and (grant is None or not later):
            # Nothing in flight will tell more: at the reset, one request may go and see.
            self.probe_at = now + min(reset, MAX_RESET_HOLD_S)


# The last grant in this task: (limiter, grant number). The HTTP response hook runs in the
# task that acquired (RateLimitedBackend awaits both), so observe knows which grant a
# response answers, and so which grants came after it.
_LAST_GRANT: contextvars.ContextVar[tuple[object, int] | None] = contextvars.ContextVar(
    "summariser_batch_last_grant", default=None
)


@dataclass(slots=True)
class Reservation:
    """What one :meth:`RateLimiter.acquire` took; :meth:`settle` it with the real usage."""

    tokens: int
    _limiter: RateLimiter = field(repr=False)
    settled: bool = False
    _entry: list[float] | None = field(default=None, repr=False)  # in the token books

    def settle(self, actual_tokens: int) -> None:
        """Refund (or charge) the difference between the estimate and ``actual_tokens``, in
        the bucket and in the books. Only the first call counts."""
        if self.settled:
            return
        self.settled = True
        self._limiter._adjust_tokens(self.tokens - actual_tokens, self._entry)


class RateLimiter:
    """Paces requests to ``rpm`` requests and ``tpm`` tokens per minute, FIFO.

    ``clock`` and ``sleep`` are injectable for tests (a fake clock makes them instant).
    """

    def __init__(
        self,
        rpm: int,
        tpm: int,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        burst: float = BURST,
    ) -> None:
        if rpm <= 0 or tpm <= 0:
            raise ValueError("rpm and tpm must be positive")
        if not 0 < burst <= 1:
            raise ValueError("burst is a fraction of a minute's worth, in (0, 1]")
        self._clock = clock
        self._sleep = sleep
        self.requests = _Bucket(float(rpm), rpm * burst)
        self.tokens = _Bucket(float(tpm), tpm * burst)
        self.factor = 1.0  # the AIMD share of the limits in use
        self.paused_until = float("-inf")
        self.count_429 = 0
        self._last = clock()
        self._no_decrease_until = float("-inf")
        self._backoff = BACKOFF_S
        self._grants = 0  # grants so far: a grant's number
        # asyncio.Lock wakes its waiters in order and lets no newcomer barge in: FIFO.
        self._queue = asyncio.Lock()
        self._wake: asyncio.Future[None] | None = None

    async def acquire(self, tokens: int) -> Reservation:
        """Wait for this request's turn and until both buckets allow it, then take from them."""
        tokens = max(tokens, 0)
        async with self._queue:  # only the head of the queue looks at the buckets
            while True:
                now = self._advance()
                wait = max(
                    self.paused_until - now,
                    self.requests.wait(1, now, self.factor),
                    self.tokens.wait(tokens, now, self.factor),
                )
                # A microsecond is "now": float rounding must not leave the head chasing a
                # deficit of 1e-13 tokens (with a fake clock, for ever).
                if wait <= _EPSILON_S:
                    self._grants += 1
                    self.requests.take(1, now, self._grants)
                    entry = self.tokens.take(tokens, now, self._grants)
                    _LAST_GRANT.set((self, self._grants))
                    return Reservation(tokens, self, _entry=entry)
                await self._sleep_or_wake(wait)

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Adapt to one HTTP response: its status and headers (any case)."""
        headers = {name.lower(): value for name, value in headers.items()}
        now = self._advance()
        last = _LAST_GRANT.get()
        grant = last[1] if last is not None and last[0] is self else None
        for bucket, kind in ((self.requests, "requests"), (self.tokens, "tokens")):
            room = bucket.room()
            self._follow_headers(bucket, kind, headers, grant, status == 429, now)
            if bucket.room() > room:
                self._wake_head()  # the head may go sooner than it planned
        if status == 429:
            self._on_429(headers, now)
        elif status < 400:
            self._backoff = BACKOFF_S

    def _on_429(self, headers: Mapping[str, str], now: float) -> None:
        self.count_429 += 1
        delay = retry_after(headers)
        if delay is None:
            delay = self._backoff
            self._backoff = min(self._backoff * 2, MAX_BACKOFF_S)
        self.paused_until = max(self.paused_until, now + delay)
        # The 429s of requests already in flight arrive together: one decrease for the lot.
        if now >= self._no_decrease_until:
            self.factor = max(self.factor * DECREASE, MIN_FACTOR)
            self._no_decrease_until = now + max(delay, 1.0)
            log.info("429: pausing %.2fs, rate now %.0f%% of the limit", delay, 100 * self.factor)

    def _follow_headers(
        self,
        bucket: _Bucket,
        kind: str,
        headers: Mapping[str, str],
        grant: int | None,
        refused: bool,
        now: float,
    ) -> None:
        limit = _number(headers.get(f"x-ratelimit-limit-{kind}"))
        if limit is not None and 0 < limit < bucket.limit:
            bucket.limit = limit
            bucket.level = min(bucket.level, limit)
            bucket.foreign = min(bucket.foreign, limit)
        remaining = _number(headers.get(f"x-ratelimit-remaining-{kind}"))
        if remaining is not None:
            reset = parse_duration(headers.get(f"x-ratelimit-reset-{kind}", ""))
            bucket.follow(remaining, reset, grant, refused, now)

    def _adjust_tokens(self, refund: int, entry: list[float] | None) -> None:
        now = self._advance()
        self.tokens.level = min(self.tokens.limit, self.tokens.level + refund)
        if entry is not None:
            self.tokens.correct(entry, entry[1] - refund, now)
        if refund > 0:
            self._wake_head()  # the head may be waiting for exactly these tokens

    def _wake_head(self) -> None:
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    def _advance(self) -> float:
        """Refill the buckets and recover the rate for the time since the last call."""
        now = self._clock()
        # No recovery while paused: the server has just said the rate was too high.
        recovering = max(now - max(self._last, self.paused_until), 0.0)
        self.factor = min(1.0, self.factor + RECOVERY_PER_S * recovering)
        self.requests.refill(self._last, now, self.factor)
        self.tokens.refill(self._last, now, self.factor)
        self._last = now
        return now

    async def _sleep_or_wake(self, delay: float) -> None:
        """Sleep ``delay`` seconds, or less if a refund arrives meanwhile."""
        self._wake = asyncio.get_running_loop().create_future()
        sleeper = asyncio.ensure_future(self._sleep(delay))
        try:
            await asyncio.wait({sleeper, self._wake}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            self._wake = None


class ReservationLike(Protocol):
    """What ``acquire`` returns, in either limiter."""

    tokens: int

    def settle(self, actual_tokens: int) -> None: ...


class Limiter(Protocol):
    """What :class:`RateLimitedBackend` needs: this module's in-process :class:`RateLimiter`
    and the shared one held in Redis (``summariser.workers.ratelimit``) both have it."""

    async def acquire(self, tokens: int) -> ReservationLike: ...

    def observe(self, status: int, headers: Mapping[str, str]) -> None: ...


class RateLimitedBackend:
    """A backend that waits for the limiter before each call to ``inner``.

    The estimate is the prompt's tokens (``count_tokens`` over the message contents, plus chat
    formatting) plus ``request.max_tokens``, the most the answer can use; it is settled with
    the usage the server reports. A failed call keeps its charge: the server may have counted
    it, and over-counting only slows the job down a little.
    """

    def __init__(
        self, inner: Backend, limiter: Limiter, count_tokens: Callable[[str], int]
    ) -> None:
        self.inner = inner
        self.limiter = limiter
        self.count_tokens = count_tokens
        self.name = inner.name
        self.model = inner.model

    def estimate(self, request: CompletionRequest) -> int:
        """The tokens ``request`` may use: prompt, formatting and the answer's ceiling."""
        prompt = sum(self.count_tokens(message.content) for message in request.messages)
        overhead = TOKENS_PER_MESSAGE * len(request.messages) + TOKENS_PER_REPLY
        return prompt + overhead + request.max_tokens

    async def complete(self, request: CompletionRequest) -> Completion:
        reservation = await self.limiter.acquire(self.estimate(request))
        completion = await self.inner.complete(request)
        used = completion.usage.prompt_tokens + completion.usage.completion_tokens
        if used > 0:  # some compatible servers report no usage: keep the estimate then
            reservation.settle(used)
        return completion


def rate_limited(backend: Backend, limiter: Limiter, model: str) -> RateLimitedBackend:
    """``backend`` paced by ``limiter``, counting tokens with ``model``'s encoding; when it is
    an :class:`OpenAIBackend`, every HTTP response (the SDK's retries too) feeds
    :meth:`RateLimiter.observe`."""
    # Imported here: the limiter itself works with any backend and needs neither.
    from summariser.backends.openai import OpenAIBackend
    from summariser.tokens import encoding_for_model

    if isinstance(backend, OpenAIBackend):
        backend.add_observer(limiter.observe)
    return RateLimitedBackend(backend, limiter, encoding_for_model(model).count)


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None
