from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ErrorResponse")


@_attrs_define
class ErrorResponse:
    """The body of every non-2xx answer from the API (docs/api-notes.md, "Errors"). Deployments differ:
    a real 423 had `"trace": ""` and no `location`, `correlation_id` may be absent, and some
    gateways answer plain text instead of JSON, which no schema describes; clients must cope.

        Attributes:
            status_code (int): The HTTP status of the answer.
            title (str): A short summary of the error.
            errors (list[ErrorItem]):
            trace (str | Unset): An id of the request in the service's logs; may be empty.
            correlation_id (str | Unset): An id that correlates the request across services; may be absent.
    """

    status_code: int
    title: str
    errors: list[ErrorItem]
    trace: str | Unset = UNSET
    correlation_id: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        status_code = self.status_code

        title = self.title

        errors = []
        for errors_item_data in self.errors:
            errors_item = errors_item_data.to_dict()
            errors.append(errors_item)

        trace = self.trace

        correlation_id = self.correlation_id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "status_code": status_code,
                "title": title,
                "errors": errors,
            }
        )
        if trace is not UNSET:
            field_dict["trace"] = trace
        if correlation_id is not UNSET:
            field_dict["correlation_id"] = correlation_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        status_code = src_dict["status_code"]

        title = src_dict["title"]

        errors = []
        _errors = src_dict["errors"]
        for errors_item_data in _errors:
            errors_item = ErrorItem.from_dict(errors_item_data)

            errors.append(errors_item)

        trace = src_dict.get("trace", UNSET)

        correlation_id = src_dict.get("correlation_id", UNSET)

        error_response = cls(
            status_code=status_code,
            title=title,
            errors=errors,
            trace=trace,
            correlation_id=correlation_id,
        )

        return error_response


# Imported after the class, so that models that refer to each other still import
# (generator-templates/model.py.jinja).
from ..models.error_item import ErrorItem
