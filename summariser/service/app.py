"""The HTTP API: ``POST /v1/summaries``, ``GET /v1/summaries/{id}``, health, readiness, metrics.

Stage: service edge (HTTP, async). In: JSON requests (an article's text or URL), bearer API
keys, :class:`~summariser.service.settings.ServiceSettings` and the pipeline's
:class:`~summariser.Settings`, both built by the caller (``summariser serve`` or a test), and
optionally a backend. Out: the :class:`~summariser.schema.Summary` JSON (``200``, small inputs
that finish within ``sync_timeout_s``) or a job to poll (``202``), and RFC 9457 problem
details (``application/problem+json``) for every error. ``/healthz``, ``/readyz`` and
``/metrics`` need no key. With Slack settings, ``POST /slack/events`` serves the Slack bot
(:mod:`summariser.service.slack`). Problem details and the body limit live in
:mod:`summariser.service.problems`. ``python -m summariser.service.app`` prints the OpenAPI
document committed as ``schemas/openapi.json``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, model_validator

from summariser import __version__
from summariser.backends.base import Backend
from summariser.schema import Summary
from summariser.service.auth import Principal, RateLimiter, matching_key, principal_for
from summariser.service.jobs import IdempotencyConflict, JobQueue, summarise_handlers
from summariser.service.metrics import MetricsMiddleware, ServiceMetrics
from summariser.service.problems import (
    PROBLEM_RESPONSES,
    BodyLimitMiddleware,
    Problem,
    ProblemError,
    add_problem_handlers,
    problem,
)
from summariser.service.settings import ServiceSettings
from summariser.service.store import JobRecord, JobStore
from summariser.settings import Settings

if TYPE_CHECKING:
    from summariser.service.slack import SlackBot

__all__ = ["Problem", "ProblemError", "create_app", "export_openapi", "problem"]

log = logging.getLogger("summariser.service")


class SummaryRequest(BaseModel):
    """An article to summarise: its ``text`` or its ``url``, not both."""

    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(default=None, min_length=1)
    url: str | None = Field(default=None, pattern=r"^https?://\S+$", max_length=2048)
    format: Literal["auto", "text", "markdown", "html"] = "auto"
    drop_unsupported: bool = False
    wait: bool = Field(default=True, description="false: always answer 202 with a job")

    @model_validator(mode="after")
    def _one_source(self) -> SummaryRequest:
        if (self.text is None) == (self.url is None):
            raise ValueError("give exactly one of text or url")
        return self


class Links(BaseModel):
    self: str


class JobAccepted(BaseModel):
    id: str
    status: Literal["queued", "running", "done", "failed", "dead", "expired"]
    links: Links


class JobError(BaseModel):
    reason: str
    detail: str
    reference_id: str


class JobView(JobAccepted):
    kind: str
    input_ref: str
    created_at: str
    updated_at: str
    summary: Summary | None = None
    article: dict[str, Any] | None = None
    error: JobError | None = None


@dataclass(slots=True)
class _State:
    service: ServiceSettings
    settings: Settings
    store: JobStore
    metrics: ServiceMetrics
    limiter: RateLimiter
    backend: Backend | None
    queue: JobQueue | None = None
    slack: SlackBot | None = None


_bearer = HTTPBearer(auto_error=False, description="An API key from SUMMARISER_API_KEYS")


def _state(request: Request) -> _State:
    state: _State = request.app.state.summariser
    return state


async def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Authenticate (when keys are configured) and apply the caller's rate limit."""
    state = _state(request)
    if state.service.auth_required:
        digest = None
        if credentials is not None and credentials.scheme.lower() == "bearer":
            digest = matching_key(credentials.credentials, state.service.api_key_hashes)
        if digest is None:
            raise ProblemError(
                401,
                "Unauthorized",
                "a valid API key is required: Authorization: Bearer <key>",
                kind="unauthorized",
                headers={"WWW-Authenticate": "Bearer"},
            )
        principal = principal_for(digest)
    else:
        host = request.client.host if request.client else "unknown"
        principal = Principal(id=f"open:{host}", authenticated=False)
    wait = state.limiter.take(principal.id)
    if wait > 0:
        seconds = max(1, int(wait + 0.999))
        raise ProblemError(
            429,
            "Too Many Requests",
            f"rate limit of {state.service.rate_per_minute} requests a minute reached",
            kind="rate-limited",
            headers={"Retry-After": str(seconds)},
        )
    return principal


def create_app(
    service: ServiceSettings, settings: Settings, *, backend: Backend | None = None
) -> FastAPI:
    """The ASGI app. Refuses (ConfigurationError) an open API on a non-loopback host.

    With no ``backend``, the one ``settings`` names is made at startup and closed at shutdown.
    """
    service.check_exposure()
    metrics = ServiceMetrics()
    state = _State(
        service=service,
        settings=settings,
        store=JobStore(service.store_url),
        metrics=metrics,
        limiter=RateLimiter(service.rate_per_minute, service.rate_burst),
        backend=backend,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from summariser.backends.registry import make_backend

        made = None if state.backend is not None else make_backend(settings)
        used = state.backend or made
        assert used is not None
        handlers = summarise_handlers(
            settings, used, max_article_chars=service.max_article_chars, metrics=metrics
        )
        if state.slack is not None:
            handlers["slack"] = state.slack.job_handler(handlers)
        state.queue = JobQueue(
            state.store,
            handlers,
            workers=service.workers,
            job_timeout_s=service.job_timeout_s,
            metrics=metrics,
        )
        state.backend = used
        if state.slack is not None:
            state.slack.attach(state.queue)
        await state.queue.start()
        try:
            yield
        finally:
            await state.queue.stop()
            close = getattr(made, "aclose", None)
            if close is not None:
                await close()
            state.store.close()

    app = FastAPI(
        title="summariser",
        version=__version__,
        description="Financial news summaries in which no number is shown as fact unless the "
        "source supports it. Errors are RFC 9457 problem details.",
        lifespan=lifespan,
    )
    app.state.summariser = state
    add_problem_handlers(app)
    _add_routes(app)
    if service.slack_enabled:  # slack-bolt is imported only when the bot is configured
        from summariser.service.slack import SlackBot, mount_slack

        state.slack = SlackBot(service, max_article_chars=service.max_article_chars)
        mount_slack(app, state.slack)
    app.add_middleware(BodyLimitMiddleware, limit=service.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app


def _add_routes(app: FastAPI) -> None:
    @app.post(
        "/v1/summaries",
        response_model=None,
        status_code=200,
        responses={
            200: {"model": Summary, "description": "The summary (small inputs, fast path)"},
            202: {"model": JobAccepted, "description": "Queued: poll links.self"},
            **PROBLEM_RESPONSES,
        },
    )
    async def create_summary(
        body: SummaryRequest,
        request: Request,
        principal: Annotated[Principal, Depends(caller)],
        idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
    ) -> Response:
        """Summarise an article: the summary at once when small and quick, else a job."""
        state = _state(request)
        queue = state.queue
        assert queue is not None
        limit = state.service.max_article_chars
        if body.text is not None and len(body.text) > limit:
            raise ProblemError(
                413,
                "Article Too Long",
                f"the article has {len(body.text)} characters; the limit is {limit}",
                kind="article-too-long",
            )
        payload = body.model_dump(include={"text", "url", "format", "drop_unsupported"})
        kind = "url" if body.url is not None else "text"
        ref = body.url or "sha256:" + hashlib.sha256(str(body.text).encode()).hexdigest()
        key = f"{principal.id}:{idempotency_key}" if idempotency_key else None
        try:
            submitted = await queue.submit(kind, payload, key, owner=principal.id, input_ref=ref)
        except IdempotencyConflict as err:
            raise ProblemError(
                422, "Idempotency Key Reused", str(err), kind="idempotency-conflict"
            ) from None
        job = submitted.job
        quick = body.url is not None or len(str(body.text)) <= state.service.sync_max_chars
        fast = body.wait and quick  # else always 202, even for a job already done
        if fast:
            job = await queue.wait(job.id, state.service.sync_timeout_s) or job
        location = f"/v1/summaries/{job.id}"
        if fast and job.status == "done" and job.result is not None:
            return JSONResponse(job.result["summary"], headers={"Content-Location": location})
        if fast and job.status == "failed":
            raise _job_problem(job)
        accepted = JobAccepted(id=job.id, status=job.status, links=Links(self=location))
        return JSONResponse(accepted.model_dump(), status_code=202, headers={"Location": location})

    @app.get(
        "/v1/summaries/{job_id}",
        response_model=JobView,
        responses={404: PROBLEM_RESPONSES[422] | {"description": "No such job"}},
    )
    async def get_summary(
        job_id: str, request: Request, principal: Annotated[Principal, Depends(caller)]
    ) -> JobView:
        """A job: its status, the summary when done, the error when failed."""
        queue = _state(request).queue
        assert queue is not None
        job = await queue.get(job_id)
        if job is None or job.owner != principal.id:
            raise ProblemError(404, "Not Found", f"no job {job_id}", kind="not-found")
        return _view(job)

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        """The process is alive (no key needed)."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"])
    async def readyz(request: Request) -> dict[str, Any]:
        """The job store (and, with workers, the broker) answers, the backend is configured and
        jobs can run (no key needed)."""
        import asyncio

        state = _state(request)
        try:
            await asyncio.to_thread(state.store.ping)
        except Exception as err:
            log.warning("readiness: the job store does not answer: %s", err)
            raise ProblemError(503, "Not Ready", "the job store does not answer") from None
        if state.backend is None or state.queue is None or not state.queue.running:
            raise ProblemError(503, "Not Ready", "the job workers are not running")
        try:
            await state.queue.check_broker()
        except Exception as err:
            log.warning("readiness: the broker does not answer: %s", err)
            raise ProblemError(503, "Not Ready", "the job broker does not answer") from None
        backend = f"{state.backend.name}/{state.backend.model}"
        return {"status": "ready", "store": "ok", "backend": backend}

    @app.get("/metrics", tags=["operations"], response_class=Response)
    async def metrics(request: Request) -> Response:
        """Prometheus text format (no key needed; restrict at the proxy if it matters)."""
        registry = _state(request).metrics
        return Response(registry.render(), media_type=registry.content_type)


def _view(job: JobRecord) -> JobView:
    result = job.result or {}
    return JobView(
        id=job.id,
        status=job.status,
        links=Links(self=f"/v1/summaries/{job.id}"),
        kind=job.kind,
        input_ref=job.input_ref,
        created_at=job.created_at.isoformat(),
        updated_at=job.updated_at.isoformat(),
        summary=Summary.model_validate(result["summary"]) if "summary" in result else None,
        article=result.get("article"),
        error=JobError(
            reason=job.reason or "internal_error",
            detail=job.error or "",
            reference_id=job.reference_id or "",
        )
        if job.status in _ENDED_BADLY
        else None,
    )


_ENDED_BADLY = frozenset({"failed", "dead", "expired"})


def _job_problem(job: JobRecord) -> ProblemError:
    """A job that failed on the fast path, as the problem the request answers with."""
    reason = job.reason or "internal_error"
    if reason == "internal_error":
        status, title = 500, "Internal Server Error"
    elif reason.startswith("backend") or reason in ("refusal", "truncated", "invalid_output"):
        status, title = 502, "Backend Failed"
    elif reason == "timeout":
        status, title = 504, "Timed Out"
    elif reason == "article_too_long":
        status, title = 413, "Article Too Long"
    else:
        status, title = 400, "Bad Input"
    return ProblemError(
        status,
        title,
        job.error or title,
        kind=reason.replace("_", "-"),
        reason=reason,
        reference_id=job.reference_id,
        job_id=job.id,
    )


def export_openapi() -> str:
    """The OpenAPI document of the API, as committed in ``schemas/openapi.json``."""
    app = create_app(ServiceSettings(jobs_db=":memory:"), Settings(backend="offline"))
    return json.dumps(app.openapi(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":  # python -m summariser.service.app > schemas/openapi.json
    print(export_openapi(), end="")
