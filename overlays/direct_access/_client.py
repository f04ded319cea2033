"""`Client` and `AsyncClient`: every operation of the spec, typed errors, retries, wait and run.

Both sit on the generated `direct_access_api.Client`, given auth and response hooks through
``httpx_args``. The response hook reads every API answer before the generated parser sees it: an
error status becomes a typed exception (401s are left to our own auth flows, which refresh
first), a success answer is checked to be JSON and, in strict mode, against openapi.yaml.
The multi-step logic (read-backs, wait, run and its cleanup) is written once, as flows
(`direct_access._flow`) that `Client` runs directly and `AsyncClient` awaits.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType, TracebackType
from typing import Any, Self, TypeVar

import httpx

from direct_access._auth import HANDLES_401, BearerAuth, IAMAuth
from direct_access._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    ConfigurationError,
    ConflictError,
    DirectAccessError,
    InvalidResponseError,
    JobFailedError,
    NotFoundError,
    ServerError,
    StorageError,
    UnexpectedStatusError,
    error_from_response,
    redact_urls,
)
from direct_access._flow import (
    Blocking,
    Flow,
    Send,
    Shielded,
    Sleep,
    Step,
    run_async,
    run_sync,
)
from direct_access._operations import Operation, operation, request_operation
from direct_access._retry import RetryPolicy, RetryState
from direct_access._settings import Settings
from direct_access._strict import StrictMode
from direct_access._wait import MIN_POLL_TIME, DeadlineReached, wait_flow
from direct_access.spec import load_spec, violations
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

__all__ = ["DEFAULT_RETRY", "AsyncClient", "Client", "RunResult", "checked_log_level"]

_log = logging.getLogger("direct_access")
T = TypeVar("T")

#: The retry policy a client uses unless told otherwise (``retry=None`` turns retries off).
DEFAULT_RETRY = RetryPolicy()
#: How long `run` waits beyond ``timeout_secs`` by default (execution time is not wall time).
RUN_WAIT_MARGIN_SECS = 300.0
#: How long `run` waits for the result to appear after ``Completed``.
RUN_FETCH_TIMEOUT_SECS = 30.0
#: How long `run` waits for the logs once the result is read (logs are optional: a service
#: may write none, and the result is not thrown away for want of them).
RUN_LOGS_TIMEOUT_SECS = 5.0
#: How long cleanup waits for a cancelled job to end before deleting it.
RELEASE_TIMEOUT_SECS = 30.0

# A cap on each request's timeout (seconds) for the Send step being made, read by the request
# hook: a poll inside `wait` may not outlast the wait's deadline.
_TIME_LIMIT: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "direct_access_time_limit", default=None
)


@dataclass(frozen=True)
class RunResult:
    """What `Client.run` returns: the finished job, its result document and its log text.

    ``result_text`` is the result as the service wrote it, for decoders that read JSON text
    themselves (Qiskit's `RuntimeDecoder`: `direct_access.qiskit.decode_result`). ``logs`` is
    empty when the service wrote none. The repr shows the job's id and status and the sizes only
    (the job holds presigned URLs with their signatures).
    """

    job: Job
    result: dict[str, Any]
    logs: str
    result_text: str = field(repr=False)

    def __repr__(self) -> str:
        return (
            f"RunResult(job_id={self.job.id!r}, status={self.job.status.value!r}, "
            f"result_chars={len(self.result_text)}, log_chars={len(self.logs)})"
        )


def checked_log_level(log_level: LogLevel | str | None) -> LogLevel | None:
    """``log_level`` as a `LogLevel`, or `ConfigurationError` naming the values allowed."""
    if log_level is None:
        return None
    try:
        return LogLevel(log_level)
    except ValueError:
        allowed = ", ".join(level.value for level in LogLevel)
        raise ConfigurationError(f"log_level must be one of {allowed}, not {log_level!r}") from None


def _storage_model(
    storage: CreateJobStorage | PreparedStorage | Mapping[str, Any],
) -> CreateJobStorage:
    if isinstance(storage, PreparedStorage):
        return storage.storage
    if isinstance(storage, CreateJobStorage):
        return storage
    found = violations("/components/schemas/CreateJobStorage", storage)
    if found:
        problems = "; ".join(f"{v.location or '/'}: {v.message}" for v in found)
        raise ConfigurationError(redact_urls(f"storage is not a job's storage: {problems}"))
    return CreateJobStorage.from_dict(storage)


@functools.cache
def _default_log_level() -> LogLevel:
    """The level a job gets when the create request names none (the spec's default)."""
    schema = load_spec()["components"]["schemas"]["CreateJobRequest"]
    return LogLevel(schema["properties"]["log_level"]["default"])


def _input_url(document: Mapping[str, Any]) -> Any:
    storage = document.get("storage")
    location = storage.get("input") if isinstance(storage, Mapping) else None
    return location.get("presigned_url") if isinstance(location, Mapping) else None


def _is_ours(job: Job, body: CreateJobRequest) -> bool:
    """Whether the job read back after a 409 is the one ``body`` asked for: each field the
    service reports must be what we sent (a field it leaves out cannot contradict)."""
    read, sent = job.to_dict(), body.to_dict()
    sent.setdefault("log_level", _default_log_level().value)
    if (read["id"], read["backend"], read["program_id"]) != (
        sent["id"],
        sent["backend"],
        sent["program_id"],
    ):
        return False
    for name in ("timeout_secs", "log_level"):
        if name in read and read[name] != sent[name]:
            return False
    url = _input_url(read)
    return url is None or url == _input_url(sent)


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


class _Core:
    """What both clients share: settings, the generated client, the hooks, mapping, the flows."""

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
    ) -> None:
        self.settings = settings if settings is not None else Settings.from_env()
        if isinstance(strict, StrictMode):
            self._strict: StrictMode | None = strict
        else:
            self._strict = StrictMode(allow_drift=allow_drift) if strict else None
        self._retry = retry if retry is not None else RetryPolicy.none()
        self._clock = clock
        if auth is None:
            if self.settings.api_key:
                auth = IAMAuth(self.settings.api_key, self.settings.iam_url)
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
        httpx_args: dict[str, Any] = {"auth": auth, "event_hooks": hooks}
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
        if status == 401 and request.extensions.get(HANDLES_401):
            return  # our auth flow refreshes and re-sends once, then raises
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
        # The generated parser calls response.json() next: hand it this parse instead of a second
        # json.loads of the same body (bench/ showed it in every list answer's profile).
        response.json = lambda **_: document  # type: ignore[method-assign]

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
        """A typed error for what the generated call raised."""
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
        level = checked_log_level(log_level)
        body = CreateJobRequest(
            id=job_id,
            program_id=program_id,
            backend=backend,
            timeout_secs=timeout_secs,
            storage=_storage_model(storage),
        )
        if level is not None:
            body.log_level = level
        return body

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

    # Flows: each yields the I/O it needs (see `direct_access._flow`).

    def _model(
        self,
        operation_id: str,
        module: ModuleType,
        kind: type[T],
        *args: str,
        state: RetryState | None = None,
        time_limit: float | None = None,
    ) -> Flow[T]:
        response = yield Send(operation_id, module, args, state=state, time_limit=time_limit)
        return self._parsed(response, kind, operation(operation_id))

    def _list_jobs(self) -> Flow[list[Job]]:
        return list((yield from self._model("list_jobs", list_jobs, JobList)).jobs or [])

    def _get_job(self, job_id: str) -> Flow[Job]:
        return (yield from self._model("get_job", get_job, Job, job_id))

    def _list_backends(self) -> Flow[list[Backend]]:
        found = yield from self._model("list_backends", list_backends, BackendList)
        return list(found.backends or [])

    def _get_backend(self, name: str) -> Flow[Backend]:
        return (yield from self._model("get_backend", get_backend, Backend, name))

    def _backend_document(self, operation_id: str, module: ModuleType, name: str) -> Flow[Any]:
        kinds: dict[str, type[Any]] = {
            "get_backend_configuration": BackendConfiguration,
            "get_backend_properties": BackendProperties,
            "get_backend_defaults": BackendDefaults,
        }
        document = yield from self._model(operation_id, module, kinds[operation_id], name)
        return document.to_dict()

    def _get_backend_lanes(self, name: str) -> Flow[BackendLanes]:
        return (yield from self._model("get_backend_lanes", get_backend_lanes, BackendLanes, name))

    def _get_version(self) -> Flow[str]:
        return (yield from self._model("get_version", get_version, ServiceVersion)).version

    def _list_versions(self) -> Flow[list[str]]:
        return list((yield from self._model("list_versions", list_versions, ApiVersions)).versions)

    def _submit(self, body: CreateJobRequest) -> Flow[str]:
        state = self._retry.state("create_job")
        try:
            yield Send("create_job", create_job, kwargs={"body": body}, state=state)
        except ConflictError as conflict:
            if not state.retried:
                raise
            try:
                job = yield from self._get_job(body.id)
            except NotFoundError:
                raise conflict from None
            if not _is_ours(job, body):
                raise
            _log.debug("409 after a retried create: job %s is ours, created earlier", body.id)
        return body.id

    def _cancel(self, job_id: str) -> Flow[None]:
        state = self._retry.state("cancel_job")
        try:
            yield Send("cancel_job", cancel_job, (job_id,), state=state)
        except ConflictError:
            if not state.retried or (yield from self._get_job(job_id)).status != (
                JobStatus.CANCELLED
            ):
                raise
            _log.debug("409 after a retried cancel: job %s is Cancelled already", job_id)

    def _delete(self, job_id: str) -> Flow[None]:
        state = self._retry.state("delete_job")
        try:
            yield Send("delete_job", delete_job, (job_id,), state=state)
        except NotFoundError:
            # After a retry, the 404 says an earlier attempt deleted it: reading the job back
            # could only repeat the 404.
            if not state.retried:
                raise
            _log.debug("404 after a retried delete: job %s is gone already", job_id)

    def _poll(self, job_id: str, budget: float) -> Flow[Job]:
        """One poll of `wait`: its retries and request timeouts stay within ``budget``."""
        state = self._retry.state("get_job", budget=budget)
        try:
            return (
                yield from self._model(
                    "get_job",
                    get_job,
                    Job,
                    job_id,
                    state=state,
                    time_limit=max(budget, MIN_POLL_TIME),
                )
            )
        except (APIConnectionError, ServerError) as exc:
            if state.budget_spent:
                raise DeadlineReached(str(exc)) from exc
            raise

    def _wait(
        self,
        job_id: str,
        *,
        timeout: float,
        poll_interval: float,
        on_status: Callable[[Job], object] | None,
    ) -> Flow[Job]:
        return (
            yield from wait_flow(
                self._poll,
                job_id,
                timeout=timeout,
                poll_interval=poll_interval,
                on_status=on_status,
                clock=self._clock,
            )
        )

    def _run(
        self,
        backend: str,
        program_id: str,
        params: Mapping[str, Any],
        *,
        storage: S3Storage,
        timeout_secs: int,
        wait_timeout: float | None,
        log_level: LogLevel | str | None,
        poll_interval: float,
        on_status: Callable[[Job], object] | None,
        job_id: str | None,
    ) -> Flow[RunResult]:
        job_id = job_id or str(uuid.uuid4())
        checked_log_level(log_level)  # before anything is uploaded
        prepared: PreparedStorage = yield Blocking(storage.prepare, (job_id, params, timeout_secs))
        body = self._create_body(
            job_id=job_id,
            backend=backend,
            program_id=program_id,
            storage=prepared,
            timeout_secs=timeout_secs,
            log_level=log_level,
        )
        ours, ended = True, False
        try:
            try:
                yield from self._submit(body)
            except ConflictError:
                ours = False  # the id is another job's: never cancel or delete it
                raise
            job = yield from self._wait(
                job_id,
                timeout=timeout_secs + RUN_WAIT_MARGIN_SECS
                if wait_timeout is None
                else wait_timeout,
                poll_interval=poll_interval,
                on_status=on_status,
            )
            ended = True
            if job.status != JobStatus.COMPLETED:
                raise JobFailedError(job)
            text: str = yield Blocking(
                storage.fetch_result_text, (prepared,), {"timeout": RUN_FETCH_TIMEOUT_SECS}
            )
            document = S3Storage.parse_result(text, prepared.results_key)
            try:
                logs: str = yield Blocking(
                    storage.fetch_logs, (prepared,), {"timeout": RUN_LOGS_TIMEOUT_SECS}
                )
            except StorageError as exc:
                _log.warning("job %s: no logs read, returning the result without (%s)", job_id, exc)
                logs = ""
            return RunResult(job=job, result=document, logs=logs, result_text=text)
        finally:
            # Whatever happened (success, failure, Ctrl-C, task cancellation), only a DELETE
            # frees the job's lane.
            if ours:
                yield Shielded(self._release(job_id, ended=ended))

    def _release(self, job_id: str, *, ended: bool) -> Flow[None]:
        """Free the lane a job holds: cancel it unless it ended, then delete it, waiting
        (bounded) for the terminal status a delete needs. Logs instead of raising API errors."""
        if not ended:
            try:
                yield from self._cancel(job_id)
                _log.debug("job %s cancelled: its run did not finish", job_id)
            except (NotFoundError, ConflictError):
                pass  # never created, or ended meanwhile
            except DirectAccessError as exc:
                _log.warning("could not cancel job %s: %s", job_id, exc)
        try:
            try:
                yield from self._delete(job_id)
            except ConflictError:
                # Still Running: the service ends a cancelled job when it gets to it.
                yield from self._wait(
                    job_id, timeout=RELEASE_TIMEOUT_SECS, poll_interval=0.2, on_status=None
                )
                yield from self._delete(job_id)
        except NotFoundError:
            pass  # never created, or deleted already
        except DirectAccessError as exc:
            _log.warning("could not delete job %s (it may still hold a lane): %s", job_id, exc)


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
    httpx's transport and the auth built from the settings (a 401 with an ``auth`` of your own
    is an `AuthenticationError` at once: only `IAMAuth` refreshes and re-sends). ``clock`` and
    ``sleep`` pace `wait`.
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
            clock=clock,
            asynchronous=False,
        )
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

    def _send(self, step: Send) -> Response[Any]:
        op = operation(step.operation_id)
        state = step.state or self._retry.state(step.operation_id)
        limit = _TIME_LIMIT.set(step.time_limit)
        try:
            for attempt in state.retry_context():
                with attempt:
                    state.attempt += 1
                    try:
                        response: Response[Any] = step.module.sync_detailed(
                            *step.args, client=self._api, **step.kwargs
                        )
                    except DirectAccessError:
                        raise
                    except _ERRORS_TO_TRANSLATE as exc:
                        raise self._translate(exc, op) from exc
                    return response
        finally:
            _TIME_LIMIT.reset(limit)
        raise AssertionError("unreachable: stamina raises or returns")  # pragma: no cover

    def _execute(self, step: Step) -> Any:
        if isinstance(step, Send):
            return self._send(step)
        if isinstance(step, Blocking):
            return step.function(*step.args, **step.kwargs)
        if isinstance(step, Sleep):
            return self._sleep(step.seconds)
        return run_sync(step.flow, self._execute)

    def _do(self, flow: Flow[T]) -> T:
        return run_sync(flow, self._execute)

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
        backend, program, timeout, log level and input URL, as far as the service reports
        them), the earlier attempt created it and this is success. Bad arguments (a
        ``log_level`` or ``storage`` the spec does not allow) are a `ConfigurationError`.
        """
        body = self._create_body(
            job_id=job_id or str(uuid.uuid4()),
            backend=backend,
            program_id=program_id,
            storage=storage,
            timeout_secs=timeout_secs,
            log_level=log_level,
        )
        return self._do(self._submit(body))

    def list_jobs(self) -> list[Job]:
        """The caller's jobs, oldest first (an empty list when the service says ``null``)."""
        return self._do(self._list_jobs())

    def get_job(self, job_id: str) -> Job:
        """One job; `NotFoundError` when it is unknown or not the caller's."""
        return self._do(self._get_job(job_id))

    def cancel_job(self, job_id: str) -> None:
        """Cancel a running job; a 409 after a retry is success when the job is Cancelled."""
        self._do(self._cancel(job_id))

    def delete_job(self, job_id: str) -> None:
        """Delete a finished job (freeing its lane); a 404 after a retry is success."""
        self._do(self._delete(job_id))

    def wait(
        self,
        job_id: str,
        *,
        timeout: float,
        poll_interval: float = 1.0,
        on_status: Callable[[Job], object] | None = None,
    ) -> Job:
        """Poll until the job is terminal and return it; `JobTimeoutError` after ``timeout`` s,
        also when the deadline passes during a poll (retries included)."""
        return self._do(
            self._wait(job_id, timeout=timeout, poll_interval=poll_interval, on_status=on_status)
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
        job ends. A job that ends Failed or Cancelled raises `JobFailedError`. Whatever the
        outcome (an error, `JobTimeoutError`, Ctrl-C), the job is cancelled if it has not ended
        and deleted, so that it stops holding a lane. Logs are optional: when none are written,
        ``logs`` is empty and a warning is logged.
        """
        return self._do(
            self._run(
                backend,
                program_id,
                params,
                storage=storage,
                timeout_secs=timeout_secs,
                wait_timeout=wait_timeout,
                log_level=log_level,
                poll_interval=poll_interval,
                on_status=on_status,
                job_id=job_id,
            )
        )

    # Backends

    def list_backends(self) -> list[Backend]:
        """The backends this instance can use."""
        return self._do(self._list_backends())

    def get_backend(self, name: str) -> Backend:
        """One backend and its status."""
        return self._do(self._get_backend(name))

    def get_backend_configuration(self, name: str) -> dict[str, Any]:
        """The backend's Qiskit configuration document."""
        return dict(
            self._do(
                self._backend_document("get_backend_configuration", get_backend_configuration, name)
            )
        )

    def get_backend_properties(self, name: str) -> dict[str, Any]:
        """The backend's Qiskit properties document (calibration data)."""
        return dict(
            self._do(self._backend_document("get_backend_properties", get_backend_properties, name))
        )

    def get_backend_defaults(self, name: str) -> dict[str, Any]:
        """The backend's Qiskit pulse defaults document."""
        return dict(
            self._do(self._backend_document("get_backend_defaults", get_backend_defaults, name))
        )

    def get_backend_lanes(self, name: str) -> BackendLanes:
        """How many jobs may run at once on the backend."""
        return self._do(self._get_backend_lanes(name))

    # Version

    def get_version(self) -> str:
        """The service's version."""
        return self._do(self._get_version())

    def list_versions(self) -> list[str]:
        """The API versions the service supports (values for ``IBM-API-Version``)."""
        return self._do(self._list_versions())


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
            clock=clock,
            asynchronous=True,
        )
        self._sleep = sleep
        # Shielded cleanups keep running when their caller is cancelled: held here until done.
        self._cleanups: set[asyncio.Task[Any]] = set()

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

    async def _send(self, step: Send) -> Response[Any]:
        op = operation(step.operation_id)
        state = step.state or self._retry.state(step.operation_id)
        limit = _TIME_LIMIT.set(step.time_limit)
        try:
            async for attempt in state.retry_context():
                with attempt:
                    state.attempt += 1
                    try:
                        response: Response[Any] = await step.module.asyncio_detailed(
                            *step.args, client=self._api, **step.kwargs
                        )
                    except DirectAccessError:
                        raise
                    except _ERRORS_TO_TRANSLATE as exc:
                        raise self._translate(exc, op) from exc
                    return response
        finally:
            _TIME_LIMIT.reset(limit)
        raise AssertionError("unreachable: stamina raises or returns")  # pragma: no cover

    async def _execute(self, step: Step) -> Any:
        if isinstance(step, Send):
            return await self._send(step)
        if isinstance(step, Blocking):
            return await asyncio.to_thread(step.function, *step.args, **step.kwargs)
        if isinstance(step, Sleep):
            return await self._sleep(step.seconds)
        task = asyncio.ensure_future(run_async(step.flow, self._execute))
        self._cleanups.add(task)
        task.add_done_callback(self._cleanups.discard)
        return await asyncio.shield(task)

    async def _do(self, flow: Flow[T]) -> T:
        return await run_async(flow, self._execute)

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
        return await self._do(self._submit(body))

    async def list_jobs(self) -> list[Job]:
        """`Client.list_jobs`, awaitable."""
        return await self._do(self._list_jobs())

    async def get_job(self, job_id: str) -> Job:
        """`Client.get_job`, awaitable."""
        return await self._do(self._get_job(job_id))

    async def cancel_job(self, job_id: str) -> None:
        """`Client.cancel_job`, awaitable."""
        await self._do(self._cancel(job_id))

    async def delete_job(self, job_id: str) -> None:
        """`Client.delete_job`, awaitable."""
        await self._do(self._delete(job_id))

    async def wait(
        self,
        job_id: str,
        *,
        timeout: float,
        poll_interval: float = 1.0,
        on_status: Callable[[Job], object] | None = None,
    ) -> Job:
        """`Client.wait`, awaitable."""
        return await self._do(
            self._wait(job_id, timeout=timeout, poll_interval=poll_interval, on_status=on_status)
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
        """`Client.run`, awaitable; cancelling the task cancels and deletes the job (shielded,
        so the cleanup completes). Storage calls run in a worker thread (boto3 blocks)."""
        return await self._do(
            self._run(
                backend,
                program_id,
                params,
                storage=storage,
                timeout_secs=timeout_secs,
                wait_timeout=wait_timeout,
                log_level=log_level,
                poll_interval=poll_interval,
                on_status=on_status,
                job_id=job_id,
            )
        )

    # Backends

    async def list_backends(self) -> list[Backend]:
        """`Client.list_backends`, awaitable."""
        return await self._do(self._list_backends())

    async def get_backend(self, name: str) -> Backend:
        """`Client.get_backend`, awaitable."""
        return await self._do(self._get_backend(name))

    async def get_backend_configuration(self, name: str) -> dict[str, Any]:
        """`Client.get_backend_configuration`, awaitable."""
        return dict(
            await self._do(
                self._backend_document("get_backend_configuration", get_backend_configuration, name)
            )
        )

    async def get_backend_properties(self, name: str) -> dict[str, Any]:
        """`Client.get_backend_properties`, awaitable."""
        return dict(
            await self._do(
                self._backend_document("get_backend_properties", get_backend_properties, name)
            )
        )

    async def get_backend_defaults(self, name: str) -> dict[str, Any]:
        """`Client.get_backend_defaults`, awaitable."""
        return dict(
            await self._do(
                self._backend_document("get_backend_defaults", get_backend_defaults, name)
            )
        )

    async def get_backend_lanes(self, name: str) -> BackendLanes:
        """`Client.get_backend_lanes`, awaitable."""
        return await self._do(self._get_backend_lanes(name))

    # Version

    async def get_version(self) -> str:
        """`Client.get_version`, awaitable."""
        return await self._do(self._get_version())

    async def list_versions(self) -> list[str]:
        """`Client.list_versions`, awaitable."""
        return await self._do(self._list_versions())
