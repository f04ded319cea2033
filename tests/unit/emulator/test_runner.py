"""The job runner listens to the service: whatever drives `JobService` runs and stops jobs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from direct_access_emulator.config import EmulatorConfig
from direct_access_emulator.core import CreateJob, JobService, JobStatus
from direct_access_emulator.executor import ExecutionRequest, ExecutionResult
from direct_access_emulator.runner import JobRunner
from direct_access_emulator.store import MemoryJobStore

_URL = "http://127.0.0.1:9/{}"
_STORAGE = {
    "input": {"type": "s3_compatible", "presigned_url": _URL.format("i")},
    "results": {"type": "s3_compatible", "presigned_url": _URL.format("r")},
}


class _GatedExecutor:
    """Runs each job until its gate opens; records what it ran and what was cancelled."""

    def __init__(self) -> None:
        self.gates: dict[str, asyncio.Event] = {}
        self.cancelled: list[str] = []

    async def execute(self, request: ExecutionRequest) -> ExecutionResult:
        gate = self.gates.setdefault(request.job_id, asyncio.Event())
        try:
            await gate.wait()
        except asyncio.CancelledError:
            self.cancelled.append(request.job_id)
            raise
        return ExecutionResult(quantum_nanoseconds=7)

    async def aclose(self) -> None:
        """Nothing to release."""


def _command(job_id: str) -> CreateJob:
    return CreateJob(job_id, "sampler", "fake_backend", "warning", 30, _STORAGE)


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(5):
        while not condition():
            await asyncio.sleep(0.01)


@pytest.mark.anyio
async def test_a_job_created_through_the_service_runs_and_a_cancel_stops_it() -> None:
    """service.create starts the job's execution; service.cancel cancels the executor's run."""
    service = JobService(EmulatorConfig(), MemoryJobStore())
    executor = _GatedExecutor()
    runner = JobRunner(service, executor)
    service.create("A", _command("runs"))
    service.create("A", _command("stopped"))
    await _until(lambda: {"runs", "stopped"} <= set(executor.gates))
    executor.gates["runs"].set()
    await _until(lambda: service.get("A", "runs").status is JobStatus.COMPLETED)
    assert service.get("A", "runs").quantum_nanoseconds == 7
    service.cancel("A", "stopped")
    await _until(lambda: executor.cancelled == ["stopped"])
    assert service.get("A", "stopped").status is JobStatus.CANCELLED
    await runner.aclose()


class _HeldLogs(_GatedExecutor):
    """Also writes logs, each write held until ``logs_gate`` opens."""

    def __init__(self) -> None:
        super().__init__()
        self.logs_gate = asyncio.Event()
        self.written: list[str] = []

    async def write_logs(self, request: ExecutionRequest, *, required: bool = False) -> None:
        await self.logs_gate.wait()
        self.written.append(request.job_id)


@pytest.mark.anyio
async def test_settle_waits_for_a_cancelled_jobs_log_and_never_for_a_running_job() -> None:
    """A cancel shows at once and its log follows: `settle` (what a delete awaits) returns only
    once the log is written, so nothing is written after the delete. A running job's settle
    returns at once (its delete is refused anyway)."""
    service = JobService(EmulatorConfig(), MemoryJobStore())
    executor = _HeldLogs()
    runner = JobRunner(service, executor)
    service.create("A", _command("running"))
    service.create("A", _command("cancelled"))
    await _until(lambda: {"running", "cancelled"} <= set(executor.gates))
    async with asyncio.timeout(1):
        await runner.settle("A", "running")
    service.cancel("A", "cancelled")
    assert service.get("A", "cancelled").status is JobStatus.CANCELLED
    settling = asyncio.ensure_future(runner.settle("A", "cancelled"))
    await _until(lambda: executor.cancelled == ["cancelled"])
    done, _ = await asyncio.wait({settling}, timeout=0.2)
    assert not done  # the log is held: settle cannot have returned
    executor.logs_gate.set()
    async with asyncio.timeout(5):
        await settling
    assert executor.written == ["cancelled"]
    executor.gates["running"].set()
    await runner.aclose()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
