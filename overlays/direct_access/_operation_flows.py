"""The operations as flows (see `direct_access._flow`): each API call, the read-backs that
resolve a retried create, cancel or delete, and `wait`. Written once for both clients.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any, TypeVar

from direct_access._base_client import BaseClient
from direct_access._errors import (
    APIConnectionError,
    ConfigurationError,
    ConflictError,
    DirectAccessError,
    NotFoundError,
    ServerError,
    redact_urls,
)
from direct_access._flow import Flow, Send
from direct_access._metrics import has_really_finished, keep_metrics
from direct_access._retry import RetryState
from direct_access._secrets import hide_signatures
from direct_access._wait import MIN_POLL_TIME, DeadlineReached, wait_flow
from direct_access.storage import PreparedStorage
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
from direct_access_spec import load_spec, operation, violations

__all__ = ["OperationFlows", "checked_log_level"]

_log = logging.getLogger("direct_access")
T = TypeVar("T")


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


_CREATE_SCHEMA = "/components/schemas/CreateJobRequest"


@functools.cache
def create_fields() -> frozenset[str]:
    """The fields of the create body the spec defines, beyond `submit`'s own arguments."""
    schema = load_spec()["components"]["schemas"]["CreateJobRequest"]
    return frozenset(schema["properties"]) - _SUBMIT_ARGUMENTS


# The create body's fields that `submit` takes as arguments of their own.
_SUBMIT_ARGUMENTS = frozenset(
    {"id", "program_id", "backend", "timeout_secs", "storage", "log_level"}
)


def _with_fields(body: CreateJobRequest, fields: Mapping[str, Any]) -> CreateJobRequest:
    """``body`` plus more fields of the spec's create body (one the spec gained since this
    code was written reaches the service without an edit here), checked against the spec."""
    unknown = sorted(set(fields) - create_fields())
    if unknown:
        known = ", ".join(sorted(create_fields())) or "none"
        raise ConfigurationError(
            f"not a field of the create body: {', '.join(unknown)} (the spec's other fields: "
            f"{known}; id, program_id, backend, timeout_secs, storage and log_level are "
            "arguments of their own)"
        )
    document = body.to_dict() | dict(fields)
    found = violations(_CREATE_SCHEMA, document)
    if found:
        problems = "; ".join(f"{v.location or '/'}: {v.message}" for v in found)
        raise ConfigurationError(redact_urls(f"the create body breaks the spec: {problems}"))
    extended = CreateJobRequest.from_dict(document)
    missing = sorted(set(fields) - set(extended.to_dict()))
    if missing:  # the spec has the field, the generated model not yet
        raise ConfigurationError(
            f"the generated client drops {', '.join(missing)}: run 'make generate' after the spec"
        )
    return extended


class OperationFlows(BaseClient):
    """Every operation of the spec as a flow; the facades run them (`Client`, `AsyncClient`)."""

    def _create_body(
        self,
        *,
        job_id: str,
        backend: str,
        program_id: str,
        storage: CreateJobStorage | PreparedStorage | Mapping[str, Any],
        timeout_secs: int,
        log_level: LogLevel | str | None,
        fields: Mapping[str, Any] | None = None,
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
        return _with_fields(body, fields) if fields else body

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
        response = yield Send("list_jobs", list_jobs)
        found = self._parsed(response, JobList, operation("list_jobs"))
        jobs = [
            hide_signatures(job) for job in self._items(found.jobs, Job, operation("list_jobs"))
        ]
        keep_metrics(jobs, response.content, listed=True)
        return jobs

    def _get_job(
        self, job_id: str, *, state: RetryState | None = None, time_limit: float | None = None
    ) -> Flow[Job]:
        response = yield Send("get_job", get_job, (job_id,), state=state, time_limit=time_limit)
        job = hide_signatures(self._parsed(response, Job, operation("get_job")))
        keep_metrics([job], response.content, listed=False)
        return job

    def _list_backends(self) -> Flow[list[Backend]]:
        found = yield from self._model("list_backends", list_backends, BackendList)
        return self._items(found.backends, Backend, operation("list_backends"))

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

    def _get_backend_configuration(self, name: str) -> Flow[dict[str, Any]]:
        return dict(
            (
                yield from self._backend_document(
                    "get_backend_configuration", get_backend_configuration, name
                )
            )
        )

    def _get_backend_properties(self, name: str) -> Flow[dict[str, Any]]:
        return dict(
            (
                yield from self._backend_document(
                    "get_backend_properties", get_backend_properties, name
                )
            )
        )

    def _get_backend_defaults(self, name: str) -> Flow[dict[str, Any]]:
        return dict(
            (yield from self._backend_document("get_backend_defaults", get_backend_defaults, name))
        )

    def _get_backend_lanes(self, name: str) -> Flow[BackendLanes]:
        return (yield from self._model("get_backend_lanes", get_backend_lanes, BackendLanes, name))

    def _get_version(self) -> Flow[str]:
        return (yield from self._model("get_version", get_version, ServiceVersion)).version

    def _list_versions(self) -> Flow[list[str]]:
        found = yield from self._model("list_versions", list_versions, ApiVersions)
        return self._items(found.versions, str, operation("list_versions"))

    def _submit(self, body: CreateJobRequest) -> Flow[str]:
        """Create the job once. A create that may have acted unseen (an attempt got no answer,
        a timeout or a 5xx; or a 409 after a retry) and then fails in any way reads the job
        back before raising: a job that is ours means an earlier attempt created it."""
        state = self._retry_state("create_job")
        try:
            yield Send("create_job", create_job, kwargs={"body": body}, state=state)
        except DirectAccessError as failure:
            if not (state.uncertain or (state.retried and isinstance(failure, ConflictError))):
                raise
            if not (yield from self._created_earlier(body, failure)):
                raise
        return body.id

    def _created_earlier(self, body: CreateJobRequest, failure: DirectAccessError) -> Flow[bool]:
        """Whether the job ``body`` names exists and is ours (read back after ``failure``)."""
        try:
            job = yield from self._get_job(body.id)
        except NotFoundError:
            return False
        except DirectAccessError as exc:
            _log.warning(
                "create of job %s failed (%s) and reading it back failed too (%s): it may exist",
                body.id,
                failure,
                exc,
            )
            return False
        if not _is_ours(job, body):
            return False
        _log.debug(
            "create of job %s failed (%s), but the job is ours: an earlier attempt created it",
            body.id,
            type(failure).__name__,
        )
        return True

    def _cancel(self, job_id: str) -> Flow[None]:
        """Cancel once: a cancel that may have acted unseen and then fails (or a 409 after a
        retry) reads the job back, and a Cancelled job means success."""
        state = self._retry_state("cancel_job")
        try:
            yield Send("cancel_job", cancel_job, (job_id,), state=state)
        except DirectAccessError as failure:
            if not (state.uncertain or (state.retried and isinstance(failure, ConflictError))):
                raise
            try:
                job = yield from self._get_job(job_id)
            except DirectAccessError:
                raise failure from None
            if job.status != JobStatus.CANCELLED:
                raise
            _log.debug("cancel of job %s failed (%s), but it is Cancelled", job_id, failure)

    def _delete(self, job_id: str) -> Flow[None]:
        """Delete once: a 404 after a retry, or a delete that may have acted unseen and then
        fails while the job is gone, means success."""
        state = self._retry_state("delete_job")
        try:
            yield Send("delete_job", delete_job, (job_id,), state=state)
        except NotFoundError:
            # After a retry, the 404 says an earlier attempt deleted it: reading the job back
            # could only repeat the 404.
            if not state.retried:
                raise
            _log.debug("404 after a retried delete: job %s is gone already", job_id)
        except DirectAccessError as failure:
            if not state.uncertain:
                raise
            try:
                yield from self._get_job(job_id)
            except NotFoundError:
                _log.debug("delete of job %s failed (%s), but it is gone", job_id, failure)
                return
            except DirectAccessError:
                raise failure from None
            raise

    def _poll(self, job_id: str, budget: float) -> Flow[Job]:
        """One poll of `wait`: its retries and request timeouts stay within ``budget``."""
        state = self._retry_state("get_job", budget=budget)
        try:
            return (
                yield from self._get_job(job_id, state=state, time_limit=max(budget, MIN_POLL_TIME))
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
        until_metrics: bool = False,
    ) -> Flow[Job]:
        return (
            yield from wait_flow(
                self._poll,
                job_id,
                timeout=timeout,
                poll_interval=poll_interval,
                on_status=on_status,
                clock=self._clock,
                done=has_really_finished if until_metrics else None,
            )
        )
