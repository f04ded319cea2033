"""The job runner: executes the service's accepted jobs as asyncio tasks, reports their outcome.

A `JobListener` of `JobService`: a started job gets a task running the `Executor` under the
job's `timeout_secs`; a job that ends otherwise (cancelled) has its task cancelled. Outcomes go
back to the service: `complete`, `fail`, `time_out`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from direct_access_emulator import reasons
from direct_access_emulator.core import Job, JobService, JobStatus
from direct_access_emulator.executor import (
    ExecutionFailed,
    ExecutionRequest,
    Executor,
    LogWritingExecutor,
    storage_urls,
)
from direct_access_emulator.reasons import EXECUTOR_FAILED

__all__ = ["JobRunner"]

# Timers beyond this would overflow the event loop's clock; nothing runs that long anyway.
_MAX_TIMEOUT_SECS = 10**8
# How long writing a job's log may take at its end.
_LOG_WRITE_TIMEOUT_SECS = 5.0

_log = logging.getLogger("direct_access_emulator")


class JobRunner:
    """Runs a service's jobs on an executor, in the event loop of the first job it starts.

    Listens to ``service`` from construction on. A job started outside that loop (another
    thread driving the service) is handed to it thread-safely.
    """

    def __init__(self, service: JobService, executor: Executor) -> None:
        self.service = service
        self.executor = executor
        # Checked once: isinstance against a runtime-checkable Protocol walks its attributes
        # (in every create's profile, bench/).
        self._log_writer = executor if isinstance(executor, LogWritingExecutor) else None
        self._tasks: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        service.subscribe(self)

    def job_started(self, job: Job) -> None:
        self._in_loop(self._start, job)

    def job_ended(self, job: Job) -> None:
        self._in_loop(self._stop, job)

    def _in_loop(self, action: Callable[[Job], None], job: Job) -> None:
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:  # not in a loop: the service is driven from another thread
            if self._loop is None:
                raise RuntimeError("JobRunner: no event loop has run a job yet") from None
            self._loop.call_soon_threadsafe(action, job)
            return
        action(job)

    def _start(self, job: Job) -> None:
        key = (job.instance, job.id)
        task = asyncio.get_running_loop().create_task(self._run(job), name=f"job {job.id}")
        self._tasks[key] = task
        task.add_done_callback(lambda _: self._tasks.pop(key, None))

    def _stop(self, job: Job) -> None:
        task = self._tasks.get((job.instance, job.id))
        # A job's own task reports its outcome (and so ends the job): it is ending anyway.
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def settle(self, instance: str, job_id: str) -> None:
        """Wait until an ended job's task has made its last write (a cancelled job's log),
        bounded: after a delete answers, the service writes nothing more for the job, so that
        a client removing the job's objects then finds them all. A running job is not waited
        for (its delete is refused)."""
        task = self._tasks.get((instance, job_id))
        if task is None or task is asyncio.current_task():
            return
        job = self.service.store.get(instance, job_id)
        if job is None or not job.terminal:
            return
        await asyncio.wait({task}, timeout=_LOG_WRITE_TIMEOUT_SECS + 1.0)

    async def _run(self, job: Job) -> None:
        input_url, results_url, logs_url = storage_urls(job.storage)
        request = ExecutionRequest(
            job_id=job.id,
            program_id=job.program_id,
            backend=job.backend,
            log_level=job.log_level,
            input_url=input_url,
            results_url=results_url,
            logs_url=logs_url,
        )
        # Every end writes the job's log, with why it ended, before the job shows that end
        # (a cancel on request shows at once: its log follows within moments, and a delete
        # waits for it, `settle`).
        log = request.log
        try:
            async with asyncio.timeout(min(job.timeout_secs, _MAX_TIMEOUT_SECS)):
                result = await self.executor.execute(request)
        except TimeoutError:
            log.add("error", reasons.timed_out(job.timeout_secs).message)
            await self._write_logs(request)
            self.service.time_out(job.instance, job.id)
        except ExecutionFailed as failure:
            log.add("error", failure.reason.message)
            await self._write_logs(request)
            self.service.fail(job.instance, job.id, failure.reason)
        except asyncio.CancelledError:
            ended = self.service.store.get(job.instance, job.id)
            if ended is not None and ended.status is JobStatus.CANCELLED:
                log.add("warning", f"job {job.id}: cancelled on request")
            else:
                log.add("error", reasons.RESTARTED.message)  # the emulator is stopping
            await self._write_logs(request)
            raise
        except Exception:
            _log.exception("executor error in job %s", job.id)
            log.add("error", EXECUTOR_FAILED.message)
            await self._write_logs(request)
            self.service.fail(job.instance, job.id, EXECUTOR_FAILED)
        else:
            log.add("info", f"job {job.id}: completed")
            try:
                await self._write_logs(request, required=True)
            except ExecutionFailed as failure:
                self.service.fail(job.instance, job.id, failure.reason)
                return
            self.service.complete(job.instance, job.id, result.quantum_nanoseconds)

    async def _write_logs(self, request: ExecutionRequest, *, required: bool = False) -> None:
        """Write the job's log if the executor can; bounded, since a cancelled job's task
        must end soon (and the emulator's shutdown waits for it)."""
        if self._log_writer is None:
            return
        writing = self._log_writer.write_logs(request, required=required)
        if writing is None:
            return
        try:
            async with asyncio.timeout(_LOG_WRITE_TIMEOUT_SECS):
                await writing
        except TimeoutError:
            if required:
                raise ExecutionFailed(
                    reasons.write_failed("logs", "storage did not answer in time")
                ) from None

    async def aclose(self) -> None:
        """Cancel every running job's task and wait for them."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
