"""Load test of the Slack bot: 200 signed slash commands at once against a model that takes 5 s.

Starts the service (uvicorn, on a free loopback port, in a background thread) with the offline
backend slowed to ``--delay`` seconds a call, and a fake Slack (tests/service/fake_slack.py)
for the replies; sends ``--requests`` concurrent signed ``/summarise`` commands with httpx;
prints the acknowledgement latency (p50, p99, max: Slack wants every ack within 3 s, the
target here is p99 < 300 ms) and waits, at most ``--timeout`` seconds, until every command's
``response_url`` got its reply, checking that each got exactly one. Loopback only; it stops by
itself, and exits 1 when a target is missed.

    python benchmarks/slack_load.py [--requests 200] [--delay 5] [--workers 200]
                                    [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

import _common  # noqa: F401  (puts the checkout on sys.path)
import httpx
import uvicorn

from summariser.service.app import create_app
from summariser.service.settings import ServiceSettings
from summariser.settings import Settings
from tests.service.fake_slack import SECRET, TOKEN, FakeSlack, SlowBackend, signed_headers

ARTICLE = (
    "Corvel Systems reported fourth-quarter revenue of $812 million, up 9% from a year earlier, "
    "and net income of $96 million. Shares rose 5% after the results, and the company raised "
    "its full-year outlook to $3.3 billion."
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(args: argparse.Namespace) -> None:
    """The service itself (``--serve``, run by :func:`start_service` in a child process, so
    that the load generator does not share its interpreter)."""
    service = ServiceSettings(
        port=args.port,
        jobs_db=args.db,
        database_url=args.database_url or None,
        workers=args.workers,
        slack_signing_secret=SECRET,
        slack_bot_token=TOKEN,
        slack_api_url=args.api_url,
    )
    app = create_app(service, Settings(backend="offline"), backend=SlowBackend(args.delay))
    uvicorn.run(app, host=service.host, port=service.port, log_level="warning", backlog=1024)


def start_service(
    args: argparse.Namespace, api_url: str, db: str
) -> tuple[subprocess.Popen[bytes], str]:
    """Start the service in a child process on a free loopback port; its base URL once it
    answers ``/readyz``."""
    port = free_port()
    command = [
        sys.executable,
        __file__,
        "--serve",
        f"--port={port}",
        f"--api-url={api_url}",
        f"--db={db}",
        f"--delay={args.delay}",
        f"--workers={args.workers}",
        f"--database-url={args.database_url}",
    ]
    child = subprocess.Popen(command)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and child.poll() is None:
        try:
            if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                return child, base
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    child.kill()
    raise SystemExit("the service did not start")


def stop_service(child: subprocess.Popen[bytes]) -> None:
    child.send_signal(signal.SIGINT)  # uvicorn shuts down cleanly on SIGINT
    try:
        child.wait(timeout=30)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


async def send_all(
    url: str, fake: FakeSlack, count: int, prefix: str = "r"
) -> list[tuple[int, float]]:
    """``count`` signed slash commands at once: (status, ack latency in seconds) each."""
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        start = asyncio.Event()

        async def one(n: int) -> tuple[int, float]:
            body = urlencode(
                {
                    "team_id": "T1",
                    "channel_id": "C1",
                    "user_id": f"U{n % 17}",
                    "command": "/summarise",
                    "text": ARTICLE,
                    "response_url": fake.response_url(f"{prefix}{n}"),
                    "trigger_id": f"trigger-{prefix}-{n}",
                }
            )
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            await start.wait()
            began = time.perf_counter()
            response = await client.post(url, content=body, headers=headers | signed_headers(body))
            return response.status_code, time.perf_counter() - began

        tasks = [asyncio.create_task(one(n)) for n in range(count)]
        await asyncio.sleep(0.1)  # every task waiting at the gate
        start.set()
        return await asyncio.gather(*tasks)


async def baseline(url: str, count: int) -> list[float]:
    """``count`` GETs of ``/healthz`` at once: the floor this machine and harness set."""
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        start = asyncio.Event()

        async def one() -> float:
            await start.wait()
            began = time.perf_counter()
            (await client.get(url)).raise_for_status()
            return time.perf_counter() - began

        tasks = [asyncio.create_task(one()) for _ in range(count)]
        await asyncio.sleep(0.1)
        start.set()
        return await asyncio.gather(*tasks)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--delay", type=float, default=5.0, help="seconds a model call takes")
    parser.add_argument("--workers", type=int, default=200, help="jobs run at once")
    parser.add_argument("--timeout", type=float, default=120.0, help="to wait for replies")
    parser.add_argument(
        "--database-url", default="", help="job store (default: SQLite in a temporary folder)"
    )
    parser.add_argument("--warmup", type=int, default=5, help="commands before the burst")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--api-url", default="", help=argparse.SUPPRESS)
    parser.add_argument("--db", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args)
        return 0

    with tempfile.TemporaryDirectory() as tmp, FakeSlack() as fake:
        child, base = start_service(args, fake.api_url, str(Path(tmp) / "jobs.sqlite"))
        try:
            url = base + "/slack/events"
            if args.warmup:  # the first request asks auth.test; the first job loads tiktoken
                asyncio.run(send_all(url, fake, args.warmup, prefix="warmup"))
                fake.wait_for(lambda f: len(f.of("response_url")) >= args.warmup, args.timeout)
            fake.calls.clear()
            floor = asyncio.run(baseline(base + "/healthz", args.requests))
            began = time.perf_counter()
            results = asyncio.run(send_all(url, fake, args.requests))
            latencies = [seconds for _, seconds in results]
            statuses = Counter(status for status, _ in results)
            with contextlib.suppress(AssertionError):  # counted below
                fake.wait_for(
                    lambda f: len(f.of("response_url")) >= args.requests, timeout=args.timeout
                )
            replied = time.perf_counter() - began
            time.sleep(1.0)  # a second reply to any command would arrive now
        finally:
            stop_service(child)
        posts = Counter(call.path for call in fake.of("response_url"))

    p50, p99, worst = percentile(latencies, 50), percentile(latencies, 99), max(latencies)
    once = sum(1 for n in range(args.requests) if posts.get(f"/response/r{n}") == 1)
    twice = sum(1 for count in posts.values() if count > 1)
    print(f"{args.requests} signed slash commands at once; model {args.delay:g} s a call")
    print(
        f"acks: {dict(statuses)}; latency p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
        f"max {worst * 1000:.0f} ms, mean {statistics.fmean(latencies) * 1000:.0f} ms"
    )
    print(
        f"floor, {args.requests} GET /healthz at once: p50 {percentile(floor, 50) * 1000:.0f} ms, "
        f"p99 {percentile(floor, 99) * 1000:.0f} ms"
    )
    print(
        f"replies: {once}/{args.requests} commands answered exactly once, {twice} more than "
        f"once; all in {replied:.1f} s"
    )
    ok = statuses == Counter({200: args.requests}) and worst < 3.0
    ok = ok and once == args.requests and twice == 0
    print(f"target p99 < 300 ms: {'met' if p99 < 0.3 else 'missed'}")
    print("PASS" if ok else "FAIL", "(every ack 200 within 3 s, every command one reply)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
