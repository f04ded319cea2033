from __future__ import annotations

from enum import StrEnum
from typing import cast


class JobStatus(StrEnum):
    CANCELLED = "Cancelled"
    COMPLETED = "Completed"
    FAILED = "Failed"
    RUNNING = "Running"

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def _member(cls, value: str) -> JobStatus:
        """The member whose value is ``value``, from the enum's own table; ValueError as
        `JobStatus(value)` raises when there is none (generator-templates/)."""
        try:
            member = cls._value2member_map_.get(value)
        except TypeError:  # unhashable, so not a value of the enum
            member = None
        return cls(value) if member is None else cast(JobStatus, member)
