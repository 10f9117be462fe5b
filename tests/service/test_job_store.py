"""The job store's fenced writes (leases) and its once-only answers (reply claims), on SQLite
and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from summariser.service.store import JobRecord, JobStore, NewJob, jobs

LEASE = timedelta(seconds=30)
TARGET = {"surface": "command", "channel": "C1", "user": "U1", "response_url": "https://x/1"}


def _job(store: JobStore, *, reply: dict[str, Any] | None = None, key: str | None = None) -> str:
    new = NewJob("text", "tester", {"text": "t"}, "ref", "f" * 64, key, reply)
    return store.create(new)[0].id


def _get(store: JobStore, job_id: str) -> JobRecord:
    job = store.get(job_id)
    assert job is not None
    return job


def _set(store: JobStore, job_id: str, **values: Any) -> None:
    with store.engine.begin() as conn:
        conn.execute(jobs.update().where(jobs.c.id == job_id).values(**values))


def test_a_lease_is_held_once_and_fences_every_later_write(store: JobStore) -> None:
    job_id = _job(store)
    lease = store.claim_lease(job_id, lease=LEASE)
    assert lease is not None and lease.job.status == "running"
    assert store.claim_lease(job_id, lease=LEASE) is None  # held by a live worker
    assert store.renew(lease)
    # the worker stalls past its lease: another takes the job over
    _set(store, job_id, updated_at=datetime.now(UTC) - 2 * LEASE)
    other = store.claim_lease(job_id, lease=LEASE)
    assert other is not None
    assert not store.renew(lease)
    assert not store.end(lease, status="done", result={"by": "first"})
    assert store.end(other, status="done", result={"by": "second"})
    ended = _get(store, job_id)
    assert (ended.status, ended.result, ended.payload) == ("done", {"by": "second"}, None)
    assert store.claim_lease(job_id, lease=LEASE) is None  # ended jobs are not claimed


def test_release_puts_the_job_back_with_its_payload(store: JobStore) -> None:
    job_id = _job(store)
    lease = store.claim_lease(job_id, lease=LEASE)
    assert lease is not None and store.release(lease)
    job = _get(store, job_id)
    assert (job.status, job.payload) == ("queued", {"text": "t"})
    assert not store.end(lease, status="failed")  # released: the lease is gone


def test_an_answer_is_claimed_once_only_after_the_job_ends(store: JobStore) -> None:
    job_id = _job(store, reply=TARGET)
    assert _get(store, job_id).reply_status == "pending"
    assert store.claim_reply(job_id, lease=LEASE) is None  # not ended yet
    lease = store.claim_lease(job_id, lease=LEASE)
    assert lease is not None and store.end(lease, status="done", result={})
    assert store.pending_replies() == [job_id]
    claim = store.claim_reply(job_id, lease=LEASE)
    assert claim is not None and claim.job.reply == TARGET
    assert store.claim_reply(job_id, lease=LEASE) is None  # being sent by the claimant
    assert store.settle_reply(claim, "sent")
    job = _get(store, job_id)
    assert (job.reply_status, job.reply) == ("sent", None)  # the response_url is forgotten
    assert store.claim_reply(job_id, lease=LEASE) is None
    assert store.pending_replies() == []


def test_a_stale_answer_claim_is_taken_over_and_the_first_cannot_settle(
    store: JobStore,
) -> None:
    job_id = _job(store, reply=TARGET)
    lease = store.claim_lease(job_id, lease=LEASE)
    assert lease is not None and store.end(lease, status="failed", reason="x", error="y")
    first = store.claim_reply(job_id, lease=LEASE)
    assert first is not None
    _set(store, job_id, reply_updated_at=datetime.now(UTC) - 2 * LEASE)  # its process died
    assert store.pending_replies() == [job_id]
    second = store.claim_reply(job_id, lease=LEASE)
    assert second is not None
    assert not store.settle_reply(first, "sent")
    assert store.settle_reply(second, "skipped")
    assert _get(store, job_id).reply_status == "skipped"


def test_jobs_without_a_reply_are_never_answered(store: JobStore) -> None:
    job_id = _job(store)
    lease = store.claim_lease(job_id, lease=LEASE)
    assert lease is not None and store.end(lease, status="done", result={})
    assert _get(store, job_id).reply_status is None
    assert store.claim_reply(job_id, lease=LEASE) is None


def test_a_store_made_by_an_older_version_gains_the_new_columns(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = sa.create_engine(url)
    old = sa.MetaData()
    columns = [c._copy() for c in jobs.columns if not c.name.startswith("reply")]
    sa.Table("jobs", old, *columns)
    old.create_all(engine)
    engine.dispose()
    store = JobStore(url)
    try:
        store.create_schema()
        store.create_schema()  # twice: nothing left to add
        job_id = _job(store, reply=TARGET)
        assert _get(store, job_id).reply == TARGET
    finally:
        store.close()
