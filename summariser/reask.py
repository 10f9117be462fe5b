"""Re-asks: one validated answer from the backend, every attempt recorded.

Stage: orchestration (async; the backend is injected, so this module imports no network
code). In: a prompt template, the data to render into it, the source its figures must come
from, and the run (settings, backend, ledger, concurrency gate). Out: one answer that fits the
template's schema, with each attempt (outcome, finish reason, usage, latency) appended to the
run's ledger; or ``_Truncated`` when the answer was cut at the token limit (the pipeline asks
again on smaller chunks), ``RefusalError``, or ``InvalidOutputError`` once the re-asks are spent.

Re-asks are one retry layer (tenacity), bounded by attempts (``max_reasks``) and by the
article's token budget (``reask_token_budget``): for invalid JSON or schema errors, and once for
figures the source does not support, naming them with the sentence around the nearest figure.
Each attempt builds a new message tuple: the caller's messages are never mutated. Transport
retries belong to the backend.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Literal, Protocol

from pydantic import BaseModel, ValidationError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt
from tenacity.stop import stop_base

from summariser.assemble import unsupported_in
from summariser.backends.base import Backend, Completion, CompletionRequest, Message, Purpose
from summariser.errors import InvalidOutputError, RefusalError
from summariser.prompts import PromptTemplate
from summariser.schema import (
    Attempt,
    AttemptOutcome,
    Extraction,
    Reduction,
    Usage,
    strict_json_schema,
)
from summariser.settings import Settings
from summariser.validation import Span

Stage = Literal["extract", "reask", "reduce"]


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


class _Asking(Protocol):
    """What asking needs of a run (the pipeline's ``_Run`` is one)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def backend(self) -> Backend: ...
    @property
    def ledger(self) -> _Ledger: ...
    @property
    def gate(self) -> asyncio.Semaphore: ...


async def _ask(
    run: _Asking,
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
    run: _Asking,
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
    run: _Asking,
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

    def __init__(self, run: _Asking) -> None:
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
