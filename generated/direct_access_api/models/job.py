from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.job_status import JobStatus
from ..models.log_level import LogLevel
from ..types import UNSET, Unset

T = TypeVar("T", bound="Job")


@_attrs_define
class Job:
    """A job, as Get Job by ID and Get jobs return it.

    Drift: newer deployments add `metrics` (`circuits_execution_time_ns`, `timestamps`) to
    every job (docs/api-notes.md, "Where deployments differ"). The published reference does not
    have it, so neither does this schema: under `additionalProperties: false` such answers
    are drift from the reference, which the client's strict mode and the contract suite name
    as such. When the reference adds it, add it here and regenerate.

        Attributes:
            backend (str): Name of the backend
            created_time (datetime.datetime): Time when job was created.
            id (str): Unique ID for the Job (UUID V4)
            program_id (str): ID of the program
            status (JobStatus): Current status of the job.
            end_time (datetime.datetime | Unset): Time when job reached a terminal status.
            log_level (LogLevel | Unset): Logging level of the program
            reason_code (int | Unset): This field will be set to a numeric error code when the job has failed.
            reason_message (str | Unset): Reason message explaining why the job is in a particular status. Ex: If a job has
                Failed, this field will have the error message.
            reason_solution (str | Unset): Next steps to take in case of failure.
            storage (Storage | Unset): Where the job's input, results and logs are.
            timeout_secs (int | Unset): Time (in seconds) after which job should time out and get cancelled.
            usage (Usage | Unset): Job usage details.
    """

    backend: str
    created_time: datetime.datetime
    id: str
    program_id: str
    status: JobStatus
    end_time: datetime.datetime | Unset = UNSET
    log_level: LogLevel | Unset = UNSET
    reason_code: int | Unset = UNSET
    reason_message: str | Unset = UNSET
    reason_solution: str | Unset = UNSET
    storage: Storage | Unset = UNSET
    timeout_secs: int | Unset = UNSET
    usage: Usage | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        backend = self.backend

        created_time = self.created_time.isoformat()

        id = self.id

        program_id = self.program_id

        status = self.status.value

        end_time: str | Unset = UNSET
        if not isinstance(self.end_time, Unset):
            end_time = self.end_time.isoformat()

        log_level: str | Unset = UNSET
        if not isinstance(self.log_level, Unset):
            log_level = self.log_level.value

        reason_code = self.reason_code

        reason_message = self.reason_message

        reason_solution = self.reason_solution

        storage: dict[str, Any] | Unset = UNSET
        if not isinstance(self.storage, Unset):
            storage = self.storage.to_dict()

        timeout_secs = self.timeout_secs

        usage: dict[str, Any] | Unset = UNSET
        if not isinstance(self.usage, Unset):
            usage = self.usage.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "backend": backend,
                "created_time": created_time,
                "id": id,
                "program_id": program_id,
                "status": status,
            }
        )
        if end_time is not UNSET:
            field_dict["end_time"] = end_time
        if log_level is not UNSET:
            field_dict["log_level"] = log_level
        if reason_code is not UNSET:
            field_dict["reason_code"] = reason_code
        if reason_message is not UNSET:
            field_dict["reason_message"] = reason_message
        if reason_solution is not UNSET:
            field_dict["reason_solution"] = reason_solution
        if storage is not UNSET:
            field_dict["storage"] = storage
        if timeout_secs is not UNSET:
            field_dict["timeout_secs"] = timeout_secs
        if usage is not UNSET:
            field_dict["usage"] = usage

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        backend = src_dict["backend"]

        created_time = datetime.datetime.fromisoformat(src_dict["created_time"])

        id = src_dict["id"]

        program_id = src_dict["program_id"]

        status = JobStatus._member(src_dict["status"])

        _end_time = src_dict.get("end_time", UNSET)
        end_time: datetime.datetime | Unset
        if isinstance(_end_time, Unset):
            end_time = UNSET
        else:
            end_time = datetime.datetime.fromisoformat(_end_time)

        _log_level = src_dict.get("log_level", UNSET)
        log_level: LogLevel | Unset
        if isinstance(_log_level, Unset):
            log_level = UNSET
        else:
            log_level = LogLevel._member(_log_level)

        reason_code = src_dict.get("reason_code", UNSET)

        reason_message = src_dict.get("reason_message", UNSET)

        reason_solution = src_dict.get("reason_solution", UNSET)

        _storage = src_dict.get("storage", UNSET)
        storage: Storage | Unset
        if isinstance(_storage, Unset):
            storage = UNSET
        else:
            storage = Storage.from_dict(_storage)

        timeout_secs = src_dict.get("timeout_secs", UNSET)

        _usage = src_dict.get("usage", UNSET)
        usage: Usage | Unset
        if isinstance(_usage, Unset):
            usage = UNSET
        else:
            usage = Usage.from_dict(_usage)

        job = cls(
            backend=backend,
            created_time=created_time,
            id=id,
            program_id=program_id,
            status=status,
            end_time=end_time,
            log_level=log_level,
            reason_code=reason_code,
            reason_message=reason_message,
            reason_solution=reason_solution,
            storage=storage,
            timeout_secs=timeout_secs,
            usage=usage,
        )

        return job


# Imported after the class, so that models that refer to each other still import
# (generator-templates/model.py.jinja).
from ..models.storage import Storage
from ..models.usage import Usage
