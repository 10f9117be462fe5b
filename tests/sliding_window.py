"""A sliding-window rate-limited server on a virtual clock, for the rate limiters' simulations
(tests/batch/test_ratelimit.py, tests/workers/test_ratelimit_redis.py)."""

from __future__ import annotations

import collections
import math
from collections.abc import Callable


class SlidingWindowServer:
    """What benchmarks/fake_openai_server.py does, on a given clock: at most ``limit`` requests
    in any 60 s, a 429 with ``retry-after-ms`` past it, and ``x-ratelimit-*`` reported as of
    the answer (so they count what arrived during the latency)."""

    def __init__(
        self,
        limit: int,
        clock: Callable[[], float],
        *,
        says_limit: bool = True,
        origin: float = 0.0,
    ) -> None:
        self.limit = limit
        self.clock = clock
        self.says_limit = says_limit  # sends x-ratelimit-limit-requests
        self.origin = origin  # the clock's reading at the simulation's start
        self.window: collections.deque[float] = collections.deque()
        self.admitted: list[float] = []
        self.rejected = 0

    def _expire(self) -> float:
        now = self.clock()
        while self.window and self.window[0] + 60.0 <= now:
            self.window.popleft()
        return now

    def headers(self) -> dict[str, str]:
        now = self._expire()
        reset = self.window[0] + 60.0 - now if self.window else 0.0
        headers = {
            "x-ratelimit-remaining-requests": str(max(self.limit - len(self.window), 0)),
            "x-ratelimit-reset-requests": f"{reset * 1000:.0f}ms",
        }
        if self.says_limit:
            headers["x-ratelimit-limit-requests"] = str(self.limit)
        return headers

    def arrive(self) -> dict[str, str] | None:
        """Admit a request now (None), or the headers of its 429."""
        now = self._expire()
        if len(self.window) >= self.limit:
            self.rejected += 1
            wait = self.window[0] + 60.0 - now
            return {"retry-after-ms": str(math.ceil(wait * 1000)), **self.headers()}
        self.window.append(now)
        self.admitted.append(now)
        return None

    def per_minute(self, start: float) -> int:
        """Requests admitted in the minute from ``start`` seconds into the simulation."""
        return sum(1 for at in self.admitted if start <= at - self.origin < start + 60.0)
