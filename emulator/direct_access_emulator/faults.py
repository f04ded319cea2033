"""Seeded fault injection: one `FaultDraw` per request, applied before and after the operation.

Before: latency, a dropped connection, a 503 or a 500 (nothing is done). Inside: create's 423
and 429, which `JobService.create` applies in its own order (`FaultDraw.reserved_423`,
`lanes_full_429`). After the operation succeeded: the answer dropped or late, so that the
caller does not learn that it acted. The draw travels as an argument, from the route to the
handler.
"""

from __future__ import annotations

import asyncio
import random
import threading
from dataclasses import dataclass

from starlette.requests import Request

from direct_access_emulator.config import FaultConfig
from direct_access_emulator.http_errors import EMULATOR_ERROR_CODES, ApiError

__all__ = ["ABORT_EXTENSION", "NO_FAULTS", "ConnectionDropped", "FaultDraw", "FaultInjector"]

#: ASGI scope extension through which the server lets the app drop a connection (faults).
ABORT_EXTENSION = "direct_access.abort"
# The operation whose 423/429 can be injected.
_CREATE_JOB = "create_job"


class ConnectionDropped(Exception):
    """The fault injector closed the connection; nothing must be sent."""


@dataclass(frozen=True)
class FaultDraw:
    """The faults one request gets."""

    latency_secs: float = 0.0
    drop: bool = False
    error_503: bool = False
    error_500: bool = False
    reserved_423: bool = False
    lanes_full_429: bool = False
    # After the operation succeeded: the answer is lost or late.
    drop_after_commit: bool = False
    late_answer_secs: float = 0.0


#: The draw of a request without faults.
NO_FAULTS = FaultDraw()


def _drop(request: Request, message: str) -> ApiError:
    """Abort the connection when the server can (then raise `ConnectionDropped`), else a 503."""
    abort = request.scope.get("extensions", {}).get(ABORT_EXTENSION)
    if abort is not None:
        abort()
        raise ConnectionDropped
    return ApiError(503, EMULATOR_ERROR_CODES[503], message)


class FaultInjector:
    """Seeded faults: the same seed and request sequence give the same faults."""

    def __init__(self, config: FaultConfig) -> None:
        self.config = config
        self._random = random.Random(config.seed)  # noqa: S311 - reproducible faults, not secrets
        self._lock = threading.Lock()

    def draw(self, operation_id: str) -> FaultDraw:
        """The faults of one request of ``operation_id``."""
        faults = self.config.for_operation(operation_id)
        if faults is None:
            return NO_FAULTS
        with self._lock:
            # Always seven draws per request, so that one probability does not shift the others.
            draws = [self._random.random() for _ in range(7)]
        creates = operation_id == _CREATE_JOB
        return FaultDraw(
            latency_secs=faults.latency_secs,
            drop=draws[0] < faults.drop_connection,
            error_503=draws[1] < faults.error_503,
            error_500=draws[2] < faults.error_500,
            reserved_423=creates and draws[3] < faults.reserved_423,
            lanes_full_429=creates and draws[4] < faults.lanes_full_429,
            drop_after_commit=draws[5] < faults.drop_after_commit,
            late_answer_secs=faults.late_answer_secs if draws[6] < faults.late_answer else 0.0,
        )


async def before(request: Request, draw: FaultDraw) -> None:
    """The faults that come before the operation acts: latency, a drop, a 503 or a 500."""
    if draw.latency_secs:
        await asyncio.sleep(draw.latency_secs)
    if draw.drop:
        raise _drop(request, "Connection dropped (fault injection).")
    if draw.error_503:
        raise ApiError(
            503,
            EMULATOR_ERROR_CODES[503],
            "The service is temporarily unavailable (fault injection).",
        )
    if draw.error_500:
        raise ApiError(
            500, EMULATOR_ERROR_CODES[500], "An internal error occurred (fault injection)."
        )


async def after(request: Request, draw: FaultDraw) -> None:
    """The faults that come after the operation succeeded: the answer lost, or late."""
    if draw.drop_after_commit:
        raise _drop(request, "Connection dropped after the operation succeeded (fault injection).")
    if draw.late_answer_secs:
        await asyncio.sleep(draw.late_answer_secs)
