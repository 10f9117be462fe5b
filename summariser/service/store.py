"""The job store: one row per job, in SQLite (default) or PostgreSQL, with SQLAlchemy Core.

Stage: service (persistence, sync). In: jobs created, claimed and finished by
:class:`~summariser.service.jobs.JobQueue` (which calls these methods through
``asyncio.to_thread``). Out: :class:`JobRecord` values. The table::

    jobs(id, kind, status, owner, idempotency_key UNIQUE, input_ref, fingerprint, payload,
         created_at, updated_at, result JSON, error, reason, reference_id,
         reply JSON, reply_status, reply_updated_at)

``status`` goes ``queued -> running -> done | failed`` (and, with Dramatiq workers, ``dead``
or ``expired``). ``result`` holds the summary with its provenance (and, for URL jobs, what was
fetched); ``payload`` holds the input until the job ends, so queued jobs survive a restart, and
is cleared then (``input_ref`` keeps its hash or URL). Claiming is one conditional UPDATE, so
two processes sharing a PostgreSQL database never run the same job twice.

Leases (the workers' at-least-once delivery): :meth:`JobStore.claim_lease` takes a queued job,
or a running one whose lease ran out; every later write of that worker (:meth:`renew`,
:meth:`release`, :meth:`end`) is fenced by the ``updated_at`` it last wrote, so a worker that
lost its lease cannot overwrite another's outcome.

Replies (a Slack answer, say): a job made with ``reply`` (where to answer) has
``reply_status`` ``pending``; once the job has ended, one process wins
:meth:`claim_reply` (``sending``), posts, and settles it ``sent``, ``skipped`` or ``failed``,
which clears ``reply``. A claim older than its lease may be taken over (its process died), so
a redelivered job message finishes an answer its first worker never sent.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

# dead: a worker gave up after its retries; expired: too old to answer (a stale Slack request)
JobStatus = Literal["queued", "running", "done", "failed", "dead", "expired"]

metadata = sa.MetaData()
jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("owner", sa.String(128), nullable=False),
    sa.Column("idempotency_key", sa.String(512), unique=True, nullable=True),
    sa.Column("input_ref", sa.Text, nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("payload", sa.JSON, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("result", sa.JSON, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("reason", sa.String(64), nullable=True),
    sa.Column("reference_id", sa.String(32), nullable=True),
    sa.Column("reply", sa.JSON, nullable=True),
    sa.Column("reply_status", sa.String(16), nullable=True),
    sa.Column("reply_updated_at", sa.DateTime(timezone=True), nullable=True),
)
ENDED: tuple[JobStatus, ...] = ("done", "failed", "dead", "expired")
ReplyStatus = Literal["pending", "sending", "sent", "skipped", "failed"]


@dataclass(frozen=True, slots=True)
class NewJob:
    """What a caller submits: ``idempotency_key`` already scoped to the caller."""

    kind: str
    owner: str
    payload: Mapping[str, Any]
    input_ref: str
    fingerprint: str
    idempotency_key: str | None = None
    reply: Mapping[str, Any] | None = None  # where to answer when the job ends


@dataclass(frozen=True, slots=True)
class JobRecord:
    id: str
    kind: str
    status: JobStatus
    owner: str
    idempotency_key: str | None
    input_ref: str
    fingerprint: str
    payload: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    result: dict[str, Any] | None
    error: str | None
    reason: str | None
    reference_id: str | None
    reply: dict[str, Any] | None = None
    reply_status: ReplyStatus | None = None
    reply_updated_at: datetime | None = None

    @property
    def ended(self) -> bool:
        return self.status in ENDED


@dataclass(slots=True)
class Lease:
    """A worker's hold on a running job; ``stamp`` is the ``updated_at`` it last wrote."""

    job: JobRecord
    stamp: datetime


@dataclass(frozen=True, slots=True)
class ReplyClaim:
    """The right to post a job's answer; ``stamp`` fences the write that settles it."""

    job: JobRecord
    stamp: datetime


class JobStore:
    """Jobs in a SQL database; every method is synchronous and thread-safe."""

    def __init__(self, url: str) -> None:
        self.engine = _engine(url)
        # SQLite allows one writer: serialise here rather than meet "database is locked".
        self._lock = threading.Lock() if self.engine.dialect.name == "sqlite" else None

    def create_schema(self) -> None:
        """Create the table, or add the columns a store made by an older version lacks."""
        with self._begin() as conn:
            metadata.create_all(conn)
            present = {c["name"] for c in sa.inspect(conn).get_columns(jobs.name)}
            for column in jobs.columns:
                if column.name not in present and column.nullable:
                    kind = column.type.compile(dialect=conn.dialect)
                    conn.execute(sa.text(f"ALTER TABLE jobs ADD COLUMN {column.name} {kind}"))

    def ping(self) -> None:
        """Raise unless the database answers and the jobs table is there."""
        with self._begin() as conn:
            conn.execute(sa.select(sa.func.count()).select_from(jobs).limit(1))

    def create(self, job: NewJob) -> tuple[JobRecord, bool]:
        """Insert a queued job; with an idempotency key already used, the job it made and
        False instead."""
        now = _now()
        row = {
            "id": uuid.uuid4().hex,
            "kind": job.kind,
            "status": "queued",
            "owner": job.owner,
            "idempotency_key": job.idempotency_key,
            "input_ref": job.input_ref,
            "fingerprint": job.fingerprint,
            "payload": dict(job.payload),
            "created_at": now,
            "updated_at": now,
            "reply": None if job.reply is None else dict(job.reply),
            "reply_status": None if job.reply is None else "pending",
            "reply_updated_at": None if job.reply is None else now,
        }
        try:
            with self._begin() as conn:
                conn.execute(jobs.insert().values(**row))
        except IntegrityError:
            if job.idempotency_key is None:
                raise
            existing = self.by_idempotency_key(job.idempotency_key)
            if existing is None:  # deleted in between: cannot happen without manual edits
                raise
            return existing, False
        found = self.get(str(row["id"]))
        assert found is not None
        return found, True

    def get(self, job_id: str) -> JobRecord | None:
        with self._begin() as conn:
            row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).mappings().first()
        return None if row is None else _record(row)

    def by_idempotency_key(self, key: str) -> JobRecord | None:
        query = sa.select(jobs).where(jobs.c.idempotency_key == key)
        with self._begin() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _record(row)

    def claim(self, job_id: str) -> JobRecord | None:
        """Mark a queued job running; None when another worker got it first (or it is gone)."""
        query = (
            jobs.update()
            .where(jobs.c.id == job_id, jobs.c.status == "queued")
            .values(status="running", updated_at=_now())
        )
        with self._begin() as conn:
            claimed = conn.execute(query).rowcount == 1
        return self.get(job_id) if claimed else None

    def finish(self, job_id: str, result: Mapping[str, Any]) -> None:
        self._end(job_id, status="done", result=dict(result))

    def fail(self, job_id: str, *, reason: str, error: str, reference_id: str) -> None:
        self._end(job_id, status="failed", reason=reason, error=error, reference_id=reference_id)

    def queued_ids(self) -> list[str]:
        """Jobs waiting for a worker, oldest first (to pick up again after a restart)."""
        query = sa.select(jobs.c.id).where(jobs.c.status == "queued").order_by(jobs.c.created_at)
        with self._begin() as conn:
            return [str(i) for i in conn.execute(query).scalars()]

    def fail_stale(self, older_than: timedelta) -> int:
        """Fail jobs left ``running`` longer than ``older_than`` (their process died)."""
        query = (
            jobs.update()
            .where(jobs.c.status == "running", jobs.c.updated_at < _now() - older_than)
            .values(
                status="failed",
                reason="interrupted",
                error="the service stopped while the job was running",
                reference_id=uuid.uuid4().hex[:16],
                payload=None,
                updated_at=_now(),
            )
        )
        with self._begin() as conn:
            return int(conn.execute(query).rowcount)

    # --- leases: the workers' fenced writes ---------------------------------------------------

    def claim_lease(self, job_id: str, *, lease: timedelta) -> Lease | None:
        """Take a queued job, or a running one whose lease (``updated_at``) is older than
        ``lease`` (its worker died); None when it is held, ended or gone."""
        now = _now()
        taken = self._take(
            job_id,
            _free_or_stale(jobs.c.status, "queued", "running", jobs.c.updated_at, now - lease),
            status="running",
            updated_at=now,
        )
        return None if taken is None else Lease(taken, now)

    def renew(self, lease: Lease) -> bool:
        """Extend the lease; False when another worker has taken the job over."""
        return self._fenced(lease)

    def release(self, lease: Lease) -> bool:
        """Back to ``queued``, payload kept, for a retry to claim."""
        return self._fenced(lease, status="queued")

    def end(
        self,
        lease: Lease,
        *,
        status: JobStatus,
        result: Mapping[str, Any] | None = None,
        reason: str | None = None,
        error: str | None = None,
        reference_id: str | None = None,
    ) -> bool:
        """End the job (the payload goes) unless the lease was lost; True when written."""
        return self._fenced(
            lease,
            status=status,
            payload=None,
            result=None if result is None else dict(result),
            reason=reason,
            error=error,
            reference_id=reference_id,
        )

    def _take(self, job_id: str, condition: Any, **values: Any) -> JobRecord | None:
        """Set ``values`` on the job if ``condition`` holds (of racing processes, one wins);
        the job as it then is, or None for the others."""
        return self.get(job_id) if self._update_if(job_id, condition, **values) else None

    def _fenced(self, lease: Lease, **values: Any) -> bool:
        now = _now()
        held = sa.and_(jobs.c.status == "running", jobs.c.updated_at == lease.stamp)
        if not self._update_if(lease.job.id, held, updated_at=now, **values):
            return False
        lease.stamp = now
        return True

    def _update_if(self, job_id: str, condition: Any, **values: Any) -> bool:
        """One conditional UPDATE of the job; True when it matched."""
        query = jobs.update().where(jobs.c.id == job_id, condition).values(**values)
        with self._begin() as conn:
            return bool(conn.execute(query).rowcount == 1)

    # --- replies -----------------------------------------------------------------------------

    def claim_reply(self, job_id: str, *, lease: timedelta) -> ReplyClaim | None:
        """The right to post an ended job's answer: its reply is ``pending``, or ``sending``
        for longer than ``lease`` (the process that claimed it died). None otherwise."""
        now = _now()
        taken = self._take(
            job_id,
            sa.and_(
                jobs.c.status.in_(ENDED),
                _free_or_stale(
                    jobs.c.reply_status, "pending", "sending", jobs.c.reply_updated_at, now - lease
                ),
            ),
            reply_status="sending",
            reply_updated_at=now,
        )
        return None if taken is None else ReplyClaim(taken, now)

    def settle_reply(self, claim: ReplyClaim, status: ReplyStatus) -> bool:
        """Record how the answer went and forget where it went (a ``response_url`` is a
        credential); False when the claim had been taken over."""
        held = sa.and_(jobs.c.reply_status == "sending", jobs.c.reply_updated_at == claim.stamp)
        return self._update_if(
            claim.job.id, held, reply_status=status, reply=None, reply_updated_at=_now()
        )

    def pending_replies(self) -> list[str]:
        """Ended jobs whose answer is still to be sent (or was being sent), oldest first."""
        query = (
            sa.select(jobs.c.id)
            .where(jobs.c.status.in_(ENDED), jobs.c.reply_status.in_(("pending", "sending")))
            .order_by(jobs.c.updated_at)
        )
        with self._begin() as conn:
            return [str(i) for i in conn.execute(query).scalars()]

    def close(self) -> None:
        self.engine.dispose()

    def _end(self, job_id: str, **values: Any) -> None:
        query = (
            jobs.update()
            .where(jobs.c.id == job_id)
            .values(payload=None, updated_at=_now(), **values)
        )
        with self._begin() as conn:
            conn.execute(query)

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        if self._lock is None:
            with self.engine.begin() as conn:
                yield conn
            return
        with self._lock, self.engine.begin() as conn:
            yield conn


_CONNECT_TIMEOUT_S = 10


def open_store(database_url: str) -> JobStore:
    """The job store at ``database_url``, answering, with its table; else
    :class:`~summariser.errors.ConfigurationError` saying why (the password hidden), for a
    command to stop on before it starts anything."""
    from summariser.errors import ConfigurationError

    try:
        shown = make_url(database_url).render_as_string(hide_password=True)
    except (SQLAlchemyError, ValueError) as err:
        raise ConfigurationError(f"not a database URL: {database_url!r}") from err
    store: JobStore | None = None
    try:
        store = JobStore(database_url)
        store.create_schema()
        store.ping()
    except (SQLAlchemyError, ImportError, OSError) as err:
        if store is not None:
            store.close()
        message = f"cannot use the job database {shown}: {describe_error(err)}"
        raise ConfigurationError(message) from None
    return store


def describe_error(err: BaseException) -> str:
    """A database error in one line, without SQLAlchemy's statement dump and link."""
    original = getattr(err, "orig", None)
    text = str(original if original is not None else err) or type(err).__name__
    return " ".join(text.split("(Background on this error")[0].split())


def _free_or_stale(
    state: Any, free: str, held: str, stamp: Any, cutoff: datetime
) -> sa.ColumnElement[bool]:
    """``state`` is ``free``, or ``held`` with a ``stamp`` older than ``cutoff`` (whoever held
    it stopped renewing: its process died)."""
    return sa.or_(state == free, sa.and_(state == held, stamp < cutoff))


def _engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.drivername == "postgresql":  # plain postgresql:// -> psycopg 3, not psycopg2
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        # a database that does not answer is an error in seconds, not a hang
        parsed = parsed.update_query_dict({"connect_timeout": str(_CONNECT_TIMEOUT_S)})
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(parsed, pool_pre_ping=True)
    connect_args = {"check_same_thread": False, "timeout": 30}
    if parsed.database in (None, "", ":memory:"):
        return sa.create_engine(parsed, connect_args=connect_args, poolclass=StaticPool)
    return sa.create_engine(parsed, connect_args=connect_args)


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes: they were stored in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _record(row: sa.RowMapping) -> JobRecord:
    return JobRecord(
        id=row["id"],
        kind=row["kind"],
        status=row["status"],
        owner=row["owner"],
        idempotency_key=row["idempotency_key"],
        input_ref=row["input_ref"],
        fingerprint=row["fingerprint"],
        payload=row["payload"],
        created_at=_aware(row["created_at"]),
        updated_at=_aware(row["updated_at"]),
        result=row["result"],
        error=row["error"],
        reason=row["reason"],
        reference_id=row["reference_id"],
        reply=row["reply"],
        reply_status=row["reply_status"],
        reply_updated_at=None
        if row["reply_updated_at"] is None
        else _aware(row["reply_updated_at"]),
    )
