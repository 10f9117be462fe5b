"""A fake Slack for tests and the load benchmark: the Web API and response URLs on loopback,
and requests signed the way Slack signs them.

:class:`FakeSlack` is a small threaded HTTP server on 127.0.0.1 (a free port). ``/api/METHOD``
answers like the Web API (``auth.test``, ``chat.postMessage``, ``chat.postEphemeral``,
``conversations.replies`` from :attr:`FakeSlack.threads`, ``{"ok": true}`` otherwise, or
``{"ok": false, "error": ...}`` for a method scripted in :attr:`FakeSlack.errors`) and records
every call; ``/response/ID`` stands for a command's ``response_url`` and records the posts.
:func:`signed_headers` signs a body (v0: HMAC-SHA256 of ``v0:{timestamp}:{body}``);
:class:`SlowBackend` is the model behind the bot, slowed to a real model's latency.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from summariser.backends.base import Completion, CompletionRequest
from summariser.backends.offline import OfflineBackend

SECRET = "test-signing-secret"
TOKEN = "xoxb-test-token"
BOT_USER = "UBOT"


class SlowBackend:
    """The offline backend, ``delay`` seconds slower a call: a model's latency."""

    def __init__(self, delay: float) -> None:
        self.inner, self.delay = OfflineBackend(), delay
        self.name, self.model = self.inner.name, self.inner.model

    async def complete(self, request: CompletionRequest) -> Completion:
        await asyncio.sleep(self.delay)
        return await self.inner.complete(request)


def signed_headers(
    body: str, *, secret: str = SECRET, timestamp: int | None = None, **extra: str
) -> dict[str, str]:
    """The headers Slack sends with ``body``: timestamp and v0 signature (and ``extra``)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = f"v0:{ts}:{body}".encode()
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature, **extra}


def block_problems(blocks: Any) -> list[str]:
    """What Slack would refuse in a message's blocks (the Block Kit reference's limits)."""
    if isinstance(blocks, str):  # form-encoded calls send the blocks as JSON text
        blocks = json.loads(blocks)
    problems = [f"{len(blocks)} blocks"] if len(blocks) > 50 else []
    for n, block in enumerate(blocks):
        text = (block.get("text") or {}).get("text", "")
        kind = block["type"]
        if kind == "header" and (len(text) > 150 or block["text"]["type"] != "plain_text"):
            problems.append(f"block {n}: header of {len(text)} characters")
        if kind == "section":
            fields = block.get("fields") or []
            if not text and not fields:
                problems.append(f"block {n}: empty section")
            if len(text) > 3000:
                problems.append(f"block {n}: section text of {len(text)} characters")
            if len(fields) > 10:
                problems.append(f"block {n}: {len(fields)} fields")
            problems += [
                f"block {n}: field of {len(f['text'])} characters"
                for f in fields
                if len(f["text"]) > 2000
            ]
        if kind == "context":
            elements = block.get("elements") or []
            if not elements or len(elements) > 10:
                problems.append(f"block {n}: context of {len(elements)} elements")
            problems += [
                f"block {n}: context text of {len(e['text'])} characters"
                for e in elements
                if len(e.get("text", "")) > 3000
            ]
    return problems


@dataclass(frozen=True, slots=True)
class Call:
    """One request the fake received: a Web API method, or a post to a response URL."""

    method: str  # "chat.postMessage", ..., or "response_url"
    path: str
    params: dict[str, Any]
    authorization: str | None


class FakeSlack:
    """The fake server; use as a context manager (or ``start()`` / ``stop()``)."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.threads: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.errors: dict[str, str] = {}
        self._changed = threading.Condition()
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}"
        self.api_url = self.url + "/api/"

    def start(self) -> FakeSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def response_url(self, name: str = "1") -> str:
        return f"{self.url}/response/{name}"

    def of(self, method: str) -> list[Call]:
        with self._changed:
            return [call for call in self.calls if call.method == method]

    def replies(self) -> list[Call]:
        """What the bot answered: messages, ephemeral messages and response_url posts."""
        wanted = {"chat.postMessage", "chat.postEphemeral", "response_url"}
        with self._changed:
            return [call for call in self.calls if call.method in wanted]

    def wait_for(self, predicate: Callable[[FakeSlack], bool], timeout: float = 20.0) -> None:
        """Block until ``predicate(self)`` holds (checked after every call), or fail."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out; calls: {[c.method for c in self.calls]}")
                self._changed.wait(left)

    def record(self, call: Call) -> None:
        with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    def answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method in self.errors:
            return {"ok": False, "error": self.errors[method]}
        if method == "auth.test":
            return {"ok": True, "user_id": BOT_USER, "bot_id": "BBOT", "team_id": "T1"}
        if method in ("chat.postMessage", "chat.postEphemeral"):
            if block_problems(params.get("blocks") or []):
                return {"ok": False, "error": "invalid_blocks"}
            return {"ok": True, "channel": params.get("channel"), "ts": f"{time.time():.6f}"}
        if method == "conversations.replies":
            key = (str(params.get("channel")), str(params.get("ts")))
            return {"ok": True, "messages": self.threads.get(key, [])[:1]}
        return {"ok": True}


def _handler_for(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8") if length else ""
            params: dict[str, Any] = dict(parse_qsl(parts.query))
            if raw and "json" in (self.headers.get("Content-Type") or ""):
                params.update(json.loads(raw))
            elif raw:
                params.update(parse_qsl(raw))
            auth = self.headers.get("Authorization")
            if parts.path.startswith("/response/"):
                fake.record(Call("response_url", parts.path, params, auth))
                if block_problems(params.get("blocks") or []):
                    self._send(400, b"invalid_blocks", "text/plain")
                else:
                    self._send(200, b"ok", "text/plain")
            elif parts.path.startswith("/api/"):
                method = parts.path[len("/api/") :]
                fake.record(Call(method, parts.path, params, auth))
                body = json.dumps(fake.answer(method, params)).encode()
                self._send(200, body, "application/json")
            else:
                self._send(404, b"not found", "text/plain")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # 200 connections at once (the load benchmark), not the default 5
