"""Every non-2xx answer of the API in the spec's `ErrorResponse` shape, domain errors included.

Error codes are the service's (docs/api-notes.md, "Errors") where it has one; elsewhere the emulator
uses its own, all listed in `EMULATOR_ERROR_CODES`. `EXCEPTION_HANDLERS` is what the app gives
Starlette, so that handlers raise (`ApiError`, a core `DomainError`) instead of answering.
"""

from __future__ import annotations

import http
import json
import uuid
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from direct_access_emulator.core import (
    BackendReserved,
    DomainError,
    DuplicateJob,
    JobNotCancellable,
    JobNotFound,
    JobNotTerminal,
    LanesFull,
    UnknownBackend,
)

__all__ = [
    "EMULATOR_ERROR_CODES",
    "EXCEPTION_HANDLERS",
    "MORE_INFO",
    "ApiError",
    "JsonAnswer",
    "error_response",
    "internal_error",
]

#: The emulator's own error codes (`errors[].code`), for situations where docs/api-notes.md gives
#: the service's none. They are not the service's: each is the HTTP status as a string, so that a
#: client matching on codes sees something stable. Every other code it sends is the service's
#: (1200, 1201, 1216, 1231, 1232, 1233, 1291, 1306, 1337).
EMULATOR_ERROR_CODES: Mapping[int, str] = MappingProxyType(
    {
        404: "404",  # a path the API does not have
        405: "405",  # a method its path does not have
        408: "408",  # the body was not received within server.body_timeout_secs
        413: "413",  # the body is larger than server.max_body_bytes
        500: "500",  # an unexpected error in the emulator, or an injected fault
        503: "503",  # an injected fault (a 503, or a dropped connection the server cannot drop)
    }
)
#: Where each error item points for more (the service's documentation of errors).
MORE_INFO = "https://cloud.ibm.com/apidocs/quantum-computing#error-handling"

# The core's refusals, as the service answers them.
_DOMAIN_STATUSES: Mapping[type[DomainError], tuple[int, str]] = MappingProxyType(
    {
        UnknownBackend: (404, "1216"),
        JobNotFound: (404, "1291"),
        DuplicateJob: (409, "1231"),
        JobNotCancellable: (409, "1306"),
        JobNotTerminal: (409, "1337"),
        BackendReserved: (423, "1233"),
        LanesFull: (429, "1232"),
    }
)


class JsonAnswer(JSONResponse):
    """JSON with every non-ASCII character escaped: a lone surrogate cannot break encoding.

    NaN and infinities raise instead of becoming `NaN`/`Infinity`, which are not JSON: such a
    value is a bug, answered 500 in the error shape rather than as a body clients cannot parse.
    """

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
        return text.encode("ascii")


class ApiError(Exception):
    """An answer in the spec's error shape."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        items: list[dict[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.items = items or [{"code": code, "message": message, "more_info": MORE_INFO}]
        self.headers = dict(headers or {})

    @classmethod
    def of(cls, error: DomainError) -> ApiError:
        """The answer to a refusal of the core."""
        status, code = _DOMAIN_STATUSES.get(type(error), (500, EMULATOR_ERROR_CODES[500]))
        return cls(status, code, str(error))


def error_response(error: ApiError) -> Response:
    """The documented error body: status_code, title, trace, correlation_id, errors."""
    body = {
        "status_code": error.status,
        "title": http.HTTPStatus(error.status).phrase,
        "trace": uuid.uuid4().hex,
        "correlation_id": uuid.uuid4().hex,
        "errors": error.items,
    }
    return JsonAnswer(body, status_code=error.status, headers=error.headers)


def internal_error() -> Response:
    """The answer to a bug: 500, saying nothing of it."""
    return error_response(ApiError(500, EMULATOR_ERROR_CODES[500], "An internal error occurred."))


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)  # noqa: S101 - registered for ApiError only
    return error_response(exc)


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)  # noqa: S101 - registered for DomainError only
    return error_response(ApiError.of(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)  # noqa: S101 - registered for HTTPException only
    status = exc.status_code
    if status == 404:
        message = f"No such path: {request.url.path}."
    elif status == 405:
        message = f"Method {request.method} is not allowed on {request.url.path}."
    else:
        message = http.HTTPStatus(status).phrase
    code = EMULATOR_ERROR_CODES.get(status, str(status))
    return error_response(ApiError(status, code, message, headers=exc.headers))


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    return internal_error()


#: Starlette's exception handlers: every failure answers in the error shape.
EXCEPTION_HANDLERS: Mapping[Any, Callable[[Request, Exception], Awaitable[Response]]] = (
    MappingProxyType(
        {
            ApiError: _api_error,
            DomainError: _domain_error,
            HTTPException: _http_error,
            Exception: _unexpected_error,
        }
    )
)
