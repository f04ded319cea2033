from __future__ import annotations

from enum import StrEnum
from typing import cast


class BackendStatus(StrEnum):
    OFFLINE = "offline"
    ONLINE = "online"
    PAUSED = "paused"

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def _member(cls, value: str) -> BackendStatus:
        """The member whose value is ``value``, from the enum's own table; ValueError as
        `BackendStatus(value)` raises when there is none (generator-templates/)."""
        try:
            member = cls._value2member_map_.get(value)
        except TypeError:  # unhashable, so not a value of the enum
            member = None
        return cls(value) if member is None else cast(BackendStatus, member)
