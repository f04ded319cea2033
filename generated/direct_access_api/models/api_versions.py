from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="ApiVersions")


@_attrs_define
class ApiVersions:
    """The API versions the service supports.

    Attributes:
        versions (list[str]):
    """

    versions: list[str]

    def to_dict(self) -> dict[str, Any]:
        versions = self.versions

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "versions": versions,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        versions = cast(list[str], src_dict["versions"])

        api_versions = cls(
            versions=versions,
        )

        return api_versions
