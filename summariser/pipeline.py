"""The summarise pipeline: one article in, one checked :class:`~summariser.schema.Summary` out.

Stage: orchestration (async; the backend is injected, so this module imports no network
code). The flow::

    clean -> chunk (token budget) -> per chunk: extract prompt -> backend -> JSON + schema check
          -> validator (re-ask once naming unsupported figures) -> merge -> reduce prompt (long
          articles) -> every figure checked against the whole article -> Summary

Re-asks are one retry layer (tenacity), bounded by attempts and by a token budget, and each
attempt builds a new message tuple: the caller's messages are never mutated. Transport retries
belong to the backend. An answer cut at the token limit is asked again on smaller chunks.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ValidationError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt
from tenacity.stop import stop_base

from summariser import __version__
from summariser.assemble import Answer, build_summary, unsupported_in
from summariser.backends.base import Backend, Completion, CompletionRequest, Message, Purpose
from summariser.backends.pricing import estimate_cost
from summariser.chunking import Chunk, chunk_text
from summariser.cleaning import clean
from summariser.errors import (
    InvalidOutputError,
    OutputTruncatedError,
    RefusalError,
)
from summariser.merge import merge_metrics
from summariser.prompts import PromptTemplate, load_prompt
from summariser.schema import (
    Attempt,
    AttemptOutcome,
    ChunkingInfo,
    Extraction,
    Provenance,
    Reduction,
    Summary,
    Usage,
    strict_json_schema,
)
from summariser.settings import Settings
from summariser.tokens import TokenCounter, encoding_for_model
from summariser.validation import Span

SourceFormatOption = Literal["auto", "text", "markdown", "html"]
Stage = Literal["extract", "reask", "reduce"]
MIN_SPLIT_TOKENS = 256  # below this, an answer cut at the token limit is an error


@dataclass
class _Ledger:
    """Every attempt of one article, for provenance and for the re-ask token budget."""

    attempts: list[Attempt] = field(default_factory=list)

    @property
    def usage(self) -> Usage:
        total = Usage()
        for attempt in self.attempts:
            total = total + attempt.usage
        return total

    @property
    def tokens(self) -> int:
        usage = self.usage
        return usage.prompt_tokens + usage.completion_tokens


class _Reask(Exception):
    """The answer needs another try; ``feedback`` tells the model what was wrong."""

    def __init__(self, feedback: str, content: str | None) -> None:
        super().__init__(feedback)
        self.feedback = feedback
        self.content = content


class _Truncated(Exception):
    """The answer was cut at the token limit."""


@dataclass(frozen=True, slots=True)
class _Run:
    settings: Settings
    backend: Backend
    counter: TokenCounter
    extract: PromptTemplate
    reduce: PromptTemplate
    ledger: _Ledger
    gate: asyncio.Semaphore


async def asummarise(
    text: str,
    *,
    settings: Settings | None = None,
    backend: Backend | None = None,
    source_format: SourceFormatOption = "auto",
) -> Summary:
    """Summarise one article (plain text, Markdown or HTML) and check every figure."""
    settings = settings or Settings()
    if backend is not None:
        return await _summarise(text, settings, backend, source_format)
    from summariser.backends.registry import make_backend  # the edge picks the backend

    made = make_backend(settings)
    try:
        return await _summarise(text, settings, made, source_format)
    finally:
        close = getattr(made, "aclose", None)
        if close is not None:  # a backend we made holds an HTTP client: close it here
            await close()


async def _summarise(
    text: str, settings: Settings, backend: Backend, source_format: SourceFormatOption
) -> Summary:
    started = time.perf_counter()
    article = clean(text, format=source_format)
    run = _Run(
        settings=settings,
        backend=backend,
        counter=encoding_for_model(settings.model),
        extract=load_prompt("extract"),
        reduce=load_prompt("reduce"),
        ledger=_Ledger(),
        gate=asyncio.Semaphore(max(1, settings.concurrency)),
    )
    chunks = chunk_text(
        article.text,
        budget=settings.chunk_tokens,
        overlap=settings.chunk_overlap_tokens,
        count=run.counter.count,
    )
    per_chunk = await asyncio.gather(*(_extract_chunk(run, chunk) for chunk in chunks))
    extractions = [e for group in per_chunk for e in group]
    if len(extractions) == 1:
        only = extractions[0]
        headline, bullets = only.headline, only.bullets
        sentiment, entities = only.sentiment, only.entities
        reduce_ref = None
    else:
        reduction = await _reduce(run, extractions, article.text)
        headline, bullets = reduction.headline, reduction.bullets
        sentiment, entities = reduction.sentiment, reduction.entities
        reduce_ref = run.reduce.ref
    usage = run.ledger.usage
    provenance = Provenance(
        backend=backend.name,
        model=backend.model,
        prompt=run.extract.ref,
        reduce_prompt=reduce_ref,
        chunking=ChunkingInfo(
            encoding=run.counter.name,
            budget_tokens=settings.chunk_tokens,
            overlap_tokens=settings.chunk_overlap_tokens,
            chunks=len(chunks),
        ),
        attempts=run.ledger.attempts,
        usage=usage,
        estimated_cost_usd=estimate_cost(backend.model, usage),
        latency_s=round(time.perf_counter() - started, 6),
        summariser_version=__version__,
    )
    answer = Answer(
        headline=headline,
        bullets=bullets,
        metrics=merge_metrics(extractions),
        sentiment=sentiment,
        entities=entities,
    )
    return build_summary(
        article.text,
        answer,
        provenance,
        source_format=article.format,
        removed_lines=article.removed_lines,
        drop_unsupported=settings.drop_unsupported,
    )


def summarise(
    text: str,
    *,
    settings: Settings | None = None,
    backend: Backend | None = None,
    source_format: SourceFormatOption = "auto",
) -> Summary:
    """The synchronous form of :func:`asummarise` (for scripts; not inside an event loop)."""
    return asyncio.run(
        asummarise(text, settings=settings, backend=backend, source_format=source_format)
    )


async def _extract_chunk(run: _Run, chunk: Chunk) -> list[Extraction]:
    """The extraction of one chunk; an answer cut at the token limit is asked again on the
    chunk's halves, down to MIN_SPLIT_TOKENS."""
    try:
        answer = await _ask(run, run.extract, chunk.text, "extract", chunk.index, chunk.text)
    except _Truncated:
        if chunk.tokens <= MIN_SPLIT_TOKENS:
            raise OutputTruncatedError(
                f"the answer for chunk {chunk.index} was cut at {run.settings.max_output_tokens}"
                " tokens even on a small chunk: raise max_output_tokens",
                provider=run.backend.name,
            ) from None
        halves = chunk_text(
            chunk.text, budget=max(chunk.tokens // 2, 1), overlap=0, count=run.counter.count
        )
        groups = [await _extract_chunk(run, half) for half in halves]
        return [e for group in groups for e in group]
    assert isinstance(answer, Extraction)
    return [answer]


async def _reduce(run: _Run, extractions: Sequence[Extraction], article: str) -> Reduction:
    notes = json.dumps(
        {
            "headlines": [e.headline for e in extractions],
            "bullets": [b for e in extractions for b in e.bullets],
            "sentiments": [e.sentiment.model_dump() for e in extractions],
            "entities": [x.model_dump() for e in extractions for x in e.entities],
        },
        ensure_ascii=False,
    )
    try:
        answer = await _ask(run, run.reduce, notes, "reduce", None, article)
    except _Truncated:
        raise OutputTruncatedError(
            "the reduce answer was cut at the token limit: raise max_output_tokens",
            provider=run.backend.name,
        ) from None
    assert isinstance(answer, Reduction)
    return answer


async def _ask(
    run: _Run,
    template: PromptTemplate,
    data: str,
    purpose: Purpose,
    chunk: int | None,
    source: str,
) -> BaseModel:
    """One answer that fits the template's schema, with bounded re-asks: for invalid JSON or
    schema errors (up to ``max_reasks``), and once for figures the source does not support."""
    conversation = template.render(data)
    state = _AskState()
    retrying = AsyncRetrying(
        stop=stop_after_attempt(run.settings.max_reasks + 2) | _BudgetSpent(run),
        retry=retry_if_exception_type(_Reask),
        reraise=True,
    )
    try:
        async for attempt in retrying:
            with attempt:
                messages = conversation + state.followups
                stage: Stage = "reask" if state.followups else purpose
                completion = await _call(run, template, messages, data, purpose)
                return _judge(run, template, completion, state, stage, chunk, source)
    except _Reask as err:
        if state.best is not None:
            return state.best  # the figure re-ask failed to parse: keep the valid first answer
        raise InvalidOutputError(
            f"no valid {template.schema} after {len(run.ledger.attempts)} attempts: {err}",
            last_output=err.content,
            provider=run.backend.name,
            attempts=len(run.ledger.attempts),
        ) from None
    raise AssertionError("unreachable: tenacity either returns or raises")


@dataclass
class _AskState:
    followups: tuple[Message, ...] = ()
    best: BaseModel | None = None
    figures_reasked: bool = False


def _judge(
    run: _Run,
    template: PromptTemplate,
    completion: Completion,
    state: _AskState,
    stage: Stage,
    chunk: int | None,
    source: str,
) -> BaseModel:
    """Accept the answer, or record why not and raise _Reask / _Truncated / RefusalError."""

    def record(outcome: AttemptOutcome, detail: str | None = None) -> None:
        run.ledger.attempts.append(
            Attempt(
                stage=stage,
                chunk=chunk,
                outcome=outcome,
                finish_reason=completion.finish_reason,
                usage=completion.usage,
                latency_s=round(completion.latency_s, 6),
                detail=detail,
            )
        )

    if completion.refusal is not None or completion.finish_reason == "content_filter":
        record("refusal", completion.refusal)
        raise RefusalError(
            f"the model refused: {completion.refusal or 'content filter'}",
            provider=run.backend.name,
            attempts=len(run.ledger.attempts),
        )
    if completion.finish_reason == "length":
        record("truncated")
        raise _Truncated()
    content = completion.content or ""
    try:
        answer = template.schema_model.model_validate_json(content)
    except ValidationError as err:
        outcome: AttemptOutcome = "invalid_json" if _json_error(err) else "schema_error"
        detail = _short(err)
        record(outcome, detail)
        state.followups = (
            *state.followups,
            Message("assistant", content),
            Message(
                "user",
                f"That answer is not valid for the schema: {detail}. Answer again with one JSON "
                "object that follows the schema, and nothing else.",
            ),
        )
        raise _Reask(detail, content) from None
    unsupported = unsupported_in(source, _figure_texts(answer))
    if unsupported and not state.figures_reasked:
        record("unsupported_figures", ", ".join(text for text, _ in unsupported))
        state.best, state.figures_reasked = answer, True
        state.followups = (
            *state.followups,
            Message("assistant", content),
            Message("user", _figures_feedback(unsupported, source)),
        )
        raise _Reask("unsupported figures", content)
    record("ok")
    return answer


async def _call(
    run: _Run,
    template: PromptTemplate,
    messages: tuple[Message, ...],
    data: str,
    purpose: Purpose,
) -> Completion:
    request = CompletionRequest(
        messages=messages,
        schema_name=template.schema.lower(),
        json_schema=strict_json_schema(template.schema_model),
        purpose=purpose,
        data=data,
        max_tokens=run.settings.max_output_tokens,
    )
    async with run.gate:
        return await run.backend.complete(request)


class _BudgetSpent(stop_base):
    """Stop re-asking once the article's attempts have used the token budget."""

    def __init__(self, run: _Run) -> None:
        self.run = run

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.run.ledger.tokens >= self.run.settings.reask_token_budget


def _figure_texts(answer: BaseModel) -> list[str]:
    texts: list[str] = []
    if isinstance(answer, Extraction | Reduction):
        texts += [answer.headline, *answer.bullets]
    if isinstance(answer, Extraction):
        for metric in answer.metrics:
            texts.append(metric.value)
            if metric.change is not None:
                texts.append(metric.change.value)
    return texts


def _figures_feedback(unsupported: list[tuple[str, list[Span]]], source: str) -> str:
    lines = []
    for text, hints in unsupported[:12]:
        nearby = "; ".join(_sentence_around(source, h) for h in hints[:2])
        lines.append(
            f"- {text!r} is not in the article" + (f" (nearby: {nearby})" if nearby else "")
        )
    return (
        "Some figures in your answer are not in the article:\n"
        + "\n".join(lines)
        + "\nCorrect each one with the figure the article states, copied as written, or remove "
        "it. Answer again with the whole JSON object."
    )


def _sentence_around(source: str, span: Span) -> str:
    start, end = span.start, span.end
    left = max(source.rfind(". ", 0, start), source.rfind("\n", 0, start)) + 1
    right_candidates = [i for i in (source.find(". ", end), source.find("\n", end)) if i >= 0]
    right = min(right_candidates) + 1 if right_candidates else len(source)
    return " ".join(source[left:right].split())[:300]


def _json_error(err: ValidationError) -> bool:
    return any(e.get("type") == "json_invalid" for e in err.errors())


def _short(err: ValidationError) -> str:
    errors = err.errors()
    if not errors:
        return str(err)[:300]
    where = ".".join(str(p) for p in errors[0]["loc"])
    message = errors[0]["msg"]
    return f"{where}: {message}"[:300] if where else message[:300]
