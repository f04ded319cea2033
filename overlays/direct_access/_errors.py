"""The exceptions of the client: one root, one class per documented status, transport apart.

Messages are built only from the method, the URL (presigned query strings cut off), the status and
the service's error body; request headers, tokens and API keys never reach them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from direct_access_api.models import ErrorResponse

if TYPE_CHECKING:
    import httpx

    from direct_access_api.models import Job
    from direct_access_spec import Operation, SpecViolation

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "BackendReservedError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "DirectAccessError",
    "DriftError",
    "DuplicateJobError",
    "IAMError",
    "InvalidResponseError",
    "JobFailedError",
    "JobTimeoutError",
    "NotFoundError",
    "PayloadTooLargeError",
    "RequestTimeoutError",
    "ServerError",
    "SpecViolationError",
    "StorageError",
    "TooManyJobsError",
    "UnexpectedStatusError",
    "UnprocessableEntityError",
    "error_from_response",
    "redact_url",
    "redact_urls",
]

_URL_QUERY = re.compile(r"(https?://[^\s?#\"'<>]+)\?[^\s#\"'<>]*")
_TEXT_LIMIT = 500


def redact_url(url: str) -> str:
    """``url`` without its query string, where presigned URLs keep their signature."""
    return url.split("?", 1)[0] + ("?…" if "?" in url else "")


def redact_urls(text: str) -> str:
    """``text`` with the query string of every URL in it cut off."""
    return _URL_QUERY.sub(lambda m: m.group(1) + "?…", text)


class DirectAccessError(Exception):
    """The root of every error this client raises."""


class ConfigurationError(DirectAccessError, ValueError):
    """Settings are missing or contradict each other; the message names the variable."""


class APIError(DirectAccessError):
    """The service answered with an error status.

    ``body`` is the parsed `ErrorResponse` when the answer had one (``None`` for a gateway's plain
    text or a body missing required fields); ``text`` is the raw answer, shortened. ``codes``,
    ``messages``, ``title``, ``trace`` and ``correlation_id`` are read leniently from whatever
    JSON there was, so a body without ``trace`` or ``correlation_id`` still gives a usable error.
    """

    def __init__(
        self,
        method: str,
        url: str,
        status_code: int,
        body: ErrorResponse | None,
        text: str,
        *,
        document: Any = None,
        retry_after: float | None = None,
    ) -> None:
        self.method = method.upper()
        self.url = redact_url(url)
        self.status_code = status_code
        self.body = body
        self.text = redact_urls(text[:_TEXT_LIMIT])
        self.retry_after = retry_after
        self.spec_violations: tuple[SpecViolation, ...] = ()
        raw = document if isinstance(document, Mapping) else {}
        listed = raw.get("errors")
        items: list[Any] = listed if isinstance(listed, list) else []
        self.codes: tuple[str, ...] = tuple(
            str(i["code"]) for i in items if isinstance(i, Mapping) and "code" in i
        )
        self.messages: tuple[str, ...] = tuple(
            redact_urls(str(i["message"]))
            for i in items
            if isinstance(i, Mapping) and "message" in i
        )
        self.title: str | None = _str_or_none(raw.get("title"))
        self.trace: str | None = _str_or_none(raw.get("trace"))
        self.correlation_id: str | None = _str_or_none(raw.get("correlation_id"))
        super().__init__(self._message())

    def _message(self) -> str:
        detail = "; ".join(
            f"{code}: {message}" for code, message in zip(self.codes, self.messages, strict=False)
        ) or (self.title or self.text.strip() or "no body")
        ids = ", ".join(
            f"{name}={value}"
            for name, value in (("trace", self.trace), ("correlation_id", self.correlation_id))
            if value
        )
        return f"{self.method} {self.url} -> {self.status_code}: {detail}" + (
            f" ({ids})" if ids else ""
        )


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


class BadRequestError(APIError):
    """400: the request was invalid."""


class AuthenticationError(APIError):
    """401: the token was refused (after one refresh), or the API key could not be exchanged."""


class IAMError(AuthenticationError):
    """IBM Cloud IAM refused to exchange the API key; ``iam_code`` is IAM's ``errorCode``."""

    def __init__(
        self, method: str, url: str, status_code: int, text: str, document: Any = None
    ) -> None:
        raw = document if isinstance(document, Mapping) else {}
        self.iam_code: str | None = _str_or_none(raw.get("errorCode"))
        self.iam_message: str | None = _str_or_none(raw.get("errorMessage"))
        super().__init__(method, url, status_code, None, text, document=None)

    def _message(self) -> str:
        detail = f"{self.iam_code or 'no errorCode'}: {self.iam_message or 'no errorMessage'}"
        return f"IAM token exchange {self.url} -> {self.status_code}: {detail}"


class NotFoundError(APIError):
    """404: no such job or backend (for the caller)."""


class RequestTimeoutError(APIError):
    """408: the service took too long to read the request."""


class ConflictError(APIError):
    """409: the job is in a state that forbids the request (or its id is taken)."""


class DuplicateJobError(ConflictError):
    """409 with code 1231: a job with this id exists already."""


class PayloadTooLargeError(APIError):
    """413: the request body is too large."""


class UnprocessableEntityError(APIError):
    """422: the request failed validation."""


class BackendReservedError(APIError):
    """423: the backend is reserved and runs no jobs outside the reservation."""


class TooManyJobsError(APIError):
    """429: every execution lane of the backend is held; delete finished jobs to free them."""


class ServerError(APIError):
    """Any 5xx answer."""


class UnexpectedStatusError(APIError):
    """A status the spec does not list for this operation (for instance 403 or a 200 for 204)."""


class InvalidResponseError(DirectAccessError):
    """A success answer whose body does not parse as the operation's documented document."""

    def __init__(
        self,
        method: str,
        url: str,
        status_code: int,
        reason: str,
        *,
        operation: Operation | str | None = None,
    ) -> None:
        self.method = method.upper()
        self.url = redact_url(url)
        self.status_code = status_code
        self.reason = redact_urls(reason)
        #: The spec's operationId of the call (``None`` for an answer outside the API).
        self.operation_id = _operation_id(operation)
        named = f" ({self.operation_id})" if self.operation_id else ""
        super().__init__(f"{self.method} {self.url}{named} -> {status_code}: {self.reason}")


def _operation_id(operation: Operation | str | None) -> str | None:
    """The spec's operationId of a call (``None`` for an answer outside the API)."""
    return operation if operation is None or isinstance(operation, str) else operation.operation_id


def _describe(violations: Sequence[SpecViolation]) -> str:
    return "; ".join(f"{v.location or '/'} ({v.keyword}): {v.message}" for v in violations)


class SpecViolationError(InvalidResponseError):
    """Strict mode: the answer breaks openapi.yaml (types, patterns, required fields...).

    ``violations`` lists every problem with its JSON pointer; ``fields`` the pointers alone.
    """

    def __init__(
        self,
        method: str,
        url: str,
        status_code: int,
        pointer: str,
        violations: Sequence[SpecViolation],
        *,
        operation: Operation | str | None = None,
    ) -> None:
        self.pointer = pointer
        self.violations = tuple(violations)
        self.fields = tuple(v.location for v in self.violations)
        super().__init__(
            method,
            url,
            status_code,
            f"answer breaks the spec: {_describe(self.violations)}",
            operation=operation,
        )


class DriftError(DirectAccessError):
    """Strict mode: an otherwise valid answer has fields the spec does not know (``metrics``).

    A newer deployment than the reference; pass ``allow_drift=True`` to accept such answers.
    ``fields`` are the JSON pointers of the added fields.
    """

    def __init__(
        self,
        method: str,
        url: str,
        status_code: int,
        pointer: str,
        violations: Sequence[SpecViolation],
        *,
        operation: Operation | str | None = None,
    ) -> None:
        self.method = method.upper()
        self.url = redact_url(url)
        self.status_code = status_code
        self.pointer = pointer
        self.violations = tuple(violations)
        self.fields = tuple(v.location for v in self.violations)
        self.operation_id = _operation_id(operation)
        named = f" ({self.operation_id})" if self.operation_id else ""
        super().__init__(
            f"{self.method} {self.url}{named} -> {status_code}: answer has fields the spec does "
            f"not define (drift from the reference): {', '.join(self.fields)}"
        )


class APIConnectionError(DirectAccessError):
    """The request did not get an answer: connection refused or dropped, DNS, TLS."""

    def __init__(self, method: str, url: str, cause: str) -> None:
        self.method = method.upper()
        self.url = redact_url(url)
        super().__init__(f"{self.method} {self.url}: {cause}")


class APITimeoutError(APIConnectionError):
    """The request timed out (connect, read, write or pool)."""


class JobTimeoutError(DirectAccessError):
    """``wait`` reached its deadline before the job reached a terminal status."""

    def __init__(self, job_id: str, timeout: float, last: Job | None) -> None:
        self.job_id = job_id
        self.timeout = timeout
        self.last = last
        status = last.status.value if last is not None else "unknown"
        super().__init__(f"job {job_id} still {status} after {timeout:g} s")


class JobFailedError(DirectAccessError):
    """The job ended ``Failed`` or ``Cancelled``; the reason fields are the service's."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.job_id = job.id
        self.status = job.status
        self.reason_code: int | None = job.reason_code if isinstance(job.reason_code, int) else None
        self.reason_message: str | None = _str_or_none(job.reason_message)
        self.reason_solution: str | None = _str_or_none(job.reason_solution)
        parts = [f"job {job.id} ended {job.status.value}"]
        if self.reason_code is not None:
            parts.append(f"code {self.reason_code}")
        if self.reason_message:
            parts.append(redact_urls(self.reason_message))
        if self.reason_solution:
            parts.append(f"solution: {redact_urls(self.reason_solution)}")
        super().__init__(
            ": ".join(parts[:1]) + (" (" + "; ".join(parts[1:]) + ")" if parts[1:] else "")
        )


class StorageError(DirectAccessError):
    """Job input, results or logs could not be written to or read from the S3 store."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    404: NotFoundError,
    408: RequestTimeoutError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: UnprocessableEntityError,
    423: BackendReservedError,
    429: TooManyJobsError,
}


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    import datetime  # noqa: PLC0415 - rare path
    from email.utils import parsedate_to_datetime  # noqa: PLC0415 - rare path

    try:
        when = parsedate_to_datetime(value)
        if when.tzinfo is None:  # "-0000" means UTC with the zone unknown (RFC 5322)
            when = when.replace(tzinfo=datetime.UTC)
        return max(0.0, (when - datetime.datetime.now(datetime.UTC)).total_seconds())
    except (TypeError, ValueError, OverflowError):
        return None


def parse_error_body(text: str) -> tuple[Any, ErrorResponse | None]:
    """The JSON document of an error answer (or None) and, when it fits, the parsed model."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return None, None
    if not isinstance(document, dict):
        return document, None
    try:
        return document, ErrorResponse.from_dict(document)
    except (KeyError, TypeError, ValueError, AttributeError):
        return document, None


def error_from_response(
    response: httpx.Response,
    *,
    documented: bool,
    scrub: Callable[[str], str] = lambda text: text,
) -> APIError:
    """The typed error for an error answer (the body must have been read).

    ``documented``: whether the spec lists this status for the operation; a 4xx it does not list
    is an `UnexpectedStatusError`, every 5xx a `ServerError`. ``scrub`` masks credentials in the
    body before anything is read from it (a server may echo the request's headers).
    """
    status = response.status_code
    text = scrub(response.text)
    document, body = parse_error_body(text)
    cls: type[APIError]
    if status >= 500:
        cls = ServerError
    elif documented and status in _BY_STATUS:
        cls = _BY_STATUS[status]
    elif status == 401:
        cls = AuthenticationError
    else:
        cls = UnexpectedStatusError
    error = cls(
        response.request.method,
        str(response.request.url),
        status,
        body,
        text,
        document=document,
        retry_after=_retry_after(response),
    )
    if isinstance(error, ConflictError) and "1231" in error.codes:
        error = DuplicateJobError(
            error.method,
            str(response.request.url),
            status,
            body,
            text,
            document=document,
            retry_after=error.retry_after,
        )
    return error
