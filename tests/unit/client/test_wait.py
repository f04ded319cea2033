"""wait: terminal statuses as an exhaustive set, a deadline always, backoff, injectable time."""

from __future__ import annotations

import httpx
import pytest

from direct_access import (
    TERMINAL_STATUSES,
    AsyncClient,
    Client,
    JobStatus,
    JobTimeoutError,
    Settings,
)
from direct_access._wait import MAX_POLL_INTERVAL, MIN_POLL_TIME, poll_delays
from tests.unit.client.conftest import Service, error_body, job_body


class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


def test_terminal_statuses_cover_every_status_but_running() -> None:
    """Every JobStatus is terminal or Running; nothing is left unclassified."""
    assert set(JobStatus) - {JobStatus.RUNNING} == TERMINAL_STATUSES


def test_wait_returns_the_terminal_job_with_growing_polls(
    service: Service, settings: Settings
) -> None:
    """Polls back off by half each time; the terminal job is returned; on_status sees each."""
    service.token()
    for _ in range(4):
        service.json("GET", "/v1/jobs/j", 200, job_body("j"))
    service.json("GET", "/v1/jobs/j", 200, job_body("j", "Completed"))
    t = FakeTime()
    seen: list[JobStatus] = []
    with Client(settings, transport=service.transport(), clock=t.clock, sleep=t.sleep) as c:
        job = c.wait("j", timeout=100, poll_interval=1.0, on_status=lambda j: seen.append(j.status))
    assert job.status is JobStatus.COMPLETED
    assert t.sleeps == [1.0, 1.5, 2.25, 3.375]
    assert seen == [JobStatus.RUNNING] * 4 + [JobStatus.COMPLETED]


def test_wait_has_a_deadline(service: Service, settings: Settings) -> None:
    """A job that stays Running raises JobTimeoutError at the deadline, with the last job."""
    service.token()
    service.json("GET", "/v1/jobs/j", 200, job_body("j"), repeat=True)
    t = FakeTime()
    with (
        Client(settings, transport=service.transport(), clock=t.clock, sleep=t.sleep) as c,
        pytest.raises(JobTimeoutError) as caught,
    ):
        c.wait("j", timeout=30)
    assert t.now == pytest.approx(30)
    assert max(t.sleeps) <= MAX_POLL_INTERVAL
    assert caught.value.last is not None
    assert caught.value.last.status is JobStatus.RUNNING
    assert "still Running after 30 s" in str(caught.value)


@pytest.mark.anyio
async def test_async_wait_has_a_deadline(service: Service, settings: Settings) -> None:
    """The async wait keeps the same deadline."""
    service.token()
    service.json("GET", "/v1/jobs/j", 200, job_body("j"), repeat=True)
    t = FakeTime()
    async with AsyncClient(
        settings, transport=service.async_transport(), clock=t.clock, sleep=t.asleep
    ) as c:
        with pytest.raises(JobTimeoutError):
            await c.wait("j", timeout=5, poll_interval=0.5)
    assert t.now == pytest.approx(5)


def test_zero_timeout_polls_once(service: Service, settings: Settings) -> None:
    """timeout=0 looks once: a finished job is returned, a running one times out at once."""
    service.token()
    service.json("GET", "/v1/jobs/j", 200, job_body("j", "Failed"))
    t = FakeTime()
    with Client(settings, transport=service.transport(), clock=t.clock, sleep=t.sleep) as c:
        assert c.wait("j", timeout=0).status is JobStatus.FAILED
    assert t.sleeps == []


def test_poll_delays_never_pass_the_deadline() -> None:
    """A poll delay is capped by the remaining time and by MAX_POLL_INTERVAL."""
    assert poll_delays(1.0, 0.3, 5) == 0.3
    assert poll_delays(1.0, 1000, 40) == MAX_POLL_INTERVAL
    assert poll_delays(30.0, 1000, 3) == 30.0


def test_bad_arguments_are_refused(service: Service, settings: Settings) -> None:
    """A negative timeout or a non-positive interval is a ValueError before any request."""
    with Client(settings, transport=service.transport()) as c:
        with pytest.raises(ValueError, match="timeout"):
            c.wait("j", timeout=-1)
        with pytest.raises(ValueError, match="poll_interval"):
            c.wait("j", timeout=1, poll_interval=0)


def test_deadline_passing_during_a_poll_is_a_job_timeout(
    service: Service, settings: Settings
) -> None:
    """503s after the deadline's last poll: JobTimeoutError with the last job, not ServerError,
    and no retry or request timeout beyond the time left."""
    service.token()
    service.json("GET", "/v1/jobs/j", 200, job_body("j"))
    service.add("GET", "/v1/jobs/j", httpx.Response(503, json=error_body(503)), repeat=True)
    t = FakeTime()
    with (
        Client(settings, transport=service.transport(), clock=t.clock, sleep=t.sleep) as c,
        pytest.raises(JobTimeoutError) as caught,
    ):
        c.wait("j", timeout=0.3, poll_interval=1.0)
    assert caught.value.last is not None
    assert caught.value.last.status is JobStatus.RUNNING
    polls = service.calls("GET", "/v1/jobs/j")
    assert len(polls) == 2
    for poll in polls:
        assert poll.extensions["timeout"]["read"] <= MIN_POLL_TIME


@pytest.mark.anyio
async def test_async_deadline_passing_during_a_poll_is_a_job_timeout(
    service: Service, settings: Settings
) -> None:
    """The async wait turns a poll cut short by its deadline into JobTimeoutError too."""
    service.token()
    service.add("GET", "/v1/jobs/j", httpx.Response(503, json=error_body(503)), repeat=True)
    t = FakeTime()
    async with AsyncClient(
        settings, transport=service.async_transport(), clock=t.clock, sleep=t.asleep
    ) as c:
        with pytest.raises(JobTimeoutError) as caught:
            await c.wait("j", timeout=0.3)
    assert caught.value.last is None
    assert len(service.calls("GET", "/v1/jobs/j")) == 1
