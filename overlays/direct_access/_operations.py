"""Which operation of the spec an httpx request is (the table is `direct_access_spec`'s)."""

from __future__ import annotations

import httpx

from direct_access_spec import Operation, find_operation

__all__ = ["request_operation"]


def request_operation(request: httpx.Request) -> Operation | None:
    """The operation of a request, matched on its raw path (a quoted ``/`` in an id stays one
    segment); ``None`` for a request outside the API, such as IAM's."""
    raw = request.url.raw_path.split(b"?", 1)[0].decode("ascii", errors="replace")
    return find_operation(request.method, raw)
