"""RFC 9457 problem details for every error of the HTTP API, and the request body limit.

Stage: service edge (HTTP, async). In: errors raised while a request is handled
(:class:`ProblemError` from the routes, Starlette's ``HTTPException``, FastAPI's validation
errors, anything else) and request bodies. Out: ``application/problem+json`` responses, the
OpenAPI description of them (:data:`PROBLEM_RESPONSES`), and a 413 problem for a body over
the limit (:class:`BodyLimitMiddleware`). A crash is answered with a reference id only; its
traceback goes to the log under that id.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "PROBLEM",
    "PROBLEM_RESPONSES",
    "BodyLimitMiddleware",
    "Problem",
    "ProblemError",
    "add_problem_handlers",
    "problem",
]

log = logging.getLogger("summariser.service")
PROBLEM = "application/problem+json"
_TYPES = "https://summariser.dev/problems/"  # problem type URIs (documentation anchors)


class Problem(BaseModel):
    """RFC 9457 problem details; some carry ``errors``, ``reason`` or ``reference_id`` too."""

    model_config = ConfigDict(extra="allow")
    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None


class ProblemError(Exception):
    """Raised by handlers to answer with a problem document."""

    def __init__(
        self, status: int, title: str, detail: str, *, kind: str = "", **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.kind = status, title, detail, kind
        self.headers: dict[str, str] = extra.pop("headers", None) or {}
        self.extra = extra


def problem(request: Request | None, err: ProblemError) -> JSONResponse:
    """The problem document of ``err`` as a response."""
    body: dict[str, Any] = {
        "type": _TYPES + err.kind if err.kind else "about:blank",
        "title": err.title,
        "status": err.status,
        "detail": err.detail,
        "instance": request.url.path if request is not None else None,
        **err.extra,
    }
    return JSONResponse(body, status_code=err.status, headers=err.headers, media_type=PROBLEM)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "content": {PROBLEM: {}}, "description": text}
    for code, text in [
        (400, "Bad request"),
        (401, "Missing or wrong API key"),
        (413, "Request body or article too large"),
        (422, "Invalid request"),
        (429, "Rate limit exceeded"),
    ]
}


def add_problem_handlers(app: FastAPI) -> None:
    """Answer every error with a problem document: ours, HTTP errors, invalid requests and
    crashes (the last with a reference id; the traceback goes to the log)."""

    async def on_problem(request: Request, err: Exception) -> Response:
        assert isinstance(err, ProblemError)
        return problem(request, err)

    async def on_http(request: Request, err: Exception) -> Response:
        assert isinstance(err, HTTPException)
        title = _REASON_PHRASES.get(err.status_code, "Error")
        headers = dict(err.headers or {})
        return problem(
            request, ProblemError(err.status_code, title, str(err.detail), headers=headers)
        )

    async def on_invalid(request: Request, err: Exception) -> Response:
        assert isinstance(err, RequestValidationError)
        errors = json.loads(json.dumps(err.errors(), default=str))
        for item in errors:
            item.pop("input", None)  # do not echo a whole article back
            item.pop("ctx", None)
        if any(e.get("type") == "json_invalid" for e in errors):
            return problem(request, ProblemError(400, "Bad Request", "the body is not valid JSON"))
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
        return problem(
            request,
            ProblemError(
                422, "Unprocessable Content", detail, kind="invalid-request", errors=errors
            ),
        )

    async def on_crash(request: Request, err: Exception) -> Response:
        reference = uuid.uuid4().hex[:16]
        log.error("request %s failed [reference %s]", request.url.path, reference, exc_info=err)
        return problem(
            request,
            ProblemError(
                500,
                "Internal Server Error",
                "internal error: quote the reference id to the operator",
                reference_id=reference,
            ),
        )

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_invalid)
    app.add_exception_handler(Exception, on_crash)


_REASON_PHRASES = {
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Content Too Large",
    429: "Too Many Requests",
}


class BodyLimitMiddleware:
    """Refuse bodies over ``limit`` bytes with a 413 problem: at once when Content-Length
    says so, else as soon as the streamed body passes the limit."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise HTTPException(413, f"the body is larger than {self.limit} bytes")
            return message

        await self.app(scope, counted, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"the body is larger than {self.limit} bytes"
        err = ProblemError(413, "Content Too Large", detail, kind="too-large")
        response = problem(Request(scope), err)
        response.headers["Connection"] = "close"
        await response(scope, receive, send)
