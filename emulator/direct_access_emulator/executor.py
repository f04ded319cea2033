"""How a job runs: the `Executor` interface, and the storage access every executor shares.

An executor reads the job's input through its presigned GET URL, runs it and writes the results
and logs through the presigned PUT URLs (`StorageExecutor` does the HTTP, only to allowed hosts).
The executors: `direct_access_emulator.shape` (checks the input's shape, runs nothing) and
`direct_access_emulator.aer` (runs it on Qiskit Aer; the qiskit extra); the app picks one
(`app.make_executor`). Failures raise `ExecutionFailed` with a reason the job carries
(`reason_code`, `reason_message`, `reason_solution`; every one is in `reasons`).
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

import httpx

from direct_access_emulator import reasons
from direct_access_emulator.config import ExecutionConfig
from direct_access_emulator.job_log import JobLog
from direct_access_emulator.reasons import Reason

__all__ = [
    "ExecutionFailed",
    "ExecutionRequest",
    "ExecutionResult",
    "Executor",
    "LogWritingExecutor",
    "StartableExecutor",
    "StorageExecutor",
    "storage_urls",
    "url_host",
]

_HTTP_TIMEOUT_SECS = 10.0
_MAX_INPUT_BYTES = 64 * 1024 * 1024

# A URL's scheme and authority, when `urlsplit` takes that start as it is (no leading space or
# control character, none of the tabs and newlines it removes, the authority ending where it
# ends it): its host and port are then those of that prefix alone.
_AUTHORITY = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#\x00-\x20\x7f]*(?=[/?#]|\Z)")


def url_host(url: str) -> str:
    """The URL's host as `urlsplit` reads it, lowercased (`""` for none); `ValueError` when the
    URL is malformed or its port is out of range or not a number.

    A job's three URLs share their authority, and a job's URLs differ from another's only past
    it: the authority's verdict is kept (two `urlsplit` per job were a tenth of a create's
    time, bench/), the URL's own parse is the fallback.
    """
    match = _AUTHORITY.match(url)
    if match is None:
        return _parsed_host(url)
    return _authority_host(match[0])


def _parsed_host(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    # Checked here: httpx would fail on such a port deep in its connection layer, with an
    # exception (an OverflowError in a group) that is not an httpx.HTTPError.
    parts.port  # noqa: B018 - raises ValueError when out of range or not a number
    return host


# Bounded: authorities come from requests. A malformed one raises, and is not kept.
_authority_host = functools.lru_cache(maxsize=256)(_parsed_host)


@dataclass(frozen=True)
class ExecutionRequest:
    """What an executor needs to run one job."""

    job_id: str
    program_id: str
    backend: str
    log_level: str
    input_url: str
    results_url: str
    logs_url: str | None
    #: The job's log at its level: the executor adds its lines, the runner writes it at the
    #: job's end, whichever end that is (completed, failed, cancelled, timed out).
    log: JobLog = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "log", JobLog(self.log_level))


@dataclass(frozen=True)
class ExecutionResult:
    """A successful run."""

    quantum_nanoseconds: int


class ExecutionFailed(Exception):
    """The job cannot run; `reason` is what the job reports."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.message)
        self.reason = reason


class Executor(Protocol):
    """Runs jobs. `execute` is cancelled (asyncio) when the job is cancelled or times out."""

    async def execute(self, request: ExecutionRequest) -> ExecutionResult:
        """Run the job; raise `ExecutionFailed` with a reason when it cannot."""
        ...

    async def aclose(self) -> None:
        """Release resources (connections, worker processes)."""
        ...


@runtime_checkable
class LogWritingExecutor(Executor, Protocol):
    """An executor that can write a job's log through its logs URL."""

    def write_logs(self, request: ExecutionRequest, *, required: bool) -> Awaitable[None] | None:
        """The write of ``request.log``, to await; ``required``: a failure raises
        `ExecutionFailed`. None when nothing is to be written (an `async def` returns none)."""
        ...


@runtime_checkable
class StartableExecutor(Executor, Protocol):
    """An executor with work to do before the first job (warm worker processes)."""

    async def start(self) -> None:
        """Called once at app startup, in the event loop that runs the jobs."""
        ...


class _QueryHidden(logging.Filter):
    """Cuts the query from the URLs in httpx's request records.

    httpx logs each request's URL at INFO; for storage calls that is a presigned URL, whose query
    (the signature) is a credential while it lasts. The command turns httpx's INFO off; this also
    covers a program that serves the emulator in-process with its own logging set-up.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                arg.copy_with(query=b"[query hidden]") if isinstance(arg, httpx.URL) and arg.query
                else arg
                for arg in record.args
            )  # fmt: skip
        return True


def _hide_signatures_in_httpx_logs() -> None:
    logger = logging.getLogger("httpx")
    if not any(isinstance(existing, _QueryHidden) for existing in logger.filters):
        logger.addFilter(_QueryHidden())


class StorageExecutor:
    """Reads inputs and writes results and logs through presigned URLs, on allowed hosts only."""

    def __init__(
        self, config: ExecutionConfig, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        """``transport`` replaces the network (unit tests give an `httpx.MockTransport`)."""
        self.config = config
        self._allowed = {host.lower().strip("[]") for host in config.allowed_storage_hosts}
        _hide_signatures_in_httpx_logs()
        # trust_env off: proxies from the environment must not carry job traffic elsewhere;
        # no redirects: a redirect could lead to a host that is not allowed.
        self._http = httpx.AsyncClient(
            timeout=_HTTP_TIMEOUT_SECS,
            trust_env=False,
            follow_redirects=False,
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    def _check_host(self, role: str, url: str) -> None:
        """Refuse a URL that cannot be fetched as given or is off the allowed hosts."""
        try:
            host = url_host(url)
        except ValueError as error:
            detail = f"the URL is malformed ({error})"
            if role == "input":
                raise ExecutionFailed(reasons.input_unreadable(detail)) from None
            raise ExecutionFailed(reasons.write_failed(role, detail)) from None
        if host not in self._allowed:
            raise ExecutionFailed(reasons.host_not_allowed(role, host))

    def _check_request(self, request: ExecutionRequest) -> None:
        """Refuse URLs off the allowed hosts and programs other than sampler and estimator."""
        self._check_host("input", request.input_url)
        self._check_host("results", request.results_url)
        if request.logs_url is not None:
            self._check_host("logs", request.logs_url)
        if request.program_id not in ("sampler", "estimator"):
            raise ExecutionFailed(reasons.unknown_program(request.program_id))

    async def _get_input(self, url: str) -> bytes:
        try:
            async with self._http.stream("GET", url) as response:
                if not response.is_success:
                    raise ExecutionFailed(
                        reasons.input_unreadable(f"storage answered {response.status_code}")
                    )
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > _MAX_INPUT_BYTES:
                        raise ExecutionFailed(reasons.input_unreadable("the input is too large"))
                    chunks.append(chunk)
                return b"".join(chunks)
        except ExecutionFailed:
            raise
        except Exception as error:  # any failure to read is the job's reason
            raise ExecutionFailed(reasons.input_unreadable(_describe(error))) from None

    async def _put(self, url: str, role: str, content: bytes, content_type: str) -> None:
        try:
            response = await self._http.put(
                url, content=content, headers={"Content-Type": content_type}
            )
        except Exception as error:  # any failure to write is the job's reason
            raise ExecutionFailed(reasons.write_failed(role, _describe(error))) from None
        if not response.is_success:
            raise ExecutionFailed(
                reasons.write_failed(role, f"storage answered {response.status_code}")
            )

    def write_logs(self, request: ExecutionRequest, *, required: bool) -> Awaitable[None] | None:
        """The write of the job's log through its logs URL; None without a logs URL, or with
        one refused before any request when the write is not required.

        ``required`` (a completed job): a failure raises `ExecutionFailed`. Otherwise the job
        already ended for a better reason, and a failure to write is not worth reporting. The
        URL is checked before a write is returned, so that a refused one costs no awaiting
        under a deadline (in every create's profile, bench/).
        """
        if request.logs_url is None:
            return None
        try:
            self._check_host("logs", request.logs_url)
        except ExecutionFailed:
            if required:
                raise
            return None
        return self._write_log_text(request.logs_url, request.log.text(), required=required)

    async def _write_log_text(self, url: str, text: str, *, required: bool) -> None:
        try:
            await self._put(url, "logs", text.encode(), "text/plain")
        except ExecutionFailed:
            if required:
                raise


def _describe(error: Exception) -> str:
    # The exception text can hold the URL, whose query is a credential (the signature).
    return type(error).__name__


def storage_urls(storage: Mapping[str, Any]) -> tuple[str, str, str | None]:
    """The input, results and logs presigned URLs of a create request's `storage`."""

    def url(role: str) -> str | None:
        location = storage.get(role)
        if isinstance(location, Mapping):
            value = location.get("presigned_url")
            return value if isinstance(value, str) else None
        return None

    input_url, results_url = url("input"), url("results")
    if input_url is None or results_url is None:
        raise ValueError("storage needs input and results presigned URLs")
    return input_url, results_url, url("logs")
