"""Dramatiq workers against a rate-limited server: throughput grows with the number of worker
processes until the global (Redis-held) limit binds, then holds at it, with few 429s.

Starts ``benchmarks/fake_openai_server.py`` in-process on a free loopback port (latency 0.5 s,
``--rpm`` 300, a high TPM), a job store (a SQLite file in a temporary folder) and N worker
processes (``python -m dramatiq summariser.workers.broker:setup_from_env -p 1 -t THREADS``, the
real worker set-up: the openai backend, paced by the shared limit at ``SUMMARISER_RPM``). Each
worker runs at most THREADS (2) jobs at a time, one request each, so one worker alone makes at
most 2 / 0.5 s = 240 requests a minute, below the ceiling; two or four could make 480 or 960,
and the shared limit must hold them to 300.

For each N (1, 2, 4): a fresh server (its own counts and window) and a fresh limit (a model
name of its own, so a limit key of its own), more short text jobs than can be done, put in the
store and sent as ``summariser serve --broker`` does; after ``--warmup`` seconds (the limit's
opening burst), jobs done and requests sent are counted for ``--duration`` seconds. Printed:
jobs a minute, requests a minute as a share of the ceiling, and the 429s the server sent over
the whole run (SDK retries included).

Redis: the one on 127.0.0.1:6379 when it answers, else a throw-away ``redis-server`` on a free
port. Every key written is under a namespace or limit key of this run's, deleted at the end
(never a FLUSHALL). Nothing but loopback is contacted. Run from the repository root::

    python benchmarks/workers_throughput.py                             # 60 s a run
    python benchmarks/workers_throughput.py --duration 30 --warmup 10   # shorter
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import _common  # noqa: F401  (puts the checkout on sys.path)
import redis
import sqlalchemy as sa
from _common import REPO_ROOT, table
from fake_openai_server import start_server

from summariser.service.store import JobStore, NewJob, jobs
from summariser.workers.broker import dispatcher
from summariser.workers.ratelimit import key_for_model

LOCAL_REDIS = "redis://127.0.0.1:6379/0"
ARTICLE = (
    "Revenue rose 12% to $4.2 billion in the third quarter, the company said on Tuesday. "
    "Operating margin widened to 18% from 15% a year earlier."
)


# --- shared with workers_faults.py ----------------------------------------------------------


def _answers(url: str) -> bool:
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except redis.RedisError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def redis_server() -> Iterator[str]:
    """The local Redis's URL, else a throw-away ``redis-server``'s (stopped after)."""
    if _answers(LOCAL_REDIS):
        yield LOCAL_REDIS
        return
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("no Redis on 127.0.0.1:6379 and no redis-server to start")
    port = free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 5
        while not _answers(url):
            if time.monotonic() > deadline:
                raise SystemExit("redis-server did not start")
            time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=5)


def delete_keys(redis_url: str, *patterns: str) -> None:
    """Delete the keys matching ``patterns`` (this run's own), nothing else."""
    client = redis.Redis.from_url(redis_url)
    try:
        for pattern in patterns:
            keys = list(client.scan_iter(match=pattern, count=1000))
            for start in range(0, len(keys), 500):
                client.delete(*keys[start : start + 500])
    finally:
        client.close()


class Workers:
    """Dramatiq worker processes (one process each) sharing a store and a Redis namespace."""

    def __init__(
        self,
        redis_url: str,
        db_url: str,
        tmp: Path,
        module: str = "summariser.workers.broker:setup_from_env",
        **env: str,
    ) -> None:
        self.module = module  # the dramatiq command line's broker set-up
        self.redis_url = redis_url
        self.db_url = db_url
        self.tmp = tmp
        self.namespace = f"summariser-bench-{uuid.uuid4().hex}"
        self.extra = env
        self.processes: list[tuple[subprocess.Popen[bytes], Path]] = []
        self.started = 0

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SUMMARISER_", "OPENAI_"))}
        env.update(
            {
                "SUMMARISER_BROKER_URL": self.redis_url,
                "SUMMARISER_BROKER_NAMESPACE": self.namespace,
                "SUMMARISER_DATABASE_URL": self.db_url,
                "PYTHONPATH": str(REPO_ROOT),
            }
        )
        env.update(self.extra)
        return env

    def start(self, threads: int) -> subprocess.Popen[bytes]:
        output = self.tmp / f"worker-{self.started}.log"
        self.started += 1
        argv = [sys.executable, "-m", "dramatiq", self.module, "-p", "1", "-t", str(threads)]
        with output.open("wb") as sink:
            process = subprocess.Popen(
                argv,
                cwd=REPO_ROOT,
                env=self.env(),
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append((process, output))
        return process

    def ready(self) -> int:
        return sum(
            out.read_text(errors="replace").count("ready for action") for _, out in self.processes
        )

    def wait_ready(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.ready() < count:
            if time.monotonic() > deadline:
                tails = "\n".join(
                    out.read_text(errors="replace")[-2000:] for _, out in self.processes
                )
                raise SystemExit(f"workers not ready:\n{tails}")
            time.sleep(0.1)

    def stop(self) -> None:
        """SIGKILL every worker's process group: what is left in the queue is thrown away."""
        for process, _ in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
        for process, _ in self.processes:
            process.wait(timeout=10)
        delete_keys(self.redis_url, f"{self.namespace}*")


def submit(store: JobStore, send: Callable[[str], None], count: int, tag: str) -> list[str]:
    """``count`` short text jobs, created in the store and sent, as ``serve --broker`` does."""
    ids = []
    for n in range(count):
        payload = {"text": f"{ARTICLE} Item {tag}-{n}."}
        new = NewJob("text", "bench", payload, f"bench:{tag}:{n}", f"{n:064x}")
        job = store.create(new)[0]
        send(job.id)
        ids.append(job.id)
    return ids


def count_status(store: JobStore, status: str) -> int:
    query = sa.select(sa.func.count()).select_from(jobs).where(jobs.c.status == status)
    with store.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


# --- the benchmark --------------------------------------------------------------------------


def server_stats(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url.removesuffix("/v1") + "/stats", timeout=10) as response:
        return dict(json.loads(response.read()))  # loopback only


def ok_requests(url: str) -> int:
    return int(str(server_stats(url)["ok"]))


def run(redis_url: str, n: int, args: argparse.Namespace) -> list[object]:
    url, stop_server = start_server(latency=args.latency, rpm=args.rpm, tpm=args.tpm)
    model = f"gpt-4o-mini-bench-{uuid.uuid4().hex[:12]}"  # a fresh shared limit per run
    with tempfile.TemporaryDirectory(prefix="workers-throughput-") as folder:
        tmp = Path(folder)
        db_url = f"sqlite:///{tmp / 'jobs.sqlite'}"
        store = JobStore(db_url)
        store.create_schema()
        workers = Workers(
            redis_url,
            db_url,
            tmp,
            SUMMARISER_BACKEND="openai",
            SUMMARISER_MODEL=model,
            SUMMARISER_RPM=str(args.rpm),
            SUMMARISER_TPM=str(args.tpm),
            OPENAI_BASE_URL=url,
            OPENAI_API_KEY="sk-local",
        )
        try:
            for _ in range(n):
                workers.start(args.threads)
            workers.wait_ready(n)
            total = args.warmup + args.duration
            # More than the ceiling allows in the whole run: the queue never runs dry.
            count = int(args.rpm / 60 * total * 1.3) + 20
            submit(store, dispatcher(redis_url, namespace=workers.namespace), count, "t")
            time.sleep(args.warmup)
            done0, requests0 = count_status(store, "done"), ok_requests(url)
            time.sleep(args.duration)
            done1, requests1 = count_status(store, "done"), ok_requests(url)
            stats = server_stats(url)
        finally:
            workers.stop()
            store.close()
            stop_server()
            delete_keys(redis_url, f"*{key_for_model(model)}*")
    minutes = args.duration / 60
    jobs_min = (done1 - done0) / minutes
    requests_min = (requests1 - requests0) / minutes
    return [
        n,
        n * args.threads,
        f"{jobs_min:.0f}",
        f"{requests_min:.0f}",
        f"{requests_min / args.rpm:.2f}",
        stats["rate_limited"],
        stats["requests"],
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--workers", default="1,2,4", help="worker process counts (1,2,4)")
    parser.add_argument("--threads", type=int, default=2, help="jobs at a time per worker")
    parser.add_argument("--rpm", type=int, default=300)
    parser.add_argument("--tpm", type=int, default=10_000_000)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--warmup", type=float, default=20.0, help="seconds before counting")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds counted")
    args = parser.parse_args(argv)
    rows = []
    with redis_server() as redis_url:
        for n in (int(part) for part in args.workers.split(",")):
            rows.append(run(redis_url, n, args))
            print(f"N={n} done", file=sys.stderr, flush=True)
    headers = ["workers", "slots", "jobs/min", "req/min", "req/ceiling", "429s", "requests"]
    title = (
        f"Workers against a fake server (latency {args.latency} s, {args.rpm} RPM); counted "
        f"over {args.duration:.0f} s after {args.warmup:.0f} s; 429s over the whole run"
    )
    print(table(headers, rows, title=title))


if __name__ == "__main__":
    main()
