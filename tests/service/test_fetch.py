"""Tests of summariser.service.fetch: the address policy, redirects, limits, extraction, pinning.

No test touches the network: names are answered by a fake resolver, HTTP by an
``httpx2.MockTransport``, and the pinning tests run the real :class:`PinnedTransport` and
httpcore2 connection pool over a fake network backend that records where it was asked to connect.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from ipaddress import ip_address
from typing import Any

import httpcore2
import httpx2
import pytest

from summariser.errors import InputError
from summariser.service.fetch import (
    FetchedArticle,
    FetchError,
    FetchLimits,
    PinnedTransport,
    fetch_article,
    refusal,
    resolve_host,
)

PUBLIC = "93.184.216.34"
PUBLIC_2 = "93.184.216.35"

ARTICLE_HTML = """<!doctype html>
<html><head><title>Acme profit rises | Example News</title>
<script>window.tracker = {"id": "should-not-appear"};</script>
<style>.nav { color: red }</style></head>
<body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/markets">Markets</a></li>
<li><a href="/subscribe">Subscribe now</a></li></ul></nav>
<header><div class="share">Share on Twitter</div></header>
<article>
<h1>Acme profit rises</h1>
<p>Acme Corp said on Tuesday that net profit rose 12% to $1.2bn in the third quarter, beating
the analysts' consensus of $1.1bn, as demand for its industrial sensors recovered in Asia.</p>
<p>Revenue climbed to $8.4bn from $7.9bn a year earlier. The company raised its full-year
guidance and said it would buy back up to $500m of shares over the next twelve months.</p>
<p>Shares in Acme rose 4% in early trading in New York, valuing the group at about $60bn.</p>
</article>
<footer>Copyright 2026 Example News. All rights reserved. Cookie settings.</footer>
<script>console.log("should-not-appear-either")</script>
</body></html>
"""


class FakeResolver:
    """Answers from a table, records each question; an unknown name fails like NXDOMAIN."""

    def __init__(self, table: Mapping[str, Sequence[str]] | None = None, delay: float = 0) -> None:
        self.table = dict(table or {})
        self.calls: list[tuple[str, int]] = []
        self.delay = delay

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.calls.append((host, port))
        if self.delay:
            await asyncio.sleep(self.delay)
        if host not in self.table:
            raise OSError(f"[Errno -2] Name or service not known: {host}")
        return self.table[host]


def html(body: str = ARTICLE_HTML, status: int = 200, **headers: str) -> httpx2.Response:
    return httpx2.Response(
        status, headers={"content-type": "text/html; charset=utf-8", **headers}, text=body
    )


def mock(
    handler: Callable[[httpx2.Request], httpx2.Response] | None = None,
) -> tuple[httpx2.MockTransport, list[httpx2.Request]]:
    """A MockTransport that records its requests (and serves the article by default)."""
    seen: list[httpx2.Request] = []

    def handle(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return handler(request) if handler else html()

    return httpx2.MockTransport(handle), seen


def fetch(url: str, **kwargs: Any) -> FetchedArticle:
    return asyncio.run(fetch_article(url, **kwargs))


def refused(url: str, **kwargs: Any) -> FetchError:
    with pytest.raises(FetchError) as info:
        fetch(url, **kwargs)
    return info.value


# --- refusals before any request -------------------------------------------------------------

REFUSALS = [
    ("http://127.0.0.1", {}, "blocked_address"),
    ("http://[::1]/", {}, "blocked_address"),
    ("http://169.254.169.254/latest/meta-data", {}, "blocked_address"),
    ("http://2130706433/", {}, "blocked_address"),
    ("http://0x7f000001/", {}, "blocked_address"),
    ("http://0x7f.1/", {}, "blocked_address"),
    ("http://0177.0.0.1/", {}, "invalid_url"),  # httpx2 refuses dotted octal quads itself
    ("http://127.1/", {}, "blocked_address"),
    ("http://[::ffff:127.0.0.1]/", {}, "blocked_address"),
    ("http://[::ffff:7f00:1]/", {}, "blocked_address"),
    ("http://[2002:7f00:1::]/", {}, "blocked_address"),
    ("http://[fd00:ec2::254]/", {}, "blocked_address"),
    ("http://100.100.100.200/", {}, "blocked_address"),
    ("http://10.1.2.3", {}, "blocked_address"),
    ("http://0.0.0.0/", {}, "blocked_address"),
    ("http://intranet.example/", {"intranet.example": ["10.0.0.1"]}, "blocked_address"),
    ("http://mixed.example/", {"mixed.example": [PUBLIC, "192.168.1.10"]}, "blocked_address"),
    ("http://mixed6.example/", {"mixed6.example": [PUBLIC, "fc00::1"]}, "blocked_address"),
    ("http://localhost/", {"localhost": ["127.0.0.1", "::1"]}, "blocked_address"),
    (
        "http://metadata.google.internal/computeMetadata/v1/",
        {"metadata.google.internal": ["169.254.169.254"]},
        "blocked_address",
    ),
    ("http://nowhere.example/", {}, "dns"),
    ("http://empty.example/", {"empty.example": []}, "dns"),
    ("file:///etc/passwd", {}, "scheme"),
    ("ftp://x", {}, "scheme"),
    ("gopher://news.example/", {}, "scheme"),
    ("data:text/html,<p>hi</p>", {}, "scheme"),
    ("news.example/article", {}, "scheme"),
    ("http://user:pass@news.example/", {"news.example": [PUBLIC]}, "invalid_url"),
    ("http://news.example@127.0.0.1/", {}, "invalid_url"),
    ("http:///path", {}, "invalid_url"),
    ("http://999.1.1.1/", {}, "invalid_url"),
    ("http://news.example:8080/", {"news.example": [PUBLIC]}, "port"),
    ("http://news.example:22/", {"news.example": [PUBLIC]}, "port"),
]


@pytest.mark.parametrize(("url", "table", "reason"), REFUSALS, ids=[u for u, _, _ in REFUSALS])
def test_refused_before_any_request(url: str, table: dict[str, list[str]], reason: str) -> None:
    transport, seen = mock()
    error = refused(url, resolver=FakeResolver(table), transport=transport)
    assert error.reason == reason
    assert seen == []
    assert isinstance(error, InputError)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1", "http://2130706433/", "http://[::1]/", "http://10.1.2.3"]
)
def test_literal_addresses_are_never_looked_up(url: str) -> None:
    resolver = FakeResolver()
    refused(url, resolver=resolver, transport=mock()[0])
    assert resolver.calls == []


ADDRESSES = [
    ("127.0.0.1", False),
    ("10.0.0.1", False),
    ("172.16.5.4", False),
    ("192.168.0.1", False),
    ("100.64.0.1", False),
    ("169.254.169.254", False),
    ("169.254.1.1", False),
    ("168.63.129.16", False),
    ("224.0.0.1", False),
    ("240.0.0.1", False),
    ("255.255.255.255", False),
    ("198.18.0.1", False),
    ("::", False),
    ("::1", False),
    ("fe80::1", False),
    ("fec0::1", False),
    ("fc00::1", False),
    ("fd00:ec2::254", False),
    ("ff02::1", False),
    ("::ffff:10.0.0.1", False),
    ("::127.0.0.1", False),
    ("2002:c0a8:101::", False),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),
    ("64:ff9b::a00:1", False),
    (PUBLIC, True),
    ("8.8.8.8", True),
    ("2606:4700:4700::1111", True),
    ("::ffff:93.184.216.34", False),  # refused all the same: no news site is served that way
]


@pytest.mark.parametrize(("address", "allowed"), ADDRESSES, ids=[a for a, _ in ADDRESSES])
def test_address_policy(address: str, allowed: bool) -> None:
    assert (refusal(ip_address(address)) is None) is allowed


def test_refusal_names_the_cloud_metadata_service() -> None:
    why = refusal(ip_address("169.254.169.254"))
    assert why is not None
    assert "metadata" in why


# --- redirects -------------------------------------------------------------------------------


def test_redirect_to_loopback_is_refused_and_not_followed() -> None:
    transport, seen = mock(
        lambda r: httpx2.Response(302, headers={"location": "http://127.0.0.1/admin"})
    )
    error = refused(
        "http://news.example/a",
        resolver=FakeResolver({"news.example": [PUBLIC]}),
        transport=transport,
    )
    assert error.reason == "blocked_address"
    assert [str(r.url) for r in seen] == ["http://news.example/a"]


def test_redirect_to_a_name_that_resolves_privately_is_refused() -> None:
    transport, seen = mock(
        lambda r: httpx2.Response(301, headers={"location": "https://internal.example/x"})
    )
    resolver = FakeResolver({"news.example": [PUBLIC], "internal.example": ["172.16.0.9"]})
    error = refused("http://news.example/a", resolver=resolver, transport=transport)
    assert error.reason == "blocked_address"
    assert resolver.calls == [("news.example", 80), ("internal.example", 443)]
    assert len(seen) == 1


def test_redirect_to_another_scheme_is_refused() -> None:
    transport, _ = mock(lambda r: httpx2.Response(302, headers={"location": "file:///etc/passwd"}))
    error = refused(
        "http://news.example/",
        resolver=FakeResolver({"news.example": [PUBLIC]}),
        transport=transport,
    )
    assert error.reason == "scheme"


def chain(hops: int) -> Callable[[httpx2.Request], httpx2.Response]:
    """A server that redirects /0 -> /1 -> ... -> /hops (relative locations), then serves HTML."""

    def handle(request: httpx2.Request) -> httpx2.Response:
        n = int(request.url.path.strip("/"))
        return html() if n >= hops else httpx2.Response(302, headers={"location": f"/{n + 1}"})

    return handle


def test_five_redirects_are_followed() -> None:
    transport, seen = mock(chain(5))
    article = fetch(
        "http://news.example/0",
        resolver=FakeResolver({"news.example": [PUBLIC]}),
        transport=transport,
    )
    assert article.redirects == 5
    assert article.final_url == "http://news.example/5"
    assert article.url == "http://news.example/0"
    assert len(seen) == 6


def test_more_than_five_redirects_are_refused() -> None:
    transport, seen = mock(chain(6))
    error = refused(
        "http://news.example/0",
        resolver=FakeResolver({"news.example": [PUBLIC]}),
        transport=transport,
    )
    assert error.reason == "too_many_redirects"
    assert len(seen) == 6


def test_every_hop_is_resolved_again() -> None:
    resolver = FakeResolver({"news.example": [PUBLIC]})
    fetch("http://news.example/0", resolver=resolver, transport=mock(chain(2))[0])
    assert resolver.calls == [("news.example", 80)] * 3


# --- limits ----------------------------------------------------------------------------------


class EndlessBody(httpx2.AsyncByteStream):
    """A body that never ends, counting the chunks it was asked for."""

    def __init__(self, chunk: int = 65_536) -> None:
        self.chunk = chunk
        self.served = 0
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            self.served += 1
            yield b"<p>" + b"x" * (self.chunk - 3)

    async def aclose(self) -> None:
        self.closed = True


def test_oversize_body_is_abandoned_early() -> None:
    body = EndlessBody()
    transport, _ = mock(
        lambda r: httpx2.Response(200, headers={"content-type": "text/html"}, stream=body)
    )
    limits = FetchLimits(max_bytes=1_000_000)
    error = refused(
        "http://news.example/",
        limits=limits,
        resolver=FakeResolver({"news.example": [PUBLIC]}),
        transport=transport,
    )
    assert error.reason == "too_large"
    assert body.served == 1_000_000 // body.chunk + 1
    assert body.closed


def test_declared_oversize_body_is_not_read_at_all() -> None:
    body = EndlessBody()
    transport, _ = mock(
        lambda r: httpx2.Response(
            200, headers={"content-type": "text/html", "content-length": "9999999"}, stream=body
        )
    )
    error = refused(
        "http://news.example/",
        limits=FetchLimits(max_bytes=1_000),
        resolver=FakeResolver({"news.example": [PUBLIC]}),
        transport=transport,
    )
    assert error.reason == "too_large"
    assert body.served == 0


@pytest.mark.parametrize("content_type", ["application/pdf", "image/png", "application/json", ""])
def test_wrong_content_type_is_refused_unread(content_type: str) -> None:
    body = EndlessBody()
    transport, _ = mock(
        lambda r: httpx2.Response(200, headers={"content-type": content_type}, stream=body)
    )
    error = refused(
        "http://news.example/",
        resolver=FakeResolver({"news.example": [PUBLIC]}),
        transport=transport,
    )
    assert error.reason == "content_type"
    assert body.served == 0


@pytest.mark.parametrize("status", [404, 500, 403, 304])
def test_error_status_is_refused(status: int) -> None:
    transport, _ = mock(lambda r: html("<p>Not here</p>", status=status))
    error = refused(
        "http://news.example/",
        resolver=FakeResolver({"news.example": [PUBLIC]}),
        transport=transport,
    )
    assert error.reason == "http_status"
    assert error.status == status


class StalledBody(httpx2.AsyncByteStream):
    """A body that sends one chunk, then nothing."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"<html><body><p>Acme"
        await asyncio.sleep(60)


def test_a_stalled_body_times_out() -> None:
    transport, _ = mock(
        lambda r: httpx2.Response(200, headers={"content-type": "text/html"}, stream=StalledBody())
    )
    error = refused(
        "http://news.example/",
        limits=FetchLimits(timeout_s=0.05),
        resolver=FakeResolver({"news.example": [PUBLIC]}),
        transport=transport,
    )
    assert error.reason == "timeout"


def test_a_slow_resolver_counts_against_the_deadline() -> None:
    error = refused(
        "http://news.example/",
        limits=FetchLimits(timeout_s=0.05),
        resolver=FakeResolver({"news.example": [PUBLIC]}, delay=60),
        transport=mock()[0],
    )
    assert error.reason == "timeout"


def test_transport_errors_are_translated() -> None:
    def handle(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("connection refused", request=request)

    error = refused(
        "http://news.example/",
        resolver=FakeResolver({"news.example": [PUBLIC]}),
        transport=mock(handle)[0],
    )
    assert error.reason == "connect"
    assert isinstance(error.__cause__, httpx2.ConnectError)


# --- article text ----------------------------------------------------------------------------


def test_public_html_page_comes_out_as_clean_article_text() -> None:
    transport, seen = mock()
    article = fetch(
        "https://news.example/acme#top",
        resolver=FakeResolver({"news.example": [PUBLIC]}),
        transport=transport,
    )
    assert article.status == 200
    assert article.content_type == "text/html"
    assert article.redirects == 0
    assert article.bytes_read == len(ARTICLE_HTML.encode())
    assert "net profit rose 12% to $1.2bn" in article.text
    assert "valuing the group at about $60bn" in article.text
    for furniture in ("should-not-appear", "Subscribe now", "Share on Twitter", "Cookie", "color"):
        assert furniture not in article.text
    assert article.title is not None
    assert "Acme profit rises" in article.title
    assert seen[0].headers["host"] == "news.example"
    assert str(seen[0].url) == article.final_url == "https://news.example/acme"  # no fragment


def test_plain_text_goes_through_cleaning() -> None:
    text = "Acme profit rises\n\nAcme Corp said net profit rose 12% to $1.2bn.\r\n"
    transport, _ = mock(
        lambda r: httpx2.Response(200, headers={"content-type": "text/plain"}, text=text)
    )
    article = fetch(
        "http://news.example/a.txt",
        resolver=FakeResolver({"news.example": [PUBLIC]}),
        transport=transport,
    )
    assert "net profit rose 12% to $1.2bn." in article.text
    assert "\r" not in article.text


def test_charset_from_a_meta_tag() -> None:
    page = '<html><head><meta charset="gb2312"></head><body><article><p>营业收入89.71亿元，同比增长12%。公司表示将继续扩大在亚洲的业务。</p></article></body></html>'
    transport, _ = mock(
        lambda r: httpx2.Response(
            200, headers={"content-type": "text/html"}, content=page.encode("gb2312")
        )
    )
    article = fetch(
        "http://news.example/cn",
        resolver=FakeResolver({"news.example": [PUBLIC]}),
        transport=transport,
    )
    assert "89.71亿元" in article.text


@pytest.mark.parametrize(
    "body", ["", "<html><head><title>x</title></head><body><script>1</script></body></html>"]
)
def test_page_without_article_text_is_refused(body: str) -> None:
    transport, _ = mock(lambda r: html(body))
    error = refused(
        "http://news.example/",
        resolver=FakeResolver({"news.example": [PUBLIC]}),
        transport=transport,
    )
    assert error.reason == "no_article_text"


# --- pinning: the real transport over a fake network ----------------------------------------


class FakeStream(httpcore2.AsyncNetworkStream):
    """One connection: records what is written and the SNI asked for, replies with ``reply``."""

    def __init__(self, network: FakeNetwork, reply: bytes) -> None:
        self.network = network
        self.reply = [reply]

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.reply.pop(0) if self.reply else b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.network.written += buffer

    async def aclose(self) -> None:
        pass

    async def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore2.AsyncNetworkStream:
        self.network.sni.append(server_hostname)
        return self

    def get_extra_info(self, info: str) -> Any:
        return None


class FakeNetwork(httpcore2.AsyncNetworkBackend):
    """Records every TCP connect; addresses in ``down`` refuse the connection."""

    def __init__(self, body: bytes = ARTICLE_HTML.encode(), down: Sequence[str] = ()) -> None:
        self.reply = (
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        self.down = set(down)
        self.connects: list[tuple[str, int]] = []
        self.sni: list[str | None] = []
        self.written = b""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore2.AsyncNetworkStream:
        self.connects.append((host, port))
        if host in self.down:
            raise httpcore2.ConnectError(f"{host} is down")
        return FakeStream(self, self.reply)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore2.AsyncNetworkStream:
        raise AssertionError("no unix sockets")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def test_connection_goes_to_the_vetted_address_with_hostname_sni_and_host() -> None:
    network = FakeNetwork()
    resolver = FakeResolver({"news.example": [PUBLIC]})
    article = fetch(
        "https://news.example/acme",
        resolver=resolver,
        transport=PinnedTransport(network_backend=network),
    )
    assert "net profit rose 12%" in article.text
    assert resolver.calls == [("news.example", 443)]  # one lookup, nothing after it
    assert network.connects == [(PUBLIC, 443)]
    assert network.sni == ["news.example"]
    assert b"\r\nHost: news.example\r\n" in network.written
    assert network.written.startswith(b"GET /acme HTTP/1.1\r\n")


def test_next_vetted_address_is_tried_when_the_first_is_down() -> None:
    network = FakeNetwork(down=[PUBLIC])
    fetch(
        "http://news.example/",
        resolver=FakeResolver({"news.example": [PUBLIC, PUBLIC_2]}),
        transport=PinnedTransport(network_backend=network),
    )
    assert network.connects == [(PUBLIC, 80), (PUBLIC_2, 80)]


def test_connect_failure_is_reported_as_connect() -> None:
    network = FakeNetwork(down=[PUBLIC])
    error = refused(
        "http://news.example/",
        resolver=FakeResolver({"news.example": [PUBLIC]}),
        transport=PinnedTransport(network_backend=network),
    )
    assert error.reason == "connect"


def test_literal_address_is_connected_in_canonical_form() -> None:
    network = FakeNetwork()
    fetch("http://1572395042/", transport=PinnedTransport(network_backend=network))
    assert network.connects == [(PUBLIC, 80)]
    assert b"\r\nHost: 93.184.216.34\r\n" in network.written


def test_pinned_transport_refuses_a_host_nobody_vetted() -> None:
    network = FakeNetwork()

    async def send() -> None:
        transport = PinnedTransport(network_backend=network)
        transport.pin("news.example", 443, [PUBLIC])
        try:
            await transport.handle_async_request(httpx2.Request("GET", "https://other.example/"))
        finally:
            await transport.aclose()

    with pytest.raises(httpx2.ConnectError, match="not vetted"):
        asyncio.run(send())
    assert network.connects == []


def test_default_resolver_asks_getaddrinfo_once_and_dedups(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, int]] = []

    async def getaddrinfo(
        self: asyncio.AbstractEventLoop, host: str, port: int, **kwargs: Any
    ) -> list[tuple[Any, ...]]:
        calls.append((host, port))
        return [
            (2, 1, 6, "", (PUBLIC, port)),
            (2, 1, 6, "", (PUBLIC, port)),
            (10, 1, 6, "", ("2606:4700::1", port, 0, 0)),
        ]

    monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", getaddrinfo)
    assert asyncio.run(resolve_host("news.example", 443)) == [PUBLIC, "2606:4700::1"]
    assert calls == [("news.example", 443)]
