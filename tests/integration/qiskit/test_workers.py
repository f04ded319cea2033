"""The worker pool: jobs run in warm worker processes; the event loop stays free; cancel is hard."""

from __future__ import annotations

import asyncio
import json
import math
import multiprocessing
import os
import signal
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from qiskit import QuantumCircuit  # type: ignore[import-untyped,unused-ignore]
from qiskit_ibm_runtime import (  # type: ignore[import-untyped,unused-ignore]
    RuntimeDecoder,
    RuntimeEncoder,
)

from direct_access_emulator.devices import load_device
from direct_access_emulator.qiskit_runner import JobInputError
from direct_access_emulator.workers import JobCancelled, WorkerCrashed, WorkerPool

pytestmark = pytest.mark.anyio

LONG_DEVICE = "fake_guadalupe"  # 16 qubits: big enough for a simulation that runs for hours


@pytest.fixture
def anyio_backend() -> str:
    """The pool is built on asyncio (it waits on pipes with the loop's readers)."""
    return "asyncio"


@pytest.fixture
async def pool() -> AsyncIterator[WorkerPool]:
    """Two warm workers, with the simulators of the tests' devices built ahead."""
    async with WorkerPool(2, warm_devices=[("fake_manila", True), (LONG_DEVICE, False)]) as pool:
        yield pool


def bell_input(shots: int, seed: int | None = None) -> str:
    """A sampler job's input: a Bell pair in fake_manila's basis."""
    circuit = QuantumCircuit(2)
    circuit.rz(math.pi / 2, 0)
    circuit.sx(0)
    circuit.rz(math.pi / 2, 0)
    circuit.cx(0, 1)
    circuit.measure_all()
    options = {} if seed is None else {"simulator": {"seed_simulator": seed}}
    return json.dumps(
        {"pubs": [[circuit]], "shots": shots, "options": options, "version": 2}, cls=RuntimeEncoder
    )


def long_input() -> str:
    """A job that would simulate for hours: a mid-circuit measurement forces shot-by-shot
    simulation of 16 qubits through 50 entangling layers, a million times."""
    pairs = sorted({tuple(sorted(pair)) for pair in load_device(LONG_DEVICE).target["cx"]})
    circuit = QuantumCircuit(16)
    circuit.sx(range(16))
    circuit.measure_all(add_bits=True)
    for _ in range(50):
        circuit.sx(range(16))
        circuit.rz(0.3, range(16))
        for a, b in pairs:
            circuit.cx(a, b)
    circuit.measure_all()
    return json.dumps({"pubs": [[circuit]], "shots": 1_000_000, "version": 2}, cls=RuntimeEncoder)


async def started(pool: WorkerPool, job_id: str, task: asyncio.Task[Any]) -> int:
    """Wait (with a deadline) until ``job_id`` is in a worker; that worker's pid."""
    deadline = time.monotonic() + 30
    while (pid := pool.worker_pid(job_id)) is None:
        assert not task.done(), task
        assert time.monotonic() < deadline, "the job never reached a worker"
        await asyncio.sleep(0.01)
    return pid


def alive(pid: int) -> bool:
    """Whether a process with this id still exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def counts(result_text: str) -> dict[str, int]:
    """The counts of the first pub of a sampler result."""
    result: dict[str, int] = json.loads(result_text, cls=RuntimeDecoder)[0].data.meas.get_counts()
    return result


async def test_long_job_runs_in_a_worker_while_the_loop_and_other_worker_stay_free(
    pool: WorkerPool,
) -> None:
    """During a long simulation in one worker, the loop never stalls and jobs run in the other;
    cancel then ends the long simulation within a second."""
    long_job = asyncio.create_task(
        pool.run("long", "sampler", long_input(), device=LONG_DEVICE, noise=False)
    )
    pid = await started(pool, "long", long_job)
    assert pid != os.getpid()

    worst_gap = 0.0
    previous = time.monotonic()
    for _ in range(30):
        await asyncio.sleep(0.01)
        now = time.monotonic()
        worst_gap = max(worst_gap, now - previous)
        previous = now
    assert worst_gap < 0.25, f"the event loop stalled for {worst_gap:.3f} s"

    small = await pool.run("small", "sampler", bell_input(100), device="fake_manila", noise=True)
    assert sum(counts(small.result).values()) == 100
    assert not long_job.done()

    cancelled_at = time.monotonic()
    assert pool.cancel("long")
    with pytest.raises(JobCancelled):
        await long_job
    assert time.monotonic() - cancelled_at < 1.0
    assert not alive(pid)
    assert not pool.cancel("long")


async def test_cancelling_the_awaiting_task_ends_the_simulation(pool: WorkerPool) -> None:
    """A timeout (the task awaiting run() is cancelled) ends the worker's simulation too."""
    task = asyncio.create_task(
        pool.run("timed-out", "sampler", long_input(), device=LONG_DEVICE, noise=False)
    )
    pid = await started(pool, "timed-out", task)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    deadline = time.monotonic() + 1.0
    while alive(pid):
        assert time.monotonic() < deadline, "the worker outlived its cancelled job"
        await asyncio.sleep(0.01)
    # The pool got a worker back in its place: two jobs still run side by side.
    outcomes = await asyncio.gather(
        *(
            pool.run(f"after-{n}", "sampler", bell_input(10), device="fake_manila", noise=False)
            for n in range(2)
        )
    )
    assert [sum(counts(o.result).values()) for o in outcomes] == [10, 10]


async def test_crashed_worker_is_reported_and_replaced(pool: WorkerPool) -> None:
    """A worker killed mid-job fails that job with WorkerCrashed; a new worker takes its place."""
    task = asyncio.create_task(
        pool.run("doomed", "sampler", long_input(), device=LONG_DEVICE, noise=False)
    )
    pid = await started(pool, "doomed", task)
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(WorkerCrashed, match=r"job doomed ended unexpectedly \(exit code -9\)"):
        await task
    deadline = asyncio.get_running_loop().time() + 30
    while pid in pool.worker_pids() or len(pool.worker_pids()) != pool.size:
        assert asyncio.get_running_loop().time() < deadline, "the crashed worker was not replaced"
        await asyncio.sleep(0.01)  # polling, bounded by the deadline
    blocker = asyncio.create_task(
        pool.run("blocker", "sampler", long_input(), device=LONG_DEVICE, noise=False)
    )
    blocker_pid = await started(pool, "blocker", blocker)
    # With one worker busy, the other (the replacement or the survivor) still serves.
    outcome = await pool.run("after", "sampler", bell_input(50), device="fake_manila", noise=True)
    assert sum(counts(outcome.result).values()) == 50
    assert blocker_pid != pid
    pool.cancel("blocker")
    with pytest.raises(JobCancelled):
        await blocker


async def test_twenty_jobs_through_two_workers_all_complete(pool: WorkerPool) -> None:
    """20 jobs at once on 2 workers queue and all complete, each with its own seeded counts."""
    outcomes = await asyncio.gather(
        *(
            pool.run(
                f"job-{n}", "sampler", bell_input(200, seed=n), device="fake_manila", noise=True
            )
            for n in range(20)
        )
    )
    assert len(outcomes) == 20
    assert all(sum(counts(o.result).values()) == 200 for o in outcomes)
    assert all(o.quantum_nanoseconds > 0 for o in outcomes)
    # Same seed in a later job, same counts: the worker a job lands on does not matter.
    again = await pool.run(
        "job-3-again", "sampler", bell_input(200, seed=3), device="fake_manila", noise=True
    )
    assert counts(again.result) == counts(outcomes[3].result)


async def test_input_error_comes_back_from_the_worker_with_its_reason(pool: WorkerPool) -> None:
    """JobInputError raised in a worker reaches the caller with the same reason."""
    with pytest.raises(JobInputError, match=r"^'version' is 1: only version 2"):
        await pool.run(
            "bad", "sampler", {"pubs": [], "version": 1}, device="fake_manila", noise=False
        )
    outcome = await pool.run(
        "good", "sampler", bell_input(10), device="fake_manila", noise=False, log_level="debug"
    )
    assert any(" DEBUG " in line for line in outcome.log_lines)


async def test_queued_job_cancelled_before_it_starts(pool: WorkerPool) -> None:
    """A job waiting for a worker is cancelled at once, without taking a worker."""
    busy = [
        asyncio.create_task(
            pool.run(f"busy-{n}", "sampler", long_input(), device=LONG_DEVICE, noise=False)
        )
        for n in range(2)
    ]
    for n, task in enumerate(busy):
        await started(pool, f"busy-{n}", task)
    queued = asyncio.create_task(
        pool.run("queued", "sampler", bell_input(10), device="fake_manila", noise=False)
    )
    deadline = time.monotonic() + 5
    while not pool.cancel("queued"):
        assert time.monotonic() < deadline, "the queued job never reached the pool"
        await asyncio.sleep(0.01)
    with pytest.raises(JobCancelled, match="before it started"):
        await queued
    for n, task in enumerate(busy):
        pool.cancel(f"busy-{n}")
        with pytest.raises(JobCancelled):
            await task


async def test_close_ends_every_worker() -> None:
    """Closing the pool (or leaving its context) leaves no worker process behind."""

    def workers() -> list[multiprocessing.process.BaseProcess]:
        return [
            p for p in multiprocessing.active_children() if p.name == "direct-access-aer-worker"
        ]

    async with WorkerPool(2, warm=False) as pool:
        outcome = await pool.run("one", "sampler", bell_input(5), device="fake_manila", noise=False)
        assert sum(counts(outcome.result).values()) == 5
        assert len(workers()) == 2
        assert pool.worker_pids() == {p.pid for p in workers()}
    assert workers() == []
    assert pool.worker_pids() == frozenset()
    with pytest.raises(RuntimeError, match="closed"):
        await pool.run("late", "sampler", bell_input(5), device="fake_manila", noise=False)


async def test_ready_reports_a_worker_that_ended_while_warming_and_replaces_it() -> None:
    """`ready` waits for warm workers; one that ends while warming is reported as crashed and
    replaced, and its successor runs jobs."""
    async with WorkerPool(1, warm_devices=[("fake_manila", True)]) as pool:
        (pid,) = pool.worker_pids()
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(WorkerCrashed, match="ended while warming up"):
            await pool.ready()
        outcome = await pool.run(
            "after", "sampler", bell_input(5), device="fake_manila", noise=False
        )
        assert sum(counts(outcome.result).values()) == 5
        assert pid not in pool.worker_pids()
        await pool.ready()  # the successor is warm: nothing to wait for, nothing to report
