"""`Client`: the Direct Access API, synchronously, and the driver that runs its flows.

The logic lives in flows (`direct_access._operation_flows`, `direct_access._run`) written once
for both clients; `Client` makes each step directly, `AsyncClient` awaits it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from direct_access._base_client import _TIME_LIMIT, DEFAULT_RETRY
from direct_access._flow import Blocking, Flow, Send, Sleep, Step, run_sync
from direct_access._operation_flows import checked_log_level
from direct_access._retry import RetryPolicy
from direct_access._run import RunFlows, RunResult
from direct_access._settings import Settings
from direct_access._strict import StrictMode
from direct_access._transport import DEFAULT_MAX_ANSWER_BYTES, attempt_deadline
from direct_access.storage import PreparedStorage, S3Storage
from direct_access_api.models import Backend, BackendLanes, CreateJobStorage, Job, LogLevel
from direct_access_api.types import Response
from direct_access_spec import operation

# RunResult and checked_log_level are imported from here by the CLI and the Qiskit layer.
__all__ = ["DEFAULT_RETRY", "Client", "RunResult", "checked_log_level"]

T = TypeVar("T")


class Client(RunFlows):
    """The Direct Access API, synchronously. Use as a context manager, or call `close`.

    ``strict``: check every answer against openapi.yaml (`SpecViolationError`; added fields are
    `DriftError` unless ``allow_drift``). ``retry``: a `RetryPolicy` (``None``: no retries).
    ``timeout``: per attempt, seconds or an `httpx.Timeout`; an attempt (the IAM exchange inside
    it included) ends by then on the wall clock, however slowly the server sends, and a call,
    retries included, by the policy's ``timeout``. ``max_answer_bytes``: a larger answer is an
    `InvalidResponseError`, raised before it is read whole. ``transport`` and ``auth`` replace
    httpx's transport (the wall-clock limits hold for the default one only) and the auth built
    from the settings (a 401 with an ``auth`` of your own is an `AuthenticationError` at once:
    only `IAMAuth` refreshes and re-sends). ``clock`` and ``sleep`` pace `wait` and retries.
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
        max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
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
            max_answer_bytes=max_answer_bytes,
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
        state = step.state or self._retry_state(step.operation_id)
        limit = _TIME_LIMIT.set(step.time_limit)
        try:
            for attempt in state.retry_context():
                with attempt, attempt_deadline(self._attempt_limit(state, step.time_limit)):
                    state.attempt += 1
                    try:
                        response: Response[Any] = step.module.sync_detailed(
                            *step.args, client=self._api, **step.kwargs
                        )
                    except Exception as exc:
                        translated = self._translate(exc, op)
                        state.note(translated)
                        if translated is exc:
                            raise
                        raise translated from self._cause(exc)
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
        **fields: Any,
    ) -> str:
        """Create a job and return its id (``job_id``, or a new UUID4 chosen once for all tries).

        Exactly once: when an attempt may have acted unseen (no answer, a timeout, a 5xx) and
        the create then fails in any way, the job is read back; when it is ours (same backend,
        program, timeout, log level and input URL, as far as the service reports them), an
        earlier attempt created it and this is success. ``fields`` are any other
        fields of the spec's create body (``CreateJobRequest`` in openapi.yaml), sent as given:
        a field added to the spec reaches the service after ``make generate``, without a change
        here. Bad arguments (a ``log_level``, ``storage`` or field the spec does not allow) are a
        `ConfigurationError`.
        """
        body = self._create_body(
            job_id=job_id or str(uuid.uuid4()),
            backend=backend,
            program_id=program_id,
            storage=storage,
            timeout_secs=timeout_secs,
            log_level=log_level,
            fields=fields,
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
        until_metrics: bool = False,
    ) -> Job:
        """Poll until the job is terminal and return it; `JobTimeoutError` after ``timeout`` s,
        also when the deadline passes during a poll (retries included).

        ``until_metrics``: a Completed job is returned only once its `metrics` hold the
        execution time (`job_metrics`): newer deployments report Completed a moment before the
        job has really finished. A job that never gets them times out.
        """
        return self._do(
            self._wait(
                job_id,
                timeout=timeout,
                poll_interval=poll_interval,
                on_status=on_status,
                until_metrics=until_metrics,
            )
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
        keep_objects: bool = False,
    ) -> RunResult:
        """Upload ``params``, submit, wait, read result and logs, and delete the finished job.

        ``job_id`` is the job's id (default: a new UUID4), for callers that need it before the
        job ends. A job that ends Failed or Cancelled raises `JobFailedError`. Whatever the
        outcome (an error, `JobTimeoutError`, Ctrl-C), the job is cancelled if it has not ended
        and deleted, so that it stops holding a lane, and the objects written for it (input,
        results, logs) are removed from ``storage`` unless ``keep_objects``. Logs are optional:
        when none are written, ``logs`` is empty and a warning is logged.
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
                keep_objects=keep_objects,
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
        return self._do(self._get_backend_configuration(name))

    def get_backend_properties(self, name: str) -> dict[str, Any]:
        """The backend's Qiskit properties document (calibration data)."""
        return self._do(self._get_backend_properties(name))

    def get_backend_defaults(self, name: str) -> dict[str, Any]:
        """The backend's Qiskit pulse defaults document."""
        return self._do(self._get_backend_defaults(name))

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
