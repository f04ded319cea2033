"""The emulator's configuration: defaults without a file, TOML loading, and errors naming fields."""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path

import pytest

from direct_access_emulator.config import (
    BackendConfig,
    ConfigError,
    EmulatorConfig,
    OperationFaults,
    load_config,
)


def _load(tmp_path: Path, text: str) -> EmulatorConfig:
    path = tmp_path / "emulator.toml"
    path.write_text(text)
    return load_config(path)


def test_defaults_need_no_file(tmp_path: Path) -> None:
    """An empty file gives the defaults: one instance with a key, one backend with 5 lanes."""
    config = _load(tmp_path, "")
    assert config == EmulatorConfig()
    assert config.instances[0].api_keys == ("da-dev-key-1",)
    assert (config.backends[0].name, config.backends[0].lanes) == ("fake_backend", 5)
    assert config.faults.for_operation("create_job") is None


def test_a_full_file_is_read(tmp_path: Path) -> None:
    """Every section is read into the matching dataclass."""
    config = _load(
        tmp_path,
        """
[server]
max_body_bytes = 2048
body_timeout_secs = 1.5
[auth]
token_lifetime_secs = 60
[[instances]]
crn = "crn:a"
api_keys = ["k1", "k2"]
[[backends]]
name = "b1"
status = "paused"
lanes = 2
reservations = [{ start = "2026-01-01T00:00:00Z", end = 2026-01-01T01:00:00Z }]
defaults = { qubit_freq_est = [5.0] }
[execution]
duration_secs = 0
allowed_storage_hosts = ["127.0.0.1"]
[faults]
seed = 3
[faults.operations."*"]
latency_secs = 0.1
[faults.operations.create_job]
error_503 = 0.25
lanes_full_429 = 1.0
""",
    )
    assert config.server.max_body_bytes == 2048
    assert config.auth.token_lifetime_secs == 60
    assert config.instances[0].api_keys == ("k1", "k2")
    backend = config.backends[0]
    assert backend.status == "paused"
    assert backend.reserved_at(datetime.datetime(2026, 1, 1, 0, 30, tzinfo=datetime.UTC))
    assert not backend.reserved_at(datetime.datetime(2026, 1, 1, 1, 0, tzinfo=datetime.UTC))
    assert dict(backend.defaults or {}) == {"qubit_freq_est": [5.0]}
    assert config.faults.for_operation("create_job") == OperationFaults(
        error_503=0.25, lanes_full_429=1.0
    )
    assert config.faults.for_operation("get_job") == OperationFaults(latency_secs=0.1)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("[[backends]]\nlanes = 0\n", "backends[0].lanes: must be an integer >= 1"),
        ("[[backends]]\nlanes = true\n", "backends[0].lanes: must be an integer >= 1"),
        ('[[backends]]\nstatus = "broken"\n', "backends[0].status"),
        ("[server]\nmax_body = 1\n", "server.max_body: unknown field"),
        ("surprise = 1\n", "surprise: unknown field"),
        ("[auth]\ntoken_lifetime_secs = 0\n", "auth.token_lifetime_secs"),
        ("[[instances]]\napi_keys = []\n", "instances[0].api_keys"),
        ('[[backends]]\nreservations = [{ start = "x", end = "y" }]\n', "reservations[0].start"),
        (
            '[[backends]]\nreservations = [{ start = "2026-01-02T00:00:00Z", '
            'end = "2026-01-01T00:00:00Z" }]\n',
            "backends[0].reservations[0].end: must be after start",
        ),
        ('[execution]\nexecutor = "aer"\n', "execution.executor"),
        (
            "[faults.operations.nope]\nerror_503 = 0.1\n",
            "faults.operations.nope: unknown operation",
        ),
        ("[faults.operations.get_job]\nerror_503 = 2\n", "faults.operations.get_job.error_503"),
        ("[faults.operations.get_job]\nreserved_423 = 1\n", "get_job.reserved_423: unknown field"),
        ('[[backends]]\nname = "a"\n[[backends]]\nname = "a"\n', "backends[1].name: duplicate"),
        ("[server\n", "not valid TOML"),
    ],
)
def test_a_bad_file_is_refused_naming_the_field(tmp_path: Path, text: str, field: str) -> None:
    """Each mistake raises ConfigError whose message names the offending field."""
    with pytest.raises(
        ConfigError, match=field.replace("[", r"\[").replace("]", r"\]").replace("*", r"\*")
    ):
        _load(tmp_path, text)


def test_python_configs_are_checked_and_replaceable() -> None:
    """Configs built in Python follow the same rules, and dataclasses.replace works."""
    with pytest.raises(ConfigError, match="lanes"):
        EmulatorConfig(backends=(BackendConfig(lanes=0),))
    config = dataclasses.replace(EmulatorConfig(), backends=(BackendConfig(name="x"),))
    assert config.backend("x") is not None
    assert config.backend("fake_backend") is None
