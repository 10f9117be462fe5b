"""The ``summarise_job`` actor on Dramatiq's StubBroker with a SQLite store: outcomes,
redelivery, retries, the dead letter, the age limit, and ``serve --broker``'s queue path."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

dramatiq = pytest.importorskip("dramatiq")

import sqlalchemy as sa  # noqa: E402
from dramatiq.brokers.stub import StubBroker  # noqa: E402

from summariser.errors import AuthenticationError, BackendError, QuotaExceededError  # noqa: E402
from summariser.service.jobs import JobQueue  # noqa: E402
from summariser.service.store import JobRecord, JobStore, NewJob, jobs  # noqa: E402
from summariser.workers.actors import (  # noqa: E402
    QUEUE_NAME,
    Runtime,
    declare,
    is_transient,
    run_job,
    use_runtime,
)
from summariser.workers.broker import add_middleware  # noqa: E402

MAX_RETRIES = 2


class Script:
    """A job handler that plays queued behaviours (results or exceptions) and counts calls."""

    def __init__(self, *items: dict[str, Any] | Exception) -> None:
        self.items = list(items)
        self.calls = 0

    async def __call__(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        self.calls += 1
        item = self.items.pop(0) if len(self.items) > 1 else self.items[0]
        if isinstance(item, Exception):
            raise item
        return {**item, "text": payload.get("text")}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[JobStore]:
    made = JobStore(f"sqlite:///{tmp_path / 'jobs.sqlite'}")
    made.create_schema()
    yield made
    made.close()


@pytest.fixture
def stub() -> Iterator[tuple[StubBroker, Any]]:
    broker = StubBroker()
    add_middleware(broker)
    broker.emit_after("process_boot")
    actor = declare(broker, max_retries=MAX_RETRIES, min_backoff_ms=10, max_backoff_ms=20)
    worker = dramatiq.Worker(broker, worker_timeout=50)
    worker.start()
    yield broker, actor
    worker.stop()
    broker.close()
    use_runtime(None)


def _use(store: JobStore, **handlers: Script) -> None:
    use_runtime(lambda: Runtime(store, handlers, lease=timedelta(seconds=30)))


def _job(store: JobStore, kind: str = "text", text: str = "an article") -> JobRecord:
    new = NewJob(kind, "tester", {"text": text}, f"ref:{text}", "f" * 64)
    return store.create(new)[0]


def _run(broker: StubBroker, actor: Any, *job_ids: str) -> None:
    for job_id in job_ids:
        actor.send(job_id)
    broker.join(QUEUE_NAME, timeout=10_000)


def _set(store: JobStore, job_id: str, **values: Any) -> None:
    with store.engine.begin() as conn:
        conn.execute(jobs.update().where(jobs.c.id == job_id).values(**values))


def _get(store: JobStore, job_id: str) -> JobRecord:
    job = store.get(job_id)
    assert job is not None
    return job


def test_done_once_and_a_redelivered_message_does_nothing(
    store: JobStore, stub: tuple[StubBroker, Any]
) -> None:
    broker, actor = stub
    handler = Script({"summary": "ok"})
    _use(store, text=handler)
    job = _job(store)
    _run(broker, actor, job.id)
    done = _get(store, job.id)
    assert (done.status, done.result, done.payload) == (
        "done",
        {"summary": "ok", "text": "an article"},
        None,
    )
    _run(broker, actor, job.id, job.id)  # redelivered twice
    assert handler.calls == 1
    assert _get(store, job.id).updated_at == done.updated_at


def test_a_transient_failure_is_retried_then_done(
    store: JobStore, stub: tuple[StubBroker, Any]
) -> None:
    broker, actor = stub
    handler = Script(BackendError("502 from the server"), {"summary": "ok"})
    _use(store, text=handler)
    job = _job(store)
    _run(broker, actor, job.id)
    assert _get(store, job.id).status == "done"
    assert handler.calls == 2


def test_retries_exhausted_leave_a_dead_letter_with_the_reason(
    store: JobStore, stub: tuple[StubBroker, Any]
) -> None:
    broker, actor = stub
    handler = Script(BackendError("503 from the server"))
    _use(store, text=handler)
    job = _job(store)
    _run(broker, actor, job.id)
    dead = _get(store, job.id)
    assert (dead.status, dead.reason) == ("dead", "backend_error")
    assert dead.error == f"gave up after {MAX_RETRIES + 1} attempts: 503 from the server"
    assert dead.reference_id and dead.payload is None
    assert handler.calls == MAX_RETRIES + 1


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (QuotaExceededError("insufficient_quota"), "backend_quota"),
        (AuthenticationError("bad key"), "backend_authentication"),
    ],
    ids=["quota", "authentication"],
)
def test_quota_and_authentication_errors_are_not_retried(
    store: JobStore, stub: tuple[StubBroker, Any], error: Exception, reason: str
) -> None:
    broker, actor = stub
    handler = Script(error)
    _use(store, text=handler)
    job = _job(store)
    _run(broker, actor, job.id)
    failed = _get(store, job.id)
    assert (failed.status, failed.reason, handler.calls) == ("failed", reason, 1)


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (BackendError("500"), True),
        (TimeoutError(), True),
        (ConnectionResetError(), True),
        (QuotaExceededError("quota"), False),
        (AuthenticationError("key"), False),
        (ValueError("a bug"), False),
    ],
    ids=["backend", "timeout", "connection", "quota", "auth", "bug"],
)
def test_which_errors_are_transient(error: Exception, transient: bool) -> None:
    assert is_transient(error) is transient


def test_a_stale_slack_job_expires_unanswered(
    store: JobStore, stub: tuple[StubBroker, Any]
) -> None:
    broker, actor = stub
    slack, text = Script({"summary": "late"}), Script({"summary": "fine"})
    _use(store, slack=slack, text=text)
    old = datetime.now(UTC) - timedelta(minutes=20)
    stale, patient = _job(store, "slack"), _job(store, "text", "another")
    _set(store, stale.id, created_at=old)
    _set(store, patient.id, created_at=old)  # text jobs may wait an hour
    _run(broker, actor, stale.id, patient.id)
    expired = _get(store, stale.id)
    assert (expired.status, expired.reason, slack.calls) == ("expired", "expired", 0)
    assert _get(store, patient.id).status == "done"


def test_a_job_held_by_a_live_worker_is_left_alone_and_a_dead_ones_is_taken_over(
    store: JobStore, stub: tuple[StubBroker, Any]
) -> None:
    broker, actor = stub
    handler = Script({"summary": "ok"})
    _use(store, text=handler)
    held, abandoned = _job(store), _job(store, text="abandoned")
    _set(store, held.id, status="running", updated_at=datetime.now(UTC))
    _set(store, abandoned.id, status="running", updated_at=datetime.now(UTC) - timedelta(hours=1))
    _run(broker, actor, held.id, abandoned.id)
    assert _get(store, held.id).status == "running"
    assert _get(store, abandoned.id).status == "done"
    assert handler.calls == 1


def test_a_worker_that_lost_its_lease_cannot_overwrite_the_outcome(store: JobStore) -> None:
    job = _job(store)

    async def slow(payload: Mapping[str, Any]) -> dict[str, Any]:
        # meanwhile the lease ran out and another worker took the job and finished it
        _set(store, job.id, status="done", result={"by": "other"}, updated_at=datetime.now(UTC))
        return {"by": "me"}

    runtime = Runtime(store, {"text": slow}, lease=timedelta(seconds=30))
    assert asyncio.run(run_job(runtime, job.id)) == "skipped"
    assert _get(store, job.id).result == {"by": "other"}


def test_an_unknown_kind_fails_and_a_missing_job_is_dropped(store: JobStore) -> None:
    runtime = Runtime(store, {}, lease=timedelta(seconds=30))
    job = _job(store, "mystery")
    assert asyncio.run(run_job(runtime, job.id)) == "failed"
    assert _get(store, job.id).reason == "unsupported_kind"
    assert asyncio.run(run_job(runtime, "no-such-job")) == "missing"


def test_the_service_queue_in_broker_mode_sends_and_polls(
    store: JobStore, stub: tuple[StubBroker, Any]
) -> None:
    """``serve --broker``: JobQueue records the job, sends its id, and ``wait`` polls."""
    broker, actor = stub
    handler = Script({"summary": "ok"})
    _use(store, text=handler)
    leftover = _job(store, text="queued before a restart")

    async def scenario() -> tuple[JobRecord | None, bool]:
        queue = JobQueue(store, {"text": handler}, dispatch=actor.send)
        await queue.start()  # sends the job left queued
        submitted = await queue.submit("text", {"text": "new"})
        ended = await queue.wait(submitted.job.id, timeout=10)
        running = queue.running
        await queue.stop()
        return ended, running

    ended, running = asyncio.run(scenario())
    broker.join(QUEUE_NAME, timeout=10_000)
    assert running
    assert ended is not None and ended.status == "done"
    assert _get(store, leftover.id).status == "done"
    assert handler.calls == 2


def test_the_store_compares_the_lease_stamp_exactly(store: JobStore) -> None:
    """The fence relies on ``updated_at`` coming back equal to what was written."""
    job = _job(store)
    stamp = datetime.now(UTC)
    _set(store, job.id, updated_at=stamp)
    with store.engine.begin() as conn:
        found = conn.execute(
            sa.select(jobs.c.id).where(jobs.c.id == job.id, jobs.c.updated_at == stamp)
        ).all()
    assert len(found) == 1
