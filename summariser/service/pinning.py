"""Pinning: an httpx2 transport that connects each host only to the addresses vetted for it.

Stage: service edge (network I/O, asyncio). In: pins, ``(host, port) -> addresses`` set by the
fetcher through :meth:`PinnedTransport.pin` after the address policy has passed them, then
``httpx2.Request`` objects. Out: ``httpx2.Response`` objects whose body streams from the socket.
The URL keeps the hostname, so the Host header, TLS SNI and the certificate check are the
hostname's; only the TCP connect is redirected, so a second DNS answer (DNS rebinding) is never
asked for. A host with no pin is refused.

Errors: httpcore2's errors are raised as httpx2's (``ConnectError``, ``TimeoutException``, ...),
as every httpx2 transport must; :mod:`summariser.service.fetch` translates those in turn.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpcore2
import httpx2

__all__ = ["PinnedTransport"]


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
