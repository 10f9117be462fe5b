"""The Redis broker the service sends job ids through and the workers take them from.

Stage: workers (edge of the broker). In: a Redis URL (``--broker`` or ``SUMMARISER_BROKER_URL``)
and a key namespace (``SUMMARISER_BROKER_NAMESPACE``, default ``summariser``: deployments
sharing one Redis keep apart by it). Out: a :class:`~dramatiq.brokers.redis.RedisBroker`
with the middleware the actors need, the declared ``summarise_job`` actor, and
:func:`dispatcher` for ``summariser serve --broker``.

:func:`setup_from_env` is what the ``dramatiq`` command line calls in each worker process
(``dramatiq summariser.workers.broker:setup_from_env``); it is the one place here that reads
the environment, as a command's entry point does.
"""

from __future__ import annotations

from collections.abc import Callable

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import CurrentMessage
from dramatiq.middleware.asyncio import AsyncIO

from summariser.errors import ConfigurationError
from summariser.workers import BROKER_URL_ENV, DEFAULT_NAMESPACE, broker_namespace, broker_url
from summariser.workers.actors import declare

# Dramatiq's defaults: a worker silent for 60 s is dead; its unacknowledged messages go back to
# the queue at the next maintenance pass (run on 1 in 1000 broker commands).
HEARTBEAT_TIMEOUT_MS = 60_000
MAINTENANCE_CHANCE = 1_000


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


def install(broker: dramatiq.Broker) -> dramatiq.Actor[[str], None]:
    """Make ``broker`` the process's Dramatiq broker and declare the actors on it."""
    dramatiq.set_broker(broker)
    return declare(broker)


def setup_from_env() -> None:
    """The ``dramatiq`` command line's broker set-up: the broker from the environment."""
    url = broker_url(None)
    if url is None:
        raise ConfigurationError(f"{BROKER_URL_ENV} is not set: the worker needs a Redis URL")
    install(make_broker(url, namespace=broker_namespace()))


def dispatcher(url: str, *, namespace: str = DEFAULT_NAMESPACE) -> Callable[[str], None]:
    """``send(job_id)``: queue a job for the workers (what ``serve --broker`` enqueues with)."""
    actor = declare(make_broker(url, namespace=namespace))

    def send(job_id: str) -> None:
        actor.send(job_id)

    return send
