"""The spec's operations as a route table: which operation a request is, what it documents.

Read from openapi.yaml through `direct_access.spec`, so that a new status or path in the spec
changes the client's error mapping and strict checks without an edit here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from direct_access.spec import load_spec

__all__ = ["Operation", "find_operation", "operation", "request_operation"]

_METHODS = ("get", "put", "post", "delete", "patch")


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True)
class Operation:
    """One operation of the spec."""

    operation_id: str
    method: str
    path: str
    pattern: re.Pattern[str]
    statuses: frozenset[str]

    def documents(self, status: int) -> bool:
        """Whether the spec lists ``status`` for this operation."""
        return str(status) in self.statuses or f"{str(status)[0]}XX" in self.statuses

    def schema_pointer(self, status: int) -> str | None:
        """The JSON pointer of the answer's JSON schema for ``status``, following ``$ref``s.

        ``None`` when the status has no JSON body (204) or is not documented.
        """
        spec = load_spec()
        pointer = f"/paths/{_escape(self.path)}/{self.method}/responses/{status}"
        node: Any = spec["paths"][self.path][self.method]["responses"].get(str(status))
        if node is None:
            return None
        while isinstance(node, Mapping) and "$ref" in node:
            ref = str(node["$ref"])
            pointer = ref.removeprefix("#")
            node = _resolve(spec, pointer)
        content = node.get("content", {}) if isinstance(node, Mapping) else {}
        if "application/json" not in content:
            return None
        return f"{pointer}/content/application~1json/schema"


def _resolve(spec: Mapping[str, Any], pointer: str) -> Any:
    node: Any = spec
    for raw in pointer.strip("/").split("/"):
        node = node[raw.replace("~1", "/").replace("~0", "~")]
    return node


@functools.cache
def _operations() -> tuple[Operation, ...]:
    found = []
    for path, item in load_spec()["paths"].items():
        template = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path))
        # A base URL may carry a path prefix; the operation's path is what ends the URL.
        pattern = re.compile(f"(?:/.*)?{template}")
        for method in _METHODS:
            if method in item:
                found.append(
                    Operation(
                        operation_id=item[method]["operationId"],
                        method=method,
                        path=path,
                        pattern=pattern,
                        statuses=frozenset(str(s) for s in item[method]["responses"]),
                    )
                )
    # Longest templates first, so a prefixed match never shadows a more specific path.
    return tuple(sorted(found, key=lambda op: -len(op.path)))


def find_operation(method: str, path: str) -> Operation | None:
    """The operation a request is (``None`` for a request outside the API, such as IAM's)."""
    method = method.lower()
    for op in _operations():
        if op.method == method and op.pattern.fullmatch(path):
            return op
    return None


def request_operation(request: httpx.Request) -> Operation | None:
    """The operation of a request, matched on its raw path (a quoted ``/`` in an id stays one
    segment)."""
    raw = request.url.raw_path.split(b"?", 1)[0].decode("ascii", errors="replace")
    return find_operation(request.method, raw)


def operation(operation_id: str) -> Operation:
    """The operation with this ``operationId``."""
    for op in _operations():
        if op.operation_id == operation_id:
            return op
    raise KeyError(operation_id)
