"""Provider batch requests and results: the lines that go out, the verdict on what comes back,
and what each article's requests add up to.

Stage: batch (local files and the job's state; no network). In: prompt templates, chunk texts,
the provider's result lines (``{"custom_id", "response": {"status_code", "body"}, "error"}``,
as the OpenAI Batch API and vLLM's ``run_batch`` write them). Out: request lines (the online
backend's request body), a :class:`Verdict` per result (checked as online: schema, then every
figure against its source), and, per article, an output record or the next request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from summariser import __version__
from summariser.assemble import Answer, build_summary, unsupported_in
from summariser.backends.base import Message
from summariser.backends.pricing import estimate_cost
from summariser.batch.provider_state import ArticleRow, JobState, Phase, RequestRow
from summariser.merge import merge_metrics
from summariser.prompts import PromptTemplate, load_prompt
from summariser.reask import Stage, _figure_texts, _json_error, _short
from summariser.schema import (
    Attempt,
    AttemptOutcome,
    ChunkingInfo,
    Extraction,
    PromptRef,
    Provenance,
    Reduction,
    SourceFormat,
    Usage,
    strict_json_schema,
)
from summariser.settings import Settings

ENDPOINT = "/v1/chat/completions"
BACKEND = "openai-batch"
BATCH_DISCOUNT = 0.5  # Batch API prices are half the list prices
_FORMATS: dict[str, SourceFormat] = {"text": "text", "markdown": "markdown", "html": "html"}
_REASONS: dict[AttemptOutcome, str] = {
    "invalid_json": "invalid_output",
    "schema_error": "invalid_output",
    "refusal": "refusal",
    "truncated": "truncated",
}


@dataclass(frozen=True, slots=True)
class Limits:
    """What one request file may hold (the Batch API's limits, 200 MB read as 200e6 bytes)."""

    max_requests: int = 50_000
    max_bytes: int = 200_000_000


@cache
def _schema(template: PromptTemplate) -> dict[str, Any]:
    return strict_json_schema(template.schema_model)


def request_line(
    custom_id: str,
    template: PromptTemplate,
    data: str,
    settings: Settings,
    followups: tuple[Message, ...] = (),
) -> dict[str, Any]:
    """One line of a request file: the online backend's request for ``data``, rendered anew
    (a new tuple each time: no shared message list is ever changed)."""
    messages = (*template.render(data), *followups)
    return {
        "custom_id": custom_id,
        "method": "POST",
        "url": ENDPOINT,
        "body": {
            "model": settings.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "temperature": 0.0,  # CompletionRequest's default, as online
            "max_tokens": settings.max_output_tokens,
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": template.schema.lower(),
                    "schema": _schema(template),
                    "strict": True,
                },
            },
        },
    }


@dataclass
class RequestFiles:
    """Request lines written to ``requests.<phase>[.<n>].jsonl`` in ``work``, a new file
    whenever the next line would pass a limit. ``close`` returns each file with its ids."""

    work: Path
    phase: Phase
    limits: Limits
    _done: list[tuple[Path, list[str]]] = field(default_factory=list)
    _ids: list[str] = field(default_factory=list)
    _bytes: int = 0
    _path: Path | None = None

    def add(self, custom_id: str, line: dict[str, Any]) -> None:
        data = (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8")
        full = len(self._ids) >= self.limits.max_requests
        if self._path is None or full or self._bytes + len(data) > self.limits.max_bytes:
            self._roll()
        assert self._path is not None
        with self._path.open("ab") as out:
            out.write(data)
        self._ids.append(custom_id)
        self._bytes += len(data)

    def close(self) -> list[tuple[Path, list[str]]]:
        self._roll(start=False)
        return self._done

    def _roll(self, *, start: bool = True) -> None:
        if self._path is not None and self._ids:
            self._done.append((self._path, self._ids))
        self._ids, self._bytes, self._path = [], 0, None
        if start:
            n = 1
            while (path := self.work / _file_name(self.phase, n)).exists():
                n += 1
            path.touch()
            self._path = path


def _file_name(phase: Phase, n: int) -> str:
    return f"requests.{phase}.jsonl" if n == 1 else f"requests.{phase}.{n}.jsonl"


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Verdict:
    attempt: Attempt
    answer: str | None  # the accepted answer's JSON
    feedback: str | None  # for an invalid answer: what a resubmission tells the model


def judge(request: RequestRow, line: dict[str, Any], source: str) -> Verdict:
    """The verdict on one result line: as the online re-ask loop judges an answer, except
    that unsupported figures are recorded, not re-asked (they stay marked in the summary)."""
    stage: Stage = (
        "reduce" if request.phase == "reduce" else "reask" if request.feedback else "extract"
    )

    def verdict(
        outcome: AttemptOutcome,
        detail: str | None = None,
        *,
        usage: Usage | None = None,
        finish: str | None = None,
        answer: str | None = None,
        feedback: str | None = None,
    ) -> Verdict:
        attempt = Attempt(stage=stage, chunk=request.chunk, outcome=outcome, finish_reason=finish,
                          usage=usage or Usage(), latency_s=0.0, detail=detail)  # fmt: skip
        return Verdict(attempt, answer, feedback)

    response = line.get("response") or {}
    body = response.get("body") if isinstance(response, dict) else None
    if line.get("error") or not isinstance(body, dict) or response.get("status_code") != 200:
        return verdict("error", _error_message(line, body))
    try:
        from openai.types.chat import ChatCompletion  # the SDK loads when results are read

        from summariser.backends.openai import _usage

        completion = ChatCompletion.model_validate(body)
    except ValidationError:
        return verdict("error", "the result body is not a chat completion")
    if not completion.choices:
        return verdict("error", "the server answered with no choices")
    choice = completion.choices[0]
    usage, finish = _usage(completion.usage), choice.finish_reason
    if choice.message.refusal is not None or finish == "content_filter":
        return verdict("refusal", choice.message.refusal or "content filter", usage=usage,
                       finish=finish)  # fmt: skip
    if finish == "length":
        return verdict("truncated", usage=usage, finish=finish)
    content = choice.message.content or ""
    model: type[BaseModel] = Reduction if request.phase == "reduce" else Extraction
    try:
        answer = model.model_validate_json(content)
    except ValidationError as err:
        outcome: AttemptOutcome = "invalid_json" if _json_error(err) else "schema_error"
        feedback = json.dumps({"content": content, "detail": _short(err)})
        return verdict(outcome, _short(err), usage=usage, finish=finish, feedback=feedback)
    unsupported = unsupported_in(source, _figure_texts(answer))
    if unsupported:
        detail = ", ".join(text for text, _ in unsupported)
        return verdict("unsupported_figures", detail, usage=usage, finish=finish,
                       answer=answer.model_dump_json())  # fmt: skip
    return verdict("ok", usage=usage, finish=finish, answer=answer.model_dump_json())


def _error_message(line: dict[str, Any], body: object) -> str:
    for holder in (line.get("error"), body.get("error") if isinstance(body, dict) else None):
        if isinstance(holder, dict) and holder.get("message"):
            return str(holder["message"])[:300]
    status = (line.get("response") or {}).get("status_code")
    return f"the request failed (HTTP {status})" if status else "the request failed"


def _followups(request: RequestRow) -> tuple[Message, ...]:
    """The online re-ask's feedback for an invalid answer (none for a failed request)."""
    if not request.feedback:
        return ()
    said = json.loads(request.feedback)
    return (
        Message("assistant", said["content"]),
        Message(
            "user",
            f"That answer is not valid for the schema: {said['detail']}. Answer again with one "
            "JSON object that follows the schema, and nothing else.",
        ),
    )


# --- articles ---------------------------------------------------------------------------------


def settle(
    state: JobState,
    article: ArticleRow,
    settings: Settings,
    resubmit: bool,
    max_attempts: int,
    queued: dict[Phase, RequestFiles],
    limits: Limits,
    *,
    paid: bool,
) -> dict[str, Any] | None:
    """The article's output record once it is finished; else None, after queueing its reduce
    request or its resubmissions when they are due."""
    base = {"id": article.item_id}
    if article.status == "error":
        return {**base, "status": "error", "reason": article.reason, "message": article.message,
                "metadata": article.metadata}  # fmt: skip
    requests = state.requests(article=article.id)
    if any(r.status in ("pending", "submitted") for r in requests):
        return None
    failed = [r for r in requests if r.status == "failed"]
    if failed:
        if resubmit and all(r.attempt < max_attempts for r in failed):
            for request in failed:
                state.set_request(request.custom_id, status="pending", attempt=request.attempt + 1)
                template = load_prompt("extract" if request.phase == "map" else "reduce")
                line = request_line(request.custom_id, template, request.data, settings,
                                    _followups(request))  # fmt: skip
                _files(queued, request.phase, state, limits).add(request.custom_id, line)
            return None
        last = state.attempts(article.id)[-1]
        return {**base, "status": "error", "reason": _REASONS.get(last.outcome, "backend_error"),
                "message": f"chunk {last.chunk}: {last.detail or last.outcome}"
                if last.chunk is not None else f"reduce: {last.detail or last.outcome}",
                "metadata": article.metadata}  # fmt: skip
    maps = sorted((r for r in requests if r.phase == "map"), key=lambda r: r.chunk or 0)
    extractions = [Extraction.model_validate_json(r.answer or "") for r in maps]
    reduces = [r for r in requests if r.phase == "reduce"]
    if len(extractions) > 1 and not reduces:
        custom_id = f"{article.id}#reduce"
        notes = reduce_notes(extractions)
        state.add_request(custom_id, article.id, "reduce", None, notes)
        line = request_line(custom_id, load_prompt("reduce"), notes, settings)
        _files(queued, "reduce", state, limits).add(custom_id, line)
        state.set_article(article.id, "reducing")
        return None
    summary = _summary(state, article, extractions, reduces, settings, paid=paid)
    state.set_article(article.id, "done")
    return {**base, "status": "ok", "summary": summary, "metadata": article.metadata}


def _files(
    queued: dict[Phase, RequestFiles], phase: Phase, state: JobState, limits: Limits
) -> RequestFiles:
    if phase not in queued:
        queued[phase] = RequestFiles(state.path.parent, phase, limits)
    return queued[phase]


def reduce_notes(extractions: list[Extraction]) -> str:
    """The reduce prompt's notes: the same JSON as the online pipeline's ``_reduce``."""
    return json.dumps(
        {
            "headlines": [e.headline for e in extractions],
            "bullets": [b for e in extractions for b in e.bullets],
            "sentiments": [e.sentiment.model_dump() for e in extractions],
            "entities": [x.model_dump() for e in extractions for x in e.entities],
        },
        ensure_ascii=False,
    )


def _summary(
    state: JobState,
    article: ArticleRow,
    extractions: list[Extraction],
    reduces: list[RequestRow],
    settings: Settings,
    *,
    paid: bool,
) -> dict[str, Any]:
    if reduces:
        top: Extraction | Reduction = Reduction.model_validate_json(reduces[0].answer or "")
        reduce_ref: PromptRef | None = load_prompt("reduce").ref
    else:
        top, reduce_ref = extractions[0], None
    attempts = state.attempts(article.id)
    usage = sum((a.usage for a in attempts), Usage())
    cost = estimate_cost(settings.model, usage) if paid else None
    provenance = Provenance(
        backend=BACKEND,
        model=settings.model,
        prompt=PromptRef.model_validate_json(state.meta("extract_ref")),
        reduce_prompt=reduce_ref,
        chunking=ChunkingInfo(
            encoding=state.meta("encoding"),
            budget_tokens=settings.chunk_tokens,
            overlap_tokens=settings.chunk_overlap_tokens,
            chunks=article.chunks,
        ),
        attempts=attempts,
        usage=usage,
        estimated_cost_usd=None if cost is None else cost * BATCH_DISCOUNT,
        latency_s=0.0,
        summariser_version=__version__,
    )
    answer = Answer(
        headline=top.headline,
        bullets=top.bullets,
        metrics=merge_metrics(extractions),
        sentiment=top.sentiment,
        entities=top.entities,
    )
    summary = build_summary(
        article.text or "",
        answer,
        provenance,
        source_format=_FORMATS.get(article.format or "", "text"),
        removed_lines=article.removed_lines,
        drop_unsupported=settings.drop_unsupported,
    )
    return summary.model_dump(mode="json")
