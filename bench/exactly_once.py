"""Exactly-once soak: `submit` through `Client` and `AsyncClient` against an emulator whose creates
fail before acting, act and then lose or delay their answer, or refuse with 423/429 after the
duplicate-id check. Prints how many jobs were lost, duplicated, or raised while held.

``python -m bench.exactly_once [--submits 1000]``. Not part of ``make test``'s timing: a test runs
the same soak with fewer submits (`tests/integration/client/test_exactly_once.py`).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench._jobs import storage
from direct_access import AsyncClient, Client, DirectAccessError, RetryPolicy, Settings
from direct_access_emulator.config import (
    BackendConfig,
    EmulatorConfig,
    ExecutionConfig,
    FaultConfig,
    OperationFaults,
)
from direct_access_emulator.testing import RunningEmulator, serve

__all__ = ["SOAK_FAULTS", "SoakCounts", "soak", "soak_config"]

#: Faults on create only: the read-back (get_job) must see the truth.
SOAK_FAULTS = OperationFaults(
    error_503=0.08,
    drop_connection=0.08,
    drop_after_commit=0.12,
    late_answer=0.06,
    late_answer_secs=1.0,
    reserved_423=0.04,
    lanes_full_429=0.04,
)
#: Below `SOAK_FAULTS.late_answer_secs`: a late answer is a timeout to the client.
CLIENT_TIMEOUT_SECS = 0.4
#: Two attempts, quickly: the last attempt is often one whose answer is lost after the commit
#: (the case a read-back must settle), and a soak of 1,000 takes seconds.
SOAK_RETRY = RetryPolicy(attempts=2, wait_initial=0.01, wait_max=0.05, wait_jitter=0.01)
_BACKEND = "fake_backend"
_ASYNC_CONCURRENCY = 16


def soak_config(submits: int) -> EmulatorConfig:
    """An emulator with enough lanes for every job of a soak and the faults above."""
    return EmulatorConfig(
        backends=(BackendConfig(name=_BACKEND, lanes=2 * submits + 10),),
        execution=ExecutionConfig(duration_secs=0.01),
        faults=FaultConfig(operations={"create_job": SOAK_FAULTS}),
    )


@dataclass
class SoakCounts:
    """What a soak saw: submits that returned, that raised, and what the service holds."""

    returned: set[str] = field(default_factory=set)
    raised: dict[str, str] = field(default_factory=dict)
    stored: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        """Submits that returned an id the service does not hold."""
        return len(self.returned - set(self.stored))

    @property
    def duplicated(self) -> int:
        """Jobs beyond one per submit (an id stored twice, or one no submit chose)."""
        chosen = self.returned | set(self.raised)
        return len(self.stored) - len(set(self.stored) & chosen)

    @property
    def raised_while_held(self) -> int:
        """Submits that raised although the service holds their job."""
        return len(set(self.raised) & set(self.stored))

    def summary(self) -> str:
        kinds: dict[str, int] = {}
        for name in self.raised.values():
            kinds[name] = kinds.get(name, 0) + 1
        return (
            f"{len(self.returned)} returned, {len(self.raised)} raised {kinds or ''}; "
            f"lost {self.lost}, duplicated {self.duplicated}, "
            f"raised-while-held {self.raised_while_held}"
        )


def _job_id(kind: str, index: int) -> str:
    return f"{kind}-{index:06d}-4000-8000-000000000000"


def _create(job_id: str) -> dict[str, Any]:
    """The arguments of one soak create."""
    return {
        "backend": _BACKEND,
        "program_id": "sampler",
        "storage": storage(job_id),
        "timeout_secs": 300,
        "job_id": job_id,
    }


def _stored(settings: Settings) -> list[str]:
    with Client(settings) as client:
        return [job.id for job in client.list_jobs()]


def soak(emulator: RunningEmulator, submits: int, *, asynchronous: bool) -> SoakCounts:
    """``submits`` creates through one client of the kind asked for; then the counts."""
    settings = Settings.from_env(emulator.env())
    kind = "async" if asynchronous else "sync"
    counts = SoakCounts()

    def record(job_id: str, outcome: str | BaseException) -> None:
        if isinstance(outcome, BaseException):
            counts.raised[job_id] = type(outcome).__name__
        else:
            counts.returned.add(outcome)

    if asynchronous:
        asyncio.run(_soak_async(settings, kind, submits, record))
    else:
        with Client(settings, retry=SOAK_RETRY, timeout=CLIENT_TIMEOUT_SECS) as client:
            for index in range(submits):
                job_id = _job_id(kind, index)
                try:
                    outcome: str | BaseException = client.submit(**_create(job_id))
                except DirectAccessError as exc:
                    outcome = exc
                record(job_id, outcome)
    counts.stored = [job_id for job_id in _stored(settings) if job_id.startswith(kind)]
    return counts


async def _soak_async(
    settings: Settings, kind: str, submits: int, record: Callable[[str, str | BaseException], None]
) -> None:
    lanes = asyncio.Semaphore(_ASYNC_CONCURRENCY)

    async with AsyncClient(settings, retry=SOAK_RETRY, timeout=CLIENT_TIMEOUT_SECS) as client:

        async def one(index: int) -> None:
            job_id = _job_id(kind, index)
            async with lanes:
                try:
                    outcome: str | BaseException = await client.submit(**_create(job_id))
                except DirectAccessError as exc:
                    outcome = exc
            record(job_id, outcome)

        await asyncio.gather(*(one(i) for i in range(submits)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.exactly_once", description=__doc__)
    parser.add_argument("--submits", type=int, default=1000, help="creates per client kind")
    args = parser.parse_args(argv)
    failed = False
    with serve(soak_config(2 * args.submits)) as emulator:
        for asynchronous in (False, True):
            started = time.monotonic()
            counts = soak(emulator, args.submits, asynchronous=asynchronous)
            name = "AsyncClient" if asynchronous else "Client"
            print(f"{name:12} {counts.summary()} ({time.monotonic() - started:.0f} s)")
            failed |= bool(counts.lost or counts.duplicated or counts.raised_while_held)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
