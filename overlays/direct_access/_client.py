"""`Client` and `AsyncClient`: every operation of the spec, typed errors, retries, wait and run.

Both sit on the generated `direct_access_api.Client`, given auth and a response hook through
``httpx_args``. The hook reads every API answer before the generated parser sees it: an error
status becomes a typed exception (401s are left to the auth flow, which refreshes first), a
success answer is checked to be JSON and, in strict mode, against openapi.yaml.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from direct_access._auth import BearerAuth, IAMAuth
from direct_access._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    ConflictError,
    DirectAccessError,
    InvalidResponseError,
    JobFailedError,
    NotFoundError,
    UnexpectedStatusError,
    error_from_response,
    redact_urls,
)
from direct_access._operations import Operation, operation, request_operation
from direct_access._retry import RetryPolicy, RetryState
from direct_access._settings import Settings
from direct_access._strict import StrictMode
from direct_access._wait import wait_async, wait_sync
from direct_access.spec import violations
from direct_access.storage import PreparedStorage, S3Storage
from direct_access_api import Client as GeneratedClient
from direct_access_api import errors as generated_errors
from direct_access_api.api.backends import (
    get_backend,
    get_backend_configuration,
    get_backend_defaults,
    get_backend_lanes,
    get_backend_properties,
    list_backends,
)
from direct_access_api.api.jobs import cancel_job, create_job, delete_job, get_job, list_jobs
from direct_access_api.api.version import get_version, list_versions
from direct_access_api.models import (
    ApiVersions,
    Backend,
    BackendConfiguration,
    BackendDefaults,
    BackendLanes,
    BackendList,
    BackendProperties,
    CreateJobRequest,
    CreateJobStorage,
    Job,
    JobList,
    JobStatus,
    LogLevel,
    ServiceVersion,
)
from direct_access_api.types import Response

__all__ = ["DEFAULT_RETRY", "AsyncClient", "Client", "RunResult"]

_log = logging.getLogger("direct_access")
T = TypeVar("T")

#: The retry policy a client uses unless told otherwise (``retry=None`` turns retries off).
DEFAULT_RETRY = RetryPolicy()
#: How long `run` waits beyond ``timeout_secs`` by default (execution time is not wall time).
RUN_WAIT_MARGIN_SECS = 300.0
#: How long `run` waits for results and logs to appear after ``Completed``.
RUN_FETCH_TIMEOUT_SECS = 30.0


@dataclass(frozen=True)
class RunResult:
    """What `Client.run` returns: the finished job, its result document and its log text.

    ``result_text`` is the result as the service wrote it, for decoders that read JSON text
    themselves (Qiskit's `RuntimeDecoder`: `direct_access.qiskit.decode_result`).
    """

    job: Job
    result: dict[str, Any]
    logs: str
    result_text: str = field(repr=False)


def _run_result(job: Job, text: str, logs: str, prepared: PreparedStorage) -> RunResult:
    document = S3Storage.parse_result(text, prepared.results_key)
    return RunResult(job=job, result=document, logs=logs, result_text=text)


def _storage_model(
    storage: CreateJobStorage | PreparedStorage | Mapping[str, Any],
) -> CreateJobStorage:
    if isinstance(storage, PreparedStorage):
        return storage.storage
    if isinstance(storage, CreateJobStorage):
        return storage
    return CreateJobStorage.from_dict(storage)


def _where(exc: httpx.HTTPError) -> tuple[str, str]:
    try:
        request = exc.request
    except RuntimeError:
        return "?", "?"
    return request.method, str(request.url)


class _Core:
    """What both clients share: settings, the generated client, the response hook, mapping."""

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
        asynchronous: bool,
    ) -> None:
        self.settings = settings if settings is not None else Settings.from_env()
        if isinstance(strict, StrictMode):
            self._strict: StrictMode | None = strict
        else:
            self._strict = StrictMode(allow_drift=allow_drift) if strict else None
        self._retry = retry if retry is not None else RetryPolicy.none()
        if auth is None:
            if self.settings.api_key:
                auth = IAMAuth(self.settings.api_key, self.settings.iam_url)
            else:
                auth = BearerAuth(self.settings.token or "")
        self._auth = auth
        headers = {"Service-CRN": self.settings.service_crn}
        if self.settings.api_version:
            headers["IBM-API-Version"] = self.settings.api_version
        hook: Callable[[httpx.Response], Any] = (
            self._async_response_hook if asynchronous else self._response_hook
        )
        httpx_args: dict[str, Any] = {"auth": auth, "event_hooks": {"response": [hook]}}
        if transport is not None:
            httpx_args["transport"] = transport
        self._api = GeneratedClient(
            base_url=self.settings.url,
            headers=headers,
            timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
            raise_on_unexpected_status=True,
            httpx_args=httpx_args,
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(url={self.settings.url!r}, strict={self._strict is not None})"
        )

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
        if status == 401:
            return  # the auth flow refreshes and re-sends once, then raises
        if status >= 400 or not op.documents(status):
            raise self._error(response, op)
        pointer = op.schema_pointer(status)
        if pointer is None:
            return
        try:
            document = json.loads(response.content)
        except ValueError:
            raise InvalidResponseError(
                request.method, str(request.url), status, "the body is not JSON"
            ) from None
        if self._strict is not None:
            self._strict.check(request.method, str(request.url), status, pointer, document)

    def _error(self, response: httpx.Response, op: Operation) -> APIError:
        error = error_from_response(response, documented=op.documents(response.status_code))
        pointer = op.schema_pointer(response.status_code)
        if self._strict is not None and pointer is not None:
            try:
                document = json.loads(response.content)
            except ValueError:
                document = response.text
            error.spec_violations = tuple(violations(pointer, document))
        return error

    def _translate(self, exc: Exception, op: Operation) -> DirectAccessError:
        """A typed error for what the generated call raised (None when it is ours already)."""
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(*_where(exc), f"timed out ({type(exc).__name__})")
        if isinstance(exc, httpx.HTTPError):
            return APIConnectionError(*_where(exc), redact_urls(str(exc) or type(exc).__name__))
        if isinstance(exc, generated_errors.UnexpectedStatus):
            return UnexpectedStatusError(
                op.method, op.path, exc.status_code, None, exc.content.decode(errors="replace")
            )
        return InvalidResponseError(
            op.method, op.path, 0, f"the answer does not parse ({type(exc).__name__}: {exc})"
        )

    def _state(self, operation_id: str) -> RetryState:
        return self._retry.state(operation_id)

    def _create_body(
        self,
        *,
        job_id: str,
        backend: str,
        program_id: str,
        storage: CreateJobStorage | PreparedStorage | Mapping[str, Any],
        timeout_secs: int,
        log_level: LogLevel | str | None,
    ) -> CreateJobRequest:
        body = CreateJobRequest(
            id=job_id,
            program_id=program_id,
            backend=backend,
            timeout_secs=timeout_secs,
            storage=_storage_model(storage),
        )
        if log_level is not None:
            body.log_level = LogLevel(log_level)
        return body

    @staticmethod
    def _is_ours(job: Job, body: CreateJobRequest) -> bool:
        return (
            job.id == body.id
            and job.backend == body.backend
            and (job.program_id == body.program_id)
        )

    @staticmethod
    def _parsed(response: Response[Any], kind: type[T], op: Operation) -> T:
        if not isinstance(response.parsed, kind):
            raise InvalidResponseError(
                op.method,
                op.path,
                int(response.status_code),
                f"expected a {kind.__name__}, got {type(response.parsed).__name__}",
            )
        return response.parsed


_ERRORS_TO_TRANSLATE = (
    httpx.HTTPError,
    generated_errors.UnexpectedStatus,
    KeyError,
    TypeError,
    ValueError,
    AttributeError,
)


class Client(_Core):
    """The Direct Access API, synchronously. Use as a context manager, or call `close`.

    ``strict``: check every answer against openapi.yaml (`SpecViolationError`; added fields are
    `DriftError` unless ``allow_drift``). ``retry``: a `RetryPolicy` (``None``: no retries).
    ``timeout``: per request, seconds or an `httpx.Timeout`. ``transport`` and ``auth`` replace
    httpx's transport and the auth built from the settings. ``clock`` and ``sleep`` pace `wait`.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        strict: bool | StrictMode = False,
        allow_drift: bool = False,
        retry: RetryPolicy | None = DEFAULT_RETRY,
        timeout: float | httpx.Timeout = 30.0,
        transport: httpx.BaseTransport | None = None,
        auth: httpx.Auth | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        super().__init__(
            settings,
            strict=strict,
            allow_drift=allow_drift,
            retry=retry,
            timeout=timeout,
            transport=transport,
            auth=auth,
            asynchronous=False,
        )
        self._clock = clock
        self._sleep = sleep

    @classmethod
    def from_env(cls, **options: Any) -> Client:
        """A client configured from the ``DIRECT_ACCESS_*`` environment variables."""
        return cls(Settings.from_env(), **options)

    def __enter__(self) -> Self:
        self._api.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections."""
        self._api.get_httpx_client().close()

    def _send(
        self, operation_id: str, call: Callable[[], Response[Any]], state: RetryState | None = None
    ) -> Response[Any]:
        op = operation(operation_id)
        state = state or self._state(operation_id)
        for attempt in state.retry_context():
            with attempt:
                state.attempt += 1
                try:
                    return call()
                except DirectAccessError:
                    raise
                except _ERRORS_TO_TRANSLATE as exc:
                    raise self._translate(exc, op) from exc
        raise AssertionError("unreachable: stamina raises or returns")  # pragma: no cover

    # Jobs

    def submit(
        self,
        *,
        backend: str,
        program_id: str,
        storage: CreateJobStorage | PreparedStorage | Mapping[str, Any],
        timeout_secs: int,
        log_level: LogLevel | str | None = None,
        job_id: str | None = None,
    ) -> str:
        """Create a job and return its id (``job_id``, or a new UUID4 chosen once for all tries).

        A 409 after a retried attempt is resolved by reading the job back: when it is ours (same
        backend and program), the earlier attempt created it and this is success.
        """
        body = self._create_body(
            job_id=job_id or str(uuid.uuid4()),
            backend=backend,
            program_id=program_id,
            storage=storage,
            timeout_secs=timeout_secs,
            log_level=log_level,
        )
        state = self._state("create_job")
        try:
            self._send(
                "create_job", lambda: create_job.sync_detailed(client=self._api, body=body), state
            )
        except ConflictError:
            if state.attempt < 2 or not self._created_by_us(body):
                raise
            _log.debug("409 after a retried create: job %s is ours, created earlier", body.id)
        return body.id

    def _created_by_us(self, body: CreateJobRequest) -> bool:
        try:
            return self._is_ours(self.get_job(body.id), body)
        except NotFoundError:
            return False

    def list_jobs(self) -> list[Job]:
        """The caller's jobs, oldest first (an empty list when the service says ``null``)."""
        op = operation("list_jobs")
        response = self._send("list_jobs", lambda: list_jobs.sync_detailed(client=self._api))
        return list(self._parsed(response, JobList, op).jobs or [])

    def get_job(self, job_id: str) -> Job:
        """One job; `NotFoundError` when it is unknown or not the caller's."""
        op = operation("get_job")
        response = self._send("get_job", lambda: get_job.sync_detailed(job_id, client=self._api))
        return self._parsed(response, Job, op)

    def cancel_job(self, job_id: str) -> None:
        """Cancel a running job; a 409 after a retry is success when the job is Cancelled."""
        state = self._state("cancel_job")
        try:
            self._send(
                "cancel_job", lambda: cancel_job.sync_detailed(job_id, client=self._api), state
            )
        except ConflictError:
            if state.attempt < 2 or self.get_job(job_id).status != JobStatus.CANCELLED:
                raise
            _log.debug("409 after a retried cancel: job %s is Cancelled already", job_id)

    def delete_job(self, job_id: str) -> None:
        """Delete a finished job; a 404 after a retry is success when the job is gone."""
        state = self._state("delete_job")
        try:
            self._send(
                "delete_job", lambda: delete_job.sync_detailed(job_id, client=self._api), state
            )
        except NotFoundError:
            if state.attempt < 2:
                raise
            try:
                self.get_job(job_id)
            except NotFoundError:
                _log.debug("404 after a retried delete: job %s is gone already", job_id)
                return
            raise

    def wait(
        self,
        job_id: str,
        *,
        timeout: float,
        poll_interval: float = 1.0,
        on_status: Callable[[Job], object] | None = None,
    ) -> Job:
        """Poll until the job is terminal and return it; `JobTimeoutError` after ``timeout`` s."""
        return wait_sync(
            self.get_job,
            job_id,
            timeout=timeout,
            poll_interval=poll_interval,
            on_status=on_status,
            clock=self._clock,
            sleep=self._sleep,
        )

    def run(
        self,
        backend: str,
        program_id: str,
        params: Mapping[str, Any],
        *,
        storage: S3Storage,
        timeout_secs: int,
        wait_timeout: float | None = None,
        log_level: LogLevel | str | None = None,
        poll_interval: float = 1.0,
        on_status: Callable[[Job], object] | None = None,
        job_id: str | None = None,
    ) -> RunResult:
        """Upload ``params``, submit, wait, read result and logs, and delete the finished job.

        ``job_id`` is the job's id (default: a new UUID4), for callers that need it before the
        job ends. A job that ends Failed or Cancelled raises `JobFailedError` (and is deleted
        too). If the wait is interrupted (Ctrl-C, `JobTimeoutError`, lost connection), the job is
        cancelled.
        """
        job_id = job_id or str(uuid.uuid4())
        prepared = storage.prepare(job_id, params, timeout_secs)
        self.submit(
            backend=backend,
            program_id=program_id,
            storage=prepared,
            timeout_secs=timeout_secs,
            log_level=log_level,
            job_id=job_id,
        )
        try:
            job = self.wait(
                job_id,
                timeout=wait_timeout
                if wait_timeout is not None
                else timeout_secs + RUN_WAIT_MARGIN_SECS,
                poll_interval=poll_interval,
                on_status=on_status,
            )
        except BaseException:
            self._cancel_quietly(job_id)
            raise
        try:
            if job.status != JobStatus.COMPLETED:
                raise JobFailedError(job)
            text = storage.fetch_result_text(prepared, timeout=RUN_FETCH_TIMEOUT_SECS)
            logs = storage.fetch_logs(prepared, timeout=RUN_FETCH_TIMEOUT_SECS)
        finally:
            self._delete_quietly(job_id)
        return _run_result(job, text, logs, prepared)

    def _cancel_quietly(self, job_id: str) -> None:
        try:
            self.cancel_job(job_id)
            _log.debug("job %s cancelled because the wait for it was interrupted", job_id)
        except DirectAccessError as exc:
            _log.warning("could not cancel job %s: %s", job_id, exc)

    def _delete_quietly(self, job_id: str) -> None:
        try:
            self.delete_job(job_id)
        except DirectAccessError as exc:
            _log.warning("could not delete job %s (it may still hold a lane): %s", job_id, exc)

    # Backends

    def list_backends(self) -> list[Backend]:
        """The backends this instance can use."""
        op = operation("list_backends")
        response = self._send(
            "list_backends", lambda: list_backends.sync_detailed(client=self._api)
        )
        return list(self._parsed(response, BackendList, op).backends or [])

    def get_backend(self, name: str) -> Backend:
        """One backend and its status."""
        op = operation("get_backend")
        response = self._send(
            "get_backend", lambda: get_backend.sync_detailed(name, client=self._api)
        )
        return self._parsed(response, Backend, op)

    def get_backend_configuration(self, name: str) -> dict[str, Any]:
        """The backend's Qiskit configuration document."""
        op = operation("get_backend_configuration")
        response = self._send(
            op.operation_id, lambda: get_backend_configuration.sync_detailed(name, client=self._api)
        )
        return self._parsed(response, BackendConfiguration, op).to_dict()

    def get_backend_properties(self, name: str) -> dict[str, Any]:
        """The backend's Qiskit properties document (calibration data)."""
        op = operation("get_backend_properties")
        response = self._send(
            op.operation_id, lambda: get_backend_properties.sync_detailed(name, client=self._api)
        )
        return self._parsed(response, BackendProperties, op).to_dict()

    def get_backend_defaults(self, name: str) -> dict[str, Any]:
        """The backend's Qiskit pulse defaults document."""
        op = operation("get_backend_defaults")
        response = self._send(
            op.operation_id, lambda: get_backend_defaults.sync_detailed(name, client=self._api)
        )
        return self._parsed(response, BackendDefaults, op).to_dict()

    def get_backend_lanes(self, name: str) -> BackendLanes:
        """How many jobs may run at once on the backend."""
        op = operation("get_backend_lanes")
        response = self._send(
            op.operation_id, lambda: get_backend_lanes.sync_detailed(name, client=self._api)
        )
        return self._parsed(response, BackendLanes, op)

    # Version

    def get_version(self) -> str:
        """The service's version."""
        op = operation("get_version")
        response = self._send(op.operation_id, lambda: get_version.sync_detailed(client=self._api))
        return self._parsed(response, ServiceVersion, op).version

    def list_versions(self) -> list[str]:
        """The API versions the service supports (values for ``IBM-API-Version``)."""
        op = operation("list_versions")
        response = self._send(
            op.operation_id, lambda: list_versions.sync_detailed(client=self._api)
        )
        return list(self._parsed(response, ApiVersions, op).versions)


class AsyncClient(_Core):
    """The Direct Access API for asyncio code: the methods of `Client`, awaitable."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        strict: bool | StrictMode = False,
        allow_drift: bool = False,
        retry: RetryPolicy | None = DEFAULT_RETRY,
        timeout: float | httpx.Timeout = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        auth: httpx.Auth | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        super().__init__(
            settings,
            strict=strict,
            allow_drift=allow_drift,
            retry=retry,
            timeout=timeout,
            transport=transport,
            auth=auth,
            asynchronous=True,
        )
        self._clock = clock
        self._sleep = sleep

    @classmethod
    def from_env(cls, **options: Any) -> AsyncClient:
        """A client configured from the ``DIRECT_ACCESS_*`` environment variables."""
        return cls(Settings.from_env(), **options)

    async def __aenter__(self) -> Self:
        await self._api.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections."""
        await self._api.get_async_httpx_client().aclose()

    async def _send(
        self,
        operation_id: str,
        call: Callable[[], Awaitable[Response[Any]]],
        state: RetryState | None = None,
    ) -> Response[Any]:
        op = operation(operation_id)
        state = state or self._state(operation_id)
        async for attempt in state.retry_context():
            with attempt:
                state.attempt += 1
                try:
                    return await call()
                except DirectAccessError:
                    raise
                except _ERRORS_TO_TRANSLATE as exc:
                    raise self._translate(exc, op) from exc
        raise AssertionError("unreachable: stamina raises or returns")  # pragma: no cover

    # Jobs

    async def submit(
        self,
        *,
        backend: str,
        program_id: str,
        storage: CreateJobStorage | PreparedStorage | Mapping[str, Any],
        timeout_secs: int,
        log_level: LogLevel | str | None = None,
        job_id: str | None = None,
    ) -> str:
        """`Client.submit`, awaitable."""
        body = self._create_body(
            job_id=job_id or str(uuid.uuid4()),
            backend=backend,
            program_id=program_id,
            storage=storage,
            timeout_secs=timeout_secs,
            log_level=log_level,
        )
        state = self._state("create_job")
        try:
            await self._send(
                "create_job",
                lambda: create_job.asyncio_detailed(client=self._api, body=body),
                state,
            )
        except ConflictError:
            if state.attempt < 2 or not await self._created_by_us(body):
                raise
            _log.debug("409 after a retried create: job %s is ours, created earlier", body.id)
        return body.id

    async def _created_by_us(self, body: CreateJobRequest) -> bool:
        try:
            return self._is_ours(await self.get_job(body.id), body)
        except NotFoundError:
            return False

    async def list_jobs(self) -> list[Job]:
        """`Client.list_jobs`, awaitable."""
        op = operation("list_jobs")
        response = await self._send(
            "list_jobs", lambda: list_jobs.asyncio_detailed(client=self._api)
        )
        return list(self._parsed(response, JobList, op).jobs or [])

    async def get_job(self, job_id: str) -> Job:
        """`Client.get_job`, awaitable."""
        op = operation("get_job")
        response = await self._send(
            "get_job", lambda: get_job.asyncio_detailed(job_id, client=self._api)
        )
        return self._parsed(response, Job, op)

    async def cancel_job(self, job_id: str) -> None:
        """`Client.cancel_job`, awaitable."""
        state = self._state("cancel_job")
        try:
            await self._send(
                "cancel_job", lambda: cancel_job.asyncio_detailed(job_id, client=self._api), state
            )
        except ConflictError:
            if state.attempt < 2 or (await self.get_job(job_id)).status != JobStatus.CANCELLED:
                raise
            _log.debug("409 after a retried cancel: job %s is Cancelled already", job_id)

    async def delete_job(self, job_id: str) -> None:
        """`Client.delete_job`, awaitable."""
        state = self._state("delete_job")
        try:
            await self._send(
                "delete_job", lambda: delete_job.asyncio_detailed(job_id, client=self._api), state
            )
        except NotFoundError:
            if state.attempt < 2:
                raise
            try:
                await self.get_job(job_id)
            except NotFoundError:
                _log.debug("404 after a retried delete: job %s is gone already", job_id)
                return
            raise

    async def wait(
        self,
        job_id: str,
        *,
        timeout: float,
        poll_interval: float = 1.0,
        on_status: Callable[[Job], object] | None = None,
    ) -> Job:
        """`Client.wait`, awaitable."""
        return await wait_async(
            self.get_job,
            job_id,
            timeout=timeout,
            poll_interval=poll_interval,
            on_status=on_status,
            clock=self._clock,
            sleep=self._sleep,
        )

    async def run(
        self,
        backend: str,
        program_id: str,
        params: Mapping[str, Any],
        *,
        storage: S3Storage,
        timeout_secs: int,
        wait_timeout: float | None = None,
        log_level: LogLevel | str | None = None,
        poll_interval: float = 1.0,
        on_status: Callable[[Job], object] | None = None,
        job_id: str | None = None,
    ) -> RunResult:
        """`Client.run`, awaitable; cancelling the task cancels the job. Storage calls run in a
        worker thread (boto3 blocks)."""
        job_id = job_id or str(uuid.uuid4())
        prepared = await asyncio.to_thread(storage.prepare, job_id, params, timeout_secs)
        await self.submit(
            backend=backend,
            program_id=program_id,
            storage=prepared,
            timeout_secs=timeout_secs,
            log_level=log_level,
            job_id=job_id,
        )
        try:
            job = await self.wait(
                job_id,
                timeout=wait_timeout
                if wait_timeout is not None
                else timeout_secs + RUN_WAIT_MARGIN_SECS,
                poll_interval=poll_interval,
                on_status=on_status,
            )
        except BaseException:
            # Shielded: the task may be being cancelled, and the cancel must still reach the
            # service so that the job stops holding a lane.
            await asyncio.shield(self._cancel_quietly(job_id))
            raise
        try:
            if job.status != JobStatus.COMPLETED:
                raise JobFailedError(job)
            text = await asyncio.to_thread(
                storage.fetch_result_text, prepared, timeout=RUN_FETCH_TIMEOUT_SECS
            )
            logs = await asyncio.to_thread(
                storage.fetch_logs, prepared, timeout=RUN_FETCH_TIMEOUT_SECS
            )
        finally:
            await asyncio.shield(self._delete_quietly(job_id))
        return _run_result(job, text, logs, prepared)

    async def _cancel_quietly(self, job_id: str) -> None:
        try:
            await self.cancel_job(job_id)
            _log.debug("job %s cancelled because the wait for it was interrupted", job_id)
        except DirectAccessError as exc:
            _log.warning("could not cancel job %s: %s", job_id, exc)

    async def _delete_quietly(self, job_id: str) -> None:
        try:
            await self.delete_job(job_id)
        except DirectAccessError as exc:
            _log.warning("could not delete job %s (it may still hold a lane): %s", job_id, exc)

    # Backends

    async def list_backends(self) -> list[Backend]:
        """`Client.list_backends`, awaitable."""
        op = operation("list_backends")
        response = await self._send(
            "list_backends", lambda: list_backends.asyncio_detailed(client=self._api)
        )
        return list(self._parsed(response, BackendList, op).backends or [])

    async def get_backend(self, name: str) -> Backend:
        """`Client.get_backend`, awaitable."""
        op = operation("get_backend")
        response = await self._send(
            "get_backend", lambda: get_backend.asyncio_detailed(name, client=self._api)
        )
        return self._parsed(response, Backend, op)

    async def get_backend_configuration(self, name: str) -> dict[str, Any]:
        """`Client.get_backend_configuration`, awaitable."""
        op = operation("get_backend_configuration")
        response = await self._send(
            op.operation_id,
            lambda: get_backend_configuration.asyncio_detailed(name, client=self._api),
        )
        return self._parsed(response, BackendConfiguration, op).to_dict()

    async def get_backend_properties(self, name: str) -> dict[str, Any]:
        """`Client.get_backend_properties`, awaitable."""
        op = operation("get_backend_properties")
        response = await self._send(
            op.operation_id,
            lambda: get_backend_properties.asyncio_detailed(name, client=self._api),
        )
        return self._parsed(response, BackendProperties, op).to_dict()

    async def get_backend_defaults(self, name: str) -> dict[str, Any]:
        """`Client.get_backend_defaults`, awaitable."""
        op = operation("get_backend_defaults")
        response = await self._send(
            op.operation_id,
            lambda: get_backend_defaults.asyncio_detailed(name, client=self._api),
        )
        return self._parsed(response, BackendDefaults, op).to_dict()

    async def get_backend_lanes(self, name: str) -> BackendLanes:
        """`Client.get_backend_lanes`, awaitable."""
        op = operation("get_backend_lanes")
        response = await self._send(
            op.operation_id, lambda: get_backend_lanes.asyncio_detailed(name, client=self._api)
        )
        return self._parsed(response, BackendLanes, op)

    # Version

    async def get_version(self) -> str:
        """`Client.get_version`, awaitable."""
        op = operation("get_version")
        response = await self._send(
            op.operation_id, lambda: get_version.asyncio_detailed(client=self._api)
        )
        return self._parsed(response, ServiceVersion, op).version

    async def list_versions(self) -> list[str]:
        """`Client.list_versions`, awaitable."""
        op = operation("list_versions")
        response = await self._send(
            op.operation_id, lambda: list_versions.asyncio_detailed(client=self._api)
        )
        return list(self._parsed(response, ApiVersions, op).versions)
