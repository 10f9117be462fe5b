"""Fetching: an untrusted link, pasted in Slack or sent to the HTTP API, turned into article text.

Stage: service edge (network I/O, asyncio). In: a URL ``str`` and :class:`FetchLimits`. Out: a
:class:`FetchedArticle` whose ``text`` is ready for the pipeline, or a :class:`FetchError` whose
``reason`` says what the caller should tell the user.

The policy, hop by hop (the first request and every redirect alike):

* ``http`` and ``https`` only. A URL with credentials (``http://user:pass@host``) is refused:
  the fetcher would send them to the host, and ``trusted.com@evil.example`` is a classic lure.
* Ports 80 and 443 only (``FetchLimits.allowed_ports``): news sites do not need others, and a
  public host's other ports (SMTP, Redis, admin panels) are none of our business.
* The host is resolved once, and the fetch is refused when ANY of its addresses is not public
  (private, loopback, link-local, multicast, reserved, unspecified, site-local, shared
  100.64/10, cloud metadata, or an IPv6 address embedding such an IPv4 one). Numeric hosts in
  the forms ``inet_aton`` accepts (``2130706433``, ``0x7f.1``, ``0177.1``) are read as addresses.
* The connection goes to a vetted address and no other: :class:`PinnedTransport` maps the host
  to the addresses checked, so a second DNS answer (DNS rebinding) is never asked for, while
  the Host header, TLS SNI and certificate check still use the hostname.
* One deadline for the whole fetch (DNS, connect, every hop, the body); the body is streamed
  and abandoned past ``max_bytes``; the content type is checked before the body is read.

Errors: :class:`FetchError` (an :class:`~summariser.errors.InputError`), with ``reason`` one of
``scheme``, ``invalid_url``, ``port``, ``blocked_address``, ``dns``, ``connect``, ``timeout``,
``too_many_redirects``, ``http_status``, ``content_type``, ``too_large``, ``no_article_text``.
Lower-level errors (httpx2, httpcore2, socket, cleaning) are translated here, ``from err``.
"""

from __future__ import annotations

import asyncio
import codecs
import re
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from typing import Any, Literal

import httpcore2
import httpx2
import trafilatura

from summariser.cleaning import clean
from summariser.errors import EmptySourceError, InputError, NoArticleTextError

__all__ = [
    "FetchError",
    "FetchLimits",
    "FetchReason",
    "FetchedArticle",
    "PinnedTransport",
    "Resolver",
    "fetch_article",
    "refusal",
    "resolve_host",
]

FetchReason = Literal[
    "scheme",
    "invalid_url",
    "port",
    "blocked_address",
    "dns",
    "connect",
    "timeout",
    "too_many_redirects",
    "http_status",
    "content_type",
    "too_large",
    "no_article_text",
]

IPAddress = IPv4Address | IPv6Address

#: Resolves ``(host, port)`` to the host's addresses, as strings; raises ``OSError`` on failure.
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]


class FetchError(InputError):
    """The link cannot be fetched as article text; ``reason`` says why (see the module doc)."""

    def __init__(
        self,
        message: str,
        *,
        reason: FetchReason,
        url: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.reason: FetchReason = reason
        self.url = url
        self.status = status


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """What one fetch may cost: time for all of it, bytes of body, hops, and what it may be."""

    timeout_s: float = 10
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    allowed_content_types: tuple[str, ...] = ("text/html", "application/xhtml+xml", "text/plain")
    allowed_ports: tuple[int, ...] = (80, 443)


@dataclass(frozen=True, slots=True)
class FetchedArticle:
    """A fetched page: where it was asked for and found, and its article text and title."""

    url: str
    final_url: str
    status: int
    content_type: str
    text: str
    title: str | None
    bytes_read: int
    redirects: int


# --- the address policy ------------------------------------------------------------------------

# Addresses ipaddress calls global but that must never be fetched, and some it already refuses,
# listed so that the refusal names them.
_DENIED = (
    (ip_network("169.254.169.254/32"), "the cloud metadata service (AWS, GCP, Azure)"),
    (ip_network("169.254.170.2/32"), "the ECS task metadata service"),
    (ip_network("fd00:ec2::254/128"), "the AWS metadata service over IPv6"),
    (ip_network("100.100.100.200/32"), "the Alibaba Cloud metadata service"),
    (ip_network("168.63.129.16/32"), "the Azure platform (WireServer) address"),
    # Python 3.11 calls shared address space neither private nor global: name it.
    (ip_network("100.64.0.0/10"), "shared address space (carrier-grade NAT)"),
)
_NAT64 = ip_network("64:ff9b::/96")


def _embedded_ipv4(ip: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo client, NAT64), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def refusal(ip: IPAddress) -> str | None:
    """Why the address may not be fetched, or ``None`` when it is a public unicast address."""
    if isinstance(ip, IPv6Address):
        if ip.scope_id:
            return "an address with a zone index"
        embedded = _embedded_ipv4(ip)
        # A gateway would route such an address to the IPv4 one: judge that one too.
        if embedded is not None and (why := refusal(embedded)) is not None:
            return f"{why}, embedded in {ip}"
    for network, name in _DENIED:
        if ip.version == network.version and ip in network:
            return name
    flags = (
        ("loopback", ip.is_loopback),
        ("unspecified", ip.is_unspecified),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("site-local", isinstance(ip, IPv6Address) and ip.is_site_local),
        ("not globally routable", not ip.is_global),
    )
    return next((f"a {name} address" for name, flag in flags if flag), None)


# One to four dot-separated numbers, each decimal, octal (leading 0) or hex (0x): the forms
# inet_aton accepts, and so what getaddrinfo would quietly read as an address.
_NUMBER = r"(?:0x[0-9a-f]*|[0-9]+)"
_NUMERIC_HOST = re.compile(rf"{_NUMBER}(?:\.{_NUMBER}){{0,3}}\.?", re.IGNORECASE)


def _ip_literal(host: str, url: str) -> IPAddress | None:
    """The address a host names by itself (``[::1]``, ``127.0.0.1``, ``0x7f.1``), or ``None``."""
    try:
        if ":" in host:
            return ip_address(host)
        if _NUMERIC_HOST.fullmatch(host):
            return IPv4Address(socket.inet_aton(host.rstrip(".")))
    except (ValueError, OSError) as err:
        # A numeric host that is no valid address is one resolvers would disagree about.
        raise FetchError(f"{host!r} is not a valid address", reason="invalid_url", url=url) from err
    return None


async def resolve_host(host: str, port: int) -> list[str]:
    """The default :data:`Resolver`: the system's resolver, asked once, without blocking."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True, slots=True)
class _Hop:
    """One vetted request: its URL, the pin key (host, port) and the addresses checked."""

    url: httpx2.URL
    host: str
    port: int
    addresses: tuple[str, ...]


_DEFAULT_PORTS = {"http": 80, "https": 443}


async def _vet(url: httpx2.URL, limits: FetchLimits, resolve: Resolver) -> _Hop:
    """Check one hop's URL and addresses against the policy; raise :class:`FetchError` if not."""
    shown = str(url)
    if url.scheme not in _DEFAULT_PORTS:
        raise FetchError(
            f"only http and https links can be fetched, not {url.scheme or 'no scheme'}",
            reason="scheme",
            url=shown,
        )
    if url.userinfo:
        raise FetchError(
            "links with a user name or password are refused", reason="invalid_url", url=shown
        )
    host = url.raw_host.decode("ascii").lower()
    if not host or "%" in host:
        raise FetchError("the link has no usable host", reason="invalid_url", url=shown)
    port = url.port or _DEFAULT_PORTS[url.scheme]
    if port not in limits.allowed_ports:
        raise FetchError(f"port {port} is not allowed", reason="port", url=shown)

    literal = _ip_literal(host, shown)
    if literal is not None:
        addresses: list[IPAddress] = [literal]
        # Ask for the canonical form, so that what is connected to is what was checked.
        host = str(literal)
        url = url.copy_with(host=host)
    else:
        try:
            found = await resolve(host, port)
            addresses = [ip_address(address) for address in found]
        except (OSError, ValueError) as err:
            raise FetchError(f"cannot resolve {host}: {err}", reason="dns", url=shown) from err
        if not addresses:
            raise FetchError(f"{host} has no address", reason="dns", url=shown)
    for address in addresses:
        why = refusal(address)
        if why is not None:
            raise FetchError(f"{host} is {address}: {why}", reason="blocked_address", url=shown)
    return _Hop(url, host, port, tuple(str(address) for address in addresses))


# --- the pinned transport ----------------------------------------------------------------------


class _PinningBackend(httpcore2.AsyncNetworkBackend):
    """A network backend that opens TCP connections only to the addresses pinned for a host."""

    def __init__(
        self, pins: dict[tuple[str, int], tuple[str, ...]], inner: httpcore2.AsyncNetworkBackend
    ) -> None:
        self._pins = pins
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore2.AsyncNetworkStream:
        addresses = self._pins.get((host.lower(), port))
        if not addresses:
            # Fail closed: a host nobody vetted is never looked up, let alone connected to.
            raise httpcore2.ConnectError(f"{host}:{port} was not vetted")
        error: httpcore2.ConnectError | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except httpcore2.ConnectError as err:
                error = err
        assert error is not None
        raise error

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore2.AsyncNetworkStream:
        raise httpcore2.ConnectError("unix sockets are never used for fetching")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


_ERRORS: tuple[tuple[type[Exception], type[httpx2.TransportError]], ...] = (
    (httpcore2.TimeoutException, httpx2.TimeoutException),
    (httpcore2.ConnectError, httpx2.ConnectError),
    (httpcore2.NetworkError, httpx2.NetworkError),
    (httpcore2.ProtocolError, httpx2.ProtocolError),
    (httpcore2.UnsupportedProtocol, httpx2.UnsupportedProtocol),
)


@contextmanager
def _as_httpx_errors() -> Iterator[None]:
    """Raise httpcore2's errors as httpx2's, as every httpx2 transport must."""
    try:
        yield
    except tuple(core for core, _ in _ERRORS) as err:
        mapped = next(ours for core, ours in _ERRORS if isinstance(err, core))
        raise mapped(str(err)) from err


class _Body(httpx2.AsyncByteStream):
    """httpcore2's response body as an httpx2 stream."""

    def __init__(self, stream: AsyncIterator[bytes] | Any) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx_errors():
            async for chunk in self._stream:
                yield chunk

    async def aclose(self) -> None:
        if hasattr(self._stream, "aclose"):
            await self._stream.aclose()


class PinnedTransport(httpx2.AsyncBaseTransport):
    """An httpx2 transport that connects each host only to the addresses pinned for it.

    The URL keeps the hostname, so the Host header, SNI and the certificate check are the
    hostname's; only the TCP connect is redirected, inside the network backend. A host with no
    pin is refused. ``network_backend`` replaces the real sockets (in tests).
    """

    def __init__(
        self,
        *,
        network_backend: httpcore2.AsyncNetworkBackend | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._pins: dict[tuple[str, int], tuple[str, ...]] = {}
        backend = _PinningBackend(self._pins, network_backend or httpcore2.AnyIOBackend())
        self._pool = httpcore2.AsyncConnectionPool(
            # trust_env off: proxy and CA settings in the environment must not reroute a fetch.
            ssl_context=ssl_context or httpx2.create_ssl_context(trust_env=False),
            http1=True,
            http2=False,
            network_backend=backend,
        )

    def pin(self, host: str, port: int, addresses: Sequence[str]) -> None:
        """Let ``host:port`` be connected to these (vetted) addresses, tried in order."""
        self._pins[(host.lower(), port)] = tuple(addresses)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        assert isinstance(request.stream, httpx2.AsyncByteStream)
        core_request = httpcore2.Request(
            method=request.method,
            url=httpcore2.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx_errors():
            response = await self._pool.handle_async_request(core_request)
        return httpx2.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Body(response.stream),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()


# --- the fetch ---------------------------------------------------------------------------------

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_HEADERS = {
    "User-Agent": "summariser/0.1 (financial news summaries)",
    "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9",
    # No br or zstd: gzip and deflate are what every server has, and less to decompress.
    "Accept-Encoding": "gzip, deflate",
}


async def fetch_article(
    url: str,
    *,
    limits: FetchLimits = FetchLimits(),  # frozen, so safe to share
    resolver: Resolver | None = None,
    transport: httpx2.AsyncBaseTransport | None = None,
) -> FetchedArticle:
    """Fetch an untrusted link under the policy of this module and return its article text.

    ``resolver`` replaces the system resolver (in tests). ``transport`` replaces the
    :class:`PinnedTransport` made for this fetch: a ``PinnedTransport`` given here gets the pins
    too, while any other transport (an ``httpx2.MockTransport`` in tests) is trusted to connect
    where the URL says. Every address is vetted either way.
    """
    resolve = resolver or resolve_host
    carrier = transport or PinnedTransport()
    try:
        async with asyncio.timeout(limits.timeout_s):
            final, status, media_type, charset, body, redirects = await _follow(
                url, limits, resolve, carrier
            )
    except TimeoutError as err:
        raise FetchError(
            f"the fetch took longer than {limits.timeout_s:g} s", reason="timeout", url=url
        ) from err
    except httpx2.TimeoutException as err:
        raise FetchError(f"the fetch timed out: {err}", reason="timeout", url=url) from err
    except httpx2.HTTPError as err:
        raise FetchError(f"the connection failed: {err}", reason="connect", url=url) from err
    except httpx2.InvalidURL as err:
        raise FetchError(f"invalid link: {err}", reason="invalid_url", url=url) from err
    finally:
        if transport is None:
            await carrier.aclose()

    # Extraction parses the whole page: off the event loop, and outside the network deadline.
    text, title = await asyncio.to_thread(_article_text, body, media_type, charset, final)
    return FetchedArticle(
        url=url,
        final_url=final,
        status=status,
        content_type=media_type,
        text=text,
        title=title,
        bytes_read=len(body),
        redirects=redirects,
    )


async def _follow(
    url: str, limits: FetchLimits, resolve: Resolver, transport: httpx2.AsyncBaseTransport
) -> tuple[str, int, str, str | None, bytes, int]:
    """Request, vetting and following redirects; out: final URL, status, type, charset, body."""
    # A fragment is never sent to a server; dropping it here keeps final_url honest too.
    current = httpx2.URL(url).copy_with(fragment=None)
    for redirects in range(limits.max_redirects + 1):
        hop = await _vet(current, limits, resolve)
        if isinstance(transport, PinnedTransport):
            transport.pin(hop.host, hop.port, hop.addresses)
        request = httpx2.Request(
            "GET",
            hop.url,
            headers=_HEADERS,
            extensions={"timeout": httpx2.Timeout(limits.timeout_s).as_dict()},
        )
        response = await transport.handle_async_request(request)
        try:
            location = response.headers.get("location")
            if response.status_code in _REDIRECTS and location:
                # Relative locations are common (RFC 9110 allows them).
                current = current.join(location).copy_with(fragment=None)
                continue
            shown = str(current)
            if not 200 <= response.status_code < 300:
                raise FetchError(
                    f"the server answered {response.status_code}",
                    reason="http_status",
                    url=shown,
                    status=response.status_code,
                )
            media_type, charset = _content_type(response.headers.get("content-type", ""))
            if media_type not in limits.allowed_content_types:
                raise FetchError(
                    f"{media_type or 'no content type'} is not an article",
                    reason="content_type",
                    url=shown,
                )
            body = await _read_capped(response, limits.max_bytes, shown)
            return shown, response.status_code, media_type, charset, body, redirects
        finally:
            await response.aclose()
    raise FetchError(
        f"more than {limits.max_redirects} redirects", reason="too_many_redirects", url=url
    )


def _content_type(header: str) -> tuple[str, str | None]:
    """The media type (lower case) and charset parameter of a Content-Type header."""
    media_type, *params = (part.strip() for part in header.split(";"))
    charset = None
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip("\"'") or None
    return media_type.lower(), charset


async def _read_capped(response: httpx2.Response, max_bytes: int, url: str) -> bytes:
    """The (decoded) body, read chunk by chunk and abandoned as soon as it passes ``max_bytes``."""
    too_large = FetchError(
        f"the page is larger than {max_bytes} bytes", reason="too_large", url=url
    )
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    body = bytearray()
    # Decoded bytes are counted, so a gzip bomb is stopped by what it expands to.
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > max_bytes:
            raise too_large
    return bytes(body)


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)


def _decode(body: bytes, charset: str | None, *, html: bool) -> str:
    """The body as text: BOM, then the header's charset, then an HTML meta tag, then UTF-8."""
    candidates = [charset]
    if html and (meta := _META_CHARSET.search(body[:4096])) is not None:
        candidates.append(meta.group(1).decode("ascii"))
    for name in candidates:
        if name:
            try:
                codecs.lookup(name)
            except LookupError:
                continue
            return body.decode(name, errors="replace")
    return body.decode("utf-8-sig", errors="replace")


def _article_text(
    body: bytes, media_type: str, charset: str | None, url: str
) -> tuple[str, str | None]:
    """Article text and title from a body: trafilatura for HTML, then summariser's cleaning."""
    document = _decode(body, charset, html=media_type != "text/plain")
    try:
        if media_type == "text/plain":
            article = clean(document, format="text")
            return article.text, article.title
        extracted = trafilatura.extract(
            document, include_comments=False, include_tables=True, favor_precision=True
        )
        title = trafilatura.extract_metadata(document).title if extracted else None
        # Through clean() either way, so the text is normalised like every other source.
        article = (
            clean(extracted, format="text")
            if extracted and extracted.strip()
            else clean(document, format="html")
        )
        return article.text, title or article.title
    except (EmptySourceError, NoArticleTextError) as err:
        raise FetchError(
            f"the page holds no article text: {err}", reason="no_article_text", url=url
        ) from err
