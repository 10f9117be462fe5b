"""deliver_reply: an ended job's answer goes out once, whoever calls, and a claim left by a
process that died is taken over."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from summariser.service.replies import Posted, deliver_reply
from summariser.service.store import JobRecord, JobStatus, JobStore, NewJob, jobs

TARGET = {"surface": "mention", "channel": "C1", "user": "U1"}


class Recorder:
    """A replier that records what it was asked to post (after a pause: a slow Slack)."""

    def __init__(self, result: Posted = "sent", error: Exception | None = None) -> None:
        self.calls: list[tuple[str, str, Mapping[str, Any]]] = []
        self.result, self.error = result, error

    async def __call__(self, job: JobRecord, target: Mapping[str, Any]) -> Posted:
        self.calls.append((job.id, job.status, target))
        await asyncio.sleep(0.05)
        if self.error is not None:
            raise self.error
        return self.result


def _ended(store: JobStore, status: JobStatus = "done") -> str:
    job = store.create(NewJob("slack", "u", {}, "ref", "f" * 64, None, TARGET))[0]
    lease = store.claim_lease(job.id, lease=timedelta(seconds=30))
    assert lease is not None and store.end(lease, status=status, result={"summary": None})
    return job.id


def test_many_callers_one_answer(store: JobStore) -> None:
    job_id = _ended(store)
    replier = Recorder()

    async def race() -> list[Any]:
        calls = [deliver_reply(store, job_id, {"slack": replier}) for _ in range(5)]
        return list(await asyncio.gather(*calls))

    outcomes = asyncio.run(race())
    assert outcomes.count("sent") == 1 and outcomes.count(None) == 4
    assert replier.calls == [(job_id, "done", TARGET)]
    job = store.get(job_id)
    assert job is not None and (job.reply_status, job.reply) == ("sent", None)


def test_a_failing_replier_is_recorded_and_not_retried_forever(store: JobStore) -> None:
    job_id = _ended(store, "failed")
    replier = Recorder(error=RuntimeError("slack is down"))
    assert asyncio.run(deliver_reply(store, job_id, {"slack": replier})) == "failed"
    assert asyncio.run(deliver_reply(store, job_id, {"slack": replier})) is None
    assert len(replier.calls) == 1


def test_no_replier_for_the_kind_settles_it_failed(store: JobStore) -> None:
    job_id = _ended(store)
    assert asyncio.run(deliver_reply(store, job_id, {})) == "failed"


def test_waiting_takes_over_a_claim_whose_process_died(store: JobStore) -> None:
    job_id = _ended(store)
    lease = timedelta(seconds=0.5)
    assert store.claim_reply(job_id, lease=lease) is not None  # then the process died
    replier = Recorder(result="skipped")
    assert asyncio.run(deliver_reply(store, job_id, {"slack": replier}, lease=lease)) is None
    assert not replier.calls  # the claim was still fresh, and this caller would not wait
    outcome = asyncio.run(deliver_reply(store, job_id, {"slack": replier}, lease=lease, wait=True))
    assert outcome == "skipped" and len(replier.calls) == 1


def test_a_settled_answer_is_not_waited_for(store: JobStore) -> None:
    job_id = _ended(store)
    asyncio.run(deliver_reply(store, job_id, {"slack": Recorder()}))
    with store.engine.begin() as conn:  # even with an old stamp: settled is settled
        old = datetime.now(UTC) - timedelta(hours=1)
        conn.execute(jobs.update().where(jobs.c.id == job_id).values(reply_updated_at=old))
    replier = Recorder()
    assert asyncio.run(deliver_reply(store, job_id, {"slack": replier}, wait=True)) is None
    assert not replier.calls
