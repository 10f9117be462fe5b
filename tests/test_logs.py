"""Structured logs: the JSON and text formatters, the job context across asyncio tasks and
threads, and configure_logging re-pointing existing handlers instead of adding its own."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from summariser.errors import ConfigurationError
from summariser.logs import (
    LOG_FORMAT_ENV,
    JobContextFilter,
    JsonFormatter,
    TextFormatter,
    configure_logging,
    current_job,
    job_context,
    log_format,
)


class Capture:
    """A logger of its own, its lines in a string buffer, formatted as ``fmt``."""

    def __init__(self, fmt: logging.Formatter, name: str) -> None:
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(fmt)
        self.logger = logging.getLogger(name)
        self.logger.addHandler(self.handler)
        self.logger.setLevel(logging.DEBUG)
        self.logger.propagate = False

    def lines(self) -> list[str]:
        return self.stream.getvalue().splitlines()

    def objects(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines()]

    def close(self) -> None:
        self.logger.removeHandler(self.handler)
        self.logger.propagate = True


@pytest.fixture
def json_log(request: pytest.FixtureRequest) -> Iterator[Capture]:
    capture = Capture(JsonFormatter(), f"test.logs.{request.node.name}")
    yield capture
    capture.close()


def test_a_json_line_has_the_fields_and_nothing_spills_onto_another_line(
    json_log: Capture,
) -> None:
    json_log.logger.warning("Revenue rose %d%%\nto ¥4.2 billion", 12)
    [line] = json_log.lines()
    entry = json.loads(line)
    assert entry["message"] == "Revenue rose 12%\nto ¥4.2 billion"
    assert entry["level"] == "WARNING"
    assert entry["logger"] == json_log.logger.name
    assert isinstance(entry["pid"], int) and entry["thread"] == "MainThread"
    assert entry["ts"].endswith("Z") and "T" in entry["ts"]
    assert "job_id" not in entry and "job_kind" not in entry and "exc_info" not in entry
    assert line.isascii()


def test_exc_info_is_one_string_and_extras_follow(json_log: Capture) -> None:
    try:
        raise ValueError("bad figure")
    except ValueError:
        json_log.logger.exception("failed", extra={"reference": "abc", "odd": object()})
    [entry] = json_log.objects()
    assert entry["message"] == "failed" and entry["level"] == "ERROR"
    assert entry["exc_info"].startswith("Traceback (most recent call last):")
    assert entry["exc_info"].rstrip().endswith("ValueError: bad figure")
    assert entry["reference"] == "abc"
    assert entry["odd"].startswith("<object object")


def test_job_context_stamps_lines_and_ends_with_its_block(json_log: Capture) -> None:
    json_log.logger.info("before")
    with job_context("job-1"):
        json_log.logger.info("inside")
        with job_context("job-1", kind="slack"):
            json_log.logger.info("kind known")
        context = current_job()
        assert context is not None and context.kind is None
    json_log.logger.info("after")
    before, inside, kind_known, after = json_log.objects()
    assert "job_id" not in before and "job_id" not in after
    assert inside["job_id"] == "job-1" and "job_kind" not in inside
    assert kind_known["job_id"] == "job-1" and kind_known["job_kind"] == "slack"
    assert current_job() is None


def test_extra_job_id_wins_over_the_context(json_log: Capture) -> None:
    with job_context("job-1", kind="text"):
        json_log.logger.info("other", extra={"job_id": "job-2"})
    [entry] = json_log.objects()
    assert entry["job_id"] == "job-2" and "job_kind" not in entry


def test_concurrent_tasks_keep_their_own_job_and_to_thread_inherits_it(
    json_log: Capture,
) -> None:
    async def job(job_id: str, started: asyncio.Barrier) -> None:
        with job_context(job_id):
            await started.wait()  # both tasks are inside their blocks at once
            json_log.logger.info("running %s", job_id)
            await asyncio.to_thread(json_log.logger.info, "in a thread for %s", job_id)

            async def child() -> None:
                json_log.logger.info("child of %s", job_id)

            await asyncio.create_task(child())

    async def main() -> None:
        started = asyncio.Barrier(2)
        await asyncio.gather(job("job-a", started), job("job-b", started))
        json_log.logger.info("loop after")

    asyncio.run(main())
    entries = json_log.objects()
    assert len(entries) == 7
    for entry in entries[:-1]:
        assert entry["message"].endswith(entry["job_id"])
    assert "job_id" not in entries[-1]


def test_threads_do_not_see_each_others_job(json_log: Capture) -> None:
    inside = threading.Barrier(3)

    def work(job_id: str) -> None:
        with job_context(job_id):
            inside.wait(timeout=5)
            json_log.logger.info("thread %s", job_id)
            inside.wait(timeout=5)

    threads = [threading.Thread(target=work, args=(f"job-{n}",)) for n in range(2)]
    with job_context("main-job"):
        for thread in threads:
            thread.start()
        inside.wait(timeout=5)
        json_log.logger.info("thread main-job")
        inside.wait(timeout=5)
        for thread in threads:
            thread.join(timeout=5)
        # a new thread starts without the job of the thread that made it
        plain = threading.Thread(target=json_log.logger.info, args=("new thread",))
        plain.start()
        plain.join(timeout=5)
    entries = json_log.objects()
    assert len(entries) == 4
    for entry in entries[:3]:
        assert entry["message"] == f"thread {entry['job_id']}"
    assert {e["job_id"] for e in entries[:3]} == {"job-0", "job-1", "main-job"}
    assert "job_id" not in entries[3]


def test_text_format_is_dramatiqs_layout_with_the_job(request: pytest.FixtureRequest) -> None:
    capture = Capture(TextFormatter(), f"test.logs.{request.node.name}")
    try:
        capture.logger.info("Worker process is ready for action.")
        with job_context("job-9", kind="url"):
            capture.logger.warning("slow")
    finally:
        capture.close()
    ready, slow = capture.lines()
    assert ready.endswith(f"[{capture.logger.name}] [INFO] Worker process is ready for action.")
    assert "[PID " in ready and "[MainThread]" in ready
    assert slow.endswith("[WARNING] [job job-9 url] slow")


def test_the_filter_stamps_where_the_line_is_logged_not_where_it_is_formatted() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "queued", None, None)
    with job_context("job-q"):
        assert JobContextFilter().filter(record)
    entry = json.loads(JsonFormatter().format(record))  # formatted later, outside the block
    assert entry["job_id"] == "job-q"


def test_configure_logging_repoints_existing_handlers_once(
    request: pytest.FixtureRequest,
) -> None:
    """As in a dramatiq worker process: the command line made the handler, we re-point it."""
    logger = logging.getLogger(f"test.logs.{request.node.name}")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.propagate = False
    try:
        configure_logging("json", logging.INFO, logger=logger)
        configure_logging("json", logger=logger)  # twice: still one handler, one filter
        assert logger.handlers == [handler]
        assert sum(isinstance(f, JobContextFilter) for f in handler.filters) == 1
        with job_context("job-7"):
            logger.info("Worker process is ready for action.")
        logger.debug("not at INFO")
        configure_logging("text", logger=logger)
        logger.info("as text")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    first, second = stream.getvalue().splitlines()
    entry = json.loads(first)
    assert entry["message"] == "Worker process is ready for action."
    assert entry["job_id"] == "job-7"
    assert second.endswith("[INFO] as text")


def test_configure_logging_adds_a_handler_only_when_there_is_none(
    request: pytest.FixtureRequest,
) -> None:
    logger = logging.getLogger(f"test.logs.{request.node.name}")
    logger.propagate = False
    try:
        configure_logging("json", logger=logger)
        [handler] = logger.handlers
        assert isinstance(handler.formatter, JsonFormatter)
        assert logger.level == logging.INFO
    finally:
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.propagate = True


def test_log_format_option_then_environment_then_json() -> None:
    assert log_format(None, {}) == "json"
    assert log_format(None, {LOG_FORMAT_ENV: "TEXT"}) == "text"
    assert log_format("json", {LOG_FORMAT_ENV: "text"}) == "json"
    with pytest.raises(ConfigurationError, match="json or text"):
        log_format("yaml", {})
