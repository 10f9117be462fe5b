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

BROKER_URL_ENV = "SUMMARISER_BROKER_URL"
NAMESPACE_ENV = "SUMMARISER_BROKER_NAMESPACE"
DEFAULT_NAMESPACE = "summariser"


def broker_url(explicit: str | None, env: Mapping[str, str] | None = None) -> str | None:
    """``--broker``, else ``SUMMARISER_BROKER_URL``, else None (jobs run in one process)."""
    env = os.environ if env is None else env
    return explicit or env.get(BROKER_URL_ENV) or None


def broker_namespace(env: Mapping[str, str] | None = None) -> str:
    """The Redis key prefix: ``SUMMARISER_BROKER_NAMESPACE``, else ``summariser``."""
    env = os.environ if env is None else env
    return env.get(NAMESPACE_ENV) or DEFAULT_NAMESPACE
