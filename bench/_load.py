"""The load generator: a separate process holding N keep-alive connections, each sending requests
one after another for a bounded time and count, and timing every answer.

It speaks HTTP/1.1 over asyncio streams itself (a fixed request, Content-Length bodies), so that
it costs the 2-core machine far less per request than an HTTP client library would and the figures
measure the server, not the generator. Loopback only.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field

__all__ = ["LoadResult", "LoadSpec", "run_load"]


@dataclass(frozen=True)
class LoadSpec:
    """One cell of load: what to send, how many connections, for how long and how many at most.

    ``body`` may hold ``{id}``, replaced by a new UUID per request (creates need unique ids).
    """

    port: int
    method: str
    path: str
    headers: dict[str, str]
    expected_status: int
    concurrency: int
    seconds: float
    warmup_seconds: float
    max_requests: int
    body: str | None = None
    host: str = "127.0.0.1"


@dataclass
class LoadResult:
    """What one cell measured: answers counted after the warm-up, their latencies, errors."""

    requests: int = 0
    errors: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    first_error: str = ""

    @property
    def rate(self) -> float:
        return self.requests / self.elapsed if self.elapsed > 0 else 0.0

    def percentile(self, fraction: float) -> float:
        """The latency at ``fraction`` (nearest rank), in seconds; 0 when nothing was measured."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        rank = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
        return ordered[rank]


def _request_bytes(spec: LoadSpec) -> bytes | None:
    """The fixed request, or None when each request needs its own body."""
    if spec.body is not None and "{id}" in spec.body:
        return None
    return _encode(spec, spec.body)


def _encode(spec: LoadSpec, body: str | None) -> bytes:
    payload = body.encode() if body is not None else b""
    lines = [f"{spec.method} {spec.path} HTTP/1.1", f"Host: {spec.host}:{spec.port}"]
    lines += [f"{name}: {value}" for name, value in spec.headers.items()]
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one answer; its status and whether the server will close the connection."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    closing = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        lowered = name.strip().lower()
        if lowered == "content-length":
            length = int(value.strip())
        elif lowered == "connection" and value.strip().lower() == "close":
            closing = True
        elif lowered == "transfer-encoding":
            raise ValueError("chunked answers are not expected from these servers")
    if length:
        await reader.readexactly(length)
    return status, closing


async def _connection(
    spec: LoadSpec, result: LoadResult, start_measuring: float, deadline: float, budget: list[int]
) -> None:
    fixed = _request_bytes(spec)
    reader, writer = await asyncio.open_connection(spec.host, spec.port, limit=1 << 20)
    try:
        while time.perf_counter() < deadline and budget[0] > 0:
            budget[0] -= 1
            if fixed is not None:
                request = fixed
            else:
                assert spec.body is not None
                request = _encode(spec, spec.body.replace("{id}", str(uuid.uuid4())))
            sent = time.perf_counter()
            writer.write(request)
            await writer.drain()
            try:
                status, closing = await _read_answer(reader)
            except (asyncio.IncompleteReadError, ConnectionError, ValueError) as error:
                result.errors += 1
                result.first_error = result.first_error or f"{type(error).__name__}: {error}"
                return
            answered = time.perf_counter()
            if sent >= start_measuring:
                result.requests += 1
                result.latencies.append(answered - sent)
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if status != spec.expected_status:
                    result.errors += 1
            if closing:
                writer.close()
                reader, writer = await asyncio.open_connection(spec.host, spec.port, limit=1 << 20)
    finally:
        writer.close()


async def _load(spec: LoadSpec) -> LoadResult:
    result = LoadResult()
    started = time.perf_counter()
    start_measuring = started + spec.warmup_seconds
    deadline = start_measuring + spec.seconds
    budget = [spec.max_requests]
    outcomes = await asyncio.gather(
        *(
            _connection(spec, result, start_measuring, deadline, budget)
            for _ in range(spec.concurrency)
        ),
        return_exceptions=True,
    )
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            result.errors += 1
            result.first_error = result.first_error or f"{type(outcome).__name__}: {outcome}"
    result.elapsed = max(0.0, time.perf_counter() - max(start_measuring, started))
    return result


def run_load(spec: LoadSpec) -> LoadResult:
    """Run one cell (in the load process) and return what it measured."""
    return asyncio.run(_load(spec))
