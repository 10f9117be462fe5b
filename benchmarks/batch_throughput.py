"""Batch pacing against a rate-limited server: how close to the limit a job runs, and how many
429s it meets on the way.

Starts ``benchmarks/fake_openai_server.py`` in-process on a free loopback port (nothing else is
contacted) and sends extraction requests through the real ``OpenAIBackend`` (openai SDK, its
default ``max_retries``):

a. a plain sequential loop, no limiter (one request at a time: latency bound);
b. ``RateLimitedBackend`` with 64 requests in flight, small prompts: the RPM limit binds;
c. the same with large prompts: the TPM limit binds first.

For each run: requests and tokens per minute as a share of the server's ceilings (the target
for the binding one is >= 0.9), and the 429s the server sent (SDK retries included), in total
and after the first minute (target: a handful). A fresh server per run, so counts are apart.

Run from the repository root::

    python benchmarks/batch_throughput.py                  # a: 20 s, b and c: 150 s each
    python benchmarks/batch_throughput.py --duration 60    # shorter b and c
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field

import _common  # noqa: F401  (puts the checkout on sys.path)
from _common import REPO_ROOT, table
from fake_openai_server import start_server

from summariser.backends.base import Backend, CompletionRequest, Message
from summariser.backends.openai import OpenAIBackend
from summariser.batch.ratelimit import RateLimiter, rate_limited
from summariser.errors import BackendError
from summariser.schema import Extraction, strict_json_schema
from summariser.settings import Settings
from summariser.tokens import encoding_for_model

MODEL = "gpt-4o-mini"
SYSTEM = "You extract headline, bullets, metrics and sentiment from financial news as JSON."


@dataclass(slots=True)
class Result:
    name: str
    duration_s: float
    rpm: int
    tpm: int
    ok: int = 0
    errors: int = 0
    tokens: int = 0
    server: dict[str, object] = field(default_factory=dict)

    def row(self) -> list[object]:
        minutes = self.duration_s / 60
        times = self.server.get("times_429", [])
        assert isinstance(times, list)
        return [
            self.name,
            round(self.duration_s),
            self.ok,
            self.errors,
            self.ok / minutes,
            f"{self.ok / minutes / self.rpm:.2f}",
            self.tokens / minutes,
            f"{self.tokens / minutes / self.tpm:.2f}",
            len(times),
            sum(1 for t in times if t > 60.0),
        ]


def request_for(article: str, max_tokens: int) -> CompletionRequest:
    return CompletionRequest(
        messages=(Message("system", SYSTEM), Message("user", f"<article>\n{article}\n</article>")),
        schema_name="extraction",
        json_schema=strict_json_schema(Extraction),
        purpose="extract",
        data=article,
        max_tokens=max_tokens,
    )


async def sequential(backend: Backend, request: CompletionRequest, result: Result) -> None:
    deadline = time.monotonic() + result.duration_s
    while time.monotonic() < deadline:
        try:
            completion = await backend.complete(request)
        except BackendError:
            result.errors += 1
            continue
        if time.monotonic() <= deadline:
            result.ok += 1
            result.tokens += completion.usage.prompt_tokens + completion.usage.completion_tokens


async def concurrent(
    backend: Backend, request: CompletionRequest, result: Result, workers: int
) -> None:
    """``workers`` loops until the deadline; then whatever is still waiting is cancelled."""
    deadline = time.monotonic() + result.duration_s

    async def worker() -> None:
        while True:
            try:
                completion = await backend.complete(request)
            except BackendError:
                result.errors += 1
                continue
            if time.monotonic() > deadline:
                return
            result.ok += 1
            result.tokens += completion.usage.prompt_tokens + completion.usage.completion_tokens

    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    # Queued acquisitions would go on being granted past the deadline: stop them there.
    await asyncio.wait(tasks, timeout=result.duration_s)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def run_one(
    name: str,
    *,
    article: str,
    duration_s: float,
    latency: float,
    rpm: int,
    tpm: int,
    workers: int | None,
    max_tokens: int,
) -> Result:
    """One run against its own fresh server; ``workers=None`` is the plain sequential loop."""
    url, stop = start_server(latency=latency, rpm=rpm, tpm=tpm)
    result = Result(name, duration_s, rpm, tpm)
    settings = Settings(backend="openai", model=MODEL, base_url=url, api_key="sk-local")
    request = request_for(article, max_tokens)

    async def go() -> None:
        inner = OpenAIBackend(settings)
        try:
            if workers is None:
                await sequential(inner, request, result)
            else:
                limiter = RateLimiter(rpm, tpm)
                await concurrent(rate_limited(inner, limiter, MODEL), request, result, workers)
        finally:
            await inner.aclose()

    try:
        asyncio.run(go())
        stats_url = url.removesuffix("/v1") + "/stats"
        with urllib.request.urlopen(stats_url, timeout=10) as response:  # loopback only
            result.server = json.loads(response.read())
    finally:
        stop()
    return result


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=150.0, help="seconds of runs b and c")
    parser.add_argument("--sequential", type=float, default=20.0, help="seconds of run a")
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--rpm", type=int, default=600)
    parser.add_argument("--tpm", type=int, default=200_000, help="the server's TPM in run c")
    parser.add_argument("--workers", type=int, default=64)
    parser.add_argument("--max-tokens", type=int, default=2048)
    parser.add_argument("--skip", default="", help="runs to skip, e.g. 'a' or 'ac'")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    small = (REPO_ROOT / "examples" / "article.txt").read_text(encoding="utf-8")
    large = "\n\n".join([small] * max(1, 16_000 // max(len(small), 1)))  # ~4,000 tokens
    count = encoding_for_model(MODEL).count  # loaded before any clock starts
    print(f"prompts: small ~{count(small)} tokens, large ~{count(large)} tokens")
    common = {"latency": args.latency, "rpm": args.rpm, "max_tokens": args.max_tokens}
    plan: list[tuple[str, str, dict[str, object]]] = [
        ("a", "a sequential, no limiter", dict(article=small, duration_s=args.sequential,
                                               tpm=10_000_000, workers=None)),
        ("b", f"b limited x{args.workers}, RPM binds", dict(article=small, duration_s=args.duration,
                                                           tpm=10_000_000, workers=args.workers)),
        ("c", f"c limited x{args.workers}, TPM binds", dict(article=large, duration_s=args.duration,
                                                           tpm=args.tpm, workers=args.workers)),
    ]  # fmt: skip
    results = []
    for key, name, options in plan:
        if key in args.skip:
            continue
        print(f"running {name} for {options['duration_s']:.0f} s ...", flush=True)
        result = run_one(name, **common, **options)  # type: ignore[arg-type]
        results.append(result)
        print(table(HEADERS, [result.row()]), flush=True)
    print()
    print(
        table(
            HEADERS,
            [r.row() for r in results],
            title=f"server: {args.rpm} RPM, latency {args.latency} s; 429s as the server counts "
            "them (SDK retries included)",
        )
    )


HEADERS = [
    "run",
    "s",
    "ok",
    "errors",
    "req/min",
    "of RPM",
    "tok/min",
    "of TPM",
    "429s",
    "429s after 1 min",
]


if __name__ == "__main__":
    main()
