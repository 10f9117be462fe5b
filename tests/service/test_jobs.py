"""The job queue and store, on SQLite and on PostgreSQL (the ``postgres_url`` fixture: the local
server, or one the tests start)."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Mapping
from typing import Any

import pytest

from summariser.service.jobs import IdempotencyConflict, JobFailed, JobQueue
from summariser.service.store import JobRecord, JobStore, NewJob


def new_job(key: str | None = None, text: str = "article") -> NewJob:
    return NewJob(
        kind="text",
        owner="key:1",
        payload={"text": text},
        input_ref="sha256:x",
        fingerprint=text,
        idempotency_key=key,
    )


def test_store_lifecycle(store: JobStore) -> None:
    store.ping()
    job, created = store.create(new_job())
    assert created and job.status == "queued" and job.payload == {"text": "article"}
    assert store.queued_ids() == [job.id]
    running = store.claim(job.id)
    assert running is not None and running.status == "running"
    assert store.claim(job.id) is None  # claimed once only
    store.finish(job.id, {"summary": {"headline": "x"}, "article": None})
    done = store.get(job.id)
    assert done is not None and done.status == "done" and done.payload is None
    assert done.result == {"summary": {"headline": "x"}, "article": None}
    assert done.created_at.tzinfo is not None and done.updated_at >= done.created_at
    assert store.get("missing") is None


def test_store_failure_and_idempotency(store: JobStore) -> None:
    first, created = store.create(new_job("k1"))
    again, created_again = store.create(new_job("k1"))
    assert created and not created_again and again.id == first.id
    store.claim(first.id)
    store.fail(first.id, reason="bad_input", error="empty", reference_id="ref1")
    failed = store.get(first.id)
    assert failed is not None
    assert (failed.status, failed.reason, failed.error, failed.reference_id) == (
        "failed",
        "bad_input",
        "empty",
        "ref1",
    )


async def _run_queue(
    store: JobStore, handlers: Mapping[str, Any], jobs: list[dict[str, Any]]
) -> list[JobRecord]:
    queue = JobQueue(store, handlers, workers=2)
    ended: list[JobRecord] = []

    async def listener(job: JobRecord) -> None:
        ended.append(job)

    queue.add_listener(listener)
    await queue.start()
    try:
        ids = [(await queue.submit("text", job, owner="slack:T1")).job.id for job in jobs]
        results = [await queue.wait(job_id, 10) for job_id in ids]
    finally:
        await queue.stop()
    assert len(ended) == len(jobs)
    return [r for r in results if r is not None]


def test_queue_runs_handlers_and_records_outcomes(store: JobStore) -> None:
    async def handler(payload: Mapping[str, Any]) -> dict[str, Any]:
        if payload["text"] == "long":
            raise JobFailed("article_too_long", "too long")
        if payload["text"] == "bug":
            raise KeyError("secret")
        await asyncio.sleep(0.01)
        return {"summary": {"text": payload["text"]}}

    done, too_long, bug = asyncio.run(
        _run_queue(store, {"text": handler}, [{"text": "a"}, {"text": "long"}, {"text": "bug"}])
    )
    assert done.status == "done" and done.result == {"summary": {"text": "a"}}
    assert (too_long.status, too_long.reason) == ("failed", "article_too_long")
    assert bug.reason == "internal_error" and "secret" not in (bug.error or "")
    assert bug.reference_id


def test_queue_idempotency_conflict(store: JobStore) -> None:
    async def handler(payload: Mapping[str, Any]) -> dict[str, Any]:
        return {}

    async def scenario() -> None:
        queue = JobQueue(store, {"text": handler})
        first = await queue.submit("text", {"text": "a"}, "k")
        second = await queue.submit("text", {"text": "a"}, "k")
        assert second.job.id == first.job.id and not second.created
        with pytest.raises(IdempotencyConflict):
            await queue.submit("text", {"text": "b"}, "k")
        await queue.start()  # picks up the job queued before the workers ran
        job = await queue.wait(first.job.id, 10)
        await queue.stop()
        assert job is not None and job.status == "done"

    asyncio.run(scenario())


def test_psql_client_is_optional() -> None:
    """Documents how the PostgreSQL tests find the server: psql is not needed, only psycopg."""
    try:
        subprocess.run(["psql", "--version"], capture_output=True, check=False, timeout=5)
    except (FileNotFoundError, subprocess.TimeoutExpired):
        pytest.skip("psql not installed (the PostgreSQL tests use psycopg directly)")


def test_a_job_runs_inside_its_log_context(store: JobStore) -> None:
    """Lines logged while a job runs carry its id and kind (summariser.logs)."""
    from summariser.logs import current_job

    seen: list[tuple[str, str | None]] = []

    async def handler(payload: Mapping[str, Any]) -> dict[str, Any]:
        context = current_job()
        assert context is not None
        seen.append((context.job_id, context.kind))
        return {"ok": True}

    async def scenario() -> str:
        queue = JobQueue(store, {"text": handler}, workers=1)
        await queue.start()
        submitted = await queue.submit("text", {"text": "t"})
        await queue.wait(submitted.job.id, timeout=10)
        await queue.stop()
        return submitted.job.id

    job_id = asyncio.run(scenario())
    assert seen == [(job_id, "text")]
    assert current_job() is None
