"""Answers to ended jobs (a Slack reply, say), sent once whichever process ends the job.

Stage: service (orchestration, async). In: a job id whose row carries ``reply`` (where to
answer) and the :data:`Replier` for its kind. Out: the answer posted by the replier, and the
row's ``reply_status`` settled ``sent``, ``skipped`` or ``failed``.

Who calls it: the in-process queue's end-of-job listener (``summariser serve``), and the
Dramatiq worker that ended the job, or, when that worker died before answering, the worker the
message is redelivered to. The store's :meth:`~summariser.service.store.JobStore.claim_reply`
lets one of them at a time post; a claim older than :data:`REPLY_LEASE` is taken over. So a
job is answered once, except in one window no store can close: a process that dies after the
chat service accepted its post and before it recorded so (Slack's Web API takes no idempotency
key), and then the answer may be posted twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from summariser.service.store import JobRecord, JobStore, ReplyStatus

log = logging.getLogger("summariser.service")

Posted = Literal["sent", "skipped"]
# The replier posts the answer for ``job`` to ``target`` (the job's ``reply``); "skipped" when
# it chose not to (an expired job: an answer that late is noise). It raises when it failed.
Replier = Callable[[JobRecord, Mapping[str, Any]], Awaitable[Posted]]

REPLY_LEASE = timedelta(seconds=30)


async def deliver_reply(
    store: JobStore,
    job_id: str,
    repliers: Mapping[str, Replier],
    *,
    lease: timedelta = REPLY_LEASE,
    wait: bool = False,
) -> ReplyStatus | None:
    """Answer the ended job ``job_id`` if nobody has; how it went, or None when it was not
    this call's to answer (no reply wanted, already settled, or held by a live process).

    ``wait``: when another process holds the claim, wait for it to run out and take it over
    if that process never settled it (a redelivered message: its first worker may have died).
    """
    claim = await asyncio.to_thread(store.claim_reply, job_id, lease=lease)
    if claim is None and wait:
        job = await asyncio.to_thread(store.get, job_id)
        if job is None or job.reply_status != "sending" or job.reply_updated_at is None:
            return None
        left = (job.reply_updated_at + lease - datetime.now(UTC)).total_seconds()
        await asyncio.sleep(max(0.0, left) + 0.05)
        claim = await asyncio.to_thread(store.claim_reply, job_id, lease=lease)
    if claim is None:
        return None
    job = claim.job
    replier = repliers.get(job.kind)
    status: ReplyStatus
    if replier is None:
        log.error("job %s: no replier for %r jobs here; its answer is not sent", job.id, job.kind)
        status = "failed"
    else:
        try:
            status = await replier(job, job.reply or {})
        except Exception:
            log.exception("job %s: could not send the answer", job.id)
            status = "failed"
    if not await asyncio.to_thread(store.settle_reply, claim, status):
        log.warning("job %s: the answer's claim was taken over before it was settled", job.id)
    return status
