"""Deadlines that hold on the wall clock, against a real loopback server that trickles its
answer a byte at a time: per attempt, per call with retries, through the IAM exchange, in `wait`,
sync and async."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from direct_access import (
    APITimeoutError,
    AsyncClient,
    Client,
    JobTimeoutError,
    RetryPolicy,
    Settings,
)
from tests.integration.client.raw_server import RawServer

#: The trickling server sends one byte per interval: always well within httpx's own per-read
#: timeouts, so only a wall-clock limit can end the call.
TRICKLE_INTERVAL = 0.1
#: Slack on measured bounds (thread start, scheduling on a shared machine).
SLACK = 0.6

_ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n"
    + b"{" * 4000
)


def _trickle(conn: socket.socket, stop: threading.Event) -> None:
    for index in range(len(_ANSWER)):
        if stop.wait(TRICKLE_INTERVAL):
            return
        conn.sendall(_ANSWER[index : index + 1])


@pytest.fixture
def trickling() -> Iterator[RawServer]:
    """Answers each request a byte at a time."""
    with RawServer(_trickle) as server:
        yield server


def _settings(url: str, *, iam_url: str | None = None) -> Settings:
    if iam_url is None:
        return Settings(url=url, service_crn="crn:v1:unit", token="t")  # noqa: S106
    return Settings(url=url, service_crn="crn:v1:unit", api_key="k", iam_url=iam_url)


def _timed(call: object) -> tuple[BaseException | None, float]:
    started = time.monotonic()
    try:
        assert callable(call)
        call()
    except Exception as exc:
        return exc, time.monotonic() - started
    return None, time.monotonic() - started


def test_an_attempt_ends_by_its_timeout_however_slowly_the_server_sends(
    trickling: RawServer,
) -> None:
    """A byte every 0.1 s never trips httpx's read timeout; the call still ends at 1 s."""
    with Client(_settings(trickling.url), timeout=1.0, retry=None) as client:
        error, elapsed = _timed(lambda: client.get_job("j"))
    assert isinstance(error, APITimeoutError), error
    assert 1.0 <= elapsed < 1.0 + SLACK, elapsed


def test_a_call_with_retries_ends_by_the_policys_total_time(trickling: RawServer) -> None:
    """Each attempt is cut at 1 s and retried; the call as a whole ends by the policy's 2.5 s."""
    policy = RetryPolicy(attempts=50, timeout=2.5, wait_initial=0.01, wait_jitter=0)
    with Client(_settings(trickling.url), timeout=1.0, retry=policy) as client:
        error, elapsed = _timed(client.list_jobs)
    assert isinstance(error, APITimeoutError), error
    assert elapsed < 2.5 + SLACK, elapsed
    assert trickling.connections >= 2  # it did retry


def test_the_timeout_covers_the_iam_exchange(trickling: RawServer) -> None:
    """A stalled IAM (trickling its token answer) holds a call no longer than the timeout."""
    settings = _settings("http://127.0.0.1:9", iam_url=trickling.url)
    with Client(settings, timeout=1.0, retry=None) as client:
        error, elapsed = _timed(client.list_jobs)
    assert isinstance(error, APITimeoutError), error
    assert elapsed < 1.0 + SLACK, elapsed


def test_wait_ends_by_its_deadline_against_a_trickling_server(
    trickling: RawServer,
) -> None:
    """wait(timeout=1.5) with 5 s request timeouts: JobTimeoutError by 1.5 s plus one poll."""
    with Client(_settings(trickling.url), timeout=5.0) as client:
        error, elapsed = _timed(lambda: client.wait("j", timeout=1.5, poll_interval=0.1))
    assert isinstance(error, JobTimeoutError), error
    assert 1.5 <= elapsed < 1.5 + 1.0 + SLACK, elapsed


@pytest.mark.parametrize("stalled", ["api", "iam"])
def test_async_attempts_end_by_their_timeout(trickling: RawServer, stalled: str) -> None:
    """The same wall-clock limit for `AsyncClient`, against the API or a stalled IAM."""

    async def main() -> tuple[BaseException | None, float]:
        settings = (
            _settings(trickling.url)
            if stalled == "api"
            else _settings("http://127.0.0.1:9", iam_url=trickling.url)
        )
        async with AsyncClient(settings, timeout=1.0, retry=None) as client:
            started = time.monotonic()
            try:
                await client.get_job("j")
            except Exception as exc:
                return exc, time.monotonic() - started
            return None, time.monotonic() - started

    error, elapsed = asyncio.run(main())
    assert isinstance(error, APITimeoutError), error
    assert 1.0 <= elapsed < 1.0 + SLACK, elapsed
