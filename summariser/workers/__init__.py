"""Dramatiq workers: summarise jobs from the shared job store on more than one machine.

Stage: workers (orchestration, async). In: job ids sent through a Redis broker by
``summariser serve --broker URL``; the jobs themselves in the service's store (PostgreSQL, or a
SQLite file every worker can reach). Out: the same job rows, ended ``done``, ``failed``,
``dead`` (retries exhausted) or ``expired`` (too old to answer).

- :mod:`summariser.workers.broker`: the Redis broker, its middleware, and the set-up the
  ``dramatiq`` command line and ``summariser serve --broker`` call.
- :mod:`summariser.workers.actors`: the ``summarise_job`` actor and the job logic behind it.
- :mod:`summariser.workers.ratelimit`: the global (Redis-backed) rate limit.

Nothing here is imported until a worker or a broker-backed service starts: the package
``__init__`` imports no Dramatiq.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

BROKER_URL_ENV = "SUMMARISER_BROKER_URL"
NAMESPACE_ENV = "SUMMARISER_BROKER_NAMESPACE"
DEFAULT_NAMESPACE = "summariser"
REDELIVERY_ENV = "SUMMARISER_REDELIVERY_S"
# A worker silent this long is dead: its messages go back to the queue and its jobs' leases
# may be taken over. Shorter redelivers sooner, but a job's event loop blocked for longer (a
# huge article's validation, say) then looks dead too.
DEFAULT_REDELIVERY_S = 60.0
MIN_REDELIVERY_S = 5.0
CONNECT_TIMEOUT_S = 5  # reaching Redis
COMMAND_TIMEOUT_S = 30  # one Redis command (sending a job id)


def broker_url(explicit: str | None, env: Mapping[str, str] | None = None) -> str | None:
    """``--broker``, else ``SUMMARISER_BROKER_URL``, else None (jobs run in one process)."""
    env = os.environ if env is None else env
    return explicit or env.get(BROKER_URL_ENV) or None


def broker_namespace(env: Mapping[str, str] | None = None) -> str:
    """The Redis key prefix: ``SUMMARISER_BROKER_NAMESPACE``, else ``summariser``."""
    env = os.environ if env is None else env
    return env.get(NAMESPACE_ENV) or DEFAULT_NAMESPACE


def redelivery_after(explicit: float | None = None, env: Mapping[str, str] | None = None) -> float:
    """Seconds after which a silent worker's jobs are redelivered: ``explicit``, else
    ``SUMMARISER_REDELIVERY_S``, else 60. Every worker of a deployment must use the same."""
    from summariser.errors import ConfigurationError

    env = os.environ if env is None else env
    raw = explicit if explicit is not None else env.get(REDELIVERY_ENV) or DEFAULT_REDELIVERY_S
    try:
        seconds = float(raw)
    except ValueError:
        raise ConfigurationError(
            f"{REDELIVERY_ENV} must be a number of seconds, not {raw!r}"
        ) from None
    if not seconds >= MIN_REDELIVERY_S:
        raise ConfigurationError(
            f"redelivery after {raw} s: it must be at least {MIN_REDELIVERY_S:g} s"
        )
    return seconds


def redact_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for messages and logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def with_timeouts(url: str) -> str:
    """The Redis ``url`` with connect and command timeouts, unless it sets its own: a broker
    that does not answer is an error in seconds, not a hang."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.setdefault("socket_connect_timeout", str(CONNECT_TIMEOUT_S))
    query.setdefault("socket_timeout", str(COMMAND_TIMEOUT_S))
    return urlunsplit(parts._replace(query=urlencode(query)))


def ping_broker(url: str) -> None:
    """PING the Redis at ``url``; :class:`~summariser.errors.ConfigurationError` saying why
    (the password hidden) when it is no Redis URL or does not answer."""
    import redis

    from summariser.errors import ConfigurationError

    shown = redact_url(url)
    try:
        client = redis.Redis.from_url(with_timeouts(url))
    except ValueError as err:
        raise ConfigurationError(f"not a Redis URL: {shown} ({err})") from None
    try:
        client.ping()
    except (redis.RedisError, OSError) as err:
        reason = str(err) or type(err).__name__
        raise ConfigurationError(f"cannot reach the broker at {shown}: {reason}") from None
    finally:
        client.close()
