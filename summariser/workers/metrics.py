"""Prometheus metrics of the Dramatiq workers: jobs by outcome, jobs in flight, job durations,
and the Redis queue, on one ``/metrics`` per ``summariser worker``.

Stage: workers (observability). In: the messages each worker process runs (the
:class:`WorkerMetrics` middleware's hooks: the actor's return value is the job's outcome), and
at scrape time the broker's keys in Redis. Out: the Prometheus text format at
``http://HOST:PORT/metrics`` (``SUMMARISER_WORKER_METRICS_HOST``, default ``127.0.0.1``;
``SUMMARISER_WORKER_METRICS_PORT``, default 9191, 0 for none).

Worker processes write their values with prometheus_client's multiprocess mode to files in
``PROMETHEUS_MULTIPROC_DIR`` (``summariser worker`` makes a fresh folder per invocation, see
:func:`prepare_multiproc_dir`: the variable must be set before the process imports
prometheus_client). One process reads them all: :func:`serve_metrics`, which the ``dramatiq``
command line runs once, in a process of its own, because the middleware lists it in
:attr:`WorkerMetrics.forks`. A port already taken ends that process with one log line; the
workers run on without metrics.

Metrics (``summariser_worker_``)::

    jobs_total{outcome}            messages run: done failed dead expired skipped missing (what
                                   the actor returned), retry (RetryableJobError), error (any
                                   other exception), unknown (no outcome returned)
    jobs_in_flight                 messages being run now, all processes
    job_duration_seconds{outcome}  how long a message ran
    processes                      worker processes running
    queue_depth{queue}             messages waiting in Redis that no worker has taken
    queue_unacked{queue}           messages taken by a worker (prefetched or running) and not
                                   yet acknowledged
    queue_delayed{queue}           retries waiting for their backoff
    queue_dead_letters{queue}      dead-lettered messages (Dramatiq keeps them 7 days)
    broker_up                      1 when Redis answered the scrape, else 0

The queue gauges describe the shared Redis, so every machine reports the same values: take
``max()`` of them across instances, not ``sum()``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import redis
from dramatiq.middleware import Middleware
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, make_wsgi_app
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from redis.backoff import NoBackoff
from redis.retry import Retry

from summariser.errors import ConfigurationError
from summariser.workers import DEFAULT_NAMESPACE, broker_namespace, broker_url

if TYPE_CHECKING:
    from dramatiq.broker import Broker, MessageProxy
    from dramatiq.worker import Worker
    from prometheus_client.metrics_core import Metric

log = logging.getLogger("summariser.workers.metrics")

METRICS_PORT_ENV = "SUMMARISER_WORKER_METRICS_PORT"
METRICS_HOST_ENV = "SUMMARISER_WORKER_METRICS_HOST"
MULTIPROC_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
DEFAULT_METRICS_PORT = 9191
DEFAULT_METRICS_HOST = "127.0.0.1"
# summariser.workers.actors.QUEUE_NAME (a test keeps them equal): the metrics process does not
# import the actors, nor what they import.
DEFAULT_QUEUES: tuple[str, ...] = ("summariser",)
# Folders made by prepare_multiproc_dir: the prefix, then the pid of the `summariser worker`
# process (the dramatiq command line's main process after the exec).
DIR_PREFIX = "summariser-worker-metrics-"

ERROR = "error"
RETRY = "retry"
UNKNOWN = "unknown"
SKIPPED = "skipped"
_DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
_LIVE_GAUGE_FILE = re.compile(r"^gauge_live[a-z]+_(\d+)\.db$")


# --- settings ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MetricsSettings:
    """Where ``/metrics`` listens; ``port`` 0 is no metrics."""

    host: str = DEFAULT_METRICS_HOST
    port: int = DEFAULT_METRICS_PORT

    @property
    def enabled(self) -> bool:
        return self.port != 0

    @classmethod
    def resolve(
        cls,
        host: str | None = None,
        port: int | None = None,
        env: Mapping[str, str] | None = None,
    ) -> MetricsSettings:
        """``--metrics-host`` / ``--metrics-port``, else the environment, else the defaults."""
        env = os.environ if env is None else env
        raw = str(port) if port is not None else env.get(METRICS_PORT_ENV) or ""
        try:
            number = int(raw) if raw.strip() else DEFAULT_METRICS_PORT
        except ValueError as err:
            raise ConfigurationError(f"{METRICS_PORT_ENV} must be a port number") from err
        if not 0 <= number <= 65535:
            raise ConfigurationError(f"the metrics port must be 0 to 65535 (0: none), not {number}")
        address = (host or env.get(METRICS_HOST_ENV) or DEFAULT_METRICS_HOST).strip()
        return cls(address, number)

    def to_env(self) -> dict[str, str]:
        return {METRICS_HOST_ENV: self.host, METRICS_PORT_ENV: str(self.port)}


# --- the middleware in each worker process ----------------------------------------------------


class WorkerMetrics(Middleware):
    """Counts, times and gauges the messages a worker process runs.

    ``outcomes``: the values the actors return that are counted as such (any other return
    value is ``unknown``); ``retryable``: exceptions counted ``retry`` (others are ``error``).
    ``multiproc_dir``: the multiprocess folder, where a stopping worker marks itself dead.
    The collectors are in :attr:`registry` (a new one unless given), which only in-process
    readers (tests) read: in multiprocess mode the values are read from the files.
    """

    def __init__(
        self,
        *,
        outcomes: Collection[str] = (),
        retryable: tuple[type[BaseException], ...] = (),
        registry: CollectorRegistry | None = None,
        multiproc_dir: str | None = None,
    ) -> None:
        self.outcomes = frozenset(outcomes)
        self.retryable = retryable
        self.multiproc_dir = multiproc_dir
        self.registry = CollectorRegistry() if registry is None else registry
        r = self.registry
        self.jobs = Counter(
            "summariser_worker_jobs",
            "Messages run by the workers, by the job's outcome.",
            ["outcome"],
            registry=r,
        )
        self.in_flight = Gauge(
            "summariser_worker_jobs_in_flight",
            "Messages being run now.",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.duration = Histogram(
            "summariser_worker_job_duration_seconds",
            "Time a worker spent on a message, by the job's outcome.",
            ["outcome"],
            buckets=_DURATION_BUCKETS,
            registry=r,
        )
        self.processes = Gauge(
            "summariser_worker_processes",
            "Worker processes running.",
            registry=r,
            multiprocess_mode="livesum",
        )
        # Every outcome from zero, so that rate() sees the first one.
        for outcome in sorted({*self.outcomes, RETRY, ERROR, UNKNOWN, SKIPPED}):
            self.jobs.labels(outcome)
            self.duration.labels(outcome)
        self._started: dict[str, float] = {}
        self._lock = threading.Lock()

    @property
    def forks(self) -> list[Callable[[], int]]:
        return [serve_metrics]

    def outcome(self, result: object, exception: BaseException | None) -> str:
        """The ``outcome`` label of a message that returned ``result`` or raised ``exception``."""
        if exception is not None:
            return RETRY if isinstance(exception, self.retryable) else ERROR
        if isinstance(result, str) and result in self.outcomes:
            return result
        return UNKNOWN

    def after_worker_boot(self, broker: Broker, worker: Worker) -> None:
        self.processes.inc()

    def after_worker_shutdown(self, broker: Broker, worker: Worker) -> None:
        self.processes.dec()
        if self.multiproc_dir is not None:
            with contextlib.suppress(OSError):
                mark_process_dead(os.getpid(), self.multiproc_dir)  # type: ignore[no-untyped-call]

    def before_process_message(self, broker: Broker, message: MessageProxy) -> None:
        with self._lock:
            self._started[message.message_id] = time.perf_counter()
        self.in_flight.inc()

    def after_process_message(
        self,
        broker: Broker,
        message: MessageProxy,
        *,
        result: Any | None = None,
        exception: BaseException | None = None,
    ) -> None:
        self._finish(message, self.outcome(result, exception))

    def after_skip_message(self, broker: Broker, message: MessageProxy) -> None:
        """A middleware refused the message (SkipMessage): it was not run."""
        self._finish(message, SKIPPED)

    def _finish(self, message: MessageProxy, outcome: str) -> None:
        with self._lock:
            started = self._started.pop(message.message_id, None)
        if started is not None:  # a middleware before this one may have refused it
            self.in_flight.dec()
            self.duration.labels(outcome).observe(time.perf_counter() - started)
        self.jobs.labels(outcome).inc()


def worker_metrics(
    *,
    outcomes: Collection[str],
    retryable: tuple[type[BaseException], ...],
    env: Mapping[str, str] | None = None,
) -> WorkerMetrics | None:
    """The middleware for a worker process with this environment, or None: metrics off
    (port 0), or no ``PROMETHEUS_MULTIPROC_DIR`` (``dramatiq`` run by hand without it: the
    processes' values could not be read together; a warning says so)."""
    env = os.environ if env is None else env
    if not MetricsSettings.resolve(env=env).enabled:
        return None
    folder = env.get(MULTIPROC_DIR_ENV)
    if not folder:
        log.warning(
            "worker metrics off: %s is not set (summariser worker sets it; %s=0 silences this)",
            MULTIPROC_DIR_ENV,
            METRICS_PORT_ENV,
        )
        return None
    return WorkerMetrics(outcomes=outcomes, retryable=retryable, multiproc_dir=folder)


# --- the multiprocess folder --------------------------------------------------------------------


def prepare_multiproc_dir(explicit: str | None = None, *, parent: str | None = None) -> str:
    """The folder the worker processes of one invocation write their metrics to.

    ``explicit`` (``PROMETHEUS_MULTIPROC_DIR`` as given): made if missing and emptied of the
    ``*.db`` files an earlier run left (so it must be this invocation's alone). Else a new
    folder in ``parent`` (the system's temporary folder) named after this process, after the
    folders of earlier invocations whose process has ended are removed.
    """
    if explicit:
        folder = Path(explicit)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            with contextlib.suppress(OSError):
                stale.unlink()
        return str(folder)
    base = Path(parent or tempfile.gettempdir())
    for old in base.glob(f"{DIR_PREFIX}*"):
        pid = old.name.removeprefix(DIR_PREFIX).split("-", 1)[0]
        if old.is_dir() and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    return tempfile.mkdtemp(prefix=f"{DIR_PREFIX}{os.getpid()}-", dir=base)


def mark_dead_processes(folder: str) -> list[int]:
    """Drop the live gauges (in flight, processes) of processes that ended without saying so
    (SIGKILL, a crash); returns their pids."""
    dead = []
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    for name in names:
        match = _LIVE_GAUGE_FILE.match(name)
        if match is not None and int(match.group(1)) not in dead:
            pid = int(match.group(1))
            if not _alive(pid):
                with contextlib.suppress(OSError):
                    mark_process_dead(pid, folder)  # type: ignore[no-untyped-call]
                dead.append(pid)
    return dead


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


# --- collectors read at scrape time ------------------------------------------------------------


class LiveProcessesCollector:
    """The worker processes' values from the multiprocess folder, after the live gauges of
    processes that died unannounced are dropped (else ``jobs_in_flight`` would keep them)."""

    def __init__(self, folder: str, registry: CollectorRegistry | None = None) -> None:
        self.folder = folder
        self._inner = MultiProcessCollector(None, folder)  # type: ignore[no-untyped-call]
        if registry is not None:
            registry.register(self)

    def collect(self) -> Iterable[Metric]:
        mark_dead_processes(self.folder)
        collected: Iterable[Metric] = self._inner.collect()  # type: ignore[no-untyped-call]
        return collected


@dataclass(frozen=True, slots=True)
class QueueCounts:
    waiting: int
    unacked: int
    delayed: int
    dead_letters: int


class RedisQueueCollector:
    """Queue depth, unacknowledged, delayed and dead-lettered messages, read from Redis.

    Dramatiq's RedisBroker keys (``brokers/redis/dispatch.lua``), for queue ``q`` in namespace
    ``ns``: the list ``ns:q`` of message ids waiting; the hash ``ns:q.msgs`` of every message
    not yet acknowledged (waiting, or taken by a worker); the delay queue ``q.DQ`` (retries
    waiting for their backoff: its hash ``ns:q.DQ.msgs`` counts those still in Redis and those a
    worker holds until their time); and the dead letters, the sorted set ``ns:q.XQ``.
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        namespace: str = DEFAULT_NAMESPACE,
        queues: Sequence[str] = DEFAULT_QUEUES,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.client = client
        self.namespace = namespace
        self.queues = tuple(queues)
        self._was_up = True
        if registry is not None:
            registry.register(self)

    def counts(self) -> dict[str, QueueCounts]:
        """The counts of each queue, read in one transaction (raises ``redis.RedisError``)."""
        pipe = self.client.pipeline(transaction=True)
        for queue in self.queues:
            key = f"{self.namespace}:{queue}"
            pipe.llen(key)
            pipe.hlen(f"{key}.msgs")
            pipe.hlen(f"{key}.DQ.msgs")
            pipe.zcard(f"{key}.XQ")
        values = [int(v) for v in pipe.execute()]
        counts = {}
        for i, queue in enumerate(self.queues):
            waiting, stored, delayed, dead = values[4 * i : 4 * i + 4]
            counts[queue] = QueueCounts(waiting, max(stored - waiting, 0), delayed, dead)
        return counts

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("summariser_worker_broker_up", "1 when Redis answered the scrape.")
        try:
            counts = self.counts()
        except redis.RedisError as err:
            if self._was_up:
                log.warning("worker metrics: Redis does not answer: %s", err)
            self._was_up = False
            up.add_metric([], 0)
            yield up
            return
        self._was_up = True
        families = {
            "waiting": GaugeMetricFamily(
                "summariser_worker_queue_depth",
                "Messages waiting in Redis that no worker has taken.",
                labels=["queue"],
            ),
            "unacked": GaugeMetricFamily(
                "summariser_worker_queue_unacked",
                "Messages taken by a worker (prefetched or running), not yet acknowledged.",
                labels=["queue"],
            ),
            "delayed": GaugeMetricFamily(
                "summariser_worker_queue_delayed",
                "Retries waiting for their backoff.",
                labels=["queue"],
            ),
            "dead_letters": GaugeMetricFamily(
                "summariser_worker_queue_dead_letters",
                "Dead-lettered messages kept in Redis.",
                labels=["queue"],
            ),
        }
        for queue, count in counts.items():
            for field, family in families.items():
                family.add_metric([queue], getattr(count, field))
        yield from families.values()
        up.add_metric([], 1)
        yield up


# --- the exposition process ---------------------------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        log.debug("metrics request: " + format, *args)


def metrics_registry(folder: str, env: Mapping[str, str] | None = None) -> CollectorRegistry:
    """The registry ``/metrics`` serves: the processes' files in ``folder``, and the queues of
    the broker at ``SUMMARISER_BROKER_URL`` when set."""
    env = os.environ if env is None else env
    registry = CollectorRegistry()
    LiveProcessesCollector(folder, registry)
    url = broker_url(None, env)
    if url is not None:
        RedisQueueCollector(redis_client(url), namespace=broker_namespace(env), registry=registry)
    return registry


def redis_client(url: str, timeout: float = 2.0) -> redis.Redis:
    """A client for the scrapes: no retries, a short timeout (Redis down must not make a scrape
    outlast Prometheus's timeout; ``broker_up`` says it)."""
    return redis.Redis.from_url(
        url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0)
    )


def make_metrics_server(host: str, port: int, registry: CollectorRegistry) -> WSGIServer:
    """An HTTP server (not yet serving) for ``registry`` on ``host:port``; OSError when the
    address cannot be had."""
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]

    class Server(ThreadingWSGIServer):
        address_family = family

    return make_server(host, port, make_wsgi_app(registry), Server, handler_class=_QuietHandler)


def serve_metrics() -> int:
    """Serve ``/metrics`` until stopped: the function :attr:`WorkerMetrics.forks` names, run
    by the ``dramatiq`` command line in a process of its own. Settings from the environment."""
    from summariser.logs import configure_logging, log_format

    with contextlib.suppress(ConfigurationError):
        configure_logging(log_format())
    try:
        settings = MetricsSettings.resolve()
    except ConfigurationError as err:
        log.error("worker metrics off: %s", err)
        return 1
    folder = os.environ.get(MULTIPROC_DIR_ENV)
    if not settings.enabled or not folder:
        return 0
    try:
        server = make_metrics_server(settings.host, settings.port, metrics_registry(folder))
    except OSError as err:
        log.error(
            "worker metrics off: cannot listen on %s:%d (%s); the workers run on without /metrics",
            settings.host,
            settings.port,
            err.strerror or err,
        )
        return 1
    log.info("worker metrics at http://%s:%d/metrics", settings.host, settings.port)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0
