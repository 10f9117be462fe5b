"""Structured logs: one JSON object per line, stamped with the job it was written for.

Stage: edge (observability). In: log records, and the job being run, set by
:func:`job_context` (a context variable: each asyncio task and each thread sees its own).
Out: lines on the handlers of the root logger, as JSON (:class:`JsonFormatter`)::

    {
        "ts": "2025-01-31T12:00:00.123Z",
        "level": "WARNING",
        "logger": "summariser.workers",
        "message": "job 3f2a...: not in the store; message dropped",
        "pid": 4711,
        "thread": "Thread-3",
        "job_id": "3f2a...",
        "job_kind": "text",
    }

(``job_id`` and ``job_kind`` only while set; ``exc_info`` holds a traceback as one string;
fields passed with ``extra=`` follow) or as text (:class:`TextFormatter`, Dramatiq's own layout
with ``[job ID]`` before the message).

:func:`configure_logging` re-points the formatters of the root logger's handlers rather than
adding its own, so that a process whose logging was set up by someone else (the ``dramatiq``
command line writes each worker process's lines to a pipe) keeps its handlers and prints each
line once.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from summariser.errors import ConfigurationError

LogFormat = Literal["json", "text"]
LOG_FORMAT_ENV = "SUMMARISER_LOG_FORMAT"
DEFAULT_LOG_FORMAT: LogFormat = "json"

#: Dramatiq's layout (``dramatiq.cli.LOGFORMAT``) with the job before the message.
TEXT_FORMAT = (
    "[%(asctime)s] [PID %(process)d] [%(threadName)s] [%(name)s] [%(levelname)s] "
    "%(job_tag)s%(message)s"
)

# What every LogRecord carries: anything else on a record came from ``extra=``.
_RECORD_FIELDS = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "job_id",
    "job_kind",
    "job_tag",
    "color_message",  # uvicorn's copy of the message with terminal colour codes
}


@dataclass(frozen=True, slots=True)
class JobContext:
    """The job the current task or thread works on."""

    job_id: str
    kind: str | None = None


_current_job: contextvars.ContextVar[JobContext | None] = contextvars.ContextVar(
    "summariser_job", default=None
)


def current_job() -> JobContext | None:
    """The job set by the innermost :func:`job_context` of this task or thread, if any."""
    return _current_job.get()


@contextlib.contextmanager
def job_context(job_id: str, kind: str | None = None) -> Iterator[JobContext]:
    """Stamp the log lines written inside the block with ``job_id`` (and ``kind``).

    A context variable, so it is the current asyncio task's own (set it inside the coroutine
    that runs the job: tasks it starts and ``asyncio.to_thread`` calls inherit it; other tasks
    on the loop do not see it) or the current thread's (a new thread starts without it). Blocks
    nest: the inner one wins until it ends (``with job_context(job.id, kind=job.kind)`` once
    the job's kind is known).
    """
    context = JobContext(job_id, kind)
    token = _current_job.set(context)
    try:
        yield context
    finally:
        _current_job.reset(token)


def stamp(record: logging.LogRecord) -> None:
    """Set ``record.job_id`` and ``record.job_kind`` from the current job, unless the record
    already has them (``extra={"job_id": ...}``, or stamped by an earlier handler)."""
    if hasattr(record, "job_id"):
        if not hasattr(record, "job_kind"):
            record.__dict__["job_kind"] = None
        return
    context = _current_job.get()
    record.__dict__["job_id"] = context.job_id if context is not None else None
    if not hasattr(record, "job_kind"):
        record.__dict__["job_kind"] = context.kind if context is not None else None


class JobContextFilter(logging.Filter):
    """Stamps each record with the current job (see :func:`stamp`) and lets it through.

    Put on a handler, it stamps in the thread that logs, so the job survives a handler that
    formats later in another thread (a ``QueueHandler``); also for formats naming
    ``%(job_id)s``. The formatters here stamp by themselves when no filter did.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        stamp(record)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts`` (UTC, ISO 8601, milliseconds), ``level``, ``logger``,
    ``message``, ``pid``, ``thread``; ``job_id`` / ``job_kind`` while set; ``exc_info`` and
    ``stack_info`` as strings; then the record's ``extra=`` fields (``str()`` of any value JSON
    cannot hold). Non-ASCII is escaped, so a line is one line to every reader."""

    def format(self, record: logging.LogRecord) -> str:
        stamp(record)
        entry: dict[str, object] = {
            "ts": _timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
            "thread": record.threadName,
        }
        job_id = getattr(record, "job_id", None)
        if job_id is not None:
            entry["job_id"] = job_id
        job_kind = getattr(record, "job_kind", None)
        if job_kind is not None:
            entry["job_kind"] = job_kind
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        extras = {
            key: value
            for key, value in record.__dict__.items()
            if key not in _RECORD_FIELDS and not key.startswith("_") and key not in entry
        }
        try:
            return json.dumps({**entry, **extras}, default=str)
        except (TypeError, ValueError):  # a circular extra, or keys JSON cannot hold
            return json.dumps({**entry, **{str(k): repr(v) for k, v in extras.items()}})


class TextFormatter(logging.Formatter):
    """:data:`TEXT_FORMAT`: Dramatiq's line with ``[job ID]`` (``[job ID KIND]``) while set."""

    def __init__(self, fmt: str = TEXT_FORMAT) -> None:
        super().__init__(fmt, defaults={"job_tag": ""})

    def formatMessage(self, record: logging.LogRecord) -> str:
        stamp(record)
        job_id = getattr(record, "job_id", None)
        job_kind = getattr(record, "job_kind", None)
        tag = ""
        if job_id is not None:
            tag = f"[job {job_id} {job_kind}] " if job_kind else f"[job {job_id}] "
        record.__dict__["job_tag"] = tag
        return super().formatMessage(record)


def make_formatter(fmt: LogFormat) -> logging.Formatter:
    return JsonFormatter() if fmt == "json" else TextFormatter()


def configure_logging(
    fmt: LogFormat,
    level: int | str | None = None,
    *,
    logger: logging.Logger | None = None,
) -> None:
    """Log as ``fmt`` through the handlers of ``logger`` (the root logger).

    Existing handlers keep their streams and get the formatter and a :class:`JobContextFilter`
    (once, however often this is called); with none, one writing to stderr is added. ``level``
    (None: leave it, or INFO for a logger that had no handler) is set on ``logger``.
    """
    target = logging.getLogger() if logger is None else logger
    if not target.handlers:
        target.addHandler(logging.StreamHandler())
        if level is None:
            level = logging.INFO
    formatter = make_formatter(fmt)
    for handler in target.handlers:
        handler.setFormatter(formatter)
        if not any(isinstance(f, JobContextFilter) for f in handler.filters):
            handler.addFilter(JobContextFilter())
    if level is not None:
        target.setLevel(level)


def log_format(explicit: str | None = None, env: Mapping[str, str] | None = None) -> LogFormat:
    """``--log-format``, else ``SUMMARISER_LOG_FORMAT``, else ``json``."""
    env = os.environ if env is None else env
    value = (explicit or env.get(LOG_FORMAT_ENV) or DEFAULT_LOG_FORMAT).strip().lower()
    if value == "json":
        return "json"
    if value == "text":
        return "text"
    raise ConfigurationError(f"the log format is json or text, not {value!r} ({LOG_FORMAT_ENV})")


def _timestamp(created: float) -> str:
    moment = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
    return moment.removesuffix("+00:00") + "Z"
