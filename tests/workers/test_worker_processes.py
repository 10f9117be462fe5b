"""Real worker processes on a real Redis sharing one store (SQLite, and PostgreSQL: the
``redis_url`` and ``postgres_url`` fixtures of tests/conftest.py): every job done exactly once,
a worker killed with SIGKILL mid-job loses nothing, and ``summariser worker`` runs and stops.

Each test has its own Redis key namespace, deleted after, and its own database; nothing else
is touched.

The worker processes of the first two tests are ``dramatiq`` command lines whose broker set-up
is :func:`setup_worker` below (this module is imported by them, by file name): a short
heartbeat and lease so that a dead worker's job is taken over in seconds, and a handler that
sleeps and writes a line to a log file when it starts and when it ends.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

redis = pytest.importorskip("redis")
pytest.importorskip("dramatiq")

from summariser.service.store import JobStore, NewJob  # noqa: E402
from summariser.workers import BROKER_URL_ENV, NAMESPACE_ENV  # noqa: E402
from summariser.workers.actors import Runtime, declare, use_runtime  # noqa: E402
from summariser.workers.broker import coalesce_stop_signals, install, make_broker  # noqa: E402
from tests import servers  # noqa: E402

LOCAL_URL = "redis://127.0.0.1:6379/0"
REPO = Path(__file__).resolve().parents[2]
LOG_ENV = "SUMMARISER_TEST_WORKER_LOG"
HEARTBEAT_MS = 3_000
LEASE = timedelta(seconds=2)


# --- what runs inside the worker processes ------------------------------------------------


def setup_worker() -> None:
    """The dramatiq command line's broker set-up in the worker processes of these tests."""
    broker = make_broker(
        os.environ[BROKER_URL_ENV],
        namespace=os.environ[NAMESPACE_ENV],
        heartbeat_timeout_ms=HEARTBEAT_MS,
        maintenance_chance=1_000_000,  # out of 1_000_000: every fetch requeues dead workers'
    )
    install(broker)
    coalesce_stop_signals()
    use_runtime(_worker_runtime)


def _worker_runtime() -> Runtime:
    store = JobStore(os.environ["SUMMARISER_DATABASE_URL"])
    log = Path(os.environ[LOG_ENV])

    def note(event: str, payload: Mapping[str, Any]) -> None:
        with log.open("a", encoding="utf-8") as file:
            file.write(f"{event} {payload['n']} {os.getpid()}\n")

    async def sleepy(payload: Mapping[str, Any]) -> dict[str, Any]:
        note("start", payload)
        await asyncio.sleep(float(payload["sleep"]))
        note("end", payload)
        return {"n": payload["n"], "pid": os.getpid()}

    return Runtime(store, {"text": sleepy}, lease=LEASE)


# --- fixtures -------------------------------------------------------------------------------


class Cluster:
    """Worker processes, the store they share, and a broker to send job ids with."""

    def __init__(self, redis_url: str, tmp: Path, db_url: str) -> None:
        self.redis_url = redis_url
        self.namespace = f"summariser-test-{uuid.uuid4().hex}"
        self.tmp = tmp
        self.db_url = db_url
        self.log = tmp / "handler.log"
        self.log.touch()
        self.store = JobStore(self.db_url)
        self.store.create_schema()
        self.broker = make_broker(redis_url, namespace=self.namespace)
        self.actor = declare(self.broker)
        self.workers: list[tuple[subprocess.Popen[bytes], Path]] = []

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SUMMARISER_", "OPENAI_"))}
        env.update(
            {
                BROKER_URL_ENV: self.redis_url,
                NAMESPACE_ENV: self.namespace,
                "SUMMARISER_DATABASE_URL": self.db_url,
                LOG_ENV: str(self.log),
                "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), str(REPO)]),
            }
        )
        env.update(extra)
        return env

    def start(self, argv: list[str], **extra: str) -> subprocess.Popen[bytes]:
        output = self.tmp / f"worker-{len(self.workers)}.log"
        with output.open("wb") as sink:  # the child keeps its own copy of the descriptor
            process = subprocess.Popen(
                argv,
                cwd=REPO,
                env=self.env(**extra),
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.workers.append((process, output))
        return process

    def start_test_worker(self) -> subprocess.Popen[bytes]:
        module = f"{Path(__file__).stem}:setup_worker"
        return self.start([sys.executable, "-m", "dramatiq", module, "-p", "1", "-t", "2"])

    def wait_ready(self, count: int, timeout: float = 30) -> None:
        """Until ``count`` worker processes have said they are ready."""
        deadline = time.monotonic() + timeout
        while True:
            ready = sum(
                out.read_text(errors="replace").count("ready for action") for _, out in self.workers
            )
            if ready >= count:
                return
            if time.monotonic() > deadline:
                pytest.fail(f"workers not ready:\n{self.outputs()}")
            time.sleep(0.1)

    def outputs(self) -> str:
        return "\n".join(out.read_text(errors="replace")[-3000:] for _, out in self.workers)

    def submit(self, n: int, sleep: float) -> str:
        new = NewJob("text", "tester", {"n": n, "sleep": sleep, "text": "x"}, f"ref:{n}", "f" * 64)
        job = self.store.create(new)[0]
        self.actor.send(job.id)
        return job.id

    def wait_ended(self, job_ids: list[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            statuses = [self.status(job_id) for job_id in job_ids]
            if all(s not in ("queued", "running") for s in statuses):
                return
            if time.monotonic() > deadline:
                pytest.fail(f"jobs still not ended: {statuses}\n{self.outputs()}")
            time.sleep(0.2)

    def status(self, job_id: str) -> str:
        job = self.store.get(job_id)
        assert job is not None
        return job.status

    def lines(self, event: str) -> list[tuple[int, int]]:
        found = []
        for line in self.log.read_text().splitlines():
            kind, n, pid = line.split()
            if kind == event:
                found.append((int(n), int(pid)))
        return found

    def close(self) -> None:
        for process, _ in self.workers:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGTERM)  # the master passes it on
        for process, _ in self.workers:
            servers.stop_process(process)
        self.broker.close()
        self.store.close()
        servers.delete_keys(self.redis_url, self.namespace)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A SQLite file, or a fresh PostgreSQL database (``postgres_url`` in tests/conftest.py)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'jobs.sqlite'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def cluster(redis_url: str, tmp_path: Path, db_url: str) -> Iterator[Cluster]:
    made = Cluster(redis_url, tmp_path, db_url)
    try:
        yield made
    finally:
        made.close()
        use_runtime(None)


# --- tests ----------------------------------------------------------------------------------


def test_two_workers_do_twenty_jobs_each_exactly_once(cluster: Cluster) -> None:
    cluster.start_test_worker()
    cluster.start_test_worker()
    cluster.wait_ready(2)
    job_ids = [cluster.submit(n, sleep=0.2) for n in range(20)]
    cluster.wait_ended(job_ids, timeout=60)
    assert {cluster.status(job_id) for job_id in job_ids} == {"done"}
    ended = cluster.lines("end")
    assert sorted(n for n, _ in ended) == list(range(20))  # each once, none twice
    assert len({pid for _, pid in ended}) == 2  # both workers took a share


def test_a_worker_killed_mid_job_loses_nothing_and_repeats_nothing(cluster: Cluster) -> None:
    cluster.start_test_worker()
    cluster.start_test_worker()
    cluster.wait_ready(2)
    slow = cluster.submit(0, sleep=4)
    deadline = time.monotonic() + 20
    while not cluster.lines("start"):
        if time.monotonic() > deadline:
            pytest.fail(f"the slow job never started:\n{cluster.outputs()}")
        time.sleep(0.05)
    [(_, victim)] = cluster.lines("start")
    os.kill(victim, signal.SIGKILL)
    others = [cluster.submit(n, sleep=0.1) for n in range(1, 6)]
    cluster.wait_ended([slow, *others], timeout=60)
    assert {cluster.status(job_id) for job_id in [slow, *others]} == {"done"}
    ended = cluster.lines("end")
    assert sorted(n for n, _ in ended) == list(range(6))
    assert victim not in {pid for _, pid in ended}
    job = cluster.store.get(slow)
    assert job is not None and job.result is not None and job.result["pid"] != victim
    assert [n for n, _ in cluster.lines("start")].count(0) == 2  # begun twice, ended once


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the command, not the store
def test_the_worker_command_runs_jobs_and_stops_on_sigterm(cluster: Cluster) -> None:
    """``summariser worker`` with the offline backend: real summaries, then a clean exit."""
    process = cluster.start(
        [*_worker_command(), "--processes", "1", "--threads", "2"], SUMMARISER_BACKEND="offline"
    )
    cluster.wait_ready(1)
    article = "Revenue rose 12% to $4.2 billion in the third quarter, the company said."
    job_ids = []
    for n in range(3):
        new = NewJob("text", "tester", {"text": f"{article} Item {n}."}, f"ref:{n}", "f" * 64)
        job = cluster.store.create(new)[0]
        cluster.actor.send(job.id)
        job_ids.append(job.id)
    cluster.wait_ended(job_ids, timeout=60)
    for job_id in job_ids:
        job = cluster.store.get(job_id)
        assert job is not None and job.status == "done", cluster.outputs()
        assert job.result is not None and "summary" in job.result
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0, cluster.outputs()


def test_a_stop_sent_to_the_whole_process_group_lets_the_running_job_finish(
    cluster: Cluster,
) -> None:
    """systemd's default (and ``kill -- -PGID``) signals every process of the group: each
    worker process gets SIGTERM twice at once (directly, and passed on by the master). That is
    one request to stop: the running job ends ``done`` and every process exits."""
    process = cluster.start(
        [sys.executable, "-m", "dramatiq", f"{Path(__file__).stem}:setup_worker", "-p", "2"]
    )
    cluster.wait_ready(2)
    job_id = cluster.submit(0, sleep=2.0)
    deadline = time.monotonic() + 20
    while not cluster.lines("start"):
        assert time.monotonic() < deadline, cluster.outputs()
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGTERM)
    assert process.wait(timeout=30) == 0, cluster.outputs()
    assert cluster.status(job_id) == "done"
    assert [n for n, _ in cluster.lines("end")] == [0]


def _worker_command() -> list[str]:
    """``summariser worker``; through typer directly until cli.py registers the command."""
    from summariser.cli import app
    from summariser.worker_command import worker

    if any(command.callback is worker for command in app.registered_commands):
        return [sys.executable, "-m", "summariser", "worker"]
    run = "import typer; from summariser.worker_command import worker; typer.run(worker)"
    return [sys.executable, "-c", run]
