"""Batch articles as jobs for the Dramatiq workers: ``summariser batch ... --broker URL``.

Stage: orchestration (asyncio), with the shared job store and the broker at its edge. In: the
runner's articles, one :meth:`RemoteSummaries.summarise` call each (after its input checks,
cache and in-flight twins). Out: the summary a worker made, or the reason it made none.

Each article becomes a ``text`` job in the store the workers share
(:class:`~summariser.service.store.JobStore`, SQLite or PostgreSQL), owned by
``batch:<id>``, with an idempotency key made of the batch job's identity (a random id kept in
its state file, new with ``--fresh``), the item's key and the hash of its payload. Its id is
then sent to the workers (:mod:`summariser.workers`). So a batch command killed and run again
finds the jobs it made instead of making them twice: a job that ended meanwhile gives its
outcome at once, one still ``queued`` is sent again (the command may have died before sending
it; a worker ignores a message for a job already taken). A job that stopped an earlier run
(quota, authentication) or expired before this run asked for it is replaced by a new one.

One poller task reads every outstanding job in one query per tick and wakes the articles whose
job ended. The outcome, in the runner's terms::

    done                                  the summary (its provenance gives tokens and model)
    failed: backend_quota, _authentication  QuotaExceededError / AuthenticationError: the run
                                          stops (exit 4), the same command resumes
    failed: other reasons                 an error record (refusal, truncated, ...; reasons the
                                          batch vocabulary lacks are backend_error)
    dead (retries exhausted)              a backend_error record
    expired (too old when taken)          a backend_error record that says so

When the store or the broker stops answering for longer than ``outage_s``, the run stops
(:class:`~summariser.batch.runner.BatchStopped`, exit 4) rather than writing error records
for articles that may yet be summarised.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.exc import InterfaceError, OperationalError

from summariser.batch.inputs import Article, Reason
from summariser.batch.runner import BatchStopped, ItemFailed, prompts_hash
from summariser.errors import AuthenticationError, QuotaExceededError
from summariser.schema import Summary
from summariser.service.store import (
    ENDED,
    JobRecord,
    JobStore,
    NewJob,
    describe_error,
    jobs,
    open_store,
)
from summariser.workers import ping_broker, with_timeouts

__all__ = [
    "KIND",
    "RUNNER",
    "Dispatch",
    "RemoteSummaries",
    "connect",
    "open_broker",
]

RUNNER = "broker"  # the job meta's "runner" in this mode
KIND = "text"
POLL_S = 0.5  # how often the outstanding jobs are read
OUTAGE_S = 30.0  # the store or broker failing this long stops the run
STALL_S = 60.0  # queued jobs none of which a worker takes for this long: say so
_CHUNK = 500  # ids in one IN (...) list at most
# A store that does not answer (down, locked, connection lost): worth trying again.
_UNAVAILABLE = (OperationalError, InterfaceError, OSError)
_STOPPING = {"backend_quota": QuotaExceededError, "backend_authentication": AuthenticationError}
# Failure reasons of the workers (summariser.service.jobs.failure_reason) -> batch reasons.
_REASONS: Mapping[str, Reason] = {
    "empty": "empty",
    "bad_input": "empty",  # as the in-process runner records an InputError
    "no_article_text": "no_article_text",
    "refusal": "refusal",
    "truncated": "truncated",
    "invalid_output": "invalid_output",
    "backend_error": "backend_error",
    "internal_error": "internal_error",
    "unsupported_kind": "internal_error",
}

Dispatch = Callable[[str], None]
Notice = Callable[[str], None]
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class _Job:
    """What the batch needs of a job row."""

    id: str
    status: str
    result: dict[str, Any] | None
    error: str | None
    reason: str | None
    reference_id: str | None

    @classmethod
    def of(cls, record: JobRecord) -> _Job:
        return cls(
            record.id,
            record.status,
            record.result,
            record.error,
            record.reason,
            record.reference_id,
        )

    @property
    def ended(self) -> bool:
        return self.status in ENDED

    @property
    def stale(self) -> bool:
        """Ended before this run asked for it in a way that is no answer to give: it stopped
        an earlier run (quota, authentication) or expired untouched. Asked again."""
        return self.status == "expired" or (self.status == "failed" and self.reason in _STOPPING)


class RemoteSummaries:
    """A :class:`~summariser.batch.runner.SummarySource` whose summaries the workers make.

    ``store`` is the workers' job store, ``dispatch(job_id)`` sends a job to them (made by
    :func:`connect`, or a fake in tests); ``on_close`` releases what :func:`connect` opened.
    """

    def __init__(
        self,
        store: JobStore,
        dispatch: Dispatch,
        *,
        poll_s: float = POLL_S,
        outage_s: float = OUTAGE_S,
        stall_s: float = STALL_S,
        on_notice: Notice | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.dispatch = dispatch
        self.outage_s = outage_s
        self._on_close = on_close
        self._poller = _Poller(store, poll_s, outage_s, stall_s, on_notice)
        self._batch_id: str | None = None

    @property
    def meta(self) -> Mapping[str, str]:
        return {"runner": RUNNER}

    @property
    def ident(self) -> str:
        """The workers choose backend and model: the cache key names the broker instead."""
        return f"{RUNNER}\0{prompts_hash()}"

    @property
    def owner(self) -> str:
        return f"batch:{self._id()[:12]}"

    async def open(self, batch_id: str) -> None:
        self._batch_id = batch_id

    async def summarise(self, article: Article) -> Summary:
        payload = {"text": article.text, "format": article.source_format, "drop_unsupported": False}
        fingerprint = _fingerprint(KIND, payload)
        digest = hashlib.sha256(f"{article.key}\0{fingerprint}".encode()).hexdigest()[:40]
        base = f"batch:{self._id()}:{digest}"
        attempt = 0
        while True:
            new = NewJob(
                kind=KIND,
                owner=self.owner,
                payload=payload,
                input_ref=f"{self.owner}:{_printable(article.key)}",
                fingerprint=fingerprint,
                idempotency_key=base if attempt == 0 else f"{base}:{attempt}",
            )
            record, created = await self._io("the job database", self.store.create, new)
            job = _Job.of(record)
            if created or not job.stale:
                break
            attempt += 1
        if created or job.status == "queued":
            await self._io("the broker", self.dispatch, job.id)
        if not job.ended:
            job = await self._poller.wait(job.id)
        return _outcome(job)

    async def aclose(self) -> None:
        """Stop polling; release the store and the broker (if :func:`connect` opened them)."""
        await self._poller.aclose()
        if self._on_close is not None:
            await asyncio.to_thread(self._on_close)

    def _id(self) -> str:
        if self._batch_id is None:
            raise RuntimeError("RemoteSummaries.open was not called")
        return self._batch_id

    async def _io(self, what: str, call: Callable[..., _T], *args: Any) -> _T:
        """``call(*args)`` in a thread, tried again for ``outage_s``; then the run stops."""
        deadline = time.monotonic() + self.outage_s
        pause = 0.2
        while True:
            try:
                return await asyncio.to_thread(call, *args)
            except (*_UNAVAILABLE, _BrokerError) as err:
                if time.monotonic() + pause > deadline:
                    raise BatchStopped(
                        f"{what} stopped answering: {describe_error(err)}", provider=RUNNER
                    ) from err
            await asyncio.sleep(pause)
            pause = min(pause * 2, 5.0)


class _BrokerError(Exception):
    """A failure to send a job id (the broker's own error, wrapped by :func:`open_broker`)."""


class _Poller:
    """One task that reads the outstanding jobs in one query per tick and wakes their
    waiters as they end."""

    def __init__(
        self,
        store: JobStore,
        every: float,
        outage_s: float,
        stall_s: float,
        on_notice: Notice | None,
    ) -> None:
        self.store = store
        self.every = every
        self.outage_s = outage_s
        self.stall_s = stall_s
        self.on_notice = on_notice
        self.waiting: dict[str, asyncio.Future[_Job]] = {}
        self._task: asyncio.Task[None] | None = None
        self._moved = time.monotonic()  # when a job last ended or was seen running
        self._told = False

    async def wait(self, job_id: str) -> _Job:
        future = self.waiting.get(job_id)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self.waiting[job_id] = future
        if self._task is None or self._task.done():
            self._moved = time.monotonic()
            self._task = asyncio.create_task(self._run(), name="summariser-batch-poller")
        try:
            return await future
        finally:
            self.waiting.pop(job_id, None)

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        failing_since: float | None = None
        while True:
            ids = [job_id for job_id, future in self.waiting.items() if not future.done()]
            if ids:
                try:
                    rows = await asyncio.to_thread(self._read, ids)
                except _UNAVAILABLE as err:
                    now = time.monotonic()
                    failing_since = failing_since or now
                    if now - failing_since >= self.outage_s:
                        self._fail_all(err)
                        failing_since = None
                else:
                    failing_since = None
                    self._settle(ids, rows)
            await asyncio.sleep(self.every)

    def _read(self, ids: Sequence[str]) -> list[_Job]:
        columns = (
            jobs.c.id,
            jobs.c.status,
            jobs.c.result,
            jobs.c.error,
            jobs.c.reason,
            jobs.c.reference_id,
        )
        found: list[_Job] = []
        with self.store.engine.connect() as conn:
            for chunk in _chunks(ids, _CHUNK):
                query = sa.select(*columns).where(jobs.c.id.in_(chunk))
                for row in conn.execute(query):
                    found.append(_Job(*row))
        return found

    def _settle(self, ids: Sequence[str], rows: list[_Job]) -> None:
        now = time.monotonic()
        moved = False
        for job_id in set(ids) - {job.id for job in rows}:
            future = self.waiting.get(job_id)
            if future is not None and not future.done():
                message = f"job {job_id} is no longer in the job database"
                future.set_exception(ItemFailed("internal_error", message))
        for job in rows:
            if job.status == "running":
                moved = True
            if not job.ended:
                continue
            moved = True
            future = self.waiting.get(job.id)
            if future is not None and not future.done():
                future.set_result(job)
        if moved:
            self._moved, self._told = now, False
        elif rows and not self._told and now - self._moved >= self.stall_s:
            self._told = True
            if self.on_notice is not None:
                self.on_notice(
                    f"{len(rows)} jobs have waited {int(now - self._moved)} s and no worker has "
                    "taken one: is `summariser worker` running with this broker and database?"
                )

    def _fail_all(self, err: BaseException) -> None:
        stopped = BatchStopped(
            f"the job database stopped answering: {describe_error(err)}", provider=RUNNER
        )
        for future in self.waiting.values():
            if not future.done():
                future.set_exception(stopped)


def _outcome(job: _Job) -> Summary:
    """The summary of an ended job, or the error it stands for (see the module docstring)."""
    where = f"job {job.id}" + (f", reference {job.reference_id}" if job.reference_id else "")
    if job.status == "done":
        summary = (job.result or {}).get("summary")
        try:
            return Summary.model_validate(summary)
        except ValidationError as err:
            raise ItemFailed(
                "internal_error",
                f"the worker's summary does not fit this version's schema "
                f"({err.error_count()} errors) [{where}]",
            ) from err
    error = job.error or job.reason or job.status
    if job.status == "expired":
        raise ItemFailed("backend_error", f"expired before a worker took it: {error} [{where}]")
    if job.status == "dead":
        raise ItemFailed("backend_error", f"{error} [{where}]")
    stopping = _STOPPING.get(job.reason or "")
    if stopping is not None:
        raise stopping(f"{error} (reported by a worker) [{where}]", provider=RUNNER)
    reason = _REASONS.get(job.reason or "", "backend_error")
    raise ItemFailed(reason, f"{error} [{where}]")


# --- connecting: the command's edge -------------------------------------------------------------


def connect(
    broker_url: str,
    database_url: str,
    *,
    namespace: str,
    on_notice: Notice | None = None,
) -> RemoteSummaries:
    """The job store at ``database_url`` (its table made if need be) and the broker at
    ``broker_url``, both checked now: :class:`ConfigurationError` when either cannot be
    reached (in seconds, not minutes)."""
    store = open_store(database_url)
    try:
        send, close_broker = open_broker(broker_url, namespace=namespace)
    except BaseException:
        store.close()
        raise

    def close() -> None:
        try:
            close_broker()
        finally:
            store.close()

    return RemoteSummaries(store, send, on_notice=on_notice, on_close=close)


def open_broker(broker_url: str, *, namespace: str) -> tuple[Dispatch, Callable[[], None]]:
    """``(send, close)`` for the Redis broker at ``broker_url``, checked with one PING (short
    timeouts): else :class:`ConfigurationError`."""
    import redis

    from summariser.workers.actors import declare
    from summariser.workers.broker import make_broker

    ping_broker(broker_url)
    url = with_timeouts(broker_url)
    broker = make_broker(url, namespace=namespace)
    actor = declare(broker)

    def send(job_id: str) -> None:
        try:
            actor.send(job_id)
        except redis.RedisError as err:
            raise _BrokerError(str(err)) from err

    def close() -> None:
        broker.close()
        broker.client.connection_pool.disconnect()

    return send, close


# --- helpers ------------------------------------------------------------------------------------


def _fingerprint(kind: str, payload: Mapping[str, Any]) -> str:
    """As the service fingerprints a submitted job: sha256 of ``[kind, payload]``."""
    document = json.dumps([kind, payload], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


def _printable(key: str) -> str:
    return key.replace("\x00", "\\0")


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
