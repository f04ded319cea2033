from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ErrorItem")


@_attrs_define
class ErrorItem:
    """One error. Codes seen: 1200/1201 (401), 1216 backend not found, 1231 duplicate job id, 1232 lanes full, 1233 backend
    reserved, 1291 job not found, 1306 job not cancellable, 1337 invalid input.

        Attributes:
            code (str): The service's error code.
            message (str): What went wrong.
            more_info (str): A link to the service's error-handling documentation.
            location (str | Unset): Where in the request the error is, such as `body`, `header` or `path`.
            target (ErrorTarget | Unset): The field or parameter an error is about.
            value (Any | Unset): The offending value, where there is one; any JSON value.
    """

    code: str
    message: str
    more_info: str
    location: str | Unset = UNSET
    target: ErrorTarget | Unset = UNSET
    value: Any | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        code = self.code

        message = self.message

        more_info = self.more_info

        location = self.location

        target: dict[str, Any] | Unset = UNSET
        if not isinstance(self.target, Unset):
            target = self.target.to_dict()

        value = self.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "code": code,
                "message": message,
                "more_info": more_info,
            }
        )
        if location is not UNSET:
            field_dict["location"] = location
        if target is not UNSET:
            field_dict["target"] = target
        if value is not UNSET:
            field_dict["value"] = value

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        code = src_dict["code"]

        message = src_dict["message"]

        more_info = src_dict["more_info"]

        location = src_dict.get("location", UNSET)

        _target = src_dict.get("target", UNSET)
        target: ErrorTarget | Unset
        if isinstance(_target, Unset):
            target = UNSET
        else:
            target = ErrorTarget.from_dict(_target)

        value = src_dict.get("value", UNSET)

        error_item = cls(
            code=code,
            message=message,
            more_info=more_info,
            location=location,
            target=target,
            value=value,
        )

        return error_item


# Imported after the class, so that models that refer to each other still import
# (generator-templates/model.py.jinja).
from ..models.error_target import ErrorTarget
