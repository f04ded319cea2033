"""The base both clients share: construction, the answer check, and error translation.

`BaseClient` builds the generated `direct_access_api.Client` with auth and response hooks
(through ``httpx_args``). The response hook reads every API answer before the generated parser
sees it: an error status becomes a typed exception (401s are left to our own auth flows, which
refresh first), a success answer is checked to be JSON and, in strict mode, against openapi.yaml.
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar, cast

import httpx

from direct_access._auth import HANDLES_401, BearerAuth, IAMAuth
from direct_access._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    DirectAccessError,
    InvalidResponseError,
    error_from_response,
    redact_urls,
)
from direct_access._operations import request_operation
from direct_access._retry import RetryPolicy, RetryState
from direct_access._secrets import contains_secret, redact_secrets, request_secrets
from direct_access._settings import Settings
from direct_access._strict import StrictMode
from direct_access._transport import (
    DEFAULT_MAX_ANSWER_BYTES,
    AsyncCappedTransport,
    CappedTransport,
    deadline_transport,
)
from direct_access_api import Client as GeneratedClient
from direct_access_api.types import Response, Unset
from direct_access_spec import Operation, violations

__all__ = ["DEFAULT_RETRY", "BaseClient"]

_log = logging.getLogger("direct_access")
T = TypeVar("T")

#: The retry policy a client uses unless told otherwise (``retry=None`` turns retries off).
DEFAULT_RETRY = RetryPolicy()

# A cap on each request's timeout (seconds) for the Send step being made, read by the request
# hook: a poll inside `wait` may not outlast the wait's deadline.
_TIME_LIMIT: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "direct_access_time_limit", default=None
)

# What the generated parser raises on an answer of the wrong shape (``d.pop("id")`` on a list,
# ``JobStatus("x")``...). The same exceptions raised by the overlay's own code are bugs, and
# propagate as they are (`BaseClient.parse_failure` tells the two apart).
PARSER_ERRORS = (KeyError, TypeError, ValueError, AttributeError)
_GENERATED_PACKAGE = "direct_access_api"
_OVERLAY_PACKAGE = "direct_access"


def _request_of(exc: BaseException) -> httpx.Request | None:
    try:
        return exc.request if isinstance(exc, httpx.HTTPError) else None
    except RuntimeError:  # an httpx error raised without its request
        return None


def _where(exc: httpx.HTTPError) -> tuple[str, str]:
    try:
        request = exc.request
    except RuntimeError:
        return "?", "?"
    return request.method, str(request.url)


def _cap_timeout(request: httpx.Request) -> None:
    limit = _TIME_LIMIT.get()
    if limit is None:
        return
    configured = request.extensions.get("timeout") or {}
    request.extensions["timeout"] = {
        name: limit if configured.get(name) is None else min(limit, configured[name])
        for name in ("connect", "read", "write", "pool")
    }


async def _async_cap_timeout(request: httpx.Request) -> None:
    _cap_timeout(request)


def _package_of(frame_globals: dict[str, Any]) -> str:
    return str(frame_globals.get("__name__", "")).split(".", 1)[0]


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


def raised_by_generated_code(exc: BaseException) -> bool:
    """Whether the innermost of our frames that ``exc`` passed through is generated code (the
    parser choking on an answer), rather than the overlay (a bug of ours, left as it is)."""
    innermost = ""
    tb = exc.__traceback__
    while tb is not None:
        package = _package_of(tb.tb_frame.f_globals)
        if package in (_GENERATED_PACKAGE, _OVERLAY_PACKAGE):
            innermost = package
        tb = tb.tb_next
    return innermost == _GENERATED_PACKAGE


class BaseClient:
    """What `Client` and `AsyncClient` share: settings, the generated client and its hooks, the
    answer check and the translation of what the generated call raised into typed errors."""

    def __init__(
        self,
        settings: Settings | None,
        *,
        strict: bool | StrictMode,
        allow_drift: bool,
        retry: RetryPolicy | None,
        timeout: float | httpx.Timeout,
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None,
        auth: httpx.Auth | None,
        clock: Callable[[], float],
        asynchronous: bool,
        max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
    ) -> None:
        self.settings = settings if settings is not None else Settings.from_env()
        if isinstance(strict, StrictMode):
            self._strict: StrictMode | None = strict
        else:
            self._strict = StrictMode(allow_drift=allow_drift) if strict else None
        self._retry = retry if retry is not None else RetryPolicy.none()
        self._clock = clock
        if max_answer_bytes < 1:
            raise ValueError("max_answer_bytes must be positive")
        timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        phases = [t for t in timeout.as_dict().values() if t is not None]
        #: The wall-clock limit of one attempt (None: the timeout sets none).
        self._attempt_secs: float | None = max(phases) if phases else None
        if auth is None:
            if self.settings.api_key:
                auth = IAMAuth(
                    self.settings.api_key,
                    self.settings.iam_url,
                    timeout=self._attempt_secs if self._attempt_secs is not None else 30.0,
                )
            else:
                auth = BearerAuth(self.settings.token or "")
        self._auth = auth
        headers = {"Service-CRN": self.settings.service_crn}
        if self.settings.api_version:
            headers["IBM-API-Version"] = self.settings.api_version
        hooks: dict[str, list[Callable[[Any], Any]]] = (
            {"request": [_async_cap_timeout], "response": [self._async_response_hook]}
            if asynchronous
            else {"request": [_cap_timeout], "response": [self._response_hook]}
        )
        framed = transport is None
        if transport is None:
            transport = deadline_transport(asynchronous=asynchronous)
        capped: httpx.BaseTransport | httpx.AsyncBaseTransport
        if asynchronous:
            capped = AsyncCappedTransport(
                cast(httpx.AsyncBaseTransport, transport), max_answer_bytes, framed=framed
            )
        else:
            capped = CappedTransport(
                cast(httpx.BaseTransport, transport), max_answer_bytes, framed=framed
            )
        httpx_args: dict[str, Any] = {"auth": auth, "event_hooks": hooks, "transport": capped}
        self._api = GeneratedClient(
            base_url=self.settings.url,
            headers=headers,
            timeout=timeout,
            raise_on_unexpected_status=True,
            httpx_args=httpx_args,
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(url={self.settings.url!r}, strict={self._strict is not None})"
        )

    def _attempt_limit(self, state: RetryState, time_limit: float | None) -> float | None:
        """The wall-clock seconds the next attempt may take: the request timeout, within the
        step's own limit (a poll's share of its wait) or what is left of the call's total."""
        left = time_limit if time_limit is not None else state.time_left()
        if self._attempt_secs is None:
            return left
        return min(self._attempt_secs, left)

    def _retry_state(self, operation_id: str, *, budget: float | None = None) -> RetryState:
        """The retry bookkeeping of one call, paced by the client's clock."""
        return self._retry.state(operation_id, self._clock, budget=budget)

    # The hook runs inside httpx for every answer, IAM's included (which it leaves alone).
    def _response_hook(self, response: httpx.Response) -> None:
        response.read()
        self._check(response)

    async def _async_response_hook(self, response: httpx.Response) -> None:
        await response.aread()
        self._check(response)

    def _check(self, response: httpx.Response) -> None:
        request = response.request
        op = request_operation(request)
        if op is None:
            return
        status = response.status_code
        if status == 401 and request.extensions.get(HANDLES_401):
            return  # our auth flow refreshes and re-sends once, then raises
        if status >= 400 or not op.documents(status):
            raise self._error(response, op)
        pointer = op.schema_pointer(status)
        if pointer is None:
            return
        url = str(request.url)
        invalid = functools.partial(InvalidResponseError, request.method, url, status, operation=op)
        media_type = response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
        if media_type and not _is_json(media_type):
            raise invalid(f"the body is {media_type}, not JSON")
        content: str | bytes = response.content
        secrets = self._secrets(request)
        if contains_secret(response.content, secrets):
            # The answer echoes a credential: it never reaches a model, a check or an error.
            content = redact_secrets(response.text, secrets)
        try:
            document = json.loads(content)
        except ValueError:
            raise invalid("the body is not JSON") from None
        except RecursionError:
            raise invalid("the body nests deeper than can be read") from None
        if self._strict is not None:
            try:
                self._strict.check(
                    request.method,
                    url,
                    status,
                    pointer,
                    document,
                    operation=op.operation_id,
                )
            except RecursionError:
                raise invalid("the body nests deeper than can be checked") from None
        # The generated parser calls response.json() next: hand it this parse instead of a second
        # json.loads of the same body (bench/ showed it in every list answer's profile).
        response.json = lambda **_: document  # type: ignore[method-assign]

    def _secrets(self, request: httpx.Request | None) -> tuple[str, ...]:
        """The credentials to keep out of answers and errors: the settings' and the request's."""
        held = tuple(s for s in (self.settings.api_key, self.settings.token) if s)
        return held if request is None else held + request_secrets(request)

    def _scrub(self, request: httpx.Request | None) -> Callable[[str], str]:
        secrets = self._secrets(request)
        return lambda text: redact_secrets(text, secrets)

    def _error(self, response: httpx.Response, op: Operation) -> APIError:
        scrub = self._scrub(response.request)
        error = error_from_response(
            response, documented=op.documents(response.status_code), scrub=scrub
        )
        pointer = op.schema_pointer(response.status_code)
        if self._strict is not None and pointer is not None:
            text = scrub(response.text)
            try:
                document = json.loads(text)
            except (ValueError, RecursionError):
                document = text
            try:
                error.spec_violations = tuple(violations(pointer, document))
            except RecursionError:
                error.spec_violations = ()
        return error

    def _translate(self, exc: Exception, op: Operation) -> BaseException:
        """A typed error for what the generated call raised; the overlay's own bugs as they are.
        Messages are scrubbed of credentials (see `cause` for the chained exception)."""
        if isinstance(exc, DirectAccessError):
            return exc
        request = _request_of(exc)
        scrub = self._scrub(request)
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(*_where(exc), f"timed out ({type(exc).__name__})")
        if isinstance(exc, httpx.HTTPError):
            return APIConnectionError(
                *_where(exc), scrub(redact_urls(str(exc) or type(exc).__name__))
            )
        if isinstance(exc, PARSER_ERRORS) and raised_by_generated_code(exc):
            return InvalidResponseError(
                op.method,
                op.path,
                0,
                scrub(f"the answer does not parse ({type(exc).__name__}: {exc})"),
                operation=op,
            )
        return exc

    def _cause(self, exc: BaseException) -> BaseException | None:
        """What a translated error is chained to: ``exc``, unless its text holds a credential
        (a traceback prints the chain)."""
        secrets = self._secrets(_request_of(exc))
        if contains_secret(str(exc).encode(), secrets):
            return None
        return exc

    @staticmethod
    def _parsed(response: Response[Any], kind: type[T], op: Operation) -> T:
        if not isinstance(response.parsed, kind):
            raise InvalidResponseError(
                op.method,
                op.path,
                int(response.status_code),
                f"expected a {kind.__name__}, got {type(response.parsed).__name__}",
                operation=op,
            )
        return response.parsed

    @staticmethod
    def _items(values: object, kind: type[T], op: Operation) -> list[T]:
        """``values`` as a list of ``kind``: the generated parser hands back raw values (dicts,
        the characters of a string) when a nullable array's items do not parse."""
        if values is None or isinstance(values, Unset):
            return []
        if isinstance(values, list) and all(isinstance(v, kind) for v in values):
            return values
        found = type(values).__name__
        if isinstance(values, list):
            found = next(type(v).__name__ for v in values if not isinstance(v, kind))
        raise InvalidResponseError(
            op.method,
            op.path,
            200,
            f"expected a list of {kind.__name__}, got {found}",
            operation=op,
        )
