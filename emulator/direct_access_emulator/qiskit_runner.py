"""Runs one sampler or estimator job on Qiskit Aer, in process: V2 primitive parameters in,
a `PrimitiveResult` in the Qiskit Runtime JSON encoding out, as the service reads and writes them.

Pure: no HTTP, no storage. A job the service would refuse raises `JobInputError` with the reason.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from qiskit import QuantumCircuit, qasm3  # type: ignore[import-untyped,unused-ignore]
from qiskit.primitives.containers.estimator_pub import EstimatorPub  # type: ignore[import-untyped,unused-ignore]
from qiskit.primitives.containers.observables_array import ObservablesArray  # type: ignore[import-untyped,unused-ignore]
from qiskit.primitives.containers.sampler_pub import SamplerPub  # type: ignore[import-untyped,unused-ignore]
from qiskit_aer import AerSimulator  # type: ignore[import-untyped,unused-ignore]
from qiskit_aer.primitives import EstimatorV2, SamplerV2  # type: ignore[import-untyped,unused-ignore]
from qiskit_ibm_runtime import RuntimeDecoder, RuntimeEncoder  # type: ignore[import-untyped,unused-ignore]

from direct_access_emulator.device_circuits import CircuitMismatch, in_device_space, isa_problem
from direct_access_emulator.devices import Device, UnknownDevice, load_device
from direct_access_emulator.job_log import JobLog
from direct_access_emulator.spec_values import LOG_LEVELS

__all__ = [
    "DEFAULT_PRECISION",
    "DEFAULT_SHOTS",
    "PROGRAM_IDS",
    "JobInputError",
    "Outcome",
    "run_primitive",
    "warm_up",
]

PROGRAM_IDS = ("estimator", "sampler")
#: What Qiskit Runtime uses when neither the pub, the call nor the options say.
DEFAULT_SHOTS = 4096
DEFAULT_PRECISION = 0.015625

_TOP_LEVEL_KEYS = {
    "sampler": frozenset({"options", "pubs", "shots", "support_qiskit", "version"}),
    "estimator": frozenset(
        {"options", "precision", "pubs", "resilience_level", "support_qiskit", "version"}
    ),
}
# The options Qiskit Runtime's V2 primitives send (`_get_program_inputs`); anything else is refused.
_OPTION_KEYS = {
    "sampler": frozenset(
        {"default_shots", "dynamical_decoupling", "execution", "experimental", "simulator"}
        | {"twirling"}
    ),
    "estimator": frozenset(
        {"default_precision", "default_shots", "dynamical_decoupling", "execution"}
        | {"experimental", "resilience", "seed_estimator", "simulator", "twirling"}
    ),
}
# Options that shape error mitigation on hardware; a simulator has nothing to mitigate.
_NO_EFFECT_OPTIONS = frozenset(
    {"dynamical_decoupling", "execution", "experimental", "resilience", "twirling"}
)
_SIMULATOR_KEYS = frozenset({"basis_gates", "coupling_map", "noise_model", "seed_simulator"})
# The device defines basis, coupling and noise, as on the service; these are only reported.
_IGNORED_SIMULATOR_KEYS = frozenset({"basis_gates", "coupling_map", "noise_model"})


class JobInputError(ValueError):
    """The job's input cannot run; the message says what is wrong, as the job's failure reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Outcome:
    """A finished job: the encoded result, its log lines and the measured execution time."""

    result: str
    log_lines: list[str]
    quantum_nanoseconds: int


def run_primitive(
    program_id: str,
    params: Mapping[str, Any] | str,
    *,
    device: str,
    noise: bool,
    log_level: str = "info",
) -> Outcome:
    """Run a sampler or estimator job on ``device``, with its noise model when ``noise``.

    ``params`` is the job's input: the JSON text or its parsed document (`RuntimeEncoder` objects
    such as circuits may still be encoded). Raises `JobInputError` for input the service refuses.
    """
    if log_level not in LOG_LEVELS:
        raise JobInputError(f"unknown log_level {log_level!r}: expected one of {LOG_LEVELS}")
    log = JobLog(log_level)
    if program_id not in PROGRAM_IDS:
        raise JobInputError(
            f"unknown program_id {program_id!r}: expected one of {', '.join(PROGRAM_IDS)}"
        )
    try:
        target_device = load_device(device)
    except UnknownDevice as error:
        raise JobInputError(str(error)) from None
    document = _decode(params)
    settings = _settings(program_id, document, log)
    pubs: list[SamplerPub] | list[EstimatorPub]
    if program_id == "sampler":
        pubs = _sampler_pubs(document["pubs"], settings, target_device)
    else:
        pubs = _estimator_pubs(document["pubs"], settings, target_device)
    mode = "with the device's noise model" if noise else "ideally"
    log.add("info", f"{program_id}: {len(pubs)} pub(s) on {device}, simulated {mode}")
    for index, pub in enumerate(pubs):
        size = pub.shots if program_id == "sampler" else pub.precision
        what = "shots" if program_id == "sampler" else "precision"
        log.add(
            "debug",
            f"pub {index}: {pub.circuit.num_qubits} qubits, {pub.circuit.size()} instructions, "
            f"parameter values of shape {pub.parameter_values.shape}, {what} {size}",
        )
    simulator = _simulator(device, noise)
    started = time.perf_counter_ns()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = _execute(program_id, pubs, simulator, settings)
    elapsed = time.perf_counter_ns() - started
    for warning in caught:
        log.add("warning", str(warning.message))
    log.add("info", f"{program_id}: completed in {elapsed / 1e6:.1f} ms")
    return Outcome(
        result=json.dumps(result, cls=RuntimeEncoder),
        log_lines=log.lines,
        quantum_nanoseconds=max(1, elapsed),
    )


#: Two-qubit gates of IBM's devices, one of which a warming circuit uses.
_TWO_QUBIT_GATES = ("cx", "ecr", "cz")


def warm_up(devices: Sequence[tuple[str, bool]] = ()) -> None:
    """Run a small sampler (QPY) and estimator (OpenQASM 3) job on each ``(device, noise)``.

    The first job in a process otherwise pays for imports, parsers, the simulator's and the
    primitives' set-up, and the noise of two-qubit gates: seconds at first, and a first noisy
    job twice as long as the next. Without devices, only the OpenQASM 3 parser is loaded.
    """
    qasm3.loads("OPENQASM 3.0;")
    for device, noise in devices:
        entangling = _warming_circuit(load_device(device))
        if entangling is None:
            continue
        measured = entangling.copy()
        measured.measure_all()
        # The observable as wide as the circuit: over a large device it would not fit in memory.
        observable = "Z" * entangling.num_qubits
        jobs = {
            "sampler": {"pubs": [[measured, None, 100]], "version": 2},
            "estimator": {"pubs": [[qasm3.dumps(entangling), observable]], "version": 2},
        }
        for program_id, params in jobs.items():
            # Best effort: a job that cannot warm fails the same way, with its reason, when run.
            with contextlib.suppress(Exception):
                run_primitive(
                    program_id,
                    json.dumps(params, cls=RuntimeEncoder),
                    device=device,
                    noise=noise,
                    log_level="error",
                )


def _warming_circuit(device: Device) -> QuantumCircuit | None:
    """An entangling ISA circuit on two coupled qubits of ``device`` (None if it has none)."""
    target = device.target
    for name in _TWO_QUBIT_GATES:
        if name in target.operation_names:
            pair = next(iter(qargs for qargs in target.qargs_for_operation_name(name) if qargs))
            circuit = QuantumCircuit(max(pair) + 1)
            circuit.sx(pair[0])
            circuit.append(target.operation_from_name(name), pair)
            return circuit
    return None


@dataclass(frozen=True)
class _Settings:
    shots: int | None
    precision: float | None
    default_shots: int | None
    default_precision: float | None
    seed: int | None


def _decode(params: Mapping[str, Any] | str) -> dict[str, Any]:
    try:
        text = params if isinstance(params, str) else json.dumps(params, cls=RuntimeEncoder)
        document = json.loads(text, cls=RuntimeDecoder)
    except (ValueError, TypeError) as error:
        raise JobInputError(
            f"input is not a JSON document of primitive parameters: {error}"
        ) from None
    if not isinstance(document, dict):
        raise JobInputError(
            f"input must be a JSON object of primitive parameters, not {_kind(document)}"
        )
    return document


def _settings(program_id: str, document: Mapping[str, Any], log: JobLog) -> _Settings:
    unknown = sorted(set(document) - _TOP_LEVEL_KEYS[program_id])
    if unknown:
        raise JobInputError(
            f"unknown {program_id} parameter(s) {', '.join(map(repr, unknown))}: expected "
            f"{', '.join(sorted(_TOP_LEVEL_KEYS[program_id]))}"
        )
    if "version" not in document:
        raise JobInputError("'version' is missing: only version 2 primitive parameters run here")
    if document["version"] != 2 or isinstance(document["version"], bool):
        raise JobInputError(
            f"'version' is {document['version']!r}: only version 2 primitive parameters run here"
        )
    if "pubs" not in document:
        raise JobInputError("'pubs' is missing")
    if not isinstance(document["pubs"], list):
        raise JobInputError(f"'pubs' must be a list of pubs, not {_kind(document['pubs'])}")
    if not document["pubs"]:
        raise JobInputError("'pubs' is empty: a job needs at least one pub")
    support = document.get("support_qiskit", True)
    if not isinstance(support, bool):
        raise JobInputError(f"'support_qiskit' must be true or false, not {support!r}")
    options, seed = _options(program_id, document, log)
    sampler = program_id == "sampler"
    return _Settings(
        shots=_optional_int(document, "shots", "", minimum=1) if sampler else None,
        precision=None if sampler else _optional_float(document, "precision", ""),
        default_shots=_optional_int(options, "default_shots", "options.", minimum=1),
        default_precision=None
        if sampler
        else _optional_float(options, "default_precision", "options."),
        seed=seed,
    )


def _options(
    program_id: str, document: Mapping[str, Any], log: JobLog
) -> tuple[dict[str, Any], int | None]:
    """The job's options, checked, and the simulation seed they give."""
    options = document.get("options", {})
    if not isinstance(options, dict):
        raise JobInputError(f"'options' must be an object, not {_kind(options)}")
    unknown = sorted(set(options) - _OPTION_KEYS[program_id])
    if unknown:
        raise JobInputError(
            f"unknown {program_id} option(s) {', '.join(map(repr, unknown))}: expected "
            f"{', '.join(sorted(_OPTION_KEYS[program_id]))}"
        )
    for name in sorted(set(options) & _NO_EFFECT_OPTIONS):
        log.add("warning", f"option {name!r} has no effect on a simulator; ignored")
    simulator = options.get("simulator", {})
    if not isinstance(simulator, dict):
        raise JobInputError(f"'options.simulator' must be an object, not {_kind(simulator)}")
    unknown = sorted(set(simulator) - _SIMULATOR_KEYS)
    if unknown:
        raise JobInputError(
            f"unknown simulator option(s) {', '.join(map(repr, unknown))}: expected "
            f"{', '.join(sorted(_SIMULATOR_KEYS))}"
        )
    for name in sorted(set(simulator) & _IGNORED_SIMULATOR_KEYS):
        log.add("warning", f"option 'simulator.{name}' is ignored: the backend's device sets it")
    seed = _optional_int(simulator, "seed_simulator", "options.simulator.", minimum=0)
    if seed is None and program_id == "estimator":
        seed = _optional_int(options, "seed_estimator", "options.", minimum=0)
    return options, seed


def _optional_int(
    document: Mapping[str, Any], key: str, prefix: str, *, minimum: int
) -> int | None:
    value = document.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise JobInputError(f"'{prefix}{key}' must be an integer >= {minimum}, not {value!r}")
    return value


def _optional_float(document: Mapping[str, Any], key: str, prefix: str) -> float | None:
    value = document.get(key)
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise JobInputError(f"'{prefix}{key}' must be a number > 0, not {value!r}")
    return float(value)


def _sampler_pubs(raw: list[Any], settings: _Settings, device: Device) -> list[SamplerPub]:
    shots = settings.shots or settings.default_shots or DEFAULT_SHOTS
    pubs = []
    for index, item in enumerate(raw):
        parts = _pub_parts(index, item, "[circuit, parameter values?, shots?]", 3)
        circuit = _circuit(index, parts[0], device)
        pub_shots = parts[2] if len(parts) > 2 else None
        if pub_shots is not None and (
            isinstance(pub_shots, bool) or not isinstance(pub_shots, int) or pub_shots < 1
        ):
            raise JobInputError(f"pub {index}: shots must be an integer >= 1, not {pub_shots!r}")
        values = parts[1] if len(parts) > 1 else None
        try:
            pubs.append(SamplerPub.coerce((circuit, _values(values), pub_shots), shots))
        except (ValueError, TypeError) as error:
            raise JobInputError(f"pub {index}: {error}") from None
    return pubs


def _estimator_pubs(raw: list[Any], settings: _Settings, device: Device) -> list[EstimatorPub]:
    precision = settings.precision
    if precision is None and settings.default_shots is not None:
        # Qiskit Runtime: default_shots, when set, decides precision as 1/sqrt(shots).
        precision = 1 / math.sqrt(settings.default_shots)
    if precision is None:
        precision = settings.default_precision or DEFAULT_PRECISION
    pubs = []
    for index, item in enumerate(raw):
        parts = _pub_parts(
            index, item, "[circuit, observables, parameter values?, precision?]", 4, minimum=2
        )
        circuit = _circuit(index, parts[0], device)
        pub_precision = parts[3] if len(parts) > 3 else None
        if pub_precision is not None and (
            isinstance(pub_precision, bool)
            or not isinstance(pub_precision, int | float)
            or not math.isfinite(pub_precision)
            or pub_precision <= 0
        ):
            raise JobInputError(
                f"pub {index}: precision must be a number > 0, not {pub_precision!r}"
            )
        values = parts[2] if len(parts) > 2 else None
        observables = _observables(index, parts[1])
        try:
            circuit = in_device_space(circuit, observables.num_qubits, device)
        except CircuitMismatch as error:
            raise JobInputError(f"pub {index}: {error}") from None
        try:
            pubs.append(
                EstimatorPub.coerce(
                    (circuit, observables, _values(values), pub_precision), precision
                )
            )
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise JobInputError(f"pub {index}: {error}") from None
    return pubs


def _observables(index: int, value: Any) -> ObservablesArray:
    try:
        return ObservablesArray.coerce(value)
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise JobInputError(f"pub {index}: observables: {error}") from None


def _pub_parts(index: int, item: Any, shape: str, maximum: int, *, minimum: int = 1) -> list[Any]:
    if not isinstance(item, list | tuple) or not minimum <= len(item) <= maximum:
        count = f"{len(item)} items" if isinstance(item, list | tuple) else _kind(item)
        raise JobInputError(f"pub {index}: expected a list {shape}, got {count}")
    return list(item)


def _values(values: Any) -> Any:
    # An empty array is how the runtime encoder writes "no parameters" (shape (0,)).
    if values is None or (isinstance(values, np.ndarray) and values.size == 0):
        return None
    return values


def _circuit(index: int, value: Any, device: Device) -> QuantumCircuit:
    if isinstance(value, str):
        try:
            circuit = qasm3.loads(value)
        except Exception as error:  # the importer raises many types
            raise JobInputError(f"pub {index}: circuit is not valid OpenQASM 3: {error}") from None
    elif isinstance(value, QuantumCircuit):
        circuit = value
    else:
        raise JobInputError(
            f"pub {index}: circuit must be an OpenQASM 3 string or an encoded QuantumCircuit, "
            f"not {_kind(value)}"
        )
    problem = isa_problem(circuit, device)
    if problem:
        raise JobInputError(f"pub {index}: {problem}")
    return circuit


@functools.cache
def _simulator(device: str, noise: bool) -> AerSimulator:
    # Built once per process and device: a noise model takes a moment to derive from properties.
    backend = load_device(device).backend()
    if noise:
        return AerSimulator.from_backend(backend)
    # Ideal, but with the device's size and basis so that results have the same shape.
    return AerSimulator.from_backend(backend, noise_model=None)


def _execute(
    program_id: str,
    pubs: list[SamplerPub] | list[EstimatorPub],
    simulator: AerSimulator,
    settings: _Settings,
) -> Any:
    if program_id == "sampler":
        sampler = SamplerV2.from_backend(simulator, seed=settings.seed)
        return sampler.run(pubs).result()
    run_options = {} if settings.seed is None else {"seed_simulator": settings.seed}
    estimator = EstimatorV2.from_backend(simulator, options={"run_options": run_options})
    return estimator.run(pubs).result()


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    return names.get(type(value), type(value).__name__)
