from __future__ import annotations

from enum import StrEnum
from typing import cast


class RegionType(StrEnum):
    CROSS_REGION = "cross-region"
    REGIONAL = "regional"
    SINGLE_SITE = "single-site"

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def _member(cls, value: str) -> RegionType:
        """The member whose value is ``value``, from the enum's own table; ValueError as
        `RegionType(value)` raises when there is none (generator-templates/)."""
        try:
            member = cls._value2member_map_.get(value)
        except TypeError:  # unhashable, so not a value of the enum
            member = None
        return cls(value) if member is None else cast(RegionType, member)
