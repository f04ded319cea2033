from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="BackendList")


@_attrs_define
class BackendList:
    """The backends of this instance; `backends` may be `null` like `jobs` in Get jobs.

    Attributes:
        backends (list[Backend] | None):
    """

    backends: list[Backend] | None

    def to_dict(self) -> dict[str, Any]:
        backends: list[dict[str, Any]] | None
        if isinstance(self.backends, list):
            backends = []
            for backends_type_0_item_data in self.backends:
                backends_type_0_item = backends_type_0_item_data.to_dict()
                backends.append(backends_type_0_item)

        else:
            backends = self.backends

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "backends": backends,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        def _parse_backends(data: object) -> list[Backend] | None:
            if data is None:
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                backends_type_0 = []
                _backends_type_0 = data
                for backends_type_0_item_data in _backends_type_0:
                    backends_type_0_item = Backend.from_dict(backends_type_0_item_data)

                    backends_type_0.append(backends_type_0_item)

                return backends_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[Backend] | None, data)

        backends = _parse_backends(src_dict["backends"])

        backend_list = cls(
            backends=backends,
        )

        return backend_list


# Imported after the class, so that models that refer to each other still import
# (generator-templates/model.py.jinja).
from ..models.backend import Backend
