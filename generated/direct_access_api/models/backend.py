from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.backend_status import BackendStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="Backend")


@_attrs_define
class Backend:
    """A backend (docs/api-notes.md).

    Attributes:
        name (str): Name of the backend.
        status (BackendStatus): Whether the backend takes jobs.
        message (str | Unset): Why the backend is in its status.
        version (str | Unset): Version of the backend.
        locked (bool | Unset): Whether the backend is locked, such as by a reservation.
    """

    name: str
    status: BackendStatus
    message: str | Unset = UNSET
    version: str | Unset = UNSET
    locked: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        status = self.status.value

        message = self.message

        version = self.version

        locked = self.locked

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "status": status,
            }
        )
        if message is not UNSET:
            field_dict["message"] = message
        if version is not UNSET:
            field_dict["version"] = version
        if locked is not UNSET:
            field_dict["locked"] = locked

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        name = src_dict["name"]

        status = BackendStatus._member(src_dict["status"])

        message = src_dict.get("message", UNSET)

        version = src_dict.get("version", UNSET)

        locked = src_dict.get("locked", UNSET)

        backend = cls(
            name=name,
            status=status,
            message=message,
            version=version,
            locked=locked,
        )

        return backend
