"""Deadlines and caps at the transport seam: `wait` keeps polling through transient failures
until its deadline; answers past the size cap fail unread (the wall-clock limits against a real
trickling server: tests/integration/client/test_deadlines.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from direct_access import (
    AsyncClient,
    Client,
    InvalidResponseError,
    JobStatus,
    JobTimeoutError,
    Settings,
)
from direct_access._transport import DEFAULT_MAX_ANSWER_BYTES
from tests.unit.client.conftest import Service, error_body, job_body
from tests.unit.client.test_wait import FakeTime


def test_wait_never_raises_a_transient_error_before_its_deadline(
    service: Service, settings: Settings
) -> None:
    """A lasting 503 outage: no ServerError, but JobTimeoutError at the deadline, carrying the
    last job seen before the outage."""
    service.token()
    service.json("GET", "/v1/jobs/j", 200, job_body("j"))
    service.json("GET", "/v1/jobs/j", 503, error_body(503), repeat=True)
    t = FakeTime()
    with (
        Client(settings, transport=service.transport(), clock=t.clock, sleep=t.sleep) as c,
        pytest.raises(JobTimeoutError) as caught,
    ):
        c.wait("j", timeout=60, poll_interval=1.0)
    assert t.now >= 60
    assert caught.value.last is not None
    assert caught.value.last.status is JobStatus.RUNNING


def test_wait_polls_on_after_a_failed_poll_and_returns_the_ended_job(
    service: Service, settings: Settings
) -> None:
    """Connection failures for a while, then the job is Completed: wait returns it."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    service.token()
    service.add("GET", "/v1/jobs/j", *([refuse] * 9))
    service.json("GET", "/v1/jobs/j", 200, job_body("j", "Completed"))
    t = FakeTime()
    with Client(settings, transport=service.transport(), clock=t.clock, sleep=t.sleep) as c:
        assert c.wait("j", timeout=60, poll_interval=1.0).status is JobStatus.COMPLETED


class EndlessBody(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A chunked body that never ends; counts what it produced."""

    def __init__(self) -> None:
        self.produced = 0

    def __iter__(self) -> Iterator[bytes]:
        while True:
            self.produced += 65536
            yield b"[" * 65536

    async def __aiter__(self):  # type: ignore[no-untyped-def]
        while True:
            self.produced += 65536
            yield b"[" * 65536


def test_an_answer_past_the_size_cap_fails_without_being_read_whole(
    service: Service, settings: Settings
) -> None:
    """An endless body stops at the cap: InvalidResponseError naming the operation."""
    body = EndlessBody()
    service.token()
    service.add("GET", "/v1/jobs", httpx.Response(200, stream=body))
    cap = 1_000_000
    with (
        Client(settings, transport=service.transport(), max_answer_bytes=cap) as c,
        pytest.raises(InvalidResponseError, match="list_jobs answer is larger"),
    ):
        c.list_jobs()
    assert body.produced <= cap + 65536


def test_a_declared_length_past_the_cap_fails_at_once(service: Service, settings: Settings) -> None:
    """Content-Length over the cap: refused before the body is read (sync and async)."""
    service.token()
    for _ in range(2):
        service.add(
            "GET",
            "/v1/jobs/j",
            httpx.Response(200, headers={"Content-Length": str(10**12)}, stream=EndlessBody()),
        )
    with (
        Client(settings, transport=service.transport()) as c,
        pytest.raises(InvalidResponseError, match="Content-Length"),
    ):
        c.get_job("j")

    async def main() -> None:
        async with AsyncClient(settings, transport=service.async_transport()) as c:
            await c.get_job("j")

    with pytest.raises(InvalidResponseError, match="Content-Length"):
        asyncio.run(main())
    assert DEFAULT_MAX_ANSWER_BYTES >= 100 * 1024 * 1024
