"""The job queue: in-process asyncio workers that run summarise jobs and record the outcome.

Stage: service (orchestration, async). In: ``submit(kind, payload, idempotency_key=...)``
from the HTTP API (and, later, from the Slack handler). Out: rows in the
:class:`~summariser.service.store.JobStore` (``queued -> running -> done | failed``), events
for :meth:`JobQueue.wait`, listener calls, and metrics.

A job's work is a :data:`Handler` chosen by its ``kind``: :func:`summarise_handlers` gives
``text`` (summarise the given article) and ``url`` (fetch it with
:func:`summariser.service.fetch.fetch_article`, then summarise). Another front end adds its own
kinds, or reacts to finished jobs with :meth:`JobQueue.add_listener` (post the summary back to
Slack, say). Every failure gets a reason and a reference id; the detail is logged with that id,
and only the one-line message of an expected error (bad input, backend failure) is stored.

Broker mode (``summariser serve --broker URL``): with a ``dispatch`` function (given to the
queue, or process-wide by :func:`use_dispatch`), the queue runs nothing itself. It records the
job and calls ``dispatch(job_id)`` (which sends it to the Dramatiq workers of
:mod:`summariser.workers`), and :meth:`JobQueue.wait` polls the shared store. Listeners are
not called in this mode: the job ends in another process.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from summariser.backends.base import Backend
from summariser.errors import (
    AuthenticationError,
    BackendError,
    EmptySourceError,
    InputError,
    InvalidOutputError,
    NoArticleTextError,
    OutputTruncatedError,
    QuotaExceededError,
    RefusalError,
)
from summariser.logs import job_context
from summariser.service.metrics import ServiceMetrics
from summariser.service.store import JobRecord, JobStore, NewJob
from summariser.settings import Settings

log = logging.getLogger("summariser.service")

Handler = Callable[[Mapping[str, Any]], Awaitable[dict[str, Any]]]
Listener = Callable[[JobRecord], Awaitable[None]]
Dispatch = Callable[[str], None]


class JobFailed(Exception):
    """A handler's expected failure, with the reason to record (``article_too_long``, ...)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Submitted:
    job: JobRecord
    created: bool  # False: an earlier job with the same idempotency key


class IdempotencyConflict(Exception):
    """The idempotency key was used before for another request."""


class JobQueue:
    """Bounded concurrency: ``workers`` tasks take job ids from an asyncio queue."""

    def __init__(
        self,
        store: JobStore,
        handlers: Mapping[str, Handler],
        *,
        workers: int = 4,
        job_timeout_s: float = 600.0,
        metrics: ServiceMetrics | None = None,
        dispatch: Dispatch | None = None,
    ) -> None:
        self.store = store
        self.handlers = dict(handlers)
        self.metrics = metrics
        self._workers = max(1, workers)
        self._timeout = job_timeout_s
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._events: dict[str, asyncio.Event] = {}
        self._listeners: list[Listener] = []
        # Broker mode (see the module docstring): jobs go to dispatch, not to self._queue.
        self._dispatch = dispatch if dispatch is not None else _default_dispatch
        self._dispatching = False

    @property
    def running(self) -> bool:
        return self._dispatching or any(not task.done() for task in self._tasks)

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(job)`` after each job ends (done or failed)."""
        self._listeners.append(listener)

    async def start(self) -> None:
        """Start the workers; pick up jobs left queued, fail jobs left running too long."""
        await asyncio.to_thread(self.store.create_schema)
        if self._dispatch is not None:
            await self._start_dispatching()
            return
        stale = await asyncio.to_thread(self.store.fail_stale, timedelta(seconds=self._timeout * 2))
        if stale:
            log.warning("%d job(s) left running by a stopped process marked failed", stale)
        for job_id in await asyncio.to_thread(self.store.queued_ids):
            if job_id not in self._events:  # not queued by a submit before start
                self._enqueue(job_id)
        self._tasks = [
            asyncio.create_task(self._work(), name=f"summariser-worker-{n}")
            for n in range(self._workers)
        ]
        if self._listeners:  # answers a stopped process owed: jobs ended, replies not sent
            unanswered = await asyncio.to_thread(self.store.pending_replies)
            if unanswered:
                self._tasks.append(asyncio.create_task(self._notify_all(unanswered)))

    async def stop(self) -> None:
        """Cancel the workers; jobs they were running stay ``running`` (see ``fail_stale``)."""
        self._dispatching = False
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def submit(
        self,
        kind: str,
        payload: Mapping[str, Any],
        idempotency_key: str | None = None,
        *,
        owner: str = "anonymous",
        input_ref: str | None = None,
        reply: Mapping[str, Any] | None = None,
    ) -> Submitted:
        """Record a job and queue it. With an ``idempotency_key`` used before, the earlier job
        (not queued again); :class:`IdempotencyConflict` if it was for another request.
        ``reply``: where to answer when it ends (see :mod:`summariser.service.replies`)."""
        if kind not in self.handlers:
            raise ValueError(f"no handler for job kind {kind!r}")
        fingerprint = _fingerprint(kind, payload)
        job = NewJob(
            kind=kind,
            owner=owner,
            payload=payload,
            input_ref=input_ref or f"sha256:{fingerprint}",
            fingerprint=fingerprint,
            idempotency_key=idempotency_key,
            reply=reply,
        )
        record, created = await asyncio.to_thread(self.store.create, job)
        if not created and (record.fingerprint != fingerprint or record.owner != owner):
            raise IdempotencyConflict("this Idempotency-Key was used for another request")
        if created and self._dispatch is not None:
            await asyncio.to_thread(self._dispatch, record.id)
        elif created:
            self._enqueue(record.id)
        return Submitted(record, created)

    async def get(self, job_id: str) -> JobRecord | None:
        return await asyncio.to_thread(self.store.get, job_id)

    async def check_broker(self) -> None:
        """Raise unless the broker answers (broker mode, when the dispatcher can tell)."""
        ping = getattr(self._dispatch, "ping", None)
        if ping is not None:
            await asyncio.wait_for(asyncio.to_thread(ping), _BROKER_PING_S)

    async def wait(self, job_id: str, timeout: float) -> JobRecord | None:
        """The job once it has ended, or as it stands after ``timeout`` seconds."""
        if self._dispatch is not None:
            return await self._poll(job_id, timeout)
        event = self._events.get(job_id)
        if event is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout)
        return await self.get(job_id)

    # --- broker mode ------------------------------------------------------------------------

    async def _start_dispatching(self) -> None:
        """Send the jobs still ``queued`` again (the process may have stopped between recording
        one and sending it; a worker ignores a job already taken). Running jobs are the
        workers' to finish or take over: no ``fail_stale`` here."""
        assert self._dispatch is not None
        for job_id in await asyncio.to_thread(self.store.queued_ids):
            await asyncio.to_thread(self._dispatch, job_id)
        self._dispatching = True

    async def _poll(self, job_id: str, timeout: float) -> JobRecord | None:
        deadline = time.monotonic() + timeout
        while True:
            job = await self.get(job_id)
            left = deadline - time.monotonic()
            if job is None or job.status not in ("queued", "running") or left <= 0:
                return job
            await asyncio.sleep(min(_POLL_S, left))

    # --- in-process mode ---------------------------------------------------------------------

    def _enqueue(self, job_id: str) -> None:
        self._events.setdefault(job_id, asyncio.Event())
        self._queue.put_nowait(job_id)
        if self.metrics is not None:
            self.metrics.jobs_queued.set(self._queue.qsize())

    async def _work(self) -> None:
        while True:
            job_id = await self._queue.get()
            ran = True
            try:
                ran = await self._run(job_id)
            except Exception:  # the store failed: log it, keep the worker alive
                log.exception("job %s: could not be run or recorded", job_id)
            finally:
                self._queue.task_done()
                event = self._events.pop(job_id, None) if ran else None
                if event is not None:
                    event.set()

    async def _run(self, job_id: str) -> bool:
        """Run the job; False when another worker (or process) had claimed it."""
        job = await asyncio.to_thread(self.store.claim, job_id)
        if job is None:
            return False
        with job_context(job.id, kind=job.kind):  # every line logged for it carries its id
            await self._run_claimed(job)
        return True

    async def _run_claimed(self, job: JobRecord) -> None:
        metrics = self.metrics
        if metrics is not None:
            metrics.jobs_queued.set(self._queue.qsize())
            metrics.jobs_running.inc()
        started = time.perf_counter()
        outcome = "done"
        try:
            result = await asyncio.wait_for(
                self.handlers[job.kind](job.payload or {}), self._timeout
            )
            await asyncio.to_thread(self.store.finish, job.id, result)
        except Exception as err:
            reason, message = failure_reason(err)
            reference = uuid.uuid4().hex[:16]
            outcome = "failed"
            log.error(
                "job %s (%s) failed: %s [reference %s]",
                job.id,
                job.kind,
                reason,
                reference,
                exc_info=err,
            )
            await asyncio.to_thread(
                self.store.fail, job.id, reason=reason, error=message, reference_id=reference
            )
        finally:
            if metrics is not None:
                metrics.jobs_running.dec()
                metrics.job_duration.labels(job.kind).observe(time.perf_counter() - started)
        if metrics is not None:
            metrics.jobs.labels(job.kind, outcome).inc()
        await self._notify(job.id)

    async def _notify_all(self, job_ids: list[str]) -> None:
        for job_id in job_ids:
            await self._notify(job_id)

    async def _notify(self, job_id: str) -> None:
        if not self._listeners:
            return
        ended = await self.get(job_id)
        if ended is None:
            return
        for listener in self._listeners:
            try:
                await listener(ended)
            except Exception:
                log.exception("job %s: a listener failed", job_id)


_POLL_S = 0.2  # how often wait() looks at the store in broker mode
_BROKER_PING_S = 2.0  # /readyz gives up on the broker after this long
_default_dispatch: Dispatch | None = None


def use_dispatch(dispatch: Dispatch | None) -> None:
    """Make every JobQueue made after this call (and given no ``dispatch``) send its jobs to
    ``dispatch(job_id)``; None: run them in process again. ``summariser serve --broker`` calls it
    before ``create_app``, which makes its queue itself."""
    global _default_dispatch
    _default_dispatch = dispatch


def failure_reason(err: BaseException) -> tuple[str, str]:
    """The reason recorded for an error, and the message safe to show the caller."""
    if isinstance(err, JobFailed):
        return err.reason, str(err)
    if isinstance(err, TimeoutError):
        return "timeout", "the job took longer than the service allows"
    fetch_reason = getattr(err, "reason", None)
    if isinstance(err, InputError) and isinstance(fetch_reason, str):
        return fetch_reason, str(err)  # FetchError: the fetcher says why
    for kind, reason in _REASONS:
        if isinstance(err, kind):
            return reason, str(err)
    return "internal_error", "internal error: quote the reference id to the operator"


_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (EmptySourceError, "empty"),
    (NoArticleTextError, "no_article_text"),
    (InputError, "bad_input"),
    (AuthenticationError, "backend_authentication"),
    (QuotaExceededError, "backend_quota"),
    (RefusalError, "refusal"),
    (OutputTruncatedError, "truncated"),
    (InvalidOutputError, "invalid_output"),
    (BackendError, "backend_error"),
)


def summarise_handlers(
    settings: Settings,
    backend: Backend,
    *,
    max_article_chars: int,
    metrics: ServiceMetrics | None = None,
) -> dict[str, Handler]:
    """The ``text`` and ``url`` handlers. Payload: ``{"text" | "url", "format",
    "drop_unsupported"}``. Result: ``{"summary": Summary JSON, "article": {...}}``."""
    from summariser.pipeline import asummarise

    async def summarise(text: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        if len(text) > max_article_chars:
            raise JobFailed(
                "article_too_long",
                f"the article has {len(text)} characters; the limit is {max_article_chars}",
            )
        run = replace(settings, drop_unsupported=bool(payload.get("drop_unsupported")))
        summary = await asummarise(
            text, settings=run, backend=backend, source_format=payload.get("format", "auto")
        )
        if metrics is not None:
            metrics.observe_summary(summary)
        return {"summary": summary.model_dump(mode="json")}

    async def text_job(payload: Mapping[str, Any]) -> dict[str, Any]:
        return await summarise(str(payload["text"]), payload)

    async def url_job(payload: Mapping[str, Any]) -> dict[str, Any]:
        from summariser.service.fetch import fetch_article  # network code, loaded when used

        fetched = await fetch_article(str(payload["url"]))
        result = await summarise(fetched.text, payload)
        result["article"] = {
            "url": payload["url"],
            "final_url": fetched.final_url,
            "title": fetched.title,
        }
        return result

    return {"text": text_job, "url": url_job}


def _fingerprint(kind: str, payload: Mapping[str, Any]) -> str:
    document = json.dumps([kind, payload], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(document.encode("utf-8")).hexdigest()
