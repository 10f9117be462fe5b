"""A local OpenAI-compatible chat completions server, rate limited like OpenAI, for benchmarks
and tests of client-side pacing. Loopback only; stdlib asyncio, one small HTTP/1.1 handler.

``POST /v1/chat/completions`` answers after ``latency`` seconds with a chat completion whose
content is an ``Extraction`` (JSON) of the article between ``<article>`` and ``</article>`` in
the last user message (``summariser.offline.extract``), with ``usage`` filled. Requests and
tokens are limited over a sliding minute: a request that would pass ``rpm`` requests, or
``tpm`` tokens (prompt plus completion, counted roughly at four characters a token), in the
last 60 s is answered at once with a 429 carrying ``retry-after`` / ``retry-after-ms``. Every
response carries OpenAI's ``x-ratelimit-{limit,remaining,reset}-{requests,tokens}``; here
``reset`` is the time until the oldest counted entry leaves the window (when ``remaining``
next grows). ``GET /stats`` returns the counts as JSON.

Run it: ``python benchmarks/fake_openai_server.py --port 0 --latency 0.5 --rpm 600 --tpm
200000`` prints its URL (the ``base_url`` for the SDK). Or in-process:
``url, stop = start_server(...)`` runs it on a thread with its own event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import math
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: the checkout's summariser, not an install
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from summariser.offline.extract import extract

WINDOW_S = 60.0
HOST = "127.0.0.1"
_ARTICLE = re.compile(r"<article>(.*?)</article>", re.DOTALL)
_MAX_BODY = 64 * 1024 * 1024


def rough_tokens(text: str) -> int:
    """About four characters a token: what a server estimates before it tokenises."""
    return max(1, math.ceil(len(text) / 4))


def format_duration(seconds: float) -> str:
    """OpenAI's style: ``6m0s``, ``1.5s``, ``250ms``."""
    if seconds < 1:
        return f"{max(seconds, 0.0) * 1000:.0f}ms"
    minutes, rest = divmod(seconds, 60)
    rest_text = f"{rest:.3f}".rstrip("0").rstrip(".")
    return f"{int(minutes)}m{rest_text}s" if minutes else f"{rest_text}s"


@functools.lru_cache(maxsize=256)
def answer_for(user_text: str) -> str:
    """The Extraction JSON for the article in ``user_text`` (cached: benchmarks repeat it)."""
    match = _ARTICLE.search(user_text)
    return extract(match.group(1) if match else user_text).model_dump_json()


@dataclass(slots=True)
class _Window:
    """What was admitted in the last minute: (time, amount) pairs and their sum."""

    limit: int
    entries: deque[tuple[float, int]] = field(default_factory=deque)
    used: int = 0

    def expire(self, now: float) -> None:
        while self.entries and self.entries[0][0] <= now - WINDOW_S:
            self.used -= self.entries.popleft()[1]

    def wait_for(self, amount: int, now: float) -> float:
        """Seconds until ``amount`` more fits (0 when it fits now)."""
        amount = min(amount, self.limit)  # a request bigger than the limit goes on an empty window
        excess = self.used + amount - self.limit
        if excess <= 0:
            return 0.0
        for at, size in self.entries:
            excess -= size
            if excess <= 0:
                return at + WINDOW_S - now
        return WINDOW_S

    def add(self, amount: int, now: float) -> None:
        self.entries.append((now, amount))
        self.used += amount

    def headers(self, kind: str, now: float) -> dict[str, str]:
        reset = self.entries[0][0] + WINDOW_S - now if self.entries else 0.0
        return {
            f"x-ratelimit-limit-{kind}": str(self.limit),
            f"x-ratelimit-remaining-{kind}": str(max(self.limit - self.used, 0)),
            f"x-ratelimit-reset-{kind}": format_duration(reset),
        }


@dataclass(slots=True)
class Stats:
    requests: int = 0  # chat completion requests received, 429s included
    ok: int = 0
    rate_limited: int = 0  # 429s
    tokens: int = 0  # tokens admitted
    first_at: float | None = None
    times_429: list[float] = field(default_factory=list)  # seconds since the first request

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "ok": self.ok,
            "rate_limited": self.rate_limited,
            "tokens": self.tokens,
            "times_429": [round(t, 3) for t in self.times_429],
        }


class FakeOpenAI:
    """The server's state and request handling (one instance per server)."""

    def __init__(
        self,
        *,
        latency: float = 0.5,
        rpm: int = 600,
        tpm: int = 200_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.latency = latency
        self.requests = _Window(rpm)
        self.tokens = _Window(tpm)
        self.stats = Stats()
        self.clock = clock
        self.connections: set[asyncio.Task[None]] = set()  # one handler task per connection

    def reset_stats(self) -> None:
        self.stats = Stats()

    async def chat(self, body: dict[str, Any]) -> tuple[int, dict[str, str], dict[str, Any]]:
        """Status, extra headers and JSON body for one chat completion request."""
        now = self.clock()
        stats = self.stats
        stats.requests += 1
        if stats.first_at is None:
            stats.first_at = now
        messages = body.get("messages") or []
        prompt = sum(rough_tokens(str(m.get("content", ""))) + 4 for m in messages) + 3
        users = [str(m.get("content", "")) for m in messages if m.get("role") == "user"]
        content = answer_for(users[-1] if users else "")
        completion = rough_tokens(content)
        for window in (self.requests, self.tokens):
            window.expire(now)
        wait = max(self.requests.wait_for(1, now), self.tokens.wait_for(prompt + completion, now))
        if wait > 0:
            stats.rate_limited += 1
            stats.times_429.append(now - stats.first_at)
            which = "requests" if self.requests.wait_for(1, now) > 0 else "tokens"
            headers = {
                "retry-after": str(math.ceil(wait)),
                "retry-after-ms": str(math.ceil(wait * 1000)),
                **self._limit_headers(now),
            }
            error = {
                "message": f"Rate limit reached for {which} (fake server). "
                f"Please try again in {format_duration(wait)}.",
                "type": "requests" if which == "requests" else "tokens",
                "param": None,
                "code": "rate_limit_exceeded",
            }
            return 429, headers, {"error": error}
        self.requests.add(1, now)
        self.tokens.add(prompt + completion, now)
        stats.tokens += prompt + completion
        await asyncio.sleep(self.latency)
        stats.ok += 1
        # Reported as of the answer, like OpenAI: it counts what arrived during the latency.
        done = self.clock()
        for window in (self.requests, self.tokens):
            window.expire(done)
        reply = {
            "id": f"chatcmpl-fake-{stats.requests}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": str(body.get("model", "fake")),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
        }
        return 200, self._limit_headers(done), reply

    def _limit_headers(self, now: float) -> dict[str, str]:
        return {**self.requests.headers("requests", now), **self.tokens.headers("tokens", now)}

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One connection: HTTP/1.1 requests one after another (keep-alive) until it closes."""
        task = asyncio.current_task()
        if task is not None:
            self.connections.add(task)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                method, path, body = request
                status, headers, payload = await self._route(method, path, body)
                _write_response(writer, status, headers, payload)
                await writer.drain()
        except (
            ConnectionError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            ValueError,
        ):
            pass  # a client that hangs up or speaks nonsense loses its connection, nothing more
        except asyncio.CancelledError:
            # Only shutdown cancels a handler. Ending quietly keeps asyncio's stream callback
            # (Python 3.11) from logging the cancellation as an error.
            writer.close()
            return
        finally:
            if task is not None:
                self.connections.discard(task)
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()

    async def _route(
        self, method: str, path: str, body: bytes
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        path = path.split("?", 1)[0].rstrip("/")
        if method == "POST" and path.endswith("/chat/completions"):
            try:
                parsed = json.loads(body)
            except ValueError:
                return 400, {}, _error("the body is not JSON", "invalid_request_error")
            if not isinstance(parsed, dict):
                return 400, {}, _error("the body is not a JSON object", "invalid_request_error")
            return await self.chat(parsed)
        if method == "GET" and path == "/stats":
            return 200, {}, self.stats.as_dict()
        return 404, {}, _error(f"no route for {method} {path}", "invalid_request_error")


def _error(message: str, type_: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": None, "code": None}}


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, bytes] | None:
    """Method, path and body of the next request; None when the client closed the connection."""
    head = await reader.readuntil(b"\r\n\r\n") if not reader.at_eof() else b""
    if not head.strip():
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path, _version = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise ValueError("chunked request bodies are not supported")
    length = int(headers.get("content-length", "0"))
    if length > _MAX_BODY:
        raise ValueError("request body too large")
    body = await reader.readexactly(length) if length else b""
    return method, path, body


def _write_response(
    writer: asyncio.StreamWriter, status: int, headers: dict[str, str], payload: dict[str, Any]
) -> None:
    body = json.dumps(payload).encode()
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 429: "Too Many Requests"}
    lines = [
        f"HTTP/1.1 {status} {reason.get(status, 'Error')}",
        "content-type: application/json",
        f"content-length: {len(body)}",
        "connection: keep-alive",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)


async def serve(fake: FakeOpenAI, port: int = 0) -> asyncio.Server:
    """Listen on 127.0.0.1:``port`` (0: any free port)."""
    return await asyncio.start_server(fake.handle, HOST, port)


def start_server(
    *, latency: float = 0.5, rpm: int = 600, tpm: int = 200_000, port: int = 0
) -> tuple[str, Callable[[], None]]:
    """Run a server on a background thread with its own event loop.

    Returns its base URL (``http://127.0.0.1:PORT/v1``; the counts are at ``GET /stats`` on
    the server's root) and a ``stop()`` that shuts it down and joins the thread.
    """
    fake = FakeOpenAI(latency=latency, rpm=rpm, tpm=tpm)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict[str, Any] = {}

    async def main() -> None:
        server = await serve(fake, port)
        holder["port"] = server.sockets[0].getsockname()[1]
        holder["stop"] = stop_event = asyncio.Event()
        started.set()
        async with server:
            await stop_event.wait()
            server.close()
            # Keep-alive connections outlive the listening socket (Python 3.11 has no
            # Server.close_clients): end their handlers, so that the loop closes cleanly.
            handlers = list(fake.connections)
            for handler in handlers:
                handler.cancel()
            await asyncio.gather(*handlers, return_exceptions=True)

    def run() -> None:
        try:
            loop.run_until_complete(main())
        except BaseException as err:  # reported to the starting thread, not lost on this one
            holder["error"] = err
            started.set()
        finally:
            loop.close()

    thread = threading.Thread(target=run, name="fake-openai-server", daemon=True)
    thread.start()
    started.wait()
    if "error" in holder:
        raise RuntimeError("the fake server did not start") from holder["error"]

    def stop() -> None:
        if thread.is_alive():
            loop.call_soon_threadsafe(holder["stop"].set)
            thread.join(timeout=10)

    return f"http://{HOST}:{holder['port']}/v1", stop


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--latency", type=float, default=0.5, help="seconds before each answer")
    parser.add_argument("--rpm", type=int, default=600)
    parser.add_argument("--tpm", type=int, default=200_000)
    args = parser.parse_args(argv)

    async def run() -> None:
        fake = FakeOpenAI(latency=args.latency, rpm=args.rpm, tpm=args.tpm)
        server = await serve(fake, args.port)
        port = server.sockets[0].getsockname()[1]
        print(f"http://{HOST}:{port}/v1", flush=True)
        async with server:
            await server.serve_forever()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


if __name__ == "__main__":
    main()
