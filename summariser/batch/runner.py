"""The batch runner: a stream of articles in, one JSONL record per article out, resumable.

Stage: orchestration (asyncio; where summaries come from is injected). In: a
:class:`BatchJob` (input, output, state and cache paths, concurrency) and a
:class:`SummarySource`: :class:`LocalSummaries` (:func:`~summariser.pipeline.asummarise` in
this process, with :class:`~summariser.settings.Settings` and a backend: :func:`run_batch`) or
:class:`~summariser.batch.remote.RemoteSummaries` (jobs for the Dramatiq workers,
``--broker``). Out: the output file, appended one record per item, and a :class:`BatchResult`
(this run's :class:`RunStats`, the whole job's totals, why it stopped, its exit code).

The flow::

    prepare: check input and output, open the store (lock), check the job's meta,
             reconcile the output with the store
    producer (iter_items, skipping done keys) -> bounded queue -> N workers
        worker: clean -> cache key -> in-flight twin? cache? else source.summarise -> record
    -> writer: commit a batch of records (and cache entries) to the store, then append their
       lines to the output in one write

One bad article gives an error record and the job goes on. A quota or authentication error
(or a source that cannot go on, :class:`BatchStopped`) stops it: no new article starts,
finished ones are written, the rest wait for the next run (the same command resumes).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from summariser.backends.base import Backend
from summariser.batch.inputs import (
    Article,
    BadItem,
    Item,
    Reason,
    backend_reason,
    error_record,
    iter_items,
    ok_record,
    scan,
)
from summariser.batch.store import (
    JobStore,
    JobTotals,
    Reconciled,
    StoredRecord,
    check_writable,
    reconcile,
)
from summariser.cleaning import clean
from summariser.errors import (
    AuthenticationError,
    BackendError,
    InputError,
    NoArticleTextError,
    QuotaExceededError,
)
from summariser.pipeline import asummarise
from summariser.prompts import load_prompt
from summariser.schema import Summary, Usage
from summariser.settings import Settings

__all__ = [
    "EXIT_OK",
    "EXIT_SOME_FAILED",
    "EXIT_STOPPED",
    "EXIT_UNSUPPORTED",
    "BatchJob",
    "BatchResult",
    "BatchStopped",
    "ItemFailed",
    "LocalSummaries",
    "RunStats",
    "SummarySource",
    "exit_code",
    "job_meta",
    "prompts_hash",
    "run_batch",
    "run_batch_with",
    "state_path_for",
]

EXIT_OK = 0
EXIT_UNSUPPORTED = 3  # every article has a record; some summary holds an unsupported figure
EXIT_STOPPED = 4  # quota or authentication: stopped early, the same command resumes
EXIT_SOME_FAILED = 7  # every article has a record; some are error records

_WRITE_BATCH = 256  # records committed (and appended) together at most
BATCH_ID_KEY = "batch_id"  # meta: the job's identity, made when it starts (or --fresh)


class BatchStopped(BackendError):
    """Raised by a :class:`SummarySource` when no article can go on (the workers' job database
    or broker stopped answering): the run stops as on a quota error, what is done is kept, and
    the same command resumes."""


class ItemFailed(Exception):
    """One article gave no summary, for ``reason``: it becomes an error record (a
    :class:`SummarySource` raises it for failures it has already classified)."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason: Reason = reason


_FATAL = (QuotaExceededError, AuthenticationError, BatchStopped)


class SummarySource(Protocol):
    """Where the runner gets one article's summary: this process (:class:`LocalSummaries`) or
    the workers (:class:`~summariser.batch.remote.RemoteSummaries`).

    ``meta``: what a resumed job must share with the first (besides input and prompts).
    ``ident``: what a summary depends on besides the cleaned text (half of the cache key).
    :meth:`open` is called once per run, with the job's identity, before any article.
    :meth:`summarise` raises :class:`ItemFailed` (an error record), a
    :class:`~summariser.errors.BackendError` (quota, authentication and
    :class:`BatchStopped` stop the run; others are error records), or any error of the
    pipeline.
    """

    @property
    def meta(self) -> Mapping[str, str]: ...

    @property
    def ident(self) -> str: ...

    async def open(self, batch_id: str) -> None: ...

    async def summarise(self, article: Article) -> Summary: ...


class LocalSummaries:
    """Summaries made here: :func:`~summariser.pipeline.asummarise` with ``backend``."""

    def __init__(self, settings: Settings, backend: Backend) -> None:
        self.settings, self.backend = settings, backend

    @property
    def meta(self) -> Mapping[str, str]:
        return {"runner": "in-process", "backend": self.settings.backend, "model": self.model}

    @property
    def model(self) -> str:
        return self.backend.model

    @property
    def ident(self) -> str:
        return f"{self.settings.backend}\0{self.backend.model}\0{prompts_hash()}"

    async def open(self, batch_id: str) -> None:
        return None

    async def summarise(self, article: Article) -> Summary:
        return await asummarise(
            article.text,
            settings=self.settings,
            backend=self.backend,
            source_format=article.source_format,
        )


@dataclass(frozen=True, slots=True)
class BatchJob:
    input: Path
    output: Path
    state: Path | None = None  # default: OUTPUT.state.sqlite
    cache: Path | None = None  # default: the cache table of the state file
    concurrency: int = 8  # articles in flight
    dedupe: bool = False
    fresh: bool = False

    @property
    def state_path(self) -> Path:
        return self.state or state_path_for(self.output)


def state_path_for(output: Path) -> Path:
    return output.with_name(output.name + ".state.sqlite")


@dataclass(slots=True)
class RunStats:
    """What this run did (the writer updates it; progress and the report read it)."""

    total: int | None = None  # items in the input, when known
    already_done: int = 0  # items done by earlier runs (skipped)
    written: int = 0
    ok: int = 0
    errors: int = 0
    cached: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    figures_supported: int = 0
    figures_unsupported: int = 0
    with_unsupported: int = 0
    usage: Usage = field(default_factory=Usage)
    models: Counter[str] = field(default_factory=Counter)  # of new summaries (provenance)
    started: float = field(default_factory=time.perf_counter)
    elapsed_s: float = 0.0


@dataclass(frozen=True, slots=True)
class BatchResult:
    stats: RunStats
    totals: JobTotals
    reconciled: Reconciled
    stopped: BackendError | None
    exit_code: int


def exit_code(totals: JobTotals, stopped: BackendError | None) -> int:
    """4 stopped early; 7 some error records; 3 some unsupported figures; 0 all clean."""
    if stopped is not None:
        return EXIT_STOPPED
    if totals.errors:
        return EXIT_SOME_FAILED
    return EXIT_UNSUPPORTED if totals.with_unsupported else EXIT_OK


def job_meta(job: BatchJob, source: SummarySource) -> dict[str, str]:
    """What a resumed run must share with the first: input, where the summaries are made
    (``runner``: in-process or broker; backend and model in process), prompts."""
    return {"input": str(job.input.resolve()), **source.meta, "prompts": prompts_hash()}


async def run_batch(
    job: BatchJob,
    settings: Settings,
    backend: Backend,
    *,
    on_progress: Callable[[RunStats], None] | None = None,
    on_ready: Callable[[RunStats, Reconciled], None] | None = None,
) -> BatchResult:
    """Run (or resume) ``job`` in this process with ``backend``: see :func:`run_batch_with`."""
    source = LocalSummaries(settings, backend)
    return await run_batch_with(job, source, on_progress=on_progress, on_ready=on_ready)


async def run_batch_with(
    job: BatchJob,
    source: SummarySource,
    *,
    on_progress: Callable[[RunStats], None] | None = None,
    on_ready: Callable[[RunStats, Reconciled], None] | None = None,
) -> BatchResult:
    """Run (or resume) ``job``, its summaries made by ``source``. Bad input, an unwritable
    output or a job of another input, runner, backend or model raises :class:`InputError`
    before any article is sent."""
    store, stats, reconciled, batch_id = _prepare(job, source)
    try:
        if on_ready is not None:
            on_ready(stats, reconciled)
        await source.open(batch_id)
        runner = _Runner(job, source, store, stats, on_progress)
        await runner.run()
        stats.elapsed_s = time.perf_counter() - stats.started
        totals = store.totals()
        return BatchResult(
            stats, totals, reconciled, runner.stopped, exit_code(totals, runner.stopped)
        )
    finally:
        store.close()


# --- preparing -------------------------------------------------------------------------------


def _prepare(job: BatchJob, source: SummarySource) -> tuple[JobStore, RunStats, Reconciled, str]:
    if not job.input.exists():
        raise InputError("no such file or folder", path=str(job.input))
    first = scan(job.input)
    if first.duplicates and not job.dedupe:
        key, line_a, line_b = first.duplicates[0]
        more = f" (and {len(first.duplicates) - 1} more)" if len(first.duplicates) > 1 else ""
        raise InputError(
            f"id {key!r} appears on line {line_a} and line {line_b}{more}; "
            "give each article its own id, or pass --dedupe to keep the first",
            path=str(job.input),
        )
    repeated = len({line for _, _, line in first.duplicates}) if job.dedupe else 0
    items = first.items - repeated
    if items == 0:
        raise InputError("no articles", path=str(job.input))
    check_writable(job.output, source=job.input)
    state = job.state_path
    had_state = state.exists()
    store = JobStore(state, cache_path=job.cache)
    try:
        meta = job_meta(job, source)
        if job.fresh:
            store.reset()
            job.output.open("wb").close()
        elif had_state and store.meta():
            store.check_meta(meta)
        elif not had_state and job.output.exists() and job.output.stat().st_size > 0:
            raise InputError(
                f"exists, and has no job state ({state.name}): pass --fresh to overwrite it",
                path=str(job.output),
            )
        batch_id = store.meta().get(BATCH_ID_KEY) or uuid.uuid4().hex
        store.set_meta({**meta, BATCH_ID_KEY: batch_id})
        reconciled = reconcile(store, job.output)
    except BaseException:
        store.close()
        raise
    return store, RunStats(total=items), reconciled, batch_id


def prompts_hash() -> str:
    """The hash of the extract and reduce prompts (part of the job meta and the cache key)."""
    parts = (load_prompt("extract").sha256, load_prompt("reduce").sha256)
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


# --- running ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Done:
    """One finished item on its way to the writer."""

    record: StoredRecord
    cache_entry: tuple[str, str] | None
    usage: Usage
    cached: bool
    figures: tuple[int, int]  # supported, unsupported
    model: str | None = None  # the model that made a new summary


class _Runner:
    def __init__(
        self,
        job: BatchJob,
        source: SummarySource,
        store: JobStore,
        stats: RunStats,
        on_progress: Callable[[RunStats], None] | None,
    ) -> None:
        self.job, self.source = job, source
        self.store, self.stats, self.on_progress = store, stats, on_progress
        n = max(1, job.concurrency)
        self.workers = n
        self.items: asyncio.Queue[Item | None] = asyncio.Queue(maxsize=2 * n)
        self.done: asyncio.Queue[_Done | None] = asyncio.Queue()
        self.stop = asyncio.Event()
        self.stopped: BackendError | None = None
        self.failure: BaseException | None = None
        self.inflight: dict[str, asyncio.Future[str]] = {}  # cache key -> summary JSON
        self.ident = source.ident

    async def run(self) -> None:
        producer = asyncio.create_task(self._produce())
        writer = asyncio.create_task(self._write())
        workers = [asyncio.create_task(self._work()) for _ in range(self.workers)]
        try:
            await asyncio.gather(*workers)
        finally:
            producer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await producer
            await self.done.put(None)
            await writer
        if self.failure is not None:
            raise self.failure

    async def _produce(self) -> None:
        done = self.store.done_keys()
        try:
            for item in iter_items(self.job.input, dedupe=self.job.dedupe):
                if self.stop.is_set():
                    break
                if item.key in done:
                    self.stats.already_done += 1
                    continue
                await self.items.put(item)
        except Exception as err:  # an unreadable folder mid-walk, say: stop, keep what is done
            self.failure = err
            self.stop.set()
        for _ in range(self.workers):
            await self.items.put(None)

    async def _work(self) -> None:
        while not self.stop.is_set():
            item = await self.items.get()
            if item is None:
                return
            try:
                result = await self._process(item)
            except _FATAL as err:
                if self.stopped is None:
                    self.stopped = err
                self.stop.set()
                return
            await self.done.put(result)

    async def _process(self, item: Item) -> _Done:
        if isinstance(item, BadItem):
            return _error(item, item.reason, item.message)
        try:
            return await self._summarise(item)
        except _FATAL:
            raise
        except ItemFailed as err:
            return _error(item, err.reason, str(err))
        except BackendError as err:
            return _error(item, backend_reason(err), str(err))
        except NoArticleTextError as err:
            return _error(item, "no_article_text", str(err))
        except InputError as err:
            return _error(item, "empty", str(err))
        except Exception as err:  # a bug on one article must not lose the rest of the job
            return _error(item, "internal_error", f"{type(err).__name__}: {err}")

    async def _summarise(self, article: Article) -> _Done:
        cleaned = clean(article.text, format=article.source_format)
        text_hash = hashlib.sha256(cleaned.text.encode()).hexdigest()
        key = hashlib.sha256(f"{text_hash}\0{self.ident}".encode()).hexdigest()
        twin = self.inflight.get(key)
        if twin is not None:
            return _ok(article, await asyncio.shield(twin), cached=True)
        hit = self.store.cache.get(key)
        if hit is not None:
            return _ok(article, hit, cached=True)
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.inflight[key] = future
        try:
            summary = await self.source.summarise(article)
        except asyncio.CancelledError:
            del self.inflight[key]
            future.cancel()
            raise
        except Exception as err:
            del self.inflight[key]
            future.set_exception(err)  # a twin waiting on it gets the same error record
            future.exception()  # marked as retrieved: no warning when there is no twin
            raise
        text = summary.model_dump_json()
        future.set_result(text)  # stays in ``inflight`` until the writer has committed it
        done = _ok(article, text, cached=False)
        usage, model = summary.provenance.usage, summary.provenance.model
        return _Done(done.record, (key, text), usage, False, done.figures, model)

    async def _write(self) -> None:
        with self.job.output.open("ab") as out:
            ended = False
            while not ended:
                batch: list[_Done] = []
                first = await self.done.get()
                if first is None:
                    break
                batch.append(first)
                while len(batch) < _WRITE_BATCH and not self.done.empty():
                    more = self.done.get_nowait()
                    if more is None:
                        ended = True
                        break
                    batch.append(more)
                try:
                    self._commit(batch, out)
                except Exception as err:  # disk full, say: stop feeding, report it
                    self.failure = err
                    self.stop.set()
                    return

    def _commit(self, batch: list[_Done], out: BinaryIO) -> None:
        entries = [d.cache_entry for d in batch if d.cache_entry is not None]
        self.store.add([d.record for d in batch], entries)
        # Only after the commit, in one write: see summariser.batch.store.
        out.write(b"".join(d.record.line.encode() + b"\n" for d in batch))
        out.flush()
        for key, _ in entries:
            self.inflight.pop(key, None)
        stats = self.stats
        for d in batch:
            stats.written += 1
            if d.record.status == "ok":
                stats.ok += 1
                stats.cached += d.cached
                stats.figures_supported += d.figures[0]
                stats.figures_unsupported += d.figures[1]
                stats.with_unsupported += d.figures[1] > 0
                stats.usage = stats.usage + d.usage
                if d.model is not None:
                    stats.models[d.model] += 1
            else:
                stats.errors += 1
                stats.reasons[d.record.reason or "internal_error"] += 1
        stats.elapsed_s = time.perf_counter() - stats.started
        if self.on_progress is not None:
            self.on_progress(stats)


def _ok(article: Article, summary_json: str, *, cached: bool) -> _Done:
    summary: dict[str, Any] = json.loads(summary_json)
    validation = summary.get("validation", {})
    figures = (
        int(validation.get("figures_supported", 0)),
        int(validation.get("figures_unsupported", 0)),
    )
    line = json.dumps(ok_record(article, summary, cached=cached), ensure_ascii=False)
    stored = StoredRecord(article.key, line, "ok", None, figures[1])
    return _Done(stored, None, Usage(), cached, figures)


def _error(item: Item, reason: Reason, message: str) -> _Done:
    line = json.dumps(error_record(item, reason, message), ensure_ascii=False)
    return _Done(StoredRecord(item.key, line, "error", reason), None, Usage(), False, (0, 0))
