"""Polling a job until it ends: terminal statuses as an exhaustive set, a deadline, backoff."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from direct_access._errors import JobTimeoutError
from direct_access_api.models import Job, JobStatus

__all__ = ["MAX_POLL_INTERVAL", "TERMINAL_STATUSES", "poll_delays", "wait_async", "wait_sync"]

_log = logging.getLogger("direct_access")

#: The statuses a job never leaves. Every `JobStatus` is either here or `Running` (checked at
#: import, so a status added to the spec cannot be silently treated as running forever).
TERMINAL_STATUSES: frozenset[JobStatus] = frozenset(
    {JobStatus.COMPLETED, JobStatus.CANCELLED, JobStatus.FAILED}
)
_ACTIVE = frozenset({JobStatus.RUNNING})
if frozenset(JobStatus) != TERMINAL_STATUSES | _ACTIVE:  # pragma: no cover - guards the spec
    raise RuntimeError(f"JobStatus has values not classified: {set(JobStatus) - _ACTIVE}")

#: Polls start at ``poll_interval`` and grow by half each time up to this many seconds.
MAX_POLL_INTERVAL = 10.0
_GROWTH = 1.5


def poll_delays(poll_interval: float, remaining: float, attempt: int) -> float:
    """How long to sleep before poll number ``attempt + 1``, never past the deadline."""
    ceiling = max(MAX_POLL_INTERVAL, poll_interval)
    delay = min(ceiling, poll_interval * _GROWTH ** min(attempt, 64))
    return max(0.0, min(delay, remaining))


def _check(timeout: float, poll_interval: float) -> None:
    if timeout < 0:
        raise ValueError("timeout must not be negative")
    if poll_interval <= 0:
        raise ValueError("poll_interval must be positive")


def wait_sync(
    get_job: Callable[[str], Job],
    job_id: str,
    *,
    timeout: float,
    poll_interval: float,
    on_status: Callable[[Job], object] | None,
    clock: Callable[[], float],
    sleep: Callable[[float], object],
) -> Job:
    """Poll ``get_job`` until the job is terminal; `JobTimeoutError` at the deadline."""
    _check(timeout, poll_interval)
    deadline = clock() + timeout
    last: Job | None = None
    attempt = 0
    while True:
        job = get_job(job_id)
        if last is None or job.status != last.status:
            _log.debug("job %s is %s", job_id, job.status.value)
        last = job
        if on_status is not None:
            on_status(job)
        if job.status in TERMINAL_STATUSES:
            return job
        remaining = deadline - clock()
        if remaining <= 0:
            raise JobTimeoutError(job_id, timeout, last)
        sleep(poll_delays(poll_interval, remaining, attempt))
        attempt += 1


async def wait_async(
    get_job: Callable[[str], Awaitable[Job]],
    job_id: str,
    *,
    timeout: float,
    poll_interval: float,
    on_status: Callable[[Job], object] | None,
    clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[object]],
) -> Job:
    """`wait_sync` for async code."""
    _check(timeout, poll_interval)
    deadline = clock() + timeout
    last: Job | None = None
    attempt = 0
    while True:
        job = await get_job(job_id)
        if last is None or job.status != last.status:
            _log.debug("job %s is %s", job_id, job.status.value)
        last = job
        if on_status is not None:
            on_status(job)
        if job.status in TERMINAL_STATUSES:
            return job
        remaining = deadline - clock()
        if remaining <= 0:
            raise JobTimeoutError(job_id, timeout, last)
        await sleep(poll_delays(poll_interval, remaining, attempt))
        attempt += 1
