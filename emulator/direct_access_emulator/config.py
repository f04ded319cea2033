"""The emulator's settings: frozen dataclasses, every field defaulted and documented.

`EmulatorConfig()` is a working emulator (one instance, one backend, faults off), built without
side effects: fake devices are loaded when the app is built (`device_backends.with_devices`),
never here. Files are read by `config_file.load_config`; a bad value is refused with a
`ConfigError` that names the field, such as ``backends[0].lanes``. Each field documents itself
(``doc`` in its metadata), and `CONFIG_REFERENCE`, what `--help` prints, is made from that.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from dataclasses import MISSING, Field, dataclass, field, fields
from types import MappingProxyType
from typing import Any

from direct_access_emulator.spec_values import BACKEND_STATUSES, spec_value
from direct_access_spec import operations

__all__ = [
    "AER_DEFAULT_DEVICES",
    "CONFIG_REFERENCE",
    "CONFIG_SECTIONS",
    "EXECUTORS",
    "IAM_TOKEN_OPERATION",
    "OPERATION_IDS",
    "AuthConfig",
    "BackendConfig",
    "ConfigError",
    "DriftConfig",
    "EmulatorConfig",
    "ExecutionConfig",
    "FaultConfig",
    "InstanceConfig",
    "OperationFaults",
    "Reservation",
    "ServerConfig",
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

DEFAULT_CRN = "crn:v1:local:public:quantum-computing:local:a/emulator:instance-1::"
# A development key: a local credential meant to be shown (printed by the CLI, in the README).
DEFAULT_API_KEY = "da-dev-key-1"


class ConfigError(ValueError):
    """The configuration is invalid; the message names the field."""


def _doc(text: str, *, example: str | None = None, section: bool = False) -> dict[str, Any]:
    """A field's metadata: its documentation for the reference, and how to show its value.

    ``example`` is shown instead of the default; ``section`` marks a field that is a table of
    its own in the file (shown as a section, not a key).
    """
    return {"doc": text, "example": example, "section": section}


@dataclass(frozen=True)
class ServerConfig:
    """Limits on requests."""

    max_body_bytes: int = field(
        default=1_048_576, metadata=_doc("413 above this (checked while reading the body)")
    )
    body_timeout_secs: float = field(
        default=10.0, metadata=_doc("408 when the body is not received in this time")
    )


@dataclass(frozen=True)
class AuthConfig:
    """The IAM tokens the emulator issues."""

    token_lifetime_secs: int = field(
        default=3600, metadata=_doc("lifetime of the IAM tokens the emulator issues")
    )


@dataclass(frozen=True)
class InstanceConfig:
    """A service instance (a Service-CRN) and the API keys that may use it."""

    crn: str = field(default=DEFAULT_CRN, metadata=_doc("the instance's Service-CRN"))
    api_keys: tuple[str, ...] = field(
        default=(DEFAULT_API_KEY,), metadata=_doc("keys exchanged for tokens (a development key)")
    )


@dataclass(frozen=True)
class Reservation:
    """A window in which the backend is reserved: creates answer 423."""

    start: datetime.datetime = field(metadata=_doc("RFC 3339, included"))
    end: datetime.datetime = field(metadata=_doc("RFC 3339, excluded"))

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

    name: str = field(
        default="fake_backend", metadata=_doc("default: the device's name when device is set")
    )
    status: str = field(
        default=spec_value("BackendStatus", "online"),
        metadata=_doc(f"{' | '.join(BACKEND_STATUSES)} (reported only)"),
    )
    message: str | None = field(
        default=None,
        metadata=_doc("optional, shown in GET /v1/backends/{name}", example='"..."'),
    )
    version: str = field(default="1.0.0", metadata=_doc("the backend's version"))
    num_qubits: int = field(
        default=5, metadata=_doc("for the generated configuration and properties (not with device)")
    )
    lanes: int = field(
        default=5, metadata=_doc("jobs stored at once (held until DELETE); 429 when full")
    )
    compute_lanes: int = field(
        default=5, metadata=_doc("reported as ibm_quantum_compute by /lanes")
    )
    reservations: tuple[Reservation, ...] = field(
        default=(),
        metadata=_doc(
            "windows in which creates answer 423",
            example='[{ start = "2026-01-01T00:00:00Z", end = "2026-01-01T01:00:00Z" }]',
        ),
    )
    always_reserved: bool = field(default=False, metadata=_doc("every create answers 423"))
    # Qiskit documents; None means a generated configuration/properties and no pulse defaults.
    # Left out of the repr: a device's documents run to tens of kilobytes.
    configuration: Mapping[str, Any] | None = field(
        default=None,
        repr=False,
        metadata=_doc(
            "optional Qiskit configuration (a table); default: generated", example="{ ... }"
        ),
    )
    properties: Mapping[str, Any] | None = field(
        default=None,
        repr=False,
        metadata=_doc(
            "optional Qiskit properties (a table); default: generated", example="{ ... }"
        ),
    )
    defaults: Mapping[str, Any] | None = field(
        default=None,
        repr=False,
        metadata=_doc(
            "optional pulse defaults; without, GET .../defaults is 404", example="{ ... }"
        ),
    )
    device: str | None = field(
        default=None,
        metadata=_doc(
            "a fake device of qiskit-ibm-runtime (qiskit extra); its\n"
            "configuration and properties are served unchanged",
            example='"fake_manila"',
        ),
    )
    noise: bool = field(
        default=True, metadata=_doc("aer: simulate with the device's noise model (false: ideally)")
    )

    def reserved_at(self, moment: datetime.datetime) -> bool:
        """Whether the backend is reserved at ``moment``."""
        return self.always_reserved or any(r.covers(moment) for r in self.reservations)


@dataclass(frozen=True)
class ExecutionConfig:
    """How jobs run."""

    executor: str = field(
        default="shape",
        metadata=_doc(
            '"shape": checks the input\'s shape, writes a marked result;\n'
            '"aer": runs sampler/estimator jobs on Qiskit Aer (qiskit extra)'
        ),
    )
    duration_secs: float = field(default=0.5, metadata=_doc("shape: how long a job runs"))
    workers: int = field(
        default=2, metadata=_doc("aer: worker processes, i.e. simulations at once")
    )
    # Safety: the emulator only ever fetches these hosts, so a job cannot make it reach elsewhere.
    allowed_storage_hosts: tuple[str, ...] = field(
        default=("127.0.0.1", "localhost", "::1"),
        metadata=_doc("the only hosts the emulator ever fetches"),
    )


@dataclass(frozen=True)
class OperationFaults:
    """Faults injected into one operation, as probabilities per request.

    ``error_503``, ``error_500`` and ``drop_connection`` fire before the operation acts;
    ``drop_after_commit`` and ``late_answer`` after it succeeded (the job is created, cancelled
    or deleted), so that the caller does not learn that it did.
    """

    error_503: float = field(default=0.0, metadata=_doc("a 503 instead of acting"))
    error_500: float = field(default=0.0, metadata=_doc("a 500 instead of acting"))
    drop_connection: float = field(
        default=0.0, metadata=_doc("close the connection without an answer (nothing done)")
    )
    latency_secs: float = field(default=0.0, metadata=_doc("seconds added before acting"))
    reserved_423: float = field(
        default=0.0, metadata=_doc("create_job only; after the duplicate-id check (409 first)")
    )
    lanes_full_429: float = field(
        default=0.0, metadata=_doc("create_job only; after the duplicate-id check (409 first)")
    )
    drop_after_commit: float = field(
        default=0.0,
        metadata=_doc("act (create, cancel, delete...), then close without an answer"),
    )
    late_answer: float = field(
        default=0.0, metadata=_doc("act, then answer late_answer_secs later")
    )
    late_answer_secs: float = field(
        default=0.0,
        metadata=_doc(
            "the delay of a late answer (beyond the client's timeout:\nit never learns it acted)"
        ),
    )


@dataclass(frozen=True)
class FaultConfig:
    """Seeded fault injection, keyed by operationId (or "*" for every operation); off by default."""

    seed: int = field(default=0, metadata=_doc("the same seed, the same faults"))
    operations: Mapping[str, OperationFaults] = field(
        default_factory=lambda: MappingProxyType({}),
        metadata=_doc('an operationId, "iam_token", or "*" for all', section=True),
    )

    def for_operation(self, operation_id: str) -> OperationFaults | None:
        """The faults of ``operation_id``, else those of "*", else None."""
        return self.operations.get(operation_id) or self.operations.get("*")


@dataclass(frozen=True)
class DriftConfig:
    """Answers like a newer deployment than the spec (see
    docs/api-notes.md, "Where deployments differ from the reference")."""

    metrics: bool = field(
        default=False,
        metadata=_doc(
            "jobs carry `metrics` (not in the spec: strict clients\n"
            "and the contract suite name it as drift)"
        ),
    )
    metrics_lag_secs: float = field(
        default=1.0,
        metadata=_doc("Completed is shown this long before metrics hold\nthe execution time"),
    )


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything the emulator can be told; the defaults need no file."""

    server: ServerConfig = field(default_factory=ServerConfig, metadata=_doc("", section=True))
    auth: AuthConfig = field(default_factory=AuthConfig, metadata=_doc("", section=True))
    instances: tuple[InstanceConfig, ...] = field(
        default=(InstanceConfig(),),
        metadata=_doc("default: one instance with the key below", section=True),
    )
    backends: tuple[BackendConfig, ...] = field(
        default=(BackendConfig(),),
        metadata=_doc(
            'default: one backend "fake_backend"; with executor "aer":\n'
            "fake_manila and fake_lima, named as their devices",
            section=True,
        ),
    )
    execution: ExecutionConfig = field(
        default_factory=ExecutionConfig, metadata=_doc("", section=True)
    )
    faults: FaultConfig = field(
        default_factory=FaultConfig, metadata=_doc("off by default", section=True)
    )
    drift: DriftConfig = field(
        default_factory=DriftConfig, metadata=_doc("off by default", section=True)
    )

    def __post_init__(self) -> None:
        _check_config(self)

    def backend(self, name: str) -> BackendConfig | None:
        """The backend called ``name``, if configured."""
        return next((b for b in self.backends if b.name == name), None)

    @property
    def default_backends(self) -> bool:
        """Whether the backends are the built-in default (the aer executor replaces it)."""
        return self.backends == (BackendConfig(),)


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
    if config.execution.executor == "aer" and not config.default_backends:
        for index, backend in enumerate(config.backends):
            if backend.device is None:
                raise ConfigError(
                    f"backends[{index}].device: the aer executor simulates a fake device; "
                    f'name one (such as "{AER_DEFAULT_DEVICES[0]}")'
                )


# ---------------------------------------------------------------- the reference


#: The file's sections in the reference's order: (header, the dataclass of its fields, the
#: field of the parent that holds it).
CONFIG_SECTIONS: tuple[tuple[str, type[Any], Field[Any]], ...] = tuple(
    (header, cls, {f.name: f for f in fields(parent)}[name])
    for header, cls, parent, name in (
        ("[server]", ServerConfig, EmulatorConfig, "server"),
        ("[auth]", AuthConfig, EmulatorConfig, "auth"),
        ("[[instances]]", InstanceConfig, EmulatorConfig, "instances"),
        ("[[backends]]", BackendConfig, EmulatorConfig, "backends"),
        ("[execution]", ExecutionConfig, EmulatorConfig, "execution"),
        ("[faults]", FaultConfig, EmulatorConfig, "faults"),
        ("[faults.operations.create_job]", OperationFaults, FaultConfig, "operations"),
        ("[drift]", DriftConfig, EmulatorConfig, "drift"),
    )
)
_DOC_COLUMN = 33


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, tuple) and all(isinstance(item, str) for item in value):
        return "[" + ", ".join(json.dumps(item) for item in value) + "]"
    raise TypeError(f"no TOML form for {value!r}: give the field an example")  # pragma: no cover


def _commented(left: str, doc: str) -> list[str]:
    """``left`` with ``doc`` as a comment in the doc column; continuation lines indented."""
    if not doc:
        return [left]
    first, *rest = doc.split("\n")
    if len(left) >= _DOC_COLUMN:
        lines = [left, " " * _DOC_COLUMN + f"# {first}"]
    else:
        lines = [left.ljust(_DOC_COLUMN) + f"# {first}"]
    lines += [" " * _DOC_COLUMN + f"#   {line}" for line in rest]
    return lines


def _field_lines(item: Field[Any]) -> list[str]:
    example = item.metadata["example"]
    if example is None:
        factory = item.default_factory
        default = factory() if factory is not MISSING else item.default
        example = _toml(default)
    return _commented(f"  {item.name} = {example}", item.metadata["doc"])


def _reference() -> str:
    lines = ["Configuration file (TOML); every field is optional, shown with its default:", ""]
    for header, cls, holder in CONFIG_SECTIONS:
        lines += _commented(f"  {header}", holder.metadata["doc"])
        for item in fields(cls):
            if item.metadata.get("section"):
                continue
            lines += _field_lines(item)
    return "\n".join(lines) + "\n"


#: What `--help` prints: every field of the file with its default and its documentation.
CONFIG_REFERENCE = _reference()
