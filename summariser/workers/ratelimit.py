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
minute, so that a fleet of fresh workers does not open with a 429 storm), and the same books
of what was granted over the last minute (see :mod:`summariser.batch.ratelimit`: a request
also needs room there, the limit less the minute's grants less the use the server is known to
count beyond them). The buckets and the foreign use are one Redis hash, the books a sorted
set of grants (score: when the request goes, member: ``grant:tokens``), changed only by Lua
scripts, which Redis runs atomically: no two workers can take the same tokens. Time is
Redis's own (``TIME`` inside the script), so workers whose clocks disagree still agree on the
buckets. Grants are numbered from a counter in the hash that starts at the hash's creation
time in µs, so that numbers are never reused when an idle hash expires and comes back.

Fairness. Requests are not served in arrival order across processes (that would need a
queue in Redis, with tickets that crashed workers leave behind); a worker that is refused
sleeps the wait the script computed, plus jitter (a tenth of the wait, at most 0.1 s) so that
refused workers do not return together, and asks again. Two rules keep a large request from
being starved by small ones:

* Reserve-ahead. A request is refused only while a bucket or the books are *in debt* (below
  zero). When none is, the request takes what it needs at once, driving a bucket (or the
  books' room) below zero if it holds too little, and is told how long until it would have
  been covered; it sleeps that long holding its grant (entered in the books at the time it
  will go), and later requests wait out the debt. So a large request needs what a small one
  needs (nothing in debt), and sends follow the schedule of a strict token bucket. A request
  bigger than a minute's worth waits for a full bucket, as in-process.
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
* ``x-ratelimit-remaining-{requests,tokens}`` are compared with the shared books, as
  in-process: within them they change nothing; below them the difference is foreign use,
  with the grants after the one answered (numbers from the hash; :meth:`acquire` leaves the
  grant's in a context variable that :meth:`observe`, run by the HTTP hook in the same task,
  reads) taken as not yet counted. A response to a later grant replaces the figure, any other
  only raises it; it lasts a minute at most, wanes at the limit's rate when the server named
  no ``x-ratelimit-reset-*``, and lets one request go at the reset (capped at
  :data:`~summariser.batch.ratelimit.MAX_RESET_HOLD_S`) when nothing was in flight to say
  more. (Clamping the shared buckets to ``remaining``, and pausing every worker at zero until
  the reset, as this limiter once did, held 2 and 4 workers to 0.84 of a sliding-window
  server's limit: at full use ``remaining`` is about zero on nearly every response.)
* ``x-ratelimit-limit-*`` are not followed: workers may be configured differently, and the
  shared limit is the configured ``rpm`` / ``tpm``, which should match the account's tier (a
  lower real limit shows as foreign use).

``settle`` and ``observe`` are synchronous, as the backend and the HTTP hook call them; each
starts a short task on the running loop that updates Redis. :meth:`RedisRateLimiter.flush`
waits for those, :meth:`RedisRateLimiter.aclose` too before closing the connection. Redis
errors in ``acquire`` propagate: a worker that cannot reach the shared limit must not send
unpaced.
"""

from __future__ import annotations

import asyncio
import contextvars
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
    WINDOW_MARGIN_S,
    WINDOW_S,
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
MAX_JITTER_S = 0.1  # ... but no more than 0.1 s longer (10% of a 40 s wait idles everyone) ...
JITTER_S = 0.005  # ... plus up to 5 ms, so that refused workers do not all return together
# How long past its wait (and jitter) a claim on the next grant outlives a refused request that
# does not come back (cancelled, or its worker died): the others lose at most this, once.
CLAIM_GRACE_US = 100_000
MAX_JITTER_US = round(MAX_JITTER_S * 1e6)
WINDOW_US = round(WINDOW_S * 1e6)
MARGIN_US = round(WINDOW_MARGIN_S * 1e6)


def key_for_model(model: str) -> str:
    """The Redis key of ``model``'s shared limit: one limit per model, as providers count."""
    return f"summariser:ratelimit:{model}"


# Shared by every script: read the buckets and the books, refill the buckets for the time since
# the last change, recover the rate factor (not while paused: the server has just said the rate
# was too high), strike off the grants that have left the window, let foreign use lapse or
# wane. KEYS: the buckets hash, the pause key, the books. ARGV: rpm, tpm, burst, now in µs
# ('' = Redis TIME), then the script's own. Times are µs; numbers are stored and passed to
# Redis with %.17g, since Lua's tostring keeps 14 digits and a µs timestamp has 16. R and T
# are the books of requests and tokens: lim, used, x (foreign use), xs (when seen), p (when
# one request may go despite the books; 0: none), v (1: x wanes at the limit's rate).
_PRELUDE = f"""
local rpm = tonumber(ARGV[1])
local tpm = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local W = {WINDOW_US}
local M = {MARGIN_US}
local fmt = '%.17g'
local function str(x) return string.format(fmt, x) end
local s = redis.call('HMGET', KEYS[1], 'r', 't', 'ts', 'f', 'nd', 'n', 'n0', 'nt', 'xg',
  'wr', 'xr', 'xsr', 'pr', 'vr', 'wt', 'xt', 'xst', 'pt', 'vt')
local r = tonumber(s[1]) or rpm * burst
local tk = tonumber(s[2]) or tpm * burst
local ts = tonumber(s[3]) or now
local f = tonumber(s[4]) or 1
local nd = tonumber(s[5]) or 0
local n = tonumber(s[6]) or now
local n0 = tonumber(s[7]) or n
local nt = tonumber(s[8]) or 0
local xg = tonumber(s[9]) or -1
local R = {{lim = rpm, used = tonumber(s[10]) or 0, x = tonumber(s[11]) or 0,
  xs = tonumber(s[12]) or 0, p = tonumber(s[13]) or 0, v = tonumber(s[14]) or 0}}
local T = {{lim = tpm, used = tonumber(s[15]) or 0, x = tonumber(s[16]) or 0,
  xs = tonumber(s[17]) or 0, p = tonumber(s[18]) or 0, v = tonumber(s[19]) or 0, tokens = true}}
local pause = tonumber(redis.call('GET', KEYS[2])) or 0
local elapsed = math.max(now - ts, 0) / 1000000
local recovering = math.max(now - math.max(ts, pause), 0) / 1000000
f = math.min(1, f + {RECOVERY_PER_S!r} * recovering)
local rrate = rpm / 60 * f
local trate = tpm / 60 * f
r = math.min(rpm, r + elapsed * rrate)
tk = math.min(tpm, tk + elapsed * trate)
local function amount(K, member)
  if K.tokens then return tonumber(string.match(member, ':(.*)$')) end
  return 1
end
local gone = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', str(now - W - M))
if #gone > 0 then
  for _, member in ipairs(gone) do
    R.used = R.used - 1
    T.used = T.used - amount(T, member)
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', str(now - W - M))
  if redis.call('ZCARD', KEYS[3]) == 0 then R.used = 0; T.used = 0 end
end
for _, K in ipairs({{R, T}}) do
  if K.x > 0 and now >= K.xs + W then K.x = 0; K.p = 0; K.v = 0 end
  if K.v == 1 then K.x = math.max(K.x - elapsed * K.lim / 60, 0) end
end
local function room(K) return K.lim - K.used - K.x end
local function save()
  redis.call('HSET', KEYS[1], 'r', str(r), 't', str(tk), 'ts', str(now), 'f', str(f),
    'nd', str(nd), 'n', str(n), 'n0', str(n0), 'nt', str(nt), 'xg', str(xg),
    'wr', str(R.used), 'xr', str(R.x), 'xsr', str(R.xs), 'pr', str(R.p), 'vr', str(R.v),
    'wt', str(T.used), 'xt', str(T.x), 'xst', str(T.xs), 'pt', str(T.p), 'vt', str(T.v))
  redis.call('PEXPIRE', KEYS[1], {BUCKET_TTL_MS})
  redis.call('PEXPIRE', KEYS[3], {BUCKET_TTL_MS})
end
local function ms(us) return math.ceil(us / 1000) end
-- µs until the books of K have `short` more room: grants leave the window, foreign use
-- wanes or lapses, or the reset lets one request go; whichever comes first.
local function wane_wait(K, short)
  if short <= 1e-6 then return 0 end
  if K.v ~= 1 or short > K.x + 1e-6 then return math.huge end
  return short / (K.lim / 60) * 1000000
end
local function room_wait(K, short)
  if short <= 1e-6 then return 0 end
  local best = wane_wait(K, short)
  if K.p > 0 then best = math.min(best, math.max(K.p - now, 0)) end
  if K.x > 0 then best = math.min(best, math.max(K.xs + W - now, 0)) end
  local freed, start = 0, 0
  while true do
    local batch = redis.call('ZRANGE', KEYS[3], start, start + 63, 'WITHSCORES')
    for i = 1, #batch, 2 do
      local leaves = tonumber(batch[i + 1]) + W + M - now
      if leaves >= best then return best end
      freed = freed + amount(K, batch[i])
      best = math.min(best, math.max(leaves, wane_wait(K, short - freed)))
    end
    if #batch < 128 then break end
    start = start + 64
  end
  return math.min(best, W + M)
end
"""

# ARGV[5]: the tokens wanted, ARGV[6]: this request's id, ARGV[7]: when it was first refused
# ('' on its first try). Returns {granted, wait in ms, first refused, grant, tokens granted so
# far}: refused, the wait until nothing is in debt (or the pause ends, or the claim lapses);
# granted, the wait until it would have been covered, and the grant's number and the running
# total of tokens granted (the marks :meth:`RedisRateLimiter.observe` passes back). The claim
# (fields c, cs, ce) keeps the next grant for the request refused longest ago, until its wait
# plus a grace period: without it, a worker whose reserved wait has just ended asks again at
# the very moment the debt is paid, ahead of every refused request sleeping its jitter, and so
# on for ever. At its reset, one request may go however short the books (p): the request that
# goes on it (now or, reserving ahead, then) uses it up.
_ACQUIRE = (
    _PRELUDE
    + f"""
local need = tonumber(ARGV[5])
local id = ARGV[6]
local since = tonumber(ARGV[7]) or now
local c = redis.call('HMGET', KEYS[1], 'c', 'cs', 'ce')
local claim_live = c[1] and (tonumber(c[3]) or 0) > now
local probe_r = R.p > 0 and R.p <= now
local probe_t = T.p > 0 and T.p <= now
local room_r, room_t = room(R), room(T)
local wait = 0
if pause > now then
  wait = pause - now
elseif r < 0 or tk < 0 or (room_r < 0 and not probe_r) or (room_t < 0 and not probe_t) then
  wait = math.max(-r / rrate, -tk / trate, 0) * 1000000
  if not probe_r then wait = math.max(wait, room_wait(R, -room_r)) end
  if not probe_t then wait = math.max(wait, room_wait(T, -room_t)) end
elseif claim_live and c[1] ~= id then
  wait = tonumber(c[3]) - now
end
if wait > 0 then
  if not claim_live or c[1] == id or since < tonumber(c[2]) then
    local expires = now + wait + 2 * math.min(wait * {JITTER_FRACTION!r}, {MAX_JITTER_US})
      + {CLAIM_GRACE_US}
    redis.call('HSET', KEYS[1], 'c', id, 'cs', str(since), 'ce', str(expires))
  end
  save()
  return {{0, ms(wait), str(since)}}
end
if c[1] == id then redis.call('HDEL', KEYS[1], 'c', 'cs', 'ce') end
local tneed = math.min(need, tpm)
wait = math.max(math.max(1 - r, 0) / rrate, math.max(tneed - tk, 0) / trate) * 1000000
for _, short in ipairs({{{{R, 1 - room_r}}, {{T, tneed - room_t}}}}) do
  local K, books = short[1], room_wait(short[1], short[2])
  if short[2] > 1e-6 and K.p > 0 and books >= K.p - now - 1 then K.p = 0 end  -- it goes on p
  wait = math.max(wait, books)
end
r = r - 1
tk = tk - need
n = n + 1
nt = nt + need
R.used = R.used + 1
T.used = T.used + need
redis.call('ZADD', KEYS[3], str(now + wait), str(n) .. ':' .. str(need))
save()
return {{1, ms(wait), '', str(n), str(nt)}}
"""
)

# ARGV[5]: requests to give back (1: a grant never used, 0: a settle), ARGV[6]: tokens
# (negative: a charge), ARGV[7]: the grant, ARGV[8]: the tokens it took. Buckets never above a
# minute; the books lose the grant given back, or have its tokens corrected.
_ADJUST = (
    _PRELUDE
    + """
local back = tonumber(ARGV[5])
local refund = tonumber(ARGV[6])
r = math.min(rpm, r + back)
tk = math.min(tpm, tk + refund)
local took = tonumber(ARGV[8])
local member = str(tonumber(ARGV[7])) .. ':' .. str(took)
local score = redis.call('ZSCORE', KEYS[3], member)
if score then
  redis.call('ZREM', KEYS[3], member)
  if back > 0 then
    R.used = R.used - back
    T.used = T.used - took
  else
    redis.call('ZADD', KEYS[3], score, str(tonumber(ARGV[7])) .. ':' .. str(took - refund))
    T.used = T.used - refund
  end
end
save()
return 1
"""
)

# ARGV[5], [6]: remaining requests, tokens ('' = not said); [7], [8]: their resets in µs ('' =
# not said); [9]: the grant answered ('' = not known), [10]: the running total of tokens at it,
# [11]: its tokens; [12]: 1 for a 429; [13]: the pause in µs ('' = none). A pause only ever
# lengthens; the rate decreases once per pause, as the 429s of requests already in flight
# arrive together and are one signal.
_OBSERVE = (
    _PRELUDE
    + f"""
local grant = tonumber(ARGV[9])
if grant ~= nil and grant < n0 then grant = nil end  -- a grant of a hash since expired
local refused = ARGV[12] == '1'
local newer = grant ~= nil and grant >= xg
local after = {{[R] = R.used, [T] = T.used}}  -- grants the server may not have counted
if grant ~= nil then
  after[R] = n - grant
  after[T] = nt - tonumber(ARGV[10])
  if refused then
    after[R] = after[R] + 1
    after[T] = after[T] + tonumber(ARGV[11])
  end
end
local told = grant == nil or n == grant  -- nothing in flight after it will tell more
local old = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', str(now - W))
local function follow(K, remaining, reset)
  if remaining == nil then return end
  local forgotten = 0  -- in the books' margin: the server no longer counts them
  for _, member in ipairs(old) do forgotten = forgotten + amount(K, member) end
  local beyond = K.lim - remaining - (K.used - forgotten)
  local seen = 0
  if beyond > 0 then seen = math.min(beyond + math.max(after[K], 0), K.lim) end
  if not newer and seen <= K.x then return end
  K.x = seen; K.xs = now; K.p = 0; K.v = 0
  if seen > 0 then
    if reset == nil then K.v = 1
    elseif not refused and told then K.p = now + reset end
  end
end
follow(R, tonumber(ARGV[5]), tonumber(ARGV[7]))
follow(T, tonumber(ARGV[6]), tonumber(ARGV[8]))
if newer then xg = grant end
local hold = tonumber(ARGV[13])
if hold ~= nil and now + hold > pause then
  redis.call('SET', KEYS[2], str(now + hold), 'PX', math.max(ms(hold), 1))
end
if refused and now >= nd then
  f = math.max(f * {DECREASE!r}, {MIN_FACTOR!r})
  nd = now + math.max(hold or 0, 1000000)
end
save()
return 1
"""
)

# KEYS[1]: the pause key; ARGV[1]: now in µs ('' = Redis TIME). The pause left, in ms.
_PAUSE_LEFT = """
local now = tonumber(ARGV[1])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local pause = tonumber(redis.call('GET', KEYS[1])) or 0
return math.max(math.ceil((pause - now) / 1000), 0)
"""

# The grant last taken in this task: (limiter, grant, tokens granted so far, its tokens). The
# HTTP response hook runs in the task that acquired, so observe knows which grant it answers.
_LAST_GRANT: contextvars.ContextVar[tuple[object, str, str, int] | None] = contextvars.ContextVar(
    "summariser_workers_last_grant", default=None
)


@dataclass(slots=True)
class RedisReservation:
    """What one :meth:`RedisRateLimiter.acquire` took; :meth:`settle` it with the real usage."""

    tokens: int
    _limiter: RedisRateLimiter = field(repr=False)
    settled: bool = False
    _grant: str = field(default="", repr=False)  # its number, in the books

    def settle(self, actual_tokens: int) -> None:
        """Refund (or charge) the difference between the estimate and ``actual_tokens`` in the
        shared bucket and books, in the background (see :meth:`RedisRateLimiter.flush`). Only
        the first call counts."""
        if self.settled:
            return
        self.settled = True
        refund = self.tokens - actual_tokens
        self._limiter._spawn(self._limiter._adjust(0, refund, self._grant, self.tokens))


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
        # A hash tag, so that the keys live in one slot: Redis Cluster runs a script only over
        # keys of one slot.
        self.keys = (f"{{{key}}}:buckets", f"{{{key}}}:pause", f"{{{key}}}:books")
        self.count_429 = 0
        self._clock = clock
        self._sleep = sleep
        self._backoff = BACKOFF_S
        self._random = random.Random()
        self._redis = aioredis.Redis.from_url(redis_url, decode_responses=True)
        self._acquire_script = self._redis.register_script(_ACQUIRE)
        self._adjust_script = self._redis.register_script(_ADJUST)
        self._observe_script = self._redis.register_script(_OBSERVE)
        self._pause_script = self._redis.register_script(_PAUSE_LEFT)
        self._pending: set[asyncio.Task[None]] = set()

    async def acquire(self, tokens: int) -> RedisReservation:
        """Wait until the shared buckets allow this request, then take from them."""
        tokens = max(tokens, 0)
        request_id = uuid.uuid4().hex
        first_refused = ""
        while True:
            reply = await self._call(self._acquire_script, tokens, request_id, first_refused)
            granted, wait_ms, first_refused = bool(reply[0]), int(reply[1]), str(reply[2])
            if not granted:
                wait = wait_ms / 1000
                jitter = min(wait * JITTER_FRACTION, MAX_JITTER_S) * self._random.random()
                await self._sleep(wait + jitter + JITTER_S)
                continue
            grant, granted_tokens = str(reply[3]), str(reply[4])
            try:
                if wait_ms > 0:
                    await self._sleep(wait_ms / 1000)  # reserve-ahead: our grant is held
                await self._wait_out_pause()  # a 429 met meanwhile holds granted requests too
            except asyncio.CancelledError:
                # Given up before sending: give the grant back for others to use.
                self._spawn(self._adjust(1, tokens, grant, tokens))
                raise
            _LAST_GRANT.set((self, grant, granted_tokens, tokens))
            return RedisReservation(tokens, self, _grant=grant)

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Adapt the shared limit to one HTTP response (in the background, see :meth:`flush`)."""
        headers = {name.lower(): value for name, value in headers.items()}
        remaining, resets = [], []
        for kind in ("requests", "tokens"):
            remaining.append(_number(headers.get(f"x-ratelimit-remaining-{kind}")))
            reset = parse_duration(headers.get(f"x-ratelimit-reset-{kind}", ""))
            resets.append(None if reset is None else min(reset, MAX_RESET_HOLD_S) * 1e6)
        hold: float | None = None
        if status == 429:
            self.count_429 += 1
            hold = retry_after(headers)
            if hold is None:
                hold = self._backoff
                self._backoff = min(self._backoff * 2, MAX_BACKOFF_S)
            log.info("429: pausing every worker for %.2fs", hold)
        elif status < 400:
            self._backoff = BACKOFF_S
        if hold is None and all(left is None for left in remaining):
            return  # nothing to tell the others: spare the round trip
        last = _LAST_GRANT.get()
        grant = last[1:] if last is not None and last[0] is self else ("", "", 0)
        self._spawn(
            self._call(
                self._observe_script,
                *(_arg(value) for value in (*remaining, *resets)),
                *grant,
                "1" if status == 429 else "0",
                "" if hold is None else _arg(hold * 1e6),
            )
        )

    async def state(self) -> dict[str, float]:
        """What the shared limit allows now, as last written: ``requests`` and ``tokens`` (the
        bucket, or the books' room when that is less), the rate ``factor``, and the pause left
        in seconds: for tests and diagnostics."""
        raw = await self._redis.hgetall(self.keys[0])
        fields = {str(key): float(value) for key, value in raw.items() if key != "c"}
        pause_ms = await self._pause_left()
        return {
            "requests": min(
                fields.get("r", self.rpm * self.burst),
                self.rpm - fields.get("wr", 0.0) - fields.get("xr", 0.0),
            ),
            "tokens": min(
                fields.get("t", self.tpm * self.burst),
                self.tpm - fields.get("wt", 0.0) - fields.get("xt", 0.0),
            ),
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
        while (left_ms := await self._pause_left()) > 0:
            await self._sleep(left_ms / 1000 + JITTER_S * self._random.random())

    async def _pause_left(self) -> int:
        """Milliseconds of the shared pause left, by the limiter's clock (Redis's by default)."""
        return int(await self._pause_script(keys=[self.keys[1]], args=[self._now()]))

    async def _adjust(self, requests: int, tokens: int, grant: str, took: int) -> None:
        await self._call(self._adjust_script, requests, tokens, grant, took)

    def _now(self) -> str:
        return "" if self._clock is None else _arg(self._clock() * 1e6)

    async def _call(self, script: Any, *args: float | str) -> Any:
        base = (self.rpm, self.tpm, _arg(self.burst), self._now())
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
