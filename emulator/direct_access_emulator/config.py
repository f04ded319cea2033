"""The emulator's settings: frozen dataclasses, every field defaulted, loaded from one TOML file.

`EmulatorConfig()` is a working emulator (one instance, one backend, faults off). A bad file is
refused with a `ConfigError` that names the field, such as ``backends[0].lanes``. Backends built
from a fake device (``device = "fake_manila"``) and the ``aer`` executor need the qiskit extra,
imported only then.
"""

from __future__ import annotations

import datetime
import importlib
import math
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from direct_access_emulator.spec_values import BACKEND_STATUSES, spec_value
from direct_access_spec import operations

__all__ = [
    "AER_DEFAULT_DEVICES",
    "CONFIG_REFERENCE",
    "EXECUTORS",
    "IAM_TOKEN_OPERATION",
    "OPERATION_IDS",
    "AuthConfig",
    "BackendConfig",
    "ConfigError",
    "EmulatorConfig",
    "ExecutionConfig",
    "FaultConfig",
    "InstanceConfig",
    "OperationFaults",
    "Reservation",
    "ServerConfig",
    "config_from_mapping",
    "load_config",
]

#: The emulator's own name for its IAM endpoint (`POST /identity/token`), which is IBM Cloud
#: IAM's and so not in openapi.yaml.
IAM_TOKEN_OPERATION = "iam_token"  # noqa: S105 - an operation name, not a credential
#: The operations faults can be injected into: the spec's operationIds and the IAM endpoint.
OPERATION_IDS = tuple(sorted({op.operation_id for op in operations()} | {IAM_TOKEN_OPERATION}))
_STATUS_CHOICES = ", ".join(BACKEND_STATUSES)

#: The executors a configuration can name: "shape" checks the input, "aer" runs it on Qiskit Aer.
EXECUTORS = ("aer", "shape")
#: The backends of the "aer" executor when none are configured: 5-qubit devices, under their
#: own names, quick to simulate with their noise.
AER_DEFAULT_DEVICES = ("fake_manila", "fake_lima")
_QISKIT_EXTRA = "pip install 'direct-access-toolkit[qiskit]'"

DEFAULT_CRN = "crn:v1:local:public:quantum-computing:local:a/emulator:instance-1::"
# A development key: a local credential meant to be shown (printed by the CLI, in the README).
DEFAULT_API_KEY = "da-dev-key-1"


class ConfigError(ValueError):
    """The configuration is invalid; the message names the field."""


@dataclass(frozen=True)
class ServerConfig:
    """Limits on requests."""

    max_body_bytes: int = 1_048_576
    body_timeout_secs: float = 10.0


@dataclass(frozen=True)
class AuthConfig:
    """The IAM tokens the emulator issues."""

    token_lifetime_secs: int = 3600


@dataclass(frozen=True)
class InstanceConfig:
    """A service instance (a Service-CRN) and the API keys that may use it."""

    crn: str = DEFAULT_CRN
    api_keys: tuple[str, ...] = (DEFAULT_API_KEY,)


@dataclass(frozen=True)
class Reservation:
    """A window in which the backend is reserved: creates answer 423."""

    start: datetime.datetime
    end: datetime.datetime

    def covers(self, moment: datetime.datetime) -> bool:
        """Whether ``moment`` falls inside the window (start included, end excluded)."""
        return self.start <= moment < self.end


@dataclass(frozen=True)
class BackendConfig:
    """A backend: its status, lanes, reservations and Qiskit documents.

    With ``device`` (a fake device of qiskit-ibm-runtime, such as ``fake_manila``), the qubit
    count, configuration and properties are the device's, served unchanged (no pulse defaults),
    and the aer executor simulates the device, with its noise model when ``noise``.
    """

    name: str = "fake_backend"
    status: str = spec_value("BackendStatus", "online")
    message: str | None = None
    version: str = "1.0.0"
    num_qubits: int = 5
    lanes: int = 5
    compute_lanes: int = 5
    reservations: tuple[Reservation, ...] = ()
    always_reserved: bool = False
    # Qiskit documents; None means a generated configuration/properties and no pulse defaults.
    # Left out of the repr: a device's documents run to tens of kilobytes.
    configuration: Mapping[str, Any] | None = field(default=None, repr=False)
    properties: Mapping[str, Any] | None = field(default=None, repr=False)
    defaults: Mapping[str, Any] | None = field(default=None, repr=False)
    device: str | None = None
    noise: bool = True

    def reserved_at(self, moment: datetime.datetime) -> bool:
        """Whether the backend is reserved at ``moment``."""
        return self.always_reserved or any(r.covers(moment) for r in self.reservations)


@dataclass(frozen=True)
class ExecutionConfig:
    """How jobs run."""

    executor: str = "shape"
    duration_secs: float = 0.5
    # Worker processes of the aer executor: simulations running at once.
    workers: int = 2
    # Safety: the emulator only ever fetches these hosts, so a job cannot make it reach elsewhere.
    allowed_storage_hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class OperationFaults:
    """Faults injected into one operation, as probabilities per request.

    ``error_503``, ``error_500`` and ``drop_connection`` fire before the operation acts;
    ``drop_after_commit`` and ``late_answer`` after it succeeded (the job is created, cancelled
    or deleted), so that the caller does not learn that it did.
    """

    error_503: float = 0.0
    error_500: float = 0.0
    drop_connection: float = 0.0
    latency_secs: float = 0.0
    reserved_423: float = 0.0
    lanes_full_429: float = 0.0
    drop_after_commit: float = 0.0
    late_answer: float = 0.0
    late_answer_secs: float = 0.0


@dataclass(frozen=True)
class FaultConfig:
    """Seeded fault injection, keyed by operationId (or "*" for every operation); off by default."""

    seed: int = 0
    operations: Mapping[str, OperationFaults] = field(default_factory=lambda: MappingProxyType({}))

    def for_operation(self, operation_id: str) -> OperationFaults | None:
        """The faults of ``operation_id``, else those of "*", else None."""
        return self.operations.get(operation_id) or self.operations.get("*")


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything the emulator can be told; the defaults need no file."""

    server: ServerConfig = field(default_factory=ServerConfig)
    auth: AuthConfig = field(default_factory=AuthConfig)
    instances: tuple[InstanceConfig, ...] = (InstanceConfig(),)
    backends: tuple[BackendConfig, ...] = (BackendConfig(),)
    execution: ExecutionConfig = field(default_factory=ExecutionConfig)
    faults: FaultConfig = field(default_factory=FaultConfig)

    def __post_init__(self) -> None:
        if self.execution.executor == "aer" and self.backends == (BackendConfig(),):
            # The built-in backend has no device to simulate; the aer executor's default is
            # the small fake devices.
            object.__setattr__(self, "backends", _default_aer_backends())
        object.__setattr__(
            self,
            "backends",
            tuple(_with_device(b, f"backends[{i}]") for i, b in enumerate(self.backends)),
        )
        _check_config(self)

    def backend(self, name: str) -> BackendConfig | None:
        """The backend called ``name``, if configured."""
        return next((b for b in self.backends if b.name == name), None)


#: What `--help` prints: every field of the file with its default.
CONFIG_REFERENCE = """\
Configuration file (TOML); every field is optional, shown with its default:

  [server]
  max_body_bytes = 1048576       # 413 above this (checked while reading the body)
  body_timeout_secs = 10.0       # 408 when the body is not received in this time
  [auth]
  token_lifetime_secs = 3600     # lifetime of the IAM tokens the emulator issues
  [[instances]]                  # default: one instance with the key below
  crn = "crn:v1:local:public:quantum-computing:local:a/emulator:instance-1::"
  api_keys = ["da-dev-key-1"]    # a development key, meant to be shown
  [[backends]]                   # default: one backend "fake_backend"; with executor "aer":
                                 #   fake_manila and fake_lima, named as their devices
  name = "fake_backend"          # default: the device's name when device is set
  device = "fake_manila"         # optional: a fake device of qiskit-ibm-runtime (qiskit extra);
                                 #   its configuration and properties are served unchanged
  noise = true                   # aer: simulate with the device's noise model (false: ideally)
  status = "online"              # <backend statuses> (reported only)
  message = "..."                # optional, shown in GET /v1/backends/{name}
  version = "1.0.0"
  num_qubits = 5                 # for the generated configuration and properties (not with device)
  lanes = 5                      # jobs stored at once (held until DELETE); 429 when full
  compute_lanes = 5              # reported as ibm_quantum_compute by /lanes
  reservations = [{ start = "2026-01-01T00:00:00Z", end = "2026-01-01T01:00:00Z" }]  # 423
  always_reserved = false
  configuration = { ... }        # optional Qiskit documents (tables); defaults: generated
  properties = { ... }           #   configuration and properties (the device's with device),
  defaults = { ... }             #   and no pulse defaults (GET .../defaults answers 404)
  [execution]
  executor = "shape"             # "shape": checks the input's shape, writes a marked result;
                                 # "aer": runs sampler/estimator jobs on Qiskit Aer (qiskit extra)
  duration_secs = 0.5            # shape: how long a job runs
  workers = 2                    # aer: worker processes, i.e. simulations at once
  allowed_storage_hosts = ["127.0.0.1", "localhost", "::1"]  # the only hosts ever fetched
  [faults]                       # off by default
  seed = 0
  [faults.operations.create_job] # an operationId, "iam_token", or "*" for all
  error_503 = 0.0                # probabilities per request
  error_500 = 0.0
  drop_connection = 0.0          # close the connection without an answer (nothing done)
  latency_secs = 0.0             # added before answering
  reserved_423 = 0.0             # create_job only; after the duplicate-id check (409 first)
  lanes_full_429 = 0.0           # create_job only; after the duplicate-id check (409 first)
  drop_after_commit = 0.0        # act (create, cancel, delete...), then close without an answer
  late_answer = 0.0              # act, then answer late_answer_secs later
  late_answer_secs = 0.0         #   (beyond the client's timeout: it never learns it acted)
""".replace("<backend statuses>", " | ".join(BACKEND_STATUSES))


def load_config(path: Path | str) -> EmulatorConfig:
    """Read and check a TOML configuration file."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text("utf-8"))
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read ({error.strerror})") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None
    return config_from_mapping(raw)


def config_from_mapping(raw: Mapping[str, Any]) -> EmulatorConfig:
    """Build a configuration from parsed TOML (or any mapping of the same shape)."""
    top = _table(raw, "", ("server", "auth", "instances", "backends", "execution", "faults"))
    kwargs: dict[str, Any] = {}
    if "server" in top:
        kwargs["server"] = _server(top["server"])
    if "auth" in top:
        kwargs["auth"] = _auth(top["auth"])
    if "instances" in top:
        kwargs["instances"] = tuple(
            _instance(item, f"instances[{i}]")
            for i, item in enumerate(_list(top["instances"], "instances"))
        )
    if "backends" in top:
        kwargs["backends"] = tuple(
            _backend(item, f"backends[{i}]")
            for i, item in enumerate(_list(top["backends"], "backends"))
        )
    if "execution" in top:
        kwargs["execution"] = _execution(top["execution"])
    if "faults" in top:
        kwargs["faults"] = _faults(top["faults"])
    return EmulatorConfig(**kwargs)


def _check_config(config: EmulatorConfig) -> None:
    """Rules across fields, also for configurations built in Python."""
    if not config.instances:
        raise ConfigError("instances: at least one instance is needed")
    if not config.backends:
        raise ConfigError("backends: at least one backend is needed")
    crns = [i.crn for i in config.instances]
    for index, crn in enumerate(crns):
        if crns.index(crn) != index:
            raise ConfigError(f"instances[{index}].crn: duplicate {crn!r}")
    names = [b.name for b in config.backends]
    for index, name in enumerate(names):
        if names.index(name) != index:
            raise ConfigError(f"backends[{index}].name: duplicate {name!r}")
    for index, backend in enumerate(config.backends):
        if backend.status not in BACKEND_STATUSES:
            raise ConfigError(f"backends[{index}].status: must be one of {_STATUS_CHOICES}")
        if backend.lanes < 1:
            raise ConfigError(f"backends[{index}].lanes: must be an integer >= 1")
    _check_execution(config)
    for name in config.faults.operations:
        if name != "*" and name not in OPERATION_IDS:
            raise ConfigError(f"faults.operations.{name}: unknown operation")


def _check_execution(config: EmulatorConfig) -> None:
    if config.execution.executor not in EXECUTORS:
        raise ConfigError('execution.executor: must be "shape" or "aer"')
    if config.execution.workers < 1:
        raise ConfigError("execution.workers: must be an integer >= 1")
    if config.execution.executor == "aer":
        for index, backend in enumerate(config.backends):
            if backend.device is None:
                raise ConfigError(
                    f"backends[{index}].device: the aer executor simulates a fake device; "
                    f'name one (such as "{AER_DEFAULT_DEVICES[0]}")'
                )


def _devices() -> Any:
    """The devices module, or a ConfigError saying how to install what it needs."""
    try:
        # Imported here: Qiskit takes a second to import and is an optional extra.
        devices = importlib.import_module("direct_access_emulator.devices")
    except ImportError as error:
        raise ConfigError(
            f"fake devices and the aer executor need Qiskit ({error.name or error}): "
            f"{_QISKIT_EXTRA}"
        ) from None
    return devices


def _default_aer_backends() -> tuple[BackendConfig, ...]:
    return tuple(BackendConfig(name=device, device=device) for device in AER_DEFAULT_DEVICES)


def _with_device(backend: BackendConfig, where: str) -> BackendConfig:
    """The backend with its device's qubits, configuration and properties filled in."""
    if backend.device is None or backend.configuration is not None:
        return backend  # no device, or filled in already (replace() runs this again)
    devices = _devices()
    try:
        device = devices.load_device(backend.device)
    except devices.UnknownDevice as error:
        raise ConfigError(f"{where}.device: {error}") from None
    return replace(
        backend,
        num_qubits=device.num_qubits,
        configuration=MappingProxyType(device.configuration),
        properties=MappingProxyType(device.properties),
        defaults=None if device.defaults is None else MappingProxyType(device.defaults),
    )


def _where(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _table(raw: Any, where: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where or 'file'}: must be a table")
    for key in raw:
        if key not in allowed:
            raise ConfigError(f"{_where(where, key)}: unknown field")
    return raw


def _list(raw: Any, where: str) -> list[Any]:
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: must be an array")
    return raw


def _int(raw: Any, where: str, minimum: int) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < minimum:
        raise ConfigError(f"{where}: must be an integer >= {minimum}")
    return raw


def _number(raw: Any, where: str, minimum: float, maximum: float = math.inf) -> float:
    if (
        not isinstance(raw, int | float)
        or isinstance(raw, bool)
        or not math.isfinite(raw)
        or not minimum <= raw <= maximum
    ):
        bound = f"between {minimum} and {maximum}" if math.isfinite(maximum) else f">= {minimum}"
        raise ConfigError(f"{where}: must be a number {bound}")
    return float(raw)


def _probability(raw: Any, where: str) -> float:
    return _number(raw, where, 0.0, 1.0)


def _str(raw: Any, where: str) -> str:
    if not isinstance(raw, str) or not raw:
        raise ConfigError(f"{where}: must be a non-empty string")
    return raw


def _bool(raw: Any, where: str) -> bool:
    if not isinstance(raw, bool):
        raise ConfigError(f"{where}: must be true or false")
    return raw


def _strings(raw: Any, where: str) -> tuple[str, ...]:
    return tuple(_str(item, f"{where}[{i}]") for i, item in enumerate(_list(raw, where)))


def _document(raw: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be a table")
    _check_json_numbers(raw, where)
    return MappingProxyType(raw)


def _check_json_numbers(raw: Any, where: str) -> None:
    """TOML has nan and inf; JSON does not, and the document is served as JSON."""
    if isinstance(raw, float) and not math.isfinite(raw):
        raise ConfigError(f"{where}: {raw} is not a JSON number")
    if isinstance(raw, dict):
        for key, value in raw.items():
            _check_json_numbers(value, f"{where}.{key}")
    elif isinstance(raw, list):
        for index, value in enumerate(raw):
            _check_json_numbers(value, f"{where}[{index}]")


def _moment(raw: Any, where: str) -> datetime.datetime:
    moment = raw
    if isinstance(raw, str):
        try:
            moment = datetime.datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(f"{where}: must be an RFC 3339 date-time") from None
    if not isinstance(moment, datetime.datetime) or moment.tzinfo is None:
        raise ConfigError(f"{where}: must be an RFC 3339 date-time with a time zone")
    return moment


def _fields(
    raw: Any, where: str, parsers: Mapping[str, Callable[[Any, str], Any]]
) -> dict[str, Any]:
    table = _table(raw, where, tuple(parsers))
    return {key: parsers[key](value, _where(where, key)) for key, value in table.items()}


def _server(raw: Any) -> ServerConfig:
    return ServerConfig(
        **_fields(
            raw,
            "server",
            {
                "max_body_bytes": lambda v, w: _int(v, w, 1),
                "body_timeout_secs": lambda v, w: _number(v, w, 0.001),
            },
        )
    )


def _auth(raw: Any) -> AuthConfig:
    return AuthConfig(**_fields(raw, "auth", {"token_lifetime_secs": lambda v, w: _int(v, w, 1)}))


def _instance(raw: Any, where: str) -> InstanceConfig:
    parsed = _fields(raw, where, {"crn": _str, "api_keys": _strings})
    if "api_keys" in parsed and not parsed["api_keys"]:
        raise ConfigError(f"{where}.api_keys: at least one key is needed")
    return InstanceConfig(**parsed)


def _reservation(raw: Any, where: str) -> Reservation:
    table = _table(raw, where, ("start", "end"))
    for key in ("start", "end"):
        if key not in table:
            raise ConfigError(f"{where}.{key}: required")
    start, end = _moment(table["start"], f"{where}.start"), _moment(table["end"], f"{where}.end")
    if end <= start:
        raise ConfigError(f"{where}.end: must be after start")
    return Reservation(start=start, end=end)


def _reservations(raw: Any, where: str) -> tuple[Reservation, ...]:
    return tuple(_reservation(item, f"{where}[{i}]") for i, item in enumerate(_list(raw, where)))


def _status(raw: Any, where: str) -> str:
    if raw not in BACKEND_STATUSES:
        raise ConfigError(f"{where}: must be one of {_STATUS_CHOICES}")
    return str(raw)


def _backend(raw: Any, where: str) -> BackendConfig:
    parsed = _fields(
        raw,
        where,
        {
            "name": _str,
            "status": _status,
            "message": _str,
            "version": _str,
            "num_qubits": lambda v, w: _int(v, w, 1),
            "lanes": lambda v, w: _int(v, w, 1),
            "compute_lanes": lambda v, w: _int(v, w, 0),
            "reservations": _reservations,
            "always_reserved": _bool,
            "configuration": _document,
            "properties": _document,
            "defaults": _document,
            "device": _str,
            "noise": _bool,
        },
    )
    if "device" in parsed:
        # The device decides these; a second source would contradict what is simulated.
        for key in ("num_qubits", "configuration", "properties", "defaults"):
            if key in parsed:
                raise ConfigError(f"{where}.{key}: not with device (the device's own is served)")
        parsed.setdefault("name", parsed["device"])
    return BackendConfig(**parsed)


def _executor(raw: Any, where: str) -> str:
    if raw not in EXECUTORS:
        raise ConfigError(f'{where}: must be "shape" or "aer"')
    return str(raw)


def _execution(raw: Any) -> ExecutionConfig:
    return ExecutionConfig(
        **_fields(
            raw,
            "execution",
            {
                "executor": _executor,
                "duration_secs": lambda v, w: _number(v, w, 0.0),
                "workers": lambda v, w: _int(v, w, 1),
                "allowed_storage_hosts": _strings,
            },
        )
    )


def _operation_faults(raw: Any, where: str, name: str) -> OperationFaults:
    parsers: dict[str, Callable[[Any, str], Any]] = {
        "error_503": _probability,
        "error_500": _probability,
        "drop_connection": _probability,
        "latency_secs": lambda v, w: _number(v, w, 0.0, 60.0),
        "drop_after_commit": _probability,
        "late_answer": _probability,
        "late_answer_secs": lambda v, w: _number(v, w, 0.0, 60.0),
    }
    if name in ("create_job", "*"):
        parsers["reserved_423"] = _probability
        parsers["lanes_full_429"] = _probability
    faults = OperationFaults(**_fields(raw, where, parsers))
    if faults.late_answer > 0 and faults.late_answer_secs == 0:
        raise ConfigError(f"{where}.late_answer_secs: late_answer needs a delay > 0")
    return faults


def _faults(raw: Any) -> FaultConfig:
    table = _table(raw, "faults", ("seed", "operations"))
    seed = _int(table.get("seed", 0), "faults.seed", 0)
    operations: dict[str, OperationFaults] = {}
    raw_operations = table.get("operations", {})
    if not isinstance(raw_operations, dict):
        raise ConfigError("faults.operations: must be a table")
    for name, value in raw_operations.items():
        where = f"faults.operations.{name}"
        if name != "*" and name not in OPERATION_IDS:
            raise ConfigError(f"{where}: unknown operation")
        operations[name] = _operation_faults(value, where, name)
    return FaultConfig(seed=seed, operations=MappingProxyType(operations))
