"""How a job runs: the `Executor` interface, the storage both executors share, the shape check.

An executor reads the job's input through its presigned GET URL, runs it and writes the results
and logs through the presigned PUT URLs (`StorageExecutor` does the HTTP, only to allowed hosts).
`ShapeCheckingExecutor` checks that the input is a Qiskit Runtime V2 primitive's parameters,
waits the configured duration and writes a result document that says no circuit was run; the
aer executor (`direct_access_emulator.aer`, the qiskit extra) runs it. Failures raise
`ExecutionFailed` with a reason the job carries (`reason_code`, `reason_message`,
`reason_solution`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

import httpx

from direct_access_emulator import reasons
from direct_access_emulator.config import ExecutionConfig
from direct_access_emulator.job_log import JobLog
from direct_access_emulator.reasons import Reason

if TYPE_CHECKING:
    from direct_access_emulator.config import EmulatorConfig

__all__ = [
    "ExecutionFailed",
    "ExecutionRequest",
    "ExecutionResult",
    "Executor",
    "InputShapeError",
    "InputSummary",
    "ShapeCheckingExecutor",
    "StartableExecutor",
    "StorageExecutor",
    "check_input",
    "make_executor",
    "storage_urls",
]

_HTTP_TIMEOUT_SECS = 10.0
_MAX_INPUT_BYTES = 64 * 1024 * 1024
_QASM3 = re.compile(r"\A\s*(?://[^\n]*\n\s*)*OPENQASM\s+3(?:\.\d+)?\s*;")


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
class StartableExecutor(Executor, Protocol):
    """An executor with work to do before the first job (warm worker processes)."""

    async def start(self) -> None:
        """Called once at app startup, in the event loop that runs the jobs."""
        ...


class InputShapeError(ValueError):
    """The input is not a primitive's parameters; the message says where."""


@dataclass(frozen=True)
class InputSummary:
    """What the shape check learned about a valid input."""

    program_id: str
    pubs: int
    shots: int | None
    pub_shapes: tuple[dict[str, Any], ...]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_circuit(value: Any, where: str) -> str:
    if isinstance(value, str):
        if _QASM3.match(value) is None:
            raise InputShapeError(f"{where}: a circuit string must be OpenQASM 3 ('OPENQASM 3;')")
        return "openqasm3"
    if isinstance(value, dict) and value:
        return "encoded"
    raise InputShapeError(f"{where}: a circuit must be an OpenQASM 3 string or an encoded object")


def _check_parameters(value: Any, where: str) -> None:
    if value is not None and not isinstance(value, list | dict):
        raise InputShapeError(f"{where}: parameter values must be an array, an object or null")


def _check_shots(value: Any, where: str) -> None:
    if value is not None and (not _is_int(value) or value < 1):
        raise InputShapeError(f"{where}: shots must be a positive integer")


def _sampler_pub(pub: Any, where: str) -> dict[str, Any]:
    if not isinstance(pub, list) or not 1 <= len(pub) <= 3:
        raise InputShapeError(f"{where}: a sampler pub is [circuit, parameter values?, shots?]")
    circuit = _check_circuit(pub[0], f"{where}[0]")
    if len(pub) > 1:
        _check_parameters(pub[1], f"{where}[1]")
    if len(pub) > 2:
        _check_shots(pub[2], f"{where}[2]")
    return {"circuit": circuit, "shots": pub[2] if len(pub) > 2 else None}


def _estimator_pub(pub: Any, where: str) -> dict[str, Any]:
    if not isinstance(pub, list) or not 2 <= len(pub) <= 4:
        raise InputShapeError(
            f"{where}: an estimator pub is [circuit, observables, parameter values?, precision?]"
        )
    circuit = _check_circuit(pub[0], f"{where}[0]")
    observables = pub[1]
    if not (
        (isinstance(observables, str) and observables)
        or (isinstance(observables, dict | list) and observables)
    ):
        raise InputShapeError(
            f"{where}[1]: observables must be a non-empty string, object or array"
        )
    if len(pub) > 2:
        _check_parameters(pub[2], f"{where}[2]")
    if len(pub) > 3:
        precision = pub[3]
        if precision is not None and (
            not isinstance(precision, int | float)
            or isinstance(precision, bool)
            or not math.isfinite(precision)
            or precision <= 0
        ):
            raise InputShapeError(f"{where}[3]: precision must be a positive number")
    return {
        "circuit": circuit,
        "observables": 1 if not isinstance(observables, list) else len(observables),
    }


def check_input(program_id: str, document: Any) -> InputSummary:
    """Check that ``document`` is Qiskit Runtime V2 parameters of ``program_id``.

    Raises `InputShapeError` naming the offending place (``pubs[1][2]``).
    """
    if program_id not in ("sampler", "estimator"):
        raise ValueError(program_id)
    if not isinstance(document, dict):
        raise InputShapeError("the input must be a JSON object")
    if document.get("version") != 2:
        raise InputShapeError("version: must be 2 (Qiskit Runtime V2 primitives)")
    pubs = document.get("pubs")
    if not isinstance(pubs, list) or not pubs:
        raise InputShapeError("pubs: must be a non-empty array")
    shots = document.get("shots")
    _check_shots(shots, "shots")
    if program_id == "estimator" and "precision" in document:
        precision = document["precision"]
        if precision is not None and (
            not isinstance(precision, int | float) or isinstance(precision, bool) or precision <= 0
        ):
            raise InputShapeError("precision: must be a positive number")
    for key in ("options",):
        if key in document and not isinstance(document[key], dict):
            raise InputShapeError(f"{key}: must be an object")
    if "support_qiskit" in document and not isinstance(document["support_qiskit"], bool):
        raise InputShapeError("support_qiskit: must be true or false")
    check = _sampler_pub if program_id == "sampler" else _estimator_pub
    shapes = tuple(check(pub, f"pubs[{index}]") for index, pub in enumerate(pubs))
    return InputSummary(program_id, len(pubs), shots, shapes)


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
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
            # Checked here: httpx would fail on such a port deep in its connection layer, with
            # an exception (an OverflowError in a group) that is not an httpx.HTTPError.
            parts.port  # noqa: B018 - raises ValueError when out of range or not a number
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

    async def _write_logs_quietly(self, request: ExecutionRequest, text: str) -> None:
        """Write the logs of a failed job; a failure to write them is not worth reporting."""
        if request.logs_url is None:
            return
        try:
            self._check_host("logs", request.logs_url)
            await self._put(request.logs_url, "logs", text.encode(), "text/plain")
        except ExecutionFailed:
            return  # the job already failed for a better reason


class ShapeCheckingExecutor(StorageExecutor):
    """Checks the input's shape, waits `duration_secs`, writes a result marked as unexecuted."""

    name = "shape-check"

    async def execute(self, request: ExecutionRequest) -> ExecutionResult:
        log = JobLog(request.log_level)
        log.add("info", f"job {request.job_id}: {request.program_id} on {request.backend}")
        log.add(
            "warning",
            "this is the emulator's shape-checking executor: the input is checked, "
            "no circuit is run",
        )
        try:
            result = await self._run(request, log)
        except ExecutionFailed as failure:
            log.add("error", failure.reason.message)
            await self._write_logs_quietly(request, log.text())
            raise
        log.add("info", f"job {request.job_id}: completed")
        if request.logs_url is not None:
            await self._put(request.logs_url, "logs", log.text().encode(), "text/plain")
        return result

    async def _run(self, request: ExecutionRequest, log: JobLog) -> ExecutionResult:
        self._check_request(request)
        raw = await self._get_input(request.input_url)
        log.add("debug", f"input: {len(raw)} bytes")
        try:
            document = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ExecutionFailed(reasons.input_not_json(str(error))) from None
        try:
            summary = check_input(request.program_id, document)
        except InputShapeError as error:
            raise ExecutionFailed(reasons.input_bad_shape(str(error))) from None
        log.add("info", f"input holds {summary.pubs} pub(s) for {summary.program_id}")
        started = asyncio.get_running_loop().time()
        await asyncio.sleep(self.config.duration_secs)  # the job's simulated run time
        elapsed = asyncio.get_running_loop().time() - started
        result = {
            "executor": self.name,
            "note": "Produced by the Direct Access emulator's shape-checking executor: "
            "the input was checked, no circuit was run.",
            "job_id": request.job_id,
            "program_id": request.program_id,
            "backend": request.backend,
            "version": 2,
            "pubs": summary.pubs,
            "shots": summary.shots,
            "pub_shapes": list(summary.pub_shapes),
        }
        await self._put(
            request.results_url, "results", json.dumps(result).encode(), "application/json"
        )
        return ExecutionResult(quantum_nanoseconds=max(1, int(elapsed * 1e9)))


def _describe(error: Exception) -> str:
    # The exception text can hold the URL, whose query is a credential (the signature).
    return type(error).__name__


def make_executor(config: EmulatorConfig) -> Executor:
    """The executor the configuration names (the aer one imports Qiskit, so only when named)."""
    if config.execution.executor == "aer":
        from direct_access_emulator.aer import AerExecutor  # noqa: PLC0415 - the qiskit extra

        return AerExecutor(config)
    return ShapeCheckingExecutor(config.execution)


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
