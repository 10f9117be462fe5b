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

Layout: this module vets each hop, follows redirects, reads and extracts the body. The address
policy (:func:`refusal`, numeric hosts) is :mod:`summariser.service.addresses`; the pinned
transport is :mod:`summariser.service.pinning`. Both are re-exported here.
"""

from __future__ import annotations

import asyncio
import codecs
import re
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from ipaddress import ip_address
from typing import Literal

import httpx2
import trafilatura

from summariser.cleaning import clean
from summariser.errors import EmptySourceError, InputError, NoArticleTextError
from summariser.service.addresses import IPAddress, ip_literal, refusal
from summariser.service.pinning import PinnedTransport

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

    try:
        literal = ip_literal(host)
    except (ValueError, OSError) as err:
        # A numeric host that is no valid address is one resolvers would disagree about.
        raise FetchError(
            f"{host!r} is not a valid address", reason="invalid_url", url=shown
        ) from err
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
