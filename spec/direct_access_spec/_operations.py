"""The spec's operations as one table: path, method, operationId and documented statuses.

The client maps requests and answers to operations with it (error classes, strict checks), the
emulator routes by it, the contract suite checks answers with it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from direct_access_spec._document import escape, load_spec, resolve

__all__ = ["Operation", "SpecMismatch", "find_operation", "operation", "operations"]

_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class SpecMismatch(LookupError):
    """Code names something openapi.yaml does not have (the spec changed)."""


@dataclass(frozen=True)
class Operation:
    """One operation of the spec. ``method`` is upper case, as on the wire."""

    operation_id: str
    method: str
    path: str
    statuses: frozenset[str]
    #: Matches a request path of this operation; a base URL may add a prefix before it.
    pattern: re.Pattern[str]

    @property
    def pointer(self) -> str:
        """The JSON pointer of the operation in the spec."""
        return f"/paths/{escape(self.path)}/{self.method.lower()}"

    def documents(self, status: int) -> bool:
        """Whether the spec lists ``status`` for this operation."""
        return str(status) in self.statuses or f"{str(status)[0]}XX" in self.statuses

    def schema_pointer(self, status: int) -> str | None:
        """The JSON pointer of the answer's JSON schema for ``status``, following ``$ref``s.

        ``None`` when the status has no JSON body (204) or is not documented. Worked out once
        per operation and status: the clients ask it of every answer.
        """
        return _schema_pointer(self, status)


@functools.cache
def _schema_pointer(op: Operation, status: int) -> str | None:
    pointer = f"{op.pointer}/responses/{status}"
    node: Any = resolve(op.pointer)["responses"].get(str(status))
    if node is None:
        return None
    while isinstance(node, Mapping) and "$ref" in node:
        pointer = str(node["$ref"]).removeprefix("#")
        node = resolve(pointer)
    content = node.get("content", {}) if isinstance(node, Mapping) else {}
    if "application/json" not in content:
        return None
    return f"{pointer}/content/application~1json/schema"


@functools.cache
def operations() -> tuple[Operation, ...]:
    """Every operation of the spec, in the spec's order."""
    found = []
    for path, item in load_spec()["paths"].items():
        template = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path))
        pattern = re.compile(f"(?:/.*)?{template}")
        for method in _HTTP_METHODS:
            if method in item:
                found.append(
                    Operation(
                        operation_id=str(item[method]["operationId"]),
                        method=method.upper(),
                        path=path,
                        statuses=frozenset(str(s) for s in item[method]["responses"]),
                        pattern=pattern,
                    )
                )
    return tuple(found)


@functools.cache
def _by_specificity() -> tuple[Operation, ...]:
    # Longest templates first, so a prefixed match never shadows a more specific path.
    return tuple(sorted(operations(), key=lambda op: -len(op.path)))


def find_operation(method: str, path: str) -> Operation | None:
    """The operation a request is, from its method and raw path (a quoted ``/`` in an id stays
    one segment); ``None`` for a request outside the API, such as IAM's."""
    method = method.upper()
    for op in _by_specificity():
        if op.method == method and op.pattern.fullmatch(path):
            return op
    return None


def operation(operation_id: str) -> Operation:
    """The operation with this ``operationId``; `SpecMismatch` when the spec has none."""
    for op in operations():
        if op.operation_id == operation_id:
            return op
    raise SpecMismatch(f"openapi.yaml has no operation {operation_id!r}")
