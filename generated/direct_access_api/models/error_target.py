from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="ErrorTarget")


@_attrs_define
class ErrorTarget:
    """The field or parameter an error is about.

    Attributes:
        name (str): The field's name or path.
        type_ (str): What kind of thing it is, such as `field`, `header` or `parameter`.
    """

    name: str
    type_: str

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        type_ = self.type_

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "type": type_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        name = src_dict["name"]

        type_ = src_dict["type"]

        error_target = cls(
            name=name,
            type_=type_,
        )

        return error_target
