"""What the emulator takes from openapi.yaml, read through `direct_access_spec`, never re-typed.

Enum values (job and backend statuses, log levels) and the create body's `log_level` default
(the operations are `direct_access_spec.operations()`). A value Python code names
(`spec_value("JobStatus", "Running")`) is checked against the spec at import, so a spec change
cannot go unnoticed.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping
from typing import Any

from direct_access_spec import SpecMismatch, load_spec

__all__ = [
    "BACKEND_STATUSES",
    "DEFAULT_LOG_LEVEL",
    "JOB_STATUSES",
    "LOG_LEVELS",
    "SpecMismatch",
    "enum_values",
    "spec_value",
]


def _schemas() -> Mapping[str, Any]:
    schemas: Mapping[str, Any] = load_spec()["components"]["schemas"]
    return schemas


def enum_values(schema: str) -> tuple[str, ...]:
    """The values of the string enum ``components/schemas/<schema>``, in the spec's order."""
    return tuple(str(value) for value in _schemas()[schema]["enum"])


def spec_value(schema: str, value: str) -> str:
    """``value``, after checking that it is one of the enum ``schema``'s values.

    A value the spec lost is refused naming the file that names it, the one to change.
    """
    if value not in enum_values(schema):
        frame = inspect.currentframe()
        caller = frame.f_back.f_code.co_filename if frame and frame.f_back else "the emulator"
        raise SpecMismatch(
            f"{schema} in openapi.yaml has no value {value!r}, which {caller} names: "
            "change that file to follow the spec (or restore the value in openapi.yaml)"
        )
    return value


def _verbosity(level: str) -> int:
    # The spec lists the levels unordered; their order is Python logging's (DEBUG 10 .. 50).
    number = logging.getLevelNamesMapping().get(level.upper())
    if number is None:
        raise SpecMismatch(f"LogLevel {level!r} in openapi.yaml is not a Python logging level")
    return number


#: The statuses of a job (`JobStatus`).
JOB_STATUSES = enum_values("JobStatus")
#: The statuses of a backend (`BackendStatus`).
BACKEND_STATUSES = enum_values("BackendStatus")
#: The job log levels (`LogLevel`), from the most to the least verbose.
LOG_LEVELS = tuple(sorted(enum_values("LogLevel"), key=_verbosity))
#: The log level of a job created without one (the create body's default).
DEFAULT_LOG_LEVEL = spec_value(
    "LogLevel", str(_schemas()["CreateJobRequest"]["properties"]["log_level"]["default"])
)
