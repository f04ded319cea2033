from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="CreateJobStorage")


@_attrs_define
class CreateJobStorage:
    """The job's `storage` as a create request must give it: the same object as a job's
    (`Storage`), with `input` and `results` required, since they are "Required for primitive
    programs" and every program the service runs is a primitive. `logs` stays optional.

        Attributes:
            input_ (CreateJobStorageLocation): A `StorageLocation` as a create request must give it. The only storage type
                is
                `s3_compatible`, for which "presigned_url is required", so it is required here, and must be
                an absolute http(s) URL of printable ASCII with no space, since the service fetches it
                (a class such as `\\S` is avoided on purpose: ECMA-262 and Python disagree on which
                characters are space, so generators and validators would disagree).
            results (CreateJobStorageLocation): A `StorageLocation` as a create request must give it. The only storage type
                is
                `s3_compatible`, for which "presigned_url is required", so it is required here, and must be
                an absolute http(s) URL of printable ASCII with no space, since the service fetches it
                (a class such as `\\S` is avoided on purpose: ECMA-262 and Python disagree on which
                characters are space, so generators and validators would disagree).
            logs (CreateJobStorageLocation | Unset): A `StorageLocation` as a create request must give it. The only storage
                type is
                `s3_compatible`, for which "presigned_url is required", so it is required here, and must be
                an absolute http(s) URL of printable ASCII with no space, since the service fetches it
                (a class such as `\\S` is avoided on purpose: ECMA-262 and Python disagree on which
                characters are space, so generators and validators would disagree).
    """

    input_: CreateJobStorageLocation
    results: CreateJobStorageLocation
    logs: CreateJobStorageLocation | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        input_ = self.input_.to_dict()

        results = self.results.to_dict()

        logs: dict[str, Any] | Unset = UNSET
        if not isinstance(self.logs, Unset):
            logs = self.logs.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "input": input_,
                "results": results,
            }
        )
        if logs is not UNSET:
            field_dict["logs"] = logs

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        input_ = CreateJobStorageLocation.from_dict(src_dict["input"])

        results = CreateJobStorageLocation.from_dict(src_dict["results"])

        _logs = src_dict.get("logs", UNSET)
        logs: CreateJobStorageLocation | Unset
        if isinstance(_logs, Unset):
            logs = UNSET
        else:
            logs = CreateJobStorageLocation.from_dict(_logs)

        create_job_storage = cls(
            input_=input_,
            results=results,
            logs=logs,
        )

        return create_job_storage


# Imported after the class, so that models that refer to each other still import
# (generator-templates/model.py.jinja).
from ..models.create_job_storage_location import CreateJobStorageLocation
