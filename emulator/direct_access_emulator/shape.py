"""The shape-checking executor: checks that the input is a primitive's parameters, runs nothing.

`check_input` checks Qiskit Runtime V2 sampler or estimator parameters and names the offending
place (``pubs[1][2]``); `ShapeCheckingExecutor` does so for each job, waits the configured
duration and writes a result document that says no circuit was run. The emulator's default
executor: fast, and without the qiskit extra.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from direct_access_emulator import reasons
from direct_access_emulator.executor import (
    ExecutionFailed,
    ExecutionRequest,
    ExecutionResult,
    StorageExecutor,
)
from direct_access_emulator.job_log import JobLog

__all__ = ["InputShapeError", "InputSummary", "ShapeCheckingExecutor", "check_input"]

_QASM3 = re.compile(r"\A\s*(?://[^\n]*\n\s*)*OPENQASM\s+3(?:\.\d+)?\s*;")


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


class ShapeCheckingExecutor(StorageExecutor):
    """Checks the input's shape, waits `duration_secs`, writes a result marked as unexecuted."""

    name = "shape-check"

    async def execute(self, request: ExecutionRequest) -> ExecutionResult:
        """Check and "run" the job; its log gets the lines, the runner writes it at the end."""
        log = request.log
        log.add("info", f"job {request.job_id}: {request.program_id} on {request.backend}")
        log.add(
            "warning",
            "this is the emulator's shape-checking executor: the input is checked, "
            "no circuit is run",
        )
        return await self._run(request, log)

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
