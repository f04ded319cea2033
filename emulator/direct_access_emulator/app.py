"""The emulator's HTTP face: a Starlette app mapping the Direct Access API onto `JobService`.

Each path is one route holding all its methods, so a wrong method gets 405 with `Allow`. Every
non-2xx answer has the spec's `ErrorResponse` shape, unexpected exceptions included. Request
bodies are validated against `openapi.yaml` through `direct_access.spec`; nothing is re-typed.
Error codes are the service's (api-notes.md, "Errors") where it has one; elsewhere the emulator
uses its own, all listed in `EMULATOR_ERROR_CODES`.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import json
import logging
import math
import random
import re
import secrets
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from direct_access.spec import SpecViolation, violations
from direct_access_emulator.config import (
    IAM_TOKEN_OPERATION,
    BackendConfig,
    EmulatorConfig,
    FaultConfig,
)
from direct_access_emulator.core import (
    BackendReserved,
    DomainError,
    DuplicateJob,
    Job,
    JobNotCancellable,
    JobNotFound,
    JobNotTerminal,
    JobService,
    JobStore,
    LanesFull,
    Reason,
    UnknownBackend,
    format_time,
    utc_now,
)
from direct_access_emulator.executor import (
    ExecutionFailed,
    ExecutionRequest,
    Executor,
    StartableExecutor,
    make_executor,
    storage_urls,
)
from direct_access_emulator.spec_values import (
    DEFAULT_LOG_LEVEL,
    OPERATIONS,
    SpecMismatch,
    operation,
)
from direct_access_emulator.store import open_store

__all__ = [
    "ABORT_EXTENSION",
    "API_VERSIONS",
    "EMULATOR_ERROR_CODES",
    "SERVICE_VERSION",
    "AppResources",
    "create_app",
]

SERVICE_VERSION = "0.1.0-emulator"
API_VERSIONS = ("2025-08-15",)
#: ASGI scope extension through which the server lets the app drop a connection (faults).
ABORT_EXTENSION = "direct_access.abort"

#: The emulator's own error codes (`errors[].code`), for situations where api-notes.md gives the
#: service's none. They are not the service's: each is the HTTP status as a string, so that a
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

_CREATE_JOB = operation("create_job")
_CREATE_SCHEMA = f"{_CREATE_JOB.pointer}/requestBody/content/application~1json/schema"
_MORE_INFO = "https://cloud.ibm.com/apidocs/quantum-computing#error-handling"
_GRANT_TYPE = "urn:ibm:params:oauth:grant-type:apikey"
# Timers beyond this would overflow the event loop's clock; nothing runs that long anyway.
_MAX_TIMEOUT_SECS = 10**8

access_log = logging.getLogger("direct_access_emulator.access")
_log = logging.getLogger("direct_access_emulator")


class _Json(JSONResponse):
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
        self.items = items or [{"code": code, "message": message, "more_info": _MORE_INFO}]
        self.headers = dict(headers or {})


def error_response(error: ApiError) -> Response:
    """The documented error body: status_code, title, trace, correlation_id, errors."""
    body = {
        "status_code": error.status,
        "title": http.HTTPStatus(error.status).phrase,
        "trace": uuid.uuid4().hex,
        "correlation_id": uuid.uuid4().hex,
        "errors": error.items,
    }
    return _Json(body, status_code=error.status, headers=error.headers)


def _domain_error(error: DomainError) -> ApiError:
    statuses: dict[type[DomainError], tuple[int, str]] = {
        UnknownBackend: (404, "1216"),
        JobNotFound: (404, "1291"),
        DuplicateJob: (409, "1231"),
        JobNotCancellable: (409, "1306"),
        JobNotTerminal: (409, "1337"),
        BackendReserved: (423, "1233"),
        LanesFull: (429, "1232"),
    }
    status, code = statuses.get(type(error), (500, EMULATOR_ERROR_CODES[500]))
    return ApiError(status, code, str(error))


# ---------------------------------------------------------------- IAM tokens


@dataclass(frozen=True)
class _Token:
    api_key: str
    expires_at: float


class TokenIssuer:
    """Issues and checks the IAM access tokens; tokens live in memory only."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.lifetime = config.auth.token_lifetime_secs
        self._instances: dict[str, set[str]] = {}
        for instance in config.instances:
            for key in instance.api_keys:
                self._instances.setdefault(key, set()).add(instance.crn)
        self._tokens: dict[str, _Token] = {}
        self._lock = threading.Lock()

    def known_key(self, api_key: str) -> bool:
        return api_key in self._instances

    def issue(self, api_key: str) -> dict[str, Any]:
        now = time.time()
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens = {k: t for k, t in self._tokens.items() if t.expires_at > now}
            self._tokens[token] = _Token(api_key, now + self.lifetime)
        return {
            "access_token": token,
            "refresh_token": secrets.token_urlsafe(32),
            "token_type": "Bearer",
            "expires_in": self.lifetime,
            "expiration": int(now + self.lifetime),
            "scope": "ibm openid",
        }

    def instances_of(self, token: str) -> set[str] | None:
        """The instances the token may use; None when it is unknown or expired."""
        with self._lock:
            found = self._tokens.get(token)
        if found is None or found.expires_at <= time.time():
            return None
        return self._instances.get(found.api_key, set())


def _iam_error(request: Request, message: str, details: str) -> Response:
    now = format_time(utc_now())
    body = {
        "errorCode": "BXNIM0415E",
        "errorMessage": message,
        "errorDetails": details,
        "context": {
            "requestId": uuid.uuid4().hex,
            "requestType": "incoming.Identity_Token",
            "userAgent": request.headers.get("user-agent", ""),
            "url": str(request.base_url).rstrip("/"),
            "instanceId": "direct-access-emulator",
            "threadId": uuid.uuid4().hex[:8],
            "host": request.url.hostname or "",
            "startTime": now,
            "endTime": now,
            "elapsedTime": "0",
            "locale": "en_US",
            "clusterName": "direct-access-emulator",
        },
    }
    return _Json(body, status_code=400)


# ---------------------------------------------------------------- faults


@dataclass(frozen=True)
class _FaultDraw:
    latency_secs: float = 0.0
    drop: bool = False
    error_503: bool = False
    error_500: bool = False
    reserved_423: bool = False
    lanes_full_429: bool = False
    # After the operation succeeded: the answer is lost or late.
    drop_after_commit: bool = False
    late_answer_secs: float = 0.0


class FaultInjector:
    """Seeded faults: the same seed and request sequence give the same faults."""

    def __init__(self, config: FaultConfig) -> None:
        self.config = config
        self._random = random.Random(config.seed)  # noqa: S311 - reproducible faults, not secrets
        self._lock = threading.Lock()

    def draw(self, operation_id: str) -> _FaultDraw:
        faults = self.config.for_operation(operation_id)
        if faults is None:
            return _FaultDraw()
        with self._lock:
            # Always seven draws per request, so that one probability does not shift the others.
            draws = [self._random.random() for _ in range(7)]
        return _FaultDraw(
            latency_secs=faults.latency_secs,
            drop=draws[0] < faults.drop_connection,
            error_503=draws[1] < faults.error_503,
            error_500=draws[2] < faults.error_500,
            reserved_423=operation_id == _CREATE_JOB.operation_id
            and draws[3] < faults.reserved_423,
            lanes_full_429=operation_id == _CREATE_JOB.operation_id
            and draws[4] < faults.lanes_full_429,
            drop_after_commit=draws[5] < faults.drop_after_commit,
            late_answer_secs=faults.late_answer_secs if draws[6] < faults.late_answer else 0.0,
        )


class _ConnectionDropped(Exception):
    """The fault injector closed the connection; nothing must be sent."""


# ---------------------------------------------------------------- execution


class JobRunner:
    """Runs accepted jobs as asyncio tasks and reports their outcome to the service."""

    def __init__(self, service: JobService, executor: Executor) -> None:
        self.service = service
        self.executor = executor
        self._tasks: dict[tuple[str, str], asyncio.Task[None]] = {}

    def start(self, job: Job) -> None:
        key = (job.instance, job.id)
        task = asyncio.get_running_loop().create_task(self._run(job), name=f"job {job.id}")
        self._tasks[key] = task
        task.add_done_callback(lambda _: self._tasks.pop(key, None))

    def stop(self, job: Job) -> None:
        task = self._tasks.get((job.instance, job.id))
        if task is not None:
            task.cancel()

    async def _run(self, job: Job) -> None:
        input_url, results_url, logs_url = storage_urls(job.storage)
        request = ExecutionRequest(
            job_id=job.id,
            program_id=job.program_id,
            backend=job.backend,
            log_level=job.log_level,
            input_url=input_url,
            results_url=results_url,
            logs_url=logs_url,
        )
        try:
            async with asyncio.timeout(min(job.timeout_secs, _MAX_TIMEOUT_SECS)):
                result = await self.executor.execute(request)
        except TimeoutError:
            self.service.time_out(job.instance, job.id)
        except ExecutionFailed as failure:
            self.service.fail(job.instance, job.id, failure.reason)
        except asyncio.CancelledError:
            raise
        except Exception:
            _log.exception("executor error in job %s", job.id)
            self.service.fail(
                job.instance,
                job.id,
                Reason(1009, "The emulator's executor failed.", "Submit the job again."),
            )
        else:
            self.service.complete(job.instance, job.id, result.quantum_nanoseconds)

    async def aclose(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


# ---------------------------------------------------------------- the API


class _Api:
    """The handlers, sharing the service, the token issuer, the runner and the faults."""

    def __init__(self, config: EmulatorConfig, service: JobService, runner: JobRunner) -> None:
        self.config = config
        self.service = service
        self.runner = runner
        self.tokens = TokenIssuer(config)
        self.faults = FaultInjector(config.faults)

    # -- plumbing

    async def gateway_faults(self, request: Request, operation_id: str) -> _FaultDraw:
        draw = self.faults.draw(operation_id)
        if draw.latency_secs:
            await asyncio.sleep(draw.latency_secs)
        if draw.drop:
            abort = request.scope.get("extensions", {}).get(ABORT_EXTENSION)
            if abort is not None:
                abort()
                raise _ConnectionDropped
            raise ApiError(503, EMULATOR_ERROR_CODES[503], "Connection dropped (fault injection).")
        if draw.error_503:
            raise ApiError(
                503,
                EMULATOR_ERROR_CODES[503],
                "The service is temporarily unavailable (fault injection).",
            )
        if draw.error_500:
            raise ApiError(
                500, EMULATOR_ERROR_CODES[500], "An internal error occurred (fault injection)."
            )
        return draw

    async def answer_faults(self, request: Request, draw: _FaultDraw) -> None:
        """After the operation succeeded: lose the answer, or send it late."""
        if draw.drop_after_commit:
            abort = request.scope.get("extensions", {}).get(ABORT_EXTENSION)
            if abort is not None:
                abort()
                raise _ConnectionDropped
            raise ApiError(
                503,
                EMULATOR_ERROR_CODES[503],
                "Connection dropped after the operation succeeded (fault injection).",
            )
        if draw.late_answer_secs:
            await asyncio.sleep(draw.late_answer_secs)

    def authenticate(self, request: Request) -> str:
        """The caller's instance CRN, or a 401."""
        authorization = request.headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiError(
                401, "1200", "Not authorized: an 'Authorization: Bearer <token>' header is needed."
            )
        crn = request.headers.get("service-crn", "").strip()
        if not crn:
            raise ApiError(401, "1200", "Not authorized: a 'Service-CRN' header is needed.")
        instances = self.tokens.instances_of(token)
        if instances is None:
            raise ApiError(401, "1201", "Invalid credentials: the token is invalid or expired.")
        if crn not in instances:
            raise ApiError(
                401, "1201", "Invalid credentials: the token's API key cannot use this Service-CRN."
            )
        return crn

    async def read_body(self, request: Request) -> bytes:
        """The body, refused with 413 past the limit (before reading it all) or 408 when slow."""
        limit = self.config.server.max_body_bytes
        close = {"Connection": "close"}
        too_large = ApiError(
            413,
            EMULATOR_ERROR_CODES[413],
            f"The request body is larger than {limit} bytes.",
            headers=close,
        )
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.config.server.body_timeout_secs):
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > limit:
                        raise too_large
                    chunks.append(chunk)
        except TimeoutError:
            raise ApiError(
                408,
                EMULATOR_ERROR_CODES[408],
                f"The request body was not received within "
                f"{self.config.server.body_timeout_secs} seconds.",
                headers=close,
            ) from None
        return b"".join(chunks)

    def _note_job(self, request: Request, job_id: str) -> None:
        request.scope.setdefault("direct_access", {})["job_id"] = job_id

    def _path_job_id(self, request: Request) -> str:
        job_id = str(request.path_params["job_id"])
        self._note_job(request, job_id)
        return job_id

    def _backend(self, request: Request) -> BackendConfig:
        try:
            return self.service.backend(str(request.path_params["backend_name"]))
        except DomainError as error:
            raise _domain_error(error) from None

    # -- jobs

    async def create_job(self, request: Request) -> Response:
        instance = self.authenticate(request)
        body = await self.read_body(request)
        try:
            document = json.loads(body, parse_constant=_reject_constant, parse_float=_parse_float)
        except (ValueError, RecursionError):
            raise ApiError(400, "1337", "The request body is not valid JSON.") from None
        if not isinstance(document, dict):
            raise ApiError(400, "1337", "The request body must be a JSON object.")
        if isinstance(document.get("id"), str):
            self._note_job(request, document["id"])
        out_of_range = _out_of_range_numbers(document)
        found = [v for v in violations(_CREATE_SCHEMA, document) if v.location not in out_of_range]
        if found or out_of_range:
            items = [_out_of_range_item(pointer, n) for pointer, n in out_of_range.items()]
            items += [_violation_item(v) for v in found]
            raise ApiError(422, "1337", "Validation failed.", items=items)
        draw = request.scope.get("direct_access", {}).get("faults", _FaultDraw())
        try:
            job = self.service.create(
                instance,
                job_id=document["id"],
                program_id=document["program_id"],
                backend=document["backend"],
                log_level=document.get("log_level", DEFAULT_LOG_LEVEL),
                timeout_secs=int(document["timeout_secs"]),
                storage=document["storage"],
                reserved=draw.reserved_423,
                lanes_full=draw.lanes_full_429,
            )
        except DomainError as error:
            raise _domain_error(error) from None
        self.runner.start(job)
        return Response(status_code=204)

    async def list_jobs(self, request: Request) -> Response:
        instance = self.authenticate(request)
        jobs = b",".join(job.document_json for job in self.service.list(instance))
        return Response(b'{"jobs":[' + jobs + b"]}", media_type="application/json")

    async def get_job(self, request: Request) -> Response:
        instance = self.authenticate(request)
        job_id = self._path_job_id(request)
        try:
            job = self.service.get(instance, job_id)
        except DomainError as error:
            raise _domain_error(error) from None
        return Response(job.document_json, media_type="application/json")

    async def delete_job(self, request: Request) -> Response:
        instance = self.authenticate(request)
        job_id = self._path_job_id(request)
        try:
            self.service.delete(instance, job_id)
        except DomainError as error:
            raise _domain_error(error) from None
        return Response(status_code=204)

    async def cancel_job(self, request: Request) -> Response:
        instance = self.authenticate(request)
        job_id = self._path_job_id(request)
        try:
            job = self.service.cancel(instance, job_id)
        except DomainError as error:
            raise _domain_error(error) from None
        self.runner.stop(job)
        return Response(status_code=204)

    # -- backends

    def backend_document(self, backend: BackendConfig) -> dict[str, Any]:
        document: dict[str, Any] = {
            "name": backend.name,
            "status": backend.status,
            "version": backend.version,
            "locked": self.service.reserved(backend.name),
        }
        if backend.message is not None:
            document["message"] = backend.message
        return document

    async def list_backends(self, request: Request) -> Response:
        self.authenticate(request)
        return _Json({"backends": [self.backend_document(b) for b in self.config.backends]})

    async def get_backend(self, request: Request) -> Response:
        self.authenticate(request)
        return _Json(self.backend_document(self._backend(request)))

    async def get_backend_configuration(self, request: Request) -> Response:
        self.authenticate(request)
        backend = self._backend(request)
        return _Json(dict(backend.configuration or _configuration(backend)))

    async def get_backend_properties(self, request: Request) -> Response:
        self.authenticate(request)
        backend = self._backend(request)
        return _Json(dict(backend.properties or _properties(backend)))

    async def get_backend_defaults(self, request: Request) -> Response:
        self.authenticate(request)
        backend = self._backend(request)
        if backend.defaults is None:
            raise ApiError(404, "1216", f"Backend {backend.name!r} has no pulse defaults.")
        return _Json(dict(backend.defaults))

    async def get_backend_lanes(self, request: Request) -> Response:
        self.authenticate(request)
        backend = self._backend(request)
        return _Json(
            {
                "hpc_workload_manager": {"lanes": backend.lanes},
                "ibm_quantum_compute": {"lanes": backend.compute_lanes},
            }
        )

    # -- version and IAM

    async def get_version(self, request: Request) -> Response:
        return _Json({"version": SERVICE_VERSION})

    async def list_versions(self, request: Request) -> Response:
        return _Json({"versions": list(API_VERSIONS)})

    async def iam_token(self, request: Request) -> Response:
        body = await self.read_body(request)
        try:
            form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            form = {}
        grant_type = (form.get("grant_type") or [""])[0]
        api_key = (form.get("apikey") or [""])[0]
        if grant_type != _GRANT_TYPE:
            return _iam_error(
                request,
                "Provided grant type is not supported.",
                f"Use grant_type={_GRANT_TYPE}.",
            )
        if not api_key:
            return _iam_error(
                request, "Provided API key could not be found.", "The apikey field is missing."
            )
        if not self.tokens.known_key(api_key):
            return _iam_error(
                request,
                "Provided API key could not be found.",
                "The API key is not one of this emulator's (see its configuration).",
            )
        return _Json(self.tokens.issue(api_key))


def _violation_item(violation: SpecViolation) -> dict[str, Any]:
    item: dict[str, Any] = {
        "code": "1337",
        "message": f"{violation.location or '/'}: {violation.message}",
        "more_info": _MORE_INFO,
        "location": "body",
        "target": {"name": violation.location or "/", "type": "field"},
    }
    if violation.keyword != "required":  # a missing field has no value to show
        item["value"] = violation.value
    return item


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class _OutOfRange(str):
    """A JSON number beyond the float range (`1e400`), kept as its literal text.

    As a float it would be an infinity, which cannot be echoed back in valid JSON.
    """

    __slots__ = ()


def _parse_float(literal: str) -> float | _OutOfRange:
    number = float(literal)
    return number if math.isfinite(number) else _OutOfRange(literal)


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


def _out_of_range_item(pointer: str, number: _OutOfRange) -> dict[str, Any]:
    location = pointer or "/"
    return {
        "code": "1337",
        "message": f"{location}: the number {number} is out of range (not a finite float64)",
        "more_info": _MORE_INFO,
        "location": "body",
        "target": {"name": location, "type": "field"},
        "value": str(number),
    }


def _configuration(backend: BackendConfig) -> dict[str, Any]:
    qubits = backend.num_qubits
    return {
        "backend_name": backend.name,
        "backend_version": backend.version,
        "n_qubits": qubits,
        "basis_gates": ["ecr", "id", "rz", "sx", "x"],
        "coupling_map": [[q, q + 1] for q in range(qubits - 1)],
        "gates": [],
        "local": False,
        "simulator": False,
        "conditional": False,
        "open_pulse": False,
        "memory": True,
        "max_shots": 100000,
        "max_experiments": 300,
        "supported_instructions": ["ecr", "id", "rz", "sx", "x", "measure", "delay", "reset"],
        "description": "A backend of the Direct Access emulator (no circuit is run).",
    }


def _properties(backend: BackendConfig) -> dict[str, Any]:
    updated = "2026-01-01T00:00:00Z"
    qubit = [
        {"date": updated, "name": "T1", "unit": "us", "value": 100.0},
        {"date": updated, "name": "T2", "unit": "us", "value": 80.0},
        {"date": updated, "name": "readout_error", "unit": "", "value": 0.01},
    ]
    return {
        "backend_name": backend.name,
        "backend_version": backend.version,
        "last_update_date": updated,
        "qubits": [qubit for _ in range(backend.num_qubits)],
        "gates": [],
        "general": [],
    }


Handler = Callable[[Request], Awaitable[Response]]


def _starlette_path(template: str) -> str:
    """The spec's path template, its parameter names as Starlette needs them: `{job_id}`."""
    return re.sub(r"\{([^}]+)\}", lambda m: "{" + re.sub(r"\W", "_", m[1]) + "}", template)


def _route(api: _Api, path: str, operations: Mapping[str, tuple[str, Handler]]) -> Route:
    """One route for all methods of a path; `operations` maps a method to (operationId, handler)."""

    async def endpoint(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        operation_id, handler = operations[method]
        notes = request.scope.setdefault("direct_access", {})
        # Create's own faults (423/429) apply after auth and validation, in create_job.
        draw = notes["faults"] = await api.gateway_faults(request, operation_id)
        response = await handler(request)
        if response.status_code < 400:  # the operation succeeded (IAM refusals are answers)
            await api.answer_faults(request, draw)
        return response

    return Route(_starlette_path(path), endpoint, methods=list(operations))


def _routes(api: _Api) -> list[Route]:
    """The spec's paths and methods, each operationId answered by the handler of that name.

    Plus the IAM token endpoint, IBM Cloud IAM's rather than the API's, so not in the spec.
    """
    handlers: dict[str, Handler] = {
        "cancel_job": api.cancel_job,
        "create_job": api.create_job,
        "delete_job": api.delete_job,
        "get_backend": api.get_backend,
        "get_backend_configuration": api.get_backend_configuration,
        "get_backend_defaults": api.get_backend_defaults,
        "get_backend_lanes": api.get_backend_lanes,
        "get_backend_properties": api.get_backend_properties,
        "get_job": api.get_job,
        "get_version": api.get_version,
        "list_backends": api.list_backends,
        "list_jobs": api.list_jobs,
        "list_versions": api.list_versions,
    }
    unanswered = {op.operation_id for op in OPERATIONS} - set(handlers)
    if unanswered:
        raise SpecMismatch(f"no handler for the spec's operations {sorted(unanswered)}")
    by_path: dict[str, dict[str, tuple[str, Handler]]] = {}
    for op in OPERATIONS:
        by_path.setdefault(op.path, {})[op.method] = (op.operation_id, handlers[op.operation_id])
    routes = [_route(api, path, methods) for path, methods in by_path.items()]
    routes.append(_route(api, "/identity/token", {"POST": (IAM_TOKEN_OPERATION, api.iam_token)}))
    return routes


# ---------------------------------------------------------------- middleware


class _Envelope:
    """Outermost layer: the access log, and an answer in the error shape for any exception."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        notes: dict[str, Any] = {}
        scope["direct_access"] = notes
        status = 0

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        except _ConnectionDropped:
            status = 0
        except ClientDisconnect:
            status = 499
        except Exception:
            _log.exception("unexpected error answering %s %s", scope["method"], scope["path"])
            if status == 0:
                response = error_response(
                    ApiError(500, EMULATOR_ERROR_CODES[500], "An internal error occurred.")
                )
                await response(scope, receive, send_status)
        access_log.info(
            json.dumps(
                {
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                    "job_id": notes.get("job_id"),
                }
            )
        )


async def _api_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)  # noqa: S101 - registered for ApiError only
    return error_response(exc)


async def _http_error_handler(request: Request, exc: Exception) -> Response:
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


async def _unexpected_error_handler(request: Request, exc: Exception) -> Response:
    return error_response(ApiError(500, EMULATOR_ERROR_CODES[500], "An internal error occurred."))


class AppResources:
    """What an app holds open: its running jobs, its executor, its store.

    The app's lifespan closes them on shutdown; a server that never ran the lifespan (it failed
    to start) closes them itself. Only the first `aclose` does anything.
    """

    def __init__(self, runner: JobRunner, executor: Executor, store: JobStore) -> None:
        self._runner = runner
        self._executor = executor
        self._store = store
        self.closed = False

    async def aclose(self) -> None:
        """Stop the jobs, then close the executor and the store."""
        if self.closed:
            return
        self.closed = True
        try:
            await self._runner.aclose()
            await self._executor.aclose()
        finally:
            self._store.close()


def create_app(
    config: EmulatorConfig | None = None,
    *,
    data_dir: Path | None = None,
    executor: Executor | None = None,
) -> Starlette:
    """Build the emulator's ASGI app: jobs in memory, or in SQLite under ``data_dir``.

    ``executor`` replaces the one the configuration names (the app closes it on shutdown).
    """
    config = config or EmulatorConfig()
    store = open_store(data_dir)
    service = JobService(config, store)
    runs = executor or make_executor(config)
    runner = JobRunner(service, runs)
    api = _Api(config, service, runner)

    resources = AppResources(runner, runs, store)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            if isinstance(runs, StartableExecutor):
                # Warm workers now, in the loop that runs the jobs: the first job must not wait.
                await runs.start()
            yield
        finally:
            await resources.aclose()

    app = Starlette(
        routes=_routes(api),
        lifespan=lifespan,
        exception_handlers={
            ApiError: _api_error_handler,
            HTTPException: _http_error_handler,
            Exception: _unexpected_error_handler,
        },
    )
    app.state.service = service
    app.state.config = config
    app.state.executor = runs
    # For a server that never ran the lifespan (it failed to start): closes what it opened.
    app.state.resources = resources
    # Inside Starlette's error middleware, which would re-raise to the server after answering.
    app.add_middleware(_Envelope)
    return app
