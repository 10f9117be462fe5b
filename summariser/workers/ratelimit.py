"""One rate limit shared by every worker: requests and tokens per minute, held in Redis.

Stage: workers (asyncio I/O path). In: a request's estimated token count, and the status and
headers of every HTTP response, from any number of processes on any number of machines. Out:
permission to send (a :class:`RedisReservation`, settled with the usage the server reported).
:class:`RedisRateLimiter` has the interface of the in-process
:class:`summariser.batch.ratelimit.RateLimiter` (``acquire``, ``observe``, and ``settle`` on
what ``acquire`` returns), so :class:`~summariser.batch.ratelimit.RateLimitedBackend` wraps a
backend with either: adding workers adds throughput up to the provider's limit and no further.

Model. The same two token buckets as the in-process limiter (requests, tokens; refilled at
``limit / 60`` per second up to a minute's worth; opening at :data:`BURST`, a sixth of a
minute, so that a fleet of fresh workers does not open with a 429 storm), kept in one Redis
hash and changed only by Lua scripts, which Redis runs atomically: no two workers can take the
same tokens. Time is Redis's own (``TIME`` inside the script), so workers whose clocks
disagree still agree on the buckets.

Fairness. Requests are not served in arrival order across processes (that would need a
queue in Redis, with tickets that crashed workers leave behind); a worker that is refused
sleeps the wait the script computed, plus jitter so that refused workers do not return
together, and asks again. Two rules keep a large request from being starved by small ones:

* Reserve-ahead. A request is refused only while a bucket is *in debt* (below zero). When no
  bucket is, the request takes what it needs at once, driving a bucket below zero if it holds
  too little, and is told how long until the bucket would have covered it; it sleeps that
  long holding its grant, and later requests wait out the debt. So a large request needs what
  a small one needs (a bucket out of debt), and sends follow the schedule of a strict token
  bucket. A request bigger than a minute's worth waits for a full bucket, as in-process.
* A claim on the next grant, for the request refused longest ago (by Redis time), held until
  its wait plus jitter plus :data:`CLAIM_GRACE_US`. Without it, a worker whose reserved wait
  has just ended asks again at the very moment the debt is paid, ahead of every refused
  request still sleeping its jitter, and wins every round (the test of a 20k-token request
  among 500-token ones waited 7.5 s, the whole run, before this; 2.7 s after). A claimant that
  never returns costs the others one grace period.

Adaptation, from :meth:`RedisRateLimiter.observe` (wired to every HTTP response):

* 429: a shared pause key (``SET ... PX``, from ``retry-after-ms`` / ``retry-after``, else a
  backoff that doubles while this worker keeps meeting 429s without one) that every worker's
  ``acquire`` honours, and a shared multiplicative decrease of the rate (once per pause),
  recovered additively, as the in-process limiter does.
* ``x-ratelimit-remaining-{requests,tokens}`` clamp the shared buckets down; at zero remaining,
  the pause key holds every worker until ``x-ratelimit-reset-*`` (capped at
  :data:`~summariser.batch.ratelimit.MAX_RESET_HOLD_S`): with nothing left no request can go.
* ``x-ratelimit-limit-*`` are not followed: workers may be configured differently, and the
  shared limit is the configured ``rpm`` / ``tpm``, which should match the account's tier.

``settle`` and ``observe`` are synchronous, as the backend and the HTTP hook call them; each
starts a short task on the running loop that updates Redis. :meth:`RedisRateLimiter.flush`
waits for those, :meth:`RedisRateLimiter.aclose` too before closing the connection. Redis
errors in ``acquire`` propagate: a worker that cannot reach the shared limit must not send
unpaced.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import redis.asyncio as aioredis

from summariser.batch.ratelimit import (
    BACKOFF_S,
    BURST,
    DECREASE,
    MAX_BACKOFF_S,
    MAX_RESET_HOLD_S,
    MIN_FACTOR,
    RECOVERY_PER_S,
    Clock,
    Limiter,
    RateLimiter,
    Sleep,
    parse_duration,
    retry_after,
)

__all__ = [
    "DEFAULT_KEY",
    "RedisRateLimiter",
    "RedisReservation",
    "key_for_model",
]

log = logging.getLogger(__name__)


DEFAULT_KEY = "summariser:ratelimit:default"
# An idle bucket is full again after a minute; after two, let Redis drop it (it comes back at
# the opening burst, which errs on the safe side).
BUCKET_TTL_MS = 120_000
JITTER_FRACTION = 0.1  # a refused worker sleeps up to 10% longer than asked ...
JITTER_S = 0.005  # ... plus up to 5 ms, so that refused workers do not all return together
# How long past its wait (and jitter) a claim on the next grant outlives a refused request that
# does not come back (cancelled, or its worker died): the others lose at most this, once.
CLAIM_GRACE_US = 100_000


def key_for_model(model: str) -> str:
    """The Redis key of ``model``'s shared limit: one limit per model, as providers count."""
    return f"summariser:ratelimit:{model}"


# Shared by every script: read the buckets, refill them for the time since the last change,
# recover the rate factor (not while paused: the server has just said the rate was too high).
# KEYS: the buckets hash, the pause key. ARGV: rpm, tpm, burst, now in µs ('' = Redis TIME),
# then the script's own. Times are µs; numbers are stored with %.17g, since Lua's tostring
# keeps 14 digits and a µs timestamp has 16.
_PRELUDE = f"""
local rpm = tonumber(ARGV[1])
local tpm = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local s = redis.call('HMGET', KEYS[1], 'r', 't', 'ts', 'f', 'nd')
local r = tonumber(s[1]) or rpm * burst
local tk = tonumber(s[2]) or tpm * burst
local ts = tonumber(s[3]) or now
local f = tonumber(s[4]) or 1
local nd = tonumber(s[5]) or 0
local pause = tonumber(redis.call('GET', KEYS[2])) or 0
local elapsed = math.max(now - ts, 0) / 1000000
local recovering = math.max(now - math.max(ts, pause), 0) / 1000000
f = math.min(1, f + {RECOVERY_PER_S!r} * recovering)
local rrate = rpm / 60 * f
local trate = tpm / 60 * f
r = math.min(rpm, r + elapsed * rrate)
tk = math.min(tpm, tk + elapsed * trate)
local function save()
  local fmt = '%.17g'
  redis.call('HSET', KEYS[1], 'r', string.format(fmt, r), 't', string.format(fmt, tk),
    'ts', string.format(fmt, now), 'f', string.format(fmt, f), 'nd', string.format(fmt, nd))
  redis.call('PEXPIRE', KEYS[1], {BUCKET_TTL_MS})
end
local function ms(us) return math.ceil(us / 1000) end
"""

# ARGV[5]: the tokens wanted, ARGV[6]: this request's id, ARGV[7]: when it was first refused
# ('' on its first try). Returns {granted, wait in ms, first refused}: refused, the wait until
# no bucket is in debt (or the pause ends, or the claim lapses); granted, the wait until the
# buckets would have covered it. The claim (fields c, cs, ce) keeps the next grant for the
# request refused longest ago, until its wait plus a grace period: without it, a worker whose
# reserved wait has just ended asks again at the very moment the debt is paid, ahead of every
# refused request sleeping its jitter, and so on for ever.
_ACQUIRE = (
    _PRELUDE
    + f"""
local need = tonumber(ARGV[5])
local id = ARGV[6]
local since = tonumber(ARGV[7]) or now
local c = redis.call('HMGET', KEYS[1], 'c', 'cs', 'ce')
local claim_live = c[1] and (tonumber(c[3]) or 0) > now
local wait = 0
if pause > now then
  wait = pause - now
elseif r < 0 or tk < 0 then
  wait = math.max(-r / rrate, -tk / trate) * 1000000
elseif claim_live and c[1] ~= id then
  wait = tonumber(c[3]) - now
end
if wait > 0 then
  if not claim_live or c[1] == id or since < tonumber(c[2]) then
    local expires = now + wait * {1 + 2 * JITTER_FRACTION!r} + {CLAIM_GRACE_US}
    redis.call('HSET', KEYS[1], 'c', id, 'cs', string.format('%.17g', since),
      'ce', string.format('%.17g', expires))
  end
  save()
  return {{0, ms(wait), string.format('%.17g', since)}}
end
if c[1] == id then redis.call('HDEL', KEYS[1], 'c', 'cs', 'ce') end
wait = math.max(math.max(1 - r, 0) / rrate, math.max(math.min(need, tpm) - tk, 0) / trate)
r = r - 1
tk = tk - need
save()
return {{1, ms(wait * 1000000), ''}}
"""
)

# ARGV[5]: requests to give back, ARGV[6]: tokens (negative: a charge). Never above a minute.
_ADJUST = (
    _PRELUDE
    + """
r = math.min(rpm, r + tonumber(ARGV[5]))
tk = math.min(tpm, tk + tonumber(ARGV[6]))
save()
return 1
"""
)

# ARGV[5]: remaining requests, ARGV[6]: remaining tokens ('' = not said), ARGV[7]: pause in µs
# ('' = none), ARGV[8]: 1 for a 429. A pause only ever lengthens; the rate decreases once per
# pause, as the 429s of requests already in flight arrive together and are one signal.
_OBSERVE = (
    _PRELUDE
    + f"""
local rem_r = tonumber(ARGV[5])
local rem_t = tonumber(ARGV[6])
local hold = tonumber(ARGV[7])
if rem_r ~= nil then r = math.min(r, rem_r) end
if rem_t ~= nil then tk = math.min(tk, rem_t) end
if hold ~= nil and now + hold > pause then
  redis.call('SET', KEYS[2], string.format('%.17g', now + hold), 'PX', math.max(ms(hold), 1))
end
if ARGV[8] == '1' and now >= nd then
  f = math.max(f * {DECREASE!r}, {MIN_FACTOR!r})
  nd = now + math.max(hold or 0, 1000000)
end
save()
return 1
"""
)


@dataclass(slots=True)
class RedisReservation:
    """What one :meth:`RedisRateLimiter.acquire` took; :meth:`settle` it with the real usage."""

    tokens: int
    _limiter: RedisRateLimiter = field(repr=False)
    settled: bool = False

    def settle(self, actual_tokens: int) -> None:
        """Refund (or charge) the difference between the estimate and ``actual_tokens`` in the
        shared bucket, in the background (see :meth:`RedisRateLimiter.flush`). Only the first
        call counts."""
        if self.settled:
            return
        self.settled = True
        self._limiter._spawn(self._limiter._adjust(0, self.tokens - actual_tokens))


class RedisRateLimiter:
    """Paces every worker sharing ``key`` to ``rpm`` requests and ``tpm`` tokens per minute.

    ``clock`` (seconds) replaces Redis's ``TIME`` and ``sleep`` replaces ``asyncio.sleep``, for
    tests; in production leave them be, so that every worker reads the same clock.
    """

    def __init__(
        self,
        redis_url: str,
        *,
        rpm: int,
        tpm: int,
        key: str = DEFAULT_KEY,
        clock: Clock | None = None,
        sleep: Sleep = asyncio.sleep,
        burst: float = BURST,
    ) -> None:
        if rpm <= 0 or tpm <= 0:
            raise ValueError("rpm and tpm must be positive")
        if not 0 < burst <= 1:
            raise ValueError("burst is a fraction of a minute's worth, in (0, 1]")
        self.rpm = rpm
        self.tpm = tpm
        self.burst = burst
        # A hash tag, so that both keys live in one slot: Redis Cluster runs a script only
        # over keys of one slot.
        self.keys = (f"{{{key}}}:buckets", f"{{{key}}}:pause")
        self.count_429 = 0
        self._clock = clock
        self._sleep = sleep
        self._backoff = BACKOFF_S
        self._random = random.Random()
        self._redis = aioredis.Redis.from_url(redis_url, decode_responses=True)
        self._acquire_script = self._redis.register_script(_ACQUIRE)
        self._adjust_script = self._redis.register_script(_ADJUST)
        self._observe_script = self._redis.register_script(_OBSERVE)
        self._pending: set[asyncio.Task[None]] = set()

    async def acquire(self, tokens: int) -> RedisReservation:
        """Wait until the shared buckets allow this request, then take from them."""
        tokens = max(tokens, 0)
        request_id = uuid.uuid4().hex
        first_refused = ""
        while True:
            granted, wait_ms, first_refused = await self._run(
                self._acquire_script, tokens, request_id, first_refused
            )
            if not granted:
                wait = wait_ms / 1000
                await self._sleep(wait * (1 + JITTER_FRACTION * self._random.random()) + JITTER_S)
                continue
            try:
                if wait_ms > 0:
                    await self._sleep(wait_ms / 1000)  # reserve-ahead: our grant is held
                await self._wait_out_pause()  # a 429 met meanwhile holds granted requests too
            except asyncio.CancelledError:
                # Given up before sending: give the grant back for others to use.
                self._spawn(self._adjust(1, tokens))
                raise
            return RedisReservation(tokens, self)

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Adapt the shared limit to one HTTP response (in the background, see :meth:`flush`)."""
        headers = {name.lower(): value for name, value in headers.items()}
        remaining = {
            kind: _number(headers.get(f"x-ratelimit-remaining-{kind}"))
            for kind in ("requests", "tokens")
        }
        hold: float | None = None
        for kind, left in remaining.items():
            if left is not None and left < 1:
                reset = parse_duration(headers.get(f"x-ratelimit-reset-{kind}", ""))
                if reset is not None:
                    hold = max(hold or 0.0, min(reset, MAX_RESET_HOLD_S))
        if status == 429:
            self.count_429 += 1
            delay = retry_after(headers)
            if delay is None:
                delay = self._backoff
                self._backoff = min(self._backoff * 2, MAX_BACKOFF_S)
            hold = max(hold or 0.0, delay)
            log.info("429: pausing every worker for %.2fs", delay)
        elif status < 400:
            self._backoff = BACKOFF_S
        if hold is None and all(left is None for left in remaining.values()):
            return  # nothing to tell the others: spare the round trip
        self._spawn(
            self._call(
                self._observe_script,
                _arg(remaining["requests"]),
                _arg(remaining["tokens"]),
                "" if hold is None else _arg(hold * 1e6),
                "1" if status == 429 else "0",
            )
        )

    async def state(self) -> dict[str, float]:
        """The shared buckets as last written (``requests``, ``tokens``, ``factor``), and the
        pause left in seconds: for tests and diagnostics."""
        raw = await self._redis.hgetall(self.keys[0])
        fields = {str(key): float(value) for key, value in raw.items() if key in ("r", "t", "f")}
        pause_ms = await self._redis.pttl(self.keys[1])
        return {
            "requests": fields.get("r", self.rpm * self.burst),
            "tokens": fields.get("t", self.tpm * self.burst),
            "factor": fields.get("f", 1.0),
            "pause": max(pause_ms, 0) / 1000,
        }

    async def flush(self) -> None:
        """Wait until every settle and observe so far has reached Redis."""
        while self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    async def aclose(self) -> None:
        """Flush, then close the connection pool."""
        await self.flush()
        await self._redis.aclose()

    async def __aenter__(self) -> RedisRateLimiter:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _wait_out_pause(self) -> None:
        while (left_ms := await self._redis.pttl(self.keys[1])) > 0:
            await self._sleep(left_ms / 1000 + JITTER_S * self._random.random())

    async def _adjust(self, requests: int, tokens: int) -> None:
        await self._call(self._adjust_script, requests, tokens)

    async def _run(self, script: Any, *args: float | str) -> tuple[bool, int, str]:
        granted, wait_ms, first_refused = await self._call(script, *args)
        return bool(granted), int(wait_ms), str(first_refused)

    async def _call(self, script: Any, *args: float | str) -> Any:
        now = "" if self._clock is None else _arg(self._clock() * 1e6)
        base = (self.rpm, self.tpm, _arg(self.burst), now)
        # EVALSHA, loading the script first if this server has not seen it.
        return await script(keys=list(self.keys), args=[*base, *args])

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._pending.add(task)  # a reference, or the task may be collected mid-flight
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._pending.discard(task)
        if not task.cancelled() and (err := task.exception()) is not None:
            # Losing one update errs by one request's estimate; it must not kill the caller.
            log.warning("rate limit update failed: %r", err)


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _arg(value: float | None) -> str:
    """A script argument: repr keeps every digit of a float; '' says "not given"."""
    if value is None:
        return ""
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


if TYPE_CHECKING:

    def _both_are_limiters(shared: RedisRateLimiter, local: RateLimiter) -> tuple[Limiter, ...]:
        """Never called: mypy checks here that both limiters have the interface."""
        return shared, local
