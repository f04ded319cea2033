"""What the emulator takes from openapi.yaml, read through `direct_access.spec`, never re-typed.

Enum values (job and backend statuses, log levels), the create body's `log_level` default and
the operations (path, method, operationId). A value Python code names (`spec_value("JobStatus",
"Running")`) is checked against the spec at import, so a spec change cannot go unnoticed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from direct_access.spec import load_spec

__all__ = [
    "BACKEND_STATUSES",
    "DEFAULT_LOG_LEVEL",
    "JOB_STATUSES",
    "LOG_LEVELS",
    "OPERATIONS",
    "Operation",
    "SpecMismatch",
    "enum_values",
    "operation",
    "spec_value",
]

_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class SpecMismatch(RuntimeError):
    """The emulator names something openapi.yaml does not have (the spec changed)."""


def _schemas() -> Mapping[str, Any]:
    schemas: Mapping[str, Any] = load_spec()["components"]["schemas"]
    return schemas


def enum_values(schema: str) -> tuple[str, ...]:
    """The values of the string enum ``components/schemas/<schema>``, in the spec's order."""
    return tuple(str(value) for value in _schemas()[schema]["enum"])


def spec_value(schema: str, value: str) -> str:
    """``value``, after checking that it is one of the enum ``schema``'s values."""
    if value not in enum_values(schema):
        raise SpecMismatch(f"{schema} in openapi.yaml has no value {value!r}")
    return value


@dataclass(frozen=True)
class Operation:
    """One operation of the spec: its path template, method (upper case) and operationId."""

    path: str
    method: str
    operation_id: str

    @property
    def pointer(self) -> str:
        """The JSON pointer of the operation in the spec."""
        escaped = self.path.replace("~", "~0").replace("/", "~1")
        return f"/paths/{escaped}/{self.method.lower()}"


def _operations() -> tuple[Operation, ...]:
    return tuple(
        Operation(path, method.upper(), str(item[method]["operationId"]))
        for path, item in load_spec()["paths"].items()
        for method in _HTTP_METHODS
        if method in item
    )


def operation(operation_id: str) -> Operation:
    """The spec's operation ``operation_id``."""
    for found in OPERATIONS:
        if found.operation_id == operation_id:
            return found
    raise SpecMismatch(f"openapi.yaml has no operation {operation_id!r}")


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
#: Every operation of the spec, in its order.
OPERATIONS = _operations()
