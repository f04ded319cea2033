"""`run` as a flow: upload, submit, wait, read result and logs, and free the job's lane on every
exit path (`RunFlows._release`)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from direct_access._errors import (
    ConflictError,
    DirectAccessError,
    JobFailedError,
    NotFoundError,
    StorageError,
)
from direct_access._flow import Blocking, Flow, Shielded
from direct_access._operation_flows import OperationFlows, checked_log_level
from direct_access.storage import PreparedStorage, S3Storage
from direct_access_api.models import Job, JobStatus, LogLevel

__all__ = [
    "RELEASE_TIMEOUT_SECS",
    "RUN_FETCH_TIMEOUT_SECS",
    "RUN_LOGS_TIMEOUT_SECS",
    "RUN_WAIT_MARGIN_SECS",
    "RunFlows",
    "RunResult",
]

_log = logging.getLogger("direct_access")

#: How long `run` waits beyond ``timeout_secs`` by default (execution time is not wall time).
RUN_WAIT_MARGIN_SECS = 300.0
#: How long `run` waits for the result to appear after ``Completed``.
RUN_FETCH_TIMEOUT_SECS = 30.0
#: How long `run` waits for the logs once the result is read (logs are optional: a service
#: may write none, and the result is not thrown away for want of them).
RUN_LOGS_TIMEOUT_SECS = 5.0
#: How long cleanup waits for a cancelled job to end before deleting it.
RELEASE_TIMEOUT_SECS = 30.0


@dataclass(frozen=True)
class RunResult:
    """What `Client.run` returns: the finished job, its result document and its log text.

    ``result_text`` is the result as the service wrote it, for decoders that read JSON text
    themselves (Qiskit's `RuntimeDecoder`: `direct_access.qiskit.decode_result`). ``logs`` is
    empty when the service wrote none. The repr shows the job's id and status and the sizes only
    (the job holds presigned URLs with their signatures).
    """

    job: Job
    result: dict[str, Any]
    logs: str
    result_text: str = field(repr=False)

    def __repr__(self) -> str:
        return (
            f"RunResult(job_id={self.job.id!r}, status={self.job.status.value!r}, "
            f"result_chars={len(self.result_text)}, log_chars={len(self.logs)})"
        )


class RunFlows(OperationFlows):
    """`run` and the release of the job's lane, on top of the operation flows."""

    def _run(
        self,
        backend: str,
        program_id: str,
        params: Mapping[str, Any],
        *,
        storage: S3Storage,
        timeout_secs: int,
        wait_timeout: float | None,
        log_level: LogLevel | str | None,
        poll_interval: float,
        on_status: Callable[[Job], object] | None,
        job_id: str | None,
        keep_objects: bool,
    ) -> Flow[RunResult]:
        job_id = job_id or str(uuid.uuid4())
        checked_log_level(log_level)  # before anything is uploaded
        ours, submitted, ended = True, False, False
        try:
            # Inside the cleanup's reach: an upload cut short (Ctrl-C, task cancellation, a
            # refused create) leaves no input object behind.
            prepared: PreparedStorage = yield Blocking(
                storage.prepare, (job_id, params, timeout_secs)
            )
            body = self._create_body(
                job_id=job_id,
                backend=backend,
                program_id=program_id,
                storage=prepared,
                timeout_secs=timeout_secs,
                log_level=log_level,
            )
            submitted = True
            try:
                yield from self._submit(body)
            except ConflictError:
                ours = False  # the id is another job's: never cancel or delete it
                raise
            job = yield from self._wait(
                job_id,
                timeout=timeout_secs + RUN_WAIT_MARGIN_SECS
                if wait_timeout is None
                else wait_timeout,
                poll_interval=poll_interval,
                on_status=on_status,
            )
            ended = True
            if job.status != JobStatus.COMPLETED:
                raise JobFailedError(job)
            text: str = yield Blocking(
                storage.fetch_result_text, (prepared,), {"timeout": RUN_FETCH_TIMEOUT_SECS}
            )
            document = S3Storage.parse_result(text, prepared.results_key)
            try:
                logs: str = yield Blocking(
                    storage.fetch_logs, (prepared,), {"timeout": RUN_LOGS_TIMEOUT_SECS}
                )
            except StorageError as exc:
                _log.warning("job %s: no logs read, returning the result without (%s)", job_id, exc)
                logs = ""
            return RunResult(job=job, result=document, logs=logs, result_text=text)
        finally:
            # Whatever happened (success, failure, Ctrl-C, task cancellation), only a DELETE
            # frees the job's lane; then the objects written for it go, unless kept.
            if ours:
                yield Shielded(
                    self._release(
                        job_id,
                        ended=ended,
                        storage=None if keep_objects else storage,
                        submitted=submitted,
                    )
                )

    def _release(
        self,
        job_id: str,
        *,
        ended: bool,
        storage: S3Storage | None = None,
        submitted: bool = True,
    ) -> Flow[None]:
        """Free the lane a job holds: cancel it unless it ended, then delete it, waiting
        (bounded) for the terminal status a delete needs; then remove its objects from
        ``storage`` (when given). A job never ``submitted`` holds no lane: only its objects go.
        Logs instead of raising API or storage errors."""
        if submitted:
            yield from self._free_lane(job_id, ended=ended)
        if storage is not None:
            try:
                yield Blocking(storage.delete_job_objects, (job_id,))
            except StorageError as exc:
                _log.warning("could not remove the objects of job %s: %s", job_id, exc)

    def _free_lane(self, job_id: str, *, ended: bool) -> Flow[None]:
        """Cancel the job unless it ended, then delete it (see `_release`)."""
        if not ended:
            try:
                yield from self._cancel(job_id)
                _log.debug("job %s cancelled: its run did not finish", job_id)
            except (NotFoundError, ConflictError):
                pass  # never created, or ended meanwhile
            except DirectAccessError as exc:
                _log.warning("could not cancel job %s: %s", job_id, exc)
        try:
            try:
                yield from self._delete(job_id)
            except ConflictError:
                # Still Running: the service ends a cancelled job when it gets to it.
                yield from self._wait(
                    job_id, timeout=RELEASE_TIMEOUT_SECS, poll_interval=0.2, on_status=None
                )
                yield from self._delete(job_id)
        except NotFoundError:
            pass  # never created, or deleted already
        except DirectAccessError as exc:
            _log.warning("could not delete job %s (it may still hold a lane): %s", job_id, exc)
