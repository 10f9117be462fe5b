"""The workers' shared rate limit, as ``runtime_from_env`` wires it: with the ``openai`` backend
and a broker URL, every runtime paces its backend through one limit in Redis, so two runtimes
together stay within ``SUMMARISER_RPM``.

Uses the session's Redis (the ``redis_url`` fixture). The limit's key is per model, so each test
uses a model name of its own and deletes the key after; nothing else in Redis is touched.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

redis = pytest.importorskip("redis")

from summariser.backends.base import Completion, CompletionRequest  # noqa: E402
from summariser.errors import ConfigurationError  # noqa: E402
from summariser.offline.extract import extract  # noqa: E402
from summariser.schema import Usage  # noqa: E402
from summariser.workers.actors import (  # noqa: E402
    SharedLimitBackend,
    runtime_from_env,
    shared_limits,
)
from summariser.workers.ratelimit import key_for_model  # noqa: E402

RPM = 600  # a burst of a sixth of a minute (100 requests), then 10 a second
ARTICLE = "Revenue rose 12% to $4.2 billion in the third quarter, the company said."


class CountingBackend:
    """Answers every request at once with the offline extraction; notes when each came."""

    name = "counting"

    def __init__(self, model: str, calls: list[float]) -> None:
        self.model = model
        self.calls = calls

    async def complete(self, request: CompletionRequest) -> Completion:
        self.calls.append(time.monotonic())
        content = extract(request.data).model_dump_json()
        return Completion(content, "stop", Usage(prompt_tokens=50, completion_tokens=50), "x")


@pytest.fixture
def model(redis_url: str) -> Iterator[str]:
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=0.5)
    name = f"test-shared-limit-{uuid.uuid4().hex}"
    try:
        yield name
    finally:
        keys = list(client.scan_iter(match=f"*{key_for_model(name)}*"))
        if keys:
            client.delete(*keys)
        client.close()


def test_limits_come_from_the_environment_or_the_model_defaults() -> None:
    assert shared_limits("gpt-4o-mini", {"SUMMARISER_RPM": "300", "SUMMARISER_TPM": "9000"}) == (
        300,
        9000,
    )
    rpm, tpm = shared_limits("gpt-4o-mini", {})
    assert rpm > 0 and tpm > 0
    with pytest.raises(ConfigurationError):
        shared_limits("gpt-4o-mini", {"SUMMARISER_RPM": "lots"})


def test_two_runtimes_in_one_process_share_the_limit(
    model: str, redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[float] = []
    made: list[SharedLimitBackend] = []

    def counting_backend(settings: object) -> CountingBackend:
        return CountingBackend(model, calls)

    monkeypatch.setattr("summariser.backends.registry.make_backend", counting_backend)
    for name in ("SUMMARISER_JOBS_DB", "OPENAI_BASE_URL", "SUMMARISER_TPM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SUMMARISER_BACKEND", "openai")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("SUMMARISER_MODEL", model)
    monkeypatch.setenv("SUMMARISER_BROKER_URL", redis_url)
    monkeypatch.setenv("SUMMARISER_RPM", str(RPM))
    monkeypatch.setenv("SUMMARISER_DATABASE_URL", f"sqlite:///{tmp_path / 'jobs.sqlite'}")

    original = SharedLimitBackend.__init__

    def remember(self: SharedLimitBackend, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        made.append(self)

    monkeypatch.setattr(SharedLimitBackend, "__init__", remember)
    runtimes = [runtime_from_env(), runtime_from_env()]
    assert len(made) == 2 and all(b.rpm == RPM for b in made)
    assert all(b.limiter is None for b in made)  # made lazily, on the loop that runs the jobs

    jobs_each = 90  # 180 requests: the burst of 100, then 80 at 10 a second (about 8 s)

    async def main() -> float:
        start = time.monotonic()
        work = [
            runtime.handlers["text"]({"text": f"{ARTICLE} Item {n}."})
            for n in range(jobs_each)
            for runtime in runtimes
        ]
        results = await asyncio.gather(*work)
        assert all("summary" in result for result in results)
        for backend in made:
            await backend.aclose()
        return start

    start = asyncio.run(main())
    assert len(calls) == 2 * jobs_each
    assert all(b.limiter is not None for b in made)
    assert made[0].limiter is not made[1].limiter  # two clients, one shared bucket
    # Never more than the opening burst plus the refill since: both runtimes' grants count
    # against one bucket (each alone would allow twice this).
    burst = RPM / 6
    for seen, at in enumerate(sorted(calls), start=1):
        assert seen <= burst + RPM / 60 * (at - start) + 2, (seen, at - start)
    elapsed = max(calls) - start
    assert elapsed >= (2 * jobs_each - burst) / (RPM / 60) * 0.8
