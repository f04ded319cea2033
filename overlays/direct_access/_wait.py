"""Polling a job until it ends: terminal statuses as an exhaustive set, a deadline, backoff.

`wait_flow` is the one polling loop (a flow, see `_flow`); each poll gets the time left as its
budget, so that retries inside a poll cannot carry the wait past its deadline.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable

from direct_access._errors import (
    APIConnectionError,
    DirectAccessError,
    JobTimeoutError,
    RequestTimeoutError,
    ServerError,
)
from direct_access._flow import Flow, Sleep
from direct_access_api.models import Job, JobStatus

__all__ = [
    "MAX_POLL_INTERVAL",
    "MIN_POLL_TIME",
    "TERMINAL_STATUSES",
    "DeadlineReached",
    "poll_delays",
    "wait_flow",
]

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
#: The request timeout a poll gets at least, so that ``timeout=0`` can still look once.
MIN_POLL_TIME = 1.0


# What a poll may fail with while the job goes on: never raised by `wait` before its deadline.
_TRANSIENT = (APIConnectionError, ServerError, RequestTimeoutError)


class DeadlineReached(DirectAccessError):
    """A poll gave up because a retry would have ended past the wait's deadline."""


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


def wait_flow(
    poll: Callable[[str, float], Flow[Job]],
    job_id: str,
    *,
    timeout: float,
    poll_interval: float,
    on_status: Callable[[Job], object] | None,
    clock: Callable[[], float],
    done: Callable[[Job], bool] | None = None,
) -> Flow[Job]:
    """Poll (``poll(job_id, budget)``) until the job is terminal (and ``done`` holds, when
    given: it is asked only of terminal jobs); `JobTimeoutError` at the
    deadline, also when it passes during a poll (carrying the last job seen). A poll that fails
    transiently (no answer, a timeout, a 5xx, a 408) before the deadline is followed by another."""
    _check(timeout, poll_interval)
    deadline = clock() + timeout
    last: Job | None = None
    for attempt in itertools.count():
        try:
            job = yield from poll(job_id, max(0.0, deadline - clock()))
        except DeadlineReached as exc:
            raise JobTimeoutError(job_id, timeout, last) from exc.__cause__
        except _TRANSIENT as exc:
            # A poll's retries gave up, but the wait's deadline has not passed: poll on.
            if clock() >= deadline:
                raise JobTimeoutError(job_id, timeout, last) from exc
            _log.debug("job %s: poll failed (%s); polling on until the deadline", job_id, exc)
        else:
            if last is None or job.status != last.status:
                _log.debug("job %s is %s", job_id, job.status.value)
            last = job
            if on_status is not None:
                on_status(job)
            if job.status in TERMINAL_STATUSES and (done is None or done(job)):
                return job
        remaining = deadline - clock()
        if remaining <= 0:
            raise JobTimeoutError(job_id, timeout, last)
        yield Sleep(poll_delays(poll_interval, remaining, attempt))
    raise AssertionError("unreachable")  # pragma: no cover
