from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.log_level import LogLevel
from ..types import UNSET, Unset

T = TypeVar("T", bound="CreateJobRequest")


@_attrs_define
class CreateJobRequest:
    """The body of Run a job. The reference gives only a table (id, program_id, backend,
    log_level, storage, timeout_secs) and no schema, so this schema is ours. It holds every
    rule a server enforces, so that what it accepts a server can run; each rule says where it
    comes from.

        Attributes:
            id (str): Job identifier. Recommended to be UUID.
                Length 1..256 as IBM's simulators enforced. Pattern (ours): the id is later a path
                segment (`/v1/jobs/{job-id}`), so it is limited to URI-unreserved characters and must
                start with a letter or digit; a `/`, `%`, `?` or a dot segment such as `..` would not
                survive the round trip through a URL.
            program_id (str): ID of the program. Length 1..256 as IBM's simulators enforced. The service runs
                `sampler` and `estimator`; another value is accepted and the job then fails with a
                reason, as the service does, so the spec does not narrow it to an enum.
            backend (str): Name of the backend. Length 1..256 as IBM's simulators enforced; an unknown backend answers 404.
            timeout_secs (int): Time (in seconds) after which job should time out and get cancelled. It is based on
                system execution time (not wall clock time). System execution time is the amount of
                time that the system is dedicated to processing your job.
                Bounds (ours): at least 1 second (a job cannot run in no time) and at most the int64
                range, since the job schema prints it as `format: int64`.
            storage (CreateJobStorage): The job's `storage` as a create request must give it: the same object as a job's
                (`Storage`), with `input` and `results` required, since they are "Required for primitive
                programs" and every program the service runs is a primitive. `logs` stays optional.
            log_level (LogLevel | Unset): Logging level of the program
    """

    id: str
    program_id: str
    backend: str
    timeout_secs: int
    storage: CreateJobStorage
    log_level: LogLevel | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        program_id = self.program_id

        backend = self.backend

        timeout_secs = self.timeout_secs

        storage = self.storage.to_dict()

        log_level: str | Unset = UNSET
        if not isinstance(self.log_level, Unset):
            log_level = self.log_level.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "program_id": program_id,
                "backend": backend,
                "timeout_secs": timeout_secs,
                "storage": storage,
            }
        )
        if log_level is not UNSET:
            field_dict["log_level"] = log_level

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        id = src_dict["id"]

        program_id = src_dict["program_id"]

        backend = src_dict["backend"]

        timeout_secs = src_dict["timeout_secs"]

        storage = CreateJobStorage.from_dict(src_dict["storage"])

        _log_level = src_dict.get("log_level", UNSET)
        log_level: LogLevel | Unset
        if isinstance(_log_level, Unset):
            log_level = UNSET
        else:
            log_level = LogLevel._member(_log_level)

        create_job_request = cls(
            id=id,
            program_id=program_id,
            backend=backend,
            timeout_secs=timeout_secs,
            storage=storage,
            log_level=log_level,
        )

        return create_job_request


# Imported after the class, so that models that refer to each other still import
# (generator-templates/model.py.jinja).
from ..models.create_job_storage import CreateJobStorage
