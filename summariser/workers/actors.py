"""The ``summarise_job`` actor: run one job of the shared job store in a Dramatiq worker.

Stage: workers (orchestration, async). In: a job id from the broker (the message carries
nothing else: the payload stays in the store). Out: the job row ended as one of::

    done     the result, with its provenance (as the in-process queue writes it)
    failed   an error retrying cannot fix (bad input, quota, authentication, refusal, ...)
    dead     a transient error (backend down, timeout) still there after the last retry
    expired  the job was older than its kind allows when a worker took it (a Slack answer
             after 15 minutes is noise)

A message can arrive twice: Redis redelivers the messages of a worker that died, and a retry is
a new delivery. So every write is conditional (the store's leases,
:meth:`~summariser.service.store.JobStore.claim_lease`). A worker *claims* a job with one
UPDATE that succeeds only for a ``queued`` job, or for a ``running`` one whose lease ran out
(its worker died); while the job runs the worker renews the lease (``updated_at``) every third
of its length; and it ends the job only if ``updated_at`` is still the value it last wrote.
The value is the fence: a worker that lost its lease (another took the job over) cannot
overwrite the other's outcome, and a message for a job already ended does nothing, but for
sending an answer its first worker owed (a Slack reply: :mod:`summariser.service.replies`
lets one process post it).

Transient failures put the job back to ``queued`` and raise :class:`RetryableJobError`, which
Dramatiq's Retries middleware retries with exponential backoff; errors that retrying cannot
fix are recorded and never raised, and ``retry_when`` refuses them too should one escape.

The actor itself is declared on a broker by :func:`declare` (called by
:mod:`summariser.workers.broker`), not at import, so importing this module neither needs nor
creates a broker. What a worker process needs (store, backend, handlers) is a :class:`Runtime`,
built on the first message by :func:`runtime_from_env` or by a factory given to
:func:`use_runtime`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import dramatiq
from dramatiq.asyncio import get_event_loop_thread
from dramatiq.middleware import CurrentMessage

from summariser.backends.base import Backend, Completion, CompletionRequest
from summariser.errors import (
    AuthenticationError,
    BackendError,
    ConfigurationError,
    InvalidOutputError,
    OutputTruncatedError,
    QuotaExceededError,
    RefusalError,
)
from summariser.logs import job_context
from summariser.service.jobs import Handler, JobFailed, failure_reason
from summariser.service.replies import REPLY_LEASE, Replier, deliver_reply
from summariser.service.store import JobRecord, JobStatus, JobStore, Lease
from summariser.workers import broker_url, redelivery_after

if TYPE_CHECKING:
    from summariser.workers.ratelimit import RedisRateLimiter

log = logging.getLogger("summariser.workers")

RPM_ENV = "SUMMARISER_RPM"
TPM_ENV = "SUMMARISER_TPM"
ACTOR_NAME = "summarise_job"
QUEUE_NAME = "summariser"
MAX_RETRIES = 5
MIN_BACKOFF_MS = 5_000
MAX_BACKOFF_MS = 300_000
DEFAULT_LEASE = timedelta(seconds=60)
DEFAULT_MAX_AGE = timedelta(hours=1)
# Slack shows a "working on it" reply; an answer a quarter of an hour later is noise.
MAX_AGES: Mapping[str, timedelta] = {"slack": timedelta(minutes=15)}

Outcome = Literal["done", "failed", "dead", "expired", "skipped", "missing"]

# BackendError subclasses that another attempt cannot fix: the account, or the model's answer.
_PERMANENT: tuple[type[Exception], ...] = (
    AuthenticationError,
    QuotaExceededError,
    RefusalError,
    OutputTruncatedError,
    InvalidOutputError,
    JobFailed,
)


class RetryableJobError(Exception):
    """A transient failure: the job is ``queued`` again and Dramatiq retries the message."""

    def __init__(self, job_id: str, reason: str, message: str) -> None:
        super().__init__(f"job {job_id}: {reason}: {message}")
        self.job_id = job_id
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Runtime:
    """What a worker process runs jobs with: the shared store, the handlers by job kind, and
    the repliers that answer an ended job where it was asked (Slack)."""

    store: JobStore
    handlers: Mapping[str, Handler]
    repliers: Mapping[str, Replier] = field(default_factory=dict)
    job_timeout_s: float = 600.0
    lease: timedelta = DEFAULT_LEASE
    max_ages: Mapping[str, timedelta] = field(default_factory=lambda: dict(MAX_AGES))
    default_max_age: timedelta = DEFAULT_MAX_AGE
    reply_lease: timedelta = REPLY_LEASE  # an answer's claim, taken over after this long

    def max_age(self, kind: str) -> timedelta:
        return self.max_ages.get(kind, self.default_max_age)


def is_transient(err: BaseException) -> bool:
    """True for failures another attempt may not meet: backend errors other than quota,
    authentication and bad answers; timeouts; dropped connections."""
    if isinstance(err, _PERMANENT):
        return False
    return isinstance(err, BackendError | TimeoutError | ConnectionError)


def runtime_from_env() -> Runtime:
    """The runtime ``summariser serve`` would use, from the same ``SUMMARISER_*`` / ``OPENAI_*``
    environment: the store at ``SUMMARISER_DATABASE_URL`` (or ``SUMMARISER_JOBS_DB``), the
    configured backend, the ``text`` and ``url`` handlers, and with ``SLACK_BOT_TOKEN`` the
    ``slack`` handler and its replier (no signing secret needed: workers take no requests from
    Slack, they only answer). With the ``openai`` backend and a
    broker URL, the backend is paced by the limit shared in Redis by every worker
    (:class:`SharedLimitBackend`, at :func:`shared_limits`)."""
    from summariser.backends.registry import make_backend
    from summariser.service.jobs import summarise_handlers
    from summariser.service.settings import ServiceSettings
    from summariser.settings import Settings

    service = ServiceSettings.from_env()
    settings = Settings.from_env()
    store = JobStore(service.store_url)
    store.create_schema()
    backend: Backend = make_backend(settings)
    url = broker_url(None)
    if settings.backend == "openai" and url is not None:
        rpm, tpm = shared_limits(settings.model)
        backend = SharedLimitBackend(backend, url, rpm=rpm, tpm=tpm)
    handlers = summarise_handlers(settings, backend, max_article_chars=service.max_article_chars)
    repliers: dict[str, Replier] = {}
    if service.slack_bot_token:
        from summariser.service.slack_replies import SlackReplier

        slack = SlackReplier(service.slack_bot_token, service.slack_api_url)
        handlers["slack"] = slack.job_handler(handlers)
        repliers["slack"] = slack.reply
    lease = timedelta(seconds=redelivery_after())
    return Runtime(store, handlers, repliers, job_timeout_s=service.job_timeout_s, lease=lease)


def shared_limits(model: str, env: Mapping[str, str] | None = None) -> tuple[int, int]:
    """``(rpm, tpm)`` of the shared limit: ``SUMMARISER_RPM`` / ``SUMMARISER_TPM``, else
    :func:`~summariser.batch.ratelimit.default_limits` for ``model``."""
    from summariser.batch.ratelimit import default_limits

    env = os.environ if env is None else env
    rpm, tpm = default_limits(model)
    try:
        rpm = int(env.get(RPM_ENV) or rpm)
        tpm = int(env.get(TPM_ENV) or tpm)
    except ValueError as err:
        raise ConfigurationError(f"{RPM_ENV} and {TPM_ENV} must be whole numbers") from err
    if rpm <= 0 or tpm <= 0:
        raise ConfigurationError(f"{RPM_ENV} and {TPM_ENV} must be positive")
    return rpm, tpm


class SharedLimitBackend:
    """``inner`` paced by the limit every worker shares in Redis (a
    :class:`~summariser.workers.ratelimit.RedisRateLimiter` keyed by the model).

    The limiter is made on the first :meth:`complete`, on the loop that runs it: a redis.asyncio
    client belongs to the loop it first talks on, and the runtime is built before (and outside)
    the worker's event loop. A worker process runs every job on one loop (Dramatiq's AsyncIO
    middleware), so a call from another loop is a mistake and raises.
    """

    def __init__(self, inner: Backend, redis_url: str, *, rpm: int, tpm: int) -> None:
        self.inner = inner
        self.redis_url = redis_url
        self.rpm = rpm
        self.tpm = tpm
        self.name = inner.name
        self.model = inner.model
        self.limiter: RedisRateLimiter | None = None
        self._paced: Backend | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _backend(self) -> Backend:
        from summariser.batch.ratelimit import rate_limited
        from summariser.workers.ratelimit import RedisRateLimiter, key_for_model

        loop = asyncio.get_running_loop()
        if self._paced is None:
            self.limiter = RedisRateLimiter(
                self.redis_url, rpm=self.rpm, tpm=self.tpm, key=key_for_model(self.model)
            )
            self._paced = rate_limited(self.inner, self.limiter, self.model)
            self._loop = loop
        elif loop is not self._loop:
            raise RuntimeError("the shared rate limiter is bound to another event loop")
        return self._paced

    async def complete(self, request: CompletionRequest) -> Completion:
        return await self._backend().complete(request)

    async def aclose(self) -> None:
        """Flush and close the limiter's Redis connections (on the loop that made them)."""
        if self.limiter is not None:
            await self.limiter.aclose()


RuntimeFactory = Callable[[], Runtime]

_factory: RuntimeFactory = runtime_from_env
_runtime: Runtime | None = None
_runtime_lock = threading.Lock()


def use_runtime(factory: RuntimeFactory | None) -> None:
    """Build the runtime with ``factory`` (None: :func:`runtime_from_env`) on the next message,
    dropping the current one (its store is not closed: the caller owns what it made)."""
    global _factory, _runtime
    with _runtime_lock:
        _factory = factory or runtime_from_env
        _runtime = None


def current_runtime() -> Runtime:
    """The process's runtime, built on first use (worker threads share it)."""
    global _runtime
    with _runtime_lock:
        if _runtime is None:
            _runtime = _factory()
        return _runtime


def declare(
    broker: dramatiq.Broker,
    *,
    max_retries: int = MAX_RETRIES,
    min_backoff_ms: int = MIN_BACKOFF_MS,
    max_backoff_ms: int = MAX_BACKOFF_MS,
    time_limit_ms: int | None = None,
) -> dramatiq.Actor[[str], Outcome]:
    """Declare ``summarise_job(job_id)`` on ``broker`` (which needs the CurrentMessage
    middleware, and AsyncIO to share one event loop between messages) and return it."""

    def summarise_job(job_id: str) -> Outcome:
        """Returns what became of the job (the worker metrics count it)."""
        message = CurrentMessage.get_current_message()
        attempt = int(message.options.get("retries", 0)) if message is not None else 0
        runtime = current_runtime()
        work = run_job(runtime, job_id, attempt=attempt, max_retries=max_retries)
        loop_thread = get_event_loop_thread()
        if loop_thread is None:  # a broker without the AsyncIO middleware
            return asyncio.run(work)
        outcome: Outcome = loop_thread.run_coroutine(work)
        return outcome

    def retry_when(retries: int, err: BaseException) -> bool:
        return retries < max_retries and not isinstance(err, _PERMANENT)

    # TimeLimit's default (10 min) would interrupt a job the store still thinks may run longer.
    limit = time_limit_ms if time_limit_ms is not None else 3_600_000
    decorate = dramatiq.actor(
        broker=broker,
        actor_name=ACTOR_NAME,
        queue_name=QUEUE_NAME,
        max_retries=max_retries,
        min_backoff=min_backoff_ms,
        max_backoff=max_backoff_ms,
        retry_when=retry_when,
        time_limit=limit,
    )
    return decorate(summarise_job)


async def run_job(
    runtime: Runtime, job_id: str, *, attempt: int = 0, max_retries: int = MAX_RETRIES
) -> Outcome:
    """Run one delivery of ``job_id``; ``attempt`` counts earlier retries of the message.

    Returns what became of the job (``skipped``: it had ended, or another worker holds it).
    Raises :class:`RetryableJobError` after a transient failure when retries remain.
    """
    with job_context(job_id):  # every line logged for this job carries its id
        job = await asyncio.to_thread(runtime.store.get, job_id)
        if job is None:
            log.warning("job %s: not in the store; message dropped", job_id)
            return "missing"
    with job_context(job_id, kind=job.kind):
        return await _deliver(runtime, job, attempt=attempt, max_retries=max_retries)


async def _deliver(runtime: Runtime, job: JobRecord, *, attempt: int, max_retries: int) -> Outcome:
    store, job_id = runtime.store, job.id
    if job.ended:
        if job.reply_status in ("pending", "sending"):  # its first worker died before answering
            await deliver_reply(
                store, job_id, runtime.repliers, lease=runtime.reply_lease, wait=True
            )
        log.info("job %s: already %s; redelivered message ignored", job_id, job.status)
        return "skipped"
    lease = await asyncio.to_thread(store.claim_lease, job_id, lease=runtime.lease)
    if lease is None:
        log.info("job %s: held by another worker; message ignored", job_id)
        return "skipped"
    outcome = await _run_claimed(runtime, lease, attempt=attempt, max_retries=max_retries)
    if lease.job.reply_status is not None:
        await deliver_reply(store, job_id, runtime.repliers, lease=runtime.reply_lease)
    return outcome


async def _run_claimed(
    runtime: Runtime, lease: Lease, *, attempt: int, max_retries: int
) -> Literal["done", "failed", "dead", "expired", "skipped"]:
    store = runtime.store
    job = lease.job
    age = _now() - job.created_at
    if age > runtime.max_age(job.kind):
        error = f"the job waited {int(age.total_seconds())} s; {job.kind} jobs expire after "
        error += f"{int(runtime.max_age(job.kind).total_seconds())} s"
        await _end(store, lease, status="expired", reason="expired", error=error)
        log.warning("job %s (%s): expired unanswered: %s", job.id, job.kind, error)
        return "expired"
    handler = runtime.handlers.get(job.kind)
    if handler is None:
        return await _failed(
            store, lease, JobFailed("unsupported_kind", f"no worker handler for {job.kind!r}")
        )

    stop = asyncio.Event()
    keeper = asyncio.create_task(_keep_lease(store, lease, runtime.lease / 3, stop))
    failure: Exception | None = None
    result: dict[str, Any] = {}
    try:
        result = await asyncio.wait_for(handler(job.payload or {}), runtime.job_timeout_s)
    except Exception as err:
        failure = err
    finally:
        stop.set()
        await keeper  # no renewal may race the write below: it would move the fence

    if failure is None:
        if await _end(store, lease, status="done", result=result):
            return "done"
        log.warning("job %s: lease lost while running; this worker's result discarded", job.id)
        return "skipped"
    if not is_transient(failure):
        return await _failed(store, lease, failure)
    reason, message = failure_reason(failure)
    if attempt >= max_retries:
        reference = uuid.uuid4().hex[:16]
        log.error(
            "job %s (%s): dead after %d attempts: %s [reference %s]",
            job.id,
            job.kind,
            attempt + 1,
            reason,
            reference,
            exc_info=failure,
        )
        await _end(
            store,
            lease,
            status="dead",
            reason=reason,
            error=f"gave up after {attempt + 1} attempts: {message}",
            reference_id=reference,
        )
        return "dead"
    log.warning(
        "job %s (%s): attempt %d failed (%s); will retry", job.id, job.kind, attempt + 1, reason
    )
    await asyncio.to_thread(store.release, lease)
    raise RetryableJobError(job.id, reason, message) from failure


async def _end(store: JobStore, lease: Lease, *, status: JobStatus, **values: Any) -> bool:
    """End the job unless the lease was lost (see :meth:`JobStore.end`)."""
    return await asyncio.to_thread(lambda: store.end(lease, status=status, **values))


async def _failed(store: JobStore, lease: Lease, err: Exception) -> Literal["failed"]:
    reason, message = failure_reason(err)
    reference = uuid.uuid4().hex[:16]
    log.error(
        "job %s (%s) failed: %s [reference %s]",
        lease.job.id,
        lease.job.kind,
        reason,
        reference,
        exc_info=err,
    )
    await _end(store, lease, status="failed", reason=reason, error=message, reference_id=reference)
    return "failed"


async def _keep_lease(store: JobStore, lease: Lease, every: timedelta, stop: asyncio.Event) -> None:
    """Renew the lease every ``every`` until ``stop`` is set or the lease is lost."""
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every.total_seconds())
            return
        try:
            if not await asyncio.to_thread(store.renew, lease):
                log.warning("job %s: lease lost to another worker", lease.job.id)
                return
        except Exception:  # the store hiccuped: try again at the next tick
            log.exception("job %s: could not renew the lease", lease.job.id)


def _now() -> datetime:
    return datetime.now(UTC)
