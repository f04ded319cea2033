"""Reading request bodies: within the size and time limits, then checked against openapi.yaml.

`read_body` refuses a body past `server.max_body_bytes` (413, before reading it all) or slower
than `server.body_timeout_secs` (408). `parse_create_job` turns a create body into the core's
typed `CreateJob`, or raises 400 (not a JSON object) or 422 (each violation of the spec's
`CreateJobRequest` named in one item), so that no handler indexes the raw document.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable
from typing import Any

import orjson
from starlette.requests import Request

from direct_access_emulator.config import ServerConfig
from direct_access_emulator.core import CreateJob
from direct_access_emulator.http_errors import EMULATOR_ERROR_CODES, MORE_INFO, ApiError
from direct_access_emulator.spec_values import DEFAULT_LOG_LEVEL
from direct_access_spec import SpecViolation, operation, violations

__all__ = ["job_id_in", "parse_create_job", "read_body"]

_CREATE_SCHEMA = f"{operation('create_job').pointer}/requestBody/content/application~1json/schema"


async def read_body(request: Request, limits: ServerConfig) -> bytes:
    """The body, refused with 413 past the limit (before reading it all) or 408 when slow."""
    limit = limits.max_body_bytes
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(limits.body_timeout_secs):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise _too_large(limit)
                chunks.append(chunk)
    except TimeoutError:
        raise ApiError(
            408,
            EMULATOR_ERROR_CODES[408],
            f"The request body was not received within {limits.body_timeout_secs} seconds.",
            headers={"Connection": "close"},
        ) from None
    return b"".join(chunks)


def _too_large(limit: int) -> ApiError:
    # Made when refusing only: every create built it (bench/).
    return ApiError(
        413,
        EMULATOR_ERROR_CODES[413],
        f"The request body is larger than {limit} bytes.",
        headers={"Connection": "close"},
    )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class _OutOfRange(str):
    """A JSON number beyond the float range (`1e400`), kept as its literal text.

    As a float it would be an infinity, which cannot be echoed back in valid JSON.
    """

    __slots__ = ()


def _loads(body: bytes, parse_float: Callable[[str], Any]) -> Any:
    """`json.loads` of the body, through orjson when it reads it the same (5x faster here).

    orjson refuses what it reads otherwise (a number past float64, a lone surrogate, a BOM,
    UTF-16, nesting past 1,024, no JSON), and `json.loads` reads it then; it reads an integer
    past 64 bits as a float, so a document holding a float is read again by `json.loads`.
    """
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    else:
        if not _holds_float(document):
            return document
    return json.loads(body, parse_constant=_reject_constant, parse_float=parse_float)


def _holds_float(document: Any) -> bool:
    pending = [document]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, float):
            return True
    return False


def _json_object(body: bytes, out_of_range: list[_OutOfRange] | None = None) -> dict[str, Any]:
    """The body as a JSON object, or a 400; each out-of-range number is added to
    ``out_of_range``, so that only a body holding one is searched for them."""

    def parse_float(literal: str) -> float | _OutOfRange:
        number = float(literal)
        if math.isfinite(number):
            return number
        found = _OutOfRange(literal)
        if out_of_range is not None:
            out_of_range.append(found)
        return found

    try:
        document = _loads(body, parse_float)
    except (ValueError, RecursionError):
        raise ApiError(400, "1337", "The request body is not valid JSON.") from None
    if not isinstance(document, dict):
        raise ApiError(400, "1337", "The request body must be a JSON object.")
    return document


def job_id_in(body: bytes) -> str | None:
    """The job id a create body names, if it is a JSON object with a string `id`."""
    try:
        found = _json_object(body).get("id")
    except ApiError:
        return None
    return found if isinstance(found, str) else None


def _out_of_range_numbers(document: Any) -> dict[str, _OutOfRange]:
    """Where each out-of-range number is, named as `SpecViolation.location` names fields.

    Iterative, since bodies may nest as deep as the JSON parser allows.
    """
    found: dict[str, _OutOfRange] = {}
    pending: list[tuple[str, Any]] = [("", document)]
    while pending:
        pointer, node = pending.pop()
        if isinstance(node, _OutOfRange):
            found[pointer] = node
        elif isinstance(node, dict):
            pending.extend((f"{pointer}/{key}", value) for key, value in node.items())
        elif isinstance(node, list):
            pending.extend((f"{pointer}/{index}", value) for index, value in enumerate(node))
    return dict(sorted(found.items()))


def _to_plain_strings(document: Any) -> None:
    """Each out-of-range number made a plain `str` in place: the validator takes JSON types only
    (its verdict there is dropped; the number is reported as out of range)."""
    pending: list[Any] = [document]
    while pending:
        node = pending.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            if isinstance(value, _OutOfRange):
                node[key] = str(value)
            elif isinstance(value, dict | list):
                pending.append(value)


def _field_item(location: str, message: str) -> dict[str, Any]:
    name = location or "/"
    return {
        "code": "1337",
        "message": f"{name}: {message}",
        "more_info": MORE_INFO,
        "location": "body",
        "target": {"name": name, "type": "field"},
    }


def _violation_item(violation: SpecViolation) -> dict[str, Any]:
    item = _field_item(violation.location, violation.message)
    if violation.keyword != "required":  # a missing field has no value to show
        item["value"] = violation.value
    return item


def _out_of_range_item(pointer: str, number: _OutOfRange) -> dict[str, Any]:
    item = _field_item(pointer, f"the number {number} is out of range (not a finite float64)")
    item["value"] = str(number)
    return item


def parse_create_job(body: bytes) -> CreateJob:
    """The create command of a body valid against the spec's `CreateJobRequest`, or 400/422."""
    seen: list[_OutOfRange] = []
    document = _json_object(body, seen)
    try:
        out_of_range = _out_of_range_numbers(document) if seen else {}
        if out_of_range:
            _to_plain_strings(document)
        checked = violations(_CREATE_SCHEMA, document)
    except RecursionError:
        # JSON the parser read that nests past what the checks follow (the validator's limit
        # is 255 levels): refused as a body, not a 500.
        raise ApiError(400, "1337", "The request body nests too deeply to be checked.") from None
    found = [v for v in checked if v.location not in out_of_range]
    if found or out_of_range:
        items = [_out_of_range_item(pointer, n) for pointer, n in out_of_range.items()]
        items += [_violation_item(v) for v in found]
        raise ApiError(422, "1337", "Validation failed.", items=items)
    return CreateJob(
        job_id=document["id"],
        program_id=document["program_id"],
        backend=document["backend"],
        log_level=document.get("log_level", DEFAULT_LOG_LEVEL),
        timeout_secs=int(document["timeout_secs"]),
        storage=document["storage"],
    )
