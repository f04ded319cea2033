"""Reading the emulator's TOML configuration file into `EmulatorConfig`, naming each bad field.

Every key is checked (type, range, unknown keys refused) and a mistake raises `ConfigError`
with the field's place, such as ``backends[0].lanes``. A file naming fake devices has them
loaded here (`device_backends.with_devices`, the qiskit extra), so that a wrong name is told at
once.
"""

from __future__ import annotations

import datetime
import math
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from direct_access_emulator.config import (
    EXECUTORS,
    OPERATION_IDS,
    AuthConfig,
    BackendConfig,
    ConfigError,
    DriftConfig,
    EmulatorConfig,
    ExecutionConfig,
    FaultConfig,
    InstanceConfig,
    OperationFaults,
    Reservation,
    ServerConfig,
)
from direct_access_emulator.device_backends import with_devices
from direct_access_emulator.spec_values import BACKEND_STATUSES

__all__ = ["PARSED_FIELDS", "config_from_mapping", "load_config"]

_STATUS_CHOICES = ", ".join(BACKEND_STATUSES)


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
    top = _table(
        raw, "", ("server", "auth", "instances", "backends", "execution", "faults", "drift")
    )
    kwargs: dict[str, Any] = {}
    if "server" in top:
        kwargs["server"] = ServerConfig(**_fields(top["server"], "server", _SERVER))
    if "auth" in top:
        kwargs["auth"] = AuthConfig(**_fields(top["auth"], "auth", _AUTH))
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
        kwargs["execution"] = ExecutionConfig(**_fields(top["execution"], "execution", _EXECUTION))
    if "faults" in top:
        kwargs["faults"] = _faults(top["faults"])
    if "drift" in top:
        kwargs["drift"] = DriftConfig(**_fields(top["drift"], "drift", _DRIFT))
    return with_devices(EmulatorConfig(**kwargs))


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


def _executor(raw: Any, where: str) -> str:
    if raw not in EXECUTORS:
        raise ConfigError(f'{where}: must be "shape" or "aer"')
    return str(raw)


def _seconds_up_to_a_minute(raw: Any, where: str) -> float:
    return _number(raw, where, 0.0, 60.0)


_Parsers = Mapping[str, Callable[[Any, str], Any]]

_SERVER: _Parsers = {
    "max_body_bytes": lambda v, w: _int(v, w, 1),
    "body_timeout_secs": lambda v, w: _number(v, w, 0.001),
}
_AUTH: _Parsers = {"token_lifetime_secs": lambda v, w: _int(v, w, 1)}
_INSTANCE: _Parsers = {"crn": _str, "api_keys": _strings}
_BACKEND: _Parsers = {
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
}
_EXECUTION: _Parsers = {
    "executor": _executor,
    "duration_secs": lambda v, w: _number(v, w, 0.0),
    "workers": lambda v, w: _int(v, w, 1),
    "allowed_storage_hosts": _strings,
}
_OPERATION_FAULTS: _Parsers = {
    "error_503": _probability,
    "error_500": _probability,
    "drop_connection": _probability,
    "latency_secs": _seconds_up_to_a_minute,
    "drop_after_commit": _probability,
    "late_answer": _probability,
    "late_answer_secs": _seconds_up_to_a_minute,
}
_DRIFT: _Parsers = {
    "metrics": _bool,
    "metrics_lag_secs": _seconds_up_to_a_minute,
}
# Faults only create_job can answer (and "*", which includes it).
_CREATE_FAULTS: _Parsers = {"reserved_423": _probability, "lanes_full_429": _probability}

#: The keys the file accepts for each dataclass (a test holds them to the dataclasses' fields).
PARSED_FIELDS: Mapping[type[Any], frozenset[str]] = MappingProxyType(
    {
        ServerConfig: frozenset(_SERVER),
        AuthConfig: frozenset(_AUTH),
        InstanceConfig: frozenset(_INSTANCE),
        Reservation: frozenset(("start", "end")),
        BackendConfig: frozenset(_BACKEND),
        ExecutionConfig: frozenset(_EXECUTION),
        FaultConfig: frozenset(("seed", "operations")),
        OperationFaults: frozenset(_OPERATION_FAULTS) | frozenset(_CREATE_FAULTS),
        DriftConfig: frozenset(_DRIFT),
    }
)


def _instance(raw: Any, where: str) -> InstanceConfig:
    parsed = _fields(raw, where, _INSTANCE)
    if "api_keys" in parsed and not parsed["api_keys"]:
        raise ConfigError(f"{where}.api_keys: at least one key is needed")
    return InstanceConfig(**parsed)


def _backend(raw: Any, where: str) -> BackendConfig:
    parsed = _fields(raw, where, _BACKEND)
    if "device" in parsed:
        # The device decides these; a second source would contradict what is simulated.
        for key in ("num_qubits", "configuration", "properties", "defaults"):
            if key in parsed:
                raise ConfigError(f"{where}.{key}: not with device (the device's own is served)")
        parsed.setdefault("name", parsed["device"])
    return BackendConfig(**parsed)


def _operation_faults(raw: Any, where: str, name: str) -> OperationFaults:
    parsers = {**_OPERATION_FAULTS, **(_CREATE_FAULTS if name in ("create_job", "*") else {})}
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
