"""Provider batch files: summaries through the OpenAI Batch API (half price, within 24 hours),
or through vLLM's ``run_batch`` on a local GPU.

Stage: batch (edge: files, SQLite state and the provider's Files and Batches endpoints). In:
an input (JSONL or folder, read by :mod:`summariser.batch.inputs`) and a work folder. Out:
request files, the job's state (:mod:`summariser.batch.provider_state`) and, once the
results are in, one record per article in the same format as the online batch::

    {"id", "status": "ok", "summary": {...}, "metadata": {...}}
    {"id", "status": "error", "reason", "message", "metadata": {...}}

The flow, each step one command, runnable days apart::

    submit   clean -> chunk -> one extract request per chunk -> requests.map.jsonl
             -> upload (purpose "batch") -> create batch
    status   poll the batches (--wait: until they end)
    collect  download output and error files -> each answer checked as online (schema,
             figures against its chunk) -> single-chunk articles assembled; multi-chunk ones
             get a reduce request (requests.reduce.jsonl, a second batch) that a later
             collect finishes -> every figure checked against the whole article -> OUTPUT

Each request body is the online backend's request (model, messages, strict ``json_schema``,
``max_tokens``, ``temperature``). A file holds at most 50,000 requests and 200 MB (the
Batch API's limits); more make several files and batches. A failed or invalid answer is
recorded; with ``--resubmit`` it goes into a new batch (at most ``MAX_ATTEMPTS`` in all; an
invalid answer is sent back with the online re-ask's feedback), otherwise the article gets
an error record. Unlike online mode an answer with unsupported figures is not re-asked: its
figures are marked unsupported in the summary, as the validator says.

vLLM::

    summariser batch submit articles.jsonl --work job --model M --dry-run
    python -m vllm.entrypoints.openai.run_batch -i job/requests.map.jsonl -o map.out.jsonl \\
        --model M
    summariser batch collect --work job -o summaries.jsonl --results map.out.jsonl
    # long articles: collect wrote job/requests.reduce.jsonl; run it the same way, then
    summariser batch collect --work job -o summaries.jsonl --results reduce.out.jsonl

Cost: Batch API prices are half the list prices, so ``estimated_cost_usd`` is half the
online estimate (None for a local job). ``latency_s`` is 0: a batch has no per-request time.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from summariser.batch import provider_results as results
from summariser.batch.provider_results import Limits, RequestFiles, judge, request_line
from summariser.batch.provider_state import JobState, Phase
from summariser.batch.store import cut_torn_tail
from summariser.chunking import chunk_text
from summariser.cleaning import clean
from summariser.errors import InputError
from summariser.prompts import load_prompt
from summariser.settings import Settings
from summariser.tokens import encoding_for_model

if TYPE_CHECKING:  # the SDK is imported when a command talks to the API, not at CLI start
    from openai import AsyncOpenAI

__all__ = ["MAX_ATTEMPTS", "Limits", "collect", "poll", "register", "submit"]

MAX_ATTEMPTS = 3  # per request, the first included
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
Sleep = Callable[[float], Awaitable[None]]
T = TypeVar("T")
DEFAULT_LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class CollectReport:
    written: int  # records written to the output by this collect
    waiting: int  # articles whose requests are still in a batch (or a local file)
    submitted: list[str]  # request files written for reduce requests and resubmissions


# --- submit ---------------------------------------------------------------------------------


async def submit(
    source: Path,
    work: Path,
    settings: Settings,
    client: AsyncOpenAI | None,
    *,
    completion_window: str = "24h",
    limits: Limits = DEFAULT_LIMITS,
) -> list[Path]:
    """Write the map request files for ``source`` into ``work`` and, with a client, create a
    batch for each. Without a client (``--dry-run``) the files wait for vLLM. Returns them."""
    state = JobState(work)
    try:
        if state.meta("mode"):
            raise InputError("already holds a job: use status and collect", path=str(work))
        counter = encoding_for_model(settings.model)
        extract = load_prompt("extract")
        state.set_meta(
            mode="api" if client is not None else "local",
            model=settings.model,
            base_url=settings.base_url or "",
            completion_window=completion_window,
            chunk_tokens=str(settings.chunk_tokens),
            overlap_tokens=str(settings.chunk_overlap_tokens),
            max_output_tokens=str(settings.max_output_tokens),
            encoding=counter.name,
            extract_ref=extract.ref.model_dump_json(),
        )
        files = RequestFiles(work, "map", limits)
        for key, item_id, text, metadata, source_format in _items(source, state):
            try:
                article = clean(text, format=source_format)
            except InputError as err:
                reason = "empty" if "empty" in str(err) else "no_article_text"
                state.add_article(key, item_id, metadata, status="error", reason=reason,
                                  message=str(err))  # fmt: skip
                continue
            chunks = chunk_text(
                article.text,
                budget=settings.chunk_tokens,
                overlap=settings.chunk_overlap_tokens,
                count=counter.count,
            )
            digest = hashlib.sha256(article.text.encode("utf-8")).hexdigest()
            if not state.add_article(
                key, item_id, metadata, text=article.text, sha256=digest, format=article.format,
                removed_lines=article.removed_lines, chunks=len(chunks),
            ):  # fmt: skip
                _say(f"{source}: id {key!r} repeats an earlier one: skipped")
                continue
            for chunk in chunks:
                custom_id = f"{key}#{chunk.index}"
                state.add_request(custom_id, key, "map", chunk.index, chunk.text)
                files.add(custom_id, request_line(custom_id, extract, chunk.text, settings))
        written = files.close()
        await _send(state, client, written, "map")
        return [path for path, _ in written]
    finally:
        state.close()


def _items(
    source: Path, state: JobState
) -> Iterator[tuple[str, str | int, str, dict[str, Any], Any]]:
    """The one place that reads :mod:`summariser.batch.inputs`: articles to summarise, as
    (key, id, text, metadata, format); a bad item is recorded as an error article here."""
    from summariser.batch.inputs import Article, iter_items

    for item in iter_items(source):
        if isinstance(item, Article):
            yield item.key, item.id, item.text, item.metadata, item.source_format
        elif not state.add_article(item.key, item.id, item.metadata, status="error",
                                   reason=item.reason, message=item.message):  # fmt: skip
            _say(f"{source}: id {item.key!r} repeats an earlier one: skipped")


async def _send(
    state: JobState,
    client: AsyncOpenAI | None,
    files: list[tuple[Path, list[str]]],
    phase: Phase,
) -> None:
    """Upload each file and create its batch; locally, mark its requests as handed over."""
    for path, custom_ids in files:
        batch_id = path.name
        if client is not None:
            window = state.meta("completion_window", "24h")
            uploaded = await _api(client.files.create(file=path, purpose="batch"))
            batch = await _api(
                client.batches.create(
                    input_file_id=uploaded.id,
                    endpoint="/v1/chat/completions",  # ENDPOINT, as the SDK types it
                    completion_window=window,  # type: ignore[arg-type]
                )
            )
            batch_id = batch.id
            state.add_batch(batch.id, phase, path.name, uploaded.id)
        for custom_id in custom_ids:
            state.set_request(custom_id, status="submitted", batch=batch_id)


async def _api(call: Awaitable[T]) -> T:
    """One SDK call, its errors translated where the online backend translates them."""
    import openai

    from summariser.backends.openai import _translate

    try:
        return await call
    except openai.OpenAIError as err:
        raise _translate(err) from err


# --- status ---------------------------------------------------------------------------------


async def poll(
    work: Path,
    client: AsyncOpenAI,
    *,
    wait: bool = False,
    interval: float = 60.0,
    sleep: Sleep = asyncio.sleep,
) -> list[tuple[str, str, str, dict[str, int]]]:
    """Each batch's (id, phase, status, request counts), refreshed from the provider; with
    ``wait``, polled every ``interval`` seconds until every batch has ended."""
    state = _open(work)
    try:
        while True:
            await _refresh(state, client)
            rows = state.batches()
            if not wait or all(b.status in TERMINAL for b in rows):
                return [(b.id, b.phase, b.status, b.counts) for b in rows]
            await sleep(interval)
    finally:
        state.close()


async def _refresh(state: JobState, client: AsyncOpenAI) -> None:
    for row in state.batches():
        if row.status in TERMINAL:
            continue
        batch = await _api(client.batches.retrieve(row.id))
        counts = batch.request_counts
        state.update_batch(
            row.id,
            batch.status,
            batch.output_file_id,
            batch.error_file_id,
            {"total": counts.total, "completed": counts.completed, "failed": counts.failed}
            if counts
            else {},
        )


# --- collect --------------------------------------------------------------------------------


async def collect(
    work: Path,
    output: Path,
    client: AsyncOpenAI | None,
    *,
    results_file: Path | None = None,
    resubmit: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> CollectReport:
    """Read the results that are in, finish what can be finished, write it to ``output``
    (each article once, however often this runs) and queue reduce requests and
    resubmissions (sent as new batches with a client, else left as files for vLLM)."""
    state = _open(work)
    try:
        mode = state.meta("mode")
        client = client if mode == "api" else None
        if results_file is not None:
            _take_all(state, _read_lines(results_file.read_bytes(), str(results_file)))
        elif client is not None:
            await _refresh(state, client)
            for batch in state.batches():
                if batch.collected or batch.status not in TERMINAL:
                    continue
                for file_id in (batch.output_file_id, batch.error_file_id):
                    if file_id:
                        content = await _api(client.files.content(file_id))
                        _take_all(state, _read_lines(content.content, file_id))
                state.mark_collected(batch.id)
        settings = _settings(state)
        queued: dict[Phase, RequestFiles] = {}
        written = waiting = 0
        present = _ids_in_output(output)
        with output.open("a", encoding="utf-8") as out:
            for article in state.articles(written=False):
                if article.id in present:  # written by a collect killed before it noted so
                    state.mark_written(article.id)
                    continue
                record = results.settle(state, article, settings, resubmit, MAX_ATTEMPTS, queued,
                                        limits, paid=mode == "api")  # fmt: skip
                if record is None:
                    waiting += 1
                    continue
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                out.flush()
                state.mark_written(article.id)
                written += 1
        sent: list[str] = []
        for phase, files in queued.items():
            closed = files.close()
            await _send(state, client, closed, phase)
            sent += [str(path) for path, _ in closed]
        return CollectReport(written=written, waiting=waiting, submitted=sent)
    finally:
        state.close()


def _take_all(state: JobState, lines: Iterator[dict[str, Any]]) -> None:
    """Join result lines to their requests by ``custom_id`` and judge each answer."""
    for line in lines:
        custom_id = line.get("custom_id")
        request = state.request(custom_id) if isinstance(custom_id, str) else None
        if request is None or request.status != "submitted":
            continue  # not ours, or a stale answer to an earlier attempt
        source = request.data if request.phase == "map" else state.article(request.article).text
        verdict = judge(request, line, source or "")
        state.add_attempt(request, verdict.attempt)
        state.set_request(
            request.custom_id,
            status="ok" if verdict.answer is not None else "failed",
            answer=verdict.answer,
            feedback=verdict.feedback,
        )


def _read_lines(data: bytes, name: str) -> Iterator[dict[str, Any]]:
    for number, raw in enumerate(data.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError as err:
            raise InputError(f"not a JSON result line: {err}", path=name, line=number) from err
        if isinstance(line, dict):
            yield line


def _settings(state: JobState) -> Settings:
    return Settings(
        backend="openai",
        model=state.meta("model"),
        base_url=state.meta("base_url") or None,
        chunk_tokens=int(state.meta("chunk_tokens", "3000")),
        chunk_overlap_tokens=int(state.meta("overlap_tokens", "100")),
        max_output_tokens=int(state.meta("max_output_tokens", "2048")),
    )


def _open(work: Path) -> JobState:
    if not (work / "provider-state.sqlite").is_file():
        raise InputError("holds no provider batch job (run `summariser batch submit`)",
                         path=str(work))  # fmt: skip
    return JobState(work)


# --- the commands ---------------------------------------------------------------------------


def _ids_in_output(output: Path) -> set[str]:
    """The ids already in ``output``, after cutting a line a killed collect left half-written."""
    if not output.exists():
        return set()
    ids: set[str] = set()
    with output.open("r+b") as stream:
        cut_torn_tail(stream)
        stream.seek(0)
        for raw in stream:
            try:
                ids.add(str(json.loads(raw)["id"]))
            except (ValueError, KeyError, TypeError):
                continue  # not a record of ours: left alone, never duplicated
    return ids


def make_client(settings: Settings) -> AsyncOpenAI:
    """The SDK client for the Files and Batches endpoints, as the online backend builds it."""
    from openai import AsyncOpenAI, DefaultAsyncHttpxClient

    from summariser.backends.openai import no_retry_on_insufficient_quota

    return AsyncOpenAI(
        api_key=settings.api_key or "sk-no-key-required",
        base_url=settings.base_url,
        timeout=settings.timeout_s,
        max_retries=settings.max_retries,
        http_client=no_retry_on_insufficient_quota(DefaultAsyncHttpxClient()),
    )


def _say(message: str) -> None:
    print(f"summariser: {message}", file=sys.stderr)


def register(batch_app: typer.Typer) -> None:
    """Add ``submit``, ``status`` and ``collect`` to the ``summariser batch`` group (the
    commands live in :mod:`summariser.batch.provider_commands`)."""
    from summariser.batch.provider_commands import register as register_commands

    register_commands(batch_app)
