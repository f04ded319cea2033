"""Wall-clock deadlines and a size cap under every request, at httpx's transport seam.

httpx's timeouts apply to each socket operation, so a server sending a byte a second never trips
a 5 s read timeout. The default transports here bound every connect, read and write by the
deadline of the attempt being made (`attempt_deadline`, set by the clients' drivers), so that an
attempt, the IAM exchange inside it included, ends by its deadline whatever the server does.
`CappedTransport` fails an answer past a size cap while it is read, never holding more.
"""

from __future__ import annotations

import contextlib
import contextvars
import ssl
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import httpcore
import httpx

from direct_access._errors import InvalidResponseError
from direct_access._operations import request_operation

__all__ = [
    "DEFAULT_MAX_ANSWER_BYTES",
    "AsyncCappedTransport",
    "CappedTransport",
    "attempt_deadline",
    "deadline_transport",
]

#: The default cap on an answer's body: far above the largest real answer (a 10,000-job list is
#: about 10 MB), low enough that an endless body fails instead of filling memory.
DEFAULT_MAX_ANSWER_BYTES = 256 * 1024 * 1024

# The `time.monotonic()` by which the current attempt must end (None: no wall-clock limit).
_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "direct_access_attempt_deadline", default=None
)


@contextlib.contextmanager
def attempt_deadline(seconds: float | None) -> Iterator[None]:
    """Bound every socket operation made inside the block to end ``seconds`` from now (a
    deadline already set outside, an earlier one, stays)."""
    if seconds is None:
        yield
        return
    deadline = time.monotonic() + max(0.0, seconds)
    outer = _DEADLINE.get()
    token = _DEADLINE.set(deadline if outer is None else min(outer, deadline))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _bounded(timeout: float | None, error: type[Exception]) -> float | None:
    """``timeout`` shortened to the time left before the attempt's deadline."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the attempt's deadline passed")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_tcp(host, port, bounded, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_unix_socket(path, bounded, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _AsyncStream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(await self._inner.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _AsyncBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        stream = await self._inner.connect_tcp(host, port, bounded, local_address, socket_options)
        return _AsyncStream(stream)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(await self._inner.connect_unix_socket(path, bounded, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def deadline_transport(*, asynchronous: bool) -> httpx.BaseTransport | httpx.AsyncBaseTransport:
    """httpx's default transport with every socket operation bounded by the attempt's deadline.

    httpx does not take a network backend as an argument, so the one of its connection pool is
    wrapped after construction (`tests/unit/client/test_deadlines.py` fails if that changes).
    """
    transport: httpx.HTTPTransport | httpx.AsyncHTTPTransport
    transport = httpx.AsyncHTTPTransport() if asynchronous else httpx.HTTPTransport()
    pool = transport._pool  # httpx's own attribute: see the docstring
    backend = getattr(pool, "_network_backend", None)
    if asynchronous and isinstance(backend, httpcore.AsyncNetworkBackend):
        pool._network_backend = _AsyncBackend(backend)
    elif not asynchronous and isinstance(backend, httpcore.NetworkBackend):
        pool._network_backend = _Backend(backend)
    else:  # pragma: no cover - an httpx or httpcore release that moved the pool's backend
        raise RuntimeError("httpx's connection pool has no network backend to bound")
    return transport


def _too_large(request: httpx.Request, cap: int, seen: str) -> InvalidResponseError:
    op = request_operation(request)
    name = op.operation_id if op is not None else "token exchange"
    return InvalidResponseError(
        request.method,
        str(request.url),
        0,
        f"the {name} answer is larger than the {cap:,}-byte cap ({seen}); not read further",
        operation=op,
    )


def _declared_length(response: httpx.Response) -> int | None:
    try:
        return int(response.headers["Content-Length"])
    except (KeyError, ValueError):
        return None


def _length_frames(response: httpx.Response) -> bool:
    """Whether the declared Content-Length is what frames the body (no Transfer-Encoding)."""
    return "Transfer-Encoding" not in response.headers


def _rewrapped(
    response: httpx.Response, stream: httpx.SyncByteStream | httpx.AsyncByteStream
) -> httpx.Response:
    # A new answer around the capped stream: the inner transport's own object stays as it was.
    return httpx.Response(
        response.status_code,
        headers=response.headers,
        stream=stream,
        extensions=response.extensions,
    )


class _CappedStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, request: httpx.Request, cap: int) -> None:
        self._inner, self._request, self._cap = inner, request, cap

    def __iter__(self) -> Iterator[bytes]:
        seen = 0
        for chunk in self._inner:
            seen += len(chunk)
            if seen > self._cap:
                raise _too_large(self._request, self._cap, f"{seen:,} bytes so far")
            yield chunk

    def close(self) -> None:
        self._inner.close()


class _AsyncCappedStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, request: httpx.Request, cap: int) -> None:
        self._inner, self._request, self._cap = inner, request, cap

    async def __aiter__(self) -> AsyncIterator[bytes]:
        seen = 0
        async for chunk in self._inner:
            seen += len(chunk)
            if seen > self._cap:
                raise _too_large(self._request, self._cap, f"{seen:,} bytes so far")
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


class CappedTransport(httpx.BaseTransport):
    """``inner`` with every answer's body limited to ``cap`` bytes (`InvalidResponseError`).

    ``framed``: ``inner`` is `deadline_transport`'s, HTTP/1.1 through httpcore and h11, which
    read exactly the bytes an answer's Content-Length declares; an answer declaring a length
    within the cap, and no Transfer-Encoding (h11 reads a chunked body whatever length it also
    declares), then goes on as it is, without a counting stream (bench/: about 15 µs a call).
    Any other answer, and every answer of another transport, is counted as it is read.
    """

    def __init__(self, inner: httpx.BaseTransport, cap: int, *, framed: bool = False) -> None:
        self._inner, self._cap, self._framed = inner, cap, framed

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        declared = _declared_length(response)
        if declared is not None and declared > self._cap:
            response.close()
            raise _too_large(request, self._cap, f"Content-Length {declared:,}")
        if declared is not None and self._framed and _length_frames(response):
            return response
        if not isinstance(response.stream, httpx.SyncByteStream):  # pragma: no cover
            return response
        return _rewrapped(response, _CappedStream(response.stream, request, self._cap))

    def close(self) -> None:
        self._inner.close()


class AsyncCappedTransport(httpx.AsyncBaseTransport):
    """`CappedTransport` for async code."""

    def __init__(self, inner: httpx.AsyncBaseTransport, cap: int, *, framed: bool = False) -> None:
        self._inner, self._cap, self._framed = inner, cap, framed

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        declared = _declared_length(response)
        if declared is not None and declared > self._cap:
            await response.aclose()
            raise _too_large(request, self._cap, f"Content-Length {declared:,}")
        if declared is not None and self._framed and _length_frames(response):
            return response
        if not isinstance(response.stream, httpx.AsyncByteStream):  # pragma: no cover
            return response
        return _rewrapped(response, _AsyncCappedStream(response.stream, request, self._cap))

    async def aclose(self) -> None:
        await self._inner.aclose()
