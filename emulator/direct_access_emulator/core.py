"""The emulator's rules in plain Python: jobs, their lifecycle, lanes and reservations.

Knows nothing of HTTP. The app maps the domain errors raised here to statuses and error codes.
`JobService` tells its listeners (`JobListener`) when a job starts and ends: the runner starts
and stops execution there, and reports outcomes back through `complete`, `fail` and `time_out`.
"""

from __future__ import annotations

import datetime
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol

import orjson

from direct_access_emulator import reasons
from direct_access_emulator.config import BackendConfig, EmulatorConfig
from direct_access_emulator.reasons import Reason
from direct_access_emulator.spec_values import JOB_STATUSES, SpecMismatch, spec_value

__all__ = [
    "FINAL_STATUSES",
    "BackendReserved",
    "CreateJob",
    "DomainError",
    "DuplicateJob",
    "Job",
    "JobListener",
    "JobNotCancellable",
    "JobNotFound",
    "JobNotTerminal",
    "JobService",
    "JobStatus",
    "JobStore",
    "LanesFull",
    "UnknownBackend",
    "check_job_statuses",
    "format_time",
    "utc_now",
]


class JobStatus(StrEnum):
    """The statuses of the spec's `JobStatus`, each checked against it at import."""

    RUNNING = spec_value("JobStatus", "Running")
    COMPLETED = spec_value("JobStatus", "Completed")
    CANCELLED = spec_value("JobStatus", "Cancelled")
    FAILED = spec_value("JobStatus", "Failed")


def check_job_statuses() -> None:
    """Refuse a spec whose `JobStatus` has a status the emulator has no rule for.

    Checked when a `JobService` is made, not at import: `--help` works with such a spec.
    """
    added = [status for status in JOB_STATUSES if status not in set(JobStatus)]
    if added:
        raise SpecMismatch(
            f"JobStatus in openapi.yaml has {', '.join(map(repr, added))}, which the emulator has "
            f"no rule for: add it to JobStatus in {__file__}, with the JobService rule that "
            "reaches it (and a test that shows it)"
        )


#: Every status but Running is final (docs/api-notes.md, "Job lifecycle and limits").
FINAL_STATUSES = frozenset(JobStatus) - {JobStatus.RUNNING}


def utc_now() -> datetime.datetime:
    """The current time in UTC."""
    return datetime.datetime.now(datetime.UTC)


def format_time(moment: datetime.datetime) -> str:
    """RFC 3339 in UTC with a `Z`, as the service prints times."""
    utc = moment if moment.tzinfo is datetime.UTC else moment.astimezone(datetime.UTC)
    return utc.isoformat(timespec="microseconds").replace("+00:00", "Z")


# Slotted: of the thousands stored, each is one object for the cyclic collector, not two.
@dataclass(frozen=True, slots=True)
class Job:
    """A job as the emulator stores it: the API's fields plus the instance that owns it."""

    id: str
    instance: str
    program_id: str
    backend: str
    log_level: str
    timeout_secs: int
    storage: Mapping[str, Any]
    created_time: datetime.datetime
    status: JobStatus = JobStatus.RUNNING
    end_time: datetime.datetime | None = None
    reason: Reason | None = None
    quantum_nanoseconds: int | None = None
    _encoded: bytes | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def terminal(self) -> bool:
        """Whether the job reached a final status."""
        return self.status in FINAL_STATUSES

    @property
    def document_json(self) -> bytes:
        """`document()` encoded as the API sends it (ASCII), once per job: a job is immutable, and
        listings re-encoded every job on every answer. orjson, 20x `json.dumps` here (the first
        list of 10,000 jobs spent 0.1 s in it, bench/), writes the same bytes but for characters
        past `~` (raw UTF-8, DEL): a document with one takes `json.dumps`' escapes instead. A job
        has no float, so no NaN."""
        if (encoded := self._encoded) is None:
            document = self.document()
            encoded = orjson.dumps(document)
            if not encoded.isascii() or b"\x7f" in encoded:
                encoded = json.dumps(document, separators=(",", ":")).encode("ascii")
            object.__setattr__(self, "_encoded", encoded)
        return encoded

    def document(self) -> dict[str, Any]:
        """The job as Get job returns it (the spec's `Job`)."""
        document: dict[str, Any] = {
            "id": self.id,
            "program_id": self.program_id,
            "backend": self.backend,
            "status": str(self.status),
            "created_time": format_time(self.created_time),
            "log_level": self.log_level,
            "timeout_secs": self.timeout_secs,
            "storage": dict(self.storage),
        }
        if self.end_time is not None:
            document["end_time"] = format_time(self.end_time)
        if self.reason is not None:
            document["reason_code"] = self.reason.code
            document["reason_message"] = self.reason.message
            document["reason_solution"] = self.reason.solution
        if self.quantum_nanoseconds is not None:
            document["usage"] = {"quantum_nanoseconds": self.quantum_nanoseconds}
        return document

    def record(self) -> dict[str, Any]:
        """Everything needed to restore the job (for the store)."""
        return {**self.document(), "instance": self.instance}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Job:
        """The inverse of `record`."""
        reason = None
        if "reason_code" in record:
            reason = Reason(
                int(record["reason_code"]),
                str(record.get("reason_message", "")),
                str(record.get("reason_solution", "")),
            )
        end_time = record.get("end_time")
        usage = record.get("usage") or {}
        return cls(
            id=record["id"],
            instance=record["instance"],
            program_id=record["program_id"],
            backend=record["backend"],
            log_level=record["log_level"],
            timeout_secs=int(record["timeout_secs"]),
            storage=record["storage"],
            created_time=_parse_time(record["created_time"]),
            status=JobStatus(record["status"]),
            end_time=_parse_time(end_time) if end_time else None,
            reason=reason,
            quantum_nanoseconds=usage.get("quantum_nanoseconds"),
        )


@dataclass(frozen=True)
class CreateJob:
    """A create request, checked against the spec's `CreateJobRequest`: what `create` takes."""

    job_id: str
    program_id: str
    backend: str
    log_level: str
    timeout_secs: int
    storage: Mapping[str, Any]


def _parse_time(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


class DomainError(Exception):
    """A request the rules refuse; the app maps each kind to a status and an error code."""


class UnknownBackend(DomainError):
    """No backend of that name (404, code 1216)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Backend {name!r} was not found.")
        self.name = name


class DuplicateJob(DomainError):
    """A job with that id exists (409, code 1231)."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"A job with id {job_id!r} already exists.")
        self.job_id = job_id


class JobNotFound(DomainError):
    """No job of that id for this instance (404, code 1291)."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"Job {job_id!r} was not found.")
        self.job_id = job_id


class JobNotCancellable(DomainError):
    """The job already terminated (409, code 1306)."""

    def __init__(self, job_id: str, status: JobStatus) -> None:
        super().__init__(f"Job {job_id!r} is {status} and cannot be cancelled.")
        self.job_id = job_id


class JobNotTerminal(DomainError):
    """The job is still running and must be cancelled before it is deleted (409, code 1337)."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"Job {job_id!r} has not terminated; cancel it before deleting it.")
        self.job_id = job_id


class LanesFull(DomainError):
    """Every execution lane of the backend is held (429, code 1232)."""

    def __init__(self, backend: str, lanes: int) -> None:
        super().__init__(
            f"All {lanes} execution lanes of backend {backend!r} are held; "
            "delete terminated jobs to free them."
        )
        self.backend = backend


class BackendReserved(DomainError):
    """The backend is inside a reservation window (423, code 1233)."""

    def __init__(self, backend: str) -> None:
        super().__init__(
            f"Backend {backend!r} is reserved; jobs outside the reservation cannot run."
        )
        self.backend = backend


class JobStore(Protocol):
    """Where jobs live. Implementations: memory, SQLite (`direct_access_emulator.store`)."""

    def insert(self, job: Job) -> None:
        """Store a new job; raise `DuplicateJob` when (instance, id) exists. Durable on return."""

    def update(self, job: Job) -> None:
        """Replace a stored job."""

    def get(self, instance: str, job_id: str) -> Job | None:
        """The job, if stored for that instance."""

    def list(self, instance: str) -> list[Job]:
        """The instance's jobs, oldest first: by `created_time`, ties in creation order."""

    def delete(self, instance: str, job_id: str) -> bool:
        """Remove the job; whether it existed."""

    def count_backend(self, backend: str) -> int:
        """How many stored jobs (of any instance) hold a lane of the backend."""

    def close(self) -> None:
        """Release resources."""


class JobListener(Protocol):
    """Told by `JobService` of each job's start and end (outside the service's lock)."""

    def job_started(self, job: Job) -> None:
        """A job was accepted: it is Running."""

    def job_ended(self, job: Job) -> None:
        """A job reached a terminal status: cancelled, completed, failed or timed out."""


class JobService:
    """The lifecycle rules over a store. Thread-safe: one lock orders every change.

    Whatever drives it (the HTTP handlers, a test, a benchmark) runs jobs: the listeners given
    to `subscribe` (the app's `JobRunner`) start and stop their execution.
    """

    def __init__(
        self,
        config: EmulatorConfig,
        store: JobStore,
        *,
        clock: Callable[[], datetime.datetime] = utc_now,
    ) -> None:
        check_job_statuses()
        self.config = config
        self.store = store
        self.clock = clock
        self._lock = threading.RLock()
        self._listeners: list[JobListener] = []

    def subscribe(self, listener: JobListener) -> None:
        """Tell ``listener`` of every job's start and end from now on."""
        self._listeners.append(listener)

    def _started(self, job: Job) -> Job:
        for listener in self._listeners:
            listener.job_started(job)
        return job

    def _ended(self, job: Job | None) -> Job | None:
        if job is not None:
            for listener in self._listeners:
                listener.job_ended(job)
        return job

    def backend(self, name: str) -> BackendConfig:
        """The configured backend, or `UnknownBackend`."""
        backend = self.config.backend(name)
        if backend is None:
            raise UnknownBackend(name)
        return backend

    def reserved(self, name: str) -> bool:
        """Whether the backend is inside a reservation window now."""
        return self.backend(name).reserved_at(self.clock())

    def lanes_held(self, name: str) -> int:
        """How many of the backend's lanes stored jobs hold."""
        return self.store.count_backend(name)

    def create(
        self,
        instance: str,
        command: CreateJob,
        *,
        reserved: bool = False,
        lanes_full: bool = False,
    ) -> Job:
        """Accept a job: it is Running from here and holds a lane until deleted.

        Checks in the order a retried create needs: an unknown backend, then a duplicate id
        (so that a retry of an accepted create learns it was accepted), then the reservation,
        then the lanes. ``reserved`` and ``lanes_full`` (injected faults) refuse the job as a
        reservation or full lanes would, at the same place in that order.
        """
        backend = command.backend
        with self._lock:
            config = self.backend(backend)
            if self.store.get(instance, command.job_id) is not None:
                raise DuplicateJob(command.job_id)
            now = self.clock()
            if reserved or config.reserved_at(now):
                raise BackendReserved(backend)
            if lanes_full or self.store.count_backend(backend) >= config.lanes:
                raise LanesFull(backend, config.lanes)
            job = Job(
                id=command.job_id,
                instance=instance,
                program_id=command.program_id,
                backend=backend,
                log_level=command.log_level,
                timeout_secs=command.timeout_secs,
                storage=command.storage,
                created_time=now,
            )
            self.store.insert(job)
        return self._started(job)

    def get(self, instance: str, job_id: str) -> Job:
        """The instance's job, or `JobNotFound` (also for another instance's job)."""
        job = self.store.get(instance, job_id)
        if job is None:
            raise JobNotFound(job_id)
        return job

    def list(self, instance: str) -> list[Job]:
        """The instance's jobs, oldest first (the store orders them)."""
        return self.store.list(instance)

    def cancel(self, instance: str, job_id: str) -> Job:
        """Cancel a running job; `JobNotCancellable` when it already terminated."""
        with self._lock:
            job = self.get(instance, job_id)
            if job.terminal:
                raise JobNotCancellable(job_id, job.status)
            cancelled = replace(job, status=JobStatus.CANCELLED, end_time=self.clock())
            self.store.update(cancelled)
        self._ended(cancelled)
        return cancelled

    def delete(self, instance: str, job_id: str) -> None:
        """Delete a terminated job, freeing its lane; `JobNotTerminal` while it runs."""
        with self._lock:
            job = self.get(instance, job_id)
            if not job.terminal:
                raise JobNotTerminal(job_id)
            self.store.delete(instance, job_id)

    def complete(self, instance: str, job_id: str, quantum_nanoseconds: int) -> Job | None:
        """Record a successful run; None when the job is no longer running (cancelled)."""
        return self._finish(
            instance, job_id, JobStatus.COMPLETED, None, quantum_nanoseconds=quantum_nanoseconds
        )

    def fail(self, instance: str, job_id: str, reason: Reason) -> Job | None:
        """Record a failed run; None when the job is no longer running."""
        return self._finish(instance, job_id, JobStatus.FAILED, reason)

    def time_out(self, instance: str, job_id: str) -> Job | None:
        """Cancel a job whose execution exceeded its `timeout_secs`, saying so."""
        job = self.store.get(instance, job_id)
        reason = reasons.timed_out(job.timeout_secs if job is not None else 0)
        return self._finish(instance, job_id, JobStatus.CANCELLED, reason)

    def _finish(
        self,
        instance: str,
        job_id: str,
        status: JobStatus,
        reason: Reason | None,
        *,
        quantum_nanoseconds: int | None = None,
    ) -> Job | None:
        with self._lock:
            job = self.store.get(instance, job_id)
            if job is None or job.terminal:
                return None
            finished = replace(
                job,
                status=status,
                end_time=self.clock(),
                reason=reason,
                quantum_nanoseconds=quantum_nanoseconds,
            )
            self.store.update(finished)
        return self._ended(finished)
