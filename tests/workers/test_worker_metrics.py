"""Worker metrics: the middleware's counts on Dramatiq's StubBroker, the multiprocess folder
and its dead processes, the queue collector on a real Redis, the exposition server, and one
``summariser worker`` end to end (metrics scraped, JSON log lines, a clean SIGTERM).

The Redis tests use the ``redis_url`` fixture (a Redis found or started, else a skip) with a
key namespace of their own, deleted after.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import pytest

redis = pytest.importorskip("redis")
dramatiq = pytest.importorskip("dramatiq")

from dramatiq.brokers.stub import StubBroker  # noqa: E402
from prometheus_client import CollectorRegistry  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from summariser.errors import ConfigurationError  # noqa: E402
from summariser.service.store import JobStore, NewJob  # noqa: E402
from summariser.workers import BROKER_URL_ENV, NAMESPACE_ENV  # noqa: E402
from summariser.workers.actors import (  # noqa: E402
    QUEUE_NAME,
    Outcome,
    RetryableJobError,
    Runtime,
    declare,
    use_runtime,
)
from summariser.workers.broker import (  # noqa: E402
    add_middleware,
    make_broker,
    metrics_middleware,
    quiet_returned_values,
)
from summariser.workers.metrics import (  # noqa: E402
    DEFAULT_QUEUES,
    DIR_PREFIX,
    METRICS_HOST_ENV,
    METRICS_PORT_ENV,
    MULTIPROC_DIR_ENV,
    LiveProcessesCollector,
    MetricsSettings,
    RedisQueueCollector,
    WorkerMetrics,
    make_metrics_server,
    prepare_multiproc_dir,
    redis_client,
    serve_metrics,
)

REPO = Path(__file__).resolve().parents[2]
OUTCOMES = get_args(Outcome)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _metrics() -> WorkerMetrics:
    return WorkerMetrics(outcomes=OUTCOMES, retryable=(RetryableJobError,))


def _value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


# --- the middleware ---------------------------------------------------------------------------


def test_the_collector_reads_the_queue_the_actor_uses() -> None:
    assert DEFAULT_QUEUES == (QUEUE_NAME,)


def test_outcomes_come_from_the_return_value_or_the_exception() -> None:
    metrics = _metrics()
    assert metrics.outcome("done", None) == "done"
    assert metrics.outcome("missing", None) == "missing"
    assert metrics.outcome(None, None) == "unknown"
    assert metrics.outcome("something else", None) == "unknown"
    assert metrics.outcome(None, RetryableJobError("j", "timeout", "slow")) == "retry"
    assert metrics.outcome(None, ValueError("boom")) == "error"


@pytest.fixture
def stub() -> Iterator[tuple[StubBroker, WorkerMetrics]]:
    broker = StubBroker()
    add_middleware(broker)
    metrics = _metrics()
    broker.add_middleware(metrics)
    broker.emit_after("process_boot")
    yield broker, metrics
    broker.close()
    use_runtime(None)


def test_the_middleware_counts_outcomes_in_flight_and_durations(
    stub: tuple[StubBroker, WorkerMetrics],
) -> None:
    broker, metrics = stub
    release = threading.Event()
    started = threading.Event()

    @dramatiq.actor(broker=broker, queue_name="metrics-test", max_retries=0)
    def play(what: str) -> str | None:
        if what == "block":
            started.set()
            release.wait(timeout=10)
            return "done"
        if what == "retry":
            raise RetryableJobError("j", "timeout", "slow")
        if what == "boom":
            raise ValueError("boom")
        return None if what == "none" else what

    worker = dramatiq.Worker(broker, worker_timeout=50, worker_threads=2)
    worker.start()
    r = metrics.registry
    try:
        assert _value(r, "summariser_worker_processes") == 1
        play.send("block")
        assert started.wait(timeout=10)
        assert _value(r, "summariser_worker_jobs_in_flight") == 1
        release.set()
        for what in ["done", "failed", "missing", "retry", "boom", "none"]:
            play.send(what)
        broker.join("metrics-test", timeout=10_000, fail_fast=False)
        worker.join()
        assert _value(r, "summariser_worker_jobs_in_flight") == 0
    finally:
        release.set()
        worker.stop()
    assert _value(r, "summariser_worker_processes") == 0
    counts = {o: _value(r, "summariser_worker_jobs_total", outcome=o) for o in OUTCOMES}
    assert counts == {
        "done": 2,
        "failed": 1,
        "dead": 0,
        "expired": 0,
        "skipped": 0,
        "missing": 1,
    }
    assert _value(r, "summariser_worker_jobs_total", outcome="retry") == 1
    assert _value(r, "summariser_worker_jobs_total", outcome="error") == 1
    assert _value(r, "summariser_worker_jobs_total", outcome="unknown") == 1
    assert _value(r, "summariser_worker_job_duration_seconds_count", outcome="done") == 2
    assert (_value(r, "summariser_worker_job_duration_seconds_sum", outcome="done") or 0) > 0


def test_a_message_skipped_before_it_started_is_counted_but_not_in_flight() -> None:
    metrics = _metrics()
    broker = StubBroker()
    message = dramatiq.Message(
        queue_name=QUEUE_NAME, actor_name="summarise_job", args=("j",), kwargs={}, options={}
    )
    proxy = dramatiq.broker.MessageProxy(message)
    metrics.after_skip_message(broker, proxy)
    r = metrics.registry
    assert _value(r, "summariser_worker_jobs_total", outcome="skipped") == 1
    assert _value(r, "summariser_worker_jobs_in_flight") == 0
    assert _value(r, "summariser_worker_job_duration_seconds_count", outcome="skipped") == 0
    broker.close()


def test_the_summarise_job_actor_feeds_the_outcome_counter_without_a_warning(
    stub: tuple[StubBroker, WorkerMetrics], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The real actor: its return value is the outcome (needs ``summarise_job`` to return)."""
    broker, metrics = stub
    store = JobStore(f"sqlite:///{tmp_path / 'jobs.sqlite'}")
    store.create_schema()

    async def handler(payload: Any) -> dict[str, Any]:
        return {"ok": True}

    use_runtime(lambda: Runtime(store, {"text": handler}))
    quiet_returned_values()
    actor = declare(broker, max_retries=0)
    job = store.create(NewJob("text", "tester", {"text": "x"}, "ref:1", "f" * 64))[0]
    worker = dramatiq.Worker(broker, worker_timeout=50)
    worker.start()
    try:
        with caplog.at_level(logging.WARNING, logger="dramatiq"):
            actor.send(job.id)
            actor.send("no-such-job")
            broker.join(QUEUE_NAME, timeout=10_000, fail_fast=False)
            worker.join()
    finally:
        worker.stop()
        store.close()
    r = metrics.registry
    assert _value(r, "summariser_worker_jobs_total", outcome="done") == 1
    assert _value(r, "summariser_worker_jobs_total", outcome="missing") == 1
    assert not [rec for rec in caplog.records if "returned a value" in rec.getMessage()]


def test_the_middleware_is_made_from_the_environment(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert metrics_middleware({METRICS_PORT_ENV: "0", MULTIPROC_DIR_ENV: str(tmp_path)}) is None
    with caplog.at_level(logging.WARNING, logger="summariser.workers.metrics"):
        assert metrics_middleware({}) is None
    assert "PROMETHEUS_MULTIPROC_DIR is not set" in caplog.text
    made = metrics_middleware({MULTIPROC_DIR_ENV: str(tmp_path)})
    assert made is not None and made.multiproc_dir == str(tmp_path)
    assert made.outcome("expired", None) == "expired"
    assert made.outcome(None, RetryableJobError("j", "r", "m")) == "retry"


def test_metrics_settings_option_then_environment_then_default() -> None:
    assert MetricsSettings.resolve(env={}) == MetricsSettings("127.0.0.1", 9191)
    env = {METRICS_PORT_ENV: "9300", METRICS_HOST_ENV: "0.0.0.0"}
    assert MetricsSettings.resolve(env=env) == MetricsSettings("0.0.0.0", 9300)
    assert MetricsSettings.resolve("::1", 0, env) == MetricsSettings("::1", 0)
    assert not MetricsSettings.resolve(port=0, env={}).enabled
    with pytest.raises(ConfigurationError):
        MetricsSettings.resolve(env={METRICS_PORT_ENV: "many"})
    with pytest.raises(ConfigurationError):
        MetricsSettings.resolve(port=70000, env={})


# --- the multiprocess folder ------------------------------------------------------------------


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_given_folder_is_made_and_emptied_of_stale_files(tmp_path: Path) -> None:
    folder = tmp_path / "prom"
    assert prepare_multiproc_dir(str(folder)) == str(folder)
    (folder / "counter_123.db").write_bytes(b"x")
    (folder / "keep.txt").write_text("x")
    prepare_multiproc_dir(str(folder))
    assert sorted(p.name for p in folder.iterdir()) == ["keep.txt"]


def test_a_new_folder_per_invocation_and_old_ones_of_ended_processes_go(tmp_path: Path) -> None:
    stale = tmp_path / f"{DIR_PREFIX}{_dead_pid()}-abc"
    live = tmp_path / f"{DIR_PREFIX}{os.getpid()}-old"
    for folder in (stale, live):
        folder.mkdir()
        (folder / "counter_1.db").write_bytes(b"x")
    made = Path(prepare_multiproc_dir(parent=str(tmp_path)))
    assert made.is_dir() and made.name.startswith(f"{DIR_PREFIX}{os.getpid()}-")
    assert not stale.exists() and live.exists()


def test_a_process_killed_without_notice_leaves_no_job_in_flight(tmp_path: Path) -> None:
    """Its counters stay (they happened); its live gauges go at the next scrape."""
    script = textwrap.dedent(
        """
        from prometheus_client import CollectorRegistry, Counter, Gauge
        r = CollectorRegistry()
        Gauge("summariser_worker_jobs_in_flight", "h", registry=r, multiprocess_mode="livesum").inc()
        Counter("summariser_worker_jobs", "h", ["outcome"], registry=r).labels("done").inc(3)
        """
    )
    env = {**os.environ, MULTIPROC_DIR_ENV: str(tmp_path)}
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=30)
    assert any(p.name.startswith("gauge_livesum_") for p in tmp_path.iterdir())
    registry = CollectorRegistry()
    LiveProcessesCollector(str(tmp_path), registry)
    assert _value(registry, "summariser_worker_jobs_total", outcome="done") == 3
    assert _value(registry, "summariser_worker_jobs_in_flight") is None
    assert not any(p.name.startswith("gauge_livesum_") for p in tmp_path.iterdir())


# --- the queue collector on a real Redis --------------------------------------------------------


@pytest.fixture
def namespace(redis_namespace: str) -> str:
    return redis_namespace


def test_queue_depth_unacked_delayed_and_dead_letters_from_redis(
    redis_url: str, namespace: str
) -> None:
    broker = make_broker(redis_url, namespace=namespace)
    actor = declare(broker)
    client = redis.Redis.from_url(redis_url)
    try:
        registry = CollectorRegistry()
        collector = RedisQueueCollector(client, namespace=namespace, registry=registry)
        assert _value(registry, "summariser_worker_queue_depth", queue=QUEUE_NAME) == 0
        for n in range(4):
            actor.send(f"job-{n}")
        actor.send_with_options(args=("later",), delay=600_000)
        consumer = broker.consume(QUEUE_NAME, prefetch=2, timeout=100)
        taken = next(consumer)
        assert taken is not None
        consumer.nack(taken)  # dead-lettered; the second prefetched message stays unacked
        counts = collector.counts()[QUEUE_NAME]
        assert (counts.waiting, counts.unacked, counts.delayed, counts.dead_letters) == (2, 1, 1, 1)
        assert _value(registry, "summariser_worker_queue_depth", queue=QUEUE_NAME) == 2
        assert _value(registry, "summariser_worker_queue_unacked", queue=QUEUE_NAME) == 1
        assert _value(registry, "summariser_worker_queue_delayed", queue=QUEUE_NAME) == 1
        assert _value(registry, "summariser_worker_queue_dead_letters", queue=QUEUE_NAME) == 1
        assert _value(registry, "summariser_worker_broker_up") == 1
    finally:
        client.close()
        broker.close()


def test_redis_not_answering_is_broker_up_zero_not_a_failed_scrape() -> None:
    client = redis_client(f"redis://127.0.0.1:{_free_port()}/0")
    registry = CollectorRegistry()
    RedisQueueCollector(client, namespace="nowhere", registry=registry)
    assert _value(registry, "summariser_worker_broker_up") == 0
    assert _value(registry, "summariser_worker_queue_depth", queue=QUEUE_NAME) is None
    client.close()


# --- the exposition server --------------------------------------------------------------------


def test_the_server_serves_the_registry_and_a_taken_port_is_an_oserror() -> None:
    registry = CollectorRegistry()
    metrics = WorkerMetrics(outcomes=OUTCOMES, registry=registry)
    metrics.jobs.labels("done").inc()
    server = make_metrics_server("127.0.0.1", 0, registry)
    port = server.server_port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            body = response.read().decode()
        assert 'summariser_worker_jobs_total{outcome="done"} 1.0' in body
        with pytest.raises(OSError):
            make_metrics_server("127.0.0.1", port, registry)
    finally:
        server.shutdown()
        server.server_close()


def test_serve_metrics_on_a_taken_port_says_so_and_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("summariser.logs.configure_logging", lambda *a, **k: None)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv(METRICS_PORT_ENV, str(port))
        monkeypatch.setenv(MULTIPROC_DIR_ENV, str(tmp_path))
        monkeypatch.delenv(BROKER_URL_ENV, raising=False)
        with caplog.at_level(logging.ERROR, logger="summariser.workers.metrics"):
            assert serve_metrics() == 1
    assert f"cannot listen on 127.0.0.1:{port}" in caplog.text
    assert "the workers run on without /metrics" in caplog.text


# --- summariser worker: what it hands the dramatiq command line ----------------------------------


class _Exec(BaseException):  # not an Exception: the command's guard lets it through
    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.argv = argv
        self.env = env


def _exec_env(
    monkeypatch: pytest.MonkeyPatch, redis_url: str, database: Path, **options: Any
) -> dict[str, str]:
    from summariser.worker_command import worker

    def execve(path: str, argv: list[str], env: dict[str, str]) -> None:
        raise _Exec(argv, env)

    monkeypatch.setattr(os, "execve", execve)
    args: dict[str, Any] = {"metrics_port": None, "metrics_host": None, "log_format": None}
    args.update(options)
    with pytest.raises(_Exec) as raised:
        worker(
            broker=redis_url,
            database_url=f"sqlite:///{database}",
            processes=1,
            threads=1,
            **args,
        )
    assert raised.value.argv[3] == "summariser.workers.broker:setup_from_env"
    return raised.value.env


def test_the_worker_command_hands_its_settings_to_the_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redis_url: str
) -> None:
    db = tmp_path / "jobs.sqlite"
    for name in (METRICS_PORT_ENV, METRICS_HOST_ENV, "SUMMARISER_LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    folder = tmp_path / "prom"
    monkeypatch.setenv(MULTIPROC_DIR_ENV, str(folder))
    env = _exec_env(monkeypatch, redis_url, db)
    assert env["SUMMARISER_LOG_FORMAT"] == "json"
    assert env["SUMMARISER_REDELIVERY_S"] == "60.0"
    assert (env[METRICS_HOST_ENV], env[METRICS_PORT_ENV]) == ("127.0.0.1", "9191")
    assert env[MULTIPROC_DIR_ENV] == str(folder) and folder.is_dir()
    env = _exec_env(
        monkeypatch,
        redis_url,
        db,
        metrics_port=9300,
        metrics_host="0.0.0.0",
        log_format="text",
        redelivery_after=10,
    )
    assert env["SUMMARISER_REDELIVERY_S"] == "10.0"
    assert env["SUMMARISER_LOG_FORMAT"] == "text"
    assert (env[METRICS_HOST_ENV], env[METRICS_PORT_ENV]) == ("0.0.0.0", "9300")
    monkeypatch.delenv(MULTIPROC_DIR_ENV)
    env = _exec_env(monkeypatch, redis_url, db, metrics_port=0)
    assert env[METRICS_PORT_ENV] == "0" and MULTIPROC_DIR_ENV not in env


def test_the_worker_command_refuses_an_unknown_log_format(monkeypatch: pytest.MonkeyPatch) -> None:
    import typer

    from summariser.worker_command import worker

    monkeypatch.setattr(os, "execve", lambda *a: pytest.fail("exec'd with a bad log format"))
    with pytest.raises(typer.Exit) as raised:
        worker(
            broker="redis://127.0.0.1:1/0",
            database_url=None,
            processes=1,
            threads=1,
            metrics_port=0,
            metrics_host=None,
            log_format="yaml",
        )
    assert raised.value.exit_code == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"broker": "redis://:secret@127.0.0.1:1/0"}, "the broker at redis://:***@127.0.0.1:1/0"),
        ({"database_url": "postgresql://nobody@127.0.0.1:1/db"}, "cannot use the job database"),
        ({"database_url": "nosuchdb://x"}, "cannot use the job database"),
        ({"redelivery_after": 1.0}, "at least 5 s"),
    ],
)
def test_the_worker_command_refuses_what_cannot_work_with_exit_2(
    change: dict[str, Any],
    message: str,
    redis_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import typer

    from summariser.worker_command import worker

    monkeypatch.setattr(os, "execve", lambda *a: pytest.fail("exec'd settings that cannot work"))
    args: dict[str, Any] = {
        "broker": redis_url,
        "database_url": f"sqlite:///{tmp_path / 'jobs.sqlite'}",
        "processes": 1,
        "threads": 1,
        "metrics_port": 0,
        "metrics_host": None,
        "log_format": None,
    }
    with pytest.raises(typer.Exit) as raised:
        worker(**(args | change))
    assert raised.value.exit_code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and "secret" not in err


# --- summariser worker, end to end ------------------------------------------------------------


def _scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _json_lines(text: str) -> list[dict[str, Any]]:
    found = []
    for line in text.splitlines():
        if line.startswith("{"):
            found.append(json.loads(line))
    return found


def test_summariser_worker_serves_metrics_and_logs_json_lines(
    redis_url: str, namespace: str, tmp_path: Path
) -> None:
    db_url = f"sqlite:///{tmp_path / 'jobs.sqlite'}"
    store = JobStore(db_url)
    store.create_schema()
    broker = make_broker(redis_url, namespace=namespace)
    actor = declare(broker)
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SUMMARISER_", "OPENAI_", "dramatiq_"))
        and k.upper() != MULTIPROC_DIR_ENV
    }
    env.update(
        {
            BROKER_URL_ENV: redis_url,
            NAMESPACE_ENV: namespace,
            "SUMMARISER_DATABASE_URL": db_url,
            "PYTHONPATH": str(REPO),
            "TMPDIR": str(tmp_path),  # where the command makes its PROMETHEUS_MULTIPROC_DIR
        }
    )
    argv = [sys.executable, "-m", "summariser", "worker", "--processes", "2", "--threads", "1"]
    argv += ["--metrics-port", str(port)]
    output = tmp_path / "worker.log"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            argv,
            cwd=REPO,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def text() -> str:
        return output.read_text(errors="replace")

    def wait(what: str, ok: Any, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if ok():
                    return
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{what}; exit {process.poll()}:\n{text()[-4000:]}")
            time.sleep(0.1)

    def sample(name: str, **labels: str) -> float | None:
        return _scrape(port).get((name, tuple(sorted(labels.items()))))

    try:
        wait("workers not ready", lambda: text().count("ready for action") >= 2)
        wait("no /metrics", lambda: sample("summariser_worker_processes") == 2)
        article = "Revenue rose 12% to $4.2 billion in the third quarter, the company said."
        job_ids = []
        for n in range(2):
            new = NewJob("text", "tester", {"text": f"{article} Item {n}."}, f"ref:{n}", "f" * 64)
            job = store.create(new)[0]
            actor.send(job.id)
            job_ids.append(job.id)
        missing = f"missing-{uuid.uuid4().hex}"
        actor.send(missing)

        def counted() -> bool:
            done = sample("summariser_worker_jobs_total", outcome="done")
            return done == 2 and sample("summariser_worker_jobs_total", outcome="missing") == 1

        wait("outcomes not counted", counted)
        for job_id in job_ids:
            record = store.get(job_id)
            assert record is not None and record.status == "done"
        scraped = _scrape(port)
        assert scraped[("summariser_worker_jobs_total", (("outcome", "failed"),))] == 0
        assert scraped[("summariser_worker_jobs_total", (("outcome", "error"),))] == 0
        assert scraped[("summariser_worker_jobs_in_flight", ())] == 0
        assert (
            scraped[("summariser_worker_job_duration_seconds_count", (("outcome", "done"),))] == 2
        )
        queue = (("queue", QUEUE_NAME),)
        assert scraped[("summariser_worker_queue_depth", queue)] == 0
        assert scraped[("summariser_worker_queue_unacked", queue)] == 0
        assert scraped[("summariser_worker_queue_dead_letters", queue)] == 0
        assert scraped[("summariser_worker_broker_up", ())] == 1

        def logged_missing() -> bool:
            return any(e.get("job_id") == missing for e in _json_lines(text()))

        wait("no JSON line with the job id", logged_missing, timeout=5)
        lines = _json_lines(text())
        ready = [e for e in lines if e["message"] == "Worker process is ready for action."]
        assert len({e["pid"] for e in ready}) == 2
        [dropped] = [e for e in lines if e.get("job_id") == missing]
        assert dropped["level"] == "WARNING" and "not in the store" in dropped["message"]
        assert "returned a value" not in text()
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
            code = None
        broker.close()
        store.close()
    assert code == 0, text()[-4000:]
    assert [p.name[: len(DIR_PREFIX)] for p in tmp_path.glob(f"{DIR_PREFIX}*")] == [DIR_PREFIX]
