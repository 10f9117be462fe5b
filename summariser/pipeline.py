"""The summarise pipeline: one article in, one checked :class:`~summariser.schema.Summary` out.

Stage: orchestration (async; the backend is injected, so this module imports no network
code). In: an article (plain text, Markdown or HTML), settings, optionally a backend. Out: a
:class:`~summariser.schema.Summary` whose figures were each checked against the whole article,
with its provenance (prompts, chunking, every attempt, usage, cost, latency). The flow::

    clean -> chunk (token budget) -> per chunk: extract prompt -> backend -> JSON + schema check
          -> validator (re-ask once naming unsupported figures) -> merge -> reduce prompt (long
          articles) -> every figure checked against the whole article -> Summary

Asking for one answer, with its bounded re-asks and the ledger of attempts, is
:mod:`summariser.reask`; this module is the flow around it. An answer cut at the token limit
is asked again on smaller chunks.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from summariser import __version__
from summariser.assemble import Answer, build_summary
from summariser.backends.base import Backend
from summariser.backends.pricing import estimate_cost
from summariser.chunking import Chunk, chunk_text
from summariser.cleaning import clean
from summariser.errors import OutputTruncatedError
from summariser.merge import merge_metrics
from summariser.prompts import PromptTemplate, load_prompt
from summariser.reask import Stage, _ask, _Ledger, _Truncated
from summariser.schema import ChunkingInfo, Extraction, Provenance, Reduction, Summary
from summariser.settings import Settings
from summariser.tokens import TokenCounter, encoding_for_model

__all__ = ["MIN_SPLIT_TOKENS", "SourceFormatOption", "Stage", "asummarise", "summarise"]

SourceFormatOption = Literal["auto", "text", "markdown", "html"]
MIN_SPLIT_TOKENS = 256  # below this, an answer cut at the token limit is an error


@dataclass(frozen=True, slots=True)
class _Run:
    """One article's run: what every ask needs (see ``summariser.reask._Asking``), and more."""

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
