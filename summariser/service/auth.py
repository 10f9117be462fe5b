"""Who may call the API, and how often: bearer API keys and a token bucket per key.

Stage: service edge. In: the ``Authorization`` header and the configured key digests
(:class:`~summariser.service.settings.ServiceSettings`). Out: a :class:`Principal` (a stable,
non-secret id of the key, used for rate limits and job ownership), or a 401 / 429 problem.

Keys are compared as SHA-256 digests with :func:`hmac.compare_digest`, against every
configured digest without stopping at the first match, so the time taken says nothing about
which key (or how much of one) matched. ``/healthz``, ``/readyz`` and ``/metrics`` need no key.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

ANONYMOUS = "anonymous"


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: ``id`` is ``key:<first 12 hex digits of the key's digest>``, or
    ``open:<client address>`` when the API is open."""

    id: str
    authenticated: bool


def matching_key(presented: str, digests: Sequence[bytes]) -> bytes | None:
    """The configured digest that ``presented`` hashes to, or None; constant time in which
    digest matches (every digest is compared)."""
    candidate = hashlib.sha256(presented.encode("utf-8")).digest()
    found: bytes | None = None
    for digest in digests:
        if hmac.compare_digest(candidate, digest):
            found = digest
    return found


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def principal_for(digest: bytes) -> Principal:
    return Principal(id=f"key:{digest.hex()[:12]}", authenticated=True)


class RateLimiter:
    """A token bucket per principal: ``burst`` requests at once, refilled at ``per_minute``.

    :meth:`take` returns 0 when the request may go on, else the seconds until it may (the
    ``Retry-After``). The clock is injectable for tests.
    """

    _MAX_BUCKETS = 10_000

    def __init__(
        self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(max(1, burst))
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # id -> (tokens, last time)

    def take(self, key: str) -> float:
        now = self._clock()
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            self._prune(now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self.rate if self.rate > 0 else math.inf

    def _prune(self, now: float) -> None:
        """Forget full buckets when there are many (open APIs key them by client address)."""
        if len(self._buckets) <= self._MAX_BUCKETS:
            return
        full = [
            key
            for key, (tokens, last) in self._buckets.items()
            if tokens + (now - last) * self.rate >= self.burst
        ]
        for key in full:
            del self._buckets[key]
