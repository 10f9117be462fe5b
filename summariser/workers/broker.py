"""The Redis broker the service sends job ids through and the workers take them from.

Stage: workers (edge of the broker). In: a Redis URL (``--broker`` or ``SUMMARISER_BROKER_URL``)
and a key namespace (``SUMMARISER_BROKER_NAMESPACE``, default ``summariser``: deployments
sharing one Redis keep apart by it). Out: a :class:`~dramatiq.brokers.redis.RedisBroker`
with the middleware the actors need, the declared ``summarise_job`` actor, and
:func:`dispatcher` for ``summariser serve --broker``.

:func:`setup_from_env` is what the ``dramatiq`` command line calls in each worker process
(``dramatiq summariser.workers.broker:setup_from_env``); it is the one place here that reads
the environment, as a command's entry point does: the log format (``SUMMARISER_LOG_FORMAT``,
JSON by default, see :mod:`summariser.logs`) and the metrics (:mod:`summariser.workers.metrics`,
``SUMMARISER_WORKER_METRICS_*``) as well as the broker.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Mapping
from types import FrameType
from typing import get_args

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import CurrentMessage
from dramatiq.middleware.asyncio import AsyncIO

from summariser.errors import ConfigurationError
from summariser.logs import configure_logging, log_format
from summariser.workers import (
    BROKER_URL_ENV,
    DEFAULT_NAMESPACE,
    broker_namespace,
    broker_url,
    redelivery_after,
)
from summariser.workers.actors import ACTOR_NAME, Outcome, RetryableJobError, declare
from summariser.workers.metrics import WorkerMetrics, worker_metrics

log = logging.getLogger("summariser.workers")

# A worker silent for 60 s is dead (SUMMARISER_REDELIVERY_S); its unacknowledged messages go
# back to the queue at the next maintenance pass, which a broker command starts with this chance
# in a million. Dramatiq's default (1,000: one command in a thousand) leaves an idle fleet, where
# each process fetches about once a second, minutes from noticing a dead worker; one in ten
# costs a cheap script run (a sorted-set range over the heartbeats) and notices in seconds.
HEARTBEAT_TIMEOUT_MS = 60_000
MAINTENANCE_CHANCE = 100_000


def make_broker(
    url: str,
    *,
    namespace: str = DEFAULT_NAMESPACE,
    heartbeat_timeout_ms: int = HEARTBEAT_TIMEOUT_MS,
    maintenance_chance: int = MAINTENANCE_CHANCE,
) -> RedisBroker:
    """A Redis broker with the actors' middleware (AsyncIO, CurrentMessage) added."""
    # RedisBroker.__init__ has no annotations in dramatiq 2.2 (the package is partly typed).
    broker = RedisBroker(  # type: ignore[no-untyped-call]
        url=url,
        namespace=namespace,
        heartbeat_timeout=heartbeat_timeout_ms,
        maintenance_chance=maintenance_chance,
    )
    add_middleware(broker)
    return broker


def add_middleware(broker: dramatiq.Broker) -> None:
    """AsyncIO: one event loop per worker process for every job (backend clients are bound to
    a loop). CurrentMessage: the actor reads its retry count from the message."""
    broker.add_middleware(AsyncIO())
    broker.add_middleware(CurrentMessage())


def install(broker: dramatiq.Broker) -> dramatiq.Actor[[str], Outcome]:
    """Make ``broker`` the process's Dramatiq broker and declare the actors on it."""
    dramatiq.set_broker(broker)
    quiet_returned_values()
    return declare(broker)


def metrics_middleware(env: Mapping[str, str] | None = None) -> WorkerMetrics | None:
    """The worker metrics middleware (None when off), counting ``summarise_job``'s outcomes."""
    return worker_metrics(outcomes=get_args(Outcome), retryable=(RetryableJobError,), env=env)


def setup_from_env() -> None:
    """The ``dramatiq`` command line's broker set-up: the broker from the environment, logs in
    its format (the command line has set up the process's handlers: they are re-pointed, not
    doubled) and the metrics middleware."""
    configure_logging(log_format())
    url = broker_url(None)
    if url is None:
        raise ConfigurationError(f"{BROKER_URL_ENV} is not set: the worker needs a Redis URL")
    heartbeat_ms = int(redelivery_after() * 1000)
    broker = make_broker(url, namespace=broker_namespace(), heartbeat_timeout_ms=heartbeat_ms)
    coalesce_stop_signals()
    metrics = metrics_middleware()
    if metrics is not None:
        broker.add_middleware(metrics)
    install(broker)


# A stop signal this soon after the first is the same stop delivered twice, not a second one.
DUPLICATE_STOP_S = 2.0


def coalesce_stop_signals(window_s: float = DUPLICATE_STOP_S) -> None:
    """Make a worker process take a SIGTERM that repeats the first within ``window_s`` as the
    same request to stop.

    A process manager that signals every process of the group (systemd's default, ``kill --
    -PGID``) reaches each worker process twice at once: directly, and through the ``dramatiq``
    master, which passes its SIGTERM on. Dramatiq takes a second signal as "kill now" and
    calls ``sys.exit`` before its worker threads were told to stop, which then waits on them
    for ever. So the first SIGTERM still stops gracefully (Dramatiq's own handler: running jobs
    finish, prefetched messages go back to Redis), an echo of it is ignored, and a SIGTERM
    after the window ends the process at once (``os._exit``: its jobs are redelivered).
    Called from the worker process's main thread (the broker set-up); elsewhere it does
    nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    graceful = signal.getsignal(signal.SIGTERM)
    if not callable(graceful):
        return
    first: float | None = None

    def on_stop(signum: int, frame: FrameType | None) -> None:
        nonlocal first
        now = time.monotonic()
        if first is None:
            first = now
            graceful(signum, frame)
        elif now - first >= window_s:
            log.warning("stopped again: exiting now; the running jobs will be redelivered")
            logging.shutdown()
            os._exit(1)

    signal.signal(signal.SIGTERM, on_stop)


class _ReturnedValueFilter(logging.Filter):
    """Drops Dramatiq's warning that ``summarise_job`` returned a value with no Results
    middleware to keep it: the value is the job's outcome, for the metrics, not a result."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(
            f"Actor '{ACTOR_NAME}' returned a value that is not None"
        )


def quiet_returned_values() -> None:
    """Install :class:`_ReturnedValueFilter` on Dramatiq's worker-thread logger (once)."""
    logger = logging.getLogger("dramatiq.worker.WorkerThread")
    if not any(isinstance(f, _ReturnedValueFilter) for f in logger.filters):
        logger.addFilter(_ReturnedValueFilter())


class Dispatcher:
    """``send(job_id)`` queues a job for the workers (what ``serve --broker`` enqueues with);
    :meth:`ping` tells ``/readyz`` whether the broker answers."""

    def __init__(self, url: str, *, namespace: str = DEFAULT_NAMESPACE) -> None:
        self.broker = make_broker(url, namespace=namespace)
        self.actor = declare(self.broker)

    def __call__(self, job_id: str) -> None:
        self.actor.send(job_id)

    def ping(self) -> None:
        """Raise unless Redis answers."""
        self.broker.client.ping()


def dispatcher(url: str, *, namespace: str = DEFAULT_NAMESPACE) -> Dispatcher:
    """The :class:`Dispatcher` for the broker at ``url``."""
    return Dispatcher(url, namespace=namespace)
