from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="Usage")


@_attrs_define
class Usage:
    """Job usage details.

    Attributes:
        quantum_nanoseconds (int | Unset): Execution time on quantum device in nanoseconds.
    """

    quantum_nanoseconds: int | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        quantum_nanoseconds = self.quantum_nanoseconds

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if quantum_nanoseconds is not UNSET:
            field_dict["quantum_nanoseconds"] = quantum_nanoseconds

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        quantum_nanoseconds = src_dict.get("quantum_nanoseconds", UNSET)

        usage = cls(
            quantum_nanoseconds=quantum_nanoseconds,
        )

        return usage
