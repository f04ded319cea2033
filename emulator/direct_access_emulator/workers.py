"""Warm worker processes that run `run_primitive` for an asyncio server, with hard cancellation.

A simulation cannot be stopped inside the process that runs it (Aer's own cancel does not stop a
running simulation), so each job runs in a worker process and cancelling it ends that process; a
new worker takes its place. Workers import Qiskit once at start (about a second), then stay warm.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import multiprocessing
import signal
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from types import TracebackType
from typing import Any, Self

from direct_access_emulator.qiskit_runner import JobInputError, Outcome, run_primitive, warm_up

__all__ = [
    "JobCancelled",
    "SimulationFailed",
    "WorkerCrashed",
    "WorkerError",
    "WorkerPool",
]

# How long an ended worker gets to exit after SIGTERM before SIGKILL.
_TERMINATE_GRACE_SECS = 1.0
# How long an idle worker gets to exit on its own when the pool closes (one still importing
# Qiskit is simply ended: it holds nothing).
_CLOSE_GRACE_SECS = 0.5


class WorkerError(Exception):
    """A job did not produce an outcome for a reason other than its input."""


class WorkerCrashed(WorkerError):
    """The worker process running the job ended without answering (killed, crashed)."""


class JobCancelled(WorkerError):
    """The job was cancelled with `WorkerPool.cancel` before it finished."""


class SimulationFailed(WorkerError):
    """The simulation raised an error that is not about the job's input."""


class WorkerPool:
    """A fixed number of worker processes running jobs one at a time each, used from asyncio.

    Jobs beyond ``size`` wait for a free worker. ``warm`` makes each worker import Qiskit (and
    build the simulators of ``warm_devices``, ``(device, noise)`` pairs) before its first job.
    Start it in or out of an event loop; use it from one event loop.
    """

    def __init__(
        self, size: int, *, warm: bool = True, warm_devices: Sequence[tuple[str, bool]] = ()
    ) -> None:
        if size < 1:
            raise ValueError(f"a worker pool needs at least one worker, not {size}")
        self._size = size
        self._warm = warm
        self._warm_devices = tuple(warm_devices)
        self._context = multiprocessing.get_context("spawn")
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._jobs: dict[str, _JobSlot] = {}
        self._replacements: set[asyncio.Task[int | None]] = set()
        self._closed = False
        # Read from other threads too (tests inspect a served emulator's pool): under a lock.
        self._pids: set[int] = set()
        self._pids_lock = threading.Lock()
        for _ in range(size):
            self._idle.put_nowait(self._start_worker())

    async def ready(self) -> None:
        """Wait until every idle worker has warmed up and can run a job at once.

        Raises `WorkerCrashed` when a worker ended while warming (it could not import Qiskit or
        build a device's simulator); the pool replaces it, as after any crash.
        """
        workers = [self._idle.get_nowait() for _ in range(self._idle.qsize())]
        outcomes: list[BaseException | None] = [None] * len(workers)
        try:
            outcomes = await asyncio.gather(
                *(worker.wait_warm() for worker in workers), return_exceptions=True
            )
        finally:
            # Every worker goes back (a cancelled wait leaves them to warm on their own).
            for worker, outcome in zip(workers, outcomes, strict=True):
                if isinstance(outcome, BaseException):
                    self._replace_in_background(worker)
                else:
                    self._release(worker)
        failures = [str(outcome) for outcome in outcomes if isinstance(outcome, BaseException)]
        if failures:
            raise WorkerCrashed(f"a worker ended while warming up: {failures[0]}")

    @property
    def size(self) -> int:
        """The number of workers the pool keeps."""
        return self._size

    def worker_pids(self) -> frozenset[int]:
        """The process ids of the workers not yet ended and reaped: idle, busy or starting.

        Safe to call from any thread.
        """
        with self._pids_lock:
            return frozenset(self._pids)

    def worker_pid(self, job_id: str) -> int | None:
        """The process id of the worker running ``job_id``, or None when it is not running."""
        slot = self._jobs.get(job_id)
        if slot is None or slot.worker is None:
            return None
        return slot.worker.process.pid

    async def run(
        self,
        job_id: str,
        program_id: str,
        params: Mapping[str, Any] | str,
        *,
        device: str,
        noise: bool,
        log_level: str = "info",
    ) -> Outcome:
        """Run one job in a worker: its `Outcome`, or `JobInputError` / a `WorkerError`.

        Cancelling the awaiting task ends the worker too, so a timeout stops the simulation.
        """
        if self._closed:
            raise RuntimeError("the worker pool is closed")
        if job_id in self._jobs:
            raise ValueError(f"job {job_id} is already in the pool")
        slot = _JobSlot()
        self._jobs[job_id] = slot
        try:
            worker = await self._acquire(job_id, slot)
            slot.worker = worker
            try:
                reply = await worker.call((job_id, program_id, params, device, noise, log_level))
            except _WorkerDied:
                # Shielded: the pool must get its worker back even if this task is cancelled now.
                exit_code = await asyncio.shield(self._replace_in_background(worker))
                if slot.cancelled.is_set():
                    raise JobCancelled(f"job {job_id} was cancelled") from None
                raise WorkerCrashed(
                    f"the worker running job {job_id} ended unexpectedly (exit code {exit_code})"
                ) from None
            except BaseException:
                # Task cancelled (a timeout, shutdown): the simulation must not go on.
                worker.terminate()
                self._replace_in_background(worker)
                raise
            self._release(worker)
        finally:
            del self._jobs[job_id]
        kind, value = reply
        if kind == "ok" and isinstance(value, Outcome):
            return value
        if kind == "input_error":
            raise JobInputError(str(value))
        raise SimulationFailed(str(value))

    def cancel(self, job_id: str) -> bool:
        """End ``job_id``'s simulation now (its `run` raises `JobCancelled`); False if unknown."""
        slot = self._jobs.get(job_id)
        if slot is None:
            return False
        slot.cancelled.set()
        if slot.worker is not None:
            slot.worker.terminate()
        return True

    async def close(self) -> None:
        """End every worker: idle ones exit, running jobs are cancelled. Idempotent."""
        if self._closed:
            return
        self._closed = True
        for job_id in list(self._jobs):
            self.cancel(job_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _TERMINATE_GRACE_SECS + _CLOSE_GRACE_SECS
        while (self._jobs or self._replacements) and loop.time() < deadline:
            # The cancelled jobs hand back their workers (or retire them) within the grace time.
            await asyncio.sleep(0.01)
        workers: list[_Worker] = []
        while not self._idle.empty():
            workers.append(self._idle.get_nowait())
        for worker in workers:
            await worker.stop_waiting()
        await asyncio.gather(*(asyncio.to_thread(worker.stop) for worker in workers))
        for worker in workers:
            self._forget(worker)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def _acquire(self, job_id: str, slot: _JobSlot) -> _Worker:
        get = asyncio.ensure_future(self._idle.get())
        stop = asyncio.ensure_future(slot.cancelled.wait())
        try:
            await asyncio.wait({get, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            if not get.done():
                # Queue.get, cancelled, leaves its item for the next getter: no worker is lost.
                get.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await get
            elif slot.cancelled.is_set() or asyncio.current_task().cancelling():  # type: ignore[union-attr]
                # A worker came just as the job (or its task) was cancelled: hand it back.
                self._release(get.result())
        if slot.cancelled.is_set() or get.cancelled():
            raise JobCancelled(f"job {job_id} was cancelled before it started")
        return get.result()

    def _release(self, worker: _Worker) -> None:
        self._idle.put_nowait(worker)

    def _start_worker(self) -> _Worker:
        parent_end, child_end = self._context.Pipe()
        process = self._context.Process(
            target=_serve,
            args=(child_end, self._warm, self._warm_devices),
            name="direct-access-aer-worker",
            daemon=True,
        )
        process.start()
        # The child holds its own copy; ours must go so that the child's death reads as EOF.
        child_end.close()
        if process.pid is not None:
            with self._pids_lock:
                self._pids.add(process.pid)
        return _Worker(process, parent_end)

    def _forget(self, worker: _Worker) -> None:
        """Drop a reaped worker from `worker_pids`."""
        with self._pids_lock:
            self._pids.discard(worker.process.pid or 0)

    async def _replace(self, worker: _Worker) -> int | None:
        """Retire an ended worker, start its successor; the old one's exit code."""
        await worker.stop_waiting()
        exit_code = await asyncio.to_thread(worker.reap)
        self._forget(worker)
        if self._closed:
            return exit_code
        successor = await asyncio.to_thread(self._start_worker)
        self._idle.put_nowait(successor)
        return exit_code

    def _replace_in_background(self, worker: _Worker) -> asyncio.Task[int | None]:
        task = asyncio.get_running_loop().create_task(self._replace(worker))
        self._replacements.add(task)
        task.add_done_callback(self._replacements.discard)
        return task


@dataclass
class _JobSlot:
    worker: _Worker | None = None
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)


class _WorkerDied(Exception):
    pass


class _Worker:
    def __init__(self, process: BaseProcess, connection: Connection) -> None:
        self.process = process
        self.connection = connection
        self._warming: asyncio.Task[None] | None = None

    async def wait_warm(self) -> None:
        """Wait for the worker's first message, which says it has warmed up.

        One reading task per worker, shielded: a cancelled waiter must not lose the message.
        """
        if self._warming is None:
            self._warming = asyncio.get_running_loop().create_task(self._read_warm())
        await asyncio.shield(self._warming)

    async def stop_waiting(self) -> None:
        """Stop waiting for the warm message; call before the connection is closed.

        A reader left on a closed descriptor would outlive it: the number is reused by the next
        worker's pipe, whose reader the stale one would then replace or remove.
        """
        if self._warming is not None and not self._warming.done():
            self._warming.cancel()
            with contextlib.suppress(asyncio.CancelledError, _WorkerDied, OSError):
                await self._warming

    async def _read_warm(self) -> None:
        kind, value = await self._receive()
        if kind != "ready":
            raise _WorkerDied(str(value))

    async def call(self, request: tuple[Any, ...]) -> tuple[str, Any]:
        await self.wait_warm()
        try:
            await asyncio.to_thread(self.connection.send, request)
        except (OSError, EOFError) as error:
            raise _WorkerDied from error
        return await self._receive()

    async def _receive(self) -> tuple[str, Any]:
        loop = asyncio.get_running_loop()
        readable: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            if not readable.done():
                readable.set_result(None)

        # Wait on the pipe in the event loop: no thread is held for the length of a simulation.
        try:
            descriptor = self.connection.fileno()
            loop.add_reader(descriptor, wake)
        except OSError as error:  # the connection is closed: the worker is gone
            raise _WorkerDied from error
        try:
            await readable
        finally:
            loop.remove_reader(descriptor)
        try:
            # The reply can be megabytes; read it off the loop.
            reply: tuple[str, Any] = await asyncio.to_thread(self.connection.recv)
        except (OSError, EOFError) as error:
            raise _WorkerDied from error
        return reply

    def terminate(self) -> None:
        if self.process.is_alive():
            self.process.terminate()

    def reap(self) -> int | None:
        """Wait for an ended (or ending) worker, kill it past the grace time; its exit code."""
        self.terminate()
        self.process.join(_TERMINATE_GRACE_SECS)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.connection.close()
        return self.process.exitcode

    def stop(self) -> None:
        """Ask an idle worker to exit; end it if it does not."""
        with contextlib.suppress(OSError):
            self.connection.send(None)
        self.process.join(_CLOSE_GRACE_SECS)
        self.reap()


def _serve(connection: Connection, warm: bool, warm_devices: Sequence[tuple[str, bool]]) -> None:
    """A worker's life: answer run requests until told to stop or the pool goes away."""
    # Ctrl-C reaches the whole process group; the pool decides when its workers end.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        if warm:
            warm_up(warm_devices)
            # What start-up built (Qiskit, simulators, noise models) lives as long as the worker:
            # out of the collector's sight, a full collection no longer walks it in mid-job
            # (which made one job in a few take twice as long).
            gc.collect()
            gc.freeze()
    except Exception as error:  # reported to the pool, which retires this worker
        with contextlib.suppress(OSError, EOFError):
            connection.send(("warm_failed", f"{type(error).__name__}: {error}"))
        return
    # The first message: this worker can run a job at once.
    connection.send(("ready", None))
    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        job_id, program_id, params, device, noise, log_level = request
        reply: tuple[str, Any]
        try:
            reply = (
                "ok",
                run_primitive(program_id, params, device=device, noise=noise, log_level=log_level),
            )
        except JobInputError as error:
            reply = ("input_error", error.reason)
        except Exception as error:  # any failure must reach the job, not kill us
            reply = ("error", f"job {job_id}: {type(error).__name__}: {error}")
        try:
            connection.send(reply)
        except (OSError, EOFError):
            return
