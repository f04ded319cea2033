from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="LaneCount")


@_attrs_define
class LaneCount:
    """A number of execution lanes.

    Attributes:
        lanes (int): How many jobs may run at once.
    """

    lanes: int

    def to_dict(self) -> dict[str, Any]:
        lanes = self.lanes

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "lanes": lanes,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        lanes = src_dict["lanes"]

        lane_count = cls(
            lanes=lanes,
        )

        return lane_count
