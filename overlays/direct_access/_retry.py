"""Which failures are retried, how often, for how long: `RetryPolicy` and its stamina hook.

Retried: transport errors (connection, timeout) and every 5xx, for every operation, create
included (its job id is chosen once, before the first attempt, so a retry cannot start a second
job). 429 (lanes full) and 423 (backend reserved) only when the policy asks, with their own caps,
since waiting for a lane is right in a batch pipeline but surprising elsewhere. A 409 is never
retried: it means a duplicate id or a finished job. Tests switch the sleeps off with
``stamina.set_testing(True, attempts=N, cap=True)``.

Every decision is logged at debug on the ``direct_access`` logger. stamina's own logging hook
(a WARNING per retry) is kept quiet for this client's retries only: the hooks set with
``stamina.instrumentation.set_on_retry_hooks`` stay, and still see every retry.
"""

from __future__ import annotations

import functools
import logging
import random
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from types import CodeType

import stamina
from stamina.instrumentation import (
    LoggingOnRetryHook,
    RetryDetails,
    RetryHook,
    StructlogOnRetryHook,
    get_on_retry_hooks,
    set_on_retry_hooks,
)

from direct_access._errors import (
    APIConnectionError,
    BackendReservedError,
    ServerError,
    TooManyJobsError,
)

__all__ = ["RetryPolicy", "RetryState"]

_log = logging.getLogger("direct_access")


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds of the retries; both the attempts and the total time are capped.

    - ``attempts`` / ``timeout``: for transport errors and 5xx answers (total seconds from the
      first attempt; a retry whose wait would end past it is not made).
    - ``wait_initial``, ``wait_max``, ``wait_jitter``: exponential backoff between them.
    - ``retry_lanes_full`` (429) and ``retry_reserved`` (423): off by default; when on, retried
      up to ``busy_attempts`` times within ``busy_timeout`` seconds, waiting ``busy_wait``
      seconds (growing to ``busy_wait_max``) unless the service sends ``Retry-After``.
    - ``max_retry_after``: a longer ``Retry-After`` is not waited for; the error is raised.
    """

    attempts: int = 4
    timeout: float = 60.0
    wait_initial: float = 0.5
    wait_max: float = 10.0
    wait_jitter: float = 0.5
    retry_lanes_full: bool = False
    retry_reserved: bool = False
    busy_attempts: int = 30
    busy_timeout: float = 600.0
    busy_wait: float = 2.0
    busy_wait_max: float = 30.0
    max_retry_after: float = 120.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.busy_attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.timeout < 0 or self.busy_timeout < 0:
            raise ValueError("timeouts must not be negative")

    @classmethod
    def none(cls) -> RetryPolicy:
        """No retries at all."""
        return cls(attempts=1, retry_lanes_full=False, retry_reserved=False)

    @classmethod
    def patient(cls) -> RetryPolicy:
        """Also wait for a free lane (429) and the end of a reservation (423)."""
        return cls(retry_lanes_full=True, retry_reserved=True)

    def _busy(self, exc: Exception) -> bool:
        return (isinstance(exc, TooManyJobsError) and self.retry_lanes_full) or (
            isinstance(exc, BackendReservedError) and self.retry_reserved
        )

    def state(
        self,
        operation_id: str,
        clock: Callable[[], float] = time.monotonic,
        *,
        budget: float | None = None,
    ) -> RetryState:
        """The bookkeeping of one call (one per call: it counts and times its attempts).

        ``budget``: seconds the caller can give the whole call (a wait's time left); a retry
        that would end past it is not made, and `RetryState.budget_spent` says so.
        """
        return RetryState(self, operation_id, clock, budget)


class RetryState:
    """One call's retries: stamina's ``on`` hook, with caps per class of failure and logging."""

    def __init__(
        self,
        policy: RetryPolicy,
        operation_id: str,
        clock: Callable[[], float],
        budget: float | None = None,
    ) -> None:
        self.policy = policy
        self.operation_id = operation_id
        self.budget = budget
        #: Whether a retry was refused because it would have ended past ``budget``.
        self.budget_spent = False
        self._clock = clock
        self._start = clock()
        self._transient = 0
        self._busy = 0
        #: Attempts started so far (the caller increments it); > 1 means an earlier one may
        #: have taken effect on the service without the answer reaching us.
        self.attempt = 0
        #: Whether an attempt ended without telling whether the service acted (no answer, a
        #: timeout, a 5xx): the call's effect is unknown until read back (see `note`).
        self.uncertain = False

    def note(self, exc: BaseException) -> None:
        """Record how an attempt failed (the drivers call it for every failed attempt)."""
        if isinstance(exc, APIConnectionError | ServerError):
            self.uncertain = True

    @property
    def retried(self) -> bool:
        """Whether more than one attempt started (an earlier one may have taken effect)."""
        return self.attempt > 1

    def time_left(self) -> float:
        """Seconds left of the call's total limit: the policy's caps, or the caller's budget."""
        total = self.stamina_timeout
        if self.budget is not None:
            total = min(total, self.budget)
        return max(0.0, total - (self._clock() - self._start))

    @property
    def stamina_attempts(self) -> int:
        """The attempt cap handed to stamina: the larger of the two classes' caps."""
        p = self.policy
        busy = p.busy_attempts if (p.retry_lanes_full or p.retry_reserved) else 1
        return max(p.attempts, busy)

    @property
    def stamina_timeout(self) -> float:
        """The time cap handed to stamina (the hook applies the per-class caps)."""
        p = self.policy
        busy = p.busy_timeout if (p.retry_lanes_full or p.retry_reserved) else 0.0
        return max(p.timeout, busy)

    def decide(self, exc: Exception) -> bool | float:
        """stamina's hook: False to raise, True for its backoff, a float to wait that long."""
        p = self.policy
        elapsed = self._clock() - self._start
        retry_after = getattr(exc, "retry_after", None)
        if isinstance(exc, APIConnectionError | ServerError):
            self._transient += 1
            if self._transient >= p.attempts:
                return self._no(exc, f"{p.attempts} attempts made")
            wait = min(p.wait_max, p.wait_initial * 2.0 ** (self._transient - 1))
            wait += random.uniform(0, p.wait_jitter)  # noqa: S311 - jitter, not crypto
            cap = p.timeout
        elif p._busy(exc):
            self._busy += 1
            if self._busy >= p.busy_attempts:
                return self._no(exc, f"{p.busy_attempts} attempts made")
            wait = min(p.busy_wait_max, p.busy_wait * 1.5 ** (self._busy - 1))
            cap = p.busy_timeout
        else:
            return self._no(exc, "not a retried failure")
        if isinstance(retry_after, float):
            if retry_after > p.max_retry_after:
                return self._no(exc, f"Retry-After {retry_after:g} s exceeds the policy's limit")
            wait = float(retry_after)
        passes = self._passes_a_limit(elapsed + wait, cap)
        if passes is not None:
            return self._no(exc, f"waiting {wait:.2f} s would pass {passes}")
        _log.debug(
            "retrying %s after %s (attempt %d failed; next in %.2f s%s)",
            self.operation_id,
            _name(exc),
            self.attempt,
            wait,
            ", from Retry-After" if isinstance(retry_after, float) else "",
        )
        return wait

    def _passes_a_limit(self, end: float, cap: float) -> str | None:
        """Which limit a retry ending ``end`` s after the first attempt would pass, if any."""
        if self.budget is not None and end > self.budget:
            self.budget_spent = True
            return "the caller's deadline"
        if end > cap:
            return f"the {cap:g} s limit"
        return None

    def _no(self, exc: Exception, why: str) -> bool:
        _log.debug("not retrying %s after %s: %s", self.operation_id, _name(exc), why)
        return False

    def retry_context(self) -> stamina._core._RetryContextIterator:
        """stamina's retry iterator for this call (for ``for`` and ``async for``)."""
        _quiet_stamina_logging()
        return stamina.retry_context(
            on=self.decide,
            attempts=self.stamina_attempts,
            timeout=self.stamina_timeout,
            wait_initial=self.policy.wait_initial,
            wait_max=max(self.policy.wait_max, self.policy.busy_wait_max),
            wait_jitter=0.0,
        ).with_name(_NAME_PREFIX + self.operation_id, (), {})


# stamina hooks see this name for the retries of this client.
_NAME_PREFIX = "direct_access."
_hooks_lock = threading.Lock()


@functools.cache
def _logging_hook_codes() -> frozenset[CodeType]:
    """The code of the hooks stamina's logging factories make (each hook is a closure)."""
    codes = set()
    for factory in (LoggingOnRetryHook, StructlogOnRetryHook):
        try:
            hook = factory.hook_factory()
        except ImportError:  # structlog is optional
            continue
        code = getattr(hook, "__code__", None)
        if isinstance(code, CodeType):
            codes.add(code)
    return frozenset(codes)


class _QuietForUs:
    """A stamina logging hook that stays silent for this client's retries."""

    def __init__(self, hook: RetryHook) -> None:
        self.hook = hook

    def __call__(self, details: RetryDetails) -> AbstractContextManager[None] | None:
        if details.name.startswith(_NAME_PREFIX):
            return None
        return self.hook(details)


# The hooks tuple `_quiet_stamina_logging` last found nothing to wrap in (stamina hands out the same
# tuple until hooks are set again).
_checked_hooks: list[tuple[RetryHook, ...]] = []


def _quiet_stamina_logging() -> None:
    """Wrap stamina's logging hooks in `_QuietForUs`, leaving every other hook as it is.

    Checked before each call, so hooks a user sets later are wrapped too (a no-op once done).
    """
    hooks = get_on_retry_hooks()
    if _checked_hooks and hooks is _checked_hooks[0]:  # the tuple of last time: nothing to wrap
        return
    codes = _logging_hook_codes()
    if not any(getattr(h, "__code__", None) in codes for h in hooks):
        _checked_hooks[:] = [hooks]
        return
    with _hooks_lock:
        hooks = get_on_retry_hooks()
        quiet: tuple[RetryHook, ...] = tuple(
            _QuietForUs(h) if getattr(h, "__code__", None) in codes else h for h in hooks
        )
        set_on_retry_hooks(quiet)
        # Nothing is recorded here: hooks set by another thread since would be taken as checked.
        # The next call looks at the tuple, finds nothing to wrap, and records it.


def _name(exc: Exception) -> str:
    status = getattr(exc, "status_code", None)
    return f"{type(exc).__name__} {status}" if status is not None else type(exc).__name__
