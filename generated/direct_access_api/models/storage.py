from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="Storage")


@_attrs_define
class Storage:
    """Where the job's input, results and logs are.

    Attributes:
        input_ (StorageLocation | Unset): Where a job's input is read from, or its results or logs are written to. One
            shape for
            `input`, `logs` and `results` (the reference repeats it three times, identical but for the
            description, which stands on each use here).
        logs (StorageLocation | Unset): Where a job's input is read from, or its results or logs are written to. One
            shape for
            `input`, `logs` and `results` (the reference repeats it three times, identical but for the
            description, which stands on each use here).
        results (StorageLocation | Unset): Where a job's input is read from, or its results or logs are written to. One
            shape for
            `input`, `logs` and `results` (the reference repeats it three times, identical but for the
            description, which stands on each use here).
    """

    input_: StorageLocation | Unset = UNSET
    logs: StorageLocation | Unset = UNSET
    results: StorageLocation | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        input_: dict[str, Any] | Unset = UNSET
        if not isinstance(self.input_, Unset):
            input_ = self.input_.to_dict()

        logs: dict[str, Any] | Unset = UNSET
        if not isinstance(self.logs, Unset):
            logs = self.logs.to_dict()

        results: dict[str, Any] | Unset = UNSET
        if not isinstance(self.results, Unset):
            results = self.results.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if input_ is not UNSET:
            field_dict["input"] = input_
        if logs is not UNSET:
            field_dict["logs"] = logs
        if results is not UNSET:
            field_dict["results"] = results

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        _input_ = src_dict.get("input", UNSET)
        input_: StorageLocation | Unset
        if isinstance(_input_, Unset):
            input_ = UNSET
        else:
            input_ = StorageLocation.from_dict(_input_)

        _logs = src_dict.get("logs", UNSET)
        logs: StorageLocation | Unset
        if isinstance(_logs, Unset):
            logs = UNSET
        else:
            logs = StorageLocation.from_dict(_logs)

        _results = src_dict.get("results", UNSET)
        results: StorageLocation | Unset
        if isinstance(_results, Unset):
            results = UNSET
        else:
            results = StorageLocation.from_dict(_results)

        storage = cls(
            input_=input_,
            logs=logs,
            results=results,
        )

        return storage


# Imported after the class, so that models that refer to each other still import
# (generator-templates/model.py.jinja).
from ..models.storage_location import StorageLocation
